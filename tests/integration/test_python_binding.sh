# bindings/python against a real daemon in a network namespace: the pytest
# suite of bindings/python/tests, run with Debian's /usr/bin/python3 (the
# python3 first on PATH may not see Debian's pytest), loading the release
# install of libnativeroute.so.1.
. "$(dirname "$0")/lib/common.sh"
PY=/usr/bin/python3
$PY -c 'import pytest' 2>/dev/null || nr_fail "python3-pytest is not installed for $PY"
. "$(dirname "$0")/lib/binding_daemon.sh"
cd "$NR_SOURCE_DIR/bindings/python"
# no stale bytecode in the source tree, no cache directory
PYTHONDONTWRITEBYTECODE=1 $PY -m pytest -p no:cacheprovider -q tests

echo "== examples/python/two_nodes.py"
out=$(PYTHONPATH="$NR_SOURCE_DIR/bindings/python" PYTHONDONTWRITEBYTECODE=1 \
	$PY "$NR_SOURCE_DIR/examples/python/two_nodes.py" --socket "$NR_TEST_SOCKET" --remove)
echo "$out"
nr_expect_match "$out" '^added example-a \(192\.168\.1\.201\) with pod CIDRs 10\.0\.' "example adds two nodes"
nr_expect_match "$out" '^10\.0\.[0-9]+\.0/24 +native +192\.168\.1\.202 +example-b +yes' "example prints their routes, programmed"
nr_expect_no_match "$("$NR_BIN_DIR/nrctl" --socket "$NR_TEST_SOCKET" nodes)" 'example-' "example removed its nodes"
