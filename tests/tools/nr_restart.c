/* nr_restart: an embedded controller with a state directory, started and
 * closed as an orchestrator process that restarts would (public API only).
 *
 *   nr_restart [--heartbeat] [--tunnel] NETNS STATE_DIR kubernetes|cluster-pool add N [FIRST]
 *       new + start, add nodes FIRST..FIRST+N-1 (default FIRST 0; 500 per loop turn, as a watch
 *       stream feeds them), wait for every callback, close
 * STATE_DIR "-" runs without a state directory.
 *   nr_restart [--heartbeat] [--status-first] [--tunnel] NETNS STATE_DIR kubernetes|cluster-pool start
 *       new + start, wait for the start callback, close
 * --tunnel: tunnel mode (VXLAN) instead of native with direct routes.
 * --status-first calls nr_ctl_status between nr_ctl_new and nr_ctl_start
 * (it waits for the saved state, which loads off the loop) and prints
 * "before_start: nodes=K" or "before_start: error ENAME: text" first.
 *
 * Node i: IP 172.(16+i/62500).((i%62500)/250).(i%250+2) on the namespace's
 * 172.16.0.0/12 underlay, whose local address is 172.31.255.254 (set up by
 * the caller); pod CIDR the (i+1)-th /26 of 10.0.0.0/8 (kubernetes IPAM) or
 * allocated from 10.0.0.0/8 in /26 blocks (cluster-pool). The local node
 * owns 10.0.0.0/26 with kubernetes IPAM.
 *
 * Prints one line:
 *   start_ms=T returned_ms=R cpu_ms=C status=S heartbeat_max_ms=G heartbeat_max_cpu_ms=GC
 *   heartbeat_max_delay_ms=GD nodes=K full_passes=P new_ms=N new_cpu_ms=NC
 *   start_call_ms=SC start_call_cpu_ms=SCC
 * T is the time from nr_ctl_new to the start callback (cpu_ms: the CPU
 * time this process used meanwhile); R the time until
 * `while (!done) uv_run(loop, UV_RUN_ONCE)` returned after it (what a
 * caller sees); G, with --heartbeat, the longest gap of a 1 ms timer on
 * the same loop meanwhile (how long the loop stalled; without the option
 * no timer of ours keeps the loop's poll short, as in a plain caller);
 * GC the most CPU time the loop thread spent between two heartbeats (on a
 * busy machine the wall gap also counts other processes' turns); GD the
 * time the loop thread waited for a CPU, runnable, inside the longest gap
 * (schedstat's run delay: another thread held the CPU); K the
 * node count in the model; N and SC the time nr_ctl_new and nr_ctl_start
 * took (NC, SCC: the loop thread's CPU in them), both part of the first
 * heartbeat gap. With "add", also add_ms=A add_gap_ms=H add_gap_cpu_ms=HC
 * add_gap_delay_ms=HD failed=F: the time until the last callback, the
 * longest heartbeat gap while adding, wall, CPU and run delay (with
 * --heartbeat), and the failed callbacks; and add_calls_cpu_ms=AC, the most CPU time one
 * turn's 500 nr_ctl_node_add calls took (with the text this program
 * formats for them): the part of a gap that is the caller's own calls.
 * NR_RESTART_GAPLOG=MS (with --heartbeat) also prints, to stderr, every
 * gap longer than MS as "gap WALL cpu CPU run_delay RD phase
 * start|feed|wait done=D at T" (T: CLOCK_MONOTONIC, s): which phase stalled (start: until the start
 * callback; feed: the turns that call nr_ctl_node_add; wait: waiting for
 * the last callbacks), to tell the controller's long turns (CPU) from time
 * the loop thread was runnable but another thread held the CPU (RD) and
 * from libuv's millisecond timer rounding (the rest).
 * Exit status 0 when every callback reported success. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

#define SLICE 500

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct app {
	uv_loop_t *loop;
	struct nr_ctl *ctl;
	uv_timer_t beat;
	double last_beat, max_gap;
	double last_beat_cpu, max_gap_cpu; /* the loop thread's CPU time */
	double last_delay, max_gap_delay;  /* its run delay; in the longest gap */
	int schedstat_fd;                  /* /proc/thread-self/schedstat; -1: not open yet */
	size_t done, failed;
	int start_status;
	bool started, closed;
	double t_start;
	enum nr_ipam_mode ipam;
	double calls_cpu_max; /* the longest turn of SLICE adds, CPU */
	double gaplog_ms;     /* NR_RESTART_GAPLOG; 0: off */
	const char *phase;
};

/* CPU time of this process (user + system), for figures taken on a busy
 * machine where the wall clock also counts other processes' turns. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* CPU time of the calling (loop) thread: what the loop itself spent
 * between two heartbeats, without the turns other processes took on a
 * busy machine (wall gap) and without libuv's thread pool. */
static double thread_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long the loop thread has waited for a CPU while runnable (schedstat's
 * run delay, seconds; 0 where the kernel keeps no such figure): the part of
 * a gap in which another thread - of this process or not - held the CPU.
 * The file stays open: one pread per beat. */
static double thread_run_delay(struct app *a)
{
	unsigned long long on_cpu, delay;
	char buf[128];
	ssize_t n;

	if (a->schedstat_fd == -1)
		a->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (a->schedstat_fd < 0)
		return 0;
	n = pread(a->schedstat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%llu %llu", &on_cpu, &delay) == 2 ? delay / 1e9 : 0;
}

static void beat_cb(uv_timer_t *t)
{
	struct app *a = t->data;
	double n = now(), c = thread_cpu_now(), d = thread_run_delay(a);

	if (a->gaplog_ms > 0 && (n - a->last_beat) * 1e3 > a->gaplog_ms)
		fprintf(stderr, "gap %.2f cpu %.2f run_delay %.2f phase %s done=%zu at %.6f\n",
			(n - a->last_beat) * 1e3, (c - a->last_beat_cpu) * 1e3,
			(d - a->last_delay) * 1e3, a->phase, a->done, n);
	if (n - a->last_beat > a->max_gap) {
		a->max_gap = n - a->last_beat;
		a->max_gap_delay = d - a->last_delay;
	}
	if (c - a->last_beat_cpu > a->max_gap_cpu)
		a->max_gap_cpu = c - a->last_beat_cpu;
	a->last_beat = n;
	a->last_beat_cpu = c;
	a->last_delay = d;
}

static void start_cb(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	struct app *a = data;

	(void)ctl;
	a->t_start = now();
	a->started = true;
	a->start_status = status;
	if (status < 0)
		fprintf(stderr, "start: %s\n", msg);
}

static void done_cb(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	struct app *a = data;

	(void)ctl;
	a->done++;
	if (status < 0 && a->failed++ < 3)
		fprintf(stderr, "node: %s\n", msg);
}

static void closed_cb(struct nr_ctl *ctl, void *data)
{
	struct app *a = data;

	(void)ctl;
	a->closed = true;
}

static int add_nodes(struct app *a, size_t first, size_t n)
{
	double c0 = thread_cpu_now();

	a->phase = "feed";

	for (size_t i = first; i < first + n; i++) {
		char name[32], ip[32], cidr[32];
		const char *cidrs[] = { cidr, NULL };
		size_t b = i + 1; /* the (i+1)-th /26 of 10.0.0.0/8 */

		snprintf(name, sizeof(name), "node-%zu", i);
		snprintf(ip, sizeof(ip), "172.%zu.%zu.%zu", 16 + i / 62500, (i % 62500) / 250, i % 250 + 2);
		snprintf(cidr, sizeof(cidr), "10.%zu.%zu.%zu/26", b >> 10, (b >> 2) & 255, (b & 3) * 64);
		NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = ip,
			.pod_cidrs = a->ipam == NR_IPAM_KUBERNETES ? cidrs : NULL);
		if (nr_ctl_node_add(a->ctl, &spec, done_cb, a) < 0) {
			fprintf(stderr, "node add %s: %s\n", name, nr_last_errmsg());
			return -1;
		}
		if ((i + 1 - first) % SLICE == 0) { /* as a watch stream feeds them */
			double c = thread_cpu_now() - c0;

			if (c > a->calls_cpu_max)
				a->calls_cpu_max = c;
			uv_run(a->loop, UV_RUN_NOWAIT);
			c0 = thread_cpu_now();
		}
	}
	a->phase = "wait";
	while (a->done < n)
		uv_run(a->loop, UV_RUN_ONCE);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *pool[] = { "10.0.0.0/8", NULL };
	static const char *local_cidr[] = { "10.0.0.0/26", NULL };
	struct app a = { .loop = uv_default_loop(), .phase = "start", .schedstat_fd = -1 };
	struct nr_status st = { .sz = sizeof(st) };
	size_t n_add = 0, first = 0;
	double t0, t_ret, t_add = 0, c0, c_start;
	double t_new, c_new, ts0, cs0, t_call, c_call; /* the two calls, on the loop thread */
	int rc = 0;

	bool heartbeat = argc > 1 && !strcmp(argv[1], "--heartbeat");

	argc -= heartbeat;
	argv += heartbeat;
	bool status_first = argc > 1 && !strcmp(argv[1], "--status-first");

	argc -= status_first;
	argv += status_first;
	bool tunnel = argc > 1 && !strcmp(argv[1], "--tunnel");

	argc -= tunnel;
	argv += tunnel;
	if (argc < 5 || (strcmp(argv[4], "start") && (strcmp(argv[4], "add") || argc < 6 || argc > 7))) {
		fprintf(stderr, "usage: nr_restart [--heartbeat] [--status-first] [--tunnel] NETNS STATE_DIR "
			"kubernetes|cluster-pool start|add N\n");
		return 2;
	}
	if (nr_ipam_mode_parse(argv[3], &a.ipam) < 0) {
		fprintf(stderr, "%s\n", nr_last_errmsg());
		return 2;
	}
	if (argc >= 6)
		n_add = strtoul(argv[5], NULL, 10);
	if (argc == 7)
		first = strtoul(argv[6], NULL, 10);
	NR_OPTS(nr_ctl_opts, o, .netns = argv[1], .node_name = "local", .node_ipv4 = "172.31.255.254",
		.routing_mode = tunnel ? NR_MODE_TUNNEL : NR_MODE_NATIVE, .auto_direct_node_routes = !tunnel,
		.ipam_mode = a.ipam,
		.cluster_cidrs = pool, .mask_size_v4 = 26,
		.pod_cidrs = a.ipam == NR_IPAM_KUBERNETES ? local_cidr : NULL,
		.state_dir = strcmp(argv[2], "-") ? argv[2] : NULL);

	if (getenv("NR_RESTART_GAPLOG"))
		a.gaplog_ms = strtod(getenv("NR_RESTART_GAPLOG"), NULL);
	uv_timer_init(a.loop, &a.beat);
	a.beat.data = &a;
	t0 = a.last_beat = now();
	a.last_beat_cpu = thread_cpu_now();
	a.last_delay = thread_run_delay(&a);
	c0 = cpu_now();
	if (heartbeat)
		uv_timer_start(&a.beat, beat_cb, 1, 1);
	if (nr_ctl_new(a.loop, &o, &a.ctl) < 0) {
		fprintf(stderr, "nr_ctl_new: %s\n", nr_last_errmsg());
		return 1;
	}
	t_new = now() - t0;
	c_new = thread_cpu_now() - a.last_beat_cpu;
	if (status_first) {
		int r = nr_ctl_status(a.ctl, &st);

		if (r < 0)
			printf("before_start: error %s: %s\n", nr_err_name(r), nr_last_errmsg());
		else
			printf("before_start: nodes=%zu\n", st.nodes);
		fflush(stdout);
	}
	ts0 = now();
	cs0 = thread_cpu_now();
	if (nr_ctl_start(a.ctl, start_cb, &a) < 0) {
		fprintf(stderr, "nr_ctl_start: %s\n", nr_last_errmsg());
		return 1;
	}
	t_call = now() - ts0;
	c_call = thread_cpu_now() - cs0;
	while (!a.started)
		uv_run(a.loop, UV_RUN_ONCE);
	t_ret = now();
	c_start = cpu_now() - c0;
	beat_cb(&a.beat); /* the gap up to the callback counts too */
	double add_gap = 0, add_gap_cpu = 0, add_gap_delay = 0, start_gap = a.max_gap,
	       start_gap_cpu = a.max_gap_cpu, start_gap_delay = a.max_gap_delay;

	if (n_add) {
		double t1 = now();

		a.max_gap = a.max_gap_cpu = a.max_gap_delay = 0;
		a.last_beat = t1;
		a.last_beat_cpu = thread_cpu_now();
		a.last_delay = thread_run_delay(&a);

		if (add_nodes(&a, first, n_add) < 0)
			rc = 1;
		t_add = now() - t1;
		beat_cb(&a.beat);
		add_gap = a.max_gap;
		add_gap_cpu = a.max_gap_cpu;
		add_gap_delay = a.max_gap_delay;
	}
	nr_ctl_status(a.ctl, &st);
	printf("start_ms=%.1f returned_ms=%.1f cpu_ms=%.1f status=%d heartbeat_max_ms=%.1f "
	       "heartbeat_max_cpu_ms=%.2f heartbeat_max_delay_ms=%.2f nodes=%zu full_passes=%llu",
	       (a.t_start - t0) * 1e3, (t_ret - t0) * 1e3, c_start * 1e3, a.start_status, start_gap * 1e3,
	       start_gap_cpu * 1e3, start_gap_delay * 1e3, st.nodes, (unsigned long long)st.full_passes);
	printf(" new_ms=%.2f new_cpu_ms=%.2f start_call_ms=%.2f start_call_cpu_ms=%.2f", t_new * 1e3,
	       c_new * 1e3, t_call * 1e3, c_call * 1e3);
	if (n_add)
		printf(" add_ms=%.1f add_gap_ms=%.1f add_gap_cpu_ms=%.2f add_gap_delay_ms=%.2f "
		       "add_calls_cpu_ms=%.2f failed=%zu",
		       t_add * 1e3, add_gap * 1e3, add_gap_cpu * 1e3, add_gap_delay * 1e3,
		       a.calls_cpu_max * 1e3, a.failed);
	printf("\n");
	fflush(stdout);
	nr_ctl_close(a.ctl, closed_cb, &a);
	uv_timer_stop(&a.beat);
	uv_close((uv_handle_t *)&a.beat, NULL);
	while (!a.closed)
		uv_run(a.loop, UV_RUN_ONCE);
	uv_run(a.loop, UV_RUN_DEFAULT);
	uv_loop_close(a.loop);
	if (a.schedstat_fd >= 0)
		close(a.schedstat_fd);
	return rc || a.start_status < 0 || a.failed ? 1 : 0;
}
