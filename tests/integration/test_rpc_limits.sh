# The RPC server's limits hold against peers that use up its resources
# (issue 11, items 1 and 6): pipelining clients that never read cost bounded
# memory and do not stop other clients; idle or unprivileged peers cannot
# take every slot; incomplete messages and idle read-only peers time out;
# a refused client is told why (nrctl prints it, no silent SIGPIPE).
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
ABUSE="$NR_TOOLS_DIR/nr_rpc_abuse"
[ -x "$D" ] && [ -x "$ABUSE" ] || nr_fail "build nativerouted and nr_rpc_abuse first"
TMP=$(mktemp -d /tmp/nrlim.XXXXXX)
chmod 755 "$TMP"
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_daemon() { setpriv --reuid=daemon --regid=daemon --clear-groups "$@"; }

nr_topo_up "$NR_P"

start_daemon() {
	# ASan's quarantine keeps freed memory around (256 MB by default):
	# without a small one the RSS would measure the sanitizer, not us.
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8:thread_local_quarantine_size_kb=64" \
	"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
		--node-ip 192.168.1.10 --cluster-cidr 10.0.0.0/16 "$@" >>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	nr_wait_for 10 nrctl status || { cat "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
	chmod 0666 "$SOCK" # read-only peers may connect
}
stop_daemon() {
	kill -TERM "$DPID"
	wait "$DPID" || nr_fail "daemon exited non-zero: $(tail -5 "$TMP/daemon.log")"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }

# ---- 1. eight clients pipeline without reading: bounded memory ---------------
start_daemon --client-timeout 60
for i in $(seq 1 20); do nrctl node add "n$i" --ip "192.168.1.$((100 + i))" >/dev/null; done
nrctl status >/dev/null
before=$(rss_kb)
pids=()
for i in 0 1 2 3 4 5 6 7; do
	as_nobody "$ABUSE" "$SOCK" pipeline 6 >"$TMP/pipe$i" 2>&1 &
	pids+=($!)
	NR_PIDS+=($!)
done
sleep 2
# Other clients are served meanwhile, promptly.
t0=$(date +%s%N)
for i in 1 2 3 4 5; do
	nrctl status >/dev/null || nr_fail "status failed while 8 clients pipeline"
	as_nobody "$NR_BIN_DIR/nrctl" --socket "$SOCK" nodes >/dev/null ||
		nr_fail "a read-only client failed while 8 clients pipeline"
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] || nr_fail "10 requests took $ms ms while 8 clients pipeline"
nr_ok "other clients served while 8 clients pipeline (10 requests in $ms ms)"
sleep 2
peak=$(rss_kb)
for pid in "${pids[@]}"; do wait "$pid" || true; done
cat "$TMP"/pipe*
grown=$(( (peak - before) / 1024 ))
echo "daemon RSS: $((before / 1024)) MB before, $((peak / 1024)) MB with 8 pipelining clients (+$grown MB)"
[ "$grown" -lt 64 ] || nr_fail "RSS grew by $grown MB with 8 pipelining clients (limit 64)"
nr_ok "8 pipelining clients that never read: RSS +$grown MB (< 64 MB)"
grep -q 'requests)' "$TMP/pipe0" || nr_fail "pipeline client did not run: $(cat "$TMP/pipe0")"
nrctl status >/dev/null || nr_fail "daemon unhealthy after the pipeliners"

# ---- 6. slots: 300 idle unprivileged connections, root still answered --------------
as_nobody "$ABUSE" "$SOCK" hold 300 4 >"$TMP/hold" 2>&1 &
HOLD=$!
NR_PIDS+=("$HOLD")
nr_wait_for 10 grep -q 'refused at once' "$TMP/hold" || nr_fail "hold did not report: $(cat "$TMP/hold")"
cat "$TMP/hold"
nr_expect_match "$(cat "$TMP/hold")" 'refused at once \(uid [0-9]+ holds [0-9]+ connections already\)' \
	"excess unprivileged connections refused with a reason"
out=$(nrctl status) || nr_fail "nrctl status as root failed with 300 idle connections held: $out"
nr_ok "root's nrctl status answers while nobody holds 300 connections"
as_daemon "$NR_BIN_DIR/nrctl" --socket "$SOCK" status >/dev/null ||
	nr_fail "another unprivileged user locked out by nobody's connections"
nr_ok "another unprivileged uid still gets a slot (per-uid limit)"
# More read-only peers than their share: refused with a clear message, no SIGPIPE.
as_daemon "$ABUSE" "$SOCK" hold 200 3 >"$TMP/hold2" 2>&1 &
HOLD2=$!
NR_PIDS+=("$HOLD2")
nr_wait_for 10 grep -q 'refused at once' "$TMP/hold2" || nr_fail "hold2 did not report"
set +e
err=$(as_daemon "$NR_BIN_DIR/nrctl" --socket "$SOCK" status 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && [ $rc -lt 128 ] || nr_fail "refused nrctl exited $rc (signal?): $err"
nr_expect_match "$err" 'daemon closed the connection: .*(slots|connections already)' \
	"a refused nrctl says why (exit $rc)"
nrctl status >/dev/null || nr_fail "root refused while read-only peers fill their share"
nr_ok "root still answered with every read-only slot taken"
wait "$HOLD" "$HOLD2" || true
stop_daemon

# ---- 6. timeouts: incomplete messages and idle read-only peers ------------------
start_daemon --client-timeout 1
out=$(as_nobody "$ABUSE" "$SOCK" trickle 5)
echo "$out"
nr_expect_match "$out" 'closed after [0-9]+ ms \(message incomplete after' "an incomplete message times out"
ms=$(sed -n 's/.*closed after \([0-9]*\) ms.*/\1/p' <<<"$out")
[ "$ms" -ge 900 ] && [ "$ms" -lt 3500 ] || nr_fail "incomplete message closed after $ms ms (timeout 1 s)"
out=$(as_nobody "$ABUSE" "$SOCK" hold 20 3)
echo "$out"
nr_expect_match "$out" '20 closed by the daemon later \(read-only and idle' "idle read-only peers time out"
# Root's idle connections keep their slot (nothing to time out).
out=$("$ABUSE" "$SOCK" hold 5 2.5)
nr_expect_match "$out" '0 closed by the daemon later' "idle privileged connections are kept"
stop_daemon
echo PASS
