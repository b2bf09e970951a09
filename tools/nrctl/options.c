/* Every option name of nrctl, in one table: the global ones (accepted
 * before or after the command: `nrctl -o json events` and `nrctl events -o
 * json` are the same) and the command ones (each command lists the keys it
 * accepts in commands.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nrctl.h"

/* Keys of the global options (not letters: they can never clash with a
 * command's); the command options use letters. */
enum { OPT_SOCKET = 256, OPT_TIMEOUT, OPT_OUTPUT = 'o', OPT_HELP = 'h' };

static const struct option options[] = {
	/* global */
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, OPT_HELP },
	/* per command */
	{ "verbose", no_argument, NULL, 'v' },
	{ "ip", required_argument, NULL, 'i' },
	{ "ip6", required_argument, NULL, '6' },
	{ "pod-cidr", required_argument, NULL, 'p' },
	{ "ifname", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'n' },
	{ "auto-direct-node-routes", no_argument, NULL, 'A' },
	{ "no-auto-direct-node-routes", no_argument, NULL, 'a' },
	{ "direct-routing-skip-unreachable", no_argument, NULL, 'S' },
	{ "no-direct-routing-skip-unreachable", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

/* A global option: applied wherever it appears. Returns 0, or -1 for a bad
 * value (message printed). */
static int global_opt(struct app *a, int key)
{
	switch (key) {
	case OPT_SOCKET:
		a->socket = optarg;
		return 0;
	case OPT_OUTPUT:
		if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
			fprintf(stderr, "%s: -o %s: expected table or json\n", prog, optarg);
			return -1;
		}
		a->json = !strcmp(optarg, "json");
		return 0;
	case OPT_TIMEOUT:
		a->timeout_ms = (unsigned int)strtoul(optarg, NULL, 10);
		return 0;
	}
	return 1; /* not a global option */
}

int parse_global_opts(struct app *a, int *argc, char ***argv)
{
	int c, rc;

	/* "+": stop at the command name; what follows it is the command's. */
	optind = 0;
	while ((c = getopt_long(*argc, *argv, "+o:h", options, NULL)) != -1) {
		if (c == OPT_HELP) {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == '?') {
			usage(stderr);
			return EXIT_USAGE;
		}
		rc = global_opt(a, c);
		if (rc == 1) {
			fprintf(stderr, "%s: %s belongs after the command it is for\n", prog,
				(*argv)[optind - 1]);
			usage(stderr);
		}
		if (rc != 0)
			return EXIT_USAGE;
	}
	*argc -= optind;
	*argv += optind;
	return -1;
}

/* A command option, if the command accepts it. */
static int command_opt(struct app *a, int key)
{
	switch (key) {
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
			fprintf(stderr, "%s: --count %s: expected a positive number\n", prog, optarg);
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
	return 0;
}

int parse_command_opts(struct app *a, int argc, char **argv)
{
	int c, rc;

	optind = 0;
	/* GNU getopt permutes: options may follow the arguments
	 * ("node add n2 --ip 192.168.1.11"). */
	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		if (c == OPT_HELP) {
			command_help(a->cmd);
			return 1;
		}
		if (c == '?') {
			command_help(a->cmd);
			return -1;
		}
		rc = global_opt(a, c);
		if (rc == 1 && !strchr(a->cmd->options, c)) {
			fprintf(stderr, "%s: %s: option not accepted here\n", prog, a->cmd->name);
			command_help(a->cmd);
			return -1;
		}
		if (rc == 1)
			rc = command_opt(a, c);
		if (rc < 0)
			return -1;
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
