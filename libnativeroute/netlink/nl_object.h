/* The kernel objects we program (core/kstate.h values), seen from the
 * netlink side: which operations exist, whether a value can be sent at all,
 * and how to name it in an error a person reads. */
#ifndef NR_NETLINK_NL_OBJECT_H
#define NR_NETLINK_NL_OBJECT_H

#include <stddef.h>

#include "core/kstate.h"
#include "util/err.h"

enum nr_nl_kind {
	NR_NL_NEXTHOP = 1,
	NR_NL_ROUTE = 2,
	NR_NL_NEIGH = 3,
	NR_NL_FDB = 4,
};

enum nr_nl_op {
	NR_NL_ADD = 1,     /* create; fails with EEXIST if present */
	NR_NL_REPLACE = 2, /* create or overwrite in place (no delete window) */
	NR_NL_DELETE = 3,
	NR_NL_APPEND = 4,  /* FDB only: add one more remote for a MAC */
};

/* One object of any kind, so a batch can hold all four in one array. */
struct nr_nl_object {
	enum nr_nl_kind kind;
	union {
		struct nr_knexthop nh;
		struct nr_kroute route;
		struct nr_kneigh neigh;
		struct nr_kfdb fdb;
	} u;
};

/* Whether `op` on `obj` can be encoded; -EINVAL/-EAFNOSUPPORT with text
 * naming the object otherwise (e.g. a route with both a nexthop id and a
 * gateway, which the kernel refuses anyway but less clearly). */
int nr_nl_object_check(const struct nr_nl_object *obj, enum nr_nl_op op,
		       struct nr_err *err);

/* Room for the longest object text (an IPv6 route with every field). */
#define NR_NL_OBJECT_STRLEN 256

/* "route 10.0.1.0/24 via 192.168.1.11", "nexthop 268435458 via 192.168.1.11
 * oif 2", "neigh 10.1.0.2 lladdr 02:4e:... oif 7", "fdb 02:4e:... dst
 * 192.168.1.11 oif 9"; deletes are prefixed "delete ". `nh`, when not NULL,
 * is the nexthop a route refers to, so its gateway can be named too. */
const char *nr_nl_object_str(const struct nr_nl_object *obj, enum nr_nl_op op,
			     const struct nr_knexthop *nh, char *buf, size_t len);

#endif
