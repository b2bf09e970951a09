/* Address ranges no pod CIDR may touch: a pod CIDR there would route (or
 * take over) the default route, loopback, multicast, link-local or reserved
 * space, e.g. a kubernetes node that announces 0.0.0.0/0 as its pod CIDR
 * would pull the whole Internet towards itself (issue 11, item 10). */
#ifndef NR_CORE_POD_CIDR_H
#define NR_CORE_POD_CIDR_H

#include "util/addr.h"
#include "util/err.h"

/* 0, or -EINVAL naming the CIDR and the range it touches. `what` names the
 * CIDR's role in the message ("pod CIDR", "cluster CIDR"). */
int nr_pod_cidr_check(const struct nr_prefix *cidr, const char *what, struct nr_err *err);

#endif
