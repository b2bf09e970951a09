/* nr_send_gate: a pass's netlink batch is sent from libuv's thread pool
 * (ctl/ctl_send.c), and callbacks still wait for its ACKs. The controller
 * runs on the real kernel (nr_kernel_netlink) except that batch_send - the
 * sendmsg calls, on the pool thread - first waits at a gate this program
 * opens (gate.h). No timing decides anything: while the gate is closed the
 * batch cannot have been sent.
 *
 *   nr_send_gate NETNS send|close|lookups|lookups-close|dump
 *
 * NETNS holds 192.168.1.10/24 (node-1, native routing, direct routes).
 * node-2 (192.168.1.11, 10.0.1.0/24) is added with the gate open; then,
 * with the gate closed, node-3 (192.168.1.12, 10.0.2.0/24). When its batch
 * reaches the gate the loop checks: no route to 10.0.2.0/24 yet, node-3's
 * callback has not run, nr_ctl_status answers; then the loop turns three
 * more times with the send held (a send on the loop thread would hold it
 * at the gate: nothing would run, the test's timeout would end it). Then:
 *   send   the gate opens; node-3's callback must find its route
 *   close  nr_ctl_close first: the close must wait for the send (no
 *          callback while the gate is closed), the gate opens, node-3's
 *          callback gets -ECANCELED before the close ends
 *   lookups  the gate holds reach_run instead - a large set's route lookups
 *          (ctl_reach.c: 256 addresses and more go to the thread pool):
 *          node-3 comes with 129 more nodes (192.168.1.13-141, 10.0.3-131.0/24)
 *          in one loop turn; the same checks while held, then the gate
 *          opens and node-3's callback must find its route
 *   lookups-close  the same held, then close as in "close": it waits for
 *          the lookups, every callback gets -ECANCELED
 *   lookups-stale  as "lookups", with one more node, node-far (10.200.0.5,
 *          10.0.200.0/24), which no route reaches yet (skipped as
 *          unreachable); the gate holds the lookups after they were
 *          answered, and while they are held a route to 10.200.0.0/24 is
 *          added behind the controller's back. The event finds no answer
 *          in the cache yet (they are out), and the answers taken after
 *          it are stale: the controller must ask again by itself (not at
 *          the resync, 10 minutes away here) - node-far's route must follow
 *          within 5 s
 *   dump   the gate holds dumper_run - the first pass's dump of the kernel
 *          (ctl_gather.c): no start callback while held, status answers;
 *          after three loop turns the gate opens and the start callback
 *          must follow
 * Prints "ok ..." per check, "FAIL ..." for a failed one; exit 0 when none
 * failed. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

#include "ctl/ctl_kernel.h"
#include "gate.h"

static const char *netns, *scenario;
static bool closing_first, lookups, dump; /* scenario: close / lookups* / dump */
static bool stale; /* lookups-stale */
static bool far_done;
static int far_waits;
static uv_timer_t far_timer;
static bool start_done;
static struct nr_ctl *ctl;
static uv_async_t at_gate;
static uv_timer_t turns;
static int n_turns;
static bool n3_done, closed, gate_reached;

static int gated_batch_send(struct nr_nl_batch *b, size_t first, size_t n, size_t *sent)
{
	gate_pass(&at_gate);
	return nr_kernel_netlink.batch_send(b, first, n, sent);
}

static int gated_dumper_run(struct nr_nl_dumper *d, struct nr_err *err)
{
	gate_pass(&at_gate);
	return nr_kernel_netlink.dumper_run(d, err);
}

static int gated_reach_run(struct nr_nl_reach_async *a)
{
	gate_pass(&at_gate);
	return nr_kernel_netlink.reach_run(a);
}

/* lookups-stale: held once the answers are in */
static int reach_run_gated_after(struct nr_nl_reach_async *a)
{
	int rc = nr_kernel_netlink.reach_run(a);

	gate_pass(&at_gate);
	return rc;
}

#define MORE_NODES 129 /* with node-3: 130 nodes, 260 lookups reserved */
static int more_done;

static void more_cb(struct nr_ctl *c, int status, const char *msg, void *data)
{
	(void)c;
	(void)data;
	if (++more_done == MORE_NODES)
		printf("done %d more nodes, last %d %s\n", more_done, status, msg ? msg : "");
	if (status != (closing_first ? -ECANCELED : 0)) {
		printf("node: %d %s\n", status, msg ? msg : "");
		check(false, closing_first ? "lookups-close: one of the other nodes was not cancelled"
					   : "lookups: one of the other nodes failed");
	}
}

static void all_closed(uv_handle_t *h)
{
	(void)h;
}

static void closed_cb(struct nr_ctl *c, void *data)
{
	(void)c;
	(void)data;
	closed = true;
	if (closing_first) {
		check(n3_done, "close: node-3's callback ran (cancelled) before the close ended");
		check(gate_reached && gate_open, "close: ended only after the send was let go");
	}
	ctl = NULL;
	uv_close((uv_handle_t *)&at_gate, all_closed);
	uv_close((uv_handle_t *)&turns, all_closed);
	uv_close((uv_handle_t *)&far_timer, all_closed);
}

/* lookups-stale: node-far's route, from a pass the controller started by
 * itself after the event; at most 5 s (the resync is 10 minutes away). */
static void far_wait_cb(uv_timer_t *t)
{
	bool there = route_present(netns, "10.0.200.0/24");

	if (!there && ++far_waits < 500)
		return;
	uv_timer_stop(t);
	check(far_done, "lookups-stale: node-far's callback ran");
	check(there, "lookups-stale: node-far's route came after the route event that made its "
		     "answer stale (asked again without waiting for the resync)");
	nr_ctl_close(ctl, closed_cb, NULL);
}

static void far_cb(struct nr_ctl *c, int status, const char *msg, void *data)
{
	(void)c;
	(void)data;
	printf("done node-far %d %s\n", status, msg ? msg : "");
	far_done = true;
	check(status == 0, "lookups-stale: node-far added (skipped as unreachable for now)");
}

static void n3_cb(struct nr_ctl *c, int status, const char *msg, void *data)
{
	(void)c;
	(void)data;
	n3_done = true;
	printf("done node-3 %d %s\n", status, msg ? msg : "");
	if (!closing_first) {
		check(gate_reached && gate_open, "send: node-3's callback ran after its send was let go");
		check(status == 0, "send: node-3 added");
		check_thread_policy_back("send: the pool thread that ran the held job is back at SCHED_OTHER");
		check(route_present(netns, "10.0.2.0/24"),
		      "send: the route of node-3 is in the kernel when its callback runs");
		if (lookups)
			check(route_present(netns, "10.0.131.0/24"),
			      "lookups: the route of the last node is in the kernel too");
		if (stale)
			uv_timer_start(&far_timer, far_wait_cb, 10, 10);
		else
			nr_ctl_close(ctl, closed_cb, NULL);
	} else {
		check(status == -ECANCELED, "close: node-3's callback says -ECANCELED");
		check(!closed, "close: node-3's callback ran before the close callback");
	}
}

/* The loop turns while the send is held; after three turns the gate opens. */
static void turn_cb(uv_timer_t *t)
{
	if (++n_turns < 3)
		return;
	uv_timer_stop(t);
	if (dump) {
		check(!start_done, "dump: the start callback did not run while its dump was held");
		gate_set(true);
		return;
	}
	check(!n3_done, "held: node-3's callback did not run while its send was held");
	if (closing_first)
		check(!closed, "close: the close waits for the send in flight");
	else
		check(!route_present(netns, "10.0.2.0/24"), "held: still no route to 10.0.2.0/24");
	printf("opening the gate after %d loop turns\n", n_turns);
	fflush(stdout);
	gate_set(true);
}

static void at_gate_cb(uv_async_t *a)
{
	struct nr_status st = { .sz = sizeof(st) };

	(void)a;
	if (gate_reached)
		return;
	gate_reached = true;
	if (dump) {
		check(true, "held: the first pass's dump reached the gate (on the thread pool)");
		check(!start_done, "held: the start callback has not run");
		check_held_background("held: the dump runs at background priority (SCHED_IDLE)");
		check(nr_ctl_status(ctl, &st) == 0, "held: nr_ctl_status answers from the loop");
		uv_timer_start(&turns, turn_cb, 1, 1);
		return;
	}
	check(true, lookups ? "held: node-3's lookups reached the gate (on the thread pool)"
						  : "held: node-3's batch reached the gate (on the thread pool)");
	check(!route_present(netns, "10.0.2.0/24"), "held: no route to 10.0.2.0/24 yet");
	check(!n3_done, "held: node-3's callback has not run");
	check_held_background(lookups ? "held: the lookups run at background priority (SCHED_IDLE)"
				      : "held: the send runs at background priority (SCHED_IDLE)");
	check(nr_ctl_status(ctl, &st) == 0 && st.nodes == (size_t)(lookups ? 3 + MORE_NODES + stale : 3),
	      "held: nr_ctl_status answers from the loop");
	if (closing_first)
		check(nr_ctl_close(ctl, closed_cb, NULL) == 0, "close: nr_ctl_close accepted");
	if (stale) {
		char cmd[256];

		check(!route_present(netns, "10.0.200.0/24"), "held: no route to node-far's pods yet");
		/* the kernel queues the event on the controller's socket before
		 * ip returns; the loop reads it in the turns before the gate opens */
		snprintf(cmd, sizeof(cmd), "ip -n %s route add 10.200.0.0/24 dev eth0 scope link", netns);
		check(system(cmd) == 0, "held: a route to 10.200.0.0/24 added behind the controller's back");
	}
	uv_timer_start(&turns, turn_cb, 1, 1);
}

static void add_node(struct nr_ctl *c, const char *name, const char *ip, const char *cidr,
		     nr_ctl_done_cb cb)
{
	const char *cidrs[] = { cidr, NULL };
	NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = ip, .pod_cidrs = cidrs);

	if (nr_ctl_node_add(c, &spec, cb, NULL) < 0) {
		check(false, nr_last_errmsg());
		nr_ctl_close(c, closed_cb, NULL);
	}
}

static void n2_cb(struct nr_ctl *c, int status, const char *msg, void *data)
{
	(void)data;
	printf("done node-2 %d %s\n", status, msg ? msg : "");
	check(status == 0, "node-2 added (gate open)");
	check(route_present(netns, "10.0.1.0/24"), "the route of node-2 is in the kernel when its callback runs");
	gate_set(false);
	add_node(c, "node-3", "192.168.1.12", "10.0.2.0/24", n3_cb);
	for (int i = 0; lookups && i < MORE_NODES; i++) {
		char name[32], ip[32], cidr[32];

		snprintf(name, sizeof(name), "node-%d", 4 + i);
		snprintf(ip, sizeof(ip), "192.168.1.%d", 13 + i);
		snprintf(cidr, sizeof(cidr), "10.0.%d.0/24", 3 + i);
		add_node(c, name, ip, cidr, more_cb);
	}
	if (stale)
		add_node(c, "node-far", "10.200.0.5", "10.0.200.0/24", far_cb);
}

static void started(struct nr_ctl *c, int status, const char *msg, void *data)
{
	(void)data;
	printf("done start %d %s\n", status, msg ? msg : "");
	check(status == 0, "started");
	start_done = true;
	if (dump) {
		check(gate_reached && gate_open, "dump: the start callback ran after the dump was let go");
		check_thread_policy_back("dump: the pool thread that ran the dump is back at SCHED_OTHER");
		nr_ctl_close(c, closed_cb, NULL);
		return;
	}
	add_node(c, "node-2", "192.168.1.11", "10.0.1.0/24", n2_cb);
}

int main(int argc, char **argv)
{
	const char *cluster[] = { "10.0.0.0/16", NULL }, *pods[] = { "10.0.0.0/24", NULL };
	struct nr_kernel_ops ops = nr_kernel_netlink;
	struct nr_kernel k = { .ops = &ops };
	uv_loop_t *loop = uv_default_loop();

	if (argc != 3 || (strcmp(argv[2], "send") && strcmp(argv[2], "close") && strcmp(argv[2], "dump") &&
			  strcmp(argv[2], "lookups") && strcmp(argv[2], "lookups-close") &&
			  strcmp(argv[2], "lookups-stale"))) {
		fprintf(stderr, "usage: nr_send_gate NETNS send|close|lookups|lookups-close|lookups-stale|dump\n");
		return 2;
	}
	netns = argv[1];
	scenario = argv[2];
	lookups = !strncmp(scenario, "lookups", 7);
	closing_first = strstr(scenario, "close") != NULL;
	dump = !strcmp(scenario, "dump");
	stale = !strcmp(scenario, "lookups-stale");
	if (dump) {
		ops.dumper_run = gated_dumper_run;
		gate_set(false); /* the first pass's dump */
	} else if (lookups) {
		ops.reach_run = stale ? reach_run_gated_after : gated_reach_run;
	} else {
		ops.batch_send = gated_batch_send;
	}
	uv_async_init(loop, &at_gate, at_gate_cb);
	uv_timer_init(loop, &turns);
	uv_timer_init(loop, &far_timer);
	NR_OPTS(nr_ctl_opts, opts, .netns = netns, .node_name = "node-1",
		.node_ipv4 = "192.168.1.10", .routing_mode = NR_MODE_NATIVE,
		.auto_direct_node_routes = true, .ipam_mode = NR_IPAM_KUBERNETES,
		.cluster_cidrs = cluster, .pod_cidrs = pods, .resync_interval_ms = 600000,
		.direct_routing_skip_unreachable = stale);
	if (nr_ctl_new_with_kernel(loop, &opts, &k, &ctl) < 0 ||
	    nr_ctl_start(ctl, started, NULL) < 0) {
		fprintf(stderr, "nr_send_gate: %s\n", nr_last_errmsg());
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	check(closed, "the controller closed");
	return gate_failed;
}
