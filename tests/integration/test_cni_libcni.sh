# nativeroute-cni driven by the reference libcni - the Go library containerd,
# CRI-O and podman call plugins through (Debian's golang-github-appc-cni-dev,
# built into tests/tools/nr-cnitool/) - so the plugin is held to what real
# runtimes do and check: the list validated through VERSION, results parsed,
# converted and cached by libcni, prevResult from that cache for CHECK and
# DEL, capability arguments to portmap/bandwidth, kubelet's CNI_ARGS.
. "$(dirname "$0")/lib/common.sh"
command -v jq >/dev/null || nr_fail "jq not installed"
command -v go >/dev/null || nr_fail "go not installed (golang-go)"
[ -d /usr/share/gocode/src/github.com/containernetworking/cni/libcni ] ||
	nr_fail "libcni sources missing (golang-github-appc-cni-dev)"
[ -x "$NR_BIN_DIR/nativeroute-cni" ] || nr_fail "build nativeroute-cni first"
. "$(dirname "$0")/lib/cni_cluster.sh"

TOOL=$NR_BUILD_DIR/tests/tools/nr-cnitool
(cd "$NR_SOURCE_DIR/tests/tools/nr-cnitool" &&
	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$NR_BUILD_DIR/go-cache" \
	go build -o "$TOOL" .) || nr_fail "building nr-cnitool against libcni"
export NR_CNI_CACHE=$CNI_WORK/libcni-cache
N1="${NR_P}node-1" N2="${NR_P}node-2"
ns() { echo "/run/netns/${NR_P}$1"; }
# cnitool NODE CMD LIST POD CONTAINERID [CAPS]: sets OUT and RC
cnitool() {
	RC=0
	OUT=$(ip netns exec "$1" env CNI_PATH="$CNI_PATH" NR_CNI_CACHE="$NR_CNI_CACHE" \
		"$TOOL" "$2" "$3" "$(ns "$4")" "$5" eth0 "${6:-}" 2>>"$CNI_CACHE/stderr") || RC=$?
}
ok() { [ "$RC" = 0 ] || { cat "$CNI_CACHE/stderr"; nr_fail "$1: rc $RC: $OUT"; }; nr_ok "$1"; }

cni_cluster_up
CHAIN=$CNI_WORK/k8s.conflist
cni_conflist "$CHAIN" 1.0.0 "$SOCK1" \
	'{"type":"portmap","capabilities":{"portMappings":true}}' \
	'{"type":"bandwidth","capabilities":{"bandwidth":true}}' \
	'{"type":"tuning","sysctl":{"net.core.somaxconn":"900"}}'
PLAIN=$CNI_WORK/plain.conflist
cni_conflist "$PLAIN" 0.4.0 "$SOCK2"
caps='{"portMappings":[{"hostPort":8081,"containerPort":80,"protocol":"tcp"}],"bandwidth":{"ingressRate":8000000,"ingressBurst":80000,"egressRate":8000000,"egressBurst":80000}}'

cnitool "$N1" validate "$CHAIN" pod-a ctr-a
ok "libcni validates the list (every plugin's VERSION, the conflist's version supported)"
nr_expect_match "$OUT" 'portMappings' "capabilities seen by libcni"

cni_pod pod-a
cni_pod pod-b
cnitool "$N1" add "$CHAIN" pod-a ctr-a "$caps"
ok "libcni ADD of nativeroute-cni -> portmap -> bandwidth -> tuning"
nr_expect_match "$(jq -c '.ips[0] | [.address, .gateway, .interface]' <<<"$OUT")" '^\["10\.0\.0\.2/32","10\.0\.0\.1",1\]$' \
	"libcni's result carries our address, gateway and interface index"
nr_expect_match "$(ip netns exec "$N1" iptables-save -t nat)" 'dport 8081 .*-j DNAT --to-destination 10\.0\.0\.2:80' \
	"portmap got the address through prevResult"
cnitool "$N2" add "$PLAIN" pod-b ctr-b
ok "libcni ADD on node-2 (0.4.0)"
ip netns exec "${NR_P}pod-a" ping -c 2 -i 0.2 -W 2 10.0.1.2 >/dev/null || nr_fail "pod-a cannot ping pod-b"
nr_ok "pod-a pings pod-b across the nodes"

cnitool "$N2" check "$PLAIN" pod-b ctr-b
ok "libcni CHECK with the cached result"
ip -n "${NR_P}pod-b" route del default
cnitool "$N2" check "$PLAIN" pod-b ctr-b
[ "$RC" != 0 ] && [ "$(jq -r .code <<<"$OUT")" = 102 ] || nr_fail "libcni CHECK missed the drift: $OUT"
nr_ok "libcni CHECK reports the deleted default route (code 102)"
ip -n "${NR_P}pod-b" route add default via 10.0.1.1 dev eth0

cnitool "$N1" add "$CHAIN" pod-a ctr-a "$caps"
[ "$RC" != 0 ] && [ "$(jq -r .code <<<"$OUT")" = 100 ] || nr_fail "second ADD through libcni: $OUT"
nr_ok "a second libcni ADD is refused (code 100)"
ip netns exec "${NR_P}pod-a" ping -c 1 -W 2 10.0.1.2 >/dev/null || nr_fail "the refused ADD broke pod-a"

cnitool "$N1" del "$CHAIN" pod-a ctr-a "$caps"
ok "libcni DEL of the chain (reverse order, cached prevResult)"
nr_expect_no_match "$(ip netns exec "$N1" iptables-save -t nat)" '10\.0\.0\.2' "portmap's rules gone"
[ "$(nrctl1 -o json endpoints)" = "[]" ] || nr_fail "endpoint left: $(nrctl1 -o json endpoints)"
ip -n "${NR_P}pod-a" link show eth0 >/dev/null 2>&1 && nr_fail "eth0 left in pod-a"
nr_ok "endpoint and interfaces gone"
cnitool "$N1" del "$CHAIN" pod-a ctr-a "$caps"
ok "libcni DEL again"
cnitool "$N2" del "$PLAIN" pod-b ctr-b
ok "libcni DEL on node-2"

cni_daemon_stop 1
cnitool "$N1" add "$CHAIN" pod-a ctr-c "$caps"
[ "$RC" != 0 ] && [ "$(jq -r .code <<<"$OUT")" = 11 ] || nr_fail "libcni ADD with the daemon down: $OUT"
nr_ok "libcni ADD with the daemon down: code 11"
ip -n "$N1" -o link | grep -q 'nr[0-9a-f]\{11\}@' && nr_fail "a veth was left on node-1"
nr_ok "nothing left behind"
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer' "$CNI_CACHE/stderr"; then
	cat "$CNI_CACHE/stderr"; nr_fail "sanitizer reports from the plugin"
fi
