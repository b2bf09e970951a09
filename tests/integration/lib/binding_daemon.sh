# Sourced by the binding tests (after common.sh): one nativerouted in node-1
# of the seed topology, for a binding's test suite to drive, and the
# unsanitized library of the release install (install/release_build fixture)
# for the binding to load, as a user's program would.
#   NR_TEST_SOCKET   the daemon's socket
#   NR_TEST_NETNS    its namespace (node IP 192.168.1.10; veths vpa0..vpa3 up)
#   NR_TEST_NETNS2   node-2 (192.168.1.11), free for an in-process controller
#   NR_TEST_PREFIX   the release install prefix (lib/, include/, lib/pkgconfig/)
#   NATIVEROUTE_LIBRARY  its libnativeroute.so.1
# Native mode with auto-direct-node-routes, cluster-pool IPAM of 10.0.0.0/21:
# 8 node CIDRs, so that exhausting the pool is quick.
D="$NR_BIN_DIR/nativerouted"
NR_TEST_PREFIX=$NR_BUILD_DIR/release-prefix
NATIVEROUTE_LIBRARY=$(find "$NR_TEST_PREFIX" -name 'libnativeroute.so.1' | head -n1)
[ -n "$NATIVEROUTE_LIBRARY" ] || nr_fail "no release install under $NR_TEST_PREFIX (install/release_build fixture)"
# tmpfs: the daemon fsyncs its state per change, and a busy disk must not
# turn into call timeouts of the binding under test
BTMP=$(mktemp -d /dev/shm/nrbind.XXXXXX)
chmod 755 "$BTMP"
nr_cleanup_hooks+=("rm -rf '$BTMP'")
NR_TEST_SOCKET="$BTMP/nr.sock"
NR_TEST_NETNS="${NR_P}node-1"
NR_TEST_NETNS2="${NR_P}node-2"
export NR_TEST_SOCKET NR_TEST_NETNS NR_TEST_NETNS2 NR_TEST_PREFIX NATIVEROUTE_LIBRARY

nr_topo_up "$NR_P"
for i in 0 1 2 3; do
	ip -n "$NR_TEST_NETNS" link add "vpa$i" type veth peer name "vpb$i"
	ip -n "$NR_TEST_NETNS" link set "vpa$i" up
	ip -n "$NR_TEST_NETNS" link set "vpb$i" up
done
"$D" --socket "$NR_TEST_SOCKET" --state-dir "$BTMP/state" --netns "$NR_TEST_NETNS" \
	--node-name node-1 --node-ip 192.168.1.10 --mode native --auto-direct-node-routes \
	--ipam cluster-pool --cluster-cidr 10.0.0.0/21 >>"$BTMP/daemon.log" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$NR_TEST_SOCKET" status ||
	{ cat "$BTMP/daemon.log"; nr_fail "daemon did not come up"; }
nr_cleanup_hooks+=("[ \$? -eq 0 ] || tail -n 30 '$BTMP/daemon.log'")

# A second daemon, for the tests that kill it (events end on disconnect):
#   NR_TEST_VICTIM_SOCKET, NR_TEST_VICTIM_PID; nr_start_victim starts it again.
victim_ns="${NR_P}victim"
ip netns add "$victim_ns"
ip -n "$victim_ns" link set lo up
ip -n "$victim_ns" link add d0 type veth peer name d1
ip -n "$victim_ns" addr add 192.168.9.10/24 dev d0
ip -n "$victim_ns" link set d0 up
ip -n "$victim_ns" link set d1 up
NR_TEST_VICTIM_SOCKET="$BTMP/victim.sock"
export NR_TEST_VICTIM_SOCKET
nr_start_victim() {
	"$D" --socket "$NR_TEST_VICTIM_SOCKET" --state-dir "$BTMP/victim-state" --netns "$victim_ns" \
		--node-name victim --node-ip 192.168.9.10 --mode native --ipam cluster-pool \
		--cluster-cidr 10.9.0.0/16 >>"$BTMP/victim.log" 2>&1 &
	NR_TEST_VICTIM_PID=$!
	NR_PIDS+=("$NR_TEST_VICTIM_PID")
	export NR_TEST_VICTIM_PID
	nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$NR_TEST_VICTIM_SOCKET" status ||
		{ cat "$BTMP/victim.log"; nr_fail "second daemon did not come up"; }
}
nr_start_victim

# A third daemon with every optional part on, for the status fields the
# first one has not: eBPF host routing (--bpf: pinned maps, tc fast path),
# masquerading (on by default: the cluster CIDR) and the etcd store (one real
# etcd member on 127.0.0.1).
#   NR_TEST_FEATURE_SOCKET  its socket; NR_TEST_FEATURE_NETNS its namespace
#                           (node "feat" 192.168.8.10, veth fpa0 up for a pod)
#   NR_TEST_FEATURE_ETCD    the etcd member's client URL (_PID: its PID, to stop it)
command -v etcd >/dev/null || nr_fail "etcd not installed (scripts/lib/deps.sh installs etcd-server)"
. "$(dirname "${BASH_SOURCE[0]}")/etcd.sh"
nr_etcd_cluster feat
feat_ns="${NR_P}feat"
feat_pins="/sys/fs/bpf/nativeroute/feat@$feat_ns"
ip netns add "$feat_ns"
ip -n "$feat_ns" link set lo up
ip -n "$feat_ns" link add f0 type veth peer name f1
ip -n "$feat_ns" addr add 192.168.8.10/24 dev f0
ip -n "$feat_ns" link add fpa0 type veth peer name fpb0
for l in f0 f1 fpa0 fpb0; do ip -n "$feat_ns" link set "$l" up; done
NR_TEST_FEATURE_SOCKET="$BTMP/feat.sock"
NR_TEST_FEATURE_NETNS=$feat_ns
NR_TEST_FEATURE_ETCD=${NR_ETCD_URL[feat]}
NR_TEST_FEATURE_ETCD_PID=${NR_ETCD_PID[feat]}
export NR_TEST_FEATURE_SOCKET NR_TEST_FEATURE_NETNS NR_TEST_FEATURE_ETCD NR_TEST_FEATURE_ETCD_PID
"$D" --socket "$NR_TEST_FEATURE_SOCKET" --state-dir "$BTMP/feat-state" --netns "$feat_ns" \
	--node-name feat --node-ip 192.168.8.10 --mode native --ipam cluster-pool \
	--cluster-cidr 10.8.0.0/16 --bpf --store etcd --etcd-endpoints "$NR_ETCD_URLS" \
	--cluster-name "nrt$$-binding" >>"$BTMP/feat.log" 2>&1 &
feat_pid=$!
# stopped before its pins go, so that no resync pins them again
nr_cleanup_hooks+=("kill $feat_pid 2>/dev/null; wait $feat_pid 2>/dev/null; rm -rf '$feat_pins'")
nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$NR_TEST_FEATURE_SOCKET" status ||
	{ cat "$BTMP/feat.log"; nr_fail "the daemon with eBPF, masquerading and etcd did not come up"; }
