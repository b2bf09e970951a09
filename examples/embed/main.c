/* nr-embed: how an orchestrator embeds libnativeroute on its own libuv loop.
 *
 * It creates one controller for one node, then reads commands - one per
 * line, as an orchestrator would receive them from its cluster state - from
 * standard input and applies them asynchronously:
 *
 *   node add NAME IPV4 [CIDR...]     a remote node (CIDRs: kubernetes IPAM)
 *   node update NAME IPV4 [CIDR...]
 *   node del NAME
 *   endpoint add ID IFNAME [IP]      a pod on this node; prints its address
 *   endpoint del ID
 *   mode native|tunnel|hybrid [adnr|no-adnr]   (auto-direct-node-routes on/off)
 *   start                            first reconcile (after replaying nodes)
 *   purge                            remove all we made (and the state files)
 *   status | nodes | routes | endpoints
 *   quit
 *
 * Every command answers one line on stdout, "ok ..." or "error NAME: text",
 * once the kernel has the change. Events print as
 * "event TYPE NODE|- [OBJECT]: MESSAGE".
 *
 *   nr-embed --node-name node-1 --node-ip 192.168.1.10 [--netns NS]
 *            [--mode native|tunnel|hybrid] [--cluster-cidr CIDR]...
 *            [--pod-cidr CIDR]... [--ipam cluster-pool|kubernetes]
 *            [--auto-direct-node-routes] [--direct-routing-skip-unreachable]
 *            [--classic-routes]   (no nexthop objects, as on kernels < 5.3)
 *            [--state-dir DIR]
 *            [--bpf]              (eBPF maps and the tc fast path)
 *            [--resync-ms N]      (periodic resync interval, default 30000)
 *
 * With --state-dir the controller keeps its model on disk: after a restart
 * it already knows every node and endpoint (with the same nexthop ids), so
 * "start" needs no replay and changes nothing in the kernel.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

#define MAX_LIST 16
#define MAX_WORDS 24

struct app {
	uv_loop_t *loop;
	struct nr_ctl *ctl;
	uv_pipe_t in;
	char line[4096];
	size_t line_len;
};

static void reply(int status, const char *errmsg, const char *what)
{
	if (status < 0)
		printf("error %s: %s\n", nr_err_name(status), errmsg && *errmsg ? errmsg : nr_strerror(status));
	else
		printf("ok %s\n", what);
	fflush(stdout);
}

static void done_cb(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	reply(status, errmsg, data);
	free(data);
}

static void endpoint_cb(struct nr_ctl *ctl, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	if (status == 0)
		printf("ok endpoint %s ipv4=%s gateway4=%s ipv6=%s gateway6=%s\n", ep->id,
		       ep->ipv4, ep->gateway4, ep->ipv6, ep->gateway6);
	else
		reply(status, errmsg, NULL);
	fflush(stdout);
}

static void event_cb(struct nr_ctl *ctl, const struct nr_event *ev, void *data)
{
	printf("event %s %s%s%s: %s\n", nr_event_type_str(ev->type), ev->node ? ev->node : "-",
	       ev->object ? " " : "", ev->object ? ev->object : "", ev->message);
	fflush(stdout);
}

/* An async call that failed at once never runs its callback: answer here. */
static void answer_if_refused(int rc, char *what)
{
	if (rc < 0) {
		reply(rc, nr_last_errmsg(), NULL);
		free(what);
	}
}

static int print_node(const struct nr_node_info *n, void *data)
{
	printf("node %s ipv4=%s ipv6=%s state=%s cidrs=", n->name, n->ipv4, n->ipv6, n->state);
	for (size_t i = 0; i < n->n_pod_cidrs; i++)
		printf("%s%s", i ? "," : "", n->pod_cidrs[i]);
	printf("\n");
	return 0;
}

static int print_route(const struct nr_route_info *r, void *data)
{
	printf("route %s kind=%s via=%s dev=%s node=%s mtu=%u programmed=%s\n", r->dst, r->kind,
	       r->via, r->dev, r->node, r->mtu, r->programmed ? "yes" : "no");
	return 0;
}

static int print_endpoint(const struct nr_endpoint_info *ep, void *data)
{
	printf("endpoint %s ifname=%s ipv4=%s ipv6=%s\n", ep->id, ep->ifname, ep->ipv4, ep->ipv6);
	return 0;
}

static void print_status(struct nr_ctl *ctl)
{
	struct nr_status st = { .sz = sizeof(st) };

	nr_ctl_status(ctl, &st);
	printf("status mode=%s ipam=%s nodes=%zu endpoints=%zu routes=%zu/%zu ipam=%zu/%zu "
	       "nexthop_objects=%s resyncs=%llu drift_repairs=%llu full_passes=%llu "
	       "incremental_passes=%llu\n",
	       nr_routing_mode_str(st.routing_mode), nr_ipam_mode_str(st.ipam_mode), st.nodes,
	       st.endpoints, st.routes_programmed, st.routes_planned, st.ipam_used,
	       st.ipam_total, st.nexthop_objects ? "yes" : "no",
	       (unsigned long long)st.resyncs, (unsigned long long)st.drift_repairs,
	       (unsigned long long)st.full_passes, (unsigned long long)st.incremental_passes);
	printf("status host_routing=%s bpf_routes=%zu bpf_endpoints=%zu bpf_map_repairs=%llu "
	       "reason=\"%s\"\n", st.host_routing_bpf ? "BPF" : "Legacy", st.bpf_routes,
	       st.bpf_endpoints, (unsigned long long)st.bpf_map_repairs, st.host_routing_reason);
}

static void on_closed(struct nr_ctl *ctl, void *data)
{
	struct app *app = data;

	uv_close((uv_handle_t *)&app->in, NULL);
}

static void run_node(struct app *app, char **w, int n, int update)
{
	const char *cidrs[MAX_LIST + 1] = { 0 };

	if (n < 4) {
		reply(-EINVAL, "usage: node add|update NAME IPV4 [CIDR...]", NULL);
		return;
	}
	for (int i = 4; i < n && i - 4 < MAX_LIST; i++)
		cidrs[i - 4] = w[i];
	NR_OPTS(nr_node_spec, spec, .name = w[2], .ipv4 = w[3],
		.pod_cidrs = n > 4 ? cidrs : NULL);
	char *what = strdup(w[2]);
	answer_if_refused(update ? nr_ctl_node_update(app->ctl, &spec, done_cb, what)
				 : nr_ctl_node_add(app->ctl, &spec, done_cb, what), what);
}

static void run_command(struct app *app, char *line)
{
	char *w[MAX_WORDS];
	int n = 0;

	for (char *tok = strtok(line, " \t"); tok && n < MAX_WORDS; tok = strtok(NULL, " \t"))
		w[n++] = tok;
	if (n == 0)
		return;
	if (!strcmp(w[0], "quit")) {
		uv_read_stop((uv_stream_t *)&app->in);
		nr_ctl_close(app->ctl, on_closed, app);
	} else if (!strcmp(w[0], "start")) {
		char *what = strdup("started");
		answer_if_refused(nr_ctl_start(app->ctl, done_cb, what), what);
	} else if (!strcmp(w[0], "purge")) {
		char *what = strdup("purged");
		answer_if_refused(nr_ctl_purge(app->ctl, done_cb, what), what);
	} else if (n >= 2 && !strcmp(w[0], "node") && !strcmp(w[1], "add")) {
		run_node(app, w, n, 0);
	} else if (n >= 2 && !strcmp(w[0], "node") && !strcmp(w[1], "update")) {
		run_node(app, w, n, 1);
	} else if (n == 3 && !strcmp(w[0], "node") && !strcmp(w[1], "del")) {
		char *what = strdup(w[2]);
		answer_if_refused(nr_ctl_node_remove(app->ctl, w[2], done_cb, what), what);
	} else if (n >= 4 && !strcmp(w[0], "endpoint") && !strcmp(w[1], "add")) {
		NR_OPTS(nr_endpoint_spec, spec, .id = w[2], .ifname = w[3],
			.ipv4 = n > 4 ? w[4] : NULL);
		int rc = nr_ctl_endpoint_add(app->ctl, &spec, endpoint_cb, NULL);
		if (rc < 0)
			reply(rc, nr_last_errmsg(), NULL);
	} else if (n == 3 && !strcmp(w[0], "endpoint") && !strcmp(w[1], "del")) {
		char *what = strdup(w[2]);
		answer_if_refused(nr_ctl_endpoint_remove(app->ctl, w[2], done_cb, what), what);
	} else if ((n == 2 || n == 3) && !strcmp(w[0], "mode")) {
		/* mode MODE [adnr|no-adnr] */
		NR_OPTS(nr_mode_opts, mo, .auto_direct_node_routes = NR_SWITCH_KEEP);
		char *what = strdup(w[1]);
		int rc = nr_routing_mode_parse(w[1], &mo.mode);
		if (rc == 0 && n == 3) {
			if (!strcmp(w[2], "adnr"))
				mo.auto_direct_node_routes = NR_SWITCH_ON;
			else if (!strcmp(w[2], "no-adnr"))
				mo.auto_direct_node_routes = NR_SWITCH_OFF;
			else
				rc = -EINVAL;
		}
		if (rc == 0)
			rc = nr_ctl_mode_set_opts(app->ctl, &mo, done_cb, what);
		answer_if_refused(rc, what);
	} else if (!strcmp(w[0], "status")) {
		print_status(app->ctl);
		reply(0, NULL, "status");
	} else if (!strcmp(w[0], "nodes")) {
		nr_ctl_node_foreach(app->ctl, print_node, NULL);
		reply(0, NULL, "nodes");
	} else if (!strcmp(w[0], "routes")) {
		nr_ctl_route_foreach(app->ctl, print_route, NULL);
		reply(0, NULL, "routes");
	} else if (!strcmp(w[0], "endpoints")) {
		nr_ctl_endpoint_foreach(app->ctl, print_endpoint, NULL);
		reply(0, NULL, "endpoints");
	} else {
		reply(-EINVAL, "unknown command (see the comment at the top of main.c)", NULL);
	}
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct app *app = h->data;

	buf->base = app->line + app->line_len;
	buf->len = sizeof(app->line) - app->line_len - 1;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct app *app = s->data;
	char *nl;

	if (nread < 0) { /* EOF: the orchestrator went away; stop, keep routes */
		uv_read_stop(s);
		nr_ctl_close(app->ctl, on_closed, app);
		return;
	}
	app->line_len += (size_t)nread;
	app->line[app->line_len] = '\0';
	while ((nl = strchr(app->line, '\n'))) {
		*nl = '\0';
		run_command(app, app->line);
		app->line_len -= (size_t)(nl + 1 - app->line);
		memmove(app->line, nl + 1, app->line_len + 1);
	}
	if (app->line_len == sizeof(app->line) - 1)
		app->line_len = 0; /* an absurdly long line: drop it */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "node-name", required_argument, NULL, 'N' },
		{ "node-ip", required_argument, NULL, 'i' },
		{ "node-ip6", required_argument, NULL, '6' },
		{ "mode", required_argument, NULL, 'm' },
		{ "ipam", required_argument, NULL, 'I' },
		{ "cluster-cidr", required_argument, NULL, 'c' },
		{ "pod-cidr", required_argument, NULL, 'p' },
		{ "auto-direct-node-routes", no_argument, NULL, 'a' },
		{ "direct-routing-skip-unreachable", no_argument, NULL, 's' },
		{ "classic-routes", no_argument, NULL, 'C' },
		{ "bpf", no_argument, NULL, 'B' },
		{ "resync-ms", required_argument, NULL, 'R' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cluster[MAX_LIST + 1] = { 0 }, *pods[MAX_LIST + 1] = { 0 };
	int n_cluster = 0, n_pods = 0, c, rc;
	enum nr_routing_mode mode = NR_MODE_NATIVE;
	enum nr_ipam_mode ipam = NR_IPAM_CLUSTER_POOL;
	struct app app = { .loop = uv_default_loop() };
	NR_OPTS(nr_ctl_opts, opts, .event_cb = event_cb);

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': opts.netns = optarg; break;
		case 'N': opts.node_name = optarg; break;
		case 'i': opts.node_ipv4 = optarg; break;
		case '6': opts.node_ipv6 = optarg; break;
		case 'a': opts.auto_direct_node_routes = true; break;
		case 's': opts.direct_routing_skip_unreachable = true; break;
		case 'C': opts.classic_routes = true; break;
		case 'B': opts.bpf = true; break;
		case 'R': opts.resync_interval_ms = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'S': opts.state_dir = optarg; break;
		case 'c': if (n_cluster < MAX_LIST) cluster[n_cluster++] = optarg; break;
		case 'p': if (n_pods < MAX_LIST) pods[n_pods++] = optarg; break;
		case 'm':
			if (nr_routing_mode_parse(optarg, &mode) < 0) {
				fprintf(stderr, "nr-embed: --mode %s: expected native, tunnel or hybrid\n", optarg);
				return 2;
			}
			break;
		case 'I':
			if (nr_ipam_mode_parse(optarg, &ipam) < 0) {
				fprintf(stderr, "nr-embed: --ipam %s: expected cluster-pool or kubernetes\n", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	opts.routing_mode = mode;
	opts.ipam_mode = ipam;
	opts.cluster_cidrs = n_cluster ? cluster : NULL;
	opts.pod_cidrs = n_pods ? pods : NULL;

	rc = nr_ctl_new(app.loop, &opts, &app.ctl);
	if (rc < 0) {
		fprintf(stderr, "nr-embed: %s (%s)\n", nr_last_errmsg(), nr_err_name(rc));
		return 1;
	}
	uv_pipe_init(app.loop, &app.in, 0);
	app.in.data = &app;
	uv_pipe_open(&app.in, 0);
	uv_read_start((uv_stream_t *)&app.in, alloc_cb, read_cb);
	printf("ready %s\n", nr_version_string());
	fflush(stdout);
	uv_run(app.loop, UV_RUN_DEFAULT);
	uv_loop_close(app.loop);
	return 0;
}
