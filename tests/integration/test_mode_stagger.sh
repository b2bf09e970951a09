#!/usr/bin/env bash
# Staggered mode switches lose nothing (issue 12 item 3). In a real cluster
# nodes never switch at the same instant: node A switches, node B 0.5 s
# later. Every node keeps the receive side (nr_vxlan) in every mode, so a
# peer that already sends encapsulated traffic (or still does) is heard.
# Under a 2 ms ping flood pod-a -> pod-b, through every ordered pair of
# modes (native -> tunnel -> hybrid -> native -> hybrid -> tunnel -> native),
# once with node-1 first and once with node-2 first: 0 packets lost.
# Also: `mode set tunnel` with direct_routing_skip_unreachable on turns the
# dependent switches off in the same step (no half-switched cluster), and
# `nrctl mode` / `status` show both switches.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrstag.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
nrctl1() { "$NR_BIN_DIR/nrctl" --socket "$TMP/n1.sock" "$@"; }
nrctl2() { "$NR_BIN_DIR/nrctl" --socket "$TMP/n2.sock" "$@"; }

nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b
start_daemon() { # N IP CIDR
	"$D" --socket "$TMP/n$1.sock" --state-dir "$TMP/state$1" --netns "${NR_P}node-$1" \
		--node-name "node-$1" --node-ip "$2" --mode native --auto-direct-node-routes \
		--direct-routing-skip-unreachable --ipam kubernetes --pod-cidr "$3" \
		>>"$TMP/daemon$1.log" 2>&1 &
	NR_PIDS+=("$!")
	nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$TMP/n$1.sock" status ||
		{ cat "$TMP/daemon$1.log"; nr_fail "daemon $1 did not come up"; }
}
start_daemon 1 192.168.1.10 10.0.0.0/24
start_daemon 2 192.168.1.11 10.0.1.0/24
nrctl1 node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null
nrctl2 node add node-1 --ip 192.168.1.10 --pod-cidr 10.0.0.0/24 >/dev/null
nrctl1 endpoint add pod-a --ifname veth-a --ip 10.0.0.2 >/dev/null
nrctl2 endpoint add pod-b --ifname veth-b --ip 10.0.1.2 >/dev/null
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1
ip netns exec "${NR_P}pod-a" ping -c 1 -W 2 10.0.1.2 >/dev/null || nr_fail "native: pod-a cannot ping pod-b"
nr_ok "native: pod-a pings pod-b"
out=$(ip -n "${NR_P}node-1" -d link show nr_vxlan) || nr_fail "no receive side (nr_vxlan) in native mode"
nr_expect_no_match "$(ip -n "${NR_P}node-1" route show dev nr_vxlan)" "." "native mode: no route uses nr_vxlan"
nr_expect_no_match "$(bridge -n "${NR_P}node-1" fdb show dev nr_vxlan | grep dst || true)" "dst" "native mode: nr_vxlan has no FDB entry (sends nothing)"

echo "== the dependent switches follow: mode set tunnel with skip-unreachable on"
out=$(nrctl1 mode)
echo "$out"
nr_expect_match "$out" "direct-routing-skip-unreachable: on" "nrctl mode shows skip-unreachable"
nr_expect_match "$(nrctl1 status)" "^Direct Routing Skip Unreachable: Enabled" "status shows skip-unreachable"
out=$(nrctl1 mode set tunnel --no-auto-direct-node-routes) || nr_fail "mode set tunnel refused: $out"
nr_expect_match "$out" "^tunnel" "node-1 switched to tunnel in one step"
nr_expect_match "$out" "direct-routing-skip-unreachable: off" "skip-unreachable turned off with it"
out=$(nrctl2 mode set tunnel) || nr_fail "plain mode set tunnel refused: $out"
nr_expect_match "$out" "auto-direct-node-routes: off" "mode set tunnel turns auto-direct-node-routes off"
if out=$(nrctl1 mode set tunnel --direct-routing-skip-unreachable 2>&1); then
	nr_fail "skip-unreachable on in tunnel mode accepted: $out"
fi
nr_expect_match "$(nrctl1 mode)" "^tunnel" "a refused switch changed nothing"
nrctl1 mode set native --auto-direct-node-routes >/dev/null
nrctl2 mode set native --auto-direct-node-routes >/dev/null

switch() { # NODE MODE
	local n=$1 m=$2 extra=()
	[ "$m" = tunnel ] || extra=(--auto-direct-node-routes)
	"$NR_BIN_DIR/nrctl" --socket "$TMP/n$n.sock" mode set "$m" "${extra[@]}" >/dev/null ||
		nr_fail "node-$n: mode set $m failed"
}
chain=(tunnel hybrid native hybrid tunnel native)
for first in 1 2; do
	second=$((3 - first))
	echo "== staggered switches, node-$first first, 0.5 s apart, 2 ms ping flood"
	ip netns exec "${NR_P}pod-a" ping -i 0.002 -W 1 10.0.1.2 >"$TMP/ping$first.txt" 2>&1 &
	ppid=$!
	NR_PIDS+=("$ppid")
	sleep 0.5
	prev=native
	for m in "${chain[@]}"; do
		switch "$first" "$m"
		sleep 0.5
		switch "$second" "$m"
		sleep 0.5
		echo "   $prev -> $m"
		prev=$m
	done
	kill -INT "$ppid"
	wait "$ppid" || true
	sum=$(grep -E 'packets transmitted' "$TMP/ping$first.txt")
	echo "   $sum"
	tx=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$sum")
	rx=$(sed -E 's/.* ([0-9]+) received.*/\1/' <<<"$sum")
	# What the flood can see is a gap longer than its interval. Asked for
	# 2 ms; a loaded machine gives less (880 packets in 11.2 s seen with 8
	# builds running, where "more than 1000" failed): the interval reached
	# is what must stay fine enough, not a count that depends on how long
	# the switches took.
	ms=$(sed -E 's/.* time ([0-9]+)ms.*/\1/' <<<"$sum")
	[ "$tx" -gt 100 ] && [ $((ms / tx)) -le 20 ] ||
		nr_fail "flood too slow to mean anything (a packet every $((ms / (tx ? tx : 1))) ms, want <= 20): $sum"
	echo "   a packet every $((ms * 10 / tx / 10)).$((ms * 10 / tx % 10)) ms: a gap longer than that loses one"
	# a reply still in flight when ping is interrupted is not a loss
	[ $((tx - rx)) -le 1 ] || nr_fail "node-$first first: $((tx - rx)) of $tx packets lost: $sum"
	nr_ok "node-$first first: $tx sent, $rx received, through every pair of modes"
done
echo PASS
