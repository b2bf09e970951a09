#!/usr/bin/env bash
# The ABI check catches what ABI.md forbids: starting from the real record of
# this build (release install of the install/release_build fixture), each case
# makes one change to it and runs the same rules as abi/check and
# scripts/update-abi (scripts/lib/abi_rules.py). Forbidden changes must be
# refused by both, allowed ones accepted.
set -euo pipefail
: "${NR_SOURCE_DIR:?}" "${NR_BUILD_DIR:?}"
prefix=$NR_BUILD_DIR/release-prefix
rules=(/usr/bin/python3 "$NR_SOURCE_DIR/scripts/lib/abi_rules.py")
lib=$(find "$prefix" -name 'libnativeroute.so.1' | head -n1)
inc=$(dirname "$(find "$prefix" -path '*/include/nativeroute/nativeroute.h' | head -n1)")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

abidw --no-corpus-path --headers-dir "$inc" "$lib" >"$work/current.abi"
version=$(awk '/#define NR_VERSION_(MAJOR|MINOR|PATCH) / { v = v (v == "" ? "" : ".") $3 } END { print v }' \
	"$inc/version.h")
"${rules[@]}" extract "$work/current.abi" "$inc" "$version" >"$work/base"
major=${version%%.*}
minor=$(cut -d. -f2 <<<"$version")
node="NR_$major.$minor"
next="NR_$major.$((minor + 1))"
bumped="$major.$((minor + 1)).0"

# A records directory as committed: the frozen records up to this version.
fresh_records() {
	rm -rf "$work/nodes"
	cp -r "$NR_SOURCE_DIR/abi/nodes" "$work/nodes"
}

# case NAME EXPECT(pass|fail) SED-SCRIPT: the current record edited by the
# script; check and update must both give EXPECT (update may then write the
# record of a bumped version, which a second check must accept).
case_() {
	local name=$1 expect=$2 script=$3 got_check got_update
	fresh_records
	sed -e "$script" "$work/base" >"$work/cur"
	cmp -s "$work/base" "$work/cur" && [ -n "$script" ] && {
		echo "FAIL: $name: the edit changed nothing"; fail=1; return; }
	if "${rules[@]}" check "$work/nodes" "$work/cur" >"$work/out" 2>&1; then got_check=pass; else got_check=fail; fi
	if [ "$expect" = fail ]; then
		if "${rules[@]}" update "$work/nodes" "$work/cur" >>"$work/out" 2>&1; then got_update=pass; else got_update=fail; fi
		[ "$got_update" = fail ] && [ -z "$(diff -r "$NR_SOURCE_DIR/abi/nodes" "$work/nodes")" ] ||
			got_update="pass-or-wrote"
	else
		got_update=$got_check
	fi
	if [ "$got_check" = "$expect" ] && [ "$got_update" = "$expect" ]; then
		echo "ok: $name: $expect ($(grep -m1 'rule broken' "$work/out" | cut -c1-150 || echo accepted))"
	else
		echo "FAIL: $name: expected $expect, check gave $got_check, update gave $got_update"
		cat "$work/out"
		fail=1
	fi
}

# bumped_case NAME EXPECT SED-SCRIPT: the same change with the version bumped
# to the next minor; update writes the new record, then check must agree.
bumped_case() {
	local name=$1 expect=$2 script=$3 got
	fresh_records
	sed -e "$script" -e "s/^version .*/version $bumped/" "$work/base" >"$work/cur"
	if ! "${rules[@]}" check "$work/nodes" "$work/cur" >"$work/out" 2>&1 &&
		grep -q "R1: version $bumped has no record" "$work/out"; then
		: # a bump without its record is refused by the check
	else
		echo "FAIL: $name: a bump to $bumped without its record passed the check"; fail=1
	fi
	if "${rules[@]}" update "$work/nodes" "$work/cur" >"$work/out" 2>&1 &&
		[ -f "$work/nodes/$next" ] && "${rules[@]}" check "$work/nodes" "$work/cur" >>"$work/out" 2>&1; then
		got=pass
	else
		got=fail
	fi
	if [ "$got" = "$expect" ]; then
		echo "ok: $name: $expect with the bump to $bumped ($(grep -m1 'rule broken' "$work/out" | cut -c1-120 || echo "$next recorded"))"
	else
		echo "FAIL: $name: expected $expect with the bump, got $got"; cat "$work/out"; fail=1
	fi
}

sym_new="symbol nr_brand_new_call"
grow_info='/^struct nr_node_info /s/fixed \([0-9]*\) \(.*\)$/fixed 576 \2 extra@512/'
# appending means: a member at the old size, the size one word larger (sizes
# read from the record, so appended fields elsewhere do not break the case)
bits_of() { sed -n "s/^struct $1 extensible \([0-9]*\) .*/\1/p" "$work/base"; }
opts_bits=$(bits_of nr_ctl_opts) status_bits=$(bits_of nr_status)
grow_opts="/^struct nr_ctl_opts /s/extensible \([0-9]*\) \(.*\)\$/extensible $((opts_bits + 64)) \2 new_field@$opts_bits/"

case_ "the record of this very build" pass ""
case_ "a symbol added to the frozen node $node" fail "\$a $sym_new $node"
case_ "a symbol in a new node $next without the bump" fail "\$a $sym_new $next"
case_ "a symbol removed from $node" fail "/^symbol nr_ctl_status /d"
case_ "a symbol moved from $node to $next" fail "s/^symbol nr_ctl_status .*/symbol nr_ctl_status $next/"
case_ "a library-filled struct (nr_node_info) grown without the bump" fail "$grow_info"
case_ "an opts struct (nr_ctl_opts) grown by appending" pass "$grow_opts"
case_ "an opts struct with a field inserted in the middle" fail \
	'/^struct nr_ctl_opts /s/node_name@128 node_ipv4@192/node_name@128 wedge@192 node_ipv4@256/'
case_ "nr_status (caller-sized) grown by appending" pass \
	"/^struct nr_status /s/extensible \([0-9]*\) \(.*\)\$/extensible $((status_bits + 64)) \2 more@$status_bits/"
case_ "an enum value changed" fail 's/NR_MODE_HYBRID=3/NR_MODE_HYBRID=4/'
case_ "an enum value added" pass 's/NR_MODE_HYBRID=3/NR_MODE_HYBRID=3 NR_MODE_OTHER=4/'
bumped_case "a symbol in the new node $next" pass "\$a $sym_new $next"
bumped_case "nr_node_info grown" pass "$grow_info"
bumped_case "a symbol added to the old node $node" fail "\$a $sym_new $node"
bumped_case "a struct member removed" fail '/^struct nr_node_info /s/ local@448//'
exit $fail
