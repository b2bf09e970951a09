#!/usr/bin/env bash
# Configure and build the libFuzzer targets that need the whole library
# (tests/fuzz/targets) in their own clang build: the library objects get
# fuzzer coverage instrumentation there, which the gcc sanitizer build of
# the suite cannot have. Skipped (77) without clang or libFuzzer.
set -euo pipefail
: "${NR_SOURCE_DIR:?}" "${NR_BUILD_DIR:?}"
clang=$(command -v clang || command -v clang-14 || true)
if [ -z "$clang" ]; then
	echo "SKIP: clang not found (fuzz targets not built)"
	exit 77
fi
if ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
	"$clang" -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
	echo "SKIP: clang has no libFuzzer runtime (libclang-rt-dev)"
	exit 77
fi
build=$NR_BUILD_DIR/fuzz-build
CC="$clang" cmake -S "$NR_SOURCE_DIR" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DNR_FUZZ=ON \
	-DNR_SANITIZE=OFF -DNR_WERROR=OFF -DNR_WITH_BPF=OFF -DNR_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_rpc_methods fuzz_state_decode fuzz_config \
	>"$build.log" 2>&1 || { tail -30 "$build.log"; exit 1; }
ls "$build"/tests/fuzz/targets/fuzz_*
