package nativeroute

/*
#include "shim.h"
*/
import "C"

import "fmt"

// Version is the binding's version: the libnativeroute version whose API
// it binds. It follows the library's versions: binding 1.N needs a 1.x
// library with x >= N (the symbols of NR_1.N), checked by Dial and
// NewController.
const Version = "1.2.0"

const versionMajor, versionMinor = 1, 2

// LibraryVersion is the loaded libnativeroute's version ("MAJOR.MINOR.PATCH").
func LibraryVersion() string {
	return C.GoString(C.nr_version_string())
}

// checkVersion refuses a library older than the binding or of another major.
func checkVersion() error {
	v := uint(C.nr_version())
	major, minor := v>>16, (v>>8)&0xff
	if major != versionMajor || minor < versionMinor {
		return fmt.Errorf("nativeroute: binding %s needs libnativeroute %d.x >= %d.%d, "+
			"but the loaded library is %s: install a matching library (or point "+
			"PKG_CONFIG_PATH/LD_LIBRARY_PATH at one)", Version, versionMajor, versionMajor,
			versionMinor, LibraryVersion())
	}
	return nil
}
