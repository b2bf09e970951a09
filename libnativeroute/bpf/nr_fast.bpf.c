/* The tc fast path ("Host Routing: BPF"), attached at tc ingress (clsact)
 * of every pod's host-side device (nr_from_pod) and of the underlay and
 * VXLAN devices (nr_from_underlay). It forwards what the pinned maps say is
 * ours and leaves everything else to the kernel stack:
 *   destination is a local endpoint  -> bpf_redirect_peer into the pod's
 *       namespace (MACs rewritten, TTL decremented); pod MAC unknown ->
 *       bpf_redirect_neigh to its host-side device;
 *   from a pod, a remote CIDR routed natively -> bpf_fib_lookup (the kernel
 *       FIB stays the authority: policy, MTU, forwarding switch) and
 *       bpf_redirect_neigh to the gateway it returns (the kernel resolves and
 *       keeps the MAC; a MAC copied from a neighbour entry could go stale);
 *   from a pod, a tunnelled CIDR -> the same FIB lookup, and
 *       bpf_redirect_neigh into the VXLAN device to the VTEP gateway: its
 *       permanent neighbour entry and FDB entry (the controller's) encapsulate
 *       to the remote node, the host's IP forwarding is skipped;
 *   unknown destinations, TTL <= 1, fragments, IPv6 extension headers,
 *       non-IP, FIB failures -> TC_ACT_OK.
 * Every verdict is counted in `stats`. Only uapi headers are used (packet
 * headers and __sk_buff are stable ABI), so this builds in any fresh clone
 * without vmlinux.h. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "nativeroute/bpf.h"

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/* The same definitions as libnativeroute/bpf/bpf_maps.c creates; the
 * loader reuses the pinned maps (bpf_map__reuse_fd). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct nr_bpf_route_key);
	__type(value, struct nr_bpf_route_val);
	__uint(max_entries, NR_BPF_ROUTES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct nr_bpf_endpoint_key);
	__type(value, struct nr_bpf_endpoint_val);
	__uint(max_entries, NR_BPF_ENDPOINTS_MAX);
} endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct nr_bpf_stat);
	__uint(max_entries, NR_BPF_STAT_MAX);
} stats SEC(".maps");

static __always_inline int verdict(struct __sk_buff *skb, __u32 v, int act)
{
	struct nr_bpf_stat *s = bpf_map_lookup_elem(&stats, &v);

	if (s) {
		s->packets++;
		s->bytes += skb->len;
	}
	return act;
}

/* What one packet is, read before anything is written (writes invalidate
 * the packet pointers). */
struct pkt {
	__u8 family;
	__u8 ttl;
	__u8 proto;
	__u8 tos;
	__u32 flowinfo;
	__u8 src[16];
	__u8 dst[16];
};

/* 0: an IP packet we may forward; else the PASS verdict. */
static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return NR_BPF_STAT_PASS_NOT_IP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return NR_BPF_STAT_PASS_NOT_IP;
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return NR_BPF_STAT_PASS_FRAGMENT;
		p->family = NR_BPF_AF_INET;
		p->ttl = ip->ttl;
		p->proto = ip->protocol;
		p->tos = ip->tos;
		__builtin_memcpy(p->src, &ip->saddr, 4);
		__builtin_memcpy(p->dst, &ip->daddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return NR_BPF_STAT_PASS_NOT_IP;
		/* extension headers (hop-by-hop, routing, fragment, ...): the
		 * stack knows them all */
		if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP &&
		    ip6->nexthdr != IPPROTO_ICMPV6 && ip6->nexthdr != IPPROTO_SCTP)
			return NR_BPF_STAT_PASS_FRAGMENT;
		p->family = NR_BPF_AF_INET6;
		p->ttl = ip6->hop_limit;
		p->proto = ip6->nexthdr;
		p->flowinfo = *(__u32 *)ip6 & bpf_htonl(0x0fffffff);
		__builtin_memcpy(p->src, &ip6->saddr, 16);
		__builtin_memcpy(p->dst, &ip6->daddr, 16);
	} else {
		return NR_BPF_STAT_PASS_NOT_IP;
	}
	if (p->ttl <= 1)
		return NR_BPF_STAT_PASS_TTL; /* the stack sends Time Exceeded */
	return 0;
}

/* TTL / hop limit - 1, with the IPv4 header checksum fixed incrementally. */
static __always_inline int decrement_ttl(struct __sk_buff *skb, const struct pkt *p)
{
	if (p->family == NR_BPF_AF_INET) {
		__u32 off = ETH_HLEN + offsetof(struct iphdr, ttl);
		__u16 old = bpf_htons((__u16)p->ttl << 8 | p->proto);
		__u16 new = bpf_htons((__u16)(p->ttl - 1) << 8 | p->proto);
		__u8 ttl = p->ttl - 1;

		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2))
			return -1;
		return bpf_skb_store_bytes(skb, off, &ttl, 1, 0);
	} else {
		__u8 hl = p->ttl - 1;

		return bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, hop_limit), &hl, 1, 0);
	}
}

static __always_inline int to_endpoint(struct __sk_buff *skb, const struct pkt *p,
				       const struct nr_bpf_endpoint_val *ep)
{
	const __u8 *m = ep->pod_mac;

	if (decrement_ttl(skb, p))
		return verdict(skb, NR_BPF_STAT_PASS_FIB, TC_ACT_OK);
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5])) /* not a veth we could read */
		return verdict(skb, NR_BPF_STAT_REDIRECT_LOCAL, bpf_redirect_neigh(ep->ifindex, 0, 0, 0));
	if (bpf_skb_store_bytes(skb, 0, ep->pod_mac, 6, 0) ||
	    bpf_skb_store_bytes(skb, 6, ep->host_mac, 6, 0))
		return verdict(skb, NR_BPF_STAT_PASS_FIB, TC_ACT_OK);
	return verdict(skb, NR_BPF_STAT_REDIRECT_PEER, bpf_redirect_peer(ep->ifindex, 0));
}

static __always_inline int to_remote(struct __sk_buff *skb, const struct pkt *p,
				     const struct nr_bpf_route_val *rt)
{
	struct bpf_fib_lookup fib = {};
	struct bpf_redir_neigh nh = {};
	long rc;

	fib.ifindex = skb->ingress_ifindex;
	fib.l4_protocol = p->proto;
	/* tot_len 0: the kernel checks the skb itself against the egress MTU,
	 * GSO-aware (a 64 KiB TSO packet from a pod fits as its segments do;
	 * an explicit tot_len would fail it with FRAG_NEEDED) */
	fib.tot_len = 0;
	if (p->family == NR_BPF_AF_INET) {
		fib.family = NR_BPF_AF_INET;
		fib.tos = p->tos;
		__builtin_memcpy(&fib.ipv4_src, p->src, 4);
		__builtin_memcpy(&fib.ipv4_dst, p->dst, 4);
	} else {
		fib.family = NR_BPF_AF_INET6;
		fib.flowinfo = p->flowinfo;
		__builtin_memcpy(fib.ipv6_src, p->src, 16);
		__builtin_memcpy(fib.ipv6_dst, p->dst, 16);
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	/* NO_NEIGH is fine: bpf_redirect_neigh resolves the next hop itself */
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return verdict(skb, NR_BPF_STAT_PASS_FIB, TC_ACT_OK);
	/* a tunnelled CIDR must leave by our VXLAN device; if the kernel
	 * routes it elsewhere (a route being switched), it decides */
	if (rt->kind == NR_BPF_ROUTE_TUNNEL && fib.ifindex != rt->ifindex)
		return verdict(skb, NR_BPF_STAT_PASS_TUNNEL, TC_ACT_OK);
	if (fib.family == NR_BPF_AF_INET) {
		nh.nh_family = NR_BPF_AF_INET;
		nh.ipv4_nh = fib.ipv4_dst; /* the gateway, after the lookup */
	} else {
		nh.nh_family = NR_BPF_AF_INET6;
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
	}
	if (decrement_ttl(skb, p))
		return verdict(skb, NR_BPF_STAT_PASS_FIB, TC_ACT_OK);
	return verdict(skb, rt->kind == NR_BPF_ROUTE_TUNNEL ? NR_BPF_STAT_REDIRECT_TUNNEL
							    : NR_BPF_STAT_REDIRECT_NEIGH,
		       bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0));
}

static __always_inline int fast(struct __sk_buff *skb, int from_pod)
{
	struct nr_bpf_endpoint_key ek = {};
	struct nr_bpf_route_key rk = {};
	struct nr_bpf_endpoint_val *ep;
	struct nr_bpf_route_val *rt;
	struct pkt p = {};
	int v = parse(skb, &p);

	if (v)
		return verdict(skb, v, TC_ACT_OK);
	ek.family = p.family;
	__builtin_memcpy(ek.addr, p.dst, 16);
	ep = bpf_map_lookup_elem(&endpoints, &ek);
	if (ep) {
		struct nr_bpf_endpoint_val copy = *ep; /* the entry may change under us */

		if (copy.ifindex == skb->ingress_ifindex) /* hairpin: the stack decides */
			return verdict(skb, NR_BPF_STAT_PASS_NO_ROUTE, TC_ACT_OK);
		return to_endpoint(skb, &p, &copy);
	}
	if (!from_pod)
		return verdict(skb, NR_BPF_STAT_PASS_NO_ROUTE, TC_ACT_OK);
	rk.prefixlen = 8 + (p.family == NR_BPF_AF_INET ? 32 : 128);
	rk.family = p.family;
	__builtin_memcpy(rk.addr, p.dst, 16);
	rt = bpf_map_lookup_elem(&routes, &rk);
	if (!rt)
		return verdict(skb, NR_BPF_STAT_PASS_NO_ROUTE, TC_ACT_OK);
	struct nr_bpf_route_val route = *rt;
	if (route.kind != NR_BPF_ROUTE_NATIVE && route.kind != NR_BPF_ROUTE_TUNNEL)
		return verdict(skb, NR_BPF_STAT_PASS_NO_ROUTE, TC_ACT_OK);
	return to_remote(skb, &p, &route);
}

SEC("tc")
int nr_from_pod(struct __sk_buff *skb)
{
	return fast(skb, 1);
}

SEC("tc")
int nr_from_underlay(struct __sk_buff *skb)
{
	return fast(skb, 0);
}

char LICENSE[] SEC("license") = "GPL";
