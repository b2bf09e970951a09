# Sourced by scripts/test: run ctest so that a CI log explains a failure in
# its last lines, and tell a flaky test from a broken one.
#
#   nr_ctest_run BUILD [CTEST-ARGS...]
#     1. runs every test (ctest --output-on-failure);
#     2. when some failed: prints, last, a summary of each failed test - its
#        name, its "FAIL:" lines and the last lines of its output, taken from
#        BUILD/Testing/Temporary/LastTest.log - because a CI report that
#        keeps only part of a long log otherwise loses the reason;
#     3. re-runs only the failed tests, once (ctest --rerun-failed). Passing
#        then: a loud "FLAKY (passed on retry)" block and status 0 - the
#        flake still has to be fixed, but it does not hide every other
#        result. Failing again: their summary once more and status 1.
#        NR_TEST_NO_RETRY=1 skips the re-run (status 1 on any failure).
#   NR_TEST_TAIL=N  lines of output per failed test in the summary (15)
: "${NR_TEST_TAIL:=15}"

# nr_ctest_failed BUILD: the names of the tests the last ctest run failed
nr_ctest_failed() {
	local f=$1/Testing/Temporary/LastTestsFailed.log
	[ -f "$f" ] && sed -n 's/^[0-9]*://p' "$f"
	return 0
}

# nr_ctest_output BUILD NAME: the test's output in the last run's log
nr_ctest_output() {
	awk -v name="$2" '
		$0 ~ /^[0-9]+\/[0-9]+ Test: / { sub(/^[0-9]+\/[0-9]+ Test: /, ""); cur = $0; next }
		!on && cur == name && /^Output:$/ { getline; on = 1; next }  # the dashes after it
		on && /^<end of output>$/ { on = 0; cur = ""; next }
		on { print }
	' "$1/Testing/Temporary/LastTest.log" 2>/dev/null || true
}

# nr_ctest_why BUILD NAME: "Failed", "Timeout", "SEGFAULT"..., and its time
nr_ctest_why() {
	local why secs
	why=$(grep -F -- " - $2 (" "$1/Testing/Temporary/nr_ctest_stdout.log" 2>/dev/null |
		sed -n 's/.* (\(.*\))$/\1/p' | tail -n 1 || true)
	secs=$(awk -v name="$2" '
		$0 ~ /^[0-9]+\/[0-9]+ Test: / { sub(/^[0-9]+\/[0-9]+ Test: /, ""); cur = $0 }
		cur == name && /^Test time = / { t = $4 }
		END { if (t != "") print t }
	' "$1/Testing/Temporary/LastTest.log" 2>/dev/null || true)
	echo "${why:-failed}${secs:+ after $secs s}"
}

# nr_ctest_summary BUILD TITLE: one compact block per failed test
nr_ctest_summary() {
	local build=$1 title=$2 name out fails dumped
	echo
	echo "======================================================================"
	echo "$title"
	echo "======================================================================"
	while IFS= read -r name; do
		[ -n "$name" ] || continue
		out=$(nr_ctest_output "$build" "$name")
		echo "---- $name: $(nr_ctest_why "$build" "$name")"
		fails=$(grep -E '^(FAIL|ERROR|==[0-9]+==ERROR)|runtime error:|\*\*\*Timeout' <<<"$out" |
			awk '!seen[$0]++' | head -n 20 || true)
		# the kernel state an integration test prints at its failure
		# (tests/integration/lib/common.sh) is for the full log: the last
		# lines here are the test's own
		dumped=0
		if grep -q '^---- kernel state of the namespaces ' <<<"$out"; then
			out=$(awk '/^---- kernel state of the namespaces /{ skip = 1; next }
				   skip && /^----$/ { skip = 0; next } !skip' <<<"$out")
			dumped=1
		fi
		if [ -n "$fails" ]; then
			echo "$fails"
		else
			echo "(no FAIL: line: it exited non-zero, crashed or timed out; see its last lines)"
		fi
		[ "$dumped" = 0 ] || echo "(the kernel state of its namespaces at the failure is in the full log)"
		echo "  last $NR_TEST_TAIL lines of its output:"
		if [ -n "$out" ]; then
			tail -n "$NR_TEST_TAIL" <<<"$out" | sed 's/^/  | /'
		else
			echo "  (none)"
		fi
	done < <(nr_ctest_failed "$build")
	echo "======================================================================"
}

# ctest, its output also kept for nr_ctest_why (the reason of each failure
# is only in ctest's closing list, not in LastTest.log)
nr_ctest() {
	local - build=$1 rc=0
	shift
	set -o pipefail # ctest's status, not tee's
	mkdir -p "$build/Testing/Temporary"
	ctest --test-dir "$build" --output-on-failure --timeout 900 "$@" |
		tee "$build/Testing/Temporary/nr_ctest_stdout.log" || rc=$?
	return "$rc"
}

nr_ctest_run() {
	local build=$1 failed first
	shift
	if nr_ctest "$build" "$@"; then
		return 0
	fi
	failed=$(nr_ctest_failed "$build")
	if [ -z "$failed" ]; then
		echo "ctest failed without a failed test (configuration error, no tests?)"
		return 1
	fi
	first=$(paste -sd' ' <<<"$failed")
	nr_ctest_summary "$build" "FAILED tests: $first"
	if [ "${NR_TEST_NO_RETRY:-0}" = 1 ]; then
		echo "NR_TEST_NO_RETRY=1: not re-running them"
		return 1
	fi
	echo
	echo "== re-running only the failed tests, once: $first"
	if nr_ctest "$build" --rerun-failed "$@"; then
		cat <<EOF

######################################################################
#  FLAKY (passed on retry): $first
#  These failed once and passed when re-run alone: a timing-dependent
#  test or a race. The run counts as passed; fix them (their first
#  failure is summarised above).
######################################################################
EOF
		return 0
	fi
	nr_ctest_summary "$build" "FAILED again on retry: $(nr_ctest_failed "$build" | paste -sd' ')"
	return 1
}
