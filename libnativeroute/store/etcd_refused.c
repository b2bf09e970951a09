/* Remote nodes this controller refused (a node IP not directly reachable
 * with auto-direct-node-routes, a CIDR that overlaps another node's, ...).
 *
 * A refusal is a fact about one version of the node's key (its
 * mod_revision) and about this host: the same key refused again gives the
 * same answer until the key changes, another node changes (an overlap may
 * be gone), or the local reason may have changed (a link, address or route
 * event that touched how node IPs are reached, a mode change). So each
 * refusal is remembered with the value that was refused, reported once (an
 * error event, and the status), and tried again only on those triggers, or
 * after a back-off that doubles up to RETRY_MAX_MS - never by listing etcd
 * again: the watch already tells us every change of the key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_internal.h"

#define RETRY_MIN_MS 5000
#define RETRY_MAX_MS (5 * 60 * 1000)
#define RETRY_SOON_MS 100 /* coalesces a burst of triggers */

struct nr_etcd_refusal {
	char *name;
	char *key;
	char *value;
	size_t value_len;
	int64_t mod_rev;
	char why[NR_ERR_MSG_MAX];
};

static struct nr_etcd_refusal *find(struct nr_etcd *e, const char *name)
{
	for (size_t i = 0; i < e->n_refused; i++)
		if (!strcmp(e->refusals[i].name, name))
			return &e->refusals[i];
	return NULL;
}

static void drop(struct nr_etcd *e, struct nr_etcd_refusal *r)
{
	free(r->name);
	free(r->key);
	free(r->value);
	*r = e->refusals[--e->n_refused];
	if (!e->n_refused)
		uv_timer_stop(&e->refusal_timer);
}

bool nr_etcd_refused_same(struct nr_etcd *e, const char *name, int64_t mod_rev)
{
	const struct nr_etcd_refusal *r = find(e, name);

	return r && r->mod_rev == mod_rev && !e->refusal_retrying;
}

static void retry_cb(uv_timer_t *t);

static void schedule(struct nr_etcd *e, unsigned int ms)
{
	if (e->closing || !e->n_refused)
		return;
	if (uv_is_active((uv_handle_t *)&e->refusal_timer) &&
	    uv_timer_get_due_in(&e->refusal_timer) <= ms)
		return;
	uv_timer_start(&e->refusal_timer, retry_cb, ms, 0);
}

static void schedule_next(struct nr_etcd *e)
{
	e->refusal_backoff_ms = e->refusal_backoff_ms ? e->refusal_backoff_ms * 2 : RETRY_MIN_MS;
	if (e->refusal_backoff_ms > RETRY_MAX_MS)
		e->refusal_backoff_ms = RETRY_MAX_MS;
	schedule(e, e->refusal_backoff_ms);
}

void nr_etcd_refused_note(struct nr_etcd *e, const char *name, const char *key,
			  const char *value, size_t value_len, int64_t mod_rev, const char *why)
{
	struct nr_etcd_refusal *r = find(e, name);
	bool again = r && r->mod_rev == mod_rev;

	if (!r) {
		struct nr_etcd_refusal *v = realloc(e->refusals, (e->n_refused + 1) * sizeof(*v));

		if (!v)
			return; /* out of memory: not remembered; tried with its next change */
		e->refusals = v;
		r = &v[e->n_refused];
		memset(r, 0, sizeof(*r));
		if (!(r->name = strdup(name)))
			return;
		e->n_refused++;
	}
	if (!again) {
		char *k = strdup(key), *val = malloc(value_len + 1);

		if (!k || !val) {
			free(k);
			free(val);
			drop(e, r);
			return;
		}
		memcpy(val, value, value_len);
		val[value_len] = '\0';
		free(r->key);
		free(r->value);
		r->key = k;
		r->value = val;
		r->value_len = value_len;
		r->mod_rev = mod_rev;
		/* once per version of the key: retries stay quiet */
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, name, key,
			    "etcd: remote node %s (%s, revision %lld) refused: %s; it is tried again "
			    "when its key or another node changes, on a link/route/mode change here, "
			    "or after a back-off", name, key, (long long)mod_rev, why);
		e->refusal_backoff_ms = 0;
	}
	snprintf(r->why, sizeof(r->why), "%s", why);
	/* a new refusal is tried again after the shortest back-off; the same
	 * one found again waits for the timer already running */
	if (!e->refusal_retrying && (!again || !uv_is_active((uv_handle_t *)&e->refusal_timer)))
		schedule_next(e);
}

void nr_etcd_refused_clear(struct nr_etcd *e, const char *name, int64_t upto_rev, bool accepted)
{
	struct nr_etcd_refusal *r = find(e, name);

	if (r && (!upto_rev || r->mod_rev <= upto_rev)) {
		if (accepted)
			nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, name, r->key,
				    "etcd: remote node %s accepted now (was refused: %s)", name, r->why);
		drop(e, r);
	}
}

void nr_etcd_refused_forget_all(struct nr_etcd *e)
{
	while (e->n_refused)
		drop(e, &e->refusals[e->n_refused - 1]);
	free(e->refusals);
	e->refusals = NULL;
}

/* Another try for every refused node, with the value etcd has (the watch
 * keeps it current). A refusal found again reschedules with the doubled
 * back-off (nr_etcd_refused_note); an acceptance clears it. */
static void retry_cb(uv_timer_t *t)
{
	struct nr_etcd *e = t->data;
	size_t n = e->n_refused;
	struct nr_etcd_refusal *copy;

	if (e->closing || e->phase != NR_ETCD_WATCH || !n)
		return;
	/* the list changes under apply: work on a copy of the keys */
	copy = calloc(n, sizeof(*copy));
	if (!copy) {
		schedule(e, RETRY_MIN_MS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		copy[i] = e->refusals[i];
		copy[i].name = strdup(e->refusals[i].name);
		copy[i].key = strdup(e->refusals[i].key);
		copy[i].value = malloc(e->refusals[i].value_len + 1);
		if (copy[i].value)
			memcpy(copy[i].value, e->refusals[i].value, e->refusals[i].value_len + 1);
	}
	e->refusal_retrying = true;
	for (size_t i = 0; i < n; i++) {
		struct nr_etcd_kv kv = {
			.key = copy[i].key, .value = copy[i].value, .value_len = copy[i].value_len,
			.mod_rev = copy[i].mod_rev,
		};

		if (copy[i].name && copy[i].key && copy[i].value && !e->closing &&
		    e->phase == NR_ETCD_WATCH)
			nr_etcd_node_apply(e, copy[i].name, &kv);
		free(copy[i].name);
		free(copy[i].key);
		free(copy[i].value);
	}
	free(copy);
	e->refusal_retrying = false;
	/* still refused (now, or later through the pass): wait longer */
	if (e->n_refused && !uv_is_active((uv_handle_t *)&e->refusal_timer))
		schedule_next(e);
}

void nr_etcd_refused_retry_soon(struct nr_etcd *e)
{
	if (!e || !e->n_refused || e->refusal_retrying)
		return;
	e->refusal_backoff_ms = 0;
	uv_timer_stop(&e->refusal_timer);
	schedule(e, RETRY_SOON_MS);
}

void nr_etcd_local_changed(struct nr_etcd *e)
{
	nr_etcd_refused_retry_soon(e);
}

size_t nr_etcd_refused_first(const struct nr_etcd *e, const char **name, const char **why)
{
	if (e->n_refused) {
		*name = e->refusals[0].name;
		*why = e->refusals[0].why;
	}
	return e->n_refused;
}

const char *nr_etcd_refused_name(const struct nr_etcd *e, size_t i)
{
	return e->refusals[i].name;
}
