#!/usr/bin/env bash
# A link bounce must not blackhole pod CIDRs (issue 11 item 2). The kernel
# flushes nexthops and routes on a link that goes down (or loses its carrier)
# without a notification for each; the controller re-dumps what it owns on
# any event of a link its objects use, so:
#  - routes are back <= 100 ms after the last "up" of 1 and of 10 quick flaps
#    of the underlay, and after a carrier bounce of the veth peer (the best
#    of up to 3 bounces: see expect_back);
#  - while the link is down, route.list does not call the route programmed
#    and status does not say Ok;
#  - in tunnel mode a deleted VXLAN neighbour or FDB entry is back at once.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrflap.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }

nr_topo_up "$NR_P"
start_daemon() {
	"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
		--node-ip 192.168.1.10 --ipam kubernetes --pod-cidr 10.0.0.0/24 "$@" \
		>>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
}
stop_daemon() { kill "$DPID"; wait "$DPID" 2>/dev/null || true; }

has_route() { ip -n "$NS1" route show 10.0.1.0/24 proto 201 | grep -q "$1"; }
# ms from $1 (date +%s%N) until the route matching $2 is in the kernel
ms_until_back() {
	local t0=$1 pat=$2
	until has_route "$pat"; do
		[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ] || { echo 99999; return; }
	done
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
# expect_back WHAT PATTERN T0 AGAIN...: the route matching PATTERN is back
# <= 100 ms after T0 (the last "up"). On a loaded machine one measurement
# can miss that by scheduling alone (102 ms seen with 8 builds running):
# then AGAIN (the same bounce, ending with the "up") is done and measured up
# to twice more, and the best counts - a delay built into the controller (a
# timer, a retry) would show in every attempt.
expect_back() {
	local what=$1 pat=$2 t0=$3 ms best=99999 attempt
	shift 3
	for attempt in 1 2 3; do
		if [ "$attempt" -gt 1 ]; then
			nr_wait_for 5 has_route "$pat" || true
			"$@"
			t0=$(date +%s%N)
		fi
		ms=$(ms_until_back "$t0" "$pat")
		[ "$ms" -ge "$best" ] || best=$ms
		[ "$ms" -gt 100 ] || break
		echo "note: $what: route back after $ms ms (want <= 100), attempt $attempt of 3"
	done
	[ "$best" -le 100 ] || nr_fail "$what: route back after $best ms at best (want <= 100): $(ip -n "$NS1" route show proto 201)"
	nr_ok "$what: route back $best ms after the last up"
}
flaps() { # N: eth0 down and up N times
	for _ in $(seq "$1"); do
		ip -n "$NS1" link set eth0 down
		ip -n "$NS1" link set eth0 up
	done
}

echo "== native mode, nexthop objects"
start_daemon --mode native --auto-direct-node-routes
nrctl node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null
nr_wait_for 5 has_route nhid || nr_fail "no route for node-2"

for n in 1 10; do
	flaps "$n"
	expect_back "$n flap(s) of eth0" nhid "$(date +%s%N)" flaps "$n"
done

ip -n "$NS1" link set eth0 down
# the controller learns it from the link event and a re-dump (a fixed
# 0.2 s before): wait for that, then check what it reports
not_programmed() { ! nrctl -o json routes | grep -Eq '"dst":"10\.0\.1\.0/24"[^}]*"programmed":true'; }
nr_wait_for 10 not_programmed || true
out=$(nrctl -o json routes)
nr_expect_no_match "$out" '"dst":"10\.0\.1\.0/24"[^}]*"programmed":true' "link down: route.list does not call node-2's route programmed"
nrctl nodes
nr_expect_no_match "$(nrctl nodes)" 'node-2 .*native' "link down: node-2 is not listed as routed natively"
if out=$(nrctl status); then nr_fail "status exits 0 while the route is missing: $out"; fi
nr_expect_no_match "$(head -1 <<<"$out")" "^Controller: Ok" "link down: status first line is not Ok"
ip -n "$NS1" link set eth0 up
ip_down_up() { ip -n "$NS1" link set "$1" down; sleep 0.2; ip -n "$NS1" link set "$1" up; }
expect_back "admin down 200 ms, up" nhid "$(date +%s%N)" ip_down_up eth0
nr_wait_for 2 sh -c "$NR_BIN_DIR/nrctl --socket $SOCK -o json routes | grep -q '\"programmed\":true'" ||
	nr_fail "route.list does not say programmed again"
nr_ok "route.list says programmed again"

# carrier bounce: the far end (the bridge port in the lan namespace) goes down
peer_idx=$(ip -n "$NS1" -o link show eth0 | sed -n 's/.*eth0@if\([0-9]*\).*/\1/p')
peer=$(ip -n "${NR_P}lan" -o link show | awk -F': ' -v i="$peer_idx" '$1 == i {print $2}' | cut -d@ -f1)
[ -n "$peer" ] || nr_fail "cannot find eth0's veth peer"
bounce_peer() {
	ip -n "${NR_P}lan" link set "$peer" down
	sleep 0.2
	ip -n "${NR_P}lan" link set "$peer" up
}
bounce_peer
expect_back "carrier bounce of the veth peer ($peer)" nhid "$(date +%s%N)" bounce_peer
ping_ok() { ip netns exec "$NS1" ping -c 1 -W 1 192.168.1.11 >/dev/null; }
nr_wait_for 5 ping_ok || nr_fail "underlay not back after the carrier bounce"
stop_daemon

echo "== tunnel mode: neighbour and FDB entries of nr_vxlan"
start_daemon --mode tunnel
nr_wait_for 5 has_route "dev nr_vxlan" || nr_fail "no tunnel route for node-2 after restart in tunnel mode"
mac=$(bridge -n "$NS1" fdb show dev nr_vxlan | awk '/dst 192\.168\.1\.11/ {print $1; exit}')
[ -n "$mac" ] || nr_fail "no FDB entry towards node-2"
neigh_back() { ip -n "$NS1" neigh show dev nr_vxlan | grep -q '^10\.0\.1\.0 .*PERMANENT'; }
fdb_back() { bridge -n "$NS1" fdb show dev nr_vxlan | grep -q "^$mac dst 192\.168\.1\.11"; }
t0=$(date +%s%N)
ip -n "$NS1" neigh del 10.0.1.0 dev nr_vxlan
nr_wait_for 1 neigh_back || nr_fail "deleted VXLAN neighbour not restored: $(ip -n "$NS1" neigh show dev nr_vxlan)"
nr_ok "VXLAN neighbour entry restored after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
t0=$(date +%s%N)
bridge -n "$NS1" fdb del "$mac" dev nr_vxlan dst 192.168.1.11
nr_wait_for 1 fdb_back || nr_fail "deleted FDB entry not restored: $(bridge -n "$NS1" fdb show dev nr_vxlan)"
nr_ok "VXLAN FDB entry restored after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
flaps 10
expect_back "10 flaps in tunnel mode" "dev nr_vxlan" "$(date +%s%N)" flaps 10
nr_wait_for 1 fdb_back || nr_fail "FDB entry not back after the flaps"
nr_ok "FDB entry back after the flaps"
stop_daemon
echo PASS
