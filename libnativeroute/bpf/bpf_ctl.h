/* The controller's eBPF state (one per nr_ctl, NR_WITH_BPF builds only):
 * the pinned maps, the record of what they hold, the MACs of pod links and
 * why the fast path is off when it is. Used by bpf_ctl.c only; the
 * controller sees the nr_ctl_bpf_* hooks of ctl_internal.h. */
#ifndef NR_BPF_BPF_CTL_H
#define NR_BPF_BPF_CTL_H

#include <stdbool.h>
#include <stdint.h>

#include "bpf/bpf_entries.h"
#include "bpf/bpf_maps.h"

struct nr_bpf_mac {
	uint32_t ifindex;
	uint8_t host[6], pod[6];
};

struct nr_bpf_tc;
struct nr_bpf_tc_job;
struct nr_ctl;

struct nr_bpf {
	bool enabled;           /* asked for (option / --bpf) */
	bool maps_ok;           /* maps open and programmed */
	char reason[128];       /* why host routing is Legacy */
	char instance[256];
	struct nr_bpf_maps maps;
	struct nr_bpf_entries record; /* what the maps hold, as far as we know */
	bool record_valid;      /* false: read the maps before the next diff */
	struct nr_bpf_mac *macs; size_t n_macs;
	struct nr_bpf_tc *tc;   /* the fast path (bpf_tc.c); NULL = not loaded */
	char tc_reason[128];    /* why it is not (bpf_tc.c) */
	bool tc_failed;         /* loading failed: no retry every pass */
	int netns_fd;           /* the controller's namespace, for the tc job */
	struct nr_bpf_tc_job *tc_job; /* attaching off the loop (bpf_tc.c) */
	void (*synced)(struct nr_ctl *ctl); /* the pass waiting for it */
	void (*closed)(struct nr_ctl *ctl); /* a close waiting for it */
	uint64_t repairs;
};

#endif
