# Sourced by the CNI tests: a container runtime in miniature, doing what
# libcni does with a network configuration list (the reference `cnitool` is
# not packaged for Debian), so the plugins see exactly what a real runtime
# hands them:
#   - every plugin of the list gets the list's "name" and "cniVersion";
#   - capability arguments go to "runtimeConfig" of the plugins that
#     declare that capability;
#   - ADD runs the plugins in order, each with the previous result as
#     "prevResult", and caches the final result; CHECK runs them in order
#     and DEL in reverse, both with the cached result as "prevResult";
#     GC passes "cni.dev/valid-attachments";
#   - the plugin binary is looked up in CNI_PATH, run in the node's network
#     namespace (the runtime's "networking domain"), with CNI_* in the
#     environment and the configuration on stdin.
# Needs: jq. Sets CNI_OUT (the last plugin's stdout) and CNI_RC.
#
#   cni_run COMMAND NODE_NS CONFLIST CONTAINERID NETNS IFNAME [CAP_ARGS_JSON [CNI_ARGS]]
#   cni_run GC NODE_NS CONFLIST VALID_ATTACHMENTS_JSON
#   cni_run STATUS NODE_NS CONFLIST
: "${CNI_PATH:?set CNI_PATH (plugin directories, ':'-separated)}"
: "${CNI_CACHE:?set CNI_CACHE (a directory for cached ADD results)}"

cni_find_plugin() { # TYPE -> path
	local d IFS=:
	for d in $CNI_PATH; do
		[ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	echo "cni_run: plugin $1 not found in $CNI_PATH" >&2
	return 1
}

# cni_plugin_conf LIST INDEX PREV CAPS EXTRA -> the plugin's configuration
cni_plugin_conf() {
	jq -c --argjson i "$2" --argjson prev "$3" --argjson caps "$4" --argjson extra "$5" '
		. as $l | $l.plugins[$i]
		| .name = $l.name | .cniVersion = $l.cniVersion
		| (if $prev != null then .prevResult = $prev else . end)
		| ((.capabilities // {}) | to_entries | map(select(.value == true) | .key)) as $c
		| (reduce $c[] as $k ({}; if $caps[$k] != null then .[$k] = $caps[$k] else . end)) as $rc
		| (if ($rc | length) > 0 then .runtimeConfig = $rc else . end)
		| . + $extra' "$1"
}

cni_exec_one() { # COMMAND NODE_NS CONF CONTAINERID NETNS IFNAME CNI_ARGS
	local type bin
	type=$(jq -r .type <<<"$3")
	bin=$(cni_find_plugin "$type") || return 1
	CNI_OUT=$(printf '%s' "$3" | ip netns exec "$2" env -i PATH="$PATH" \
		CNI_COMMAND="$1" CNI_CONTAINERID="$4" CNI_NETNS="$5" CNI_IFNAME="$6" \
		CNI_ARGS="$7" CNI_PATH="$CNI_PATH" ${NR_CNI_ENV:-} "$bin" 2>>"$CNI_CACHE/stderr")
}

cni_run() {
	local cmd=$1 node=$2 list=$3 n i conf prev=null caps='{}' extra='{}' cache
	n=$(jq '.plugins | length' "$list")
	CNI_RC=0
	CNI_OUT=
	case $cmd in
	GC|STATUS)
		[ "$cmd" = GC ] && extra=$(jq -c '{"cni.dev/valid-attachments": .}' <<<"$4")
		for ((i = 0; i < n; i++)); do
			conf=$(cni_plugin_conf "$list" "$i" null '{}' "$extra")
			# only plugins that know the verb (1.1.0); the reference ones of
			# Debian's package predate it
			[ "$(jq -r .type <<<"$conf")" = nativeroute-cni ] || continue
			cni_exec_one "$cmd" "$node" "$conf" "" "" "" "" || { CNI_RC=$?; return 0; }
		done
		return 0 ;;
	esac
	local cid=$4 netns=$5 ifname=$6 cni_args=${8:-}
	[ -n "${7:-}" ] && caps=$7
	cache="$CNI_CACHE/$cid-$ifname.json"
	case $cmd in
	ADD)
		for ((i = 0; i < n; i++)); do
			conf=$(cni_plugin_conf "$list" "$i" "$prev" "$caps" '{}')
			cni_exec_one ADD "$node" "$conf" "$cid" "$netns" "$ifname" "$cni_args" ||
				{ CNI_RC=$?; return 0; }
			prev=$CNI_OUT
		done
		printf '%s' "$prev" >"$cache" ;;
	CHECK)
		prev=$(cat "$cache")
		for ((i = 0; i < n; i++)); do
			conf=$(cni_plugin_conf "$list" "$i" "$prev" "$caps" '{}')
			cni_exec_one CHECK "$node" "$conf" "$cid" "$netns" "$ifname" "$cni_args" ||
				{ CNI_RC=$?; return 0; }
		done ;;
	DEL)
		[ -f "$cache" ] && prev=$(cat "$cache")
		for ((i = n - 1; i >= 0; i--)); do
			conf=$(cni_plugin_conf "$list" "$i" "$prev" "$caps" '{}')
			cni_exec_one DEL "$node" "$conf" "$cid" "$netns" "$ifname" "$cni_args" ||
				{ CNI_RC=$?; return 0; }
		done
		rm -f "$cache" ;;
	*) echo "cni_run: unknown command $cmd" >&2; return 2 ;;
	esac
}
