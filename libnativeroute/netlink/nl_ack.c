#include "netlink/nl_ack.h"

#include <errno.h>
#include <stddef.h>

#include <libmnl/libmnl.h>

/* Where the TLVs start: after struct nlmsgerr, plus the echoed request's
 * payload unless the kernel capped it (NETLINK_CAP_ACK, or any success). */
static size_t ack_tlv_offset(const struct nlmsghdr *nlh, const struct nlmsgerr *e)
{
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	return off;
}

static const char *ack_ext_msg(const struct nlmsghdr *nlh, const struct nlmsgerr *e)
{
	size_t off = ack_tlv_offset(nlh, e);
	size_t payload = mnl_nlmsg_get_payload_len(nlh);
	const void *tlvs = (const char *)e + off;
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= payload)
		return NULL;
	mnl_attr_for_each_payload(tlvs, payload - off) {
		if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return NULL;
		return mnl_attr_get_str(attr);
	}
	return NULL;
}

int nr_nl_ack_parse(const struct nlmsghdr *nlh, const char **msg)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	*msg = NULL;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	*msg = ack_ext_msg(nlh, e);
	return e->error;
}
