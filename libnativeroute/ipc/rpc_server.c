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

#include "ipc/rpc_codec.h"
#include "ipc/rpc_methods.h"
#include "ipc/rpc_readbuf.h"

/* One serialized message, shared by every connection it is written to. */
struct rpc_buf {
	unsigned int refs;
	size_t len;
	char *data;
};

struct rpc_write {
	uv_write_t req;
	struct rpc_conn *conn;
	struct rpc_buf *buf;
};

struct rpc_conn {
	uv_pipe_t pipe;
	struct nr_rpc_server *srv;
	struct rpc_conn *prev, *next;
	unsigned int refs;      /* handle + calls in flight + writes in flight */
	bool closing, paused, in_process, subscribed, can_mutate;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	struct nr_rpc_readbuf rb;
	size_t queued;          /* bytes given to uv_write, not yet written */
	size_t inflight;        /* requests not answered yet */
};

struct nr_rpc_call {
	struct rpc_conn *conn;
	uint32_t msgid;
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

struct nr_rpc_server {
	uv_loop_t *loop;
	struct nr_ctl *ctl;
	uv_pipe_t listener;
	struct nr_rpc_server_opts opts;
	struct nr_rpc_limits lim;
	char *path;
	struct rpc_conn *conns;
	size_t nclients;
	unsigned int refs;      /* listener handle + connections */
	bool closing;
	uint64_t event_seq;
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
	free(srv->path);
	free(srv);
}

static void buf_unref(struct rpc_buf *b)
{
	if (--b->refs > 0)
		return;
	free(b->data);
	free(b);
}

/* Take over an sbuffer's memory as a shareable message. */
static struct rpc_buf *buf_from_sbuffer(msgpack_sbuffer *sb)
{
	struct rpc_buf *b = malloc(sizeof(*b));

	if (!b) {
		msgpack_sbuffer_destroy(sb);
		return NULL;
	}
	b->refs = 1;
	b->len = sb->size;
	b->data = msgpack_sbuffer_release(sb);
	return b;
}

static void conn_unref(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;

	if (--c->refs > 0)
		return;
	free(c->rb.data);
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
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

/* Resume reading once the client has drained its backlog (half the limits,
 * so we do not flap between paused and reading on every message). */
static void conn_maybe_resume(struct rpc_conn *c)
{
	struct nr_rpc_server *srv = c->srv;

	if (!c->paused || c->closing || c->queued > srv->opts.max_queue / 2 ||
	    c->inflight > srv->opts.max_inflight / 2)
		return;
	c->paused = false;
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (!c->in_process)
		conn_process(c);
}

static bool conn_must_pause(const struct rpc_conn *c)
{
	return c->queued > c->srv->opts.max_queue || c->inflight >= c->srv->opts.max_inflight;
}

static void on_write(uv_write_t *req, int status)
{
	struct rpc_write *w = (struct rpc_write *)req;
	struct rpc_conn *c = w->conn;

	c->queued -= w->buf->len;
	buf_unref(w->buf);
	free(w);
	if (status < 0 && status != UV_ECANCELED) {
		srv_log(c->srv, NR_RPC_LOG_DEBUG, "client pid %d: write failed: %s", (int)c->pid,
			uv_strerror(status));
		conn_close(c);
	} else {
		conn_maybe_resume(c);
	}
	conn_unref(c);
}

static void conn_send(struct rpc_conn *c, struct rpc_buf *b)
{
	struct rpc_write *w;
	uv_buf_t ub;

	if (c->closing)
		return;
	w = malloc(sizeof(*w));
	if (!w) {
		conn_close(c);
		return;
	}
	w->conn = c;
	w->buf = b;
	ub = uv_buf_init(b->data, (unsigned int)b->len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &ub, 1, on_write) < 0) {
		free(w);
		conn_close(c);
		return;
	}
	b->refs++;
	c->refs++;
	c->queued += b->len;
}

/* ---- answering ---------------------------------------------------------- */

struct nr_ctl *nr_rpc_call_ctl(const struct nr_rpc_call *call)
{
	return call->conn->srv->ctl;
}

msgpack_packer *nr_rpc_call_begin(struct nr_rpc_call *call)
{
	nr_rpc_pack_response_head(&call->pk, call->msgid);
	return &call->pk;
}

static void call_finish(struct nr_rpc_call *call)
{
	struct rpc_conn *c = call->conn;
	struct rpc_buf *b = buf_from_sbuffer(&call->sb);

	if (b) {
		conn_send(c, b);
		buf_unref(b);
	} else {
		conn_close(c);
	}
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
	msgpack_sbuffer_clear(&call->sb);
	nr_rpc_pack_error_response(&call->pk, call->msgid, code, message);
	call_finish(call);
}

void nr_rpc_call_subscribe(struct nr_rpc_call *call)
{
	call->conn->subscribed = true;
}

/* An error answer for a request we could not even start. */
static void conn_send_error(struct rpc_conn *c, uint32_t msgid, int code, const char *message)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct rpc_buf *b;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	nr_rpc_pack_error_response(&pk, msgid, code, message);
	b = buf_from_sbuffer(&sb);
	if (!b) {
		conn_close(c);
		return;
	}
	conn_send(c, b);
	buf_unref(b);
}

/* ---- requests ------------------------------------------------------------ */

static void dispatch(struct rpc_conn *c, const struct nr_rpc_msg *msg)
{
	const struct nr_rpc_method *m = nr_rpc_method_find(msg->method);
	struct nr_rpc_call *call;
	struct nr_err err = { 0 };
	int rc;

	if (!m) {
		char text[128];

		snprintf(text, sizeof(text), "unknown method \"%s\"", msg->method);
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
	msgpack_sbuffer_init(&call->sb);
	msgpack_packer_init(&call->pk, &call->sb, msgpack_sbuffer_write);
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
			srv_log(c->srv, NR_RPC_LOG_INFO, "client pid %d: %s; disconnecting",
				(int)c->pid, err.msg);
			keep = false;
		}
	} else if (msg.type == NR_RPC_REQUEST) {
		dispatch(c, &msg);
	} else {
		/* We never send requests, so there is nothing a response or a
		 * notification from a client could mean. */
		srv_log(c->srv, NR_RPC_LOG_DEBUG, "client pid %d: ignoring message of type %d",
			(int)c->pid, (int)msg.type);
	}
	msgpack_unpacked_destroy(&u);
	return keep;
}

static void conn_process(struct rpc_conn *c)
{
	size_t off = 0;

	c->in_process = true;
	while (!c->closing && !c->paused && off < c->rb.len) {
		struct nr_err err = { 0 };
		ssize_t n = nr_rpc_frame(c->rb.data + off, c->rb.len - off, &c->srv->lim, &err);

		if (n == 0)
			break;
		if (n < 0) {
			srv_log(c->srv, NR_RPC_LOG_INFO, "client pid %d: %s; disconnecting",
				(int)c->pid, err.msg);
			conn_close(c);
			break;
		}
		if (!conn_handle(c, c->rb.data + off, (size_t)n)) {
			conn_close(c);
			break;
		}
		off += (size_t)n;
		if (conn_must_pause(c)) {
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

	*out = nr_rpc_readbuf_space(&c->rb, c->srv->lim.max_msg);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct rpc_conn *c = s->data;

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

static void on_connection(uv_stream_t *listener, int status)
{
	struct nr_rpc_server *srv = listener->data;
	struct rpc_conn *c;

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
	if (srv->nclients > srv->opts.max_clients) {
		srv_log(srv, NR_RPC_LOG_WARN, "refusing client pid %d: %zu clients already",
			(int)c->pid, srv->opts.max_clients);
		conn_close(c);
		return;
	}
	srv_log(srv, NR_RPC_LOG_DEBUG, "client pid %d uid %u connected (%s)", (int)c->pid,
		(unsigned int)c->uid, c->can_mutate ? "read-write" : "read-only");
	uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- the socket file ------------------------------------------------------ */

static int make_parent_dirs(const char *path, struct nr_err *err)
{
	char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return nr_err_set(err, -errno, "%s: cannot create directory: %s", buf,
					  strerror(errno));
		*p = '/';
	}
	return 0;
}

/* A socket file left by a daemon that died is replaced; one that somebody
 * still accepts on is not ours to take. */
static int clear_stale_socket(const char *path, struct nr_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : nr_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return nr_err_set(err, -EEXIST, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nr_err_set(err, -errno, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, path, strlen(path));
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (rc == 0)
		return nr_err_set(err, -EADDRINUSE, "%s: another daemon is listening there", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return nr_err_set(err, -errno, "%s: cannot remove stale socket: %s", path,
				  strerror(errno));
	return 0;
}

static int listen_on(struct nr_rpc_server *srv, struct nr_err *err)
{
	const char *path = srv->path;
	int rc;

	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return nr_err_set(err, -ENAMETOOLONG, "%s: socket path longer than %zu bytes", path,
				  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	rc = make_parent_dirs(path, err);
	if (rc < 0)
		return rc;
	rc = clear_stale_socket(path, err);
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

static void on_listener_closed(uv_handle_t *h)
{
	srv_unref(h->data);
}

int nr_rpc_server_new(uv_loop_t *loop, struct nr_ctl *ctl, const struct nr_rpc_server_opts *opts,
		      struct nr_rpc_server **ret, struct nr_err *err)
{
	struct nr_rpc_server *srv;
	int rc;

	if (!loop || !ctl || !opts || !opts->path || !*opts->path || !ret)
		return nr_err_set(err, -EINVAL, "rpc server: loop, controller and socket path are required");
	srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->path = strdup(opts->path))) {
		free(srv);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	srv->loop = loop;
	srv->ctl = ctl;
	srv->opts = *opts;
	srv->opts.path = srv->path;
	if (!srv->opts.mode)
		srv->opts.mode = 0660;
	if (!srv->opts.max_clients)
		srv->opts.max_clients = 128;
	if (!srv->opts.max_msg)
		srv->opts.max_msg = NR_RPC_SERVER_MAX_MSG;
	if (!srv->opts.max_queue)
		srv->opts.max_queue = 8u << 20;
	if (!srv->opts.max_inflight)
		srv->opts.max_inflight = 1024;
	srv->lim = (struct nr_rpc_limits){ .max_msg = srv->opts.max_msg,
					   .max_depth = NR_RPC_MAX_DEPTH,
					   .max_objects = NR_RPC_SERVER_MAX_OBJECTS };
	srv->refs = 1;
	rc = uv_pipe_init(loop, &srv->listener, 0);
	if (rc < 0) {
		free(srv->path);
		free(srv);
		return nr_err_set(err, rc, "uv_pipe_init: %s", uv_strerror(rc));
	}
	srv->listener.data = srv;
	rc = listen_on(srv, err);
	if (rc < 0) {
		/* The handle exists: it must be closed before the memory goes. */
		srv->closing = true;
		uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
		return rc;
	}
	*ret = srv;
	return 0;
}

void nr_rpc_server_event(struct nr_rpc_server *srv, const struct nr_event *ev)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct rpc_buf *b;
	struct rpc_conn *c, *next;

	if (!srv || srv->closing)
		return;
	srv->event_seq++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	nr_rpc_pack_notification_head(&pk, "event");
	nr_rpc_pack_event(&pk, ev, srv->event_seq);
	b = buf_from_sbuffer(&sb);
	if (!b)
		return;
	for (c = srv->conns; c; c = next) {
		next = c->next;
		if (!c->subscribed)
			continue;
		if (c->queued + b->len > srv->opts.max_queue) {
			srv_log(srv, NR_RPC_LOG_WARN,
				"dropping slow subscriber pid %d: %zu bytes not yet read",
				(int)c->pid, c->queued);
			conn_close(c);
			continue;
		}
		conn_send(c, b);
	}
	buf_unref(b);
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
	uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
}

size_t nr_rpc_server_clients(const struct nr_rpc_server *srv)
{
	return srv->nclients;
}
