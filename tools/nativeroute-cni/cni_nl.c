#include "cni_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static int nl_setup(struct cni_nl *nl, const char *where)
{
	int one = 1;
	struct timeval tv = { .tv_sec = 10 };  /* a reply that never comes must not hang a runtime */

	memset(nl, 0, sizeof(*nl));
	snprintf(nl->where, sizeof(nl->where), "%s", where);
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return rc;
	}
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

int cni_nl_open(struct cni_nl *nl, const char *where)
{
	return nl_setup(nl, where);
}

struct open_in {
	struct cni_nl *nl;
	const char *path, *where;
	int rc;
};

/* Runs on its own thread: network namespaces are per thread, so only this
 * thread moves, and it moves back before it ends. */
static void *open_in_thread(void *arg)
{
	struct open_in *o = arg;
	int target, orig;

	target = open(o->path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		o->rc = -errno;
		return NULL;
	}
	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		o->rc = -errno;
		close(target);
		return NULL;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		o->rc = errno == EINVAL ? -ENOTSUP : -errno; /* EINVAL: not a netns file */
	} else {
		o->rc = nl_setup(o->nl, o->where);
		if (setns(orig, CLONE_NEWNET) < 0) {
			fprintf(stderr, "%s: cannot return to the host namespace: %s\n", CNI_PROG,
				strerror(errno));
			abort();
		}
	}
	close(orig);
	close(target);
	return NULL;
}

int cni_nl_open_in(struct cni_nl *nl, const char *netns_path, const char *where)
{
	struct open_in o = { .nl = nl, .path = netns_path, .where = where };
	pthread_t t;
	int rc;

	rc = pthread_create(&t, NULL, open_in_thread, &o);
	if (rc)
		return -rc;
	pthread_join(t, NULL);
	return o.rc;
}

void cni_nl_close(struct cni_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* ---- exchange ------------------------------------------------------------ */

typedef int (*msg_cb)(const struct nlmsghdr *nlh, void *data);

static void ext_ack_text(struct cni_nl *nl, const struct nlmsghdr *nlh, int err)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr;
	size_t off = sizeof(*e);

	snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", strerror(err));
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	mnl_attr_for_each(attr, nlh, off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(nl->errmsg, sizeof(nl->errmsg), "%s (%s)", strerror(err),
				 mnl_attr_get_str(attr));
	}
}

/* Send one request and read until its ACK (or the end of its dump). */
static int nl_talk(struct cni_nl *nl, struct nlmsghdr *req, msg_cb cb, void *data)
{
	char buf[32768];
	uint32_t seq = ++nl->seq;
	/* NLM_F_DUMP is ROOT|MATCH, and MATCH shares its bit with NLM_F_EXCL:
	 * only a GET (type % 4 == 2) with both bits is a dump. */
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && (req->nlmsg_type & 3) == 2;

	nl->errmsg[0] = '\0';
	req->nlmsg_seq = seq;
	req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *h;
		int len;

		if (n < 0) {
			int rc = errno == EAGAIN ? -ETIMEDOUT : -errno;

			snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", strerror(-rc));
			return rc;
		}
		len = (int)n;
		for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != nl->portid)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (e->error)
					ext_ack_text(nl, h, -e->error);
				return e->error; /* 0 = ACK */
			}
			if (cb && cb(h, data) < 0)
				return -EINVAL;
		}
	}
}

/* ---- links --------------------------------------------------------------- */

static int link_parse(const struct nlmsghdr *nlh, struct cni_link *out)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *li;

	memset(out, 0, sizeof(*out));
	out->link_netnsid = -1;
	out->ifindex = (uint32_t)ifm->ifi_index;
	out->up = ifm->ifi_flags & IFF_UP;
	mnl_attr_for_each(a, nlh, sizeof(*ifm)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			snprintf(out->name, sizeof(out->name), "%s", mnl_attr_get_str(a));
			break;
		case IFLA_MTU:
			out->mtu = mnl_attr_get_u32(a);
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(out->mac, mnl_attr_get_payload(a), 6);
			break;
		case IFLA_LINK_NETNSID:
			out->link_netnsid = (int32_t)mnl_attr_get_u32(a);
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(li, a)
				if (mnl_attr_get_type(li) == IFLA_INFO_KIND)
					snprintf(out->kind, sizeof(out->kind), "%s", mnl_attr_get_str(li));
			break;
		}
	}
	return 0;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		link_parse(nlh, data);
	return 0;
}

int cni_nl_link_get(struct cni_nl *nl, const char *name, uint32_t ifindex, struct cni_link *out)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	int rc;

	nlh->nlmsg_type = RTM_GETLINK;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	memset(out, 0, sizeof(*out));
	/* GETLINK answers with the link, then (with NLM_F_ACK) an ACK. */
	rc = nl_talk(nl, nlh, link_cb, out);
	if (rc == 0 && !out->ifindex)
		rc = -ENODEV;
	return rc;
}

int cni_nl_veth_add(struct cni_nl *nl, const char *host, const char *peer, int peer_netns_fd,
		    uint32_t mtu)
{
	char buf[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm)), *pifm;
	struct nlattr *info, *data, *peer_nest;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_nest_end(nlh, peer_nest);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_talk(nl, nlh, NULL, NULL);
}

int cni_nl_link_del(struct cni_nl *nl, uint32_t ifindex)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	nlh->nlmsg_type = RTM_DELLINK;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	return nl_talk(nl, nlh, NULL, NULL);
}

int cni_nl_link_set(struct cni_nl *nl, uint32_t ifindex, bool up, uint32_t mtu)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nl, nlh, NULL, NULL);
}

/* ---- addresses ----------------------------------------------------------- */

static size_t ip_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int cni_nl_addr_add(struct cni_nl *nl, uint32_t ifindex, const struct cni_ip *ip, int plen)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifa->ifa_family = (uint8_t)ip->family;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* The address is ours by construction (the daemon's IPAM gave it):
	 * no duplicate address detection, usable at once. */
	ifa->ifa_flags = ip->family == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, ip_len(ip->family), ip->a);
	mnl_attr_put(nlh, IFA_ADDRESS, ip_len(ip->family), ip->a);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct addr_q {
	uint32_t ifindex;                    /* 0 = any */
	const struct cni_ip *ip;
	int plen;                            /* -1 = any */
	uint32_t found_ifindex;
	int found;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_q *q = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != q->ip->family)
		return 0;
	if ((q->ifindex && ifa->ifa_index != q->ifindex) || (q->plen >= 0 && ifa->ifa_prefixlen != q->plen))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		int t = mnl_attr_get_type(a);

		if ((t == IFA_LOCAL || (t == IFA_ADDRESS && ifa->ifa_family == AF_INET6)) &&
		    mnl_attr_get_payload_len(a) == ip_len(q->ip->family) &&
		    !memcmp(mnl_attr_get_payload(a), q->ip->a, ip_len(q->ip->family))) {
			q->found = 1;
			q->found_ifindex = ifa->ifa_index;
		}
	}
	return 0;
}

static int addr_dump(struct cni_nl *nl, struct addr_q *q)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	int rc;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifa->ifa_family = (uint8_t)q->ip->family;
	rc = nl_talk(nl, nlh, addr_cb, q);
	return rc < 0 ? rc : q->found;
}

int cni_nl_addr_has(struct cni_nl *nl, uint32_t ifindex, const struct cni_ip *ip, int plen)
{
	struct addr_q q = { .ifindex = ifindex, .ip = ip, .plen = plen };

	return addr_dump(nl, &q);
}

int cni_nl_addr_link(struct cni_nl *nl, const struct cni_ip *ip, uint32_t *ifindex)
{
	struct addr_q q = { .ip = ip, .plen = -1 };
	int rc = addr_dump(nl, &q);

	if (rc < 0)
		return rc;
	if (!rc)
		return -EADDRNOTAVAIL;
	*ifindex = q.found_ifindex;
	return 0;
}

/* ---- routes -------------------------------------------------------------- */

int cni_nl_route_add(struct cni_nl *nl, int family, const struct cni_ip *dst, int dst_len,
		     const struct cni_ip *gw, uint32_t oif, uint8_t scope)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)(dst ? dst_len : 0);
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT; /* as `ip route add`: what a person would have typed */
	rtm->rtm_scope = scope;
	rtm->rtm_type = RTN_UNICAST;
	if (dst)
		mnl_attr_put(nlh, RTA_DST, ip_len(family), dst->a);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, ip_len(family), gw->a);
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	return nl_talk(nl, nlh, NULL, NULL);
}

struct route_q {
	int family, dst_len;
	const struct cni_ip *dst, *gw;
	uint32_t oif;
	int found;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_q *q = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t n = ip_len(q->family);
	bool dst_ok = !q->dst, gw_ok = !q->gw;
	uint32_t oif = 0, table = rtm->rtm_table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != q->family ||
	    rtm->rtm_dst_len != (q->dst ? q->dst_len : 0) || rtm->rtm_type != RTN_UNICAST)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			dst_ok = q->dst && mnl_attr_get_payload_len(a) == n &&
				 !memcmp(mnl_attr_get_payload(a), q->dst->a, n);
			break;
		case RTA_GATEWAY:
			gw_ok = q->gw && mnl_attr_get_payload_len(a) == n &&
				!memcmp(mnl_attr_get_payload(a), q->gw->a, n);
			break;
		case RTA_OIF:
			oif = mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			table = mnl_attr_get_u32(a);
			break;
		}
	}
	if (table == RT_TABLE_MAIN && dst_ok && gw_ok && (!q->oif || oif == q->oif))
		q->found = 1;
	return 0;
}

int cni_nl_route_has(struct cni_nl *nl, int family, const struct cni_ip *dst, int dst_len,
		     const struct cni_ip *gw, uint32_t oif)
{
	char buf[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_q q = { .family = family, .dst_len = dst_len, .dst = dst, .gw = gw, .oif = oif };
	int rc;

	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_DUMP;
	rtm->rtm_family = (uint8_t)family;
	rc = nl_talk(nl, nlh, route_cb, &q);
	return rc < 0 ? rc : q.found;
}
