# Chaos (issue 6, item 4): nativerouted with a few hundred nodes and dozens of
# endpoints while a client mutates continuously, killed with SIGKILL at a
# random moment, restarted from its state directory - many times. After
# every restart:
#   - every acknowledged mutation is there (a node with the very CIDR its
#     add returned, an endpoint with its address; acknowledged removals gone);
#     only the one call in flight at the kill may have gone either way
#   - no CIDR is allocated twice
#   - the kernel equals the plan: `nrctl routes` = `ip route show proto 201`,
#     every route programmed, one nexthop per remote node
#   - routes of other protocols are untouched.
# NR_CHAOS_CYCLES (default 50) and NR_CHAOS_SECONDS (default 300: a hard
# budget for the kill cycles, counted after the population) bound it; a run
# the budget stops passes with at least NR_CHAOS_MIN_CYCLES (20) cycles, a
# loaded machine being no failure of the daemon. NR_CHAOS_SEED replays a run.
# The state directory is on tmpfs: kill -9 loses no page cache, so the
# durability checked is the same, and a busy disk (fsync per change) made
# the 300 node adds alone take 107 s of a 150 s budget that counted them.
. "$(dirname "$0")/lib/common.sh"

D="$NR_BIN_DIR/nativerouted"
[ -x "$D" ] && [ -x "$NR_BIN_DIR/nrctl" ] || nr_fail "build nativerouted and nrctl first"
CYCLES=${NR_CHAOS_CYCLES:-50}
BUDGET=${NR_CHAOS_SECONDS:-300}
MIN_CYCLES=${NR_CHAOS_MIN_CYCLES:-20}
SEED=${NR_CHAOS_SEED:-$RANDOM}
INITIAL_NODES=${NR_CHAOS_NODES:-300}
N_VETH=60
echo "chaos: $CYCLES cycles, budget ${BUDGET}s, seed $SEED (NR_CHAOS_SEED=$SEED replays)"
RANDOM=$SEED
TMP=$(mktemp -d /dev/shm/nrchaos.XXXXXX)
chmod 755 "$TMP"
nr_cleanup_hooks+=("rm -rf '$TMP'")
SOCK="$TMP/nr.sock"
NS1="${NR_P}node-1"
nrctl() { "$NR_BIN_DIR/nrctl" --socket "$SOCK" "$@"; }
T0=$(date +%s)

nr_topo_up "$NR_P"
# a large connected subnet, so hundreds of node IPs are directly reachable
ip -n "$NS1" addr add 172.20.0.1/16 dev eth0
for i in $(seq 1 $N_VETH); do echo "link add h$i type veth peer name p$i"; done | ip -n "$NS1" -batch -
for i in $(seq 1 $N_VETH); do echo "link set h$i up"; echo "link set p$i up"; done | ip -n "$NS1" -batch -
ip -n "$NS1" route add 192.0.2.0/24 via 192.168.1.1 proto static
ip -n "$NS1" route add 198.51.100.0/24 via 192.168.1.1 proto 202
ip -n "$NS1" route add 203.0.113.0/24 dev eth0
foreign() { ip -n "$NS1" route show | grep -v ' proto 201' | sort; }
FOREIGN=$(foreign)

DPID=
ready_count() { grep -c "ready:" "$TMP/daemon.log" || true; }
daemon_ready() { [ "$(ready_count)" -gt "$1" ]; }
start_daemon() {
	local n
	touch "$TMP/daemon.log"
	n=$(ready_count)
	"$D" --socket "$SOCK" --state-dir "$TMP/state" --netns "$NS1" --node-name node-1 \
		--node-ip 192.168.1.10 --mode native --auto-direct-node-routes \
		--ipam cluster-pool --cluster-cidr 10.0.0.0/8 >>"$TMP/daemon.log" 2>&1 &
	DPID=$!
	NR_PIDS+=("$DPID")
	# "ready:" is logged once the first pass (adopt, then prune) is done
	nr_wait_for 20 daemon_ready "$n" || { tail -n 20 "$TMP/daemon.log"; nr_fail "daemon did not come up"; }
}

# What the client was told (acknowledged) - the truth the daemon must keep.
declare -A NODE=() EP=() EPIF=() UNSURE=()
node_ip() { echo "172.20.$(($1 / 250 % 256)).$(($1 % 250 + 1))"; }

echo "== populate: $INITIAL_NODES nodes, 30 endpoints"
start_daemon
# four clients at once: "NAME CIDR" of each acknowledged add
populate_part() { # K: the nodes i with i % 4 == K
	local i out
	for i in $(seq 1 "$INITIAL_NODES"); do
		[ $((i % 4)) -eq "$1" ] || continue
		out=$(nrctl -o json node add "n$i" --ip "$(node_ip "$i")" 2>&1) || { echo "FAILED n$i: $out"; return 1; }
		echo "n$i $(grep -o '"pod_cidrs":\["[^"]*' <<<"$out" | cut -d'"' -f4)"
	done >"$TMP/populate.$1"
}
pids=()
for k in 0 1 2 3; do populate_part "$k" & pids+=($!); done
for pid in "${pids[@]}"; do
	wait "$pid" || nr_fail "populate: $(grep -h '^FAILED' "$TMP"/populate.*)"
done
while read -r name cidr; do NODE[$name]=$cidr; done < <(cat "$TMP"/populate.[0-3])
[ "${#NODE[@]}" -eq "$INITIAL_NODES" ] || nr_fail "populate: ${#NODE[@]} of $INITIAL_NODES nodes acknowledged"
for i in $(seq 1 30); do
	out=$(nrctl -o json endpoint add "ep$i" --ifname "h$i") || nr_fail "populate: endpoint add ep$i"
	EP[ep$i]=$(grep -o '"ipv4":"[^"]*' <<<"$out" | cut -d'"' -f4)
	EPIF[ep$i]=h$i
done
NEXT=$((INITIAL_NODES + 1))
echo "populated in $(( $(date +%s) - T0 ))s"
T0=$(date +%s) # the budget is for the kill cycles
BUDGET_HIT=0

# The client: random mutations until the daemon dies; "try" before each
# call, "ok" only once the daemon acknowledged it.
mutate() { # SEED FIRST-NEW-NODE-NUMBER
	local r name n=$2 out ip keys ifs free
	RANDOM=$1
	exec >>"$TMP/acks"
	while [ $n -lt $(($2 + 190)) ]; do
		r=$((RANDOM % 100))
		if [ $r -lt 40 ]; then
			name=n$n; n=$((n + 1))
			echo "try n $name"
			out=$(nrctl -o json node add "$name" --ip "$(node_ip "${name#n}")" 2>/dev/null) || return 0
			echo "ok nadd $name $(grep -o '"pod_cidrs":\["[^"]*' <<<"$out" | cut -d'"' -f4)"
			NODE[$name]=x
		elif [ $r -lt 75 ]; then
			keys=("${!NODE[@]}")
			[ ${#keys[@]} -gt 0 ] || continue
			name=${keys[RANDOM % ${#keys[@]}]}
			echo "try n $name"
			nrctl node del "$name" >/dev/null 2>&1 || return 0
			echo "ok ndel $name"
			unset "NODE[$name]"
		elif [ $r -lt 88 ]; then
			free=()
			for ifs in $(seq 1 $N_VETH); do
				[[ " ${EPIF[*]} " == *" h$ifs "* ]] || free+=("h$ifs")
			done
			[ ${#free[@]} -gt 0 ] || continue
			ifs=${free[RANDOM % ${#free[@]}]}
			name=e$n; n=$((n + 1))
			echo "try e $name $ifs"
			out=$(nrctl -o json endpoint add "$name" --ifname "$ifs" 2>/dev/null) || return 0
			ip=$(grep -o '"ipv4":"[^"]*' <<<"$out" | cut -d'"' -f4)
			echo "ok eadd $name $ip $ifs"
			EPIF[$name]=$ifs
		else
			keys=("${!EPIF[@]}")
			[ ${#keys[@]} -gt 0 ] || continue
			name=${keys[RANDOM % ${#keys[@]}]}
			echo "try e $name"
			nrctl endpoint del "$name" >/dev/null 2>&1 || return 0
			echo "ok edel $name"
			unset "EPIF[$name]"
		fi
	done
}

# Fold the client's log into what was acknowledged.
absorb() {
	local tag kind name a b
	while read -r tag kind name a b; do
		case "$tag $kind" in
		"try n") UNSURE[n:$name]=1 ;;
		"try e") UNSURE[e:$name]=${a:-1} ;;
		"ok nadd") NODE[$name]=$a; unset "UNSURE[n:$name]"; ACKED=$((ACKED + 1)) ;;
		"ok ndel") unset "NODE[$name]"; unset "UNSURE[n:$name]"; ACKED=$((ACKED + 1)) ;;
		"ok eadd") EP[$name]=$a; EPIF[$name]=$b; unset "UNSURE[e:$name]"; ACKED=$((ACKED + 1)) ;;
		"ok edel") unset "EP[$name]" "EPIF[$name]"; unset "UNSURE[e:$name]"; ACKED=$((ACKED + 1)) ;;
		esac
	done <"$TMP/acks"
	: >"$TMP/acks"
}

# Compare the restarted daemon with what was acknowledged; settle the
# in-flight call by what the daemon says (either outcome is correct).
verify() {
	local cycle=$1 name cidr ip ifn dups k want have
	declare -A seen_n=() seen_e=() # =(): set, so an empty one is not "unbound"
	while read -r name _ _ cidr _; do
		[ "$name" = node-1 ] && continue
		seen_n[$name]=$cidr
	done < <(nrctl nodes | tail -n +2)
	while read -r name ifn ip _; do
		seen_e[$name]="$ip $ifn"
	done < <(nrctl endpoints | tail -n +2)
	for name in "${!NODE[@]}"; do
		[ -n "${UNSURE[n:$name]:-}" ] && continue
		[ "${seen_n[$name]:-}" = "${NODE[$name]}" ] ||
			nr_fail "cycle $cycle: acknowledged node $name (${NODE[$name]}) is ${seen_n[$name]:-missing}"
		CHECKED=$((CHECKED + 1))
	done
	for name in "${!seen_n[@]}"; do
		[ -n "${NODE[$name]:-}" ] && continue
		[ -n "${UNSURE[n:$name]:-}" ] || nr_fail "cycle $cycle: node $name present, its removal was acknowledged (or it was never added)"
	done
	for name in "${!EP[@]}"; do
		[ -n "${UNSURE[e:$name]:-}" ] && continue
		[ "${seen_e[$name]:-}" = "${EP[$name]} ${EPIF[$name]}" ] ||
			nr_fail "cycle $cycle: acknowledged endpoint $name (${EP[$name]} ${EPIF[$name]}) is ${seen_e[$name]:-missing}"
		CHECKED=$((CHECKED + 1))
	done
	for name in "${!seen_e[@]}"; do
		[ -n "${EP[$name]:-}" ] || [ -n "${UNSURE[e:$name]:-}" ] ||
			nr_fail "cycle $cycle: endpoint $name present, its removal was acknowledged (or never added)"
	done
	# the call in flight at the kill: whatever the daemon kept is now the truth
	for k in "${!UNSURE[@]}"; do
		name=${k#?:}
		if [ "${k%%:*}" = n ]; then
			if [ -n "${seen_n[$name]:-}" ]; then NODE[$name]=${seen_n[$name]}; KEPT=$((KEPT + 1))
			else unset "NODE[$name]"; LOST=$((LOST + 1)); fi
		else
			if [ -n "${seen_e[$name]:-}" ]; then
				EP[$name]=${seen_e[$name]% *}; EPIF[$name]=${seen_e[$name]#* }; KEPT=$((KEPT + 1))
			else unset "EP[$name]" "EPIF[$name]"; LOST=$((LOST + 1)); fi
		fi
		unset "UNSURE[$k]"
	done
	dups=$(printf '%s\n' "${seen_n[@]}" 10.0.0.0/24 | sort | uniq -d)
	[ -z "$dups" ] || nr_fail "cycle $cycle: CIDR allocated twice: $dups"
	dups=$(for k in "${!seen_e[@]}"; do echo "${seen_e[$k]% *}"; done | sort | uniq -d)
	[ -z "$dups" ] || nr_fail "cycle $cycle: endpoint address given twice: $dups"
	# kernel == plan (the first pass has run: the socket answers after it)
	want=$(nrctl routes | tail -n +2 | awk '{print $1}' | sort)
	have=$(ip -n "$NS1" route show proto 201 | awk '{d=$1; if (d !~ /\//) d=d"/32"; print d}' | sort)
	if [ "$want" != "$have" ]; then
		diff <(echo "$want") <(echo "$have") | head -n 20
		nr_fail "cycle $cycle: kernel routes differ from the plan"
	fi
	nrctl routes | tail -n +2 | grep -qv ' yes$' && nr_fail "cycle $cycle: a planned route is not programmed"
	[ "$(ip -n "$NS1" nexthop show | grep -c 'proto 201')" -eq "${#seen_n[@]}" ] ||
		nr_fail "cycle $cycle: $(ip -n "$NS1" nexthop show | grep -c 'proto 201') nexthops for ${#seen_n[@]} remote nodes"
	[ "$(foreign)" = "$FOREIGN" ] || { diff <(echo "$FOREIGN") <(foreign); nr_fail "cycle $cycle: a foreign route changed"; }
	ROUTES=$(wc -l <<<"$have")
	N_NODES=${#seen_n[@]}
	N_EPS=${#seen_e[@]}
}

ACKED=0 CHECKED=0 KEPT=0 LOST=0 DONE=0 ROUTES=0 N_NODES=0 N_EPS=0
: >"$TMP/acks"
verify 0
for cycle in $(seq 1 "$CYCLES"); do
	if [ $(( $(date +%s) - T0 )) -ge "$BUDGET" ]; then
		echo "time budget of ${BUDGET}s reached after $DONE cycles"
		BUDGET_HIT=1
		break
	fi
	mutate "$RANDOM" "$NEXT" &
	MPID=$!
	NEXT=$((NEXT + 200))  # every cycle's new names are its own
	sleep "0.$(printf '%03d' $((RANDOM % 700 + 50)))"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	wait "$MPID" 2>/dev/null || true
	absorb
	start_daemon
	verify "$cycle"
	DONE=$cycle
	[ $((cycle % 10)) -ne 0 ] || echo "cycle $cycle: $N_NODES nodes, $N_EPS endpoints, $ROUTES routes; $ACKED acknowledged so far"
done
kill -TERM "$DPID"; wait "$DPID" || nr_fail "daemon exited non-zero on SIGTERM"
echo "chaos: $DONE kill -9 cycles in $(( $(date +%s) - T0 ))s, seed $SEED"
echo "chaos: $ACKED acknowledged mutations, all present after every restart ($CHECKED object checks)"
echo "chaos: in flight at the kill: $KEPT kept, $LOST not applied (either is correct)"
echo "chaos: final: $N_NODES remote nodes, $N_EPS endpoints, $ROUTES routes = plan, 0 CIDRs twice, foreign routes untouched"
if [ "$DONE" -lt "$CYCLES" ]; then
	[ "$BUDGET_HIT" = 1 ] && [ "$DONE" -ge "$MIN_CYCLES" ] ||
		nr_fail "only $DONE of $CYCLES cycles within ${BUDGET}s (at least $MIN_CYCLES needed)"
	echo "note: the budget cut the run to $DONE of $CYCLES cycles (machine busy)"
fi
echo "PASS"
