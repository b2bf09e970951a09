/* The MessagePack-RPC server: a listening Unix socket on the controller's
 * loop, many clients, pipelined requests, event fan-out (docs/PROTOCOL.md).
 *
 * Every connection keeps its own read buffer and a count of bytes handed to
 * the kernel but not yet written. A client that stops reading first has its
 * reading paused (backpressure: its own requests wait), and a subscriber
 * whose backlog would pass max_queue is disconnected: one slow reader must
 * never hold memory without bound or slow the controller. */
#ifndef NR_IPC_RPC_SERVER_H
#define NR_IPC_RPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <msgpack.h>
#include <uv.h>

#include <nativeroute/controller.h>

#include "util/err.h"

struct nr_rpc_server;
struct nr_rpc_call;

enum nr_rpc_log_level { NR_RPC_LOG_ERROR, NR_RPC_LOG_WARN, NR_RPC_LOG_INFO, NR_RPC_LOG_DEBUG };

struct nr_rpc_server_opts {
	const char *path;         /* socket path; its directory is created (0755) */
	unsigned int mode;        /* socket file mode, 0 = 0660 */
	bool has_group;           /* members of `group` may mutate, and own the socket */
	gid_t group;
	size_t max_clients;       /* 0 = 128 */
	size_t max_msg;           /* 0 = NR_RPC_SERVER_MAX_MSG */
	size_t max_queue;         /* unsent bytes per client, 0 = 8 MiB */
	size_t max_inflight;      /* requests in progress per client, 0 = 1024 */
	void (*log)(enum nr_rpc_log_level level, const char *msg, void *data);
	void *log_data;
};

/* Listen on opts->path for `ctl`. A stale socket file (nobody accepting) is
 * replaced; a live one is -EADDRINUSE. The server does not own ctl. */
int nr_rpc_server_new(uv_loop_t *loop, struct nr_ctl *ctl, const struct nr_rpc_server_opts *opts,
		      struct nr_rpc_server **ret, struct nr_err *err);

/* Send an event to every subscriber; call it from the controller's
 * event_cb. Drops subscribers that cannot keep up. */
void nr_rpc_server_event(struct nr_rpc_server *srv, const struct nr_event *ev);

/* Stop listening, remove the socket file, disconnect every client. Requests
 * still running in the controller finish into the void; the server's memory
 * is freed once they have all completed (after nr_ctl_close at the latest)
 * and every handle has closed; cb (may be NULL) runs then. */
void nr_rpc_server_close(struct nr_rpc_server *srv, void (*cb)(void *data), void *data);

/* Counters for status/tests. */
size_t nr_rpc_server_clients(const struct nr_rpc_server *srv);

/* ---- for rpc_methods.c: answering one request --------------------------- */

struct nr_ctl *nr_rpc_call_ctl(const struct nr_rpc_call *call);
/* Start the successful response; the caller packs exactly one result object
 * with the returned packer, then calls nr_rpc_call_end(). */
msgpack_packer *nr_rpc_call_begin(struct nr_rpc_call *call);
void nr_rpc_call_end(struct nr_rpc_call *call);
/* Answer with an error object instead. Frees the call. */
void nr_rpc_call_fail(struct nr_rpc_call *call, int code, const char *message);
/* Mark the caller's connection as an event subscriber. */
void nr_rpc_call_subscribe(struct nr_rpc_call *call);

#endif
