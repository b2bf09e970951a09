# Sourced by every integration test: root check (exit 77 = skipped), a
# unique namespace prefix, cleanup that runs even when the test fails, and
# small assertion helpers that print what they compared.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: $(basename "$0") needs root (network namespaces); run as root to include it"
	exit 77
fi
for tool in ip tcpdump; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed"; exit 1; }
done

: "${NR_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
. "$NR_SOURCE_DIR/scripts/lib/topology.sh"

# Short, unique per run: namespace names must stay readable, interface names
# are kept inside the namespaces so they need no prefix.
NR_P=${NR_P:-"nrt$$-"}
NR_PIDS=()
nr_cleanup_hooks=()

nr_cleanup() {
	local rc=$? h pid
	for h in "${nr_cleanup_hooks[@]:-}"; do [ -n "$h" ] && eval "$h" || true; done
	for pid in "${NR_PIDS[@]:-}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
	nr_topo_down "$NR_P"
	exit $rc
}
trap nr_cleanup EXIT
trap 'exit 130' INT TERM

nr_fail() { echo "FAIL: $*"; exit 1; }
nr_ok() { echo "ok: $*"; }

# nr_expect_match TEXT REGEX WHAT
nr_expect_match() {
	if ! grep -Eq -- "$2" <<<"$1"; then
		echo "--- got:"; echo "$1"; echo "---"
		nr_fail "$3 (expected /$2/)"
	fi
	nr_ok "$3"
}
# nr_expect_no_match TEXT REGEX WHAT
nr_expect_no_match() {
	if grep -Eq -- "$2" <<<"$1"; then
		echo "--- got:"; echo "$1"; echo "---"
		nr_fail "$3 (unexpected /$2/)"
	fi
	nr_ok "$3"
}

# nr_wait_for SECONDS COMMAND...: poll every 10 ms until COMMAND succeeds.
nr_wait_for() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.01
	done
}
