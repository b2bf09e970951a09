/* The controller object and what its parts share. The parts, in layers:
 * a file calls only files of its own layer's helpers or of lower layers,
 * never up (scripts/ctl-callgraph checks the object files for cycles).
 * Where a lower part must start something above it, it is handed a
 * function pointer by the part above (ctl->pass, nr_ctl_save_wait, the
 * masquerade watch's callback) or the upper part asks first
 * (nr_ctl_masq_hold before nr_ctl_pending_finish).
 *
 *   6 ctl_life.c       new / start / close, libuv handles
 *     ctl_purge.c      remove everything we own, then the state files
 *   5 ctl_reconcile.c  plan -> diff against the kernel -> one netlink batch
 *     ctl_gather.c     what a full pass reads from the kernel first, in steps
 *     ctl_watch.c      kernel events: drift repair, resync on overflow
 *     ctl_ep_watch.c   endpoints whose host interface went away / came back
 *   4 ctl_node_ops.c, ctl_endpoint_ops.c, ctl_mode_ops.c
 *                      the async mutations: model change now, kernel later
 *     ctl_query.c      status and iterators (read only)
 *   3 ctl_masq.c       masquerading: the nftables table, off the loop (ctl_masq.h);
 *                      holds a pass's requests until its job is done
 *     ctl_node_check.c the checks of a node change that ask the kernel
 *     ctl_host.c       what a local endpoint needs on the host side; VXLAN
 *   2 ctl_pending.c    pending-request bookkeeping, failure attribution
 *     ctl_incremental.c  desired-state upkeep per node/endpoint change
 *     ctl_state.c      the durable state: the model at new, rollback
 *     ctl_load.c       the saved state, loaded on the thread pool
 *     ctl_save.c       saving off the loop; callbacks wait for the fsync'd save
 *     ctl_send.c       a pass's netlink batch sent from the thread pool
 *     ctl_reach.c      reachability of node IPs (RTM_GETROUTE), cached
 *     ctl_nhid.c       our nexthop ids, remapped around foreign ones
 *     ctl_masq_watch.c nftables events about our table
 *     bpf/bpf_ctl.c    the eBPF maps and fast path
 *     ctl_ep_device.c, ctl_lock.c, ctl_names.c, ctl_data.c  leaves
 *     ctl_kernel.c     the real kernel behind the seam every kernel access
 *                      uses (ctl_kernel.h: ctl->k; a fake in the unit tests)
 *   1 ctl_events.c     events: format, hold back repeats, queue (ctl_events.h)
 *     ctl_kick.c       ask for a pass: the kick timer (ctl_kick.h)
 *   0 ctl_deliver.c    completion callbacks and events, run from the loop's
 *                      check phase
 */
#ifndef NR_CTL_INTERNAL_H
#define NR_CTL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "nativeroute/controller.h"

#include "core/kstate.h"
#include "core/model.h"
#include "core/planner.h"
#include "ctl/ctl_kernel.h"
#include "netlink/nl_encode.h"
#include "netlink/nl_socket.h"
#include "store/store.h"
#include "util/err.h"

#define NR_DEFAULT_ROUTE_PROTOCOL 201
#define NR_DEFAULT_ROUTE_TABLE 254 /* RT_TABLE_MAIN */
#define NR_DEFAULT_RESYNC_MS 30000
#define NR_DEFAULT_ENDPOINT_GRACE_MS 30000
#define NR_FAULT_REPEAT_MS 60000
/* Kernel events are coalesced for this long before a repair pass, so a
 * burst (a link flap touches many routes) costs one pass, while a deleted
 * route is still back well within 100 ms. */
#define NR_DRIFT_DEBOUNCE_MS 5
/* Beyond this many touched objects in one loop turn, one full plan is
 * cheaper than per-object upkeep (each costs a sorted insert). */
#define NR_INCREMENTAL_MAX 512

enum nr_op_kind { NR_OP_START, NR_OP_NODE, NR_OP_ENDPOINT, NR_OP_MODE, NR_OP_REMOVE_EP, NR_OP_PURGE,
		  NR_OP_EVENT /* not a request: an event waiting in the delivery queue */ };

/* What an endpoint add changed on the host side at once (ctl_host.c): put
 * back if the request fails after all - its save failed and the model went
 * back - since an error means nothing changed. */
struct nr_ep_host_undo {
	uint32_t ifindex;        /* 0: nothing to undo */
	bool raised;             /* we brought the link up */
	uint8_t n_added;
	struct nr_addr added[2]; /* gateway addresses we put on it */
};

/* A caller's async request waiting for the next reconcile to finish. A
 * node add makes one per call (10,000 in a bulk feed): kept small, with what
 * only endpoint requests need in struct nr_pending_ep, and the fields
 * ordered to leave no padding. */
struct nr_pending {
	struct nr_pending *next;
	nr_ctl_done_cb done_cb;
	nr_ctl_endpoint_cb ep_cb;
	void *data;
	char *id; /* endpoint id (NR_OP_ENDPOINT); node name when check_reach */
	char *msg;  /* its text when status < 0; NULL: nr_strerror(status) */
	char *ev_node, *ev_object;
	/* Run by nr_ctl_pending_run when the request fails: undoes what it
	 * changed outside the model. A pointer, set by the layer that made
	 * the change, since the delivery layer may not call up. */
	void (*on_fail)(struct nr_ctl *ctl, struct nr_pending *p);
	enum nr_op_kind kind;
	int status; /* the outcome, once decided (queued for delivery) */
	enum nr_event_type ev_type; /* NR_OP_EVENT: the event (msg: its text) */
	bool check_reach; /* a node add whose reachability check the pass makes */
	bool id_inline;   /* id points into this allocation (not freed alone) */
};

/* An endpoint request (NR_OP_ENDPOINT, NR_OP_REMOVE_EP): nr_ctl_pending_new
 * allocates this around its struct nr_pending, which comes first, so it is
 * freed like any other (nr_ctl_pending_free). A node request needs none of
 * it: a kernel refusal of a node's route does not fail the request (the
 * node stays, blocked: nr_ctl_pending_finish), so it records no routes. */
struct nr_ep_snapshot { /* what the endpoint callback reports */
	char ifname[16];
	uint32_t ifindex;
	char ipv4[NR_ADDR_STRLEN], ipv6[NR_ADDR_STRLEN];
	char gw4[NR_ADDR_STRLEN], gw6[NR_ADDR_STRLEN];
	uint32_t mtu;
};
struct nr_pending_ep {
	struct nr_pending p;
	/* its routes' destinations (the endpoint IPs), to tell whether a
	 * failed kernel operation was its own */
	struct nr_prefix dst[2];
	struct nr_ep_snapshot ep;
	struct nr_ep_host_undo host_undo; /* NR_OP_ENDPOINT */
};

/* The endpoint part of p, which must be an endpoint request. */
static inline struct nr_pending_ep *nr_pending_ep_of(struct nr_pending *p)
{
	return nr_container_of(p, struct nr_pending_ep, p);
}

/* One kernel operation of a pass that failed, for the request it belongs to. */
struct nr_ctl_failure {
	struct nr_prefix dst; /* route destination, family 0 if not a route */
	uint32_t nh_id;       /* nexthop id, 0 if not a nexthop */
	int code;
	char text[NR_ERR_MSG_MAX];
};

struct nr_ctl_lock;
struct nr_nl_dumper;
struct pass;

/* A link's state at its last event (ctl_watch.c link_state_changed). */
struct nr_link_seen {
	uint32_t ifindex;
	uint32_t flags; /* IFF_UP | IFF_LOWER_UP */
	uint32_t mtu;
};

struct nr_ctl {
	uv_loop_t *loop;
	void *user_data;         /* nr_ctl_set_data(); never read by the library */
	char *netns;
	struct nr_model *model;
	/* the kernel (ctl_kernel.h): every dump, batch, lookup, link/address
	 * change and event read goes through k, on the channels below */
	const struct nr_kernel_ops *k;
	void *k_ctx;
	struct nr_nl *nl;        /* command socket of the passes: dumps, lookups, batches */
	struct nr_nl *query;     /* for calls outside a pass (node/endpoint checks, host
				  * side of endpoints, status): they must not read the
				  * ACKs of a batch in flight on `nl` */
	struct nr_nl *events;    /* event socket */
	struct nr_nl_owner owner;
	struct nr_ctl_lock *owner_lock; /* ctl_lock.h: one controller per netns/table/protocol */
	bool classic_routes;     /* no nexthop objects (asked for, or unsupported) */
	unsigned int resync_ms;

	/* VXLAN (tunnel and hybrid) */
	uint32_t vxlan_vni;
	uint16_t vxlan_port;
	unsigned int vxlan_mtu_opt;
	uint32_t vxlan_ifindex;  /* 0 while there is none */
	uint32_t vxlan_mtu;
	uint32_t vxlan_under_ifindex, vxlan_under_mtu; /* the device under it */
	uint32_t underlay_ifindex; /* the link that carried the node IP last time
				    * (ctl_host.c underlay_link), 0 = unknown */
	bool native_without_tunnel; /* no receive side in native mode (ctl_host.c) */

	/* nexthop ids held by others and what we use instead (ctl_nhid.c) */
	struct nr_nh_remap *nh_remap;
	size_t n_nh_remap;
	uint32_t *nh_taken;
	size_t n_taken;
	bool nh_scanned;
	bool vxlan_warned;          /* the receive side's failure was reported */

	/* host side (ctl_host.c): endpoints whose interface went away, released
	 * after endpoint_grace_ms; host_check: re-verify every endpoint's
	 * interface and gateway address at the next pass */
	struct nr_ctl_gone *gone;
	unsigned int endpoint_grace_ms;
	bool host_check;

	uv_poll_t event_poll;
	uv_timer_t kick_timer;   /* run a reconcile pass soon (coalesces calls) */
	int (*pass)(struct nr_ctl *ctl); /* what it runs: nr_ctl_reconcile (ctl_kick.h) */
	uv_timer_t resync_timer; /* periodic full resync */
	uv_poll_t cmd_poll;      /* `nl` while a batch is in flight */
	uv_timer_t cmd_timer;    /* its timeout */
	uv_idle_t step_idle;     /* the next slice of a pass (ctl_reconcile.c; the
	                          * sort after its dump, ctl_gather.c) */
	struct pass *flight;     /* the pass that runs, NULL when none */
	struct {                 /* a full pass reading the kernel (ctl_gather.c) */
		struct nr_nl_dumper *dumper;
		bool scan;       /* also the nexthop ids others hold */
		void (*done)(struct nr_ctl *ctl, int rc, struct nr_err *err);
		struct nr_err err;
	} gather;
	bool pass_again;         /* a pass was asked for meanwhile */
	uv_idle_t deliver_idle;  /* keeps the poll from blocking while ... */
	uv_check_t deliver_check; /* ... decided callbacks wait to run (ctl_deliver.c) */
	struct nr_pending *done_q, **done_tail;
	bool deliver_ready;      /* deliver_idle/check exist */
	int open_handles;        /* closing completes when this reaches 0 */

	bool started;
	bool closing;
	bool need_dump;          /* next pass dumps the kernel (drift, overflow) */
	bool reach_stale;        /* links/addresses changed: re-ask RTM_GETROUTE */
	bool in_pass;            /* a reconcile pass runs (event callbacks may call us) */

	struct nr_kstate desired;    /* the plan, sorted; kept current per change */
	struct nr_kstate touched;    /* keys changed since the last pass */
	char **late;                 /* nodes whose part waits for a reachability answer */
	size_t n_late, cap_late;     /* (ctl_incremental.c), asked for by the next pass */
	bool full_pass;              /* next pass re-plans everything */
	struct nr_kstate observed;   /* what the kernel holds of ours, sorted */
	struct nr_plan_report report;
	struct nr_reach_cache *reach;

	struct nr_pending *pending, **pending_tail;

	nr_ctl_event_cb event_cb;
	void *event_data;
	nr_ctl_close_cb close_cb;
	void *close_data;

	/* health (ctl_query.c): the named namespace as it was at new (a
	 * deleted one lives on while we hold it, unreachable to everyone
	 * else); the last save's failure */
	uint64_t netns_dev, netns_ino;
	int store_error;
	char store_msg[NR_ERR_MSG_MAX];
	/* what nr_ctl_status's text fields point at */
	char st_problems[512], st_cidr4[NR_ADDR_STRLEN], st_cidr6[NR_ADDR_STRLEN];
	/* nr_ctl_status's node and route counts (ctl_query.c): a walk of every
	 * node and route, kept until the model changes or a pass runs. Only
	 * those change ctl->desired, ctl->observed and ctl->report (besides
	 * purge): whatever else comes to change them must clear `valid`. */
	struct nr_ctl_tally {
		bool valid;
		const struct nr_model *model; /* the key: model and generation, */
		uint64_t gen, passes;         /* passes begun, started, purged */
		bool started, purged;
		size_t native, tunnel, no_cidr, routes_programmed;
	} tally;

	/* the last pass's failed kernel operations, for node state (ctl_pending.c) */
	struct nr_ctl_failure *last_fails;
	size_t n_last_fails;
	/* repeated ERROR events: once, then at most once a minute (ctl_events.c) */
	struct nr_ctl_fault {
		uint32_t hash;
		uint64_t last_ms;
		unsigned int suppressed;
	} faults[32];

	uint64_t resyncs, drift_repairs, netlink_errors;
	uint64_t full_passes, incremental_passes;
	struct nr_err last_pass_err;

	/* durable state (ctl_state.c); store NULL = in memory only */
	struct nr_store *store;
	struct nr_store_meta store_meta;
	bool store_dirty;            /* the model changed since the last save */
	struct {                     /* what a rollback rebuilds from (ctl_state.c) */
		struct nr_cluster_config cfg;
		struct nr_node_req local;
		char *name;
	} rb;
	struct {                     /* ctl_save.c */
		uv_work_t work;
		bool running;
		struct nr_store_image img; /* what the file records, kept per change */
		bool img_stale;      /* copy every node again (out of memory) */
		bool rebuild;        /* copying every node, from index `cursor` on */
		uint32_t cursor;
		bool wrote;          /* the worker wrote (the bytes differed) */
		int rc;              /* the worker's result */
		struct nr_err err;
		void (*then)(struct nr_ctl *ctl, int rc, const char *msg);
		void (*closed)(struct nr_ctl *ctl); /* a close waits for it */
	} save;
	struct {                     /* a batch's sends on the thread pool (ctl_send.c) */
		uv_work_t work;
		struct nr_nl_batch *batch; /* the one being sent */
		size_t first, n, sent;     /* its claimed operations, how many went out */
		int rc;                    /* the worker's result */
		bool running;
		bool orphan;               /* its pass let go of it: free it at the end */
		void (*then)(struct nr_ctl *ctl, int rc);
		void (*closed)(struct nr_ctl *ctl); /* a close waits for the worker */
		const struct nr_ctl_job *job; /* instead of a batch: another job */
		void *job_arg;
	} send;
	struct {                     /* large blocks freed on the pool (ctl_free.c) */
		size_t queued;
		void (*closed)(struct nr_ctl *ctl); /* a close waits for them */
	} frees;
	struct nr_link_seen *links_seen; /* ctl_watch.c: what link events told last */
	size_t n_links_seen, cap_links_seen;
	struct nr_ctl_note *notes;   /* what loading changed, told at the first pass */
	struct {                     /* the saved state loading off the loop (ctl_load.c) */
		bool wanted;         /* there is a state file to load */
		bool allow_migration;
		bool running;        /* queued, and its result not installed yet */
		bool queued;         /* its after-work callback has not run yet */
		bool sync_ready;     /* lock and cond exist */
		uv_work_t work;
		uv_mutex_t lock;
		uv_cond_t cond;
		bool done;           /* the worker finished (under lock) */
		int rc;              /* its result; a failure stays */
		struct nr_err err;
		struct nr_model *model;
		bool clean;          /* it encodes to the file's bytes: nothing to save */
		struct nr_ctl_note *notes;
		void (*then)(struct nr_ctl *ctl);   /* after the swap (ctl_life.c) */
		void (*closed)(struct nr_ctl *ctl); /* a close waits for the worker */
	} load;

	/* eBPF maps and fast path (libnativeroute/bpf/), NULL without NR_WITH_BPF */
	struct nr_bpf *bpf;
	struct nr_ctl_masq *masq;     /* masquerading (ctl_masq.c) */
	/* the etcd cluster store (store/etcd*.c); NULL = none */
	struct nr_etcd *etcd;

	/* purge (ctl_purge.c) */
	struct nr_pending *purge_req; /* queued, runs from the kick timer */
	bool purged;                  /* done: only close is accepted */
};

/* An endpoint whose host-side interface disappeared (ctl_host.c). */
struct nr_ctl_gone {
	struct nr_ctl_gone *next;
	uint64_t deadline_ms;  /* uv_now() when it is released */
	char *id;
	char ifname[16];       /* a link of this name coming back re-attaches it */
};

/* A message from loading the state, emitted as an event at the first pass. */
struct nr_ctl_note {
	struct nr_ctl_note *next;
	enum nr_event_type type;
	char *node;
	char *msg;
};

/* ctl_reconcile.c: one pass (ctl->pass, run by the kick timer, ctl_kick.c) */
int nr_ctl_reconcile(struct nr_ctl *ctl);
void nr_ctl_flight_cancel(struct nr_ctl *ctl);

/* ctl_deliver.c: nr_ctl_pending_run decides a request's outcome and queues
 * its callback; the loop's check phase runs it (flush: at close). */
void nr_ctl_deliver_init(struct nr_ctl *ctl);
void nr_ctl_deliver_flush(struct nr_ctl *ctl);
void nr_ctl_deliver_event(struct nr_ctl *ctl, struct nr_pending *p);
void nr_ctl_deliver_drop(struct nr_ctl *ctl);
void nr_ctl_deliver_close(struct nr_ctl *ctl, uv_close_cb cb);
void nr_ctl_pending_run(struct nr_ctl *ctl, struct nr_pending *p, int status, const char *msg);
/* Free a request (or event) and the strings it owns. */
void nr_ctl_pending_free(struct nr_pending *p);

/* ctl_save.c: save the model if it changed, off the loop, then call
 * then(ctl, 0 or -errno, text) from the loop (at once when there is
 * nothing to write). A pass calls it before it changes the kernel. */
typedef void (*nr_ctl_saved_fn)(struct nr_ctl *ctl, int rc, const char *msg);
void nr_ctl_save_ahead(struct nr_ctl *ctl, nr_ctl_saved_fn then);
/* At close: true when a save still runs on the thread pool; done(ctl) is
 * then called once it ended (and nothing else). False: none runs. */
bool nr_ctl_save_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl));
/* Before it: bring the copy the worker encodes up to the model, for at
 * most budget_ns (a pass slice): 1 more to do, 0 done (or nothing to save),
 * -ENOMEM. save_ahead finishes what is left. */
int nr_ctl_save_prep(struct nr_ctl *ctl, uint64_t budget_ns);
void nr_ctl_save_free(struct nr_ctl *ctl);

/* ctl_send.c: a pass's batch (begun: nr_nl_batch_begin) goes out from
 * libuv's thread pool, one claim of operations at a time, while the loop
 * reads the ACKs (the kernel applies each message inside sendmsg, which now
 * and then takes milliseconds, see nl_batch.h). offloaded: the kernel table
 * can (else the loop pumps). next: when no send runs and operations can be
 * claimed, start one and return true; then(ctl, rc) runs on the loop after
 * it (rc: 0 or the send's -errno), never during a close. release: the batch
 * is freed now, or when the send using it ends. wait: at close, true while
 * a send runs (one not started yet is cancelled), and done(ctl) is called
 * once it ended. The pass uses ctl->nl alone meanwhile: requests of public
 * calls go to ctl->query (nr_nl_request refuses a socket with a batch out). */
bool nr_ctl_send_offloaded(const struct nr_ctl *ctl);
bool nr_ctl_send_next(struct nr_ctl *ctl, struct nr_nl_batch *b,
		      void (*then)(struct nr_ctl *ctl, int rc));
bool nr_ctl_send_running(const struct nr_ctl *ctl);
void nr_ctl_send_release(struct nr_ctl *ctl, struct nr_nl_batch *b);
bool nr_ctl_send_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl));
/* A send queued but not started is dropped (a pass that timed out). */
void nr_ctl_send_cancel(struct nr_ctl *ctl);
/* The same worker slot for another job that uses ctl->nl, a full pass's
 * route lookups (ctl_reach.c), its dump (ctl_gather.c): run(ctl, arg) on
 * the pool, ended(arg, rc) on the loop after it (NULL: nothing to do), then
 * then(ctl, rc) as above. false when a worker
 * runs or a close is under way. release_job: job->free(arg) now, or when
 * the worker using arg ends. */
struct nr_ctl_job {
	int (*run)(struct nr_ctl *ctl, void *arg);
	void (*ended)(void *arg, int rc);
	void (*free)(void *arg);
};
bool nr_ctl_send_job(struct nr_ctl *ctl, const struct nr_ctl_job *job, void *arg,
		     void (*then)(struct nr_ctl *ctl, int rc));
void nr_ctl_send_release_job(struct nr_ctl *ctl, const struct nr_ctl_job *job, void *arg);

/* ctl_free.c: free(p) of a block of len bytes, on libuv's thread pool when
 * it is large (a plan's sort arrays: nr_plan_input.release); a plain free
 * once the controller closes. wait: at close, true while frees are
 * queued, and done(ctl) is called when the last one ended. */
void nr_ctl_free_large(void *ctl, void *p, size_t len);
bool nr_ctl_free_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl));

/* ctl_life.c: the end of a close (after the handles and any running save) */
void nr_ctl_close_finish(struct nr_ctl *ctl);

/* ctl_state.c */
/* Open the store and build the model: from the saved state when there is
 * one, else from the options (cfg, local node). */
int nr_ctl_state_setup(struct nr_ctl *ctl, const struct nr_ctl_opts *o,
		       const struct nr_cluster_config *cfg, const struct nr_node_req *local,
		       struct nr_err *err);
/* A save failed: the model back to the last durable state. */
int nr_ctl_state_rollback(struct nr_ctl *ctl, struct nr_err *err);
/* Emit and free the notes of loading (at nr_ctl_start). */
void nr_ctl_state_emit_notes(struct nr_ctl *ctl);
void nr_ctl_note_add(struct nr_ctl_note **list, const char *msg); /* a migration note */
void nr_ctl_note_append(struct nr_ctl_note **list, struct nr_ctl_note **more);
void nr_ctl_note_free(struct nr_ctl_note **list);

/* ctl_load.c: the saved state loads on the thread pool. prepare (in
 * nr_ctl_new's setup; may fail), start (last in nr_ctl_new; without a state
 * file an empty job, which starts libuv's pool there). loaded: for
 * the public calls that read or change the model: waits for a load still
 * running and installs it; -errno (last error set) when it failed.
 * No pass runs while load.running or after a failure (ctl_kick.c). wait: at close,
 * while the worker runs: true, and `done` runs when it has ended. */
int nr_ctl_load_prepare(struct nr_ctl *ctl, struct nr_err *err);
void nr_ctl_load_start(struct nr_ctl *ctl);
int nr_ctl_loaded(struct nr_ctl *ctl);
bool nr_ctl_load_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl));
void nr_ctl_load_cancel(struct nr_ctl *ctl);
void nr_ctl_load_free(struct nr_ctl *ctl);
void nr_ctl_state_free(struct nr_ctl *ctl);
/* nr_ctl_new failed after the state directory was opened: what opening
 * made (the directory, its lock file) goes again, since nothing saved. */
void nr_ctl_state_discard(struct nr_ctl *ctl, const struct nr_ctl_opts *o);

/* ctl_incremental.c: call before_change before the model changes a node or
 * endpoint (by name/id), after_change after it (also after a refusal). */
bool nr_ctl_incremental(const struct nr_ctl *ctl);
int nr_ctl_before_change(struct nr_ctl *ctl, bool endpoint, const char *name, struct nr_kstate *old);
void nr_ctl_after_change(struct nr_ctl *ctl, bool endpoint, const char *name, struct nr_kstate *old);
int nr_ctl_touched_subsets(struct nr_ctl *ctl, const struct nr_kstate *touched,
			   struct nr_kstate *want, struct nr_kstate *have);
int nr_ctl_touched_applied(struct nr_ctl *ctl, const struct nr_kstate *touched,
			   const struct nr_kstate *want);
void nr_ctl_touched_clear(struct nr_ctl *ctl);
/* An incremental pass, after asking for the late nodes' reachability:
 * their parts join ctl->desired and ctl->touched. */
int nr_ctl_late_apply(struct nr_ctl *ctl);

/* ctl_watch.c */
void nr_ctl_watch_cb(uv_poll_t *handle, int status, int events);

/* ctl_reach.c: one answer per node IP, refreshed when stale. */
struct nr_reach_cache;
int nr_reach_cache_new(struct nr_reach_cache **ret);
void nr_reach_cache_free(struct nr_reach_cache *c);
void nr_reach_cache_clear(struct nr_reach_cache *c);
/* The remembered answer for ip, NULL when there is none (no I/O). */
const struct nr_reach *nr_reach_cache_peek(struct nr_ctl *ctl, const struct nr_addr *ip);
/* The answer for ip: from the cache, or asked now and remembered. */
const struct nr_reach *nr_reach_cache_get(struct nr_ctl *ctl, const struct nr_addr *ip);
/* Whether a route to dst (may be NULL) or a change of link ifindex (0 =
 * none) can alter a remembered answer. */
bool nr_reach_cache_affected(struct nr_ctl *ctl, const struct nr_prefix *dst, uint32_t ifindex);
/* Asking from the loop, in slices (a pass): begin collects the IPs the
 * cache lacks of the remote nodes named in names[0..n) (n 0: none, whatever
 * names is), fill_all those of every node (a full pass, in slices); *ret is
 * NULL when none is missing; pump sends and
 * reads for at most budget_ns on ctl->nl and returns NR_NL_REACH_WAIT /
 * NR_NL_REACH_MORE while unfinished, else 0 or -errno with the answers in
 * the cache (a lost one is asked again by a later pass). */
struct nr_reach_fill;
int nr_ctl_reach_fill_begin(struct nr_ctl *ctl, char *const *names, size_t n,
			    struct nr_reach_fill **ret);
int nr_ctl_reach_fill_all(struct nr_ctl *ctl, struct nr_reach_fill **ret);
int nr_ctl_reach_fill_pump(struct nr_ctl *ctl, struct nr_reach_fill *f, uint64_t budget_ns,
			   void (*then)(struct nr_ctl *ctl, int rc));
void nr_ctl_reach_fill_free(struct nr_reach_fill *f);
/* A large set's lookups run on the thread pool (nr_ctl_send_job): pump
 * collects the IPs in slices, starts the worker and returns
 * NR_CTL_REACH_WORKER (then(ctl, rc) runs when it is done: pump again),
 * then takes the answers into the cache in slices. release: free f now,
 * or when the worker using it ends. */
enum { NR_CTL_REACH_WORKER = 3 };
void nr_ctl_reach_fill_release(struct nr_ctl *ctl, struct nr_reach_fill *f);
/* The planner's nr_plan_reach_fn over the cache (data: a view): NULL for
 * an IP never asked; demote_gateways turns "behind a gateway" into
 * "unknown" (after the planner refused a node that lost direct
 * reachability: that one is reported, every other node stays routed). */
struct nr_ctl_reach_view {
	struct nr_ctl *ctl;
	bool demote_gateways;
	struct nr_reach tmp;
};
const struct nr_reach *nr_ctl_reach_lookup(void *view, const struct nr_addr *ip);

/* ctl_host.c */
int nr_ctl_host_prepare(struct nr_ctl *ctl, struct nr_err *err);
/* Bring the endpoint's host side up (link up, gateway addresses); on error
 * nothing changed. undo (may be NULL) records what was changed. */
int nr_ctl_host_endpoint_up(struct nr_ctl *ctl, const struct nr_endpoint *ep,
			    struct nr_ep_host_undo *undo, struct nr_err *err);
/* A failed endpoint add (p->on_fail): take back p->host_undo unless the
 * model still has the endpoint on that link. */
void nr_ctl_host_endpoint_undo(struct nr_ctl *ctl, struct nr_pending *p);
void nr_ctl_host_endpoint_down(struct nr_ctl *ctl, const struct nr_endpoint *ep);
/* The MTU pods of this node should use (0 = unknown), see nr_endpoint_info. */
uint32_t nr_ctl_pod_mtu(struct nr_ctl *ctl);
int nr_ctl_vxlan_sync(struct nr_ctl *ctl, struct nr_err *err);
int nr_ctl_vxlan_cleanup(struct nr_ctl *ctl, struct nr_err *err);

/* ctl_ep_watch.c: endpoints' host interfaces going away and coming back */
/* Before each pass: release endpoints whose grace ran out, and (after an
 * event said so) re-check every endpoint's interface and gateway address. */
void nr_ctl_host_sync(struct nr_ctl *ctl);
void nr_ctl_host_link_event(struct nr_ctl *ctl, const struct nlmsghdr *nlh);
void nr_ctl_host_addr_event(struct nr_ctl *ctl, const struct nlmsghdr *nlh);
bool nr_ctl_host_is_endpoint_link(const struct nr_ctl *ctl, uint32_t ifindex);
void nr_ctl_host_free(struct nr_ctl *ctl);

/* bpf/bpf_ctl.c (bpf/bpf_none.c without NR_WITH_BPF): the pinned eBPF maps
 * and the tc fast path follow ctl->desired. setup at nr_ctl_new (never
 * fails: without BPF the status says why); sync at the end of every pass,
 * after the routes (full: every entry, read back from the kernel when the
 * pass dumped; else only what ctl->touched names; routes the pass failed
 * to program get no entry); purge removes filters and pins; status fills
 * the host routing fields. sync writes the maps at once and attaches the
 * tc filters off the loop: true = synced(ctl) follows from the loop once
 * the filters are attached (or failed: the status says why), and the pass
 * waits for it; false = done (synced does not run). wait, at close: true
 * when the tc job still runs; done(ctl) follows when it ends. */
struct nr_bpf;
void nr_ctl_bpf_setup(struct nr_ctl *ctl, bool enabled);
bool nr_ctl_bpf_sync(struct nr_ctl *ctl, bool full, bool dumped,
		     const struct nr_ctl_failure *fails, size_t n_fails,
		     void (*synced)(struct nr_ctl *ctl));
bool nr_ctl_bpf_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl));
int nr_ctl_bpf_purge(struct nr_ctl *ctl, struct nr_err *err);
void nr_ctl_bpf_status(struct nr_ctl *ctl, struct nr_status *st);
void nr_ctl_bpf_free(struct nr_ctl *ctl);

/* ctl_nhid.c: our nexthop id of a node (remapped when a foreign nexthop
 * holds the natural one), the node index of one of our ids, learning a
 * taken id (re-plans when it was ours to use), the start-up scan. */
uint32_t nr_ctl_nh_id(const struct nr_ctl *ctl, uint32_t index, bool v6);
bool nr_ctl_nh_index(const struct nr_ctl *ctl, uint32_t id, uint32_t *index);
void nr_ctl_nh_taken(struct nr_ctl *ctl, uint32_t id);
int nr_ctl_nh_scan(struct nr_ctl *ctl, struct nr_err *err);
/* The others' nexthops, from a dump: their ids are taken; scanned since. */
void nr_ctl_nh_learn(struct nr_ctl *ctl, const struct nr_knexthop *others, size_t n);

/* ctl_gather.c: what a full pass reads from the kernel before it plans
 * (the dump into ctl->observed when need_dump, the others' nexthop ids
 * at the first pass), in steps from the loop on `nl` and cmd_poll. `done`
 * runs once, from the loop or at once when there is nothing to read,
 * with 0 or -errno (err says why); never after nr_ctl_gather_cancel. */
typedef void (*nr_ctl_gather_cb)(struct nr_ctl *ctl, int rc, struct nr_err *err);
void nr_ctl_gather(struct nr_ctl *ctl, nr_ctl_gather_cb done);
void nr_ctl_gather_cancel(struct nr_ctl *ctl);
void nr_ctl_nh_free(struct nr_ctl *ctl);

/* ctl_query.c */
/* Remember the named namespace's identity (at new). */
void nr_ctl_netns_remember(struct nr_ctl *ctl);
/* The node (or endpoint id) a planned route belongs to, "" if none. */
const char *nr_ctl_route_owner(const struct nr_ctl *ctl, const struct nr_kroute *r);

/* The bottom layer: every part may emit events and ask for a pass. */
#include "ctl/ctl_events.h"
#include "ctl/ctl_kick.h"

#endif
