/* What the files of nrctl share. nrctl is the command line of a shared
 * controller (DESIGN.md §7), built on the public client library only:
 *   main.c          start: options, connect, run the loop
 *   options.c       the one table of option names (global and per command)
 *   commands.c      the command table, usage and help texts
 *   report.c        ending a command: exit codes, error reports
 *   cmd_status.c    status and the lists (nodes, routes, endpoints)
 *   cmd_node.c      node add/update/get/del
 *   cmd_endpoint.c  endpoint add/get/del
 *   cmd_mode.c      mode (get/set) and ipam
 *   cmd_events.c    events
 *   print.c json.c  how answers are shown (tables, JSON) */
#ifndef NRCTL_NRCTL_H
#define NRCTL_NRCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <nativeroute/client.h>

#include "json.h"

/* Exit codes scripts can rely on (nrctl(1)). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_DENIED = 4 };

struct app;
struct list_view;

struct command {
	const char *name;  /* "node add" */
	const char *usage; /* after the name */
	const char *help;
	int (*run)(struct app *a);
	int min_args, max_args; /* positional arguments after the name */
	const char *options;    /* the command options it takes, as option keys */
};

struct app {
	uv_loop_t *loop;
	struct nr_client *client;
	const struct command *cmd;
	/* global options (before or after the command) */
	const char *socket;
	unsigned int timeout_ms;
	bool json;
	/* command options */
	bool verbose;
	int argc;          /* positional arguments of the command */
	char **argv;
	const char *ip, *ip6, *ifname;
	const char *pod_cidrs[17];
	size_t n_pod_cidrs;
	enum nr_switch adnr, skip; /* mode set: direct-routing switches */
	long count;        /* events: stop after this many, 0 = forever */
	long seen;
	const struct list_view *view; /* the list being printed, item by item */
	bool list_open;               /* its header (or JSON array) is out */
	int exit_code;
	struct json j;
	uv_signal_t sigint;
};

extern const char *prog;

/* ---- commands.c ---- */
extern const struct command commands[];
extern const size_t n_commands;
void usage(FILE *out);
void command_help(const struct command *cmd);
/* Match argv against "node add" style names; *words: how many matched. */
const struct command *find_command(int argc, char **argv, int *words);

/* ---- options.c ---- */
/* Global options before the command (stops at the command name); returns
 * -1 to go on, else the exit code. argv/argc are advanced past them. */
int parse_global_opts(struct app *a, int *argc, char ***argv);
/* The command's options and arguments (argv[0] is its last name word);
 * global options are accepted here too. 0 go on, 1 help printed, -1 usage. */
int parse_command_opts(struct app *a, int argc, char **argv);

/* ---- report.c ---- */
/* End the program with (at least) `code`: closes the client and the signal
 * handle, so the loop ends. */
void finish(struct app *a, int code);
/* A call that could not even be sent (rc < 0): reported, finish. Returns rc. */
int started(struct app *a, int rc);
/* An answer that is an error: reported, finish; true then. */
bool failed(struct app *a, int status, const char *errmsg);
/* A usage error found by a command: message on stderr, exit 2. */
int usage_error(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the commands (cmd_*.c) ---- */
int run_status(struct app *a);
int list_nodes(struct app *a);
int list_routes(struct app *a);
int list_endpoints(struct app *a);
int run_node_add(struct app *a); /* also "node update" */
int run_node_get(struct app *a);
int run_node_del(struct app *a);
int run_endpoint_add(struct app *a);
int run_endpoint_get(struct app *a);
int run_endpoint_del(struct app *a);
int run_mode(struct app *a);
int run_ipam(struct app *a);
int run_events(struct app *a);
/* "done" answers (node del, endpoint del): {"ok": true} with -o json. */
void on_done(struct nr_client *c, int status, const char *errmsg, void *data);
/* Client callbacks of the events command. */
void on_event(struct nr_client *c, const struct nr_event *ev, uint64_t seq, void *data);
void on_state(struct nr_client *c, bool connected, int status, void *data);

#endif
