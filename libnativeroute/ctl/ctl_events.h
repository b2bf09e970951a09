/* Events for the caller's event callback (ctl_events.c). The bottom layer
 * with ctl_kick.h: every part of the controller may emit, and emitting only
 * queues (ctl_deliver.c), so it never calls back up. */
#ifndef NR_CTL_EVENTS_H
#define NR_CTL_EVENTS_H

#include "nativeroute/controller.h"

struct nr_ctl;

/* Queue an event for the caller's callback (if any): it is delivered from
 * the loop (ctl_deliver.c), in order with the completion callbacks, never
 * from inside the nr_ctl_* call or the pass that caused it. An ERROR whose
 * text was emitted less than NR_FAULT_REPEAT_MS ago is counted, not
 * emitted; the next one says how many were held back. */
void nr_ctl_emit(struct nr_ctl *ctl, enum nr_event_type type, const char *node,
		 const char *object, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
