#!/usr/bin/env bash
# nr_netns_del (scripts/lib/topology.sh, used by nr_topo_down and bench/*)
# empties a namespace's routes and nexthops before it deletes it. A dying
# namespace's nexthops are removed by the kernel one by one with a walk of
# every FIB table each, under the RTNL lock: O(nexthops x routes). One left
# with 100,000 nexthop routes by a bench held RTNL for minutes and stalled
# every rtnetlink user on the machine - test_python_binding's daemon sat in
# sendmsg (RTM_GETLINK of its endpoint add) and answered nothing for over
# 60 s. Checked here on the namespace itself, kept alive by a process in it
# past the delete: nothing of ours may be left in it (a plain `ip netns del`
# leaves all of it to the kernel's teardown), and every IPv4 route went by
# a deletion of its own, before its nexthop: the kernel announces those
# (RTM_DELROUTE), never the routes a nexthop's removal flushes - the
# quadratic path, which `ip route flush` (EINVAL on nexthop routes) and a
# nexthop flush alone would take.
. "$(dirname "$0")/lib/common.sh"

ns="${NR_P}del"
N=50
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up
ip -n "$ns" addr add 172.31.0.1/16 dev v0
ip -n "$ns" addr add fd00:99::1/64 dev v0 nodad
batch=$(for i in $(seq 1 $N); do
	echo "nexthop add id $i via 172.31.1.$i dev v0"
	echo "route add 10.99.$i.0/24 nhid $i proto 201"
done
echo "nexthop add id 1000 via fd00:99::2 dev v0"
echo "route add fd00:98::/64 nhid 1000 proto 201")
ip -n "$ns" -batch - <<<"$batch"
[ "$(ip -n "$ns" route show proto 201 | wc -l)" -eq "$N" ] || nr_fail "setup: $N IPv4 routes expected"

# a process inside keeps the namespace alive after its name is gone
ip netns exec "$ns" sleep 600 &
holder=$!
NR_PIDS+=("$holder")
want_ns=$(ip netns exec "$ns" readlink /proc/self/ns/net)
holder_in() { [ "$(readlink "/proc/$holder/ns/net")" = "$want_ns" ]; }
nr_wait_for 10 holder_in || nr_fail "the holder did not enter $ns"
inside() { nsenter --net="/proc/$holder/ns/net" "$@"; }

mon=$(mktemp /tmp/nrnsdel.XXXXXX)
nr_cleanup_hooks+=("rm -f '$mon'")
nr_monitor_start "$ns" "$mon" route

nr_netns_del "$ns"
# a last route event: the monitor has printed every one before it
inside ip route add blackhole 192.0.2.254/32 table 4242
nr_wait_for 20 grep -q "blackhole 192.0.2.254 table 4242" "$mon" ||
	{ cat "$mon"; nr_fail "the monitor did not report the last route event"; }
dels=$(grep -c "^Deleted 10\.99\." "$mon" || true)
[ "$dels" -eq "$N" ] || { cat "$mon"; nr_fail "$dels of $N IPv4 routes deleted one by one (the rest were flushed with their nexthops)"; }
nr_ok "each of the $N IPv4 nexthop routes was deleted before its nexthop"
[ ! -e "/run/netns/$ns" ] || nr_fail "$ns still has its name after nr_netns_del"
nr_ok "nr_netns_del removed the name"
v4=$(inside ip -4 route show proto 201)
v6=$(inside ip -6 route show proto 201)
nh=$(inside ip nexthop show)
[ -z "$v4$v6" ] || { echo "$v4$v6"; nr_fail "routes left for the kernel's teardown (RTNL held per nexthop x route)"; }
nr_ok "no IPv4 or IPv6 route of ours left in the dying namespace"
[ -z "$nh" ] || { echo "$nh" | head -5; nr_fail "$(wc -l <<<"$nh") nexthop(s) left for the kernel's teardown"; }
nr_ok "no nexthop left in the dying namespace"
nr_netns_del "$ns" # a missing namespace: nothing to do, no error
nr_ok "nr_netns_del of a missing namespace does nothing"
