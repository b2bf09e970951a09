/* See worker_yield.h for why a pool job yields and runs at background
 * priority. The state is the calling thread's own (thread-local): a pool
 * thread runs one job at a time, and other threads (the caller's loop)
 * never see it switched on. */
#include "util/worker_yield.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

/* Yield points between two clock reads: an item of the load (a node
 * decoded, restored or encoded) is 1-3 us. */
#define CHECK_EVERY 8
/* nr_worker_free: blocks from this size on are released in pieces of
 * FREE_PIECE (64 pages, some tens of microseconds of the kernel's work). */
#define FREE_LARGE (1024 * 1024)
#define FREE_PIECE (256 * 1024)

/* How often a background job looks at its run delay, and how much of it
 * it accepts before it gives the background priority up (see the header). */
#define STARVE_CHECK_NS 1000000u
#define STARVE_MAX_NS (NR_WORKER_STARVE_MAX_MS * 1000000ull)

static _Thread_local struct {
	bool on;
	unsigned int depth; /* begin calls not ended yet: only the outermost counts */
	unsigned int calls;
	uint64_t last; /* the last yield (or begin) */
	/* background priority: the policy to go back to, while switched */
	bool idle;
	int policy;
	int schedstat_fd;  /* this thread's schedstat, from the first check; -1: none */
	uint64_t delay0;   /* its run delay then */
	uint64_t next_check;
} w;

/* Whether this thread may go back from SCHED_IDLE to its policy: the
 * kernel allows that only with CAP_SYS_NICE or an RLIMIT_NICE that
 * permits the thread's nice value (sched(7)). Without it the pool thread
 * would stay at idle priority for the caller's own jobs after ours, so
 * then the job runs at the normal priority. */
static bool can_leave_idle(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	struct rlimit rl;
	int nice;

	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE)))
		return true;
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0); /* this thread's (Linux) */
	if (errno || getrlimit(RLIMIT_NICE, &rl) < 0)
		return false;
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)(20 - nice);
}

/* This thread's run delay so far (ns): the time it was runnable and waited
 * for a CPU. Needs w.schedstat_fd. */
static bool run_delay_ns(uint64_t *delay_ns)
{
	char buf[96];
	unsigned long long on_cpu, delay;
	ssize_t n = pread(w.schedstat_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &on_cpu, &delay) != 2)
		return false;
	*delay_ns = delay;
	return true;
}

/* At a job's start, on the path of every pass's send: three system calls
 * (policy, capabilities, the switch), nothing more. The run delay is
 * looked at from the first check on (STARVE_CHECK_NS into the job): a
 * short job never opens the file. */
static void background_begin(void)
{
	static const struct sched_param idle = { .sched_priority = 0 };

	w.idle = false;
	w.schedstat_fd = -1;
	w.policy = sched_getscheduler(0);
	/* only a thread at the normal policies (whose priority is always 0):
	 * never a real-time one */
	if ((w.policy != SCHED_OTHER && w.policy != SCHED_BATCH) || !can_leave_idle() ||
	    sched_setscheduler(0, SCHED_IDLE, &idle) < 0)
		return;
	w.idle = true;
	w.next_check = w.last + STARVE_CHECK_NS;
}

static void background_end(void)
{
	static const struct sched_param normal = { .sched_priority = 0 };

	if (w.idle)
		(void)sched_setscheduler(0, w.policy, &normal); /* allowed: can_leave_idle */
	w.idle = false;
	if (w.schedstat_fd >= 0)
		close(w.schedstat_fd);
	w.schedstat_fd = -1;
}

/* A background job that has waited STARVE_MAX for a CPU in all (counted
 * from its first check) is behind other processes' work, not the caller's
 * loop: it goes on at the normal priority, so that a busy machine delays a
 * restart by that much at most. Where the run delay cannot be read (no
 * /proc, a kernel without schedstats) a starved job would not notice: it
 * goes on at the normal priority at once. */
static void background_check(uint64_t now)
{
	uint64_t delay;

	if (!w.idle || now < w.next_check)
		return;
	w.next_check = now + STARVE_CHECK_NS;
	if (w.schedstat_fd < 0) {
		w.schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		if (w.schedstat_fd < 0 || !run_delay_ns(&w.delay0))
			background_end();
		return;
	}
	if (!run_delay_ns(&delay) || delay - w.delay0 >= STARVE_MAX_NS)
		background_end();
}

void nr_worker_yield_begin(void)
{
	if (w.depth++) /* inside a job that began already */
		return;
	w.on = true;
	w.calls = 0;
	w.last = nr_mono_ns();
	background_begin();
}

void nr_worker_yield_end(void)
{
	if (!w.depth || --w.depth)
		return;
	w.on = false;
	background_end();
}

bool nr_worker_background(void)
{
	return w.on && w.idle;
}

void nr_worker_yield_piece(void)
{
	uint64_t now;

	if (!w.on)
		return;
	now = nr_mono_ns();
	if (now - w.last < NR_WORKER_YIELD_NS)
		return;
	background_check(now);
	sched_yield();
	w.last = nr_mono_ns();
}

void nr_worker_yield_now(void)
{
	if (w.on)
		background_check(nr_mono_ns());
	sched_yield();
	if (w.on)
		w.last = nr_mono_ns();
}

void nr_worker_yield_point(void)
{
	if (w.on && ++w.calls % CHECK_EVERY == 0)
		nr_worker_yield_piece();
}

void nr_worker_free(void *p, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;

	if (!p || !w.on || len < FREE_LARGE) {
		free(p);
		return;
	}
	/* the whole pages inside the block only: the allocator's headers
	 * before it (and a neighbour's after it) are not touched. The pages
	 * read as zeros afterwards, which nothing does: free() follows. */
	lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	hi = ((uintptr_t)p + len) & ~(page - 1);
	for (; lo + FREE_PIECE <= hi; lo += FREE_PIECE) {
		(void)madvise((void *)lo, FREE_PIECE, MADV_DONTNEED);
		nr_worker_yield_piece();
	}
	free(p);
}
