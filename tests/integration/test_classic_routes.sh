#!/usr/bin/env bash
# Kernels without nexthop objects (< 5.3) get classic routes: the same
# cluster, `<cidr> via <node IP> dev eth0 proto 201 src <local IP>`, no
# nexthop object, pods reach each other, drift is repaired, and switching
# a node's IP moves the route in place.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"

n1=${NR_P}node-1
common=(--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes --classic-routes)
nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b
ip -n "${NR_P}node-2" addr add 192.168.1.12/24 dev eth0

nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 "${common[@]}"
nr_embed_start c2 --netns "${NR_P}node-2" --node-name node-2 --node-ip 192.168.1.11 --pod-cidr 10.0.1.0/24 "${common[@]}"
nr_embed c1 start >/dev/null
nr_embed c2 start >/dev/null
nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
nr_embed c2 node add node-1 192.168.1.10 10.0.0.0/24 >/dev/null
nr_embed c1 endpoint add pod-a veth-a >/dev/null
nr_embed c2 endpoint add pod-b veth-b >/dev/null
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1

r1=$(ip -n "$n1" route show)
echo "$r1"
nr_expect_match "$r1" "^10\.0\.1\.0/24 via 192\.168\.1\.11 dev eth0 proto 201 src 192\.168\.1\.10" "classic route via the node IP"
[ -z "$(ip -n "$n1" nexthop show)" ] || nr_fail "nexthop objects created in classic mode"
nr_ok "no nexthop objects"
ip netns exec "${NR_P}pod-a" ping -c 2 -i 0.2 -W 2 10.0.1.2 >/dev/null || nr_fail "pod-a cannot ping pod-b"
nr_ok "pod-a pings pod-b over a classic route"

ip -n "$n1" route del 10.0.1.0/24
nr_wait_for 10 sh -c "ip -n '$n1' route show 10.0.1.0/24 | grep -q 'via 192.168.1.11'" || nr_fail "classic route not restored"
nr_ok "deleted classic route restored"

mon=$NR_WORK/mon.txt
nr_monitor_start "$n1" "$mon" route
nr_embed c1 node update node-2 192.168.1.12 10.0.1.0/24 >/dev/null
nr_monitor_stop "$mon"
cat "$mon"
nr_expect_match "$(cat "$mon")" "^10\.0\.1\.0/24 via 192\.168\.1\.12 " "the monitor saw the route move"
nr_expect_match "$(ip -n "$n1" route show 10.0.1.0/24)" "via 192\.168\.1\.12 dev eth0 proto 201" "node IP change moves the route"
nr_expect_no_match "$(cat "$mon")" "^Deleted 10\.0\.1\.0/24" "moved in place (replace, no delete)"
ip netns exec "${NR_P}pod-a" ping -c 1 -W 2 10.0.1.2 >/dev/null || nr_fail "ping after the node IP change"
nr_ok "pod-a still pings pod-b via node-2's new IP"
nr_embed_stop c1
nr_embed_stop c2
echo "PASS"
