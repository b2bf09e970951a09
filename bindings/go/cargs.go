package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// cargs builds the library's arguments (option structs, strings, string
// arrays) from Go values for one call, and frees all of them after it: the
// library reads them during the call only.
type cargs struct{ ptrs []unsafe.Pointer }

func (a *cargs) keep(p unsafe.Pointer) unsafe.Pointer {
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *cargs) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

// str is s as a C string; "" is NULL (the C API's "not given").
func (a *cargs) str(s string) *C.char {
	if s == "" {
		return nil
	}
	return (*C.char)(a.keep(unsafe.Pointer(C.CString(s))))
}

// name is s as a C string, "" included (a name the library must judge).
func (a *cargs) name(s string) *C.char {
	return (*C.char)(a.keep(unsafe.Pointer(C.CString(s))))
}

// strv is a NULL-terminated C array of v (NULL for a nil slice).
func (a *cargs) strv(v []string) **C.char {
	if v == nil {
		return nil
	}
	arr := C.nrgo_strv_new(C.size_t(len(v)))
	a.keep(unsafe.Pointer(arr))
	for i, s := range v {
		C.nrgo_strv_set(arr, C.size_t(i), a.name(s))
	}
	return arr
}

// opts is a zeroed option struct of `size` bytes with its sz set, as
// NR_OPTS makes it.
func (a *cargs) opts(size C.size_t) unsafe.Pointer {
	return a.keep(C.nrgo_opts_new(size))
}

func (a *cargs) nodeSpec(s NodeSpec) *C.struct_nr_node_spec {
	spec := (*C.struct_nr_node_spec)(a.opts(C.sizeof_struct_nr_node_spec))
	spec.name = a.str(s.Name)
	spec.ipv4 = a.str(s.IPv4)
	spec.ipv6 = a.str(s.IPv6)
	spec.pod_cidrs = a.strv(s.PodCIDRs)
	return spec
}

func (a *cargs) endpointSpec(s EndpointSpec) *C.struct_nr_endpoint_spec {
	spec := (*C.struct_nr_endpoint_spec)(a.opts(C.sizeof_struct_nr_endpoint_spec))
	spec.id = a.str(s.ID)
	spec.ifname = a.str(s.IfName)
	spec.ifindex = C.uint32_t(s.IfIndex)
	spec.ipv4 = a.str(s.IPv4)
	spec.ipv6 = a.str(s.IPv6)
	return spec
}

func (a *cargs) modeOpts(mode uint32, m ModeChange) *C.struct_nr_mode_opts {
	o := (*C.struct_nr_mode_opts)(a.opts(C.sizeof_struct_nr_mode_opts))
	o.mode = mode
	o.auto_direct_node_routes = switchOf(m.AutoDirectNodeRoutes)
	o.direct_routing_skip_unreachable = switchOf(m.DirectRoutingSkipUnreachable)
	return o
}

func switchOf(b *bool) uint32 {
	switch {
	case b == nil:
		return C.NR_SWITCH_KEEP
	case *b:
		return C.NR_SWITCH_ON
	default:
		return C.NR_SWITCH_OFF
	}
}

// parseMode is the library's value of a mode name ("" = 0, keep);
// nr_routing_mode_parse is thread-safe.
func parseMode(name string) (uint32, error) {
	var mode uint32
	if name == "" {
		return 0, nil
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if C.nr_routing_mode_parse(cname, &mode) < 0 {
		return 0, errorOf(-int(syscall.EINVAL), "routing mode \""+name+"\": expected native, tunnel or hybrid")
	}
	return mode, nil
}
