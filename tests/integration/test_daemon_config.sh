# nativerouted's configuration (flags and --config YAML), checked with
# --check-config: input that must be refused is refused with a message
# naming the file, line and key (issue 11, item 10), never truncated,
# ignored or crashing; Cilium's names map onto ours or are refused with a
# pointer to the equivalent (issue 12, item 7).
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrcfg.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
BASE=$'node-name: n\nnode-ip: 192.168.1.10\ncluster-cidr: [10.0.0.0/16]\n'

# refused FILE-CONTENT REGEX WHAT: --check-config exits 2 with a message
refused() {
	local out rc
	printf '%s' "$1" >"$TMP/c.yaml"
	set +e
	out=$(timeout 20 "$D" --config "$TMP/c.yaml" --check-config 2>&1)
	rc=$?
	set -e
	[ $rc = 2 ] || nr_fail "$3: exit $rc, expected 2 (usage error): $out"
	nr_expect_match "$out" "$2" "$3"
}
# accepted FILE-CONTENT REGEX WHAT: --check-config prints REGEX
accepted() {
	local out rc
	printf '%s' "$1" >"$TMP/c.yaml"
	set +e
	out=$(timeout 20 "$D" --config "$TMP/c.yaml" --check-config 2>&1)
	rc=$?
	set -e
	[ $rc = 0 ] || nr_fail "$3: refused (exit $rc): $out"
	nr_expect_match "$out" "$2" "$3"
}
flag_refused() {
	local out rc regex=$1 what=$2
	shift 2
	set +e
	out=$(timeout 20 "$D" --node-name n --node-ip 192.168.1.10 --cluster-cidr 10.0.0.0/16 \
		"$@" --check-config 2>&1)
	rc=$?
	set -e
	[ $rc = 2 ] || nr_fail "$what: exit $rc, expected 2: $out"
	nr_expect_match "$out" "$regex" "$what"
}

# ---- issue 11 item 10: input that must be refused -------------------------------
flag_refused 'mask size "0": expected 1\.\.32' "--mask-size 0 refused" --mask-size 0
flag_refused 'mask size "0": expected 1\.\.128' "--mask-size6 0 refused" --mask-size6 0
refused "${BASE}mask-size: 0"$'\n' 'c\.yaml:4: mask-size: mask size "0"' "mask-size: 0 in the file refused"

deep=$(printf 'a: %.0s{' $(seq 1 40))
refused "${BASE}${deep}"$'\n' 'nested deeper than 32 levels' "40 nested maps refused"
/usr/bin/python3 -c 'print("x: " + "{a: " * 30000 + "1" + "}" * 30000)' >"$TMP/bomb.yaml"
set +e
out=$(timeout 20 "$D" --config "$TMP/bomb.yaml" --check-config 2>&1); rc=$?
set -e
[ $rc = 2 ] || nr_fail "30,000 nested flow maps: exit $rc (crash?): ${out:0:300}"
nr_expect_match "$out" 'nested deeper than 32 levels' "30,000 nested flow maps refused, no crash"

long=$(printf 'n%.0s' $(seq 1 300))
refused $'node-name: '"$long"$'\nnode-ip: 192.168.1.10\n' 'c\.yaml:1: node-name: value longer than 255 bytes' \
	"a 300-byte value is refused, not truncated"
refused "${BASE}mode: [native, tunnel]"$'\n' 'c\.yaml:4: mode takes one value, not a list' \
	"a list where a scalar is expected is refused"
refused "${BASE}node-ip6: [fd00::1]"$'\n' 'node-ip6 takes one value, not a list' \
	"a one-item list for a scalar is refused"
refused "${BASE}"$'---\nmode: tunnel\n' 'c\.yaml:[45]: a second YAML document' "a second document is refused"
accepted $'---\n'"${BASE}"$'...\n' '^node-name: n' "one document with explicit markers is fine"
printf 'node-name: n\nnode-ip: 192.168.1.10\nmode: \xff\xfe\n' >"$TMP/utf.yaml"
set +e
out=$(timeout 20 "$D" --config "$TMP/utf.yaml" --check-config 2>&1); rc=$?
set -e
[ $rc = 2 ] || nr_fail "invalid UTF-8 accepted (exit $rc)"
if printf '%s' "$out" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1; then
	nr_ok "invalid UTF-8 in the file: refused, message is valid UTF-8 ($out)"
else
	nr_fail "the error message echoes invalid UTF-8: $out"
fi
set +e
out=$(timeout 20 "$D" --node-name n --node-ip 192.168.1.10 --mode $'\xff\x1b[31m' --check-config 2>&1)
set -e
nr_expect_match "$out" 'mode "\\xff\\x1b\[31m"' "flag values are quoted escaped, not echoed raw"

# ---- one list of options: --help, flags and file keys agree (issue 9 item 5) -----
opts=$("$D" --help | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p')
[ "$(wc -l <<<"$opts")" -ge 25 ] || nr_fail "--help lists only: $opts"
for opt in $opts; do
	case $opt in config|check-config|purge|help|version) continue ;; esac
	printf '%s%s: "1"\n' "$BASE" "$opt" >"$TMP/k.yaml"
	out=$(timeout 20 "$D" --config "$TMP/k.yaml" --check-config 2>&1 || true)
	nr_expect_no_match "$out" 'unknown key' "--$opt of --help is a file key" >/dev/null
	out=$(timeout 20 "$D" --node-name n --node-ip 192.168.1.10 --cluster-cidr 10.0.0.0/16 \
		"--$opt=1" --check-config 2>&1 || true)
	nr_expect_no_match "$out" 'unrecognized option|Try' "--$opt of --help is a flag" >/dev/null
done
nr_ok "every option of --help ($(wc -l <<<"$opts")) is a flag and a file key"

# ---- issue 12 item 7: the Cilium names people bring -----------------------------------
accepted $'node-name: n\nnode-ip: 192.168.1.10\ncluster-pool-ipv4-cidr: 10.0.0.0/16\nrouting-mode: tunnel\ntunnel-protocol: vxlan\ntunnel-port: 4789\nmtu: 9000\nenable-endpoint-routes: true\n' \
	'^vxlan-port: 4789' \
	"routing-mode, tunnel-protocol, tunnel-port, mtu, enable-endpoint-routes: true map onto ours"
out=$(timeout 20 "$D" --config "$TMP/c.yaml" --check-config | tr '\n' ' ')
nr_expect_match "$out" 'mode: tunnel .*tunnel-protocol: vxlan vxlan-port: 4789 mtu: 9000' "mapped values printed"
refused $'node-name: n\nnode-ip: 192.168.1.10\ncluster-cidr: [10.0.0.0/16]\ntunnel-protocol: geneve\n' \
	'tunnel-protocol: tunnel protocol "geneve": only vxlan is supported' "tunnel-protocol: geneve refused"
accepted $'node-name: n\nnode-ip: 192.168.1.10\nnode-ip6: fd00:1::10\nenable-ipv6: true\ncluster-pool-ipv4-cidr: 10.0.0.0/16\ncluster-pool-ipv6-cidr: fd00:10::/104\ncluster-pool-ipv6-mask-size: 120\nipv6-native-routing-cidr: fd00:10::/104\n' \
	'mask-size6: 120' "enable-ipv6, cluster-pool-ipv6-cidr, cluster-pool-ipv6-mask-size map onto ours"
nr_expect_match "$(timeout 20 "$D" --config "$TMP/c.yaml" --check-config)" '  - fd00:10::/104' "IPv6 cluster CIDR and native-routing CIDR taken"
refused $'node-name: n\nnode-ip: 192.168.1.10\ncluster-cidr: [10.0.0.0/16]\nenable-ipv6: true\n' \
	'enable-ipv6: true needs an IPv6 node address \(node-ip6\)' "enable-ipv6: true without an IPv6 node address refused"
refused $'node-name: n\nnode-ip: 192.168.1.10\nipv6:\n  enabled: false\ncluster-cidr: [10.0.0.0/16]\ncluster-pool-ipv6-cidr: fd00:10::/104\n' \
	'"cluster-pool-ipv6-cidr: fd00:10::/104" contradicts "ipv6.enabled: false"' "ipv6.enabled: false contradicts IPv6 settings"
accepted $'node-name: n\nnode-ip: 192.168.1.10\nipam:\n  mode: cluster-pool\n  operator:\n    clusterPoolIPv4PodCIDRList: [10.44.0.0/16]\n' \
	'  - 10\.44\.0\.0/16' "ipam.operator.clusterPoolIPv4PodCIDRList maps onto cluster-cidr"
refused "${BASE}enable-endpoint-routes: false"$'\n' 'always routes each local pod by its own route' \
	"enable-endpoint-routes: false refused with the reason"
refused "${BASE}devices: [eth0]"$'\n' 'devices: not needed here: .*set node-ip' "devices refused with a pointer"
refused "${BASE}direct-routing-device: eth0"$'\n' 'direct-routing-device: not needed here' \
	"direct-routing-device refused with a pointer"
if grep -q -- '--enable-ipv4-masquerade' <<<"$("$D" --help)"; then
	accepted "${BASE}enable-ipv4-masquerade: false"$'\n' 'enable-ipv4-masquerade: false' \
		"enable-ipv4-masquerade maps onto ours (masquerading built in)"
else
	refused "${BASE}enable-ipv4-masquerade: true"$'\n' 'enable-ipv4-masquerade: this nativerouted does not masquerade' \
		"enable-ipv4-masquerade refused: no masquerading here"
	refused "${BASE}enable-ipv6-masquerade: false"$'\n' 'does not masquerade' "enable-ipv6-masquerade refused too"
fi

# ---- the mapped values reach the kernel: tunnel-port and mtu ---------------------------
nr_topo_up "$NR_P"
NS1="${NR_P}node-1"
printf 'node-name: node-1\nnode-ip: 192.168.1.10\ncluster-pool-ipv4-cidr: 10.0.0.0/16\nrouting-mode: tunnel\ntunnel-port: 4789\nmtu: 1400\n' >"$TMP/t.yaml"
"$D" --config "$TMP/t.yaml" --socket "$TMP/t.sock" --state-dir "$TMP/t" --netns "$NS1" >"$TMP/t.log" 2>&1 &
NR_PIDS+=("$!")
nr_wait_for 10 "$NR_BIN_DIR/nrctl" --socket "$TMP/t.sock" status || { cat "$TMP/t.log"; nr_fail "tunnel daemon did not come up"; }
"$NR_BIN_DIR/nrctl" --socket "$TMP/t.sock" node add node-2 --ip 192.168.1.11 >/dev/null
nr_wait_for 5 ip -n "$NS1" link show nr_vxlan || nr_fail "no nr_vxlan device"
link=$(ip -n "$NS1" -d link show nr_vxlan)
nr_expect_match "$link" 'mtu 1350 ' "mtu: 1400 -> nr_vxlan MTU 1350"
nr_expect_match "$link" 'dstport 4789' "tunnel-port: 4789 -> nr_vxlan UDP port 4789"
echo PASS
