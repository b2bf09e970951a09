/* libFuzzer target: the server's view of untrusted bytes. Frame the input
 * the way a connection does (messages back to back), decode each framed
 * message, and read its params with every getter. Any crash, leak, hang or
 * sanitizer report is a bug; errors are the expected outcome. */
#include <stddef.h>
#include <stdint.h>

#include "ipc/rpc_codec.h"

static void read_params(const struct nr_rpc_msg *msg)
{
	static const char *const known[] = { "name", "ipv4", "pod_cidrs", "ifindex", "flag", NULL };
	const char *s;
	const char *const *arr;
	size_t n;
	uint32_t u32;
	int64_t i64;
	bool b;

	nr_rpc_check_keys(msg->params, known, NULL);
	nr_rpc_get_str(msg->zone, msg->params, "name", true, &s, NULL);
	nr_rpc_get_str_array(msg->zone, msg->params, "pod_cidrs", false, &arr, &n, NULL);
	nr_rpc_get_u32(msg->params, "ifindex", false, &u32, NULL);
	nr_rpc_get_i64(msg->params, "ipv4", false, &i64, NULL);
	nr_rpc_get_bool(msg->params, "flag", false, &b, NULL);
	if (msg->error)
		nr_rpc_error_decode(msg->zone, msg->error, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nr_rpc_limits lim = {
		.max_msg = 1 << 16, .max_depth = NR_RPC_MAX_DEPTH, .max_objects = 4096,
	};
	size_t off = 0;

	while (off < size) {
		ssize_t n = nr_rpc_frame(data + off, size - off, &lim, NULL);
		msgpack_unpacked u;
		struct nr_rpc_msg msg;

		if (n <= 0)
			break; /* need more bytes, or the connection would close */
		msgpack_unpacked_init(&u);
		if (nr_rpc_decode(data + off, (size_t)n, &u, &msg, NULL) == 0)
			read_params(&msg);
		msgpack_unpacked_destroy(&u);
		off += (size_t)n;
	}
	return 0;
}
