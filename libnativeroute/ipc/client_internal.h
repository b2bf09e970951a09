/* What the files of the client library (include/nativeroute/client.h) share:
 *   client.c          the connection, the calls in flight, timeouts, life cycle
 *   client_answers.c  an answer (result or error) into the call's callback
 *   client_ops.c      the operations: pack the parameters, start a call
 * Never installed. */
#ifndef NR_IPC_CLIENT_INTERNAL_H
#define NR_IPC_CLIENT_INTERNAL_H

#include <stdint.h>

#include <msgpack.h>

#include <nativeroute/client.h>

/* Which callback type a call holds, and so how its result is decoded. */
enum call_kind {
	K_DONE, K_STATUS, K_NODE, K_NODES, K_ENDPOINT, K_ENDPOINTS, K_ROUTES, K_MODE, K_IPAM,
	K_SUBSCRIBE, K_RESUBSCRIBE,
	K_NODE_EACH, K_ENDPOINT_EACH, K_ROUTE_EACH, /* item fn, then cb (a done cb) */
};

struct call {
	struct call *prev, *next;
	uint32_t msgid;
	enum call_kind kind;
	void (*cb)(void); /* one of the nr_client_*_cb types, by kind */
	void (*fn)(void); /* the *_EACH kinds: nr_node_fn, nr_endpoint_fn or nr_route_fn */
	void *data;
	uint64_t deadline; /* uv_now() ms, 0 = none */
};

/* Packs a request's single parameter object (NULL: the request has none). */
typedef void (*nr_client_pack_fn)(msgpack_packer *pk, const void *arg);

/* Send `method` and remember the call until its answer. Errors (nothing
 * sent, cb never runs) are negative errno with the last error message set. */
int nr_client_call_start(struct nr_client *c, enum call_kind kind, const char *method,
			 nr_client_pack_fn pack, const void *arg, void (*cb)(void), void *data);
/* The same for a walk: fn per item, then done. */
int nr_client_walk_start(struct nr_client *c, enum call_kind kind, const char *method,
			 void (*fn)(void), nr_client_done_cb done, void *data);

/* True once nr_client_close() was called (a walk stops then). */
bool nr_client_closing(const struct nr_client *c);

/* Run the call's callback with a successful result, decoded for its kind (a
 * result that cannot be read fails the call with -EPROTO), and free it. */
void nr_client_call_complete(struct nr_client *c, struct call *k, const msgpack_object *res,
			     msgpack_zone *zone);

/* Run the call's callback with an error (a plain success for the kinds whose
 * result is only "done") and free it. */
void nr_client_call_fail(struct nr_client *c, struct call *k, int status, const char *msg);

/* Read an "event" notification's payload; false if it is malformed or of a
 * type newer than this library (dropped, not misreported). Strings live in
 * the zone. */
bool nr_client_event_of(msgpack_zone *zone, const msgpack_object *payload, struct nr_event *ev,
			uint64_t *seq);

#endif
