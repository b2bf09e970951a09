# Sourced by the CNI tests and `scripts/demo --cni`: the seed's two nodes,
# one nativerouted each (kubernetes IPAM: node-1 10.0.0.0/24, node-2
# 10.0.1.0/24, native routing with auto direct node routes), each knowing
# the other, and a CNI plugin directory holding nativeroute-cni beside the
# reference plugins. Needs common.sh (NR_P, NR_PIDS, nr_cleanup_hooks) and
# NR_BIN_DIR. Sets CNI_WORK, CNI_PATH, CNI_CACHE, SOCK1, SOCK2.

CNI_WORK=$(mktemp -d /tmp/nrcni.XXXXXX)
chmod 755 "$CNI_WORK"
nr_cleanup_hooks+=("rm -rf '$CNI_WORK'")
mkdir -p "$CNI_WORK/bin" "$CNI_WORK/cache"
ln -s "$NR_BIN_DIR/nativeroute-cni" "$CNI_WORK/bin/nativeroute-cni"
export CNI_PATH="$CNI_WORK/bin:/usr/lib/cni"
export CNI_CACHE="$CNI_WORK/cache"
SOCK1=$CNI_WORK/node-1.sock
SOCK2=$CNI_WORK/node-2.sock
. "$NR_SOURCE_DIR/tests/integration/lib/cni_runtime.sh"

nrctl1() { "$NR_BIN_DIR/nrctl" --socket "$SOCK1" "$@"; }
nrctl2() { "$NR_BIN_DIR/nrctl" --socket "$SOCK2" "$@"; }

declare -A CNI_DAEMON_PID=()
CNI_DUAL=0 # 1: dual stack (node IPs fd00:1::1N, pod CIDRs fd10::/112 and fd10::1:0/112)

# cni_daemon_start N: nativerouted for node-N (1 or 2), state in CNI_WORK.
cni_daemon_start() {
	local n=$1 ip cidr sock v6=()
	ip=192.168.1.$((9 + n)); cidr=10.0.$((n - 1)).0/24
	sock=$CNI_WORK/node-$n.sock
	[ $CNI_DUAL = 1 ] && v6=(--node-ip6 "fd00:1::1$((n - 1))" --pod-cidr "fd10::$((n - 1)):0/112"
		--cluster-cidr fd10::/96)
	"$NR_BIN_DIR/nativerouted" --socket "$sock" --state-dir "$CNI_WORK/state-$n" \
		--netns "${NR_P}node-$n" --node-name "node-$n" --node-ip "$ip" --mode native \
		--auto-direct-node-routes --ipam kubernetes --pod-cidr "$cidr" \
		--cluster-cidr 10.0.0.0/16 "${v6[@]}" >>"$CNI_WORK/daemon-$n.log" 2>&1 &
	CNI_DAEMON_PID[$n]=$!
	NR_PIDS+=("$!")
	nr_wait_for 20 "$NR_BIN_DIR/nrctl" --socket "$sock" status ||
		{ cat "$CNI_WORK/daemon-$n.log"; nr_fail "nativerouted of node-$n did not come up"; }
}

cni_daemon_stop() {
	local pid=${CNI_DAEMON_PID[$1]}
	kill "$pid" && wait "$pid" 2>/dev/null || true
}

cni_cluster_up() { # [--dual-stack]
	if [ "${1:-}" = --dual-stack ]; then
		CNI_DUAL=1
		nr_topo_up "$NR_P" --dual-stack
		cni_daemon_start 1
		cni_daemon_start 2
		nrctl1 node add node-2 --ip 192.168.1.11 --ip6 fd00:1::11 --pod-cidr 10.0.1.0/24 \
			--pod-cidr fd10::1:0/112 >/dev/null
		nrctl2 node add node-1 --ip 192.168.1.10 --ip6 fd00:1::10 --pod-cidr 10.0.0.0/24 \
			--pod-cidr fd10::/112 >/dev/null
		return
	fi
	nr_topo_up "$NR_P"
	cni_daemon_start 1
	cni_daemon_start 2
	nrctl1 node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null
	nrctl2 node add node-1 --ip 192.168.1.10 --pod-cidr 10.0.0.0/24 >/dev/null
}

# cni_conflist FILE VERSION SOCKET [EXTRA-PLUGIN-JSON...]: a network
# configuration list with nativeroute-cni first, then the given plugins.
cni_conflist() {
	local file=$1 ver=$2 sock=$3 name
	shift 3
	name=$(basename "$file" .conflist)
	jq -n --arg v "$ver" --arg s "$sock" --arg n "$name" '$ARGS.positional | map(fromjson) as $rest |
		{cniVersion: $v, name: $n,
		 plugins: ([{type: "nativeroute-cni", socket: $s}] + $rest)}' --args "$@" >"$file"
}

# cni_pod NAME: an empty network namespace, as a runtime makes for a sandbox.
cni_pod() {
	ip netns add "${NR_P}$1"
	ip -n "${NR_P}$1" link set lo up
}
