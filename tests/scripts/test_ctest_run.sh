#!/usr/bin/env bash
# scripts/lib/ctest_run.sh, as scripts/test uses it, on a scratch CMake
# project with three tests: one passes, one always fails, one fails only on
# its first run. Checks what a CI log ends with and the exit status:
#  - a summary naming each failed test with its FAIL: line and last lines;
#  - retry: the flaky one is reported "FLAKY (passed on retry)", status 0
#    when it is the only failure, 1 while the broken one fails again;
#  - NR_TEST_NO_RETRY=1: no re-run, status 1.
set -euo pipefail
: "${NR_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
unset NR_TEST_NO_RETRY NR_TEST_TAIL # the caller's (scripts/test's) settings are not ours
. "$NR_SOURCE_DIR/scripts/lib/ctest_run.sh"
command -v cmake >/dev/null || { echo "SKIP: no cmake"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
expect() { # TEXT REGEX WHAT
	grep -Eq -- "$2" <<<"$1" || { echo "--- got:"; echo "$1"; echo "---"; fail "$3 (expected /$2/)"; }
	ok "$3"
}
expect_not() {
	! grep -Eq -- "$2" <<<"$1" || { echo "--- got:"; echo "$1"; echo "---"; fail "$3 (unexpected /$2/)"; }
	ok "$3"
}

# project(NAME TESTS...): each test is a shell snippet
project() {
	local dir=$T/$1
	mkdir -p "$dir"
	shift
	{
		echo "cmake_minimum_required(VERSION 3.13)"
		echo "project(p NONE)"
		echo "enable_testing()"
		for t in "$@"; do echo "add_test(NAME ${t%%=*} COMMAND sh -c \"${t#*=}\")"; done
	} >"$dir/CMakeLists.txt"
	cmake -S "$dir" -B "$dir/build" >/dev/null
}
noise='i=0; while [ \$i -lt 40 ]; do echo noise \$i; i=\$((i+1)); done'
good="good=echo fine"
broken="broken=$noise; echo 'FAIL: the broken test broke'; echo its last words; exit 1"
flaky="flaky=if [ -e $T/flaky.ran ]; then echo second run; else touch $T/flaky.ran; echo 'FAIL: flaky first run'; exit 1; fi"

echo "== a broken and a flaky test: the summary ends the log, the retry fails"
project a "$good" "$broken" "$flaky"
rc=0; out=$(nr_ctest_run "$T/a/build" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "status $rc, expected 1"
ok "status 1: broken still fails on retry"
summary=$(sed -n '/^FAILED tests:/,$p' <<<"$out")
expect "$summary" "^FAILED tests: broken flaky$" "the summary names both failed tests"
expect "$summary" "^---- broken: Failed after [0-9.]+ s$" "a block for broken, with why and how long"
expect "$summary" "^FAIL: the broken test broke$" "with its FAIL: line"
expect "$summary" "^  \| its last words$" "and its last lines"
expect_not "$summary" "\| noise 2[0-4]$" "only the last $NR_TEST_TAIL lines"
expect "$summary" "^FAIL: flaky first run$" "the flaky test's FAIL: line"
expect "$out" "re-running only the failed tests, once: broken flaky" "the failed tests are re-run"
expect "$(tail -n 25 <<<"$out")" "^FAILED again on retry: broken$" "the log ends with what failed again"
expect_not "$out" "FLAKY" "no FLAKY block while a test fails on retry"

echo "== only a flaky test: FLAKY block, status 0"
rm -f "$T/flaky.ran"
project b "$good" "$flaky"
rc=0; out=$(nr_ctest_run "$T/b/build" 2>&1) || rc=$?
[ "$rc" -eq 0 ] || { echo "$out"; fail "status $rc, expected 0"; }
ok "status 0"
expect "$(tail -n 8 <<<"$out")" "FLAKY \(passed on retry\): flaky$" "loud FLAKY block at the end, naming it"

echo "== NR_TEST_NO_RETRY=1"
rm -f "$T/flaky.ran"
rc=0; out=$(NR_TEST_NO_RETRY=1 nr_ctest_run "$T/b/build" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "status $rc, expected 1"
expect_not "$out" "re-running only|FLAKY" "no re-run"
expect "$out" "^FAIL: flaky first run$" "the summary is still printed"

echo "== an integration test's kernel-state dump stays out of the summary's last lines"
dumped="dumped=echo before; echo 'FAIL: it broke'; echo '---- kernel state of the namespaces nrt1-* at the failure'; echo '-- nrt1-node-1'; echo 'route-line-of-the-dump'; echo '----'; echo 'FAIL: it broke'; exit 1"
project d "$dumped"
rc=0; out=$(NR_TEST_NO_RETRY=1 nr_ctest_run "$T/d/build" 2>&1) || rc=$?
summary=$(sed -n '/^FAILED tests:/,$p' <<<"$out")
expect "$summary" "^FAIL: it broke$" "its FAIL: line"
[ "$(grep -c '^FAIL: it broke$' <<<"$summary")" -eq 1 ] || fail "the repeated FAIL: line is listed twice"
ok "the FAIL: line repeated after the dump is listed once"
expect_not "$summary" "route-line-of-the-dump" "the dump is not in the last lines"
expect "$summary" "kernel state of its namespaces at the failure is in the full log" "the summary says where it is"
expect "$summary" "^  \| before$" "the test's own last lines are"

echo "== all pass: no summary"
project c "$good"
out=$(nr_ctest_run "$T/c/build" 2>&1) || fail "status $?, expected 0"
expect_not "$out" "FAILED|FLAKY|re-running" "nothing but ctest's own report"
echo PASS
