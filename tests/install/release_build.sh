#!/usr/bin/env bash
# Build the library the way a distribution would (no sanitizers) and install
# it into $NR_BUILD_DIR/release-prefix for the consumer and ABI tests.
set -euo pipefail
: "${NR_SOURCE_DIR:?}" "${NR_BUILD_DIR:?}"
build=$NR_BUILD_DIR/release-build
prefix=$NR_BUILD_DIR/release-prefix
rm -rf "$prefix"
cmake -S "$NR_SOURCE_DIR" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DNR_SANITIZE=OFF -DNR_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
cmake --install "$build" >/dev/null
echo "installed into $prefix:"
(cd "$prefix" && find . -type f -o -type l | sort)
