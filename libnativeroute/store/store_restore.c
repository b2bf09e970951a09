/* Saved state + the options of this start -> the model to continue with.
 *
 * Nodes come back with their saved index (so their nexthop ids, and thus the
 * kernel objects, are the same) and their saved CIDRs (allocations are
 * sticky across restarts). What would orphan an allocation or a kernel
 * object - another IPAM mode, other pools or mask sizes, another route
 * protocol or table - is refused unless the caller allows a migration. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "store/store.h"
#include "util/worker_yield.h"

static void note(const struct nr_store_restore *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(const struct nr_store_restore *o, const char *fmt, ...)
{
	char msg[NR_ERR_MSG_MAX];
	va_list ap;

	if (!o->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->note(msg, o->note_data);
}

static void pools_str(const struct nr_cluster_config *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->n_cluster_cidrs && off < len; i++) {
		char p[NR_ADDR_STRLEN];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					nr_prefix_str(&c->cluster_cidrs[i], p, sizeof(p)));
	}
	if (!c->n_cluster_cidrs)
		snprintf(buf, len, "none");
}

static bool same_pools(const struct nr_cluster_config *a, const struct nr_cluster_config *b)
{
	if (a->n_cluster_cidrs != b->n_cluster_cidrs)
		return false;
	for (unsigned i = 0; i < a->n_cluster_cidrs; i++)
		if (!nr_prefix_eq(&a->cluster_cidrs[i], &b->cluster_cidrs[i]))
			return false;
	return true;
}

/* The first difference that would orphan saved allocations or kernel
 * objects, as a sentence; "" when there is none. */
static void config_change(const struct nr_state *st, const struct nr_store_restore *o,
			  char *what, size_t len)
{
	const struct nr_cluster_config *was = &st->cfg, *now = o->cfg;
	char a[96], b[96];

	what[0] = '\0';
	if (was->ipam_mode != now->ipam_mode) {
		snprintf(what, len, "IPAM mode changed (saved %s, now %s)",
			 nr_config_ipam_mode_str(was->ipam_mode), nr_config_ipam_mode_str(now->ipam_mode));
	} else if (!same_pools(was, now)) {
		pools_str(was, a, sizeof(a));
		pools_str(now, b, sizeof(b));
		snprintf(what, len, "cluster CIDRs changed (saved %s, now %s)", a, b);
	} else if (nr_config_mask_size(was, AF_INET) != nr_config_mask_size(now, AF_INET) ||
		   nr_config_mask_size(was, AF_INET6) != nr_config_mask_size(now, AF_INET6)) {
		snprintf(what, len, "mask size changed (saved /%u and /%u, now /%u and /%u)",
			 nr_config_mask_size(was, AF_INET), nr_config_mask_size(was, AF_INET6),
			 nr_config_mask_size(now, AF_INET), nr_config_mask_size(now, AF_INET6));
	} else if (st->has_meta && (st->meta.route_protocol != o->meta->route_protocol ||
				    st->meta.route_table != o->meta->route_table)) {
		snprintf(what, len, "route protocol/table changed (saved %u/%" PRIu32 ", now %u/%" PRIu32
			 "): routes of the old one would stay behind",
			 st->meta.route_protocol, st->meta.route_table, o->meta->route_protocol,
			 o->meta->route_table);
	}
}

static bool same_mode(const struct nr_store_mode *a, const struct nr_store_mode *b)
{
	return a->mode == b->mode && a->auto_direct_node_routes == b->auto_direct_node_routes &&
	       a->skip_unreachable == b->skip_unreachable;
}

/* A mode set at run time survives a restart with the same options; options
 * that changed since the last start win (the latest instruction counts). */
static int pick_mode(const struct nr_state *st, const struct nr_store_restore *o,
		     struct nr_cluster_config *cfg, const char *path, struct nr_err *err)
{
	struct nr_store_mode asked = o->meta->opts_mode;
	int rc;

	if (!same_mode(&asked, &st->meta.opts_mode))
		return 0;
	cfg->routing_mode = st->cfg.routing_mode;
	cfg->auto_direct_node_routes = st->cfg.auto_direct_node_routes;
	cfg->direct_routing_skip_unreachable = st->cfg.direct_routing_skip_unreachable;
	rc = nr_config_validate(cfg, err);
	if (rc < 0)
		return nr_err_prefix(err, rc, "%s: saved routing mode: ", path);
	return 0;
}

static struct nr_node_req node_req(const struct nr_store_node *n)
{
	return (struct nr_node_req){ .name = n->name, .ip4 = n->ip4, .ip6 = n->ip6,
				     .cidr4 = n->cidr4, .cidr6 = n->cidr6 };
}

/* Migration: keep what still fits, allocate anew (cluster-pool) or drop
 * (kubernetes) the CIDR of each family that does not. */
static int restore_migrating(struct nr_model *m, const struct nr_store_restore *o,
			     struct nr_node_req req, uint32_t index, struct nr_err *err)
{
	const struct nr_prefix none = { 0 };
	const struct nr_node *n;
	char was[2][NR_ADDR_STRLEN], now[2][NR_ADDR_STRLEN];
	struct nr_prefix c4 = req.cidr4, c6 = req.cidr6;
	int rc = -EINVAL;

	for (int attempt = 1; attempt < 4 && rc < 0; attempt++) {
		req.cidr4 = attempt & 1 ? none : c4;
		req.cidr6 = attempt & 2 ? none : c6;
		rc = nr_model_node_restore(m, &req, index, &n, err);
	}
	if (rc < 0)
		return rc;
	nr_prefix_str(&c4, was[0], sizeof(was[0]));
	nr_prefix_str(&c6, was[1], sizeof(was[1]));
	nr_prefix_str(&n->cidr4, now[0], sizeof(now[0]));
	nr_prefix_str(&n->cidr6, now[1], sizeof(now[1]));
	note(o, "node %s: saved CIDRs [%s %s] do not fit the new configuration; now [%s %s]",
	     n->name, was[0], was[1], now[0], now[1]);
	return 0;
}

static int restore_nodes(const struct nr_state *st, const char *path,
			 const struct nr_store_restore *o, struct nr_model *m, struct nr_err *err)
{
	bool retry = false;
	bool have_local = false;
	int rc;

	/* pass 0: every node as saved; pass 1 (migration only): the ones
	 * that did not fit, once the others hold their blocks */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < st->n_nodes; i++) {
			const struct nr_store_node *sn = &st->nodes[i];
			struct nr_node_req req = node_req(sn);
			bool local = !strcmp(sn->name, st->local_name);

			if (local) {
				req.ip4 = o->local->ip4;
				req.ip6 = o->local->ip6;
				if (o->local->cidr4.addr.family || o->local->cidr6.addr.family) {
					req.cidr4 = o->local->cidr4;
					req.cidr6 = o->local->cidr6;
				}
				have_local = true;
			}
			if (nr_model_node_get(m, sn->name))
				continue;
			if (pass == 1) {
				rc = restore_migrating(m, o, req, sn->index, err);
			} else {
				rc = nr_model_node_restore(m, &req, sn->index, NULL, err);
				if (rc < 0 && o->allow_config_migration && rc != -ENOMEM) {
					retry = true;
					continue;
				}
			}
			if (rc < 0)
				return nr_err_prefix(err, rc, "%s: line %u: node %s: ", path, sn->line,
						     sn->name);
			nr_worker_yield_point(); /* on the thread pool (ctl_load.c) */
		}
		if (!retry)
			break;
	}
	if (!have_local) { /* saved before this node was ever added: add it now */
		rc = nr_model_node_add(m, o->local, NULL, err);
		if (rc < 0)
			return nr_err_prefix(err, rc, "%s: this node: ", path);
	}
	return 0;
}

static int restore_endpoints(const struct nr_state *st, const char *path,
			     const struct nr_store_restore *o, struct nr_model *m, struct nr_err *err)
{
	for (size_t i = 0; i < st->n_eps; i++) {
		const struct nr_store_endpoint *se = &st->eps[i];
		struct nr_endpoint_req req = {
			.id = se->id, .ifname = se->ifname[0] ? se->ifname : NULL,
			.ifindex = se->ifindex, .ip4 = se->ip4, .ip6 = se->ip6,
		};
		int rc = nr_model_endpoint_add(m, &req, NULL, err);

		if (rc == -ENOMEM || (rc < 0 && !o->allow_config_migration))
			return nr_err_prefix(err, rc, "%s: line %u: endpoint %s: ", path, se->line, se->id);
		if (rc < 0)
			note(o, "endpoint %s dropped: %s", se->id, err->msg);
		nr_worker_yield_point();
	}
	return 0;
}

static int refuse(const char *path, const char *what, const struct nr_state *st,
		  struct nr_err *err)
{
	return nr_err_set(err, -EINVAL, "%s: %s: the %zu saved node(s) would lose their "
			  "allocations; restore the setting or allow config migration",
			  path, what, st->n_nodes);
}

int nr_store_restore(const struct nr_state *st, const char *path,
		     const struct nr_store_restore *o, struct nr_model **ret, struct nr_err *err)
{
	struct nr_cluster_config cfg = *o->cfg;
	struct nr_model *m = NULL;
	bool pools_only;
	char what[240];
	int rc;

	if (strcmp(st->local_name, o->local->name))
		return nr_err_set(err, -EINVAL, "%s: the saved state is node %s's, not %s's; "
				  "use another state directory", path, st->local_name, o->local->name);
	config_change(st, o, what, sizeof(what));
	/* Cluster CIDRs that changed but still hold every saved allocation (a
	 * pool grown, or a second one added) orphan nothing: restore strictly
	 * (nothing re-allocated, nothing dropped) and refuse only if that fails. */
	pools_only = what[0] && !o->allow_config_migration && !same_pools(&st->cfg, o->cfg) &&
		     st->cfg.ipam_mode == o->cfg->ipam_mode &&
		     nr_config_mask_size(&st->cfg, AF_INET) == nr_config_mask_size(o->cfg, AF_INET) &&
		     nr_config_mask_size(&st->cfg, AF_INET6) == nr_config_mask_size(o->cfg, AF_INET6) &&
		     (!st->has_meta || (st->meta.route_protocol == o->meta->route_protocol &&
					st->meta.route_table == o->meta->route_table));
	if (what[0] && !o->allow_config_migration && !pools_only)
		return refuse(path, what, st, err);
	if (what[0] && !pools_only)
		note(o, "migrating the saved state: %s", what);
	rc = pick_mode(st, o, &cfg, path, err);
	if (rc == 0)
		rc = nr_model_new(&cfg, o->local->name, &m, err);
	if (rc == 0)
		rc = restore_nodes(st, path, o, m, err);
	if (rc == 0)
		rc = restore_endpoints(st, path, o, m, err);
	if (rc < 0) {
		nr_model_free(m);
		return pools_only && rc != -ENOMEM ? refuse(path, what, st, err) : rc;
	}
	if (pools_only)
		note(o, "%s: every saved allocation still fits; accepted", what);
	*ret = m;
	return 0;
}
