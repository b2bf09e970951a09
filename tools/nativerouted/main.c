/* nativerouted: hosts one controller for a node (or a network namespace) and
 * shares it with every local process over MessagePack-RPC (DESIGN.md §6-§7). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/error.h>
#include <nativeroute/opts.h>
#include <nativeroute/version.h>

#include "ipc/rpc_methods.h"
#include "ipc/rpc_server.h"

#include "config.h"
#include "options.h"
#include "log.h"

struct daemon {
	uv_loop_t *loop;
	struct nrd_config cfg;
	struct nr_ctl *ctl;
	struct nr_rpc_server *srv;
	uv_signal_t sigterm, sigint;
	bool stopping;
	int exit_code;
};

/* getopt's table, made from the one list of options (options.c). Every
 * option reports 0 and is told apart by name. */
static struct option *long_options(void)
{
	size_t n = 0;
	struct option *lo;

	while (nrd_options[n].name)
		n++;
	lo = calloc(n + 1, sizeof(*lo));
	if (!lo)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct nrd_option *o = &nrd_options[i];

		lo[i].name = o->name;
		/* a switch may be given a value: --auto-direct-node-routes=false */
		lo[i].has_arg = o->arg ? required_argument
			      : (o->flags & NRD_OPT_CLI_ONLY) ? no_argument : optional_argument;
	}
	return lo;
}

/* Two passes: --config first (the file is the base), then every other flag
 * on top of it. Returns 0, 1 (done: help/version) or -1 (usage error). */
static int parse_args(struct nrd_config *cfg, int argc, char **argv)
{
	struct option *lo = long_options();
	char err[512];
	int c, idx, rc = 0;

	if (!lo) {
		fputs("nativerouted: out of memory\n", stderr);
		return -1;
	}
	opterr = 1;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		optind = 0; /* GNU: re-initialise */
		while (rc == 0 && (c = getopt_long(argc, argv, "", lo, &idx)) != -1) {
			const char *name = c == 0 ? lo[idx].name : "";
			char origin[64];

			if (c != 0) {
				fputs("Try 'nativerouted --help'.\n", stderr);
				rc = -1;
			} else if (!strcmp(name, "config")) {
				if (pass == 0) {
					free(cfg->config_file);
					cfg->config_file = strdup(optarg);
					if (nrd_config_load_file(cfg, optarg, err, sizeof(err)) < 0) {
						fprintf(stderr, "nativerouted: %s\n", err);
						rc = -1;
					}
				}
			} else if (!strcmp(name, "purge")) {
				cfg->purge = true;
			} else if (!strcmp(name, "check-config")) {
				cfg->check_config = true;
			} else if (!strcmp(name, "help")) {
				nrd_options_usage(stdout);
				rc = 1;
			} else if (!strcmp(name, "version")) {
				printf("nativerouted %s\n", nr_version_string());
				rc = 1;
			} else if (pass == 1) {
				snprintf(origin, sizeof(origin), "--%s", name);
				if (nrd_config_set(cfg, name, optarg, origin, err, sizeof(err)) < 0) {
					fprintf(stderr, "nativerouted: %s\n", err);
					rc = -1;
				}
			}
			opterr = pass; /* report unknown flags once */
		}
	}
	free(lo);
	if (rc != 0)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "nativerouted: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (nrd_config_validate(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nativerouted: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- systemd readiness (sd_notify without libsystemd) ----------------------- */

static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		nrd_log(LOG_DEBUG, "sd_notify: %s", strerror(errno));
	close(fd);
}

/* ---- events and RPC log ----------------------------------------------------- */

static void on_event(struct nr_ctl *ctl, const struct nr_event *ev, void *data)
{
	struct daemon *d = data;
	int level = LOG_INFO;

	(void)ctl;
	switch (ev->type) {
	case NR_EVENT_ERROR:
		level = LOG_ERR;
		break;
	case NR_EVENT_NODE_UNREACHABLE:
	case NR_EVENT_DRIFT_REPAIRED:
	case NR_EVENT_STATE_MIGRATED:
	case NR_EVENT_ENDPOINT_GONE:
		level = LOG_WARNING;
		break;
	case NR_EVENT_ROUTE_PROGRAMMED:
	case NR_EVENT_ROUTE_REMOVED:
	case NR_EVENT_RESYNC:
		level = LOG_DEBUG;
		break;
	default:
		break;
	}
	nrd_log(level, "%s: %s", nr_event_type_str(ev->type), ev->message);
	nr_rpc_server_event(d->srv, ev);
}

static void on_rpc_log(enum nr_rpc_log_level level, const char *msg, void *data)
{
	static const int map[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

	(void)data;
	nrd_log(map[level], "rpc: %s", msg);
}

/* ---- life cycle ---------------------------------------------------------------- */

static void on_ctl_closed(struct nr_ctl *ctl, void *data)
{
	struct daemon *d = data;

	(void)ctl;
	d->ctl = NULL;
}

static void stop(struct daemon *d, int exit_code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = exit_code;
	if (d->srv) {
		nr_rpc_server_close(d->srv, NULL, NULL);
		d->srv = NULL;
	}
	if (d->ctl)
		nr_ctl_close(d->ctl, on_ctl_closed, d);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	nrd_log(LOG_INFO, "%s: stopping; routes stay in place", strsignal(signum));
	sd_notify_msg("STOPPING=1");
	stop(d, 0);
}

static void on_started(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct daemon *d = data;
	struct nr_status st = { .sz = sizeof(st) };

	if (status == -ECANCELED)
		return;
	if (status < 0) {
		nrd_log(LOG_ERR, "first reconcile failed: %s (%s)", errmsg ? errmsg : "",
			nr_err_name(status));
		stop(d, 1);
		return;
	}
	nr_ctl_status(ctl, &st);
	nrd_log(LOG_INFO, "ready: %s routing, %zu node(s), %zu route(s) programmed, socket %s",
		nr_routing_mode_str(st.routing_mode), st.nodes, st.routes_programmed, d->cfg.socket);
	sd_notify_msg("READY=1");
}

static void on_purged(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct daemon *d = data;

	(void)ctl;
	if (status == -ECANCELED)
		return;
	if (status < 0) {
		nrd_log(LOG_ERR, "purge failed: %s (%s)", errmsg ? errmsg : "", nr_err_name(status));
		stop(d, 1);
		return;
	}
	nrd_log(LOG_INFO, "purged: no route, nexthop, neighbour/FDB entry, nr_vxlan device or "
		"nftables table of ours remains in %s, state files removed from %s%s",
		d->cfg.netns ? d->cfg.netns : "this namespace", d->cfg.state_dir,
		d->cfg.store && !strcmp(d->cfg.store, "etcd")
			? ", this node's key and CIDR claims deleted from etcd" : "");
	stop(d, 0);
}

static int make_dirs(const char *dir)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1;; p++) {
		char saved;

		p = strchr(p, '/');
		saved = p ? *p : '\0';
		if (p)
			*p = '\0';
		/* the state directory itself is private: 0700 */
		if (mkdir(buf, p ? 0755 : 0700) < 0 && errno != EEXIST)
			return -errno;
		if (!p)
			return 0;
		*p = saved;
	}
}

/* A daemon already answering on the socket must not be purged under. */
static bool socket_is_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc == 0;
}

static int create_controller(struct daemon *d)
{
	struct nrd_config *cfg = &d->cfg;
	NR_OPTS(nr_etcd_opts, etcd);
	/* The saved state is loaded (and the daemon starts over it at once, so
	 * a restart over an unchanged cluster changes nothing in the kernel).
	 * --purge does not need it: a damaged state file must not block it. */
	NR_OPTS(nr_ctl_opts, opts,
		.netns = cfg->netns,
		.node_name = cfg->node_name,
		.node_ipv4 = cfg->node_ip,
		.node_ipv6 = cfg->node_ip6,
		.routing_mode = cfg->mode,
		/* --purge needs no pool: a throwaway model without one */
		.ipam_mode = cfg->purge && !cfg->n_cluster_cidrs ? NR_IPAM_KUBERNETES : cfg->ipam,
		.cluster_cidrs = cfg->n_cluster_cidrs ? (const char *const *)cfg->cluster_cidrs : NULL,
		.mask_size_v4 = cfg->mask_size,
		.mask_size_v6 = cfg->mask_size6,
		.pod_cidrs = cfg->n_pod_cidrs ? (const char *const *)cfg->pod_cidrs : NULL,
		.native_routing_cidr = cfg->native_routing_cidr,
		.native_routing_cidr6 = cfg->native_routing_cidr6,
		.auto_direct_node_routes = cfg->auto_direct_node_routes && !cfg->purge,
		.bpf = cfg->bpf,
		.vxlan_port = (uint16_t)cfg->vxlan_port,
		.vxlan_mtu = cfg->mtu ? cfg->mtu - 50 : 0,
		.direct_routing_skip_unreachable = cfg->skip_unreachable,
		.masquerade_ipv4 = cfg->masquerade4,
		.masquerade_ipv6 = cfg->masquerade6,
		.non_masquerade_cidrs = cfg->n_non_masquerade_cidrs
			? (const char *const *)cfg->non_masquerade_cidrs : NULL,
		.event_cb = on_event,
		.event_data = d,
		.state_dir = cfg->state_dir,
		.allow_config_migration = cfg->allow_config_migration,
		.native_without_tunnel = cfg->native_without_tunnel,
		.endpoint_grace_ms = cfg->endpoint_grace * 1000u,
		.discard_saved_state = cfg->purge);
	int rc;

	/* --purge with the etcd store also deletes this node's keys there */
	if (cfg->store && !strcmp(cfg->store, "etcd")) {
		nrd_etcd_config_opts(&cfg->etcd, &etcd);
		opts.etcd = &etcd;
	}
	rc = nr_ctl_new(d->loop, &opts, &d->ctl);

	if (rc < 0)
		nrd_log(LOG_ERR, "cannot create the controller: %s (%s)", nr_last_errmsg(),
			nr_err_name(rc));
	return rc;
}

static int start_server(struct daemon *d)
{
	struct nr_rpc_server_opts so = {
		.path = d->cfg.socket,
		.find_method = nr_rpc_method_find,
		.data = d->ctl,
		.max_clients = d->cfg.max_clients,
		.max_queue = (size_t)d->cfg.max_queue_kb * 1024,
		.client_timeout_ms = (uint64_t)d->cfg.client_timeout * 1000,
		.log = on_rpc_log,
		.log_data = d,
	};
	struct nr_err err = { 0 };
	int rc;

	if (d->cfg.socket_group) {
		struct group *g = getgrnam(d->cfg.socket_group);

		if (!g) {
			nrd_log(LOG_ERR, "--socket-group %s: no such group", d->cfg.socket_group);
			return -ENOENT;
		}
		so.has_group = true;
		so.group = g->gr_gid;
	}
	rc = nr_rpc_server_new(d->loop, &so, &d->srv, &err);
	if (rc < 0)
		nrd_log(LOG_ERR, "cannot serve on %s: %s", d->cfg.socket, err.msg);
	return rc;
}

int main(int argc, char **argv)
{
	struct daemon d = { .loop = uv_default_loop() };
	int rc;

	nrd_config_init(&d.cfg);
	rc = parse_args(&d.cfg, argc, argv);
	if (rc != 0) {
		nrd_config_free(&d.cfg);
		return rc > 0 ? 0 : 2;
	}
	if (d.cfg.check_config) {
		nrd_config_print(&d.cfg, stdout);
		nrd_config_free(&d.cfg);
		return 0;
	}
	nrd_log_init(d.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (d.cfg.purge && socket_is_live(d.cfg.socket)) {
		nrd_log(LOG_ERR, "--purge: a daemon is running on %s; stop it first", d.cfg.socket);
		nrd_config_free(&d.cfg);
		nrd_log_close();
		return 1;
	}
	if ((rc = make_dirs(d.cfg.state_dir)) < 0) {
		nrd_log(LOG_ERR, "--state-dir %s: %s", d.cfg.state_dir, strerror(-rc));
		nrd_config_free(&d.cfg);
		nrd_log_close();
		return 1;
	}
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sigint);
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);

	if (create_controller(&d) < 0 || (!d.cfg.purge && start_server(&d) < 0)) {
		stop(&d, 1);
	} else {
		struct nr_status st = { .sz = sizeof(st) };

		/* the mode in effect: a mode.set saved in the state wins over
		 * unchanged options (see nr_ctl_opts.state_dir) */
		nr_ctl_status(d.ctl, &st);
		nrd_log(LOG_INFO, "nativerouted %s: node %s (%s%s%s), %s routing%s%s%s, %s IPAM%s%s",
			nr_version_string(), d.cfg.node_name, d.cfg.node_ip ? d.cfg.node_ip : "",
			d.cfg.node_ip && d.cfg.node_ip6 ? " " : "", d.cfg.node_ip6 ? d.cfg.node_ip6 : "",
			nr_routing_mode_str(st.routing_mode),
			st.auto_direct_node_routes ? ", auto-direct-node-routes" : "",
			st.direct_routing_skip_unreachable ? ", skip unreachable" : "",
			!d.cfg.purge && (st.routing_mode != d.cfg.mode ||
					st.auto_direct_node_routes != d.cfg.auto_direct_node_routes)
				? " (saved by mode set; the options are unchanged)" : "",
			nr_ipam_mode_str(st.ipam_mode),
			d.cfg.netns ? ", netns " : "", d.cfg.netns ? d.cfg.netns : "");
		rc = d.cfg.purge ? nr_ctl_purge(d.ctl, on_purged, &d) : nr_ctl_start(d.ctl, on_started, &d);
		if (rc < 0) {
			nrd_log(LOG_ERR, "cannot start: %s (%s)", nr_last_errmsg(), nr_err_name(rc));
			stop(&d, 1);
		}
	}
	uv_run(d.loop, UV_RUN_DEFAULT);
	rc = d.exit_code;
	if (uv_loop_close(d.loop) == UV_EBUSY)
		nrd_log(LOG_WARNING, "handles still open at exit");
	nrd_config_free(&d.cfg);
	nrd_log_close();
	return rc;
}
