#!/usr/bin/env bash
# An outside program builds against the INSTALLED library twice - once with
# pkg-config, once with find_package(NativeRoute) - and both binaries run.
set -euo pipefail
: "${NR_SOURCE_DIR:?}" "${NR_BUILD_DIR:?}"
prefix=$NR_BUILD_DIR/release-prefix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libdir=$(dirname "$(find "$prefix" -name 'libnativeroute.so.1' | head -n1)")
test -n "$libdir" || { echo "FAIL: libnativeroute.so.1 not installed under $prefix"; exit 1; }
export PKG_CONFIG_PATH=$libdir/pkgconfig
export LD_LIBRARY_PATH=$libdir

echo "== pkg-config: $(pkg-config --cflags --libs nativeroute)"
make -s -C "$NR_SOURCE_DIR/examples/version" O="$work/pc" \
     CFLAGS="$(pkg-config --cflags nativeroute)" LDLIBS="$(pkg-config --libs nativeroute)"
out_pc=$("$work/pc/nr-version")
echo "pkg-config binary printed: $out_pc"

echo "== CMake find_package(NativeRoute)"
cmake -S "$NR_SOURCE_DIR/examples/version" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cm" >/dev/null
out_cm=$("$work/cm/nr-version")
echo "cmake binary printed: $out_cm"

readelf -d "$work/pc/nr-version" | grep -q 'libnativeroute.so.1' ||
	{ echo "FAIL: pkg-config binary does not link libnativeroute.so.1"; exit 1; }
readelf -d "$work/cm/nr-version" | grep -q 'libnativeroute.so.1' ||
	{ echo "FAIL: cmake binary does not link libnativeroute.so.1"; exit 1; }
want=$(sed -n 's/^Version: //p' "$libdir/pkgconfig/nativeroute.pc")
for out in "$out_pc" "$out_cm"; do
	case $out in
	*"library $want"*) ;;
	*) echo "FAIL: expected 'library $want' in: $out"; exit 1 ;;
	esac
done
echo "PASS: both consumers built and ran against $want"
