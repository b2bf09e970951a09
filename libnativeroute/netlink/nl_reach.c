#include "netlink/nl_reach.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "netlink/nl_encode.h"
#include "netlink/nl_request.h"

struct reach_reply {
	struct nr_nl_reach *out;
	uint8_t family;
	uint8_t type;
	bool seen;
};

static void reach_addr(const struct nlattr *attr, uint8_t family, struct nr_addr *a)
{
	size_t size = nr_addr_size(family);

	if (mnl_attr_get_payload_len(attr) != size)
		return;
	a->family = family;
	memcpy(a->bytes, mnl_attr_get_payload(attr), size);
}

static int reach_attr_cb(const struct nlattr *attr, void *data)
{
	struct reach_reply *rr = data;

	switch (mnl_attr_get_type(attr)) {
	case RTA_GATEWAY:
		reach_addr(attr, rr->family, &rr->out->gw);
		break;
	case RTA_PREFSRC:
		reach_addr(attr, rr->family, &rr->out->src);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			rr->out->ifindex = mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int reach_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reach_reply *rr = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || rr->seen ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	rr->seen = true;
	rr->type = rtm->rtm_type;
	return mnl_attr_parse(nlh, sizeof(*rtm), reach_attr_cb, rr) < 0 ? MNL_CB_ERROR
									: MNL_CB_OK;
}

static struct nlmsghdr *reach_request(void *buf, const struct nr_addr *ip)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rtm->rtm_family = ip->family;
	rtm->rtm_dst_len = nr_addr_bits(ip->family);
	mnl_attr_put(nlh, RTA_DST, nr_addr_size(ip->family), ip->bytes);
	return nlh;
}

/* RTN_LOCAL: our own address. Anything but unicast (the kernel answers
 * blackhole/unreachable lookups with an error already) is unreachable. */
static int reach_classify(const struct reach_reply *rr, const char *what,
			  struct nr_err *err)
{
	if (!rr->seen)
		return nr_nl_err_set(err, -ENETUNREACH, what, "no answer to the route lookup");
	if (rr->type == RTN_LOCAL) {
		rr->out->kind = NR_NL_REACH_LOCAL;
		return 0;
	}
	if (rr->type != RTN_UNICAST)
		return nr_nl_err_set(err, -ENETUNREACH, what, NULL);
	rr->out->kind = rr->out->gw.family ? NR_NL_REACH_GATEWAY : NR_NL_REACH_DIRECT;
	return 0;
}

int nr_nl_reach(struct nr_nl *nl, const struct nr_addr *ip,
		struct nr_nl_reach *out, struct nr_err *err)
{
	struct reach_reply rr = { .out = out, .family = ip->family };
	char buf[NR_NL_MSG_MAX], addr[NR_ADDR_STRLEN], what[NR_ADDR_STRLEN + 8];
	int r;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "node %s", nr_addr_str(ip, addr, sizeof(addr)));
	if (!nr_addr_size(ip->family))
		return nr_err_set(err, -EAFNOSUPPORT, "reachability: address family %u",
				  ip->family);
	r = nr_nl_request(nl, reach_request(buf, ip), reach_reply_cb, &rr, what, err);
	if (r < 0)
		return r;
	return reach_classify(&rr, what, err);
}
