# One controller per network namespace, route table and protocol (issue 11,
# item 9): a second daemon in the same namespace - other state directory,
# other socket - is refused with a message naming the first one's pid; a
# refused --purge deletes nothing; an embedded controller is refused the
# same way; the lock goes with its holder (SIGTERM or kill -9); another
# namespace is independent.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
TMP=$(mktemp -d /tmp/nrlock.XXXXXX)
nr_cleanup_hooks+=("rm -rf '$TMP'")
NS1="${NR_P}node-1" NS2="${NR_P}node-2"
kroutes() { ip -n "$NS1" route show proto 201; }

nr_topo_up "$NR_P"

# daemon NAME NETNS [ARGS...]: start one in the background (pid in $DPID)
daemon() {
	local name=$1 ns=$2
	shift 2
	"$D" --socket "$TMP/$name.sock" --state-dir "$TMP/$name" --netns "$ns" --node-name node-1 \
		--node-ip "$( [ "$ns" = "$NS1" ] && echo 192.168.1.10 || echo 192.168.1.11)" \
		--cluster-cidr 10.0.0.0/16 --auto-direct-node-routes "$@" >>"$TMP/$name.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
}
nrctl_of() { local name=$1; shift; "$NR_BIN_DIR/nrctl" --socket "$TMP/$name.sock" "$@"; }

daemon a "$NS1"
A=$DPID
nr_wait_for 10 nrctl_of a status || { cat "$TMP/a.log"; nr_fail "daemon a did not come up"; }
nrctl_of a node add node-2 --ip 192.168.1.11 >/dev/null
nr_wait_for 5 sh -c "ip -n $NS1 route show proto 201 | grep -q via" || nr_fail "a's route missing"

# A second daemon, same namespace, its own state dir and socket: refused.
set +e
timeout 20 "$D" --socket "$TMP/b.sock" --state-dir "$TMP/b" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --cluster-cidr 10.0.0.0/16 >"$TMP/b.log" 2>&1
rc=$?
set -e
[ $rc = 1 ] || nr_fail "second daemon in $NS1 exited $rc, expected 1: $(cat "$TMP/b.log")"
nr_expect_match "$(cat "$TMP/b.log")" \
	"another controller \(pid $A\) already manages route table 254 with route protocol 201 in network namespace $NS1" \
	"second daemon refused, naming the first one's pid"
[ ! -e "$TMP/b.sock" ] || nr_fail "refused daemon left a socket"

# --purge of the refused one deletes nothing.
before=$(kroutes)
set +e
timeout 20 "$D" --purge --socket "$TMP/b.sock" --state-dir "$TMP/b" --netns "$NS1" --node-name node-1 \
	--node-ip 192.168.1.10 --cluster-cidr 10.0.0.0/16 >"$TMP/bp.log" 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || nr_fail "--purge beside a running controller succeeded"
nr_expect_match "$(cat "$TMP/bp.log")" "another controller \(pid $A\)" "--purge refused the same way"
[ "$(kroutes)" = "$before" ] || nr_fail "refused --purge changed routes: before: $before after: $(kroutes)"
nr_ok "refused --purge deleted nothing ($(wc -l <<<"$before") routes intact)"

# An embedded controller (the library, no daemon) is refused too.
set +e
out=$(echo quit | timeout 20 "$NR_TOOLS_DIR/nr-embed" --node-name node-1 --node-ip 192.168.1.10 \
	--netns "$NS1" --cluster-cidr 10.0.0.0/16 2>&1)
set -e
nr_expect_match "$out" "another controller \(pid $A\) already manages" "an embedded controller is refused"

# Another namespace is independent; a different table is too.
daemon c "$NS2"
nr_wait_for 10 nrctl_of c status || { cat "$TMP/c.log"; nr_fail "daemon in $NS2 refused"; }
nr_ok "a controller in another namespace runs alongside"

# The lock goes with its holder: after SIGTERM, and after kill -9.
kill -TERM "$A"
wait "$A" || nr_fail "daemon a exited non-zero"
daemon b "$NS1"
B=$DPID
nr_wait_for 10 nrctl_of b status || { cat "$TMP/b.log"; nr_fail "b refused after a stopped"; }
nr_ok "after the first stops, a second one starts"
kill -KILL "$B"
wait "$B" 2>/dev/null || true
daemon a "$NS1"
nr_wait_for 10 nrctl_of a status || { cat "$TMP/a.log"; nr_fail "lock held after kill -9"; }
nr_ok "kill -9 leaves no stale lock"
echo PASS
