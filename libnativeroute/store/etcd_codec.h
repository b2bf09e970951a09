/* The JSON of etcd v3's gRPC gateway, both ways, and the values we keep in
 * etcd. Pure: no I/O, no libuv, no curl; every function is unit-tested in
 * tests/unit/test_etcd_codec.c.
 *
 * What the gateway does that a naive client gets wrong (checked against
 * etcd 3.4, see docs/etcd.md): keys and values are base64; int64 fields come
 * back as JSON strings ("revision":"42"); fields at their default value are
 * omitted (a failed txn has no "succeeded", an empty range no "kvs", a PUT
 * watch event no "type"); streamed answers are one object per line, wrapped
 * in {"result": ...}. */
#ifndef NR_STORE_ETCD_CODEC_H
#define NR_STORE_ETCD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/err.h"

#define NR_ETCD_CIDR_LEN (NR_ADDR_STRLEN + 4)

/* ---- base64 (RFC 4648, with padding) ---------------------------------- */

/* Returns a NUL-terminated string to free(), or NULL (ENOMEM). */
char *nr_b64_encode(const void *data, size_t len);
/* Decodes into a NUL-terminated buffer to free() (*len excludes the NUL).
 * Errors: -EINVAL (not base64), -ENOMEM. */
int nr_b64_decode(const char *text, size_t text_len, char **out, size_t *len);

/* The range_end that selects every key starting with prefix: the prefix
 * with its last byte incremented (trailing 0xff bytes dropped). Returns a
 * string to free(), or NULL. For prefix "" it is "\0" (all keys), which we
 * never use. */
char *nr_etcd_prefix_end(const char *prefix);

/* ---- requests: JSON bodies (strings to free(), NULL = ENOMEM) --------- */

/* kv/range of one key, or (prefix) of every key under it. */
char *nr_etcd_req_range(const char *key, bool prefix);
/* kv/put, with lease (0 = none). */
char *nr_etcd_req_put(const char *key, const char *value, int64_t lease);
/* kv/txn: put key=value (with lease) only if the key does not exist
 * (create_revision == 0); otherwise read it back. */
char *nr_etcd_req_create(const char *key, const char *value, int64_t lease);
/* kv/txn: put key=value (with lease) only if its mod_revision is still
 * mod_rev; otherwise read it back. */
char *nr_etcd_req_swap(const char *key, const char *value, int64_t lease, int64_t mod_rev);
/* kv/deleterange of one key, only if its mod_revision is mod_rev (txn). */
char *nr_etcd_req_delete_if(const char *key, int64_t mod_rev);
char *nr_etcd_req_lease_grant(int64_t ttl_s);
/* lease/keepalive and lease/revoke */
char *nr_etcd_req_lease_id(int64_t id);
/* watch: every key under prefix from start_rev on (0 = now). */
char *nr_etcd_req_watch(const char *prefix, int64_t start_rev);
char *nr_etcd_req_auth(const char *user, const char *password);

/* ---- answers ----------------------------------------------------------- */

struct nr_etcd_kv {
	char *key;             /* decoded, NUL-terminated */
	char *value;           /* decoded, NUL-terminated ("" for a delete) */
	size_t value_len;
	int64_t create_rev, mod_rev, lease;
};

struct nr_etcd_kvs {
	struct nr_etcd_kv *v;
	size_t n;
	int64_t revision;      /* header.revision of the answer */
};

void nr_etcd_kvs_free(struct nr_etcd_kvs *kvs);

/* An error object {"error","message","code"} (or {"result":...} wrapping
 * one): returns its gRPC code (> 0) and copies the message; 0 when the body
 * is not an error. */
int nr_etcd_parse_error(const char *body, size_t len, char *msg, size_t msglen);

/* kv/range answer. Errors: -EBADMSG naming what is wrong, -ENOMEM. */
int nr_etcd_parse_range(const char *body, size_t len, struct nr_etcd_kvs *out,
			struct nr_err *err);
/* kv/txn answer of nr_etcd_req_create/_swap/_delete_if: whether it
 * succeeded and, when not, the key's current kv (n = 0: it does not exist). */
int nr_etcd_parse_txn(const char *body, size_t len, bool *succeeded, struct nr_etcd_kvs *cur,
		      struct nr_err *err);
/* lease/grant: the lease id and granted TTL. */
int nr_etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl,
			struct nr_err *err);
/* lease/keepalive: the remaining TTL; 0 means the lease is gone (etcd
 * answers 200 without a TTL for an expired lease). */
int nr_etcd_parse_keepalive(const char *body, size_t len, int64_t *ttl, struct nr_err *err);
/* auth/authenticate: the token (to free()). */
int nr_etcd_parse_auth(const char *body, size_t len, char **token, struct nr_err *err);

/* One line of a watch stream. */
struct nr_etcd_event {
	bool deleted;
	struct nr_etcd_kv kv;
};

struct nr_etcd_watch_msg {
	bool created;
	bool canceled;
	int64_t compact_revision;  /* canceled because start_rev was compacted */
	int64_t revision;          /* header.revision */
	char cancel_reason[128];
	struct nr_etcd_event *events;
	size_t n_events;
	int error_code;            /* an error object instead of a result */
};

int nr_etcd_parse_watch(const char *line, size_t len, struct nr_etcd_watch_msg *out,
			struct nr_err *err);
void nr_etcd_watch_msg_free(struct nr_etcd_watch_msg *m);

/* ---- our values ---------------------------------------------------------- */

/* nodes/<name>: what peers need to route to the node. */
struct nr_etcd_node {
	char name[256];
	char ipv4[NR_ADDR_STRLEN], ipv6[NR_ADDR_STRLEN];    /* "" = none */
	char cidr4[NR_ETCD_CIDR_LEN], cidr6[NR_ETCD_CIDR_LEN];
};

char *nr_etcd_node_encode(const struct nr_etcd_node *n);
/* Errors: -EBADMSG naming the fault (the caller names the key). */
int nr_etcd_node_decode(const char *value, size_t len, struct nr_etcd_node *n, struct nr_err *err);

/* ipam/<family>/<cidr>: who holds the block. */
char *nr_etcd_owner_encode(const char *owner);
int nr_etcd_owner_decode(const char *value, size_t len, char *owner, size_t owner_len,
			 struct nr_err *err);

/* config: what every member of the cluster must agree on. */
struct nr_etcd_config {
	char ipam[16];                    /* "cluster-pool" / "kubernetes" */
	char mode[16];                    /* "native" / "tunnel" / "hybrid" */
	char cidrs[8][NR_ETCD_CIDR_LEN];  /* cluster CIDRs, in order */
	unsigned int n_cidrs;
	unsigned int mask4, mask6;
};

char *nr_etcd_config_encode(const struct nr_etcd_config *c);
int nr_etcd_config_decode(const char *value, size_t len, struct nr_etcd_config *c,
			  struct nr_err *err);
/* 0 when equal; else -EINVAL with the first difference named, "ours" vs the
 * cluster's ("cluster CIDRs: 10.1.0.0/16 here, 10.0.0.0/16 in etcd"). */
int nr_etcd_config_compare(const struct nr_etcd_config *ours, const struct nr_etcd_config *theirs,
			   struct nr_err *err);

/* "10.0.1.0/24" <-> "10.0.1.0-24": a CIDR as the last key component. */
void nr_etcd_cidr_to_key(const char *cidr, char *out, size_t outlen);
void nr_etcd_key_to_cidr(const char *key_part, char *out, size_t outlen);

#endif
