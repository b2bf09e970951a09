#!/usr/bin/env bash
# Tunnel and hybrid mode. The seed's two nodes plus node-3 in another subnet
# (192.168.2.10, behind a router namespace):
#  - tunnel: pod-a reaches pod-b over nr_vxlan (the capture shows UDP 8472),
#    routes carry MTU = device MTU - 50 and only tunnelled routes do;
#  - native <-> tunnel switch at run time with no moment where the remote
#    CIDR has no route;
#  - auto-direct-node-routes refuses node-3, skip_unreachable reports it;
#  - hybrid: node-2 native, node-3 through the tunnel, pod-a pings pod-c.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"

n1=${NR_P}node-1 n2=${NR_P}node-2 n3=${NR_P}node-3
k8s=(--ipam kubernetes --cluster-cidr 10.0.0.0/16)

nr_topo_up "$NR_P" --third-node
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b
nr_topo_pod "$NR_P" node-3 pod-c veth-c

nodes_for() { # ID SELF: tell controller ID about every node but SELF
	local id=$1 self=$2
	[ "$self" = node-1 ] || nr_embed "$id" node add node-1 192.168.1.10 10.0.0.0/24 >/dev/null
	[ "$self" = node-2 ] || nr_embed "$id" node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
	[ "$self" = node-3 ] || nr_embed "$id" node add node-3 192.168.2.10 10.0.2.0/24 >/dev/null
}

echo "== tunnel mode"
nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 --mode tunnel "${k8s[@]}"
nr_embed_start c2 --netns "$n2" --node-name node-2 --node-ip 192.168.1.11 --pod-cidr 10.0.1.0/24 --mode tunnel "${k8s[@]}"
nr_embed_start c3 --netns "$n3" --node-name node-3 --node-ip 192.168.2.10 --pod-cidr 10.0.2.0/24 --mode tunnel "${k8s[@]}"
for c in c1 c2 c3; do nr_embed $c start >/dev/null; done
nodes_for c1 node-1; nodes_for c2 node-2; nodes_for c3 node-3
nr_embed c1 endpoint add pod-a veth-a >/dev/null
nr_embed c2 endpoint add pod-b veth-b >/dev/null
nr_embed c3 endpoint add pod-c veth-c >/dev/null
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1
nr_topo_pod_addr "$NR_P" pod-c 10.0.2.2 10.0.2.1

link=$(ip -n "$n1" -d link show nr_vxlan)
echo "$link"
nr_expect_match "$link" "vxlan id 1 .*dstport 8472" "nr_vxlan: VNI 1, UDP 8472"
nr_expect_match "$link" "mtu 1450" "nr_vxlan MTU = 1500 - 50"
r1=$(ip -n "$n1" route show)
echo "$r1"
nr_expect_match "$r1" "^10\.0\.1\.0/24 via 10\.0\.1\.0 dev nr_vxlan proto 201 onlink mtu 1450" "node-2's CIDR over the tunnel, mtu 1450"
nr_expect_match "$r1" "^10\.0\.2\.0/24 via 10\.0\.2\.0 dev nr_vxlan proto 201 onlink mtu 1450" "node-3's CIDR over the tunnel"
nr_expect_no_match "$(grep '^10\.0\.0\.2 ' <<<"$r1")" "mtu" "local endpoint route has no MTU"
fdb=$(bridge -n "$n1" fdb show dev nr_vxlan)
nr_expect_match "$fdb" "dst 192\.168\.1\.11" "FDB entry towards node-2"
nr_expect_match "$fdb" "dst 192\.168\.2\.10" "FDB entry towards node-3"

cap=$NR_WORK/cap.txt
nr_capture_start "$n1" eth0 'udp port 8472' "$cap"
nr_ping "${NR_P}pod-a" "tunnel: pod-a cannot ping pod-b" -c 2 -i 0.2 -W 2 10.0.1.2
nr_ping "${NR_P}pod-a" "tunnel: pod-a cannot ping pod-c" -c 2 -i 0.2 -W 2 10.0.2.2
nr_ok "tunnel: pod-a pings pod-b and pod-c"
# tcpdump prints the outer header, then the inner packet on the next line
encap_to_node2() {
	grep -A1 -E '192\.168\.1\.10\.[0-9]+ > 192\.168\.1\.11\.8472: (OTV|VXLAN)' "$cap" | paste -sd' '
}
nr_wait_for 5 grep -q 'IP 10\.0\.0\.2 > 10\.0\.1\.2: ICMP echo request' "$cap" || true
nr_capture_stop "$cap"
head -4 "$cap"
nr_expect_match "$(encap_to_node2)" \
	"8472: (OTV|VXLAN).* IP 10\.0\.0\.2 > 10\.0\.1\.2: ICMP echo request" "capture: pod ICMP inside VXLAN (UDP 8472) to node-2"

echo "== tunnel -> hybrid at run time, without a gap"
mon=$NR_WORK/mon.txt
nr_monitor_start "$n1" "$mon" route
nr_embed c1 mode hybrid >/dev/null
nr_monitor_stop "$mon"
cat "$mon"
nr_expect_match "$(cat "$mon")" "^10\.0\.1\.0/24 nhid [0-9]+ via 192\.168\.1\.11" "the monitor saw node-2's route replaced by the native one"
nr_expect_no_match "$(cat "$mon")" "^Deleted 10\.0\.[12]\.0/24" "switch replaced routes in place (no delete)"
r1=$(ip -n "$n1" route show)
echo "$r1"
nr_expect_match "$r1" "^10\.0\.1\.0/24 nhid [0-9]+ via 192\.168\.1\.11 dev eth0 proto 201 src 192\.168\.1\.10" "hybrid: node-2 (same subnet) native"
nr_expect_match "$r1" "^10\.0\.2\.0/24 via 10\.0\.2\.0 dev nr_vxlan proto 201 onlink mtu 1450" "hybrid: node-3 (behind a router) tunnelled"
nr_ping "${NR_P}pod-a" "hybrid: pod-a cannot ping pod-b" -c 2 -i 0.2 -W 2 10.0.1.2
nr_ping "${NR_P}pod-a" "hybrid: pod-a cannot ping pod-c" -c 2 -i 0.2 -W 2 10.0.2.2
nr_ok "hybrid: pod-a pings pod-b (native) and pod-c (tunnel)"

echo "== hybrid -> native: nothing is sent through the tunnel any more"
nr_embed c1 node del node-3 >/dev/null
nr_embed c1 mode native adnr >/dev/null
r1=$(ip -n "$n1" route show)
nr_expect_match "$r1" "^10\.0\.1\.0/24 nhid" "native: node-2 still routed"
# the device stays as the receive side (peers may still be in tunnel mode)
ip -n "$n1" link show nr_vxlan >/dev/null 2>&1 || nr_fail "native mode dropped the receive side"
nr_expect_no_match "$(ip -n "$n1" route show dev nr_vxlan)" "." "native: no route uses nr_vxlan"
nr_expect_no_match "$(bridge -n "$n1" fdb show dev nr_vxlan | grep dst || true)" "dst" \
	"native: no FDB entry, so nothing can be sent encapsulated"
for c in c1 c2 c3; do nr_embed_stop $c; done

echo "== auto-direct-node-routes and a node behind a gateway"
nr_embed_start d1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 \
	--auto-direct-node-routes "${k8s[@]}"
nr_embed d1 start >/dev/null
if out=$(nr_embed d1 node add node-3 192.168.2.10 10.0.2.0/24); then
	nr_fail "node-3 (behind 192.168.1.1) accepted with auto-direct-node-routes: $out"
fi
echo "$out"
nr_expect_match "$out" "^error ENETUNREACH: node node-3: 192\.168\.2\.10 is not directly reachable \(only via gateway 192\.168\.1\.1\)" \
	"refused, naming the node, its IP and the gateway"
nr_embed_stop d1
nr_embed_start d2 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 \
	--auto-direct-node-routes --direct-routing-skip-unreachable "${k8s[@]}"
nr_embed d2 start >/dev/null
out=$(nr_embed d2 node add node-3 192.168.2.10 10.0.2.0/24)
echo "$out"
nr_expect_match "$out" "event node.unreachable node-3" "skip_unreachable: node-3 reported"
out=$(nr_embed d2 nodes)
nr_expect_match "$out" "node node-3 .*state=unreachable" "nodes lists node-3 as unreachable"
nr_expect_no_match "$(ip -n "$n1" route show)" "^10\.0\.2\.0/24" "and no route for it"
nr_embed_stop d2
echo "PASS"
