#include "bpf/bpf_link.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_encode.h"
#include "netlink/nl_request.h"

struct link_reply {
	uint8_t mac[6];
	uint32_t peer;     /* IFLA_LINK */
	int32_t peer_nsid; /* IFLA_LINK_NETNSID, -1 = same namespace */
	bool veth;
};

static int info_cb(const struct nlattr *attr, void *data)
{
	struct link_reply *l = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		l->veth = !strcmp(mnl_attr_get_str(attr), "veth");
	return MNL_CB_OK;
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct link_reply *l = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == ETH_ALEN)
			memcpy(l->mac, mnl_attr_get_payload(attr), ETH_ALEN);
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			l->peer = mnl_attr_get_u32(attr);
		break;
	case IFLA_LINK_NETNSID:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			l->peer_nsid = (int32_t)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(attr, info_cb, l);
		break;
	}
	return MNL_CB_OK;
}

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_attr_parse(nlh, sizeof(struct ifinfomsg), attr_cb, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int get_link(struct nr_nl *nl, uint32_t ifindex, int32_t nsid, struct link_reply *out,
		    struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], what[48];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi->ifi_index = (int)ifindex;
	if (nsid >= 0)
		mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, (uint32_t)nsid);
	memset(out, 0, sizeof(*out));
	out->peer_nsid = -1;
	snprintf(what, sizeof(what), "link #%u", ifindex);
	return nr_nl_request(nl, nlh, reply_cb, out, what, err);
}

int nr_bpf_link_macs(struct nr_nl *nl, uint32_t ifindex, uint8_t host_mac[6], uint8_t pod_mac[6],
		     struct nr_err *err)
{
	struct link_reply host, peer;
	struct nr_err ignored = { 0 };
	int rc = get_link(nl, ifindex, -1, &host, err);

	memset(pod_mac, 0, 6);
	if (rc < 0)
		return rc;
	memcpy(host_mac, host.mac, 6);
	/* the peer may be unreadable (namespace gone, old kernel): the fast
	 * path then lets the neighbour table find the pod's MAC */
	if (host.veth && host.peer && get_link(nl, host.peer, host.peer_nsid, &peer, &ignored) == 0)
		memcpy(pod_mac, peer.mac, 6);
	return 0;
}
