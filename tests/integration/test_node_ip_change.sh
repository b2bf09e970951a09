#!/usr/bin/env bash
# A node IP change in tunnel and hybrid mode (issue 12 item 1), live and
# across a restart: the VXLAN device's local address and MAC (derived from the
# node IP, which peers compute) follow in place, so the routes on it stay,
# and a restart with the new --node-ip adopts the device instead of failing
# with EEXIST. A local node IP that is no address of this namespace is
# refused like at start-up, changing nothing (issue 11 item 5).
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrnip.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
nrctl1() { "$NR_BIN_DIR/nrctl" --socket "$TMP/n1.sock" "$@"; }
nrctl2() { "$NR_BIN_DIR/nrctl" --socket "$TMP/n2.sock" "$@"; }
N2=${NR_P}node-2

nr_topo_up "$NR_P"
# removing the old primary address must keep the new one (a secondary)
ip netns exec "$N2" sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b
start_daemon() { # N IP CIDR MODE
	"$D" --socket "$TMP/n$1.sock" --state-dir "$TMP/state$1" --netns "${NR_P}node-$1" \
		--node-name "node-$1" --node-ip "$2" --mode "$4" --ipam kubernetes --pod-cidr "$3" \
		>>"$TMP/daemon$1.log" 2>&1 &
	eval "PID$1=\$!"
	NR_PIDS+=("$!")
	nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$TMP/n$1.sock" status ||
		{ cat "$TMP/daemon$1.log"; nr_fail "daemon $1 did not come up"; }
}
ping_b() { ip netns exec "${NR_P}pod-a" ping -c 1 -W 1 10.0.1.2 >/dev/null; }
vx2() { ip -d -n "$N2" link show nr_vxlan | tr '\n' ' '; }

start_daemon 1 192.168.1.10 10.0.0.0/24 tunnel
start_daemon 2 192.168.1.11 10.0.1.0/24 tunnel
nrctl1 node add node-2 --ip 192.168.1.11 --pod-cidr 10.0.1.0/24 >/dev/null
nrctl2 node add node-1 --ip 192.168.1.10 --pod-cidr 10.0.0.0/24 >/dev/null
out=$(nrctl1 -o json endpoint add pod-a --ifname veth-a --ip 10.0.0.2)
nr_expect_match "$out" '"mtu":1450' "endpoint.add in tunnel mode: MTU 1500 - 50 for the pod"
nr_expect_match "$(nrctl1 endpoints)" "pod-a .* 1450$" "endpoint list shows the MTU"
nrctl2 endpoint add pod-b --ifname veth-b --ip 10.0.1.2 >/dev/null
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1
nr_wait_for 10 ping_b || nr_fail "tunnel: pod-a cannot ping pod-b"
nr_ok "tunnel: pod-a pings pod-b"

echo "== a local node IP on no interface is refused (nothing changes)"
if out=$(nrctl2 node update node-2 --ip 192.168.1.99 --pod-cidr 10.0.1.0/24 2>&1); then
	nr_fail "node IP 192.168.1.99 (on no link) accepted: $out"
fi
nr_expect_match "$out" "192\.168\.1\.99 is not an address of any link" "refused, naming the address"
nr_expect_match "$(nrctl2 nodes)" "node-2 +192\.168\.1\.11 " "node-2 keeps 192.168.1.11"
nr_expect_match "$(vx2)" "local 192\.168\.1\.11 " "nr_vxlan untouched"

echo "== live change in tunnel mode: 192.168.1.11 -> 192.168.1.21"
idx=$(ip -n "$N2" -o link show nr_vxlan | cut -d: -f1)
ip -n "$N2" addr add 192.168.1.21/24 dev eth0
nrctl2 node update node-2 --ip 192.168.1.21 --pod-cidr 10.0.1.0/24 >/dev/null || nr_fail "local update refused"
nrctl1 node update node-2 --ip 192.168.1.21 --pod-cidr 10.0.1.0/24 >/dev/null || nr_fail "peer update refused"
nr_expect_match "$(vx2)" "link/ether 02:4e:c0:a8:01:15 .*local 192\.168\.1\.21 " "node-2's nr_vxlan: new local address and MAC"
[ "$(ip -n "$N2" -o link show nr_vxlan | cut -d: -f1)" = "$idx" ] || nr_fail "nr_vxlan was recreated"
nr_ok "same device (ifindex $idx): changed in place"
nr_expect_match "$(bridge -n "${NR_P}node-1" fdb show dev nr_vxlan)" "^02:4e:c0:a8:01:15 dst 192\.168\.1\.21 " "node-1's FDB entry follows"
ip -n "$N2" addr del 192.168.1.11/24 dev eth0
nr_wait_for 10 ping_b || nr_fail "after the IP change pod-a cannot ping pod-b"
nr_ok "pod-a pings pod-b after the change (old address gone)"
nr_expect_match "$(nrctl2 status)" "^Controller: +Ok" "node-2 healthy"

echo "== restart with a new --node-ip in hybrid mode: 192.168.1.21 -> 192.168.1.31"
kill "$PID2"; wait "$PID2" 2>/dev/null || true
ip -n "$N2" addr add 192.168.1.31/24 dev eth0
nrctl1 node update node-2 --ip 192.168.1.31 --pod-cidr 10.0.1.0/24 >/dev/null
start_daemon 2 192.168.1.31 10.0.1.0/24 hybrid
nr_expect_match "$(vx2)" "link/ether 02:4e:c0:a8:01:1f .*local 192\.168\.1\.31 " "restart adopted nr_vxlan with the new address"
ip -n "$N2" addr del 192.168.1.21/24 dev eth0
nr_wait_for 10 ping_b || nr_fail "after the restart pod-a cannot ping pod-b"
nr_ok "pod-a pings pod-b after the restart (node-1 tunnel, node-2 hybrid)"
nr_expect_match "$(nrctl2 status)" "^Controller: +Ok" "node-2 healthy after the restart"
echo PASS
