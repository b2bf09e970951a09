#include "netlink/nl_encode.h"

#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/neighbour.h>
#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

static uint16_t op_flags(enum nr_nl_op op)
{
	switch (op) {
	case NR_NL_ADD:
		return NLM_F_CREATE | NLM_F_EXCL;
	case NR_NL_REPLACE:
		return NLM_F_CREATE | NLM_F_REPLACE;
	case NR_NL_APPEND:
		return NLM_F_CREATE | NLM_F_APPEND;
	case NR_NL_DELETE:
		break;
	}
	return 0;
}

static struct nlmsghdr *put_header(void *buf, uint16_t type, enum nr_nl_op op)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | op_flags(op);
	return nlh;
}

static void put_addr(struct nlmsghdr *nlh, uint16_t type, const struct nr_addr *a)
{
	mnl_attr_put(nlh, type, nr_addr_size(a->family), a->bytes);
}

static void encode_nexthop(struct nlmsghdr *nlh, const struct nr_knexthop *nh,
			   enum nr_nl_op op, uint8_t protocol)
{
	struct nhmsg *nhm = mnl_nlmsg_put_extra_header(nlh, sizeof(*nhm));

	mnl_attr_put_u32(nlh, NHA_ID, nh->id);
	if (op == NR_NL_DELETE)
		return;
	/* A device-only nexthop still needs a family; AF_INET is what
	 * iproute2 ends up with too. */
	nhm->nh_family = nh->gw.family ? nh->gw.family : AF_INET;
	nhm->nh_protocol = protocol;
	nhm->nh_flags = nh->onlink ? RTNH_F_ONLINK : 0;
	if (nh->gw.family)
		put_addr(nlh, NHA_GATEWAY, &nh->gw);
	mnl_attr_put_u32(nlh, NHA_OIF, nh->ifindex);
}

static void encode_route_via(struct nlmsghdr *nlh, const struct nr_kroute *r)
{
	struct nlattr *metrics;

	if (r->nh_id) {
		mnl_attr_put_u32(nlh, RTA_NH_ID, r->nh_id);
	} else {
		if (r->gw.family)
			put_addr(nlh, RTA_GATEWAY, &r->gw);
		if (r->ifindex)
			mnl_attr_put_u32(nlh, RTA_OIF, r->ifindex);
	}
	if (r->src.family)
		put_addr(nlh, RTA_PREFSRC, &r->src);
	if (r->mtu) {
		metrics = mnl_attr_nest_start(nlh, RTA_METRICS);
		mnl_attr_put_u32(nlh, RTAX_MTU, r->mtu);
		mnl_attr_nest_end(nlh, metrics);
	}
}

static void encode_route(struct nlmsghdr *nlh, const struct nr_kroute *r,
			 enum nr_nl_op op, const struct nr_nl_owner *owner)
{
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = op == NR_NL_DELETE ? RTM_DELROUTE : RTM_NEWROUTE;
	rtm->rtm_family = r->dst.addr.family;
	rtm->rtm_dst_len = r->dst.len;
	/* Tables above 255 only fit in RTA_TABLE; sending both is harmless. */
	rtm->rtm_table = owner->table < 256 ? (uint8_t)owner->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = owner->protocol;
	mnl_attr_put_u32(nlh, RTA_TABLE, owner->table);
	if (r->dst.len)
		put_addr(nlh, RTA_DST, &r->dst.addr);
	if (op == NR_NL_DELETE) {
		/* NOWHERE + UNSPEC type: match our route whatever its scope. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		return;
	}
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = RTN_UNICAST;
	if (r->onlink && !r->nh_id)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	encode_route_via(nlh, r);
}

static void encode_neigh(struct nlmsghdr *nlh, const struct nr_kneigh *n,
			 enum nr_nl_op op)
{
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	nlh->nlmsg_type = op == NR_NL_DELETE ? RTM_DELNEIGH : RTM_NEWNEIGH;
	ndm->ndm_family = n->ip.family;
	ndm->ndm_ifindex = (int)n->ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	put_addr(nlh, NDA_DST, &n->ip);
	if (op != NR_NL_DELETE)
		mnl_attr_put(nlh, NDA_LLADDR, ETH_ALEN, n->mac);
}

/* `bridge fdb append MAC dev nr_vxlan dst IP self permanent`. */
static void encode_fdb(struct nlmsghdr *nlh, const struct nr_kfdb *f,
		       enum nr_nl_op op)
{
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));

	nlh->nlmsg_type = op == NR_NL_DELETE ? RTM_DELNEIGH : RTM_NEWNEIGH;
	ndm->ndm_family = AF_BRIDGE;
	ndm->ndm_ifindex = (int)f->ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	ndm->ndm_flags = NTF_SELF;
	mnl_attr_put(nlh, NDA_LLADDR, ETH_ALEN, f->mac);
	put_addr(nlh, NDA_DST, &f->dst);
}

struct nlmsghdr *nr_nl_encode(void *buf, const struct nr_nl_object *obj,
			      enum nr_nl_op op, const struct nr_nl_owner *owner)
{
	struct nlmsghdr *nlh = put_header(buf, 0, op);

	switch (obj->kind) {
	case NR_NL_NEXTHOP:
		nlh->nlmsg_type = op == NR_NL_DELETE ? RTM_DELNEXTHOP : RTM_NEWNEXTHOP;
		encode_nexthop(nlh, &obj->u.nh, op, owner->protocol);
		break;
	case NR_NL_ROUTE:
		encode_route(nlh, &obj->u.route, op, owner);
		break;
	case NR_NL_NEIGH:
		encode_neigh(nlh, &obj->u.neigh, op);
		break;
	case NR_NL_FDB:
		encode_fdb(nlh, &obj->u.fdb, op);
		break;
	}
	return nlh;
}
