/* nr_tc_gate: the eBPF fast path's tc filters are attached off the
 * caller's loop, and callbacks still wait for them. The controller runs on
 * the real kernel (nr_kernel_netlink) except that its tc_run operation -
 * the kernel work of attaching, on libuv's thread pool - first waits at a
 * gate this program opens. No timing decides anything: while the gate is
 * closed the tc job cannot have attached, so what the loop sees then is
 * the state "job in flight".
 *
 *   nr_tc_gate NETNS attach|close
 *
 * NETNS holds 192.168.1.10 and the host sides veth-a, veth-b of two pods
 * (made by the test); node-1 owns 10.0.0.0/24, eBPF on. pod-a is added on
 * veth-a with the gate open; then, with the gate closed, pod-b (10.0.0.3)
 * on veth-b. When its tc job reaches the gate (told from the pool thread by
 * uv_async_send) the loop checks: the route of 10.0.0.3 is in the kernel,
 * pod-b's callback has not run, veth-b has no filter of ours; then the loop
 * turns three more times with the job still held (a synchronous attach
 * would hold the loop thread at the gate: nothing would run, the test's
 * timeout would end it). Then:
 *   attach  the gate opens; pod-b's callback must find our filter on veth-b
 *   close   nr_ctl_close first: the close must wait for the job (its
 *           callback does not run while the gate is closed), the gate
 *           opens, the close ends, pod-b's callback gets -ECANCELED
 * Prints "ok ..." per check, "FAIL ..." for a failed one; exit 0 when none
 * failed. */
#include <errno.h>
#include <pthread.h>
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
static uv_loop_t *loop;
static struct nr_ctl *ctl;
static uv_async_t at_gate;
static uv_timer_t turns;
static int n_turns;
static bool b_done, closed, gate_reached;

/* ---- the gated kernel ------------------------------------------------------ */

static int gated_tc_run(void *ctx, int netns_fd, int (*fn)(void *arg), void *arg, struct nr_err *err)
{
	gate_pass(&at_gate);
	return nr_kernel_netlink.tc_run(ctx, netns_fd, fn, arg, err);
}

/* Our filter (handle 0x4e52, bpf/bpf_tc.c) at ingress of dev. */
static bool our_filter_on(const char *dev)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "tc -n %s filter show dev %s ingress 2>/dev/null", netns, dev);
	return count_lines(cmd, "handle 0x4e52") > 0;
}

/* ---- the scenario ------------------------------------------------------------ */

static void all_closed(uv_handle_t *h)
{
	(void)h;
}

static void closed_cb(struct nr_ctl *c, void *data)
{
	(void)c;
	(void)data;
	closed = true;
	if (!strcmp(scenario, "close")) {
		check(b_done, "close: pod-b's callback ran (cancelled) before the close ended");
		check(!gate_reached || gate_open, "close: ended only after the tc job was let go");
	}
	ctl = NULL;
	uv_close((uv_handle_t *)&at_gate, all_closed);
	uv_close((uv_handle_t *)&turns, all_closed);
}

static void b_cb(struct nr_ctl *c, int status, const char *msg, const struct nr_endpoint_info *ep,
		 void *data)
{
	char what[256];

	(void)c;
	(void)ep;
	(void)data;
	b_done = true;
	printf("done pod-b %d %s\n", status, msg ? msg : "");
	if (!strcmp(scenario, "attach")) {
		check(gate_reached && gate_open, "attach: pod-b's callback ran after its tc job was let go");
		check(status == 0, "attach: pod-b added");
		check_thread_policy_back("attach: the pool thread that ran the tc job is back at SCHED_OTHER");
		snprintf(what, sizeof(what), "attach: our tc filter is on veth-b when pod-b's callback runs");
		check(our_filter_on("veth-b"), what);
		nr_ctl_close(ctl, closed_cb, NULL);
	} else {
		check(status == -ECANCELED, "close: pod-b's callback says -ECANCELED");
		check(!closed, "close: pod-b's callback ran before the close callback");
	}
}

/* The loop turns while the job is held at the gate; after three turns
 * the gate opens. */
static void turn_cb(uv_timer_t *t)
{
	if (++n_turns < 3)
		return;
	uv_timer_stop(t);
	check(!b_done, "held: pod-b's callback did not run while its tc job was held");
	if (!strcmp(scenario, "close"))
		check(!closed, "close: the close waits for the tc job in flight");
	else
		check(!our_filter_on("veth-b"), "held: still no filter on veth-b");
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
	check(true, "held: pod-b's tc job reached the gate (on the thread pool)");
	check(route_present(netns, "10.0.0.3"), "held: the route of 10.0.0.3 is in the kernel already");
	check(!b_done, "held: pod-b's callback has not run");
	check_held_background("held: the tc job runs at background priority (SCHED_IDLE)");
	check(!our_filter_on("veth-b"), "held: no filter of ours on veth-b yet");
	check(nr_ctl_status(ctl, &st) == 0, "held: nr_ctl_status answers from the loop");
	if (!strcmp(scenario, "close"))
		check(nr_ctl_close(ctl, closed_cb, NULL) == 0, "close: nr_ctl_close accepted");
	uv_timer_start(&turns, turn_cb, 1, 1);
}

static void a_cb(struct nr_ctl *c, int status, const char *msg, const struct nr_endpoint_info *ep,
		 void *data)
{
	NR_OPTS(nr_endpoint_spec, spec, .id = "pod-b", .ifname = "veth-b", .ipv4 = "10.0.0.3");

	(void)ep;
	(void)data;
	printf("done pod-a %d %s\n", status, msg ? msg : "");
	check(status == 0, "pod-a added (gate open)");
	check(our_filter_on("veth-a"), "our tc filter is on veth-a when pod-a's callback runs");
	gate_set(false);
	if (nr_ctl_endpoint_add(c, &spec, b_cb, NULL) < 0) {
		check(false, nr_last_errmsg());
		nr_ctl_close(c, closed_cb, NULL);
	}
}

static void started(struct nr_ctl *c, int status, const char *msg, void *data)
{
	NR_OPTS(nr_endpoint_spec, spec, .id = "pod-a", .ifname = "veth-a", .ipv4 = "10.0.0.2");
	struct nr_status st = { .sz = sizeof(st) };

	(void)data;
	printf("done start %d %s\n", status, msg ? msg : "");
	nr_ctl_status(c, &st);
	check(status == 0 && st.host_routing_bpf, "started with host routing BPF");
	if (nr_ctl_endpoint_add(c, &spec, a_cb, NULL) < 0) {
		check(false, nr_last_errmsg());
		nr_ctl_close(c, closed_cb, NULL);
	}
}

int main(int argc, char **argv)
{
	const char *cluster[] = { "10.0.0.0/16", NULL }, *pods[] = { "10.0.0.0/24", NULL };
	struct nr_kernel_ops ops = nr_kernel_netlink;
	struct nr_kernel k = { .ops = &ops };

	if (argc != 3 || (strcmp(argv[2], "attach") && strcmp(argv[2], "close"))) {
		fprintf(stderr, "usage: nr_tc_gate NETNS attach|close\n");
		return 2;
	}
	netns = argv[1];
	scenario = argv[2];
	ops.tc_run = gated_tc_run;
	loop = uv_default_loop();
	uv_async_init(loop, &at_gate, at_gate_cb);
	uv_timer_init(loop, &turns);
	NR_OPTS(nr_ctl_opts, opts, .netns = netns, .node_name = "node-1",
		.node_ipv4 = "192.168.1.10", .ipam_mode = NR_IPAM_KUBERNETES,
		.cluster_cidrs = cluster, .pod_cidrs = pods, .bpf = true,
		.resync_interval_ms = 600000);
	if (nr_ctl_new_with_kernel(loop, &opts, &k, &ctl) < 0 ||
	    nr_ctl_start(ctl, started, NULL) < 0) {
		fprintf(stderr, "nr_tc_gate: %s\n", nr_last_errmsg());
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	check(closed, "the controller closed");
	return gate_failed;
}
