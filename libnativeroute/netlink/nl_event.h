/* Reading kernel notifications from an event socket (nr_nl_open with
 * NR_NL_EVENTS). Decode them with nl_parse.h. */
#ifndef NR_NETLINK_NL_EVENT_H
#define NR_NETLINK_NL_EVENT_H

#include "netlink/nl_socket.h"

/* Called once per notification. Return 0 to go on, <0 to stop reading
 * (that value is returned by nr_nl_event_read). */
typedef int (*nr_nl_event_cb)(const struct nlmsghdr *nlh, void *data);

/* Read every notification already queued on the socket without blocking
 * (call it when the fd polls readable), calling cb for each. Returns the
 * number of notifications, or -ENOBUFS when the kernel had to drop some
 * because we fell behind: the caller no longer knows the kernel state and
 * must resync with full dumps (the socket stays usable). Messages not sent
 * by the kernel are ignored. */
int nr_nl_event_read(struct nr_nl *nl, nr_nl_event_cb cb, void *data);

#endif
