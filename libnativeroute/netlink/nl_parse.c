#include "netlink/nl_parse.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

/* The larger of the attribute sets we read (RTA_MAX is the biggest). */
#define ATTR_TABLE_SIZE (RTA_MAX + 1)

struct attr_table {
	const struct nlattr *tb[ATTR_TABLE_SIZE];
	uint16_t max;
};

/* Index attributes by type; unknown (newer) ones are ignored. */
static int attr_index_cb(const struct nlattr *attr, void *data)
{
	struct attr_table *t = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= t->max)
		t->tb[type] = attr;
	return MNL_CB_OK;
}

static int attr_index(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t max,
		      struct attr_table *t)
{
	memset(t, 0, sizeof(*t));
	t->max = max < ATTR_TABLE_SIZE ? max : ATTR_TABLE_SIZE - 1;
	if (nlh->nlmsg_len < mnl_nlmsg_size(hdrlen))
		return -EBADMSG;
	return mnl_attr_parse(nlh, hdrlen, attr_index_cb, t) < 0 ? -EBADMSG : 0;
}

/* Copy an address attribute; a length that does not fit the family is a
 * malformed message, not something to guess about. */
static int get_addr(const struct nlattr *attr, uint8_t family, struct nr_addr *a)
{
	size_t size = nr_addr_size(family);

	memset(a, 0, sizeof(*a));
	if (!attr)
		return 0;
	if (!size || mnl_attr_get_payload_len(attr) != size)
		return -EBADMSG;
	a->family = family;
	memcpy(a->bytes, mnl_attr_get_payload(attr), size);
	return 0;
}

static uint32_t get_u32(const struct nlattr *attr)
{
	if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
		return 0;
	return mnl_attr_get_u32(attr);
}

static bool family_ip(uint8_t family)
{
	return family == AF_INET || family == AF_INET6;
}

static uint32_t route_mtu(const struct nlattr *metrics)
{
	const struct nlattr *attr;

	if (!metrics)
		return 0;
	mnl_attr_for_each_nested(attr, metrics)
		if (mnl_attr_get_type(attr) == RTAX_MTU)
			return get_u32(attr);
	return 0;
}

static int route_addrs(const struct attr_table *t, uint8_t family,
		       struct nr_kroute *r)
{
	if (get_addr(t->tb[RTA_DST], family, &r->dst.addr) < 0 ||
	    get_addr(t->tb[RTA_GATEWAY], family, &r->gw) < 0 ||
	    get_addr(t->tb[RTA_PREFSRC], family, &r->src) < 0)
		return -EBADMSG;
	/* A default route has no RTA_DST but still a family. */
	r->dst.addr.family = family;
	return 0;
}

int nr_nl_parse_route(const struct nlmsghdr *nlh, struct nr_kroute *r,
		      struct nr_nl_route_info *info)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct attr_table t;

	memset(r, 0, sizeof(*r));
	memset(info, 0, sizeof(*info));
	if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) ||
	    attr_index(nlh, sizeof(*rtm), RTA_MAX, &t) < 0)
		return -EBADMSG;
	if (!family_ip(rtm->rtm_family))
		return -EAFNOSUPPORT;
	info->table = t.tb[RTA_TABLE] ? get_u32(t.tb[RTA_TABLE]) : rtm->rtm_table;
	info->protocol = rtm->rtm_protocol;
	info->type = rtm->rtm_type;
	info->flags = rtm->rtm_flags;
	info->multipath = t.tb[RTA_MULTIPATH] != NULL;
	if (route_addrs(&t, rtm->rtm_family, r) < 0 ||
	    rtm->rtm_dst_len > nr_addr_bits(rtm->rtm_family))
		return -EBADMSG;
	r->dst.len = rtm->rtm_dst_len;
	r->scope = rtm->rtm_scope;
	r->ifindex = get_u32(t.tb[RTA_OIF]);
	r->nh_id = get_u32(t.tb[RTA_NH_ID]);
	r->mtu = route_mtu(t.tb[RTA_METRICS]);
	r->onlink = rtm->rtm_flags & RTNH_F_ONLINK;
	if (r->nh_id) {
		/* compat-mode copies of the nexthop's fields */
		memset(&r->gw, 0, sizeof(r->gw));
		r->ifindex = 0;
		r->onlink = false;
	}
	return 0;
}

int nr_nl_parse_nexthop(const struct nlmsghdr *nlh, struct nr_knexthop *nh,
			struct nr_nl_nexthop_info *info)
{
	const struct nhmsg *nhm = mnl_nlmsg_get_payload(nlh);
	struct attr_table t;

	memset(nh, 0, sizeof(*nh));
	memset(info, 0, sizeof(*info));
	if ((nlh->nlmsg_type != RTM_NEWNEXTHOP && nlh->nlmsg_type != RTM_DELNEXTHOP) ||
	    attr_index(nlh, sizeof(*nhm), NHA_MAX, &t) < 0)
		return -EBADMSG;
	info->protocol = nhm->nh_protocol;
	info->group = t.tb[NHA_GROUP] || t.tb[NHA_BLACKHOLE] || t.tb[NHA_FDB];
	nh->id = get_u32(t.tb[NHA_ID]);
	nh->ifindex = get_u32(t.tb[NHA_OIF]);
	nh->onlink = nhm->nh_flags & RTNH_F_ONLINK;
	if (t.tb[NHA_GATEWAY] && get_addr(t.tb[NHA_GATEWAY], nhm->nh_family, &nh->gw) < 0)
		return -EBADMSG;
	return nh->id ? 0 : -EBADMSG;
}

static int parse_ndmsg(const struct nlmsghdr *nlh, struct attr_table *t,
		       struct nr_nl_neigh_info *info)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);

	memset(info, 0, sizeof(*info));
	if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
	    attr_index(nlh, sizeof(*ndm), NDA_MAX, t) < 0)
		return -EBADMSG;
	info->state = ndm->ndm_state;
	info->flags = ndm->ndm_flags;
	return 0;
}

static int get_mac(const struct nlattr *attr, uint8_t mac[6])
{
	if (!attr || mnl_attr_get_payload_len(attr) != ETH_ALEN)
		return -EBADMSG;
	memcpy(mac, mnl_attr_get_payload(attr), ETH_ALEN);
	return 0;
}

int nr_nl_parse_neigh(const struct nlmsghdr *nlh, struct nr_kneigh *n,
		      struct nr_nl_neigh_info *info)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct attr_table t;

	memset(n, 0, sizeof(*n));
	if (parse_ndmsg(nlh, &t, info) < 0)
		return -EBADMSG;
	if (!family_ip(ndm->ndm_family))
		return -EAFNOSUPPORT;
	n->ifindex = (uint32_t)ndm->ndm_ifindex;
	if (!t.tb[NDA_DST] || get_addr(t.tb[NDA_DST], ndm->ndm_family, &n->ip) < 0)
		return -EBADMSG;
	/* Incomplete/failed entries have no lladdr; the zero MAC then makes
	 * them differ from anything we program. */
	if (t.tb[NDA_LLADDR] && get_mac(t.tb[NDA_LLADDR], n->mac) < 0)
		return -EBADMSG;
	return 0;
}

/* The remote of a VXLAN FDB entry is v4 or v6; the attribute length says
 * which. */
static int fdb_dst(const struct nlattr *attr, struct nr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!attr)
		return 0;
	switch (mnl_attr_get_payload_len(attr)) {
	case 4:
		return get_addr(attr, AF_INET, a);
	case 16:
		return get_addr(attr, AF_INET6, a);
	}
	return -EBADMSG;
}

int nr_nl_parse_fdb(const struct nlmsghdr *nlh, struct nr_kfdb *f,
		    struct nr_nl_neigh_info *info)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct attr_table t;

	memset(f, 0, sizeof(*f));
	if (parse_ndmsg(nlh, &t, info) < 0)
		return -EBADMSG;
	if (ndm->ndm_family != AF_BRIDGE)
		return -EAFNOSUPPORT;
	f->ifindex = (uint32_t)ndm->ndm_ifindex;
	if (get_mac(t.tb[NDA_LLADDR], f->mac) < 0 || fdb_dst(t.tb[NDA_DST], &f->dst) < 0)
		return -EBADMSG;
	return 0;
}
