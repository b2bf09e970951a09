# nativerouted + nrctl + the RPC server, in network namespaces: every method
# round trip checked against the kernel, concurrent clients, event order, a
# read-only peer, hostile input, a slow subscriber, graceful stop, --purge and
# the YAML config file.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
RAW="$NR_TOOLS_DIR/nr_rpc_raw"
[ -x "$D" ] && [ -x "$NR_BIN_DIR/nrctl" ] || nr_fail "build nativerouted and nrctl first"
TMP=$(mktemp -d /tmp/nrrpc.XXXXXX)
chmod 755 "$TMP"
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
kroutes() { ip -n "$NS1" route show proto 201; }

nr_topo_up "$NR_P"
ip -n "$NS1" link add vpa type veth peer name vpb
ip -n "$NS1" link set vpa up
ip -n "$NS1" link set vpb up

start_daemon() {
	"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
		--node-ip 192.168.1.10 --mode native --auto-direct-node-routes \
		--ipam cluster-pool --cluster-cidr 10.0.0.0/16 --max-queue-kb 64 "$@" \
		>>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
}
start_daemon
nr_ok "daemon answers on $SOCK (mode $(stat -c %a "$SOCK"))"
[ "$(stat -c %a "$SOCK")" = 660 ] || nr_fail "socket mode is not 0660"

# ---- every method, checked against the kernel --------------------------------
out=$(nrctl -o json status)
nr_expect_match "$out" '"routing_mode":"native"' "status: routing mode"
out=$(nrctl -o json node add node-2 --ip 192.168.1.11)
nr_expect_match "$out" '"pod_cidrs":\["10\.0\.1\.0/24"\]' "node.add allocates 10.0.1.0/24"
nr_wait_for 5 sh -c "ip -n $NS1 route show proto 201 | grep -q '10.0.1.0/24.*via 192.168.1.11'" ||
	nr_fail "route for node-2 not in the kernel: $(kroutes)"
nr_ok "kernel has 10.0.1.0/24 via 192.168.1.11"
nr_expect_match "$(nrctl -o json node get node-2)" '"state":"native"' "node.get"
nr_expect_match "$(nrctl nodes)" 'node-2 +192\.168\.1\.11' "node.list table"
nr_expect_match "$(nrctl -o json ipam)" '"used":2' "ipam.status: 2 blocks used"
nr_expect_match "$(nrctl -o json routes)" '"dst":"10\.0\.1\.0/24","kind":"native","via":"192\.168\.1\.11".*"programmed":true' "route.list"
out=$(nrctl -o json node update node-2 --ip 192.168.1.11 --pod-cidr 10.0.7.0/24)
nr_expect_match "$out" '10\.0\.7\.0/24' "node.update to 10.0.7.0/24"
nr_wait_for 5 sh -c "ip -n $NS1 route show proto 201 | grep -q '10.0.7.0/24.*via 192.168.1.11'" ||
	nr_fail "updated route not in the kernel: $(kroutes)"
nr_expect_no_match "$(kroutes)" '10\.0\.1\.0/24' "old CIDR route removed"
out=$(nrctl -o json endpoint add pod-a --ifname vpa)
nr_expect_match "$out" '"ipv4":"10\.0\.0\.[0-9]+".*"gateway":"10\.0\.0\.1"' "endpoint.add gives address and gateway"
ep_ip=$(sed -n 's/.*"ipv4":"\([0-9.]*\)".*/\1/p' <<<"$out")
nr_expect_match "$(kroutes)" "^$ep_ip dev vpa" "endpoint route $ep_ip dev vpa"
nr_expect_match "$(nrctl -o json endpoints)" '"id":"pod-a"' "endpoint.list"
out=$(nrctl -o json endpoint get pod-a)
vpa_index=$(ip -n "$NS1" -o link show vpa | cut -d: -f1)
nr_expect_match "$out" "^\{\"id\":\"pod-a\",\"ifname\":\"vpa\",\"ifindex\":$vpa_index,\"ipv4\":\"$ep_ip\".*\"gateway\":\"10\.0\.0\.1\"" \
	"endpoint.get: pod-a on vpa (ifindex $vpa_index) with $ep_ip via 10.0.0.1"
[ "$(jq -c . <<<"$out")" = "$(nrctl -o json endpoints | jq -c '.[] | select(.id == "pod-a")')" ] ||
	nr_fail "endpoint.get differs from the endpoint.list item: $out"
nr_ok "endpoint.get answers exactly the endpoint.list item"
nr_expect_match "$(nrctl endpoint get pod-a)" "^pod-a +vpa +$ep_ip " "endpoint get: table row"
nr_expect_match "$(nrctl -o json mode)" '"mode":"native"' "mode.get"
nr_expect_match "$(nrctl -o json mode set hybrid)" '"mode":"hybrid"' "mode.set hybrid"
nr_expect_match "$(nrctl status --verbose)" 'Routing: Network: Hybrid' "status shows Hybrid"
nrctl mode set native >/dev/null
v=$(nrctl status --verbose)
for line in 'Routing: Network: Native' 'Native Routing: Enabled' 'Tunnel: Disabled' \
	'Auto Direct Node Routes: Enabled' 'IPAM: cluster-pool .*[0-9]+/[0-9]+ allocated' \
	'Nodes: 2' 'Routes: '; do
	nr_expect_match "$v" "^$line" "status --verbose: $line"
done
nrctl endpoint del pod-a
nr_expect_no_match "$(kroutes)" "^$ep_ip dev vpa" "endpoint.remove takes the route away"
set +e
nrctl node get nosuch >/dev/null 2>&1; rc=$?
nrctl node add node-2 --ip 192.168.1.11 >/dev/null 2>&1; rc2=$?
nrctl bogus >/dev/null 2>&1; rc3=$?
ep_gone=$(nrctl endpoint get pod-a 2>&1); rc4=$?
nrctl node get node-2 --ip 192.168.1.11 >/dev/null 2>&1; rc5=$?
set -e
[ $rc = 1 ] && [ $rc2 = 1 ] && [ $rc3 = 2 ] && [ $rc4 = 1 ] && [ $rc5 = 2 ] ||
	nr_fail "exit codes: get missing $rc, duplicate add $rc2, usage $rc3, endpoint get removed $rc4, node get --ip $rc5"
nr_expect_match "$ep_gone" 'ENOENT.*no endpoint with id "pod-a"|no endpoint with id "pod-a".*ENOENT' \
	"endpoint.get of a removed endpoint: ENOENT naming it"
nr_ok "exit codes: 1 for refused operations, 2 for usage"

# ---- events: a subscriber sees every event, in order --------------------------
nrctl -o json events >"$TMP/events" 2>"$TMP/events.err" &
EVPID=$!
NR_PIDS+=("$EVPID")
# the first line says the subscription is in place: every change after it is seen
nr_wait_for 10 grep -q . "$TMP/events" ||
	nr_fail "events: no confirmation of the subscription: $(cat "$TMP/events.err")"
nr_expect_match "$(head -1 "$TMP/events")" \
	'^\{"type":"subscribed","message":"watching events \(Ctrl-C to stop\)"\}$' \
	"nrctl -o json events: a JSON line once subscribed (as the plain output's message)"
nrctl node del node-2
nrctl node add node-3 --ip 192.168.1.12 >/dev/null
nr_wait_for 10 grep -q '"type":"route\.programmed","node":"node-3"' "$TMP/events" ||
	nr_fail "events: no route.programmed for node-3: $(cat "$TMP/events")"
kill "$EVPID"; wait "$EVPID" 2>/dev/null || true
nr_pid_forget "$EVPID"
seqs=$(sed -n 's/.*"seq":\([0-9]*\).*/\1/p' "$TMP/events")
first=$(head -1 <<<"$seqs") n=$(wc -l <<<"$seqs")
[ "$n" -ge 4 ] && [ "$(tr '\n' ' ' <<<"$seqs")" = "$(seq "$first" $((first + n - 1)) | tr '\n' ' ')" ] ||
	nr_fail "event seq not consecutive: $seqs"
removed=$(grep -n '"type":"node\.removed","node":"node-2"' "$TMP/events" | cut -d: -f1)
added=$(grep -n '"type":"node\.added","node":"node-3"' "$TMP/events" | cut -d: -f1)
[ -n "$removed" ] && [ -n "$added" ] && [ "$removed" -lt "$added" ] ||
	nr_fail "node.removed node-2 must come before node.added node-3: $(cat "$TMP/events")"
nr_ok "events: $n consecutive seq numbers, in order of the changes"
nrctl node del node-3

# ---- concurrent clients -------------------------------------------------------
pids=()
for p in 0 1 2 3 4 5 6 7; do
	( for i in 0 1 2 3 4 5 6 7 8 9; do
		n=$((p * 10 + i))
		nrctl node add "c$n" --ip "192.168.1.$((100 + n))" >/dev/null || exit 1
	  done ) &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || nr_fail "a concurrent client failed"; done
count=$(nrctl -o json nodes | grep -o '"name":"c[0-9]*"' | sort -u | wc -l)
[ "$count" = 80 ] || nr_fail "80 nodes expected after 8 concurrent clients, got $count"
nr_wait_for 10 sh -c "[ \$(ip -n $NS1 route show proto 201 | grep -c 'via 192.168.1.1[0-9][0-9]') = 80 ]" ||
	nr_fail "kernel has $(kroutes | grep -c via) routes, expected 80"
cidrs=$(nrctl -o json nodes | grep -o '10\.0\.[0-9]*\.0/24' | sort | uniq -d)
[ -z "$cidrs" ] || nr_fail "duplicate CIDRs: $cidrs"
nr_ok "8 concurrent clients x 10 nodes: 80 nodes, 80 kernel routes, no CIDR twice"
pids=()
for p in 0 1 2 3 4 5 6 7; do
	( for i in 0 1 2 3 4 5 6 7 8 9; do nrctl node del "c$((p * 10 + i))" || exit 1; done ) &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || nr_fail "a concurrent delete failed"; done
nr_wait_for 10 sh -c "! ip -n $NS1 route show proto 201 | grep -q via" || nr_fail "routes left: $(kroutes)"
nr_ok "concurrent deletes: no remote route left"

# ---- a read-only peer -----------------------------------------------------------
chmod 0666 "$SOCK"
set +e
setpriv --reuid=nobody --regid=nogroup --clear-groups "$NR_BIN_DIR/nrctl" --socket "$SOCK" status >/dev/null
rc_read=$?
setpriv --reuid=nobody --regid=nogroup --clear-groups "$NR_BIN_DIR/nrctl" --socket "$SOCK" node add evil --ip 192.168.1.66 2>"$TMP/perm"
rc_write=$?
set -e
chmod 0660 "$SOCK"
[ $rc_read = 0 ] || nr_fail "nobody could not read status (exit $rc_read)"
[ $rc_write = 4 ] || nr_fail "nobody's node add exited $rc_write, expected 4"
nr_expect_match "$(cat "$TMP/perm")" 'EPERM' "read-only peer refused with EPERM"
nr_expect_no_match "$(nrctl nodes)" 'evil' "refused change did not happen"

# ---- hostile input, slow subscriber, throughput -----------------------------------
"$RAW" "$SOCK" corpus || nr_fail "malformed corpus"
nr_ok "malformed corpus: every case answered or disconnected, daemon healthy"
"$RAW" "$SOCK" stall >"$TMP/stall" 2>&1 &
STALL=$!
NR_PIDS+=("$STALL")
nr_wait_for 10 grep -q '^subscribed' "$TMP/stall" || nr_fail "the stalling subscriber did not subscribe: $(cat "$TMP/stall")"
"$RAW" "$SOCK" churn 5000 >/dev/null || nr_fail "churn failed while a subscriber stalls"
wait "$STALL" || nr_fail "slow subscriber was not dropped: $(cat "$TMP/stall")"
nr_ok "slow subscriber dropped, the daemon kept answering"
"$RAW" "$SOCK" flood 20000
nrctl status >/dev/null || nr_fail "daemon unhealthy after all that"

# ---- graceful stop leaves routes; --purge removes them --------------------------------
nrctl node add node-2 --ip 192.168.1.11 >/dev/null
kill -TERM "$DPID"
wait "$DPID" || nr_fail "daemon exited non-zero on SIGTERM"
[ ! -e "$SOCK" ] || nr_fail "socket file left behind"
nr_expect_match "$(kroutes)" 'via 192\.168\.1\.11' "SIGTERM: routes stay in place"
"$D" --purge --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 --node-ip 192.168.1.10 \
	--cluster-cidr 10.0.0.0/16 >>"$TMP/daemon.log" 2>&1 || nr_fail "--purge failed"
nr_expect_no_match "$(kroutes)" 'via' "--purge removed our routes"

# ---- the YAML config file ------------------------------------------------------------
cat >"$TMP/cilium.yaml" <<'EOF'
node-name: node-1
node-ip: 192.168.1.10
ipam:
  mode: kubernetes
ipv4:
  enabled: true
tunnel: disabled
routing-mode: native
autoDirectNodeRoutes: true
enable-ipv4-native-routing: true
cluster-pool-ipv4-cidr: 10.0.0.0/8
cluster-pool-ipv4-mask-size: 24
ipv4-native-routing-cidr: 10.0.0.0/8
pod-cidr: [10.0.0.0/24]
EOF
out=$("$D" --config "$TMP/cilium.yaml" --check-config)
for l in '^mode: native' '^auto-direct-node-routes: true' '^ipam: kubernetes' \
	'^  - 10\.0\.0\.0/8' '^mask-size: 24' '^native-routing-cidr:'; do
	nr_expect_match "$out" "$l" "config (Cilium names): $l"
done
printf 'node-name: n\nnode-ip: 192.168.1.10\nrouting-mode: native\ntunnel: vxlan\n' >"$TMP/bad.yaml"
set +e
err=$("$D" --config "$TMP/bad.yaml" --check-config 2>&1); rc=$?
set -e
[ $rc = 2 ] || nr_fail "contradictory config accepted (exit $rc)"
nr_expect_match "$err" 'bad\.yaml:4: "tunnel: vxlan" contradicts "routing-mode: native" on line 3' "contradiction names file, line and keys"
printf 'node-name: n\nnode-ip: 192.168.1.10\nrouting-modes: native\n' >"$TMP/typo.yaml"
set +e
err=$("$D" --config "$TMP/typo.yaml" --check-config 2>&1)
set -e
nr_expect_match "$err" 'typo\.yaml:3: unknown key "routing-modes"' "unknown key names file and line"
echo "PASS"
