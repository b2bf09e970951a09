# nativeroute-cni run exactly as a container runtime runs it (environment +
# configuration on stdin, in the node's namespace, via lib/cni_runtime.sh)
# against a real nativerouted on each of the seed's two nodes: two
# containers on different nodes ping each other natively, CHECK sees drift,
# DEL is idempotent (twice, without ADD, after the namespace is gone), a
# second ADD is refused without harm, errors carry the spec's codes (11 with
# the daemon down - leaving nothing behind -, 7, 1, 4, 6), and 100 ADD/DEL
# cycles leave no veth, no endpoint and no address allocated.
. "$(dirname "$0")/lib/common.sh"
command -v jq >/dev/null || nr_fail "jq not installed"
[ -x "$NR_BIN_DIR/nativeroute-cni" ] || nr_fail "build nativeroute-cni first"
. "$(dirname "$0")/lib/cni_cluster.sh"

N1="${NR_P}node-1" N2="${NR_P}node-2"
ns() { echo "/run/netns/${NR_P}$1"; }
expect_code() { # CODE WHAT: the last cni_run failed with the spec's error CODE
	[ "$CNI_RC" != 0 ] || nr_fail "$2: succeeded, expected error code $1"
	[ "$(jq -r .code <<<"$CNI_OUT")" = "$1" ] || nr_fail "$2: expected code $1, got: $CNI_OUT"
	nr_ok "$2: code $1 ($(jq -r .msg <<<"$CNI_OUT"))"
}
expect_ok() {
	[ "$CNI_RC" = 0 ] || { cat "$CNI_CACHE/stderr"; nr_fail "$1: rc $CNI_RC: $CNI_OUT"; }
	nr_ok "$1"
}
our_veths() { ip -n "$1" -o link show | awk -F': ' '{print $2}' | grep -c '^nr[0-9a-f]\{11\}@' || true; }

cni_cluster_up
NET1=$CNI_WORK/net1.conflist NET2=$CNI_WORK/net2.conflist
cni_conflist "$NET1" 1.0.0 "$SOCK1"
cni_conflist "$NET2" 0.4.0 "$SOCK2"

echo "== VERSION"
out=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$NR_BIN_DIR/nativeroute-cni")
nr_expect_match "$out" '"supportedVersions":\["0\.3\.0","0\.3\.1","0\.4\.0","1\.0\.0","1\.1\.0"\]' "VERSION lists 0.3.0 .. 1.1.0"

echo "== ADD two containers on two nodes"
cni_pod pod-a
cni_pod pod-b
cni_run ADD "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0 '' 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod-a;IgnoreUnknown=1'
expect_ok "ADD pod-a on node-1 (1.0.0)"
res_a=$CNI_OUT
echo "$res_a"
nr_expect_match "$res_a" '"ips":\[\{"address":"10\.0\.0\.2/32","gateway":"10\.0\.0\.1","interface":1\}\]' "1.0.0 result: ips without version, interface index 1"
nr_expect_match "$res_a" '"interfaces":\[\{"name":"nr[0-9a-f]{11}","mac":"[0-9a-f:]{17}"\},\{"name":"eth0","mac":"[0-9a-f:]{17}","sandbox":"/run/netns/'"${NR_P}"'pod-a"\}\]' "result: host veth, then eth0 with its sandbox"
nr_expect_match "$res_a" '"routes":\[\{"dst":"0\.0\.0\.0/0","gw":"10\.0\.0\.1"\}\]' "result: default route via the gateway"
host_a=$(jq -r '.interfaces[0].name' <<<"$res_a")
# The derivation is a contract across versions: DEL by a newer plugin must
# find the veth an older one made (FNV-1a of "ctr-a/eth0", 44 bits).
[ "$host_a" = nrb9e96a39c16 ] || nr_fail "host-side name of (ctr-a, eth0) changed: $host_a"
nr_ok "host-side name $host_a: deterministic, ${#host_a} <= 15 characters"
cni_run ADD "$N2" "$NET2" ctr-b "$(ns pod-b)" eth0
expect_ok "ADD pod-b on node-2 (0.4.0)"
nr_expect_match "$CNI_OUT" '"ips":\[\{"version":"4","address":"10\.0\.1\.2/32","gateway":"10\.0\.1\.1","interface":1\}\]' "0.4.0 result: ips carry \"version\":\"4\""

echo "== what the kernel has"
pa=$(ip -n "${NR_P}pod-a" addr show eth0; ip -n "${NR_P}pod-a" route show)
nr_expect_match "$pa" 'inet 10\.0\.0\.2/32 scope global eth0' "pod-a: address as a host route"
nr_expect_match "$pa" '^10\.0\.0\.1 dev eth0 .*scope link' "pod-a: gateway on-link"
nr_expect_match "$pa" '^default via 10\.0\.0\.1 dev eth0' "pod-a: default route via the gateway"
nr_expect_match "$(ip -n "${NR_P}pod-a" link show eth0)" 'mtu 1500 .*state UP' "pod-a: eth0 up, MTU of the underlay (1500)"
nr_expect_match "$(ip -n "$N1" route show)" "^10\.0\.0\.2 dev $host_a proto 201" "node-1: /32 to pod-a via $host_a (proto 201)"
nr_expect_match "$(nrctl1 -o json endpoints)" "\"id\":\"cni:net1:ctr-a:eth0\",\"ifname\":\"$host_a\"" "daemon: endpoint cni:net1:ctr-a:eth0 on $host_a"

echo "== pod-a -> pod-b, natively"
cap=$CNI_WORK/cap.txt
nr_capture_start "$N1" eth0 'icmp or udp port 8472' "$cap"
ip netns exec "${NR_P}pod-a" ping -c 3 -i 0.2 -W 2 10.0.1.2 || nr_fail "pod-a cannot ping pod-b"
nr_ok "pod-a (10.0.0.2) pings pod-b (10.0.1.2)"
nr_wait_for 5 grep -q 'IP 10\.0\.1\.2 > 10\.0\.0\.2: ICMP echo reply' "$cap" || true
nr_capture_stop "$cap"
nr_expect_match "$(cat "$cap")" "IP 10\.0\.0\.2 > 10\.0\.1\.2: ICMP echo request" "capture: pod IPs on the wire"
nr_expect_match "$(cat "$cap")" "IP 10\.0\.1\.2 > 10\.0\.0\.2: ICMP echo reply" "capture: the reply too"
nr_expect_no_match "$(cat "$cap")" "\\.8472[: ]|VXLAN|UDP" "capture: no tunnel header"

echo "== CHECK, and drift"
cni_run CHECK "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_ok "CHECK right after ADD"
ip -n "${NR_P}pod-a" route del default
cni_run CHECK "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_code 102 "CHECK after the default route was deleted"
nr_expect_match "$CNI_OUT" 'default route via 10\.0\.0\.1' "CHECK names the missing route"
ip -n "${NR_P}pod-a" route add default via 10.0.0.1 dev eth0
nrctl1 endpoint del cni:net1:ctr-a:eth0
cni_run CHECK "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_code 102 "CHECK after the daemon's endpoint was removed"

echo "== ADD of an existing attachment"
cni_run DEL "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
cni_run ADD "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_ok "ADD pod-a again after DEL"
cni_run ADD "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_code 100 "second ADD of (ctr-a, eth0)"
cni_run CHECK "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_ok "the existing attachment is untouched (CHECK passes)"
ip netns exec "${NR_P}pod-a" ping -c 1 -W 2 10.0.1.2 >/dev/null || nr_fail "pod-a lost its network to a refused ADD"
nr_ok "pod-a still pings pod-b"

echo "== DEL: everything goes, and DEL is idempotent"
cni_run DEL "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_ok "DEL pod-a"
[ "$(our_veths "$N1")" = 0 ] || nr_fail "a veth is left on node-1: $(ip -n "$N1" -o link)"
ip -n "${NR_P}pod-a" link show eth0 2>/dev/null && nr_fail "eth0 is left in pod-a"
nr_expect_no_match "$(ip -n "$N1" route show)" '^10\.0\.0\.2 ' "node-1: no route to pod-a"
nr_expect_no_match "$(nrctl1 -o json endpoints)" 'ctr-a' "daemon: endpoint released"
nr_ok "DEL removed the veth pair, the route and the endpoint"
cni_run DEL "$N1" "$NET1" ctr-a "$(ns pod-a)" eth0
expect_ok "DEL again"
cni_run DEL "$N1" "$NET1" never-added "$(ns pod-a)" eth0
expect_ok "DEL without ADD"
cni_pod pod-c
cni_run ADD "$N1" "$NET1" ctr-c "$(ns pod-c)" eth0
expect_ok "ADD pod-c"
ip netns del "${NR_P}pod-c"
cni_run DEL "$N1" "$NET1" ctr-c "$(ns pod-c)" eth0
expect_ok "DEL after the container's namespace is gone"
nr_expect_no_match "$(nrctl1 -o json endpoints)" 'ctr-c' "daemon: pod-c's endpoint released"
cni_run DEL "$N1" "$NET1" ctr-c "" eth0
expect_ok "DEL without CNI_NETNS"

echo "== errors: the spec's codes"
cni_daemon_stop 2
cni_pod pod-d
cni_run ADD "$N2" "$NET2" ctr-d "$(ns pod-d)" eth0
expect_code 11 "ADD with node-2's daemon down"
[ "$(our_veths "$N2")" = 1 ] || nr_fail "ADD left a veth on node-2: $(ip -n "$N2" -o link)" # pod-b's only
ip -n "${NR_P}pod-d" link show eth0 2>/dev/null && nr_fail "ADD left eth0 in pod-d"
nr_ok "nothing left behind by the refused ADD"
cni_daemon_start 2
cni_run ADD "$N2" "$NET2" ctr-d "$(ns pod-d)" eth0
expect_ok "ADD once the daemon is back"
nr_expect_match "$CNI_OUT" '10\.0\.1\.3/32' "pod-d gets the next address (pod-b's survived the restart)"
cni_run DEL "$N2" "$NET2" ctr-d "$(ns pod-d)" eth0
bad=$CNI_WORK/bad.conflist
jq '.plugins[0].mtu = "big"' "$NET1" >"$bad"
cni_run ADD "$N1" "$bad" ctr-e "$(ns pod-a)" eth0
expect_code 7 "mtu \"big\""
nr_expect_match "$CNI_OUT" '"details":"\\"mtu\\": \\"big\\" is not a number"' "the message names the key and the value"
jq '.cniVersion = "2.0.0"' "$NET1" >"$bad"
cni_run ADD "$N1" "$bad" ctr-e "$(ns pod-a)" eth0
expect_code 1 "cniVersion 2.0.0"
jq '.plugins[0].socket = "relative.sock"' "$NET1" >"$bad"
cni_run ADD "$N1" "$bad" ctr-e "$(ns pod-a)" eth0
expect_code 7 "a relative socket path"
cni_run ADD "$N1" "$NET1" ctr-e "$(ns pod-a)" "eth0:bad"
expect_code 4 "CNI_IFNAME with ':'"
cni_run ADD "$N1" "$NET1" ctr-e "$(ns nosuchpod)" eth0
expect_code 3 "CNI_NETNS that does not exist"
out=$(printf '{"cniVersion":' | ip netns exec "$N1" env CNI_COMMAND=ADD CNI_CONTAINERID=x \
	CNI_NETNS="$(ns pod-a)" CNI_IFNAME=eth0 "$NR_BIN_DIR/nativeroute-cni") && nr_fail "broken JSON accepted"
nr_expect_match "$out" '"code":6' "broken JSON: code 6"
[ "$(our_veths "$N1")" = 0 ] || nr_fail "a refused ADD left a veth on node-1"
nr_ok "refused ADDs left nothing on node-1"

echo "== MTU and address requests"
jq '.plugins[0].mtu = 1400' "$NET1" >"$CNI_WORK/mtu.conflist"
cni_run ADD "$N1" "$CNI_WORK/mtu.conflist" ctr-m "$(ns pod-a)" eth0 '' 'IP=10.0.0.50'
expect_ok "ADD with mtu 1400 and CNI_ARGS IP=10.0.0.50"
nr_expect_match "$(ip -n "${NR_P}pod-a" link show eth0)" 'mtu 1400' "container side MTU 1400"
nr_expect_match "$(ip -n "$N1" link show "$(jq -r '.interfaces[0].name' <<<"$CNI_OUT")")" 'mtu 1400' "host side MTU 1400"
nr_expect_match "$CNI_OUT" '"address":"10\.0\.0\.50/32"' "the requested address"
cni_run DEL "$N1" "$CNI_WORK/mtu.conflist" ctr-m "$(ns pod-a)" eth0

echo "== the MTU the daemon asks for (tunnel mode: underlay - 50)"
nrctl1 mode set tunnel --no-auto-direct-node-routes >/dev/null
cni_run ADD "$N1" "$NET1" ctr-t "$(ns pod-a)" eth0
expect_ok "ADD with node-1 in tunnel mode"
nr_expect_match "$(ip -n "${NR_P}pod-a" link show eth0)" 'mtu 1450 ' "container side: the daemon's MTU 1450"
nr_expect_match "$(ip -n "$N1" link show "$(jq -r '.interfaces[0].name' <<<"$CNI_OUT")")" 'mtu 1450 ' "host side: 1450"
cni_run DEL "$N1" "$NET1" ctr-t "$(ns pod-a)" eth0
cni_run ADD "$N1" "$CNI_WORK/mtu.conflist" ctr-t "$(ns pod-a)" eth0
nr_expect_match "$(ip -n "${NR_P}pod-a" link show eth0)" 'mtu 1400 ' "the configuration's \"mtu\" still wins"
cni_run DEL "$N1" "$CNI_WORK/mtu.conflist" ctr-t "$(ns pod-a)" eth0
nrctl1 mode set native --auto-direct-node-routes >/dev/null

echo "== 100 ADD/DEL cycles"
t0=$(date +%s%N)
for i in $(seq 1 100); do
	cni_run ADD "$N1" "$NET1" "cyc-$i" "$(ns pod-a)" eth0
	[ "$CNI_RC" = 0 ] || nr_fail "cycle $i: ADD: $CNI_OUT"
	cni_run DEL "$N1" "$NET1" "cyc-$i" "$(ns pod-a)" eth0
	[ "$CNI_RC" = 0 ] || nr_fail "cycle $i: DEL: $CNI_OUT"
done
t1=$(date +%s%N)
nr_ok "100 ADD/DEL cycles in $(( (t1 - t0) / 1000000 )) ms"
[ "$(our_veths "$N1")" = 0 ] || nr_fail "veths left after the cycles: $(ip -n "$N1" -o link)"
[ "$(nrctl1 -o json endpoints)" = "[]" ] || nr_fail "endpoints left: $(nrctl1 -o json endpoints)"
nr_expect_no_match "$(ip -n "$N1" route show proto 201)" '^10\.0\.0\.' "no pod route left on node-1"
cni_run ADD "$N1" "$NET1" after "$(ns pod-a)" eth0
nr_expect_match "$CNI_OUT" '10\.0\.0\.2/32' "the next ADD gets 10.0.0.2 again: no address stayed allocated"
cni_run DEL "$N1" "$NET1" after "$(ns pod-a)" eth0
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer' "$CNI_CACHE/stderr"; then
	cat "$CNI_CACHE/stderr"; nr_fail "sanitizer reports from the plugin"
fi
nr_ok "no sanitizer report from $(grep -c . "$CNI_CACHE/stderr" || true) lines of plugin stderr"
