/* MessagePack-RPC framing and decoding (libnativeroute/ipc/rpc_codec.c):
 * messages are found in a byte stream without trusting any length the peer
 * claims, limits are enforced before msgpack-c allocates, and every
 * malformed input is refused with an error, never a crash. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ipc/rpc_codec.h"

static const struct nr_rpc_limits lim = {
	.max_msg = 4096, .max_depth = 8, .max_objects = 1000,
};

struct packed {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void packed_init(struct packed *p)
{
	msgpack_sbuffer_init(&p->sb);
	msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static ssize_t frame(const void *buf, size_t len)
{
	struct nr_err err = { 0 };

	return nr_rpc_frame(buf, len, &lim, &err);
}

/* Decode bytes as one message; returns the rc, msg filled. */
static int decode(const void *buf, size_t len, msgpack_unpacked *u, struct nr_rpc_msg *msg,
		  struct nr_err *err)
{
	msgpack_unpacked_init(u);
	return nr_rpc_decode(buf, len, u, msg, err);
}

Test(rpc_frame, complete_request_is_found_with_its_exact_length)
{
	struct packed p;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 7, "node.get", true);
	msgpack_pack_map(&p.pk, 1);
	nr_rpc_pack_kv_str(&p.pk, "name", "node-2");
	cr_assert_eq(frame(p.sb.data, p.sb.size), (ssize_t)p.sb.size);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_frame, every_strict_prefix_needs_more_bytes)
{
	struct packed p;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 1, "node.add", true);
	msgpack_pack_map(&p.pk, 2);
	nr_rpc_pack_kv_str(&p.pk, "name", "n");
	nr_rpc_pack_str(&p.pk, "pod_cidrs");
	msgpack_pack_array(&p.pk, 1);
	nr_rpc_pack_str(&p.pk, "10.0.1.0/24");
	msgpack_pack_uint64(&p.pk, UINT64_MAX); /* bytes of the next message */
	for (size_t i = 0; i < p.sb.size - 9; i++)
		cr_assert_eq(frame(p.sb.data, i), 0, "prefix of %zu bytes", i);
	cr_assert_eq(frame(p.sb.data, p.sb.size), (ssize_t)(p.sb.size - 9));
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_frame, back_to_back_messages_are_split)
{
	struct packed p;
	ssize_t first;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 1, "status", false);
	first = (ssize_t)p.sb.size;
	nr_rpc_pack_request_head(&p.pk, 2, "node.list", false);
	cr_assert_eq(frame(p.sb.data, p.sb.size), first);
	cr_assert_eq(frame(p.sb.data + first, p.sb.size - (size_t)first),
		     (ssize_t)(p.sb.size - (size_t)first));
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_frame, reserved_byte_is_refused)
{
	const unsigned char bad[] = { 0x94, 0x00, 0x01, 0xc1 };
	struct nr_err err = { 0 };

	cr_assert_eq(nr_rpc_frame(bad, sizeof(bad), &lim, &err), -EBADMSG);
	cr_assert(strstr(err.msg, "0xc1"), "message: %s", err.msg);
}

Test(rpc_frame, huge_array_count_is_refused_before_the_bytes_arrive)
{
	/* array32 claiming 2^32-1 elements: 5 bytes that must not make anyone
	 * allocate or wait for 4 GiB. */
	const unsigned char bad[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };

	cr_assert_eq(frame(bad, sizeof(bad)), -EMSGSIZE);
}

Test(rpc_frame, huge_map_and_string_lengths_are_refused)
{
	const unsigned char map32[] = { 0xdf, 0x00, 0x10, 0x00, 0x00 };
	const unsigned char str32[] = { 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a' };
	const unsigned char bin32[] = { 0xc6, 0x00, 0x01, 0x00, 0x00 };
	const unsigned char ext32[] = { 0xc9, 0x00, 0x01, 0x00, 0x00, 0x01 };

	cr_assert_eq(frame(map32, sizeof(map32)), -EMSGSIZE);
	cr_assert_eq(frame(str32, sizeof(str32)), -EMSGSIZE);
	cr_assert_eq(frame(bin32, sizeof(bin32)), -EMSGSIZE);
	cr_assert_eq(frame(ext32, sizeof(ext32)), -EMSGSIZE);
}

Test(rpc_frame, incomplete_message_at_the_size_limit_is_refused)
{
	unsigned char buf[4096];

	/* str16 of 4000 bytes inside an array of 2: the second element never
	 * comes, and the buffer is already full. */
	memset(buf, 0xa1, sizeof(buf));
	buf[0] = 0xdc;
	buf[1] = 0xff;
	buf[2] = 0xff;
	cr_assert_eq(frame(buf, sizeof(buf)), -EMSGSIZE);
}

Test(rpc_frame, nesting_deeper_than_the_limit_is_refused)
{
	unsigned char deep[64];

	memset(deep, 0x91, sizeof(deep)); /* [[[[...]]]] */
	cr_assert_eq(frame(deep, sizeof(deep)), -EBADMSG);
	/* Exactly max_depth levels is fine. */
	deep[lim.max_depth] = 0xc0;
	cr_assert_eq(frame(deep, lim.max_depth + 1), (ssize_t)lim.max_depth + 1);
}

Test(rpc_frame, too_many_objects_are_refused)
{
	unsigned char buf[2000];

	buf[0] = 0xdc;
	buf[1] = (1500 >> 8) & 0xff;
	buf[2] = 1500 & 0xff;
	memset(buf + 3, 0x01, sizeof(buf) - 3);
	cr_assert_eq(frame(buf, sizeof(buf)), -EMSGSIZE);
}

Test(rpc_frame, every_scalar_type_is_walked)
{
	struct packed p;

	packed_init(&p);
	msgpack_pack_array(&p.pk, 14);
	msgpack_pack_nil(&p.pk);
	msgpack_pack_true(&p.pk);
	msgpack_pack_int8(&p.pk, -100);
	msgpack_pack_int64(&p.pk, INT64_MIN);
	msgpack_pack_uint16(&p.pk, 60000);
	msgpack_pack_uint32(&p.pk, 4000000000u);
	msgpack_pack_float(&p.pk, 1.5f);
	msgpack_pack_double(&p.pk, 2.5);
	msgpack_pack_bin(&p.pk, 3);
	msgpack_pack_bin_body(&p.pk, "abc", 3);
	msgpack_pack_ext(&p.pk, 1, 7);
	msgpack_pack_ext_body(&p.pk, "x", 1);
	msgpack_pack_ext(&p.pk, 16, 7);
	msgpack_pack_ext_body(&p.pk, "0123456789abcdef", 16);
	msgpack_pack_ext(&p.pk, 300, 7);
	for (int i = 0; i < 300; i++)
		msgpack_pack_ext_body(&p.pk, "z", 1);
	msgpack_pack_str(&p.pk, 40);
	msgpack_pack_str_body(&p.pk, "0123456789012345678901234567890123456789", 40);
	msgpack_pack_map(&p.pk, 0);
	cr_assert_eq(frame(p.sb.data, p.sb.size), (ssize_t)p.sb.size);
	for (size_t i = 0; i < p.sb.size; i++)
		cr_assert_eq(frame(p.sb.data, i), 0, "prefix %zu", i);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_decode, request_with_params_map)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	const char *name = NULL;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 42, "node.remove", true);
	msgpack_pack_map(&p.pk, 1);
	nr_rpc_pack_kv_str(&p.pk, "name", "node-2");
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_eq(msg.type, NR_RPC_REQUEST);
	cr_assert_eq(msg.msgid, 42);
	cr_assert_str_eq(msg.method, "node.remove");
	cr_assert_eq(nr_rpc_get_str(msg.zone, msg.params, "name", true, &name, NULL), 0);
	cr_assert_str_eq(name, "node-2");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_decode, empty_params_and_empty_map_both_mean_none)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 1, "status", false);
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_null(msg.params);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_clear(&p.sb);
	nr_rpc_pack_request_head(&p.pk, 1, "status", true);
	msgpack_pack_map(&p.pk, 0);
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_null(msg.params);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_decode, bad_params_keep_the_msgid_for_an_error_answer)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	struct nr_err err = { 0 };

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 9, "node.get", true);
	msgpack_pack_str(&p.pk, 1); /* params [ "x" ] instead of [ {..} ] */
	msgpack_pack_str_body(&p.pk, "x", 1);
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, &err), -EINVAL);
	cr_assert(msg.has_msgid);
	cr_assert_eq(msg.msgid, 9);
	cr_assert(strstr(err.msg, "params"));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

/* Each of these is a complete MessagePack object that is not a valid RPC
 * message. */
static const struct {
	const char *what;
	const char *bytes;
	size_t len;
	bool answerable; /* has a usable msgid */
} corpus[] = {
	{ "not an array", "\xa3" "abc", 4, false },
	{ "empty array", "\x90", 1, false },
	{ "type 3", "\x94\x03\x01\xa1m\x90", 6, false },
	{ "type is a string", "\x94\xa1" "0\x01\xa1m\x90", 7, false },
	{ "request of 3 elements", "\x93\x00\x01\xa1m", 5, false },
	{ "negative msgid", "\x94\x00\xff\xa1m\x90", 6, false },
	{ "msgid above 32 bits", "\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xa1m\x90", 14, false },
	{ "method is an integer", "\x94\x00\x01\x05\x90", 5, true },
	{ "empty method", "\x94\x00\x01\xa0\x90", 5, true },
	{ "method with NUL", "\x94\x00\x01\xa2m\x00\x90", 7, true },
	{ "params is a map", "\x94\x00\x01\xa1m\x80", 6, true },
	{ "params has two maps", "\x94\x00\x01\xa1m\x92\x80\x80", 8, true },
	{ "response of 3 elements", "\x93\x01\x01\xc0", 4, false },
	{ "notification payload not array", "\x93\x02\xa1m\x05", 5, false },
};

Test(rpc_decode, malformed_corpus_is_refused_without_crashing)
{
	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		msgpack_unpacked u;
		struct nr_rpc_msg msg;
		struct nr_err err = { 0 };
		ssize_t n = frame(corpus[i].bytes, corpus[i].len);

		cr_assert_eq(n, (ssize_t)corpus[i].len, "%s: framed as %zd", corpus[i].what, n);
		cr_assert_lt(decode(corpus[i].bytes, corpus[i].len, &u, &msg, &err), 0,
			     "%s accepted", corpus[i].what);
		cr_assert_neq(err.msg[0], '\0', "%s: no message", corpus[i].what);
		cr_assert_eq(msg.has_msgid && msg.type == NR_RPC_REQUEST, corpus[i].answerable,
			     "%s: answerable", corpus[i].what);
		msgpack_unpacked_destroy(&u);
	}
}

Test(rpc_decode, random_bytes_never_crash)
{
	unsigned char buf[256];
	unsigned int seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % sizeof(buf)) + 1;
		ssize_t n;

		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)rand_r(&seed);
		if (round % 2)
			buf[0] = 0x94; /* look like an envelope more often */
		n = frame(buf, len);
		if (n > 0) {
			msgpack_unpacked u;
			struct nr_rpc_msg msg;

			decode(buf, (size_t)n, &u, &msg, NULL);
			msgpack_unpacked_destroy(&u);
		}
	}
}

Test(rpc_params, unknown_field_is_named)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	struct nr_err err = { 0 };
	static const char *const known[] = { "name", "ipv4", NULL };

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 1, "node.add", true);
	msgpack_pack_map(&p.pk, 2);
	nr_rpc_pack_kv_str(&p.pk, "name", "n");
	nr_rpc_pack_kv_str(&p.pk, "ipv5", "x");
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_eq(nr_rpc_check_keys(msg.params, known, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "unknown field \"ipv5\"");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_params, wrong_types_are_named)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	struct nr_err err = { 0 };
	const char *s = NULL;
	const char *const *arr = NULL;
	uint32_t v = 0;
	bool b = false;

	packed_init(&p);
	nr_rpc_pack_request_head(&p.pk, 1, "x", true);
	msgpack_pack_map(&p.pk, 4);
	nr_rpc_pack_str(&p.pk, "name");
	msgpack_pack_int(&p.pk, 5);
	nr_rpc_pack_kv_str(&p.pk, "ifindex", "eth0");
	nr_rpc_pack_str(&p.pk, "pod_cidrs");
	msgpack_pack_array(&p.pk, 1);
	msgpack_pack_int(&p.pk, 1);
	nr_rpc_pack_kv_str(&p.pk, "flag", "yes");
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_eq(nr_rpc_get_str(msg.zone, msg.params, "name", true, &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "field \"name\" must be a string");
	cr_assert_eq(nr_rpc_get_u32(msg.params, "ifindex", false, &v, &err), -EINVAL);
	cr_assert_eq(nr_rpc_get_str_array(msg.zone, msg.params, "pod_cidrs", false, &arr, NULL, &err),
		     -EINVAL);
	cr_assert_str_eq(err.msg, "field \"pod_cidrs\"[0] must be a string");
	cr_assert_eq(nr_rpc_get_bool(msg.params, "flag", false, &b, &err), -EINVAL);
	cr_assert_eq(nr_rpc_get_str(msg.zone, msg.params, "missing", true, &s, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "missing field \"missing\"");
	cr_assert_eq(nr_rpc_get_str(msg.zone, msg.params, "missing", false, &s, &err), 0);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_error, error_response_round_trips_code_name_and_message)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	const char *text = NULL;

	packed_init(&p);
	nr_rpc_pack_error_response(&p.pk, 3, -ENOSPC, "pool 10.0.0.0/16 exhausted");
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_eq(msg.type, NR_RPC_RESPONSE);
	cr_assert_eq(msg.msgid, 3);
	cr_assert_not_null(msg.error);
	cr_assert_eq(nr_rpc_error_decode(msg.zone, msg.error, &text), -ENOSPC);
	cr_assert_str_eq(text, "pool 10.0.0.0/16 exhausted");
	cr_assert_eq(nr_rpc_get_str(msg.zone, msg.error, "name", true, &text, NULL), 0);
	cr_assert_str_eq(text, "ENOSPC");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}

Test(rpc_error, malformed_error_object_is_eproto)
{
	const char *text = NULL;
	msgpack_object o = { .type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 5 };

	cr_assert_eq(nr_rpc_error_decode(NULL, &o, &text), -EPROTO);
	cr_assert_not_null(text);
}

Test(rpc_decode, notification_payload_is_exposed)
{
	struct packed p;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;

	packed_init(&p);
	nr_rpc_pack_notification_head(&p.pk, "event");
	msgpack_pack_map(&p.pk, 1);
	nr_rpc_pack_kv_str(&p.pk, "type", "node.added");
	cr_assert_eq(decode(p.sb.data, p.sb.size, &u, &msg, NULL), 0);
	cr_assert_eq(msg.type, NR_RPC_NOTIFICATION);
	cr_assert_str_eq(msg.method, "event");
	cr_assert_eq(msg.args->via.array.size, 1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&p.sb);
}
