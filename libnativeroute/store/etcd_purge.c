/* nr_ctl_purge with the etcd store: this node leaves the cluster for good.
 * Before the kernel is touched (so a purge that cannot reach etcd changes
 * nothing): stop joining, watching and renewing; read this node's key and
 * every CIDR claim under ipam/; delete the node key and the claims whose
 * owner is this node, each with a transaction on the mod_revision we read
 * (compare-and-delete: a claim that changed hands meanwhile is read again
 * and left alone when it is not ours any more); revoke the leases we hold.
 * Other nodes see the node key's deletion in their watch and remove its
 * routes at once; its CIDRs are free for the next host at once. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_internal.h"

/* a claim that keeps changing under us (and stays ours) is not worth more */
#define PURGE_TRIES 8

static void purge_next(struct nr_etcd *e);

static void purge_end(struct nr_etcd *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void purge_end(struct nr_etcd *e, int status, const char *fmt, ...)
{
	void (*cb)(struct nr_ctl *, int, const char *) = e->purge_cb;
	char msg[NR_ERR_MSG_MAX] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->purge_cb = NULL;
	e->req = NULL;
	nr_etcd_kvs_free(&e->purge_kvs);
	snprintf(e->why, sizeof(e->why), "%s", msg);
	if (cb)
		cb(e->ctl, status, status < 0 ? msg : NULL);
}

static bool post(struct nr_etcd *e, const char *path, char *body, nr_etcd_http_cb cb)
{
	struct nr_err err = { 0 };

	e->req = body ? nr_etcd_http_post(e->http, path, body, cb, e, &err) : NULL;
	free(body);
	if (!e->req) {
		purge_end(e, err.code ? err.code : -ENOMEM, "etcd purge: %s",
			  err.code ? err.msg : "out of memory");
		return false;
	}
	return true;
}

/* Is this kv one of ours: our node key, or a claim naming us as owner? */
static bool ours(struct nr_etcd *e, const struct nr_etcd_kv *kv)
{
	char owner[256];

	if (!strcmp(kv->key, e->node_key))
		return true;
	return !strncmp(kv->key, e->ipam_prefix, strlen(e->ipam_prefix)) &&
	       nr_etcd_owner_decode(kv->value, kv->value_len, owner, sizeof(owner), NULL) == 0 &&
	       !strcmp(owner, e->name);
}

/* Move our kvs of a range answer to the list of keys to delete. */
static int take_ours(struct nr_etcd *e, struct nr_etcd_kvs *kvs)
{
	for (size_t i = 0; i < kvs->n; i++) {
		struct nr_etcd_kv *v;

		if (!ours(e, &kvs->v[i]))
			continue;
		v = realloc(e->purge_kvs.v, (e->purge_kvs.n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->purge_kvs.v = v;
		v[e->purge_kvs.n++] = kvs->v[i];
		memset(&kvs->v[i], 0, sizeof(kvs->v[i]));
	}
	return 0;
}

/* ---- revoke: the leases go, with anything else still attached ---------- */

static void revoked(void *data, int status, long code, const char *body, size_t len,
		    const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	int rc = nr_etcd_answer(status, code, body, len, msg, "etcd lease revoke", &err);

	e->req = NULL;
	/* already gone is fine; anything else: the lease runs out on its own
	 * (no key of ours is left on it) */
	if (rc < 0 && rc != -ENOENT)
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, e->name, NULL, "etcd purge: %s (it expires "
			    "within its TTL)", err.msg);
	purge_next(e);
}

/* ---- delete -------------------------------------------------------------- */

static void deleted(void *data, int status, long code, const char *body, size_t len,
		    const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	struct nr_etcd_kv *kv = &e->purge_kvs.v[e->purge_at];
	struct nr_etcd_kvs cur;
	bool ok;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd purge: delete", &err) < 0 ||
	    nr_etcd_parse_txn(body, len, &ok, &cur, &err) < 0) {
		purge_end(e, err.code, "%s %s (%zu of our %zu keys deleted; nothing removed from "
			  "the kernel)", err.msg, kv->key, e->purge_deleted, e->purge_kvs.n);
		return;
	}
	if (ok) {
		e->purge_deleted++;
		e->purge_at++;
		e->purge_tries = 0;
	} else if (cur.n == 1 && ours(e, &cur.v[0]) && ++e->purge_tries < PURGE_TRIES) {
		kv->mod_rev = cur.v[0].mod_rev; /* changed, still ours: once more */
	} else {
		e->purge_at++; /* gone, or someone else's now: not ours to delete */
		e->purge_tries = 0;
	}
	nr_etcd_kvs_free(&cur);
	purge_next(e);
}

static void purge_next(struct nr_etcd *e)
{
	if (e->closing)
		return;
	if (e->purge_at < e->purge_kvs.n) {
		const struct nr_etcd_kv *kv = &e->purge_kvs.v[e->purge_at];

		post(e, "/v3/kv/txn", nr_etcd_req_delete_if(kv->key, kv->mod_rev), deleted);
		return;
	}
	if (e->node_lease || e->cidr_lease) {
		int64_t id = e->node_lease ? e->node_lease : e->cidr_lease;

		if (e->node_lease)
			e->node_lease = 0;
		else
			e->cidr_lease = 0;
		post(e, "/v3/lease/revoke", nr_etcd_req_lease_id(id), revoked);
		return;
	}
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, e->name, e->node_key,
		    "etcd: purged: deleted %zu key(s) of this node (%s and its CIDR claims) from %s",
		    e->purge_deleted, e->node_key, nr_etcd_http_endpoint(e->http));
	purge_end(e, 0, "deleted %zu key(s) of this node", e->purge_deleted);
}

/* ---- read what is ours ------------------------------------------------------ */

/* Keep our kvs of a range answer; false when the purge ended. */
static bool listed(struct nr_etcd *e, int status, long code, const char *body, size_t len,
		   const char *msg, const char *what)
{
	struct nr_err err = { 0 };
	struct nr_etcd_kvs kvs;
	int rc;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, what, &err) < 0 ||
	    nr_etcd_parse_range(body, len, &kvs, &err) < 0) {
		purge_end(e, err.code, "etcd purge: %s (nothing deleted, nothing removed from the "
			  "kernel)", err.msg);
		return false;
	}
	rc = take_ours(e, &kvs);
	nr_etcd_kvs_free(&kvs);
	if (rc < 0) {
		purge_end(e, rc, "etcd purge: out of memory");
		return false;
	}
	return true;
}

static void claims_listed(void *data, int status, long code, const char *body, size_t len,
			  const char *msg)
{
	struct nr_etcd *e = data;

	if (listed(e, status, code, body, len, msg, "reading the CIDR claims"))
		purge_next(e);
}

static void node_listed(void *data, int status, long code, const char *body, size_t len,
			const char *msg)
{
	struct nr_etcd *e = data;

	if (listed(e, status, code, body, len, msg, "reading this node's key"))
		post(e, "/v3/kv/range", nr_etcd_req_range(e->ipam_prefix, true), claims_listed);
}

void nr_etcd_purge(struct nr_etcd *e, void (*done)(struct nr_ctl *ctl, int status,
						   const char *msg))
{
	/* nothing may register, claim or renew from now on */
	nr_etcd_req_cancel(e->req);
	nr_etcd_req_cancel(e->watch);
	nr_etcd_req_cancel(e->ka);
	e->req = e->watch = e->ka = NULL;
	uv_timer_stop(&e->retry_timer);
	uv_timer_stop(&e->ka_timer);
	uv_timer_stop(&e->refusal_timer);
	e->phase = NR_ETCD_PURGE;
	e->healthy = false;
	e->purge_cb = done;
	e->purge_at = e->purge_deleted = 0;
	e->purge_tries = 0;
	snprintf(e->why, sizeof(e->why), "deleting this node's keys");
	post(e, "/v3/kv/range", nr_etcd_req_range(e->node_key, false), node_listed);
}
