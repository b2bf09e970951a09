package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"strings"
	"syscall"
)

// Error is a failure of the library or of the daemon.
type Error struct {
	Errno   syscall.Errno // positive errno, e.g. syscall.ENOSPC
	Name    string        // "ENOSPC"
	Message string        // what was wrong, naming the value
}

func (e *Error) Error() string {
	if strings.Contains(e.Message, e.Name) {
		return "nativeroute: " + e.Message
	}
	return "nativeroute: " + e.Message + " (" + e.Name + ")"
}

// Unwrap gives the errno: errors.Is(err, syscall.ENOENT) and friends.
func (e *Error) Unwrap() error { return e.Errno }

// errorOf is the *Error of a negative errno status of the C API.
func errorOf(status int, msg string) error {
	code := status
	if code < 0 {
		code = -code
	}
	name := C.GoString(C.nr_err_name(C.int(-code)))
	if msg == "" {
		msg = C.GoString(C.nr_strerror(C.int(-code)))
	}
	return &Error{Errno: syscall.Errno(code), Name: name, Message: msg}
}

// errClosed is what a call on a closed Client or Controller returns.
func errClosed() error {
	return &Error{Errno: syscall.ECANCELED, Name: "ECANCELED", Message: "closed"}
}
