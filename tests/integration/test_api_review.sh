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
nr_ok "API review promises hold"
