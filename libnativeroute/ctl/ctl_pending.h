/* Pending-request bookkeeping (ctl_pending.c). Used by the mutations
 * (ctl_*_ops.c), which queue requests, and by the pass, the masquerade job,
 * purge and close, which decide them. */
#ifndef NR_CTL_PENDING_H
#define NR_CTL_PENDING_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl/ctl_internal.h"

/* After a purge (or while one runs) only close is accepted: -ESHUTDOWN
 * (nr_last_error set); a saved state still loading is waited for, and a
 * failed load's error returned (ctl_load.c); else 0. */
int nr_ctl_check_usable(struct nr_ctl *ctl);

/* A request of kind, NULL when out of memory. Freed by whoever decides it
 * (nr_ctl_pending_run), or by the mutation that refuses after all
 * (nr_ctl_pending_free). Endpoint kinds come with a struct nr_pending_ep. */
struct nr_pending *nr_ctl_pending_new(enum nr_op_kind kind, nr_ctl_done_cb cb, void *data);
/* The same with p->id a copy of id, in the same allocation (id_inline). */
struct nr_pending *nr_ctl_pending_new_named(enum nr_op_kind kind, nr_ctl_done_cb cb, void *data,
					    const char *id);
/* Queue p for the next pass (asked for when started): the model changed. */
void nr_ctl_pending_queue(struct nr_ctl *ctl, struct nr_pending *p);

/* Decide queued requests; status from the failures that are theirs. The
 * pass saved the model before it changed the kernel (ctl_save.c), and asked
 * the masquerade job whether it holds them first (nr_ctl_masq_hold). */
void nr_ctl_pending_finish_all(struct nr_ctl *ctl, int status, const char *msg);
void nr_ctl_pending_finish(struct nr_ctl *ctl, struct nr_pending *list,
			   const struct nr_ctl_failure *fails, size_t n_fails,
			   int pass_status, const char *pass_msg);

/* Whether a route to dst failed in the last pass (node state "blocked"). */
bool nr_ctl_route_blocked(const struct nr_ctl *ctl, const struct nr_prefix *dst);

#endif
