#include "netlink/nl_link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_encode.h"
#include "netlink/nl_request.h"

static int link_info_cb(const struct nlattr *attr, void *data)
{
	struct nr_nl_link *l = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct nr_nl_link *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			l->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == ETH_ALEN)
			memcpy(l->mac, mnl_attr_get_payload(attr), ETH_ALEN);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, link_info_cb, l);
		break;
	}
	return MNL_CB_OK;
}

int nr_nl_link_parse(const struct nlmsghdr *nlh, struct nr_nl_link *out)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	memset(out, 0, sizeof(*out));
	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EBADMSG;
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->up = ifi->ifi_flags & IFF_UP;
	return mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, out) < 0 ? -EBADMSG : 0;
}

static int link_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nr_nl_link_parse(nlh, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags,
				 uint32_t ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifi->ifi_index = (int)ifindex;
	return nlh;
}

int nr_nl_link_get(struct nr_nl *nl, const char *name, uint32_t ifindex,
		   struct nr_nl_link *out, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], what[IFNAMSIZ + 16];
	struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, 0, name ? 0 : ifindex);

	if (name) {
		if (strlen(name) >= IFNAMSIZ)
			return nr_err_set(err, -EINVAL, "link %s: name too long", name);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		snprintf(what, sizeof(what), "link %s", name);
	} else {
		snprintf(what, sizeof(what), "link #%u", ifindex);
	}
	memset(out, 0, sizeof(*out));
	return nr_nl_request(nl, nlh, link_reply_cb, out, what, err);
}

int nr_nl_link_index(struct nr_nl *nl, const char *name, uint32_t *ifindex,
		     struct nr_err *err)
{
	struct nr_nl_link l;
	int r = nr_nl_link_get(nl, name, 0, &l, err);

	if (r == 0)
		*ifindex = l.ifindex;
	return r;
}

/* Change one property of an existing link (RTM_NEWLINK without CREATE). */
static int link_change(struct nr_nl *nl, struct nlmsghdr *nlh, uint32_t ifindex,
		       const char *change, struct nr_err *err)
{
	char what[64];

	snprintf(what, sizeof(what), "link #%u: %s", ifindex, change);
	return nr_nl_request(nl, nlh, NULL, NULL, what, err);
}

int nr_nl_link_set_up(struct nr_nl *nl, uint32_t ifindex, bool up,
		      struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return link_change(nl, nlh, ifindex, up ? "set up" : "set down", err);
}

int nr_nl_link_set_mtu(struct nr_nl *nl, uint32_t ifindex, uint32_t mtu,
		       struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], change[32];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);

	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	snprintf(change, sizeof(change), "set mtu %u", mtu);
	return link_change(nl, nlh, ifindex, change, err);
}

int nr_nl_link_set_mac(struct nr_nl *nl, uint32_t ifindex, const uint8_t mac[6],
		       struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);

	mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, mac);
	return link_change(nl, nlh, ifindex, "set address", err);
}

int nr_nl_link_delete(struct nr_nl *nl, uint32_t ifindex, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX];

	return link_change(nl, link_msg(buf, RTM_DELLINK, 0, ifindex), ifindex,
			   "delete", err);
}

/* ---- addresses ------------------------------------------------------- */

static int addr_change(struct nr_nl *nl, uint16_t type, uint32_t ifindex, const struct nr_addr *addr,
		       uint8_t prefixlen, struct nr_err *err);

int nr_nl_addr_add(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		   uint8_t prefixlen, struct nr_err *err)
{
	return addr_change(nl, RTM_NEWADDR, ifindex, addr, prefixlen, err);
}

int nr_nl_addr_del(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		   uint8_t prefixlen, struct nr_err *err)
{
	return addr_change(nl, RTM_DELADDR, ifindex, addr, prefixlen, err);
}

static int addr_change(struct nr_nl *nl, uint16_t type, uint32_t ifindex, const struct nr_addr *addr,
		       uint8_t prefixlen, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], a[NR_ADDR_STRLEN], what[NR_ADDR_STRLEN + 32];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t size = nr_addr_size(addr->family);

	snprintf(what, sizeof(what), "address %s/%u on link #%u",
		 nr_addr_str(addr, a, sizeof(a)), prefixlen, ifindex);
	if (!size || prefixlen > nr_addr_bits(addr->family))
		return nr_err_set(err, -EINVAL, "%s: invalid address", what);
	nlh->nlmsg_type = type;
	/* REPLACE: adding an address that is already there succeeds. */
	nlh->nlmsg_flags = type == RTM_NEWADDR ? NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE
					       : NLM_F_REQUEST;
	ifa->ifa_family = addr->family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_index = ifindex;
	if (addr->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, size, addr->bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, size, addr->bytes);
	return nr_nl_request(nl, nlh, NULL, NULL, what, err);
}

int nr_nl_addr_restore(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		       uint8_t prefixlen, struct nr_err *err)
{
	int r = nr_nl_addr_present(nl, ifindex, addr, err);

	if (r != 0)
		return r < 0 ? r : 0; /* there already: nothing changed */
	r = nr_nl_addr_add(nl, ifindex, addr, prefixlen, err);
	return r < 0 ? r : 1;
}

struct addr_find {
	const struct nr_addr *addr;
	uint32_t ifindex;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	struct addr_find *af = data;
	uint16_t type = mnl_attr_get_type(attr);
	size_t size = nr_addr_size(af->addr->family);

	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on
	 * point-to-point links, and the only one for IPv6. */
	if ((type == IFA_LOCAL || (type == IFA_ADDRESS && af->addr->family == AF_INET6)) &&
	    mnl_attr_get_payload_len(attr) == size &&
	    !memcmp(mnl_attr_get_payload(attr), af->addr->bytes, size))
		return MNL_CB_STOP;
	return MNL_CB_OK;
}

static int addr_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_find *af = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWADDR || af->ifindex ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) || ifa->ifa_family != af->addr->family)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, af) == MNL_CB_STOP)
		af->ifindex = ifa->ifa_index;
	return MNL_CB_OK;
}

static int addr_lookup(struct nr_nl *nl, const struct nr_addr *addr, uint32_t on,
		       uint32_t *ifindex, struct nr_err *err);

int nr_nl_addr_find(struct nr_nl *nl, const struct nr_addr *addr,
		    uint32_t *ifindex, struct nr_err *err)
{
	return addr_lookup(nl, addr, 0, ifindex, err);
}

int nr_nl_addr_present(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		       struct nr_err *err)
{
	uint32_t at;
	int r = addr_lookup(nl, addr, ifindex, &at, err);

	return r == -EADDRNOTAVAIL ? 0 : r < 0 ? r : at == ifindex;
}

static int addr_lookup(struct nr_nl *nl, const struct nr_addr *addr, uint32_t on,
		       uint32_t *ifindex, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], a[NR_ADDR_STRLEN], what[NR_ADDR_STRLEN + 16];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_find af = { .addr = addr };
	int r;

	snprintf(what, sizeof(what), "address %s", nr_addr_str(addr, a, sizeof(a)));
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa->ifa_family = addr->family;
	ifa->ifa_index = on; /* 0: every link (strict checking filters by it) */
	r = nr_nl_request(nl, nlh, addr_reply_cb, &af, what, err);
	if (r < 0)
		return r;
	if (!af.ifindex)
		return nr_err_set(err, -EADDRNOTAVAIL, "%s: not on any link", what);
	*ifindex = af.ifindex;
	return 0;
}
