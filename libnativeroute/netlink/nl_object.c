#include "netlink/nl_object.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#define OBJ_STR_MAX NR_NL_OBJECT_STRLEN

static bool family_ok(uint8_t family)
{
	return family == AF_INET || family == AF_INET6;
}

static int check_nexthop(const struct nr_knexthop *nh, enum nr_nl_op op,
			 const char *name, struct nr_err *err)
{
	if (nh->id == 0)
		return nr_err_set(err, -EINVAL, "%s: nexthop id 0 is reserved", name);
	if (op == NR_NL_DELETE)
		return 0;
	if (nh->gw.family && !family_ok(nh->gw.family))
		return nr_err_set(err, -EAFNOSUPPORT, "%s: unknown gateway family %u",
				  name, nh->gw.family);
	if (!nh->ifindex)
		return nr_err_set(err, -EINVAL, "%s: needs an output device", name);
	return 0;
}

static int check_route_nh(const struct nr_kroute *r, const char *name,
			  struct nr_err *err)
{
	if (r->nh_id && (r->gw.family || r->ifindex))
		return nr_err_set(err, -EINVAL,
				  "%s: nexthop id and gateway/device are exclusive", name);
	if (!r->nh_id && !r->gw.family && !r->ifindex)
		return nr_err_set(err, -EINVAL, "%s: needs a nexthop id, gateway or device",
				  name);
	if (r->gw.family && r->gw.family != r->dst.addr.family)
		return nr_err_set(err, -EAFNOSUPPORT,
				  "%s: gateway family differs from destination", name);
	return 0;
}

static int check_route(const struct nr_kroute *r, enum nr_nl_op op,
		       const char *name, struct nr_err *err)
{
	if (!family_ok(r->dst.addr.family))
		return nr_err_set(err, -EAFNOSUPPORT, "%s: unknown destination family %u",
				  name, r->dst.addr.family);
	if (r->dst.len > nr_addr_bits(r->dst.addr.family))
		return nr_err_set(err, -EINVAL, "%s: prefix length %u too long", name,
				  r->dst.len);
	if (op == NR_NL_DELETE)
		return 0;
	if (r->src.family && r->src.family != r->dst.addr.family)
		return nr_err_set(err, -EAFNOSUPPORT,
				  "%s: source family differs from destination", name);
	return check_route_nh(r, name, err);
}

static int check_neigh(const struct nr_kneigh *n, const char *name,
		       struct nr_err *err)
{
	if (!family_ok(n->ip.family))
		return nr_err_set(err, -EAFNOSUPPORT, "%s: unknown address family %u",
				  name, n->ip.family);
	if (!n->ifindex)
		return nr_err_set(err, -EINVAL, "%s: needs a device", name);
	return 0;
}

static int check_fdb(const struct nr_kfdb *f, const char *name,
		     struct nr_err *err)
{
	if (!family_ok(f->dst.family))
		return nr_err_set(err, -EAFNOSUPPORT, "%s: unknown destination family %u",
				  name, f->dst.family);
	if (!f->ifindex)
		return nr_err_set(err, -EINVAL, "%s: needs a device", name);
	return 0;
}

static bool op_ok(enum nr_nl_kind kind, enum nr_nl_op op)
{
	if (op == NR_NL_APPEND)
		return kind == NR_NL_FDB;
	return op == NR_NL_ADD || op == NR_NL_REPLACE || op == NR_NL_DELETE;
}

static int object_check(const struct nr_nl_object *obj, enum nr_nl_op op, const char *name,
			struct nr_err *err)
{
	if (!op_ok(obj->kind, op))
		return nr_err_set(err, -EINVAL, "%s: operation %d not supported", name, op);
	switch (obj->kind) {
	case NR_NL_NEXTHOP:
		return check_nexthop(&obj->u.nh, op, name, err);
	case NR_NL_ROUTE:
		return check_route(&obj->u.route, op, name, err);
	case NR_NL_NEIGH:
		return check_neigh(&obj->u.neigh, name, err);
	case NR_NL_FDB:
		return check_fdb(&obj->u.fdb, name, err);
	}
	return nr_err_set(err, -EINVAL, "unknown object kind %d", obj->kind);
}

/* Checked without a name first: naming every object of a 10,000-route
 * batch (printf of its addresses) only to throw the text away cost more
 * than the rest of queueing it. */
int nr_nl_object_check(const struct nr_nl_object *obj, enum nr_nl_op op,
		       struct nr_err *err)
{
	char name[OBJ_STR_MAX];

	if (object_check(obj, op, "", NULL) == 0)
		return 0;
	nr_nl_object_str(obj, op, NULL, name, sizeof(name));
	return object_check(obj, op, name, err);
}

/* snprintf that appends and never overruns: returns the new length. */
static size_t str_add(char *buf, size_t len, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t str_add(char *buf, size_t len, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (at >= len)
		return at;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

static size_t str_mac(char *buf, size_t len, size_t at, const uint8_t m[6])
{
	return str_add(buf, len, at, "%02x:%02x:%02x:%02x:%02x:%02x",
		       m[0], m[1], m[2], m[3], m[4], m[5]);
}

static size_t str_nexthop(char *buf, size_t len, size_t at,
			  const struct nr_knexthop *nh)
{
	char a[NR_ADDR_STRLEN];

	at = str_add(buf, len, at, "nexthop %u", nh->id);
	if (nh->gw.family)
		at = str_add(buf, len, at, " via %s", nr_addr_str(&nh->gw, a, sizeof(a)));
	if (nh->ifindex)
		at = str_add(buf, len, at, " oif %u", nh->ifindex);
	return nh->onlink ? str_add(buf, len, at, " onlink") : at;
}

static size_t str_route(char *buf, size_t len, size_t at,
			const struct nr_kroute *r, const struct nr_knexthop *nh)
{
	char a[NR_ADDR_STRLEN];

	at = str_add(buf, len, at, "route %s", nr_prefix_str(&r->dst, a, sizeof(a)));
	if (r->gw.family)
		at = str_add(buf, len, at, " via %s", nr_addr_str(&r->gw, a, sizeof(a)));
	else if (nh && nh->gw.family)
		at = str_add(buf, len, at, " via %s", nr_addr_str(&nh->gw, a, sizeof(a)));
	if (r->nh_id)
		at = str_add(buf, len, at, " nhid %u", r->nh_id);
	if (r->ifindex)
		at = str_add(buf, len, at, " oif %u", r->ifindex);
	if (r->src.family)
		at = str_add(buf, len, at, " src %s", nr_addr_str(&r->src, a, sizeof(a)));
	if (r->scope)
		at = str_add(buf, len, at, " scope %u", r->scope);
	if (r->onlink)
		at = str_add(buf, len, at, " onlink");
	return r->mtu ? str_add(buf, len, at, " mtu %u", r->mtu) : at;
}

static size_t str_neigh(char *buf, size_t len, size_t at, const struct nr_kneigh *n)
{
	char a[NR_ADDR_STRLEN];

	at = str_add(buf, len, at, "neigh %s lladdr ", nr_addr_str(&n->ip, a, sizeof(a)));
	at = str_mac(buf, len, at, n->mac);
	return str_add(buf, len, at, " oif %u", n->ifindex);
}

static size_t str_fdb(char *buf, size_t len, size_t at, const struct nr_kfdb *f)
{
	char a[NR_ADDR_STRLEN];

	at = str_add(buf, len, at, "fdb ");
	at = str_mac(buf, len, at, f->mac);
	if (f->dst.family)
		at = str_add(buf, len, at, " dst %s", nr_addr_str(&f->dst, a, sizeof(a)));
	return str_add(buf, len, at, " oif %u", f->ifindex);
}

const char *nr_nl_object_str(const struct nr_nl_object *obj, enum nr_nl_op op,
			     const struct nr_knexthop *nh, char *buf, size_t len)
{
	size_t at = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (op == NR_NL_DELETE)
		at = str_add(buf, len, at, "delete ");
	switch (obj->kind) {
	case NR_NL_NEXTHOP:
		str_nexthop(buf, len, at, &obj->u.nh);
		break;
	case NR_NL_ROUTE:
		str_route(buf, len, at, &obj->u.route, nh);
		break;
	case NR_NL_NEIGH:
		str_neigh(buf, len, at, &obj->u.neigh);
		break;
	case NR_NL_FDB:
		str_fdb(buf, len, at, &obj->u.fdb);
		break;
	}
	return buf;
}
