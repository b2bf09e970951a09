#!/usr/bin/env bash
# ABI discipline (see ABI.md), on the release build installed by the
# install/release_build fixture:
#  (a) the exported symbols are exactly the globals of the version script,
#      each bound to its version node;
#  (b) abidiff against the committed baseline abi/libnativeroute.abi finds no
#      change (refresh on purpose with scripts/update-abi);
#  (c) every installed public header compiles alone as C99 -pedantic and as C++;
#  (d) the rules of the frozen records abi/nodes/NR_1.* hold (no symbol added
#      to a frozen node, no library-filled struct grown without a minor bump,
#      opts structs only appended to, enum values kept): scripts/lib/abi_rules.py.
set -euo pipefail
: "${NR_SOURCE_DIR:?}" "${NR_BUILD_DIR:?}"
prefix=$NR_BUILD_DIR/release-prefix
lib=$(find "$prefix" -name 'libnativeroute.so.1' | head -n1)
map=$NR_SOURCE_DIR/libnativeroute/libnativeroute.map
baseline=$NR_SOURCE_DIR/abi/libnativeroute.abi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

echo "== (a) exported symbols vs $map"
# Map file: "NODE {" starts a node; names ending in ';' inside global: belong to it.
awk '
	/^[[:space:]]*NR_[0-9_.]+[[:space:]]*\{/ { node=$1; sub(/\{.*/, "", node); inglobal=0; next }
	/global:/ { inglobal=1; next }
	/local:/ { inglobal=0; next }
	inglobal && /^[[:space:]]*[a-z_][a-z0-9_]*;/ { s=$1; sub(/;.*/, "", s); print s "@" node }
' "$map" | sort >"$work/expected"
# Dynamic symbols defined by the library, with their version (sym@@NODE).
readelf --dyn-syms -W "$lib" | awk '$7 != "UND" && $5 == "GLOBAL" && $8 ~ /@/ { print $8 }' |
	sed 's/@@*/@/' | grep -v '^NR_[0-9_.]*@NR_' | sort >"$work/actual"
if ! diff -u "$work/expected" "$work/actual"; then
	echo "FAIL: exported symbols differ from the version script (- expected, + exported)"
	fail=1
else
	echo "ok: $(wc -l <"$work/expected") symbols, all versioned as the map says"
fi
unversioned=$(readelf --dyn-syms -W "$lib" | awk '$7 != "UND" && $7 != "ABS" && $5 == "GLOBAL" && $6 == "DEFAULT" && $8 !~ /@/ { print $8 }')
if [ -n "$unversioned" ]; then
	echo "FAIL: exported without a version node: $unversioned"
	fail=1
fi

echo "== (b) abidiff against $baseline"
abidw --no-corpus-path --headers-dir "$prefix/include/nativeroute" "$lib" >"$work/current.abi"
if [ ! -f "$baseline" ]; then
	echo "FAIL: no baseline; create it on purpose with scripts/update-abi"
	fail=1
else
	set +e
	abidiff --headers-dir2 "$prefix/include/nativeroute" "$baseline" "$work/current.abi" >"$work/abidiff.txt"
	rc=$?
	set -e
	cat "$work/abidiff.txt"
	# abidiff exit bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
	if [ $rc -ne 0 ]; then
		echo "FAIL: abidiff exit $rc; if the change is intended and allowed by ABI.md, run scripts/update-abi"
		fail=1
	else
		echo "ok: no ABI change against the baseline"
	fi
fi

echo "== (c) every installed public header alone, C99 -pedantic and C++"
incdir=$(dirname "$(find "$prefix" -path '*/include/nativeroute/nativeroute.h' | head -n1)")
for h in "$incdir"/*.h; do
	name=$(basename "$h")
	printf '#include <nativeroute/%s>\nint nr_header_check_%s;\n' "$name" "${name%.h}" >"$work/c.c"
	printf '#include <nativeroute/%s>\nint nr_header_check;\n' "$name" >"$work/cxx.cc"
	# uv.h (included by the API headers) needs POSIX types, which strict
	# C99 hides unless a POSIX level is requested, as any C99 user of libuv does
	if ! cc -std=c99 -D_POSIX_C_SOURCE=200809L -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$incdir/.." \
		$(pkg-config --cflags libuv) "$work/c.c"; then
		echo "FAIL: $name does not compile alone as C99"
		fail=1
	fi
	if ! c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$incdir/.." \
		$(pkg-config --cflags libuv) -x c++ "$work/cxx.cc"; then
		echo "FAIL: $name does not compile alone as C++"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "ok: $(ls "$incdir"/*.h | wc -l) headers"

echo "== (d) the frozen records in abi/nodes (ABI.md, The check)"
version=$(awk '/#define NR_VERSION_(MAJOR|MINOR|PATCH) / { v = v (v == "" ? "" : ".") $3 } END { print v }' \
	"$incdir/version.h")
/usr/bin/python3 "$NR_SOURCE_DIR/scripts/lib/abi_rules.py" extract "$work/current.abi" "$incdir" \
	"$version" >"$work/current.record"
if ! /usr/bin/python3 "$NR_SOURCE_DIR/scripts/lib/abi_rules.py" check "$NR_SOURCE_DIR/abi/nodes" \
	"$work/current.record"; then
	echo "FAIL: see ABI.md; a deliberate, allowed change is recorded with scripts/update-abi"
	fail=1
fi
exit $fail
