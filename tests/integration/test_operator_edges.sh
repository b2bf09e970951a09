#!/usr/bin/env bash
# Small things an operator runs into (issue 12 item 8, issue 11 item 10):
#  - growing a pool (10.40.0.0/28 -> /27) or adding a second one keeps every
#    allocation valid: accepted without --allow-config-migration; a pool
#    change that would orphan an allocation is still refused;
#  - the start-up log shows the mode in effect (a saved mode.set wins over
#    unchanged options);
#  - --purge needs no --cluster-cidr;
#  - a namespace deleted under a running daemon turns status to an error.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nredge.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
base=(--socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1
	--node-ip 192.168.1.10 --mode native --auto-direct-node-routes --mask-size 30)
start_daemon() {
	"$D" "${base[@]}" "$@" >"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up with $*"; }
}
stop_daemon() { kill "$DPID"; wait "$DPID" 2>/dev/null || true; }

nr_topo_up "$NR_P"
start_daemon --cluster-cidr 10.40.0.0/28
nrctl node add node-2 --ip 192.168.1.11 >/dev/null || nr_fail "node add"
nodes_before=$(nrctl nodes)
echo "$nodes_before"
stop_daemon

echo "== pool growth keeps every allocation: accepted"
start_daemon --cluster-cidr 10.40.0.0/27
nr_expect_match "$(nrctl nodes)" "node-2 .*$(awk '/^node-2/ {print $4}' <<<"$nodes_before")" "node-2 keeps its CIDR under the grown pool"
nr_expect_match "$(cat "$TMP/daemon.log")" "every saved allocation still fits; accepted" "the log says why it was accepted"
stop_daemon
start_daemon --cluster-cidr 10.40.0.0/27 --cluster-cidr 10.50.0.0/28
nr_ok "a second pool added: accepted"
stop_daemon
if "$D" "${base[@]}" --cluster-cidr 10.60.0.0/27 >"$TMP/refused.log" 2>&1; then
	nr_fail "a pool change that orphans allocations was accepted"
fi
nr_expect_match "$(cat "$TMP/refused.log")" "would lose their allocations" "a pool that drops allocations is still refused"

echo "== the start-up log shows the mode in effect"
start_daemon --cluster-cidr 10.40.0.0/27 --cluster-cidr 10.50.0.0/28
nrctl mode set hybrid >/dev/null
stop_daemon
start_daemon --cluster-cidr 10.40.0.0/27 --cluster-cidr 10.50.0.0/28
nr_expect_match "$(cat "$TMP/daemon.log")" "hybrid routing.*\(saved by mode set; the options are unchanged\)" \
	"start-up log: hybrid (saved), not the native of the options"

echo "== a deleted namespace turns status to an error"
nr_expect_match "$(nrctl status)" "^Controller: +Ok" "Ok before"
ip netns del "$NS1"
if out=$(nrctl status); then nr_fail "status exits 0 with the namespace gone: $out"; fi
nr_expect_match "$(head -1 <<<"$out")" "Degraded: .*namespace: $NS1 was deleted" "first line names the namespace"
nr_expect_match "$(nrctl -o json status || true)" '"netns_gone":true' "-o json: netns_gone"
stop_daemon

echo "== --purge needs no --cluster-cidr"
ip netns add "$NS1"
ip -n "$NS1" link set lo up
"$D" --purge --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
	--node-ip 127.0.0.1 >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; nr_fail "--purge without --cluster-cidr failed"; }
nr_ok "--purge ran without --cluster-cidr"
echo PASS
