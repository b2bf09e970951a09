/* rtnetlink messages → kstate values. Used for dump replies and for single
 * event messages alike (RTM_NEWROUTE/DELROUTE, RTM_NEWNEXTHOP/DELNEXTHOP,
 * RTM_NEWNEIGH/DELNEIGH), so the reconciler decodes events the same way it
 * decodes its start-up dump. Each parser also returns what a kstate value
 * does not hold (table, protocol, type, state) so the caller can decide
 * whether the object is ours. */
#ifndef NR_NETLINK_NL_PARSE_H
#define NR_NETLINK_NL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "core/kstate.h"

struct nr_nl_route_info {
	uint32_t table;
	uint8_t protocol;
	uint8_t type;       /* RTN_UNICAST, RTN_LOCAL, ... */
	uint32_t flags;     /* rtm_flags */
	bool multipath;     /* RTA_MULTIPATH: never one of ours */
};

struct nr_nl_nexthop_info {
	uint8_t protocol;
	bool group;         /* NHA_GROUP / blackhole / fdb: never ours */
};

struct nr_nl_neigh_info {
	uint16_t state;     /* NUD_* */
	uint8_t flags;      /* NTF_* */
};

/* Decode RTM_NEWROUTE/RTM_DELROUTE. For a route using a nexthop object the
 * kernel also reports the nexthop's gateway and device (compat mode); those
 * are dropped so the value compares equal to what we programmed (nh_id
 * only). Returns 0, -EAFNOSUPPORT for families other than IPv4/IPv6 (skip
 * it), -EBADMSG for a malformed or different message. */
int nr_nl_parse_route(const struct nlmsghdr *nlh, struct nr_kroute *r,
		      struct nr_nl_route_info *info);

/* Decode RTM_NEWNEXTHOP/RTM_DELNEXTHOP. A delete event may carry only the
 * id. Returns 0 or -EBADMSG. */
int nr_nl_parse_nexthop(const struct nlmsghdr *nlh, struct nr_knexthop *nh,
			struct nr_nl_nexthop_info *info);

/* Decode an IPv4/IPv6 RTM_NEWNEIGH/RTM_DELNEIGH. Returns 0, -EAFNOSUPPORT
 * for other families (AF_BRIDGE: use nr_nl_parse_fdb), -EBADMSG. */
int nr_nl_parse_neigh(const struct nlmsghdr *nlh, struct nr_kneigh *n,
		      struct nr_nl_neigh_info *info);

/* Decode an AF_BRIDGE RTM_NEWNEIGH/RTM_DELNEIGH (one MAC → one remote).
 * Returns 0, -EAFNOSUPPORT for other families, -EBADMSG. */
int nr_nl_parse_fdb(const struct nlmsghdr *nlh, struct nr_kfdb *f,
		    struct nr_nl_neigh_info *info);

#endif
