/* Reading NLMSG_ERROR messages: the errno and the kernel's extended-ACK text
 * ("Nexthop has invalid gateway"), which is what makes a failure
 * understandable to a person. */
#ifndef NR_NETLINK_NL_ACK_H
#define NR_NETLINK_NL_ACK_H

#include <linux/netlink.h>

/* For an NLMSG_ERROR message: the result as a negative errno (0 = success
 * ACK) and, through *msg, the extended-ACK text or NULL when the kernel gave
 * none. *msg points into nlh. Returns -EBADMSG if the message is truncated. */
int nr_nl_ack_parse(const struct nlmsghdr *nlh, const char **msg);

#endif
