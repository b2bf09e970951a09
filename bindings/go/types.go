package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// Node is a node of the cluster. State: "local", "native", "tunnel",
// "pending", "unreachable" or "unrouted" (more may come).
type Node struct {
	Name     string
	IPv4     string // "" when none
	IPv6     string
	PodCIDRs []string
	State    string
	Local    bool
}

// NodeSpec describes a node to add or update. Without PodCIDRs,
// cluster-pool IPAM allocates them.
type NodeSpec struct {
	Name     string
	IPv4     string
	IPv6     string
	PodCIDRs []string
}

// Endpoint is a pod on the node: its addresses and the gateways it uses.
type Endpoint struct {
	ID       string
	IfName   string
	IfIndex  uint32
	IPv4     string
	IPv6     string
	Gateway4 string
	Gateway6 string
}

// EndpointSpec describes a pod to add: its host-side interface (IfName or
// IfIndex) and, optionally, the addresses it asks for.
type EndpointSpec struct {
	ID      string
	IfName  string
	IfIndex uint32
	IPv4    string
	IPv6    string
}

// Route is a route the controller plans, and whether the kernel has it.
type Route struct {
	Dst        string
	Kind       string // "native", "tunnel", "endpoint"
	Via        string
	Dev        string
	Node       string // the node or endpoint it belongs to
	MTU        uint32
	Programmed bool
}

// IPAMAllocation is one node CIDR handed out by the IPAM.
type IPAMAllocation struct {
	Node string
	CIDR string
}

// IPAM is the IPAM's mode, usage (node CIDR blocks) and allocations.
type IPAM struct {
	Mode        string
	Used, Total uint64
	Allocations []IPAMAllocation
}

// Mode is the routing mode ("native", "tunnel", "hybrid") and its switches.
type Mode struct {
	Mode                         string
	AutoDirectNodeRoutes         bool
	DirectRoutingSkipUnreachable bool
}

// ModeChange changes the mode and/or the switches; empty Mode and nil
// switches keep the current setting. The combination is checked as a whole.
type ModeChange struct {
	Mode                         string
	AutoDirectNodeRoutes         *bool
	DirectRoutingSkipUnreachable *bool
}

// Status is the controller's summary.
type Status struct {
	RoutingMode                  string
	IPAMMode                     string
	AutoDirectNodeRoutes         bool
	DirectRoutingSkipUnreachable bool
	NexthopObjects               bool
	Started                      bool
	Nodes                        uint64
	NodesUnreachable             uint64
	Endpoints                    uint64
	RoutesPlanned                uint64
	RoutesProgrammed             uint64
	IPAMUsed                     uint64
	IPAMTotal                    uint64
	Resyncs                      uint64
	DriftRepairs                 uint64
	NetlinkErrors                uint64
	FullPasses                   uint64
	IncrementalPasses            uint64
}

// Event is an event of the controller. Seq numbers the daemon's events (a
// gap means events were missed); it is 0 for an in-process Controller.
type Event struct {
	Seq     uint64
	Type    string // "node.added", ...
	Node    string
	Object  string
	Message string
}

// ---- from the library's structs (valid during the callback only: copied) ----

func gostr(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

func nodeOf(n *C.struct_nr_node_info) Node {
	v := Node{Name: gostr(n.name), IPv4: gostr(n.ipv4), IPv6: gostr(n.ipv6),
		State: gostr(n.state), Local: bool(n.local), PodCIDRs: []string{}}
	for i := C.size_t(0); i < n.n_pod_cidrs; i++ {
		v.PodCIDRs = append(v.PodCIDRs, gostr(C.nrgo_node_cidr(n, i)))
	}
	return v
}

func endpointOf(e *C.struct_nr_endpoint_info) Endpoint {
	return Endpoint{ID: gostr(e.id), IfName: gostr(e.ifname), IfIndex: uint32(e.ifindex),
		IPv4: gostr(e.ipv4), IPv6: gostr(e.ipv6), Gateway4: gostr(e.gateway4),
		Gateway6: gostr(e.gateway6)}
}

func routeOf(r *C.struct_nr_route_info) Route {
	return Route{Dst: gostr(r.dst), Kind: gostr(r.kind), Via: gostr(r.via), Dev: gostr(r.dev),
		Node: gostr(r.node), MTU: uint32(r.mtu), Programmed: bool(r.programmed)}
}

func statusOf(s *C.struct_nr_status) *Status {
	st := &Status{
		RoutingMode:          gostr(C.nr_routing_mode_str(s.routing_mode)),
		IPAMMode:             gostr(C.nr_ipam_mode_str(s.ipam_mode)),
		AutoDirectNodeRoutes: bool(s.auto_direct_node_routes),
		NexthopObjects:       bool(s.nexthop_objects), Started: bool(s.started),
		Nodes: uint64(s.nodes), NodesUnreachable: uint64(s.nodes_unreachable),
		Endpoints: uint64(s.endpoints), RoutesPlanned: uint64(s.routes_planned),
		RoutesProgrammed: uint64(s.routes_programmed), IPAMUsed: uint64(s.ipam_used),
		IPAMTotal: uint64(s.ipam_total), Resyncs: uint64(s.resyncs),
		DriftRepairs: uint64(s.drift_repairs), NetlinkErrors: uint64(s.netlink_errors),
		FullPasses: uint64(s.full_passes), IncrementalPasses: uint64(s.incremental_passes),
	}
	// a field the library's struct (its sz) may not have
	if uintptr(s.sz) >= unsafe.Offsetof(s.direct_routing_skip_unreachable)+1 {
		st.DirectRoutingSkipUnreachable = bool(s.direct_routing_skip_unreachable)
	}
	return st
}

func ipamOf(info *C.struct_nr_ipam_info) *IPAM {
	v := &IPAM{Mode: gostr(C.nr_ipam_mode_str(info.mode)), Used: uint64(info.used),
		Total: uint64(info.total), Allocations: []IPAMAllocation{}}
	for i := C.size_t(0); ; i++ { // the accessor, whose items can grow
		a := C.nr_ipam_allocation_at(info, i)
		if a == nil {
			break
		}
		v.Allocations = append(v.Allocations, IPAMAllocation{Node: gostr(a.node), CIDR: gostr(a.cidr)})
	}
	return v
}

func eventOf(e *C.struct_nr_event, seq uint64) Event {
	return Event{Seq: seq, Type: gostr(C.nr_event_type_str(e._type)), Node: gostr(e.node),
		Object: gostr(e.object), Message: gostr(e.message)}
}

// ---- callbacks with answers -------------------------------------------------------

//export goStatus
func goStatus(id C.uintptr_t, status C.int, msg *C.char, st *C.struct_nr_status) {
	if k := callOf(id, false); k != nil {
		if status == 0 && st != nil {
			k.res.st = statusOf(st)
		}
		k.finish(int(status), gostr(msg))
	}
}

//export goNode
func goNode(id C.uintptr_t, status C.int, msg *C.char, n *C.struct_nr_node_info) {
	if k := callOf(id, false); k != nil {
		if status == 0 && n != nil {
			v := nodeOf(n)
			k.res.node = &v
		}
		k.finish(int(status), gostr(msg))
	}
}

//export goEndpoint
func goEndpoint(id C.uintptr_t, status C.int, msg *C.char, e *C.struct_nr_endpoint_info) {
	if k := callOf(id, false); k != nil {
		if status == 0 && e != nil {
			v := endpointOf(e)
			k.res.endpoint = &v
		}
		k.finish(int(status), gostr(msg))
	}
}

//export goMode
func goMode(id C.uintptr_t, status C.int, msg *C.char, mode C.int, adnr C.bool) {
	if k := callOf(id, false); k != nil {
		k.res.mode = gostr(C.nr_routing_mode_str(uint32(mode)))
		k.res.adnr = bool(adnr)
		k.finish(int(status), gostr(msg))
	}
}

//export goIpam
func goIpam(id C.uintptr_t, status C.int, msg *C.char, info *C.struct_nr_ipam_info) {
	if k := callOf(id, false); k != nil {
		if status == 0 && info != nil {
			k.res.ipam = ipamOf(info)
		}
		k.finish(int(status), gostr(msg))
	}
}

//export goNodeItem
func goNodeItem(id C.uintptr_t, n *C.struct_nr_node_info) C.int {
	if k := callOf(id, true); k != nil {
		k.res.nodes = append(k.res.nodes, nodeOf(n))
	}
	return 0
}

//export goEndpointItem
func goEndpointItem(id C.uintptr_t, e *C.struct_nr_endpoint_info) C.int {
	if k := callOf(id, true); k != nil {
		k.res.endpoints = append(k.res.endpoints, endpointOf(e))
	}
	return 0
}

//export goRouteItem
func goRouteItem(id C.uintptr_t, r *C.struct_nr_route_info) C.int {
	if k := callOf(id, true); k != nil {
		k.res.routes = append(k.res.routes, routeOf(r))
	}
	return 0
}

// ---- to the library's option structs (freed after the call: it reads them
// during the call only) ------------------------------------------------------------

type cstrings struct{ all []*C.char }

func (cs *cstrings) str(s string) *C.char {
	if s == "" {
		return nil
	}
	p := C.CString(s)
	cs.all = append(cs.all, p)
	return p
}

func (cs *cstrings) free() {
	for _, p := range cs.all {
		C.free(unsafe.Pointer(p))
	}
}

// strv is a NULL-terminated C array of copies of v (nil for a nil slice);
// free it with C.nrgo_strv_free(v, len).
func strv(v []string) **C.char {
	if v == nil {
		return nil
	}
	a := C.nrgo_strv_new(C.size_t(len(v)))
	for i, s := range v {
		C.nrgo_strv_set(a, C.size_t(i), C.CString(s))
	}
	return a
}

func nodeSpecOf(s NodeSpec, cs *cstrings) (*C.struct_nr_node_spec, func()) {
	spec := C.nrgo_node_spec_new()
	spec.name = cs.str(s.Name)
	spec.ipv4 = cs.str(s.IPv4)
	spec.ipv6 = cs.str(s.IPv6)
	cidrs := strv(s.PodCIDRs)
	spec.pod_cidrs = cidrs
	return spec, func() {
		C.nrgo_strv_free(cidrs, C.size_t(len(s.PodCIDRs)))
		C.free(unsafe.Pointer(spec))
	}
}

func endpointSpecOf(s EndpointSpec, cs *cstrings) *C.struct_nr_endpoint_spec {
	spec := C.nrgo_endpoint_spec_new()
	spec.id = cs.str(s.ID)
	spec.ifname = cs.str(s.IfName)
	spec.ifindex = C.uint32_t(s.IfIndex)
	spec.ipv4 = cs.str(s.IPv4)
	spec.ipv6 = cs.str(s.IPv6)
	return spec
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

func modeOptsOf(mode uint32, m ModeChange) *C.struct_nr_mode_opts {
	o := C.nrgo_mode_opts_new()
	o.mode = mode
	o.auto_direct_node_routes = switchOf(m.AutoDirectNodeRoutes)
	o.direct_routing_skip_unreachable = switchOf(m.DirectRoutingSkipUnreachable)
	return o
}
