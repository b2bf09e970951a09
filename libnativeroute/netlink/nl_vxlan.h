/* The VXLAN device of tunnel and hybrid mode (`nr_vxlan`, UDP 8472, like
 * Cilium's). FDB mode: no learning, the reconciler installs one FDB entry
 * and one permanent neighbour per remote node. */
#ifndef NR_NETLINK_NL_VXLAN_H
#define NR_NETLINK_NL_VXLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <net/if.h>

#include "netlink/nl_socket.h"
#include "util/addr.h"

#define NR_VXLAN_NAME "nr_vxlan"
#define NR_VXLAN_VNI 1
#define NR_VXLAN_PORT 8472
/* Encapsulation cost: outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8; an
 * IPv6 underlay adds 20 more. */
#define NR_VXLAN_OVERHEAD4 50
#define NR_VXLAN_OVERHEAD6 70

struct nr_nl_vxlan {
	char name[IFNAMSIZ]; /* "" = NR_VXLAN_NAME */
	uint32_t vni;        /* 0 = NR_VXLAN_VNI */
	uint16_t port;       /* UDP destination port, 0 = NR_VXLAN_PORT */
	struct nr_addr local;/* the node IP: source of outer packets */
	uint32_t link;       /* underlay ifindex; 0 = the link holding `local` */
	uint32_t mtu;        /* 0 = underlay MTU - overhead */
	uint8_t mac[6];      /* deterministic (nr_vtep_mac), so peers know it */
	bool learning;       /* normally false: entries come from us */
};

/* Read the VXLAN device `name` into *out (defaults are not applied).
 * -ENODEV if absent, -EMEDIUMTYPE if `name` is not a VXLAN device. */
int nr_nl_vxlan_get(struct nr_nl *nl, const char *name, struct nr_nl_vxlan *out,
		    uint32_t *ifindex, struct nr_err *err);

/* Make sure the device exists as `want` says and is up. Creates it when
 * absent (returns 0), adopts an existing one whose VNI, port, local
 * address, learning and underlay match (returns 1; MTU and MAC, which can
 * change in place, are corrected), and otherwise refuses with -EEXIST and
 * text listing every difference ("nr_vxlan exists with vni 5 (want 1)") so
 * the caller can decide to delete it. *ifindex is set on success. */
int nr_nl_vxlan_ensure(struct nr_nl *nl, const struct nr_nl_vxlan *want,
		       uint32_t *ifindex, struct nr_err *err);

#endif
