# Input the controller must refuse (issue 11, item 10), through the daemon:
# kubernetes pod CIDRs that would route the default route, loopback,
# multicast or space outside every cluster CIDR; an endpoint on the
# underlay device or loopback; invalid UTF-8 is never echoed back. Each
# refusal leaves the kernel as it was.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrin.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
# (IPv6 duplicate address detection ends while the test runs: the kernel's
# own routes and the "tentative" flag it clears are nobody's change)
kstate() {
	ip -n "$NS1" route show table all | grep -v 'proto kernel'
	ip -n "$NS1" addr show | sed 's/ tentative//'
}

nr_topo_up "$NR_P"
"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --auto-direct-node-routes --ipam kubernetes \
	--cluster-cidr 10.0.0.0/16 --pod-cidr 10.0.0.0/24 >"$TMP/daemon.log" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
# the topology's IPv6 link-local addresses finish DAD on their own (a
# 'tentative' flag and a local route change ~1 s later): not ours to count
nr_wait_for 5 sh -c "! ip -n $NS1 addr show | grep -q tentative" || true
before=$(kstate)

# refused REGEX WHAT COMMAND...: nrctl exits 1 with REGEX, nothing changed
refused() {
	local regex=$1 what=$2 out rc
	shift 2
	set +e
	out=$(nrctl "$@" 2>&1)
	rc=$?
	set -e
	[ $rc = 1 ] || nr_fail "$what: exit $rc, expected 1: $out"
	nr_expect_match "$out" "$regex" "$what"
	[ "$(kstate)" = "$before" ] || nr_fail "$what: the kernel changed"
}
refused 'pod CIDR 0\.0\.0\.0/0: a default route' "pod CIDR 0.0.0.0/0 refused" \
	node add n2 --ip 192.168.1.11 --pod-cidr 0.0.0.0/0
refused 'pod CIDR 127\.0\.0\.0/8: overlaps loopback' "pod CIDR 127.0.0.0/8 refused" \
	node add n2 --ip 192.168.1.11 --pod-cidr 127.0.0.0/8
refused 'pod CIDR 224\.0\.0\.0/4: overlaps multicast' "pod CIDR 224.0.0.0/4 refused" \
	node add n2 --ip 192.168.1.11 --pod-cidr 224.0.0.0/4
refused '8\.0\.0\.0/8 is outside the cluster CIDR 10\.0\.0\.0/16' "pod CIDR outside every cluster CIDR refused" \
	node add n2 --ip 192.168.1.11 --pod-cidr 8.0.0.0/8
refused 'pod CIDR ff02::/16: overlaps multicast' "IPv6 multicast pod CIDR refused" \
	node add n2 --ip 192.168.1.11 --pod-cidr ff02::/16
nr_expect_no_match "$(nrctl nodes)" 'n2' "no refused node was kept"
refused 'endpoint pod-x: eth0 carries the node IP 192\.168\.1\.10 \(the underlay device\)' \
	"an endpoint on the underlay device refused" endpoint add pod-x --ifname eth0
refused 'endpoint pod-y: lo is the loopback device' "an endpoint on loopback refused" \
	endpoint add pod-y --ifname lo
nr_expect_no_match "$(ip -n "$NS1" addr show eth0)" '10\.0\.0\.1/32' "no gateway address on eth0"

# Invalid UTF-8 in a request is never echoed back raw.
set +e
out=$(nrctl node get $'bad\xff\xfename' 2>&1)
set -e
if printf '%s' "$out" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
	nr_expect_match "$out" 'bad\\xff\\xfename' "invalid UTF-8 in a request: escaped in the error"
else
	nr_fail "the daemon echoed invalid UTF-8: $out"
fi

# The daemon refuses the same at start: --pod-cidr and --cluster-cidr.
set +e
out=$("$D" --socket "$TMP/x.sock" --state-dir "$TMP/x" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --ipam cluster-pool --cluster-cidr 127.0.0.0/8 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || nr_fail "cluster CIDR 127.0.0.0/8 accepted"
nr_expect_match "$out" 'cluster CIDR 127\.0\.0\.0/8: overlaps loopback' "cluster CIDR 127.0.0.0/8 refused at start"
echo PASS
