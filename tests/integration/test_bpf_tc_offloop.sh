#!/usr/bin/env bash
# The eBPF fast path's tc filters are attached off the caller's loop (issue
# 9 item 1): the kernel work runs on libuv's thread pool, the pass waits
# for it, so an endpoint's callback still comes only once its filter is
# attached, and close waits for a job in flight. tests/tools/nr_tc_gate.c
# holds the job at a gate (its kernel table's tc_run waits until the loop
# opens it): no timing decides a result. Run in this mount namespace (not
# `ip netns exec`): the pins live in the host's bpffs.
. "$(dirname "$0")/lib/common.sh"
: "${NR_TOOLS_DIR:?}"
command -v tc >/dev/null || nr_fail "tc not installed"

n1=${NR_P}node-1
pins=/sys/fs/bpf/nativeroute/node-1@$n1
nr_cleanup_hooks+=("rm -rf '$pins'")

nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-1 pod-b veth-b

gate() { # SCENARIO
	local out
	rm -rf "$pins" # each run starts without pins
	out=$(timeout 60 "$NR_TOOLS_DIR/nr_tc_gate" "$n1" "$1" 2>&1) || { echo "$out"; nr_fail "nr_tc_gate $1 failed (exit status $?)"; }
	echo "$out"
	if grep -q '^FAIL' <<<"$out"; then nr_fail "nr_tc_gate $1: a check failed"; fi
	nr_expect_match "$out" "^ok held: pod-b's tc job reached the gate" "$1: the job was held off the loop"
}

echo "== attach: the callback comes after the filter, the loop runs meanwhile"
gate attach
nr_expect_match "$(tc -n "$n1" filter show dev veth-b ingress)" "handle 0x4e52" \
	"attach: the filter stays on veth-b after the controller closed"

echo "== close: waits for the tc job in flight"
tc -n "$n1" qdisc del dev veth-b clsact 2>/dev/null || true # pod-b's filter goes with it
gate close
nr_ok "tc attach/detach off the loop"
