/* What the parts of the etcd store share:
 *   etcd_store.c  options, life cycle, health/status, the controller hooks
 *   etcd_join.c   the join sequence: config check, leases, CIDR claim,
 *                 registration; keepalives; retry with back-off
 *   etcd_nodes.c  list + watch of the nodes, fed into the controller
 *   etcd_refused.c remote nodes this controller refused: remembered per
 *                 key revision, retried on triggers and a back-off
 *   etcd_purge.c  nr_ctl_purge: delete our node key and our CIDR claims */
#ifndef NR_STORE_ETCD_INTERNAL_H
#define NR_STORE_ETCD_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "ctl/ctl_internal.h"
#include "store/etcd.h"
#include "store/etcd_codec.h"
#include "store/etcd_http.h"

#define NR_ETCD_DEFAULT_PREFIX "/nativeroute/v1"
#define NR_ETCD_DEFAULT_CLUSTER "default"
#define NR_ETCD_DEFAULT_TTL 15
#define NR_ETCD_MIN_GRACE 300
#define NR_ETCD_BACKOFF_MIN_MS 200
#define NR_ETCD_BACKOFF_MAX_MS 5000
/* Claim attempts before giving up for this round (each conflict is another
 * host winning a block: with N hosts racing at most N-1 in a row). */
#define NR_ETCD_CLAIM_TRIES 64

enum nr_etcd_phase {
	NR_ETCD_IDLE,      /* not started, or waiting to retry */
	NR_ETCD_CONFIG,    /* create-or-compare the cluster config */
	NR_ETCD_LEASES,    /* grant node and CIDR leases */
	NR_ETCD_CLAIM,     /* claim the local CIDR(s) */
	NR_ETCD_REGISTER,  /* put nodes/<self> under the node lease */
	NR_ETCD_LIST,      /* list nodes, reconcile the model with the list */
	NR_ETCD_WATCH,     /* watching: the steady state */
	NR_ETCD_REFUSED,   /* the cluster config differs: we stay out */
	NR_ETCD_PURGE,     /* nr_ctl_purge: deleting our keys, then nothing */
};

struct nr_etcd_refusal;

struct nr_etcd {
	struct nr_ctl *ctl;
	uv_loop_t *loop;
	struct nr_etcd_http *http;
	char *node_key, *nodes_prefix, *ipam_prefix, *config_key;
	char *name;                    /* this node */
	unsigned int ttl_s, grace_s;

	enum nr_etcd_phase phase;
	struct nr_etcd_req *req;       /* the join sequence's request in flight */
	struct nr_etcd_req *watch;
	struct nr_etcd_req *ka;        /* keepalive in flight */
	uv_timer_t retry_timer, ka_timer, refusal_timer;
	int open_handles;
	unsigned int backoff_ms;
	bool started, closing;
	void (*close_done)(void *);
	void *close_data;

	int64_t node_lease, cidr_lease; /* 0 = none (yet, or lost) */
	bool ka_cidr;                  /* the keepalive in flight is the CIDR lease's */
	bool cidr_confirmed;           /* the local CIDRs are ours in etcd */
	uint8_t claim_family;          /* AF_INET, then AF_INET6 */
	unsigned int claim_tries;
	struct nr_prefix claim_want;   /* the block being claimed */
	struct nr_prefix claimed4, claimed6;
	struct nr_prefix excluded[NR_ETCD_CLAIM_TRIES]; /* lost races this round */
	unsigned int n_excluded;

	int64_t revision;              /* last revision seen */
	int64_t watch_from;            /* next revision the watch needs */
	bool watch_created;            /* the current watch stream got going */
	char watch_ep[256];            /* the member it is on */
	size_t remote_nodes;           /* in etcd at the last list/event */
	bool feeding;                  /* our own node calls into the controller */

	/* this node's registration: the value put last, and one in flight */
	char *registered, *registering;
	int64_t foreign_rev;           /* our key holds another host's value (0 = no) */
	char foreign[NR_ERR_MSG_MAX];

	/* remote nodes refused (etcd_refused.c) */
	struct nr_etcd_refusal *refusals;
	size_t n_refused;
	unsigned int refusal_backoff_ms;
	bool refusal_retrying;

	/* purge (etcd_purge.c) */
	void (*purge_cb)(struct nr_ctl *ctl, int status, const char *msg);
	struct nr_etcd_kvs purge_kvs;  /* our keys left to delete */
	size_t purge_at;
	unsigned int purge_tries;
	size_t purge_deleted;

	/* health, for nr_ctl_status */
	bool healthy, ka_ok;
	int64_t unhealthy_since;       /* unix seconds */
	char why[NR_ERR_MSG_MAX];      /* the last failure */
	char refused[NR_ERR_MSG_MAX];  /* config difference (phase REFUSED) */
};

/* etcd_store.c */
void nr_etcd_set_healthy(struct nr_etcd *e);
void nr_etcd_set_unhealthy(struct nr_etcd *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* POST in the join sequence (e->req); errors go to nr_etcd_fail. */
bool nr_etcd_post(struct nr_etcd *e, const char *path, char *body, nr_etcd_http_cb cb);
/* A unary answer's common checks: transport status, gRPC error. Fills err
 * and returns < 0 when the answer is not a success. */
int nr_etcd_answer(int status, long http_code, const char *body, size_t len, const char *msg,
		   const char *what, struct nr_err *err);

/* etcd_join.c */
void nr_etcd_join(struct nr_etcd *e);
/* Something failed: drop requests and the watch, retry the join after the
 * back-off. */
void nr_etcd_fail(struct nr_etcd *e, const struct nr_err *err);
void nr_etcd_keepalive_start(struct nr_etcd *e);
/* This node's value changed since it was registered (its IP was updated):
 * put it again (from the keepalive tick, in the steady state). */
void nr_etcd_reregister(struct nr_etcd *e);

/* etcd_nodes.c */
void nr_etcd_list_nodes(struct nr_etcd *e);
void nr_etcd_watch_start(struct nr_etcd *e);
/* The watch's member failed a request: move the watch (from the loop). */
void nr_etcd_watch_check(struct nr_etcd *e);
/* The node value of this node, as registered. */
char *nr_etcd_self_value(struct nr_etcd *e);
/* Our own key as etcd has it (watch, list): another host's value there
 * (two hosts with one name) is reported once per version. */
void nr_etcd_self_seen(struct nr_etcd *e, const struct nr_etcd_kv *kv);
/* Add or update a remote node from its key's value (watch, list, retry). */
void nr_etcd_node_apply(struct nr_etcd *e, const char *name, const struct nr_etcd_kv *kv);

/* etcd_refused.c */
/* This version of the node's key was refused already (and no retry runs). */
bool nr_etcd_refused_same(struct nr_etcd *e, const char *name, int64_t mod_rev);
void nr_etcd_refused_note(struct nr_etcd *e, const char *name, const char *key,
			  const char *value, size_t value_len, int64_t mod_rev, const char *why);
/* Accepted (upto_rev: a version at least as new as the refused one; 0 =
 * any) or deleted from etcd. */
void nr_etcd_refused_clear(struct nr_etcd *e, const char *name, int64_t upto_rev, bool accepted);
void nr_etcd_refused_forget_all(struct nr_etcd *e);
/* Something that may change an answer: try the refused nodes again soon. */
void nr_etcd_refused_retry_soon(struct nr_etcd *e);
/* How many are refused; the first one's name and reason (for the status). */
size_t nr_etcd_refused_first(const struct nr_etcd *e, const char **name, const char **why);
const char *nr_etcd_refused_name(const struct nr_etcd *e, size_t i);

#endif
