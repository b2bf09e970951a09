#!/usr/bin/env bash
# Controller edge cases found in review, each once broken:
#  - the node/route/status views before the first pass (empty plan)
#  - a node removed by an event callback inside nr_ctl_node_add
#  - an API call from the ERROR event of a pass (during the netlink batch)
#  - a node added by an event callback during a pass is programmed before its callback
#  - the kernel echoing our own changes after the plan moved on is no drift
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"

n1=${NR_P}node-1
nr_topo_up "$NR_P"

echo "== views before the first pass"
nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 \
	--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes
# no answer before start: the pass that programs it has not run
echo "node add node-2 192.168.1.11 10.0.1.0/24" >&"${NR_EMBED_FD[c1]}"
out=$(nr_embed c1 nodes) || nr_fail "nodes before start: $out"
nr_expect_match "$out" "^node node-2 .*state=pending" "node-2 listed as pending before the first pass"
nr_embed c1 routes >/dev/null || nr_fail "routes before start"
nr_embed c1 status >/dev/null || nr_fail "status before start"
nr_embed_stop c1
nr_ok "views before the first pass"

# nr_reentrant NETNS SCENARIO: a controller driven from its own callbacks
# (tests/tools/nr_reentrant.c), run inside the namespace so it can ask ip(8)
reentrant() {
	ip netns exec "$n1" timeout 60 "$NR_TOOLS_DIR/nr_reentrant" "$n1" "$1" 2>&1 || echo "exit status $?"
}
clean_kernel() {
	ip -n "$n1" nexthop flush >/dev/null 2>&1 || true
	ip -n "$n1" route flush proto 201 >/dev/null 2>&1 || true
}

echo "== a node removed from the NODE_UNREACHABLE event nr_ctl_node_add emits"
out=$(reentrant unreachable-remove)
echo "$out"
nr_expect_no_match "$out" "AddressSanitizer|runtime error|exit status" "no use of the removed node"
nr_expect_match "$out" "^done node-x 0" "the add is acknowledged"
nr_expect_match "$out" "^done node-x-removed 0" "the removal is acknowledged"
clean_kernel

echo "== a node added from the ERROR event of a failed route, in the middle of a pass"
# someone else's route on node-2's CIDR: our ADD fails (EEXIST), as designed
ip -n "$n1" route add 10.0.1.0/24 via 192.168.1.11 proto static
t0=$(date +%s%N)
out=$(reentrant add-in-error)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "$out"
nr_expect_no_match "$out" "ETIMEDOUT|AddressSanitizer|runtime error|exit status" \
	"the event callback's lookup did not eat the batch's ACKs"
# node-2 is kept (model and state file): the refusal is its state, not an
# error of the call that kept it
nr_expect_match "$out" "^done node-2 0 " "node-2 is acknowledged: kept, its route blocked"
nr_expect_match "$out" "route 10\.0\.1\.0/24: another owner's route holds this prefix" "the refusal is reported as an event"
nr_expect_match "$out" "^done node-4 0 " "node-4, programmed, gets success"
[ "$ms" -lt 5000 ] || nr_fail "took ${ms} ms"
ip -n "$n1" route del 10.0.1.0/24 proto static
clean_kernel

echo "== a node added from the ROUTE_PROGRAMMED event of another, in the middle of a pass"
out=$(reentrant add-in-event)
echo "$out"
nr_expect_no_match "$out" "AddressSanitizer|runtime error|exit status" "no sanitizer report"
nr_expect_match "$out" "^done node-3 0" "node-3 acknowledged"
nr_expect_match "$out" "^kernel 10\.0\.2\.0/24: 10\.0\.2\.0/24 nhid [0-9]+ via 192\.168\.1\.12" \
	"the kernel has node-3's route when its callback runs"
nr_expect_match "$out" "^status drift_repairs=0 routes=2/2" "both routes programmed"
clean_kernel

echo "== a node removed from its own add callback: our changes' echoes are no drift"
out=$(reentrant chain-remove)
echo "$out"
nr_expect_no_match "$out" "AddressSanitizer|runtime error|exit status" "no sanitizer report"
nr_expect_match "$out" "^done node-2-removed 0" "the removal is acknowledged"
nr_expect_no_match "$out" "drift\.repaired" "no drift event for our own changes"
nr_expect_match "$out" "^status drift_repairs=0 " "drift counter stays 0"
clean_kernel

echo "== every public function called from inside event and completion callbacks"
# events and callbacks are delivered from the loop after the call that
# caused them returned: whatever a callback calls finds the controller
# between two steps (issue 9 item 2); sanitizers watch every call
ip -n "$n1" link add evh type veth peer name evp
out=$(reentrant everything)
echo "$out"
nr_expect_no_match "$out" "AddressSanitizer|LeakSanitizer|runtime error|exit status" "no sanitizer report"
for c in nr_ctl_status nr_ctl_node_foreach nr_ctl_endpoint_foreach nr_ctl_route_foreach \
	nr_ctl_set_data/get_data names nr_ctl_endpoint_add nr_ctl_mode_set_opts nr_ctl_node_update \
	nr_ctl_node_add nr_ctl_mode_set nr_ctl_node_remove nr_ctl_endpoint_remove nr_ctl_purge nr_ctl_close; do
	nr_expect_match "$out" "^call $c ok$" "$c from a callback"
done
nr_expect_match "$out" "^call nr_ctl_start\(again\) EALREADY$" "start again: EALREADY"
nr_expect_match "$out" "^call nr_ctl_endpoint_remove\(unknown\) ENOENT$" "unknown endpoint: ENOENT"
nr_expect_match "$out" "^call nr_ctl_node_add\(purging\) ESHUTDOWN$" "node add while purging: ESHUTDOWN"
nr_expect_match "$out" "^call nr_ctl_node_remove\(closing\) EINVAL$" "node remove while closing: EINVAL"
nr_expect_match "$out" "^call nr_ctl_status\(in event\) ok$" "status from a node.removed event"
nr_expect_match "$out" "^done node-2-updated 0" "node update acknowledged"
nr_expect_match "$out" "^done node-2-removed 0" "node remove acknowledged"
nr_expect_match "$out" "^done purged 0" "purge acknowledged"
nr_expect_match "$out" "^closed$" "closed"
[ -z "$(ip -n "$n1" route show proto 201)" ] || nr_fail "routes left after the purge"
nr_ok "every public function from callbacks; purge left nothing"
ip -n "$n1" link del evh
