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
	char alias[64];      /* IFLA_IFALIAS as read; ours carry NR_VXLAN_ALIAS */
};

/* The mark of our device: a device of our name without it (and without the
 * MAC we derive from its local address, which older versions set) is
 * someone else's and is never changed or deleted. */
#define NR_VXLAN_ALIAS "nativeroute"

/* Whether `have` (from nr_nl_vxlan_get) is ours. */
bool nr_nl_vxlan_owned(const struct nr_nl_vxlan *have);

/* Read the VXLAN device `name` into *out (defaults are not applied).
 * -ENODEV if absent, -EMEDIUMTYPE if `name` is not a VXLAN device. */
int nr_nl_vxlan_get(struct nr_nl *nl, const char *name, struct nr_nl_vxlan *out,
		    uint32_t *ifindex, struct nr_err *err);

/* Make sure the device exists as `want` says and is up. Creates it when
 * absent (returns 0, marked with NR_VXLAN_ALIAS). A device of that name
 * that is not ours (nr_nl_vxlan_owned) is refused with -EEXIST, untouched.
 * Ours is adopted (returns 1): MTU, MAC and the local address (a node IP
 * change) are changed in place, so the routes on it stay; a different VNI,
 * port, learning, underlay or address family needs a new device, which
 * replaces it (returns 2; the caller re-reads what was on it). *ifindex is
 * set on success. */
int nr_nl_vxlan_ensure(struct nr_nl *nl, const struct nr_nl_vxlan *want,
		       uint32_t *ifindex, struct nr_err *err);

#endif
