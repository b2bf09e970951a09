/* The MessagePack-RPC transport: a listening Unix socket on the caller's
 * loop, many clients, pipelined requests, notification fan-out
 * (docs/PROTOCOL.md). It knows nothing of the controller: it is handed a
 * method lookup and an opaque `data` pointer that handlers get back.
 *
 * Limits, all per connection and counted in real memory (buffer capacity):
 * - a client whose answers pile up unread has its reading paused
 *   (backpressure: its own further requests wait in the kernel), and is
 *   disconnected once its unread answers or notifications would pass
 *   max_queue;
 * - a message that has started but is not complete after client_timeout_ms
 *   is a disconnect, and so is a read-only peer that has sent nothing for
 *   that long without being an event subscriber (slots are scarce);
 * - read-only peers together get at most max_clients - reserve slots, and
 *   one uid at most half of that, so root (or the daemon's group) can
 *   always connect.
 * A refused or dropped client is told why by a `disconnect` notification
 * before the socket closes. */
#ifndef NR_IPC_RPC_SERVER_H
#define NR_IPC_RPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>
#include <uv.h>

#include "util/err.h"

struct nr_rpc_server;
struct nr_rpc_call;

enum nr_rpc_log_level { NR_RPC_LOG_ERROR, NR_RPC_LOG_WARN, NR_RPC_LOG_INFO, NR_RPC_LOG_DEBUG };

/* One method of the table the transport is handed. */
struct nr_rpc_method {
	const char *name;
	bool mutates; /* refused with -EPERM for read-only peers */
	/* Returns 0 when the call was (or will be) answered, or a negative
	 * errno with err filled: the server then answers with that error. */
	int (*fn)(struct nr_rpc_call *call, const msgpack_object *params, msgpack_zone *zone,
		  struct nr_err *err);
};

struct nr_rpc_server_opts {
	const char *path;         /* socket path; its directory is created (0755) */
	unsigned int mode;        /* socket file mode, 0 = 0660 */
	bool has_group;           /* members of `group` may mutate, and own the socket */
	gid_t group;
	/* The method table: name -> method, NULL for unknown names. */
	const struct nr_rpc_method *(*find_method)(const char *name);
	void *data;               /* handed to methods: nr_rpc_call_data() */
	size_t max_clients;       /* 0 = 128 */
	size_t reserve;           /* slots only privileged peers may use, 0 = max_clients/8 (>= 1) */
	size_t max_msg;           /* 0 = NR_RPC_SERVER_MAX_MSG */
	size_t max_queue;         /* unread answer/notification bytes per client, 0 = 8 MiB */
	size_t max_inflight;      /* requests in progress per client, 0 = 1024 */
	uint64_t client_timeout_ms; /* partial message / idle read-only peer, 0 = 30 s */
	void (*log)(enum nr_rpc_log_level level, const char *msg, void *data);
	void *log_data;
};

/* Listen on opts->path. A stale socket file (nobody accepting) is replaced;
 * a live one is -EADDRINUSE. */
int nr_rpc_server_new(uv_loop_t *loop, const struct nr_rpc_server_opts *opts,
		      struct nr_rpc_server **ret, struct nr_err *err);

/* Send the notification [2, method, [payload]] to every subscriber; pack
 * packs exactly one payload object (seq counts broadcasts from 1). Drops
 * subscribers that cannot keep up. */
void nr_rpc_server_broadcast(struct nr_rpc_server *srv, const char *method,
			     void (*pack)(msgpack_packer *pk, const void *arg, uint64_t seq),
			     const void *arg);

/* Stop listening, remove the socket file, disconnect every client. Requests
 * still running finish into the void; the server's memory is freed once
 * they have all completed and every handle has closed; cb (may be NULL)
 * runs then. */
void nr_rpc_server_close(struct nr_rpc_server *srv, void (*cb)(void *data), void *data);

/* Counters for status/tests. */
size_t nr_rpc_server_clients(const struct nr_rpc_server *srv);

/* ---- for method handlers: answering one request -------------------------- */

void *nr_rpc_call_data(const struct nr_rpc_call *call);
/* Start the successful response; the caller packs exactly one result object
 * with the returned packer, then calls nr_rpc_call_end() (no other call may
 * be answered in between). */
msgpack_packer *nr_rpc_call_begin(struct nr_rpc_call *call);
void nr_rpc_call_end(struct nr_rpc_call *call);
/* Answer with an error object instead (also after begin). Frees the call. */
void nr_rpc_call_fail(struct nr_rpc_call *call, int code, const char *message);
/* Mark the caller's connection as an event subscriber. */
void nr_rpc_call_subscribe(struct nr_rpc_call *call);

/* A call that belongs to no connection: its one answer (the whole encoded
 * response message) is handed to sink, then the call is freed. For driving
 * method handlers without a socket (tests/fuzz/fuzz_rpc_methods.c). */
struct nr_rpc_call *nr_rpc_call_detached(void *data, uint32_t msgid,
					 void (*sink)(void *arg, const char *buf, size_t len),
					 void *arg);

#endif
