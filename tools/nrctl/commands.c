/* The commands: their names, arguments, help texts and the options each
 * accepts (keys of options.c's table). */
#include <stdio.h>
#include <string.h>

#include "nrctl.h"

const struct command commands[] = {
	{ "status", "[--verbose]",
	  "Summary of the controller: routing mode, IPAM, nodes, routes.\n"
	  "  --verbose  also every node, route and endpoint", run_status, 0, 0, "v" },
	{ "nodes", "", "List the nodes of the cluster.", list_nodes, 0, 0, "" },
	{ "node add", "NAME --ip IP [--ip6 IP] [--pod-cidr CIDR]...",
	  "Add a remote node. Without --pod-cidr, cluster-pool IPAM allocates one.", run_node_add,
	  1, 1, "i6p" },
	{ "node update", "NAME --ip IP [--ip6 IP] [--pod-cidr CIDR]...",
	  "Change a node's addresses or CIDRs; its routes move without a gap.", run_node_add, 1, 1,
	  "i6p" },
	{ "node del", "NAME", "Remove a node: its routes go, its CIDRs return to the pool.",
	  run_node_del, 1, 1, "" },
	{ "node get", "NAME", "Show one node.", run_node_get, 1, 1, "" },
	{ "routes", "", "List the routes the controller plans and whether the kernel has them.",
	  list_routes, 0, 0, "" },
	{ "endpoints", "", "List the pods on this node.", list_endpoints, 0, 0, "" },
	{ "endpoint add", "ID --ifname IF [--ip IP]",
	  "Add a pod whose host-side interface is IF; without --ip an address is allocated.",
	  run_endpoint_add, 1, 1, "fi" },
	{ "endpoint get", "ID", "Show one pod: its addresses, gateways and MTU.", run_endpoint_get,
	  1, 1, "" },
	{ "endpoint del", "ID", "Remove a pod.", run_endpoint_del, 1, 1, "" },
	{ "mode", "[set native|tunnel|hybrid [--[no-]auto-direct-node-routes] "
	  "[--[no-]direct-routing-skip-unreachable]]",
	  "Show or switch the routing mode (and the direct-routing switches, checked together).",
	  run_mode, 0, 2, "AaSs" },
	{ "ipam", "", "IPAM mode, usage and every node CIDR allocation.", run_ipam, 0, 0, "" },
	{ "events", "[--count N]",
	  "Print the controller's events as they happen (one per line; -o json: JSON lines).\n"
	  "Once subscribed, says so: on stderr, or with -o json as the first line,\n"
	  "{\"type\":\"subscribed\",...} (no seq; --count does not count it).\n"
	  "  --count N  exit after N events", run_events, 0, 0, "n" },
};
const size_t n_commands = sizeof(commands) / sizeof(commands[0]);

void usage(FILE *out)
{
	fprintf(out,
		"Usage: nrctl [--socket PATH] [-o table|json] [--timeout MS] COMMAND [ARGS]\n"
		"Control a nativerouted daemon.\n\nCommands:\n");
	for (size_t i = 0; i < n_commands; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].usage);
	fprintf(out,
		"\nOptions (before or after the command):\n"
		"  --socket PATH   daemon socket (default %s, or $NRCTL_SOCKET)\n"
		"  -o, --output F  table (default) or json\n"
		"  --timeout MS    give up waiting for the daemon (default 10000)\n"
		"  -h, --help      this text; `nrctl COMMAND --help` for one command\n"
		"\nExit status: 0 ok, 1 operation failed, 2 usage, 3 daemon unreachable,\n"
		"4 permission denied. See nrctl(1).\n",
		NR_CLIENT_DEFAULT_SOCKET);
}

void command_help(const struct command *cmd)
{
	printf("Usage: nrctl [global options] %s %s\n%s\n", cmd->name, cmd->usage, cmd->help);
}

const struct command *find_command(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < n_commands; i++) {
		const char *name = commands[i].name, *sp = strchr(name, ' ');

		if (!sp && argc >= 1 && !strcmp(argv[0], name)) {
			*words = 1;
			return &commands[i];
		}
		if (sp && argc >= 2 && !strncmp(argv[0], name, (size_t)(sp - name)) &&
		    argv[0][sp - name] == '\0' && !strcmp(argv[1], sp + 1)) {
			*words = 2;
			return &commands[i];
		}
	}
	return NULL;
}
