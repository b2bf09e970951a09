/* The RPC methods of DESIGN.md §6, each mapped onto nr_ctl_* calls: the
 * method table the daemon hands to the transport (rpc_server.h), whose
 * `data` is the struct nr_ctl.
 *
 * A handler validates ALL of its parameters before it calls the controller,
 * so a bad request changes nothing; it answers through the nr_rpc_call_*
 * functions of rpc_server.h, at once or from the controller's callback. */
#ifndef NR_IPC_RPC_METHODS_H
#define NR_IPC_RPC_METHODS_H

#include <stdbool.h>

#include <msgpack.h>

#include <nativeroute/controller.h>

#include "ipc/rpc_server.h"
#include "util/err.h"

/* NULL for an unknown method. */
const struct nr_rpc_method *nr_rpc_method_find(const char *name);

/* The controller the server was given as its data. */
static inline struct nr_ctl *nr_rpc_call_ctl(const struct nr_rpc_call *call)
{
	return (struct nr_ctl *)nr_rpc_call_data(call);
}

/* The event notification payload {seq, type, node, object, message}. */
void nr_rpc_pack_event(msgpack_packer *pk, const struct nr_event *ev, uint64_t seq);

/* Send a controller event to every subscriber as [2, "event", [payload]]
 * (rpc_events.c); call it from the controller's event_cb. */
void nr_rpc_server_event(struct nr_rpc_server *srv, const struct nr_event *ev);

#endif
