/* Text names of the fast path's verdicts (enum nr_bpf_verdict), as RPC
 * `status` shows them. Header only: the RPC layer and the client use it in
 * builds without eBPF too. */
#ifndef NR_BPF_BPF_NAMES_H
#define NR_BPF_BPF_NAMES_H

#include "nativeroute/bpf.h"

static const char *const nr_bpf_verdict_names[NR_BPF_VERDICTS] = NR_BPF_VERDICT_NAMES;

#endif
