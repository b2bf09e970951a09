/* Layouts of the pinned eBPF maps that libnativeroute programs, for other
 * eBPF programs and tools (observability, policy) that read them.
 *
 * A controller started with the `bpf` option keeps three maps pinned under
 *     /sys/fs/bpf/nativeroute/<instance>/{routes,endpoints,stats}
 * (<instance>: see ABI.md, "eBPF maps"). They mirror the reconciled route
 * state: an entry is written in the same reconcile pass as the route it
 * describes, compared at every resync and repaired when it differs.
 * Readers must treat the maps as read-only.
 *
 * Versioning: NR_BPF_ABI_VERSION changes whenever a key or value layout
 * changes incompatibly; within one version, fields are only ever added in
 * reserved space (which is zero today), kinds/flags/verdicts only appended.
 * A controller finding a pinned map with another key or value size replaces
 * it (new map id). All multi-byte integers are in host byte order;
 * addresses are in network byte order (IPv4 in the first 4 bytes).
 *
 * This header compiles as C99, as C++ and inside eBPF programs (include it
 * after vmlinux.h, which provides the __u8/__u32/__u64 types). */
#ifndef NATIVEROUTE_BPF_H
#define NATIVEROUTE_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NR_BPF_ABI_VERSION 1

#define NR_BPF_PIN_ROOT "/sys/fs/bpf/nativeroute"
#define NR_BPF_MAP_ROUTES "routes"
#define NR_BPF_MAP_ENDPOINTS "endpoints"
#define NR_BPF_MAP_STATS "stats"

#define NR_BPF_ROUTES_MAX 65536    /* max_entries of `routes` */
#define NR_BPF_ENDPOINTS_MAX 16384 /* max_entries of `endpoints` */

/* Address families as the kernel numbers them (AF_INET, AF_INET6), spelled
 * out so eBPF programs need no libc header. */
#define NR_BPF_AF_INET 2
#define NR_BPF_AF_INET6 10

/* `routes` (BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC). The trie matches on
 * `family` followed by `addr`: prefixlen = 8 + the route's prefix length.
 * Look up a destination with prefixlen = 8 + 32 (or 8 + 128). */
struct nr_bpf_route_key {
	__u32 prefixlen;
	__u8 family; /* NR_BPF_AF_INET or NR_BPF_AF_INET6 */
	__u8 addr[16];
	__u8 pad[3]; /* zero */
};

enum nr_bpf_route_kind {
	NR_BPF_ROUTE_NATIVE = 1, /* remote pod CIDR, routed to node_ip on ifindex */
	NR_BPF_ROUTE_TUNNEL = 2, /* remote pod CIDR over the VXLAN device ifindex to node_ip */
	NR_BPF_ROUTE_LOCAL = 3,  /* a local endpoint (/32, /128) on host-side device ifindex */
};

/* Route flags. */
#define NR_BPF_ROUTE_F_NEXTHOP_OBJ (1u << 0) /* the kernel route uses a nexthop object */

struct nr_bpf_route_val {
	__u8 node_ip[16];  /* the remote node's underlay IP; zero for LOCAL */
	__u32 ifindex;     /* egress device in the controller's network namespace */
	__u8 node_family;  /* family of node_ip, 0 for LOCAL */
	__u8 kind;         /* enum nr_bpf_route_kind */
	__u16 flags;       /* NR_BPF_ROUTE_F_* */
	__u32 reserved;    /* zero */
};

/* `endpoints` (BPF_MAP_TYPE_HASH): one entry per local pod address. */
struct nr_bpf_endpoint_key {
	__u8 family;
	__u8 pad[3];  /* zero */
	__u8 addr[16];
};

struct nr_bpf_endpoint_val {
	__u32 ifindex;      /* host-side device (the veth peer of the pod's interface) */
	__u8 pod_mac[6];    /* the pod interface's MAC; zero when it could not be read */
	__u8 host_mac[6];   /* the host-side device's MAC */
	__u32 reserved;     /* zero */
};

/* `stats` (BPF_MAP_TYPE_PERCPU_ARRAY, NR_BPF_STAT_MAX entries): packets and
 * bytes per verdict of the tc fast path; sum over CPUs to read. */
enum nr_bpf_verdict {
	NR_BPF_STAT_REDIRECT_PEER = 0,  /* to a local pod with bpf_redirect_peer */
	NR_BPF_STAT_REDIRECT_NEIGH = 1, /* to a remote node with bpf_redirect_neigh */
	NR_BPF_STAT_REDIRECT_LOCAL = 2, /* to a local pod, MAC unknown: bpf_redirect_neigh */
	NR_BPF_STAT_PASS_TUNNEL = 3,    /* tunnelled destination the FIB sends elsewhere: kernel */
	NR_BPF_STAT_PASS_NO_ROUTE = 4,  /* destination not in our maps */
	NR_BPF_STAT_PASS_TTL = 5,       /* TTL/hop limit <= 1: the stack sends the ICMP error */
	NR_BPF_STAT_PASS_FRAGMENT = 6,  /* IP fragments and IPv6 extension headers */
	NR_BPF_STAT_PASS_NOT_IP = 7,    /* ARP, NDP and anything that is not IP */
	NR_BPF_STAT_PASS_FIB = 8,       /* the kernel FIB could not forward it (no route, MTU) */
	NR_BPF_STAT_REDIRECT_TUNNEL = 9, /* to a remote node over the VXLAN device (redirect_neigh) */
	NR_BPF_STAT_MAX = 16
};

/* Text names of the verdicts above, in order (RPC status keys are
 * "bpf_packets_<name>"): static const char *const names[] = NR_BPF_VERDICT_NAMES; */
#define NR_BPF_VERDICTS 10
#define NR_BPF_VERDICT_NAMES                                                      \
	{ "redirect_peer", "redirect_neigh", "redirect_local", "pass_tunnel",     \
	  "pass_no_route", "pass_ttl", "pass_fragment", "pass_not_ip", "pass_fib", \
	  "redirect_tunnel" }

struct nr_bpf_stat {
	__u64 packets;
	__u64 bytes;
};

#endif
