/* The client library (include/nativeroute/client.h, libnativeroute/ipc/
 * client*.c) against a daemon played by the test: a raw listening Unix
 * socket whose every answer the test writes by hand (rpc_peer.h). Checked:
 * connecting, a request and its decoded answer, answers matched by msgid,
 * error objects mapped to errno and message, a lost connection failing
 * every call in flight exactly once, close ordering, events, timeouts. */
#include <criterion/criterion.h>
#include <errno.h>

#include <nativeroute/client.h>
#include <nativeroute/error.h>

#include "ipc/rpc_codec.h"
#include "rpc_peer.h"

/* ---- the daemon played by the test ----------------------------------------- */

struct fixture {
	uv_loop_t loop;
	char dir[64];
	char path[128];
	int lfd;            /* listening socket */
	struct peer srv;    /* the accepted connection (fd -1 before) */
	struct nr_client *c;
	int connect_status; /* 1 until the connect callback ran */
	bool closed;
};

static struct fixture fx;

static void listen_on(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fx.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(fx.lfd, 0);
	memcpy(sa.sun_path, fx.path, strlen(fx.path) + 1);
	cr_assert_eq(bind(fx.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fx.lfd, 8), 0);
}

static bool try_accept(void)
{
	int fd;

	if (fx.srv.fd >= 0)
		return true;
	fd = accept(fx.lfd, NULL, NULL);
	if (fd < 0)
		return false;
	peer_init(&fx.srv, fd);
	return true;
}

/* ---- client callbacks: each records what it got ------------------------------ */

#define MAX_RESULTS 8

struct result {
	unsigned int calls;
	int status;
	char errmsg[256];
	char name[64], ipv4[64], cidr[64], state[32];
	size_t n_cidrs;
	unsigned int order; /* when it ran, counting all callbacks */
};

static unsigned int callbacks;

static void record(struct result *r, int status, const char *errmsg)
{
	r->calls++;
	r->status = status;
	r->order = ++callbacks;
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg ? errmsg : "(null)");
}

static void on_node(struct nr_client *c, int status, const char *errmsg,
		    const struct nr_node_info *node, void *data)
{
	struct result *r = data;

	cr_assert_eq(c, fx.c);
	record(r, status, errmsg);
	if (status == 0) {
		cr_assert_not_null(node);
		cr_assert_geq(node->sz, sizeof(*node));
		snprintf(r->name, sizeof(r->name), "%s", node->name);
		snprintf(r->ipv4, sizeof(r->ipv4), "%s", node->ipv4);
		snprintf(r->state, sizeof(r->state), "%s", node->state);
		r->n_cidrs = node->n_pod_cidrs;
		if (node->n_pod_cidrs)
			snprintf(r->cidr, sizeof(r->cidr), "%s", node->pod_cidrs[0]);
	} else {
		cr_assert_null(node);
	}
}

static void on_done(struct nr_client *c, int status, const char *errmsg, void *data)
{
	(void)c;
	record(data, status, errmsg);
}

static void on_connected(struct nr_client *c, int status, const char *errmsg, void *data)
{
	(void)c;
	(void)errmsg;
	(void)data;
	fx.connect_status = status;
}

static unsigned int close_order;

static void on_closed(struct nr_client *c, void *data)
{
	cr_assert_eq(c, fx.c);
	cr_assert_eq(data, &fx);
	fx.closed = true;
	close_order = ++callbacks;
}

/* ---- set-up ---------------------------------------------------------------- */

static void make_client(const struct nr_client_opts *extra)
{
	NR_OPTS(nr_client_opts, o);

	if (extra)
		o = *extra;
	cr_assert_eq(uv_loop_init(&fx.loop), 0);
	peer_tmpdir(fx.dir, sizeof(fx.dir));
	snprintf(fx.path, sizeof(fx.path), "%s/daemon.sock", fx.dir);
	fx.srv.fd = -1;
	fx.lfd = -1;
	fx.connect_status = 1;
	o.socket_path = fx.path;
	cr_assert_eq(nr_client_new(&fx.loop, &o, &fx.c), 0, "%s", nr_last_errmsg());
}

/* Listen, connect the client, accept it. */
static void start(const struct nr_client_opts *extra)
{
	make_client(extra);
	listen_on();
	cr_assert_eq(nr_client_connect(fx.c, on_connected, NULL), 0);
	cr_assert_eq(fx.connect_status, 1, "the connect callback ran inside the call");
	cr_assert(PEER_WAIT(&fx.loop, fx.lfd, try_accept() && fx.connect_status != 1));
	cr_assert_eq(fx.connect_status, 0);
	cr_assert(nr_client_connected(fx.c));
}

static void finish(void)
{
	if (!fx.closed) {
		cr_assert_eq(nr_client_close(fx.c, on_closed, &fx), 0);
		cr_assert(PEER_WAIT(&fx.loop, -1, fx.closed));
	}
	peer_free(&fx.srv);
	if (fx.lfd >= 0)
		close(fx.lfd);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&fx.loop), 0, "the client left handles on the loop");
	peer_tmpdir_remove(fx.dir);
}

/* ---- the daemon's side of the wire ---------------------------------------- */

/* Read the next request; it must be `method` with {"name": name} (name NULL:
 * no parameters). Returns its msgid. */
static uint32_t read_request(const char *method, const char *name)
{
	msgpack_unpacked u;
	const msgpack_object *m, *params;
	uint32_t msgid;

	msgpack_unpacked_init(&u);
	cr_assert(peer_next(&fx.srv, &fx.loop, &u), "no %s request arrived", method);
	m = &u.data;
	cr_assert_eq(m->via.array.size, 4);
	cr_assert_eq(peer_int(peer_at(m, 0)), 0, "not a request");
	msgid = (uint32_t)peer_int(peer_at(m, 1));
	cr_assert_str_eq(peer_str(peer_at(m, 2)), method);
	params = peer_at(m, 3);
	if (name) {
		cr_assert_eq(params->via.array.size, 1);
		cr_assert_str_eq(peer_str(peer_get(peer_at(params, 0), "name")), name);
	} else {
		cr_assert_eq(params->via.array.size, 0);
	}
	msgpack_unpacked_destroy(&u);
	return msgid;
}

struct out {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void out_init(struct out *o)
{
	msgpack_sbuffer_init(&o->sb);
	msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
}

static void out_send(struct out *o)
{
	peer_write_sbuf(&fx.srv, &fx.loop, &o->sb);
	msgpack_sbuffer_destroy(&o->sb);
}

/* [1, msgid, nil, {name, ipv4, pod_cidrs: [cidr], state}] */
static void answer_node(uint32_t msgid, const char *name, const char *ipv4, const char *cidr)
{
	struct out o;

	out_init(&o);
	nr_rpc_pack_response_head(&o.pk, msgid);
	msgpack_pack_map(&o.pk, 4);
	nr_rpc_pack_kv_str(&o.pk, "name", name);
	nr_rpc_pack_kv_str(&o.pk, "ipv4", ipv4);
	nr_rpc_pack_str(&o.pk, "pod_cidrs");
	msgpack_pack_array(&o.pk, 1);
	nr_rpc_pack_str(&o.pk, cidr);
	nr_rpc_pack_kv_str(&o.pk, "state", "ready");
	out_send(&o);
}

static void answer_error(uint32_t msgid, int code, const char *message)
{
	struct out o;

	out_init(&o);
	nr_rpc_pack_error_response(&o.pk, msgid, code, message);
	out_send(&o);
}

/* ---- tests ----------------------------------------------------------------- */

/* A test that failed half-way still leaves no directory behind. */
static void remove_leftovers(void)
{
	if (fx.dir[0])
		peer_tmpdir_remove(fx.dir);
}

TestSuite(client, .fini = remove_leftovers);

Test(client, connecting_to_a_missing_socket_reports_ENOENT_from_the_loop)
{
	make_client(NULL);
	cr_assert_eq(nr_client_connect(fx.c, on_connected, NULL), 0);
	cr_assert_eq(fx.connect_status, 1, "the connect callback ran inside the call");
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.connect_status != 1));
	cr_assert_eq(fx.connect_status, -ENOENT);
	cr_assert_not(nr_client_connected(fx.c));
	finish();
}

Test(client, a_call_while_not_connected_returns_ENOTCONN_and_never_calls_back)
{
	struct result r = { 0 };

	make_client(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "n1", on_node, &r), -ENOTCONN);
	cr_assert(strstr(nr_last_errmsg(), fx.path), "%s", nr_last_errmsg());
	finish();
	cr_assert_eq(r.calls, 0);
}

Test(client, a_request_goes_out_and_its_answer_is_decoded_into_the_callback)
{
	struct result r = { 0 };
	uint32_t msgid;

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "node-1", on_node, &r), 0);
	cr_assert_eq(r.calls, 0, "the callback ran inside the call");
	msgid = read_request("node.get", "node-1");
	answer_node(msgid, "node-1", "192.168.1.10", "10.0.0.0/24");
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls > 0));
	cr_assert_eq(r.status, 0, "%s", r.errmsg);
	cr_assert_str_eq(r.errmsg, "(null)");
	cr_assert_str_eq(r.name, "node-1");
	cr_assert_str_eq(r.ipv4, "192.168.1.10");
	cr_assert_str_eq(r.state, "ready");
	cr_assert_eq(r.n_cidrs, 1);
	cr_assert_str_eq(r.cidr, "10.0.0.0/24");
	finish();
	cr_assert_eq(r.calls, 1);
}

Test(client, answers_in_any_order_reach_the_callback_of_their_own_msgid)
{
	struct result a = { 0 }, b = { 0 };
	uint32_t ida, idb;

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "a", on_node, &a), 0);
	cr_assert_eq(nr_client_node_get(fx.c, "b", on_node, &b), 0);
	ida = read_request("node.get", "a");
	idb = read_request("node.get", "b");
	cr_assert_neq(ida, idb);
	answer_node(idb, "b", "192.168.1.11", "10.0.1.0/24");
	answer_node(ida, "a", "192.168.1.10", "10.0.0.0/24");
	cr_assert(PEER_WAIT(&fx.loop, -1, a.calls && b.calls));
	cr_assert_str_eq(a.name, "a");
	cr_assert_str_eq(a.cidr, "10.0.0.0/24");
	cr_assert_str_eq(b.name, "b");
	cr_assert_str_eq(b.cidr, "10.0.1.0/24");
	cr_assert_lt(b.order, a.order);
	finish();
}

Test(client, an_error_answer_maps_to_its_errno_and_message)
{
	struct result r = { 0 }, gone = { 0 };

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "n9", on_node, &r), 0);
	answer_error(read_request("node.get", "n9"), -ENOSPC, "pool 10.0.0.0/16 is full");
	cr_assert_eq(nr_client_node_remove(fx.c, "ghost", on_done, &gone), 0);
	answer_error(read_request("node.remove", "ghost"), -ENOENT, "node \"ghost\": no such node");
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls && gone.calls));
	cr_assert_eq(r.status, -ENOSPC);
	cr_assert_str_eq(r.errmsg, "pool 10.0.0.0/16 is full");
	cr_assert_eq(gone.status, -ENOENT);
	cr_assert_str_eq(gone.errmsg, "node \"ghost\": no such node");
	finish();
}

Test(client, an_error_object_that_cannot_be_read_is_EPROTO_not_success)
{
	struct result r = { 0 };
	struct out o;
	uint32_t msgid;

	start(NULL);
	cr_assert_eq(nr_client_node_remove(fx.c, "n1", on_done, &r), 0);
	msgid = read_request("node.remove", "n1");
	/* [1, msgid, {"code": 5}, nil]: a positive code is no errno. */
	out_init(&o);
	msgpack_pack_array(&o.pk, 4);
	msgpack_pack_uint8(&o.pk, 1);
	msgpack_pack_uint32(&o.pk, msgid);
	msgpack_pack_map(&o.pk, 1);
	nr_rpc_pack_kv_u64(&o.pk, "code", 5);
	msgpack_pack_nil(&o.pk);
	out_send(&o);
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls));
	cr_assert_eq(r.status, -EPROTO);
	finish();
}

Test(client, a_lost_connection_fails_every_call_in_flight_once_with_ECONNRESET)
{
	struct result r[3] = { { 0 } };
	const char *names[3] = { "a", "b", "c" };

	start(NULL);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(nr_client_node_get(fx.c, names[i], on_node, &r[i]), 0);
	for (int i = 0; i < 3; i++)
		read_request("node.get", names[i]);
	peer_free(&fx.srv); /* the daemon dies mid-request */
	cr_assert(PEER_WAIT(&fx.loop, -1, r[0].calls && r[1].calls && r[2].calls));
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(r[i].status, -ECONNRESET);
		cr_assert_str_neq(r[i].errmsg, "(null)");
	}
	cr_assert_not(nr_client_connected(fx.c));
	finish();
	for (int i = 0; i < 3; i++)
		cr_assert_eq(r[i].calls, 1, "callback %d ran %u times", i, r[i].calls);
}

Test(client, the_daemons_disconnect_reason_reaches_the_calls_in_flight)
{
	struct result r = { 0 };
	struct out o;

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "a", on_node, &r), 0);
	read_request("node.get", "a");
	out_init(&o);
	nr_rpc_pack_notification_head(&o.pk, "disconnect");
	msgpack_pack_map(&o.pk, 3);
	nr_rpc_pack_str(&o.pk, "code");
	msgpack_pack_int64(&o.pk, -ENOBUFS);
	nr_rpc_pack_kv_str(&o.pk, "name", "ENOBUFS");
	nr_rpc_pack_kv_str(&o.pk, "message", "8388608 bytes of answers not read");
	out_send(&o);
	peer_free(&fx.srv);
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls));
	cr_assert_eq(r.status, -ENOBUFS);
	cr_assert(strstr(r.errmsg, "8388608 bytes of answers not read"), "%s", r.errmsg);
	finish();
}

Test(client, a_malformed_message_from_the_daemon_fails_the_calls_with_EPROTO)
{
	struct result r = { 0 };
	static const unsigned char reserved[] = { 0xc1 };

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "a", on_node, &r), 0);
	read_request("node.get", "a");
	peer_write(&fx.srv, &fx.loop, reserved, sizeof(reserved));
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls));
	cr_assert_eq(r.status, -EPROTO);
	cr_assert_not(nr_client_connected(fx.c));
	finish();
}

Test(client, close_cancels_calls_in_flight_from_the_loop_before_close_cb)
{
	struct result r[2] = { { 0 } };

	start(NULL);
	cr_assert_eq(nr_client_node_get(fx.c, "a", on_node, &r[0]), 0);
	cr_assert_eq(nr_client_node_remove(fx.c, "b", on_done, &r[1]), 0);
	cr_assert_eq(nr_client_close(fx.c, on_closed, &fx), 0);
	cr_assert_eq(r[0].calls + r[1].calls, 0, "a callback ran inside nr_client_close");
	cr_assert_eq(nr_client_node_get(fx.c, "c", on_node, &r[0]), -ECANCELED);
	cr_assert(PEER_WAIT(&fx.loop, -1, fx.closed));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(r[i].calls, 1);
		cr_assert_eq(r[i].status, -ECANCELED);
		cr_assert_lt(r[i].order, close_order, "call %d completed after close_cb", i);
	}
	/* The answer that arrives now has nobody to go to. */
	finish();
}

/* ---- events and timeouts ------------------------------------------------------ */

static struct nr_event got_ev;
static char got_node[64];
static uint64_t got_seq;
static unsigned int n_events;

static void on_event(struct nr_client *c, const struct nr_event *ev, uint64_t seq, void *data)
{
	(void)c;
	cr_assert_eq(data, &fx);
	got_ev = *ev;
	snprintf(got_node, sizeof(got_node), "%s", ev->node ? ev->node : "(null)");
	got_seq = seq;
	n_events++;
}

static void send_event(const char *type, const char *node, uint64_t seq)
{
	struct out o;

	out_init(&o);
	nr_rpc_pack_notification_head(&o.pk, "event");
	msgpack_pack_map(&o.pk, 3);
	nr_rpc_pack_kv_u64(&o.pk, "seq", seq);
	nr_rpc_pack_kv_str(&o.pk, "type", type);
	nr_rpc_pack_kv_str(&o.pk, "node", node);
	out_send(&o);
}

Test(client, events_after_subscribe_reach_event_cb_and_unknown_types_are_dropped)
{
	NR_OPTS(nr_client_opts, o, .event_cb = on_event, .event_data = &fx);
	struct result sub = { 0 }, r = { 0 };
	struct out out;
	uint32_t msgid;

	start(&o);
	cr_assert_eq(nr_client_subscribe(fx.c, on_done, &sub), 0);
	msgid = read_request("events.subscribe", NULL);
	out_init(&out);
	nr_rpc_pack_response_head(&out.pk, msgid);
	msgpack_pack_true(&out.pk);
	out_send(&out);
	cr_assert(PEER_WAIT(&fx.loop, -1, sub.calls));
	cr_assert_eq(sub.status, 0);
	send_event("node.frobnicated", "n1", 6); /* newer than this library */
	send_event("node.added", "node-2", 7);
	/* A round trip after the events: both have been handled by then. */
	cr_assert_eq(nr_client_node_remove(fx.c, "x", on_done, &r), 0);
	answer_error(read_request("node.remove", "x"), -ENOENT, "no such node");
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls));
	cr_assert_eq(n_events, 1);
	cr_assert_eq(got_ev.type, NR_EVENT_NODE_ADDED);
	cr_assert_str_eq(got_node, "node-2");
	cr_assert_eq(got_seq, 7);
	finish();
}

Test(client, a_call_without_an_answer_times_out_with_ETIMEDOUT)
{
	NR_OPTS(nr_client_opts, o, .timeout_ms = 40);
	struct result r = { 0 };
	uint32_t msgid;

	start(&o);
	cr_assert_eq(nr_client_node_get(fx.c, "slow", on_node, &r), 0);
	msgid = read_request("node.get", "slow");
	cr_assert(PEER_WAIT(&fx.loop, -1, r.calls));
	cr_assert_eq(r.status, -ETIMEDOUT);
	cr_assert_str_neq(r.errmsg, "(null)");
	/* A late answer has no call any more: ignored, the connection stays. */
	answer_node(msgid, "slow", "192.168.1.10", "10.0.0.0/24");
	for (int i = 0; i < 5; i++)
		peer_pump(&fx.loop, -1);
	cr_assert_eq(r.calls, 1);
	cr_assert(nr_client_connected(fx.c));
	finish();
}
