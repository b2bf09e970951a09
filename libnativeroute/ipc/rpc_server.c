#include "ipc/rpc_server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <nativeroute/error.h>

#include "ipc/rpc_codec.h"
#include "ipc/rpc_outbuf.h"
#include "ipc/rpc_readbuf.h"
#include "ipc/rpc_sockfile.h"

/* A write buffer of this size or less is kept for the next answers; a larger
 * one (a big route.list) goes back to the allocator once it is written. */
#define KEEP_OUT (64u << 10)
/* The sweep that enforces client_timeout_ms runs this often at most. */
#define SWEEP_MS 1000u

/* Output of one connection: `out` collects answers and notifications while
 * `wr` (the previous contents of out) is being written; when that write
 * completes the two swap. So there is at most one uv_write per connection
 * and the memory a client holds is the two capacities, whatever the number
 * of messages queued. */
struct rpc_conn {
	uv_pipe_t pipe;
	uv_write_t wreq;
	struct nr_rpc_server *srv;
	struct rpc_conn *prev, *next;
	unsigned int refs;      /* handle + calls in flight + the write in flight */
	bool closing, paused, in_process, subscribed, can_mutate, writing;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	struct nr_rpc_readbuf rb;
	struct nr_rpc_framer fr;
	struct nr_rpc_outbuf out, wr;
	size_t inflight;        /* requests not answered yet */
	uint64_t last_request;  /* uv_now of the last complete request (or accept) */
	uint64_t partial_since; /* uv_now when the incomplete message began, 0 = none */
};

struct nr_rpc_call {
	struct rpc_conn *conn;  /* NULL for a detached call */
	void *data;             /* detached: what nr_rpc_call_data returns */
	void (*sink)(void *arg, const char *buf, size_t len);
	void *sink_arg;
	uint32_t msgid;
	bool begun;
	struct nr_rpc_outbuf *buf; /* the server's scratch, or own when it was busy */
	struct nr_rpc_outbuf own;
	msgpack_packer pk;
};

struct nr_rpc_server {
	uv_loop_t *loop;
	uv_pipe_t listener;
	uv_timer_t sweep;
	struct nr_rpc_server_opts opts;
	struct nr_rpc_limits lim;
	char *path;
	struct rpc_conn *conns;
	size_t nclients, nreadonly;
	size_t pause_at;        /* unread bytes at which a client's reading pauses */
	unsigned int refs;      /* listener + sweep timer + connections */
	bool closing;
	bool scratch_busy;
	struct nr_rpc_outbuf scratch; /* where an answer is built */
	uint64_t broadcast_seq;
	void (*close_cb)(void *data);
	void *close_data;
};

static void conn_process(struct rpc_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- helpers ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static void srv_log(struct nr_rpc_server *srv, enum nr_rpc_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!srv->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	srv->opts.log(lvl, msg, srv->opts.log_data);
}

static void srv_unref(struct nr_rpc_server *srv)
{
	if (--srv->refs > 0)
		return;
	if (srv->close_cb)
		srv->close_cb(srv->close_data);
	nr_rpc_outbuf_free(&srv->scratch);
	free(srv->path);
	free(srv);
}

static size_t conn_queued(const struct rpc_conn *c)
{
	return c->out.len + c->wr.len;
}

static void conn_unref(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;

	if (--c->refs > 0)
		return;
	free(c->rb.data);
	nr_rpc_outbuf_free(&c->out);
	nr_rpc_outbuf_free(&c->wr);
	free(c);
	srv_unref(srv);
}

static void on_conn_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void conn_close(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;

	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nclients--;
	if (!c->can_mutate)
		srv->nreadonly--;
	/* Nothing queued will be written any more: give the memory back now,
	 * not when the last call in the controller completes. */
	nr_rpc_outbuf_reset(&c->out, 0);
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

/* Tell the peer why, then close: [2, "disconnect", [{code, name, message}]].
 * Best effort and without queueing (the peer may be the one not reading):
 * the few bytes go straight to the socket when they fit. */
__attribute__((format(printf, 4, 5)))
static void conn_drop(struct rpc_conn *c, enum nr_rpc_log_level lvl, int code, const char *fmt, ...)
{
	struct nr_rpc_outbuf b = { 0 };
	msgpack_packer pk;
	char raw[256], text[512];
	va_list ap;

	if (c->closing)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	nr_rpc_clean_text(text, sizeof(text), raw);
	srv_log(c->srv, lvl, "client pid %d uid %u: %s; disconnecting", (int)c->pid,
		(unsigned int)c->uid, text);
	msgpack_packer_init(&pk, &b, nr_rpc_outbuf_write);
	nr_rpc_pack_notification_head(&pk, "disconnect");
	msgpack_pack_map(&pk, 3);
	nr_rpc_pack_str(&pk, "code");
	msgpack_pack_int64(&pk, code);
	nr_rpc_pack_kv_str(&pk, "name", nr_err_name(code));
	nr_rpc_pack_kv_str(&pk, "message", text);
	if (!b.oom && !c->writing) {
		uv_buf_t ub = uv_buf_init(b.data, (unsigned int)b.len);

		(void)uv_try_write((uv_stream_t *)&c->pipe, &ub, 1);
	}
	nr_rpc_outbuf_free(&b);
	conn_close(c);
}

/* Resume reading once the client has drained its backlog (half the limits,
 * so we do not flap between paused and reading on every message). */
static void conn_maybe_resume(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;

	if (!c->paused || c->closing || conn_queued(c) > srv->pause_at / 2 ||
	    c->inflight > srv->opts.max_inflight / 2)
		return;
	c->paused = false;
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (!c->in_process)
		conn_process(c);
}

static bool conn_must_pause(const struct rpc_conn *c)
{
	return conn_queued(c) >= c->srv->pause_at || c->inflight >= c->srv->opts.max_inflight;
}

static void conn_flush(struct rpc_conn *c);

static void on_write(uv_write_t *req, int status)
{
	struct rpc_conn *c = req->data;

	c->writing = false;
	nr_rpc_outbuf_reset(&c->wr, KEEP_OUT);
	if (status < 0 && status != UV_ECANCELED) {
		srv_log(c->srv, NR_RPC_LOG_DEBUG, "client pid %d: write failed: %s", (int)c->pid,
			uv_strerror(status));
		conn_close(c);
	} else if (!c->closing) {
		conn_flush(c);
		conn_maybe_resume(c);
	}
	conn_unref(c);
}

/* Hand what has collected in `out` to the kernel, unless a write is still
 * running (its completion comes back here). */
static void conn_flush(struct rpc_conn *c)
{
	struct nr_rpc_outbuf t;
	uv_buf_t ub;

	if (c->closing || c->writing || c->out.len == 0)
		return;
	t = c->wr;
	c->wr = c->out;
	c->out = t;
	ub = uv_buf_init(c->wr.data, (unsigned int)c->wr.len);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->pipe, &ub, 1, on_write) < 0) {
		conn_close(c);
		return;
	}
	c->writing = true;
	c->refs++;
}

/* Queue one whole message. Past max_queue the client is dropped, unless
 * nothing is queued: one answer larger than the limit (a big route.list)
 * still goes out, it is the pile-up that is refused. */
static void conn_queue(struct rpc_conn *c, const char *data, size_t len, const char *what)
{
	size_t queued = conn_queued(c);

	if (c->closing)
		return;
	if (queued > 0 && queued + len > c->srv->opts.max_queue) {
		conn_drop(c, NR_RPC_LOG_WARN, -ENOBUFS,
			  "%zu bytes of %s not read (limit %zu)", queued, what,
			  c->srv->opts.max_queue);
		return;
	}
	if (nr_rpc_outbuf_write(&c->out, data, len) < 0) {
		conn_drop(c, NR_RPC_LOG_WARN, -ENOMEM, "out of memory queueing %zu bytes", len);
		return;
	}
	conn_flush(c);
}

/* ---- answering ---------------------------------------------------------- */

void *nr_rpc_call_data(const struct nr_rpc_call *call)
{
	return call->conn ? call->conn->srv->opts.data : call->data;
}

struct nr_rpc_call *nr_rpc_call_detached(void *data, uint32_t msgid,
					 void (*sink)(void *arg, const char *buf, size_t len),
					 void *arg)
{
	struct nr_rpc_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->data = data;
	call->msgid = msgid;
	call->sink = sink;
	call->sink_arg = arg;
	return call;
}

static void call_start_buf(struct nr_rpc_call *call)
{
	struct nr_rpc_server *srv = call->conn ? call->conn->srv : NULL;

	if (srv && !srv->scratch_busy) {
		srv->scratch_busy = true;
		call->buf = &srv->scratch;
	} else {
		call->buf = &call->own;
	}
	call->buf->len = 0;
	call->buf->oom = false;
	msgpack_packer_init(&call->pk, call->buf, nr_rpc_outbuf_write);
}

static void call_release_buf(struct nr_rpc_call *call)
{
	struct nr_rpc_server *srv = call->conn ? call->conn->srv : NULL;

	if (srv && call->buf == &srv->scratch) {
		nr_rpc_outbuf_reset(&srv->scratch, KEEP_OUT);
		srv->scratch_busy = false;
	} else if (call->buf) {
		nr_rpc_outbuf_free(call->buf);
	}
	call->buf = NULL;
}

msgpack_packer *nr_rpc_call_begin(struct nr_rpc_call *call)
{
	call_start_buf(call);
	call->begun = true;
	nr_rpc_pack_response_head(&call->pk, call->msgid);
	return &call->pk;
}

static void call_finish(struct nr_rpc_call *call)
{
	struct rpc_conn *c = call->conn;

	if (!c) {
		if (call->sink && !call->buf->oom)
			call->sink(call->sink_arg, call->buf->data, call->buf->len);
		call_release_buf(call);
		free(call);
		return;
	}

	if (call->buf->oom)
		conn_drop(c, NR_RPC_LOG_WARN, -ENOMEM, "out of memory building an answer");
	else
		conn_queue(c, call->buf->data, call->buf->len, "answers");
	call_release_buf(call);
	free(call);
	c->inflight--;
	conn_maybe_resume(c);
	conn_unref(c);
}

void nr_rpc_call_end(struct nr_rpc_call *call)
{
	call_finish(call);
}

void nr_rpc_call_fail(struct nr_rpc_call *call, int code, const char *message)
{
	if (call->begun)
		call_release_buf(call);
	call_start_buf(call);
	nr_rpc_pack_error_response(&call->pk, call->msgid, code, message);
	call_finish(call);
}

void nr_rpc_call_subscribe(struct nr_rpc_call *call)
{
	if (call->conn)
		call->conn->subscribed = true;
}

/* An error answer for a request we could not even start. */
static void conn_send_error(struct rpc_conn *c, uint32_t msgid, int code, const char *message)
{
	struct nr_rpc_outbuf b = { 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, nr_rpc_outbuf_write);
	nr_rpc_pack_error_response(&pk, msgid, code, message);
	if (b.oom)
		conn_drop(c, NR_RPC_LOG_WARN, -ENOMEM, "out of memory building an answer");
	else
		conn_queue(c, b.data, b.len, "answers");
	nr_rpc_outbuf_free(&b);
}

/* ---- requests ------------------------------------------------------------ */

static void dispatch(struct rpc_conn *c, const struct nr_rpc_msg *msg)
{
	struct nr_rpc_server *srv = c->srv;
	const struct nr_rpc_method *m = srv->opts.find_method(msg->method);
	struct nr_rpc_call *call;
	struct nr_err err = { 0 };
	int rc;

	if (!m) {
		char text[160];

		snprintf(text, sizeof(text), "unknown method \"%.100s\"", msg->method);
		conn_send_error(c, msg->msgid, -ENOSYS, text);
		return;
	}
	if (m->mutates && !c->can_mutate) {
		char text[192];

		snprintf(text, sizeof(text),
			 "%s changes state: peer uid %u is read-only (needs root or the daemon's group)",
			 m->name, (unsigned int)c->uid);
		conn_send_error(c, msg->msgid, -EPERM, text);
		return;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		conn_send_error(c, msg->msgid, -ENOMEM, NULL);
		return;
	}
	call->conn = c;
	call->msgid = msg->msgid;
	c->refs++;
	c->inflight++;
	rc = m->fn(call, msg->params, msg->zone, &err);
	if (rc < 0)
		nr_rpc_call_fail(call, rc, err.msg);
}

/* One framed message. Returns false when the connection must close. */
static bool conn_handle(struct rpc_conn *c, const char *data, size_t len)
{
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	struct nr_err err = { 0 };
	bool keep = true;

	msgpack_unpacked_init(&u);
	if (nr_rpc_decode(data, len, &u, &msg, &err) < 0) {
		if (msg.has_msgid && msg.type == NR_RPC_REQUEST) {
			conn_send_error(c, msg.msgid, err.code, err.msg);
		} else {
			conn_drop(c, NR_RPC_LOG_INFO, -EBADMSG, "%s", err.msg);
			keep = false;
		}
	} else if (msg.type == NR_RPC_REQUEST) {
		dispatch(c, &msg);
	}
	/* We never send requests, so there is nothing a response or a
	 * notification from a client could mean: ignored, without a log line
	 * (a peer must not be able to make us write at will). */
	msgpack_unpacked_destroy(&u);
	return keep;
}

static void conn_process(struct rpc_conn *c)
{
	size_t off = 0;
	uint64_t now = uv_now(c->srv->loop);

	c->in_process = true;
	while (!c->closing && !c->paused && off < c->rb.len) {
		struct nr_err err = { 0 };
		ssize_t n = nr_rpc_framer_next(&c->fr, c->rb.data + off, c->rb.len - off,
					       &c->srv->lim, &err);

		if (n == 0) {
			if (!c->partial_since)
				c->partial_since = now ? now : 1;
			break;
		}
		if (n < 0) {
			conn_drop(c, NR_RPC_LOG_INFO, err.code, "%s", err.msg);
			break;
		}
		c->partial_since = 0;
		c->last_request = now;
		if (!conn_handle(c, c->rb.data + off, (size_t)n)) {
			conn_close(c);
			break;
		}
		off += (size_t)n;
		if (!c->closing && conn_must_pause(c)) {
			c->paused = true;
			uv_read_stop((uv_stream_t *)&c->pipe);
		}
	}
	if (off > 0 && !c->closing)
		nr_rpc_readbuf_consume(&c->rb, off);
	c->in_process = false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	struct rpc_conn *c = h->data;

	(void)suggested;
	*out = nr_rpc_readbuf_space(&c->rb, c->srv->lim.max_msg);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct rpc_conn *c = s->data;

	(void)buf;
	if (nread < 0) {
		if (nread != UV_EOF)
			srv_log(c->srv, NR_RPC_LOG_DEBUG, "client pid %d: read: %s", (int)c->pid,
				uv_strerror((int)nread));
		conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	c->rb.len += (size_t)nread;
	conn_process(c);
}

/* ---- timeouts ------------------------------------------------------------- */

/* A slot is held by a connection; a peer that holds one without using it
 * (a message that never completes, or a read-only peer that asks nothing
 * and subscribes to nothing) gives it back after client_timeout_ms. */
static void on_sweep(uv_timer_t *t)
{
	struct nr_rpc_server *srv = t->data;
	uint64_t now = uv_now(srv->loop), limit = srv->opts.client_timeout_ms;
	struct rpc_conn *c, *next;

	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->partial_since && now - c->partial_since >= limit)
			conn_drop(c, NR_RPC_LOG_INFO, -ETIMEDOUT,
				  "message incomplete after %llu ms (%zu bytes so far)",
				  (unsigned long long)(now - c->partial_since), c->rb.len);
		else if (!c->can_mutate && !c->subscribed && c->inflight == 0 &&
			 conn_queued(c) == 0 && now - c->last_request >= limit)
			conn_drop(c, NR_RPC_LOG_DEBUG, -ETIMEDOUT,
				  "read-only and idle for %llu ms",
				  (unsigned long long)(now - c->last_request));
	}
}

/* ---- accepting ------------------------------------------------------------ */

static bool peer_in_group(int fd, gid_t group)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == group)
			return true;
	return false;
}

static int conn_credentials(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	c->can_mutate = cred.uid == 0 || cred.uid == geteuid() ||
			(srv->opts.has_group &&
			 (cred.gid == srv->opts.group || peer_in_group(fd, srv->opts.group)));
	return 0;
}

static size_t readonly_of_uid(const struct nr_rpc_server *srv, uid_t uid)
{
	size_t n = 0;

	for (const struct rpc_conn *c = srv->conns; c; c = c->next)
		n += !c->can_mutate && c->uid == uid;
	return n;
}

/* Which slot rule refuses this (already counted) peer, or NULL. */
static const char *slot_refusal(const struct rpc_conn *c, char *buf, size_t len)
{
	const struct nr_rpc_server *srv = c->srv;
	size_t ro_slots = srv->opts.max_clients - srv->opts.reserve;

	if (srv->nclients > srv->opts.max_clients) {
		snprintf(buf, len, "all %zu client slots are taken", srv->opts.max_clients);
		return buf;
	}
	if (c->can_mutate)
		return NULL;
	if (srv->nreadonly > ro_slots) {
		snprintf(buf, len, "read-only peers hold all %zu of their slots (%zu are kept for "
			 "privileged peers)", ro_slots, srv->opts.reserve);
		return buf;
	}
	if (readonly_of_uid(srv, c->uid) > (ro_slots + 1) / 2) {
		snprintf(buf, len, "uid %u holds %zu connections already", (unsigned int)c->uid,
			 (ro_slots + 1) / 2);
		return buf;
	}
	return NULL;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct nr_rpc_server *srv = listener->data;
	struct rpc_conn *c;
	const char *why;
	char text[160];

	if (status < 0) {
		srv_log(srv, NR_RPC_LOG_WARN, "accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || uv_pipe_init(srv->loop, &c->pipe, 0) < 0) {
		free(c);
		return;
	}
	c->srv = srv;
	c->refs = 1;
	c->pipe.data = c;
	c->can_mutate = true; /* until the credentials say otherwise (counting) */
	c->last_request = uv_now(srv->loop);
	srv->refs++;
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->nclients++;
	if (uv_accept(listener, (uv_stream_t *)&c->pipe) < 0 || conn_credentials(c) < 0) {
		conn_close(c);
		return;
	}
	if (!c->can_mutate)
		srv->nreadonly++;
	why = slot_refusal(c, text, sizeof(text));
	if (why) {
		conn_drop(c, NR_RPC_LOG_WARN, -EUSERS, "%s", why);
		return;
	}
	srv_log(srv, NR_RPC_LOG_DEBUG, "client pid %d uid %u connected (%s)", (int)c->pid,
		(unsigned int)c->uid, c->can_mutate ? "read-write" : "read-only");
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- the listener ----------------------------------------------------------- */

static int listen_on(struct nr_rpc_server *srv, struct nr_err *err)
{
	const char *path = srv->path;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return nr_err_set(err, -ENAMETOOLONG, "%s: socket path longer than %zu bytes", path,
				  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	rc = nr_rpc_sockfile_prepare(path, err);
	if (rc < 0)
		return rc;
	rc = uv_pipe_bind(&srv->listener, path);
	if (rc < 0)
		return nr_err_set(err, rc, "%s: bind: %s", path, uv_strerror(rc));
	/* Not listening yet: nobody can connect while the mode is still the
	 * umask's, so there is no window for an unwanted peer. */
	if (chmod(path, srv->opts.mode) < 0 ||
	    (srv->opts.has_group && chown(path, (uid_t)-1, srv->opts.group) < 0)) {
		rc = -errno;
		unlink(path);
		return nr_err_set(err, rc, "%s: cannot set mode/group: %s", path, strerror(-rc));
	}
	rc = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
	if (rc < 0) {
		unlink(path);
		return nr_err_set(err, rc, "%s: listen: %s", path, uv_strerror(rc));
	}
	return 0;
}

static void on_handle_closed(uv_handle_t *h)
{
	srv_unref(h->data);
}

static void opts_defaults(struct nr_rpc_server_opts *o)
{
	if (!o->mode)
		o->mode = 0660;
	if (!o->max_clients)
		o->max_clients = 128;
	if (!o->reserve)
		o->reserve = o->max_clients / 8 ? o->max_clients / 8 : 1;
	if (o->reserve >= o->max_clients)
		o->reserve = o->max_clients - 1;
	if (!o->max_msg)
		o->max_msg = NR_RPC_SERVER_MAX_MSG;
	if (!o->max_queue)
		o->max_queue = 8u << 20;
	if (!o->max_inflight)
		o->max_inflight = 1024;
	if (!o->client_timeout_ms)
		o->client_timeout_ms = 30000;
}

int nr_rpc_server_new(uv_loop_t *loop, const struct nr_rpc_server_opts *opts,
		      struct nr_rpc_server **ret, struct nr_err *err)
{
	struct nr_rpc_server *srv;
	uint64_t every;
	int rc;

	if (!loop || !opts || !opts->path || !*opts->path || !opts->find_method || !ret)
		return nr_err_set(err, -EINVAL,
				  "rpc server: loop, method table and socket path are required");
	srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->path = strdup(opts->path))) {
		free(srv);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	srv->loop = loop;
	srv->opts = *opts;
	srv->opts.path = srv->path;
	opts_defaults(&srv->opts);
	/* Pausing early keeps a pipelining client's memory small; the queue
	 * limit is for what arrives anyway (answers in flight, events). */
	srv->pause_at = srv->opts.max_queue / 2 < (256u << 10) ? srv->opts.max_queue / 2 : (256u << 10);
	srv->lim = (struct nr_rpc_limits){ .max_msg = srv->opts.max_msg,
					   .max_depth = NR_RPC_MAX_DEPTH,
					   .max_objects = NR_RPC_SERVER_MAX_OBJECTS };
	rc = uv_pipe_init(loop, &srv->listener, 0);
	if (rc < 0) {
		free(srv->path);
		free(srv);
		return nr_err_set(err, rc, "uv_pipe_init: %s", uv_strerror(rc));
	}
	srv->refs = 2;
	srv->listener.data = srv;
	uv_timer_init(loop, &srv->sweep);
	srv->sweep.data = srv;
	rc = listen_on(srv, err);
	if (rc < 0) {
		/* The handles exist: they must close before the memory goes. */
		srv->closing = true;
		uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
		uv_close((uv_handle_t *)&srv->sweep, on_handle_closed);
		return rc;
	}
	every = srv->opts.client_timeout_ms / 4;
	every = every < 10 ? 10 : every > SWEEP_MS ? SWEEP_MS : every;
	uv_timer_start(&srv->sweep, on_sweep, every, every);
	uv_unref((uv_handle_t *)&srv->sweep); /* the listener keeps the loop alive */
	*ret = srv;
	return 0;
}

void nr_rpc_server_broadcast(struct nr_rpc_server *srv, const char *method,
			     void (*pack)(msgpack_packer *pk, const void *arg, uint64_t seq),
			     const void *arg)
{
	struct nr_rpc_outbuf b = { 0 };
	msgpack_packer pk;
	struct rpc_conn *c, *next;

	if (!srv || srv->closing)
		return;
	srv->broadcast_seq++;
	msgpack_packer_init(&pk, &b, nr_rpc_outbuf_write);
	nr_rpc_pack_notification_head(&pk, method);
	pack(&pk, arg, srv->broadcast_seq);
	if (b.oom) {
		srv_log(srv, NR_RPC_LOG_ERROR, "out of memory packing a %s notification", method);
		nr_rpc_outbuf_free(&b);
		return;
	}
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (c->subscribed)
			conn_queue(c, b.data, b.len, "notifications");
	}
	nr_rpc_outbuf_free(&b);
}

void nr_rpc_server_close(struct nr_rpc_server *srv, void (*cb)(void *data), void *data)
{
	if (!srv || srv->closing)
		return;
	srv->closing = true;
	srv->close_cb = cb;
	srv->close_data = data;
	while (srv->conns)
		conn_close(srv->conns);
	unlink(srv->path);
	uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
	uv_close((uv_handle_t *)&srv->sweep, on_handle_closed);
}

size_t nr_rpc_server_clients(const struct nr_rpc_server *srv)
{
	return srv->nclients;
}
