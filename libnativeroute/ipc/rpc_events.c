/* Controller events as RPC notifications: the glue between the transport's
 * broadcast (which knows no controller) and the method layer's encoding. */
#include "ipc/rpc_methods.h"

static void pack_event(msgpack_packer *pk, const void *arg, uint64_t seq)
{
	nr_rpc_pack_event(pk, arg, seq);
}

void nr_rpc_server_event(struct nr_rpc_server *srv, const struct nr_event *ev)
{
	nr_rpc_server_broadcast(srv, "event", pack_event, ev);
}
