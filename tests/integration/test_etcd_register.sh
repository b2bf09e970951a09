# This node's registration in etcd follows the node: a node IP changed at
# run time (nrctl node update of the local node) is put again, and the other
# hosts route to the new IP; a second host writing this node's key (two
# hosts started with one name) is reported once and shown in the status
# until the key is ours again.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test g node-1=192.168.1.10 node-2=192.168.1.11

start_daemon() {
	nr_etcd_daemon "$1" --store etcd --etcd-endpoints "$NR_ETCD_URLS" --cluster-name "$CLUSTER" \
		--etcd-lease-ttl 3 --etcd-cidr-grace 60
}
st() { nrctl "$1" status 2>/dev/null || true; }
store_ok() { st "$1" | grep '^Store: etcd Ok' >/dev/null; } # also while another part is unhealthy
routes() { kroutes "$1" | grep "^$2 .*via $3 " >/dev/null; }

nr_etcd_cluster e1
nr_topo_up "$NR_P"
start_daemon node-1
start_daemon node-2
nr_etcd_joined node-1 node-2
c1=$(cidr_of node-1); c2=$(cidr_of node-2)
nr_wait_for 10 routes node-2 "$c1" 192.168.1.10 || nr_fail "node-2 does not route node-1: $(kroutes node-2)"

# ---- node-1's IP changes at run time: registered again, node-2 follows -----------------
ip -n "${NR_P}node-1" addr add 192.168.1.20/24 dev eth0
nrctl node-1 node update node-1 --ip 192.168.1.20 --pod-cidr "$c1" >/dev/null ||
	nr_fail "updating node-1's own IP was refused"
nr_wait_for 10 routes node-2 "$c1" 192.168.1.20 ||
	{ tail -n 20 "$TMP/node-1.log"; nr_fail "node-2 still routes $c1 via the old IP: $(kroutes node-2)"; }
v=$(nr_etcdctl e1 /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/nodes/node-1")\"}" | jq -r '.kvs[0].value | @base64d')
nr_expect_match "$v" '"ipv4":"192\.168\.1\.20"' "etcd has node-1's new IP"
lease=$(nr_etcdctl e1 /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/nodes/node-1")\"}" | jq -r '.kvs[0].lease // "0"')
[ "$lease" != 0 ] || nr_fail "node-1's key lost its lease when it was put again"
nr_ok "node-1's IP changed: put again under its lease, node-2 routes $c1 via 192.168.1.20"

# ---- a second host writes node-2's key ------------------------------------------------------
nr_etcdctl e1 /v3/kv/put "{\"key\":\"$(nr_b64 "$PFX/nodes/node-2")\",\"value\":\"$(nr_b64 \
	"{\"name\":\"node-2\",\"ipv4\":\"192.168.1.99\",\"pod_cidrs\":[\"$c2\"]}")\"}" >/dev/null
foreign() { st node-2 | grep "^Store: etcd degraded (this node's key $PFX/nodes/node-2 holds another registration (ipv4 192\.168\.1\.99): two hosts named node-2?)" >/dev/null; }
nr_wait_for 10 foreign || nr_fail "node-2 does not report its key taken: $(st node-2)"
nr_expect_match "$(st node-2)" '^Controller: +Degraded' "node-2: Controller: Degraded"
sleep 2 # a few keepalive ticks: no tug of war, no repeated report
n=$(grep -c "holds another registration" "$TMP/node-2.log" || true)
[ "$n" = 1 ] || nr_fail "the foreign registration was reported $n times, not once"
v=$(nr_etcdctl e1 /v3/kv/range "{\"key\":\"$(nr_b64 "$PFX/nodes/node-2")\"}" | jq -r '.kvs[0].value | @base64d')
nr_expect_match "$v" '192\.168\.1\.99' "node-2 did not overwrite the other host's value (no tug of war)"
# the other host goes away (its key with it): node-2 registers again
nr_etcdctl e1 /v3/kv/deleterange "{\"key\":\"$(nr_b64 "$PFX/nodes/node-2")\"}" >/dev/null
nr_wait_for 10 store_ok node-2 || nr_fail "node-2 not Ok after its key was freed: $(st node-2)"
nr_wait_for 10 routes node-1 "$c2" 192.168.1.11 || nr_fail "node-1 does not route node-2 via its own IP again"
nr_ok "a foreign write of node-2's key: reported once, then registered again when it went"

nr_etcd_daemons_end node-1 node-2
echo "PASS"
