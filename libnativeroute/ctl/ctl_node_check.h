/* Checks of a node add/update that need the kernel (ctl_node_check.c):
 * the local node's IPs, and the auto-direct-node-routes reachability,
 * at once or deferred to the next full pass. */
#ifndef NR_CTL_NODE_CHECK_H
#define NR_CTL_NODE_CHECK_H

#include <stdbool.h>

#include "ctl/ctl_internal.h"

/* The local node's IPs must be addresses of a link here (they are the
 * routes' preferred source). Other nodes: 0. */
int nr_ctl_check_local_ips(struct nr_ctl *ctl, const struct nr_node_req *req, struct nr_err *err);
/* The auto-direct-node-routes check of req's IPs; when may_defer and a full
 * pass is due anyway, an answer not known yet is left to it (*defer). */
int nr_ctl_check_direct(struct nr_ctl *ctl, const struct nr_node_req *req, bool may_defer,
			bool *defer, struct nr_err *err);
/* The text of the refusal for ip's answer r (0 when r is direct). */
int nr_ctl_direct_refusal(const char *name, const struct nr_addr *ip, const struct nr_reach *r,
			  struct nr_err *err);
/* In a full pass, before planning: refuse the node adds whose check was
 * deferred (the node leaves the model, its request fails). */
void nr_ctl_deferred_checks(struct nr_ctl *ctl, struct nr_pending *reqs);

#endif
