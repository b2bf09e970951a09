package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"sync"
	"time"
)

// DefaultSocket is where nativerouted listens by default.
const DefaultSocket = "/run/nativeroute/nativeroute.sock"

// ClientOptions tune a Client; the zero value is fine.
type ClientOptions struct {
	// Timeout bounds each call inside the library (0: 10 s; negative: none),
	// on top of the context's deadline.
	Timeout time.Duration
}

// Client talks to a running nativerouted over its Unix socket. It is safe
// for concurrent use by many goroutines (see the package documentation).
type Client struct {
	handle
	c         *C.struct_nr_client
	subMu     sync.Mutex
	subscribe bool
}

// Dial connects to the daemon at socketPath ("" = DefaultSocket).
func Dial(ctx context.Context, socketPath string, opts *ClientOptions) (*Client, error) {
	if err := checkVersion(); err != nil {
		return nil, err
	}
	if socketPath == "" {
		socketPath = DefaultSocket
	}
	timeout := 10 * time.Second
	if opts != nil && opts.Timeout != 0 {
		timeout = opts.Timeout
	}
	if timeout < 0 {
		timeout = 0
	}
	cl := &Client{}
	if err := cl.open(cl); err != nil {
		return nil, err
	}
	_, err := cl.lt.sync(ctx, func(k *call) C.int {
		var a cargs
		defer a.free()
		return C.nrgo_client_new(nrgoLoopUV(cl.lt), a.name(socketPath),
			C.uint(timeout/time.Millisecond), C.uintptr_t(cl.id), &cl.c)
	})
	if err == nil {
		_, err = cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_connect(cl.c, id) })
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

func nrgoLoopUV(lt *loopThread) *C.uv_loop_t {
	return C.nrgo_loop_uv(lt.l)
}

// Close closes the connection: calls in flight fail with ECANCELED, event
// channels close. It waits until the client's loop thread has ended.
func (cl *Client) Close() error {
	var closeFn func(id C.uintptr_t) C.int
	if cl.c != nil {
		closeFn = func(id C.uintptr_t) C.int { return C.nrgo_client_close(cl.c, id) }
	}
	cl.shut(closeFn)
	return nil
}

func (cl *Client) onState(connected bool, status int) {
	if !connected {
		cl.events.end() // "events as a channel that closes on disconnect"
	}
}

// Status is the daemon's summary [status].
func (cl *Client) Status(ctx context.Context) (*Status, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_status(cl.c, id) })
	return r.st, err
}

func (cl *Client) nodeChange(ctx context.Context, s NodeSpec, update C.int) (*Node, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_client_node_add(cl.c, a.nodeSpec(s), update, id)
	})
	return r.node, err
}

// AddNode adds a remote node [node.add] and returns it as the daemon now
// has it (nil if it went away again meanwhile).
func (cl *Client) AddNode(ctx context.Context, s NodeSpec) (*Node, error) {
	return cl.nodeChange(ctx, s, 0)
}

// UpdateNode changes a node's addresses or CIDRs [node.update].
func (cl *Client) UpdateNode(ctx context.Context, s NodeSpec) (*Node, error) {
	return cl.nodeChange(ctx, s, 1)
}

// RemoveNode removes a node [node.remove].
func (cl *Client) RemoveNode(ctx context.Context, name string) error {
	_, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_client_node_remove(cl.c, a.name(name), id)
	})
	return err
}

// Node is one node [node.get]; ENOENT if there is none of that name.
func (cl *Client) Node(ctx context.Context, name string) (*Node, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_client_node_get(cl.c, a.name(name), id)
	})
	return r.node, err
}

// Nodes lists every node, this one included [node.list].
func (cl *Client) Nodes(ctx context.Context) ([]Node, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_node_foreach(cl.c, id) })
	return r.nodes, err
}

// AddEndpoint adds a pod on the daemon's node [endpoint.add].
func (cl *Client) AddEndpoint(ctx context.Context, s EndpointSpec) (*Endpoint, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_client_endpoint_add(cl.c, a.endpointSpec(s), id)
	})
	return r.endpoint, err
}

// Endpoint is one pod by its id [endpoint.get] (since 1.2); ENOENT if there
// is none.
func (cl *Client) Endpoint(ctx context.Context, id string) (*Endpoint, error) {
	r, err := cl.call(ctx, func(a *cargs, k C.uintptr_t) C.int {
		return C.nrgo_client_endpoint_get(cl.c, a.name(id), k)
	})
	return r.endpoint, err
}

// RemoveEndpoint removes a pod [endpoint.remove].
func (cl *Client) RemoveEndpoint(ctx context.Context, id string) error {
	_, err := cl.call(ctx, func(a *cargs, k C.uintptr_t) C.int {
		return C.nrgo_client_endpoint_remove(cl.c, a.name(id), k)
	})
	return err
}

// Endpoints lists the pods [endpoint.list].
func (cl *Client) Endpoints(ctx context.Context) ([]Endpoint, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_endpoint_foreach(cl.c, id) })
	return r.endpoints, err
}

// Routes lists the routes the controller plans [route.list].
func (cl *Client) Routes(ctx context.Context) ([]Route, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_route_foreach(cl.c, id) })
	return r.routes, err
}

// IPAM is the IPAM's state [ipam.status].
func (cl *Client) IPAM(ctx context.Context) (*IPAM, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_ipam_status(cl.c, id) })
	return r.ipam, err
}

func (cl *Client) modeWithSwitches(ctx context.Context, r result) (*Mode, error) {
	st, err := cl.Status(ctx)
	if err != nil {
		return nil, err
	}
	return &Mode{Mode: r.mode, AutoDirectNodeRoutes: r.adnr,
		DirectRoutingSkipUnreachable: st.DirectRoutingSkipUnreachable}, nil
}

// Mode is the routing mode and its switches [mode.get].
func (cl *Client) Mode(ctx context.Context) (*Mode, error) {
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_mode_get(cl.c, id) })
	if err != nil {
		return nil, err
	}
	return cl.modeWithSwitches(ctx, r)
}

// SetMode switches the mode and/or the switches, all or nothing [mode.set].
func (cl *Client) SetMode(ctx context.Context, m ModeChange) (*Mode, error) {
	mode, err := parseMode(m.Mode)
	if err != nil {
		return nil, err
	}
	r, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int {
		return C.nrgo_client_mode_set(cl.c, a.modeOpts(mode, m), id)
	})
	if err != nil {
		return nil, err
	}
	return cl.modeWithSwitches(ctx, r)
}

// Events subscribes [events.subscribe] and returns a channel of every event
// from now on, in order. The channel closes when the connection is lost,
// the client is closed, or ctx is done.
func (cl *Client) Events(ctx context.Context) (<-chan Event, error) {
	s := cl.events.add(ctx)
	cl.subMu.Lock()
	defer cl.subMu.Unlock()
	if !cl.subscribe {
		if _, err := cl.call(ctx, func(a *cargs, id C.uintptr_t) C.int { return C.nrgo_client_subscribe(cl.c, id) }); err != nil {
			cl.events.remove(s)
			s.mu.Lock()
			s.ended = true
			s.mu.Unlock()
			s.notify()
			return nil, err
		}
		cl.subscribe = true
	}
	return s.out, nil
}
