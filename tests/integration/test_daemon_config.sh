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
echo PASS
