# A hung etcd member: it accepts TCP and never answers (SIGSTOP on the
# member both controllers talk to; a listening socket that never replies).
# The kernel keeps answering TCP for a stopped process, so nothing but a
# timeout per request finds it: the keepalive fails over in time (no lease
# lapses), the watch that sat on the hung member moves to a live one
# (changes keep flowing), the status says "degraded" and names the member,
# and "Ok" again once it answers. A daemon frozen past its lease TTL
# registers again when it thaws.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test h node-1=192.168.1.10 node-2=192.168.1.11 node-3=192.168.1.12
TTL=3

start_daemon() { # NODE ENDPOINTS
	nr_etcd_daemon "$1" --store etcd --etcd-endpoints "$2" --cluster-name "$CLUSTER" \
		--etcd-lease-ttl $TTL --etcd-cidr-grace 60
}
st() { nrctl "$1" status 2>/dev/null || true; }
store_ok() { st "$1" | grep '^Store: etcd Ok' >/dev/null; } # also while another part is unhealthy
names_hung() { st "$1" | grep "^Store: etcd degraded (member $2 not answering" >/dev/null; }
routes() { kroutes "$1" | grep "^$2 .*via $3" >/dev/null; }
put() { nr_etcd_put "$@"; } # MEMBER KEY VALUE

nr_etcd_cluster e1 e2 e3
nr_topo_up "$NR_P"
nr_topo_node "$NR_P" node-3 192.168.1.12/24
start_daemon node-1 "$NR_ETCD_URLS"
start_daemon node-2 "$NR_ETCD_URLS"
nr_etcd_joined node-1 node-2
c1=$(cidr_of node-1); c2=$(cidr_of node-2)
nr_wait_for 10 routes node-2 "$c1" "${IP[node-1]}" || nr_fail "node-2 does not route node-1"
# the member node-1 uses (e1 unless a keepalive was slow under load): it hangs
cur_member() { cur=$(st node-1 | sed -n 's/^Store: etcd Ok (\([^,]*\),.*/\1/p'); [ -n "$cur" ]; }
nr_wait_for 10 cur_member || nr_fail "node-1 is not Ok: $(st node-1)"
H=""
for m in e1 e2 e3; do [ "${NR_ETCD_URL[$m]}" = "$cur" ] && H=$m; done
[ -n "$H" ] || nr_fail "cannot tell which member node-1 uses: $(st node-1)"
HURL=${NR_ETCD_URL[$H]}
OTHER=e1; [ "$H" = e1 ] && OTHER=e2

# ---- that member hangs ----------------------------------------------------------------------
kill -STOP "${NR_ETCD_PID[$H]}"
t0=$(date +%s%N)
hung1() { V=$(st node-1); grep "^Store: etcd degraded (member $HURL not answering" <<<"$V" >/dev/null; }
nr_wait_for 20 hung1 || { tail -20 "$TMP/node-1.log"; nr_fail "node-1 does not name hung $H: $(st node-1)"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
nr_expect_match "$V" '^Controller: +Degraded' "$H hung: Controller: Degraded"
nr_expect_match "$V" "^Store: etcd degraded \\(member ${HURL//./\\.} not answering since .*no answer within [0-9]+ ms; using http://127\\.0\\.0\\.1:[0-9]+\\)" \
	"the status names the hung member, the timeout and the member in use"
nr_ok "$H ($HURL) stopped: node-1 says so after $ms ms"
# node-1's watch sat on the hung member: a new node must still reach it
put "$OTHER" nodes/node-9 '{"name":"node-9","ipv4":"192.168.1.19","pod_cidrs":["10.0.99.0/24"]}'
for n in node-1 node-2; do
	nr_wait_for 10 routes "$n" 10.0.99.0/24 192.168.1.19 ||
		{ tail -20 "$TMP/$n.log"; nr_fail "$n missed a change while $H hangs (watch stuck): $(kroutes "$n")"; }
done
nr_ok "a change written through $OTHER reached both controllers (watch moved off $H)"
# leases renewed through the others: after 2 TTLs both keys are still there
sleep $((2 * TTL))
for n in node-1 node-2; do
	out=$(nr_etcdctl "$OTHER" /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/nodes/$n")\"}" | jq -r '.count // "0"')
	[ "$out" = 1 ] || nr_fail "$n's node key lapsed while $H hung (count $out)"
done
routes node-2 "$c1" "${IP[node-1]}" && routes node-1 "$c2" "${IP[node-2]}" ||
	{ tail -n 30 "$TMP"/node-[12].log; nr_fail "routes between node-1 ($c1) and node-2 ($c2) lost while $H hung: $(kroutes node-1) / $(kroutes node-2)"; }
nr_ok "2 x TTL with $H hung: both node keys alive, routes kept"

# ---- it answers again -----------------------------------------------------------------------
kill -CONT "${NR_ETCD_PID[$H]}"
for n in node-1 node-2; do
	nr_wait_for 20 store_ok "$n" || { tail -20 "$TMP/$n.log"; nr_fail "$n not Ok after $H thawed: $(st "$n")"; }
done
nr_expect_match "$(grep 'answers again' "$TMP/node-1.log")" "member ${HURL//./\\.} answers again" \
	"the return of $H is reported"
nr_ok "$H continued: both Store: etcd Ok again"

# ---- a listening socket that never replies, as the first endpoint ---------------------------
read -r bh <<<"$(nr_free_ports 1)"
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # read nothing, answer nothing
' "$bh" &
NR_PIDS+=("$!")
nr_wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$bh" || nr_fail "the silent listener did not start"
start_daemon node-3 "http://127.0.0.1:$bh,${NR_ETCD_URL[e2]}"
hung_bh() { names_hung node-3 "http://127.0.0.1:$bh"; }
nr_wait_for 40 hung_bh || { tail -20 "$TMP/node-3.log"; nr_fail "node-3 did not join past the silent endpoint: $(st node-3)"; }
c3=$(cidr_of node-3)
nr_wait_for 10 routes node-1 "$c3" "${IP[node-3]}" || nr_fail "node-1 does not route node-3's $c3"
nr_expect_match "$(st node-3)" "not answering since .*no answer within [0-9]+ ms; using ${NR_ETCD_URL[e2]//./\\.}\\)" \
	"node-3 names the silent endpoint and uses e2"
nr_ok "node-3 joined through e2 past a silent first endpoint"

# ---- a daemon frozen past its lease TTL registers again --------------------------------------
kill -STOP "${DPID[node-2]}"
nr_wait_for $((TTL + 10)) sh -c "! ip -n ${NR_P}node-1 route show proto 201 | grep -q '^$c2 '" ||
	{ kill -CONT "${DPID[node-2]}"; nr_fail "node-1 kept frozen node-2's route past its TTL"; }
kill -CONT "${DPID[node-2]}"
nr_wait_for 20 routes node-1 "$c2" "${IP[node-2]}" ||
	{ tail -20 "$TMP/node-2.log"; nr_fail "node-2 did not register again after thawing: $(st node-2)"; }
[ "$(cidr_of node-2)" = "$c2" ] || nr_fail "node-2 came back with $(cidr_of node-2), not $c2"
owner=$(nr_etcdctl e2 /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/ipam/ipv4/${c2%/*}-24")\"}" | jq -r '.kvs[0].value | @base64d')
nr_expect_match "$owner" '"owner":"node-2"' "node-2 still holds its claim of $c2"
nr_ok "node-2 frozen past its TTL: removed from node-1, then registered again with $c2"

nr_etcd_daemons_end node-1 node-2 node-3
echo "PASS"
