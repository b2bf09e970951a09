# Purge with the etcd store: `nativerouted --purge --store etcd ...` deletes
# this node's key and the CIDR claims it owns (compare-and-delete on the
# owner: another node's claim stays), so the other hosts drop its routes at
# once - not after its lease TTL - and its CIDRs are free again. With etcd
# unreachable the purge fails naming the endpoint and changes nothing. The
# same from nr_ctl_purge() of an embedded controller that joined and watches.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test p node-1=192.168.1.10 node-2=192.168.1.11
TTL=60 # long: a key that goes away went because of the purge, not the lease

store() { echo --store etcd --etcd-endpoints "$1" --cluster-name "$CLUSTER" --etcd-lease-ttl $TTL; }
flags() { echo "$(nr_etcd_daemon_flags "$1")" "$(store "$2")"; } # NODE ENDPOINTS
# shellcheck disable=SC2046
start_daemon() { nr_etcd_daemon "$1" $(store "$NR_ETCD_URLS"); }
keys() { # every key of the cluster with its value
	nr_etcdctl e1 /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/")\",\"range_end\":\"$(nr_b64 "${PFX}0")\"}" |
		jq -r '(.kvs // [])[] | "\(.key | @base64d) \(.value | @base64d)"' | sort
}
put() { nr_etcd_put e1 "$@"; }

nr_etcd_cluster e1
nr_topo_up "$NR_P"
start_daemon node-1
start_daemon node-2
nr_etcd_joined node-1 node-2
c1=$(cidr_of node-1); c2=$(cidr_of node-2)
nr_wait_for 10 sh -c "ip -n ${NR_P}node-2 route show proto 201 | grep -q '^$c1 '" ||
	nr_fail "node-2 does not route node-1's $c1: $(kroutes node-2)"
# a stale claim of node-1 (an old block, no lease) and one of a node-3
put ipam/ipv4/10.0.200.0-24 '{"owner":"node-1"}'
put ipam/ipv4/10.0.201.0-24 '{"owner":"node-3"}'
before=$(keys)
echo "$before"
nr_expect_match "$before" "^$PFX/nodes/node-1 " "etcd has node-1's key"
nr_expect_match "$before" "^$PFX/ipam/ipv4/${c1%/*}-24 \{\"owner\":\"node-1\"\}" "etcd has node-1's claim of $c1"
nr_ok "node-1 ($c1) and node-2 ($c2) joined; stale claims planted"

# ---- etcd unreachable: the purge fails, names the endpoint, changes nothing ----------
kill -TERM "${DPID[node-1]}"
wait "${DPID[node-1]}" || nr_fail "node-1 exited with $? on SIGTERM"
k1=$(kroutes node-1)
[ -n "$k1" ] || nr_fail "node-1 has no route of ours before the purge"
dead="http://127.0.0.1:$(nr_free_ports 1)"
set +e
# shellcheck disable=SC2046
out=$("$D" $(flags node-1 "$dead") --purge 2>&1); rc=$?
set -e
echo "$out" | tail -3
[ $rc -ne 0 ] || nr_fail "--purge with etcd unreachable exited 0"
nr_expect_match "$out" "purge failed: .*${dead//./\\.}" "the failed purge names the endpoint"
[ "$(kroutes node-1)" = "$k1" ] || nr_fail "the failed purge changed node-1's routes: $(kroutes node-1)"
[ -e "$TMP/node-1.state" ] && [ -n "$(ls -A "$TMP/node-1.state")" ] || nr_fail "the failed purge removed the state dir"
[ "$(keys)" = "$before" ] || nr_fail "the failed purge changed etcd: $(keys)"
nr_ok "etcd unreachable: --purge exits $rc, names $dead, kernel, state dir and etcd unchanged"

# ---- etcd there: node-1's key and claims go; node-2 drops its route at once ----------
t0=$(date +%s%N)
# shellcheck disable=SC2046
"$D" $(flags node-1 "$NR_ETCD_URLS") --purge >>"$TMP/node-1.log" 2>&1 || {
	tail -5 "$TMP/node-1.log"; nr_fail "--purge failed with etcd there"; }
after=$(keys)
echo "$after"
nr_expect_no_match "$after" "^$PFX/nodes/node-1 " "node-1's key deleted"
nr_expect_no_match "$after" '"owner":"node-1"' "every claim owned by node-1 deleted (current and stale)"
nr_expect_match "$after" "^$PFX/ipam/ipv4/10\.0\.201\.0-24 \{\"owner\":\"node-3\"\}" "node-3's claim left alone"
nr_expect_match "$after" "^$PFX/ipam/ipv4/${c2%/*}-24 \{\"owner\":\"node-2\"\}" "node-2's claim left alone"
nr_expect_match "$after" "^$PFX/nodes/node-2 " "node-2's key left alone"
nr_expect_match "$after" "^$PFX/config " "the cluster config stays"
[ -z "$(kroutes node-1)" ] || nr_fail "node-1 still has routes after the purge: $(kroutes node-1)"
nr_wait_for 10 sh -c "! ip -n ${NR_P}node-2 route show proto 201 | grep -q '^$c1 '" ||
	nr_fail "node-2 still routes purged node-1's $c1: $(kroutes node-2)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
nr_ok "purged: node-2 dropped node-1's route after $ms ms (lease TTL $TTL s)"
nr_expect_match "$(tail -3 "$TMP/node-1.log")" "deleted from etcd" "the purge log says the etcd keys went"

# ---- node-1 comes back: it may take the lowest free block again ----------------------
rm -rf "$TMP/node-1.state"
start_daemon node-1
nr_wait_for 20 store_ok node-1 || { tail -20 "$TMP/node-1.log"; nr_fail "node-1 did not join again"; }
c1=$(cidr_of node-1)
nr_wait_for 10 sh -c "ip -n ${NR_P}node-2 route show proto 201 | grep -q '^$c1 '" ||
	nr_fail "node-2 does not route node-1's $c1 again"
nr_ok "node-1 joined again after its purge with $c1"

# ---- nr_ctl_purge of a running controller in its steady state (watching, renewing) ----
kill -TERM "${DPID[node-1]}"
wait "${DPID[node-1]}" || nr_fail "node-1 exited with $? on SIGTERM"
out=$("$NR_TOOLS_DIR/nr_etcd_purge" "${NR_P}node-1" node-1 "${IP[node-1]}" "$NR_ETCD_URLS" "$CLUSTER" 2>&1) ||
	{ echo "$out"; nr_fail "nr_ctl_purge of a running controller failed"; }
echo "$out"
nr_expect_match "$out" '^joined: Ok \(' "the embedded controller joined etcd before the purge"
after=$(keys)
nr_expect_no_match "$after" "^$PFX/nodes/node-1 " "running purge: node-1's key deleted"
nr_expect_no_match "$after" '"owner":"node-1"' "running purge: node-1's claims deleted"
nr_expect_match "$after" "^$PFX/nodes/node-2 " "running purge: node-2's key left alone"
nr_wait_for 10 sh -c "! ip -n ${NR_P}node-2 route show proto 201 | grep -q '^$c1 '" ||
	nr_fail "node-2 still routes node-1's $c1 after the running purge"
[ -z "$(kroutes node-1)" ] || nr_fail "node-1 still has routes after the running purge: $(kroutes node-1)"
nr_expect_no_match "$out" "AddressSanitizer|LeakSanitizer|runtime error" "no sanitizer report from the embedded controller"
nr_ok "nr_ctl_purge of a joined, watching controller: its keys gone, node-2 dropped $c1"
kill -TERM "${DPID[node-2]}"
wait "${DPID[node-2]}" || nr_fail "node-2 exited with status $? on SIGTERM"
nr_expect_no_match "$(cat "$TMP"/*.log)" "AddressSanitizer|LeakSanitizer|runtime error" \
	"no sanitizer report in any daemon log"
echo "PASS"
