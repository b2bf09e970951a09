/* nr_reentrant: a controller driven from inside its own callbacks, as an
 * orchestrator reacting to events may do, in one network namespace whose
 * node IP is 192.168.1.10 (native mode, auto-direct-node-routes, skip
 * unreachable, kubernetes IPAM in 10.0.0.0/16).
 *
 *   nr_reentrant NETNS SCENARIO
 *
 *   unreachable-remove  a node added with an unreachable IP is removed from
 *                       the NODE_UNREACHABLE event that nr_ctl_node_add
 *                       itself emits (must not touch the freed node)
 *   add-in-event        node-3 is added from the ROUTE_PROGRAMMED event of
 *                       node-2's route, i.e. in the middle of a pass; its
 *                       callback must come only once the kernel has it
 *   chain-remove        node-2 is removed from its own add callback: the
 *                       kernel's echo of our own changes is no drift
 *   everything          every public function, each called from inside an
 *                       event or a completion callback: status, the three
 *                       iterators, user data, start again (EALREADY), node
 *                       add/update/remove, endpoint add/remove (on veth
 *                       evh, made by the test), mode set (both forms),
 *                       names, purge, close; prints "call NAME rc" each
 *   add-in-error        node-2 and node-4 are added before the start; a
 *                       foreign route on node-2's CIDR (made by the test)
 *                       fails its route, and node-3 is added from that
 *                       ERROR event, whose reachability lookup must not eat
 *                       the ACKs of the pass's batch
 *
 * Prints one line per callback ("done NAME STATUS"), the kernel's answer to
 * the checks the scenario makes, and "status drift_repairs=N" at the end;
 * exit 0 unless a call was refused at once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

static const char *scenario;
static uv_timer_t quit_timer;
static int refused;
static int fired;

static void must(int rc, const char *what)
{
	if (rc < 0) {
		printf("refused %s: %s\n", what, nr_last_errmsg());
		refused = 1;
	}
}

static void closed_cb(struct nr_ctl *ctl, void *data)
{
	(void)ctl;
	(void)data;
	uv_close((uv_handle_t *)&quit_timer, NULL);
}

static void quit_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;
	struct nr_status st = { .sz = sizeof(st) };

	nr_ctl_status(ctl, &st);
	printf("status drift_repairs=%llu routes=%zu/%zu\n", (unsigned long long)st.drift_repairs,
	       st.routes_programmed, st.routes_planned);
	fflush(stdout);
	nr_ctl_close(ctl, closed_cb, NULL);
}

static void quit_soon(struct nr_ctl *ctl, unsigned int ms)
{
	quit_timer.data = ctl;
	uv_timer_start(&quit_timer, quit_cb, ms, 0);
}

static int node_add(struct nr_ctl *ctl, const char *name, const char *ip, const char *cidr,
		    nr_ctl_done_cb cb)
{
	const char *cidrs[2] = { cidr, NULL };
	NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = ip, .pod_cidrs = cidrs);

	return nr_ctl_node_add(ctl, &spec, cb, (void *)name);
}

/* What the kernel of this namespace has for dst: "ip route show" output. */
static void show_route(const char *dst)
{
	char cmd[256], line[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip route show %s", dst);
	f = popen(cmd, "r");
	printf("kernel %s:", dst);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		printf(" %s", line);
	}
	if (f)
		pclose(f);
	printf("\n");
	fflush(stdout);
}

static void done_print(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	(void)ctl;
	printf("done %s %d %s\n", (const char *)data, status, errmsg ? errmsg : "");
	fflush(stdout);
}

static void node3_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	show_route("10.0.2.0/24"); /* the callback says the kernel has it */
	quit_soon(ctl, 200);
}

static void removed_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	quit_soon(ctl, 300); /* time for the kernel's echoes to arrive */
}

static void node2_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	if (!strcmp(scenario, "chain-remove"))
		must(nr_ctl_node_remove(ctl, "node-2", removed_done, "node-2-removed"), "node remove");
}

static void started(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	if (!strcmp(scenario, "add-in-error"))
		return;
	if (!strcmp(scenario, "unreachable-remove")) {
		/* no route at all to 203.0.113.9: reachability unknown, skipped */
		must(node_add(ctl, "node-x", "203.0.113.9", "10.0.9.0/24", done_print), "node add");
		quit_soon(ctl, 300);
	} else {
		must(node_add(ctl, "node-2", "192.168.1.11", "10.0.1.0/24", node2_done), "node add");
	}
}

/* ---- everything ----------------------------------------------------------- */

static int count_fn(void *data)
{
	++*(int *)data;
	return 0;
}

static int node_fn(const struct nr_node_info *n, void *data)
{
	(void)n;
	return count_fn(data);
}

static int ep_fn(const struct nr_endpoint_info *e, void *data)
{
	(void)e;
	return count_fn(data);
}

static int route_fn(const struct nr_route_info *r, void *data)
{
	(void)r;
	return count_fn(data);
}

static void call(const char *what, int rc)
{
	printf("call %s %s\n", what, rc < 0 ? nr_err_name(rc) : "ok");
	fflush(stdout);
}

static void all_closed(struct nr_ctl *ctl, void *data)
{
	(void)ctl;
	(void)data;
	printf("closed\n");
	fflush(stdout);
	uv_close((uv_handle_t *)&quit_timer, NULL);
}

static void all_purged(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	call("nr_ctl_close", nr_ctl_close(ctl, all_closed, NULL));
	/* closing: everything else is refused, nothing crashes */
	call("nr_ctl_node_remove(closing)", nr_ctl_node_remove(ctl, "node-9", done_print, "x"));
}

static void all_removed(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	call("nr_ctl_endpoint_remove", nr_ctl_endpoint_remove(ctl, "pod-1", done_print, "pod-1-removed"));
	call("nr_ctl_purge", nr_ctl_purge(ctl, all_purged, "purged"));
	call("nr_ctl_node_add(purging)", node_add(ctl, "node-9", "192.168.1.19", "10.0.9.0/24", done_print));
}

static void all_updated(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	done_print(ctl, status, errmsg, data);
	call("nr_ctl_mode_set", nr_ctl_mode_set(ctl, NR_MODE_NATIVE, done_print, "mode-native"));
	call("nr_ctl_node_remove", nr_ctl_node_remove(ctl, "node-2", all_removed, "node-2-removed"));
	call("nr_ctl_endpoint_remove(unknown)", nr_ctl_endpoint_remove(ctl, "nope", done_print, "x"));
}

static void ep_added(struct nr_ctl *ctl, int status, const char *errmsg,
		     const struct nr_endpoint_info *info, void *data)
{
	printf("done %s %d %s %s\n", (const char *)data, status, errmsg ? errmsg : "",
	       info && info->ipv4 ? info->ipv4 : "");
	fflush(stdout);
	(void)ctl;
}

static void everything_in_event(struct nr_ctl *ctl)
{
	const char *cidrs[2] = { "10.0.5.0/24", NULL };
	struct nr_status st = { .sz = sizeof(st) };
	enum nr_routing_mode mode;
	int n = 0;

	NR_OPTS(nr_node_spec, upd, .name = "node-2", .ipv4 = "192.168.1.11", .pod_cidrs = cidrs);
	NR_OPTS(nr_endpoint_spec, ep, .id = "pod-1", .ifname = "evh");
	NR_OPTS(nr_mode_opts, mo, .auto_direct_node_routes = NR_SWITCH_ON);

	call("nr_ctl_status", nr_ctl_status(ctl, &st));
	call("nr_ctl_node_foreach", nr_ctl_node_foreach(ctl, node_fn, &n));
	call("nr_ctl_endpoint_foreach", nr_ctl_endpoint_foreach(ctl, ep_fn, &n));
	call("nr_ctl_route_foreach", nr_ctl_route_foreach(ctl, route_fn, &n));
	nr_ctl_set_data(ctl, &quit_timer);
	call("nr_ctl_set_data/get_data", nr_ctl_get_data(ctl) == &quit_timer ? 0 : -EINVAL);
	call("nr_ctl_start(again)", nr_ctl_start(ctl, done_print, "start-again"));
	call("names", nr_routing_mode_parse(nr_routing_mode_str(NR_MODE_HYBRID), &mode) < 0 ||
		      !nr_ipam_mode_str(NR_IPAM_KUBERNETES) || !nr_event_type_str(NR_EVENT_ERROR) ? -EINVAL : 0);
	call("nr_ctl_endpoint_add", nr_ctl_endpoint_add(ctl, &ep, ep_added, "pod-1"));
	call("nr_ctl_mode_set_opts", nr_ctl_mode_set_opts(ctl, &mo, done_print, "mode-opts"));
	call("nr_ctl_node_update", nr_ctl_node_update(ctl, &upd, all_updated, "node-2-updated"));
	call("nr_ctl_node_add", node_add(ctl, "node-3", "192.168.1.12", "10.0.2.0/24", done_print));
}

static void event_cb(struct nr_ctl *ctl, const struct nr_event *ev, void *data)
{
	(void)data;
	printf("event %s %s %s\n", nr_event_type_str(ev->type), ev->node ? ev->node : "-",
	       ev->object ? ev->object : "-");
	fflush(stdout);
	if (!strcmp(scenario, "unreachable-remove") && ev->type == NR_EVENT_NODE_UNREACHABLE &&
	    ev->node && !strcmp(ev->node, "node-x") && !fired++)
		must(nr_ctl_node_remove(ctl, "node-x", done_print, "node-x-removed"), "node remove");
	if (!strcmp(scenario, "add-in-error") && ev->type == NR_EVENT_ERROR && !fired++)
		must(node_add(ctl, "node-3", "192.168.1.12", "10.0.2.0/24", node3_done), "node add");
	if (!strcmp(scenario, "everything") && ev->type == NR_EVENT_ROUTE_PROGRAMMED &&
	    ev->object && !strcmp(ev->object, "10.0.1.0/24") && !fired++)
		everything_in_event(ctl);
	if (!strcmp(scenario, "everything") && ev->type == NR_EVENT_NODE_REMOVED)
		call("nr_ctl_status(in event)", nr_ctl_status(ctl, &(struct nr_status){ .sz = sizeof(struct nr_status) }));
	if (!strcmp(scenario, "add-in-event") && ev->type == NR_EVENT_ROUTE_PROGRAMMED &&
	    ev->object && !strcmp(ev->object, "10.0.1.0/24") && !fired++)
		must(node_add(ctl, "node-3", "192.168.1.12", "10.0.2.0/24", node3_done), "node add");
}

int main(int argc, char **argv)
{
	const char *cluster[] = { "10.0.0.0/16", NULL }, *pods[] = { "10.0.0.0/24", NULL };
	uv_loop_t *loop = uv_default_loop();
	struct nr_ctl *ctl;

	if (argc != 3) {
		fprintf(stderr, "usage: nr_reentrant NETNS unreachable-remove|add-in-event|chain-remove|"
			"add-in-error|everything\n");
		return 2;
	}
	scenario = argv[2];
	NR_OPTS(nr_ctl_opts, opts, .netns = argv[1], .node_name = "node-1",
		.node_ipv4 = "192.168.1.10", .ipam_mode = NR_IPAM_KUBERNETES,
		.cluster_cidrs = cluster, .pod_cidrs = pods, .auto_direct_node_routes = true,
		.direct_routing_skip_unreachable = true, .resync_interval_ms = 600000,
		.event_cb = event_cb);
	if (nr_ctl_new(loop, &opts, &ctl) < 0) {
		fprintf(stderr, "nr_reentrant: %s\n", nr_last_errmsg());
		return 1;
	}
	uv_timer_init(loop, &quit_timer);
	if (!strcmp(scenario, "add-in-error")) {
		must(node_add(ctl, "node-2", "192.168.1.11", "10.0.1.0/24", done_print), "node add");
		must(node_add(ctl, "node-4", "192.168.1.14", "10.0.4.0/24", done_print), "node add");
	}
	must(nr_ctl_start(ctl, started, "started"), "start");
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return refused;
}
