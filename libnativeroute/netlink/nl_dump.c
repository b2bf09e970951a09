#include "netlink/nl_dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_parse.h"
#include "netlink/nl_request.h"

/* A dump the kernel flags as interrupted (the table changed under it) is
 * repeated; after this many tries, give up and let the caller resync. */
#define DUMP_TRIES 3

/* A growing array of fixed-size elements, filled by the reply callbacks. */
struct vec {
	void *items;
	size_t n, cap, size;
};

static int vec_push(struct vec *v, const void *item)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *items = realloc(v->items, cap * v->size);

		if (!items) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		v->items = items;
		v->cap = cap;
	}
	memcpy((char *)v->items + v->n++ * v->size, item, v->size);
	return MNL_CB_OK;
}

struct dump_ctx {
	struct vec vec;
	const struct nr_nl_owner *owner;
	uint8_t family;
	uint8_t nh_protocol;
	bool foreign; /* nexthops: those of other protocols instead */
	uint32_t ifindex;
};

/* Run a dump request built by `build`, retrying interrupted dumps, with
 * `cb` collecting into ctx->vec. On failure the vector is freed. */
static int dump_run(struct nr_nl *nl, struct nlmsghdr *(*build)(void *buf,
		    const struct dump_ctx *ctx), nr_nl_reply_cb cb,
		    struct dump_ctx *ctx, const char *what, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX];
	int r = -EINTR;

	for (int i = 0; i < DUMP_TRIES && r == -EINTR; i++) {
		ctx->vec.n = 0;
		r = nr_nl_request(nl, build(buf, ctx), cb, ctx, what, err);
	}
	if (r < 0) {
		free(ctx->vec.items);
		ctx->vec = (struct vec){ .size = ctx->vec.size };
	}
	return r;
}

static struct nlmsghdr *dump_header(void *buf, uint16_t type, size_t extra)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	mnl_nlmsg_put_extra_header(nlh, extra);
	return nlh;
}

static int vec_push_all(struct vec *v, const struct vec *more)
{
	for (size_t i = 0; i < more->n; i++)
		if (vec_push(v, (const char *)more->items + i * more->size) != MNL_CB_OK)
			return -ENOMEM;
	return 0;
}

/* ---- routes ---------------------------------------------------------- */

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nr_nl_route_info info;
	struct nr_kroute r;

	if (nr_nl_parse_route(nlh, &r, &info) < 0)
		return MNL_CB_OK; /* other families, or nothing we can hold */
	/* The kernel filters too (strict checking), but old kernels ignore the
	 * filter, so check again. */
	if (info.table != ctx->owner->table || info.protocol != ctx->owner->protocol ||
	    info.type != RTN_UNICAST || info.multipath || (info.flags & RTM_F_CLONED))
		return MNL_CB_OK;
	return vec_push(&ctx->vec, &r);
}

static struct nlmsghdr *route_build(void *buf, const struct dump_ctx *ctx)
{
	struct nlmsghdr *nlh = dump_header(buf, RTM_GETROUTE, sizeof(struct rtmsg));
	struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	rtm->rtm_family = ctx->family;
	rtm->rtm_protocol = ctx->owner->protocol;
	rtm->rtm_table = ctx->owner->table < 256 ? (uint8_t)ctx->owner->table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, RTA_TABLE, ctx->owner->table);
	return nlh;
}

/* Per family: an AF_UNSPEC dump would also ask MPLS and multicast routing,
 * which may refuse our filter and end the whole dump. */
static int dump_routes_family(struct nr_nl *nl, struct dump_ctx *ctx,
			      struct nr_err *err)
{
	char what[64];
	int r;

	snprintf(what, sizeof(what), "dump %s routes of table %u",
		 ctx->family == AF_INET ? "IPv4" : "IPv6", ctx->owner->table);
	r = dump_run(nl, route_build, route_cb, ctx, what, err);
	/* The table is created with its first route. */
	if (r == -ENOENT)
		r = 0;
	return r;
}

int nr_nl_dump_routes(struct nr_nl *nl, const struct nr_nl_owner *owner,
		      struct nr_kroute **routes, size_t *n, struct nr_err *err)
{
	struct dump_ctx v4 = { .vec.size = sizeof(struct nr_kroute), .owner = owner,
			       .family = AF_INET };
	struct dump_ctx v6 = v4;
	int r;

	v6.family = AF_INET6;
	r = dump_routes_family(nl, &v4, err);
	if (r == 0)
		r = dump_routes_family(nl, &v6, err);
	if (r == 0 && v6.vec.n)
		r = vec_push_all(&v4.vec, &v6.vec);
	free(v6.vec.items);
	if (r < 0) {
		free(v4.vec.items);
		return r == -ENOMEM ? nr_err_set(err, r, "dump routes: out of memory") : r;
	}
	*routes = v4.vec.items;
	*n = v4.vec.n;
	return 0;
}

/* ---- nexthops -------------------------------------------------------- */

static int nexthop_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nr_nl_nexthop_info info;
	struct nr_knexthop nh;

	if (nr_nl_parse_nexthop(nlh, &nh, &info) < 0 || info.group)
		return MNL_CB_OK;
	if ((info.protocol != ctx->nh_protocol) != ctx->foreign)
		return MNL_CB_OK;
	return vec_push(&ctx->vec, &nh);
}

static struct nlmsghdr *nexthop_build(void *buf, const struct dump_ctx *ctx)
{
	/* Strict checking refuses any filter in the nhmsg header itself. */
	return dump_header(buf, RTM_GETNEXTHOP, sizeof(struct nhmsg));
}

int nr_nl_dump_nexthops(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
			size_t *n, struct nr_err *err)
{
	struct dump_ctx ctx = { .vec.size = sizeof(**nhs), .nh_protocol = protocol };
	int r = dump_run(nl, nexthop_build, nexthop_cb, &ctx, "dump nexthops", err);

	if (r < 0)
		return r;
	*nhs = ctx.vec.items;
	*n = ctx.vec.n;
	return 0;
}

int nr_nl_dump_nexthops_foreign(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
				size_t *n, struct nr_err *err)
{
	struct dump_ctx ctx = { .vec.size = sizeof(**nhs), .nh_protocol = protocol, .foreign = true };
	int r = dump_run(nl, nexthop_build, nexthop_cb, &ctx, "dump nexthops", err);

	if (r < 0)
		return r;
	*nhs = ctx.vec.items;
	*n = ctx.vec.n;
	return 0;
}

/* ---- neighbours and FDB ---------------------------------------------- */

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nr_nl_neigh_info info;
	struct nr_kneigh n;

	if (nr_nl_parse_neigh(nlh, &n, &info) < 0 || n.ifindex != ctx->ifindex ||
	    !(info.state & NUD_PERMANENT))
		return MNL_CB_OK;
	return vec_push(&ctx->vec, &n);
}

static int fdb_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	struct nr_nl_neigh_info info;
	struct nr_kfdb f;

	if (nr_nl_parse_fdb(nlh, &f, &info) < 0 || f.ifindex != ctx->ifindex ||
	    !(info.state & NUD_PERMANENT))
		return MNL_CB_OK;
	return vec_push(&ctx->vec, &f);
}

static struct nlmsghdr *neigh_build(void *buf, const struct dump_ctx *ctx)
{
	struct nlmsghdr *nlh = dump_header(buf, RTM_GETNEIGH, sizeof(struct ndmsg));
	struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	ndm->ndm_family = ctx->family;
	if (ctx->family == AF_BRIDGE)
		ndm->ndm_ifindex = (int)ctx->ifindex; /* the FDB's port filter */
	else
		mnl_attr_put_u32(nlh, NDA_IFINDEX, ctx->ifindex);
	return nlh;
}

int nr_nl_dump_neighs(struct nr_nl *nl, uint32_t ifindex,
		      struct nr_kneigh **neighs, size_t *n, struct nr_err *err)
{
	struct dump_ctx ctx = { .vec.size = sizeof(**neighs), .family = AF_UNSPEC,
				.ifindex = ifindex };
	int r = dump_run(nl, neigh_build, neigh_cb, &ctx, "dump neighbours", err);

	if (r < 0)
		return r;
	*neighs = ctx.vec.items;
	*n = ctx.vec.n;
	return 0;
}

int nr_nl_dump_fdbs(struct nr_nl *nl, uint32_t ifindex, struct nr_kfdb **fdbs,
		    size_t *n, struct nr_err *err)
{
	struct dump_ctx ctx = { .vec.size = sizeof(**fdbs), .family = AF_BRIDGE,
				.ifindex = ifindex };
	int r = dump_run(nl, neigh_build, fdb_cb, &ctx, "dump fdb", err);

	if (r < 0)
		return r;
	*fdbs = ctx.vec.items;
	*n = ctx.vec.n;
	return 0;
}

/* ---- everything ------------------------------------------------------ */

int nr_nl_dump_kstate(struct nr_nl *nl, const struct nr_nl_dump_filter *f,
		      struct nr_kstate *out, struct nr_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = nr_nl_dump_nexthops(nl, f->owner.protocol, &out->nexthops, &out->n_nexthops, err);
	if (r == 0)
		r = nr_nl_dump_routes(nl, &f->owner, &out->routes, &out->n_routes, err);
	if (r == 0 && f->neigh_ifindex)
		r = nr_nl_dump_neighs(nl, f->neigh_ifindex, &out->neighs, &out->n_neighs, err);
	if (r == 0 && f->fdb_ifindex)
		r = nr_nl_dump_fdbs(nl, f->fdb_ifindex, &out->fdbs, &out->n_fdbs, err);
	if (r < 0) {
		nr_kstate_free(out);
		return r;
	}
	nr_kstate_sort(out);
	return 0;
}
