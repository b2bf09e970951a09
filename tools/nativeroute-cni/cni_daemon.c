#include "cni_daemon.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One call in flight: the callback fills it, the loop runs until done. */
struct call {
	bool done;
	int status;
	char errmsg[512];
	void *out;                           /* what the callback copies into */
	size_t n;
	char *local4, *local6;
};

/* A daemon that is not there (yet) or went away: worth a retry. -ENOENT and
 * -ECONNREFUSED mean that only from connect (a call's -ENOENT is "no such
 * object"), see cni_daemon_open. */
static bool unreachable(int status)
{
	return status == -ECONNRESET ||
	       status == -ETIMEDOUT || status == -ENOTCONN || status == -EPIPE ||
	       status == -ECANCELED || status == -EAGAIN;
}

/* The daemon's refusal, or its absence, as a CNI error. */
static int daemon_fail(struct cni_daemon *d, struct cni_err *e, const char *what, int status,
		       const char *errmsg)
{
	if (unreachable(status))
		return cni_fail(e, CNI_E_AGAIN, "nativerouted is not reachable",
				"%s: %s: %s (is nativerouted running?)", what, d->socket,
				errmsg && *errmsg ? errmsg : nr_strerror(status));
	return cni_fail(e, CNI_E_DAEMON, "nativerouted refused the request", "%s: %s (%s)", what,
			errmsg && *errmsg ? errmsg : nr_strerror(status), nr_err_name(status));
}

static void call_done(struct call *c, int status, const char *errmsg)
{
	c->done = true;
	c->status = status;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", errmsg ? errmsg : "");
}

static int call_wait(struct cni_daemon *d, struct call *c, int rc, const char *what, struct cni_err *e)
{
	if (rc < 0)
		return daemon_fail(d, e, what, rc, nr_last_errmsg()), rc;
	while (!c->done)
		uv_run(&d->loop, UV_RUN_ONCE);
	return c->status;
}

static void on_done(struct nr_client *cl, int status, const char *errmsg, void *data)
{
	(void)cl;
	call_done(data, status, errmsg);
}

int cni_daemon_open(struct cni_daemon *d, const char *socket, unsigned int timeout_ms,
		    struct cni_err *e)
{
	struct call c = { 0 };
	int rc;

	memset(d, 0, sizeof(*d));
	d->socket = socket;
	rc = uv_loop_init(&d->loop);
	if (rc < 0)
		return cni_fail(e, CNI_E_IO, "cannot create an event loop", "%s", uv_strerror(rc)), rc;
	NR_OPTS(nr_client_opts, opts, .socket_path = socket, .timeout_ms = timeout_ms);
	rc = nr_client_new(&d->loop, &opts, &d->client);
	if (rc < 0) {
		cni_fail(e, CNI_E_CONFIG, "invalid daemon socket", "socket %s: %s", socket,
			 nr_last_errmsg());
		uv_loop_close(&d->loop);
		return rc;
	}
	rc = call_wait(d, &c, nr_client_connect(d->client, on_done, &c), "connect", e);
	if (rc < 0) {
		if (!e->code)
			daemon_fail(d, e, "connect",
				    rc == -ENOENT || rc == -ECONNREFUSED ? -ENOTCONN : rc, c.errmsg);
		cni_daemon_close(d);
	}
	return rc;
}

static void on_closed(struct nr_client *cl, void *data)
{
	(void)cl;
	*(bool *)data = true;
}

void cni_daemon_close(struct cni_daemon *d)
{
	bool closed = false;

	if (d->client && nr_client_close(d->client, on_closed, &closed) == 0)
		while (!closed)
			uv_run(&d->loop, UV_RUN_ONCE);
	d->client = NULL;
	uv_run(&d->loop, UV_RUN_NOWAIT); /* let closing handles finish */
	uv_loop_close(&d->loop);
}

static void copy_endpoint(struct cni_endpoint *o, const struct nr_endpoint_info *ep)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", ep->id ? ep->id : "");
	snprintf(o->ifname, sizeof(o->ifname), "%s", ep->ifname ? ep->ifname : "");
	snprintf(o->ipv4, sizeof(o->ipv4), "%s", ep->ipv4 ? ep->ipv4 : "");
	snprintf(o->ipv6, sizeof(o->ipv6), "%s", ep->ipv6 ? ep->ipv6 : "");
	snprintf(o->gateway4, sizeof(o->gateway4), "%s", ep->gateway4 ? ep->gateway4 : "");
	snprintf(o->gateway6, sizeof(o->gateway6), "%s", ep->gateway6 ? ep->gateway6 : "");
	/* Since 1.1 the daemon says which MTU its pods should use (the tunnel's
	 * overhead taken off in tunnel and hybrid mode); sz tells whether the
	 * running library fills the field. */
	if (ep->sz >= offsetof(struct nr_endpoint_info, mtu) + sizeof(ep->mtu))
		o->mtu = ep->mtu;
}

static void on_endpoint(struct nr_client *cl, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	struct call *c = data;

	(void)cl;
	if (status == 0 && ep)
		copy_endpoint(c->out, ep);
	else if (status == 0)
		status = -ENOENT; /* removed again before the answer was built */
	call_done(c, status, errmsg);
}

int cni_daemon_endpoint_add(struct cni_daemon *d, const char *id, const char *host_if,
			    const char *ipv4, const char *ipv6, struct cni_endpoint *out,
			    struct cni_err *e)
{
	struct call c = { .out = out };
	int rc;

	NR_OPTS(nr_endpoint_spec, spec, .id = id, .ifname = host_if, .ipv4 = ipv4, .ipv6 = ipv6);
	rc = call_wait(d, &c, nr_client_endpoint_add(d->client, &spec, on_endpoint, &c),
		       "endpoint.add", e);
	if (rc < 0 && !e->code) {
		if (rc == -EEXIST)
			return cni_fail(e, CNI_E_EXISTS, "the attachment already exists",
					"endpoint.add %s: %s", id, c.errmsg), rc;
		daemon_fail(d, e, "endpoint.add", rc, c.errmsg);
	}
	return rc;
}

int cni_daemon_endpoint_remove(struct cni_daemon *d, const char *id, struct cni_err *e)
{
	struct call c = { 0 };
	int rc;

	rc = nr_client_endpoint_remove(d->client, id, on_done, &c);
	rc = call_wait(d, &c, rc, "endpoint.remove", e);
	if (rc < 0 && rc != -ENOENT && !e->code)
		daemon_fail(d, e, "endpoint.remove", rc, c.errmsg);
	return rc;
}

/* One endpoint of a list walk (nr_client_endpoint_foreach, the form that
 * can grow): appended to the call's array. */
static int on_endpoint_item(const struct nr_endpoint_info *ep, void *data)
{
	struct call *c = data;
	struct cni_endpoint *grown = realloc(c->out, (c->n + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	c->out = grown;
	copy_endpoint(&grown[c->n++], ep);
	return 0;
}

int cni_daemon_endpoint_list(struct cni_daemon *d, struct cni_endpoint **out, size_t *n,
			     struct cni_err *e)
{
	struct call c = { 0 };
	int rc;

	rc = nr_client_endpoint_foreach(d->client, on_endpoint_item, on_done, &c);
	rc = call_wait(d, &c, rc, "endpoint.list", e);
	if (rc < 0) {
		free(c.out);
		if (!e->code)
			daemon_fail(d, e, "endpoint.list", rc, c.errmsg);
		return rc;
	}
	*out = c.out;
	*n = c.n;
	return 0;
}

int cni_daemon_endpoint_get(struct cni_daemon *d, const char *id, struct cni_endpoint *out,
			    struct cni_err *e)
{
	struct cni_endpoint *eps;
	size_t n;
	int rc = cni_daemon_endpoint_list(d, &eps, &n, e);

	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(eps[i].id, id)) {
			*out = eps[i];
			rc = 0;
		}
	free(eps);
	return rc;
}

static int on_node_item(const struct nr_node_info *node, void *data)
{
	struct call *c = data;

	if (node->local) {
		snprintf(c->local4, 64, "%s", node->ipv4 ? node->ipv4 : "");
		snprintf(c->local6, 64, "%s", node->ipv6 ? node->ipv6 : "");
	}
	return 0;
}

int cni_daemon_local_node(struct cni_daemon *d, char ipv4[64], char ipv6[64], struct cni_err *e)
{
	struct call c = { .local4 = ipv4, .local6 = ipv6 };
	int rc;

	ipv4[0] = ipv6[0] = '\0';
	rc = call_wait(d, &c, nr_client_node_foreach(d->client, on_node_item, on_done, &c),
		       "node.list", e);
	if (rc < 0 && !e->code)
		daemon_fail(d, e, "node.list", rc, c.errmsg);
	return rc;
}

static void on_status(struct nr_client *cl, int status, const char *errmsg,
		      const struct nr_status *st, void *data)
{
	struct call *c = data;

	(void)cl;
	if (status == 0 && st) {
		struct nr_status *o = c->out;
		size_t sz = st->sz < o->sz ? st->sz : o->sz;

		memcpy(o, st, sz);
		o->sz = sz;
	}
	call_done(c, status, errmsg);
}

int cni_daemon_status(struct cni_daemon *d, struct nr_status *st, struct cni_err *e)
{
	struct call c = { .out = st };
	int rc;

	rc = call_wait(d, &c, nr_client_status(d->client, on_status, &c), "status", e);
	if (rc < 0 && !e->code)
		daemon_fail(d, e, "status", rc, c.errmsg);
	return rc;
}
