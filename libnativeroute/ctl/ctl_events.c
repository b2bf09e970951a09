/* Events: formatted, held back when a fault repeats, then queued for
 * delivery from the loop (ctl_deliver.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_events.h"
#include "ctl/ctl_internal.h"

/* A persistent fault (a foreign route on a pod CIDR, retried every second)
 * must not flood the log: the same text once, then once a minute with the
 * count of repeats. 32 slots, the oldest reused. */
static bool fault_held_back(struct nr_ctl *ctl, char *msg, size_t len)
{
	uint64_t now = uv_now(ctl->loop);
	uint32_t h = 2166136261u;
	struct nr_ctl_fault *slot = &ctl->faults[0];

	for (const char *c = msg; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	h |= 1; /* 0 marks a free slot */
	for (size_t i = 0; i < sizeof(ctl->faults) / sizeof(ctl->faults[0]); i++) {
		struct nr_ctl_fault *f = &ctl->faults[i];

		if (f->hash == h) {
			if (now - f->last_ms < NR_FAULT_REPEAT_MS) {
				f->suppressed++;
				return true;
			}
			if (f->suppressed) {
				size_t at = strlen(msg);

				snprintf(msg + at, len - at, " (%u more since the last report)",
					 f->suppressed);
			}
			f->last_ms = now;
			f->suppressed = 0;
			return false;
		}
		if (f->last_ms < slot->last_ms)
			slot = f;
	}
	*slot = (struct nr_ctl_fault){ .hash = h, .last_ms = now };
	return false;
}

void nr_ctl_emit(struct nr_ctl *ctl, enum nr_event_type type, const char *node,
		 const char *object, const char *fmt, ...)
{
	char msg[NR_ERR_MSG_MAX];
	struct nr_pending *p;
	va_list ap;

	if (!ctl->event_cb)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (type == NR_EVENT_ERROR && fault_held_back(ctl, msg, sizeof(msg)))
		return;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->msg = strdup(msg)) || (node && !(p->ev_node = strdup(node))) ||
	    (object && !(p->ev_object = strdup(object)))) {
		if (p) {
			free(p->msg);
			free(p->ev_node);
		}
		free(p);
		return; /* out of memory: an event is lost, not state */
	}
	p->kind = NR_OP_EVENT;
	p->ev_type = type;
	nr_ctl_deliver_event(ctl, p);
}
