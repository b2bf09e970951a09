/* The resumable framer (nr_rpc_framer_next) and the text cleaner of error
 * messages (nr_rpc_clean_text), libnativeroute/ipc/rpc_codec.c: a message
 * arriving a byte at a time is walked once, not once per byte (issue 11:
 * 16 trickling clients took 94 % of a core), and error strings never echo
 * invalid UTF-8 or control bytes back. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ipc/rpc_codec.h"

static const struct nr_rpc_limits big = {
	.max_msg = 1 << 20, .max_depth = 8, .max_objects = 1 << 20,
};

/* [0, 1, "x", [[0, 0, ... n times]]]: many small objects, the worst case
 * for a walk that restarts from the beginning. */
static size_t many_small(char *buf, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint8(&pk, 0);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_str_with_body(&pk, "x", 1);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_array(&pk, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_uint8(&pk, 0);
	len = sb.size;
	memcpy(buf, sb.data, len);
	msgpack_sbuffer_destroy(&sb);
	return len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

Test(rpc_framer, a_message_fed_byte_by_byte_is_found_once_complete)
{
	static char buf[200000];
	size_t len = many_small(buf, 150000);
	struct nr_rpc_framer fr = { 0 };
	struct nr_err err = { 0 };
	double t0 = now_s(), took;

	for (size_t have = 1; have < len; have++) {
		ssize_t n = nr_rpc_framer_next(&fr, buf, have, &big, &err);

		if (n != 0)
			cr_assert_fail("after %zu of %zu bytes: %zd (%s)", have, len, n, err.msg);
		cr_assert(nr_rpc_framer_partial(&fr));
	}
	cr_assert_eq(nr_rpc_framer_next(&fr, buf, len, &big, &err), (ssize_t)len);
	cr_assert_not(nr_rpc_framer_partial(&fr));
	took = now_s() - t0;
	/* Resumed: ~150k steps in total. Restarted on every byte it would be
	 * ~10^10 steps (minutes), so the bound has a margin of 100x and more. */
	cr_assert_lt(took, 2.0, "framing 150k objects byte by byte took %.2f s", took);
}

Test(rpc_framer, a_string_arriving_in_pieces_completes_only_with_its_last_byte)
{
	char buf[64];
	size_t len;
	struct nr_rpc_framer fr = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint8(&pk, 2);
	msgpack_pack_str_with_body(&pk, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	len = sb.size;
	memcpy(buf, sb.data, len);
	msgpack_sbuffer_destroy(&sb);
	for (size_t have = 1; have < len; have += 3)
		cr_assert_eq(nr_rpc_framer_next(&fr, buf, have, &big, NULL), 0, "at %zu", have);
	cr_assert_eq(nr_rpc_framer_next(&fr, buf, len, &big, NULL), (ssize_t)len);
}

Test(rpc_framer, back_to_back_messages_with_the_same_framer)
{
	static const unsigned char two[] = { 0x93, 0x02, 0xa1, 'e', 0x90, 0x92, 0x01, 0xc0 };
	struct nr_rpc_framer fr = { 0 };

	cr_assert_eq(nr_rpc_framer_next(&fr, two, sizeof(two), &big, NULL), 5);
	cr_assert_eq(nr_rpc_framer_next(&fr, two + 5, 2, &big, NULL), 0);
	cr_assert_eq(nr_rpc_framer_next(&fr, two + 5, 3, &big, NULL), 3);
}

Test(rpc_framer, limits_still_apply_when_resumed)
{
	static char buf[200000];
	size_t len = many_small(buf, 5000);
	const struct nr_rpc_limits small = { .max_msg = 4096, .max_depth = 8, .max_objects = 100000 };
	struct nr_rpc_framer fr = { 0 };
	struct nr_err err = { 0 };
	ssize_t n = 0;

	for (size_t have = 1; have <= len && n == 0; have += 100)
		n = nr_rpc_framer_next(&fr, buf, have, &small, &err);
	cr_assert_eq(n, -EMSGSIZE, "got %zd", n);
}

Test(rpc_clean_text, valid_utf8_is_kept)
{
	char out[64];

	nr_rpc_clean_text(out, sizeof(out), "node \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	cr_assert_str_eq(out, "node \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

Test(rpc_clean_text, invalid_utf8_and_control_bytes_are_escaped)
{
	char out[128];

	/* a lone continuation byte, an overlong '/', a surrogate, 0xff, ESC, DEL */
	nr_rpc_clean_text(out, sizeof(out), "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xff\x1b\x7f");
	cr_assert_str_eq(out, "a\\x80b\\xc0\\xafc\\xed\\xa0\\x80d\\xff\\x1b\\x7f");
}

Test(rpc_clean_text, truncation_never_splits_a_character)
{
	char out[8];

	nr_rpc_clean_text(out, sizeof(out), "abcde\xe2\x82\xac");
	cr_assert_str_eq(out, "abcde");
	nr_rpc_clean_text(out, sizeof(out), "abcd\xff");
	cr_assert_str_eq(out, "abcd");
}

Test(rpc_clean_text, error_responses_carry_clean_messages)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	const char *text = NULL;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	nr_rpc_pack_error_response(&pk, 7, -EINVAL, "unknown field \"\xff\xfe\"");
	msgpack_unpacked_init(&u);
	cr_assert_eq(nr_rpc_decode(sb.data, sb.size, &u, &msg, NULL), 0);
	cr_assert_lt(nr_rpc_error_decode(msg.zone, msg.error, &text), 0);
	cr_assert_str_eq(text, "unknown field \"\\xff\\xfe\"");
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}
