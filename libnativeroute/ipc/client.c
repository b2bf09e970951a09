/* The client library (include/nativeroute/client.h): MessagePack-RPC calls
 * over a uv_pipe_t, answers matched to calls by msgid. */
#include <nativeroute/client.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nativeroute/opts.h>

#include "ipc/rpc_codec.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

#define READ_CHUNK 65536

enum call_kind {
	K_DONE, K_STATUS, K_NODE, K_NODES, K_ENDPOINT, K_ENDPOINTS, K_ROUTES, K_MODE, K_IPAM,
	K_SUBSCRIBE, K_RESUBSCRIBE,
};

struct call {
	struct call *prev, *next;
	uint32_t msgid;
	enum call_kind kind;
	void (*cb)(void);
	void *data;
	uint64_t deadline; /* uv_now() ms, 0 = none */
};

/* One connection attempt / established connection. A new one is made for
 * every attempt because a uv handle cannot be reused before it has closed. */
struct conn {
	uv_pipe_t pipe;
	uv_connect_t creq;
	struct nr_client *client; /* NULL once detached from the client */
	bool connected;
};

struct wbuf {
	uv_write_t req;
	char *data;
};

struct nr_client {
	uv_loop_t *loop;
	char *path;
	struct nr_client_opts opts;
	struct nr_rpc_limits lim;
	void *data;
	struct conn *conn;
	uv_timer_t reconnect_timer;
	uv_timer_t timeout_timer;
	unsigned int handles; /* timers and connections not yet closed */
	struct call *calls, *calls_tail;
	struct call *cancelled; /* completed with -ECANCELED when closing ends */
	uint32_t next_msgid;
	bool subscribed, closing;
	char *rbuf;
	size_t rlen, rcap;
	nr_client_done_cb connect_cb;
	void *connect_data;
	nr_client_close_cb close_cb;
	void *close_data;
};

static void conn_lost(struct nr_client *c, int status);
static void start_connect(struct nr_client *c);
static void on_timeout_tick(uv_timer_t *t);

static void on_reconnect_timer(uv_timer_t *t)
{
	start_connect(t->data);
}

/* ---- calls ---------------------------------------------------------------- */

static void call_unlink(struct nr_client *c, struct call *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		c->calls = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		c->calls_tail = k->prev;
	k->prev = k->next = NULL;
}

static struct call *call_find(struct nr_client *c, uint32_t msgid)
{
	for (struct call *k = c->calls; k; k = k->next)
		if (k->msgid == msgid)
			return k;
	return NULL;
}

/* Run a call's callback with an error (or with a plain success for the
 * kinds whose result is only "done"). */
static void call_fail(struct nr_client *c, struct call *k, int status, const char *msg)
{
	switch (k->kind) {
	case K_DONE:
	case K_SUBSCRIBE:
		((nr_client_done_cb)k->cb)(c, status, msg, k->data);
		break;
	case K_STATUS:
		((nr_client_status_cb)k->cb)(c, status, msg, NULL, k->data);
		break;
	case K_NODE:
		((nr_client_node_cb)k->cb)(c, status, msg, NULL, k->data);
		break;
	case K_NODES:
		((nr_client_nodes_cb)k->cb)(c, status, msg, NULL, 0, k->data);
		break;
	case K_ENDPOINT:
		((nr_client_endpoint_cb)k->cb)(c, status, msg, NULL, k->data);
		break;
	case K_ENDPOINTS:
		((nr_client_endpoints_cb)k->cb)(c, status, msg, NULL, 0, k->data);
		break;
	case K_ROUTES:
		((nr_client_routes_cb)k->cb)(c, status, msg, NULL, 0, k->data);
		break;
	case K_MODE:
		((nr_client_mode_cb)k->cb)(c, status, msg, 0, false, k->data);
		break;
	case K_IPAM:
		((nr_client_ipam_cb)k->cb)(c, status, msg, NULL, k->data);
		break;
	case K_RESUBSCRIBE:
		break;
	}
	free(k);
}

/* ---- decoding results ------------------------------------------------------ */

struct decode {
	msgpack_zone *zone;
	int rc;
};

static const char *str_or_empty(struct decode *d, const msgpack_object *map, const char *key,
				bool required)
{
	const char *s = NULL;

	if (nr_rpc_get_str(d->zone, map, key, required, &s, NULL) < 0)
		d->rc = -EPROTO;
	return s ? s : "";
}

static size_t u64_of(struct decode *d, const msgpack_object *map, const char *key)
{
	uint64_t v = 0;

	if (nr_rpc_get_u64(map, key, false, &v, NULL) < 0)
		d->rc = -EPROTO;
	return v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

static bool bool_of(struct decode *d, const msgpack_object *map, const char *key)
{
	bool v = false;

	if (nr_rpc_get_bool(map, key, false, &v, NULL) < 0)
		d->rc = -EPROTO;
	return v;
}

static void node_of(struct decode *d, const msgpack_object *o, struct nr_node_info *n)
{
	const char *const *cidrs = NULL;

	memset(n, 0, sizeof(*n));
	n->sz = sizeof(*n);
	if (o->type != MSGPACK_OBJECT_MAP) {
		d->rc = -EPROTO;
		return;
	}
	n->name = str_or_empty(d, o, "name", true);
	n->ipv4 = str_or_empty(d, o, "ipv4", false);
	n->ipv6 = str_or_empty(d, o, "ipv6", false);
	n->state = str_or_empty(d, o, "state", false);
	n->local = bool_of(d, o, "local");
	if (nr_rpc_get_str_array(d->zone, o, "pod_cidrs", false, &cidrs, &n->n_pod_cidrs, NULL) < 0)
		d->rc = -EPROTO;
	if (!cidrs) {
		static const char *const none[] = { NULL };

		cidrs = none;
	}
	n->pod_cidrs = cidrs;
}

static void endpoint_of(struct decode *d, const msgpack_object *o, struct nr_endpoint_info *e)
{
	const char *gw, *gw6;
	uint64_t ifindex = 0;

	memset(e, 0, sizeof(*e));
	e->sz = sizeof(*e);
	if (o->type != MSGPACK_OBJECT_MAP) {
		d->rc = -EPROTO;
		return;
	}
	e->id = str_or_empty(d, o, "id", true);
	e->ifname = str_or_empty(d, o, "ifname", false);
	if (nr_rpc_get_u64(o, "ifindex", false, &ifindex, NULL) < 0 || ifindex > UINT32_MAX)
		d->rc = -EPROTO;
	e->ifindex = (uint32_t)ifindex;
	e->ipv4 = str_or_empty(d, o, "ipv4", false);
	e->ipv6 = str_or_empty(d, o, "ipv6", false);
	gw = str_or_empty(d, o, "gateway", false);
	gw6 = str_or_empty(d, o, "gateway6", false);
	/* "gateway" is the IPv4 gateway when the pod has IPv4, else the IPv6 one. */
	e->gateway4 = *e->ipv4 ? gw : "";
	e->gateway6 = *gw6 ? gw6 : (*e->ipv4 ? "" : gw);
}

static void route_of(struct decode *d, const msgpack_object *o, struct nr_route_info *r)
{
	size_t mtu;

	memset(r, 0, sizeof(*r));
	r->sz = sizeof(*r);
	if (o->type != MSGPACK_OBJECT_MAP) {
		d->rc = -EPROTO;
		return;
	}
	r->dst = str_or_empty(d, o, "dst", true);
	r->kind = str_or_empty(d, o, "kind", false);
	r->via = str_or_empty(d, o, "via", false);
	r->dev = str_or_empty(d, o, "dev", false);
	r->node = str_or_empty(d, o, "node", false);
	mtu = u64_of(d, o, "mtu");
	r->mtu = mtu > UINT32_MAX ? UINT32_MAX : (uint32_t)mtu;
	r->programmed = bool_of(d, o, "programmed");
}

static void status_of(struct decode *d, const msgpack_object *o, struct nr_status *st)
{
	const char *mode = NULL, *ipam = NULL;

	memset(st, 0, sizeof(*st));
	st->sz = sizeof(*st);
	if (o->type != MSGPACK_OBJECT_MAP) {
		d->rc = -EPROTO;
		return;
	}
	mode = str_or_empty(d, o, "routing_mode", false);
	ipam = str_or_empty(d, o, "ipam_mode", false);
	if (nr_routing_mode_parse(mode, &st->routing_mode) < 0)
		st->routing_mode = 0;
	if (nr_ipam_mode_parse(ipam, &st->ipam_mode) < 0)
		st->ipam_mode = 0;
	st->auto_direct_node_routes = bool_of(d, o, "auto_direct_node_routes");
	st->nexthop_objects = bool_of(d, o, "nexthop_objects");
	st->started = bool_of(d, o, "started");
	st->nodes = u64_of(d, o, "nodes");
	st->nodes_unreachable = u64_of(d, o, "nodes_unreachable");
	st->endpoints = u64_of(d, o, "endpoints");
	st->routes_planned = u64_of(d, o, "routes_planned");
	st->routes_programmed = u64_of(d, o, "routes_programmed");
	st->ipam_used = u64_of(d, o, "ipam_used");
	st->ipam_total = u64_of(d, o, "ipam_total");
	st->resyncs = u64_of(d, o, "resyncs");
	st->drift_repairs = u64_of(d, o, "drift_repairs");
	st->netlink_errors = u64_of(d, o, "netlink_errors");
}

static void *zalloc_array(struct decode *d, size_t n, size_t size)
{
	void *p = msgpack_zone_malloc(d->zone, n ? n * size : 1);

	if (!p)
		d->rc = -ENOMEM;
	else
		memset(p, 0, n ? n * size : 1);
	return p;
}

/* A successful answer: decode the result for the call's kind and run its
 * callback. A result we cannot read gives -EPROTO. */
static void call_complete(struct nr_client *c, struct call *k, const msgpack_object *res,
			  msgpack_zone *zone)
{
	struct decode d = { .zone = zone };
	bool is_array = res->type == MSGPACK_OBJECT_ARRAY;
	uint32_t n = is_array ? res->via.array.size : 0;
	const char *bad = "malformed result from the daemon";

	switch (k->kind) {
	case K_DONE:
	case K_SUBSCRIBE:
		((nr_client_done_cb)k->cb)(c, 0, NULL, k->data);
		break;
	case K_RESUBSCRIBE:
		break;
	case K_STATUS: {
		struct nr_status st;

		status_of(&d, res, &st);
		if (d.rc < 0)
			goto fail;
		((nr_client_status_cb)k->cb)(c, 0, NULL, &st, k->data);
		break;
	}
	case K_NODE: {
		struct nr_node_info node;

		if (res->type == MSGPACK_OBJECT_NIL) {
			((nr_client_node_cb)k->cb)(c, 0, NULL, NULL, k->data);
			break;
		}
		node_of(&d, res, &node);
		if (d.rc < 0)
			goto fail;
		((nr_client_node_cb)k->cb)(c, 0, NULL, &node, k->data);
		break;
	}
	case K_NODES: {
		struct nr_node_info *v = is_array ? zalloc_array(&d, n, sizeof(*v)) : NULL;

		for (uint32_t i = 0; v && i < n; i++)
			node_of(&d, &res->via.array.ptr[i], &v[i]);
		if (!is_array || d.rc < 0)
			goto fail;
		((nr_client_nodes_cb)k->cb)(c, 0, NULL, v, n, k->data);
		break;
	}
	case K_ENDPOINT: {
		struct nr_endpoint_info ep;

		endpoint_of(&d, res, &ep);
		if (d.rc < 0)
			goto fail;
		((nr_client_endpoint_cb)k->cb)(c, 0, NULL, &ep, k->data);
		break;
	}
	case K_ENDPOINTS: {
		struct nr_endpoint_info *v = is_array ? zalloc_array(&d, n, sizeof(*v)) : NULL;

		for (uint32_t i = 0; v && i < n; i++)
			endpoint_of(&d, &res->via.array.ptr[i], &v[i]);
		if (!is_array || d.rc < 0)
			goto fail;
		((nr_client_endpoints_cb)k->cb)(c, 0, NULL, v, n, k->data);
		break;
	}
	case K_ROUTES: {
		struct nr_route_info *v = is_array ? zalloc_array(&d, n, sizeof(*v)) : NULL;

		for (uint32_t i = 0; v && i < n; i++)
			route_of(&d, &res->via.array.ptr[i], &v[i]);
		if (!is_array || d.rc < 0)
			goto fail;
		((nr_client_routes_cb)k->cb)(c, 0, NULL, v, n, k->data);
		break;
	}
	case K_MODE: {
		enum nr_routing_mode mode = 0;
		const char *text = NULL;

		if (res->type != MSGPACK_OBJECT_MAP ||
		    nr_rpc_get_str(zone, res, "mode", true, &text, NULL) < 0 ||
		    nr_routing_mode_parse(text, &mode) < 0)
			goto fail;
		((nr_client_mode_cb)k->cb)(c, 0, NULL, mode,
					   bool_of(&d, res, "auto_direct_node_routes"), k->data);
		break;
	}
	case K_IPAM: {
		struct nr_ipam_info info = { .sz = sizeof(info) };
		const msgpack_object *allocs = nr_rpc_map_get(res, "allocations");
		struct nr_ipam_allocation *v = NULL;
		const char *mode;

		if (res->type != MSGPACK_OBJECT_MAP || !allocs || allocs->type != MSGPACK_OBJECT_ARRAY)
			goto fail;
		mode = str_or_empty(&d, res, "mode", false);
		if (nr_ipam_mode_parse(mode, &info.mode) < 0)
			info.mode = 0;
		info.used = u64_of(&d, res, "used");
		info.total = u64_of(&d, res, "total");
		info.n_allocations = allocs->via.array.size;
		v = zalloc_array(&d, info.n_allocations, sizeof(*v));
		for (size_t i = 0; v && i < info.n_allocations; i++) {
			v[i].sz = sizeof(v[i]);
			v[i].node = str_or_empty(&d, &allocs->via.array.ptr[i], "node", true);
			v[i].cidr = str_or_empty(&d, &allocs->via.array.ptr[i], "cidr", true);
		}
		if (d.rc < 0)
			goto fail;
		info.allocations = v;
		((nr_client_ipam_cb)k->cb)(c, 0, NULL, &info, k->data);
		break;
	}
	}
	free(k);
	return;
fail:
	call_fail(c, k, d.rc == -ENOMEM ? -ENOMEM : -EPROTO, bad);
}

/* ---- incoming messages ---------------------------------------------------- */

static int event_type_parse(const char *text, enum nr_event_type *out)
{
	for (int t = NR_EVENT_NODE_ADDED; t <= NR_EVENT_STATE_MIGRATED; t++) {
		if (strcmp(nr_event_type_str((enum nr_event_type)t), text) == 0) {
			*out = (enum nr_event_type)t;
			return 0;
		}
	}
	return -EINVAL;
}

static void handle_notification(struct nr_client *c, const struct nr_rpc_msg *msg)
{
	const msgpack_object *p;
	struct nr_event ev = { .sz = sizeof(ev) };
	struct decode d = { .zone = msg->zone };
	const char *type;
	uint64_t seq = 0;

	if (strcmp(msg->method, "event") != 0 || msg->args->via.array.size < 1 ||
	    !c->opts.event_cb)
		return;
	p = &msg->args->via.array.ptr[0];
	if (p->type != MSGPACK_OBJECT_MAP)
		return;
	type = str_or_empty(&d, p, "type", true);
	nr_rpc_get_u64(p, "seq", false, &seq, NULL);
	ev.node = str_or_empty(&d, p, "node", false);
	ev.object = str_or_empty(&d, p, "object", false);
	ev.message = str_or_empty(&d, p, "message", false);
	if (!*ev.node)
		ev.node = NULL;
	if (!*ev.object)
		ev.object = NULL;
	/* An event type newer than this library is dropped, not misreported. */
	if (d.rc < 0 || event_type_parse(type, &ev.type) < 0)
		return;
	c->opts.event_cb(c, &ev, seq, c->opts.event_data);
}

static void handle_response(struct nr_client *c, const struct nr_rpc_msg *msg)
{
	struct call *k = call_find(c, msg->msgid);

	if (!k)
		return; /* timed out already */
	call_unlink(c, k);
	if (msg->error) {
		const char *text;
		int code = nr_rpc_error_decode(msg->zone, msg->error, &text);

		call_fail(c, k, code, text);
	} else {
		call_complete(c, k, msg->result, msg->zone);
	}
}

static void process(struct nr_client *c)
{
	size_t off = 0;
	struct conn *cn = c->conn;

	while (c->conn == cn && !c->closing && off < c->rlen) {
		struct nr_err err = { 0 };
		ssize_t n = nr_rpc_frame(c->rbuf + off, c->rlen - off, &c->lim, &err);
		msgpack_unpacked u;
		struct nr_rpc_msg msg;

		if (n == 0)
			break;
		if (n < 0) {
			conn_lost(c, -EPROTO);
			return;
		}
		msgpack_unpacked_init(&u);
		if (nr_rpc_decode(c->rbuf + off, (size_t)n, &u, &msg, &err) < 0) {
			msgpack_unpacked_destroy(&u);
			conn_lost(c, -EPROTO);
			return;
		}
		off += (size_t)n;
		if (msg.type == NR_RPC_RESPONSE)
			handle_response(c, &msg);
		else if (msg.type == NR_RPC_NOTIFICATION)
			handle_notification(c, &msg);
		msgpack_unpacked_destroy(&u);
	}
	/* A callback may have closed the client or lost the connection: the
	 * buffer then belongs to nobody's stream any more. */
	if (c->conn == cn && off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	struct conn *cn = h->data;
	struct nr_client *c = cn->client;
	size_t limit = c->lim.max_msg + READ_CHUNK;

	(void)suggested;
	if (c->rcap - c->rlen < READ_CHUNK && c->rcap < limit) {
		size_t ncap = c->rcap ? c->rcap * 2 : READ_CHUNK * 2;
		char *n;

		if (ncap > limit)
			ncap = limit;
		n = realloc(c->rbuf, ncap);
		if (n) {
			c->rbuf = n;
			c->rcap = ncap;
		}
	}
	*out = uv_buf_init(c->rbuf + c->rlen, (unsigned int)(c->rcap - c->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *cn = s->data;
	struct nr_client *c = cn->client;

	(void)buf;
	if (!c)
		return;
	if (nread < 0) {
		conn_lost(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
		return;
	}
	c->rlen += (size_t)nread;
	process(c);
}

/* ---- connection life cycle ------------------------------------------------ */

static void client_unref_handle(struct nr_client *c)
{
	if (--c->handles > 0 || !c->closing)
		return;
	/* Everything has closed: now the cancelled calls, then the owner. */
	while (c->cancelled) {
		struct call *k = c->cancelled;

		c->cancelled = k->next;
		call_fail(c, k, -ECANCELED, "client closed");
	}
	if (c->close_cb)
		c->close_cb(c, c->close_data);
	free(c->rbuf);
	free(c->path);
	free(c);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *cn = h->data;
	struct nr_client *c = cn->client ? cn->client : NULL;

	free(cn);
	if (c)
		client_unref_handle(c);
}

/* Close the current connection handle; the client keeps its count of
 * open handles until the close callback. */
static void conn_drop(struct nr_client *c)
{
	struct conn *cn = c->conn;

	if (!cn)
		return;
	c->conn = NULL;
	c->rlen = 0;
	uv_close((uv_handle_t *)&cn->pipe, on_conn_closed);
}

static void schedule_reconnect(struct nr_client *c)
{
	if (c->opts.reconnect_ms && !c->closing)
		uv_timer_start(&c->reconnect_timer, on_reconnect_timer, c->opts.reconnect_ms, 0);
}

/* The connection broke: every call in flight fails (we cannot know whether
 * the daemon applied it), the owner hears about it, and we try again. */
static void conn_lost(struct nr_client *c, int status)
{
	bool was_connected = c->conn && c->conn->connected;

	conn_drop(c);
	while (c->calls) {
		struct call *k = c->calls;

		call_unlink(c, k);
		call_fail(c, k, status == -EPROTO ? -EPROTO : -ECONNRESET,
			  status == -EPROTO ? "the daemon sent a malformed message"
					    : "connection to the daemon lost");
		if (c->closing)
			return;
	}
	if (c->closing)
		return;
	if (was_connected && c->opts.state_cb)
		c->opts.state_cb(c, false, status, c->opts.state_data);
	schedule_reconnect(c);
}

static int send_request(struct nr_client *c, uint32_t msgid, const char *method,
			void (*pack)(msgpack_packer *pk, const void *arg), const void *arg);

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *cn = req->data;
	struct nr_client *c = cn->client;
	nr_client_done_cb cb;
	void *data;

	if (!c || c->conn != cn)
		return; /* the client closed meanwhile */
	if (status == 0) {
		cn->connected = true;
		uv_read_start((uv_stream_t *)&cn->pipe, on_alloc, on_read);
		/* A new session: the daemon forgot our subscription. */
		if (c->subscribed) {
			struct call *k = calloc(1, sizeof(*k));

			if (k) {
				k->kind = K_RESUBSCRIBE;
				k->msgid = ++c->next_msgid;
				if (send_request(c, k->msgid, "events.subscribe", NULL, NULL) == 0) {
					k->prev = c->calls_tail;
					if (c->calls_tail)
						c->calls_tail->next = k;
					else
						c->calls = k;
					c->calls_tail = k;
				} else {
					free(k);
				}
			}
		}
	} else {
		conn_drop(c);
	}
	cb = c->connect_cb;
	data = c->connect_data;
	c->connect_cb = NULL;
	if (cb)
		cb(c, status, status < 0 ? uv_strerror(status) : NULL, data);
	else if (status == 0 && c->opts.state_cb)
		c->opts.state_cb(c, true, 0, c->opts.state_data);
	if (status < 0 && !c->closing)
		schedule_reconnect(c);
}

static void start_connect(struct nr_client *c)
{
	struct conn *cn;

	if (c->closing || c->conn)
		return;
	cn = calloc(1, sizeof(*cn));
	if (!cn || uv_pipe_init(c->loop, &cn->pipe, 0) < 0) {
		free(cn);
		schedule_reconnect(c);
		return;
	}
	cn->client = c;
	cn->pipe.data = cn;
	cn->creq.data = cn;
	c->conn = cn;
	c->handles++;
	/* uv_pipe_connect reports every error through the callback. */
	uv_pipe_connect(&cn->creq, &cn->pipe, c->path, on_connect);
}

/* ---- sending -------------------------------------------------------------- */

static void on_write(uv_write_t *req, int status)
{
	struct wbuf *w = (struct wbuf *)req;

	(void)status; /* a broken pipe shows up as a read error too */
	free(w->data);
	free(w);
}

static int send_request(struct nr_client *c, uint32_t msgid, const char *method,
			void (*pack)(msgpack_packer *pk, const void *arg), const void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct wbuf *w;
	uv_buf_t ub;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	nr_rpc_pack_request_head(&pk, msgid, method, pack != NULL);
	if (pack)
		pack(&pk, arg);
	w = malloc(sizeof(*w));
	if (!w || !sb.data) {
		free(w);
		msgpack_sbuffer_destroy(&sb);
		return -ENOMEM;
	}
	ub = uv_buf_init(sb.data, (unsigned int)sb.size);
	w->data = msgpack_sbuffer_release(&sb);
	rc = uv_write(&w->req, (uv_stream_t *)&c->conn->pipe, &ub, 1, on_write);
	if (rc < 0) {
		free(w->data);
		free(w);
	}
	return rc;
}

static int call_start(struct nr_client *c, enum call_kind kind, const char *method,
		      void (*pack)(msgpack_packer *pk, const void *arg), const void *arg,
		      void (*cb)(void), void *data)
{
	struct call *k;
	int rc;

	if (!c || !cb)
		return nr_last_error_set(-EINVAL, "%s: client and callback are required", method);
	if (c->closing)
		return nr_last_error_set(-ECANCELED, "%s: client is closing", method);
	if (!c->conn || !c->conn->connected)
		return nr_last_error_set(-ENOTCONN, "%s: not connected to %s", method, c->path);
	k = calloc(1, sizeof(*k));
	if (!k)
		return nr_last_error_set(-ENOMEM, "out of memory");
	k->kind = kind;
	k->cb = cb;
	k->data = data;
	k->msgid = ++c->next_msgid;
	if (c->opts.timeout_ms)
		k->deadline = uv_now(c->loop) + c->opts.timeout_ms;
	rc = send_request(c, k->msgid, method, pack, arg);
	if (rc < 0) {
		free(k);
		return nr_last_error_set(rc, "%s: cannot send: %s", method, uv_strerror(rc));
	}
	k->prev = c->calls_tail;
	if (c->calls_tail)
		c->calls_tail->next = k;
	else
		c->calls = k;
	c->calls_tail = k;
	if (c->opts.timeout_ms && !uv_is_active((uv_handle_t *)&c->timeout_timer)) {
		uint64_t tick = c->opts.timeout_ms / 4 ? c->opts.timeout_ms / 4 : 1;

		uv_timer_start(&c->timeout_timer, on_timeout_tick, tick, tick);
	}
	return 0;
}

static void on_timeout_tick(uv_timer_t *t)
{
	struct nr_client *c = t->data;
	uint64_t now = uv_now(c->loop);
	struct call *k = c->calls, *next;

	if (!k) {
		uv_timer_stop(t);
		return;
	}
	for (; k; k = next) {
		next = k->next;
		if (k->deadline && k->deadline <= now) {
			call_unlink(c, k);
			call_fail(c, k, -ETIMEDOUT, "no answer from the daemon in time");
			if (c->closing)
				return;
			next = c->calls; /* the callback may have changed the list */
		}
	}
}

/* ---- life cycle ------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
	client_unref_handle(h->data);
}

NR_API int nr_client_new(uv_loop_t *loop, const struct nr_client_opts *opts,
			 struct nr_client **ret)
{
	struct nr_err err = { 0 };
	struct nr_client *c;
	const char *path;

	if (!loop || !ret)
		return nr_last_error_set(-EINVAL, "nr_client_new: loop and ret are required");
	if (!OPTS_VALID(opts, nr_client_opts, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	path = OPTS_GET(opts, socket_path, NULL);
	if (!path)
		path = NR_CLIENT_DEFAULT_SOCKET;
	if (!*path || strlen(path) >= 108)
		return nr_last_error_set(-EINVAL, "socket path \"%s\": empty or longer than 107 bytes",
					 path);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		return nr_last_error_set(-ENOMEM, "out of memory");
	}
	c->loop = loop;
	c->opts.sz = sizeof(c->opts);
	c->opts.reconnect_ms = OPTS_GET(opts, reconnect_ms, 0);
	c->opts.timeout_ms = OPTS_GET(opts, timeout_ms, 0);
	c->opts.max_msg = OPTS_GET(opts, max_msg, 0);
	c->opts.event_cb = OPTS_GET(opts, event_cb, NULL);
	c->opts.event_data = OPTS_GET(opts, event_data, NULL);
	c->opts.state_cb = OPTS_GET(opts, state_cb, NULL);
	c->opts.state_data = OPTS_GET(opts, state_data, NULL);
	c->lim = (struct nr_rpc_limits){
		.max_msg = c->opts.max_msg ? c->opts.max_msg : NR_RPC_CLIENT_MAX_MSG,
		.max_depth = NR_RPC_MAX_DEPTH,
	};
	uv_timer_init(loop, &c->reconnect_timer);
	uv_timer_init(loop, &c->timeout_timer);
	c->reconnect_timer.data = c;
	c->timeout_timer.data = c;
	c->handles = 2;
	*ret = c;
	return 0;
}

NR_API int nr_client_connect(struct nr_client *c, nr_client_done_cb cb, void *data)
{
	if (!c)
		return nr_last_error_set(-EINVAL, "nr_client_connect: no client");
	if (c->closing)
		return nr_last_error_set(-ECANCELED, "client is closing");
	if (c->conn || c->connect_cb)
		return nr_last_error_set(-EALREADY, "already connecting or connected to %s", c->path);
	c->connect_cb = cb;
	c->connect_data = data;
	start_connect(c);
	return 0;
}

NR_API int nr_client_close(struct nr_client *c, nr_client_close_cb close_cb, void *data)
{
	if (!c)
		return nr_last_error_set(-EINVAL, "nr_client_close: no client");
	if (c->closing)
		return nr_last_error_set(-EALREADY, "client already closing");
	c->closing = true;
	c->close_cb = close_cb;
	c->close_data = data;
	/* Calls in flight are answered with -ECANCELED from the loop, after the
	 * handles have closed (never from inside this call). */
	c->cancelled = c->calls;
	c->calls = c->calls_tail = NULL;
	if (c->connect_cb) {
		struct call *k = calloc(1, sizeof(*k));

		if (k) {
			k->kind = K_DONE;
			k->cb = (void (*)(void))c->connect_cb;
			k->data = c->connect_data;
			k->next = c->cancelled;
			c->cancelled = k;
		}
		c->connect_cb = NULL;
	}
	conn_drop(c);
	uv_close((uv_handle_t *)&c->reconnect_timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->timeout_timer, on_timer_closed);
	return 0;
}

NR_API bool nr_client_connected(const struct nr_client *c)
{
	return c && c->conn && c->conn->connected;
}

NR_API void nr_client_set_data(struct nr_client *c, void *data)
{
	if (c)
		c->data = data;
}

NR_API void *nr_client_get_data(const struct nr_client *c)
{
	return c ? c->data : NULL;
}

/* ---- operations --------------------------------------------------------------- */

#define CB(f) ((void (*)(void))(f))

static void pack_name(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "name", arg);
}

static void pack_id(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "id", arg);
}

static void pack_node_spec(msgpack_packer *pk, const void *arg)
{
	const struct nr_node_spec *s = arg;
	const char *ipv4 = OPTS_GET(s, ipv4, NULL), *ipv6 = OPTS_GET(s, ipv6, NULL);
	const char *const *cidrs = OPTS_GET(s, pod_cidrs, NULL);
	size_t n = 0;

	msgpack_pack_map(pk, 1 + !!ipv4 + !!ipv6 + !!cidrs);
	nr_rpc_pack_kv_str(pk, "name", s->name);
	if (ipv4)
		nr_rpc_pack_kv_str(pk, "ipv4", ipv4);
	if (ipv6)
		nr_rpc_pack_kv_str(pk, "ipv6", ipv6);
	if (cidrs) {
		while (cidrs[n])
			n++;
		nr_rpc_pack_str(pk, "pod_cidrs");
		msgpack_pack_array(pk, n);
		for (size_t i = 0; i < n; i++)
			nr_rpc_pack_str(pk, cidrs[i]);
	}
}

static void pack_endpoint_spec(msgpack_packer *pk, const void *arg)
{
	const struct nr_endpoint_spec *s = arg;
	const char *ifname = OPTS_GET(s, ifname, NULL);
	uint32_t ifindex = OPTS_GET(s, ifindex, 0);
	const char *ipv4 = OPTS_GET(s, ipv4, NULL), *ipv6 = OPTS_GET(s, ipv6, NULL);

	msgpack_pack_map(pk, 1 + !!ifname + !!ifindex + !!ipv4 + !!ipv6);
	nr_rpc_pack_kv_str(pk, "id", s->id);
	if (ifname)
		nr_rpc_pack_kv_str(pk, "ifname", ifname);
	if (ifindex)
		nr_rpc_pack_kv_u64(pk, "ifindex", ifindex);
	if (ipv4)
		nr_rpc_pack_kv_str(pk, "ipv4", ipv4);
	if (ipv6)
		nr_rpc_pack_kv_str(pk, "ipv6", ipv6);
}

static void pack_mode(msgpack_packer *pk, const void *arg)
{
	msgpack_pack_map(pk, 1);
	nr_rpc_pack_kv_str(pk, "mode", arg);
}

static int check_spec(const void *spec, const char *key, const char *what)
{
	if (!spec || !key || !*key)
		return nr_last_error_set(-EINVAL, "%s is required", what);
	return 0;
}

NR_API int nr_client_status(struct nr_client *c, nr_client_status_cb cb, void *data)
{
	return call_start(c, K_STATUS, "status", NULL, NULL, CB(cb), data);
}

static int node_change(struct nr_client *c, const char *method, const struct nr_node_spec *spec,
		       nr_client_node_cb cb, void *data)
{
	struct nr_err err = { 0 };
	int rc = check_spec(spec, spec ? spec->name : NULL, "node spec with a name");

	if (rc < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_node_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	return call_start(c, K_NODE, method, pack_node_spec, spec, CB(cb), data);
}

NR_API int nr_client_node_add(struct nr_client *c, const struct nr_node_spec *spec,
			      nr_client_node_cb cb, void *data)
{
	return node_change(c, "node.add", spec, cb, data);
}

NR_API int nr_client_node_update(struct nr_client *c, const struct nr_node_spec *spec,
				 nr_client_node_cb cb, void *data)
{
	return node_change(c, "node.update", spec, cb, data);
}

NR_API int nr_client_node_remove(struct nr_client *c, const char *name, nr_client_done_cb cb,
				 void *data)
{
	int rc = check_spec(name, name, "node name");

	return rc < 0 ? rc : call_start(c, K_DONE, "node.remove", pack_name, name, CB(cb), data);
}

NR_API int nr_client_node_get(struct nr_client *c, const char *name, nr_client_node_cb cb,
			      void *data)
{
	int rc = check_spec(name, name, "node name");

	return rc < 0 ? rc : call_start(c, K_NODE, "node.get", pack_name, name, CB(cb), data);
}

NR_API int nr_client_node_list(struct nr_client *c, nr_client_nodes_cb cb, void *data)
{
	return call_start(c, K_NODES, "node.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_ipam_status(struct nr_client *c, nr_client_ipam_cb cb, void *data)
{
	return call_start(c, K_IPAM, "ipam.status", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *spec,
				  nr_client_endpoint_cb cb, void *data)
{
	struct nr_err err = { 0 };
	int rc = check_spec(spec, spec ? spec->id : NULL, "endpoint spec with an id");

	if (rc < 0)
		return rc;
	if (!OPTS_VALID(spec, nr_endpoint_spec, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	return call_start(c, K_ENDPOINT, "endpoint.add", pack_endpoint_spec, spec, CB(cb), data);
}

NR_API int nr_client_endpoint_remove(struct nr_client *c, const char *id, nr_client_done_cb cb,
				     void *data)
{
	int rc = check_spec(id, id, "endpoint id");

	return rc < 0 ? rc : call_start(c, K_DONE, "endpoint.remove", pack_id, id, CB(cb), data);
}

NR_API int nr_client_endpoint_list(struct nr_client *c, nr_client_endpoints_cb cb, void *data)
{
	return call_start(c, K_ENDPOINTS, "endpoint.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_route_list(struct nr_client *c, nr_client_routes_cb cb, void *data)
{
	return call_start(c, K_ROUTES, "route.list", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_mode_get(struct nr_client *c, nr_client_mode_cb cb, void *data)
{
	return call_start(c, K_MODE, "mode.get", NULL, NULL, CB(cb), data);
}

NR_API int nr_client_mode_set(struct nr_client *c, enum nr_routing_mode mode,
			      nr_client_mode_cb cb, void *data)
{
	const char *text = nr_routing_mode_str(mode);

	if (strcmp(text, "unknown") == 0)
		return nr_last_error_set(-EINVAL, "routing mode %d: expected native, tunnel or hybrid",
					 (int)mode);
	return call_start(c, K_MODE, "mode.set", pack_mode, text, CB(cb), data);
}

NR_API int nr_client_subscribe(struct nr_client *c, nr_client_done_cb cb, void *data)
{
	int rc;

	if (c && !c->opts.event_cb)
		return nr_last_error_set(-EINVAL, "nr_client_subscribe: the client has no event_cb");
	rc = call_start(c, K_SUBSCRIBE, "events.subscribe", NULL, NULL, CB(cb), data);
	if (rc == 0)
		c->subscribed = true;
	return rc;
}
