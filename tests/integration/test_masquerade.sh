#!/usr/bin/env bash
# Masquerading (issue 14), with real packets: two nodes run by nativerouted,
# one pod each, and an "outside" host behind a router, with addresses in no
# cluster CIDR and no route back to any pod. A pod reaches the outside (ping
# and TCP, IPv4 and IPv6) with the node's address as source; pod-to-pod
# traffic keeps pod IPs; the table deleted or changed by hand comes back; a
# restart changes nothing (nft monitor stays silent); masquerading off puts
# pod IPs on the outside wire; purge removes our table and no other.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
[ -x "$D" ] && [ -x "$NR_BIN_DIR/nrctl" ] || nr_fail "build nativerouted and nrctl first"
command -v nft >/dev/null || nr_fail "nft not installed (Debian package nftables)"
TMP=$(mktemp -d /tmp/nrmasq.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
n1=${NR_P}node-1 n2=${NR_P}node-2 rt=${NR_P}router out=${NR_P}outside
pa=${NR_P}pod-a pb=${NR_P}pod-b
nrctl() { local s=$1; shift; "$NR_BIN_DIR/nrctl" --socket "$TMP/$s.sock" "$@"; }
nft1() { ip netns exec "$n1" nft "$@"; }

# ---- topology: the seed's two nodes, a router, the outside --------------------
nr_topo_up "$NR_P" --dual-stack
ip netns add "$rt"
ip netns add "$out"
ip -n "$rt" link set lo up
ip -n "$out" link set lo up
nr_topo_link_to_lan "$NR_P" "$rt" eth0
ip netns exec "$rt" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip netns exec "$out" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$rt" link add eth1 type veth peer name eth0 netns "$out"
ip -n "$rt" link set eth1 up
ip -n "$out" link set eth0 up
ip -n "$rt" addr add 192.168.1.1/24 dev eth0
ip -n "$rt" addr add fd00:1::1/64 dev eth0 nodad
ip -n "$rt" addr add 203.0.113.1/24 dev eth1
ip -n "$rt" addr add 2001:db8:99::1/64 dev eth1 nodad
ip -n "$out" addr add 203.0.113.10/24 dev eth0
ip -n "$out" addr add 2001:db8:99::10/64 dev eth0 nodad
ip -n "$out" route add default via 203.0.113.1
ip -n "$out" -6 route add default via 2001:db8:99::1
ip netns exec "$rt" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for n in "$n1" "$n2"; do
	ip -n "$n" route add default via 192.168.1.1
	ip -n "$n" -6 route add default via fd00:1::1
done
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-2 pod-b veth-b

common=(--mode native --auto-direct-node-routes --ipam kubernetes
	--cluster-cidr 10.0.0.0/16 --cluster-cidr fd00:10::/96 --native-routing-cidr 10.0.0.0/16)
args1=(--netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --node-ip6 fd00:1::10
	--pod-cidr 10.0.0.0/24 --pod-cidr fd00:10::/112 --non-masquerade-cidr 198.51.100.0/24
	"${common[@]}")
args2=(--netns "$n2" --node-name node-2 --node-ip 192.168.1.11 --node-ip6 fd00:1::11
	--pod-cidr 10.0.1.0/24 --pod-cidr fd00:10::1:0/112 "${common[@]}")
declare -A DPID=()
start_daemon() { # ID ARGS...
	local id=$1
	shift
	"$D" --socket "$TMP/$id.sock" --state-dir "$TMP/$id.state" "$@" >>"$TMP/$id.log" 2>&1 &
	DPID[$id]=$!
	NR_PIDS+=("$!")
	nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/$id.sock' -o json status |
		grep -q '\"started\":true.*\"masquerade_programmed\":true'" ||
		{ cat "$TMP/$id.log"; nr_fail "daemon $id did not come up with its table"; }
}
stop_daemon() { # ID
	kill "${DPID[$1]}"
	wait "${DPID[$1]}" 2>/dev/null || nr_fail "daemon $1 exited with status $?"
}
# capture IFACE-NS FILTER -- COMMAND...: the packets COMMAND makes, as text
capture() {
	local ns=$1 filter=$2 pid
	shift 3
	nr_capture_start "$ns" eth0 "$filter" "$TMP/cap"
	"$@" || true
	nr_capture_stop "$TMP/cap"
	cat "$TMP/cap"
}

echo "== Cilium's option names in the config file"
cat >"$TMP/cilium.yaml" <<'EOF2'
enableIPv4Masquerade: false
enable-ipv6-masquerade: true
ipv6NativeRoutingCIDR: fd00:10::/64
ipMasqAgent:
  config:
    nonMasqueradeCIDRs: [198.51.100.0/24, 2001:db8:7::/48]
EOF2
eff=$("$D" --config "$TMP/cilium.yaml" --node-name x --node-ip 192.168.1.10 --ipam kubernetes --check-config)
nr_expect_match "$eff" "^enable-ipv4-masquerade: false$" "enableIPv4Masquerade read"
nr_expect_match "$eff" "^enable-ipv6-masquerade: true$" "enable-ipv6-masquerade read"
nr_expect_match "$(tr '\n' ' ' <<<"$eff")" "native-routing-cidr: +- fd00:10::/64" "ipv6NativeRoutingCIDR read"
nr_expect_match "$(tr '\n' ' ' <<<"$eff")" "non-masquerade-cidr: +- 198\.51\.100\.0/24 +- 2001:db8:7::/48" \
	"ipMasqAgent.config.nonMasqueradeCIDRs read"
refusal=$("$D" --socket "$TMP/x.sock" --state-dir "$TMP/x.state" --netns "$n1" --node-name x \
	--node-ip 192.168.1.10 --ipam kubernetes --pod-cidr 10.0.0.0/24 --enable-ipv4-masquerade 2>&1) &&
	nr_fail "masquerading switched on without any cluster range was accepted"
nr_expect_match "$refusal" "IPv4 masquerading needs native_routing_cidr or an IPv4 cluster CIDR" \
	"on without a native-routing or cluster CIDR: refused, saying why"

start_daemon n1 "${args1[@]}"
start_daemon n2 "${args2[@]}"
nrctl n1 node add node-2 --ip 192.168.1.11 --ip6 fd00:1::11 --pod-cidr 10.0.1.0/24 \
	--pod-cidr fd00:10::1:0/112 >/dev/null
nrctl n2 node add node-1 --ip 192.168.1.10 --ip6 fd00:1::10 --pod-cidr 10.0.0.0/24 \
	--pod-cidr fd00:10::/112 >/dev/null
for p in a:n1 b:n2; do
	ep=$(nrctl "${p#*:}" -o json endpoint add "pod-${p%%:*}" --ifname "veth-${p%%:*}")
	ip4=$(sed -n 's/.*"ipv4":"\([^"]*\)".*/\1/p' <<<"$ep")
	ip6=$(sed -n 's/.*"ipv6":"\([^"]*\)".*/\1/p' <<<"$ep")
	gw4=$(sed -n 's/.*"gateway":"\([^"]*\)".*/\1/p' <<<"$ep")
	gw6=$(sed -n 's/.*"gateway6":"\([^"]*\)".*/\1/p' <<<"$ep")
	nr_topo_pod_addr "$NR_P" "pod-${p%%:*}" "$ip4" "$gw4"
	nr_topo_pod_addr "$NR_P" "pod-${p%%:*}" "$ip6" "$gw6"
	eval "pod_${p%%:*}4=$ip4 pod_${p%%:*}6=$ip6"
done
echo "pod-a $pod_a4 $pod_a6, pod-b $pod_b4 $pod_b6"

echo "== the table and the status"
t=$(nft1 list table inet nativeroute)
echo "$t"
nr_expect_match "$t" "ip saddr 10\.0\.0\.0/24 ip daddr != @nomasq4 masquerade" "IPv4 rule: from the local pod CIDR"
nr_expect_match "$t" "ip6 saddr fd00:10::/112 ip6 daddr != @nomasq6 masquerade" "IPv6 rule: from the local pod CIDR"
nr_expect_match "$(tr -s ' \t\n' ' ' <<<"$t")" "elements = \{ 10\.0\.0\.0/16, 198\.51\.100\.0/24 \}" \
	"IPv4 left alone: the native-routing CIDR and the extra CIDR (the local pods are inside)"
nr_expect_match "$(tr -s ' \t\n' ' ' <<<"$t")" "elements = \{ fd00:10::/96 \}" \
	"IPv6 left alone: the cluster CIDR (no native-routing CIDR for IPv6)"
st=$(nrctl n1 status --verbose)
nr_expect_match "$st" "^Controller: +Ok$" "status: controller Ok"
nr_expect_match "$st" "^Masquerading: nftables \[IPv4: Enabled, IPv6: Enabled\]$" "status: Masquerading line"
nr_expect_match "$st" "Not masqueraded: 10\.0\.0\.0/16 198\.51\.100\.0/24 fd00:10::/96" "status: excluded CIDRs"
nr_expect_match "$st" "IPv6: no native-routing CIDR, the cluster CIDRs are used" "status: says IPv6 uses the cluster CIDRs"
nr_expect_match "$(nft1 list tables)" "^table inet nativeroute$" "one table of ours"

echo "== a pod reaches the outside, as the node"
cap=$(capture "$out" icmp -- ip netns exec "$pa" ping -c 3 -i 0.2 -W 2 203.0.113.10)
echo "$cap"
ip netns exec "$pa" ping -c 1 -W 2 203.0.113.10 >/dev/null || nr_fail "pod-a cannot ping the outside"
nr_ok "pod-a pings 203.0.113.10"
nr_expect_match "$cap" "IP 192\.168\.1\.10 > 203\.0\.113\.10: ICMP echo request" "outside sees the node's address"
nr_expect_match "$cap" "IP 203\.0\.113\.10 > 192\.168\.1\.10: ICMP echo reply" "and answers it"
nr_expect_no_match "$cap" "10\.0\.0\." "no pod IP on the outside link"

echo "== TCP"
ip netns exec "$out" /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", 8099)); s.listen(4)
print("listening", flush=True)
for _ in range(2):
    c, peer = s.accept(); c.sendall(("seen " + peer[0] + "\n").encode()); c.close()
' >"$TMP/srv" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 5 grep -q listening "$TMP/srv" || nr_fail "TCP server did not start"
tcp() { ip netns exec "$pa" /usr/bin/python3 -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 8099), timeout=3); print(c.recv(100).decode().strip())
' "$1"; }
r=$(tcp 203.0.113.10) || nr_fail "TCP from pod-a to the outside failed"
nr_expect_match "$r" "^seen (::ffff:)?192\.168\.1\.10$" "TCP over IPv4: the server sees the node, the pod gets the answer"
r=$(tcp 2001:db8:99::10) || nr_fail "TCP over IPv6 from pod-a to the outside failed"
nr_expect_match "$r" "^seen fd00:1::10$" "TCP over IPv6: the server sees the node's IPv6 address"

echo "== IPv6 ping"
cap=$(capture "$out" icmp6 -- ip netns exec "$pa" ping -6 -c 2 -i 0.2 -W 2 2001:db8:99::10)
nr_expect_match "$cap" "IP6 fd00:1::10 > 2001:db8:99::10: ICMP6, echo request" "IPv6: outside sees the node's address"
nr_expect_match "$cap" "IP6 2001:db8:99::10 > fd00:1::10: ICMP6, echo reply" "IPv6: and answers it"

echo "== pod-to-pod across nodes keeps pod IPs"
cap=$(capture "$n2" "icmp or icmp6" -- ip netns exec "$pa" ping -c 2 -i 0.2 -W 2 "$pod_b4")
nr_expect_match "$cap" "IP $pod_a4 > $pod_b4: ICMP echo request" "IPv4 pod-a -> pod-b on node-2's wire with pod IPs"
cap=$(capture "$n2" "icmp or icmp6" -- ip netns exec "$pa" ping -6 -c 2 -i 0.2 -W 2 "$pod_b6")
nr_expect_match "$cap" "IP6 $pod_a6 > $pod_b6: ICMP6, echo request" "IPv6 pod-a -> pod-b with pod IPs"

echo "== drift: the table deleted by hand comes back"
before=$(nft1 list table inet nativeroute)
nft1 delete table inet nativeroute
t0=$(date +%s%N)
nr_wait_for 5 nft1 list table inet nativeroute || nr_fail "deleted table did not come back"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(nft1 list table inet nativeroute)" = "$before" ] || nr_fail "restored table differs"
nr_ok "deleted table restored, identical, in ${ms} ms (nftables events)"
nft1 insert rule inet nativeroute postrouting ip saddr 10.0.0.0/24 accept
nr_wait_for 5 sh -c "[ \"\$(ip netns exec '$n1' nft list table inet nativeroute)\" = \"\$1\" ]" _ "$before" ||
	{ nft1 list table inet nativeroute; nr_fail "rule added by hand was not reverted"; }
nr_ok "a rule inserted by hand is reverted"
nr_expect_match "$(nrctl n1 -o json status)" '"drift_repairs":[1-9]' "status counts the repairs"
ip netns exec "$pa" ping -c 1 -W 2 203.0.113.10 >/dev/null || nr_fail "ping after repair"

echo "== restart: no nftables change"
stop_daemon n1
# nft monitor synchronised on a table of its own (inet nrsync, which the
# controller never looks at), like nr_monitor_start: re-added until the
# monitor reports it (a fixed 0.3 s before: a monitor not yet listening
# sees nothing and the check passes for the wrong reason); once its
# deletion is reported, every change before is in the file too
nrsync_seen() { [ "$(grep -c "^$1 table inet nrsync" "$TMP/monitor")" -gt "${2:-0}" ]; }
ip netns exec "$n1" nft monitor >"$TMP/monitor" 2>&1 &
mon=$!
NR_PIDS+=("$mon")
for i in $(seq 100); do
	nft1 delete table inet nrsync 2>/dev/null || true
	nft1 add table inet nrsync
	nr_wait_for 1 nrsync_seen add && break
done
nrsync_seen add || nr_fail "nft monitor did not report its sync table"
start_daemon n1 "${args1[@]}"
sleep 0.5 # changes the start set off may follow its answer: watched a while longer
ip netns exec "$pa" ping -c 1 -W 2 203.0.113.10 >/dev/null || nr_fail "ping after restart"
dels=$(grep -c '^delete table inet nrsync' "$TMP/monitor" || true)
nft1 delete table inet nrsync
nr_wait_for 10 nrsync_seen delete "$dels" || nr_fail "nft monitor did not report the sync table's removal"
kill "$mon"; wait "$mon" 2>/dev/null || true
nr_pid_forget "$mon"
# the sync table's own lines and the generation line each of them causes
gawk '/^(add|delete) table inet nrsync$/ { skip = 1; next }
      skip && /^# new generation / { skip = 0; next } { skip = 0; print }' "$TMP/monitor" >"$TMP/monitor.own"
mv "$TMP/monitor.own" "$TMP/monitor"
echo "nft monitor during the restart: $(wc -l <"$TMP/monitor") line(s)"; cat "$TMP/monitor"
[ ! -s "$TMP/monitor" ] || nr_fail "restart changed nftables"
nr_ok "restart adopted the table: nft monitor saw nothing"

echo "== masquerading off for IPv4: the outside sees the pod"
stop_daemon n1
start_daemon n1 "${args1[@]}" --enable-ipv4-masquerade=false
t=$(nft1 list table inet nativeroute)
nr_expect_no_match "$t" "ip saddr" "IPv4 rule gone"
nr_expect_match "$t" "ip6 saddr fd00:10::/112" "IPv6 rule kept"
nr_expect_match "$(nrctl n1 status --verbose)" "^Masquerading: nftables \[IPv4: Disabled, IPv6: Enabled\]" "status says IPv4 is off"
cap=$(capture "$out" icmp -- ip netns exec "$pa" ping -c 2 -i 0.2 -W 1 203.0.113.10)
nr_expect_match "$cap" "IP $pod_a4 > 203\.0\.113\.10: ICMP echo request" "outside sees the pod IP $pod_a4"
nr_expect_match "$cap" "ICMP net $pod_a4 unreachable" "its answer cannot get back (the router has no route to pods)"
! ip netns exec "$pa" ping -c 1 -W 1 203.0.113.10 >/dev/null || nr_fail "pod-a got an answer without masquerading"
nr_ok "pod-a gets no answer: 100 % loss, the problem issue 14 describes"
stop_daemon n1
start_daemon n1 "${args1[@]}" --enable-ipv4-masquerade=false --enable-ipv6-masquerade=false
nr_expect_no_match "$(nft1 list tables)" "nativeroute" "both off: no table at all"
nr_expect_match "$(nrctl n1 status --verbose)" "^Masquerading: Disabled" "status: Disabled"

echo "== a table the controller cannot replace fails the start, naming it"
stop_daemon n1
nft1 delete table inet nativeroute 2>/dev/null || true
# an "owner" table can only be changed through the socket that made it: an
# interactive nft holds it, so our transaction is refused (EPERM)
mkfifo "$TMP/nft.in"
ip netns exec "$n1" nft -i <"$TMP/nft.in" >/dev/null 2>&1 &
holder=$!
NR_PIDS+=("$holder")
exec {hfd}>"$TMP/nft.in"
echo 'add table inet nativeroute { flags owner; }' >&"$hfd"
nr_wait_for 5 sh -c "ip netns exec '$n1' nft list tables | grep -q nativeroute" || nr_fail "no owner table"
set +e
timeout 20 "$D" --socket "$TMP/n1.sock" --state-dir "$TMP/n1.state" "${args1[@]}" >"$TMP/refused.log" 2>&1
rc=$?
set -e
cat "$TMP/refused.log"
[ $rc -eq 1 ] || nr_fail "daemon exit status $rc, expected 1 (start failed)"
nr_expect_match "$(cat "$TMP/refused.log")" "first reconcile failed: masquerading: nftables: replace inet nativeroute: .*Operation not permitted \(EPERM\)" \
	"start fails with the nftables error, naming the table"
exec {hfd}>&- # end of input: nft exits, and its owner table goes with its socket
wait "$holder" 2>/dev/null || true
nr_wait_for 5 sh -c "! ip netns exec '$n1' nft list tables | grep -q nativeroute" || nr_fail "owner table stayed"
start_daemon n1 "${args1[@]}"
nr_ok "with the obstacle gone the next start programs the table"

echo "== purge removes our table and nothing else"
nft1 add table ip foreign
nft1 add chain ip foreign post '{ type nat hook postrouting priority 100; }'
nft1 add rule ip foreign post ip saddr 10.0.0.0/24 masquerade
nft1 add table inet other
stop_daemon n1
"$D" --socket "$TMP/n1.sock" --state-dir "$TMP/n1.state" "${args1[@]}" --purge >>"$TMP/n1.log" 2>&1 ||
	{ tail "$TMP/n1.log"; nr_fail "--purge failed"; }
tables=$(nft1 list tables)
echo "$tables"
nr_expect_no_match "$tables" "inet nativeroute" "our table is gone"
nr_expect_match "$tables" "^table ip foreign$" "a foreign table is untouched"
nr_expect_match "$(nft1 list table ip foreign)" "ip saddr 10\.0\.0\.0/24 masquerade" "with its rule"
nr_expect_match "$tables" "^table inet other$" "another inet table is untouched"

stop_daemon n2
echo "PASS"
