#!/usr/bin/env bash
# eBPF maps programmed with the routes (issue 10 part 1): node-1's controller
# runs with `bpf`; its pinned `routes` map must equal route.list after every
# add / update / remove / mode switch, `endpoints` must hold pod-a with both
# MACs, an entry deleted or changed by hand must be back after the next
# resync, a restart must keep the same map ids and entries, and purge must
# leave no pin. Maps are read with bpftool (through tests/integration/lib/
# bpf_dump.py) in this mount namespace: bpffs is per mount namespace and
# `ip netns exec` would hide it.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"
command -v bpftool >/dev/null || nr_fail "bpftool not installed"

n1=${NR_P}node-1
pins=/sys/fs/bpf/nativeroute/node-1@$n1
dump() { /usr/bin/python3 "$(dirname "$0")/lib/bpf_dump.py" "$@"; }
common=(--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes --bpf
	--resync-ms 300 --state-dir "$NR_WORK/state1")
nr_cleanup_hooks+=("rm -rf '$pins'")

nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a

# route.list of c1 as the map should have it: "<dst> <kind> <node ip|-> <ifindex>"
# (tunnel routes name their VTEP gateway; the map names the node behind it,
# checked separately). nr_embed runs in this shell, never in $(...): it
# counts answers in shell variables.
expected() {
	awk '$1 == "route" {print}' "$NR_WORK/routes.txt" | while read -r _ dst kind via dev _; do
		kind=${kind#kind=} via=${via#via=} dev=${dev#dev=}
		[ "$kind" = endpoint ] && via=-
		[ "$kind" = tunnel ] && via=tunnel
		echo "$dst $kind $via $(ip -n "$n1" -o link show dev "$dev" | cut -d: -f1)"
	done | sort
}
actual() { dump routes "$pins" | awk '$2 == "tunnel" {$3 = "tunnel"} {print}'; }
same_as_routes() { # WHAT
	local want have
	nr_embed "${c1:-c1}" routes >"$NR_WORK/routes.txt"
	want=$(expected) have=$(actual)
	if [ "$want" != "$have" ]; then
		echo "--- route.list:"; echo "$want"; echo "--- routes map:"; echo "$have"
		nr_fail "$1: routes map differs from route.list"
	fi
	nr_ok "$1: routes map = route.list ($(wc -l <<<"$have") entries)"
}

nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 "${common[@]}"
nr_embed c1 start >/dev/null
nr_expect_match "$(cat "$NR_WORK/c1.out")" "event bpf .*maps (created|adopted) in $pins" "start: the maps are pinned under $pins (logged)"
nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
nr_embed c1 endpoint add pod-a veth-a >/dev/null
same_as_routes "node-2 and pod-a added"

echo "== endpoints: pod IP -> host ifindex, pod MAC, host MAC"
eps=$(dump endpoints "$pins")
echo "$eps"
host_if=$(ip -n "$n1" -o link show dev veth-a | cut -d: -f1)
host_mac=$(ip -n "$n1" -o link show dev veth-a | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
pod_mac=$(ip -n "${NR_P}pod-a" -o link show dev eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
[ "$eps" = "10.0.0.2 $host_if $pod_mac $host_mac" ] || nr_fail "endpoints map: want '10.0.0.2 $host_if $pod_mac $host_mac'"
nr_ok "endpoints: 10.0.0.2 -> ifindex $host_if, pod MAC $pod_mac (read across namespaces), host MAC $host_mac"

echo "== add / update / remove / mode switch"
nr_embed c1 node add node-3 192.168.1.12 10.0.3.0/24 >/dev/null
same_as_routes "node-3 added"
nr_embed c1 node update node-3 192.168.1.13 10.0.4.0/24 >/dev/null
same_as_routes "node-3 moved to 192.168.1.13 and 10.0.4.0/24"
nr_expect_match "$(actual)" "^10\.0\.4\.0/24 native 192\.168\.1\.13 " "node-3's new IP is in its entry"
nr_embed c1 node del node-3 >/dev/null
same_as_routes "node-3 removed"
nr_embed c1 mode tunnel no-adnr >/dev/null
same_as_routes "switched to tunnel mode"
nr_expect_match "$(dump routes "$pins")" "^10\.0\.1\.0/24 tunnel 192\.168\.1\.11 " "tunnel entry names node-2's underlay IP"
nr_embed c1 mode native adnr >/dev/null
same_as_routes "back to native mode"

echo "== drift: entries changed or deleted by hand are back after the next resync"
before=$(dump routes "$pins")
routes_are() { [ "$(dump routes "$pins")" = "$1" ]; }
# pod-a's /32 deleted, node-2's next hop rewritten to 192.168.1.99
bpftool map delete pinned "$pins/routes" key hex 28 00 00 00 02 0a 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
bpftool map update pinned "$pins/routes" \
	key hex 20 00 00 00 02 0a 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
	value hex c0 a8 01 63 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 02 01 01 00 00 00 00 00
t0=$(date +%s%N)
nr_wait_for 5 routes_are "$before" || { actual; nr_fail "the map was not repaired"; }
echo "repaired after $(( ($(date +%s%N) - t0) / 1000000 )) ms (resync every 300 ms)"
same_as_routes "after the resync"
nr_embed c1 status >"$NR_WORK/st.txt"
nr_expect_match "$(cat "$NR_WORK/st.txt")" "bpf_map_repairs=2 " "status counts both repaired entries"
nr_expect_match "$(cat "$NR_WORK/c1.out")" "event drift.repaired .*bpf maps: [12] entr(y was|ies were) changed or removed" "drift reported as an event"

echo "== drift: a tc filter deleted by hand is back after the next resync"
tc -n "$n1" filter del dev veth-a ingress pref 20050 handle 0x4e52 bpf
has_filter() { tc -n "$n1" filter show dev veth-a ingress | grep -q "handle 0x4e52 nr_from_pod"; }
nr_wait_for 5 has_filter || nr_fail "the fast path filter on veth-a was not re-attached"
nr_ok "veth-a's filter re-attached at the resync"

echo "== restart: same map ids, same entries"
ids0=$(dump ids "$pins") entries0=$(dump routes "$pins"; dump endpoints "$pins")
nr_embed_stop c1
nr_embed_start c1b --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 "${common[@]}"
nr_embed c1b start >/dev/null
ids1=$(dump ids "$pins") entries1=$(dump routes "$pins"; dump endpoints "$pins")
echo "before: $ids0"; echo "after:  $ids1"
[ "$ids0" = "$ids1" ] || nr_fail "map ids changed across the restart"
nr_ok "restart: the pinned maps were adopted (same ids)"
[ "$entries0" = "$entries1" ] || { echo "$entries0"; echo "---"; echo "$entries1"; nr_fail "entries changed across the restart"; }
nr_ok "restart: every entry unchanged"
nr_expect_match "$(cat "$NR_WORK/c1b.out")" "event bpf .*maps adopted" "restart logs the adoption"
c1=c1b same_as_routes "after the restart"

echo "== a controller without bpf says why it is Legacy"
nr_embed_start c2 --netns "${NR_P}node-2" --node-name node-2 --node-ip 192.168.1.11 --ipam kubernetes --cluster-cidr 10.0.0.0/16 --pod-cidr 10.0.1.0/24
nr_embed c2 status >"$NR_WORK/st.txt"
nr_expect_match "$(cat "$NR_WORK/st.txt")" 'host_routing=Legacy .*reason="disabled' "no bpf option: Legacy, reason given"
nr_embed_stop c2
[ ! -e "/sys/fs/bpf/nativeroute/node-2@${NR_P}node-2" ] || nr_fail "a controller without bpf pinned maps"
nr_ok "no bpf option: nothing pinned"

echo "== no privilege for bpf(2): routes work, the status says why"
# the same nr-embed without CAP_BPF / CAP_SYS_ADMIN / CAP_PERFMON (netlink
# needs only CAP_NET_ADMIN), through a wrapper so embed.sh runs it as usual;
# setns needs CAP_SYS_ADMIN, so the wrapper enters the namespace first
# (nsenter --net keeps this mount namespace's /sys/fs/bpf)
nx=${NR_P}node-x
ip netns add "$nx"
ip -n "$nx" link set lo up
ip -n "$nx" link add eth0 type veth peer name eth1
ip -n "$nx" addr add 192.168.5.1/24 dev eth0
ip -n "$nx" link set eth0 up
ip -n "$nx" link set eth1 up
mkdir -p "$NR_WORK/nopriv"
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s setpriv --bounding-set -bpf,-sys_admin,-perfmon -- "%s/nr-embed" "$@"\n' \
	"$nx" "$NR_TOOLS_DIR" >"$NR_WORK/nopriv/nr-embed"
chmod +x "$NR_WORK/nopriv/nr-embed"
tools=$NR_TOOLS_DIR NR_TOOLS_DIR=$NR_WORK/nopriv
nr_embed_start cx --node-name node-x --node-ip 192.168.5.1 --ipam kubernetes \
	--cluster-cidr 10.0.0.0/16 --pod-cidr 10.0.9.0/24 --auto-direct-node-routes --bpf
NR_TOOLS_DIR=$tools
# (masquerading needs no CAP_SYS_ADMIN either without a netns named:
# start and node add succeed, BPF or not)
nr_embed cx start >/dev/null || nr_fail "start failed without BPF privilege"
nr_embed cx node add node-y 192.168.5.2 10.0.8.0/24 >/dev/null || nr_fail "node add failed without BPF privilege"
nr_embed cx status >"$NR_WORK/st.txt"
cat "$NR_WORK/st.txt"
nr_expect_match "$(ip -n "$nx" route show 10.0.8.0/24)" "via 192\.168\.5\.2" "without BPF privilege the route is programmed"
nr_expect_match "$(cat "$NR_WORK/st.txt")" 'host_routing=Legacy .*reason="bpf: cannot create map routes: Operation not permitted' \
	"and the status says Legacy, naming the refused map"
for d in /sys/fs/bpf/nativeroute/node-x@*; do
	if [ -e "$d/routes" ]; then nr_fail "maps pinned without privilege in $d"; fi
done
nr_ok "nothing pinned, no empty pin directory left"
nr_embed cx purge >/dev/null || nr_fail "purge failed without BPF privilege"
nr_embed_stop cx
ip netns del "$nx"

echo "== purge removes the pins"
nr_embed c1b purge >/dev/null
[ ! -e "$pins" ] || { ls -la "$pins"; nr_fail "pins left after purge"; }
nr_ok "purge: $pins is gone"
nr_embed_stop c1b
echo "PASS"
