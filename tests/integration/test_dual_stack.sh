#!/usr/bin/env bash
# The seed's cluster, dual stack, run the way a deployment runs it: one
# nativerouted per node namespace, driven with nrctl. Pods get an IPv4 and
# an IPv6 address; pod-a reaches pod-b over both families natively (routes
# via the other node's IPv4 / IPv6 address, proto 201, src the local node
# address of the family), and the capture shows no tunnel.
. "$(dirname "$0")/lib/common.sh"
: "${NR_BIN_DIR:?}"

run=$(mktemp -d)
nr_cleanup_hooks+=("rm -rf '$run'")
nrctl() { local node=$1; shift; "$NR_BIN_DIR/nrctl" --socket "$run/$node.sock" "$@"; }

nr_topo_up "$NR_P" --dual-stack
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b

start_daemon() { # NODE IP4 IP6 CIDR4 CIDR6
	"$NR_BIN_DIR/nativerouted" --netns "${NR_P}$1" --socket "$run/$1.sock" --state-dir "$run/$1.state" \
		--node-name "$1" --node-ip "$2" --node-ip6 "$3" --pod-cidr "$4" --pod-cidr "$5" \
		--mode native --ipam kubernetes --cluster-cidr 10.0.0.0/16 --cluster-cidr fd10::/96 \
		--auto-direct-node-routes 2>"$run/$1.log" &
	NR_PIDS+=("$!")
	nr_wait_for 10 nrctl "$1" status || { cat "$run/$1.log"; nr_fail "$1: daemon did not start"; }
}
start_daemon node-1 192.168.1.10 fd00:1::10 10.0.0.0/24 fd10::/112
start_daemon node-2 192.168.1.11 fd00:1::11 10.0.1.0/24 fd10::1:0/112
nrctl node-1 node add node-2 --ip 192.168.1.11 --ip6 fd00:1::11 --pod-cidr 10.0.1.0/24 --pod-cidr fd10::1:0/112 >/dev/null ||
	nr_fail "node-1: node add node-2"
nrctl node-2 node add node-1 --ip 192.168.1.10 --ip6 fd00:1::10 --pod-cidr 10.0.0.0/24 --pod-cidr fd10::/112 >/dev/null ||
	nr_fail "node-2: node add node-1"
nrctl node-1 endpoint add pod-a --ifname veth-a >/dev/null || nr_fail "endpoint add pod-a"
nrctl node-2 endpoint add pod-b --ifname veth-b >/dev/null || nr_fail "endpoint add pod-b"

eps=$(nrctl node-1 -o json endpoints)
echo "$eps"
nr_expect_match "$eps" '"ipv4":"10\.0\.0\.2".*"ipv6":"fd10::2".*"gateway":"10\.0\.0\.1".*"gateway6":"fd10::1"' \
	"pod-a: 10.0.0.2 and fd10::2, gateways 10.0.0.1 and fd10::1"
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-a fd10::2 fd10::1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1
nr_topo_pod_addr "$NR_P" pod-b fd10::1:2 fd10::1:1

r6=$(ip -n "${NR_P}node-1" -6 route show proto 201)
echo "$r6"
nr_expect_match "$r6" "^fd10::1:0/112 nhid [0-9]+ via fd00:1::11 dev eth0 .*src fd00:1::10" \
	"node-1 routes node-2's IPv6 CIDR via fd00:1::11, src fd00:1::10"
nr_expect_match "$(ip -n "${NR_P}node-1" -6 nexthop show)" "via fd00:1::11 dev eth0 .*proto 201" "an IPv6 nexthop object"
nr_expect_match "$(ip -n "${NR_P}node-1" -4 route show proto 201)" "^10\.0\.1\.0/24 nhid [0-9]+ via 192\.168\.1\.11" \
	"and the IPv4 CIDR via 192.168.1.11"

cap=$run/cap.txt
nr_capture_start "${NR_P}node-1" eth0 'icmp or icmp6 or udp port 8472' "$cap"
ip netns exec "${NR_P}pod-a" ping -c 2 -i 0.2 -W 2 10.0.1.2 >/dev/null || nr_fail "IPv4 ping pod-a -> pod-b"
nr_ok "IPv4: pod-a pings pod-b"
ip netns exec "${NR_P}pod-a" ping -6 -c 2 -i 0.2 -W 2 fd10::1:2 >/dev/null || nr_fail "IPv6 ping pod-a -> pod-b"
nr_ok "IPv6: pod-a pings pod-b"
nr_wait_for 5 grep -q 'IP6 fd10::2 > fd10::1:2: ICMP6, echo request' "$cap" || true
nr_capture_stop "$cap"
nr_expect_match "$(cat "$cap")" "IP6 fd10::2 > fd10::1:2: ICMP6, echo request" "capture: IPv6 pod addresses on the wire"
nr_expect_no_match "$(cat "$cap")" "\\.8472[: ]|VXLAN|OTV" "capture: no tunnel"

echo "== switching the running daemon to tunnel mode and back with nrctl"
out=$(nrctl node-1 mode set tunnel --auto-direct-node-routes 2>&1) && nr_fail "tunnel with auto-direct-node-routes on accepted: $out"
nr_expect_match "$out" "auto.direct.node.routes" "tunnel mode with auto-direct-node-routes asked on is refused, saying why"
# a switch not given follows: tunnel mode turns auto-direct-node-routes off
nrctl node-1 mode set tunnel >/dev/null || nr_fail "mode set tunnel"
nrctl node-2 mode set tunnel --no-auto-direct-node-routes >/dev/null || nr_fail "node-2: mode set tunnel"
nr_expect_match "$(nrctl node-1 -o json mode)" '"mode":"tunnel".*"auto_direct_node_routes":false' "mode is tunnel, switch off"
nr_expect_match "$(ip -n "${NR_P}node-1" -6 route show fd10::1:0/112)" "dev nr_vxlan" "IPv6 CIDR now over nr_vxlan"
ip netns exec "${NR_P}pod-a" ping -c 1 -W 2 10.0.1.2 >/dev/null || nr_fail "IPv4 ping over the tunnel"
ip netns exec "${NR_P}pod-a" ping -6 -c 1 -W 2 fd10::1:2 >/dev/null || nr_fail "IPv6 ping over the tunnel"
nr_ok "both families reach pod-b over the tunnel"
nrctl node-1 mode set native --auto-direct-node-routes >/dev/null || nr_fail "back to native"
nr_expect_match "$(ip -n "${NR_P}node-1" -4 route show 10.0.1.0/24)" "nhid [0-9]+ via 192\.168\.1\.11 dev eth0" "native again"
echo "PASS"
