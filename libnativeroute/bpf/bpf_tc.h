/* The tc fast path ("Host Routing: BPF"): the program (nr_fast.bpf.c,
 * loaded through its bpftool skeleton with the pinned maps reused) and
 * its clsact attachments on every pod's host-side device and on the
 * underlay devices, kept in step with the plan like the maps. */
#ifndef NR_BPF_BPF_TC_H
#define NR_BPF_BPF_TC_H

#include <stdbool.h>

#include <uv.h>

#include "util/err.h"

struct nr_ctl;

/* What a finished sync reports: rc 0, or < 0 with the reason in err. A
 * callback (the layer above, bpf_ctl.c); it runs last, from the loop. */
typedef void (*nr_bpf_tc_done_fn)(struct nr_ctl *ctl, int rc, const struct nr_err *err);

/* Load (once) and attach/detach so the attachments match ctl->desired.
 * The kernel work (the verifier, clsact qdiscs, tc filters: RTNL, each
 * call can stall for milliseconds) runs on libuv's thread pool, on a
 * helper thread inside the controller's namespace; the attachments wanted
 * are taken from ctl->desired now. Returns 1: a job runs, done() follows
 * from the loop once the kernel has the filters (or failed); 0: nothing to
 * do (in line already, or the program could not be loaded: the status
 * says why), done() does not run; < 0: nothing started, err says why. One
 * job at a time (the caller waits for done()). */
int nr_bpf_tc_sync(struct nr_ctl *ctl, bool full, nr_bpf_tc_done_fn done, struct nr_err *err);
/* A job is running (close and purge wait for it). */
bool nr_bpf_tc_busy(struct nr_ctl *ctl);
/* Why the fast path is not attached (for the status). */
const char *nr_bpf_tc_reason(struct nr_ctl *ctl);
/* Detach our filters from every link of the namespace. */
int nr_bpf_tc_purge(struct nr_ctl *ctl, struct nr_err *err);
void nr_bpf_tc_free(struct nr_ctl *ctl);

#endif
