#!/usr/bin/env bash
# A pass's netlink batch is sent from libuv's thread pool (issue 9 item 1,
# ctl/ctl_send.c): the kernel applies each route inside sendmsg, which now
# and then takes milliseconds, so the loop never sends. The callbacks still
# wait for the ACKs ("success means applied"), and close waits for a send
# in flight. tests/tools/nr_send_gate.c holds the send at a gate (its kernel
# table's batch_send waits until the loop opens it): no timing decides a
# result.
. "$(dirname "$0")/lib/common.sh"
: "${NR_TOOLS_DIR:?}"

n1=${NR_P}node-1
nr_topo_up "$NR_P"

gate() { # SCENARIO
	local out
	out=$(timeout 60 "$NR_TOOLS_DIR/nr_send_gate" "$n1" "$1" 2>&1) || { echo "$out"; nr_fail "nr_send_gate $1 failed (exit status $?)"; }
	echo "$out"
	if grep -q '^FAIL' <<<"$out"; then nr_fail "nr_send_gate $1: a check failed"; fi
	nr_expect_match "$out" "^ok held: (node-3's batch|node-3's lookups|the first pass's dump) reached the gate" \
		"$1: the job was held off the loop"
}

echo "== send: the callback comes after the ACK, the loop runs meanwhile"
gate send
nr_expect_match "$(ip -n "$n1" route show 10.0.2.0/24)" "via 192\.168\.1\.12 .*proto 201" \
	"send: node-3's route stays after the controller closed"

echo "== close: waits for the send in flight"
ip -n "$n1" nexthop flush >/dev/null # our nexthops, and the routes through them
[ -z "$(ip -n "$n1" route show proto 201)" ] || nr_fail "routes left before the close scenario"
gate close

echo "== lookups: a large set of route lookups runs on the thread pool too"
ip -n "$n1" nexthop flush >/dev/null
gate lookups
nr_expect_match "$(ip -n "$n1" route show 10.0.131.0/24)" "via 192\.168\.1\.141 .*proto 201" \
	"lookups: the last node's route is in the kernel"

echo "== lookups-close: a close waits for the lookups in flight"
ip -n "$n1" nexthop flush >/dev/null
gate lookups-close
[ -z "$(ip -n "$n1" route show 10.0.2.0/24)$(ip -n "$n1" route show 10.0.131.0/24)" ] ||
	nr_fail "lookups-close: routes of the cancelled nodes are in the kernel"
nr_ok "lookups-close: no route of a cancelled node"

echo "== lookups-stale: a route event while the lookups are out makes their answers stale"
ip -n "$n1" nexthop flush >/dev/null
ip -n "$n1" route del 10.200.0.0/24 2>/dev/null || true
gate lookups-stale
nr_expect_match "$(ip -n "$n1" route show 10.0.200.0/24)" "via 10\.200\.0\.5 .*proto 201" \
	"lookups-stale: node-far's route is in the kernel"
ip -n "$n1" route del 10.200.0.0/24

echo "== dump: the first pass reads the kernel on the thread pool"
gate dump

nr_ok "a pass's batch, its route lookups and its dump off the loop"
