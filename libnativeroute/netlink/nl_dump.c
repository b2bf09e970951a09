#include "netlink/nl_dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_ack.h"
#include "netlink/nl_parse.h"
#include "netlink/nl_request.h"
#include "util/msort.h"
#include "util/sorted.h"
#include "util/worker_yield.h"

/* A dump the kernel flags as interrupted (the table changed under it) is
 * repeated; after this many tries, give up and let the caller resync. */
#define DUMP_TRIES 3

/* A growing array of fixed-size elements, filled by the reply callbacks.
 * The stepped dump (nr_nl_dumper) also gives it a size hint and a sort
 * key: each doubling moves the whole array within one step (megabytes at
 * 100,000 routes), and the kernel mostly answers in key order already, so
 * the order is checked as the items come instead of in one walk at the
 * end. */
struct vec {
	void *items;
	size_t n, cap, size;
	size_t hint;         /* the first allocation holds this many */
	nr_sorted_cmp cmp;   /* NULL: order not tracked */
	bool unsorted;       /* an item came before its predecessor (cmp) */
};

static int vec_push(struct vec *v, const void *item)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : v->hint > 64 ? v->hint : 64;
		void *items = realloc(v->items, cap * v->size);

		if (!items) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		v->items = items;
		v->cap = cap;
	}
	if (v->cmp && v->n && v->cmp((char *)v->items + (v->n - 1) * v->size, item) > 0)
		v->unsorted = true;
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

int nr_nl_nexthops_supported(struct nr_nl *nl)
{
	char buf[NR_NL_MSG_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nr_err err = { 0 };
	int r;

	nlh->nlmsg_type = RTM_GETNEXTHOP;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nhmsg));
	mnl_attr_put_u32(nlh, NHA_ID, 1); /* any id: found or not, the kernel knows them */
	r = nr_nl_request(nl, nlh, NULL, NULL, "nexthop lookup", &err);
	if (r == 0 || r == -ENOENT)
		return 1;
	return r == -EOPNOTSUPP || r == -EINVAL || r == -EAFNOSUPPORT ? 0 : r;
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

/* ---- in steps ------------------------------------------------------------ */

enum dumper_stage { ST_NEXTHOPS, ST_ROUTES4, ST_ROUTES6, ST_NEIGHS, ST_FDBS, ST_DONE };

struct nr_nl_dumper {
	struct nr_nl *nl;
	struct nr_nl_dump_filter f;
	bool foreign_wanted, no_nexthops;
	enum dumper_stage stage;
	uint32_t seq;
	int tries;                /* of this stage, for interrupted dumps */
	bool interrupted;
	size_t steps;
	struct dump_ctx ctx[ST_DONE]; /* one collection per stage */
	struct dump_ctx foreign;  /* nexthops of other protocols */
	/* nr_nl_dumper_finish: the collection it is at, the sort running on
	 * it, and how many IPv6 routes joined the IPv4 ones */
	enum dumper_stage fin;
	bool sorting;
	struct nr_msort sort;
	size_t joined;
	char buf[NR_NL_RECV_SIZE];
};

/* Both nexthop collections from one dump. */
static int nexthop_both_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nr_nl_dumper *d = data;
	struct nr_nl_nexthop_info info;
	struct nr_knexthop nh;

	if (nr_nl_parse_nexthop(nlh, &nh, &info) < 0 || info.group)
		return MNL_CB_OK;
	if (info.protocol == d->f.owner.protocol)
		return vec_push(&d->ctx[ST_NEXTHOPS].vec, &nh);
	return d->foreign_wanted ? vec_push(&d->foreign.vec, &nh) : MNL_CB_OK;
}

static bool stage_skipped(const struct nr_nl_dumper *d, enum dumper_stage s)
{
	return (s == ST_NEXTHOPS && d->no_nexthops) || (s == ST_NEIGHS && !d->f.neigh_ifindex) ||
	       (s == ST_FDBS && !d->f.fdb_ifindex);
}

static const char *stage_what(enum dumper_stage s)
{
	static const char *const what[] = { "dump nexthops", "dump IPv4 routes", "dump IPv6 routes",
					    "dump neighbours", "dump fdb" };

	return what[s];
}

static int stage_send(struct nr_nl_dumper *d, struct nr_err *err)
{
	static struct nlmsghdr *(*const build[])(void *, const struct dump_ctx *) = {
		nexthop_build, route_build, route_build, neigh_build, neigh_build,
	};
	char req[NR_NL_MSG_MAX];
	struct nlmsghdr *nlh = build[d->stage](req, &d->ctx[d->stage]);
	int r;

	d->ctx[d->stage].vec.n = 0;
	d->ctx[d->stage].vec.unsorted = false;
	if (d->stage == ST_NEXTHOPS)
		d->foreign.vec.n = 0;
	d->interrupted = false;
	d->seq = nlh->nlmsg_seq = nr_nl_next_seq(d->nl);
	r = nr_nl_send(d->nl, nlh, nlh->nlmsg_len);
	return r < 0 ? nr_nl_err_set(err, r, stage_what(d->stage), NULL) : 0;
}

/* The next stage that is not skipped; its request goes out now. */
static int stage_next(struct nr_nl_dumper *d, struct nr_err *err)
{
	do
		d->stage++;
	while (d->stage < ST_DONE && stage_skipped(d, d->stage));
	d->tries = 0;
	return d->stage == ST_DONE ? 0 : stage_send(d, err);
}

/* The stage's dump ended with `code` (0 or -errno from NLMSG_DONE/ERROR). */
static int stage_end(struct nr_nl_dumper *d, int code, const char *kmsg, struct nr_err *err)
{
	bool routes = d->stage == ST_ROUTES4 || d->stage == ST_ROUTES6;

	if (code == -ENOENT && routes) /* the table is created with its first route */
		code = 0;
	if (code == 0 && d->interrupted) {
		if (++d->tries < DUMP_TRIES)
			return stage_send(d, err); /* the table changed mid-dump: again */
		code = -EINTR;
	}
	if (code < 0)
		return nr_nl_err_set(err, code, stage_what(d->stage), kmsg);
	return stage_next(d, err);
}

/* One message of the current stage's dump: 1 when it ended the stage. */
static int dumper_handle(struct nr_nl_dumper *d, const struct nlmsghdr *nlh, struct nr_err *err)
{
	static const nr_nl_reply_cb parse[] = { nexthop_both_cb, route_cb, route_cb, neigh_cb, fdb_cb };
	const char *kmsg = NULL;
	int code = 0;

	if (nlh->nlmsg_seq != d->seq)
		return 0; /* late reply to an earlier, abandoned request */
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->interrupted = true;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		code = nr_nl_ack_parse(nlh, &kmsg);
	} else if (nlh->nlmsg_type == NLMSG_DONE) {
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
			code = *(const int *)mnl_nlmsg_get_payload(nlh);
	} else {
		void *data = d->stage == ST_NEXTHOPS ? (void *)d : (void *)&d->ctx[d->stage];

		if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && parse[d->stage](nlh, data) == MNL_CB_ERROR)
			return nr_err_set(err, -ENOMEM, "%s: out of memory", stage_what(d->stage));
		return 0;
	}
	code = stage_end(d, code > 0 ? -code : code, kmsg, err);
	return code < 0 ? code : 1;
}

int nr_nl_dumper_new(struct nr_nl *nl, const struct nr_nl_dump_filter *f, bool foreign_nexthops,
		     bool no_nexthops, struct nr_nl_dumper **ret, struct nr_err *err)
{
	struct nr_nl_dumper *d = calloc(1, sizeof(*d));
	static const size_t sizes[] = { sizeof(struct nr_knexthop), sizeof(struct nr_kroute),
					sizeof(struct nr_kroute), sizeof(struct nr_kneigh),
					sizeof(struct nr_kfdb) };
	int r;

	if (!d)
		return nr_err_set(err, -ENOMEM, "dump: out of memory");
	d->nl = nl;
	d->f = *f;
	d->foreign_wanted = foreign_nexthops;
	d->no_nexthops = no_nexthops;
	for (int s = 0; s < ST_DONE; s++)
		d->ctx[s] = (struct dump_ctx){ .vec.size = sizes[s], .owner = &d->f.owner,
					       .nh_protocol = f->owner.protocol };
	d->ctx[ST_ROUTES4].family = AF_INET;
	d->ctx[ST_ROUTES6].family = AF_INET6;
	d->ctx[ST_NEIGHS].family = AF_UNSPEC;
	d->ctx[ST_NEIGHS].ifindex = f->neigh_ifindex;
	d->ctx[ST_FDBS].family = AF_BRIDGE;
	d->ctx[ST_FDBS].ifindex = f->fdb_ifindex;
	d->foreign.vec.size = sizeof(struct nr_knexthop);
	d->ctx[ST_NEXTHOPS].vec.cmp = (nr_sorted_cmp)nr_knexthop_cmp_key;
	d->ctx[ST_ROUTES4].vec.cmp = (nr_sorted_cmp)nr_kroute_cmp_key;
	d->ctx[ST_ROUTES6].vec.cmp = (nr_sorted_cmp)nr_kroute_cmp_key;
	d->ctx[ST_NEIGHS].vec.cmp = (nr_sorted_cmp)nr_kneigh_cmp_key;
	d->ctx[ST_FDBS].vec.cmp = (nr_sorted_cmp)nr_kfdb_cmp_key;
	d->ctx[ST_NEXTHOPS].vec.hint = d->ctx[ST_ROUTES4].vec.hint = f->expect;
	d->stage = ST_NEXTHOPS;
	r = stage_skipped(d, d->stage) ? stage_next(d, err) : stage_send(d, err);
	if (r < 0) {
		nr_nl_dumper_free(d);
		return r;
	}
	*ret = d;
	return 0;
}

int nr_nl_dumper_step(struct nr_nl_dumper *d, struct nr_err *err)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)d->buf;
	int n;

	if (d->stage == ST_DONE)
		return 0;
	n = nr_nl_recv(d->nl, d->buf, sizeof(d->buf), 0);
	if (n == -ETIMEDOUT || n == -EAGAIN)
		return NR_NL_DUMP_WAIT; /* nothing yet */
	if (n < 0)
		return nr_nl_err_set(err, n, stage_what(d->stage), NULL);
	d->steps++;
	/* the rest of the buffer after a stage's end belongs to no request of
	 * ours (the next stage's replies come in later receives) */
	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		int r = dumper_handle(d, nlh, err);

		if (r < 0)
			return r;
		if (r > 0)
			break;
	}
	return d->stage == ST_DONE ? 0 : NR_NL_DUMP_WAIT;
}

int nr_nl_dumper_run(struct nr_nl_dumper *d, struct nr_err *err)
{
	for (;;) {
		int rc = nr_nl_dumper_step(d, err);

		if (rc <= 0)
			return rc;
		/* a step ran one piece of the kernel's dump (inside recvmsg) and
		 * parsed it: a few hundred objects; why yield: nl_batch.c,
		 * nr_nl_batch_send_claimed */
		nr_worker_yield_now();
		rc = nr_nl_wait_readable(d->nl, NR_NL_TIMEOUT_MS);
		if (rc == -ETIMEDOUT)
			return nr_err_set(err, rc, "dump: the kernel did not answer in %d ms",
					  NR_NL_TIMEOUT_MS);
		if (rc < 0)
			return nr_err_set(err, rc, "dump: polling the netlink socket: %s",
					  strerror(-rc));
	}
}

/* Room for `k` more items, then a copy of them (already in order). */
static int vec_append(struct vec *v, const void *items, size_t k)
{
	if (v->n + k > v->cap) {
		size_t cap = v->cap ? v->cap : 64;
		void *grown;

		while (cap < v->n + k)
			cap *= 2;
		grown = realloc(v->items, cap * v->size);
		if (!grown)
			return -ENOMEM;
		v->items = grown;
		v->cap = cap;
	}
	memcpy((char *)v->items + v->n * v->size, items, k * v->size);
	v->n += k;
	return 0;
}

int nr_nl_dumper_finish(struct nr_nl_dumper *d, size_t budget, struct nr_err *err)
{
	if (d->stage != ST_DONE)
		return nr_err_set(err, -EINVAL, "dump: finished before the last step");
	while (d->fin < ST_DONE) {
		struct vec *v = &d->ctx[d->fin].vec;

		if (v->unsorted) { /* came out of order: a merge sort in steps */
			if (!d->sorting) {
				if (nr_msort_begin(&d->sort, v->items, v->n, v->size, v->cmp) < 0)
					return nr_err_set(err, -ENOMEM, "%s: out of memory", stage_what(d->fin));
				d->sorting = true;
			}
			if (nr_msort_step(&d->sort, budget))
				return 1;
			v->items = nr_msort_end(&d->sort);
			v->cap = v->n; /* the scratch array, perhaps: exactly this long */
			v->unsorted = d->sorting = false;
			return 1; /* this call's budget went to the sort */
		}
		if (d->fin == ST_ROUTES6 && d->joined < v->n) {
			/* after the IPv4 routes, in budget-sized pieces: every IPv6
			 * prefix sorts after every IPv4 one (nr_addr_cmp: family) */
			size_t k = v->n - d->joined < budget ? v->n - d->joined : budget;

			if (vec_append(&d->ctx[ST_ROUTES4].vec, (char *)v->items + d->joined * v->size, k) < 0)
				return nr_err_set(err, -ENOMEM, "dump routes: out of memory");
			d->joined += k;
			if (d->joined < v->n)
				return 1;
		}
		d->fin++;
	}
	return 0;
}

int nr_nl_dumper_take(struct nr_nl_dumper *d, struct nr_kstate *out,
		      struct nr_knexthop **foreign, size_t *n_foreign, struct nr_err *err)
{
	int r;

	while ((r = nr_nl_dumper_finish(d, SIZE_MAX, err)) == 1)
		;
	if (r < 0)
		return r;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->nexthops = d->ctx[ST_NEXTHOPS].vec.items;
		out->n_nexthops = d->ctx[ST_NEXTHOPS].vec.n;
		out->routes = d->ctx[ST_ROUTES4].vec.items;
		out->n_routes = d->ctx[ST_ROUTES4].vec.n;
		out->neighs = d->ctx[ST_NEIGHS].vec.items;
		out->n_neighs = d->ctx[ST_NEIGHS].vec.n;
		out->fdbs = d->ctx[ST_FDBS].vec.items;
		out->n_fdbs = d->ctx[ST_FDBS].vec.n;
		d->ctx[ST_NEXTHOPS].vec.items = d->ctx[ST_ROUTES4].vec.items = NULL;
		d->ctx[ST_NEIGHS].vec.items = d->ctx[ST_FDBS].vec.items = NULL;
	}
	if (foreign) {
		*foreign = d->foreign.vec.items;
		*n_foreign = d->foreign.vec.n;
		d->foreign.vec.items = NULL;
	}
	return 0;
}

size_t nr_nl_dumper_steps(const struct nr_nl_dumper *d)
{
	return d->steps;
}

void nr_nl_dumper_free(struct nr_nl_dumper *d)
{
	if (!d)
		return;
	if (d->sorting) { /* the array moved if it finished; else base holds it */
		void *sorted = nr_msort_end(&d->sort);

		if (sorted)
			d->ctx[d->fin].vec.items = sorted;
	}
	for (int s = 0; s < ST_DONE; s++)
		free(d->ctx[s].vec.items);
	free(d->foreign.vec.items);
	free(d);
}
