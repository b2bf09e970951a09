/* The RPC methods of DESIGN.md §6, each mapped onto nr_ctl_* calls.
 *
 * A handler validates ALL of its parameters before it calls the controller,
 * so a bad request changes nothing; it answers through the nr_rpc_call_*
 * functions of rpc_server.h, at once or from the controller's callback. */
#ifndef NR_IPC_RPC_METHODS_H
#define NR_IPC_RPC_METHODS_H

#include <stdbool.h>

#include <msgpack.h>

#include "ipc/rpc_server.h"
#include "util/err.h"

struct nr_rpc_method {
	const char *name;
	bool mutates; /* refused with -EPERM for read-only peers */
	/* Returns 0 when the call was (or will be) answered, or a negative
	 * errno with err filled: the server then answers with that error. */
	int (*fn)(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		  struct nr_err *err);
};

/* NULL for an unknown method. */
const struct nr_rpc_method *nr_rpc_method_find(const char *name);

/* The event notification payload {seq, type, node, object, message}. */
void nr_rpc_pack_event(msgpack_packer *pk, const struct nr_event *ev, uint64_t seq);

#endif
