/* The etcd store's life cycle, health and controller hooks. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/etcd_internal.h"
#include "util/opts_internal.h"

static char *join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

/* A cluster name becomes a key component: keep it to what cannot confuse a
 * prefix range (no '/'). */
static int check_cluster_name(const char *s, struct nr_err *err)
{
	if (!*s || strlen(s) > 64)
		return nr_err_set(err, -EINVAL, "etcd cluster name \"%s\": 1..64 characters", s);
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '-' && *p != '.' &&
		    !(*p >= 'A' && *p <= 'Z') && *p != '_')
			return nr_err_set(err, -EINVAL, "etcd cluster name \"%s\": only letters, digits, "
					  "'-', '_' and '.'", s);
	return 0;
}

/* A member stopped answering (or answers again): said once each way, in
 * an event; the status names it while it lasts. */
static void member_changed(void *data, const char *url, bool failed, const char *why)
{
	struct nr_etcd *e = data;

	if (e->closing)
		return;
	if (failed) {
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, NULL, url, "etcd member %s not answering: %s%s%s",
			    url, why, strcmp(url, nr_etcd_http_endpoint(e->http)) ? "; using " : "",
			    strcmp(url, nr_etcd_http_endpoint(e->http))
				    ? nr_etcd_http_endpoint(e->http) : "");
		nr_etcd_watch_check(e); /* our watch may be on it */
	} else {
		nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, url, "etcd member %s answers again", url);
	}
}

/* The options with their defaults, checked (no side effect). */
static int read_opts(const struct nr_etcd_opts *o, const char **prefix, const char **cluster,
		     unsigned int *ttl, unsigned int *grace, struct nr_err *err)
{
	const char *const *eps;
	int rc;

	if (!OPTS_VALID(o, nr_etcd_opts, err))
		return -EINVAL;
	*prefix = OPTS_GET(o, prefix, NULL);
	*cluster = OPTS_GET(o, cluster_name, NULL);
	if (!*prefix || !**prefix)
		*prefix = NR_ETCD_DEFAULT_PREFIX;
	if (!*cluster || !**cluster)
		*cluster = NR_ETCD_DEFAULT_CLUSTER;
	if ((*prefix)[0] != '/')
		return nr_err_set(err, -EINVAL, "etcd prefix \"%s\": must start with '/'", *prefix);
	if ((rc = check_cluster_name(*cluster, err)) < 0)
		return rc;
	*ttl = OPTS_GET(o, lease_ttl_s, 0) ? o->lease_ttl_s : NR_ETCD_DEFAULT_TTL;
	*grace = OPTS_GET(o, cidr_grace_s, 0);
	if (!*grace)
		*grace = *ttl * 4 > NR_ETCD_MIN_GRACE ? *ttl * 4 : NR_ETCD_MIN_GRACE;
	if (*ttl < 2 || *ttl > 86400 * 30)
		return nr_err_set(err, -EINVAL, "etcd lease TTL %u s: expected 2 .. 2592000", *ttl);
	if (*grace < *ttl)
		return nr_err_set(err, -EINVAL, "etcd CIDR grace period %u s: shorter than the node "
				  "lease TTL %u s (a CIDR would be free while its node's routes remain)",
				  *grace, *ttl);
	/* the same checks as nr_etcd_http_new's, before anything exists */
	eps = OPTS_GET(o, endpoints, NULL);
	if (!eps || !eps[0])
		return nr_err_set(err, -EINVAL, "etcd: no endpoint given");
	for (size_t i = 0; eps[i]; i++)
		if (strncmp(eps[i], "http://", 7) && strncmp(eps[i], "https://", 8))
			return nr_err_set(err, -EINVAL, "etcd endpoint %s: expected http://HOST:PORT "
					  "or https://HOST:PORT", eps[i]);
	return 0;
}

int nr_etcd_check_opts(const struct nr_etcd_opts *o, struct nr_err *err)
{
	const char *prefix, *cluster;
	unsigned int ttl, grace;

	return read_opts(o, &prefix, &cluster, &ttl, &grace, err);
}

int nr_etcd_new(struct nr_ctl *ctl, const struct nr_etcd_opts *o, struct nr_etcd **ret,
		struct nr_err *err)
{
	const char *prefix, *cluster;
	char *base = NULL;
	unsigned int ttl, grace;
	struct nr_etcd *e;
	int rc = read_opts(o, &prefix, &cluster, &ttl, &grace, err);

	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return nr_err_set(err, -ENOMEM, "out of memory");
	e->ctl = ctl;
	e->loop = ctl->loop;
	e->ttl_s = ttl;
	e->grace_s = grace;
	base = malloc(strlen(prefix) + strlen(cluster) + 3);
	if (base)
		sprintf(base, "%s%s%s/", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/", cluster);
	e->name = strdup(nr_model_local_name(ctl->model));
	if (base) {
		e->nodes_prefix = join3(base, "nodes/", "");
		e->ipam_prefix = join3(base, "ipam/", "");
		e->config_key = join3(base, "config", "");
		e->node_key = e->name ? join3(base, "nodes/", e->name) : NULL;
	}
	free(base);
	if (!e->name || !e->nodes_prefix || !e->ipam_prefix || !e->config_key || !e->node_key) {
		rc = nr_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	{
		struct nr_etcd_http_opts ho = {
			.endpoints = OPTS_GET(o, endpoints, NULL),
			.ca_file = OPTS_GET(o, ca_file, NULL),
			.cert_file = OPTS_GET(o, cert_file, NULL),
			.key_file = OPTS_GET(o, key_file, NULL),
			.username = OPTS_GET(o, username, NULL),
			.password = OPTS_GET(o, password, NULL),
			.timeout_ms = OPTS_GET(o, timeout_ms, 0),
		};

		rc = nr_etcd_http_new(ctl->loop, &ho, &e->http, err);
		if (rc < 0)
			goto fail;
	}
	nr_etcd_http_on_endpoint(e->http, member_changed, e);
	uv_timer_init(e->loop, &e->retry_timer);
	uv_timer_init(e->loop, &e->ka_timer);
	uv_timer_init(e->loop, &e->refusal_timer);
	e->retry_timer.data = e->ka_timer.data = e->refusal_timer.data = e;
	e->open_handles = 3;
	e->unhealthy_since = (int64_t)time(NULL);
	snprintf(e->why, sizeof(e->why), "connecting to %s", nr_etcd_http_endpoint(e->http));
	/* A saved local node that has endpoints had its CIDR confirmed by a
	 * claim before (endpoints wait for one): the state dir is the cache
	 * that lets pods start while etcd is away. In kubernetes mode the CIDR
	 * is the orchestrator's: the claim only reports a clash. */
	e->cidr_confirmed = nr_model_endpoint_count(ctl->model) > 0 ||
			    nr_model_config(ctl->model)->ipam_mode == NR_IPAM_KUBERNETES;
	*ret = e;
	return 0;
fail:
	free(e->name);
	free(e->nodes_prefix);
	free(e->ipam_prefix);
	free(e->config_key);
	free(e->node_key);
	free(e);
	return rc;
}

void nr_etcd_start(struct nr_etcd *e)
{
	if (e->started)
		return;
	e->started = true;
	nr_etcd_join(e);
}

static void free_store(struct nr_etcd *e)
{
	void (*done)(void *) = e->close_done;
	void *data = e->close_data;

	free(e->name);
	free(e->nodes_prefix);
	free(e->ipam_prefix);
	free(e->config_key);
	free(e->node_key);
	free(e->registered);
	free(e->registering);
	nr_etcd_refused_forget_all(e);
	nr_etcd_kvs_free(&e->purge_kvs);
	free(e);
	if (done)
		done(data);
}

static void part_closed(void *data)
{
	struct nr_etcd *e = data;

	if (--e->open_handles == 0)
		free_store(e);
}

static void timer_closed(uv_handle_t *h)
{
	part_closed(h->data);
}

void nr_etcd_close(struct nr_etcd *e, void (*done)(void *data), void *data)
{
	e->closing = true;
	e->close_done = done;
	e->close_data = data;
	/* requests are dropped with the client: their callbacks never run */
	e->req = e->watch = e->ka = NULL;
	e->open_handles++;
	nr_etcd_http_close(e->http, part_closed, e);
	uv_close((uv_handle_t *)&e->retry_timer, timer_closed);
	uv_close((uv_handle_t *)&e->ka_timer, timer_closed);
	uv_close((uv_handle_t *)&e->refusal_timer, timer_closed);
}

/* ---- health ----------------------------------------------------------------- */

void nr_etcd_set_healthy(struct nr_etcd *e)
{
	if (e->healthy || e->phase != NR_ETCD_WATCH || !e->ka_ok)
		return;
	e->healthy = true;
	e->unhealthy_since = 0;
	e->why[0] = '\0';
	nr_ctl_emit(e->ctl, NR_EVENT_RESYNC, NULL, NULL, "etcd %s: registered as %s, watching %s "
		    "from revision %lld", nr_etcd_http_endpoint(e->http), e->name, e->nodes_prefix,
		    (long long)e->watch_from);
}

void nr_etcd_set_unhealthy(struct nr_etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	if (!e->healthy && e->unhealthy_since)
		return;
	if (e->healthy)
		nr_ctl_emit(e->ctl, NR_EVENT_ERROR, NULL, NULL, "etcd unreachable: %s "
			    "(kernel state kept; retrying)", e->why);
	e->healthy = false;
	e->unhealthy_since = (int64_t)time(NULL);
}

static void utc(int64_t when, char *out, size_t len)
{
	time_t t = (time_t)when;
	struct tm tm;

	out[0] = '\0';
	if (t && gmtime_r(&t, &tm))
		strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The store line: "Ok (...)" only when every member answers and every
 * remote node in etcd was accepted; "degraded (...)" names the member that
 * does not answer, or the node refused (both keep working through the
 * others); "unreachable", "refused", "purged" as they say. */
void nr_etcd_status(const struct nr_etcd *e, struct nr_status *st)
{
	char since[32], *d = st->store_detail;
	size_t dl = sizeof(st->store_detail), i = 0;
	const char *url = NULL, *why = NULL, *rname = NULL, *rwhy = NULL, *u, *w;
	const char *cur = nr_etcd_http_endpoint(e->http);
	int64_t fsince = 0, s, down_since = e->unhealthy_since;
	bool member_down = false, healthy = e->healthy;
	char down_why[sizeof(e->why)];
	size_t n_refused;
	int rc;

	snprintf(down_why, sizeof(down_why), "%s", e->why);
	while (nr_etcd_http_failed(e->http, &i, &u, &w, &s)) {
		if (strcmp(u, cur)) { /* another member: we work around it */
			if (!member_down)
				url = u, why = w, fsince = s;
			member_down = true;
		} else if (healthy) {
			/* the one we use fails (a watch broke, a request timed out):
			 * unreachable until a request proves otherwise */
			healthy = false;
			down_since = s;
			snprintf(down_why, sizeof(down_why), "%s: %s", u, w);
		}
	}
	member_down = member_down && healthy;
	n_refused = healthy ? nr_etcd_refused_first(e, &rname, &rwhy) : 0;
	st->store_etcd = true;
	st->store_healthy = healthy && !member_down && !n_refused && !e->foreign_rev;
	st->store_unhealthy_since = healthy ? 0 : down_since;
	utc(down_since, since, sizeof(since));
	/* (a long reason is cut: the events carry it whole) */
	if (e->phase == NR_ETCD_REFUSED)
		rc = snprintf(d, dl, "refused (since %s): cluster config differs: %s", since, e->refused);
	else if (e->phase == NR_ETCD_PURGE)
		rc = snprintf(d, dl, "purged: %s", e->why[0] ? e->why : "this node's keys deleted");
	else if (healthy && e->foreign_rev)
		rc = snprintf(d, dl, "degraded (%s)", e->foreign);
	else if (member_down) {
		utc(fsince, since, sizeof(since));
		rc = snprintf(d, dl, "degraded (member %s not answering since %s: %s; using %s)", url,
			      since, why, cur);
	} else if (n_refused)
		rc = snprintf(d, dl, "degraded (%zu remote node%s refused, next try in %llu s: %s: %s)",
			      n_refused, n_refused > 1 ? "s" : "",
			      (unsigned long long)(uv_timer_get_due_in(&e->refusal_timer) + 999) / 1000,
			      rname, rwhy);
	else if (healthy)
		rc = snprintf(d, dl, "Ok (%s, revision %lld, %zu remote nodes, lease %u s)", cur,
			      (long long)e->revision, e->remote_nodes, e->ttl_s);
	else
		rc = snprintf(d, dl, "unreachable (since %s): %s", since, down_why);
	if (rc < 0)
		d[0] = '\0';
}

/* ---- hooks -------------------------------------------------------------------- */

int nr_etcd_check_node_call(const struct nr_etcd *e, const char *name, struct nr_err *err)
{
	if (!e || e->feeding || !name || !strcmp(name, e->name))
		return 0;
	return nr_err_set(err, -EPERM, "node %s: nodes come from etcd with the etcd store (each "
			  "host's controller registers its own node there)", name);
}

int nr_etcd_check_endpoint_call(const struct nr_etcd *e, struct nr_err *err)
{
	if (!e || e->cidr_confirmed)
		return 0;
	return nr_err_set(err, -EAGAIN, "this node's pod CIDR is not claimed in etcd yet (%s); "
			  "try again", e->why[0] ? e->why : "joining");
}

/* ---- request helpers ----------------------------------------------------------- */

int nr_etcd_answer(int status, long http_code, const char *body, size_t len, const char *msg,
		   const char *what, struct nr_err *err)
{
	char gmsg[200] = "";
	int code;

	if (status < 0)
		return nr_err_set(err, status, "%s: %s", what, msg ? msg : "failed");
	code = nr_etcd_parse_error(body, len, gmsg, sizeof(gmsg));
	if (code == 5) /* NotFound: "requested lease not found" */
		return nr_err_set(err, -ENOENT, "%s: %s", what, gmsg);
	if (code || http_code != 200)
		return nr_err_set(err, http_code == 401 || code == 16 ? -EACCES : -EIO,
				  "%s: HTTP %ld: %s", what, http_code, gmsg[0] ? gmsg : body);
	return 0;
}

bool nr_etcd_post(struct nr_etcd *e, const char *path, char *body, nr_etcd_http_cb cb)
{
	struct nr_err err = { 0 };

	if (!body) {
		nr_err_set(&err, -ENOMEM, "out of memory");
		nr_etcd_fail(e, &err);
		return false;
	}
	e->req = nr_etcd_http_post(e->http, path, body, cb, e, &err);
	free(body);
	if (!e->req) {
		nr_etcd_fail(e, &err);
		return false;
	}
	return true;
}
