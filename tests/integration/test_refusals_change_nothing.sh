# "A call that returns < 0 changed nothing" (issue 9 item 3): nr_ctl_new
# refuses a reserved route protocol (1-4: redirect, kernel, boot, static -
# the prune at start and purge would delete other software's routes), an
# oversized VXLAN VNI, a node IP that is no address of the namespace, a
# missing namespace, a bad cluster CIDR, a pod CIDR outside it, a node IP
# inside it, a bad node name, bad masquerade options and bad etcd options,
# each before it creates the state directory or its lock;
# nr_ctl_endpoint_add refused by the kernel (IPv6 disabled on the host-side
# link) leaves the link down and without the gateway address it added.
# Links, addresses, routes and nexthops are the same before and after all
# of it. nr_ctl_start refused because IPv6 forwarding cannot be switched on
# leaves IPv4 forwarding as it was (a namespace of its own).
. "$(dirname "$0")/lib/common.sh"

X="$NR_TOOLS_DIR/nr_refusals"
[ -x "$X" ] || nr_fail "build nr_refusals first"
TMP=$(mktemp -d /tmp/nrrefuse.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
NS="${NR_P}refuse"
ip netns add "$NS"
# no duplicate address detection in this namespace: addresses and the
# kernel's own routes of new links are final at once, before the snapshot
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.accept_dad=0
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v1 up
ip -n "$NS" addr add 172.31.255.254/12 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link add h1 type veth peer name p1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.h1.disable_ipv6=1
# forwarding as nr_ctl_start sets it (the endpoint case starts a controller,
# and that success is not what is checked here)
ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# the snapshot below is taken once both ends are up with their link-local
# addresses (a fixed 0.3 s before)
settled() {
	local l
	for l in v0 v1; do
		ip -n "$NS" link show "$l" | grep -q 'state UP' &&
			ip -n "$NS" -6 addr show dev "$l" | grep -q 'inet6 fe80::' || return 1
	done
}
nr_wait_for 10 settled || nr_fail "v0/v1 not up with link-local addresses: $(ip -n "$NS" addr show)"

no_vxlan() { awk '/^[0-9]+: /{skip = /nr_vxlan/} !skip'; }
kernel() {
	# a link that was up once keeps the default qdisc the kernel attached:
	# not a setting anyone made, so it does not count
	# nor does nr_vxlan, the receive side a started controller keeps in
	# every mode (the endpoint case starts one)
	ip -n "$NS" link show | no_vxlan | grep -v 'link/' | sed 's/ qdisc [a-z_]*//'
	ip -n "$NS" addr show | no_vxlan | sed 's/ qdisc [a-z_]*//'
	ip -n "$NS" route show table all | grep -v nr_vxlan
	ip -n "$NS" nexthop show 2>/dev/null || true
}
BEFORE=$(kernel)

echo "== nr_ctl_new refusals"
out=$("$X" "$NS" "$TMP/state" new) || { echo "$out"; nr_fail "a bad option was accepted or left a state directory"; }
echo "$out"
for c in route-protocol-static route-protocol-kernel vxlan-vni node-ip-elsewhere netns-missing \
	cluster-cidr pod-cidr-outside node-ip-in-cluster-cidr node-name masquerade-switch non-masquerade-cidr masquerade-without-cidr etcd-endpoint \
	etcd-lease-ttl; do
	nr_expect_match "$out" "^refused $c: " "$c refused"
	nr_expect_match "$out" "^dir $c: absent$" "$c: no state directory"
done
nr_expect_match "$out" "route_protocol 4: belongs to the kernel or other software" "the reserved protocol is named"
nr_expect_match "$out" "^refused pod-cidr-outside: EINVAL: .*192.168.5.0/26" "the pod CIDR outside the cluster CIDR is named"
nr_expect_match "$out" "^refused node-ip-in-cluster-cidr: EINVAL: .*10.1.2.3" "the node IP inside the cluster CIDR is named"
nr_expect_match "$out" "^refused node-name: EINVAL: .*Bad_Name" "the node name is named"
nr_expect_match "$out" "^refused masquerade-switch: EINVAL: masquerade_ipv4 7: expected" "the masquerade switch value is named"
nr_expect_match "$out" "^refused non-masquerade-cidr: EINVAL: non-masquerade CIDR 192.168.0.0/40" "the non-masquerade CIDR is named"
nr_expect_match "$out" "^refused masquerade-without-cidr: EINVAL: IPv6 masquerading" "masquerading without a source CIDR is refused"
# without NR_WITH_ETCD any etcd option is refused the same way, as unsupported
nr_expect_match "$out" "^refused etcd-endpoint: (EINVAL: etcd endpoint ftp://127.0.0.1:1: expected|EOPNOTSUPP: etcd store: this library was built without it)" "the etcd endpoint is named"
nr_expect_match "$out" "^refused etcd-lease-ttl: (EINVAL: etcd lease TTL 1 s|EOPNOTSUPP: etcd store)" "the etcd lease TTL is named"
nr_expect_match "$out" "^thread netns unchanged$" "nr_ctl_new in a namespace never moves the calling thread"
# only the good controller (last) made its state directory
[ "$(ls "$TMP/state" 2>/dev/null)" = "" ] || { ls -la "$TMP/state"; nr_fail "a refused call made a state directory"; }

echo "== nr_ctl_endpoint_add refused by the kernel"
ip -n "$NS" link show h1 | grep -q 'state DOWN' || nr_fail "h1 should start down"
mkdir "$TMP/ep"
out=$("$X" "$NS" "$TMP/ep" endpoint h1) || { echo "$out"; nr_fail "endpoint add was not refused"; }
echo "$out"
nr_expect_match "$out" "^refused endpoint: EACCES: address fd00:10::1/128" "refused, naming the address"
ip -n "$NS" link show h1 | grep -q 'state DOWN' || nr_fail "the refused endpoint left h1 up"
ip -n "$NS" addr show dev h1 | grep -q 'inet ' && nr_fail "the refused endpoint left the gateway address on h1"
nr_ok "h1 is down and has no address again"

# the endpoint case: the controller's own up/address and their undoing are
# the only changes allowed, each undone; the refusals of nr_ctl_new none
AFTER=$(kernel)
if [ "$AFTER" != "$BEFORE" ]; then
	diff <(echo "$BEFORE") <(echo "$AFTER")
	nr_fail "the kernel differs after the refused calls"
fi
nr_ok "links, addresses, routes, nexthops: as before"

echo "== nr_ctl_start refused: IPv6 forwarding cannot be switched on"
# a namespace of its own with forwarding off; the switch of IPv6 is made
# read-only (a bind mount in a private mount namespace, seen through this
# network namespace's /proc/sys only), so start fails after IPv4's
NS2="${NR_P}refuse6"
ip netns add "$NS2"
ip -n "$NS2" link set lo up
ip -n "$NS2" link add d0 type veth peer name d1
ip -n "$NS2" link set d1 up
ip -n "$NS2" addr add 172.31.255.254/12 dev d0
ip -n "$NS2" link set d0 up
fwd4() { ip netns exec "$NS2" cat /proc/sys/net/ipv4/ip_forward; }
[ "$(fwd4)" = 0 ] || nr_fail "a new namespace should start with IPv4 forwarding off"
mkdir "$TMP/start"
out=$(ip netns exec "$NS2" unshare -m --propagation private sh -c '
	f=/proc/sys/net/ipv6/conf/all/forwarding
	mount --bind "$f" "$f" && mount -o remount,bind,ro "$f" && exec "$0" "$1" "$2" start' \
	"$X" "$NS2" "$TMP/start") || { echo "$out"; nr_fail "start was not refused"; }
echo "$out"
nr_expect_match "$out" "^refused start: EROFS: .*net/ipv6/conf/all/forwarding" "refused, naming the switch"
[ "$(fwd4)" = 0 ] || nr_fail "the refused start left IPv4 forwarding on"
nr_ok "IPv4 forwarding is off again"
echo "PASS"
