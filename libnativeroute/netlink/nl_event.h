/* Reading kernel notifications from an event socket (nr_nl_open with
 * NR_NL_EVENTS). Decode them with nl_parse.h. */
#ifndef NR_NETLINK_NL_EVENT_H
#define NR_NETLINK_NL_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "netlink/nl_socket.h"

/* Called once per notification. Return 0 to go on, <0 to stop reading
 * (that value is returned by nr_nl_event_read). */
typedef int (*nr_nl_event_cb)(const struct nlmsghdr *nlh, void *data);

/* Read the notifications already queued on the socket without blocking
 * (call it when the fd polls readable), calling cb for each: at most
 * NR_NL_EVENT_READS datagrams per call, so a stream of notifications does
 * not hold the caller (the fd still polls readable when more are queued).
 * Returns the number of notifications, or -ENOBUFS when the kernel had to drop some
 * because we fell behind: the caller no longer knows the kernel state and
 * must resync with full dumps (the socket stays usable). Messages not sent
 * by the kernel are ignored. */
#define NR_NL_EVENT_READS 64
int nr_nl_event_read(struct nr_nl *nl, nr_nl_event_cb cb, void *data);

/* Have the kernel drop the echoes of our own changes (routes, nexthops,
 * neighbours, addresses made through the sockets with these port ids,
 * at most 8) before they reach the event socket: a batch of 10,000 routes
 * would otherwise queue 10,000 notifications we only read to discard, and
 * crowd out others' until the queue overflows. Links' notifications are
 * kept. Returns 0 or -errno. */
int nr_nl_event_ignore_echoes(struct nr_nl *nl, const uint32_t *portids, size_t n);

#endif
