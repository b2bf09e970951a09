# Drive nr-embed (examples/embed: one controller per node, commands on
# stdin, one "ok ..."/"error ..." answer per command on stdout) from a test.
#   nr_embed_start ID ARGS...   start one; its output goes to $NR_WORK/ID.out
#   nr_embed ID COMMAND...      send a command, wait for its answer, print it;
#                               returns 1 when the answer is "error ..."
#   nr_embed_stop ID            "quit" and wait for the process to exit
: "${NR_TOOLS_DIR:?}"
NR_WORK=$(mktemp -d)
nr_cleanup_hooks+=("rm -rf '$NR_WORK'")
declare -A NR_EMBED_FD=() NR_EMBED_PID=() NR_EMBED_ANSWERS=()

nr_embed_start() {
	local id=$1 fd
	shift
	mkfifo "$NR_WORK/$id.in"
	"$NR_TOOLS_DIR/nr-embed" "$@" <"$NR_WORK/$id.in" >"$NR_WORK/$id.out" 2>"$NR_WORK/$id.err" &
	NR_EMBED_PID[$id]=$!
	NR_PIDS+=("$!")
	exec {fd}>"$NR_WORK/$id.in"
	NR_EMBED_FD[$id]=$fd
	NR_EMBED_ANSWERS[$id]=0
	if ! nr_wait_for 10 grep -q '^ready' "$NR_WORK/$id.out"; then
		cat "$NR_WORK/$id.err"
		nr_fail "nr-embed $id did not start"
	fi
}

nr_embed_answers() { grep -cE '^(ok|error) ' "$NR_WORK/$1.out" || true; }
nr_embed_answered() { [ "$(nr_embed_answers "$1")" -ge "$2" ]; }

nr_embed() {
	local id=$1 want from
	shift
	# a call inside $(...) ran in a subshell and could not count its
	# answer here: never wait for fewer answers than the file already has
	want=$(nr_embed_answers "$id")
	[ "$want" -ge "${NR_EMBED_ANSWERS[$id]}" ] || want=${NR_EMBED_ANSWERS[$id]}
	want=$((want + 1))
	from=$(($(wc -l <"$NR_WORK/$id.out") + 1))
	echo "$*" >&"${NR_EMBED_FD[$id]}"
	if ! nr_wait_for 20 nr_embed_answered "$id" "$want"; then
		cat "$NR_WORK/$id.err"
		nr_fail "nr-embed $id: no answer to '$*'"
	fi
	NR_EMBED_ANSWERS[$id]=$want
	# what was printed since the command was sent, up to its answer
	tail -n +"$from" "$NR_WORK/$id.out" | awk '{print} /^(ok|error) /{exit}'
	grep -E '^(ok|error) ' "$NR_WORK/$id.out" | sed -n "${want}p" | grep -q '^ok'
}

nr_embed_stop() {
	local id=$1 pid=${NR_EMBED_PID[$1]}
	echo quit >&"${NR_EMBED_FD[$id]}" || true
	exec {NR_EMBED_FD[$id]}>&- || true
	# ours until it exits (kill -0 on a reaped and reused PID: someone else's)
	for _ in $(seq 100); do nr_pid_ours "$pid" || break; sleep 0.05; done
	if nr_pid_ours "$pid"; then kill "$pid"; nr_fail "nr-embed $id did not exit on quit"; fi
	wait "$pid" 2>/dev/null || nr_fail "nr-embed $id exited with status $?"
}
