/* libFuzzer target: the RPC method handlers, from untrusted bytes to their
 * answer. One request message is framed and decoded as the server does,
 * its method looked up in the daemon's table and its handler run on a
 * detached call with no controller (every nr_ctl_* entry refuses NULL): so
 * this exercises decoding, every parameter check of every handler and the
 * error path. Each request must get exactly one answer, a well-formed
 * response with its msgid; anything else aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipc/rpc_codec.h"
#include "ipc/rpc_methods.h"

struct answer {
	int count;
	uint32_t msgid;
};

static void sink(void *arg, const char *buf, size_t len)
{
	struct answer *a = arg;
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	const struct nr_rpc_limits lim = { .max_msg = 1 << 24, .max_depth = NR_RPC_MAX_DEPTH };

	a->count++;
	if (nr_rpc_frame(buf, len, &lim, NULL) != (ssize_t)len) {
		fprintf(stderr, "answer is not one complete message\n");
		abort();
	}
	msgpack_unpacked_init(&u);
	if (nr_rpc_decode(buf, len, &u, &msg, NULL) < 0 || msg.type != NR_RPC_RESPONSE ||
	    msg.msgid != a->msgid) {
		fprintf(stderr, "answer is not a response to msgid %u\n", a->msgid);
		abort();
	}
	msgpack_unpacked_destroy(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nr_rpc_limits lim = {
		.max_msg = NR_RPC_SERVER_MAX_MSG, .max_depth = NR_RPC_MAX_DEPTH,
		.max_objects = NR_RPC_SERVER_MAX_OBJECTS,
	};
	ssize_t n = nr_rpc_frame(data, size, &lim, NULL);
	const struct nr_rpc_method *m;
	struct answer a = { 0 };
	struct nr_rpc_call *call;
	struct nr_err err = { 0 };
	msgpack_unpacked u;
	struct nr_rpc_msg msg;
	int rc;

	if (n <= 0)
		return 0;
	msgpack_unpacked_init(&u);
	if (nr_rpc_decode(data, (size_t)n, &u, &msg, NULL) < 0 || msg.type != NR_RPC_REQUEST ||
	    !(m = nr_rpc_method_find(msg.method))) {
		msgpack_unpacked_destroy(&u);
		return 0;
	}
	a.msgid = msg.msgid;
	call = nr_rpc_call_detached(NULL, msg.msgid, sink, &a);
	if (call) {
		rc = m->fn(call, msg.params, msg.zone, &err);
		if (rc < 0)
			nr_rpc_call_fail(call, rc, err.msg);
		if (a.count != 1) {
			fprintf(stderr, "%s: %d answers\n", m->name, a.count);
			abort();
		}
	}
	msgpack_unpacked_destroy(&u);
	return 0;
}
