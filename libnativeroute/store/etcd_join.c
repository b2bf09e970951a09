/* Joining the cluster in etcd, one request at a time:
 *   config   create <cluster>/config if absent, else compare it with ours
 *            (a host with another config stays out, naming the difference)
 *   leases   a node lease (TTL) and a CIDR lease (the grace period)
 *   claim    per family: a block nobody holds, taken with a transaction
 *            that only succeeds while the key does not exist
 *            (create_revision == 0); the block we held before first (sticky)
 *   register nodes/<self> = {name, IPs, CIDRs} under the node lease
 *   list     the nodes, reconciled into the controller; then the watch
 * Any failure drops what is in flight and starts over after a back-off;
 * the kernel keeps its routes meanwhile. Keepalives renew both leases every
 * TTL/3; a lease etcd no longer knows means joining again (same CIDR while
 * it is still ours or free). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_internal.h"

static void join_step(struct nr_etcd *e);

static void retry_cb(uv_timer_t *t)
{
	nr_etcd_join(t->data);
}

void nr_etcd_fail(struct nr_etcd *e, const struct nr_err *err)
{
	if (e->closing || e->phase == NR_ETCD_PURGE)
		return;
	nr_etcd_req_cancel(e->req);
	nr_etcd_req_cancel(e->watch);
	e->req = e->watch = NULL;
	if (e->phase != NR_ETCD_REFUSED)
		e->phase = NR_ETCD_IDLE;
	nr_etcd_set_unhealthy(e, "%s", err->msg);
	if (err->code == -ENOENT) { /* a lease is gone: join again at once */
		e->node_lease = e->cidr_lease = 0;
		e->backoff_ms = 0;
	}
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : NR_ETCD_BACKOFF_MIN_MS;
	if (e->backoff_ms > NR_ETCD_BACKOFF_MAX_MS)
		e->backoff_ms = NR_ETCD_BACKOFF_MAX_MS;
	if (e->phase != NR_ETCD_REFUSED)
		uv_timer_start(&e->retry_timer, retry_cb, e->backoff_ms, 0);
}

/* ---- config ------------------------------------------------------------------- */

static void config_of(const struct nr_cluster_config *c, struct nr_etcd_config *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->ipam, sizeof(out->ipam), "%s", nr_config_ipam_mode_str(c->ipam_mode));
	snprintf(out->mode, sizeof(out->mode), "%s", nr_config_routing_mode_str(c->routing_mode));
	for (unsigned int i = 0; i < c->n_cluster_cidrs && i < 8; i++)
		nr_prefix_str(&c->cluster_cidrs[i], out->cidrs[i], sizeof(out->cidrs[i]));
	out->n_cidrs = c->n_cluster_cidrs < 8 ? c->n_cluster_cidrs : 8;
	out->mask4 = nr_config_mask_size(c, AF_INET);
	out->mask6 = nr_config_mask_size(c, AF_INET6);
}

static void config_done(void *data, int status, long code, const char *body, size_t len,
			const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_etcd_config ours, theirs;
	struct nr_etcd_kvs cur;
	struct nr_err err = { 0 };
	bool ok;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd config", &err) < 0 ||
	    nr_etcd_parse_txn(body, len, &ok, &cur, &err) < 0) {
		nr_etcd_fail(e, &err);
		return;
	}
	if (!ok && cur.n == 1) {
		config_of(nr_model_config(e->ctl->model), &ours);
		if (nr_etcd_config_decode(cur.v[0].value, cur.v[0].value_len, &theirs, &err) < 0 ||
		    nr_etcd_config_compare(&ours, &theirs, &err) < 0) {
			/* the message may be cut: it is for people, the key is in the event */
			if (snprintf(e->refused, sizeof(e->refused), "%s (key %s)", err.msg,
				     e->config_key) < 0)
				e->refused[0] = '\0';
			e->phase = NR_ETCD_REFUSED;
			nr_ctl_emit(e->ctl, NR_EVENT_ERROR, NULL, e->config_key,
				    "etcd: not joining cluster: config differs: %s", e->refused);
			nr_etcd_kvs_free(&cur);
			nr_etcd_fail(e, &err);
			return;
		}
	}
	nr_etcd_kvs_free(&cur);
	e->phase = NR_ETCD_LEASES;
	join_step(e);
}

static void config_step(struct nr_etcd *e)
{
	struct nr_etcd_config c;
	char *value;

	config_of(nr_model_config(e->ctl->model), &c);
	value = nr_etcd_config_encode(&c);
	if (!value) {
		struct nr_err err = { -ENOMEM, "out of memory" };

		nr_etcd_fail(e, &err);
		return;
	}
	nr_etcd_post(e, "/v3/kv/txn", nr_etcd_req_create(e->config_key, value, 0), config_done);
	free(value);
}

/* ---- leases ------------------------------------------------------------------- */

static void grant_done(void *data, int status, long code, const char *body, size_t len,
		       const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	int64_t id, ttl;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd lease grant", &err) < 0 ||
	    nr_etcd_parse_grant(body, len, &id, &ttl, &err) < 0) {
		nr_etcd_fail(e, &err);
		return;
	}
	if (!e->node_lease)
		e->node_lease = id;
	else
		e->cidr_lease = id;
	join_step(e);
}

/* ---- claim ---------------------------------------------------------------------- */

static const char *fam_name(uint8_t family)
{
	return family == AF_INET ? "ipv4" : "ipv6";
}

static struct nr_prefix *claimed_slot(struct nr_etcd *e, uint8_t family)
{
	return family == AF_INET ? &e->claimed4 : &e->claimed6;
}

static char *ipam_key(struct nr_etcd *e, const struct nr_prefix *p)
{
	char cidr[NR_ADDR_STRLEN], part[NR_ETCD_CIDR_LEN];
	size_t n;
	char *key;

	nr_prefix_str(p, cidr, sizeof(cidr));
	nr_etcd_cidr_to_key(cidr, part, sizeof(part));
	n = strlen(e->ipam_prefix) + strlen(part) + 8;
	key = malloc(n);
	if (key)
		snprintf(key, n, "%s%s/%s", e->ipam_prefix, fam_name(p->addr.family), part);
	return key;
}

/* Does this family need a claim: a pool (cluster-pool), or a CIDR the
 * caller gave (kubernetes: the claim only guards against overlap). */
static bool family_claims(struct nr_etcd *e, uint8_t family)
{
	const struct nr_cluster_config *cfg = nr_model_config(e->ctl->model);
	const struct nr_node *self = nr_model_local_node(e->ctl->model);

	if (cfg->ipam_mode == NR_IPAM_CLUSTER_POOL)
		return nr_config_has_pool(cfg, family);
	return self && nr_node_cidr(self, family);
}

static bool excluded(const struct nr_etcd *e, const struct nr_prefix *p)
{
	for (unsigned int i = 0; i < e->n_excluded; i++)
		if (nr_prefix_eq(&e->excluded[i], p))
			return true;
	return false;
}

/* Pick the block to claim from the family's listing: the one etcd says is
 * ours; else the one this node has (saved state: sticky across restarts)
 * when nobody holds it; else the lowest block free in etcd and in the model. */
static int choose_block(struct nr_etcd *e, const struct nr_etcd_kvs *kvs, struct nr_prefix *out,
			int64_t *mine_rev, int64_t *mine_lease, struct nr_err *err)
{
	const struct nr_cluster_config *cfg = nr_model_config(e->ctl->model);
	const struct nr_node *self = nr_model_local_node(e->ctl->model);
	const struct nr_prefix *have = self ? nr_node_cidr(self, e->claim_family) : NULL;
	struct nr_ipam *tmp = NULL;
	bool have_free = have != NULL && !excluded(e, have);
	int rc;

	*mine_rev = *mine_lease = 0;
	for (size_t i = 0; i < kvs->n; i++) {
		const char *part = strrchr(kvs->v[i].key, '/');
		char owner[256], cidr[NR_ETCD_CIDR_LEN];
		struct nr_prefix p;

		if (!part)
			continue;
		nr_etcd_key_to_cidr(part + 1, cidr, sizeof(cidr));
		if (nr_prefix_parse(cidr, &p, NULL) < 0 ||
		    nr_etcd_owner_decode(kvs->v[i].value, kvs->v[i].value_len, owner, sizeof(owner),
					 NULL) < 0)
			continue;
		if (!strcmp(owner, e->name) && !excluded(e, &p) &&
		    (!*mine_rev || (have && nr_prefix_eq(have, &p)))) {
			*out = p;
			*mine_rev = kvs->v[i].mod_rev;
			*mine_lease = kvs->v[i].lease;
		} else if (have && strcmp(owner, e->name) && nr_prefix_overlaps(have, &p)) {
			have_free = false;
		}
	}
	if (*mine_rev)
		return 0;
	if (cfg->ipam_mode == NR_IPAM_KUBERNETES) {
		if (!have_free)
			return nr_err_set(err, -EEXIST, "pod CIDR of this node is held by another node "
					  "in etcd (%s)", e->ipam_prefix);
		*out = *have;
		return 0;
	}
	if (have_free) {
		*out = *have;
		return 0;
	}
	/* lowest free: a scratch IPAM with every block etcd or the model holds */
	rc = nr_ipam_new(cfg, &tmp, err);
	for (size_t i = 0; rc == 0 && i < kvs->n; i++) {
		const char *part = strrchr(kvs->v[i].key, '/');
		char cidr[NR_ETCD_CIDR_LEN];
		struct nr_prefix p;

		nr_etcd_key_to_cidr(part ? part + 1 : "", cidr, sizeof(cidr));
		if (nr_prefix_parse(cidr, &p, NULL) == 0)
			nr_ipam_claim(tmp, &p, "etcd", NULL);
	}
	for (unsigned int i = 0; rc == 0 && i < e->n_excluded; i++)
		nr_ipam_claim(tmp, &e->excluded[i], "lost", NULL);
	for (const struct nr_node *n = NULL; rc == 0 && (n = nr_model_node_next(e->ctl->model, n));) {
		const struct nr_prefix *c = nr_node_cidr(n, e->claim_family);

		if (n != self && c)
			nr_ipam_claim(tmp, c, n->name, NULL);
	}
	if (rc == 0)
		rc = nr_ipam_allocate(tmp, e->claim_family, e->name, out, err);
	nr_ipam_free(tmp);
	return rc;
}

static void claim_list(struct nr_etcd *e);

static void claim_done(void *data, int status, long code, const char *body, size_t len,
		       const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	struct nr_etcd_kvs cur;
	bool ok;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd CIDR claim", &err) < 0 ||
	    nr_etcd_parse_txn(body, len, &ok, &cur, &err) < 0) {
		nr_etcd_fail(e, &err);
		return;
	}
	nr_etcd_kvs_free(&cur);
	if (ok) {
		*claimed_slot(e, e->claim_family) = e->claim_want;
		e->claim_family = e->claim_family == AF_INET ? AF_INET6 : 0;
		join_step(e);
		return;
	}
	/* another host was faster (or it changed under us): list again */
	if (e->n_excluded < NR_ETCD_CLAIM_TRIES)
		e->excluded[e->n_excluded++] = e->claim_want;
	if (++e->claim_tries >= NR_ETCD_CLAIM_TRIES) {
		nr_err_set(&err, -EAGAIN, "etcd: lost %u CIDR claims in a row; retrying",
			   e->claim_tries);
		nr_etcd_fail(e, &err);
		return;
	}
	claim_list(e);
}

static void claim_listed(void *data, int status, long code, const char *body, size_t len,
			 const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	struct nr_etcd_kvs kvs;
	int64_t mine_rev, mine_lease;
	char *key, *value, *req;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd IPAM list", &err) < 0 ||
	    nr_etcd_parse_range(body, len, &kvs, &err) < 0) {
		nr_etcd_fail(e, &err);
		return;
	}
	if (choose_block(e, &kvs, &e->claim_want, &mine_rev, &mine_lease, &err) < 0) {
		nr_etcd_kvs_free(&kvs);
		nr_etcd_fail(e, &err);
		return;
	}
	nr_etcd_kvs_free(&kvs);
	if (mine_rev && mine_lease == e->cidr_lease) { /* already ours, under this lease */
		*claimed_slot(e, e->claim_family) = e->claim_want;
		e->claim_family = e->claim_family == AF_INET ? AF_INET6 : 0;
		join_step(e);
		return;
	}
	key = ipam_key(e, &e->claim_want);
	value = nr_etcd_owner_encode(e->name);
	/* ours from before (another lease): move it to this lease, unless it
	 * changed meanwhile; else create it, unless it exists */
	req = !key || !value ? NULL
	      : mine_rev     ? nr_etcd_req_swap(key, value, e->cidr_lease, mine_rev)
			     : nr_etcd_req_create(key, value, e->cidr_lease);
	free(key);
	free(value);
	nr_etcd_post(e, "/v3/kv/txn", req, claim_done);
}

static void claim_list(struct nr_etcd *e)
{
	char *prefix = malloc(strlen(e->ipam_prefix) + 8);

	if (prefix)
		sprintf(prefix, "%s%s/", e->ipam_prefix, fam_name(e->claim_family));
	nr_etcd_post(e, "/v3/kv/range", prefix ? nr_etcd_req_range(prefix, true) : NULL,
		     claim_listed);
	free(prefix);
}

static void local_moved(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	(void)data;
	if (status < 0 && status != -ECANCELED)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, nr_model_local_name(ctl->model), NULL,
			    "etcd: programming this node's claimed CIDR failed: %s", errmsg);
}

/* The claims are made: the model's local node takes them (a fresh node's
 * first guess may have been someone else's block). */
static int adopt_claims(struct nr_etcd *e, struct nr_err *err)
{
	const struct nr_node *self = nr_model_local_node(e->ctl->model);
	char ip4[NR_ADDR_STRLEN], ip6[NR_ADDR_STRLEN], c4[NR_ADDR_STRLEN], c6[NR_ADDR_STRLEN];
	const char *cidrs[3] = { NULL, NULL, NULL };
	bool same = true;
	int n = 0, rc;

	for (int i = 0; i < 2; i++) {
		uint8_t fam = i ? AF_INET6 : AF_INET;
		const struct nr_prefix *c = claimed_slot(e, fam);
		const struct nr_prefix *h = nr_node_cidr(self, fam);

		if (!c->addr.family)
			continue;
		same = same && h && nr_prefix_eq(c, h);
		cidrs[n++] = nr_prefix_str(c, i ? c6 : c4, NR_ADDR_STRLEN);
	}
	if (!same) {
		NR_OPTS(nr_node_spec, spec, .name = e->name,
			.ipv4 = nr_addr_str(&self->ip4, ip4, sizeof(ip4)),
			.ipv6 = nr_addr_str(&self->ip6, ip6, sizeof(ip6)), .pod_cidrs = cidrs);

		rc = nr_ctl_node_update(e->ctl, &spec, local_moved, NULL);
		if (rc < 0)
			return nr_err_set(err, rc, "etcd gave this node %s but it cannot move there: %s",
					  cidrs[0], nr_last_errmsg());
	}
	e->cidr_confirmed = true;
	return 0;
}

/* ---- register --------------------------------------------------------------------- */

static void registered(struct nr_etcd *e)
{
	free(e->registered);
	e->registered = e->registering;
	e->registering = NULL;
	e->foreign_rev = 0;
	e->foreign[0] = '\0';
}

/* The answer to a put of this node's key: on success the value put is the
 * registered one; on failure the store fails over (nr_etcd_fail). */
static int registration_answer(struct nr_etcd *e, int status, long code, const char *body,
			       size_t len, const char *msg)
{
	struct nr_err err = { 0 };

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd node registration", &err) < 0) {
		nr_etcd_fail(e, &err);
		return -1;
	}
	registered(e);
	return 0;
}

static void reregister_done(void *data, int status, long code, const char *body, size_t len,
			    const char *msg)
{
	struct nr_etcd *e = data;

	if (registration_answer(e, status, code, body, len, msg) < 0)
		return;
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, e->name, e->node_key,
		    "etcd: this node's registration updated: %s", e->registered);
}

void nr_etcd_reregister(struct nr_etcd *e)
{
	char *value;

	if (e->closing || e->phase != NR_ETCD_WATCH || e->req || !e->registered)
		return;
	value = nr_etcd_self_value(e);
	if (!value || !strcmp(value, e->registered)) {
		free(value);
		return;
	}
	free(e->registering);
	e->registering = value;
	nr_etcd_post(e, "/v3/kv/put", nr_etcd_req_put(e->node_key, value, e->node_lease),
		     reregister_done);
}

static void register_done(void *data, int status, long code, const char *body, size_t len,
			  const char *msg)
{
	struct nr_etcd *e = data;

	if (registration_answer(e, status, code, body, len, msg) < 0)
		return;
	e->phase = NR_ETCD_LIST;
	nr_etcd_keepalive_start(e);
	nr_etcd_list_nodes(e);
}

/* ---- the sequence ------------------------------------------------------------------- */

static void join_step(struct nr_etcd *e)
{
	struct nr_err err = { 0 };

	if (e->closing)
		return;
	switch (e->phase) {
	case NR_ETCD_CONFIG:
		config_step(e);
		return;
	case NR_ETCD_LEASES:
		if (!e->node_lease || !e->cidr_lease) {
			nr_etcd_post(e, "/v3/lease/grant",
				     nr_etcd_req_lease_grant(e->node_lease ? e->grace_s : e->ttl_s),
				     grant_done);
			return;
		}
		e->phase = NR_ETCD_CLAIM;
		e->claim_family = AF_INET;
		e->claim_tries = 0;
		e->n_excluded = 0;
		memset(&e->claimed4, 0, sizeof(e->claimed4));
		memset(&e->claimed6, 0, sizeof(e->claimed6));
		/* fall through */
	case NR_ETCD_CLAIM:
		while (e->claim_family && !family_claims(e, e->claim_family))
			e->claim_family = e->claim_family == AF_INET ? AF_INET6 : 0;
		if (e->claim_family) {
			claim_list(e);
			return;
		}
		if (adopt_claims(e, &err) < 0) {
			nr_etcd_fail(e, &err);
			return;
		}
		e->phase = NR_ETCD_REGISTER;
		/* fall through */
	case NR_ETCD_REGISTER: {
		char *value = nr_etcd_self_value(e);

		free(e->registering);
		e->registering = value;
		nr_etcd_post(e, "/v3/kv/put",
			     value ? nr_etcd_req_put(e->node_key, value, e->node_lease) : NULL,
			     register_done);
		return;
	}
	default:
		return;
	}
}

void nr_etcd_join(struct nr_etcd *e)
{
	if (e->closing || e->phase == NR_ETCD_REFUSED || e->phase == NR_ETCD_PURGE)
		return;
	nr_etcd_req_cancel(e->req);
	nr_etcd_req_cancel(e->watch);
	e->req = e->watch = NULL;
	e->phase = NR_ETCD_CONFIG;
	join_step(e);
}

/* ---- keepalive ------------------------------------------------------------------------ */

static void ka_send(struct nr_etcd *e, int64_t lease, bool cidr);

static void ka_done(void *data, int status, long code, const char *body, size_t len,
		    const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	int64_t ttl = 0;
	bool cidr = e->ka_cidr;

	e->ka = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd lease keepalive", &err) == -ENOENT) {
		ttl = 0; /* "requested lease not found": as lost as an expired one */
	} else if (err.code < 0 || nr_etcd_parse_keepalive(body, len, &ttl, &err) < 0) {
		e->ka_ok = false;
		nr_etcd_set_unhealthy(e, "%s", err.msg);
		return; /* the next tick tries again (on the next endpoint) */
	}
	if (ttl <= 0) {
		/* expired (we were away longer than the TTL): join again; the
		 * claim finds our block if it is still ours or free */
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, e->name, NULL,
			    "etcd: the %s lease expired; registering again",
			    cidr ? "CIDR" : "node");
		if (cidr)
			e->cidr_lease = 0;
		else
			e->node_lease = 0;
		e->ka_ok = true;
		e->backoff_ms = 0;
		nr_etcd_set_unhealthy(e, "the %s lease expired; registering again",
				      cidr ? "CIDR" : "node");
		nr_etcd_join(e);
		return;
	}
	if (!cidr && e->cidr_lease) {
		ka_send(e, e->cidr_lease, true);
		return;
	}
	e->ka_ok = true;
	nr_etcd_set_healthy(e);
}

/* Each member tried gets TTL/6 (at least 0.5 s): with a hung member the
 * next one still renews the lease in time. */
static unsigned int ka_timeout_ms(const struct nr_etcd *e)
{
	return e->ttl_s * 1000 / 6 > 500 ? e->ttl_s * 1000 / 6 : 500;
}

static void ka_send(struct nr_etcd *e, int64_t lease, bool cidr)
{
	struct nr_err err = { 0 };
	char *body = nr_etcd_req_lease_id(lease);
	unsigned int timeout = ka_timeout_ms(e);

	e->ka_cidr = cidr;
	e->ka = body ? nr_etcd_http_post_timeout(e->http, "/v3/lease/keepalive", body, timeout,
						 ka_done, e, &err)
		     : NULL;
	free(body);
	if (!e->ka) {
		e->ka_ok = false;
		nr_etcd_set_unhealthy(e, "%s", err.msg[0] ? err.msg : "out of memory");
	}
}

static void ka_tick(uv_timer_t *t)
{
	struct nr_etcd *e = t->data;

	/* members that failed: do they answer again? (the status names them
	 * until they do) */
	nr_etcd_http_probe(e->http, ka_timeout_ms(e));
	nr_etcd_watch_check(e);
	nr_etcd_reregister(e);
	if (e->ka || !e->node_lease)
		return; /* the previous one still runs (a slow member) */
	ka_send(e, e->node_lease, false);
}

void nr_etcd_keepalive_start(struct nr_etcd *e)
{
	unsigned int every = e->ttl_s * 1000 / 3;

	e->ka_ok = true;
	uv_timer_start(&e->ka_timer, ka_tick, every, every);
}
