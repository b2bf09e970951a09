#!/usr/bin/env bash
# Controller edge cases found in review, each once broken:
#  - the node/route/status views before the first pass (empty plan)
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/embed.sh"

n1=${NR_P}node-1
nr_topo_up "$NR_P"

echo "== views before the first pass"
nr_embed_start c1 --netns "$n1" --node-name node-1 --node-ip 192.168.1.10 --pod-cidr 10.0.0.0/24 \
	--ipam kubernetes --cluster-cidr 10.0.0.0/16 --auto-direct-node-routes
# no answer before start: the pass that programs it has not run
echo "node add node-2 192.168.1.11 10.0.1.0/24" >&"${NR_EMBED_FD[c1]}"
out=$(nr_embed c1 nodes) || nr_fail "nodes before start: $out"
nr_expect_match "$out" "^node node-2 .*state=pending" "node-2 listed as pending before the first pass"
nr_embed c1 routes >/dev/null || nr_fail "routes before start"
nr_embed c1 status >/dev/null || nr_fail "status before start"
nr_embed_stop c1
nr_ok "views before the first pass"
