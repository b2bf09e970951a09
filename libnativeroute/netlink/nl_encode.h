/* kstate values → rtnetlink request messages. Pure functions over a caller's
 * buffer, so the batch can write straight into its sendmsg buffer. Input
 * must have passed nr_nl_object_check. */
#ifndef NR_NETLINK_NL_ENCODE_H
#define NR_NETLINK_NL_ENCODE_H

#include <stdint.h>

#include <linux/netlink.h>

#include "netlink/nl_object.h"

/* Upper bound of one encoded message (a v6 route with every attribute is
 * about 140 bytes). `buf` must have this much room. */
#define NR_NL_MSG_MAX 256

/* Where our objects live: the route table and the protocol stamped on
 * routes (rtm_protocol) and nexthops (nh_protocol), so that dumps and
 * deletes find only ours. */
struct nr_nl_owner {
	uint32_t table;
	uint8_t protocol;
};

/* Encode `op` on `obj` into buf with NLM_F_REQUEST|NLM_F_ACK and the
 * create/replace/append flags the op needs; seq is left 0 for the caller.
 * Deletes of routes carry our protocol, so the kernel itself refuses to
 * delete a same-prefix route that someone else owns.
 * Kernel semantics to keep in mind above this layer: a route REPLACE
 * overwrites whatever route has the same table, prefix, tos and metric,
 * whatever its protocol (so check for a foreign route on that prefix before
 * replacing), and deleting a nexthop object also deletes every route that
 * uses it. */
struct nlmsghdr *nr_nl_encode(void *buf, const struct nr_nl_object *obj,
			      enum nr_nl_op op, const struct nr_nl_owner *owner);

#endif
