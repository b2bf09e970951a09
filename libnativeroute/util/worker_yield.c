/* See worker_yield.h for why a pool job yields. The state is the calling
 * thread's own (thread-local): a pool thread runs one job at a time, and
 * other threads (the caller's loop) never see it switched on. */
#include "util/worker_yield.h"

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

/* Yield points between two clock reads: an item of the load (a node
 * decoded, restored or encoded) is 1-3 us. */
#define CHECK_EVERY 8
/* nr_worker_free: blocks from this size on are released in pieces of
 * FREE_PIECE (64 pages, some tens of microseconds of the kernel's work). */
#define FREE_LARGE (1024 * 1024)
#define FREE_PIECE (256 * 1024)

static _Thread_local struct {
	bool on;
	unsigned int calls;
	uint64_t last; /* the last yield (or begin) */
} w;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void nr_worker_yield_begin(void)
{
	w.on = true;
	w.calls = 0;
	w.last = mono_ns();
}

void nr_worker_yield_end(void)
{
	w.on = false;
}

void nr_worker_yield_piece(void)
{
	if (!w.on || mono_ns() - w.last < NR_WORKER_YIELD_NS)
		return;
	sched_yield();
	w.last = mono_ns();
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
