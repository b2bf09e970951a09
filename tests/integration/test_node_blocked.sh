#!/usr/bin/env bash
# A node whose route the kernel refuses (another owner's route holds the
# prefix) is accepted and kept, with the blocked route as its state, not as
# an error of node.add that nonetheless kept the node (issue 12 item 4); the
# persistent fault is logged once, not twice a second; once the foreign route
# goes, ours is programmed.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrblk.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }

nr_topo_up "$NR_P"
ip -n "$NS1" route add 10.0.5.0/24 dev eth0 proto static
"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --mode native --auto-direct-node-routes --ipam kubernetes \
	--pod-cidr 10.0.0.0/24 >>"$TMP/daemon.log" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }

out=$(nrctl node add node-5 --ip 192.168.1.15 --pod-cidr 10.0.5.0/24 2>&1) ||
	nr_fail "node.add failed although the node is kept: $out"
nr_ok "node.add succeeds: the node is accepted"
nr_expect_match "$(nrctl nodes)" "node-5 .*blocked" "node-5's state is blocked"
st=$(nrctl status) && nr_fail "status Ok with a blocked route: $st"
nr_expect_match "$(head -1 <<<"$st")" "Degraded: .*routes: 0/1 programmed" "status says which subsystem"
out=$(nrctl node add node-5 --ip 192.168.1.15 --pod-cidr 10.0.5.0/24 2>&1) && nr_fail "duplicate accepted"
nr_expect_match "$out" "EEXIST|exists" "a second add is a duplicate, as it should be"
nr_expect_match "$(ip -n "$NS1" route show 10.0.5.0/24)" "proto static" "the foreign route is left alone"
sleep 3
n=$(grep -c 'another owner.s route holds this prefix' "$TMP/daemon.log" || true)
[ "$n" -le 1 ] || nr_fail "the persistent fault was logged $n times in 3 s"
nr_ok "persistent fault logged $n time(s) in 3 s"
ip -n "$NS1" route del 10.0.5.0/24 proto static
nr_wait_for 10 sh -c "ip -n $NS1 route show 10.0.5.0/24 proto 201 | grep -q nhid" ||
	nr_fail "our route not programmed after the foreign one went"
nr_ok "our route programmed once the prefix is free"
nr_wait_for 10 sh -c "$NR_BIN_DIR/nrctl --socket $SOCK nodes | grep -q 'node-5 .*native'" || nr_fail "node-5 not native"
nr_expect_match "$(nrctl status)" "^Controller: +Ok" "status Ok again"
echo PASS
