#include "bpf/bpf_tc.h"

#include "bpf/bpf_ctl.h"
#include "ctl/ctl_internal.h"

int nr_bpf_tc_sync(struct nr_ctl *ctl, bool full, struct nr_err *err)
{
	(void)ctl;
	(void)full;
	(void)err;
	return 0;
}

const char *nr_bpf_tc_reason(struct nr_ctl *ctl)
{
	(void)ctl;
	return "maps only: the tc fast path is not part of this build yet";
}

int nr_bpf_tc_purge(struct nr_ctl *ctl, struct nr_err *err)
{
	(void)ctl;
	(void)err;
	return 0;
}

void nr_bpf_tc_free(struct nr_ctl *ctl)
{
	(void)ctl;
}
