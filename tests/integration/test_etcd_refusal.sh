# Remote nodes a controller refuses, with the etcd store. node-3 sits behind
# a router (192.168.2.10): with auto-direct-node-routes node-1 must refuse
# it. The refusal is reported once (one error event, the status names it),
# remembered per key revision and NOT fetched from etcd again and again (no
# range request while nothing changes); a change of the key is tried at
# once (a fake node-9 whose CIDR overlaps node-1's, then fixed); a local
# route change that makes node-3 directly reachable is tried at once too,
# long before the back-off would.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test r node-1=192.168.1.10 node-3=192.168.2.10

start_daemon() {
	nr_etcd_daemon "$1" --store etcd --etcd-endpoints "$NR_ETCD_URLS" --cluster-name "$CLUSTER" \
		--etcd-lease-ttl 5 --etcd-cidr-grace 60
}
status1() { nrctl node-1 status || true; }
ranges() { # range requests etcd has answered so far
	curl -fsS "${NR_ETCD_URL[e1]}/metrics" |
		sed -n 's/^grpc_server_handled_total{grpc_code="OK",grpc_method="Range",[^}]*} //p'
}
put() { nr_etcd_put e1 "$@"; }
refused_events() { grep -c "remote node $1 .* refused" "$TMP/node-1.log" || true; }
next_try_at_least() { # SECONDS: the status shows the next back-off try that far away
	local s
	s=$(status1 | sed -n 's/^Store: etcd degraded (.* refused, next try in \([0-9]*\) s.*/\1/p')
	[ -n "$s" ] && [ "$s" -ge "$1" ]
}

nr_etcd_cluster e1
nr_topo_up "$NR_P" --third-node
start_daemon node-1
start_daemon node-3
# (V keeps the status that matched: a keepalive slow under load may flip it
# to "unreachable" for a second, so each check waits for its state)
refused3() { V=$(status1); grep -E '^Store: etcd degraded \(1 remote node refused, next try in [0-9]+ s: node-3: ' <<<"$V" >/dev/null; }
nr_wait_for 30 refused3 || { tail -20 "$TMP/node-1.log"; nr_fail "node-1 does not show node-3 refused: $(status1)"; }
v=$V
nr_expect_match "$v" '^Controller: +Degraded' "a refused remote node: Controller: Degraded"
nr_expect_match "$v" 'node-3: .*192\.168\.2\.10' "the status names node-3 and its IP"
c1=$(cidr_of node-1)
c3=$(cidr_of node-3)
nr_expect_no_match "$(kroutes node-1)" "^$c3 " "node-1 has no route to refused node-3's $c3"

# ---- nothing changes: no re-listing, no repeated report ------------------------------
r0=$(ranges)
sleep 12 # two periods of the old every-5-s re-list, and the first back-off tries
r1=$(ranges)
[ "$r1" = "$r0" ] || nr_fail "etcd answered $((r1 - r0)) range requests in 12 s while nothing changed (re-listing)"
nr_ok "12 s with node-3 refused: no range request reached etcd ($r0 -> $r1)"
n=$(refused_events node-3)
[ "$n" = 1 ] || { grep "node-3" "$TMP/node-1.log" | tail; nr_fail "the refusal of node-3 was reported $n times, not once"; }
nr_ok "the refusal of node-3 was reported once"
nr_wait_for 10 refused3 || nr_fail "node-1 forgot node-3's refusal: $(status1)"

# ---- a changed key is tried at once ------------------------------------------------------
put nodes/node-9 "{\"name\":\"node-9\",\"ipv4\":\"192.168.1.19\",\"pod_cidrs\":[\"$c1\"]}"
nr_wait_for 10 sh -c "grep -q 'remote node node-9 .* refused' '$TMP/node-1.log'" ||
	nr_fail "node-9 overlapping node-1's $c1 was not refused: $(status1)"
refused2() { status1 | grep '^Store: etcd degraded (2 remote nodes refused' >/dev/null; }
nr_wait_for 10 refused2 || nr_fail "status does not show 2 remote nodes refused: $(status1)"
nr_ok "status: 2 remote nodes refused"
put nodes/node-9 '{"name":"node-9","ipv4":"192.168.1.19","pod_cidrs":["10.0.250.0/24"]}'
nr_wait_for 10 sh -c "ip -n ${NR_P}node-1 route show proto 201 | grep -q '^10.0.250.0/24 .*via 192.168.1.19'" ||
	nr_fail "node-9's fixed key was not applied: $(kroutes node-1) / $(status1)"
nr_ok "node-9's key changed: applied at once (10.0.250.0/24 via 192.168.1.19)"
nr_expect_match "$(grep 'node-9' "$TMP/node-1.log")" 'remote node node-9 accepted now' "node-9's acceptance reported"
nr_etcdctl e1 /v3/kv/deleterange "{\"key\":\"$(nr_b64 "$PFX/nodes/node-9")\"}" >/dev/null
nr_wait_for 10 sh -c "! ip -n ${NR_P}node-1 route show proto 201 | grep -q '^10.0.250.0/24 '" ||
	nr_fail "node-9's route stayed after its key was deleted"
[ "$(refused_events node-3)" = 1 ] || nr_fail "node-3's refusal was reported again"

# ---- a local change that makes node-3 reachable is tried at once -------------------------
# wait for a long back-off, so that an acceptance in time can only come from the trigger
nr_wait_for 60 next_try_at_least 12 || nr_fail "no back-off of 12 s or more: $(status1)"
wait_s=$(status1 | sed -n 's/^Store: .*next try in \([0-9]*\) s.*/\1/p')
t0=$(date +%s%N)
ip -n "${NR_P}node-1" route add 192.168.2.10/32 dev eth0 # on-link now: directly reachable
nr_wait_for 8 sh -c "ip -n ${NR_P}node-1 route show proto 201 | grep -q '^$c3 .*via 192.168.2.10'" ||
	{ tail -20 "$TMP/node-1.log"; nr_fail "node-3 not accepted within 8 s of the route change: $(status1)"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
nr_ok "node-3 accepted $ms ms after a local route change (the back-off was $wait_s s away)"
nr_expect_match "$(grep 'node-3' "$TMP/node-1.log")" 'remote node node-3 accepted now' "node-3's acceptance reported"
nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/node-1.sock' status | grep -q '^Store: etcd Ok'" ||
	nr_fail "node-1's store is not Ok with nothing refused: $(status1)"
nr_ok "node-1: Store: etcd Ok again"

nr_etcd_daemons_end node-1 node-3
echo "PASS"
