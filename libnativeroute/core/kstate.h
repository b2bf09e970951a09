/* Kernel objects as plain values: what the planner wants (desired state) and
 * what a netlink dump finds (observed state). The reconciler diffs two
 * nr_kstate values and the netlink layer encodes/decodes single objects.
 * Nothing here does I/O. Arrays are kept sorted by the *_cmp_key functions so
 * two states can be diffed with one merge pass. */
#ifndef NR_CORE_KSTATE_H
#define NR_CORE_KSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

/* Nexthop ids are global in a netns; ours live in one range so that they
 * cannot collide with ids other software picks from 1 upwards. id =
 * NR_NH_ID_BASE + node_index * 2 + (family == AF_INET6). */
#define NR_NH_ID_BASE 0x10000000u

enum nr_route_kind {
	NR_ROUTE_NATIVE = 1, /* remote pod CIDR via the remote node IP, src local node IP */
	NR_ROUTE_TUNNEL = 2, /* remote pod CIDR via the remote VTEP, onlink, dev nr_vxlan, mtu */
	NR_ROUTE_ENDPOINT = 3, /* local pod /32 or /128, scope link, dev host-side veth */
};

struct nr_knexthop {
	uint32_t id;
	struct nr_addr gw;
	uint32_t ifindex;
	bool onlink;
};

struct nr_kroute {
	struct nr_prefix dst;   /* key (with the table) */
	uint8_t kind;           /* enum nr_route_kind; 0 when observed and unknown */
	uint8_t scope;          /* RT_SCOPE_UNIVERSE (0) or RT_SCOPE_LINK (253) */
	bool onlink;            /* RTNH_F_ONLINK, classic routes only */
	uint32_t nh_id;         /* nexthop object, or 0 for a classic route */
	struct nr_addr gw;      /* classic gateway when nh_id == 0; family 0 = none */
	uint32_t ifindex;       /* output device when nh_id == 0 */
	struct nr_addr src;     /* preferred source (RTA_PREFSRC); family 0 = none */
	uint32_t mtu;           /* RTAX_MTU, 0 = none (only tunnelled routes have one) */
};

/* A permanent neighbour entry (the remote VTEP's address → its MAC) on the
 * VXLAN device, so tunnelled routes never wait for ARP over the tunnel. */
struct nr_kneigh {
	struct nr_addr ip;
	uint8_t mac[6];
	uint32_t ifindex;
};

/* A VXLAN forwarding entry: remote VTEP MAC → remote node IP (underlay). */
struct nr_kfdb {
	uint8_t mac[6];
	struct nr_addr dst;
	uint32_t ifindex;
};

struct nr_kstate {
	struct nr_knexthop *nexthops; size_t n_nexthops;
	struct nr_kroute *routes;     size_t n_routes;
	struct nr_kneigh *neighs;     size_t n_neighs;
	struct nr_kfdb *fdbs;         size_t n_fdbs;
};

/* Sort keys: nexthops by id, routes by dst, neighs by (ifindex, ip), fdbs by
 * (ifindex, mac). Return <0, 0, >0. */
int nr_knexthop_cmp_key(const struct nr_knexthop *a, const struct nr_knexthop *b);
int nr_kroute_cmp_key(const struct nr_kroute *a, const struct nr_kroute *b);
int nr_kneigh_cmp_key(const struct nr_kneigh *a, const struct nr_kneigh *b);
int nr_kfdb_cmp_key(const struct nr_kfdb *a, const struct nr_kfdb *b);

/* Whether two objects with the same key also agree on every field we
 * program, i.e. whether the kernel copy needs replacing. `kind` is ignored
 * (the kernel does not store it). */
bool nr_knexthop_same(const struct nr_knexthop *a, const struct nr_knexthop *b);
bool nr_kroute_same(const struct nr_kroute *a, const struct nr_kroute *b);
bool nr_kneigh_same(const struct nr_kneigh *a, const struct nr_kneigh *b);
bool nr_kfdb_same(const struct nr_kfdb *a, const struct nr_kfdb *b);

/* Sort all four arrays by key. */
void nr_kstate_sort(struct nr_kstate *s);
/* Free the arrays and zero the struct. NULL is fine. */
void nr_kstate_free(struct nr_kstate *s);

/* The MAC our VXLAN device uses on a node, derived from the node's underlay
 * IP so every node can compute every other node's VTEP MAC without an
 * exchange: 02:4e + the four IPv4 bytes (IPv6: a hash of the address). */
void nr_vtep_mac(const struct nr_addr *node_ip, uint8_t mac[6]);

#endif
