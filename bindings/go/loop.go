package nativeroute

/*
#cgo pkg-config: nativeroute
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// The C side carries ids, not Go pointers (cgo's rules): a registry maps
// them back to the Go values (a call waiting for its answer, the owner of a
// loop, a client or controller receiving events).
var (
	registryMu sync.Mutex
	registry   = map[uintptr]interface{}{}
	lastID     uintptr
)

func register(v interface{}) uintptr {
	registryMu.Lock()
	defer registryMu.Unlock()
	lastID++
	registry[lastID] = v
	return lastID
}

func lookup(id uintptr) interface{} {
	registryMu.Lock()
	defer registryMu.Unlock()
	return registry[id]
}

func unregister(id uintptr) {
	registryMu.Lock()
	defer registryMu.Unlock()
	delete(registry, id)
}

// loopThread is a libuv loop run by one goroutine locked to its OS thread:
// the only thread that calls the library for its owner.
type loopThread struct {
	l        *C.struct_nrgo_loop
	id       uintptr
	mu       sync.Mutex
	queue    []func()
	stopping bool
	done     chan struct{} // closed when the loop has ended
	after    []func()      // loop thread only: see afterSync
}

func startLoop() (*loopThread, error) {
	lt := &loopThread{done: make(chan struct{})}
	lt.id = register(lt)
	ready := make(chan bool, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		lt.l = C.nrgo_loop_new(C.uintptr_t(lt.id))
		ready <- lt.l != nil
		if lt.l == nil {
			return
		}
		C.nrgo_loop_run(lt.l) // until every handle has closed
		lt.drain()
		C.nrgo_loop_free(lt.l)
		unregister(lt.id)
		close(lt.done)
	}()
	if !<-ready {
		unregister(lt.id)
		return nil, errors.New("nativeroute: cannot create a libuv loop")
	}
	return lt, nil
}

// post runs f on the loop thread; false once the loop is stopping. The
// wakeup is sent under the lock: stop() takes it before the wakeup handle
// closes, so no wakeup can reach a closed handle or a freed loop.
func (lt *loopThread) post(f func()) bool {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.stopping {
		return false
	}
	lt.queue = append(lt.queue, f)
	C.nrgo_loop_wake(lt.l)
	return true
}

// stop refuses further posts; the loop ends once its handles have closed
// (the owner closes its client or controller first, from the loop thread).
func (lt *loopThread) stop() {
	lt.mu.Lock()
	lt.stopping = true
	lt.mu.Unlock()
}

func (lt *loopThread) drain() {
	for {
		lt.mu.Lock()
		q := lt.queue
		lt.queue = nil
		lt.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, f := range q {
			f()
		}
	}
}

//export goLoopWake
func goLoopWake(id C.uintptr_t) {
	if lt, ok := lookup(uintptr(id)).(*loopThread); ok {
		lt.drain()
	}
}

// result is what a callback delivered: the status, and the decoded answer.
type result struct {
	status    int
	msg       string
	st        *Status
	node      *Node
	endpoint  *Endpoint
	mode      string
	adnr      bool
	ipam      *IPAM
	nodes     []Node
	endpoints []Endpoint
	routes    []Route
}

// call is one request waiting for its answer.
type call struct {
	ch  chan result
	res result
}

func (k *call) finish(status int, msg string) {
	k.res.status = status
	k.res.msg = msg
	k.ch <- k.res
}

// do starts a request on the loop thread (start gets the call's id for
// the callback) and waits for its answer, or for ctx.
func (lt *loopThread) do(ctx context.Context, start func(id C.uintptr_t) C.int) (result, error) {
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	k := &call{ch: make(chan result, 1)}
	id := register(k)
	if !lt.post(func() {
		if rc := start(C.uintptr_t(id)); rc < 0 {
			unregister(id)
			k.finish(int(rc), C.GoString(C.nr_last_errmsg()))
		}
	}) {
		unregister(id)
		return result{}, errClosed()
	}
	select {
	case r := <-k.ch:
		if r.status != 0 {
			return r, errorOf(r.status, r.msg)
		}
		return r, nil
	case <-ctx.Done():
		return result{}, ctx.Err() // the answer, when it comes, is dropped
	}
}

// sync runs f on the loop thread (a synchronous library call) and waits.
func (lt *loopThread) sync(ctx context.Context, f func(k *call) C.int) (result, error) {
	return lt.do(ctx, func(id C.uintptr_t) C.int {
		k := lookup(uintptr(id)).(*call)
		rc := f(k)
		for _, g := range lt.after {
			g()
		}
		lt.after = nil
		if rc >= 0 {
			unregister(uintptr(id))
			k.finish(0, "")
			return 0
		}
		return rc
	})
}

// afterSync runs g when the current synchronous call (on the loop thread)
// has returned.
func (lt *loopThread) afterSync(g func()) {
	lt.after = append(lt.after, g)
}

func callOf(id C.uintptr_t, keep bool) *call {
	k, _ := lookup(uintptr(id)).(*call)
	if k != nil && !keep {
		unregister(uintptr(id))
	}
	return k
}

//export goDone
func goDone(id C.uintptr_t, status C.int, msg *C.char) {
	if k := callOf(id, false); k != nil {
		k.finish(int(status), C.GoString(msg))
	}
}

//export goClosed
func goClosed(id C.uintptr_t) {
	if k := callOf(id, false); k != nil {
		k.finish(0, "")
	}
}
