package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"sync"
)

// handle is what a Client and a Controller share: the loop thread that owns
// their library object, their id in the registry (the C side's events find
// them by it), the subscribers of their events, and the request plumbing.
type handle struct {
	lt        *loopThread
	id        uintptr
	events    hub
	closeOnce sync.Once
}

// open starts the loop thread and registers owner (the Client or
// Controller embedding h) for its events.
func (h *handle) open(owner eventSink) error {
	lt, err := startLoop()
	if err != nil {
		return err
	}
	h.lt = lt
	h.id = register(owner)
	return nil
}

// call runs start on the loop thread with the call's id for the callback
// and the C arguments it builds (freed once start returns: the library reads
// them during the call only), then waits for the answer or ctx.
func (h *handle) call(ctx context.Context, start func(a *cargs, id C.uintptr_t) C.int) (result, error) {
	return h.lt.do(ctx, func(id C.uintptr_t) C.int {
		var a cargs
		defer a.free()
		return start(&a, id)
	})
}

// shut closes the library object with closeFn on the loop thread (nil: it
// was never made), waits until the loop thread has ended, and closes the
// event channels; only the first call does anything. Calls in flight get
// ECANCELED from the library's close.
func (h *handle) shut(closeFn func(id C.uintptr_t) C.int) {
	h.closeOnce.Do(func() {
		// Posts are refused from here on (lt.stop) before the object
		// closes, so no queued request can reach a closed object.
		if closeFn != nil {
			// ctx-free: closing always completes (no I/O to wait for)
			_, _ = h.lt.do(context.Background(), func(id C.uintptr_t) C.int {
				h.lt.stop()
				rc := closeFn(id)
				C.nrgo_loop_stop_waking(h.lt.l)
				return rc
			})
		} else {
			h.lt.post(func() {
				h.lt.stop()
				C.nrgo_loop_stop_waking(h.lt.l)
			})
		}
		<-h.lt.done
		unregister(h.id)
		h.events.end()
	})
}

func (h *handle) onEvent(ev Event)  { h.events.publish(ev) }
func (h *handle) onState(bool, int) {}
