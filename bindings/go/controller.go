package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"context"
)

// ControllerOptions are the options of nr_ctl_new (controller.h); zero
// values take the library's defaults.
type ControllerOptions struct {
	Netns                        string   // named namespace (/run/netns/NAME); "" = the process's
	NodeName                     string   // required
	NodeIPv4, NodeIPv6           string   // at least one
	RoutingMode                  string   // "native" (default), "tunnel", "hybrid"
	IPAMMode                     string   // "cluster-pool" (default), "kubernetes"
	ClusterCIDRs                 []string // cluster-pool needs one
	MaskSizeV4, MaskSizeV6       uint     // node CIDR sizes (24, 112)
	PodCIDRs                     []string // this node's CIDRs (kubernetes IPAM)
	AutoDirectNodeRoutes         bool
	DirectRoutingSkipUnreachable bool
	ClassicRoutes                bool   // never use nexthop objects
	RouteProtocol                uint8  // 0 = 201
	RouteTable                   uint32 // 0 = main
	StateDir                     string // durable model; "" = in memory only
	AllowConfigMigration         bool
}

// Controller is the in-process routing control plane of one node (a
// network namespace), for Go orchestrators that embed it instead of
// talking to nativerouted. Safe for concurrent use; its library loop runs
// on one locked OS thread (see the package documentation).
type Controller struct {
	handle
	ctl *C.struct_nr_ctl
}

func ipamModeOf(name string) (uint32, error) {
	switch name {
	case "", "cluster-pool":
		return C.NR_IPAM_CLUSTER_POOL, nil
	case "kubernetes":
		return C.NR_IPAM_KUBERNETES, nil
	}
	return 0, errorOf(-22, "IPAM mode \""+name+"\": expected cluster-pool or kubernetes")
}

// NewController validates the options and opens netlink in the namespace
// (nr_ctl_new); it changes nothing in the kernel until Start.
func NewController(ctx context.Context, o ControllerOptions) (*Controller, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	mode, err := parseMode(o.RoutingMode)
	if err != nil {
		return nil, err
	}
	ipam, err := ipamModeOf(o.IPAMMode)
	if err != nil {
		return nil, err
	}
	x := &Controller{}
	if err := x.open(x); err != nil {
		return nil, err
	}
	_, err = x.lt.sync(ctx, func(k *call) C.int {
		var cs cargs
		defer cs.free()
		opts := (*C.struct_nr_ctl_opts)(cs.opts(C.sizeof_struct_nr_ctl_opts))
		opts.netns = cs.str(o.Netns)
		opts.node_name = cs.str(o.NodeName)
		opts.node_ipv4 = cs.str(o.NodeIPv4)
		opts.node_ipv6 = cs.str(o.NodeIPv6)
		opts.routing_mode = mode
		opts.ipam_mode = ipam
		opts.cluster_cidrs = cs.strv(o.ClusterCIDRs)
		opts.pod_cidrs = cs.strv(o.PodCIDRs)
		opts.mask_size_v4 = C.uint(o.MaskSizeV4)
		opts.mask_size_v6 = C.uint(o.MaskSizeV6)
		opts.auto_direct_node_routes = C.bool(o.AutoDirectNodeRoutes)
		opts.direct_routing_skip_unreachable = C.bool(o.DirectRoutingSkipUnreachable)
		opts.classic_routes = C.bool(o.ClassicRoutes)
		opts.route_protocol = C.uint8_t(o.RouteProtocol)
		opts.route_table = C.uint32_t(o.RouteTable)
		opts.state_dir = cs.str(o.StateDir)
		opts.allow_config_migration = C.bool(o.AllowConfigMigration)
		return C.nrgo_ctl_new(nrgoLoopUV(x.lt), opts, C.uintptr_t(x.id), &x.ctl)
	})
	if err != nil {
		x.Close()
		return nil, err
	}
	return x, nil
}

// Close stops the controller: calls in flight fail with ECANCELED, kernel
// state stays (a restart does not flap traffic), event channels close.
func (x *Controller) Close() error {
	var closeFn func(id C.uintptr_t) C.int
	if x.ctl != nil {
		closeFn = func(id C.uintptr_t) C.int { return C.nrgo_ctl_close(x.ctl, id) }
	}
	x.shut(closeFn)
	return nil
}

// Start runs the first reconcile: adopt what matches, add what is missing,
// prune our own stale entries.
func (x *Controller) Start(ctx context.Context) error {
	_, err := x.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_ctl_start(x.ctl, id) })
	return err
}

func (x *Controller) nodeChange(ctx context.Context, s NodeSpec, update C.int) error {
	_, err := x.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_ctl_node_add(x.ctl, a.nodeSpec(s), update, id)
	})
	return err
}

// AddNode adds a node; it returns once the kernel (and the state directory)
// has it. Before Start only the model changes and the call returns after
// Start's first pass: replay known nodes from other goroutines, then Start.
func (x *Controller) AddNode(ctx context.Context, s NodeSpec) error {
	return x.nodeChange(ctx, s, 0)
}

// UpdateNode changes a node's addresses or CIDRs without a gap.
func (x *Controller) UpdateNode(ctx context.Context, s NodeSpec) error {
	return x.nodeChange(ctx, s, 1)
}

// RemoveNode removes a node; its CIDRs return to the pool.
func (x *Controller) RemoveNode(ctx context.Context, name string) error {
	_, err := x.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_ctl_node_remove(x.ctl, a.name(name), id)
	})
	return err
}

// AddEndpoint adds a pod on this node.
func (x *Controller) AddEndpoint(ctx context.Context, s EndpointSpec) (*Endpoint, error) {
	r, err := x.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_ctl_endpoint_add(x.ctl, a.endpointSpec(s), id)
	})
	return r.endpoint, err
}

// RemoveEndpoint removes a pod.
func (x *Controller) RemoveEndpoint(ctx context.Context, id string) error {
	_, err := x.call(ctx, func(a *cargs, k C.uintptr_t) C.int {
		return C.nrgo_ctl_endpoint_remove(x.ctl, a.name(id), k)
	})
	return err
}

// SetMode switches the routing mode and/or the switches, all or nothing.
func (x *Controller) SetMode(ctx context.Context, m ModeChange) error {
	mode, err := parseMode(m.Mode)
	if err != nil {
		return err
	}
	_, err = x.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_ctl_mode_set(x.ctl, a.modeOpts(mode, m), id)
	})
	return err
}

// Status is a snapshot of the controller.
func (x *Controller) Status(ctx context.Context) (*Status, error) {
	r, err := x.lt.sync(ctx, func(k *call) C.int {
		var st C.struct_nr_status
		st.sz = C.sizeof_struct_nr_status
		rc := C.nr_ctl_status(x.ctl, &st)
		if rc == 0 {
			k.res.st = statusOf(&st)
		}
		return rc
	})
	return r.st, err
}

// Nodes lists the nodes (this one included).
func (x *Controller) Nodes(ctx context.Context) ([]Node, error) {
	r, err := x.lt.sync(ctx, func(k *call) C.int {
		return C.nrgo_ctl_node_foreach(x.ctl, C.uintptr_t(x.callID(k)))
	})
	return r.nodes, err
}

// Endpoints lists the pods on this node.
func (x *Controller) Endpoints(ctx context.Context) ([]Endpoint, error) {
	r, err := x.lt.sync(ctx, func(k *call) C.int {
		return C.nrgo_ctl_endpoint_foreach(x.ctl, C.uintptr_t(x.callID(k)))
	})
	return r.endpoints, err
}

// Routes lists the routes the controller plans and whether the kernel has them.
func (x *Controller) Routes(ctx context.Context) ([]Route, error) {
	r, err := x.lt.sync(ctx, func(k *call) C.int {
		return C.nrgo_ctl_route_foreach(x.ctl, C.uintptr_t(x.callID(k)))
	})
	return r.routes, err
}

// callID registers k for the items of a synchronous walk (the walk's
// callbacks find it by id); it is unregistered with the walk's end.
func (x *Controller) callID(k *call) uintptr {
	id := register(k)
	x.lt.afterSync(func() { unregister(id) })
	return id
}

// Events returns a channel of the controller's events from now on, in
// order; it closes when the controller is closed or ctx is done.
func (x *Controller) Events(ctx context.Context) (<-chan Event, error) {
	return x.events.add(ctx).out, nil
}
