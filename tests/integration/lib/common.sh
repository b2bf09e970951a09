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

# A test that dies of `set -e` (a helper returning 1, a command failing
# outside an assertion) used to end without a word: the last failing
# command is remembered (errtrace: in functions too) and printed at exit.
set -E
NR_LAST_ERR=
NR_FAILED=0
NR_FAIL_MSG=
trap 'NR_LAST_ERR="status $? of \`$BASH_COMMAND\` at ${BASH_SOURCE[0]##*/}:$LINENO${FUNCNAME[0]:+ in ${FUNCNAME[0]}}"' ERR

# On failure: the kernel state of the test's namespaces, as it was (links,
# routes, nexthops, VXLAN FDB), then the FAIL line once more, so that the
# last lines of a CI log (scripts/test's summary) hold both.
nr_dump_state() {
	local ns
	echo "---- kernel state of the namespaces $NR_P* at the failure"
	for ns in $(nr_topo_ns_list "$NR_P"); do
		echo "-- $ns"
		{
			ip -n "$ns" -br link 2>&1 | grep -v '^lo ' || true
			ip -n "$ns" route show 2>&1 || true
			ip -n "$ns" nexthop show 2>/dev/null || true
			bridge -n "$ns" fdb show dev nr_vxlan 2>/dev/null | grep dst || true
		} | awk 'NR <= 40; NR == 41 { print "  (more left out)" }'
	done
	echo "----"
}

nr_cleanup() {
	local rc=$? h pid
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		if [ -n "${NR_SIGNAL:-}" ]; then
			NR_FAIL_MSG="${0##*/} got SIG$NR_SIGNAL (a timeout, Ctrl-C or another process) while running \`$NR_SIGNAL_AT\`"
		elif [ "$NR_FAILED" = 0 ]; then
			NR_FAIL_MSG="${0##*/} exited with status $rc${NR_LAST_ERR:+: $NR_LAST_ERR}"
		fi
		[ -n "${NR_NO_STATE_DUMP:-}" ] || nr_dump_state
		echo "FAIL: $NR_FAIL_MSG"
	fi
	for h in "${nr_cleanup_hooks[@]:-}"; do [ -n "$h" ] && eval "$h" || true; done
	for pid in "${NR_PIDS[@]:-}"; do
		[ -n "$pid" ] && nr_pid_ours "$pid" && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
	nr_topo_down "$NR_P"
	exit $rc
}
trap nr_cleanup EXIT
NR_SIGNAL= NR_SIGNAL_AT=
trap 'NR_SIGNAL=INT NR_SIGNAL_AT=$BASH_COMMAND; exit 130' INT
trap 'NR_SIGNAL=TERM NR_SIGNAL_AT=$BASH_COMMAND; exit 143' TERM

nr_fail() {
	NR_FAILED=1
	NR_FAIL_MSG=$*
	echo "FAIL: $*"
	# in $(...) stdout is the caller's variable: say it where it is seen
	[ "$BASHPID" = "$$" ] || echo "FAIL: $*" >&2
	exit 1
}
# nr_pid_ours PID: PID is still a process this test started (a child of
# this shell - $BASHPID: in $(...) the subshell that started it). PIDs are
# reused quickly (pid_max 32768 here, many tests at once): one of ours that
# has exited and been reaped may now be anybody's, and killing it killed
# other tests (a likely cause of a test seen ending without a word).
nr_pid_ours() {
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" = "$BASHPID" ]
}
# A process we waited for is not ours any more: its PID may be reused, so
# cleanup must not kill it.
nr_pid_forget() {
	local i
	for i in "${!NR_PIDS[@]}"; do [ "${NR_PIDS[$i]}" != "$1" ] || unset "NR_PIDS[$i]"; done
}
nr_ok() { echo "ok: $*"; }
# nr_ping NS WHAT PING-ARGS...: ping from NS; on failure its output (which
# says whether replies were missing or an ICMP error came back) and FAIL
nr_ping() {
	local ns=$1 what=$2 out
	shift 2
	out=$(ip netns exec "$ns" ping "$@" 2>&1) || { echo "$out"; nr_fail "$what"; }
}

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

# Packet captures. A capture started with `tcpdump ... &` and a fixed sleep
# misses the first packets when the machine is loaded (tcpdump not yet
# attached: test_tunnel_hybrid failed in CI that way); these wait until
# tcpdump says it is listening, i.e. its socket and filter are in place.
#   nr_capture_start NS IFACE FILTER FILE   packets (-n, one per line) go to
#                                           FILE, tcpdump's stderr to FILE.err
#   nr_capture_stop FILE                    settle, stop, wait; FILE is complete
# Positive checks should also wait for what they expect before stopping:
#   nr_wait_for 5 grep -q 'ICMP echo reply' "$FILE"
declare -A NR_CAPTURE_PID=()
: "${NR_CAPTURE_SETTLE:=0.3}"  # after the last packet of interest, before the stop

nr_capture_running() { nr_pid_ours "$1"; }
nr_capture_listening() { # PID ERRFILE: listening, or tcpdump died (stop polling)
	grep -q "listening on" "$2" || ! nr_capture_running "$1"
}

nr_capture_start() {
	local ns=$1 ifc=$2 filter=$3 file=$4 pid
	: >"$file"
	ip netns exec "$ns" tcpdump --immediate-mode -l -n -i "$ifc" "$filter" >"$file" 2>"$file.err" &
	pid=$!
	NR_PIDS+=("$pid")
	NR_CAPTURE_PID[$file]=$pid
	if ! nr_wait_for 20 nr_capture_listening "$pid" "$file.err" ||
		! grep -q "listening on" "$file.err"; then
		{ echo "--- tcpdump stderr ($file.err):"; cat "$file.err"; echo "---"; } >&2
		nr_fail "capture in $ns on $ifc ('$filter'): tcpdump did not report 'listening on' within 20 s"
	fi
}

nr_capture_stop() {
	local file=$1 pid=${NR_CAPTURE_PID[$1]:-}
	[ -n "$pid" ] || nr_fail "nr_capture_stop $file: no capture was started on that file"
	sleep "$NR_CAPTURE_SETTLE"
	! nr_pid_ours "$pid" || kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "NR_CAPTURE_PID[$file]"
	nr_pid_forget "$pid"
	# the kernel dropped packets (ring full under load): say so, a check
	# that then fails is explained
	if grep -Eq '^[1-9][0-9]* packets? dropped by kernel' "$file.err"; then
		echo "note: capture $file: $(grep -E 'dropped by kernel' "$file.err")"
	fi
}

# Event monitors. `ip monitor ... &` followed by a sleep may not be
# subscribed yet when the change under test happens (it then sees nothing,
# and a "no change" check passes for the wrong reason), and may not have
# printed the last events when it is killed. These synchronise on a
# sentinel route in a table of its own (4242; no controller reads it):
# once its event is in FILE, everything before it is too.
#   nr_monitor_start NS FILE [-OPTION...] OBJECT...
#                                        e.g. route nexthop, or -ts link route
#                                        (ip options first; route is added if
#                                        missing: the sentinel is a route)
#   nr_monitor_stop FILE                 FILE then holds every event up to
#                                        now, without the sentinel's lines
declare -A NR_MONITOR_PID=() NR_MONITOR_NS=()
NR_SENTINEL=192.0.2.255
NR_SENTINEL_TABLE=4242

nr_sentinel_seen() { # FILE added|deleted [MORE-THAN]: its events in FILE
	local re="blackhole $NR_SENTINEL table $NR_SENTINEL_TABLE"
	[ "$2" = added ] || re="Deleted $re"
	[ "$(grep -cE "^(\[[^]]*\] )?$re" "$1")" -gt "${3:-0}" ] # -ts: "[time] " first
}

nr_monitor_start() {
	local ns=$1 file=$2 opts=() objs=() pid i
	shift 2
	while [ $# -gt 0 ] && [[ $1 == -* ]]; do opts+=("$1"); shift; done
	objs=("$@")
	[[ " ${objs[*]} " == *" route "* ]] || objs+=(route)
	ip -n "$ns" "${opts[@]}" monitor "${objs[@]}" >"$file" 2>&1 &
	pid=$!
	NR_PIDS+=("$pid")
	NR_MONITOR_PID[$file]=$pid
	NR_MONITOR_NS[$file]=$ns
	# an event sent before the monitor subscribed is lost: re-add until seen
	for i in $(seq 200); do
		ip -n "$ns" route replace blackhole "$NR_SENTINEL/32" table "$NR_SENTINEL_TABLE"
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			nr_sentinel_seen "$file" added && return 0
			sleep 0.01
		done
		nr_pid_ours "$pid" || break
		ip -n "$ns" route del blackhole "$NR_SENTINEL/32" table "$NR_SENTINEL_TABLE" 2>/dev/null || true
	done
	cat "$file"
	nr_fail "ip monitor ${objs[*]} in $ns did not report its sentinel route: not listening"
}

nr_monitor_stop() {
	local file=$1 pid=${NR_MONITOR_PID[$1]:-} ns=${NR_MONITOR_NS[$1]:-} before
	[ -n "$pid" ] || nr_fail "nr_monitor_stop $file: no monitor was started on that file"
	# the start may have deleted it before: wait for one more deletion
	before=$(grep -cE "^(\[[^]]*\] )?Deleted blackhole $NR_SENTINEL table $NR_SENTINEL_TABLE" "$file" || true)
	ip -n "$ns" route del blackhole "$NR_SENTINEL/32" table "$NR_SENTINEL_TABLE" ||
		nr_fail "monitor sentinel route in $ns vanished"
	nr_wait_for 20 nr_sentinel_seen "$file" deleted "$before" ||
		nr_fail "ip monitor in $ns did not print the sentinel's removal within 20 s"
	! nr_pid_ours "$pid" || kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	nr_pid_forget "$pid"
	unset "NR_MONITOR_PID[$file]" "NR_MONITOR_NS[$file]"
	sed -i "/$NR_SENTINEL table $NR_SENTINEL_TABLE/d" "$file"
}
