# etcd with authentication on: two nativerouted with --etcd-username and
# --etcd-password-file join and route each other; a wrong password is
# refused with a clear status and nothing registered; after an etcd restart
# (which invalidates every token: the next request gets 401) the daemons
# authenticate again on their own and changes flow again.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test a node-1=192.168.1.10 node-2=192.168.1.11 node-3=192.168.1.12
start_daemon() { # NODE PASSWORD-FILE
	nr_etcd_daemon "$1" --store etcd --etcd-endpoints "$NR_ETCD_URLS" --etcd-lease-ttl 3 \
		--etcd-username nrd --etcd-password-file "$2"
}

nr_etcd_cluster e1
# users root (required to enable auth) and nrd, both with the root role
nr_etcdctl e1 /v3/auth/role/add '{"name":"root"}' >/dev/null
for u in root nrd; do
	nr_etcdctl e1 /v3/auth/user/add "{\"name\":\"$u\",\"password\":\"pw-$u\"}" >/dev/null
	nr_etcdctl e1 /v3/auth/user/grant "{\"user\":\"$u\",\"role\":\"root\"}" >/dev/null
done
nr_etcdctl e1 /v3/auth/enable '{}' >/dev/null
out=$(curl -sS -X POST "${NR_ETCD_URL[e1]}/v3/kv/range" -d "{\"key\":\"$(nr_b64 /)\"}")
nr_expect_match "$out" 'user name is empty|permission denied|"code":16|"code":3' "etcd refuses requests without a token"
printf 'pw-nrd\n' >"$TMP/good"
printf 'wrong\n' >"$TMP/bad"
chmod 600 "$TMP/good" "$TMP/bad"

nr_topo_up "$NR_P"
nr_topo_node "$NR_P" node-3 192.168.1.12/24
start_daemon node-1 "$TMP/good"
start_daemon node-2 "$TMP/good"
nr_etcd_joined node-1 node-2
c1=$(cidr_of node-1); c2=$(cidr_of node-2)
nr_wait_for 10 sh -c "ip -n ${NR_P}node-1 route show proto 201 | grep -q '^$c2 .*via 192.168.1.11'" ||
	nr_fail "node-1 does not route node-2's $c2: $(kroutes node-1)"
nr_ok "with auth: node-1 ($c1) and node-2 ($c2) joined and route each other"

# ---- a wrong password: refused, named, nothing registered ----------------------------
start_daemon node-3 "$TMP/bad"
nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/node-3.sock' status 2>/dev/null | grep -q 'authentication as nrd failed'" ||
	{ cat "$TMP/node-3.log"; nr_fail "a wrong password is not reported: $(nrctl node-3 status || true)"; }
nr_expect_match "$(nrctl node-3 status || true)" '^Store: etcd unreachable .*authentication as nrd failed' \
	"wrong password: Store: etcd unreachable (... authentication as nrd failed ...)"
nr_expect_no_match "$(nrctl node-1 nodes)" 'node-3' "the host with the wrong password is not registered"
kill "${DPID[node-3]}"; wait "${DPID[node-3]}" 2>/dev/null || true

# ---- etcd restarts: every token is void; the daemons authenticate again --------------
nr_etcd_kill e1
nr_etcd_restart e1
nr_wait_for 20 nr_etcd_healthy "${NR_ETCD_URL[e1]}" || nr_fail "etcd did not restart"
for n in node-1 node-2; do
	nr_wait_for 30 store_ok "$n" || { tail -20 "$TMP/$n.log"; nr_fail "$n did not recover after etcd's restart"; }
done
kill -9 "${DPID[node-2]}"
nr_wait_for 15 sh -c "! ip -n ${NR_P}node-1 route show proto 201 | grep -q '^$c2 '" ||
	nr_fail "node-1 still routes killed node-2 after the restart: $(kroutes node-1)"
nr_ok "after etcd's restart (tokens void) node-1 re-authenticated: killed node-2 left its routes"
kill -TERM "${DPID[node-1]}"
wait "${DPID[node-1]}" || nr_fail "node-1 exited with $? on SIGTERM"
nr_expect_no_match "$(cat "$TMP"/*.log)" "AddressSanitizer|LeakSanitizer|runtime error" \
	"no sanitizer report in any daemon log"
echo "PASS"
