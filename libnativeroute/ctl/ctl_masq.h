/* Masquerading in the controller (ctl_masq.c): the nftables table "inet
 * nativeroute" is planned from the model at the end of every reconcile
 * pass, like routes, and brought in line off the loop (libuv's thread pool,
 * a thread inside the controller's namespace). The callbacks of the pass
 * wait for it, so an acknowledged start or change means the table is there;
 * a failure reaches start and mode requests and is retried.
 * Hooks, each one line where it sits:
 *   ctl_life.c      nr_ctl_masq_check_opts before any side effect,
 *                   nr_ctl_masq_new / nr_ctl_masq_free, the event handle,
 *                   cancel at close
 *   ctl_reconcile.c nr_ctl_masq_pass at the end of a pass
 *   ctl_reconcile.c nr_ctl_masq_hold before nr_ctl_pending_finish
 *   ctl_purge.c     nr_ctl_masq_purge before the rest of the purge
 *   ctl_query.c     nr_ctl_masq_status */
#ifndef NR_CTL_MASQ_H
#define NR_CTL_MASQ_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl/ctl_internal.h"

/* Check the masquerade options against the cluster configuration of the
 * options, with no side effect (nr_ctl_new calls it before it creates or
 * opens anything). Errors: -EINVAL naming the value. */
int nr_ctl_masq_check_opts(const struct nr_ctl_opts *o, const struct nr_cluster_config *cfg,
			   struct nr_err *err);
/* Read the masquerade options (after the model exists) and open a handle on
 * the namespace. Errors: -EINVAL naming the value, -errno of open. */
int nr_ctl_masq_new(struct nr_ctl *ctl, const struct nr_ctl_opts *o, struct nr_err *err);
/* A job still running is left to finish and free itself. */
void nr_ctl_masq_free(struct nr_ctl *ctl);

/* End of a pass: re-plan; start a job when the table must change, or must
 * be looked at (first pass, periodic resync, after a failure, an nftables
 * event). */
void nr_ctl_masq_pass(struct nr_ctl *ctl);

/* From the pass, before nr_ctl_pending_finish: while a job runs, keep the
 * pass's requests (with its failures) and answer them (nr_ctl_pending_finish)
 * when it is done. True = kept; false = the pass answers them now. */
bool nr_ctl_masq_hold(struct nr_ctl *ctl, struct nr_pending *list,
		      const struct nr_ctl_failure *fails, size_t n_fails,
		      int status, const char *msg);

/* Answer every kept request with -ECANCELED (close, purge). */
void nr_ctl_masq_cancel(struct nr_ctl *ctl, const char *msg);

/* Delete our table (if any), then call then(ctl, status, msg) from the
 * loop (before this returns only when the job cannot even start). */
void nr_ctl_masq_purge(struct nr_ctl *ctl,
		       void (*then)(struct nr_ctl *ctl, int status, const char *msg));

/* Look at the kernel's table soon (an nftables event touched it). */
void nr_ctl_masq_recheck(struct nr_ctl *ctl);

/* nftables events (ctl_masq_watch.c), when the namespace offers them.
 * nr_ctl_new starts the handle (returns the number of handles started, to
 * count in open_handles), nr_ctl_close closes it with the controller's
 * close callback (the handle's data is the controller). */
int nr_ctl_masq_watch_start(struct nr_ctl *ctl);
int nr_ctl_masq_close(struct nr_ctl *ctl, uv_close_cb cb);

struct nr_masq_watch;
int nr_masq_watch_open(int netns_fd, const char *table, struct nr_masq_watch **ret,
		       struct nr_err *err);
/* changed(ctl) runs when an event may be about our table (a callback:
 * ctl_masq.c is the layer above, see ctl_internal.h). */
int nr_masq_watch_start(struct nr_masq_watch *w, uv_loop_t *loop, struct nr_ctl *ctl,
			void (*changed)(struct nr_ctl *ctl));
void nr_masq_watch_stop(struct nr_masq_watch *w);
int nr_masq_watch_close(struct nr_masq_watch *w, uv_close_cb cb);
void nr_masq_watch_free(struct nr_masq_watch *w);

/* Fill the masquerade fields of a status snapshot. */
void nr_ctl_masq_status(struct nr_ctl *ctl, struct nr_status *s);

#endif
