/* The monotonic clock in nanoseconds: what a slice of loop work measures
 * its time budget with. */
#ifndef NR_UTIL_CLOCK_H
#define NR_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t nr_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
