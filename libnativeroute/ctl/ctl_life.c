/* Controller life cycle: nr_ctl_new (validate, open netlink, no kernel
 * change), nr_ctl_start (first reconcile), nr_ctl_close (async, routes stay). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_lock.h"
#include "ctl/ctl_masq.h"
#include "ctl/ctl_pending.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_link.h"
#include "store/etcd.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

static int parse_prefix_list(const char *const *list, const char *what,
			     struct nr_prefix *out, unsigned int max, unsigned int *n,
			     struct nr_err *err)
{
	*n = 0;
	for (size_t i = 0; list && list[i]; i++) {
		if (*n == max)
			return nr_err_set(err, -EINVAL, "%s: more than %u given", what, max);
		if (nr_prefix_parse(list[i], &out[*n], err) < 0)
			return nr_err_prefix(err, -EINVAL, "%s ", what);
		(*n)++;
	}
	return 0;
}

static int parse_opt_addr(const char *text, const char *what, uint8_t family,
			  struct nr_addr *out, struct nr_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return 0;
	if (nr_addr_parse(text, out, err) < 0)
		return nr_err_prefix(err, -EINVAL, "%s: ", what);
	if (out->family != family)
		return nr_err_set(err, -EINVAL, "%s %s: expected an %s address", what, text,
				  family == AF_INET ? "IPv4" : "IPv6");
	return 0;
}

static int config_from_opts(const struct nr_ctl_opts *o, struct nr_cluster_config *cfg,
			    struct nr_err *err)
{
	const char *rc4 = OPTS_GET(o, native_routing_cidr, NULL);
	const char *rc6 = OPTS_GET(o, native_routing_cidr6, NULL);
	unsigned int mask4 = OPTS_GET(o, mask_size_v4, 0), mask6 = OPTS_GET(o, mask_size_v6, 0);
	int rc;

	nr_config_init(cfg);
	cfg->routing_mode = OPTS_GET(o, routing_mode, 0) ? o->routing_mode : NR_MODE_NATIVE;
	cfg->ipam_mode = OPTS_GET(o, ipam_mode, 0) ? o->ipam_mode : NR_IPAM_CLUSTER_POOL;
	if (!nr_config_routing_mode_str(cfg->routing_mode))
		return nr_err_set(err, -EINVAL, "routing mode %d: expected native (1), tunnel (2) "
				  "or hybrid (3)", (int)cfg->routing_mode);
	if (!nr_config_ipam_mode_str(cfg->ipam_mode))
		return nr_err_set(err, -EINVAL, "IPAM mode %d: expected cluster-pool (1) or "
				  "kubernetes (2)", (int)cfg->ipam_mode);
	cfg->auto_direct_node_routes = OPTS_GET(o, auto_direct_node_routes, false);
	cfg->direct_routing_skip_unreachable = OPTS_GET(o, direct_routing_skip_unreachable, false);
	if (mask4 > 32 || mask6 > 128)
		return nr_err_set(err, -EINVAL, "mask size %u: longer than the address",
				  mask4 > 32 ? mask4 : mask6);
	cfg->mask_size4 = (uint8_t)mask4;
	cfg->mask_size6 = (uint8_t)mask6;
	rc = parse_prefix_list(OPTS_GET(o, cluster_cidrs, NULL), "cluster CIDR",
			       cfg->cluster_cidrs, NR_MAX_CLUSTER_CIDRS, &cfg->n_cluster_cidrs, err);
	if (rc < 0)
		return rc;
	if (rc4 && *rc4) {
		if (nr_prefix_parse(rc4, &cfg->native_routing_cidr4, err) < 0 ||
		    cfg->native_routing_cidr4.addr.family != AF_INET)
			return nr_err_set(err, -EINVAL, "native routing CIDR %s: expected an IPv4 CIDR", rc4);
	}
	if (rc6 && *rc6) {
		if (nr_prefix_parse(rc6, &cfg->native_routing_cidr6, err) < 0 ||
		    cfg->native_routing_cidr6.addr.family != AF_INET6)
			return nr_err_set(err, -EINVAL, "native routing CIDR %s: expected an IPv6 CIDR", rc6);
	}
	return nr_config_validate(cfg, err);
}

/* The local node as the options describe it. It enters the model at once
 * (its CIDRs are needed for endpoints and must never be routed via itself);
 * ctl_state.c merges it with the saved state. */
static int local_node_req(const struct nr_ctl_opts *o, struct nr_node_req *req, struct nr_err *err)
{
	struct nr_prefix cidrs[4];
	unsigned int n = 0;
	int rc;

	*req = (struct nr_node_req){ .name = o->node_name };
	rc = parse_opt_addr(OPTS_GET(o, node_ipv4, NULL), "node IPv4", AF_INET, &req->ip4, err);
	if (rc == 0)
		rc = parse_opt_addr(OPTS_GET(o, node_ipv6, NULL), "node IPv6", AF_INET6, &req->ip6, err);
	if (rc < 0)
		return rc;
	if (!req->ip4.family && !req->ip6.family)
		return nr_err_set(err, -EINVAL, "node %s: give node_ipv4 and/or node_ipv6", o->node_name);
	rc = parse_prefix_list(OPTS_GET(o, pod_cidrs, NULL), "pod CIDR", cidrs, 4, &n, err);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < n; i++) {
		struct nr_prefix *slot = cidrs[i].addr.family == AF_INET ? &req->cidr4 : &req->cidr6;

		if (slot->addr.family)
			return nr_err_set(err, -EINVAL, "pod CIDR: more than one of the same family");
		*slot = cidrs[i];
	}
	return 0;
}

/* The node IPs must be addresses of this namespace: routes carry them as
 * preferred source, and the kernel refuses a foreign one late and vaguely. */
static int check_node_ips(struct nr_ctl *ctl, const struct nr_node_req *local, struct nr_err *err)
{
	const struct nr_addr *ips[2] = { &local->ip4, &local->ip6 };
	char buf[NR_ADDR_STRLEN];

	for (int i = 0; i < 2; i++) {
		const struct nr_addr *ip = ips[i];
		uint32_t ifindex;

		if (!ip->family)
			continue;
		if (ctl->k->addr_find(ctl->query, ip, &ifindex, err) < 0)
			return nr_err_set(err, -EADDRNOTAVAIL,
					  "node IP %s is not an address of any link in %s%s",
					  nr_addr_str(ip, buf, sizeof(buf)),
					  ctl->netns ? "network namespace " : "this network namespace",
					  ctl->netns ? ctl->netns : "");
	}
	return 0;
}

/* What the model refuses but the options alone do not show (a node name it
 * cannot take, a node IP inside a cluster CIDR, a pod CIDR outside them or
 * of the wrong size): a throwaway model with just the local node, now, before
 * anything exists. ctl_state.c builds the real one from the same options
 * (and the saved state) after the state directory is open. No I/O. */
static int check_model(const struct nr_cluster_config *cfg, const struct nr_node_req *local,
		       struct nr_err *err)
{
	struct nr_model *m = NULL;
	int rc = nr_model_new(cfg, local->name, &m, err);

	if (rc == 0)
		rc = nr_model_node_add(m, local, NULL, err);
	nr_model_free(m);
	return rc;
}

/* Nexthop objects need Linux 5.3; one lookup tells whether the kernel has
 * them (a dump of them all took 50 ms at 100,000 nodes). A socket failure
 * is not "no nexthops": the first pass will report it. */
static bool kernel_has_nexthops(struct nr_ctl *ctl)
{
	struct nr_knexthop *nhs = NULL;
	size_t n = 0;
	struct nr_err err = { 0 };
	int rc;

	if (ctl->k->nexthops_supported)
		return ctl->k->nexthops_supported(ctl->query) != 0;
	rc = ctl->k->dump_nexthops(ctl->query, ctl->owner.protocol, &nhs, &n, &err);
	free(nhs);
	return rc != -EOPNOTSUPP && rc != -EINVAL && rc != -EAFNOSUPPORT;
}

/* Route protocols the kernel and other software own (unspec, redirect,
 * kernel, boot, static): with one of them the prune at start and
 * nr_ctl_purge would delete routes that are not ours. */
#define NR_RTPROT_RESERVED_MAX 4

/* Everything that needs no I/O: a refusal here leaves no trace. */
static int check_opts(struct nr_ctl *ctl, const struct nr_ctl_opts *o, struct nr_cluster_config *cfg,
		      struct nr_node_req *local, struct nr_err *err)
{
	const char *netns = OPTS_GET(o, netns, NULL);
	unsigned int proto = OPTS_GET(o, route_protocol, 0);
	int rc;

	if (!OPTS_GET(o, node_name, NULL))
		return nr_err_set(err, -EINVAL, "node_name is required");
	rc = config_from_opts(o, cfg, err);
	if (rc == 0)
		rc = local_node_req(o, local, err);
	if (rc == 0)
		rc = check_model(cfg, local, err);
	if (rc < 0)
		return rc;
	if (proto && proto <= NR_RTPROT_RESERVED_MAX)
		return nr_err_set(err, -EINVAL, "route_protocol %u: belongs to the kernel or other "
				  "software (1-4: redirect, kernel, boot, static); use 5-255 "
				  "(default %d)", proto, NR_DEFAULT_ROUTE_PROTOCOL);
	ctl->owner.protocol = proto ? (uint8_t)proto : NR_DEFAULT_ROUTE_PROTOCOL;
	ctl->owner.table = OPTS_GET(o, route_table, 0) ? o->route_table : NR_DEFAULT_ROUTE_TABLE;
	if (netns && !(ctl->netns = strdup(netns)))
		return nr_err_set(err, -ENOMEM, "out of memory");
	ctl->resync_ms = OPTS_GET(o, resync_interval_ms, 0) ? o->resync_interval_ms
							      : NR_DEFAULT_RESYNC_MS;
	ctl->vxlan_vni = OPTS_GET(o, vxlan_vni, 0) ? o->vxlan_vni : 1;
	ctl->vxlan_port = OPTS_GET(o, vxlan_port, 0) ? o->vxlan_port : 8472;
	ctl->vxlan_mtu_opt = OPTS_GET(o, vxlan_mtu, 0);
	ctl->endpoint_grace_ms = OPTS_GET(o, endpoint_grace_ms, 0) ? o->endpoint_grace_ms
								      : NR_DEFAULT_ENDPOINT_GRACE_MS;
	ctl->host_check = true; /* a pod may have gone while we were down */
	ctl->native_without_tunnel = OPTS_GET(o, native_without_tunnel, false);
	ctl->event_cb = OPTS_GET(o, event_cb, NULL);
	ctl->event_data = OPTS_GET(o, event_data, NULL);
	if (ctl->vxlan_vni > 0xffffff)
		return nr_err_set(err, -EINVAL, "VXLAN VNI %u: larger than 16777215", ctl->vxlan_vni);
	/* the options the later steps read again: checked here, before the
	 * state directory or anything else exists */
	rc = nr_ctl_masq_check_opts(o, cfg, err);
	if (rc == 0 && OPTS_GET(o, etcd, NULL))
		rc = nr_etcd_check_opts(o->etcd, err);
	return rc;
}

/* Validate everything before any side effect ("a call that returns < 0
 * changed nothing"): options first, then the namespace and the node IPs
 * (read-only netlink), and only then the state directory (created, locked)
 * and the rest. */
static int ctl_setup(struct nr_ctl *ctl, const struct nr_ctl_opts *o, struct nr_err *err)
{
	struct nr_cluster_config cfg;
	struct nr_node_req local;
	int rc = check_opts(ctl, o, &cfg, &local, err);

	if (rc < 0)
		return rc;
	/* non-blocking: a pass's batch is driven by cmd_poll (ctl_reconcile.c) */
	rc = ctl->k->open(ctl->k_ctx, ctl->netns, NR_NL_NONBLOCK, &ctl->nl, err);
	if (rc == 0)
		rc = ctl->k->open(ctl->k_ctx, ctl->netns, 0, &ctl->query, err);
	if (rc == 0)
		rc = check_node_ips(ctl, &local, err);
	if (rc == 0)
		rc = nr_ctl_lock_take(ctl->netns, ctl->owner.table, ctl->owner.protocol,
				      &ctl->owner_lock, err);
	if (rc == 0)
		rc = ctl->k->open(ctl->k_ctx, ctl->netns, NR_NL_NONBLOCK | NR_NL_EVENTS, &ctl->events, err);
	if (rc == 0 && ctl->k->event_ignore_echoes) {
		/* the watch skips them anyway (ctl_watch.c own_echo): without
		 * the filter they only cost reads and queue space */
		const uint32_t ports[] = { ctl->nl->portid, ctl->query->portid };

		(void)ctl->k->event_ignore_echoes(ctl->events, ports, 2);
	}
	/* the model: saved state (state_dir) or the options alone */
	if (rc == 0)
		rc = nr_ctl_state_setup(ctl, o, &cfg, &local, err);
	if (rc == 0)
		rc = nr_ctl_load_prepare(ctl, err);
	if (rc == 0) /* reads the model: after it exists */
		rc = nr_ctl_masq_new(ctl, o, err);
	nr_ctl_netns_remember(ctl);
	if (rc < 0)
		return rc;
	ctl->classic_routes = OPTS_GET(o, classic_routes, false) || !kernel_has_nexthops(ctl);
	nr_ctl_bpf_setup(ctl, OPTS_GET(o, bpf, false));
	rc = nr_reach_cache_new(&ctl->reach);
	/* last: it owns libuv handles, nothing may fail after it */
	if (rc == 0 && OPTS_GET(o, etcd, NULL))
		rc = nr_etcd_new(ctl, o->etcd, &ctl->etcd, err);
	return rc;
}

static void ctl_free(struct nr_ctl *ctl)
{
	nr_kstate_free(&ctl->desired);
	nr_kstate_free(&ctl->observed);
	nr_ctl_touched_clear(ctl); /* and the late nodes */
	nr_plan_report_free(&ctl->report);
	nr_reach_cache_free(ctl->reach);
	nr_ctl_bpf_free(ctl);
	nr_ctl_load_free(ctl);
	nr_ctl_save_free(ctl);
	nr_ctl_state_free(ctl);
	nr_ctl_masq_free(ctl);
	nr_ctl_host_free(ctl);
	free(ctl->last_fails);
	nr_ctl_nh_free(ctl);
	ctl->k->close(ctl->nl);
	ctl->k->close(ctl->query);
	ctl->k->close(ctl->events);
	nr_ctl_lock_release(ctl->owner_lock);
	nr_model_free(ctl->model);
	free(ctl->links_seen);
	free(ctl->netns);
	free(ctl);
}

/* The first pass and the cluster store, once the saved state is in. */
static void start_rest(struct nr_ctl *ctl)
{
	nr_ctl_state_emit_notes(ctl); /* what loading the state changed */
	nr_ctl_schedule(ctl, 0);
	if (ctl->etcd)
		nr_etcd_start(ctl->etcd);
}

/* The saved state is in (ctl_load.c), or failed to load: then the start
 * request, and any other, fails with the reason. */
static void after_load(struct nr_ctl *ctl)
{
	if (ctl->closing)
		return;
	if (ctl->load.rc < 0)
		nr_ctl_pending_finish_all(ctl, ctl->load.rc, ctl->load.err.msg);
	else if (ctl->started)
		start_rest(ctl);
}

NR_API int nr_ctl_new(uv_loop_t *loop, const struct nr_ctl_opts *opts, struct nr_ctl **ret)
{
	static const struct nr_kernel real = { .ops = &nr_kernel_netlink };

	return nr_ctl_new_with_kernel(loop, opts, &real, ret);
}

int nr_ctl_new_with_kernel(uv_loop_t *loop, const struct nr_ctl_opts *opts,
			   const struct nr_kernel *kernel, struct nr_ctl **ret)
{
	struct nr_err err = { 0 };
	struct nr_ctl *ctl;
	int rc;

	nr_last_error_clear();
	if (!loop || !opts || !ret || !kernel || !kernel->ops)
		return nr_last_error_set(-EINVAL, "nr_ctl_new: loop, opts and ret are required");
	if (!OPTS_VALID(opts, nr_ctl_opts, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return nr_last_error_set(-ENOMEM, "out of memory");
	ctl->loop = loop;
	ctl->pass = nr_ctl_reconcile; /* what the kick timer runs (ctl_kick.c) */
	ctl->k = kernel->ops;
	ctl->k_ctx = kernel->ctx;
	ctl->load.then = after_load;    /* what the end of a load runs (ctl_load.c) */
	ctl->pending_tail = &ctl->pending;
	ctl->done_tail = &ctl->done_q; /* events of the setup wait in it */
	rc = ctl_setup(ctl, opts, &err);
	if (rc < 0) {
		nr_ctl_deliver_drop(ctl);
		nr_ctl_state_discard(ctl, opts); /* an error changed nothing: no directory left */
		ctl_free(ctl);
		return nr_last_error_set_from(&err, rc);
	}
	uv_poll_init(loop, &ctl->event_poll, ctl->k->fd(ctl->events));
	uv_timer_init(loop, &ctl->kick_timer);
	uv_timer_init(loop, &ctl->resync_timer);
	uv_poll_init(loop, &ctl->cmd_poll, ctl->k->fd(ctl->nl));
	uv_timer_init(loop, &ctl->cmd_timer);
	uv_idle_init(loop, &ctl->step_idle);
	ctl->step_idle.data = ctl;
	ctl->event_poll.data = ctl->kick_timer.data = ctl->resync_timer.data = ctl;
	ctl->cmd_poll.data = ctl->cmd_timer.data = ctl;
	nr_ctl_deliver_init(ctl);
	ctl->open_handles = 8;
	uv_poll_start(&ctl->event_poll, UV_READABLE, nr_ctl_watch_cb);
	ctl->open_handles += nr_ctl_masq_watch_start(ctl); /* nftables events */
	nr_ctl_load_start(ctl); /* the saved state, off the loop */
	*ret = ctl;
	return 0;
}

static void resync_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;

	ctl->need_dump = true;
	ctl->reach_stale = true;
	ctl->resyncs++;
	nr_ctl_emit(ctl, NR_EVENT_RESYNC, NULL, NULL, "periodic resync");
	nr_ctl_schedule(ctl, 0);
}

NR_API int nr_ctl_start(struct nr_ctl *ctl, nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	struct nr_pending *p;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing)
		return nr_last_error_set(-EINVAL, "nr_ctl_start: no controller, or it is closing");
	if (ctl->started)
		return nr_last_error_set(-EALREADY, "controller already started");
	if (ctl->purged || ctl->purge_req)
		return nr_last_error_set(-ESHUTDOWN, "the controller was purged; close it");
	if (!ctl->load.running && ctl->load.rc < 0) /* failed already: say so now */
		return nr_ctl_loaded(ctl);
	p = calloc(1, sizeof(*p)); /* before the sysctls: nothing may fail after them */
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	rc = nr_ctl_host_prepare(ctl, &err);
	if (rc < 0) {
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	p->kind = NR_OP_START;
	p->done_cb = cb;
	p->data = data;
	*ctl->pending_tail = p;
	ctl->pending_tail = &p->next;
	ctl->started = true;
	ctl->need_dump = true; /* adopt what is there */
	ctl->full_pass = true;
	uv_timer_start(&ctl->resync_timer, resync_cb, ctl->resync_ms, ctl->resync_ms);
	if (!ctl->load.running) /* else the load's end does the rest (after_load) */
		start_rest(ctl);
	return 0;
}

/* A save or load on the thread pool still uses the store, a tc job the
 * eBPF program and maps, a send the command socket and its batch: the close
 * ends when the last of them does (each calls this again when it ends). */
static void close_when_idle(struct nr_ctl *ctl)
{
	if (!nr_ctl_save_wait(ctl, close_when_idle) && !nr_ctl_load_wait(ctl, close_when_idle) &&
	    !nr_ctl_bpf_wait(ctl, close_when_idle) && !nr_ctl_send_wait(ctl, close_when_idle) &&
	    !nr_ctl_free_wait(ctl, close_when_idle))
		nr_ctl_close_finish(ctl);
}

static void part_closed(void *data)
{
	struct nr_ctl *ctl = data;

	if (--ctl->open_handles > 0)
		return;
	close_when_idle(ctl);
}

void nr_ctl_close_finish(struct nr_ctl *ctl)
{
	nr_ctl_flight_cancel(ctl);
	nr_ctl_masq_cancel(ctl, "controller closed");
	nr_ctl_pending_finish_all(ctl, -ECANCELED, "controller closed");
	if (ctl->purge_req) {
		nr_ctl_pending_run(ctl, ctl->purge_req, -ECANCELED, "controller closed");
		ctl->purge_req = NULL;
	}
	/* decided before the close, or just cancelled: each runs exactly once */
	nr_ctl_deliver_flush(ctl);
	if (ctl->close_cb)
		ctl->close_cb(ctl, ctl->close_data);
	ctl_free(ctl);
}

static void handle_closed(uv_handle_t *h)
{
	part_closed(h->data);
}

NR_API int nr_ctl_close(struct nr_ctl *ctl, nr_ctl_close_cb close_cb, void *data)
{
	if (!ctl)
		return nr_last_error_set(-EINVAL, "nr_ctl_close: no controller");
	if (ctl->closing)
		return nr_last_error_set(-EALREADY, "controller already closing");
	ctl->closing = true;
	/* a successor may start now: this one changes nothing any more */
	nr_ctl_lock_release(ctl->owner_lock);
	ctl->owner_lock = NULL;
	ctl->close_cb = close_cb;
	ctl->close_data = data;
	nr_ctl_load_cancel(ctl);
	uv_close((uv_handle_t *)&ctl->event_poll, handle_closed);
	uv_close((uv_handle_t *)&ctl->kick_timer, handle_closed);
	uv_close((uv_handle_t *)&ctl->resync_timer, handle_closed);
	uv_close((uv_handle_t *)&ctl->cmd_poll, handle_closed);
	uv_close((uv_handle_t *)&ctl->cmd_timer, handle_closed);
	uv_close((uv_handle_t *)&ctl->step_idle, handle_closed);
	nr_ctl_deliver_close(ctl, handle_closed);
	nr_ctl_masq_close(ctl, handle_closed);
	if (ctl->etcd) {
		ctl->open_handles++;
		nr_etcd_close(ctl->etcd, part_closed, ctl);
		ctl->etcd = NULL;
	}
	return 0;
}
