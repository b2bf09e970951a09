#!/bin/bash
# The netlink layer (libnativeroute/netlink) against a real kernel, driven
# through tests/tools/nl_probe and checked with ip(8)/bridge(8) — never with
# the layer's own dumps alone. Topology, all in namespaces this test makes
# and always removes:
#
#   A va 192.168.1.10/24 ── vb 192.168.1.11/24 B vc 192.168.2.1/24 ── vd 192.168.2.20/24 C
#
# A reaches 192.168.2.0/24 only through B (a proto static route: also the
# "foreign" route our layer must never touch).
. "$(dirname "$0")/lib/common.sh"

PROBE="$NR_TOOLS_DIR/nl_probe"
[ -x "$PROBE" ] || nr_fail "nl_probe not built ($PROBE)"
command -v bridge >/dev/null || nr_fail "bridge (iproute2) not installed"
A="${NR_P}a" B="${NR_P}b" C="${NR_P}c"
NH1=268435458 NH2=268435460

setup() {
	local ns
	for ns in "$A" "$B" "$C"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
	ip link add va netns "$A" type veth peer name vb netns "$B"
	ip link add vc netns "$B" type veth peer name vd netns "$C"
	ip -n "$A" addr add 192.168.1.10/24 dev va
	ip -n "$B" addr add 192.168.1.11/24 dev vb
	ip -n "$B" addr add 192.168.2.1/24 dev vc
	ip -n "$C" addr add 192.168.2.20/24 dev vd
	# room for 10,000 distinct directly connected gateways
	ip -n "$A" addr add 172.16.0.1/16 dev va
	ip -n "$A" link set va up; ip -n "$B" link set vb up
	ip -n "$B" link set vc up; ip -n "$C" link set vd up
	ip -n "$A" route add 192.168.2.0/24 via 192.168.1.11 proto static
}

probe() { "$PROBE" "$A" "$@"; }

# expect_fail WHAT CMD...: CMD must fail; its stderr is left in $ERR.
expect_fail() {
	local what=$1; shift
	if ERR=$("$@" 2>&1 >/dev/null); then nr_fail "$what: command succeeded"; fi
}

test_nexthop_and_route_with_src() {
	probe nexthop-add $NH1 192.168.1.11 va
	probe route-replace 10.0.1.0/24 nhid $NH1 src 192.168.1.10
	nr_expect_match "$(ip -n "$A" nexthop show id $NH1)" \
		"id $NH1 via 192.168.1.11 dev va .*proto 201" "nexthop object with proto 201"
	nr_expect_match "$(ip -n "$A" route show 10.0.1.0/24)" \
		"^10\.0\.1\.0/24 nhid $NH1 .*proto 201 .*src 192\.168\.1\.10" \
		"route uses the nexthop, proto 201, src = node IP"
	nr_expect_match "$(probe dump-routes)" "^route 10\.0\.1\.0/24 nhid $NH1 src 192\.168\.1\.10$" \
		"dump finds our route"
	nr_expect_match "$(probe dump-nexthops)" "^nexthop $NH1 via 192\.168\.1\.11 oif [0-9]+$" \
		"dump finds our nexthop"
}

test_replace_in_place() {
	nr_monitor_start "$A" "$WORK/monitor" route
	probe nexthop-add $NH2 192.168.1.12 va
	probe route-replace 10.0.1.0/24 nhid $NH2 src 192.168.1.10
	nr_monitor_stop "$WORK/monitor"
	nr_expect_match "$(cat "$WORK/monitor")" "^10\.0\.1\.0/24 nhid $NH2 " "the monitor saw the replacement"
	nr_expect_match "$(ip -n "$A" route show 10.0.1.0/24)" "nhid $NH2 " "route now uses nexthop $NH2"
	[ "$(ip -n "$A" route show 10.0.1.0/24 | wc -l)" = 1 ] || nr_fail "replace left two routes"
	nr_ok "replace did not duplicate the route"
	nr_expect_no_match "$(cat "$WORK/monitor")" "^Deleted .*10\.0\.1\.0/24" \
		"replace happened in place (no delete seen by ip monitor)"
}

test_classic_route() {
	probe route-replace 10.0.3.0/24 via 192.168.1.11 dev va src 192.168.1.10 mtu 1400
	nr_expect_match "$(ip -n "$A" route show 10.0.3.0/24)" \
		"^10\.0\.3\.0/24 via 192\.168\.1\.11 dev va proto 201 src 192\.168\.1\.10 .*mtu 1400" \
		"classic via route with src and mtu"
	probe route-replace 10.0.5.0/24 via 10.77.0.1 dev va onlink
	nr_expect_match "$(ip -n "$A" route show 10.0.5.0/24)" "via 10\.77\.0\.1 dev va proto 201 .*onlink" \
		"onlink classic route (gateway outside every subnet)"
}

test_foreign_route_untouched() {
	ip -n "$A" route add 10.0.9.0/24 via 192.168.1.11 proto static
	nr_expect_no_match "$(probe dump-routes)" "10\.0\.9\.0|192\.168\.2\.0" \
		"dump skips routes of other protocols"
	expect_fail "delete of a foreign route" probe route-del 10.0.9.0/24
	nr_expect_match "$ERR" "delete route 10\.0\.9\.0/24: .*\(ESRCH\)" "our delete cannot match it"
	nr_expect_match "$(ip -n "$A" route show 10.0.9.0/24)" "proto static" "foreign route survived"
}

test_ext_ack_error_names_route() {
	expect_fail "route via an unreachable gateway" \
		probe route-replace 10.0.2.0/24 via 10.9.9.9 dev va
	nr_expect_match "$ERR" "route 10\.0\.2\.0/24 via 10\.9\.9\.9 oif [0-9]+: Nexthop has invalid gateway \(ENETUNREACH\)" \
		"error names the route and carries the kernel's text"
	expect_fail "route to a missing nexthop" probe route-replace 10.0.2.0/24 nhid 12345
	nr_expect_match "$ERR" "route 10\.0\.2\.0/24 nhid 12345: Nexthop id does not exist" \
		"missing nexthop id explained"
	[ -z "$(ip -n "$A" route show 10.0.2.0/24)" ] || nr_fail "failed route was installed"
}

test_delete() {
	probe route-del 10.0.1.0/24
	probe route-del 10.0.3.0/24
	probe route-del 10.0.5.0/24
	probe nexthop-del $NH1
	probe nexthop-del $NH2
	[ -z "$(ip -n "$A" route show proto 201)" ] || nr_fail "routes left: $(ip -n "$A" route show proto 201)"
	[ -z "$(ip -n "$A" nexthop show proto 201)" ] || nr_fail "nexthops left"
	nr_ok "delete removed our routes and nexthops"
}

test_reachability() {
	nr_expect_match "$(probe reach 192.168.1.11)" "^direct dev va src 192\.168\.1\.10$" \
		"same subnet is DIRECT"
	nr_expect_match "$(probe reach 192.168.2.20)" "^gateway dev va via 192\.168\.1\.11 " \
		"other subnet is GATEWAY via the router"
	nr_expect_match "$(probe reach 192.168.1.10)" "^local " "own address is LOCAL"
	expect_fail "unroutable address" probe reach 10.99.0.1
	nr_expect_match "$ERR" "node 10\.99\.0\.1: .*\(ENETUNREACH\)" "no route is ENETUNREACH"
}

test_vxlan_fdb_neigh() {
	local mac=02:4e:c0:a8:01:0a peer=02:4e:c0:a8:01:0b
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac)" "^created ifindex" "vxlan created"
	nr_expect_match "$(ip -d -n "$A" link show nr_vxlan | tr "\n" " ")" \
		"mtu 1450 .*link/ether $mac.*vxlan id 1 local 192\.168\.1\.10 .*dstport 8472 nolearning" \
		"nr_vxlan: vni 1, dstport 8472, local node IP, nolearning, MTU-50, our MAC"
	nr_expect_match "$(ip -n "$A" link show nr_vxlan)" "<.*UP.*>" "nr_vxlan is up"
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac)" "^adopted ifindex" "same config is adopted"
	# ours (alias "nativeroute"): a node IP change moves it in place
	local idx
	idx=$(ip -n "$A" -o link show nr_vxlan | cut -d: -f1)
	ip -n "$A" addr add 192.168.1.20/24 dev va
	nr_expect_match "$(probe vxlan-ensure 192.168.1.20 02:4e:c0:a8:01:14)" "^adopted ifindex $idx$" \
		"new local address: same device"
	nr_expect_match "$(ip -d -n "$A" link show nr_vxlan | tr "\n" " ")" \
		"link/ether 02:4e:c0:a8:01:14 .*vxlan id 1 local 192\.168\.1\.20 " "local address and MAC changed in place"
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac)" "^adopted ifindex $idx$" "and back"
	ip -n "$A" addr del 192.168.1.20/24 dev va
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac vni 5 port 4789)" "^replaced ifindex" \
		"ours with another vni and port: replaced"
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac)" "^replaced ifindex" "and back"
	# someone else's device of our name is refused and left alone
	ip -n "$A" link del nr_vxlan
	ip -n "$A" link add nr_vxlan address 02:00:00:00:00:07 type vxlan id 7 dstport 4789 local 192.168.1.10
	expect_fail "foreign nr_vxlan" probe vxlan-ensure 192.168.1.10 $mac
	nr_expect_match "$ERR" "nr_vxlan exists and is not ours" "a foreign device is reported"
	nr_expect_match "$(ip -d -n "$A" link show nr_vxlan | tr "\n" " ")" "vxlan id 7 " "and not changed"
	ip -n "$A" link del nr_vxlan
	nr_expect_match "$(probe vxlan-ensure 192.168.1.10 $mac)" "^created ifindex" "vxlan created again"
	probe fdb-append $peer 192.168.1.11 nr_vxlan
	probe neigh-replace 192.168.1.11 $peer nr_vxlan
	nr_expect_match "$(bridge -n "$A" fdb show dev nr_vxlan)" "^$peer dst 192\.168\.1\.11 self permanent" \
		"fdb entry MAC -> node IP"
	nr_expect_match "$(ip -n "$A" neigh show dev nr_vxlan)" "^192\.168\.1\.11 lladdr $peer PERMANENT" \
		"permanent neighbour entry"
	nr_expect_match "$(probe dump-fdb nr_vxlan)" "^fdb $peer dst 192\.168\.1\.11 oif" "fdb dump"
	nr_expect_match "$(probe dump-neighs nr_vxlan)" "^neigh 192\.168\.1\.11 lladdr $peer oif" "neigh dump"
	probe fdb-del $peer 192.168.1.11 nr_vxlan
	probe neigh-del 192.168.1.11 nr_vxlan
	nr_expect_no_match "$(bridge -n "$A" fdb show dev nr_vxlan)" "$peer" "fdb entry deleted"
	nr_expect_no_match "$(ip -n "$A" neigh show dev nr_vxlan)" "192\.168\.1\.11" "neighbour deleted"
	probe link-del nr_vxlan
	nr_expect_no_match "$(ip -n "$A" link show)" "nr_vxlan" "vxlan deleted"
}

test_sysctl_in_netns() {
	ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=0
	ip netns exec "$B" sysctl -qw net.ipv4.ip_forward=0
	probe forwarding
	probe proxy-arp va 1
	[ "$(ip netns exec "$A" sysctl -n net.ipv4.ip_forward)" = 1 ] || nr_fail "ip_forward not set in A"
	[ "$(ip netns exec "$A" sysctl -n net.ipv6.conf.all.forwarding)" = 1 ] || nr_fail "ipv6 forwarding not set in A"
	[ "$(ip netns exec "$A" sysctl -n net.ipv4.conf.va.proxy_arp)" = 1 ] || nr_fail "proxy_arp not set on va"
	[ "$(ip netns exec "$B" sysctl -n net.ipv4.ip_forward)" = 0 ] || nr_fail "B's ip_forward changed"
	nr_ok "sysctls written in the named netns only"
}

test_events() {
	local ev
	probe nexthop-add $NH1 192.168.1.11 va
	probe route-replace 10.0.1.0/24 nhid $NH1
	probe events 1.5 > "$WORK/events" 2>&1 &
	ev=$!
	nr_wait_for 10 grep -q listening "$WORK/events" || nr_fail "event socket not ready"
	ip -n "$A" route del 10.0.1.0/24
	ip -n "$A" route add 10.0.8.0/24 via 192.168.1.11 proto static
	wait $ev
	nr_expect_match "$(cat "$WORK/events")" "^del proto 201 table 254: route 10\.0\.1\.0/24 nhid $NH1$" \
		"route delete event parsed"
	nr_expect_match "$(cat "$WORK/events")" "^new proto 4 table 254: route 10\.0\.8\.0/24 via 192\.168\.1\.11" \
		"foreign route event parsed with its protocol"
	probe nexthop-del $NH1
}

test_event_overrun_asks_for_resync() {
	nr_expect_match "$(probe events-overrun 500 va 172.16.1.0)" \
		"^first read: resync needed; next read: ok$" \
		"dropped events are reported as ENOBUFS, socket stays usable"
	# deleting the nexthop objects takes their routes with them
	ip -n "$A" nexthop flush >/dev/null
	[ -z "$(ip -n "$A" route show proto 201)" ] || nr_fail "overrun routes not removed"
}

test_other_table() {
	"$PROBE" --table 100 "$A" route-replace 10.0.7.0/24 via 192.168.1.11 dev va
	nr_expect_match "$(ip -n "$A" route show table 100)" "^10\.0\.7\.0/24 via 192\.168\.1\.11 dev va proto 201" \
		"route in table 100"
	nr_expect_no_match "$(probe dump-routes)" "10\.0\.7\.0" "main-table dump does not see table 100"
	nr_expect_match "$("$PROBE" --table 100 "$A" dump-routes)" "^route 10\.0\.7\.0/24" "table-100 dump does"
	"$PROBE" --table 100 "$A" route-del 10.0.7.0/24
	[ -z "$(ip -n "$A" route show table 100)" ] || nr_fail "table 100 route not deleted"
}

test_batch_10000() {
	local out t
	out=$(probe batch-bench 10000 va 172.16.1.0)
	echo "$out"
	nr_expect_match "$out" "programmed 10000 nexthops \+ 10000 routes in [0-9.]+ s; dumped 10000 nexthops \+ 10000 routes" \
		"10,000 nexthops + routes programmed and dumped back"
	[ "$(ip -n "$A" route show proto 201 | wc -l)" = 10000 ] || nr_fail "ip sees $(ip -n "$A" route show proto 201 | wc -l) routes"
	[ "$(ip -n "$A" nexthop show proto 201 | wc -l)" = 10000 ] || nr_fail "ip sees wrong nexthop count"
	nr_ok "ip sees 10000 routes and 10000 nexthops with proto 201"
	t=$(sed -E 's/.* in ([0-9.]+) s;.*/\1/' <<<"$out")
	awk -v t="$t" 'BEGIN { exit !(t < 3.0) }' || nr_fail "batch took $t s (limit 3 s even under sanitizers)"
	nr_ok "batch of 20,000 operations took $t s"
}

# The dump a controller runs from its loop: the same objects as the
# blocking dump, read one receive buffer per step (10,000 routes and
# nexthops from test_batch_10000 take dozens of steps, none of them long),
# and the other protocols' nexthops collected from the same dump.
test_dump_in_steps() {
	local steps out blocking
	ip -n "$A" nexthop add id 7 via 192.168.1.11 dev va proto static
	out=$(probe dump-steps foreign 2>"$WORK/steps") || nr_fail "dump-steps: $(cat "$WORK/steps")"
	blocking=$( (probe dump-nexthops; probe dump-routes) )
	[ "$(grep -v '^foreign ' <<<"$out")" = "$blocking" ] || nr_fail "stepped dump differs from the blocking one"
	nr_ok "stepped dump = blocking dump ($(wc -l <<<"$blocking") objects)"
	[ "$(grep -c '^route ' <<<"$out")" = "$(ip -n "$A" route show proto 201 | wc -l)" ] ||
		nr_fail "stepped dump: route count differs from ip's"
	nr_expect_match "$(grep '^foreign ' <<<"$out")" "^foreign 7$" "foreign nexthop 7 collected from the same dump"
	grep -q '^nexthop 7 ' <<<"$out" && nr_fail "foreign nexthop 7 listed as ours"
	steps=$(sed -n 's/^steps \([0-9]*\) .*/\1/p' "$WORK/steps")
	[ "${steps:-0}" -ge 10 ] || nr_fail "20,000 objects in ${steps:-?} steps: expected one receive buffer per step"
	nr_ok "20,000 objects dumped in $steps steps ($(cat "$WORK/steps"))"
	ip -n "$A" nexthop del id 7
}

# How a controller sends a pass's batch (ctl/ctl_send.c): another thread
# sends claims of operations, this one reads the ACKs meanwhile, and only
# the last message of each sendmsg asks for an ACK - so a failure in the
# middle must still be pinned on its own operation, and every operation
# before and after it must count as applied.
test_batch_from_another_thread() {
	local out want got n=3000 bad=7 i
	ip -n "$A" nexthop flush >/dev/null
	out=$(probe batch-threaded $n va 172.16.1.0 $bad) || nr_fail "batch-threaded: $out"
	nr_expect_match "$out" "^sent $((2 * n)) operations in [0-9]+ claims; $((n / bad)) failed$" \
		"$((2 * n)) operations sent from a second thread, $((n / bad)) refused"
	nr_expect_match "$out" "^request on the batch's socket: refused$" \
		"a request on the socket a batch is out on is refused (it would read the batch's answers)"
	[ "$(sed -n 's/.* in \([0-9]*\) claims.*/\1/p' <<<"$out")" -ge 2 ] ||
		nr_fail "one claim only: the ACK window was not exercised ($out)"
	want=$(for ((i = bad - 1; i < n; i += bad)); do echo "10.$((128 + (i >> 8))).$((i & 255)).0/24"; done | sort)
	got=$(sed -n 's/^failed \([^:]*\): .*/\1/p' <<<"$out" | sort)
	[ "$got" = "$want" ] || nr_fail "the failures were pinned on other routes: $(diff <(echo "$want") <(echo "$got") | head -5)"
	nr_expect_match "$(grep '^failed ' <<<"$out" | head -1)" "nhid [0-9]+: Nexthop id does not exist" \
		"a failure carries the kernel's reason"
	[ "$(ip -n "$A" route show proto 201 | wc -l)" = $((n - n / bad)) ] ||
		nr_fail "ip sees $(ip -n "$A" route show proto 201 | wc -l) routes, want $((n - n / bad))"
	[ "$(ip -n "$A" nexthop show proto 201 | wc -l)" = $n ] || nr_fail "ip sees the wrong nexthop count"
	nr_ok "every refused route named, the other $((n - n / bad)) routes and $n nexthops in the kernel"
	ip -n "$A" nexthop flush >/dev/null
}

# The event socket's filter (nr_nl_event_ignore_echoes): the echoes of our
# own changes never reach it, another program's changes do.
test_own_echoes_filtered() {
	local ev
	probe events-own 1.5 10.0.12.0/24 192.168.1.11 va > "$WORK/own" 2>&1 &
	ev=$!
	nr_wait_for 10 grep -q listening "$WORK/own" || nr_fail "event socket not ready"
	ip -n "$A" route add 10.0.13.0/24 via 192.168.1.11 proto static
	wait $ev || nr_fail "events-own: $(cat "$WORK/own")"
	nr_expect_match "$(cat "$WORK/own")" "^new proto 4 table 254: route 10\.0\.13\.0/24 via 192\.168\.1\.11" \
		"another program's route is seen"
	nr_expect_no_match "$(cat "$WORK/own")" "10\.0\.12\.0" "our own add and delete are not"
	ip -n "$A" route del 10.0.13.0/24
}

# The kernel lists neighbours in its hash order: the stepped dump hands
# them over sorted by key all the same (as the blocking dump does), and
# sorts only what came out of order (routes and nexthops come in order).
test_dump_in_steps_sorts() {
	local i out blocking raw finishes
	for i in $(seq 1 500); do
		printf 'neigh replace 172.16.%d.%d lladdr 02:00:00:00:%02x:%02x dev va nud permanent\n' \
			$((i / 250 + 10)) $((i % 250 + 1)) $((i / 256)) $((i % 256))
	done | shuf >"$WORK/neighs"
	ip -n "$A" -batch "$WORK/neighs"
	raw=$(ip -n "$A" neigh show dev va nud permanent | grep -c '^172\.16\.' || true)
	[ "$raw" = 500 ] || nr_fail "ip sees $raw of the 500 permanent neighbours"
	ip -n "$A" neigh show dev va nud permanent | grep '^172\.16\.' | cut -d' ' -f1 >"$WORK/raw"
	sort -V "$WORK/raw" | cmp -s - "$WORK/raw" &&
		nr_fail "the kernel listed the neighbours in key order: nothing to check"
	out=$(probe dump-steps neighs va 2>"$WORK/steps") || nr_fail "dump-steps: $(cat "$WORK/steps")"
	blocking=$(probe dump-neighs va)
	[ "$(grep '^neigh ' <<<"$out")" = "$blocking" ] || nr_fail "stepped neighbour dump differs from the blocking (sorted) one"
	[ "$(grep -c '^neigh 172\.16\.' <<<"$out")" = 500 ] || nr_fail "stepped dump: not the 500 neighbours"
	# sorted in pieces of 256 element moves (nr_nl_dumper_finish), not at once
	finishes=$(sed -n 's/.* finish_steps \([0-9]*\).*/\1/p' "$WORK/steps")
	[ "${finishes:-0}" -ge 5 ] || nr_fail "500 neighbours sorted in ${finishes:-?} finish steps: expected several"
	nr_ok "500 neighbours listed in hash order come out of the stepped dump sorted ($(cat "$WORK/steps"))"
	ip -n "$A" neigh flush dev va nud permanent
}

WORK=$(mktemp -d)
nr_cleanup_hooks+=("rm -rf '$WORK'")
setup
test_nexthop_and_route_with_src
test_replace_in_place
test_classic_route
test_foreign_route_untouched
test_ext_ack_error_names_route
test_delete
test_reachability
test_vxlan_fdb_neigh
test_sysctl_in_netns
test_events
test_event_overrun_asks_for_resync
test_other_table
test_batch_10000
test_dump_in_steps
test_batch_from_another_thread
test_own_echoes_filtered
test_dump_in_steps_sorts
nr_expect_match "$(ip -n "$A" route show 10.0.9.0/24)" "proto static" "foreign route still there at the end"
echo "PASS: netlink layer"
