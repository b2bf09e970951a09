# nativeroute-cni on a dual-stack cluster: one ADD gives the container an
# IPv4 and an IPv6 address (each a host route, each with its on-link gateway
# and default route), the Result lists both; containers on the two nodes
# reach each other over both families natively; CHECK sees a missing IPv6
# default route; DEL removes both.
. "$(dirname "$0")/lib/common.sh"
command -v jq >/dev/null || nr_fail "jq not installed"
[ -x "$NR_BIN_DIR/nativeroute-cni" ] || nr_fail "build nativeroute-cni first"
. "$(dirname "$0")/lib/cni_cluster.sh"

N1="${NR_P}node-1" N2="${NR_P}node-2"
ns() { echo "/run/netns/${NR_P}$1"; }
expect_ok() {
	[ "$CNI_RC" = 0 ] || { cat "$CNI_CACHE/stderr"; nr_fail "$1: rc $CNI_RC: $CNI_OUT"; }
	nr_ok "$1"
}

cni_cluster_up --dual-stack
cni_conflist "$CNI_WORK/ds1.conflist" 1.0.0 "$SOCK1"
cni_conflist "$CNI_WORK/ds2.conflist" 0.4.0 "$SOCK2"
cni_pod pod-a
cni_pod pod-b
cni_run ADD "$N1" "$CNI_WORK/ds1.conflist" ctr-a "$(ns pod-a)" eth0
expect_ok "ADD pod-a (dual stack)"
echo "$CNI_OUT"
nr_expect_match "$(jq -c '[.ips[] | [.address, .gateway, .interface]]' <<<"$CNI_OUT")" \
	'^\[\["10\.0\.0\.2/32","10\.0\.0\.1",1\],\["fd10::2/128","fd10::1",1\]\]$' "result: both addresses with their gateways"
nr_expect_match "$(jq -c '.routes' <<<"$CNI_OUT")" \
	'^\[\{"dst":"0\.0\.0\.0/0","gw":"10\.0\.0\.1"\},\{"dst":"::/0","gw":"fd10::1"\}\]$' "result: a default route per family"
cni_run ADD "$N2" "$CNI_WORK/ds2.conflist" ctr-b "$(ns pod-b)" eth0
expect_ok "ADD pod-b (dual stack, 0.4.0)"
nr_expect_match "$(jq -c '[.ips[] | .version]' <<<"$CNI_OUT")" '^\["4","6"\]$' "0.4.0 result: versions 4 and 6"
pa6=$(ip -n "${NR_P}pod-a" -6 addr show dev eth0; ip -n "${NR_P}pod-a" -6 route show)
nr_expect_match "$pa6" 'inet6 fd10::2/128 scope global' "pod-a: IPv6 address as a host route"
nr_expect_match "$pa6" '^fd10::1 dev eth0' "pod-a: IPv6 gateway on-link"
nr_expect_match "$pa6" '^default via fd10::1 dev eth0' "pod-a: IPv6 default route"

cap=$CNI_WORK/cap6.txt
nr_capture_start "$N1" eth0 'icmp6 or udp port 8472' "$cap"
ip netns exec "${NR_P}pod-a" ping -c 2 -i 0.2 -W 2 10.0.1.2 >/dev/null || nr_fail "pod-a cannot ping pod-b over IPv4"
nr_wait_for 5 ip netns exec "${NR_P}pod-a" ping -6 -c 1 -W 1 fd10::1:2 || nr_fail "pod-a cannot ping pod-b over IPv6"
ip netns exec "${NR_P}pod-a" ping -6 -c 2 -i 0.2 -W 2 fd10::1:2 >/dev/null || nr_fail "pod-a: IPv6 ping to pod-b lost packets"
nr_wait_for 5 grep -q 'IP6 fd10::2 > fd10::1:2: ICMP6, echo request' "$cap" || true
nr_capture_stop "$cap"
nr_ok "pod-a reaches pod-b over IPv4 and IPv6"
nr_expect_match "$(cat "$cap")" 'IP6 fd10::2 > fd10::1:2: ICMP6, echo request' "capture: pod IPv6 addresses on the wire"
nr_expect_no_match "$(cat "$cap")" '\.8472[: ]|VXLAN|UDP' "capture: no tunnel header"

cni_run CHECK "$N1" "$CNI_WORK/ds1.conflist" ctr-a "$(ns pod-a)" eth0
expect_ok "CHECK (both families)"
ip -n "${NR_P}pod-a" -6 route del default
cni_run CHECK "$N1" "$CNI_WORK/ds1.conflist" ctr-a "$(ns pod-a)" eth0
[ "$CNI_RC" != 0 ] && [ "$(jq -r .code <<<"$CNI_OUT")" = 102 ] || nr_fail "CHECK missed the IPv6 default route: $CNI_OUT"
nr_expect_match "$CNI_OUT" 'default route via fd10::1' "CHECK without the IPv6 default route: code 102, named"

echo "== a failure half-way undoes everything the ADD made"
# IPv6 off in the container: the veth and the endpoint exist by the time the
# IPv6 address is refused, so both must be taken back
cni_pod pod-c
ip netns exec "${NR_P}pod-c" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
cni_run ADD "$N1" "$CNI_WORK/ds1.conflist" ctr-c "$(ns pod-c)" eth0
[ "$CNI_RC" != 0 ] && [ "$(jq -r .code <<<"$CNI_OUT")" = 103 ] || nr_fail "ADD into an IPv6-less container: $CNI_OUT"
nr_ok "ADD into a container with IPv6 off: code 103 ($(jq -r .details <<<"$CNI_OUT"))"
ip -n "${NR_P}pod-c" link show eth0 >/dev/null 2>&1 && nr_fail "eth0 left in pod-c"
[ "$(ip -n "$N1" -o link | grep -c 'nr[0-9a-f]\{11\}@')" = 1 ] || nr_fail "a veth left on node-1: $(ip -n "$N1" -o link)"
nr_expect_no_match "$(nrctl1 -o json endpoints)" 'ctr-c' "the endpoint was released"
ip netns exec "${NR_P}pod-c" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
cni_run ADD "$N1" "$CNI_WORK/ds1.conflist" ctr-c "$(ns pod-c)" eth0
expect_ok "the same ADD with IPv6 on"
nr_expect_match "$(jq -c '[.ips[].address]' <<<"$CNI_OUT")" '^\["10\.0\.0\.3/32","fd10::3/128"\]$' \
	"it gets the addresses the failed ADD had (they were returned)"
cni_run DEL "$N1" "$CNI_WORK/ds1.conflist" ctr-c "$(ns pod-c)" eth0
expect_ok "DEL ctr-c"

for a in "1 ctr-a pod-a" "2 ctr-b pod-b"; do
	set -- $a
	cni_run DEL "${NR_P}node-$1" "$CNI_WORK/ds$1.conflist" "$2" "$(ns "$3")" eth0
	expect_ok "DEL $2"
done
nr_expect_no_match "$(ip -n "$N1" -6 route show proto 201)" '^fd10::2 ' "node-1: no IPv6 route to pod-a"
[ "$(nrctl1 -o json endpoints)" = "[]" ] && [ "$(nrctl2 -o json endpoints)" = "[]" ] ||
	nr_fail "endpoints left: $(nrctl1 -o json endpoints) $(nrctl2 -o json endpoints)"
nr_ok "both endpoints released"
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer' "$CNI_CACHE/stderr"; then
	cat "$CNI_CACHE/stderr"; nr_fail "sanitizer reports from the plugin"
fi
