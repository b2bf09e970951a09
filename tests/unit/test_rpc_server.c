/* The RPC transport (libnativeroute/ipc/rpc_server.c) with a method table of
 * its own, no controller: framing, answers matched to msgids, pipelining,
 * bad input that closes only the guilty connection, backpressure for a
 * client that does not read, notifications to subscribers, and close.
 * The other end of each connection is a raw socket driven by the test
 * (rpc_peer.h), so every byte on the wire is the test's choice. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "ipc/rpc_codec.h"
#include "ipc/rpc_server.h"
#include "rpc_peer.h"

/* ---- the test's method table ------------------------------------------------ */

#define MAX_HELD 16

struct fixture {
	uv_loop_t loop;
	char dir[64];
	char path[128];
	struct nr_rpc_server *srv;
	unsigned int handled;          /* method calls so far */
	struct nr_rpc_call *held[MAX_HELD];
	unsigned int n_held;
	bool closed;
	msgpack_unpacked u;            /* the last message read (START to STOP) */
};

static struct fixture fx;

/* Every method checks that the transport hands back the data pointer it
 * was given. */
static int check_data(struct nr_rpc_call *call, struct nr_err *err)
{
	fx.handled++;
	if (nr_rpc_call_data(call) != &fx)
		return nr_err_set(err, -EFAULT, "nr_rpc_call_data lost the server's data");
	return 0;
}

/* Answers with its parameters map (nil without one). */
static int m_echo(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		  struct nr_err *err)
{
	msgpack_packer *pk;

	(void)zone;
	if (check_data(call, err) < 0)
		return err->code;
	pk = nr_rpc_call_begin(call);
	if (params)
		msgpack_pack_object(pk, *params);
	else
		msgpack_pack_nil(pk);
	nr_rpc_call_end(call);
	return 0;
}

static int m_fail(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		  struct nr_err *err)
{
	(void)params;
	(void)zone;
	if (check_data(call, err) < 0)
		return err->code;
	return nr_err_set(err, -ENOSPC, "pool 10.0.0.0/16 is full");
}

/* Keeps the call; the test answers it later. */
static int m_hold(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		  struct nr_err *err)
{
	(void)params;
	(void)zone;
	if (check_data(call, err) < 0)
		return err->code;
	cr_assert_lt(fx.n_held, MAX_HELD);
	fx.held[fx.n_held++] = call;
	return 0;
}

/* Answers a string of {"size": N} bytes. */
static int m_big(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		 struct nr_err *err)
{
	static char fill[1 << 16];
	uint32_t size = 0;
	msgpack_packer *pk;

	(void)zone;
	if (check_data(call, err) < 0 || nr_rpc_get_u32(params, "size", true, &size, err) < 0)
		return err->code;
	cr_assert_leq(size, sizeof(fill));
	memset(fill, 'x', size);
	pk = nr_rpc_call_begin(call);
	msgpack_pack_str_with_body(pk, fill, size);
	nr_rpc_call_end(call);
	return 0;
}

static int m_subscribe(struct nr_rpc_call *call, const msgpack_object *params,
		       msgpack_zone *zone, struct nr_err *err)
{
	(void)params;
	(void)zone;
	if (check_data(call, err) < 0)
		return err->code;
	nr_rpc_call_subscribe(call);
	msgpack_pack_true(nr_rpc_call_begin(call));
	nr_rpc_call_end(call);
	return 0;
}

static const struct nr_rpc_method methods[] = {
	{ "echo", false, m_echo },
	{ "fail", true, m_fail },
	{ "hold", false, m_hold },
	{ "big", false, m_big },
	{ "subscribe", false, m_subscribe },
};

static const struct nr_rpc_method *find_method(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	return NULL;
}

/* ---- set-up ---------------------------------------------------------------- */

static void start_server(const struct nr_rpc_server_opts *extra)
{
	struct nr_rpc_server_opts o = extra ? *extra : (struct nr_rpc_server_opts){ 0 };
	struct nr_err err = { 0 };

	cr_assert_eq(uv_loop_init(&fx.loop), 0);
	peer_tmpdir(fx.dir, sizeof(fx.dir));
	snprintf(fx.path, sizeof(fx.path), "%s/rpc.sock", fx.dir);
	o.path = fx.path;
	o.find_method = find_method;
	o.data = &fx;
	cr_assert_eq(nr_rpc_server_new(&fx.loop, &o, &fx.srv, &err), 0, "%s", err.msg);
}

static void on_server_closed(void *data)
{
	cr_assert_eq(data, &fx);
	fx.closed = true;
}

/* Close the server, run the loop dry, and check that nothing is left. */
static void stop_server(void)
{
	if (fx.srv && !fx.closed) {
		nr_rpc_server_close(fx.srv, on_server_closed, &fx);
		cr_assert(PEER_WAIT(&fx.loop, -1, fx.closed), "server close never completed");
	}
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&fx.loop), 0, "handles left on the loop");
	peer_tmpdir_remove(fx.dir);
}

static void connect_peer(struct peer *p)
{
	size_t before = nr_rpc_server_clients(fx.srv);

	peer_init(p, peer_connect_fd(fx.path));
	cr_assert(PEER_WAIT(&fx.loop, -1, nr_rpc_server_clients(fx.srv) == before + 1),
		  "the server never accepted");
}

/* The server (extra options or NULL) with each peer given connected; and
 * at the end each peer freed, then the server stopped. */
#define START(extra, ...) start_with_peers(extra, __VA_ARGS__, (struct peer *)NULL)
#define STOP(...) stop_with_peers(__VA_ARGS__, (struct peer *)NULL)

static void start_with_peers(const struct nr_rpc_server_opts *extra, ...)
{
	struct peer *p;
	va_list ap;

	start_server(extra);
	msgpack_unpacked_init(&fx.u);
	va_start(ap, extra);
	while ((p = va_arg(ap, struct peer *)))
		connect_peer(p);
	va_end(ap);
}

static void stop_with_peers(struct peer *first, ...)
{
	va_list ap;

	va_start(ap, first);
	for (struct peer *p = first; p; p = va_arg(ap, struct peer *))
		peer_free(p);
	va_end(ap);
	msgpack_unpacked_destroy(&fx.u);
	stop_server();
}

/* ---- writing requests ------------------------------------------------------- */

struct req {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void req_init(struct req *r)
{
	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

/* [0, msgid, method, [{key: val}]] (key NULL: [0, msgid, method, []]). */
static void req_add(struct req *r, uint32_t msgid, const char *method, const char *key,
		    uint64_t val)
{
	nr_rpc_pack_request_head(&r->pk, msgid, method, key != NULL);
	if (key) {
		msgpack_pack_map(&r->pk, 1);
		nr_rpc_pack_kv_u64(&r->pk, key, val);
	}
}

static void send_req(struct peer *p, uint32_t msgid, const char *method, const char *key,
		     uint64_t val)
{
	struct req r;

	req_init(&r);
	req_add(&r, msgid, method, key, val);
	peer_write_sbuf(p, &fx.loop, &r.sb);
	msgpack_sbuffer_destroy(&r.sb);
}

/* The next message must be the response to msgid; returns its result
 * (error nil), or its error object when want_error. */
static const msgpack_object *expect_response(struct peer *p, msgpack_unpacked *u, uint32_t msgid,
					     bool want_error)
{
	const msgpack_object *m;

	cr_assert(peer_next(p, &fx.loop, u), "no answer to msgid %u", msgid);
	m = &u->data;
	cr_assert_eq(m->via.array.size, 4);
	cr_assert_eq(peer_int(peer_at(m, 0)), 1, "not a response");
	cr_assert_eq(peer_int(peer_at(m, 1)), msgid);
	if (want_error) {
		cr_assert_eq(peer_at(m, 2)->type, MSGPACK_OBJECT_MAP, "no error object");
		cr_assert_eq(peer_at(m, 3)->type, MSGPACK_OBJECT_NIL);
		return peer_at(m, 2);
	}
	cr_assert_eq(peer_at(m, 2)->type, MSGPACK_OBJECT_NIL, "unexpected error");
	return peer_at(m, 3);
}

/* One request and its answer: as expect_response, read into fx.u (valid
 * until the next message is read there). */
static const msgpack_object *ask(struct peer *p, uint32_t msgid, const char *method,
				 const char *key, uint64_t val, bool want_error)
{
	send_req(p, msgid, method, key, val);
	return expect_response(p, &fx.u, msgid, want_error);
}

/* An echo round trip proves the connection is alive and served. */
static void expect_alive(struct peer *p, uint32_t msgid)
{
	cr_assert_eq(peer_int(peer_get(ask(p, msgid, "echo", "n", msgid, false), "n")), msgid);
}

/* The connection was dropped: a "disconnect" notification with code, then EOF. */
static void expect_dropped(struct peer *p, int code)
{
	msgpack_unpacked u;
	const msgpack_object *m;

	msgpack_unpacked_init(&u);
	cr_assert(peer_next(p, &fx.loop, &u), "no disconnect notification");
	m = &u.data;
	cr_assert_eq(peer_int(peer_at(m, 0)), 2);
	cr_assert_str_eq(peer_str(peer_at(m, 1)), "disconnect");
	cr_assert_eq(peer_int(peer_get(peer_at(peer_at(m, 2), 0), "code")), code);
	msgpack_unpacked_destroy(&u);
	cr_assert(peer_wait_eof(p, &fx.loop), "the connection stayed open");
}

/* ---- tests ----------------------------------------------------------------- */

/* A test that failed half-way still leaves no directory behind. */
static void remove_leftovers(void)
{
	if (fx.dir[0])
		peer_tmpdir_remove(fx.dir);
}

TestSuite(rpc_server, .fini = remove_leftovers);

Test(rpc_server, a_request_is_answered_with_its_msgid_and_result)
{
	struct peer p;
	const msgpack_object *res;

	START(NULL, &p);
	res = ask(&p, 4242, "echo", "value", 77, false);
	cr_assert_eq(res->via.map.size, 1);
	cr_assert_eq(peer_int(peer_get(res, "value")), 77);
	/* "no parameters" is [] as well as [{}]. */
	cr_assert_eq(ask(&p, 1, "echo", NULL, 0, false)->type, MSGPACK_OBJECT_NIL);
	STOP(&p);
}

Test(rpc_server, a_method_error_is_an_error_object_and_the_connection_stays)
{
	struct peer p;
	const msgpack_object *e;

	START(NULL, &p);
	e = ask(&p, 9, "fail", NULL, 0, true);
	cr_assert_eq(peer_int(peer_get(e, "code")), -ENOSPC);
	cr_assert_str_eq(peer_str(peer_get(e, "name")), "ENOSPC");
	cr_assert_str_eq(peer_str(peer_get(e, "message")), "pool 10.0.0.0/16 is full");
	expect_alive(&p, 10);
	STOP(&p);
}

Test(rpc_server, an_unknown_method_is_ENOSYS_naming_it_and_the_connection_stays)
{
	struct peer p;
	const msgpack_object *e;

	START(NULL, &p);
	e = ask(&p, 3, "node.frobnicate", NULL, 0, true);
	cr_assert_eq(peer_int(peer_get(e, "code")), -ENOSYS);
	cr_assert(strstr(peer_str(peer_get(e, "message")), "node.frobnicate"));
	cr_assert_eq(fx.handled, 0);
	expect_alive(&p, 4);
	STOP(&p);
}

Test(rpc_server, a_request_with_a_usable_msgid_but_a_bad_shape_gets_an_error_answer)
{
	struct peer p;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	START(NULL, &p);
	/* [0, 5, 42, []]: the method is not a string. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint8(&pk, 5);
	msgpack_pack_uint8(&pk, 42);
	msgpack_pack_array(&pk, 0);
	peer_write_sbuf(&p, &fx.loop, &sb);
	msgpack_sbuffer_destroy(&sb);
	cr_assert_lt(peer_int(peer_get(expect_response(&p, &fx.u, 5, true), "code")), 0);
	cr_assert_eq(fx.handled, 0);
	expect_alive(&p, 6);
	STOP(&p);
}

Test(rpc_server, pipelined_requests_in_one_write_are_answered_in_order)
{
	enum { N = 500 };
	struct peer p;
	struct req r;

	START(NULL, &p);
	req_init(&r);
	for (uint32_t i = 1; i <= N; i++)
		req_add(&r, i * 3, "echo", "n", i);
	peer_write_sbuf(&p, &fx.loop, &r.sb);
	msgpack_sbuffer_destroy(&r.sb);
	for (uint32_t i = 1; i <= N; i++)
		cr_assert_eq(peer_int(peer_get(expect_response(&p, &fx.u, i * 3, false), "n")), i);
	cr_assert_eq(fx.handled, N);
	STOP(&p);
}

Test(rpc_server, a_request_trickling_in_byte_by_byte_is_answered_once_complete)
{
	struct peer p;
	struct req r;

	START(NULL, &p);
	req_init(&r);
	req_add(&r, 12, "echo", "n", 1234567);
	for (size_t i = 0; i < r.sb.size; i++) {
		peer_write(&p, &fx.loop, r.sb.data + i, 1);
		peer_pump(&fx.loop, -1);
		cr_assert_eq(fx.handled, i + 1 == r.sb.size ? 1u : 0u, "after byte %zu", i + 1);
	}
	msgpack_sbuffer_destroy(&r.sb);
	cr_assert_eq(peer_int(peer_get(expect_response(&p, &fx.u, 12, false), "n")), 1234567);
	STOP(&p);
}

Test(rpc_server, deferred_answers_reach_their_own_msgids_in_completion_order)
{
	struct peer p;
	struct req r;

	START(NULL, &p);
	req_init(&r);
	for (uint32_t id = 101; id <= 103; id++)
		req_add(&r, id, "hold", NULL, 0);
	peer_write_sbuf(&p, &fx.loop, &r.sb);
	msgpack_sbuffer_destroy(&r.sb);
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.n_held == 3));
	/* Answer the last first: result = index of the held call. */
	for (int i = 2; i >= 0; i--) {
		msgpack_pack_int(nr_rpc_call_begin(fx.held[i]), i);
		nr_rpc_call_end(fx.held[i]);
	}
	for (int i = 2; i >= 0; i--)
		cr_assert_eq(peer_int(expect_response(&p, &fx.u, 101 + (uint32_t)i, false)), i);
	STOP(&p);
}

Test(rpc_server, an_oversized_frame_closes_only_that_client)
{
	struct nr_rpc_server_opts o = { .max_msg = 4096 };
	struct peer bad, good;
	/* [0, 1, "echo", [{"s": <str of 34464 bytes>... — the header alone
	 * says it is too big; the rest never needs to arrive. */
	static const unsigned char head[] = { 0x94, 0x00, 0x01, 0xa4, 'e', 'c', 'h', 'o',
					      0x91, 0x81, 0xa1, 's', 0xda, 0x86, 0xa0 };

	START(&o, &bad, &good);
	peer_write(&bad, &fx.loop, head, sizeof(head));
	expect_dropped(&bad, -EMSGSIZE);
	cr_assert_eq(fx.handled, 0);
	cr_assert_eq(nr_rpc_server_clients(fx.srv), 1);
	expect_alive(&good, 1);
	STOP(&bad, &good);
}

Test(rpc_server, garbage_closes_only_that_client)
{
	struct peer bad, bad2, good;
	static const unsigned char reserved[] = { 0xc1 };
	static const unsigned char not_an_array[] = { 0x2a };

	START(NULL, &bad, &bad2, &good);
	peer_write(&bad, &fx.loop, reserved, sizeof(reserved));
	peer_write(&bad2, &fx.loop, not_an_array, sizeof(not_an_array));
	expect_dropped(&bad, -EBADMSG);
	expect_dropped(&bad2, -EBADMSG);
	cr_assert_eq(nr_rpc_server_clients(fx.srv), 1);
	expect_alive(&good, 1);
	STOP(&bad, &bad2, &good);
}

Test(rpc_server, a_message_left_incomplete_is_dropped_after_the_client_timeout)
{
	struct nr_rpc_server_opts o = { .client_timeout_ms = 50 };
	struct peer slow, good;
	static const unsigned char half[] = { 0x94, 0x00, 0x01 };

	START(&o, &slow, &good);
	peer_write(&slow, &fx.loop, half, sizeof(half));
	expect_dropped(&slow, -ETIMEDOUT);
	expect_alive(&good, 1);
	STOP(&slow, &good);
}

/* Requests of a client that reads no answers stay in the kernel once its
 * unread answers reach the pause mark: the client is paused, not dropped,
 * and served in full, in order, once it reads. */
Test(rpc_server, a_client_that_does_not_read_is_paused_then_served_in_full)
{
	enum { N = 400, SIZE = 8192 };
	struct nr_rpc_server_opts o = { .max_queue = 64 << 10 };
	struct peer p;
	struct req r;

	START(&o, &p);
	req_init(&r);
	for (uint32_t i = 1; i <= N; i++)
		req_add(&r, i, "big", "size", SIZE);
	/* ~8 KiB of requests: one write the kernel takes whole. */
	peer_write_sbuf(&p, &fx.loop, &r.sb);
	msgpack_sbuffer_destroy(&r.sb);
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.handled > 0));
	/* Everything the server reads it reads in one callback: a server
	 * without backpressure would have run all N (3.2 MB of answers, 50x
	 * max_queue) and dropped the client. */
	for (int i = 0; i < 20; i++)
		peer_pump(&fx.loop, -1);
	cr_assert_lt(fx.handled, N / 4, "%u of %u requests run for a client that reads nothing",
		     fx.handled, N);
	cr_assert_eq(nr_rpc_server_clients(fx.srv), 1, "the paused client was dropped");
	for (uint32_t i = 1; i <= N; i++)
		cr_assert_eq(expect_response(&p, &fx.u, i, false)->via.str.size, SIZE);
	cr_assert_eq(fx.handled, N);
	expect_alive(&p, N + 1);
	STOP(&p);
}

/* ---- notifications ------------------------------------------------------- */

struct event_arg {
	unsigned int n;
	size_t pad;
};

static void pack_test_event(msgpack_packer *pk, const void *arg, uint64_t seq)
{
	static char pad[1 << 16];
	const struct event_arg *a = arg;

	memset(pad, 'e', a->pad);
	msgpack_pack_map(pk, 3);
	nr_rpc_pack_kv_u64(pk, "seq", seq);
	nr_rpc_pack_kv_u64(pk, "n", a->n);
	nr_rpc_pack_str(pk, "pad");
	msgpack_pack_str_with_body(pk, pad, a->pad);
}

static void subscribe(struct peer *p, uint32_t msgid)
{
	cr_assert_eq(ask(p, msgid, "subscribe", NULL, 0, false)->type, MSGPACK_OBJECT_BOOLEAN);
}

/* The next message must be event number n with broadcast sequence seq. */
static void expect_event(struct peer *p, unsigned int n, uint64_t seq)
{
	const msgpack_object *m, *payload;

	cr_assert(peer_next(p, &fx.loop, &fx.u), "event %u never arrived", n);
	m = &fx.u.data;
	cr_assert_eq(peer_int(peer_at(m, 0)), 2, "not a notification");
	cr_assert_str_eq(peer_str(peer_at(m, 1)), "event");
	payload = peer_at(peer_at(m, 2), 0);
	cr_assert_eq(peer_int(peer_get(payload, "n")), n);
	cr_assert_eq(peer_int(peer_get(payload, "seq")), (int64_t)seq);
}

Test(rpc_server, events_go_to_subscribers_only_in_order_with_their_sequence)
{
	struct peer a, b, quiet;

	START(NULL, &a, &b, &quiet);
	subscribe(&a, 1);
	subscribe(&b, 1);
	for (unsigned int n = 1; n <= 3; n++)
		nr_rpc_server_broadcast(fx.srv, "event", pack_test_event,
					&(struct event_arg){ .n = n, .pad = 10 });
	for (unsigned int n = 1; n <= 3; n++) {
		expect_event(&a, n, n);
		expect_event(&b, n, n);
	}
	/* The non-subscriber's first message is the answer to its request. */
	cr_assert_eq(peer_int(peer_get(ask(&quiet, 8, "echo", "n", 8, false), "n")), 8);
	STOP(&a, &b, &quiet);
}

Test(rpc_server, a_subscriber_that_never_reads_is_dropped_and_the_others_get_every_event)
{
	enum { PAD = 8192, MAX = 4000 };
	struct nr_rpc_server_opts o = { .max_queue = 256 << 10 };
	struct peer reader, stuck;
	unsigned int n = 0;

	START(&o, &reader, &stuck);
	subscribe(&reader, 1);
	subscribe(&stuck, 1);
	/* Events arrive whether or not the subscriber reads, so pausing cannot
	 * help: the kernel buffer, then max_queue fill up and it is dropped. */
	while (nr_rpc_server_clients(fx.srv) == 2 && n < MAX) {
		n++;
		nr_rpc_server_broadcast(fx.srv, "event", pack_test_event,
					&(struct event_arg){ .n = n, .pad = PAD });
		expect_event(&reader, n, n);
	}
	cr_assert_eq(nr_rpc_server_clients(fx.srv), 1, "a subscriber that never reads kept its "
		     "slot through %u events of %u bytes", n, PAD);
	/* Dropped after what the kernel holds plus max_queue, not before. */
	cr_assert_gt((size_t)n * PAD, o.max_queue, "dropped after only %u events", n);
	cr_assert(peer_wait_eof(&stuck, &fx.loop));
	for (unsigned int k = n + 1; k <= n + 3; k++) {
		nr_rpc_server_broadcast(fx.srv, "event", pack_test_event,
					&(struct event_arg){ .n = k, .pad = 10 });
		expect_event(&reader, k, k);
	}
	STOP(&reader, &stuck);
}

/* ---- life cycle ------------------------------------------------------------- */

Test(rpc_server, close_disconnects_clients_and_waits_for_calls_in_flight)
{
	struct peer p;
	struct stat st;

	START(NULL, &p);
	send_req(&p, 1, "hold", NULL, 0);
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.n_held == 1));
	nr_rpc_server_close(fx.srv, on_server_closed, &fx);
	cr_assert_neq(stat(fx.path, &st), 0, "the socket file is still there");
	cr_assert(peer_wait_eof(&p, &fx.loop));
	for (int i = 0; i < 10; i++)
		peer_pump(&fx.loop, -1);
	cr_assert_not(fx.closed, "closed while a call was still running");
	/* The late answer goes nowhere, and then the server is gone. */
	msgpack_pack_nil(nr_rpc_call_begin(fx.held[0]));
	nr_rpc_call_end(fx.held[0]);
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.closed));
	STOP(&p);
}

Test(rpc_server, a_live_socket_is_refused_and_a_stale_one_replaced)
{
	struct nr_rpc_server *second = NULL;
	struct nr_rpc_server_opts o = { .find_method = find_method, .data = &fx };
	struct nr_err err = { 0 };
	struct peer p;

	start_server(NULL);
	o.path = fx.path;
	cr_assert_eq(nr_rpc_server_new(&fx.loop, &o, &second, &err), -EADDRINUSE);
	cr_assert(strstr(err.msg, fx.path), "error does not name the path: %s", err.msg);
	cr_assert_null(second);
	/* A socket file nobody accepts on (a crashed daemon's) is replaced. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char stale[100];
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(stale, sizeof(stale), "%s/stale.sock", fx.dir);
		memcpy(sa.sun_path, stale, strlen(stale) + 1);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		o.path = stale;
		cr_assert_eq(nr_rpc_server_new(&fx.loop, &o, &second, &err), 0, "%s", err.msg);
		peer_init(&p, peer_connect_fd(stale));
		cr_assert(PEER_WAIT(&fx.loop, -1, nr_rpc_server_clients(second) == 1));
		peer_free(&p);
		nr_rpc_server_close(second, NULL, NULL);
	}
	stop_server();
}

/* ---- access ---------------------------------------------------------------------- */

/* The child's side, blocking and without the loop (the loop and its epoll
 * descriptor belong to the parent; the child must not run them). */
static bool child_call(int fd, uint32_t msgid, const char *method, msgpack_unpacked *u,
		       char *buf, size_t cap)
{
	struct req r;
	size_t len = 0, off = 0;

	req_init(&r);
	req_add(&r, msgid, method, "n", msgid);
	if (send(fd, r.sb.data, r.sb.size, MSG_NOSIGNAL) != (ssize_t)r.sb.size)
		return false;
	msgpack_sbuffer_destroy(&r.sb);
	for (;;) {
		ssize_t n;

		if (len && msgpack_unpack_next(u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS)
			return true;
		n = recv(fd, buf + len, cap - len, 0); /* SO_RCVTIMEO bounds it */
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
}

/* In a child that has become `nobody`: ask "fail" (which changes state)
 * and "echo" (which does not); exit 0 when the first was refused with
 * -EPERM naming the method and the second answered. */
static int readonly_child(void)
{
	static char buf[4096], buf2[4096];
	struct timeval tv = { .tv_sec = PEER_WAIT_MS / 1000 };
	msgpack_unpacked u, u2;
	const msgpack_object *m;
	int fd;
	bool ok;

	if (setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	fd = peer_connect_fd(fx.path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	msgpack_unpacked_init(&u);
	msgpack_unpacked_init(&u2);
	if (!child_call(fd, 1, "fail", &u, buf, sizeof(buf)) ||
	    !child_call(fd, 2, "echo", &u2, buf2, sizeof(buf2)))
		return 12;
	m = &u.data;
	ok = m->type == MSGPACK_OBJECT_ARRAY && m->via.array.size == 4 &&
	     m->via.array.ptr[2].type == MSGPACK_OBJECT_MAP &&
	     peer_int(peer_get(&m->via.array.ptr[2], "code")) == -EPERM &&
	     strstr(peer_str(peer_get(&m->via.array.ptr[2], "message")), "fail") != NULL;
	m = &u2.data;
	ok = ok && m->via.array.ptr[2].type == MSGPACK_OBJECT_NIL &&
	     peer_int(peer_get(&m->via.array.ptr[3], "n")) == 2;
	close(fd);
	return ok ? 0 : 11;
}

Test(rpc_server, a_peer_of_another_uid_may_read_but_not_change_state)
{
	struct nr_rpc_server_opts o = { .mode = 0666 };
	pid_t pid;
	int st = -1;

	if (geteuid() != 0)
		cr_skip_test("needs root to run a peer as another uid");
	start_server(&o);
	cr_assert_eq(chmod(fx.dir, 0755), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* the child has no loop to pump: the parent serves it */
		_exit(readonly_child());
	}
	cr_assert(PEER_WAIT(&fx.loop, -1, waitpid(pid, &st, WNOHANG) == pid),
		  "the read-only peer never finished");
	cr_assert(WIFEXITED(st), "the read-only peer crashed");
	cr_assert_eq(WEXITSTATUS(st), 0, "read-only peer: %s",
		     WEXITSTATUS(st) == 11 ? "not refused with EPERM, or echo refused"
		     : WEXITSTATUS(st) == 12 ? "no answer" : "setup failed");
	cr_assert_eq(fx.handled, 1, "the refused method ran");
	stop_server();
}
