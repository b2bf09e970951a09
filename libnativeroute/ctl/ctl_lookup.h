/* One node by name, handed to fn exactly as nr_ctl_node_foreach hands it.
 * For the daemon's node.get and the node its mutations answer with: a walk
 * of every node per request formatted every node's addresses on the loop
 * (O(nodes) per call; tens of milliseconds at 100,000). Internal, not ABI.
 * Returns 1 when fn ran, 0 when there is no such node, < 0 as the walks
 * (nr_last_errmsg set). */
#ifndef NR_CTL_LOOKUP_H
#define NR_CTL_LOOKUP_H

#include "nativeroute/controller.h"

int nr_ctl_node_lookup(struct nr_ctl *ctl, const char *name, nr_node_fn fn, void *data);

#endif
