/* The eBPF map entries a plan calls for, as plain values (no I/O): how a
 * planned kernel route becomes a `routes` entry and a local endpoint's
 * route an `endpoints` entry (layouts: include/nativeroute/bpf.h), sorted so
 * two sets diff with one merge walk, exactly like nr_kstate. */
#ifndef NR_BPF_BPF_ENTRIES_H
#define NR_BPF_BPF_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nativeroute/bpf.h"

#include "core/kstate.h"
#include "util/addr.h"

struct nr_bpf_route_entry {
	struct nr_bpf_route_key key;
	struct nr_bpf_route_val val;
};

struct nr_bpf_ep_entry {
	struct nr_bpf_endpoint_key key;
	struct nr_bpf_endpoint_val val;
};

struct nr_bpf_entries {
	struct nr_bpf_route_entry *routes; size_t n_routes;
	struct nr_bpf_ep_entry *eps;       size_t n_eps;
};

/* Keys from addresses and prefixes (pad bytes zero). */
void nr_bpf_route_key_make(const struct nr_prefix *p, struct nr_bpf_route_key *k);
void nr_bpf_ep_key_make(const struct nr_addr *a, struct nr_bpf_endpoint_key *k);
/* And back, for messages. */
void nr_bpf_route_key_prefix(const struct nr_bpf_route_key *k, struct nr_prefix *p);

/* The `routes` entry of planned route r (looking up its nexthop, neighbour
 * and FDB entry in the plan `ks`, which is sorted). Returns false when r
 * cannot be described (a nexthop or tunnel entry missing from the plan). */
bool nr_bpf_route_from_kroute(const struct nr_kstate *ks, const struct nr_kroute *r,
			      struct nr_bpf_route_entry *out);
/* The `endpoints` entry of an endpoint route (kind NR_ROUTE_ENDPOINT);
 * MACs zero: they come from the kernel (see bpf_sync.c). */
bool nr_bpf_ep_from_kroute(const struct nr_kroute *r, struct nr_bpf_ep_entry *out);

/* Every entry of a plan, sorted. -ENOMEM (out freed). */
int nr_bpf_entries_from_kstate(const struct nr_kstate *ks, struct nr_bpf_entries *out);

/* A kernel operation of a pass that failed: a route's prefix (family 0:
 * none) or a nexthop id (0: none). The maps must mirror what the kernel
 * really has - an entry for a route the kernel refused would let the fast
 * path forward where the kernel does not - so a route refused, or using a
 * refused nexthop, has no entry (the kernel stack decides for it) until a
 * later pass programs it. */
struct nr_bpf_refusal {
	struct nr_prefix dst;
	uint32_t nh_id;
};

/* Whether planned route r is refused by one of rf[0..n). */
bool nr_bpf_route_refused(const struct nr_kroute *r, const struct nr_bpf_refusal *rf, size_t n);
/* nr_bpf_entries_from_kstate without the routes rf refuses (and their
 * endpoints). -ENOMEM (out freed). */
int nr_bpf_entries_programmed(const struct nr_kstate *ks, const struct nr_bpf_refusal *rf,
			      size_t n, struct nr_bpf_entries *out);

int nr_bpf_route_entry_cmp(const struct nr_bpf_route_entry *a, const struct nr_bpf_route_entry *b);
int nr_bpf_ep_entry_cmp(const struct nr_bpf_ep_entry *a, const struct nr_bpf_ep_entry *b);
void nr_bpf_entries_sort(struct nr_bpf_entries *e);
void nr_bpf_entries_free(struct nr_bpf_entries *e);
int nr_bpf_entries_copy(const struct nr_bpf_entries *src, struct nr_bpf_entries *dst);

/* Sorted insert / overwrite, and removal by key (for per-change upkeep). */
int nr_bpf_entries_put_route(struct nr_bpf_entries *e, const struct nr_bpf_route_entry *r);
int nr_bpf_entries_put_ep(struct nr_bpf_entries *e, const struct nr_bpf_ep_entry *x);
void nr_bpf_entries_del_route(struct nr_bpf_entries *e, const struct nr_bpf_route_key *k);
void nr_bpf_entries_del_ep(struct nr_bpf_entries *e, const struct nr_bpf_endpoint_key *k);
const struct nr_bpf_route_entry *nr_bpf_entries_find_route(const struct nr_bpf_entries *e,
							   const struct nr_bpf_route_key *k);
const struct nr_bpf_ep_entry *nr_bpf_entries_find_ep(const struct nr_bpf_entries *e,
						     const struct nr_bpf_endpoint_key *k);

/* What a diff found: entries to write (missing or different) and keys to
 * delete; counted per map. */
struct nr_bpf_diff {
	struct nr_bpf_route_entry *put_routes; size_t n_put_routes;
	struct nr_bpf_route_key *del_routes;   size_t n_del_routes;
	struct nr_bpf_ep_entry *put_eps;       size_t n_put_eps;
	struct nr_bpf_endpoint_key *del_eps;   size_t n_del_eps;
};

/* want vs have, both sorted. -ENOMEM. */
int nr_bpf_diff(const struct nr_bpf_entries *want, const struct nr_bpf_entries *have,
		struct nr_bpf_diff *out);
void nr_bpf_diff_free(struct nr_bpf_diff *d);

#endif
