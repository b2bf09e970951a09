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
