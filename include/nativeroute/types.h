/* Small value types shared by the public headers (no libuv dependency, so
 * the pure layers and the bindings can use them too). */
#ifndef NATIVEROUTE_TYPES_H
#define NATIVEROUTE_TYPES_H

#include "common.h"

NR_BEGIN_DECLS

enum nr_routing_mode {
	NR_MODE_NATIVE = 1, /* <cidr> via <node IP>; nodes must be directly reachable */
	NR_MODE_TUNNEL = 2, /* every remote CIDR over VXLAN (nr_vxlan, UDP 8472) */
	NR_MODE_HYBRID = 3, /* native where directly reachable, VXLAN elsewhere */
};

enum nr_ipam_mode {
	NR_IPAM_CLUSTER_POOL = 1, /* the library allocates node CIDRs from the cluster CIDRs */
	NR_IPAM_KUBERNETES = 2,   /* the caller gives every node its CIDRs */
};

NR_END_DECLS

#endif
