#!/usr/bin/env bash
# The tc fast path ("Host Routing: BPF", issue 10 parts 2-4), dual stack, run
# the way a deployment runs it: one `nativerouted --bpf` per node namespace,
# driven with nrctl. pod-a and pod-c on node-1, pod-b on node-2. Proves with
# the per-verdict counters of the pinned `stats` map (read with bpftool,
# also through nsenter --net, which keeps the host's /sys/fs/bpf) that ping
# and a TCP stream took the redirect paths: redirect_neigh out of node-1,
# redirect_peer into pod-b on node-2, redirect_peer between the two pods of
# node-1; TTL 1 is left to the stack (Time exceeded arrives). A restart swaps
# the program in place (new program id, same map ids) while a ping runs
# without loss; purge leaves no tc filter and no pin.
. "$(dirname "$0")/lib/common.sh"
: "${NR_BIN_DIR:?}"
command -v bpftool >/dev/null || nr_fail "bpftool not installed"
command -v iperf3 >/dev/null || nr_fail "iperf3 not installed"

run=$(mktemp -d)
nr_cleanup_hooks+=("rm -rf '$run'")
nrctl() { local node=$1; shift; "$NR_BIN_DIR/nrctl" --socket "$run/$node.sock" "$@"; }
n1=${NR_P}node-1 n2=${NR_P}node-2
pins1=/sys/fs/bpf/nativeroute/node-1@$n1 pins2=/sys/fs/bpf/nativeroute/node-2@$n2
nr_cleanup_hooks+=("rm -rf '$pins1' '$pins2'")
dump() { /usr/bin/python3 "$(dirname "$0")/lib/bpf_dump.py" "$@"; }
stat_of() { dump stats "$1" | awk -v v="$2" '$1 == v {print $2}'; } # PINS VERDICT -> packets

nr_topo_up "$NR_P" --dual-stack
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-1 pod-c veth-c
nr_topo_pod "$NR_P" node-2 pod-b veth-b

dargs() { # NODE IP4 IP6 CIDR4 CIDR6
	echo --netns "${NR_P}$1" --socket "$run/$1.sock" --state-dir "$run/$1.state" \
		--node-name "$1" --node-ip "$2" --node-ip6 "$3" --pod-cidr "$4" --pod-cidr "$5" \
		--mode native --ipam kubernetes --cluster-cidr 10.0.0.0/16 --cluster-cidr fd10::/96 \
		--auto-direct-node-routes --bpf
}
start_daemon() { # NODE ARGS...
	local node=$1; shift
	"$NR_BIN_DIR/nativerouted" $(dargs "$@") 2>>"$run/$node.log" &
	NR_PIDS+=("$!")
	eval "pid_${node//-/_}=$!"
	nr_wait_for 10 nrctl "$node" status || { cat "$run/$node.log"; nr_fail "$node: daemon did not start"; }
}
a1=(node-1 192.168.1.10 fd00:1::10 10.0.0.0/24 fd10::/112)
a2=(node-2 192.168.1.11 fd00:1::11 10.0.1.0/24 fd10::1:0/112)
start_daemon node-1 "${a1[@]}"
start_daemon node-2 "${a2[@]}"
nrctl node-1 node add node-2 --ip 192.168.1.11 --ip6 fd00:1::11 --pod-cidr 10.0.1.0/24 --pod-cidr fd10::1:0/112 >/dev/null
nrctl node-2 node add node-1 --ip 192.168.1.10 --ip6 fd00:1::10 --pod-cidr 10.0.0.0/24 --pod-cidr fd10::/112 >/dev/null
nrctl node-1 endpoint add pod-a --ifname veth-a >/dev/null
nrctl node-1 endpoint add pod-c --ifname veth-c >/dev/null
nrctl node-2 endpoint add pod-b --ifname veth-b >/dev/null
nr_topo_pod_addr "$NR_P" pod-a 10.0.0.2 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-a fd10::2 fd10::1
nr_topo_pod_addr "$NR_P" pod-c 10.0.0.3 10.0.0.1
nr_topo_pod_addr "$NR_P" pod-b 10.0.1.2 10.0.1.1
nr_topo_pod_addr "$NR_P" pod-b fd10::1:2 fd10::1:1

echo "== status"
st=$(nrctl node-1 status --verbose)
echo "$st"
nr_expect_match "$st" "^Host Routing: BPF$" "nrctl status --verbose: Host Routing: BPF"
nr_expect_match "$(nrctl node-1 -o json status)" '"host_routing":"BPF"' "RPC status carries host_routing BPF"
nr_expect_match "$(cat "$run/node-1.log")" "mounted bpffs|maps (created|adopted)" "the daemon logs the bpffs/maps step"

echo "== tc filters (clsact ingress, handle 0x4e52)"
for dev in veth-a veth-c eth0; do
	f=$(tc -n "$n1" filter show dev "$dev" ingress)
	nr_expect_match "$f" "handle 0x4e52 nr_from_(pod|underla)" "node-1 $dev has our filter"
done
nr_expect_match "$(tc -n "$n1" filter show dev veth-a ingress)" "nr_from_pod" "pods' devices run nr_from_pod"
nr_expect_match "$(tc -n "$n1" filter show dev eth0 ingress)" "nr_from_underla" "the underlay runs nr_from_underlay"

echo "== pod-a -> pod-b (other node): ping v4 + v6 and a TCP stream take the fast path"
neigh0=$(stat_of "$pins1" redirect_neigh) peer0=$(stat_of "$pins2" redirect_peer)
ip netns exec "${NR_P}pod-a" ping -c 5 -i 0.1 -W 2 10.0.1.2 >/dev/null || nr_fail "IPv4 ping pod-a -> pod-b"
ip netns exec "${NR_P}pod-a" ping -6 -c 5 -i 0.1 -W 2 fd10::1:2 >/dev/null || nr_fail "IPv6 ping pod-a -> pod-b"
nr_ok "pod-a pings pod-b over IPv4 and IPv6"
ip netns exec "${NR_P}pod-b" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
NR_PIDS+=("$!")
# the client is refused until the server listens (a fixed 0.3 s before)
nr_wait_for 10 sh -c "ip netns exec '${NR_P}pod-b' ss -Htln 'sport = :5201' | grep -q ." ||
	nr_fail "iperf3 server in pod-b not listening on 5201"
out=$(ip netns exec "${NR_P}pod-a" iperf3 -c 10.0.1.2 -p 5201 -t 1 -f m 2>&1) || { echo "$out"; nr_fail "TCP stream pod-a -> pod-b"; }
echo "$out" | grep -E "receiver" || true
nr_ok "TCP stream pod-a -> pod-b"
neigh1=$(stat_of "$pins1" redirect_neigh) peer1=$(stat_of "$pins2" redirect_peer)
echo "node-1 redirect_neigh: $neigh0 -> $neigh1; node-2 redirect_peer: $peer0 -> $peer1"
[ $((neigh1 - neigh0)) -ge 1000 ] || nr_fail "node-1 did not forward the stream with bpf_redirect_neigh"
[ $((peer1 - peer0)) -ge 1000 ] || nr_fail "node-2 did not deliver the stream with bpf_redirect_peer"
nr_ok "the stream left node-1 by redirect_neigh and entered pod-b by redirect_peer"
ns_peer=$(nsenter --net="/run/netns/$n2" /usr/bin/python3 "$(dirname "$0")/lib/bpf_dump.py" stats "$pins2" | awk '$1 == "redirect_peer" {print $2}')
echo "bpftool (nsenter --net=$n2) stats[redirect_peer] = $ns_peer"
[ "$ns_peer" -ge "$peer1" ] || nr_fail "bpftool through nsenter disagrees"
nr_ok "bpftool map dump through nsenter --net sees the same counters"

echo "== pod-a -> pod-c (same node): redirect_peer"
p0=$(stat_of "$pins1" redirect_peer)
ip netns exec "${NR_P}pod-a" ping -c 5 -i 0.1 -W 2 10.0.0.3 >/dev/null || nr_fail "ping pod-a -> pod-c"
p1=$(stat_of "$pins1" redirect_peer)
[ $((p1 - p0)) -ge 10 ] || nr_fail "local pod traffic did not use redirect_peer ($p0 -> $p1)"
nr_ok "pod-a <-> pod-c: $((p1 - p0)) packets by redirect_peer"

echo "== TTL 1: left to the stack, which answers Time exceeded"
t0=$(stat_of "$pins1" pass_ttl)
out=$(ip netns exec "${NR_P}pod-a" ping -c 1 -t 1 -W 2 10.0.1.2 2>&1 || true)
nr_expect_match "$out" "Time to live exceeded" "TTL 1: ICMP time exceeded from the node"
[ "$(stat_of "$pins1" pass_ttl)" -gt "$t0" ] || nr_fail "pass_ttl not counted"
nr_ok "pass_ttl counted"
nr_expect_match "$(nrctl node-1 status --verbose)" "BPF Verdicts \(packets\): redirect_peer=[1-9].* redirect_neigh=[1-9]" "nrctl shows the verdict counters"

echo "== tunnel mode: pod traffic is redirected into the VXLAN device, arrives by redirect_peer"
nrctl node-1 mode set tunnel --no-auto-direct-node-routes >/dev/null
nrctl node-2 mode set tunnel --no-auto-direct-node-routes >/dev/null
nr_expect_match "$(tc -n "$n1" filter show dev nr_vxlan ingress)" "handle 0x4e52 nr_from_underla" "nr_vxlan has our filter"
tun0=$(stat_of "$pins1" redirect_tunnel) peer0=$(stat_of "$pins2" redirect_peer)
ip netns exec "${NR_P}pod-a" ping -c 5 -i 0.1 -W 2 10.0.1.2 >/dev/null || nr_fail "IPv4 ping over the tunnel"
ip netns exec "${NR_P}pod-a" ping -6 -c 5 -i 0.1 -W 2 fd10::1:2 >/dev/null || nr_fail "IPv6 ping over the tunnel"
tun1=$(stat_of "$pins1" redirect_tunnel) peer1=$(stat_of "$pins2" redirect_peer)
echo "node-1 redirect_tunnel: $tun0 -> $tun1; node-2 redirect_peer: $peer0 -> $peer1"
[ $((tun1 - tun0)) -ge 10 ] || nr_fail "node-1 did not redirect into the VXLAN device"
[ $((peer1 - peer0)) -ge 10 ] || nr_fail "node-2 did not deliver decapsulated packets by redirect_peer"
nr_ok "v4 + v6 over VXLAN: redirect_tunnel out of node-1, redirect_peer into pod-b"
nrctl node-1 mode set native --auto-direct-node-routes >/dev/null
nrctl node-2 mode set native --auto-direct-node-routes >/dev/null
ip netns exec "${NR_P}pod-a" ping -c 2 -i 0.1 -W 2 10.0.1.2 >/dev/null || nr_fail "ping after switching back to native"
nr_ok "back to native mode"

echo "== restart: program swapped in place, no packet lost"
ids0=$(dump ids "$pins1")
prog0=$(tc -n "$n1" filter show dev veth-a ingress | grep -o ' id [0-9]*' | head -1)
ip netns exec "${NR_P}pod-a" ping -i 0.01 -c 400 -W 1 10.0.1.2 >"$run/ping.txt" 2>&1 &
ping_pid=$!
sleep 0.5
kill -TERM "$pid_node_1"; wait "$pid_node_1" 2>/dev/null || true
start_daemon node-1 "${a1[@]}"
wait "$ping_pid" || true
grep -E "packets transmitted" "$run/ping.txt"
nr_expect_match "$(cat "$run/ping.txt")" " 0% packet loss" "no packet lost across the restart"
prog1=$(tc -n "$n1" filter show dev veth-a ingress | grep -o ' id [0-9]*' | head -1)
echo "program on veth-a:$prog0 ->$prog1"
[ "$prog0" != "$prog1" ] || nr_fail "the restart did not replace the program"
nr_ok "the restarted daemon's program replaced the old one in place"
[ "$ids0" = "$(dump ids "$pins1")" ] || nr_fail "map ids changed across the restart"
nr_ok "same map ids ($ids0)"
nr_expect_match "$(nrctl node-1 status --verbose)" "^Host Routing: BPF$" "BPF again after the restart"

echo "== an endpoint removed: its filter and entries go"
nrctl node-1 endpoint del pod-c >/dev/null
nr_expect_no_match "$(tc -n "$n1" filter show dev veth-c ingress)" "0x4e52" "pod-c's device has no filter of ours"
nr_expect_no_match "$(dump endpoints "$pins1")" "^10\.0\.0\.3 " "pod-c left the endpoints map"

echo "== purge: no filter, no pin"
kill -TERM "$pid_node_1"; wait "$pid_node_1" 2>/dev/null || true
"$NR_BIN_DIR/nativerouted" $(dargs "${a1[@]}") --purge >>"$run/node-1.log" 2>&1 || { tail "$run/node-1.log"; nr_fail "purge failed"; }
left=$(for d in $(ip -n "$n1" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
	tc -n "$n1" filter show dev "$d" ingress 2>/dev/null | grep 0x4e52 | sed "s/^/$d: /" || true; done)
[ -z "$left" ] || { echo "$left"; nr_fail "tc filters left after purge"; }
nr_ok "purge: no tc filter of ours on any link of node-1"
[ ! -e "$pins1" ] || nr_fail "pins left after purge"
nr_ok "purge: $pins1 is gone"
echo "PASS"
