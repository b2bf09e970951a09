/* The controller: one node's routing control plane, on the caller's libuv loop.
 *
 * A controller holds the cluster model (nodes, their pod CIDRs, the pods on
 * this node, the routing mode) and keeps the kernel of one network namespace
 * in line with it: a nexthop object per remote node, a route per remote pod
 * CIDR (native: via the node IP; tunnel: over the nr_vxlan device), a route
 * per local endpoint. Everything it programs carries its route protocol
 * (default 201), so it never touches anything it did not make.
 *
 * Life cycle:
 *   nr_ctl_new()    validate options, open netlink in the namespace; no kernel
 *                   change yet.
 *   node/endpoint calls before start only fill the model (a restarting
 *                   orchestrator replays its nodes here).
 *   nr_ctl_start()  first reconcile: adopt what already matches (no flush, no
 *                   flap), add what is missing, prune only our own stale
 *                   entries; from then on kernel events repair drift.
 *   nr_ctl_close()  stop; routes stay in place (a restart must not flap
 *                   traffic).
 *
 * Conventions (libuv's), true of every function below unless it says
 * otherwise:
 *   - The controller never runs the loop; the caller does.
 *   - A call that returns < 0 (a negative errno) changed nothing (model,
 *     kernel, disk) and its callback never runs; nr_last_errmsg() then says
 *     what was wrong, naming the offending value. A NULL controller or a NULL
 *     required pointer is -EINVAL.
 *   - A call that returns 0 runs its callback exactly once, from the loop
 *     (never from inside the call), with status 0 (applied and, with a
 *     state_dir, durable), a negative errno with errmsg saying why, or
 *     -ECANCELED when the controller is closed first.
 *   - Callbacks may call any function of this header on the same controller,
 *     nr_ctl_close() included (see the iterators for their one exception).
 *   - Ownership: input structs and strings are read during the call only
 *     (the library copies what it keeps); pointers handed to callbacks and
 *     iterator functions (errmsg, events, infos) are valid during that
 *     callback only: copy what you keep.
 *   - Not thread-safe: use a controller from its loop's thread only.
 *   - Slow kernel and disk work (a pass's sends, lookups and dump, the
 *     state's load and save, the tc program) runs on libuv's thread pool,
 *     shared with your own uv_queue_work jobs. While one of our jobs runs,
 *     its pool thread is at SCHED_IDLE, so that it never keeps your loop
 *     thread from a CPU; the thread gets its own policy and nice value back
 *     when the job ends. Only where the process may switch it back
 *     (CAP_SYS_NICE, or an RLIMIT_NICE that permits its nice value); a
 *     real-time pool thread is left alone, and a job that waited 20 ms for
 *     a CPU in all goes on at the thread's own priority.
 */
#ifndef NATIVEROUTE_CONTROLLER_H
#define NATIVEROUTE_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common.h"
#include "opts.h"
#include "types.h"

NR_BEGIN_DECLS

struct nr_ctl;

enum nr_event_type {
	NR_EVENT_NODE_ADDED = 1,
	NR_EVENT_NODE_UPDATED,
	NR_EVENT_NODE_REMOVED,
	NR_EVENT_NODE_UNREACHABLE,  /* skipped: not directly reachable (skip_unreachable) */
	NR_EVENT_ROUTE_PROGRAMMED,
	NR_EVENT_ROUTE_REMOVED,
	NR_EVENT_DRIFT_REPAIRED,    /* someone changed or deleted our object; we put it back */
	NR_EVENT_ENDPOINT_ADDED,
	NR_EVENT_ENDPOINT_REMOVED,
	NR_EVENT_MODE_CHANGED,
	NR_EVENT_RESYNC,            /* full resync (periodic, or the event socket overflowed) */
	NR_EVENT_ERROR,             /* programming failed; message says what */
	NR_EVENT_STATE_MIGRATED,    /* loading the saved state changed something (node
				       re-allocated, endpoint dropped, format upgraded),
				       or a save made a deleted state directory again */
	NR_EVENT_BPF,               /* eBPF datapath: bpffs mounted, maps adopted or
				       created, or host routing fell back to Legacy (why) */
	NR_EVENT_ENDPOINT_GONE,     /* an endpoint's host interface disappeared; it is
				       released after the grace period (endpoint_grace_ms) */
};

struct nr_event {
	size_t sz;                  /* sizeof(struct nr_event) of the library */
	enum nr_event_type type;
	const char *node;           /* node name, or NULL */
	const char *object;         /* e.g. "10.0.1.0/24 via 192.168.1.11", or NULL */
	const char *message;        /* human text, never NULL */
};

/* An event, delivered from the loop in the order they happened. New event
 * types may be added in later minor versions: ignore types you do not know. */
typedef void (*nr_ctl_event_cb)(struct nr_ctl *ctl, const struct nr_event *ev, void *data);
/* Completion of an asynchronous call: status 0 or a negative errno; errmsg is
 * NULL on success, else the reason (never NULL then). */
typedef void (*nr_ctl_done_cb)(struct nr_ctl *ctl, int status, const char *errmsg, void *data);
/* The controller is gone: it is freed when this returns. */
typedef void (*nr_ctl_close_cb)(struct nr_ctl *ctl, void *data);

/* Tri-state switches: zero keeps the current setting (nr_mode_opts) or
 * takes the documented default (nr_ctl_opts). */
enum nr_switch {
	NR_SWITCH_KEEP = 0,
	NR_SWITCH_ON = 1,
	NR_SWITCH_OFF = 2,
};
/* The etcd v3 cluster store (nr_ctl_opts.etcd); declare with
 * NR_OPTS(nr_etcd_opts, name, ...). Keys live under
 * <prefix>/<cluster_name>/ (nodes/<name>, ipam/<family>/<cidr>, config).
 * With a store, remote nodes come from it: nr_ctl_node_add/update/remove of
 * another node is refused (-EPERM), and in cluster-pool mode endpoints wait
 * (-EAGAIN) until this node's CIDR is claimed in etcd. */
struct nr_etcd_opts {
	size_t sz;
	const char *const *endpoints;   /* required: "http://10.0.0.1:2379", ... (fail-over) */
	const char *prefix;             /* key prefix, NULL = "/nativeroute/v1" */
	const char *cluster_name;       /* NULL = "default" */
	const char *ca_file;            /* TLS: CA bundle for https endpoints, NULL = system */
	const char *cert_file;          /* TLS client certificate and key, NULL = none */
	const char *key_file;
	const char *username;           /* etcd auth (token); NULL = none */
	const char *password;
	unsigned int lease_ttl_s;       /* node lease TTL, renewed every TTL/3; 0 = 15 */
	unsigned int cidr_grace_s;      /* a vanished node's CIDR stays reserved this long
					   (its own lease); 0 = max(300, 4 * lease TTL) */
	unsigned int timeout_ms;        /* per request, 0 = 10000 */
	size_t :0;
};
#define nr_etcd_opts__last_field timeout_ms

/* Options of nr_ctl_new(); declare with NR_OPTS(nr_ctl_opts, name, ...).
 * Text fields are copied; string arrays are NULL-terminated. */
struct nr_ctl_opts {
	size_t sz;
	const char *netns;              /* named namespace (/run/netns/NAME); NULL = caller's */
	const char *node_name;          /* required: this node's name in the cluster */
	const char *node_ipv4;          /* this node's underlay address(es); at least one */
	const char *node_ipv6;
	enum nr_routing_mode routing_mode;  /* 0 = native */
	enum nr_ipam_mode ipam_mode;        /* 0 = cluster-pool */
	const char *const *cluster_cidrs;   /* pools, v4 and/or v6; cluster-pool needs one */
	unsigned int mask_size_v4;      /* node CIDR size, 0 = 24 */
	unsigned int mask_size_v6;      /* 0 = 112 */
	const char *const *pod_cidrs;   /* this node's CIDRs (kubernetes IPAM) */
	const char *native_routing_cidr;   /* IPv4 CIDR reachable without masquerade */
	const char *native_routing_cidr6;
	bool auto_direct_node_routes;   /* install <cidr> via <node IP> (native/hybrid) */
	bool direct_routing_skip_unreachable; /* skip, don't refuse, unreachable nodes */
	bool classic_routes;            /* never use nexthop objects */
	uint8_t route_protocol;         /* rtm_protocol of our routes, 0 = 201; 1-4 (the
					 * kernel's and other software's) are refused */
	uint32_t route_table;           /* 0 = main (254) */
	unsigned int resync_interval_ms;   /* periodic full resync, 0 = 30000 */
	uint32_t vxlan_vni;             /* 0 = 1 */
	uint16_t vxlan_port;            /* 0 = 8472 */
	unsigned int vxlan_mtu;         /* 0 = underlay device MTU - 50 */
	nr_ctl_event_cb event_cb;       /* optional */
	void *event_data;
	/* Durable state (NULL = in memory only). The directory (created if
	 * missing, locked: one controller per directory) keeps the model in
	 * <state_dir>/state; it is loaded from nr_ctl_new on (off the loop: see
 * nr_ctl_new), so a restart needs no replay
	 * and keeps every node's index (nexthop ids) and CIDRs. Every mutation
	 * is written (group commit: once per reconcile pass, fsync'd) before
	 * its callback runs. A saved routing mode/switch set at run time wins
	 * over these options unless the options changed since the last start. */
	const char *state_dir;
	/* A changed IPAM mode, cluster CIDR list, mask size or route protocol/
	 * table would orphan saved allocations: the load refuses it (-EINVAL)
	 * unless this is set; then nodes whose CIDR no longer fits get a new
	 * one and endpoints that no longer fit are dropped (each reported as an
	 * NR_EVENT_STATE_MIGRATED event at nr_ctl_start). */
	bool allow_config_migration;
	/* Do not load the saved state (it is overwritten at the first pass);
	 * for nr_ctl_purge when the state file is damaged. */
	bool discard_saved_state;
	/* eBPF host routing: pinned maps under /sys/fs/bpf/nativeroute/<node>@<netns>/
	 * (routes, endpoints, stats; include/nativeroute/bpf.h) mirror the routes,
	 * and a tc program fast-paths pod traffic (loaded and attached on libuv's
	 * thread pool; a pass's callbacks run once its filters are attached).
	 * Without privilege, bpffs or kernel support, routes alone work and
	 * nr_status says why. */
	bool bpf;
	/* Masquerading, as Cilium's enable-ipv4-masquerade/enable-ipv6-masquerade:
	 * traffic from this node's pod CIDR to a destination outside the
	 * native-routing CIDR of its family (without one: outside the cluster
	 * CIDRs of that family), outside non_masquerade_cidrs and not a local
	 * pod leaves with the address of its egress device (nftables NAT in the
	 * table "inet nativeroute" - "inet nativeroute_<table>_<protocol>" for a
	 * controller with another route_table/route_protocol - which the
	 * controller owns and keeps as planned). NR_SWITCH_KEEP (0) = the default: on for a family that has
	 * a native-routing or cluster CIDR, off otherwise; NR_SWITCH_ON without
	 * either is refused (-EINVAL), as is any masquerading in a library built
	 * without nftables. */
	enum nr_switch masquerade_ipv4;
	enum nr_switch masquerade_ipv6;
	/* More destinations never masqueraded (ip-masq-agent's
	 * nonMasqueradeCIDRs), v4 and/or v6, at most 16. */
	const char *const *non_masquerade_cidrs;
	/* A shared cluster store (NULL = none): with etcd, every controller
	 * registers its own node under a lease, claims its pod CIDRs there
	 * (so two hosts never get the same one) and learns the other nodes
	 * from it; see struct nr_etcd_opts and docs/etcd.md. */
	const struct nr_etcd_opts *etcd;
	/* How long an endpoint whose host-side interface disappeared (the pod
	 * went away without endpoint removal) keeps its addresses before it is
	 * released; its route is withdrawn at once. 0 = 30000. */
	unsigned int endpoint_grace_ms;
	/* The VXLAN device stays in native mode as the receive side (no route
	 * or FDB entry sends anything through it), so peers that switch to
	 * tunnel or hybrid mode before this node (or back later) lose nothing.
	 * Set this to delete it in native mode instead. */
	bool native_without_tunnel;
	size_t :0;
};
#define nr_ctl_opts__last_field native_without_tunnel

/* A node of the cluster (this one or a remote one). */
struct nr_node_spec {
	size_t sz;
	const char *name;               /* DNS-1123 subdomain, <= 253 chars */
	const char *ipv4;               /* underlay address(es), at least one */
	const char *ipv6;
	const char *const *pod_cidrs;   /* NULL = allocate (cluster-pool) */
	size_t :0;
};
#define nr_node_spec__last_field pod_cidrs

/* A pod on this node. */
struct nr_endpoint_spec {
	size_t sz;
	const char *id;                 /* caller's unique id (container id, pod uid) */
	const char *ifname;             /* host-side interface (veth peer), or ... */
	uint32_t ifindex;               /* ... its index */
	const char *ipv4;               /* requested address, NULL = allocate */
	const char *ipv6;
	size_t :0;
};
#define nr_endpoint_spec__last_field ipv6

/* What an endpoint got. The pod configures `ipv4`/`ipv6` on its interface
 * and a default route via `gateway4`/`gateway6`. Like every *_info struct it
 * is filled by the library: `sz` is the library's sizeof, so a program built
 * against newer headers checks `sz` before reading a field this struct
 * gained in a later minor version. Never embedded in arrays, so it can grow. */
struct nr_endpoint_info {
	size_t sz;
	const char *id;
	const char *ifname;
	uint32_t ifindex;
	const char *ipv4;               /* "" when the family is not in use */
	const char *ipv6;
	const char *gateway4;
	const char *gateway6;
	/* Since 1.1 (sz covers it): the MTU the pod's interface should use -
	 * the underlay device's, less the VXLAN overhead (50, IPv6 underlay 70)
	 * in tunnel mode and in hybrid mode while any node is tunnelled - so
	 * pods do not depend on path-MTU discovery. 0 = unknown. */
	uint32_t mtu;
};

typedef void (*nr_ctl_endpoint_cb)(struct nr_ctl *ctl, int status, const char *errmsg,
				   const struct nr_endpoint_info *ep, void *data);

struct nr_node_info {
	size_t sz;
	const char *name;
	const char *ipv4;               /* "" when none */
	const char *ipv6;
	const char *const *pod_cidrs;   /* n_pod_cidrs entries */
	size_t n_pod_cidrs;
	/* "local": this node; "native" / "tunnel": its routes are programmed,
	 * directly or over VXLAN; "pending": routes planned but not (yet) in the
	 * kernel as planned, or the controller is not started; "unreachable":
	 * skipped, not directly reachable (direct_routing_skip_unreachable);
	 * "blocked": the kernel refused its route (e.g. another owner's route
	 * holds the prefix); retried, the refusal comes as an ERROR event;
	 * "unrouted": started, but nothing is routed to it (it has no pod CIDR,
	 * or native mode without auto_direct_node_routes leaves its CIDRs to the
	 * underlay network). New states may be added in later minor versions
	 * ("blocked" came with 1.1). */
	const char *state;
	bool local;                     /* state is "local" */
};

struct nr_route_info {
	size_t sz;
	const char *dst;                /* "10.0.1.0/24" */
	const char *kind;               /* "native", "tunnel", "endpoint" (more may come) */
	const char *via;                /* gateway, "" for device routes */
	const char *dev;                /* output device name */
	const char *node;               /* node or endpoint it belongs to */
	uint32_t mtu;                   /* 0 = none */
	bool programmed;                /* the kernel has it as planned */
};

/* The controller's counters and settings. The caller owns it and sets sz;
 * the library fills only the fields that sz covers, so it grows by appending
 * (like an opts struct). */
struct nr_status {
	size_t sz;                      /* caller sets sizeof(struct nr_status) */
	enum nr_routing_mode routing_mode;
	enum nr_ipam_mode ipam_mode;
	bool auto_direct_node_routes;
	bool nexthop_objects;           /* false: classic routes (old kernel or opted out) */
	bool started;
	size_t nodes;                   /* including this one */
	size_t nodes_unreachable;
	size_t endpoints;
	size_t routes_planned;
	size_t routes_programmed;
	size_t ipam_used;               /* node CIDR blocks allocated */
	size_t ipam_total;              /* blocks in the pools (saturates at SIZE_MAX) */
	uint64_t resyncs;
	uint64_t drift_repairs;
	uint64_t netlink_errors;
	uint64_t full_passes;           /* passes that re-planned the whole cluster */
	uint64_t incremental_passes;    /* passes that touched only changed objects */
	bool direct_routing_skip_unreachable; /* the switch in force (see nr_ctl_opts) */
	/* eBPF host routing (nr_ctl_opts.bpf). */
	bool host_routing_bpf;          /* the tc fast path is attached ("Host Routing: BPF") */
	char host_routing_reason[128];  /* why it is "Legacy"; "" when BPF */
	size_t bpf_routes;              /* entries in the pinned `routes` map */
	size_t bpf_endpoints;           /* entries in the pinned `endpoints` map */
	uint64_t bpf_map_repairs;       /* map entries found changed at a resync and rewritten */
	uint64_t bpf_packets[16];       /* per verdict (enum nr_bpf_verdict, nativeroute/bpf.h) */
	/* Masquerading (nftables table "inet nativeroute", nr_ctl_opts.masquerade_*). */
	bool masquerade_ipv4;           /* planned for IPv4 pod traffic */
	bool masquerade_ipv6;
	bool masquerade_programmed;     /* the kernel holds the table as planned */
	char masquerade_excluded[512];  /* destinations left alone, space-separated CIDRs */
	char masquerade_note[256];      /* why a family is off, where the CIDRs come from, the
					   last error; "" when there is nothing to say */
	/* Where the model lives: state_dir (file) and/or the etcd store. */
	bool store_file;
	bool store_etcd;
	bool store_healthy;             /* etcd: registered, watching, answering */
	int64_t store_unhealthy_since;  /* etcd: unix time it stopped being healthy, 0 = healthy */
	char store_detail[200];         /* etcd: "Ok (...)", "unreachable (since ...): why", ... */
	/* Appended (present when the library's sz covers them). Text fields
	 * are valid until the next call on the controller (or, from the
	 * client, during the callback). */
	bool healthy;                   /* every subsystem is fine: "Controller: Ok" */
	const char *problems;           /* "" when healthy, else what is wrong, by subsystem
					   ("routes: 0/1 programmed; namespace: deleted") */
	size_t nodes_native;            /* remote nodes whose pod CIDRs are routed natively */
	size_t nodes_tunnel;            /* ... through the tunnel (hybrid counts both) */
	size_t nodes_no_cidr;           /* nodes without a pod CIDR (state "unrouted") */
	size_t endpoints_broken;        /* endpoints whose host interface is gone */
	bool netns_gone;                /* the named namespace was deleted under the controller */
	int store_error;                /* last save of the state failed (-errno), 0 = fine */
	const char *version;            /* the controller's library version ("1.1.0") */
	const char *local_node;         /* this node's name */
	const char *pod_cidr4;          /* this node's pod CIDRs, "" when none */
	const char *pod_cidr6;
	/* Pod addresses of this node: used includes the gateway address, total
	 * excludes the network (and IPv4 broadcast) address (saturates). */
	size_t pod_ips_used4, pod_ips_total4;
	size_t pod_ips_used6, pod_ips_total6;
	size_t :0;
};

/* Thread-local text of the last failed call on this thread, naming the
 * offending value. Every public function that returns < 0 sets it; read it
 * right after the failure (it is "" or stale otherwise). Never NULL; valid
 * until the next nr_* call on this thread. */
NR_API const char *nr_last_errmsg(void);

/* Create a controller on `loop`. Validates every option (-EINVAL with the
 * reason in nr_last_errmsg()), opens netlink in the namespace (-ENOENT for an
 * unknown netns, -EPERM without CAP_NET_ADMIN). Does not change the kernel.
 * With state_dir: -EBUSY when another controller holds the directory; the
 * saved model then loads on libuv's thread pool, so the caller's loop never
 * waits for it (at 100,000 nodes that is ~0.4 s of reading, decoding and
 * rebuilding). A call that reads or changes the model before the load is
 * done (node/endpoint/mode calls, nr_ctl_status, the foreach walks,
 * nr_ctl_purge) waits for it; nr_ctl_start does not, and its callback
 * reports a load that failed. Such a load fails with -EBADMSG: the state
 * file is torn or corrupt (the message names the file and the fault;
 * nothing is re-allocated: fix or move the file, or purge with
 * discard_saved_state); -EPROTONOSUPPORT: written by a newer library;
 * -EINVAL: it belongs to another node or the options changed what it
 * depends on (see allow_config_migration). After that every call but
 * nr_ctl_close returns the same error. */
NR_API int nr_ctl_new(uv_loop_t *loop, const struct nr_ctl_opts *opts, struct nr_ctl **ret);

/* First reconcile (see above), after the saved state has loaded; cb runs
 * when it is done (status: the pass's result, or the load's error). The
 * kernel is read from the loop in steps (one receive buffer each), never
 * in one blocking exchange. -EALREADY if started, -ESHUTDOWN after
 * nr_ctl_purge, -EINVAL when closing, the load's error when it failed
 * already. */
NR_API int nr_ctl_start(struct nr_ctl *ctl, nr_ctl_done_cb cb, void *data);

/* Remove everything this controller owns from the kernel: every route of
 * its protocol and table, every nexthop of its protocol, the neighbour and
 * FDB entries and the nr_vxlan device; then the state files. Works started
 * or not. cb runs once a dump shows none of it is left (status 0), or with
 * -ENOTEMPTY naming what remained. Pending calls get -ECANCELED. Afterwards
 * the controller refuses every call but nr_ctl_close (-ESHUTDOWN).
 * With the etcd store it first deletes this node's key and the CIDR claims
 * it owns from etcd (docs/etcd.md); if etcd cannot be reached cb gets that
 * error (naming the endpoint) and nothing is removed from the kernel.
 * -EALREADY when a purge is running or done. */
NR_API int nr_ctl_purge(struct nr_ctl *ctl, nr_ctl_done_cb cb, void *data);

/* Stop: pending callbacks get -ECANCELED (from the loop, before close_cb),
 * handles close, kernel state stays. The controller is freed after close_cb
 * (may be NULL) returns; do not use it after calling this. Safe from any
 * callback of this controller. -EALREADY if already closing. */
NR_API int nr_ctl_close(struct nr_ctl *ctl, nr_ctl_close_cb close_cb, void *data);

/* Add a remote node (or describe the local one again). Refused at once:
 * invalid name or address (-EINVAL), duplicate name or IP (-EEXIST), a CIDR
 * overlapping another node's (-EBUSY), pool exhausted (-ENOSPC). With
 * auto_direct_node_routes in native mode a node IP that is not directly
 * reachable is refused (-ENETUNREACH) unless direct_routing_skip_unreachable
 * is set: at once when the answer is known or one lookup is cheap; during a
 * bulk of adds or while a pass is under way, through cb instead (the node
 * is taken out again before anything of it reached the kernel; the lookups
 * of a bulk are made together, pipelined).
 * cb runs when the kernel has it (and, with a state_dir, the disk: the
 * state is saved before the kernel is changed; a failed save fails cb and
 * changes nothing).
 * Before nr_ctl_start, only the model changes; cb runs after the first pass. */
NR_API int nr_ctl_node_add(struct nr_ctl *ctl, const struct nr_node_spec *spec,
			   nr_ctl_done_cb cb, void *data);
/* Change a node's IPs or CIDRs (spec->name names it; -ENOENT if unknown;
 * refusals as for nr_ctl_node_add); the routes move without a gap. */
NR_API int nr_ctl_node_update(struct nr_ctl *ctl, const struct nr_node_spec *spec,
			      nr_ctl_done_cb cb, void *data);
/* Remove a node: its routes and nexthops go, its CIDRs return to the pool.
 * -ENOENT if unknown; -EBUSY for the local node while it has endpoints. */
NR_API int nr_ctl_node_remove(struct nr_ctl *ctl, const char *name,
			      nr_ctl_done_cb cb, void *data);

/* Add a pod on this node: allocates (or validates) its address from the local
 * CIDR, routes it to its host-side interface, makes the gateway address answer
 * ARP/NDP there and enables forwarding. -EEXIST for a known id or an
 * interface or address already in use, -ENODEV for an interface that does
 * not exist, -ENOSPC when the local CIDR is full,
 * -EINVAL for a bad value (e.g. an address outside the local CIDR), -ENOENT
 * before the local node has a CIDR. cb gets what the pod got (NULL on error). */
NR_API int nr_ctl_endpoint_add(struct nr_ctl *ctl, const struct nr_endpoint_spec *spec,
			       nr_ctl_endpoint_cb cb, void *data);
/* Remove a pod: its route and address go back. -ENOENT if unknown. */
NR_API int nr_ctl_endpoint_remove(struct nr_ctl *ctl, const char *id,
				  nr_ctl_done_cb cb, void *data);

/* Switch routing mode at run time. Routes are replaced in place: no moment
 * where a remote CIDR has no route. Switching to tunnel mode turns
 * auto_direct_node_routes off (and with it direct_routing_skip_unreachable)
 * in the same step; asking for either on with tunnel mode is refused
 * (-EINVAL) before anything changes. */
NR_API int nr_ctl_mode_set(struct nr_ctl *ctl, enum nr_routing_mode mode,
			   nr_ctl_done_cb cb, void *data);

/* Options of nr_ctl_mode_set_opts; declare with NR_OPTS(nr_mode_opts, ...). */
struct nr_mode_opts {
	size_t sz;
	enum nr_routing_mode mode;                   /* 0 = keep the current mode */
	enum nr_switch auto_direct_node_routes;
	enum nr_switch direct_routing_skip_unreachable;
	size_t :0;
};
#define nr_mode_opts__last_field direct_routing_skip_unreachable

/* Change the routing mode and/or the direct-routing switches at once (the
 * combination is checked as a whole, as at nr_ctl_new). Switches left at
 * NR_SWITCH_KEEP follow the ones they depend on: tunnel mode turns
 * auto_direct_node_routes off, and auto_direct_node_routes off turns
 * direct_routing_skip_unreachable off. */
NR_API int nr_ctl_mode_set_opts(struct nr_ctl *ctl, const struct nr_mode_opts *opts,
				nr_ctl_done_cb cb, void *data);

/* Synchronous snapshot into the caller's struct; the caller sets st->sz
 * (NR_OPTS-style: sizeof(struct nr_status) of its headers). -EINVAL without
 * a controller, st, or a sz of at least sizeof(size_t). */
NR_API int nr_ctl_status(struct nr_ctl *ctl, struct nr_status *st);

/* Visitors of the iterators: return 0 to go on; any other value stops the
 * walk and becomes the iterator's return value (return a negative errno to
 * report a failure of your own). */
typedef int (*nr_node_fn)(const struct nr_node_info *node, void *data);
typedef int (*nr_endpoint_fn)(const struct nr_endpoint_info *ep, void *data);
typedef int (*nr_route_fn)(const struct nr_route_info *route, void *data);

/* Synchronous iterators: fn runs once per item, in a stable order (nodes
 * and endpoints by name/id, routes by destination), from inside the call.
 * Returns 0 after the last item, fn's non-zero value when it stopped the
 * walk (nr_last_errmsg() then says so), or -EINVAL without ctl or fn.
 * fn may read (status, iterators) but must not change the controller (no
 * node/endpoint/mode calls, no close): the walk holds pointers into it. */
NR_API int nr_ctl_node_foreach(struct nr_ctl *ctl, nr_node_fn fn, void *data);
NR_API int nr_ctl_endpoint_foreach(struct nr_ctl *ctl, nr_endpoint_fn fn, void *data);
NR_API int nr_ctl_route_foreach(struct nr_ctl *ctl, nr_route_fn fn, void *data);

/* The caller's pointer, libuv's `handle->data`: stored, never read by the
 * library. NULL controller: set does nothing, get returns NULL. */
NR_API void nr_ctl_set_data(struct nr_ctl *ctl, void *data);
NR_API void *nr_ctl_get_data(const struct nr_ctl *ctl);

/* Text forms: "native"/"tunnel"/"hybrid", "cluster-pool"/"kubernetes",
 * "node.added", ... Static strings, never NULL: unknown values give
 * "unknown". Parsers return 0, or -EINVAL (out untouched) for unknown text
 * or a NULL argument; thread-safe. */
NR_API const char *nr_routing_mode_str(enum nr_routing_mode mode);
NR_API int nr_routing_mode_parse(const char *text, enum nr_routing_mode *out);
NR_API const char *nr_ipam_mode_str(enum nr_ipam_mode mode);
NR_API int nr_ipam_mode_parse(const char *text, enum nr_ipam_mode *out);
NR_API const char *nr_event_type_str(enum nr_event_type type);

NR_END_DECLS

#endif
