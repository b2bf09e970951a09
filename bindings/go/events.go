package nativeroute

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"sync"
)

// hub fans the events of one client or controller out to its subscribers.
// The loop thread never blocks on a slow reader: each subscriber has an
// unbounded queue and a goroutine that feeds its channel.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	done bool
}

type subscriber struct {
	mu    sync.Mutex
	queue []Event
	wake  chan struct{} // 1-buffered: "the queue changed"
	ended bool
	out   chan Event
}

func (h *hub) add(ctx context.Context) *subscriber {
	s := &subscriber{wake: make(chan struct{}, 1), out: make(chan Event)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	if h.done {
		s.ended = true
	} else {
		h.subs[s] = struct{}{}
	}
	h.mu.Unlock()
	go s.feed(ctx, h)
	return s
}

func (s *subscriber) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// feed moves queued events to out, in order, and closes out when the
// source ends (disconnect, close) or ctx is done.
func (s *subscriber) feed(ctx context.Context, h *hub) {
	defer close(s.out)
	defer h.remove(s)
	for {
		s.mu.Lock()
		q, ended := s.queue, s.ended
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range q {
			select {
			case s.out <- ev:
			case <-ctx.Done():
				return
			}
		}
		if ended && len(q) == 0 {
			return
		}
		if len(q) == 0 {
			select {
			case <-s.wake:
			case <-ctx.Done():
				return
			}
		}
	}
}

func (h *hub) remove(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		s.queue = append(s.queue, ev)
		s.mu.Unlock()
		s.notify()
	}
}

// end closes every subscriber's channel once its queue is read.
func (h *hub) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	for s := range h.subs {
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
		s.notify()
	}
}

// eventSink is what receives a client's or controller's events.
type eventSink interface {
	onEvent(ev Event)
	onState(connected bool, status int)
}

//export goEvent
func goEvent(id C.uintptr_t, ev *C.struct_nr_event, seq C.uint64_t) {
	if s, ok := lookup(uintptr(id)).(eventSink); ok {
		s.onEvent(eventOf(ev, uint64(seq)))
	}
}

//export goState
func goState(id C.uintptr_t, connected C.bool, status C.int) {
	if s, ok := lookup(uintptr(id)).(eventSink); ok {
		s.onState(bool(connected), int(status))
	}
}
