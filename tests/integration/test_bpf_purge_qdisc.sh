#!/usr/bin/env bash
# Purge takes back the tc fast path as well as the maps: our filters go
# from every device, and so does every clsact qdisc the controller created
# - but never a clsact someone else had before (nor one someone else has
# put a filter on since). Which qdiscs are ours is recorded in a pinned map
# (tc_qdiscs), so it holds across a restart and for a purge from another
# process (`nativerouted --purge`, after the controller is gone). An
# endpoint removed while its device stays takes our clsact off it too.
#   veth-a  clsact made by us                          -> removed
#   veth-b  clsact + filter of someone else before us -> kept, with their filter
#   veth-c  clsact made by us, a foreign filter added  -> kept, with that filter
#   eth0    clsact of someone else (no filter)        -> kept
#   veth-d  clsact made by us, endpoint removed        -> removed at once
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"
command -v bpftool >/dev/null || nr_fail "bpftool not installed"
command -v tc >/dev/null || nr_fail "tc (iproute2) not installed"

n1=${NR_P}node-1
pins=/sys/fs/bpf/nativeroute/node-1@$n1
nr_cleanup_hooks+=("rm -rf '$pins'")
args=(--netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24
	--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes --bpf)
foreign_filter() { # DEV: a classic BPF classifier that matches nothing
	tc -n "$n1" filter add dev "$1" ingress pref 10 protocol all bpf bytecode '1,6 0 0 0,'
}
clsact() { tc -n "$n1" qdisc show dev "$1" | grep -c '^qdisc clsact' || true; }
ours() { tc -n "$n1" filter show dev "$1" ingress | grep -c 'handle 0x4e52 nr_from' || true; }
foreign() { tc -n "$n1" filter show dev "$1" ingress | grep -c "pref 10 bpf .*bytecode" || true; }

nr_topo_up "$NR_P"
for p in a b c d; do nr_topo_pod "$NR_P" node-1 "pod-$p" "veth-$p"; done
tc -n "$n1" qdisc add dev veth-b clsact
foreign_filter veth-b
tc -n "$n1" qdisc add dev eth0 clsact

nr_embed_start c1 "${args[@]}"
nr_embed c1 start >/dev/null
nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
for p in a b c d; do nr_embed c1 endpoint add "pod-$p" "veth-$p" >/dev/null; done
for d in veth-a veth-b veth-c veth-d eth0; do
	[ "$(clsact "$d")" = 1 ] && [ "$(ours "$d")" = 1 ] || {
		tc -n "$n1" qdisc show dev "$d"; tc -n "$n1" filter show dev "$d" ingress
		nr_fail "$d: no clsact with our filter"; }
done
nr_ok "our filter is on veth-a..d and eth0"
foreign_filter veth-c

echo "== an endpoint removed, its device kept: our clsact goes with our filter"
nr_embed c1 endpoint del pod-d >/dev/null
[ "$(clsact veth-d)" = 0 ] || { tc -n "$n1" qdisc show dev veth-d; nr_fail "veth-d kept the clsact we made"; }
nr_ok "veth-d: the clsact we made is gone with the endpoint"

echo "== restart: what we made is still known to be ours"
nr_embed_stop c1
nr_embed_start c2 "${args[@]}"
nr_embed c2 start >/dev/null
[ "$(ours veth-a)" = 1 ] || nr_fail "no filter on veth-a after the restart"
nr_embed c2 purge >/dev/null || nr_fail "purge failed"
for d in veth-a veth-b veth-c eth0; do
	[ "$(ours "$d")" = 0 ] || nr_fail "our filter is still on $d after purge"
done
nr_ok "purge: no filter of ours on any device"
[ "$(clsact veth-a)" = 0 ] || { tc -n "$n1" qdisc show dev veth-a; nr_fail "veth-a: the clsact we made survived purge"; }
nr_ok "veth-a: the clsact we made (before the restart) is gone"
[ "$(clsact veth-b)" = 1 ] && [ "$(foreign veth-b)" = 1 ] || nr_fail "veth-b: someone else's clsact or filter was removed"
nr_ok "veth-b: someone else's clsact and filter are kept"
[ "$(clsact veth-c)" = 1 ] && [ "$(foreign veth-c)" = 1 ] || nr_fail "veth-c: a clsact another filter uses was removed"
nr_ok "veth-c: the clsact we made is kept while someone else's filter is on it"
[ "$(clsact eth0)" = 1 ] || nr_fail "eth0: someone else's clsact was removed"
nr_ok "eth0: someone else's clsact is kept"
[ ! -e "$pins" ] || { ls -la "$pins"; nr_fail "pins left after purge"; }
nr_ok "no pin left"
nr_embed_stop c2

echo "== nativerouted --purge, from another process, after the controller is gone"
tc -n "$n1" filter del dev veth-c ingress pref 10
tc -n "$n1" qdisc del dev veth-c clsact
nr_embed_start c3 "${args[@]}"
nr_embed c3 start >/dev/null
for p in a c; do nr_embed c3 endpoint add "pod-$p" "veth-$p" >/dev/null; done
[ "$(clsact veth-a)" = 1 ] && [ "$(clsact veth-c)" = 1 ] || nr_fail "the fast path was not attached again"
nr_embed_stop c3
[ "$(ours veth-a)" = 1 ] || nr_fail "the filters should outlive the controller (fast path while it is down)"
out=$("$NR_BIN_DIR/nativerouted" --purge --socket "$NR_WORK/d.sock" --state-dir "$NR_WORK/d.state" \
	--netns "$n1" --node-name node-1 --node-ip 192.168.1.10 2>&1) || { echo "$out"; nr_fail "nativerouted --purge failed"; }
for d in veth-a veth-c; do
	[ "$(clsact "$d")" = 0 ] || { tc -n "$n1" qdisc show dev "$d"; nr_fail "$d: clsact left by nativerouted --purge"; }
done
[ "$(clsact veth-b)" = 1 ] && [ "$(foreign veth-b)" = 1 ] && [ "$(clsact eth0)" = 1 ] ||
	nr_fail "nativerouted --purge removed someone else's clsact"
[ "$(ours eth0)" = 0 ] && [ "$(ours veth-b)" = 0 ] || nr_fail "nativerouted --purge left a filter of ours"
[ ! -e "$pins" ] || { ls -la "$pins"; nr_fail "pins left after nativerouted --purge"; }
nr_ok "nativerouted --purge: our clsacts and filters and the pins gone, the others' kept"
echo PASS
