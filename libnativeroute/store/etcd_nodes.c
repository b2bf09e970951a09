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
#include "util/last_error.h"

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

/* One node call's outcome: which version of which key it applied. */
struct fed {
	struct nr_etcd *e;
	int64_t mod_rev;
	size_t value_len;
	char *key, *value;
	char name[];
};

static void fed_free(struct fed *f)
{
	if (f) {
		free(f->key);
		free(f->value);
	}
	free(f);
}

static struct fed *fed_new(struct nr_etcd *e, const char *name, const struct nr_etcd_kv *kv)
{
	struct fed *f = calloc(1, sizeof(*f) + strlen(name) + 1);

	if (!f)
		return NULL;
	f->e = e;
	strcpy(f->name, name);
	if (kv) {
		f->mod_rev = kv->mod_rev;
		f->value_len = kv->value_len;
		f->key = strdup(kv->key);
		f->value = malloc(kv->value_len + 1);
		if (!f->key || !f->value) {
			fed_free(f);
			return NULL;
		}
		memcpy(f->value, kv->value, kv->value_len + 1);
	}
	return f;
}

static void fed_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct fed *f = data;

	/* -ECANCELED: the controller (and the store with it) is closing */
	if (f && status != -ECANCELED) {
		if (status < 0 && f->key)
			/* refused in the pass (say, its IP is not directly reachable) */
			nr_etcd_refused_note(f->e, f->name, f->key, f->value, f->value_len,
					     f->mod_rev, errmsg ? errmsg : "refused");
		else if (status < 0)
			nr_ctl_emit(ctl, NR_EVENT_ERROR, f->name, NULL, "etcd node %s: %s", f->name,
				    errmsg);
		else if (f->key) {
			nr_etcd_refused_clear(f->e, f->name, f->mod_rev, true);
			/* an overlap with this node may have been what refused another */
			nr_etcd_refused_retry_soon(f->e);
		} else {
			nr_etcd_refused_retry_soon(f->e);
		}
	}
	fed_free(f);
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

/* Add or update one remote node. A refusal (its CIDR overlaps another
 * node's, its IP is not reachable as the mode demands) is remembered with
 * the key's revision: see etcd_refused.c. */
void nr_etcd_node_apply(struct nr_etcd *e, const char *name, const struct nr_etcd_kv *kv)
{
	struct nr_etcd_node n;
	struct nr_err err = { 0 };
	const struct nr_node *m;
	const char *cidrs[3] = { NULL, NULL, NULL };
	struct fed *f;
	int k = 0, rc;

	if (nr_etcd_refused_same(e, name, kv->mod_rev))
		return; /* refused as it is: waits for a trigger (etcd_refused.c) */
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
	if (m && same_node(m, &n)) {
		nr_etcd_refused_clear(e, name, kv->mod_rev, true);
		return;
	}
	if (*n.cidr4)
		cidrs[k++] = n.cidr4;
	if (*n.cidr6)
		cidrs[k++] = n.cidr6;
	{
		NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = n.ipv4, .ipv6 = n.ipv6,
			.pod_cidrs = cidrs);

		f = fed_new(e, name, kv);
		e->feeding = true;
		rc = !f ? nr_last_error_set(-ENOMEM, "out of memory")
		   : m  ? nr_ctl_node_update(e->ctl, &spec, fed_done, f)
			: nr_ctl_node_add(e->ctl, &spec, fed_done, f);
		e->feeding = false;
	}
	if (rc < 0) {
		fed_free(f);
		nr_etcd_refused_note(e, name, kv->key, kv->value, kv->value_len, kv->mod_rev,
				     nr_last_errmsg());
	}
}

static void apply_delete(struct nr_etcd *e, const char *name)
{
	struct fed *f;

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
	nr_etcd_refused_clear(e, name, 0, false);
	if (!nr_model_node_get(e->ctl->model, name))
		return;
	f = fed_new(e, name, NULL);
	e->feeding = true;
	if (!f || nr_ctl_node_remove(e->ctl, name, fed_done, f) < 0) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, NULL, "etcd: node %s not removed: %s", name,
			    f ? nr_last_errmsg() : "out of memory");
		fed_free(f);
	}
	e->feeding = false;
}

static bool is_value(const struct nr_etcd_kv *kv, const char *v)
{
	return v && kv->value_len == strlen(v) && !memcmp(kv->value, v, kv->value_len);
}

void nr_etcd_self_seen(struct nr_etcd *e, const struct nr_etcd_kv *kv)
{
	struct nr_etcd_node n;

	if (is_value(kv, e->registered) || is_value(kv, e->registering)) {
		e->foreign_rev = 0;
		e->foreign[0] = '\0';
		return;
	}
	if (!e->registered || kv->mod_rev == e->foreign_rev)
		return;
	/* someone else wrote our key: most likely a second host started with
	 * this node's name. Putting ours back would start a tug of war: say
	 * it (once per version), and the status shows it until it ends */
	e->foreign_rev = kv->mod_rev;
	if (nr_etcd_node_decode(kv->value, kv->value_len, &n, NULL) == 0)
		snprintf(e->foreign, sizeof(e->foreign), "this node's key %s holds another "
			 "registration (ipv4 %s%s%s): two hosts named %s?", kv->key,
			 n.ipv4[0] ? n.ipv4 : "none", n.ipv6[0] ? ", ipv6 " : "", n.ipv6, e->name);
	else
		snprintf(e->foreign, sizeof(e->foreign), "this node's key %s holds a value it did "
			 "not write", kv->key);
	nr_ctl_emit(e->ctl, NR_EVENT_ERROR, e->name, kv->key, "etcd: %s (revision %lld)",
		    e->foreign, (long long)kv->mod_rev);
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
	/* refused nodes etcd no longer has: nothing to try again */
	for (size_t i = e->n_refused; i-- > 0;) /* (a drop moves the last one to i) */
		if (!listed(&kvs, e, nr_etcd_refused_name(e, i)))
			nr_etcd_refused_clear(e, nr_etcd_refused_name(e, i), 0, false);
	e->remote_nodes = 0;
	for (size_t i = 0; i < kvs.n; i++) {
		const char *name = node_name_of(e, kvs.v[i].key);

		if (!name)
			continue;
		if (!strcmp(name, e->name)) {
			self_listed = true;
			nr_etcd_self_seen(e, &kvs.v[i]);
		} else
			e->remote_nodes++;
		nr_etcd_node_apply(e, name, &kvs.v[i]);
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
		nr_err_set(&err, -EIO, "etcd watch on %s ended: %s", e->watch_ep,
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
		if (e->watch)
			snprintf(e->watch_ep, sizeof(e->watch_ep), "%s", nr_etcd_req_endpoint(e->watch));
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
			if (!strcmp(name, e->name))
				nr_etcd_self_seen(e, kv);
			nr_etcd_node_apply(e, name, kv);
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
	/* a transport failure names the member and moved the client on */
	if (status < 0)
		nr_err_set(&err, status, "etcd watch: %s", msg ? msg : "failed");
	else if (code != 200)
		nr_err_set(&err, -EIO, "etcd watch on %s: HTTP %ld: %.100s", e->watch_ep, code, body);
	else
		nr_err_set(&err, -EPIPE, "etcd watch on %s: the stream ended", e->watch_ep);
	/* resume on another member from the next revision we need (a
	 * compacted one lists again); a watch that never got going means etcd
	 * is not there: join again with back-off */
	if (status >= 0 && !strcmp(e->watch_ep, nr_etcd_http_endpoint(e->http)))
		nr_etcd_http_rotate(e->http);
	if (!e->watch_created) {
		nr_etcd_fail(e, &err);
		return;
	}
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, NULL, "%s; resuming from revision %lld",
		    err.msg, (long long)e->watch_from);
	uv_timer_start(&e->retry_timer, resume_cb, NR_ETCD_BACKOFF_MIN_MS, 0);
}

/* A member that fails a request may still hold our watch: a hung member
 * (stopped, overloaded, cut off behind a proxy) keeps the TCP connection
 * and its keepalives answered by the kernel, so the stream would wait for
 * events forever. Move the watch to the member the client uses now. */
static void watch_check_cb(uv_timer_t *t)
{
	struct nr_etcd *e = t->data;
	char from[256];

	if (e->closing || e->phase != NR_ETCD_WATCH || !e->watch || !e->watch_created ||
	    !nr_etcd_req_endpoint_failed(e->watch))
		return;
	snprintf(from, sizeof(from), "%s", nr_etcd_req_endpoint(e->watch));
	nr_etcd_req_cancel(e->watch);
	e->watch = NULL;
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, NULL,
		    "etcd watch on %s: that member does not answer; resuming from revision %lld "
		    "on %s", from, (long long)e->watch_from, nr_etcd_http_endpoint(e->http));
	nr_etcd_watch_start(e);
}

void nr_etcd_watch_check(struct nr_etcd *e)
{
	if (!e->closing && e->phase == NR_ETCD_WATCH && e->watch && e->watch_created &&
	    nr_etcd_req_endpoint_failed(e->watch))
		uv_timer_start(&e->retry_timer, watch_check_cb, 0, 0);
}

void nr_etcd_watch_start(struct nr_etcd *e)
{
	struct nr_err err = { 0 };
	char *body = nr_etcd_req_watch(e->nodes_prefix, e->watch_from);

	e->watch_created = false;
	snprintf(e->watch_ep, sizeof(e->watch_ep), "%s", nr_etcd_http_endpoint(e->http));

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
