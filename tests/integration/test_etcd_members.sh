# A 3-member etcd cluster under two nativerouted: with the member they talk
# to killed they fail over and keep working (a third host joining is seen by
# both), the status says the store is degraded and names the dead member;
# with two members killed (no quorum) the data plane keeps forwarding and
# the status says the store is unreachable; when quorum returns the
# controllers recover and changes flow again.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test m node-1=192.168.1.10 node-2=192.168.1.11 node-3=192.168.1.12

start_daemon() {
	nr_etcd_daemon "$1" --store etcd --etcd-endpoints "$NR_ETCD_URLS" --cluster-name "$CLUSTER" \
		--etcd-lease-ttl 5
}
store_works() { { nrctl "$1" status || true; } | grep -E '^Store: etcd (Ok|degraded)' >/dev/null; }
# after e1 died: degraded naming e1 - or Ok on another member, for a host
# that had left e1 before (a keepalive slow under load moves it on, and a
# member it no longer uses is not watched)
e1_named() {
	V=$(nrctl "$1" status || true)
	grep "^Store: etcd degraded (member ${NR_ETCD_URL[e1]} not answering" <<<"$V" >/dev/null ||
		{ grep '^Store: etcd Ok' <<<"$V" >/dev/null && ! grep "^Store: etcd Ok (${NR_ETCD_URL[e1]}," <<<"$V" >/dev/null; }
}
routes_to() { kroutes "$1" | grep "^$2 " >/dev/null; }

nr_etcd_cluster e1 e2 e3
nr_topo_up "$NR_P"
nr_topo_node "$NR_P" node-3 192.168.1.12/24
start_daemon node-1
start_daemon node-2
nr_etcd_joined node-1 node-2
c1=$(cidr_of node-1); c2=$(cidr_of node-2)
nr_wait_for 10 routes_to node-1 "$c2" && nr_wait_for 10 routes_to node-2 "$c1" ||
	nr_fail "node-1/node-2 do not route each other: $(kroutes node-1) / $(kroutes node-2)"
nr_ok "two hosts on a 3-member etcd: $c1 and $c2, routed both ways"
declare -A PODIP=()
for n in node-1 node-2; do
	pod="pod-${n#node-}"
	nr_topo_pod "$NR_P" "$n" "$pod" "veth-$pod"
	out=$(nrctl "$n" -o json endpoint add "$pod" --ifname "veth-$pod")
	PODIP[$n]=$(sed -n 's/.*"ipv4":"\([0-9.]*\)".*/\1/p' <<<"$out")
	nr_topo_pod_addr "$NR_P" "$pod" "${PODIP[$n]}" "$(sed -n 's/.*"gateway":"\([0-9.]*\)".*/\1/p' <<<"$out")"
done
ping_ok() { ip netns exec "${NR_P}pod-1" ping -c 2 -i 0.2 -W 2 "${PODIP[node-2]}" >/dev/null; }
ping_ok || nr_fail "pod-1 cannot reach pod-2"
nr_ok "pod-1 reaches pod-2"

# ---- one member down: fail-over ---------------------------------------------------
nr_etcd_kill e1   # the first endpoint: the one both controllers talk to
t0=$(date +%s%N)
start_daemon node-3  # joins through e2/e3 while e1 is dead
nr_wait_for 20 store_works node-3 || { cat "$TMP/node-3.log"; nr_fail "node-3 could not join with e1 down"; }
c3=$(cidr_of node-3)
for n in node-1 node-2; do
	nr_wait_for 20 routes_to "$n" "$c3" || { tail -20 "$TMP/$n.log"; nr_fail "$n did not learn node-3 with e1 down"; }
	nr_wait_for 20 e1_named "$n" || nr_fail "$n does not name dead e1 after failing over: $(nrctl "$n" status)"
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
nr_ok "e1 killed: node-3 joined via another member and both hosts routed its $c3 ($ms ms)"
nr_wait_for 20 e1_named node-1 || nr_fail "node-1: $(nrctl node-1 status)"
v=$V
if grep -q '^Store: etcd degraded' <<<"$v"; then
	nr_expect_match "$v" '^Controller: +Degraded' "node-1 with a member down: Controller: Degraded"
	nr_expect_match "$v" "^Store: etcd degraded \(member ${NR_ETCD_URL[e1]//./\\.} not answering since [0-9-]+ [0-9:]+ UTC: .*; using http://127\.0\.0\.1:[0-9]+\)" \
		"node-1: Store: etcd degraded, naming the dead member and the one in use"
	[ "$(sed -n 's/^Store: etcd degraded .*; using \([^)]*\))$/\1/p' <<<"$v")" != "${NR_ETCD_URL[e1]}" ] ||
		nr_fail "node-1 still claims to use the dead member"
else
	echo "note: node-1 had left e1 before it was killed: $(grep '^Store:' <<<"$v")"
fi
nr_ok "node-1 now talks to a live member"

# ---- two members down: no quorum; forwarding goes on ------------------------------
before=$(kroutes node-1)
nr_etcd_kill e2
nr_wait_for 30 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/node-1.sock' status | grep -q '^Store: etcd unreachable'" ||
	nr_fail "node-1 still says Ok without quorum: $(nrctl node-1 status)"
nr_expect_match "$(nrctl node-1 status || true)" '^Store: etcd unreachable \(since ' "no quorum: Store: etcd unreachable"
ping_ok || nr_fail "pod-1 cannot reach pod-2 without etcd quorum"
[ "$(kroutes node-1)" = "$before" ] || nr_fail "routes changed without quorum: $(kroutes node-1)"
nr_ok "no quorum: routes unchanged, pods still ping"

# ---- quorum back: recovery ---------------------------------------------------------
nr_etcd_restart e1
nr_etcd_restart e2
for n in node-1 node-2 node-3; do
	nr_wait_for 40 store_ok "$n" || { tail -20 "$TMP/$n.log"; nr_fail "$n did not recover with quorum back"; }
done
nr_ok "quorum back: all three Store: etcd Ok"
kill -9 "${DPID[node-3]}"
for n in node-1 node-2; do
	nr_wait_for 20 sh -c "! ip -n ${NR_P}$n route show proto 201 | grep -q '^$c3 '" ||
		nr_fail "$n still routes node-3 after its lease ran out: $(kroutes "$n")"
done
nr_ok "changes flow again: dead node-3 removed from node-1 and node-2"
ping_ok || nr_fail "pod-1 cannot reach pod-2 at the end"
nr_etcd_daemons_end node-1 node-2
echo "PASS"
