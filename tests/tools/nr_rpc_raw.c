/* Raw-socket helper for the RPC integration tests (no client library, so it
 * can send what a well-behaved client never would).
 *
 *   nr_rpc_raw SOCKET corpus        every malformed input on a fresh
 *                                   connection: each must be answered with an
 *                                   error or disconnected, and the daemon must
 *                                   answer `status` afterwards. Exit 0 = all ok.
 *   nr_rpc_raw SOCKET stall         subscribe, then never read (slow
 *                                   subscriber); exit 0 once the daemon drops us.
 *   nr_rpc_raw SOCKET flood N       N pipelined node.get requests; prints
 *                                   requests/s.
 *   nr_rpc_raw SOCKET churn N       N node.add/node.remove pairs of a node
 *                                   "churn" (192.168.1.250): a stream of events.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

static const char *sock_path;

static int connect_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(2);
	}
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* the daemon may close on us mid-way: fine */
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Wait for one complete object; returns 1 with *out filled, 0 on EOF
 * (disconnected), -1 on timeout. */
static int recv_obj(int fd, msgpack_unpacker *up, msgpack_unpacked *out, int timeout_ms)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (msgpack_unpacker_next(up, out) == MSGPACK_UNPACK_SUCCESS)
			return 1;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		msgpack_unpacker_reserve_buffer(up, 65536);
		n = recv(fd, msgpack_unpacker_buffer(up), msgpack_unpacker_buffer_capacity(up), 0);
		if (n <= 0)
			return 0;
		msgpack_unpacker_buffer_consumed(up, (size_t)n);
	}
}

/* Outcome of sending `bytes`, then (if shut) half-closing. */
static const char *outcome(const void *bytes, size_t len, bool shut, int *err_code)
{
	int fd = connect_sock();
	msgpack_unpacker up;
	msgpack_unpacked u;
	const char *what;
	int r;

	msgpack_unpacker_init(&up, 65536);
	msgpack_unpacked_init(&u);
	send_all(fd, bytes, len);
	if (shut)
		shutdown(fd, SHUT_WR);
	r = recv_obj(fd, &up, &u, 3000);
	*err_code = 0;
	if (r == 1) {
		msgpack_object o = u.data;

		what = "answered";
		if (o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 3 &&
		    o.via.array.ptr[0].via.u64 == 2 && o.via.array.ptr[1].type == MSGPACK_OBJECT_STR &&
		    o.via.array.ptr[1].via.str.size == 10 &&
		    !memcmp(o.via.array.ptr[1].via.str.ptr, "disconnect", 10)) {
			/* The daemon's last word: {code, name, message}, then EOF. */
			msgpack_object *a = &o.via.array.ptr[2];
			msgpack_unpacked more;

			if (a->type == MSGPACK_OBJECT_ARRAY && a->via.array.size == 1 &&
			    a->via.array.ptr[0].type == MSGPACK_OBJECT_MAP) {
				msgpack_object *e = &a->via.array.ptr[0];

				for (uint32_t i = 0; i < e->via.map.size; i++)
					if (e->via.map.ptr[i].val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
						*err_code = (int)e->via.map.ptr[i].val.via.i64;
			}
			msgpack_unpacked_init(&more);
			what = recv_obj(fd, &up, &more, 3000) == 0 ? "disconnected" : "no EOF after disconnect";
			msgpack_unpacked_destroy(&more);
		} else if (o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 4 &&
		    o.via.array.ptr[2].type == MSGPACK_OBJECT_MAP) {
			msgpack_object *e = &o.via.array.ptr[2];

			for (uint32_t i = 0; i < e->via.map.size; i++)
				if (e->via.map.ptr[i].val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
					*err_code = (int)e->via.map.ptr[i].val.via.i64;
			what = "error";
		}
	} else {
		what = r == 0 ? "disconnected" : "no answer";
	}
	msgpack_unpacked_destroy(&u);
	msgpack_unpacker_destroy(&up);
	close(fd);
	return what;
}

static bool daemon_healthy(void)
{
	static const unsigned char status[] = { 0x94, 0x00, 0x01, 0xa6, 's', 't', 'a', 't', 'u', 's', 0x90 };
	int code;

	return !strcmp(outcome(status, sizeof(status), false, &code), "answered");
}

struct bytes {
	unsigned char *p;
	size_t n;
};

static struct bytes pack_req(const char *method, void (*params)(msgpack_packer *pk))
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint32(&pk, 77);
	msgpack_pack_str_with_body(&pk, method, strlen(method));
	if (params) {
		msgpack_pack_array(&pk, 1);
		params(&pk);
	} else {
		msgpack_pack_array(&pk, 0);
	}
	return (struct bytes){ (unsigned char *)sb.data, sb.size };
}

static void kv(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void p_name_int(msgpack_packer *pk) { msgpack_pack_map(pk, 1); msgpack_pack_str_with_body(pk, "name", 4); msgpack_pack_int(pk, 5); }
static void p_unknown_field(msgpack_packer *pk) { msgpack_pack_map(pk, 2); kv(pk, "name", "zz"); kv(pk, "ipv5", "1.2.3.4"); }
static void p_bad_ip(msgpack_packer *pk) { msgpack_pack_map(pk, 2); kv(pk, "name", "zz"); kv(pk, "ipv4", "300.1.1.1"); }
static void p_cidrs_not_list(msgpack_packer *pk) { msgpack_pack_map(pk, 3); kv(pk, "name", "zz"); kv(pk, "ipv4", "192.168.1.77"); kv(pk, "pod_cidrs", "10.0.9.0/24"); }
static void p_bad_cidr(msgpack_packer *pk) { msgpack_pack_map(pk, 3); kv(pk, "name", "zz"); kv(pk, "ipv4", "192.168.1.77"); msgpack_pack_str_with_body(pk, "pod_cidrs", 9); msgpack_pack_array(pk, 2); msgpack_pack_str_with_body(pk, "10.0.9.0/24", 11); msgpack_pack_str_with_body(pk, "10.0.9.1/33", 11); }
static void p_ep_both(msgpack_packer *pk) { msgpack_pack_map(pk, 3); kv(pk, "id", "zz"); kv(pk, "ifname", "lo"); msgpack_pack_str_with_body(pk, "ifindex", 7); msgpack_pack_uint32(pk, 1); }
static void p_mode_bad(msgpack_packer *pk) { msgpack_pack_map(pk, 1); kv(pk, "mode", "warp"); }
static void p_name_nul(msgpack_packer *pk) { msgpack_pack_map(pk, 1); msgpack_pack_str_with_body(pk, "name", 4); msgpack_pack_str_with_body(pk, "a\0b", 3); }

static int run_corpus(void)
{
	struct {
		const char *what;
		struct bytes b;
		bool shut;
	} cases[64];
	size_t n = 0;
	int failures = 0;
	static unsigned char huge_str[] = { 0x94, 0x00, 0x01, 0xdb, 0x7f, 0xff, 0xff, 0xff, 'x' };
	static unsigned char huge_arr[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 };
	static unsigned char huge_map[] = { 0x94, 0x00, 0x01, 0xa1, 'm', 0x91, 0xdf, 0x10, 0, 0, 0 };
	static unsigned char reserved[] = { 0x94, 0x00, 0x01, 0xc1 };
	static unsigned char not_array[] = { 0xa3, 'a', 'b', 'c' };
	static unsigned char type9[] = { 0x94, 0x09, 0x01, 0xa1, 'm', 0x90 };
	static unsigned char neg_id[] = { 0x94, 0x00, 0xff, 0xa6, 's', 't', 'a', 't', 'u', 's', 0x90 };
	static unsigned char str_id[] = { 0x94, 0x00, 0xa1, '1', 0xa6, 's', 't', 'a', 't', 'u', 's', 0x90 };
	static unsigned char int_method[] = { 0x94, 0x00, 0x01, 0x07, 0x90 };
	static unsigned char params_map[] = { 0x94, 0x00, 0x01, 0xa6, 's', 't', 'a', 't', 'u', 's', 0x80 };
	static unsigned char truncated[] = { 0x94, 0x00, 0x01, 0xa8, 'n', 'o', 'd', 'e' };
	static unsigned char response[] = { 0x94, 0x01, 0x01, 0xc0, 0xc0 };
	static unsigned char deep[200];
	static unsigned char random_bytes[4096];
	static unsigned char big[2 << 20];
	unsigned int seed = 4242;
	unsigned char *owned[16];
	size_t n_owned = 0;

#define CASE(w, ptr, len, sh) cases[n++] = (typeof(cases[0])){ w, { ptr, len }, sh }
#define RCASE(w, method, fn)                                                  \
	do {                                                                  \
		struct bytes b_ = pack_req(method, fn);                       \
		owned[n_owned++] = b_.p;                                      \
		CASE(w, b_.p, b_.n, false);                                   \
	} while (0)
	CASE("huge string length", huge_str, sizeof(huge_str), false);
	CASE("huge array count", huge_arr, sizeof(huge_arr), false);
	CASE("huge map count in params", huge_map, sizeof(huge_map), false);
	CASE("reserved byte 0xc1", reserved, sizeof(reserved), false);
	CASE("not an array", not_array, sizeof(not_array), false);
	CASE("message type 9", type9, sizeof(type9), false);
	CASE("negative msgid", neg_id, sizeof(neg_id), false);
	CASE("string msgid", str_id, sizeof(str_id), false);
	CASE("integer method", int_method, sizeof(int_method), false);
	CASE("params is a map, not [map]", params_map, sizeof(params_map), false);
	CASE("truncated then EOF", truncated, sizeof(truncated), true);
	CASE("response sent to the server", response, sizeof(response), true);
	memset(deep, 0x91, sizeof(deep));
	CASE("nesting 200 deep", deep, sizeof(deep), false);
	for (size_t i = 0; i < sizeof(random_bytes); i++)
		random_bytes[i] = (unsigned char)rand_r(&seed);
	CASE("4 KiB of random bytes", random_bytes, sizeof(random_bytes), true);
	big[0] = 0xdb; /* str32 of 2 MiB: over the 1 MiB limit */
	big[1] = 0x00; big[2] = 0x20; big[3] = 0x00; big[4] = 0x00;
	CASE("2 MiB message", big, sizeof(big), false);
	RCASE("unknown method", "node.explode", NULL);
	RCASE("node.get name is an int", "node.get", p_name_int);
	RCASE("node.add unknown field", "node.add", p_unknown_field);
	RCASE("node.add bad address", "node.add", p_bad_ip);
	RCASE("node.add pod_cidrs not a list", "node.add", p_cidrs_not_list);
	RCASE("node.add second CIDR invalid", "node.add", p_bad_cidr);
	RCASE("endpoint.add ifname and ifindex", "endpoint.add", p_ep_both);
	RCASE("mode.set unknown mode", "mode.set", p_mode_bad);
	RCASE("node.remove missing name", "node.remove", NULL);
	RCASE("node.get name with NUL", "node.get", p_name_nul);
	RCASE("endpoint.get missing id", "endpoint.get", NULL);
	RCASE("endpoint.get name, not id", "endpoint.get", p_name_int);

	for (size_t i = 0; i < n; i++) {
		int code;
		const char *what = outcome(cases[i].b.p, cases[i].b.n, cases[i].shut, &code);
		bool ok = !strcmp(what, "error") || !strcmp(what, "disconnected");
		bool healthy = daemon_healthy();

		printf("%-34s %-13s %4d  daemon %s\n", cases[i].what, what, code,
		       healthy ? "healthy" : "NOT HEALTHY");
		if (!ok || !healthy)
			failures++;
	}
	printf("%zu cases, %d failures\n", n, failures);
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	return failures ? 1 : 0;
}

static int run_stall(void)
{
	static const unsigned char sub[] = { 0x94, 0x00, 0x01, 0xb0, 'e', 'v', 'e', 'n', 't', 's', '.',
					     's', 'u', 'b', 's', 'c', 'r', 'i', 'b', 'e', 0x90 };
	int fd = connect_sock(), rcv = 4096;
	char buf[1];

	/* A tiny receive buffer so the daemon's queue fills quickly. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	send_all(fd, sub, sizeof(sub));
	printf("subscribed; not reading\n");
	fflush(stdout);
	/* Wait until the daemon hangs up: POLLHUP/RDHUP even with data unread. */
	for (int i = 0; i < 600; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

		if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
			printf("dropped by the daemon\n");
			return 0;
		}
	}
	(void)buf;
	printf("still connected after 60 s\n");
	return 1;
}

static void p_name_node1(msgpack_packer *pk) { msgpack_pack_map(pk, 1); kv(pk, "name", "node-1"); }

static int run_flood(long count)
{
	struct bytes req = pack_req("node.get", p_name_node1);
	int fd = connect_sock();
	msgpack_unpacker up;
	msgpack_unpacked u;
	struct timespec t0, t1;
	long sent = 0, got = 0, errors = 0;
	const long window = 256;

	msgpack_unpacker_init(&up, 1 << 20);
	msgpack_unpacked_init(&u);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < count) {
		while (sent < count && sent - got < window) {
			send_all(fd, req.p, req.n);
			sent++;
		}
		if (recv_obj(fd, &up, &u, 5000) != 1) {
			fprintf(stderr, "flood: no answer after %ld\n", got);
			return 1;
		}
		if (u.data.via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
			errors++;
		got++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld requests in %.3f s: %.0f requests/s, %ld errors\n", count, s, (double)count / s,
	       errors);
	msgpack_unpacked_destroy(&u);
	msgpack_unpacker_destroy(&up);
	free(req.p);
	close(fd);
	return errors ? 1 : 0;
}

static void p_churn_add(msgpack_packer *pk) { msgpack_pack_map(pk, 2); kv(pk, "name", "churn"); kv(pk, "ipv4", "192.168.1.250"); }
static void p_churn_del(msgpack_packer *pk) { msgpack_pack_map(pk, 1); kv(pk, "name", "churn"); }

/* N node.add/node.remove pairs, pipelined: many events, quickly. */
static int run_churn(long count)
{
	struct bytes add = pack_req("node.add", p_churn_add), del = pack_req("node.remove", p_churn_del);
	int fd = connect_sock();
	msgpack_unpacker up;
	msgpack_unpacked u;
	long errors = 0;

	msgpack_unpacker_init(&up, 1 << 20);
	msgpack_unpacked_init(&u);
	for (long i = 0; i < count; i++) {
		send_all(fd, add.p, add.n);
		send_all(fd, del.p, del.n);
		for (int k = 0; k < 2; k++) {
			if (recv_obj(fd, &up, &u, 5000) != 1) {
				fprintf(stderr, "churn: no answer at %ld\n", i);
				return 1;
			}
			if (u.data.via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
				errors++;
		}
	}
	printf("%ld add/remove pairs, %ld errors\n", count, errors);
	msgpack_unpacked_destroy(&u);
	msgpack_unpacker_destroy(&up);
	free(add.p);
	free(del.p);
	close(fd);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: nr_rpc_raw SOCKET corpus|stall|flood N\n");
		return 2;
	}
	sock_path = argv[1];
	if (!strcmp(argv[2], "corpus"))
		return run_corpus();
	if (!strcmp(argv[2], "stall"))
		return run_stall();
	if (!strcmp(argv[2], "flood") && argc > 3)
		return run_flood(atol(argv[3]));
	if (!strcmp(argv[2], "churn") && argc > 3)
		return run_churn(atol(argv[3]));
	fprintf(stderr, "unknown mode %s\n", argv[2]);
	return 2;
}
