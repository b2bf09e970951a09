/* Links and addresses, looked up and changed through netlink only: the
 * libc helpers (if_nametoindex, ioctls) work on the caller's namespace, not
 * the socket's. */
#ifndef NR_NETLINK_NL_LINK_H
#define NR_NETLINK_NL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <net/if.h>
#include <linux/netlink.h>

#include "netlink/nl_socket.h"
#include "util/addr.h"

struct nr_nl_link {
	uint32_t ifindex;
	char name[IFNAMSIZ];
	uint32_t mtu;
	bool up;            /* administratively up (IFF_UP) */
	uint8_t mac[6];     /* zero for links without one */
	char kind[16];      /* IFLA_INFO_KIND ("vxlan", "veth"), "" if none */
};

/* Decode an RTM_NEWLINK message (reply or event). 0 or -EBADMSG. */
int nr_nl_link_parse(const struct nlmsghdr *nlh, struct nr_nl_link *out);

/* Look a link up by name (ifindex 0) or by index (name NULL). -ENODEV
 * ("link eth7: No such device (ENODEV)") when it does not exist. */
int nr_nl_link_get(struct nr_nl *nl, const char *name, uint32_t ifindex,
		   struct nr_nl_link *out, struct nr_err *err);

/* Shorthand: the ifindex of `name`. */
int nr_nl_link_index(struct nr_nl *nl, const char *name, uint32_t *ifindex,
		     struct nr_err *err);

int nr_nl_link_set_up(struct nr_nl *nl, uint32_t ifindex, bool up,
		      struct nr_err *err);
int nr_nl_link_set_mtu(struct nr_nl *nl, uint32_t ifindex, uint32_t mtu,
		       struct nr_err *err);
int nr_nl_link_set_mac(struct nr_nl *nl, uint32_t ifindex, const uint8_t mac[6],
		       struct nr_err *err);
int nr_nl_link_delete(struct nr_nl *nl, uint32_t ifindex, struct nr_err *err);

/* Add `addr`/prefixlen to a link; already present is success. IPv6
 * addresses skip duplicate address detection (IFA_F_NODAD) so they are
 * usable at once: they are ours by construction. */
int nr_nl_addr_add(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		   uint8_t prefixlen, struct nr_err *err);

/* Remove `addr`/prefixlen from a link. */
int nr_nl_addr_del(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		   uint8_t prefixlen, struct nr_err *err);

/* 1 when link `ifindex` holds `addr`, 0 when not, -errno on failure. */
int nr_nl_addr_present(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		       struct nr_err *err);

/* The same, telling whether it was missing: 1 = added now, 0 = it was
 * there already (nothing changed). */
int nr_nl_addr_restore(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		       uint8_t prefixlen, struct nr_err *err);

/* The link that holds local address `addr` (e.g. the underlay device of
 * the node IP). -EADDRNOTAVAIL when no link has it. */
int nr_nl_addr_find(struct nr_nl *nl, const struct nr_addr *addr,
		    uint32_t *ifindex, struct nr_err *err);

#endif
