/* The client library (include/nativeroute/client.h): MessagePack-RPC calls
 * over a uv_pipe_t, answers matched to calls by msgid. This file keeps the
 * connection and the calls in flight; see client_internal.h for the rest. */
#include <nativeroute/client.h>

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <nativeroute/opts.h>

#include "ipc/client_internal.h"
#include "ipc/rpc_codec.h"
#include "ipc/rpc_readbuf.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

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
	int drop_code;           /* why the daemon said it closes on us, 0 = no word */
	char drop_reason[256];
	struct nr_rpc_readbuf rb;
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

static void call_append(struct nr_client *c, struct call *k)
{
	k->prev = c->calls_tail;
	if (c->calls_tail)
		c->calls_tail->next = k;
	else
		c->calls = k;
	c->calls_tail = k;
}

/* ---- incoming messages ---------------------------------------------------- */

static void handle_notification(struct nr_client *c, const struct nr_rpc_msg *msg)
{
	struct nr_event ev;
	uint64_t seq;

	if (!strcmp(msg->method, "disconnect") && msg->args->via.array.size >= 1) {
		/* The daemon's last word before it closes (too many clients,
		 * answers not read, a timeout): the reason the calls fail. */
		const char *text = NULL;
		int code = nr_rpc_error_decode(msg->zone, &msg->args->via.array.ptr[0], &text);

		c->drop_code = code < 0 && code != -EPROTO ? code : -ECONNRESET;
		snprintf(c->drop_reason, sizeof(c->drop_reason), "the daemon closed the connection: %s",
			 text ? text : "no reason given");
		return;
	}
	if (strcmp(msg->method, "event") != 0 || msg->args->via.array.size < 1 ||
	    !c->opts.event_cb)
		return;
	if (nr_client_event_of(msg->zone, &msg->args->via.array.ptr[0], &ev, &seq))
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

		nr_client_call_fail(c, k, code, text);
	} else {
		nr_client_call_complete(c, k, msg->result, msg->zone);
	}
}

static void process(struct nr_client *c)
{
	size_t off = 0;
	struct conn *cn = c->conn;

	while (c->conn == cn && !c->closing && off < c->rb.len) {
		struct nr_err err = { 0 };
		ssize_t n = nr_rpc_frame(c->rb.data + off, c->rb.len - off, &c->lim, &err);
		msgpack_unpacked u;
		struct nr_rpc_msg msg;

		if (n == 0)
			break;
		if (n < 0) {
			conn_lost(c, -EPROTO);
			return;
		}
		msgpack_unpacked_init(&u);
		if (nr_rpc_decode(c->rb.data + off, (size_t)n, &u, &msg, &err) < 0) {
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
	if (c->conn == cn && off > 0)
		nr_rpc_readbuf_consume(&c->rb, off);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	struct conn *cn = h->data;

	(void)suggested;
	*out = nr_rpc_readbuf_space(&cn->client->rb, cn->client->lim.max_msg);
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
	c->rb.len += (size_t)nread;
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
		nr_client_call_fail(c, k, -ECANCELED, "client closed");
	}
	if (c->close_cb)
		c->close_cb(c, c->close_data);
	free(c->rb.data);
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
	c->rb.len = 0;
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

	int code = status == -EPROTO ? -EPROTO : c->drop_code ? c->drop_code : -ECONNRESET;
	char why[sizeof(c->drop_reason)];

	snprintf(why, sizeof(why), "%s",
		 status == -EPROTO ? "the daemon sent a malformed message"
		 : c->drop_code	   ? c->drop_reason
				   : "connection to the daemon lost");
	c->drop_code = 0;
	conn_drop(c);
	while (c->calls) {
		struct call *k = c->calls;

		call_unlink(c, k);
		nr_client_call_fail(c, k, code, why);
		if (c->closing)
			return;
	}
	if (c->closing)
		return;
	if (was_connected && c->opts.state_cb)
		c->opts.state_cb(c, false, status, c->opts.state_data);
	schedule_reconnect(c);
}

static void resubscribe(struct nr_client *c);

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
		if (c->subscribed)
			resubscribe(c);
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
			nr_client_pack_fn pack, const void *arg)
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

/* Number and send the call, and queue it for its answer; on failure the
 * caller still owns k. */
static int call_send(struct nr_client *c, struct call *k, const char *method,
		     nr_client_pack_fn pack, const void *arg)
{
	int rc;

	k->msgid = ++c->next_msgid;
	rc = send_request(c, k->msgid, method, pack, arg);
	if (rc < 0)
		return rc;
	call_append(c, k);
	return 0;
}

static int call_start(struct nr_client *c, enum call_kind kind, const char *method,
		      nr_client_pack_fn pack, const void *arg, void (*fn)(void), void (*cb)(void),
		      void *data)
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
	k->fn = fn;
	k->data = data;
	if (c->opts.timeout_ms)
		k->deadline = uv_now(c->loop) + c->opts.timeout_ms;
	rc = call_send(c, k, method, pack, arg);
	if (rc < 0) {
		free(k);
		return nr_last_error_set(rc, "%s: cannot send: %s", method, uv_strerror(rc));
	}
	if (c->opts.timeout_ms && !uv_is_active((uv_handle_t *)&c->timeout_timer)) {
		uint64_t tick = c->opts.timeout_ms / 4 ? c->opts.timeout_ms / 4 : 1;

		uv_timer_start(&c->timeout_timer, on_timeout_tick, tick, tick);
	}
	return 0;
}

int nr_client_call_start(struct nr_client *c, enum call_kind kind, const char *method,
			 nr_client_pack_fn pack, const void *arg, void (*cb)(void), void *data)
{
	return call_start(c, kind, method, pack, arg, NULL, cb, data);
}

int nr_client_walk_start(struct nr_client *c, enum call_kind kind, const char *method,
			 void (*fn)(void), nr_client_done_cb done, void *data)
{
	if (!fn)
		return nr_last_error_set(-EINVAL, "%s: an item function is required", method);
	return call_start(c, kind, method, NULL, NULL, fn, (void (*)(void))done, data);
}

bool nr_client_closing(const struct nr_client *c)
{
	return c->closing;
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
			nr_client_call_fail(c, k, -ETIMEDOUT, "no answer from the daemon in time");
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

/* ---- events ------------------------------------------------------------------- */

/* A new session: the daemon forgot our subscription. Its answer is only
 * "done", so the call has no callback and no deadline. */
static void resubscribe(struct nr_client *c)
{
	struct call *k = calloc(1, sizeof(*k));

	if (!k)
		return;
	k->kind = K_RESUBSCRIBE;
	if (call_send(c, k, "events.subscribe", NULL, NULL) < 0)
		free(k);
}

NR_API int nr_client_subscribe(struct nr_client *c, nr_client_done_cb cb, void *data)
{
	int rc;

	if (c && !c->opts.event_cb)
		return nr_last_error_set(-EINVAL, "nr_client_subscribe: the client has no event_cb");
	rc = nr_client_call_start(c, K_SUBSCRIBE, "events.subscribe", NULL, NULL, 
				  (void (*)(void))cb, data);
	if (rc == 0)
		c->subscribed = true;
	return rc;
}
