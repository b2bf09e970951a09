/* The client library: talk to a shared controller (nativerouted) over its
 * Unix socket, from the caller's libuv loop, with the same operations and the
 * same conventions as the in-process API of controller.h.
 *
 *     NR_OPTS(nr_client_opts, opts, .socket_path = "/run/nativeroute/nativeroute.sock",
 *             .reconnect_ms = 1000);
 *     struct nr_client *c;
 *     nr_client_new(loop, &opts, &c);
 *     nr_client_connect(c, on_connected, NULL);
 *     ... nr_client_node_add(c, &spec, on_added, NULL); ...
 *     nr_client_close(c, on_closed, NULL);
 *
 * Conventions (libuv's, as in controller.h): the client never runs the loop.
 * A call that returns < 0 (a negative errno) sent nothing and its callback
 * never runs; nr_last_errmsg() says why (-ENOTCONN when not connected). A
 * call that returns 0 runs its callback exactly once, from the loop (never
 * from inside the call), with status 0 or a negative errno:
 *   - the daemon's error (e.g. -ENOSPC) with its message in errmsg;
 *   - -EPERM when this process may only read (not root, not in the
 *     daemon's group) and the call changes state;
 *   - -ECONNRESET when the connection is lost before the answer (a change may
 *     or may not have been applied: read the state again);
 *   - -ETIMEDOUT after opts.timeout_ms without an answer;
 *   - -ECANCELED when the client is closed first.
 * Pointers handed to callbacks are valid during the callback only. Calls may
 * be made from callbacks. Not thread-safe: use a client from its loop's
 * thread. The wire protocol is in docs/PROTOCOL.md. */
#ifndef NATIVEROUTE_CLIENT_H
#define NATIVEROUTE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common.h"
#include "controller.h"

NR_BEGIN_DECLS

#define NR_CLIENT_DEFAULT_SOCKET "/run/nativeroute/nativeroute.sock"

struct nr_client;

/* One node-CIDR allocation of the IPAM. */
struct nr_ipam_allocation {
	size_t sz;
	const char *node;
	const char *cidr;
};

struct nr_ipam_info {
	size_t sz;
	enum nr_ipam_mode mode;
	size_t used;                /* node CIDR blocks allocated */
	size_t total;               /* blocks in the pools */
	const struct nr_ipam_allocation *allocations;
	size_t n_allocations;
};

typedef void (*nr_client_done_cb)(struct nr_client *c, int status, const char *errmsg,
				  void *data);
typedef void (*nr_client_close_cb)(struct nr_client *c, void *data);
/* `connected` false: the connection was lost (status says why); with
 * reconnect_ms the client is already trying again. */
typedef void (*nr_client_state_cb)(struct nr_client *c, bool connected, int status, void *data);
/* An event of the daemon's controller; seq numbers the daemon's events (a gap
 * means events were missed, e.g. while reconnecting). */
typedef void (*nr_client_event_cb)(struct nr_client *c, const struct nr_event *ev, uint64_t seq,
				   void *data);
typedef void (*nr_client_status_cb)(struct nr_client *c, int status, const char *errmsg,
				    const struct nr_status *st, void *data);
/* node is NULL on error (and, after node.add/update, if the node has gone
 * again before the answer was built). */
typedef void (*nr_client_node_cb)(struct nr_client *c, int status, const char *errmsg,
				  const struct nr_node_info *node, void *data);
typedef void (*nr_client_nodes_cb)(struct nr_client *c, int status, const char *errmsg,
				   const struct nr_node_info *nodes, size_t n, void *data);
typedef void (*nr_client_endpoint_cb)(struct nr_client *c, int status, const char *errmsg,
				      const struct nr_endpoint_info *ep, void *data);
typedef void (*nr_client_endpoints_cb)(struct nr_client *c, int status, const char *errmsg,
				       const struct nr_endpoint_info *eps, size_t n, void *data);
typedef void (*nr_client_routes_cb)(struct nr_client *c, int status, const char *errmsg,
				    const struct nr_route_info *routes, size_t n, void *data);
typedef void (*nr_client_mode_cb)(struct nr_client *c, int status, const char *errmsg,
				  enum nr_routing_mode mode, bool auto_direct_node_routes,
				  void *data);
typedef void (*nr_client_ipam_cb)(struct nr_client *c, int status, const char *errmsg,
				  const struct nr_ipam_info *ipam, void *data);

/* Options of nr_client_new(); declare with NR_OPTS(nr_client_opts, name, ...). */
struct nr_client_opts {
	size_t sz;
	const char *socket_path;        /* NULL = NR_CLIENT_DEFAULT_SOCKET; copied */
	unsigned int reconnect_ms;      /* retry interval after a failed connect or a
					 * lost connection; 0 = never retry */
	unsigned int timeout_ms;        /* per call; 0 = wait forever */
	size_t max_msg;                 /* largest answer accepted, 0 = 256 MiB */
	nr_client_event_cb event_cb;    /* events after nr_client_subscribe() */
	void *event_data;
	nr_client_state_cb state_cb;    /* connection lost / re-established */
	void *state_data;
	size_t :0;
};
#define nr_client_opts__last_field state_data

/* Create a client on `loop` (not connected yet). -EINVAL for bad options. */
NR_API int nr_client_new(uv_loop_t *loop, const struct nr_client_opts *opts,
			 struct nr_client **ret);

/* Connect; cb runs once with 0 or the error of the first attempt (-ENOENT no
 * socket, -ECONNREFUSED nobody listening, -EACCES socket mode). With
 * reconnect_ms, failed attempts are retried until closed and state_cb
 * reports success. -EALREADY if connecting or connected. */
NR_API int nr_client_connect(struct nr_client *c, nr_client_done_cb cb, void *data);

/* Close: calls in flight get -ECANCELED, then close_cb (may be NULL) runs and
 * the client is freed. Safe from any callback. -EALREADY if closing. */
NR_API int nr_client_close(struct nr_client *c, nr_client_close_cb close_cb, void *data);

/* True while connected. */
NR_API bool nr_client_connected(const struct nr_client *c);

/* The caller's pointer, libuv's `handle->data`. */
NR_API void nr_client_set_data(struct nr_client *c, void *data);
NR_API void *nr_client_get_data(const struct nr_client *c);

/* ---- the operations of DESIGN.md §6 (method name in brackets) ---------- */

/* [status] st->sz is the library's sizeof(struct nr_status). */
NR_API int nr_client_status(struct nr_client *c, nr_client_status_cb cb, void *data);

/* [node.add], [node.update]: as nr_ctl_node_add/update; the callback gets
 * the node as the daemon now has it (with its allocated pod CIDRs). */
NR_API int nr_client_node_add(struct nr_client *c, const struct nr_node_spec *spec,
			      nr_client_node_cb cb, void *data);
NR_API int nr_client_node_update(struct nr_client *c, const struct nr_node_spec *spec,
				 nr_client_node_cb cb, void *data);
/* [node.remove] */
NR_API int nr_client_node_remove(struct nr_client *c, const char *name, nr_client_done_cb cb,
				 void *data);
/* [node.get] -ENOENT (in the callback) when there is no such node. */
NR_API int nr_client_node_get(struct nr_client *c, const char *name, nr_client_node_cb cb,
			      void *data);
/* [node.list] */
NR_API int nr_client_node_list(struct nr_client *c, nr_client_nodes_cb cb, void *data);
/* [ipam.status] */
NR_API int nr_client_ipam_status(struct nr_client *c, nr_client_ipam_cb cb, void *data);

/* [endpoint.add] as nr_ctl_endpoint_add. */
NR_API int nr_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *spec,
				  nr_client_endpoint_cb cb, void *data);
/* [endpoint.remove] */
NR_API int nr_client_endpoint_remove(struct nr_client *c, const char *id, nr_client_done_cb cb,
				     void *data);
/* [endpoint.list] */
NR_API int nr_client_endpoint_list(struct nr_client *c, nr_client_endpoints_cb cb, void *data);
/* [route.list] */
NR_API int nr_client_route_list(struct nr_client *c, nr_client_routes_cb cb, void *data);

/* [mode.get] */
NR_API int nr_client_mode_get(struct nr_client *c, nr_client_mode_cb cb, void *data);
/* [mode.set] the callback gets the mode now in force. */
NR_API int nr_client_mode_set(struct nr_client *c, enum nr_routing_mode mode,
			      nr_client_mode_cb cb, void *data);
/* [mode.set] with the direct-routing switches (struct nr_mode_opts of
 * controller.h: mode 0 and NR_SWITCH_KEEP leave a setting as it is; at
 * least one change). The daemon checks the combination as a whole. opts is
 * read during the call only. */
NR_API int nr_client_mode_set_opts(struct nr_client *c, const struct nr_mode_opts *opts,
				   nr_client_mode_cb cb, void *data);

/* [events.subscribe] From the answer on, every event of the daemon goes to
 * opts.event_cb, in order. After a reconnect the client subscribes again by
 * itself. -EINVAL if the client has no event_cb. */
NR_API int nr_client_subscribe(struct nr_client *c, nr_client_done_cb cb, void *data);

NR_END_DECLS

#endif
