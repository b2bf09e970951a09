/* The nodes in etcd -> the controller. A list gives the full picture at a
 * revision (remote nodes not in it are removed, the others added or
 * updated); a watch from the next revision then delivers each change. A
 * watch that ends is resumed from the last revision seen; one whose
 * revision was compacted away lists again. Changes go through the ordinary
 * node calls, so they are checked, planned and programmed like a caller's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_internal.h"

#define RESYNC_AFTER_REFUSAL_MS 5000

char *nr_etcd_self_value(struct nr_etcd *e)
{
	const struct nr_node *self = nr_model_local_node(e->ctl->model);
	struct nr_etcd_node n = { 0 };

	if (!self)
		return NULL;
	snprintf(n.name, sizeof(n.name), "%s", e->name);
	nr_addr_str(&self->ip4, n.ipv4, sizeof(n.ipv4));
	nr_addr_str(&self->ip6, n.ipv6, sizeof(n.ipv6));
	nr_prefix_str(&self->cidr4, n.cidr4, sizeof(n.cidr4));
	nr_prefix_str(&self->cidr6, n.cidr6, sizeof(n.cidr6));
	return nr_etcd_node_encode(&n);
}

static void resync_cb(uv_timer_t *t)
{
	struct nr_etcd *e = t->data;

	if (e->phase == NR_ETCD_WATCH) {
		nr_etcd_req_cancel(e->watch);
		e->watch = NULL;
		e->phase = NR_ETCD_LIST;
		nr_etcd_list_nodes(e);
	}
}

static void fed_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	(void)data;
	if (status < 0 && status != -ECANCELED)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "etcd node: %s", errmsg);
}

/* The name part of nodes/<name>, or NULL for a key that is not a node. */
static const char *node_name_of(struct nr_etcd *e, const char *key)
{
	size_t n = strlen(e->nodes_prefix);

	if (strncmp(key, e->nodes_prefix, n) || !key[n] || strchr(key + n, '/'))
		return NULL;
	return key + n;
}

static bool same_node(const struct nr_node *m, const struct nr_etcd_node *n)
{
	char a[NR_ADDR_STRLEN], b[NR_ADDR_STRLEN], c[NR_ADDR_STRLEN], d[NR_ADDR_STRLEN];

	return !strcmp(nr_addr_str(&m->ip4, a, sizeof(a)), n->ipv4) &&
	       !strcmp(nr_addr_str(&m->ip6, b, sizeof(b)), n->ipv6) &&
	       !strcmp(nr_prefix_str(&m->cidr4, c, sizeof(c)), n->cidr4) &&
	       !strcmp(nr_prefix_str(&m->cidr6, d, sizeof(d)), n->cidr6);
}

/* Add or update one remote node; a refusal (say, its CIDR overlaps a node
 * whose removal we have not seen yet) is reported and retried by a list. */
static void apply_put(struct nr_etcd *e, const char *name, const struct nr_etcd_kv *kv)
{
	struct nr_etcd_node n;
	struct nr_err err = { 0 };
	const struct nr_node *m;
	const char *cidrs[3] = { NULL, NULL, NULL };
	int k = 0, rc;

	if (nr_etcd_node_decode(kv->value, kv->value_len, &n, &err) < 0) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, kv->key, "etcd: ignoring %s: %s", kv->key,
			    err.msg);
		return;
	}
	if (strcmp(n.name, name)) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, kv->key,
			    "etcd: ignoring %s: it names node %s", kv->key, n.name);
		return;
	}
	if (!strcmp(name, e->name))
		return; /* our own registration */
	m = nr_model_node_get(e->ctl->model, name);
	if (m && same_node(m, &n))
		return;
	if (*n.cidr4)
		cidrs[k++] = n.cidr4;
	if (*n.cidr6)
		cidrs[k++] = n.cidr6;
	{
		NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = n.ipv4, .ipv6 = n.ipv6,
			.pod_cidrs = cidrs);

		e->feeding = true;
		rc = m ? nr_ctl_node_update(e->ctl, &spec, fed_done, NULL)
		       : nr_ctl_node_add(e->ctl, &spec, fed_done, NULL);
		e->feeding = false;
	}
	if (rc < 0) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, kv->key, "etcd: node %s not applied: %s",
			    name, nr_last_errmsg());
		uv_timer_start(&e->resync_timer, resync_cb, RESYNC_AFTER_REFUSAL_MS, 0);
	}
}

static void apply_delete(struct nr_etcd *e, const char *name)
{
	if (!strcmp(name, e->name)) {
		/* someone deleted our key: put it back */
		struct nr_err err = { 0 };

		nr_err_set(&err, -EAGAIN, "this node's key %s was deleted; registering again",
			   e->node_key);
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, e->node_key, "etcd: %s", err.msg);
		nr_etcd_fail(e, &err);
		e->backoff_ms = 0;
		return;
	}
	if (!nr_model_node_get(e->ctl->model, name))
		return;
	e->feeding = true;
	if (nr_ctl_node_remove(e->ctl, name, fed_done, NULL) < 0)
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, NULL, "etcd: node %s not removed: %s", name,
			    nr_last_errmsg());
	e->feeding = false;
}

/* ---- list ---------------------------------------------------------------------- */

static bool listed(const struct nr_etcd_kvs *kvs, struct nr_etcd *e, const char *name)
{
	for (size_t i = 0; i < kvs->n; i++) {
		const char *n = node_name_of(e, kvs->v[i].key);

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

static void list_done(void *data, int status, long code, const char *body, size_t len,
		      const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };
	struct nr_etcd_kvs kvs;
	char **gone = NULL;
	size_t n_gone = 0, cap = nr_model_node_count(e->ctl->model);
	bool self_listed = false;

	e->req = NULL;
	if (nr_etcd_answer(status, code, body, len, msg, "etcd node list", &err) < 0 ||
	    nr_etcd_parse_range(body, len, &kvs, &err) < 0) {
		nr_etcd_fail(e, &err);
		return;
	}
	/* remote nodes etcd no longer has: names first, the model changes after */
	gone = calloc(cap ? cap : 1, sizeof(char *));
	for (const struct nr_node *m = NULL; gone && (m = nr_model_node_next(e->ctl->model, m));)
		if (strcmp(m->name, e->name) && !listed(&kvs, e, m->name) && n_gone < cap)
			gone[n_gone++] = m->name;
	for (size_t i = 0; i < n_gone; i++) {
		char *name = strdup(gone[i]);

		if (name)
			apply_delete(e, name);
		free(name);
	}
	free(gone);
	e->remote_nodes = 0;
	for (size_t i = 0; i < kvs.n; i++) {
		const char *name = node_name_of(e, kvs.v[i].key);

		if (!name)
			continue;
		if (!strcmp(name, e->name))
			self_listed = true;
		else
			e->remote_nodes++;
		apply_put(e, name, &kvs.v[i]);
	}
	e->revision = kvs.revision;
	e->watch_from = kvs.revision + 1;
	nr_etcd_kvs_free(&kvs);
	if (!self_listed) {
		nr_err_set(&err, -EAGAIN, "this node's key %s is missing; registering again",
			   e->node_key);
		nr_etcd_fail(e, &err);
		return;
	}
	nr_etcd_watch_start(e);
}

void nr_etcd_list_nodes(struct nr_etcd *e)
{
	e->phase = NR_ETCD_LIST;
	nr_etcd_post(e, "/v3/kv/range", nr_etcd_req_range(e->nodes_prefix, true), list_done);
}

/* ---- watch ----------------------------------------------------------------------- */

static int watch_line(void *data, const char *line, size_t len)
{
	struct nr_etcd *e = data;
	struct nr_etcd_watch_msg m;
	struct nr_err err = { 0 };

	if (nr_etcd_parse_watch(line, len, &m, &err) < 0) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, NULL, NULL, "etcd watch: %s", err.msg);
		return 0;
	}
	if (m.error_code || (m.canceled && !m.compact_revision)) {
		nr_err_set(&err, -EIO, "etcd watch ended: %s",
			   m.cancel_reason[0] ? m.cancel_reason : "canceled");
		nr_etcd_watch_msg_free(&m);
		e->watch = NULL; /* freed by the stream's end */
		nr_etcd_fail(e, &err);
		return 1;
	}
	if (m.canceled) {
		/* we were behind a compaction: the list is the only truth left */
		nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, NULL,
			    "etcd: revision %lld was compacted (now %lld); listing the nodes again",
			    (long long)e->watch_from, (long long)m.compact_revision);
		nr_etcd_watch_msg_free(&m);
		e->watch = NULL;
		nr_etcd_list_nodes(e);
		return 1;
	}
	if (m.created) {
		e->watch_created = true;
		e->phase = NR_ETCD_WATCH;
		e->backoff_ms = 0;
		nr_etcd_set_healthy(e);
	}
	for (size_t i = 0; i < m.n_events; i++) {
		const struct nr_etcd_kv *kv = &m.events[i].kv;
		const char *name = node_name_of(e, kv->key);

		if (kv->mod_rev >= e->watch_from)
			e->watch_from = kv->mod_rev + 1;
		if (!name)
			continue;
		if (m.events[i].deleted) {
			if (strcmp(name, e->name) && nr_model_node_get(e->ctl->model, name) &&
			    e->remote_nodes)
				e->remote_nodes--;
			apply_delete(e, name);
		} else {
			if (strcmp(name, e->name) && !nr_model_node_get(e->ctl->model, name))
				e->remote_nodes++;
			apply_put(e, name, kv);
		}
		if (e->phase != NR_ETCD_WATCH) /* apply_delete of our own key restarted the join */
			break;
	}
	if (m.revision > e->revision)
		e->revision = m.revision;
	nr_etcd_watch_msg_free(&m);
	return e->phase == NR_ETCD_WATCH || e->phase == NR_ETCD_LIST ? 0 : 1;
}

static void resume_cb(uv_timer_t *t)
{
	struct nr_etcd *e = t->data;

	if (e->phase == NR_ETCD_WATCH && !e->watch)
		nr_etcd_watch_start(e);
}

static void watch_end(void *data, int status, long code, const char *body, size_t len,
		      const char *msg)
{
	struct nr_etcd *e = data;
	struct nr_err err = { 0 };

	e->watch = NULL;
	(void)len;
	if (status < 0)
		nr_err_set(&err, status, "etcd watch on %s: %s", nr_etcd_http_endpoint(e->http),
			   msg ? msg : "failed");
	else if (code != 200)
		nr_err_set(&err, -EIO, "etcd watch: HTTP %ld: %.100s", code, body);
	else
		nr_err_set(&err, -EPIPE, "etcd watch on %s: the stream ended",
			   nr_etcd_http_endpoint(e->http));
	/* the member went away (or closed the stream): resume on another
	 * endpoint from the next revision we need (a compacted one lists
	 * again); a watch that never got going means etcd is not there: join
	 * again with back-off */
	nr_etcd_http_rotate(e->http);
	if (!e->watch_created) {
		nr_etcd_fail(e, &err);
		return;
	}
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, NULL, "%s; resuming from revision %lld",
		    err.msg, (long long)e->watch_from);
	uv_timer_start(&e->retry_timer, resume_cb, NR_ETCD_BACKOFF_MIN_MS, 0);
}

void nr_etcd_watch_start(struct nr_etcd *e)
{
	struct nr_err err = { 0 };
	char *body = nr_etcd_req_watch(e->nodes_prefix, e->watch_from);

	e->watch_created = false;

	e->watch = body ? nr_etcd_http_stream(e->http, "/v3/watch", body, watch_line, watch_end, e,
					      &err)
			: NULL;
	free(body);
	if (!e->watch) {
		if (!err.code)
			nr_err_set(&err, -ENOMEM, "out of memory");
		nr_etcd_fail(e, &err);
	}
}
