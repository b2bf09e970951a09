/* The cluster model: configuration, the node table, IPAM and the local
 * node's endpoints, kept consistent with each other. Every change is checked
 * completely before anything is modified, so a refused call changes nothing.
 * Pure: no I/O. Not thread-safe. Pointers returned by lookups stay valid
 * until the object is removed or the model freed. */
#ifndef NR_CORE_MODEL_H
#define NR_CORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/endpoint.h"
#include "core/ipam.h"
#include "core/node.h"
#include "util/err.h"

struct nr_model;

/* `local_node` names this host's node (it may be added later). The config is
 * copied. Errors: -EINVAL (config or name), -ENOMEM. */
int nr_model_new(const struct nr_cluster_config *cfg, const char *local_node,
		 struct nr_model **ret, struct nr_err *err);
/* NULL is fine. */
void nr_model_free(struct nr_model *m);

const struct nr_cluster_config *nr_model_config(const struct nr_model *m);
const char *nr_model_local_name(const struct nr_model *m);
/* Incremented on every successful change; lets callers skip re-planning. */
uint64_t nr_model_generation(const struct nr_model *m);
const struct nr_ipam *nr_model_ipam(const struct nr_model *m);

/* Switch routing mode and the direct-routing flags (IPAM mode and pools are
 * fixed for a model's life). Errors: -EINVAL (the new combination fails
 * nr_config_validate, or it changes ipam mode/pools). */
int nr_model_set_config(struct nr_model *m, const struct nr_cluster_config *cfg,
			struct nr_err *err);

/* Add a node: name DNS-1123; at least one IP, none inside a cluster CIDR or
 * used by another node; CIDRs as given (claimed) or, in cluster-pool mode,
 * allocated for every family that has a pool; the lowest free index.
 * Errors: -EEXIST, -EINVAL, -ENOSPC, -ENOMEM. */
int nr_model_node_add(struct nr_model *m, const struct nr_node_req *spec,
		      const struct nr_node **ret, struct nr_err *err);
/* Re-create a node from saved state with exactly this index and the spec's
 * CIDRs (which must be free). Errors as nr_model_node_add, plus -EEXIST for
 * a taken index and -ERANGE for an index > NR_NODE_INDEX_MAX. */
int nr_model_node_restore(struct nr_model *m, const struct nr_node_req *spec,
			  uint32_t index, const struct nr_node **ret, struct nr_err *err);
/* Replace a node's IPs with the spec's; a CIDR with family 0 keeps the
 * current one (or allocates when there is none), another value moves the
 * node to it. The local node's CIDR cannot change while endpoints use it
 * (-EBUSY). Errors: -ENOENT, and as nr_model_node_add. */
int nr_model_node_update(struct nr_model *m, const struct nr_node_req *spec,
			 const struct nr_node **ret, struct nr_err *err);
/* Remove a node, free its index and CIDRs (remembered for a sticky return).
 * The local node cannot go while it has endpoints (-EBUSY). Errors: -ENOENT. */
int nr_model_node_remove(struct nr_model *m, const char *name, struct nr_err *err);

/* Start loading what a node_add/update of spec will look up first (its
 * name's and IPs' places in the maps): call it early, before other work,
 * so that the cache misses of those lookups overlap it. No effect on m. */
void nr_model_node_prefetch(const struct nr_model *m, const struct nr_node_req *spec);
const struct nr_node *nr_model_node_get(const struct nr_model *m, const char *name);
const struct nr_node *nr_model_node_by_ip(const struct nr_model *m, const struct nr_addr *ip);
const struct nr_node *nr_model_node_by_index(const struct nr_model *m, uint32_t index);
/* NULL until the local node has been added. */
const struct nr_node *nr_model_local_node(const struct nr_model *m);
size_t nr_model_node_count(const struct nr_model *m);
/* How many nodes have no CIDR at all (kept per change: status counts). */
size_t nr_model_nodes_without_cidr(const struct nr_model *m);
/* A journal of the node indexes whose node was added, changed or removed,
 * for a reader that keeps a copy up to date per change (ctl_save.c) instead
 * of walking every node. start: from now on (the reader copies everything
 * once). take: up to max indexes (repeats possible), removed from the
 * journal; *lost when a change could not be recorded (out of memory): then
 * the reader must look at every node again. pending: how many wait. A
 * new model does not journal until started. */
void nr_model_journal_start(struct nr_model *m);
size_t nr_model_journal_take(struct nr_model *m, uint32_t *out, size_t max, bool *lost);
size_t nr_model_journal_pending(const struct nr_model *m);
bool nr_model_journaling(const struct nr_model *m); /* started */
/* The node of the lowest index >= index, NULL when none: a cursor that
 * stays valid while nodes come and go (nr_plan_slices). */
const struct nr_node *nr_model_node_from(const struct nr_model *m, uint32_t index);
/* Ascending node index; prev NULL gives the first. Do not change the model
 * while iterating. */
const struct nr_node *nr_model_node_next(const struct nr_model *m, const struct nr_node *prev);

/* Local endpoints: addresses come from the local node's CIDRs (see
 * core/endpoint.h). Errors: as nr_endpoints_add, plus -ENOENT when the local
 * node is not in the model yet. */
int nr_model_endpoint_add(struct nr_model *m, const struct nr_endpoint_req *spec,
			  const struct nr_endpoint **ret, struct nr_err *err);
int nr_model_endpoint_remove(struct nr_model *m, const char *id, struct nr_err *err);
int nr_model_endpoint_set_ifindex(struct nr_model *m, const char *id, uint32_t ifindex,
				  struct nr_err *err);
const struct nr_endpoint *nr_model_endpoint_get(const struct nr_model *m, const char *id);
const struct nr_endpoint *nr_model_endpoint_next(const struct nr_model *m,
						 const struct nr_endpoint *prev);
size_t nr_model_endpoint_count(const struct nr_model *m);
/* The gateway address local pods use. Errors: -ENOENT. */
int nr_model_gateway(const struct nr_model *m, uint8_t family, struct nr_addr *out);

#endif
