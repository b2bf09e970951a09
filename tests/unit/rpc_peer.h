/* A hand-driven MessagePack-RPC peer for the transport tests
 * (test_rpc_server.c, test_client.c): one end of a Unix stream socket,
 * non-blocking, next to the libuv loop that the code under test runs on.
 * Every wait pumps that loop and waits for a condition, never for a fixed
 * time; it gives up after PEER_WAIT_MS, and giving up fails the test. */
#ifndef NR_TEST_RPC_PEER_H
#define NR_TEST_RPC_PEER_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <uv.h>

#define PEER_WAIT_MS 10000

struct peer {
	int fd;
	char *buf;
	size_t len, cap;
	size_t used; /* bytes of the last message returned, dropped on the next read */
	bool eof;
};

static inline uint64_t peer_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run what is ready on the loop, then sleep until the loop or fd (may be
 * -1) has something, or at most a few ms (the loop's timers). */
static inline void peer_pump(uv_loop_t *loop, int fd)
{
	struct pollfd pfd[2] = { { .fd = uv_backend_fd(loop), .events = POLLIN },
				 { .fd = fd, .events = POLLIN } };
	int t;

	uv_run(loop, UV_RUN_NOWAIT);
	t = uv_backend_timeout(loop);
	poll(pfd, fd >= 0 ? 2 : 1, t < 0 || t > 5 ? 5 : t);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Pump until cond holds; false after PEER_WAIT_MS. */
#define PEER_WAIT(loop, fd, cond)                                                    \
	({                                                                           \
		uint64_t peer_deadline_ = peer_now_ms() + PEER_WAIT_MS;              \
		bool peer_ok_ = false;                                               \
		while (!(peer_ok_ = (cond)) && peer_now_ms() < peer_deadline_)       \
			peer_pump((loop), (fd));                                     \
		peer_ok_;                                                            \
	})

static inline void peer_init(struct peer *p, int fd)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static inline int peer_connect_fd(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect %s: %s", path,
		     strerror(errno));
	return fd;
}

static inline void peer_free(struct peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->buf);
	p->buf = NULL;
}

/* Read what the socket has now (never blocks). */
static inline void peer_fill(struct peer *p)
{
	for (;;) {
		ssize_t n;

		if (p->cap - p->len < 65536) {
			p->cap = p->cap ? p->cap * 2 : 131072;
			p->buf = realloc(p->buf, p->cap);
			cr_assert_not_null(p->buf);
		}
		n = recv(p->fd, p->buf + p->len, p->cap - p->len, 0);
		if (n > 0) {
			p->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			p->eof = true;
		return;
	}
}

/* Send all of data, pumping the loop while the socket is full (the other
 * end reads on that loop). */
static inline void peer_write(struct peer *p, uv_loop_t *loop, const void *data, size_t len)
{
	size_t off = 0;
	uint64_t deadline = peer_now_ms() + PEER_WAIT_MS;

	while (off < len) {
		ssize_t n = send(p->fd, (const char *)data + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		cr_assert(n < 0 && (errno == EAGAIN || errno == EINTR), "send: %s", strerror(errno));
		cr_assert_lt(peer_now_ms(), deadline, "the other end stopped reading");
		peer_pump(loop, -1);
	}
}

static inline void peer_write_sbuf(struct peer *p, uv_loop_t *loop, msgpack_sbuffer *sb)
{
	peer_write(p, loop, sb->data, sb->size);
	msgpack_sbuffer_clear(sb);
}

/* The next whole message from the peer into u (false: EOF or time out).
 * The bytes of a message that is not complete stay in the buffer. The
 * strings of u point into the buffer (msgpack-c does not copy them): valid
 * until the next peer_* call on p. */
static inline bool peer_next(struct peer *p, uv_loop_t *loop, msgpack_unpacked *u)
{
	uint64_t deadline = peer_now_ms() + PEER_WAIT_MS;

	if (p->used) {
		memmove(p->buf, p->buf + p->used, p->len - p->used);
		p->len -= p->used;
		p->used = 0;
	}
	for (;;) {
		size_t off = 0;
		msgpack_unpack_return r = p->len ? msgpack_unpack_next(u, p->buf, p->len, &off)
						 : MSGPACK_UNPACK_CONTINUE;

		cr_assert(r == MSGPACK_UNPACK_SUCCESS || r == MSGPACK_UNPACK_CONTINUE,
			  "malformed bytes from the peer (%d)", (int)r);
		if (r == MSGPACK_UNPACK_SUCCESS) {
			p->used = off;
			return true;
		}
		if (p->eof || peer_now_ms() >= deadline)
			return false;
		peer_pump(loop, p->fd);
		peer_fill(p);
	}
}

/* Wait until the other end has closed (whatever it sent before stays in
 * the buffer). */
static inline bool peer_wait_eof(struct peer *p, uv_loop_t *loop)
{
	return PEER_WAIT(loop, p->fd, (peer_fill(p), p->eof));
}

/* ---- reading messages --------------------------------------------------- */

static inline const msgpack_object *peer_at(const msgpack_object *o, uint32_t i)
{
	cr_assert_eq(o->type, MSGPACK_OBJECT_ARRAY);
	cr_assert_lt(i, o->via.array.size);
	return &o->via.array.ptr[i];
}

static inline const msgpack_object *peer_get(const msgpack_object *map, const char *key)
{
	cr_assert_eq(map->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    !memcmp(k->via.str.ptr, key, k->via.str.size))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static inline int64_t peer_int(const msgpack_object *o)
{
	cr_assert(o && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
			o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER));
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)o->via.u64 : o->via.i64;
}

/* A str object as a C string (static buffer: compare at once). */
static inline const char *peer_str(const msgpack_object *o)
{
	static char s[8192];

	cr_assert(o && o->type == MSGPACK_OBJECT_STR, "not a string");
	cr_assert_lt(o->via.str.size, sizeof(s));
	memcpy(s, o->via.str.ptr, o->via.str.size);
	s[o->via.str.size] = 0;
	return s;
}

/* A temporary directory for sockets, removed with its content by
 * peer_tmpdir_remove. */
static inline void peer_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/nr-unit-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static inline void peer_tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

#endif
