/* What the fast path needs to know about a pod's link: the host-side
 * device's MAC and the MAC of its veth peer inside the pod's namespace
 * (read with IFLA_TARGET_NETNSID, so we never enter the pod's namespace). */
#ifndef NR_BPF_BPF_LINK_H
#define NR_BPF_BPF_LINK_H

#include <stdint.h>

#include "netlink/nl_socket.h"
#include "util/err.h"

/* host_mac of link `ifindex`; pod_mac of its veth peer, zero when the link
 * is not a veth or the peer cannot be read. Errors: the link is gone. */
int nr_bpf_link_macs(struct nr_nl *nl, uint32_t ifindex, uint8_t host_mac[6], uint8_t pod_mac[6],
		     struct nr_err *err);

#endif
