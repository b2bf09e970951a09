/* The 1.0 layouts of the library-filled structs that 1.0 handed out as
 * arrays (nr_client_nodes_cb, nr_client_endpoints_cb, nr_client_routes_cb,
 * nr_ipam_info.allocations). A program built against 1.0 steps through those
 * arrays with the 1.0 sizeof, so the deprecated array paths must keep this
 * layout forever, however the public structs grow: they copy each item's 1.0
 * prefix into an array of these. Never change these structs; never
 * installed. */
#ifndef NR_IPC_CLIENT_COMPAT_H
#define NR_IPC_CLIENT_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nativeroute/client.h>

struct nr_node_info_1_0 {
	size_t sz;
	const char *name;
	const char *ipv4;
	const char *ipv6;
	const char *const *pod_cidrs;
	size_t n_pod_cidrs;
	const char *state;
	bool local;
};

struct nr_endpoint_info_1_0 {
	size_t sz;
	const char *id;
	const char *ifname;
	uint32_t ifindex;
	const char *ipv4;
	const char *ipv6;
	const char *gateway4;
	const char *gateway6;
};

struct nr_route_info_1_0 {
	size_t sz;
	const char *dst;
	const char *kind;
	const char *via;
	const char *dev;
	const char *node;
	uint32_t mtu;
	bool programmed;
};

struct nr_ipam_allocation_1_0 {
	size_t sz;
	const char *node;
	const char *cidr;
};

/* The public structs may only grow: their 1.0 part must stay where it was. */
#define NR_COMPAT_SAME(pub, old, last)                                                      \
	_Static_assert(offsetof(struct pub, last) == offsetof(struct old, last) &&          \
			       sizeof(struct pub) >= sizeof(struct old),                     \
		       "struct " #pub " changed its 1.0 layout (fields may only be appended)")
NR_COMPAT_SAME(nr_node_info, nr_node_info_1_0, local);
NR_COMPAT_SAME(nr_endpoint_info, nr_endpoint_info_1_0, gateway6);
NR_COMPAT_SAME(nr_route_info, nr_route_info_1_0, programmed);
NR_COMPAT_SAME(nr_ipam_allocation, nr_ipam_allocation_1_0, cidr);

#endif
