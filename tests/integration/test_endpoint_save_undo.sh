#!/usr/bin/env bash
# An endpoint add whose state cannot be saved is an error and changes
# nothing: endpoint.add sets up the host side at once (brings the host veth
# up, puts the pod gateway address on it), and the save that follows is
# written ahead of the routes; when that save fails the model goes back,
# and so must the host side - the veth down again, no gateway address, no
# route, no eBPF endpoint entry, the state file as it was. With room (or
# file descriptors) again, the same add succeeds.
#  1. ENOSPC: the state directory is on a 256 KiB tmpfs, mounted in a
#     private mount namespace of the controller (unshare -m: the host's
#     mounts are never touched), filled to the last byte;
#  2. EMFILE: the controller's RLIMIT_NOFILE lowered (prlimit) to the
#     descriptors it has open, so the save cannot create its temporary file;
#     the error names the cause.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"
for t in unshare nsenter prlimit bpftool; do
	command -v "$t" >/dev/null || nr_fail "$t not installed"
done

n1=${NR_P}node-1
pins=/sys/fs/bpf/nativeroute/node-1@$n1
nr_cleanup_hooks+=("rm -rf '$pins'")
args=(--netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24
	--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes --bpf)
nr_topo_up "$NR_P"
nr_topo_pod "$NR_P" node-1 pod-a veth-a
nr_topo_pod "$NR_P" node-1 pod-b veth-b
ip -n "$n1" link set veth-a down
ip -n "$n1" link set veth-b down

# the host side of DEV as the test compares it: up or down, its addresses,
# our routes through it
host_side() {
	local l
	l=$(ip -n "$n1" -o link show dev "$1") || { echo "cannot read link $1"; return; }
	if grep -q '[<,]UP[,>]' <<<"$l"; then echo UP; else echo DOWN; fi
	ip -n "$n1" -o addr show dev "$1" | awk '{print $3, $4}'
	ip -n "$n1" route show proto 201 dev "$1"
}
# the endpoints map, read in the controller's mount namespace (its bpffs)
eps_in() { nsenter -t "$1" -m /usr/bin/python3 "$(dirname "$0")/lib/bpf_dump.py" endpoints "$pins"; }
expect_unchanged() { # WHAT DEV BEFORE EPS-PID
	local after
	after=$(host_side "$2")
	[ "$after" = "$3" ] || { echo "--- before:"; echo "$3"; echo "--- after:"; echo "$after"; nr_fail "$1: $2's host side changed"; }
	nr_ok "$1: $2 as before ($(head -1 <<<"$after"), no gateway address, no route)"
	nr_expect_no_match "$(eps_in "$4")" "." "$1: no eBPF endpoint entry"
}

echo "== 1. ENOSPC: the state directory on a full tmpfs"
D=$NR_WORK/disk
mkdir -p "$D" "$NR_WORK/wrap"
printf '#!/bin/sh\nexec unshare -m --propagation private sh -c '\''mount -t tmpfs -o size=256k nrtest "$0" && exec "$@"'\'' %s "%s/nr-embed" "$@"\n' \
	"$D" "$NR_TOOLS_DIR" >"$NR_WORK/wrap/nr-embed"
chmod +x "$NR_WORK/wrap/nr-embed"
tools=$NR_TOOLS_DIR NR_TOOLS_DIR=$NR_WORK/wrap
nr_embed_start c1 "${args[@]}" --state-dir "$D/state"
NR_TOOLS_DIR=$tools
pid=${NR_EMBED_PID[c1]}
nr_embed c1 start >/dev/null
nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
inside() { nsenter -t "$pid" -m "$@"; }
inside mountpoint -q "$D" || nr_fail "no tmpfs on $D in the controller's mount namespace"
mountpoint -q "$D" && nr_fail "the tmpfs is visible outside the private mount namespace"
inside cp "$D/state/state" "$D/state.before"
before=$(host_side veth-a)
inside sh -c "dd if=/dev/zero of='$D/filler' bs=4k 2>/dev/null; dd if=/dev/zero of='$D/filler2' bs=1 2>/dev/null" || true
if out=$(nr_embed c1 endpoint add pod-a veth-a); then
	echo "$out"; nr_fail "an endpoint add was acknowledged on a full disk"
fi
echo "$out"
nr_expect_match "$out" "^error ENOSPC: .*No space left on device" "endpoint add on a full disk: ENOSPC, named"
expect_unchanged "ENOSPC" veth-a "$before" "$pid"
inside cmp -s "$D/state/state" "$D/state.before" || nr_fail "the state file changed"
nr_expect_no_match "$(nr_embed c1 endpoints)" "pod-a" "ENOSPC: the model has no pod-a"
inside rm -f "$D/filler" "$D/filler2"
out=$(nr_embed c1 endpoint add pod-a veth-a) || { echo "$out"; nr_fail "the same add with room again failed"; }
nr_expect_match "$(host_side veth-a)" "^UP" "with room again: veth-a up"
nr_expect_match "$(host_side veth-a)" "10\.0\.0\.1/32" "with room again: the gateway address on veth-a"
nr_expect_match "$(eps_in "$pid")" "^10\.0\.0\.2 " "with room again: the eBPF endpoint entry"
nr_embed c1 purge >/dev/null
nr_embed_stop c1

echo "== 2. EMFILE: no file descriptor left for the save"
nr_embed_start c2 "${args[@]}" --state-dir "$NR_WORK/state2"
pid=${NR_EMBED_PID[c2]}
nr_embed c2 start >/dev/null
nr_embed c2 node add node-2 192.168.1.11 10.0.1.0/24 >/dev/null
cp "$NR_WORK/state2/state" "$NR_WORK/state2.before"
before=$(host_side veth-b)
lim=$(prlimit --pid "$pid" --nofile --output SOFT,HARD --noheadings | awk '{print $1":"$2}')
free=0
while [ -e "/proc/$pid/fd/$free" ]; do free=$((free + 1)); done
prlimit --pid "$pid" --nofile="$free":"${lim#*:}"
nr_ok "RLIMIT_NOFILE of the controller lowered to $free (its lowest free descriptor; was $lim)"
if out=$(nr_embed c2 endpoint add pod-b veth-b); then
	prlimit --pid "$pid" --nofile="$lim"
	echo "$out"; nr_fail "an endpoint add was acknowledged without a descriptor for the save"
fi
prlimit --pid "$pid" --nofile="$lim"
echo "$out"
nr_expect_match "$out" "^error EMFILE: .*$NR_WORK/state2/.*Too many open files" \
	"endpoint add without a descriptor: EMFILE, naming the state file and the cause"
expect_unchanged "EMFILE" veth-b "$before" "$pid"
cmp -s "$NR_WORK/state2/state" "$NR_WORK/state2.before" || nr_fail "the state file changed"
nr_expect_no_match "$(nr_embed c2 endpoints)" "pod-b" "EMFILE: the model has no pod-b"
out=$(nr_embed c2 endpoint add pod-b veth-b) || { echo "$out"; nr_fail "the same add with descriptors again failed"; }
nr_expect_match "$(host_side veth-b)" "^UP" "with descriptors again: veth-b up"
nr_expect_match "$(host_side veth-b)" "10\.0\.0\.1/32" "with descriptors again: the gateway address on veth-b"
nr_expect_match "$(eps_in "$pid")" "^10\.0\.0\.2 " "with descriptors again: the eBPF endpoint entry"
nr_embed c2 purge >/dev/null
nr_embed_stop c2
echo PASS
