#include "netlink/nl_vxlan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "core/kstate.h"
#include "netlink/nl_encode.h"
#include "netlink/nl_link.h"
#include "netlink/nl_request.h"

struct vxlan_reply {
	struct nr_nl_link link;
	struct nr_nl_vxlan *cfg;
};

static void vxlan_local(const struct nlattr *attr, uint8_t family, struct nr_addr *a)
{
	size_t size = nr_addr_size(family);

	if (mnl_attr_get_payload_len(attr) != size)
		return;
	a->family = family;
	memcpy(a->bytes, mnl_attr_get_payload(attr), size);
}

static int vxlan_data_cb(const struct nlattr *attr, void *data)
{
	struct nr_nl_vxlan *c = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_VXLAN_ID:
		c->vni = mnl_attr_validate(attr, MNL_TYPE_U32) ? 0 : mnl_attr_get_u32(attr);
		break;
	case IFLA_VXLAN_PORT: /* network byte order */
		c->port = mnl_attr_validate(attr, MNL_TYPE_U16) ? 0 : ntohs(mnl_attr_get_u16(attr));
		break;
	case IFLA_VXLAN_LOCAL:
		vxlan_local(attr, AF_INET, &c->local);
		break;
	case IFLA_VXLAN_LOCAL6:
		vxlan_local(attr, AF_INET6, &c->local);
		break;
	case IFLA_VXLAN_LEARNING:
		c->learning = !mnl_attr_validate(attr, MNL_TYPE_U8) && mnl_attr_get_u8(attr);
		break;
	case IFLA_VXLAN_LINK:
		c->link = mnl_attr_validate(attr, MNL_TYPE_U32) ? 0 : mnl_attr_get_u32(attr);
		break;
	}
	return MNL_CB_OK;
}

static int vxlan_info_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == IFLA_INFO_DATA)
		return mnl_attr_parse_nested(attr, vxlan_data_cb, data);
	return MNL_CB_OK;
}

static int vxlan_attr_cb(const struct nlattr *attr, void *data)
{
	struct nr_nl_vxlan *c = data;

	if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
		return mnl_attr_parse_nested(attr, vxlan_info_cb, data);
	if (mnl_attr_get_type(attr) == IFLA_IFALIAS && !mnl_attr_validate(attr, MNL_TYPE_STRING))
		snprintf(c->alias, sizeof(c->alias), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

bool nr_nl_vxlan_owned(const struct nr_nl_vxlan *have)
{
	uint8_t mac[6];

	if (!strcmp(have->alias, NR_VXLAN_ALIAS))
		return true;
	if (have->alias[0] || !have->local.family)
		return false;
	nr_vtep_mac(&have->local, mac);
	return !memcmp(mac, have->mac, sizeof(mac));
}

static int vxlan_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vxlan_reply *vr = data;

	if (nr_nl_link_parse(nlh, &vr->link) < 0 ||
	    mnl_attr_parse(nlh, sizeof(struct ifinfomsg), vxlan_attr_cb, vr->cfg) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int nr_nl_vxlan_get(struct nr_nl *nl, const char *name, struct nr_nl_vxlan *out,
		    uint32_t *ifindex, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], what[IFNAMSIZ + 16];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct vxlan_reply vr = { .cfg = out };
	int r;

	if (strlen(name) >= IFNAMSIZ)
		return nr_err_set(err, -EINVAL, "vxlan %s: name too long", name);
	snprintf(what, sizeof(what), "vxlan %s", name);
	memset(out, 0, sizeof(*out));
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = nr_nl_request(nl, nlh, vxlan_reply_cb, &vr, what, err);
	if (r < 0)
		return r;
	if (strcmp(vr.link.kind, "vxlan"))
		return nr_err_set(err, -EMEDIUMTYPE, "%s: exists but is a %s device", what,
				  vr.link.kind[0] ? vr.link.kind : "non-VXLAN");
	snprintf(out->name, sizeof(out->name), "%s", vr.link.name);
	out->mtu = vr.link.mtu;
	memcpy(out->mac, vr.link.mac, sizeof(out->mac));
	*ifindex = vr.link.ifindex;
	return 0;
}

/* Fill in defaults and the MTU derived from the underlay link. */
static int vxlan_resolve(struct nr_nl *nl, const struct nr_nl_vxlan *want,
			 struct nr_nl_vxlan *full, struct nr_err *err)
{
	struct nr_nl_link under;
	uint32_t under_index = want->link;
	int r;

	*full = *want;
	if (!full->name[0])
		snprintf(full->name, sizeof(full->name), "%s", NR_VXLAN_NAME);
	if (!full->vni)
		full->vni = NR_VXLAN_VNI;
	if (!full->port)
		full->port = NR_VXLAN_PORT;
	if (full->local.family != AF_INET && full->local.family != AF_INET6)
		return nr_err_set(err, -EINVAL, "vxlan %s: needs a local IPv4 or IPv6 address",
				  full->name);
	if (full->mtu)
		return 0;
	if (!under_index && (r = nr_nl_addr_find(nl, &full->local, &under_index, err)) < 0)
		return r;
	if ((r = nr_nl_link_get(nl, NULL, under_index, &under, err)) < 0)
		return r;
	full->mtu = under.mtu - (full->local.family == AF_INET ? NR_VXLAN_OVERHEAD4
							       : NR_VXLAN_OVERHEAD6);
	return 0;
}

static void vxlan_put_data(struct nlmsghdr *nlh, const struct nr_nl_vxlan *c)
{
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	struct nlattr *data;

	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, c->vni);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(c->port));
	mnl_attr_put(nlh, c->local.family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
		     nr_addr_size(c->local.family), c->local.bytes);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, c->learning);
	if (c->link)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, c->link);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
}

/* No IPv6 link-local address of its own: forwarding needs none (the
 * gateways are the peers' link-local VTEP addresses, answered by permanent
 * neighbours), and none means no DAD, no router solicitations and no
 * address churn on a device that, in native mode, only receives. The
 * kernel takes this only once the device exists (not in its creation
 * request), and before it is up. */
static int vxlan_no_linklocal(struct nr_nl *nl, uint32_t ifindex, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *spec, *in6;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	return nr_nl_request(nl, nlh, NULL, NULL, "vxlan: no IPv6 link-local address", err);
}

static int vxlan_create(struct nr_nl *nl, const struct nr_nl_vxlan *c,
			struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX * 2], what[IFNAMSIZ + 16];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	snprintf(what, sizeof(what), "create vxlan %s", c->name);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, c->mac);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, NR_VXLAN_ALIAS);
	vxlan_put_data(nlh, c);
	return nr_nl_request(nl, nlh, NULL, NULL, what, err);
}

/* Change attributes of our live device: the local address (only that is
 * sent: the kernel refuses to change VNI or port in place) and the alias. */
static int vxlan_change(struct nr_nl *nl, uint32_t ifindex, const struct nr_nl_vxlan *c,
			bool local, struct nr_err *err)
{
	char buf[NR_NL_MSG_MAX], what[IFNAMSIZ + 32];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	snprintf(what, sizeof(what), "update vxlan %s", c->name);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, NR_VXLAN_ALIAS);
	if (local) {
		struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		struct nlattr *data;

		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put(nlh, c->local.family == AF_INET ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6,
			     nr_addr_size(c->local.family), c->local.bytes);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, info);
	}
	return nr_nl_request(nl, nlh, NULL, NULL, what, err);
}

/* Append " field X (want Y)" for each fixed property that differs.
 * Returns the number of differences. */
static int vxlan_diff(const struct nr_nl_vxlan *want, const struct nr_nl_vxlan *have,
		      char *buf, size_t len)
{
	char a[NR_ADDR_STRLEN], b[NR_ADDR_STRLEN];
	size_t at = 0;
	int n = 0;

#define DIFF(cond, ...)                                                       \
	do {                                                                  \
		if ((cond) && at < len) {                                     \
			at += (size_t)snprintf(buf + at, len - at, __VA_ARGS__); \
			n++;                                                  \
		}                                                             \
	} while (0)
	buf[0] = '\0';
	DIFF(want->vni != have->vni, " vni %u (want %u)", have->vni, want->vni);
	DIFF(want->port != have->port, " dstport %u (want %u)", have->port, want->port);
	/* a local address of the same family changes in place */
	DIFF(want->local.family != have->local.family, " local %s (want %s)",
	     have->local.family ? nr_addr_str(&have->local, a, sizeof(a)) : "none",
	     nr_addr_str(&want->local, b, sizeof(b)));
	DIFF(want->learning != have->learning, " %slearning (want %slearning)",
	     have->learning ? "" : "no", want->learning ? "" : "no");
	DIFF(want->link && want->link != have->link, " dev #%u (want #%u)", have->link,
	     want->link);
#undef DIFF
	return n;
}

/* MTU and MAC can change under a live device: fix rather than refuse. */
static int vxlan_fix(struct nr_nl *nl, uint32_t ifindex, const struct nr_nl_vxlan *want,
		     const struct nr_nl_vxlan *have, struct nr_err *err)
{
	int r = 0;

	if (want->mtu != have->mtu)
		r = nr_nl_link_set_mtu(nl, ifindex, want->mtu, err);
	if (r == 0 && memcmp(want->mac, have->mac, sizeof(want->mac)))
		r = nr_nl_link_set_mac(nl, ifindex, want->mac, err);
	return r;
}

int nr_nl_vxlan_ensure(struct nr_nl *nl, const struct nr_nl_vxlan *want,
		       uint32_t *ifindex, struct nr_err *err)
{
	struct nr_nl_vxlan full, have;
	char diff[NR_ERR_MSG_MAX - 96];
	int r, adopted = 0;

	if ((r = vxlan_resolve(nl, want, &full, err)) < 0)
		return r;
	r = nr_nl_vxlan_get(nl, full.name, &have, ifindex, err);
	if (r == 0 && !nr_nl_vxlan_owned(&have))
		return nr_err_set(err, -EEXIST,
				  "%s exists and is not ours (no \"%s\" alias, MAC not derived from "
				  "its local address): left alone; delete or rename it",
				  full.name, NR_VXLAN_ALIAS);
	if (r == 0 && vxlan_diff(&full, &have, diff, sizeof(diff))) {
		/* ours, but fixed properties differ (configuration changed):
		 * only a new device has them */
		if ((r = nr_nl_link_delete(nl, *ifindex, err)) < 0)
			return r;
		r = -ENODEV;
		adopted = 2;
	}
	if (r == -ENODEV) {
		if ((r = vxlan_create(nl, &full, err)) < 0)
			return r;
		r = nr_nl_vxlan_get(nl, full.name, &have, ifindex, err);
		if (r == 0)
			r = vxlan_no_linklocal(nl, *ifindex, err);
	} else if (r == 0) {
		bool local = !nr_addr_eq(&full.local, &have.local);

		/* local before the MAC: the MAC follows the node IP */
		if (local || strcmp(have.alias, NR_VXLAN_ALIAS))
			r = vxlan_change(nl, *ifindex, &full, local, err);
		if (r == 0)
			r = vxlan_fix(nl, *ifindex, &full, &have, err);
		adopted = 1;
	}
	if (r == 0)
		r = nr_nl_link_set_up(nl, *ifindex, true, err);
	return r < 0 ? r : adopted;
}
