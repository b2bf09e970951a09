# Controllers racing for CIDRs never get the same one: in each round six
# fresh nativerouted (no saved state, so all six first want the lowest block)
# start at the same moment against one etcd; every round must end with six
# distinct CIDRs, each held in etcd by its own node, and every host routing
# the other five.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"

nr_etcd_test r
ROUNDS=${NR_ETCD_RACE_ROUNDS:-8}
HOSTS=6

nr_etcd_cluster e1
nr_topo_up "$NR_P"
for i in $(seq 3 $HOSTS); do nr_topo_node "$NR_P" "node-$i" "192.168.1.$((9 + i))/24"; done

for round in $(seq 1 "$ROUNDS"); do
	cluster="r$$-$round"
	pids=()
	for i in $(seq 1 $HOSTS); do
		n="node-$i"
		IP[$n]=192.168.1.$((9 + i))
		rm -rf "$TMP/$n.state"
		nr_etcd_daemon "$n" --store etcd --etcd-endpoints "$NR_ETCD_URLS" --cluster-name "$cluster" \
			--etcd-lease-ttl 5
		pids+=("${DPID[$n]}")
	done
	for i in $(seq 1 $HOSTS); do
		nr_wait_for 30 store_ok "node-$i" || { tail -20 "$TMP/node-$i.log"; nr_fail "round $round: node-$i did not join"; }
	done
	# what each daemon uses, what etcd says, and what the others route
	declare -A own=()
	for i in $(seq 1 $HOSTS); do
		own[node-$i]=$(nrctl "node-$i" -o json node get "node-$i" | sed -n 's/.*"pod_cidrs":\["\([^"]*\)".*/\1/p')
	done
	distinct=$(printf '%s\n' "${own[@]}" | sort -u | grep -c .)
	[ "$distinct" = $HOSTS ] || nr_fail "round $round: CIDRs not distinct: ${own[*]}"
	held=$(nr_etcdctl e1 /v3/kv/range "{\"key\":\"$(nr_b64 "/nativeroute/v1/$cluster/ipam/")\",\"range_end\":\"$(nr_b64 "/nativeroute/v1/$cluster/ipam0")\"}" |
		jq -r '.kvs[] | "\(.key | @base64d) \(.value | @base64d | fromjson | .owner)"')
	for i in $(seq 1 $HOSTS); do
		c=${own[node-$i]}
		grep -q "/ipam/ipv4/${c%/*}-${c#*/} node-$i\$" <<<"$held" ||
			nr_fail "round $round: etcd does not hold $c for node-$i: $held"
	done
	[ "$(grep -c . <<<"$held")" = $HOSTS ] || nr_fail "round $round: etcd holds more claims than hosts: $held"
	for i in $(seq 1 $HOSTS); do
		for j in $(seq 1 $HOSTS); do
			[ $i = $j ] && continue
			nr_wait_for 10 sh -c "ip -n ${NR_P}node-$i route show proto 201 | grep -q '^${own[node-$j]} .*via 192.168.1.$((9 + j)) '" ||
				nr_fail "round $round: node-$i does not route node-$j's ${own[node-$j]}"
		done
	done
	nr_ok "round $round: $HOSTS racing hosts got $distinct distinct CIDRs (${own[*]}), each held by its owner in etcd and routed by all"
	for p in "${pids[@]}"; do kill -TERM "$p"; done
	for p in "${pids[@]}"; do wait "$p" || nr_fail "round $round: a daemon exited with $? on SIGTERM"; done
	unset own
done
nr_expect_no_match "$(cat "$TMP"/*.log)" "AddressSanitizer|LeakSanitizer|runtime error" \
	"no sanitizer report in any daemon log"
echo "PASS"
