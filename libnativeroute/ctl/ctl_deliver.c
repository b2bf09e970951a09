/* Completion callbacks and events are queued and run from the loop's check
 * phase (after the poll), in the order they happened, never from inside the
 * code that decided them (an nr_ctl_* call, a pass).
 *
 * Why the check phase: a pass runs from a timer, which libuv runs at the
 * start of a loop iteration. A callback run there is followed, in the same
 * uv_run(UV_RUN_ONCE), by a poll that waits for the next timer or I/O: a
 * caller that runs `while (!done) uv_run(loop, UV_RUN_ONCE)` saw its start
 * callback "arrive" only after the 30 s resync timer when the pass changed
 * nothing in the kernel (no netlink echo to end the poll early). An active
 * idle handle makes that poll return at once, and the check handle then
 * runs the callbacks, so uv_run returns right after them.
 *
 * It also keeps the caller's code out of ours: whatever a callback calls
 * back (a new node, close) finds the controller between two passes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"
#include "util/clock.h"

static void run_one(struct nr_ctl *ctl, struct nr_pending *p)
{
	const char *msg = p->status < 0 ? (p->msg ? p->msg : nr_strerror(p->status)) : NULL;

	if (p->kind == NR_OP_EVENT) {
		struct nr_event ev = { .sz = sizeof(ev), .type = p->ev_type, .node = p->ev_node,
				       .object = p->ev_object, .message = p->msg };

		if (ctl->event_cb)
			ctl->event_cb(ctl, &ev, ctl->event_data);
	} else if (p->kind == NR_OP_ENDPOINT && p->ep_cb) {
		const struct nr_pending_ep *e = nr_pending_ep_of(p);
		struct nr_endpoint_info info = {
			.sz = sizeof(info), .id = p->id, .ifname = e->ep.ifname,
			.ifindex = e->ep.ifindex, .ipv4 = e->ep.ipv4, .ipv6 = e->ep.ipv6,
			.gateway4 = e->ep.gw4, .gateway6 = e->ep.gw6, .mtu = e->ep.mtu,
		};
		p->ep_cb(ctl, p->status, msg, &info, p->data);
	} else if (p->done_cb) {
		p->done_cb(ctl, p->status, msg, p->data);
	}
	nr_ctl_pending_free(p);
}

void nr_ctl_pending_free(struct nr_pending *p)
{
	if (!p)
		return;
	free(p->ev_node);
	free(p->ev_object);
	free(p->msg);
	if (!p->id_inline)
		free(p->id);
	free(p);
}

/* Run what is queued now, for at most DELIVER_BUDGET_NS: 10,000 callbacks
 * of one pass would hold the caller's loop for milliseconds, so the rest
 * waits for the next loop turn (the idle handle keeps that turn coming at
 * once), in order. What the callbacks queue waits for the next turn too (a
 * callback that re-queues forever cannot starve the loop). */
#define DELIVER_BUDGET_NS 200000u
#define DELIVER_CHECK_EVERY 32 /* callbacks between two clock reads */

static void run_queued(struct nr_ctl *ctl, bool all)
{
	struct nr_pending *p = ctl->done_q, *end = NULL;
	struct nr_pending **tail = ctl->done_tail;
	uint64_t t0 = all ? 0 : nr_mono_ns();
	unsigned k = 0;

	/* detach what is queued now; the callbacks queue behind it */
	ctl->done_q = NULL;
	ctl->done_tail = &ctl->done_q;
	while (p) {
		struct nr_pending *next = p->next;

		run_one(ctl, p);
		p = next;
		if (!all && p && ++k % DELIVER_CHECK_EVERY == 0 && nr_mono_ns() - t0 >= DELIVER_BUDGET_NS) {
			end = p;
			break;
		}
	}
	if (end) { /* the rest goes back to the front, before what was queued
		    * meanwhile (tail: the next field of its last one, not run) */
		*tail = ctl->done_q;
		if (!ctl->done_q)
			ctl->done_tail = tail;
		ctl->done_q = end;
	}
}

static void deliver_cb(uv_check_t *h)
{
	struct nr_ctl *ctl = h->data;

	run_queued(ctl, false);
	if (!ctl->done_q && !ctl->closing) {
		uv_idle_stop(&ctl->deliver_idle);
		uv_check_stop(&ctl->deliver_check);
	}
}

static void idle_cb(uv_idle_t *h)
{
	(void)h; /* only keeps the poll from blocking while work is queued */
}

static void wake(struct nr_ctl *ctl)
{
	/* not before the handles exist (events of nr_ctl_new wait for them),
	 * and not when closing (the last handle_closed flushes) */
	if (ctl->deliver_ready && !ctl->closing) {
		uv_idle_start(&ctl->deliver_idle, idle_cb);
		uv_check_start(&ctl->deliver_check, deliver_cb);
	}
}

void nr_ctl_deliver_init(struct nr_ctl *ctl)
{
	uv_idle_init(ctl->loop, &ctl->deliver_idle);
	uv_check_init(ctl->loop, &ctl->deliver_check);
	ctl->deliver_idle.data = ctl->deliver_check.data = ctl;
	ctl->deliver_ready = true;
	if (ctl->done_q)
		wake(ctl);
}

/* nr_ctl_new failed: what it queued is dropped (the call changed nothing). */
void nr_ctl_deliver_drop(struct nr_ctl *ctl)
{
	while (ctl->done_q) {
		struct nr_pending *p = ctl->done_q;

		ctl->done_q = p->next;
		nr_ctl_pending_free(p);
	}
	ctl->done_tail = &ctl->done_q;
}

void nr_ctl_pending_run(struct nr_ctl *ctl, struct nr_pending *p, int status, const char *msg)
{
	p->next = NULL;
	p->status = status;
	if (msg != p->msg) { /* a request parked for a save keeps its own text */
		free(p->msg);
		p->msg = status < 0 && msg && *msg ? strdup(msg) : NULL; /* NULL: nr_strerror */
	}
	if (status < 0 && p->on_fail) /* an error means nothing changed */
		p->on_fail(ctl, p);
	p->on_fail = NULL;
	*ctl->done_tail = p;
	ctl->done_tail = &p->next;
	wake(ctl);
}

void nr_ctl_deliver_event(struct nr_ctl *ctl, struct nr_pending *p)
{
	p->next = NULL;
	*ctl->done_tail = p;
	ctl->done_tail = &p->next;
	wake(ctl);
}

void nr_ctl_deliver_flush(struct nr_ctl *ctl)
{
	while (ctl->done_q)
		run_queued(ctl, true);
}

void nr_ctl_deliver_close(struct nr_ctl *ctl, uv_close_cb cb)
{
	uv_close((uv_handle_t *)&ctl->deliver_idle, cb);
	uv_close((uv_handle_t *)&ctl->deliver_check, cb);
}
