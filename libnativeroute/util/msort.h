/* A merge sort that stops and resumes: sorting the 20,000 entries of a
 * 10,000-node plan takes milliseconds, which the caller's loop must not
 * spend in one piece. Each step does a bounded amount of work (about
 * `budget` element moves) and returns; the array is sorted once a step
 * returns 0. Stable, O(n log n), one scratch array of n elements. */
#ifndef NR_UTIL_MSORT_H
#define NR_UTIL_MSORT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sorted.h"

struct nr_msort {
	char *src, *dst;  /* runs of `width` sorted elements in src; merged into dst */
	char *base;       /* the caller's array */
	char *tmp;        /* one element */
	size_t n, size, width;
	size_t lo, i, j, k; /* the merge in progress: [lo, lo+width) with the next run */
	nr_sorted_cmp cmp;
	bool runs_done;
};

/* Start sorting base[0..n). -ENOMEM: nothing started. */
int nr_msort_begin(struct nr_msort *s, void *base, size_t n, size_t size, nr_sorted_cmp cmp);
/* Sort on for about `budget` element moves: 1 more to do, 0 sorted. */
int nr_msort_step(struct nr_msort *s, size_t budget);
/* Once sorted: the sorted array, either the caller's or the scratch one;
 * the other one is freed (the caller's array pointer must be replaced with
 * the result). Before that: frees the scratch array, base's order is
 * undefined. */
void *nr_msort_end(struct nr_msort *s);
/* The same, but the other array (n elements, sorted or not) goes to
 * *spare instead of free (NULL when there is none): a caller on a loop
 * frees a large one elsewhere (glibc gives it back with one munmap). */
void *nr_msort_end_keep(struct nr_msort *s, void **spare);

#endif
