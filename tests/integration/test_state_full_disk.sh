# A full disk and a deleted state directory (issue 11, item 4):
#  - a state directory deleted under a running controller is created again
#    at the next save, which says so (event state.migrated), and holds the
#    whole state;
#  - a restart whose state needs no new write is not stopped by a full disk:
#    the start callback succeeds, the kernel is not touched, and the state
#    file is not rewritten (the loaded bytes are known to be on disk);
#  - a change that cannot be saved (ENOSPC) is an error and changed nothing
#    (write-ahead: the state is saved before the kernel is changed, and the
#    model goes back when the save fails): no route in the kernel, and once
#    there is room again the same change succeeds (no EEXIST).
# The small file system is a tmpfs mounted inside a private mount namespace
# (unshare -m): the host's mounts are never touched.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"

R="$NR_TOOLS_DIR/nr_restart"
[ -x "$R" ] || nr_fail "build nr_restart first"
command -v unshare >/dev/null || nr_fail "unshare (util-linux) not installed"
TMP=$(mktemp -d /tmp/nrfull.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
NS="${NR_P}full"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v1 up
ip -n "$NS" addr add 172.31.255.254/12 dev v0
ip -n "$NS" link set v0 up

# Everything that needs the small disk runs in one private mount namespace.
cat >"$TMP/inner.sh" <<'INNER'
set -euo pipefail
R=$1 NS=$2 D=$3
mount -t tmpfs -o size=256k nrtest "$D"
st="$D/state"
out=$("$R" "$NS" "$st" kubernetes add 40) || { echo "populate failed: $out"; exit 1; }
echo "populated: $out"
before=$(stat -c '%Y.%Z %i' "$st/state")
# fill the file system to the last byte
dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null || true
dd if=/dev/zero of="$D/filler2" bs=1 2>/dev/null || true
df -k "$D" | tail -1
out=$("$R" "$NS" "$st" kubernetes start) || { echo "restart on a full disk failed: $out"; exit 1; }
echo "restart on a full disk: $out"
after=$(stat -c '%Y.%Z %i' "$st/state")
[ "$before" = "$after" ] || { echo "the state file was rewritten ($before -> $after)"; exit 1; }
echo "state file untouched"
# a change needs a write, which the full disk refuses
if out=$("$R" "$NS" "$st" kubernetes add 1 40 2>&1); then
	echo "a change was acknowledged on a full disk: $out"; exit 1
fi
echo "change on a full disk: $out"
# (here-strings, not pipes into grep -q: under pipefail a writer that grep
# left behind dies of SIGPIPE and fails the pipeline although grep matched)
grep -q 'No space left on device' <<<"$out" || { echo "ENOSPC not reported"; exit 1; }
# node-40's pod CIDR is the 41st /26 of 10.0.0.0/8
if [ -n "$(ip -n "$NS" route show 10.0.10.64/26)" ]; then
	echo "the refused change reached the kernel: $(ip -n "$NS" route show 10.0.10.64/26)"; exit 1
fi
echo "refused change: not in the kernel"
rm -f "$D/filler" "$D/filler2"
out=$("$R" "$NS" "$st" kubernetes add 1 40) || { echo "the same change with room again failed: $out"; exit 1; }
echo "with room again: $out"
grep -q 'proto 201' <<<"$(ip -n "$NS" route show 10.0.10.64/26)" || { echo "node-40's route missing"; exit 1; }
umount "$D"
INNER
mkdir "$TMP/disk"
out=$(unshare -m --propagation private bash "$TMP/inner.sh" "$R" "$NS" "$TMP/disk" 2>&1) || {
	echo "$out"; nr_fail "full-disk scenario failed"; }
echo "$out"
nr_expect_match "$out" "restart on a full disk: start_ms=[0-9.]+ returned_ms=[0-9.]+ cpu_ms=[0-9.]+ status=0 .* nodes=41" \
	"restart on a full disk: start callback with status 0, 40 remote nodes"
nr_expect_match "$out" "state file untouched" "the state file was not rewritten"
nr_expect_match "$out" "change on a full disk" "a change that cannot be saved is an error"
nr_expect_match "$out" "refused change: not in the kernel" "the refused change is not in the kernel"
nr_expect_match "$out" "with room again: .*status=0 .*nodes=42 .*failed=0" "with room again the same change succeeds"

echo "== a state directory deleted under a running controller"
ST2="$TMP/st2"
nr_embed_start e1 --netns "$NS" --node-name local --node-ip 172.31.255.254 --ipam kubernetes \
	--cluster-cidr 10.0.0.0/8 --pod-cidr 10.0.0.0/26 --auto-direct-node-routes --state-dir "$ST2"
nr_embed e1 start >/dev/null
nr_embed e1 node add n1 172.16.0.2 10.0.1.0/26 >/dev/null || nr_fail "node add n1"
grep -q 'n1' "$ST2/state" || nr_fail "n1 not saved"
rm -rf "$ST2"
out=$(nr_embed e1 node add n2 172.16.0.3 10.0.2.0/26) || { echo "$out"; nr_fail "node add n2 after the directory went"; }
echo "$out"
nr_expect_match "$out" "state directory of $ST2/state was deleted; created it again" "the re-creation is told"
[ -f "$ST2/state" ] && [ -f "$ST2/lock" ] || nr_fail "state directory not made again"
grep -q 'n1' "$ST2/state" && grep -q 'n2' "$ST2/state" || { cat "$ST2/state"; nr_fail "the new state file lacks n1 or n2"; }
[ "$(stat -c %a "$ST2")" = 700 ] || nr_fail "state directory made with mode $(stat -c %a "$ST2")"
nr_ok "state directory made again (0700) with the whole state and its lock"
nr_embed_stop e1
echo PASS
