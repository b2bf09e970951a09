# Sourced by the etcd integration tests (after common.sh): real etcd members
# on 127.0.0.1, random free ports, data on tmpfs (/dev/shm: etcd 3.4 has no
# --unsafe-no-fsync), each killed by its PID and its data removed at exit.
#
#   nr_etcd_cluster NAME...   start one member per name as one cluster; sets
#                             NR_ETCD_URLS (comma-separated client URLs) and
#                             NR_ETCD_URL[name]
#   nr_etcd_kill NAME         kill -9 one member (its data stays)
#   nr_etcd_restart NAME      start it again over its data
#   nr_etcdctl NAME PATH JSON POST to a member's gateway

command -v etcd >/dev/null || { echo "SKIP: etcd not installed (apt-get install etcd-server)"; exit 77; }
declare -A NR_ETCD_URL=() NR_ETCD_PID=() NR_ETCD_CMD=()
NR_ETCD_URLS=""
NR_ETCD_DATA=$(mktemp -d /dev/shm/nretcd.XXXXXX)
nr_cleanup_hooks+=("nr_etcd_stop_all")

nr_etcd_stop_all() {
	local n
	for n in "${!NR_ETCD_PID[@]}"; do
		kill -9 "${NR_ETCD_PID[$n]}" 2>/dev/null || true
		wait "${NR_ETCD_PID[$n]}" 2>/dev/null || true
	done
	rm -rf "$NR_ETCD_DATA"
}

# nr_free_ports N: N distinct free ports (all held until all are chosen)
nr_free_ports() {
	/usr/bin/python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()' "$1"
}

nr_etcd_healthy() { curl -fsS -m 1 "$1/health" 2>/dev/null | grep -q '"health":"true"'; }

nr_etcd_launch() {
	local n=$1
	# shellcheck disable=SC2086
	etcd ${NR_ETCD_CMD[$n]} >>"$NR_ETCD_DATA/$n.log" 2>&1 &
	NR_ETCD_PID[$n]=$!
}

nr_etcd_cluster() {
	local n cport pport initial="" token="nrt$$-$RANDOM" ports
	declare -A peer=()
	read -ra ports <<<"$(nr_free_ports $(($# * 2)))"
	for n in "$@"; do
		cport=${ports[0]}; pport=${ports[1]}; ports=("${ports[@]:2}")
		NR_ETCD_URL[$n]="http://127.0.0.1:$cport"
		peer[$n]="http://127.0.0.1:$pport"
		initial+="${initial:+,}$n=${peer[$n]}"
		NR_ETCD_URLS+="${NR_ETCD_URLS:+,}${NR_ETCD_URL[$n]}"
	done
	for n in "$@"; do
		NR_ETCD_CMD[$n]="--name $n --data-dir $NR_ETCD_DATA/$n \
			--listen-client-urls ${NR_ETCD_URL[$n]} --advertise-client-urls ${NR_ETCD_URL[$n]} \
			--listen-peer-urls ${peer[$n]} --initial-advertise-peer-urls ${peer[$n]} \
			--initial-cluster $initial --initial-cluster-token $token \
			--heartbeat-interval 50 --election-timeout 500 --logger zap --log-level error"
		nr_etcd_launch "$n"
	done
	for n in "$@"; do
		nr_wait_for 20 nr_etcd_healthy "${NR_ETCD_URL[$n]}" ||
			{ cat "$NR_ETCD_DATA/$n.log"; nr_fail "etcd member $n did not become healthy"; }
	done
	nr_ok "etcd cluster of $# member(s) at $NR_ETCD_URLS"
}

nr_etcd_kill() {
	kill -9 "${NR_ETCD_PID[$1]}" 2>/dev/null || true
	wait "${NR_ETCD_PID[$1]}" 2>/dev/null || true
}

nr_etcd_restart() { nr_etcd_launch "$1"; }

nr_etcdctl() { curl -fsS -m 10 -X POST "${NR_ETCD_URL[$1]}$2" -d "$3"; }

nr_b64() { printf '%s' "$1" | base64 -w0; }

# ---- nativerouted against etcd: what each such test starts with ----------------
#   nr_etcd_test TAG [NODE=IP]...  D (the daemon), TMP (removed at exit),
#                             CLUSTER (TAG and the PID) and PFX (its keys),
#                             IP[NODE], DPID[NODE]
#   nr_etcd_daemon NODE FLAGS...  NODE's daemon in the background (native,
#                             auto-direct-node-routes, cluster-pool
#                             10.0.0.0/16, debug log to $TMP/NODE.log) with
#                             FLAGS (the store's); DPID[NODE]
#   nr_etcd_daemon_flags NODE those flags but FLAGS (for a run in the foreground)
#   nrctl NODE ARGS...        nrctl on NODE's daemon
#   kroutes NODE              our routes in NODE's namespace
#   cidr_of NODE              NODE's pod CIDR, as its own daemon sees it
#   store_ok NODE             its status says "Store: etcd Ok"
#   nr_etcd_joined NODE...    each one's store Ok within 20 s (else its log)
#   nr_etcd_daemons_end NODE...  each daemon exits 0 on SIGTERM, and no
#                             daemon log has a sanitizer report
#   nr_etcd_put MEMBER KEY VALUE  put PFX/KEY through MEMBER's gateway
nr_etcd_test() {
	local kv
	D="$NR_BIN_DIR/nativerouted"
	[ -x "$D" ] && [ -x "$NR_BIN_DIR/nrctl" ] || nr_fail "build nativerouted and nrctl first"
	TMP=$(mktemp -d "/tmp/nretcd$1.XXXXXX")
	nr_cleanup_hooks+=("rm -rf '$TMP'")
	CLUSTER="$1$$"
	PFX="/nativeroute/v1/$CLUSTER"
	shift
	declare -gA IP=() DPID=()
	for kv in "$@"; do IP[${kv%%=*}]=${kv#*=}; done
}

nr_etcd_daemon_flags() {
	echo --socket "$TMP/$1.sock" --state-dir "$TMP/$1.state" --netns "${NR_P}$1" \
		--node-name "$1" --node-ip "${IP[$1]}" --mode native --auto-direct-node-routes \
		--ipam cluster-pool --cluster-cidr 10.0.0.0/16 --log-level debug
}

nr_etcd_daemon() {
	local n=$1
	shift
	# shellcheck disable=SC2046 # (no blanks in TMP, NR_P, the names)
	"$D" $(nr_etcd_daemon_flags "$n") "$@" >>"$TMP/$n.log" 2>&1 &
	DPID[$n]=$!
	NR_PIDS+=("${DPID[$n]}")
}

nrctl() { local n=$1; shift; "$NR_BIN_DIR/nrctl" --socket "$TMP/$n.sock" "$@"; }
kroutes() { ip -n "${NR_P}$1" route show proto 201; }
cidr_of() { nrctl "$1" -o json node get "$1" | sed -n 's/.*"pod_cidrs":\["\([^"]*\)".*/\1/p'; }
store_ok() { nrctl "$1" status | grep -q '^Store: etcd Ok'; }
nr_etcd_put() {
	nr_etcdctl "$1" /v3/kv/put "{\"key\":\"$(nr_b64 "$PFX/$2")\",\"value\":\"$(nr_b64 "$3")\"}" >/dev/null
}

nr_etcd_joined() {
	local n
	for n in "$@"; do
		nr_wait_for 20 store_ok "$n" || { cat "$TMP/$n.log"; nr_fail "$n did not join etcd"; }
	done
}

nr_etcd_daemons_end() {
	local n
	for n in "$@"; do
		kill -TERM "${DPID[$n]}"
		wait "${DPID[$n]}" || nr_fail "$n exited with status $? on SIGTERM"
	done
	nr_expect_no_match "$(cat "$TMP"/*.log)" "AddressSanitizer|LeakSanitizer|runtime error" \
		"no sanitizer report in any daemon log"
}
