/* The tc fast path ("Host Routing: BPF"): the program (nr_fast.bpf.c,
 * loaded through its bpftool skeleton with the pinned maps reused) and
 * its clsact attachments on every pod's host-side device and on the
 * underlay devices, kept in step with the plan like the maps. */
#ifndef NR_BPF_BPF_TC_H
#define NR_BPF_BPF_TC_H

#include <stdbool.h>

#include "util/err.h"

struct nr_ctl;

/* Load (once) and attach/detach so the attachments match ctl->desired. */
int nr_bpf_tc_sync(struct nr_ctl *ctl, bool full, struct nr_err *err);
/* Why the fast path is not attached (for the status). */
const char *nr_bpf_tc_reason(struct nr_ctl *ctl);
/* Detach our filters from every link of the namespace. */
int nr_bpf_tc_purge(struct nr_ctl *ctl, struct nr_err *err);
void nr_bpf_tc_free(struct nr_ctl *ctl);

#endif
