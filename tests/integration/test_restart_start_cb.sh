# Restart of an embedded controller on an unchanged state directory
# (issue 17): the start callback runs at once - no timer involved - in a
# caller that runs `while (!done) uv_run(loop, UV_RUN_ONCE)`, for both IPAM
# modes, with and without remote nodes, several restarts in a row, and the
# kernel is left alone (0 route/nexthop changes in ip monitor).
# Before the fix, every restart that changed nothing in the kernel returned
# from the loop only at the 30 s resync timer.
. "$(dirname "$0")/lib/common.sh"

R="$NR_TOOLS_DIR/nr_restart"
[ -x "$R" ] || nr_fail "build nr_restart first"
TMP=$(mktemp -d /tmp/nrrestart.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
NS="${NR_P}restart"
# The bug was 30 s (the resync timer). The wall time of a start is mostly
# waiting in the kernel (namespace switches and nftables transactions wait
# for RCU grace periods, which other tests' namespace churn stretches):
# 600 ms with 10 ms of CPU seen on a busy 2-core machine, so 1.5 s was too
# tight. 5 s still tells "at once" from any timer of the controller's.
LIMIT_MS=${NR_RESTART_LIMIT_MS:-5000}

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v1 up
ip -n "$NS" addr add 172.31.255.254/12 dev v0
ip -n "$NS" link set v0 up

field() { sed -n "s/.*\\b$1=\\([-0-9.]*\\).*/\\1/p" <<<"$2"; }

for ipam in kubernetes cluster-pool; do
	for n in 0 3 40; do
		st="$TMP/state-$ipam-$n"
		# the last case's routes go with their nexthops
		ip -n "$NS" nexthop flush proto 201 >/dev/null 2>&1 || true
		ip -n "$NS" route flush proto 201 >/dev/null 2>&1 || true
		if [ "$n" -gt 0 ]; then
			out=$("$R" "$NS" "$st" "$ipam" add "$n") || nr_fail "$ipam: adding $n nodes: $out"
		else
			out=$("$R" "$NS" "$st" "$ipam" start) || nr_fail "$ipam: first start: $out"
		fi
		routes=$(ip -n "$NS" route show proto 201 | grep -c via || true)
		[ "$routes" -eq "$n" ] || nr_fail "$ipam: expected $n routes, found $routes"
		for round in 1 2 3 4; do
			nr_monitor_start "$NS" "$TMP/mon" route nexthop
			out=$("$R" "$NS" "$st" "$ipam" start) || nr_fail "$ipam, $n nodes, restart $round: $out"
			nr_monitor_stop "$TMP/mon"
			# the kernel's own routes (IPv6 link-local prefix and local-table entries
			# that appear once DAD completes on the fresh veth) are nobody's change
			sed -i '/proto kernel/d' "$TMP/mon"
			# ip(8) itself, when another test deletes a namespace meanwhile
			sed -i '/^Error: Peer netns reference is invalid/d' "$TMP/mon"
			ret=$(field returned_ms "$out")
			[ "$(field nodes "$out")" -eq $((n + 1)) ] ||
				nr_fail "$ipam, restart $round: expected $((n + 1)) nodes in the model: $out"
			awk -v r="$ret" -v l="$LIMIT_MS" 'BEGIN { exit !(r <= l) }' ||
				nr_fail "$ipam, $n nodes, restart $round: start callback after $ret ms (limit $LIMIT_MS): $out"
			if [ -s "$TMP/mon" ]; then
				cat "$TMP/mon"
				nr_fail "$ipam, $n nodes, restart $round changed the kernel"
			fi
			echo "$ipam, $n nodes, restart $round: $out"
		done
		nr_ok "$ipam, $n remote nodes: 4 restarts, start callback at once, 0 kernel changes"
	done
done
# Tunnel mode: the kernel lists the neighbour and FDB entries of the VXLAN
# device in its hash order, which the first pass's dump sorts in slices
# between loop turns (ctl_gather.c); the restart still finds every object
# in place and changes nothing.
ip -n "$NS" nexthop flush proto 201 >/dev/null 2>&1 || true
ip -n "$NS" route flush proto 201 >/dev/null 2>&1 || true
st="$TMP/state-tunnel"
out=$("$R" --tunnel "$NS" "$st" kubernetes add 300) || nr_fail "tunnel: adding 300 nodes: $out"
[ "$(ip -n "$NS" neigh show dev nr_vxlan nud permanent | wc -l)" -eq 300 ] ||
	nr_fail "tunnel: expected 300 neighbour entries on nr_vxlan"
for round in 1 2; do
	nr_monitor_start "$NS" "$TMP/mon" route nexthop neigh
	out=$("$R" --heartbeat --tunnel "$NS" "$st" kubernetes start) || nr_fail "tunnel, restart $round: $out"
	nr_monitor_stop "$TMP/mon"
	sed -i '/proto kernel/d; /^Error: Peer netns reference is invalid/d' "$TMP/mon"
	# neighbour state changes of the underlay (ARP, IPv6 ND) are the kernel's own
	sed -i '/dev v0 /d; /dev v1 /d; /dev lo /d' "$TMP/mon"
	[ "$(field nodes "$out")" -eq 301 ] || nr_fail "tunnel, restart $round: expected 301 nodes: $out"
	if [ -s "$TMP/mon" ]; then
		cat "$TMP/mon"
		nr_fail "tunnel, restart $round changed the kernel"
	fi
	echo "tunnel, restart $round: $out"
done
nr_ok "tunnel mode, 300 nodes: 2 restarts, 0 route/nexthop/neighbour changes"
# The saved state loads off the caller's loop (nr_ctl_new only queues it):
# a call that needs the model before the start waits for it; a corrupt
# file fails the start callback, naming the file - and nothing of the 40
# nodes' routes in the kernel is touched (no pass ever runs on the
# options' stand-in model).
st="$TMP/state-cluster-pool-40"
out=$("$R" --status-first "$NS" "$st" cluster-pool start) || nr_fail "status before start: $out"
nr_expect_match "$out" "^before_start: nodes=41$" "nr_ctl_status before nr_ctl_start waits for the load: 41 nodes"
cp -r "$st" "$TMP/corrupt"
rm -f "$TMP/corrupt/lock"
sed -i 's/^node\t5\t/node\t6\t/' "$TMP/corrupt/state"
cmp -s "$TMP/corrupt/state" "$st/state" && nr_fail "test did not corrupt the file"
ip -n "$NS" monitor route nexthop >"$TMP/mon" 2>&1 &
mpid=$!
sleep 0.2
if out=$("$R" "$NS" "$TMP/corrupt" cluster-pool start 2>"$TMP/err"); then
	nr_fail "started on a corrupt state file: $out"
fi
nr_expect_match "$(cat "$TMP/err")" "^start: $TMP/corrupt/state: checksum mismatch" \
	"corrupt state: the start callback fails, naming the file"
out=$("$R" --status-first "$NS" "$TMP/corrupt" cluster-pool start 2>/dev/null) || true
nr_expect_match "$out" "^before_start: error EBADMSG: $TMP/corrupt/state: checksum mismatch" \
	"corrupt state: nr_ctl_status before the start returns the load's error"
sleep 0.3
kill "$mpid"; wait "$mpid" 2>/dev/null || true
sed -i '/proto kernel/d; /^Error: Peer netns reference is invalid/d' "$TMP/mon"
[ -s "$TMP/mon" ] && { cat "$TMP/mon"; nr_fail "a failed load changed the kernel"; }
[ "$(ip -n "$NS" route show proto 201 | grep -c via)" -eq 40 ] || nr_fail "routes lost after a failed load"
nr_ok "a failed load leaves the kernel alone (40 routes, 0 changes)"
echo "PASS"
