package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"strings"
	"time"
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
	// MTU the pod's interface should use: the underlay's, less the VXLAN
	// overhead while traffic is tunnelled; 0 = unknown.
	MTU uint32
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

// BPFStatus is eBPF host routing (nativerouted --bpf): the pinned maps,
// kept in step with the routes, and the tc fast path's packet counters.
type BPFStatus struct {
	Routes     uint64 // entries in the pinned "routes" map
	Endpoints  uint64 // entries in the pinned "endpoints" map
	MapRepairs uint64 // map entries found changed at a resync and rewritten
	// Packets per fast-path verdict: "redirect_peer", "redirect_neigh",
	// "pass_no_route", ... (NR_BPF_VERDICT_NAMES of nativeroute/bpf.h).
	Packets map[string]uint64
}

// MasqueradeStatus is the masquerading of pod traffic leaving the cluster
// (nftables table "inet nativeroute").
type MasqueradeStatus struct {
	IPv4, IPv6 bool
	Programmed bool     // the kernel holds the table as planned
	Excluded   []string // destinations never masqueraded (CIDRs)
	Note       string   // why a family is off, where the CIDRs come from, the last error
}

// EtcdStatus is the etcd store (nativerouted --store etcd, docs/etcd.md).
type EtcdStatus struct {
	Healthy bool // registered, watching, answering
	// UnhealthySince is when it stopped being healthy (zero while healthy).
	UnhealthySince time.Time
	Detail         string // "Ok (<endpoint>, revision N, ...)", "unreachable (since ...): why", ...
}

// Status is the controller's summary. The parts a daemon may run without
// are nil then: BPF without eBPF maps (no --bpf; HostRoutingReason says why
// host routing is "Legacy"), Masquerade when no family is masqueraded, Etcd
// unless Store is "etcd".
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

	// Healthy is "Controller: Ok": started, every planned route programmed,
	// the namespace there, the last save fine, store and masquerading fine.
	Healthy         bool
	Problems        string // "" when healthy, else what is wrong, by subsystem
	Version         string // the daemon's library version
	LocalNode       string
	NodesNative     uint64 // remote nodes routed natively
	NodesTunnel     uint64 // ... through the tunnel
	NodesNoCIDR     uint64 // nodes without a pod CIDR
	EndpointsBroken uint64 // endpoints whose host interface is gone
	NetnsGone       bool   // the named namespace was deleted under the controller
	StoreError      int    // -errno of the last failed state save, 0 = fine
	// This node's pod CIDRs ("" when none) and their addresses in use (the
	// gateway included) of the usable total.
	PodCIDR4, PodCIDR6        string
	PodIPsUsed4, PodIPsTotal4 uint64
	PodIPsUsed6, PodIPsTotal6 uint64
	HostRouting               string // "BPF" (tc fast path attached) or "Legacy"
	HostRoutingReason         string // why it is "Legacy"
	BPF                       *BPFStatus
	Masquerade                *MasqueradeStatus
	Store                     string // "etcd", "file" (state directory) or "none"
	Etcd                      *EtcdStatus
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
		Gateway6: gostr(e.gateway6), MTU: uint32(e.mtu)}
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
		DirectRoutingSkipUnreachable: bool(s.direct_routing_skip_unreachable),
		Healthy:                      bool(s.healthy), Problems: gostr(s.problems), Version: gostr(s.version),
		LocalNode: gostr(s.local_node), NodesNative: uint64(s.nodes_native),
		NodesTunnel: uint64(s.nodes_tunnel), NodesNoCIDR: uint64(s.nodes_no_cidr),
		EndpointsBroken: uint64(s.endpoints_broken), NetnsGone: bool(s.netns_gone),
		StoreError: int(s.store_error), PodCIDR4: gostr(s.pod_cidr4),
		PodCIDR6: gostr(s.pod_cidr6), PodIPsUsed4: uint64(s.pod_ips_used4),
		PodIPsTotal4: uint64(s.pod_ips_total4), PodIPsUsed6: uint64(s.pod_ips_used6),
		PodIPsTotal6: uint64(s.pod_ips_total6),
		HostRouting:  "Legacy", HostRoutingReason: gostr(&s.host_routing_reason[0]),
		Store: "none",
	}
	if bool(s.host_routing_bpf) {
		st.HostRouting = "BPF"
	}
	// as `nrctl status` decides to show "BPF Maps:"
	if bool(s.host_routing_bpf) || s.bpf_routes != 0 || s.bpf_endpoints != 0 {
		st.BPF = &BPFStatus{Routes: uint64(s.bpf_routes), Endpoints: uint64(s.bpf_endpoints),
			MapRepairs: uint64(s.bpf_map_repairs), Packets: map[string]uint64{}}
		for i := 0; i < C.NR_BPF_VERDICTS; i++ {
			st.BPF.Packets[gostr(C.nrgo_bpf_verdict_name(C.int(i)))] = uint64(s.bpf_packets[i])
		}
	}
	if bool(s.masquerade_ipv4) || bool(s.masquerade_ipv6) {
		st.Masquerade = &MasqueradeStatus{IPv4: bool(s.masquerade_ipv4),
			IPv6: bool(s.masquerade_ipv6), Programmed: bool(s.masquerade_programmed),
			Excluded: strings.Fields(gostr(&s.masquerade_excluded[0])),
			Note:     gostr(&s.masquerade_note[0])}
	}
	switch {
	case bool(s.store_etcd):
		st.Store = "etcd"
		st.Etcd = &EtcdStatus{Healthy: bool(s.store_healthy), Detail: gostr(&s.store_detail[0])}
		if s.store_unhealthy_since > 0 {
			st.Etcd.UnhealthySince = time.Unix(int64(s.store_unhealthy_since), 0)
		}
	case bool(s.store_file):
		st.Store = "file"
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
