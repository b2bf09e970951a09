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
 * never runs; nr_last_errmsg() says why (-ENOTCONN when not connected,
 * -EINVAL for a NULL client, callback or required argument, -ECANCELED
 * while closing). A call that returns 0 runs its callback exactly once, from
 * the loop (never from inside the call), with status 0 or a negative errno:
 *   - the daemon's error (e.g. -ENOSPC) with its message in errmsg;
 *   - -EPERM when this process may only read (not root, not in the
 *     daemon's group) and the call changes state;
 *   - -ECONNRESET when the connection is lost before the answer (a change may
 *     or may not have been applied: read the state again);
 *   - -EPROTO when the answer cannot be read (a daemon of another protocol);
 *   - -ETIMEDOUT after opts.timeout_ms without an answer;
 *   - -ECANCELED when the client is closed first.
 * errmsg is NULL on success and never NULL on error.
 * Ownership: arguments (specs, names, opts) are read during the call only;
 * pointers handed to callbacks are valid during the callback only (copy what
 * you keep). Any call, nr_client_close() included, may be made from any
 * callback. Not thread-safe: use a client from its loop's thread only. The
 * wire protocol is in docs/PROTOCOL.md. */
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

/* One node-CIDR allocation of the IPAM (library-filled; sz as in
 * nr_endpoint_info). Reach them with nr_ipam_allocation_at(). */
struct nr_ipam_allocation {
	size_t sz;
	const char *node;
	const char *cidr;
};

/* The IPAM's state (library-filled; sz as in nr_endpoint_info). */
struct nr_ipam_info {
	size_t sz;
	enum nr_ipam_mode mode;
	size_t used;                /* node CIDR blocks allocated */
	size_t total;               /* blocks in the pools */
	/* Deprecated, kept for programs built against 1.0: an array whose items
	 * always have the layout of struct nr_ipam_allocation in 1.0 (an array
	 * cannot grow). Use nr_ipam_allocation_at(), which can. */
	const struct nr_ipam_allocation *allocations;
	size_t n_allocations;       /* allocations; index limit of nr_ipam_allocation_at */
};

/* The i-th allocation (0 <= i < info->n_allocations, ordered by node name)
 * of an nr_ipam_info that an nr_client_ipam_cb received (not a copy of it);
 * NULL when i is out of range. Valid as long as info. */
NR_API const struct nr_ipam_allocation *nr_ipam_allocation_at(const struct nr_ipam_info *info,
							      size_t i);

/* Completion of a call whose answer is only "done" (and of the list walks). */
typedef void (*nr_client_done_cb)(struct nr_client *c, int status, const char *errmsg,
				  void *data);
/* The client is gone: it is freed when this returns. */
typedef void (*nr_client_close_cb)(struct nr_client *c, void *data);
/* `connected` false: the connection was lost (status says why); with
 * reconnect_ms the client is already trying again. */
typedef void (*nr_client_state_cb)(struct nr_client *c, bool connected, int status, void *data);
/* An event of the daemon's controller; seq numbers the daemon's events (a gap
 * means events were missed, e.g. while reconnecting). Event types newer than
 * this library are not delivered. */
typedef void (*nr_client_event_cb)(struct nr_client *c, const struct nr_event *ev, uint64_t seq,
				   void *data);
typedef void (*nr_client_status_cb)(struct nr_client *c, int status, const char *errmsg,
				    const struct nr_status *st, void *data);
/* node is NULL on error (and, after node.add/update, if the node has gone
 * again before the answer was built). */
typedef void (*nr_client_node_cb)(struct nr_client *c, int status, const char *errmsg,
				  const struct nr_node_info *node, void *data);
/* Deprecated array forms (1.0) of the list answers: `nodes[i]` indexes items
 * of the 1.0 layout, so these cannot carry fields added later. Use the
 * nr_client_*_foreach calls, whose items can grow. */
typedef void (*nr_client_nodes_cb)(struct nr_client *c, int status, const char *errmsg,
				   const struct nr_node_info *nodes, size_t n, void *data);
typedef void (*nr_client_endpoint_cb)(struct nr_client *c, int status, const char *errmsg,
				      const struct nr_endpoint_info *ep, void *data);
typedef void (*nr_client_endpoints_cb)(struct nr_client *c, int status, const char *errmsg,
				       const struct nr_endpoint_info *eps, size_t n, void *data);
typedef void (*nr_client_routes_cb)(struct nr_client *c, int status, const char *errmsg,
				    const struct nr_route_info *routes, size_t n, void *data);
/* The mode in force and its main switch (every setting, including
 * direct_routing_skip_unreachable, is in nr_status: nr_client_status). */
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

/* Create a client on `loop` (not connected yet; nothing is sent until
 * nr_client_connect). -EINVAL for bad options (a socket path longer than 107
 * bytes, an unknown opts field). The client owns two timers on the loop
 * until nr_client_close's close_cb. */
NR_API int nr_client_new(uv_loop_t *loop, const struct nr_client_opts *opts,
			 struct nr_client **ret);

/* Connect; cb (may be NULL) runs once with 0 or the error of the first
 * attempt (-ENOENT no socket, -ECONNREFUSED nobody listening, -EACCES socket mode). With
 * reconnect_ms, failed attempts are retried until closed and state_cb
 * reports success. -EALREADY if connecting or connected. */
NR_API int nr_client_connect(struct nr_client *c, nr_client_done_cb cb, void *data);

/* Close: calls in flight (and a pending connect) get -ECANCELED, then
 * close_cb (may be NULL) runs and the client is freed; all of it from the
 * loop, never from inside this call. Do not use the client after this
 * returns 0. Safe from any callback. -EALREADY if closing. */
NR_API int nr_client_close(struct nr_client *c, nr_client_close_cb close_cb, void *data);

/* True while connected (false for NULL). */
NR_API bool nr_client_connected(const struct nr_client *c);

/* The caller's pointer, libuv's `handle->data`: stored, never read by the
 * library. NULL client: set does nothing, get returns NULL. */
NR_API void nr_client_set_data(struct nr_client *c, void *data);
NR_API void *nr_client_get_data(const struct nr_client *c);

/* ---- the operations of DESIGN.md §6 (method name in brackets) ---------- */

/* [status] st->sz is the library's sizeof(struct nr_status): a program built
 * against newer headers checks it before reading newer fields. */
NR_API int nr_client_status(struct nr_client *c, nr_client_status_cb cb, void *data);

/* [node.add], [node.update]: as nr_ctl_node_add/update (spec->name is
 * required, -EINVAL here without it); the callback gets the node as the
 * daemon now has it (with its allocated pod CIDRs). */
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
/* [node.list] Deprecated array form (see nr_client_nodes_cb). */
NR_API int nr_client_node_list(struct nr_client *c, nr_client_nodes_cb cb, void *data);

/* [node.list], [endpoint.list], [route.list] item by item, the form that
 * can grow: when the answer arrives, fn runs once per item in order (all
 * from the loop), then done runs exactly once: status 0 after the last item;
 * fn's non-zero return stops the walk and becomes done's status; on an
 * error fn never runs and done gets it. fn may make any call, including
 * nr_client_close (the walk then stops and done gets -ECANCELED). Items are
 * valid during fn only. Returns < 0 as any call (neither fn nor done runs). */
NR_API int nr_client_node_foreach(struct nr_client *c, nr_node_fn fn, nr_client_done_cb done,
				  void *data);
NR_API int nr_client_endpoint_foreach(struct nr_client *c, nr_endpoint_fn fn,
				      nr_client_done_cb done, void *data);
NR_API int nr_client_route_foreach(struct nr_client *c, nr_route_fn fn, nr_client_done_cb done,
				   void *data);
/* [ipam.status] allocations: see nr_ipam_allocation_at. */
NR_API int nr_client_ipam_status(struct nr_client *c, nr_client_ipam_cb cb, void *data);

/* [endpoint.add] as nr_ctl_endpoint_add. */
NR_API int nr_client_endpoint_add(struct nr_client *c, const struct nr_endpoint_spec *spec,
				  nr_client_endpoint_cb cb, void *data);
/* [endpoint.remove] -ENOENT (in the callback) when there is no such endpoint. */
NR_API int nr_client_endpoint_remove(struct nr_client *c, const char *id, nr_client_done_cb cb,
				     void *data);
/* [endpoint.get] (since 1.2) One endpoint by its id: -ENOENT (in the
 * callback) when there is none; -EINVAL here for a NULL or empty id. A
 * daemon older than 1.2 answers -ENOSYS (unknown method). */
NR_API int nr_client_endpoint_get(struct nr_client *c, const char *id, nr_client_endpoint_cb cb,
				  void *data);
/* [endpoint.list] Deprecated array form: use nr_client_endpoint_foreach. */
NR_API int nr_client_endpoint_list(struct nr_client *c, nr_client_endpoints_cb cb, void *data);
/* [route.list] Deprecated array form: use nr_client_route_foreach. */
NR_API int nr_client_route_list(struct nr_client *c, nr_client_routes_cb cb, void *data);

/* [mode.get] */
NR_API int nr_client_mode_get(struct nr_client *c, nr_client_mode_cb cb, void *data);
/* [mode.set] the callback gets the mode now in force. -EINVAL here for a
 * mode that is not native, tunnel or hybrid. */
NR_API int nr_client_mode_set(struct nr_client *c, enum nr_routing_mode mode,
			      nr_client_mode_cb cb, void *data);
/* [mode.set] with the direct-routing switches (struct nr_mode_opts of
 * controller.h: mode 0 and NR_SWITCH_KEEP leave a setting as it is; at
 * least one change). The daemon checks the combination as a whole. opts is
 * read during the call only. */
NR_API int nr_client_mode_set_opts(struct nr_client *c, const struct nr_mode_opts *opts,
				   nr_client_mode_cb cb, void *data);

/* [events.subscribe] From the answer on, every event of the daemon goes to
 * opts.event_cb, in order, from the loop. After a reconnect the client
 * subscribes again by itself (events in between are missed: see seq).
 * -EINVAL if the client has no event_cb. */
NR_API int nr_client_subscribe(struct nr_client *c, nr_client_done_cb cb, void *data);

NR_END_DECLS

#endif
