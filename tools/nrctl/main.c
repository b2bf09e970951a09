/* nrctl: the command line of a shared controller (DESIGN.md §7), built on the
 * client library. Tables for people, `-o json` for scripts (the RPC field
 * names), and exit codes scripts can rely on:
 *   0 success, 1 the daemon refused or failed the operation, 2 usage error,
 *   3 daemon unreachable (no socket, connection lost, timeout),
 *   4 permission denied (read-only peer, or socket mode).
 * This file starts a command: options, connection, loop; nrctl.h lists the
 * others. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nativeroute/error.h>
#include <nativeroute/opts.h>

#include "nrctl.h"

static void on_connected(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	(void)errmsg;
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
	struct app a = { .loop = uv_default_loop(), .timeout_ms = 10000 };
	int words = 0, rc;

	a.socket = getenv("NRCTL_SOCKET") ? getenv("NRCTL_SOCKET") : NR_CLIENT_DEFAULT_SOCKET;
	rc = parse_global_opts(&a, &argc, &argv);
	if (rc >= 0)
		return rc;
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
