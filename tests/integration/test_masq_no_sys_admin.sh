#!/usr/bin/env bash
# Masquerading needs CAP_NET_ADMIN only when the controller works on its own
# namespace (no netns named): nftables is programmed in place, no thread
# enters a namespace (setns needs CAP_SYS_ADMIN). Before, every pass failed
# with EPERM in a process without CAP_SYS_ADMIN - a CNI plugin's or a
# container's usual capability set - and start with it.
# The controller runs inside node-1 (entered beforehand by nsenter, as a
# container runtime would) with CAP_SYS_ADMIN dropped from its bounding set
# (setpriv, util-linux): start succeeds, the table is programmed, a table
# deleted by hand comes back through the nftables event watch (the periodic
# resync is an hour away), and purge removes it.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"
command -v nft >/dev/null || nr_fail "nft not installed (Debian package nftables)"
command -v setpriv >/dev/null || nr_fail "setpriv (util-linux) not installed"
command -v nsenter >/dev/null || nr_fail "nsenter (util-linux) not installed"

n1=${NR_P}node-1
nr_topo_up "$NR_P"
mkdir -p "$NR_WORK/nopriv"
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s setpriv --bounding-set -sys_admin -- "%s/nr-embed" "$@"\n' \
	"$n1" "$NR_TOOLS_DIR" >"$NR_WORK/nopriv/nr-embed"
chmod +x "$NR_WORK/nopriv/nr-embed"
tools=$NR_TOOLS_DIR NR_TOOLS_DIR=$NR_WORK/nopriv
nr_embed_start c1 --node-name node-1 --node-ip 192.168.1.10 --ipam kubernetes \
	--cluster-cidr 10.0.0.0/16 --pod-cidr 10.0.0.0/24 --auto-direct-node-routes --resync-ms 3600000
NR_TOOLS_DIR=$tools

pid=${NR_EMBED_PID[c1]}
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
(( (16#$capeff >> 21) & 1 )) && nr_fail "the controller still has CAP_SYS_ADMIN (CapEff $capeff)"
(( (16#$capeff >> 12) & 1 )) || nr_fail "the controller lacks CAP_NET_ADMIN (CapEff $capeff)"
[ "$(readlink "/proc/$pid/ns/net")" = "$(ip netns exec "$n1" readlink /proc/self/ns/net)" ] ||
	nr_fail "the controller is not in $n1"
nr_ok "controller in $n1 without CAP_SYS_ADMIN (CapEff $capeff), with CAP_NET_ADMIN"

out=$(nr_embed c1 start) || { echo "$out"; nr_fail "start failed without CAP_SYS_ADMIN"; }
nr_ok "start succeeded"
nr_expect_no_match "$(cat "$NR_WORK/c1.out")" "masquerading|Operation not permitted" "no masquerading error was reported"
t=$(ip netns exec "$n1" nft list table inet nativeroute) || nr_fail "no table inet nativeroute in $n1"
nr_expect_match "$t" "ip saddr 10\.0\.0\.0/24 ip daddr != @nomasq4 masquerade" "the masquerade rule is programmed"
out=$(nr_embed c1 node add node-2 192.168.1.11 10.0.1.0/24) || { echo "$out"; nr_fail "node add failed"; }
nr_expect_match "$(ip -n "$n1" route show 10.0.1.0/24)" "via 192\.168\.1\.11" "node add: route programmed"

ip netns exec "$n1" nft delete table inet nativeroute
has_table() { ip netns exec "$n1" nft list table inet nativeroute | grep -q masquerade; }
nr_wait_for 30 has_table || { cat "$NR_WORK/c1.out"; nr_fail "the table deleted by hand did not come back"; }
nr_ok "table deleted by hand is back (nftables events watched without entering a namespace)"

out=$(nr_embed c1 purge) || { echo "$out"; nr_fail "purge failed"; }
nr_expect_no_match "$(ip netns exec "$n1" nft list tables)" "nativeroute" "purge removed the table"
nr_embed_stop c1
echo PASS
