/* The nr_ctl_bpf_* hooks of a build without NR_WITH_BPF: routes alone,
 * and the status says why. */
#include <stdio.h>

#include "ctl/ctl_internal.h"

void nr_ctl_bpf_setup(struct nr_ctl *ctl, bool enabled)
{
	(void)ctl;
	(void)enabled;
}

bool nr_ctl_bpf_sync(struct nr_ctl *ctl, bool full, bool dumped,
		     const struct nr_ctl_failure *fails, size_t n_fails,
		     void (*synced)(struct nr_ctl *ctl))
{
	(void)ctl;
	(void)full;
	(void)dumped;
	(void)fails;
	(void)n_fails;
	(void)synced;
	return false;
}

bool nr_ctl_bpf_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	(void)ctl;
	(void)done;
	return false;
}

int nr_ctl_bpf_purge(struct nr_ctl *ctl, struct nr_err *err)
{
	(void)ctl;
	(void)err;
	return 0;
}

void nr_ctl_bpf_status(struct nr_ctl *ctl, struct nr_status *s)
{
	(void)ctl;
	snprintf(s->host_routing_reason, sizeof(s->host_routing_reason),
		 "built without eBPF support (NR_WITH_BPF=OFF)");
}

void nr_ctl_bpf_free(struct nr_ctl *ctl)
{
	(void)ctl;
}
