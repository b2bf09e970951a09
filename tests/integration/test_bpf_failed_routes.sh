#!/usr/bin/env bash
# The eBPF maps mirror only what the kernel really has: a route the kernel
# refuses (here: another owner's route holds the prefix, EEXIST) gets no
# `routes` entry - else the fast path would forward where the kernel does
# not - in the pass that failed (incremental) and in the full passes that
# retry it (resync every 300 ms); a pod whose /32 route is refused gets no
# `endpoints` entry either, and its add is refused and rolled back (an error
# means nothing changed). Once the foreign routes go, the retry programs the
# node's route and a new add of the pod succeeds: the entries appear. A
# programmed route that another owner takes over loses its entry while ours
# cannot be restored.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"
command -v bpftool >/dev/null || nr_fail "bpftool not installed"

n1=${NR_P}node-1
pins=/sys/fs/bpf/nativeroute/node-1@$n1
dump() { /usr/bin/python3 "$(dirname "$0")/lib/bpf_dump.py" "$@"; }
nr_cleanup_hooks+=("rm -rf '$pins'")

nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a
# foreign routes (proto static) on the prefixes node-2 and pod-a will need
ip -n "$n1" route add 10.0.1.0/24 dev eth0 proto static
ip -n "$n1" route add 10.0.0.7/32 dev eth0 proto static

nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 \
	--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes --bpf --resync-ms 300
nr_embed c1 start >/dev/null
nr_embed c1 node add node-3 192.168.1.12 10.0.3.0/24 >/dev/null
nr_expect_match "$(dump routes "$pins")" "^10\.0\.3\.0/24 native 192\.168\.1\.12 " "a programmed route has its entry"

nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null || true
! nr_embed c1 endpoint add pod-a veth-a 10.0.0.7 >/dev/null || nr_fail "the endpoint add whose /32 the kernel refuses succeeded"
nr_expect_no_match "$(nr_embed c1 endpoints)" "^endpoint pod-a " "the refused endpoint add was rolled back"
nr_expect_match "$(ip -n "$n1" route show 10.0.1.0/24)" "proto static" "the kernel holds the foreign route for 10.0.1.0/24"
nr_expect_no_match "$(ip -n "$n1" route show 10.0.1.0/24)" "proto 201" "ours was refused"
nr_expect_match "$(cat "$NR_WORK/c1.out")" "route 10\.0\.1\.0/24: another owner's route holds this prefix" "the refusal was reported"
r=$(dump routes "$pins") e=$(dump endpoints "$pins")
echo "$r"; echo "$e"
nr_expect_no_match "$r" "^10\.0\.1\.0/24 " "after the failed pass: no routes entry for the refused 10.0.1.0/24"
nr_expect_no_match "$r" "^10\.0\.0\.7/32 " "no routes entry for the refused pod route 10.0.0.7/32"
nr_expect_no_match "$e" "^10\.0\.0\.7 " "no endpoints entry for the pod whose route was refused"

# full passes retry the refused routes (and fail again): still no entry
resyncs() { nr_embed c1 status | sed -n 's/.* resyncs=\([0-9]*\) .*/\1/p'; }
r0=$(resyncs)
more_resyncs() { [ "$(resyncs)" -ge $((r0 + 2)) ]; }
nr_wait_for 30 more_resyncs || nr_fail "no two resyncs within 30 s"
r=$(dump routes "$pins") e=$(dump endpoints "$pins")
nr_expect_no_match "$r" "^10\.0\.1\.0/24 " "after two full passes: still no entry for 10.0.1.0/24"
nr_expect_no_match "$r" "^10\.0\.0\.7/32 " "after two full passes: still no entry for 10.0.0.7/32"
nr_expect_no_match "$e" "^10\.0\.0\.7 " "after two full passes: still no endpoints entry for 10.0.0.7"
nr_expect_match "$r" "^10\.0\.3\.0/24 native 192\.168\.1\.12 " "the programmed route keeps its entry"

echo "== the foreign routes go: ours are programmed, and the entries appear"
ip -n "$n1" route del 10.0.1.0/24 proto static
ip -n "$n1" route del 10.0.0.7/32 proto static
nr_embed c1 endpoint add pod-a veth-a 10.0.0.7 >/dev/null || nr_fail "the endpoint add failed with the foreign /32 gone"
has_entries() {
	dump routes "$pins" | grep -q "^10\.0\.1\.0/24 native 192\.168\.1\.11 " &&
		dump routes "$pins" | grep -q "^10\.0\.0\.7/32 endpoint " &&
		dump endpoints "$pins" | grep -q "^10\.0\.0\.7 "
}
nr_wait_for 30 has_entries || { dump routes "$pins"; dump endpoints "$pins"; nr_fail "entries missing after the retry"; }
nr_expect_match "$(ip -n "$n1" route show 10.0.1.0/24)" "proto 201" "our route for 10.0.1.0/24 is in the kernel"
nr_expect_match "$(ip -n "$n1" route show 10.0.0.7/32)" "proto 201" "our route for 10.0.0.7/32 is in the kernel"
nr_ok "entries for 10.0.1.0/24 and 10.0.0.7 written once their routes were programmed"

echo "== a programmed route taken over by another owner: its entry goes"
# the route is replaced by hand with a foreign one; the repair (our add)
# is refused while it stays, and the map must follow the kernel
ip -n "$n1" route replace 10.0.3.0/24 dev eth0 proto static
no_entry() { ! dump routes "$pins" | grep -q "^10\.0\.3\.0/24 "; }
nr_wait_for 30 no_entry || { dump routes "$pins"; nr_fail "the entry of the taken-over route stayed"; }
nr_expect_match "$(ip -n "$n1" route show 10.0.3.0/24)" "proto static" "the foreign route holds 10.0.3.0/24"
nr_ok "the entry for 10.0.3.0/24 went when the kernel refused to restore our route"
ip -n "$n1" route del 10.0.3.0/24 proto static
has_entry() { dump routes "$pins" | grep -q "^10\.0\.3\.0/24 native 192\.168\.1\.12 "; }
nr_wait_for 30 has_entry || { dump routes "$pins"; nr_fail "the entry for 10.0.3.0/24 did not come back"; }
nr_ok "and came back with our route"
nr_embed c1 purge >/dev/null
nr_embed_stop c1
echo PASS
