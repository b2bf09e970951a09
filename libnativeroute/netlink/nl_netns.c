#include "netlink/nl_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int netns_open(const char *netns, struct nr_err *err)
{
	char path[PATH_MAX];
	int fd;

	if (!netns)
		snprintf(path, sizeof(path), "/proc/thread-self/ns/net");
	else if (strchr(netns, '/'))
		snprintf(path, sizeof(path), "%s", netns);
	else if (!*netns || !strcmp(netns, ".") || !strcmp(netns, ".."))
		return nr_err_set(err, -EINVAL, "netns \"%s\": not a valid name", netns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nr_err_set(err, -errno, "netns %s: open %s: %s", netns ? netns : "(own)",
				  path, strerror(errno));
	return fd;
}

struct netns_job {
	int target;
	int (*fn)(void *arg);
	void *arg;
	int ret;
	int setns_errno;
};

/* A short-lived thread enters the namespace and dies there: the caller's
 * thread (the application's loop thread) never changes namespace, and
 * there is no way back to fail (which once had to abort the process). */
static void *netns_thread(void *p)
{
	struct netns_job *j = p;

	if (setns(j->target, CLONE_NEWNET) < 0) {
		j->setns_errno = errno;
		return NULL;
	}
	j->ret = j->fn(j->arg);
	return NULL;
}

/* The helper starts on the caller's CPU, which the caller gives up at
 * once (it waits in pthread_join). Left to the scheduler, a new thread
 * went to the other CPU when that one looked less loaded, and with another
 * process running there it waited for the next tick (4 ms at HZ=250) while
 * the caller's CPU sat free: traced in nr_ctl_new on a busy 2-CPU machine
 * (sched_wakeup_new and sched_switch), 2.2-4.2 ms per socket open, 4-15 ms
 * per nr_ctl_new, all of it a stall of the caller's loop. Pinned: handoff
 * p99 0.15-0.48 ms instead of 0.87-1.9 ms under load (400 each), the same
 * when the machine is quiet. */
static int start_here(pthread_t *t, struct netns_job *j)
{
	pthread_attr_t attr;
	cpu_set_t cpus;
	int cpu = sched_getcpu(), rc;

	if (cpu < 0 || pthread_attr_init(&attr) != 0)
		return pthread_create(t, NULL, netns_thread, j);
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	rc = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (rc == 0)
		rc = pthread_create(t, &attr, netns_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) /* the CPU is not ours to ask for (a cpuset changed): anywhere */
		rc = pthread_create(t, NULL, netns_thread, j);
	return rc;
}

/* Run fn on a new thread inside the namespace of `target`, wait for it. */
static int run_on_thread(int target, const char *name, int (*fn)(void *arg), void *arg,
			 struct nr_err *err)
{
	struct netns_job j = { .target = target, .fn = fn, .arg = arg };
	pthread_t t;
	int rc;

	rc = start_here(&t, &j);
	if (rc != 0)
		return nr_err_set(err, -rc, "netns %s: cannot start a thread: %s", name, strerror(rc));
	pthread_join(t, NULL);
	if (j.setns_errno)
		return nr_err_set(err, -j.setns_errno, "netns %s: setns: %s", name,
				  strerror(j.setns_errno));
	return j.ret;
}

int nr_nl_netns_run(const char *netns, int (*fn)(void *arg), void *arg,
		    struct nr_err *err)
{
	int fd, rc;

	if (!netns)
		return fn(arg);
	fd = netns_open(netns, err);
	if (fd < 0)
		return fd;
	rc = run_on_thread(fd, netns, fn, arg, err);
	close(fd);
	return rc;
}

int nr_nl_netns_open(const char *netns, struct nr_err *err)
{
	return netns_open(netns, err);
}

int nr_nl_netns_run_fd(int netns_fd, int (*fn)(void *arg), void *arg, struct nr_err *err)
{
	return run_on_thread(netns_fd, "(fd)", fn, arg, err);
}
