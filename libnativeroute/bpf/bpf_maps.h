/* The pinned maps themselves: bpffs, the per-instance pin directory, adopt
 * or create, read back, write a diff. Maps are not bound to a network
 * namespace (pins belong to the mount namespace), so nothing here enters
 * one. Every call is a few bpf(2) syscalls: no waiting on another process. */
#ifndef NR_BPF_BPF_MAPS_H
#define NR_BPF_BPF_MAPS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpf/bpf_entries.h"
#include "util/err.h"

#define NR_BPF_FS "/sys/fs/bpf"

/* A fourth pin, private to the library (not in include/nativeroute/bpf.h):
 * the clsact qdiscs this controller created, ifindex -> the device's name
 * then (bpf_qdisc.c). A map, not memory: purge after a restart or from
 * another process (nativerouted --purge) must still know them. */
#define NR_BPF_MAP_QDISCS "tc_qdiscs"
#define NR_BPF_QDISCS_MAX 65536

struct nr_bpf_qdisc_val {
	char ifname[16]; /* IFNAMSIZ, NUL-terminated */
};

struct nr_bpf_maps {
	int routes_fd, eps_fd, stats_fd, qdiscs_fd; /* -1 = not open */
	uint32_t routes_id, eps_id, stats_id, qdiscs_id;
	char dir[PATH_MAX];              /* <bpffs>/nativeroute/<instance> */
	int n_created;                   /* maps made new (0: all adopted from pins) */
	bool no_route_batch, no_ep_batch; /* the kernel refused batch updates */
};

/* The instance name: "<node>@<netns>" for a named namespace, else
 * "<node>@netns-<inode of the namespace>", characters outside
 * [A-Za-z0-9._@-] replaced by '_'. Unique per controller on a host, since
 * one namespace holds one node. */
int nr_bpf_instance_name(const char *node, const char *netns, char *buf, size_t len,
			 struct nr_err *err);

/* Mount bpffs on /sys/fs/bpf unless it is there; *mounted tells whether
 * this call did (for the log). Serialised with a lock file so two
 * controllers starting together never stack two mounts. */
int nr_bpf_fs_ensure(bool *mounted, struct nr_err *err);

/* Open the maps of `instance`: reuse pinned maps whose type and sizes
 * match (same map ids, entries kept), create and pin the others. */
int nr_bpf_maps_open(const char *instance, struct nr_bpf_maps *m, struct nr_err *err);
void nr_bpf_maps_init(struct nr_bpf_maps *m);
void nr_bpf_maps_close(struct nr_bpf_maps *m);

/* Read every entry of `routes` and `endpoints` (sorted). */
int nr_bpf_maps_dump(const struct nr_bpf_maps *m, struct nr_bpf_entries *out, struct nr_err *err);
/* Write a diff: updates first (batched where the kernel can), then
 * deletions. A deletion of an absent key is fine. */
int nr_bpf_maps_apply(struct nr_bpf_maps *m, const struct nr_bpf_diff *d, struct nr_err *err);
/* Sum of the per-CPU counters. */
int nr_bpf_maps_stats(const struct nr_bpf_maps *m, struct nr_bpf_stat out[NR_BPF_STAT_MAX]);

/* Remove the instance's pins and directory (and the nativeroute/ parent
 * when empty). Nothing pinned is success. */
int nr_bpf_pins_remove(const char *instance, struct nr_err *err);

#endif
