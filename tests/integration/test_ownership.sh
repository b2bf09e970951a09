#!/usr/bin/env bash
# Ownership is the protocol (and table, and our device), never an id or a
# name alone (issue 11 item 3):
#  - a foreign `proto static` nexthop with an id in our range, and a static
#    route using it, survive every pass, a restart and --purge; the node that
#    would have used that id gets another one (the same after a restart);
#  - a foreign nexthop appearing at run time on an id we are about to use;
#  - a foreign device named nr_vxlan is never changed or deleted.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrown.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
args=(--socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1
	--node-ip 192.168.1.10 --ipam kubernetes --pod-cidr 10.0.0.0/24)
start_daemon() {
	"$D" "${args[@]}" --mode native --auto-direct-node-routes "$@" >>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
}
stop_daemon() { kill "$DPID"; wait "$DPID" 2>/dev/null || true; }
foreign_ok() { # the static objects, unchanged
	ip -n "$NS1" nexthop show id 268435458 | grep -q 'via 192\.168\.1\.11 dev eth0 scope link proto static' &&
		ip -n "$NS1" route show 10.9.0.0/24 | grep -q 'nhid 268435458 .*proto static'
}

nr_topo_up "$NR_P"
# node-2 will get node index 1: nexthop id 0x10000002 = 268435458
ip -n "$NS1" nexthop add id 268435458 via 192.168.1.11 dev eth0 proto static
ip -n "$NS1" route add 10.9.0.0/24 nhid 268435458 proto static
start_daemon
nrctl node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null || nr_fail "node add"
nr_wait_for 10 sh -c "ip -n $NS1 route show 10.0.1.0/24 proto 201 | grep -q nhid" || nr_fail "no route for node-2"
r=$(ip -n "$NS1" route show 10.0.1.0/24 proto 201)
echo "$r"
nh=$(sed -n 's/.*nhid \([0-9]*\).*/\1/p' <<<"$r")
[ "$nh" != 268435458 ] || nr_fail "node-2's route uses the foreign nexthop"
nr_expect_match "$(ip -n "$NS1" nexthop show id "$nh")" "via 192\.168\.1\.11 dev eth0 .*proto 201" "node-2 got its own nexthop (id $nh)"
foreign_ok || nr_fail "the foreign nexthop or its route changed: $(ip -n "$NS1" nexthop; ip -n "$NS1" route)"
nr_ok "foreign static nexthop and route untouched"
nr_expect_match "$(nrctl status)" "^Controller: +Ok" "healthy"

echo "== a foreign nexthop on the id the next node would use"
# node-3 will be index 2: 0x10000004 = 268435460
ip -n "$NS1" nexthop add id 268435460 via 192.168.1.12 dev eth0 proto static
sleep 0.2
nrctl node add node-3 --ip 192.168.1.12 --pod-cidr 10.0.3.0/24 >/dev/null || nr_fail "node add node-3"
nr_wait_for 10 sh -c "ip -n $NS1 route show 10.0.3.0/24 proto 201 | grep -q nhid" || nr_fail "no route for node-3"
nh3=$(ip -n "$NS1" route show 10.0.3.0/24 proto 201 | sed -n 's/.*nhid \([0-9]*\).*/\1/p')
[ "$nh3" != 268435460 ] || nr_fail "node-3's route uses the foreign nexthop"
nr_expect_match "$(ip -n "$NS1" nexthop show id 268435460)" "proto static" "foreign nexthop 268435460 untouched"
nr_ok "node-3 uses nexthop $nh3"

echo "== passes, drift repair and a restart leave them alone"
ip -n "$NS1" route del 10.0.1.0/24 proto 201
nr_wait_for 10 sh -c "ip -n $NS1 route show 10.0.1.0/24 proto 201 | grep -q nhid" || nr_fail "drift not repaired"
stop_daemon
start_daemon
sleep 0.3
nr_expect_match "$(ip -n "$NS1" route show 10.0.1.0/24 proto 201)" "nhid $nh " "after a restart node-2 keeps nexthop $nh"
nr_expect_match "$(ip -n "$NS1" route show 10.0.3.0/24 proto 201)" "nhid $nh3 " "and node-3 keeps $nh3"
foreign_ok || nr_fail "restart changed the foreign objects"
nr_ok "foreign objects untouched after the restart"

echo "== --purge"
stop_daemon
"$D" --purge "${args[@]}" >>"$TMP/daemon.log" 2>&1 || { tail "$TMP/daemon.log"; nr_fail "--purge failed"; }
nr_expect_no_match "$(ip -n "$NS1" route show proto 201)" "." "--purge removed our routes"
nr_expect_no_match "$(ip -n "$NS1" nexthop show | grep 'proto 201' || true)" "." "and our nexthops"
foreign_ok || nr_fail "--purge touched the foreign nexthop or its route"
nr_expect_match "$(ip -n "$NS1" nexthop show id 268435460)" "proto static" "--purge left 268435460"
nr_ok "--purge left every foreign object"

echo "== a foreign nr_vxlan"
ip -n "$NS1" link add nr_vxlan address 02:00:00:00:00:07 type vxlan id 7 dstport 4789 local 192.168.1.10
if "$D" "${args[@]}" --mode tunnel >>"$TMP/daemon.log" 2>&1; then nr_fail "tunnel mode over a foreign nr_vxlan started"; fi
nr_expect_match "$(tail -3 "$TMP/daemon.log")" "nr_vxlan exists and is not ours" "tunnel mode refuses a foreign nr_vxlan, saying so"
start_daemon
if out=$(nrctl status); then :; fi
nr_expect_match "$(cat "$TMP/daemon.log")" "no VXLAN receive side in native mode" "native mode runs, reporting the missing receive side"
stop_daemon
"$D" --purge "${args[@]}" >>"$TMP/daemon.log" 2>&1 || nr_fail "--purge failed"
nr_expect_match "$(ip -n "$NS1" -d link show nr_vxlan)" "vxlan id 7 " "--purge left the foreign nr_vxlan alone"
echo PASS
