/* The few /proc/sys/net switches a node needs (forwarding, proxy ARP/NDP),
 * written in a chosen network namespace: /proc/sys/net shows the namespace
 * of the thread that opens the file, so the open happens inside it. */
#ifndef NR_NETLINK_NL_SYSCTL_H
#define NR_NETLINK_NL_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* Write `value` to /proc/sys/<path> (path like "net/ipv4/ip_forward") inside
 * `netns` (NULL = current). -errno with text naming the path. */
int nr_nl_sysctl_write(const char *netns, const char *path, const char *value,
		       struct nr_err *err);

/* Read /proc/sys/<path> into buf (trailing newline removed). */
int nr_nl_sysctl_read(const char *netns, const char *path, char *buf, size_t len,
		      struct nr_err *err);

/* net.ipv4.ip_forward / net.ipv6.conf.all.forwarding = 1 (family AF_INET or
 * AF_INET6). */
int nr_nl_sysctl_forwarding(const char *netns, int family, struct nr_err *err);

/* Answer ARP (IPv4) / NDP (IPv6) for other addresses on `ifname`: how the
 * host side of a pod's veth answers for the pod's gateway address. */
int nr_nl_sysctl_proxy_arp(const char *netns, const char *ifname, bool on,
			   struct nr_err *err);
int nr_nl_sysctl_proxy_ndp(const char *netns, const char *ifname, bool on,
			   struct nr_err *err);

#endif
