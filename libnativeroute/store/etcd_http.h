/* HTTP to etcd's JSON gateway on the caller's libuv loop: libcurl's multi
 * interface driven by curl_multi_socket_action from a uv_poll_t per socket
 * and one uv_timer_t (the pattern of curl's multi-uv example), so no call
 * ever blocks the loop. Several endpoints with fail-over (each member's
 * gateway serves only that member), per-request timeouts, optional
 * user/password token auth (re-authenticated on 401) and TLS files.
 *
 * Callbacks run from the loop, never from inside a call of this file. */
#ifndef NR_STORE_ETCD_HTTP_H
#define NR_STORE_ETCD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "util/err.h"

struct nr_etcd_http;
struct nr_etcd_req;

struct nr_etcd_http_opts {
	const char *const *endpoints;   /* "http://127.0.0.1:2379", ...; at least one */
	const char *ca_file, *cert_file, *key_file;  /* TLS; NULL = system CAs, no client cert */
	const char *username, *password;
	unsigned int timeout_ms;        /* per unary request; 0 = 10000 */
	unsigned int connect_timeout_ms;  /* 0 = 2000 */
};

/* Unary answer: status 0 and the HTTP code + body, or status < 0 (every
 * endpoint failed at the transport level, or timed out) with msg. A gRPC
 * error in the body is the caller's to read (nr_etcd_parse_error). */
typedef void (*nr_etcd_http_cb)(void *data, int status, long http_code, const char *body,
				size_t len, const char *msg);
/* Streaming: one complete line of the body (without the newline). Return
 * non-zero to stop the stream (then end_cb is not called). */
typedef int (*nr_etcd_line_cb)(void *data, const char *line, size_t len);

int nr_etcd_http_new(uv_loop_t *loop, const struct nr_etcd_http_opts *opts,
		     struct nr_etcd_http **ret, struct nr_err *err);
/* Drops every request without calling back and frees once the handles are
 * closed; close_cb (may be NULL) runs then. */
void nr_etcd_http_close(struct nr_etcd_http *h, void (*close_cb)(void *data), void *data);

/* POST body to path ("/v3/kv/range") on the current endpoint; transport
 * failures and 503/500 "unavailable"-type answers move to the next
 * endpoint, each tried once. Returns the request (for cancel) or NULL with
 * err set (then cb never runs). */
struct nr_etcd_req *nr_etcd_http_post(struct nr_etcd_http *h, const char *path, const char *body,
				      nr_etcd_http_cb cb, void *data, struct nr_err *err);
/* The same with its own timeout per endpoint tried (0 = the client's): a
 * lease keepalive must not wait on a hung member longer than the lease has. */
struct nr_etcd_req *nr_etcd_http_post_timeout(struct nr_etcd_http *h, const char *path,
					      const char *body, unsigned int timeout_ms,
					      nr_etcd_http_cb cb, void *data, struct nr_err *err);
/* A long-lived POST whose body arrives in lines (watch). No total timeout;
 * TCP keepalive finds a dead peer. end_cb runs once when it ends (as cb of
 * a unary request, body = whatever was not a complete line). */
struct nr_etcd_req *nr_etcd_http_stream(struct nr_etcd_http *h, const char *path,
					const char *body, nr_etcd_line_cb line_cb,
					nr_etcd_http_cb end_cb, void *data, struct nr_err *err);
/* Abort a request; its callbacks never run. */
void nr_etcd_req_cancel(struct nr_etcd_req *r);

/* The endpoint a request is on (its current try). */
const char *nr_etcd_req_endpoint(const struct nr_etcd_req *r);
/* Whether that endpoint's last answer was a failure (possibly to another
 * request): a watch on it may be stuck on a hung member. */
bool nr_etcd_req_endpoint_failed(const struct nr_etcd_req *r);

/* A member failed (transport error, timeout, 502/503/504) or answered
 * again after failing. Runs inside the client: it must not cancel
 * requests nor close the client (defer such work to the loop). */
typedef void (*nr_etcd_ep_cb)(void *data, const char *url, bool failed, const char *why);
void nr_etcd_http_on_endpoint(struct nr_etcd_http *h, nr_etcd_ep_cb cb, void *data);
/* Iterate over the failed members: start with *i = 0; true and the
 * member's URL, last failure and the unix time it started failing. */
bool nr_etcd_http_failed(const struct nr_etcd_http *h, size_t *i, const char **url,
			 const char **why, int64_t *since);
/* Ask each failed member, alone, whether it answers again (one probe in
 * flight per member, timeout_ms each); an answer clears its failure. */
void nr_etcd_http_probe(struct nr_etcd_http *h, unsigned int timeout_ms);

/* The endpoint requests go to now (after fail-over). */
const char *nr_etcd_http_endpoint(const struct nr_etcd_http *h);
/* Move to the next endpoint (the caller saw the member misbehave). */
void nr_etcd_http_rotate(struct nr_etcd_http *h);

#endif
