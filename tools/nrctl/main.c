/* nrctl: the command line of a shared controller (DESIGN.md §7), built on the
 * client library. Tables for people, `-o json` for scripts (the RPC field
 * names), and exit codes scripts can rely on:
 *   0 success, 1 the daemon refused or failed the operation, 2 usage error,
 *   3 daemon unreachable (no socket, connection lost, timeout),
 *   4 permission denied (read-only peer, or socket mode). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/client.h>
#include <nativeroute/error.h>
#include <nativeroute/opts.h>

#include "print.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_DENIED = 4 };

struct app;

struct command {
	const char *name;  /* "node add" */
	const char *usage; /* after the name */
	const char *help;
	int (*run)(struct app *a);
	int min_args, max_args; /* positional arguments after the name */
	const char *options;    /* the command options it takes, as getopt letters */
};

struct app {
	uv_loop_t *loop;
	struct nr_client *client;
	const struct command *cmd;
	const char *socket;
	unsigned int timeout_ms;
	bool json, verbose;
	int argc;          /* positional arguments of the command */
	char **argv;
	const char *ip, *ip6, *ifname;
	const char *pod_cidrs[17];
	size_t n_pod_cidrs;
	enum nr_switch adnr, skip; /* mode set: direct-routing switches */
	long count;        /* events: stop after this many, 0 = forever */
	long seen;
	int exit_code;
	struct json j;
	uv_signal_t sigint;
};

static const char *prog = "nrctl";

/* ---- finishing ---------------------------------------------------------------- */

static void on_closed(struct nr_client *c, void *data)
{
	(void)c;
	(void)data;
}

static void finish(struct app *a, int code)
{
	if (code > a->exit_code)
		a->exit_code = code;
	if (a->client) {
		nr_client_close(a->client, on_closed, a);
		a->client = NULL;
	}
	if (!uv_is_closing((uv_handle_t *)&a->sigint))
		uv_close((uv_handle_t *)&a->sigint, NULL);
}

static int exit_code_of(int status)
{
	switch (status) {
	case -EPERM:
	case -EACCES:
		return EXIT_DENIED;
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -ETIMEDOUT:
	case -ENOTCONN:
	case -EPIPE:
	case -EPROTO:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_FAILED;
	}
}

/* Report a failed operation (stderr for people; with -o json also an error
 * object on stdout) and stop. */
/* Whether text already ends with "(ENAME)": kernel errors arrive that way. */
static bool names_errno(const char *text, const char *name)
{
	size_t lt = strlen(text), ln = strlen(name);

	return lt >= ln + 2 && text[lt - 1] == ')' && text[lt - ln - 2] == '(' &&
	       !strncmp(text + lt - ln - 1, name, ln);
}

static void fail_op(struct app *a, int status, const char *errmsg)
{
	const char *text = errmsg && *errmsg ? errmsg : nr_strerror(status);

	if (names_errno(text, nr_err_name(status)))
		fprintf(stderr, "%s: %s: %s\n", prog, a->cmd->name, text);
	else
		fprintf(stderr, "%s: %s: %s (%s)\n", prog, a->cmd->name, text, nr_err_name(status));
	if (a->json) {
		struct json j;

		json_init(&j, stdout);
		json_begin_obj(&j, NULL);
		json_begin_obj(&j, "error");
		json_i64(&j, "code", status);
		json_str(&j, "name", nr_err_name(status));
		json_str(&j, "message", errmsg && *errmsg ? errmsg : nr_strerror(status));
		json_end_obj(&j);
		json_end_obj(&j);
		json_done(&j);
	}
	finish(a, exit_code_of(status));
}

/* A call that could not even be sent. */
static int started(struct app *a, int rc)
{
	if (rc < 0)
		fail_op(a, rc, nr_last_errmsg());
	return rc;
}

/* An answer that is an error: reported, and the program stops. */
static bool failed(struct app *a, int status, const char *errmsg)
{
	if (status >= 0)
		return false;
	fail_op(a, status, errmsg);
	return true;
}

/* ---- lists: nodes, routes, endpoints -------------------------------------------- */

static int list_routes(struct app *a);
static int list_endpoints(struct app *a);

/* A list answer. Alone (`nodes`, `routes`, `endpoints`) it is the whole
 * output; under `status --verbose` it is one section, and the next list is
 * asked for only now (each answer is valid only inside its callback). */
static void on_list(struct app *a, int status, const char *errmsg, const struct list_view *v,
		    const void *items, size_t n, int (*next)(struct app *a))
{
	if (failed(a, status, errmsg))
		return;
	print_list(a->json ? &a->j : NULL, v, items, n, a->verbose);
	if (a->verbose && next) {
		next(a);
		return;
	}
	if (a->verbose && a->json) {
		json_end_obj(&a->j); /* the object on_status began */
		json_done(&a->j);
	}
	finish(a, EXIT_OK);
}

static void on_nodes(struct nr_client *c, int status, const char *errmsg,
		     const struct nr_node_info *nodes, size_t n, void *data)
{
	(void)c;
	on_list(data, status, errmsg, &nodes_view, nodes, n, list_routes);
}

static void on_routes(struct nr_client *c, int status, const char *errmsg,
		      const struct nr_route_info *routes, size_t n, void *data)
{
	(void)c;
	on_list(data, status, errmsg, &routes_view, routes, n, list_endpoints);
}

static void on_endpoints(struct nr_client *c, int status, const char *errmsg,
			 const struct nr_endpoint_info *eps, size_t n, void *data)
{
	(void)c;
	on_list(data, status, errmsg, &endpoints_view, eps, n, NULL);
}

static int list_nodes(struct app *a)
{
	return started(a, nr_client_node_list(a->client, on_nodes, a));
}

static int list_routes(struct app *a)
{
	return started(a, nr_client_route_list(a->client, on_routes, a));
}

static int list_endpoints(struct app *a)
{
	return started(a, nr_client_endpoint_list(a->client, on_endpoints, a));
}

/* ---- status ---------------------------------------------------------------------- */

/* --verbose: status, then nodes, routes and endpoints, one call after the
 * other. */
static void on_status(struct nr_client *c, int status, const char *errmsg,
		      const struct nr_status *st, void *data)
{
	struct app *a = data;

	if (failed(a, status, errmsg))
		return;
	if (a->json && !a->verbose) {
		json_status(&a->j, NULL, st);
		json_done(&a->j);
	} else if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_status(&a->j, "status", st);
	} else {
		print_status_text(st);
	}
	if (!a->verbose) {
		finish(a, EXIT_OK);
		return;
	}
	list_nodes(a);
}

static int run_status(struct app *a)
{
	return started(a, nr_client_status(a->client, on_status, a));
}

/* ---- nodes ---------------------------------------------------------------------- */

static void on_node(struct nr_client *c, int status, const char *errmsg,
		    const struct nr_node_info *node, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		if (node)
			json_node(&a->j, node);
		else
			json_str(&a->j, NULL, NULL);
		json_done(&a->j);
	} else if (node) {
		table_nodes(node, 1, "");
	}
	finish(a, EXIT_OK);
}

static int run_node_add(struct app *a)
{
	NR_OPTS(nr_node_spec, spec, .name = a->argv[0], .ipv4 = a->ip, .ipv6 = a->ip6,
		.pod_cidrs = a->n_pod_cidrs ? a->pod_cidrs : NULL);

	if (!a->ip && !a->ip6) {
		fprintf(stderr, "%s: %s: --ip or --ip6 is required\n", prog, a->cmd->name);
		finish(a, EXIT_USAGE);
		return -EINVAL;
	}
	if (!strcmp(a->cmd->name, "node update"))
		return started(a, nr_client_node_update(a->client, &spec, on_node, a));
	return started(a, nr_client_node_add(a->client, &spec, on_node, a));
}

static int run_node_get(struct app *a)
{
	return started(a, nr_client_node_get(a->client, a->argv[0], on_node, a));
}

static void on_done(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_bool(&a->j, "ok", true);
		json_end_obj(&a->j);
		json_done(&a->j);
	}
	finish(a, EXIT_OK);
}

static int run_node_del(struct app *a)
{
	return started(a, nr_client_node_remove(a->client, a->argv[0], on_done, a));
}

/* ---- endpoints ------------------------------------------------------------------ */

static void on_endpoint(struct nr_client *c, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_endpoint(&a->j, ep);
		json_done(&a->j);
	} else {
		table_endpoints(ep, 1, "");
	}
	finish(a, EXIT_OK);
}

static int run_endpoint_add(struct app *a)
{
	NR_OPTS(nr_endpoint_spec, spec, .id = a->argv[0], .ifname = a->ifname);

	if (!a->ifname) {
		fprintf(stderr, "%s: endpoint add: --ifname is required\n", prog);
		finish(a, EXIT_USAGE);
		return -EINVAL;
	}
	if (a->ip) {
		if (strchr(a->ip, ':'))
			spec.ipv6 = a->ip;
		else
			spec.ipv4 = a->ip;
	}
	return started(a, nr_client_endpoint_add(a->client, &spec, on_endpoint, a));
}

static int run_endpoint_del(struct app *a)
{
	return started(a, nr_client_endpoint_remove(a->client, a->argv[0], on_done, a));
}

/* ---- mode, ipam ---------------------------------------------------------------------- */

static void on_mode(struct nr_client *c, int status, const char *errmsg,
		    enum nr_routing_mode mode, bool adnr, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_str(&a->j, "mode", nr_routing_mode_str(mode));
		json_bool(&a->j, "auto_direct_node_routes", adnr);
		json_str(&a->j, "tunnel", mode == NR_MODE_NATIVE ? "disabled" : "vxlan");
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("%s\n", nr_routing_mode_str(mode));
	}
	finish(a, EXIT_OK);
}

static int run_mode(struct app *a)
{
	NR_OPTS(nr_mode_opts, mo, .auto_direct_node_routes = a->adnr,
		.direct_routing_skip_unreachable = a->skip);

	if (a->argc == 0 && !a->adnr && !a->skip)
		return started(a, nr_client_mode_get(a->client, on_mode, a));
	if (a->argc != 2 || strcmp(a->argv[0], "set") != 0) {
		fprintf(stderr, "%s: usage: nrctl mode [set native|tunnel|hybrid "
			"[--[no-]auto-direct-node-routes] [--[no-]direct-routing-skip-unreachable]]\n",
			prog);
		finish(a, EXIT_USAGE);
		return -EINVAL;
	}
	if (nr_routing_mode_parse(a->argv[1], &mo.mode) < 0) {
		fprintf(stderr, "%s: mode set: \"%s\": expected native, tunnel or hybrid\n", prog,
			a->argv[1]);
		finish(a, EXIT_USAGE);
		return -EINVAL;
	}
	/* one call: the mode and the switches are checked together */
	return started(a, nr_client_mode_set_opts(a->client, &mo, on_mode, a));
}

static void on_ipam(struct nr_client *c, int status, const char *errmsg,
		    const struct nr_ipam_info *ipam, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_str(&a->j, "mode", nr_ipam_mode_str(ipam->mode));
		json_u64(&a->j, "used", ipam->used);
		json_u64(&a->j, "total", ipam->total);
		json_begin_arr(&a->j, "allocations");
		for (size_t i = 0; i < ipam->n_allocations; i++) {
			json_begin_obj(&a->j, NULL);
			json_str(&a->j, "node", ipam->allocations[i].node);
			json_str(&a->j, "cidr", ipam->allocations[i].cidr);
			json_end_obj(&a->j);
		}
		json_end_arr(&a->j);
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("IPAM: %s  %zu/%zu allocated\n", nr_ipam_mode_str(ipam->mode), ipam->used,
		       ipam->total);
		printf("%-24s %s\n", "CIDR", "NODE");
		for (size_t i = 0; i < ipam->n_allocations; i++)
			printf("%-24s %s\n", ipam->allocations[i].cidr, ipam->allocations[i].node);
	}
	finish(a, EXIT_OK);
}

static int run_ipam(struct app *a)
{
	return started(a, nr_client_ipam_status(a->client, on_ipam, a));
}

/* ---- events ----------------------------------------------------------------------------- */

static void on_event(struct nr_client *c, const struct nr_event *ev, uint64_t seq, void *data)
{
	struct app *a = data;

	(void)c;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_u64(&a->j, "seq", seq);
		json_str(&a->j, "type", nr_event_type_str(ev->type));
		json_str(&a->j, "node", ev->node);
		json_str(&a->j, "object", ev->object);
		json_str(&a->j, "message", ev->message);
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("%-6llu %-20s %-16s %s\n", (unsigned long long)seq, nr_event_type_str(ev->type),
		       dash(ev->node), ev->message);
		fflush(stdout);
	}
	if (a->count && ++a->seen >= a->count)
		finish(a, EXIT_OK);
}

static void on_state(struct nr_client *c, bool connected, int status, void *data)
{
	struct app *a = data;

	(void)c;
	if (!connected) {
		fprintf(stderr, "%s: events: connection to the daemon lost (%s)\n", prog,
			nr_err_name(status));
		finish(a, EXIT_UNREACHABLE);
	}
}

static void on_subscribed(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (!a->json)
		fprintf(stderr, "%s: watching events (Ctrl-C to stop)\n", prog);
}

static int run_events(struct app *a)
{
	return started(a, nr_client_subscribe(a->client, on_subscribed, a));
}

/* ---- commands ------------------------------------------------------------------------------- */

static const struct command commands[] = {
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
	  run_node_del, 1, 1, "i6p" },
	{ "node get", "NAME", "Show one node.", run_node_get, 1, 1, "i6p" },
	{ "routes", "", "List the routes the controller plans and whether the kernel has them.",
	  list_routes, 0, 0, "" },
	{ "endpoints", "", "List the pods on this node.", list_endpoints, 0, 0, "" },
	{ "endpoint add", "ID --ifname IF [--ip IP]",
	  "Add a pod whose host-side interface is IF; without --ip an address is allocated.",
	  run_endpoint_add, 1, 1, "fi" },
	{ "endpoint del", "ID", "Remove a pod.", run_endpoint_del, 1, 1, "" },
	{ "mode", "[set native|tunnel|hybrid [--[no-]auto-direct-node-routes] "
	  "[--[no-]direct-routing-skip-unreachable]]",
	  "Show or switch the routing mode (and the direct-routing switches, checked together).",
	  run_mode, 0, 2, "AaSs" },
	{ "ipam", "", "IPAM mode, usage and every node CIDR allocation.", run_ipam, 0, 0, "" },
	{ "events", "[--count N]",
	  "Print the controller's events as they happen (one per line; -o json: JSON lines).\n"
	  "  --count N  exit after N events", run_events, 0, 0, "n" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: nrctl [--socket PATH] [-o table|json] [--timeout MS] COMMAND [ARGS]\n"
		"Control a nativerouted daemon.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].usage);
	fprintf(out,
		"\nOptions:\n"
		"  --socket PATH   daemon socket (default %s, or $NRCTL_SOCKET)\n"
		"  -o, --output F  table (default) or json\n"
		"  --timeout MS    give up waiting for the daemon (default 10000)\n"
		"  -h, --help      this text; `nrctl COMMAND --help` for one command\n"
		"\nExit status: 0 ok, 1 operation failed, 2 usage, 3 daemon unreachable,\n"
		"4 permission denied. See nrctl(1).\n",
		NR_CLIENT_DEFAULT_SOCKET);
}

static void command_help(const struct command *cmd)
{
	printf("Usage: nrctl [global options] %s %s\n%s\n", cmd->name, cmd->usage, cmd->help);
}

/* Match argv against "node add" style names; returns how many words matched. */
static const struct command *find_command(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
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

/* Options of the command itself; returns 0, 1 (help printed) or -1. */
static int parse_command_opts(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' }, { "ip", required_argument, NULL, 'i' },
		{ "ip6", required_argument, NULL, '6' }, { "pod-cidr", required_argument, NULL, 'p' },
		{ "ifname", required_argument, NULL, 'f' }, { "count", required_argument, NULL, 'n' },
		{ "auto-direct-node-routes", no_argument, NULL, 'A' },
		{ "no-auto-direct-node-routes", no_argument, NULL, 'a' },
		{ "direct-routing-skip-unreachable", no_argument, NULL, 'S' },
		{ "no-direct-routing-skip-unreachable", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	/* GNU getopt permutes: options may follow the arguments
	 * ("node add n2 --ip 192.168.1.11"). */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			command_help(a->cmd);
			return 1;
		}
		if (c == '?' || !strchr(a->cmd->options, c)) {
			if (c != '?')
				fprintf(stderr, "%s: %s: option not accepted here\n", prog, a->cmd->name);
			command_help(a->cmd);
			return -1;
		}
		switch (c) {
		case 'v': a->verbose = true; break;
		case 'i': a->ip = optarg; break;
		case '6': a->ip6 = optarg; break;
		case 'f': a->ifname = optarg; break;
		case 'A': a->adnr = NR_SWITCH_ON; break;
		case 'a': a->adnr = NR_SWITCH_OFF; break;
		case 'S': a->skip = NR_SWITCH_ON; break;
		case 's': a->skip = NR_SWITCH_OFF; break;
		case 'n':
			a->count = strtol(optarg, NULL, 10);
			if (a->count <= 0) {
				fprintf(stderr, "%s: --count %s: expected a positive number\n", prog,
					optarg);
				return -1;
			}
			break;
		case 'p':
			if (a->n_pod_cidrs >= 16) {
				fprintf(stderr, "%s: at most 16 --pod-cidr\n", prog);
				return -1;
			}
			a->pod_cidrs[a->n_pod_cidrs++] = optarg;
			break;
		}
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (a->argc < a->cmd->min_args || a->argc > a->cmd->max_args) {
		fprintf(stderr, "%s: %s: wrong number of arguments\n", prog, a->cmd->name);
		command_help(a->cmd);
		return -1;
	}
	return 0;
}

static void on_connected(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	if (status < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s%s\n", prog, a->socket, nr_strerror(status),
			status == -ENOENT || status == -ECONNREFUSED ? " (is nativerouted running?)" : "");
		finish(a, status == -EACCES ? EXIT_DENIED : EXIT_UNREACHABLE);
		return;
	}
	a->cmd->run(a);
}

static void on_sigint(uv_signal_t *s, int signum)
{
	(void)signum;
	finish(s->data, EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option global[] = {
		{ "socket", required_argument, NULL, 's' }, { "output", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct app a = { .loop = uv_default_loop(), .timeout_ms = 10000 };
	int c, words = 0, rc;

	a.socket = getenv("NRCTL_SOCKET") ? getenv("NRCTL_SOCKET") : NR_CLIENT_DEFAULT_SOCKET;
	/* "+": stop at the command name; its own options come after it. */
	while ((c = getopt_long(argc, argv, "+o:h", global, NULL)) != -1) {
		switch (c) {
		case 's': a.socket = optarg; break;
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "%s: -o %s: expected table or json\n", prog, optarg);
				return EXIT_USAGE;
			}
			a.json = !strcmp(optarg, "json");
			break;
		case 't': a.timeout_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[0], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	a.cmd = find_command(argc, argv, &words);
	if (!a.cmd) {
		fprintf(stderr, "%s: unknown command \"%s%s%s\"\n", prog, argv[0], argc > 1 ? " " : "",
			argc > 1 ? argv[1] : "");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* The command's own argv: its name word as argv[0] for getopt. */
	rc = parse_command_opts(&a, argc - words + 1, argv + words - 1);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;

	/* A daemon that closes on us (full, or dropping an idle client) must
	 * give an error message, not a silent death by SIGPIPE mid-write. */
	signal(SIGPIPE, SIG_IGN);
	json_init(&a.j, stdout);
	NR_OPTS(nr_client_opts, copts, .socket_path = a.socket,
		.timeout_ms = a.cmd->run == run_events ? 0 : a.timeout_ms, .event_cb = on_event,
		.event_data = &a, .state_cb = on_state, .state_data = &a);
	rc = nr_client_new(a.loop, &copts, &a.client);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, nr_last_errmsg());
		return EXIT_USAGE;
	}
	uv_signal_init(a.loop, &a.sigint);
	a.sigint.data = &a;
	uv_signal_start(&a.sigint, on_sigint, SIGINT);
	uv_unref((uv_handle_t *)&a.sigint);
	if (nr_client_connect(a.client, on_connected, &a) < 0) {
		fprintf(stderr, "%s: %s\n", prog, nr_last_errmsg());
		finish(&a, EXIT_UNREACHABLE);
	}
	uv_run(a.loop, UV_RUN_DEFAULT);
	uv_loop_close(a.loop);
	return a.exit_code;
}
