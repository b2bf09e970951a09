#!/usr/bin/env bash
# A link bounce must not blackhole pod CIDRs (issue 11 item 2). The kernel
# flushes nexthops and routes on a link that goes down (or loses its carrier)
# without a notification for each; the controller re-dumps what it owns on
# any event of a link its objects use, so:
#  - routes are back <= 100 ms after the last "up" of 1 and of 10 quick flaps
#    of the underlay, and after a carrier bounce of the veth peer (timed
#    with ip -ts monitor, the best of up to 3 bounces: see expect_back);
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
# back_ms MONITOR-FILE PATTERN: ms from the last event of eth0 before the
# route matching PATTERN was re-added to that re-add, both as
# `ip -ts monitor` received them - no polling in between (an ip + grep per
# poll costs 10-50 ms on a loaded machine, which made 100 ms misses); 0 when
# the bounce did not take the route away
back_ms() {
	gawk -v pat="$2" '
		function t(s,  d, p) { # [2026-12-02T01:36:06.100204] -> epoch seconds
			d = substr(s, 2, 26); gsub(/[-T:]/, " ", d); split(d, p, ".")
			return mktime(p[1]) + ("0." p[2])
		}
		$1 ~ /^\[/ && $3 ~ /^eth0[@:]/ { link = t($1) }
		$1 ~ /^\[/ && $2 == "10.0.1.0/24" && / proto 201/ && index($0, pat) { back = t($1); ref = link }
		END { if (!back) print 0; else if (!ref) print 99999; else printf "%d\n", (back - ref) * 1000 + 0.5 }
	' "$1"
}
# expect_back WHAT PATTERN BOUNCE...: after BOUNCE (ending with the link
# up), the route matching PATTERN is back <= 100 ms after eth0's last
# event. One measurement can still miss that by scheduling alone on a
# loaded machine: up to 3 bounces, the best counts - a delay built into the
# controller (a timer, a retry) would show in every attempt.
expect_back() {
	local what=$1 pat=$2 ms best=99999 attempt mon=$TMP/flap.mon
	shift 2
	for attempt in 1 2 3; do
		nr_wait_for 10 has_route "$pat" || nr_fail "$what: no route to start from"
		nr_monitor_start "$NS1" "$mon" -ts link route
		"$@"
		if ! nr_wait_for 5 has_route "$pat"; then
			nr_monitor_stop "$mon"; cat "$mon"
			nr_fail "$what: route not back within 5 s: $(ip -n "$NS1" route show proto 201)"
		fi
		nr_monitor_stop "$mon"
		ms=$(back_ms "$mon" "$pat")
		[ "$ms" -ge "$best" ] || best=$ms
		[ "$ms" -gt 100 ] || break
		echo "note: $what: route back $ms ms after eth0's last event (want <= 100), attempt $attempt of 3"
		grep -E ' eth0[@:]|10\.0\.1\.0/24' "$mon" | cut -c1-110
	done
	[ "$best" -le 100 ] || nr_fail "$what: route back after $best ms at best (want <= 100): $(ip -n "$NS1" route show proto 201)"
	nr_ok "$what: route back $best ms after eth0's last event"
}
flaps() { # N: eth0 down and up N times
	for _ in $(seq "$1"); do
		ip -n "$NS1" link set eth0 down
		ip -n "$NS1" link set eth0 up
	done
}
ip_down_up() { ip -n "$NS1" link set "$1" down; sleep 0.2; ip -n "$NS1" link set "$1" up; }

echo "== native mode, nexthop objects"
start_daemon --mode native --auto-direct-node-routes
nrctl node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null
nr_wait_for 5 has_route nhid || nr_fail "no route for node-2"

for n in 1 10; do
	expect_back "$n flap(s) of eth0" nhid flaps "$n"
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
nr_wait_for 5 has_route nhid || nr_fail "route not back after eth0 came up: $(ip -n "$NS1" route show proto 201)"
expect_back "admin down 200 ms, up" nhid ip_down_up eth0
nr_wait_for 10 sh -c "$NR_BIN_DIR/nrctl --socket $SOCK -o json routes | grep -q '\"programmed\":true'" ||
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
expect_back "carrier bounce of the veth peer ($peer)" nhid bounce_peer
ping_ok() { ip netns exec "$NS1" ping -c 1 -W 1 192.168.1.11 >/dev/null; }
nr_wait_for 5 ping_ok || nr_fail "underlay not back after the carrier bounce"

# Link events that change nothing routes depend on (an alias, the queue
# length, a new IPv6 link-local address) must not make the controller
# re-read every route and re-ask every node IP: only up/down, carrier and
# MTU do. The events are queued before the node add's request, so the
# add's pass is a full one if any of them asked for a dump (a re-read sets
# need_dump, which makes the next pass full) - no timing involved.
full_passes() { nrctl -o json status | jq -r .full_passes; }
node3_cycle() {
	nrctl node add node-3 --ip 192.168.1.12 --pod-cidr 10.0.3.0/24 >/dev/null
	nrctl node del node-3 >/dev/null
}
full0=$(full_passes)
ip -n "$NS1" link set eth0 alias "uplink of node-1"
ip -n "$NS1" link set eth0 txqueuelen 900
ip -n "$NS1" addr add fe80::7/64 dev eth0 nodad
node3_cycle
[ "$(full_passes)" = "$full0" ] ||
	nr_fail "an alias, a queue length and a link-local address made $(( $(full_passes) - full0 )) full pass(es)"
nr_ok "link events that change nothing for routes cost no full pass"
ip -n "$NS1" addr del fe80::7/64 dev eth0 # a removal may count: settle it first
node3_cycle
full0=$(full_passes)
ip -n "$NS1" link set eth0 mtu 1400
nrctl node add node-3 --ip 192.168.1.12 --pod-cidr 10.0.3.0/24 >/dev/null
nr_wait_for 5 sh -c "[ \"\$($NR_BIN_DIR/nrctl --socket $SOCK -o json status | jq -r .full_passes)\" -gt $full0 ]" ||
	nr_fail "an MTU change of eth0 did not re-read the kernel"
nr_ok "an MTU change of eth0 does"
nrctl node del node-3 >/dev/null
ip -n "$NS1" link set eth0 mtu 1500
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
nr_wait_for 10 neigh_back || nr_fail "deleted VXLAN neighbour not restored: $(ip -n "$NS1" neigh show dev nr_vxlan)"
nr_ok "VXLAN neighbour entry restored after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
t0=$(date +%s%N)
bridge -n "$NS1" fdb del "$mac" dev nr_vxlan dst 192.168.1.11
nr_wait_for 10 fdb_back || nr_fail "deleted FDB entry not restored: $(bridge -n "$NS1" fdb show dev nr_vxlan)"
nr_ok "VXLAN FDB entry restored after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
expect_back "10 flaps in tunnel mode" "dev nr_vxlan" flaps 10
nr_wait_for 10 fdb_back || nr_fail "FDB entry not back after the flaps"
nr_ok "FDB entry back after the flaps"
stop_daemon
echo PASS
