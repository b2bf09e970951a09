# Sourced by scripts/demo, the integration tests and bench/*: build the seed's cluster
# out of network namespaces, and take it down again. Nothing here touches the
# host namespace: every link is created inside (or moved into) our own
# namespaces, and every name starts with the caller's prefix.
#
#   "$P"lan     an L2 segment (bridge br0), the nodes' shared underlay
#   "$P"node-1  192.168.1.10/24 on eth0 (and fd00:1::10/64 when dual stack)
#   "$P"node-2  192.168.1.11/24 on eth0 (fd00:1::11/64)
#   "$P"router  192.168.1.1 on the lan, 192.168.2.1 towards node-3   (--third-node)
#   "$P"node-3  192.168.2.10/24, default via 192.168.2.1               (--third-node)
# node-1 and node-2 get a route to 192.168.2.0/24 via the router, so node-3
# is reachable only through a gateway: the case auto-direct-node-routes must
# refuse and hybrid mode must tunnel.

nr_topo_ns_list() { # PREFIX -> every namespace of that prefix that exists
	ip netns list 2>/dev/null | awk '{print $1}' | grep "^$1" || true
}

nr_topo_link_to_lan() { # PREFIX NS IFNAME-IN-NS
	local p=$1 ns=$2 ifn=$3 peer
	peer="lan$((RANDOM % 100000))"
	ip -n "$ns" link add "$ifn" type veth peer name "$peer" netns "${p}lan"
	ip -n "${p}lan" link set "$peer" master br0 up
	ip -n "$ns" link set "$ifn" up
}

nr_topo_node() { # PREFIX NAME IPv4/LEN [IPv6/LEN]
	local p=$1 name=$2 v4=$3 v6=${4:-}
	ip netns add "${p}${name}"
	ip -n "${p}${name}" link set lo up
	nr_topo_link_to_lan "$p" "${p}${name}" eth0
	ip -n "${p}${name}" addr add "$v4" dev eth0
	if [ -n "$v6" ]; then
		ip netns exec "${p}${name}" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		ip -n "${p}${name}" addr add "$v6" dev eth0 nodad
	fi
}

# nr_topo_up PREFIX [--dual-stack] [--third-node]
nr_topo_up() {
	local p=$1 dual=0 third=0
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--dual-stack) dual=1 ;;
		--third-node) third=1 ;;
		*) echo "nr_topo_up: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
	ip netns add "${p}lan"
	ip -n "${p}lan" link set lo up
	ip -n "${p}lan" link add br0 type bridge
	ip -n "${p}lan" link set br0 up
	if [ $dual -eq 1 ]; then
		nr_topo_node "$p" node-1 192.168.1.10/24 fd00:1::10/64
		nr_topo_node "$p" node-2 192.168.1.11/24 fd00:1::11/64
	else
		nr_topo_node "$p" node-1 192.168.1.10/24
		nr_topo_node "$p" node-2 192.168.1.11/24
	fi
	if [ $third -eq 1 ]; then
		ip netns add "${p}router"
		ip -n "${p}router" link set lo up
		nr_topo_link_to_lan "$p" "${p}router" eth0
		ip -n "${p}router" addr add 192.168.1.1/24 dev eth0
		ip netns add "${p}node-3"
		ip -n "${p}node-3" link set lo up
		ip -n "${p}router" link add eth1 type veth peer name eth0 netns "${p}node-3"
		ip -n "${p}router" addr add 192.168.2.1/24 dev eth1
		ip -n "${p}router" link set eth1 up
		ip -n "${p}node-3" link set eth0 up
		ip -n "${p}node-3" addr add 192.168.2.10/24 dev eth0
		ip -n "${p}node-3" route add default via 192.168.2.1
		ip netns exec "${p}router" sysctl -qw net.ipv4.ip_forward=1
		ip -n "${p}node-1" route add 192.168.2.0/24 via 192.168.1.1
		ip -n "${p}node-2" route add 192.168.2.0/24 via 192.168.1.1
	fi
}

# nr_topo_pod PREFIX NODE POD HOST-IFNAME: a pod namespace "$P"POD joined to
# node "$P"NODE by a veth; eth0 inside the pod, HOST-IFNAME on the node. The
# addresses are configured later (nr_topo_pod_addr) with what the controller
# allocated, as a CNI plugin would.
nr_topo_pod() {
	local p=$1 node=$2 pod=$3 hostif=$4
	ip netns add "${p}${pod}"
	ip -n "${p}${pod}" link set lo up
	ip -n "${p}${node}" link add "$hostif" type veth peer name eth0 netns "${p}${pod}"
	ip -n "${p}${node}" link set "$hostif" up
	ip -n "${p}${pod}" link set eth0 up
}

# nr_topo_pod_addr PREFIX POD IP GATEWAY: what a CNI plugin does inside the
# pod: the address as a host route, the gateway on-link, default via it.
nr_topo_pod_addr() {
	local p=$1 pod=$2 ip=$3 gw=$4 len=32
	case $ip in *:*) len=128 ;; esac
	if [ $len -eq 128 ]; then
		ip netns exec "${p}${pod}" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
		ip -n "${p}${pod}" addr add "$ip/$len" dev eth0 nodad
		ip -n "${p}${pod}" -6 route add "$gw" dev eth0
		ip -n "${p}${pod}" -6 route add default via "$gw" dev eth0
	else
		ip -n "${p}${pod}" addr add "$ip/$len" dev eth0
		ip -n "${p}${pod}" route add "$gw" dev eth0 scope link
		ip -n "${p}${pod}" route add default via "$gw" dev eth0
	fi
}

# nr_netns_del NS: delete a namespace, its nexthop routes and nexthops
# first. The kernel takes a dying namespace's nexthops away one by one, each
# still used by a route with a walk of every FIB table, all under the RTNL
# lock (nexthop_net_exit_rtnl): O(nexthops x routes). A namespace left with
# 100,000 nexthop routes by a bench held RTNL for minutes, and every other
# rtnetlink request on the machine waited: `ip netns add` of a test, an `ip
# link show`, a daemon's endpoint add (its loop blocked in sendmsg of
# RTM_GETLINK, status unanswered for minutes: test_python_binding's 60 s
# timeout). So the routes that use a nexthop go first, each by its prefix
# and table in a message of its own (RTNL is let go between two; `ip route
# flush` cannot: it echoes the nexthop id with the gateway, EINVAL), then
# the nexthops, which no route uses any more. No-op when NS is missing.
nr_netns_del() { # NS
	local fam
	[ -e "/run/netns/$1" ] || return 0
	for fam in -4 -6; do
		ip -n "$1" "$fam" route show table all 2>/dev/null | awk '
			/ nhid / {
				d = $1
				if (d ~ /^(unicast|local|broadcast|multicast|anycast|blackhole|unreachable|prohibit|throw)$/)
					d = $2
				t = "main"
				for (i = 1; i < NF; i++) if ($i == "table") t = $(i + 1)
				print "route del " d " table " t
			}' | ip -n "$1" "$fam" -force -batch - >/dev/null 2>&1 || true
	done
	ip -n "$1" nexthop flush >/dev/null 2>&1 || true
	ip netns del "$1" 2>/dev/null || true
}

# nr_topo_down PREFIX: delete every namespace of the prefix (their links go
# with them). Safe to call twice or on a half-built topology.
nr_topo_down() {
	local ns
	for ns in $(nr_topo_ns_list "$1"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		nr_netns_del "$ns"
	done
}
