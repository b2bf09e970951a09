/* The controller's logic against an in-memory kernel (fake/fake_kernel.c
 * behind ctl/ctl_kernel.h), without root: full and incremental passes,
 * which request a kernel refusal belongs to, close while a batch is in
 * flight, drift repair, and adopting the kernel's objects after a restart.
 * The integration tests check the same against the real kernel; these pin
 * down the bookkeeping with failures and timings a real kernel will not
 * produce on demand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nativeroute/controller.h>
#include <nativeroute/opts.h>

#include "ctl/ctl_kernel.h"
#include "fake_kernel.h"

#define WAIT_MS 10000

/* ---- the loop ---------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pump(uv_loop_t *loop)
{
	struct pollfd pfd = { .fd = uv_backend_fd(loop), .events = POLLIN };
	int t;

	uv_run(loop, UV_RUN_NOWAIT);
	t = uv_backend_timeout(loop);
	poll(&pfd, 1, t < 0 || t > 5 ? 5 : t);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Run the loop until cond holds; false after WAIT_MS (a failure). */
#define WAIT_FOR(cond)                                                              \
	({                                                                          \
		uint64_t deadline_ = now_ms() + WAIT_MS;                            \
		bool ok_;                                                           \
		while (!(ok_ = (cond)) && now_ms() < deadline_)                     \
			pump(&fx.loop);                                             \
		ok_;                                                                \
	})

/* ---- fixture ----------------------------------------------------------------- */

struct done {
	unsigned int calls;
	int status;
	char msg[512];
	unsigned int order;
};

static struct {
	uv_loop_t loop;
	struct fake_kernel *fk;
	char dir[64];          /* state directory, "" = none */
	uint32_t table;
	unsigned int callbacks; /* every completion so far, for ordering */
	unsigned int closed_at; /* its number when close_cb ran, 0 = not yet */
	struct nr_event events[64];
	char event_objects[64][64];
	char event_nodes[64][64];
	size_t n_events;
	bool classic;           /* new_ctl: classic routes (no nexthop objects) */
} fx;

static void on_done(struct nr_ctl *ctl, int status, const char *errmsg, void *data)
{
	struct done *d = data;

	(void)ctl;
	cr_assert_eq(fx.closed_at, 0, "a callback ran after close_cb");
	d->calls++;
	d->status = status;
	d->order = ++fx.callbacks;
	snprintf(d->msg, sizeof(d->msg), "%s", errmsg ? errmsg : "(null)");
}

static void on_endpoint(struct nr_ctl *ctl, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	(void)ep;
	on_done(ctl, status, errmsg, data);
}

static void on_event(struct nr_ctl *ctl, const struct nr_event *ev, void *data)
{
	(void)ctl;
	(void)data;
	cr_assert_eq(fx.closed_at, 0, "an event after close_cb");
	if (fx.n_events < 64) {
		fx.events[fx.n_events] = *ev;
		snprintf(fx.event_objects[fx.n_events], 64, "%s", ev->object ? ev->object : "");
		snprintf(fx.event_nodes[fx.n_events], 64, "%s", ev->node ? ev->node : "");
		fx.n_events++;
	}
}

static void on_closed(struct nr_ctl *ctl, void *data)
{
	(void)ctl;
	(void)data;
	fx.closed_at = ++fx.callbacks;
}

static bool saw_event(enum nr_event_type type, const char *object)
{
	for (size_t i = 0; i < fx.n_events; i++)
		if (fx.events[i].type == type && (!object || !strcmp(fx.event_objects[i], object)))
			return true;
	return false;
}

/* The world: node-0 at 192.168.1.10/24 on eth0, pods in 10.0.0.0/24. Each
 * test process has its own route table number: the controller's lock (one
 * controller per table/protocol) lives in the test's real namespace, and
 * Criterion runs tests side by side. */
static void setup(void)
{
	cr_assert_eq(uv_loop_init(&fx.loop), 0);
	fx.table = 100000 + (uint32_t)getpid();
	fx.fk = fake_kernel_new();
	fake_kernel_set_owner(fx.fk, fx.table, 201);
	fake_kernel_add_link(fx.fk, 2, "eth0", 1500);
	fake_kernel_add_addr(fx.fk, 2, "192.168.1.10/24");
	fake_kernel_add_link(fx.fk, 10, "veth-a", 1500);
	fake_kernel_add_link(fx.fk, 11, "veth-b", 1500);
}

/* Run the loop until nothing is left on it (bounded: a test that failed
 * half-way may leave a controller open; it has failed already). */
static bool drain(void)
{
	return WAIT_FOR(!uv_loop_alive(&fx.loop));
}

static void teardown(void)
{
	/* a live controller (a test that failed half-way) keeps the fake */
	bool drained = drain();

	if (drained)
		fake_kernel_free(fx.fk);
	if (fx.dir[0]) {
		char path[128];

		snprintf(path, sizeof(path), "%s/state", fx.dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock", fx.dir);
		unlink(path);
		rmdir(fx.dir);
	}
	cr_assert(drained, "the controller left handles on the loop");
	cr_assert_eq(uv_loop_close(&fx.loop), 0, "handles left on the loop");
}

TestSuite(ctl_reconcile, .init = setup, .fini = teardown);

static struct nr_ctl *new_ctl(unsigned int resync_ms)
{
	static const char *const local_cidrs[] = { "10.0.0.0/24", NULL };
	static const char *const cluster[] = { "10.0.0.0/16", NULL };
	NR_OPTS(nr_ctl_opts, o, .node_name = "node-0", .node_ipv4 = "192.168.1.10",
		.ipam_mode = NR_IPAM_KUBERNETES, .pod_cidrs = local_cidrs,
		.cluster_cidrs = cluster, .auto_direct_node_routes = true,
		.route_table = fx.table, .resync_interval_ms = resync_ms,
		.masquerade_ipv4 = NR_SWITCH_OFF, .event_cb = on_event,
		.state_dir = fx.dir[0] ? fx.dir : NULL, .classic_routes = fx.classic);
	struct nr_kernel k = fake_kernel_handle(fx.fk);
	struct nr_ctl *ctl = NULL;

	cr_assert_eq(nr_ctl_new_with_kernel(&fx.loop, &o, &k, &ctl), 0, "%s", nr_last_errmsg());
	return ctl;
}

static void start(struct nr_ctl *ctl)
{
	struct done d = { 0 };

	cr_assert_eq(nr_ctl_start(ctl, on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0), "start never completed");
	cr_assert_eq(d.status, 0, "start: %s", d.msg);
}

static void close_ctl(struct nr_ctl *ctl)
{
	cr_assert_eq(nr_ctl_close(ctl, on_closed, NULL), 0);
	cr_assert(WAIT_FOR(fx.closed_at > 0), "close never completed");
}

static void node_add(struct nr_ctl *ctl, const char *name, const char *ip, const char *cidr,
		     struct done *d)
{
	const char *cidrs[] = { cidr, NULL };
	NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = ip, .pod_cidrs = cidrs);

	cr_assert_eq(nr_ctl_node_add(ctl, &spec, on_done, d), 0, "%s", nr_last_errmsg());
}

static void node_add_wait(struct nr_ctl *ctl, const char *name, const char *ip, const char *cidr)
{
	struct done d = { 0 };

	node_add(ctl, name, ip, cidr, &d);
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "node add %s: %s", name, d.msg);
}

static struct nr_status status(struct nr_ctl *ctl)
{
	struct nr_status st = { .sz = sizeof(st) };

	cr_assert_eq(nr_ctl_status(ctl, &st), 0, "%s", nr_last_errmsg());
	return st;
}

/* The node's route is in the fake kernel, via a nexthop object to ip. */
static void expect_routed(const char *cidr, const char *ip)
{
	const struct nr_kroute *r = fake_kernel_route(fx.fk, cidr);
	const struct nr_knexthop *nh;
	char buf[NR_ADDR_STRLEN];

	cr_assert_not_null(r, "no route to %s in the kernel", cidr);
	cr_assert_neq(r->nh_id, 0, "%s is not a nexthop route", cidr);
	nh = fake_kernel_nexthop(fx.fk, r->nh_id);
	cr_assert_not_null(nh, "the nexthop of %s is missing", cidr);
	cr_assert_str_eq(nr_addr_str(&nh->gw, buf, sizeof(buf)), ip);
}

/* ---- passes -------------------------------------------------------------------- */

Test(ctl_reconcile, start_is_one_full_pass_that_reads_the_kernel)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct nr_status st;

	start(ctl);
	st = status(ctl);
	cr_assert_eq(st.full_passes, 1);
	cr_assert_eq(st.incremental_passes, 0);
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, 1, "start must adopt what is there");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumper_steps, 3,
		     "the full pass did not read the kernel in steps from the loop");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumper_finishes, 3,
		     "the dump was taken before its sort was done");
	close_ctl(ctl);
}

/* Creating the VXLAN device (native mode keeps it as the receive side)
 * makes the kernel announce it, set it up and report its carrier: none of
 * that touches an object of ours, and it once cost two more full passes
 * with a dump (~100 ms at 10,000 nodes that the first node adds waited
 * behind). */
Test(ctl_reconcile, the_vxlan_devices_own_creation_events_cost_no_further_pass)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct nr_status st;

	start(ctl);
	cr_assert(WAIT_FOR(fake_kernel_counters(fx.fk)->events >= 3),
		  "the device's events were never read");
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	st = status(ctl);
	cr_assert_eq(st.full_passes, 1, "the device's events asked for %lu more full passes",
		     (unsigned long)st.full_passes - 1);
	cr_assert_eq(st.incremental_passes, 1);
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, 1);
	close_ctl(ctl);
}

/* A link's IPv6 link-local address (when it comes up, again when its DAD
 * ends) touches none of our objects: no pass. A global address on a link
 * our routes use still makes the next pass read the kernel back. */
Test(ctl_reconcile, a_link_local_address_coming_costs_no_pass_a_global_one_a_dump)
{
	struct nr_ctl *ctl = new_ctl(0);
	unsigned int events, dumps;
	struct nr_status st;

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	st = status(ctl);
	dumps = fake_kernel_counters(fx.fk)->dumps;
	events = fake_kernel_counters(fx.fk)->events;
	fake_kernel_add_addr_notify(fx.fk, 2, "fe80::1/64");
	cr_assert(WAIT_FOR(fake_kernel_counters(fx.fk)->events > events), "the event was never read");
	node_add_wait(ctl, "node-2", "192.168.1.12", "10.0.2.0/24");
	cr_assert_eq(status(ctl).full_passes, st.full_passes, "a link-local address re-planned");
	cr_assert_eq(status(ctl).incremental_passes, st.incremental_passes + 1);
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, dumps);

	events = fake_kernel_counters(fx.fk)->events;
	fake_kernel_add_addr_notify(fx.fk, 2, "2001:db8::1/64");
	cr_assert(WAIT_FOR(fake_kernel_counters(fx.fk)->events > events), "the event was never read");
	node_add_wait(ctl, "node-3", "192.168.1.13", "10.0.3.0/24");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, dumps + 1, "a global address was ignored");
	close_ctl(ctl);
}

Test(ctl_reconcile, a_node_added_after_start_is_an_incremental_pass_of_its_own_objects)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct fake_counters before;
	struct nr_status st;

	start(ctl);
	before = *fake_kernel_counters(fx.fk);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	expect_routed("10.0.1.0/24", "192.168.1.11");
	st = status(ctl);
	cr_assert_eq(st.full_passes, 1, "a node add re-planned the cluster");
	cr_assert_eq(st.incremental_passes, 1);
	/* its nexthop and its route, no dump */
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes - before.writes, 2);
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, before.dumps);
	cr_assert(saw_event(NR_EVENT_ROUTE_PROGRAMMED, "10.0.1.0/24"));
	close_ctl(ctl);
}

Test(ctl_reconcile, nodes_added_in_one_loop_turn_share_one_pass)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d[3] = { { 0 } };
	unsigned int batches;

	start(ctl);
	batches = fake_kernel_counters(fx.fk)->batches;
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &d[0]);
	node_add(ctl, "node-2", "192.168.1.12", "10.0.2.0/24", &d[1]);
	node_add(ctl, "node-3", "192.168.1.13", "10.0.3.0/24", &d[2]);
	cr_assert(WAIT_FOR(d[0].calls && d[1].calls && d[2].calls));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(d[i].status, 0, "%s", d[i].msg);
	cr_assert_eq(fake_kernel_counters(fx.fk)->batches, batches + 1);
	cr_assert_eq(status(ctl).incremental_passes, 1);
	expect_routed("10.0.2.0/24", "192.168.1.12");
	close_ctl(ctl);
}

/* Loop turns, counted by a prepare handle (it runs once per turn). */
static void on_turn(uv_prepare_t *h)
{
	(*(unsigned int *)h->data)++;
}

/* One node add or remove with thousands of nodes programmed costs a few
 * loop turns and its own objects: no walk of every node (the reachability
 * walk of an incremental pass once took 512 nodes per turn - 8 turns here,
 * ~20 at 10,000 nodes, where it made node-add p99 2-3 ms instead of 0.07),
 * no dump, no full pass. Counted, not timed: the walk's turns and pumps do
 * not depend on the machine's speed; a change takes 2 turns (the kick
 * timer's, then the answer's), and the bound of 6 leaves room for slices
 * a busy machine cuts short (one more turn at the send, one at its ACK). */
#define MANY_NODES 4000
Test(ctl_reconcile, one_node_change_among_4000_takes_a_few_loop_turns_and_no_walk)
{
	static const char *const local_cidrs[] = { "10.0.0.0/24", NULL };
	static const char *const cluster[] = { "10.0.0.0/8", NULL };
	NR_OPTS(nr_ctl_opts, o, .node_name = "node-0", .node_ipv4 = "192.168.1.10",
		.ipam_mode = NR_IPAM_KUBERNETES, .pod_cidrs = local_cidrs,
		.cluster_cidrs = cluster, .auto_direct_node_routes = true,
		.route_table = fx.table, .masquerade_ipv4 = NR_SWITCH_OFF);
	struct nr_kernel k = fake_kernel_handle(fx.fk);
	struct nr_ctl *ctl = NULL;
	struct done all = { 0 }, d = { 0 };
	struct fake_counters before;
	struct nr_status st;
	unsigned int turns = 0;
	uv_prepare_t turn;
	char name[32], ip[32], cidr[32];

	fake_kernel_add_addr(fx.fk, 2, "172.16.255.1/16"); /* every node direct */
	cr_assert_eq(nr_ctl_new_with_kernel(&fx.loop, &o, &k, &ctl), 0, "%s", nr_last_errmsg());
	start(ctl);
	for (unsigned int i = 1; i <= MANY_NODES; i++) {
		snprintf(name, sizeof(name), "node-%u", i);
		snprintf(ip, sizeof(ip), "172.16.%u.%u", i / 250, i % 250 + 2);
		snprintf(cidr, sizeof(cidr), "10.%u.%u.0/24", i / 256, i % 256);
		node_add(ctl, name, ip, cidr, &all);
	}
	cr_assert(WAIT_FOR(all.calls == MANY_NODES), "the nodes were never programmed");
	cr_assert_eq(all.status, 0, "%s", all.msg);
	/* a request is answered by the pass after any that ran meanwhile */
	node_add_wait(ctl, "warm-up", "172.16.200.2", "10.200.0.0/24");
	snprintf(cidr, sizeof(cidr), "10.%u.%u.0/24", MANY_NODES / 256, MANY_NODES % 256);
	cr_assert_not_null(fake_kernel_route(fx.fk, cidr), "no route to the last node's %s", cidr);

	cr_assert_eq(uv_prepare_init(&fx.loop, &turn), 0);
	turn.data = &turns;
	uv_prepare_start(&turn, on_turn);
	st = status(ctl);
	before = *fake_kernel_counters(fx.fk);
	node_add(ctl, "new", "172.16.201.2", "10.201.0.0/24", &d); /* an IP never asked */
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "%s", d.msg);
	expect_routed("10.201.0.0/24", "172.16.201.2");
	cr_assert_leq(turns, 6, "a node add took %u loop turns", turns);
	cr_assert_eq(fake_kernel_counters(fx.fk)->lookups - before.lookups, 1, "only its IP is asked");
	cr_assert_leq(fake_kernel_counters(fx.fk)->reach_pumps - before.reach_pumps, 2);
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, before.dumps);
	cr_assert_eq(status(ctl).full_passes, st.full_passes, "a node add re-planned the cluster");

	turns = 0;
	d.calls = 0;
	before = *fake_kernel_counters(fx.fk);
	cr_assert_eq(nr_ctl_node_remove(ctl, "new", on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "%s", d.msg);
	cr_assert_null(fake_kernel_route(fx.fk, "10.201.0.0/24"));
	cr_assert_leq(turns, 6, "a node remove took %u loop turns", turns);
	cr_assert_eq(fake_kernel_counters(fx.fk)->reach_pumps, before.reach_pumps,
		     "a node remove walked the nodes for lookups");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, before.dumps);
	cr_assert_eq(status(ctl).full_passes, st.full_passes);
	uv_close((uv_handle_t *)&turn, NULL);
	close_ctl(ctl);
}

Test(ctl_reconcile, a_full_pass_after_lost_events_dumps_and_repairs)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct fake_counters before;

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	before = *fake_kernel_counters(fx.fk);
	/* deleted without a word, then the event queue overflows: the
	 * controller can no longer trust its record and must read back */
	cr_assert(fake_kernel_delete_route(fx.fk, "10.0.1.0/24", false));
	fake_kernel_overflow(fx.fk);
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.1.0/24") != NULL),
		  "the route never came back");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, before.dumps + 1);
	cr_assert_eq(status(ctl).full_passes, 2);
	cr_assert(saw_event(NR_EVENT_RESYNC, NULL));
	/* only the missing route was written */
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes - before.writes, 1);
	close_ctl(ctl);
}

static void on_tick(uv_timer_t *t)
{
	(*(unsigned int *)t->data)++;
}

Test(ctl_reconcile, a_request_is_answered_only_once_its_batch_is_acknowledged)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d = { 0 };
	uv_timer_t tick;
	unsigned int ticks = 0;

	start(ctl);
	fake_kernel_hold(fx.fk, true);
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &d);
	cr_assert(WAIT_FOR(fake_kernel_holding(fx.fk)), "the batch never went out");
	/* the caller's loop goes on while the kernel has not answered */
	uv_timer_init(&fx.loop, &tick);
	tick.data = &ticks;
	uv_timer_start(&tick, on_tick, 1, 1);
	cr_assert(WAIT_FOR(ticks >= 5), "the loop stalled while a batch was out");
	cr_assert_eq(d.calls, 0, "answered before the kernel acknowledged the batch");
	fake_kernel_release(fx.fk);
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "%s", d.msg);
	expect_routed("10.0.1.0/24", "192.168.1.11");
	uv_close((uv_handle_t *)&tick, NULL);
	close_ctl(ctl);
}

/* ---- failures belong to their own request ---------------------------------------- */

static void endpoint_add(struct nr_ctl *ctl, const char *id, const char *ifname, const char *ip,
			 struct done *d)
{
	NR_OPTS(nr_endpoint_spec, spec, .id = id, .ifname = ifname, .ipv4 = ip);

	cr_assert_eq(nr_ctl_endpoint_add(ctl, &spec, on_endpoint, d), 0, "%s", nr_last_errmsg());
}

Test(ctl_reconcile, a_refused_route_fails_only_the_request_it_belongs_to)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done a = { 0 }, b = { 0 };
	unsigned int batches;

	start(ctl);
	fake_kernel_fail_route(fx.fk, "10.0.0.6/32", -EINVAL, "Invalid prefix for given prefix length", 0);
	batches = fake_kernel_counters(fx.fk)->batches;
	endpoint_add(ctl, "pod-a", "veth-a", "10.0.0.5", &a);
	endpoint_add(ctl, "pod-b", "veth-b", "10.0.0.6", &b);
	cr_assert(WAIT_FOR(a.calls && b.calls));
	cr_assert_eq(fake_kernel_counters(fx.fk)->batches, batches + 1, "not one pass");
	cr_assert_eq(a.status, 0, "pod-a: %s", a.msg);
	cr_assert_eq(b.status, -EINVAL);
	cr_assert(strstr(b.msg, "10.0.0.6"), "the error does not name the route: %s", b.msg);
	cr_assert(strstr(b.msg, "Invalid prefix for given prefix length"),
		  "the kernel's text is lost: %s", b.msg);
	cr_assert_not_null(fake_kernel_route(fx.fk, "10.0.0.5/32"));
	cr_assert_null(fake_kernel_route(fx.fk, "10.0.0.6/32"));
	close_ctl(ctl);
}

static int count_endpoint(const struct nr_endpoint_info *ep, void *data)
{
	(void)ep;
	(*(unsigned int *)data)++;
	return 0;
}

static unsigned int count_endpoints(struct nr_ctl *ctl)
{
	unsigned int n = 0;

	cr_assert_eq(nr_ctl_endpoint_foreach(ctl, count_endpoint, &n), 0, "%s", nr_last_errmsg());
	return n;
}

/* The saved state file's text ("" when there is none). */
static const char *state_text(void)
{
	static char buf[65536];
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/state", fx.dir);
	buf[0] = 0;
	if (!(f = fopen(path, "r")))
		return buf;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* An error means nothing changed: the endpoint whose route the kernel
 * refused leaves the model and the saved state, its address is free, its
 * host side (gateway address, link raised) is taken back. */
Test(ctl_reconcile, an_endpoint_whose_route_is_refused_is_rolled_back)
{
	struct nr_ctl *ctl;
	struct done a = { 0 }, b = { 0 }, c = { 0 };

	snprintf(fx.dir, sizeof(fx.dir), "/tmp/nr-unit-state-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	ctl = new_ctl(0);
	start(ctl);
	fake_kernel_fail_route(fx.fk, "10.0.0.6/32", -EINVAL, "Invalid prefix for given prefix length", 0);
	endpoint_add(ctl, "pod-a", "veth-a", "10.0.0.5", &a);
	endpoint_add(ctl, "pod-b", "veth-b", "10.0.0.6", &b);
	cr_assert(WAIT_FOR(a.calls && b.calls));
	cr_assert_eq(a.status, 0, "pod-a: %s", a.msg);
	cr_assert_eq(b.status, -EINVAL, "pod-b: %s", b.msg);
	cr_assert_eq(count_endpoints(ctl), 1, "the refused endpoint stayed in the model");
	cr_assert(saw_event(NR_EVENT_ENDPOINT_REMOVED, "pod-b"), "its host side was not taken back");
	/* the state saved ahead of the pass had pod-b; the next save drops it */
	cr_assert(WAIT_FOR(!strstr(state_text(), "pod-b")), "the saved state still has pod-b");
	cr_assert(strstr(state_text(), "pod-a"), "the saved state lost pod-a: %s", state_text());
	/* its address and its link are free: the same add goes in once the
	 * kernel takes the route */
	fake_kernel_clear_failures(fx.fk);
	endpoint_add(ctl, "pod-c", "veth-b", "10.0.0.6", &c);
	cr_assert(WAIT_FOR(c.calls));
	cr_assert_eq(c.status, 0, "pod-c: %s", c.msg);
	cr_assert_not_null(fake_kernel_route(fx.fk, "10.0.0.6/32"));
	cr_assert_eq(count_endpoints(ctl), 2);
	close_ctl(ctl);
}

struct state_query {
	const char *name;
	char state[32];
};

static int find_state(const struct nr_node_info *n, void *data)
{
	struct state_query *q = data;

	if (!strcmp(n->name, q->name))
		snprintf(q->state, sizeof(q->state), "%s", n->state);
	return 0;
}

/* The node's state as nr_ctl_node_foreach reports it ("" if absent). */
static const char *node_state(struct nr_ctl *ctl, const char *name)
{
	static struct state_query q;

	q = (struct state_query){ .name = name };
	cr_assert_eq(nr_ctl_node_foreach(ctl, find_state, &q), 0);
	return q.state;
}

Test(ctl_reconcile, a_refused_node_route_blocks_that_node_only)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d[2] = { { 0 } };

	start(ctl);
	fake_kernel_fail_route(fx.fk, "10.0.2.0/24", -EEXIST, NULL, 0);
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &d[0]);
	node_add(ctl, "node-2", "192.168.1.12", "10.0.2.0/24", &d[1]);
	cr_assert(WAIT_FOR(d[0].calls && d[1].calls));
	/* a node stays (it is saved); its route is retried, the refusal is
	 * its state and an ERROR event naming the prefix */
	cr_assert_eq(d[0].status, 0, "%s", d[0].msg);
	cr_assert_eq(d[1].status, 0, "%s", d[1].msg);
	cr_assert_str_eq(node_state(ctl, "node-2"), "blocked");
	/* (node-1 reads "pending" until the next pass has re-read the kernel:
	 * a pass with a failure distrusts its record of the kernel) */
	cr_assert(WAIT_FOR(!strcmp(node_state(ctl, "node-1"), "native")), "node-1: %s",
		  node_state(ctl, "node-1"));
	cr_assert_str_eq(node_state(ctl, "node-2"), "blocked");
	cr_assert(saw_event(NR_EVENT_ERROR, NULL));
	expect_routed("10.0.1.0/24", "192.168.1.11");
	/* once the kernel takes it, the retry programs it */
	fake_kernel_clear_failures(fx.fk);
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.2.0/24") != NULL), "never retried");
	cr_assert(WAIT_FOR(!strcmp(node_state(ctl, "node-2"), "native")));
	close_ctl(ctl);
}

/* ---- status counts ----------------------------------------------------------------- */

/* What nr_ctl_node_foreach reports: nodes, and by state. */
struct states {
	size_t nodes, native, tunnel, no_cidr, unreachable;
};

static int count_state(const struct nr_node_info *n, void *data)
{
	struct states *s = data;

	s->nodes++;
	s->native += !strcmp(n->state, "native");
	s->tunnel += !strcmp(n->state, "tunnel");
	s->no_cidr += !strcmp(n->state, "unrouted") && !n->n_pod_cidrs;
	s->unreachable += !strcmp(n->state, "unreachable");
	return 0;
}

/* The status counts reach the expected ones, agree with the states the
 * node walk reports node by node, and stay put when asked again (they are
 * kept between changes). */
static void expect_counts(struct nr_ctl *ctl, size_t native, size_t no_cidr, size_t unreachable,
			  size_t programmed, size_t planned)
{
	struct nr_status st, again;
	struct states walk = { 0 };

	cr_assert(WAIT_FOR((st = status(ctl)).nodes_native == native && st.nodes_no_cidr == no_cidr &&
			   st.nodes_unreachable == unreachable && st.routes_programmed == programmed &&
			   st.routes_planned == planned),
		  "native %zu/%zu no_cidr %zu/%zu unreachable %zu/%zu routes %zu/%zu of %zu/%zu",
		  st.nodes_native, native, st.nodes_no_cidr, no_cidr, st.nodes_unreachable, unreachable,
		  st.routes_programmed, programmed, st.routes_planned, planned);
	cr_assert_eq(nr_ctl_node_foreach(ctl, count_state, &walk), 0);
	cr_assert_eq(walk.native, st.nodes_native, "walk %zu native", walk.native);
	cr_assert_eq(walk.tunnel, st.nodes_tunnel, "walk %zu tunnel", walk.tunnel);
	cr_assert_eq(walk.no_cidr, st.nodes_no_cidr, "walk %zu without a CIDR", walk.no_cidr);
	cr_assert_eq(walk.unreachable, st.nodes_unreachable, "walk %zu unreachable", walk.unreachable);
	again = status(ctl);
	cr_assert(again.nodes_native == st.nodes_native && again.nodes_no_cidr == st.nodes_no_cidr &&
		  again.routes_programmed == st.routes_programmed && again.nodes == st.nodes);
}

Test(ctl_reconcile, status_counts_follow_added_removed_updated_failed_blocked_unreachable_nodes)
{
	struct nr_ctl *ctl = new_ctl(0);
	const char *moved[] = { "10.0.5.0/24", NULL };
	NR_OPTS(nr_node_spec, update, .name = "node-1", .ipv4 = "192.168.1.11", .pod_cidrs = moved);
	NR_OPTS(nr_node_spec, same_ip, .name = "node-4", .ipv4 = "192.168.1.11");
	NR_OPTS(nr_mode_opts, skip, .direct_routing_skip_unreachable = NR_SWITCH_ON);
	struct done d = { 0 }, m = { 0 }, u = { 0 }, r = { 0 }, f = { 0 };

	start(ctl);
	/* (a mode change takes any failure of its pass: before the blocked node) */
	cr_assert_eq(nr_ctl_mode_set_opts(ctl, &skip, on_done, &m), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(m.calls) && m.status == 0, "%s", m.msg);
	expect_counts(ctl, 0, 0, 0, 0, 0);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	expect_counts(ctl, 1, 0, 0, 1, 1);
	/* blocked: planned, never programmed */
	fake_kernel_fail_route(fx.fk, "10.0.2.0/24", -EEXIST, NULL, 0);
	node_add_wait(ctl, "node-2", "192.168.1.12", "10.0.2.0/24");
	cr_assert_str_eq(node_state(ctl, "node-2"), "blocked");
	expect_counts(ctl, 1, 0, 0, 1, 2);
	/* no CIDR: nothing to route */
	node_add(ctl, "node-3", "192.168.1.13", NULL, &d);
	cr_assert(WAIT_FOR(d.calls) && d.status == 0, "%s", d.msg);
	expect_counts(ctl, 1, 1, 0, 1, 2);
	/* updated: the route moves, the count stays */
	cr_assert_eq(nr_ctl_node_update(ctl, &update, on_done, &u), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(u.calls) && u.status == 0, "%s", u.msg);
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.5.0/24") != NULL));
	expect_counts(ctl, 1, 1, 0, 1, 2);
	/* failed: another node's IP changes nothing */
	if (nr_ctl_node_add(ctl, &same_ip, on_done, &f) == 0)
		cr_assert(WAIT_FOR(f.calls) && f.status < 0, "a second node on 192.168.1.11 was taken");
	expect_counts(ctl, 1, 1, 0, 1, 2);
	/* unreachable: skipped and reported */
	node_add_wait(ctl, "node-5", "172.16.0.5", "10.0.6.0/24");
	cr_assert_str_eq(node_state(ctl, "node-5"), "unreachable");
	expect_counts(ctl, 1, 1, 1, 1, 2);
	/* removed */
	cr_assert_eq(nr_ctl_node_remove(ctl, "node-1", on_done, &r), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(r.calls) && r.status == 0, "%s", r.msg);
	expect_counts(ctl, 0, 1, 1, 0, 1);
	/* the blocked route goes in once the kernel takes it */
	fake_kernel_clear_failures(fx.fk);
	expect_counts(ctl, 1, 1, 1, 1, 1);
	close_ctl(ctl);
}

/* Enough skipped nodes that the walks look them up through a sorted index
 * (status, and a node walk past its first nodes), named so that plan
 * order and name order differ. */
Test(ctl_reconcile, status_counts_and_node_states_hold_with_many_skipped_nodes)
{
	struct nr_ctl *ctl = new_ctl(0);
	NR_OPTS(nr_mode_opts, skip, .direct_routing_skip_unreachable = NR_SWITCH_ON);
	struct done m = { 0 }, d[60] = { { 0 } };
	unsigned int n = 0;

	start(ctl);
	cr_assert_eq(nr_ctl_mode_set_opts(ctl, &skip, on_done, &m), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(m.calls) && m.status == 0, "%s", m.msg);
	for (unsigned int i = 0; i < 60; i++) {
		char name[16], ip[16], cidr[24];
		bool away = i % 5 == 0; /* 12 behind no route of ours */

		snprintf(name, sizeof(name), "n%c%02u", away ? 'z' - (char)(i / 5) : 'a', i);
		snprintf(ip, sizeof(ip), away ? "172.16.0.%u" : "192.168.1.%u", 20 + i);
		snprintf(cidr, sizeof(cidr), "10.0.%u.0/24", 10 + i);
		node_add(ctl, name, ip, cidr, &d[i]);
	}
	cr_assert(WAIT_FOR(({ n = 0; for (int i = 0; i < 60; i++) n += d[i].calls; n == 60; })));
	expect_counts(ctl, 48, 0, 12, 48, 48);
	cr_assert_str_eq(node_state(ctl, "nz00"), "unreachable");
	cr_assert_str_eq(node_state(ctl, "no55"), "unreachable");
	cr_assert_str_eq(node_state(ctl, "na59"), "native");
	cr_assert_str_eq(node_state(ctl, "na01"), "native");
	close_ctl(ctl);
}

/* ---- close ------------------------------------------------------------------------ */

Test(ctl_reconcile, close_during_a_batch_cancels_each_request_once_before_close_cb)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d[3] = { { 0 } };
	struct done late = { 0 };

	start(ctl);
	fake_kernel_hold(fx.fk, true);
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &d[0]);
	node_add(ctl, "node-2", "192.168.1.12", "10.0.2.0/24", &d[1]);
	endpoint_add(ctl, "pod-a", "veth-a", "10.0.0.5", &d[2]);
	cr_assert(WAIT_FOR(fake_kernel_holding(fx.fk)), "the batch never went out");
	cr_assert_eq(nr_ctl_close(ctl, on_closed, NULL), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(d[i].calls, 0, "a callback ran inside nr_ctl_close");
	cr_assert_lt(nr_ctl_node_add(ctl, &(struct nr_node_spec){ .sz = sizeof(struct nr_node_spec),
								  .name = "late", .ipv4 = "192.168.1.99" },
				     on_done, &late), 0, "a call was accepted while closing");
	cr_assert(WAIT_FOR(fx.closed_at > 0), "close never completed");
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(d[i].calls, 1, "request %d: %u callbacks", i, d[i].calls);
		cr_assert_eq(d[i].status, -ECANCELED, "request %d: %s", i, d[i].msg);
		cr_assert_lt(d[i].order, fx.closed_at, "request %d answered after close_cb", i);
	}
	/* the batch's answer arrives after the controller is gone: nothing runs
	 * (on_done/on_event fail the test after close_cb) */
	fake_kernel_release(fx.fk);
	cr_assert(drain(), "handles left after close_cb");
	cr_assert_eq(late.calls, 0);
}

Test(ctl_reconcile, close_during_the_start_dump_cancels_start_once_before_close_cb)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done s = { 0 }, n = { 0 };

	fake_kernel_hold(fx.fk, true);
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &n);
	cr_assert_eq(nr_ctl_start(ctl, on_done, &s), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(fake_kernel_holding(fx.fk)), "the start dump never began");
	cr_assert_eq(nr_ctl_close(ctl, on_closed, NULL), 0);
	cr_assert(WAIT_FOR(fx.closed_at > 0), "close never completed");
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(s.status, -ECANCELED, "%s", s.msg);
	cr_assert_eq(n.calls, 1);
	cr_assert_eq(n.status, -ECANCELED, "%s", n.msg);
	cr_assert_lt(s.order, fx.closed_at);
	cr_assert_lt(n.order, fx.closed_at);
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes, 0, "written after a cancelled dump");
	fake_kernel_release(fx.fk);
	cr_assert(drain(), "handles left after close_cb");
}

/* ---- drift ----------------------------------------------------------------------- */

/* node-1's route, deleted behind the controller's back (with or without
 * the kernel's notification), comes back as it was; else fails saying why. */
static void deleted_route_comes_back(bool notify, const char *why)
{
	cr_assert(fake_kernel_delete_route(fx.fk, "10.0.1.0/24", notify));
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.1.0/24") != NULL), "%s", why);
	expect_routed("10.0.1.0/24", "192.168.1.11");
}

Test(ctl_reconcile, a_route_deleted_by_someone_else_is_put_back)
{
	struct nr_ctl *ctl = new_ctl(0);

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	deleted_route_comes_back(true, "the route never came back");
	cr_assert_eq(status(ctl).drift_repairs, 1);
	cr_assert(saw_event(NR_EVENT_DRIFT_REPAIRED, "10.0.1.0/24"));
	close_ctl(ctl);
}

Test(ctl_reconcile, routes_flushed_with_their_link_come_back_after_its_event)
{
	struct nr_ctl *ctl = new_ctl(0);
	unsigned int dumps;

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	node_add_wait(ctl, "node-2", "192.168.1.12", "10.0.2.0/24");
	dumps = fake_kernel_counters(fx.fk)->dumps;
	fake_kernel_link_flap(fx.fk, 2);
	cr_assert_null(fake_kernel_route(fx.fk, "10.0.1.0/24"));
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.1.0/24") &&
			   fake_kernel_route(fx.fk, "10.0.2.0/24")), "the routes never came back");
	expect_routed("10.0.1.0/24", "192.168.1.11");
	expect_routed("10.0.2.0/24", "192.168.1.12");
	/* no notification per route: only a dump can have found them missing */
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, dumps + 1);
	close_ctl(ctl);
}

Test(ctl_reconcile, a_silent_deletion_is_repaired_by_the_periodic_resync)
{
	struct nr_ctl *ctl = new_ctl(50);

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	deleted_route_comes_back(false, "the resync never restored the route");
	cr_assert_geq(status(ctl).resyncs, 1);
	close_ctl(ctl);
}

/* ---- restart -------------------------------------------------------------------------- */

static unsigned int count_nodes(struct nr_ctl *ctl)
{
	struct states walk = { 0 };

	cr_assert_eq(nr_ctl_node_foreach(ctl, count_state, &walk), 0);
	return walk.nodes;
}

/* What a restart finds: a controller with a state directory ran with
 * node-1 .. node-N (192.168.1.1K, 10.0.K.0/24) and closed, leaving its
 * routes in the kernel. */
static void ran_before(unsigned int n)
{
	struct nr_ctl *ctl;

	snprintf(fx.dir, sizeof(fx.dir), "/tmp/nr-unit-state-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	ctl = new_ctl(0);
	start(ctl);
	for (unsigned int k = 1; k <= n; k++) {
		char name[16], ip[16], cidr[16];

		snprintf(name, sizeof(name), "node-%u", k);
		snprintf(ip, sizeof(ip), "192.168.1.%u", 10 + k);
		snprintf(cidr, sizeof(cidr), "10.0.%u.0/24", k);
		node_add_wait(ctl, name, ip, cidr);
	}
	close_ctl(ctl);
	fx.closed_at = 0;
}

Test(ctl_reconcile, a_restart_over_its_state_and_kernel_objects_writes_nothing)
{
	struct nr_ctl *ctl;
	unsigned int writes;

	ran_before(2);
	cr_assert_not_null(fake_kernel_route(fx.fk, "10.0.2.0/24"), "close removed a route");
	writes = fake_kernel_counters(fx.fk)->writes;
	ctl = new_ctl(0);
	cr_assert_eq(count_nodes(ctl), 3, "the saved nodes were not loaded");
	start(ctl);
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes, writes,
		     "a restart over an up-to-date kernel wrote %u operations",
		     fake_kernel_counters(fx.fk)->writes - writes);
	expect_routed("10.0.1.0/24", "192.168.1.11");
	expect_routed("10.0.2.0/24", "192.168.1.12");
	cr_assert_str_eq(node_state(ctl, "node-2"), "native");
	close_ctl(ctl);
}

/* A restart that wrote nothing keeps the dump as its record of the kernel
 * (a copy of the plan was ~7 ms on the loop at 100,000 nodes): the changes
 * after it are incremental and write exactly their objects (a removal
 * finds what to delete in that record). */
Test(ctl_reconcile, after_a_restart_that_wrote_nothing_changes_are_incremental_and_exact)
{
	struct nr_ctl *ctl;
	struct fake_counters before;
	struct done d = { 0 };

	snprintf(fx.dir, sizeof(fx.dir), "/tmp/nr-unit-state-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	ctl = new_ctl(0);
	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	node_add_wait(ctl, "node-2", "192.168.1.12", "10.0.2.0/24");
	close_ctl(ctl);
	fx.closed_at = 0;

	before = *fake_kernel_counters(fx.fk);
	ctl = new_ctl(0);
	start(ctl);
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes, before.writes, "the restart wrote");
	cr_assert_eq(fake_kernel_counters(fx.fk)->batches, before.batches, "the restart sent a batch");

	before = *fake_kernel_counters(fx.fk);
	cr_assert_eq(nr_ctl_node_remove(ctl, "node-2", on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "node remove: %s", d.msg);
	node_add_wait(ctl, "node-3", "192.168.1.13", "10.0.3.0/24");
	cr_assert_null(fake_kernel_route(fx.fk, "10.0.2.0/24"), "the removed node's route stayed");
	cr_assert(saw_event(NR_EVENT_ROUTE_REMOVED, "10.0.2.0/24"));
	expect_routed("10.0.3.0/24", "192.168.1.13");
	expect_routed("10.0.1.0/24", "192.168.1.11");
	cr_assert_eq(status(ctl).full_passes, 1, "a change after the restart re-planned the cluster");
	cr_assert_eq(fake_kernel_counters(fx.fk)->dumps, before.dumps);
	/* node-2's route and nexthop out, node-3's in */
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes - before.writes, 4);
	close_ctl(ctl);
}

/* The same with classic routes: the record kept from the dump does not
 * say what kind of route each is (the kernel does not store it), yet an
 * event about one still names its node. */
Test(ctl_reconcile, after_a_restart_that_wrote_nothing_a_classic_route_event_names_its_node)
{
	struct nr_ctl *ctl;
	struct done d = { 0 };
	const char *cidrs[] = { "10.0.5.0/24", NULL };
	NR_OPTS(nr_node_spec, spec, .name = "node-1", .ipv4 = "192.168.1.11", .pod_cidrs = cidrs);

	fx.classic = true;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/nr-unit-state-XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	ctl = new_ctl(0);
	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	close_ctl(ctl);
	fx.closed_at = 0;
	cr_assert_not_null(fake_kernel_route(fx.fk, "10.0.1.0/24"));
	cr_assert_eq(fake_kernel_route(fx.fk, "10.0.1.0/24")->nh_id, 0, "not a classic route");

	ctl = new_ctl(0);
	start(ctl);
	fx.n_events = 0;
	cr_assert_eq(nr_ctl_node_update(ctl, &spec, on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "node update: %s", d.msg);
	cr_assert_null(fake_kernel_route(fx.fk, "10.0.1.0/24"), "the old pod CIDR's route stayed");
	for (size_t i = 0; i < fx.n_events; i++)
		if (fx.events[i].type == NR_EVENT_ROUTE_REMOVED && !strcmp(fx.event_objects[i], "10.0.1.0/24"))
			cr_assert_str_eq(fx.event_nodes[i], "node-1", "the removal names no node");
	cr_assert(saw_event(NR_EVENT_ROUTE_REMOVED, "10.0.1.0/24"));
	close_ctl(ctl);
}

Test(ctl_reconcile, a_restart_prunes_only_the_stale_objects_of_ours)
{
	struct nr_ctl *ctl;
	unsigned int writes;

	ran_before(1);
	/* left by a run whose state was lost: ours, but in no plan */
	fake_kernel_add_route(fx.fk, "10.0.250.0/24", "192.168.1.99", 2);
	writes = fake_kernel_counters(fx.fk)->writes;
	ctl = new_ctl(0);
	start(ctl);
	cr_assert_null(fake_kernel_route(fx.fk, "10.0.250.0/24"), "the stale route is still there");
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes - writes, 1, "more than the stale route changed");
	expect_routed("10.0.1.0/24", "192.168.1.11");
	close_ctl(ctl);
}

Test(ctl_reconcile, a_start_that_the_kernel_refuses_in_part_reports_what)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d = { 0 };

	/* nodes replayed before start are programmed by the first pass */
	node_add(ctl, "node-1", "192.168.1.11", "10.0.1.0/24", &d);
	fake_kernel_fail_nexthop(fx.fk, NR_NH_ID_BASE + 2, -ENETUNREACH, "Nexthop has invalid gateway", 1);
	{
		struct done s = { 0 };

		cr_assert_eq(nr_ctl_start(ctl, on_done, &s), 0, "%s", nr_last_errmsg());
		cr_assert(WAIT_FOR(s.calls && d.calls));
		cr_assert_eq(s.status, -ENETUNREACH, "start: %s", s.msg);
		cr_assert(strstr(s.msg, "Nexthop has invalid gateway"), "%s", s.msg);
		cr_assert(strstr(s.msg, "192.168.1.11"), "the gateway is not named: %s", s.msg);
	}
	/* the node itself is kept and, the refusal being a one-off, routed by
	 * the retry */
	cr_assert_eq(d.status, 0, "%s", d.msg);
	cr_assert(WAIT_FOR(fake_kernel_route(fx.fk, "10.0.1.0/24") != NULL), "never retried");
	expect_routed("10.0.1.0/24", "192.168.1.11");
	close_ctl(ctl);
}

Test(ctl_reconcile, purge_removes_every_object_and_answers_once_none_is_left)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d = { 0 };
	const struct nr_kstate *t;

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	node_add_wait(ctl, "node-2", "192.168.1.12", "10.0.2.0/24");
	cr_assert_eq(nr_ctl_purge(ctl, on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "%s", d.msg);
	t = fake_kernel_table(fx.fk);
	cr_assert_eq(t->n_routes + t->n_nexthops + t->n_neighs + t->n_fdbs, 0,
		     "left: %zu routes, %zu nexthops", t->n_routes, t->n_nexthops);
	close_ctl(ctl);
}

/* ---- mode ---------------------------------------------------------------------------- */

Test(ctl_reconcile, tunnel_mode_moves_routes_onto_the_vxlan_device_and_back)
{
	struct nr_ctl *ctl = new_ctl(0);
	struct done d = { 0 }, back = { 0 };
	const struct nr_kroute *r;
	uint64_t full;

	start(ctl);
	node_add_wait(ctl, "node-1", "192.168.1.11", "10.0.1.0/24");
	full = status(ctl).full_passes;
	cr_assert_eq(nr_ctl_mode_set(ctl, NR_MODE_TUNNEL, on_done, &d), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(d.calls > 0));
	cr_assert_eq(d.status, 0, "%s", d.msg);
	cr_assert_eq(status(ctl).full_passes, full + 1, "a mode change is one full pass");
	r = fake_kernel_route(fx.fk, "10.0.1.0/24");
	cr_assert_not_null(r, "the route went away");
	cr_assert_gt(r->mtu, 0, "a tunnelled route carries the tunnel MTU");
	/* the remote VTEP: one FDB entry and one permanent neighbour */
	cr_assert_eq(fake_kernel_table(fx.fk)->n_fdbs, 1);
	cr_assert_eq(fake_kernel_table(fx.fk)->n_neighs, 1);
	cr_assert_str_eq(node_state(ctl, "node-1"), "tunnel");

	cr_assert_eq(nr_ctl_mode_set_opts(ctl, &(struct nr_mode_opts){
		.sz = sizeof(struct nr_mode_opts), .mode = NR_MODE_NATIVE,
		.auto_direct_node_routes = NR_SWITCH_ON }, on_done, &back), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(back.calls > 0));
	cr_assert_eq(back.status, 0, "%s", back.msg);
	expect_routed("10.0.1.0/24", "192.168.1.11");
	cr_assert_eq(fake_kernel_route(fx.fk, "10.0.1.0/24")->mtu, 0);
	cr_assert_eq(fake_kernel_table(fx.fk)->n_fdbs + fake_kernel_table(fx.fk)->n_neighs, 0,
		     "tunnel entries left behind");
	close_ctl(ctl);
}

/* ---- a refused nr_ctl_new changes nothing ----------------------------------------- */

static int new_refused(const char *node_ip, uint8_t protocol, const char *state_dir)
{
	NR_OPTS(nr_ctl_opts, o, .node_name = "node-0", .node_ipv4 = node_ip,
		.cluster_cidrs = (const char *const[]){ "10.0.0.0/16", NULL },
		.route_table = fx.table, .route_protocol = protocol, .state_dir = state_dir);
	struct nr_kernel k = fake_kernel_handle(fx.fk);
	struct nr_ctl *ctl = NULL;
	int rc = nr_ctl_new_with_kernel(&fx.loop, &o, &k, &ctl);

	cr_assert_null(ctl);
	return rc;
}

Test(ctl_reconcile, a_node_ip_that_is_not_local_is_refused_before_the_state_dir_exists)
{
	char dir[96];
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/nr-unit-absent-%d/state", (int)getpid());
	cr_assert_eq(new_refused("192.168.7.7", 0, dir), -EADDRNOTAVAIL);
	cr_assert(strstr(nr_last_errmsg(), "192.168.7.7"), "%s", nr_last_errmsg());
	cr_assert_neq(stat(dir, &st), 0, "the state directory was created");
	cr_assert_eq(fake_kernel_counters(fx.fk)->writes, 0);
}

Test(ctl_reconcile, a_route_protocol_of_the_kernel_is_refused_without_a_trace)
{
	char dir[96];
	struct stat st;

	snprintf(dir, sizeof(dir), "/tmp/nr-unit-absent-%d/state", (int)getpid());
	for (uint8_t proto = 1; proto <= 4; proto++) {
		cr_assert_eq(new_refused("192.168.1.10", proto, dir), -EINVAL, "protocol %u", proto);
		cr_assert(strstr(nr_last_errmsg(), "route_protocol"), "%s", nr_last_errmsg());
	}
	cr_assert_neq(stat(dir, &st), 0, "the state directory was created");
}

/* ---- an endpoint add is O(1) kernel work, not O(pods) -------------------------- */

struct ep_done {
	struct done d;
	uint32_t mtu;
};

static void on_endpoint_mtu(struct nr_ctl *ctl, int status, const char *errmsg,
			    const struct nr_endpoint_info *ep, void *data)
{
	struct ep_done *e = data;

	on_done(ctl, status, errmsg, &e->d);
	e->mtu = ep ? ep->mtu : 0;
}

/* Which link carries the node IP was a dump of every address of the
 * namespace (one gateway address per pod link: O(pods)), made twice per
 * endpoint add on the caller's loop; the link is asked directly now. */
Test(ctl_reconcile, an_endpoint_add_does_not_dump_every_address)
{
	struct nr_ctl *ctl = new_ctl(0);
	NR_OPTS(nr_endpoint_spec, spec, .id = "pod-a", .ifname = "veth-a", .ipv4 = "10.0.0.5");
	NR_OPTS(nr_endpoint_spec, on_eth0, .id = "pod-x", .ifname = "eth0", .ipv4 = "10.0.0.9");
	struct ep_done e = { 0 };
	unsigned int dumps;

	start(ctl);
	dumps = fake_kernel_counters(fx.fk)->addr_dumps;
	cr_assert_eq(nr_ctl_endpoint_add(ctl, &spec, on_endpoint_mtu, &e), 0, "%s", nr_last_errmsg());
	cr_assert(WAIT_FOR(e.d.calls > 0));
	cr_assert_eq(e.d.status, 0, "%s", e.d.msg);
	cr_assert_eq(e.mtu, 1500, "the pod MTU is the underlay's");
	cr_assert_eq(fake_kernel_counters(fx.fk)->addr_dumps, dumps,
		     "an endpoint add dumped every address %u time(s)",
		     fake_kernel_counters(fx.fk)->addr_dumps - dumps);
	/* the link carrying the node IP is still refused */
	cr_assert_eq(nr_ctl_endpoint_add(ctl, &on_eth0, on_endpoint_mtu, &e), -EINVAL);
	cr_assert(strstr(nr_last_errmsg(), "carries the node IP 192.168.1.10"), "%s", nr_last_errmsg());
	close_ctl(ctl);
}
