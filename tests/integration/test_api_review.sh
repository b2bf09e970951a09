# The promises of the 1.0 API review (issue 9 item 6), on a real controller
# and a real daemon in a network namespace: nr_ctl_set/get_data, current
# nr_last_errmsg() after status/foreach failures, the direct-routing switch
# read back (in-process and over RPC), the client's growable list forms
# (per-item walks, nr_ipam_allocation_at) against the 1.0 array forms, and
# nr_client_close from inside a walk (tests/tools/nr_api_check.c).
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
CHECK="$NR_TOOLS_DIR/nr_api_check"
TMP=$(mktemp -d /tmp/nrapi.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }

nr_topo_up "$NR_P"
ip -n "$NS1" link add vpa type veth peer name vpb
ip -n "$NS1" link set vpa up
ip -n "$NS1" link set vpb up

echo "== in-process controller"
"$CHECK" ctl "$NS1" || nr_fail "nr_api_check ctl"

echo "== client of a daemon"
"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --mode native --auto-direct-node-routes \
	--direct-routing-skip-unreachable --ipam cluster-pool --cluster-cidr 10.0.0.0/16 \
	>>"$TMP/daemon.log" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
nrctl node add node-2 --ip 192.168.1.11 >/dev/null
nrctl endpoint add pod-a --ifname vpa >/dev/null
"$CHECK" client "$SOCK" || { cat "$TMP/daemon.log"; nr_fail "nr_api_check client"; }

echo "== nrctl mode reads every switch back"
nr_expect_match "$(nrctl -o json mode)" '"mode":"native","auto_direct_node_routes":true,"direct_routing_skip_unreachable":true' \
	"nrctl -o json mode: direct_routing_skip_unreachable read back"
nr_expect_match "$(nrctl mode)" 'direct-routing-skip-unreachable: on' "nrctl mode: the switch in the table"
nr_expect_match "$(nrctl -o json mode set native --no-direct-routing-skip-unreachable)" \
	'"direct_routing_skip_unreachable":false' "nrctl mode set answers with the switch in force"
nrctl mode set native --direct-routing-skip-unreachable >/dev/null

echo "== nrctl: global options after the command (issue 12 item 5)"
out=$("$NR_BIN_DIR/nrctl" status -o json --socket "$SOCK")
nr_expect_match "$out" '^\{"routing_mode":"native"' "nrctl status -o json --socket PATH"
"$NR_BIN_DIR/nrctl" events --socket "$SOCK" --count 1 -o json >"$TMP/events" 2>&1 &
ev=$!
# the subscription is in place once it says so: a change after it is seen
nr_wait_for 10 grep -q '"type":"subscribed"' "$TMP/events" ||
	nr_fail "nrctl events -o json: no confirmation: $(cat "$TMP/events")"
nrctl node add node-3 --ip 192.168.1.12 >/dev/null
nrctl node del node-3 >/dev/null
wait "$ev" || nr_fail "nrctl events --count 1 -o json: exit $?: $(cat "$TMP/events")"
nr_expect_match "$(cat "$TMP/events")" '^\{"seq":[0-9]+,"type":"(node\.(added|removed)|route\.(programmed|removed))","node":"node-3"' \
	"nrctl events -o json after the command: JSON lines"
nrctl node add node-3 --ip 192.168.1.12 >/dev/null
out=$("$NR_BIN_DIR/nrctl" nodes --timeout 5000 --socket "$SOCK" -o json)
nr_expect_match "$out" '"name":"node-3"' "nrctl nodes --timeout MS --socket PATH -o json"
set +e
"$NR_BIN_DIR/nrctl" --verbose --socket "$SOCK" status >/dev/null 2>"$TMP/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "belongs after the command" "$TMP/err" ||
	nr_fail "a command option before the command: exit $rc, $(cat "$TMP/err")"
nr_ok "a command option before the command is a usage error naming why"
nr_ok "API review promises hold"
