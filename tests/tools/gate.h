/* What the gate tools (nr_tc_gate.c, nr_send_gate.c) share: a gate a
 * thread-pool job waits at until the loop opens it, the "ok"/"FAIL" check
 * lines, and a look at the kernel through ip(8)/tc(8). A job that reaches
 * the closed gate tells the loop with uv_async_send, the one libuv call
 * that is thread-safe; while it is held, whatever the loop sees is the
 * state "job in flight" - no timing decides a result. Header-only: each
 * tool is one executable. */
#ifndef NR_TEST_TOOLS_GATE_H
#define NR_TEST_TOOLS_GATE_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <uv.h>

static int gate_failed;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		gate_failed = 1;
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open = true;
/* The held job's thread and the scheduling policy it ran the job at: a
 * pool job runs at background priority (util/worker_yield.h), and the
 * thread has its own policy back once the job is done. */
static pid_t gate_tid;
static int gate_policy = -1;

/* On the pool thread: wait while the gate is closed, after telling the loop. */
static void gate_pass(uv_async_t *at_gate)
{
	pthread_mutex_lock(&gate_mu);
	if (!gate_open) {
		gate_tid = (pid_t)syscall(SYS_gettid);
		gate_policy = sched_getscheduler(0);
		uv_async_send(at_gate);
		while (!gate_open)
			pthread_cond_wait(&gate_cv, &gate_mu);
	}
	pthread_mutex_unlock(&gate_mu);
}

static void gate_set(bool open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static int count_lines(const char *cmd, const char *needle)
{
	char line[512];
	int n = 0;
	FILE *f = popen(cmd, "r");

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	if (f)
		pclose(f);
	return n;
}

/* The checks of the held job's priority (as root, which may leave
 * SCHED_IDLE again: the tools run as root). */
static void check_held_background(const char *what)
{
	check(gate_policy == SCHED_IDLE, what);
}

static void check_thread_policy_back(const char *what)
{
	check(gate_tid > 0 && sched_getscheduler(gate_tid) == SCHED_OTHER, what);
}

static bool route_present(const char *netns, const char *dst)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip -n %s route show %s 2>/dev/null", netns, dst);
	return count_lines(cmd, dst) > 0;
}

#endif
