/* util/worker_yield: a pool job runs at background priority (SCHED_IDLE)
 * between nr_worker_yield_begin and nr_worker_yield_end, its thread gets
 * its own policy back afterwards, a thread that could not get it back is
 * left alone, and a job starved of CPU gives the background priority up.
 * Each test runs its job on a thread of its own, as the pool would. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <criterion/criterion.h>

#include "util/worker_yield.h"

static bool have_cap_sys_nice(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	return syscall(SYS_capget, &hdr, data) == 0 &&
	       (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE));
}

/* This thread without CAP_SYS_NICE in its effective set (capabilities are
 * per thread). */
static int drop_cap_sys_nice(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A job on a thread of its own: the thread first takes the policy the test
 * asks for (or drops CAP_SYS_NICE), then runs a job between begin and end
 * and notes the policy before, in and after it. */
struct job {
	int set_policy, set_prio; /* 0, 0: the thread's own (SCHED_OTHER) */
	int set_nice;
	bool drop_cap;
	int rc; /* of the set-up: 0 or -errno */
	int policy_before, policy_in, policy_after, prio_after, nice_after;
	bool background_in, background_after_nested, background_after_end;
};

static void *job_thread(void *arg)
{
	struct job *j = arg;
	struct sched_param p = { .sched_priority = j->set_prio };

	if (j->set_policy && sched_setscheduler(0, j->set_policy, &p) < 0)
		j->rc = -errno;
	if (j->set_nice && setpriority(PRIO_PROCESS, 0, j->set_nice) < 0) /* this thread's */
		j->rc = -errno;
	if (j->drop_cap && !j->rc)
		j->rc = drop_cap_sys_nice();
	if (j->rc)
		return NULL;
	j->policy_before = sched_getscheduler(0);
	nr_worker_yield_begin();
	j->policy_in = sched_getscheduler(0);
	j->background_in = nr_worker_background();
	for (int i = 0; i < 1000; i++)
		nr_worker_yield_point();
	nr_worker_yield_begin(); /* a nested pair changes nothing */
	nr_worker_yield_end();
	j->background_after_nested = nr_worker_background();
	nr_worker_yield_end();
	j->background_after_end = nr_worker_background();
	j->policy_after = sched_getscheduler(0);
	if (sched_getparam(0, &p) == 0)
		j->prio_after = p.sched_priority;
	j->nice_after = getpriority(PRIO_PROCESS, 0);
	return NULL;
}

static void run_job(struct job *j)
{
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, job_thread, j), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

Test(worker_yield, a_job_runs_at_background_priority_and_the_thread_gets_its_policy_back)
{
	struct job j = { 0 };

	if (!have_cap_sys_nice())
		cr_skip_test("needs CAP_SYS_NICE (the thread could not leave SCHED_IDLE)");
	run_job(&j);
	cr_assert_eq(j.policy_before, SCHED_OTHER);
	cr_assert_eq(j.policy_in, SCHED_IDLE, "the job ran at policy %d, not SCHED_IDLE", j.policy_in);
	cr_assert(j.background_in);
	cr_assert(j.background_after_nested, "a nested begin/end pair ended the background priority");
	cr_assert_eq(j.policy_after, SCHED_OTHER, "after the job the thread is at policy %d", j.policy_after);
	cr_assert(!j.background_after_end);
}

Test(worker_yield, a_thread_at_sched_batch_gets_sched_batch_back)
{
	struct job j = { .set_policy = SCHED_BATCH };

	if (!have_cap_sys_nice())
		cr_skip_test("needs CAP_SYS_NICE");
	run_job(&j);
	cr_assert_eq(j.rc, 0, "SCHED_BATCH: %s", strerror(-j.rc));
	cr_assert_eq(j.policy_in, SCHED_IDLE);
	cr_assert_eq(j.policy_after, SCHED_BATCH, "after the job the thread is at policy %d", j.policy_after);
}

Test(worker_yield, a_thread_keeps_its_nice_value)
{
	struct job j = { .set_nice = 7 };

	if (!have_cap_sys_nice())
		cr_skip_test("needs CAP_SYS_NICE");
	run_job(&j);
	cr_assert_eq(j.rc, 0, "nice 7: %s", strerror(-j.rc));
	cr_assert_eq(j.policy_in, SCHED_IDLE);
	cr_assert_eq(j.policy_after, SCHED_OTHER);
	cr_assert_eq(j.nice_after, 7, "after the job the thread is at nice %d", j.nice_after);
}

Test(worker_yield, a_real_time_thread_is_left_alone)
{
	struct job j = { .set_policy = SCHED_FIFO, .set_prio = 1 };

	if (!have_cap_sys_nice())
		cr_skip_test("needs CAP_SYS_NICE (to make a SCHED_FIFO thread)");
	run_job(&j);
	if (j.rc < 0)
		cr_skip_test("SCHED_FIFO refused here (%s)", strerror(-j.rc));
	cr_assert_eq(j.policy_in, SCHED_FIFO, "a SCHED_FIFO pool thread ran the job at policy %d", j.policy_in);
	cr_assert(!j.background_in);
	cr_assert_eq(j.policy_after, SCHED_FIFO);
	cr_assert_eq(j.prio_after, 1);
}

/* Without CAP_SYS_NICE and with RLIMIT_NICE 0 a thread at SCHED_IDLE may
 * not go back to SCHED_OTHER (sched(7)): the job must not leave its pool
 * thread at idle priority for whatever the caller runs on it next. */
Test(worker_yield, a_thread_that_could_not_get_its_policy_back_stays_at_normal_priority)
{
	struct rlimit none = { 0, 0 };
	struct job j = { .drop_cap = true };

	cr_assert_eq(setrlimit(RLIMIT_NICE, &none), 0, "%s", strerror(errno)); /* this test's process */
	run_job(&j);
	cr_assert_eq(j.rc, 0, "dropping CAP_SYS_NICE: %s", strerror(-j.rc));
	cr_assert_eq(j.policy_in, SCHED_OTHER, "the job ran at policy %d", j.policy_in);
	cr_assert(!j.background_in);
	cr_assert_eq(j.policy_after, SCHED_OTHER);
}

/* A background job and a busy thread at normal priority on one CPU: the
 * job gets crumbs of it, and must go back to its normal priority once it
 * has waited NR_WORKER_STARVE_MAX_MS for the CPU - while it still runs. */
static cpu_set_t one_cpu;
static volatile bool spin_stop;

static void *spinner(void *arg)
{
	(void)arg;
	if (sched_setaffinity(0, sizeof(one_cpu), &one_cpu) < 0)
		return NULL;
	while (!spin_stop)
		;
	return NULL;
}

struct starve {
	int rc;
	bool background_at_start, gave_up;
	int policy_when_given_up;
	double waited_s;
};

static void *starved_job(void *arg)
{
	struct starve *s = arg;
	double t0, end;

	s->rc = sched_setaffinity(0, sizeof(one_cpu), &one_cpu);
	if (s->rc < 0)
		return NULL;
	nr_worker_yield_begin();
	s->background_at_start = nr_worker_background();
	t0 = now_s();
	end = t0 + 20;
	while (now_s() < end) {
		nr_worker_yield_piece(); /* a piece of the job's work */
		if (!nr_worker_background()) {
			s->gave_up = true;
			s->policy_when_given_up = sched_getscheduler(0);
			break;
		}
	}
	s->waited_s = now_s() - t0;
	nr_worker_yield_end();
	return NULL;
}

Test(worker_yield, a_starved_background_job_goes_on_at_normal_priority, .timeout = 60)
{
	struct starve s = { 0 };
	pthread_t spin, job;

	if (!have_cap_sys_nice())
		cr_skip_test("needs CAP_SYS_NICE");
	cr_assert_eq(sched_getaffinity(0, sizeof(one_cpu), &one_cpu), 0);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &one_cpu)) { /* the first CPU we may use, alone */
			CPU_ZERO(&one_cpu);
			CPU_SET(c, &one_cpu);
			break;
		}
	cr_assert_eq(pthread_create(&spin, NULL, spinner, NULL), 0);
	cr_assert_eq(pthread_create(&job, NULL, starved_job, &s), 0);
	pthread_join(job, NULL);
	spin_stop = true;
	pthread_join(spin, NULL);
	cr_assert_eq(s.rc, 0, "sched_setaffinity: %s", strerror(errno));
	cr_assert(s.background_at_start);
	cr_assert(s.gave_up, "the job was still at background priority after %.1f s behind a busy thread",
		  s.waited_s);
	cr_assert_eq(s.policy_when_given_up, SCHED_OTHER);
	/* not before it had waited its allowance */
	cr_assert_geq(s.waited_s, NR_WORKER_STARVE_MAX_MS / 1e3, "gave up after %.3f s", s.waited_s);
}
