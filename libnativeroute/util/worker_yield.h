/* A long CPU-bound job on libuv's thread pool (the state load, a save)
 * gives its CPU away now and then, so that it cannot delay the caller's
 * loop thread.
 *
 * Why: the scheduler queues a wakeup of the loop thread (its epoll timeout,
 * the pool's eventfd) on the CPU the loop last ran on, even when that CPU
 * is running one of our pool threads and another CPU is idle, and the loop
 * thread then waits until the pool thread's slice ends at the next tick
 * (4 ms at HZ=250). Measured on a 2-CPU machine during a 100,000-node
 * restart: the loop woken 1.1 ms into a heartbeat gap ran only at 2.6 ms,
 * when the tick preempted the state load's worker (perf sched_switch and
 * sched_wakeup traces). A sched_yield lets a thread queued behind the
 * worker run at once; with nothing queued it returns at once.
 *
 * A yield helps only a loop thread queued on the worker's own CPU. When it
 * is queued on the other CPU, behind another process or a kernel thread,
 * the worker's CPU is no help to it: traced during a 100,000-node restart
 * on a 2-CPU machine, the loop waited 1.9-3.9 ms behind kdamond (the
 * kernel's memory monitor) while a pool thread decoded the state on the
 * other CPU. So between begin and end the job also runs at background
 * priority (SCHED_IDLE): the scheduler then counts the worker's CPU as
 * idle when it places a waking thread, and the waking loop thread takes
 * it from the worker at once. Two limits keep that from hurting:
 *   - only where the thread may go back to its policy afterwards
 *     (CAP_SYS_NICE, or an RLIMIT_NICE that permits its nice value): the
 *     pool thread goes on to run the caller's own jobs;
 *   - a job that has waited NR_WORKER_STARVE_MAX_MS for a CPU in all (a
 *     machine busy with other processes' work, which a background thread
 *     leaves only crumbs of) goes on at its normal priority; where the
 *     thread's run delay cannot be read (/proc/thread-self/schedstat), at
 *     its first check, a millisecond into the job.
 * A job's start costs three system calls with CAP_SYS_NICE, five without (a
 * pass's every send is a job);
 * the file is opened only by a job that lasts a millisecond.
 * The thread's nice value and its SCHED_BATCH stay as they were.
 *
 * All of it is per thread and only between nr_worker_yield_begin and
 * nr_worker_yield_end, so the same code run on the loop thread (the store
 * functions are also used there, and by tools) never yields. */
#ifndef NR_UTIL_WORKER_YIELD_H
#define NR_UTIL_WORKER_YIELD_H

#include <stdbool.h>
#include <stddef.h>

/* This thread yields at the yield points from now on, at background
 * priority where it can (a pool job's start). */
void nr_worker_yield_begin(void);
/* ... and no longer, at its own priority again (the job's end: the pool
 * thread runs others' jobs). Pairs nest: only the outermost counts. */
void nr_worker_yield_end(void);
/* Whether this thread runs a job at background priority now (tests). */
bool nr_worker_background(void);
/* Yield now: between two kernel requests of a netlink job (each a piece of
 * the kernel's work of up to a few hundred microseconds). Also where a
 * background job notices it is starved. */
void nr_worker_yield_now(void);
/* Inside a long loop, once per item of work of a few microseconds or less:
 * yields when NR_WORKER_YIELD_NS passed since the last yield. Cheap: the
 * clock is read every few calls only. A no-op outside begin/end. */
void nr_worker_yield_point(void);
/* The same after a piece of work of up to a few tens of microseconds (4 KiB
 * checksummed, 256 KiB read or copied): the clock is read every call. */
void nr_worker_yield_piece(void);

/* free(p) of a block of `len` bytes. On a yielding thread a large block
 * is first given back to the kernel in pieces, with yield points between
 * them: glibc returns a block of megabytes with one munmap, and the kernel
 * frees its pages in one system call - 1-2 ms for the 10 MB of the
 * decoded nodes of a 100,000-node state, the longest stretch of the load
 * without a yield (traced). */
void nr_worker_free(void *p, size_t len);

/* The longest a loop thread queued behind the worker waits for it. */
#define NR_WORKER_YIELD_NS 100000u
/* A background job's run delay after which it goes on at its normal
 * priority: the most a busy machine delays a restart's job for it. */
#define NR_WORKER_STARVE_MAX_MS 20u

#endif
