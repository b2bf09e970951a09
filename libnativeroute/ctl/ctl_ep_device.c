/* Which interfaces may be a pod's host side. The pod's gateway address is
 * put on that interface and a route to the pod points at it: on the
 * underlay device (the one carrying the node IP) that would put the gateway
 * address on the node's uplink and route a pod IP out of it - and the
 * address would stay after the endpoint is removed (issue 11, item 10). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl/ctl_ep_device.h"
#include "ctl/ctl_internal.h"
#include "netlink/nl_link.h"

/* Asked on ctl->query: a public call may run while a pass's batch is out on
 * ctl->nl, whose ACKs a request there would read and drop. Whether the link
 * carries a node IP is asked of that link alone (a dump filtered by its
 * index, O(its addresses)): a lookup of which link has the IP dumps every
 * address of the namespace - O(pods), each endpoint add, on the loop. */
int nr_ctl_endpoint_device_check(struct nr_ctl *ctl, const char *id, uint32_t ifindex,
				 struct nr_err *err)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	const uint8_t fams[2] = { AF_INET, AF_INET6 };
	struct nr_nl_link link = { 0 };
	char ip[NR_ADDR_STRLEN];

	if (ctl->k->link_get(ctl->query, NULL, ifindex, &link, NULL) < 0)
		return 0; /* the caller reports a missing link */
	if (ifindex == 1 || !strcmp(link.name, "lo"))
		return nr_err_set(err, -EINVAL, "endpoint %s: %s is the loopback device", id, link.name);
	if (!strcmp(link.kind, "vxlan"))
		return nr_err_set(err, -EINVAL, "endpoint %s: %s is a VXLAN device, not a pod's interface",
				  id, link.name);
	for (int i = 0; self && i < 2; i++) {
		const struct nr_addr *a = nr_node_ip(self, fams[i]);

		if (!a || ctl->k->addr_present(ctl->query, ifindex, a, NULL) <= 0)
			continue;
		return nr_err_set(err, -EINVAL,
				  "endpoint %s: %s carries the node IP %s (the underlay device); a pod "
				  "needs its own host-side interface (a veth)", id, link.name,
				  nr_addr_str(a, ip, sizeof(ip)));
	}
	return 0;
}
