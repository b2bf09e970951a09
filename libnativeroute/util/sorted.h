/* Sorted arrays of fixed-size elements: binary search, insert-or-overwrite
 * and remove by key. The controller's desired-state upkeep and the eBPF
 * entry sets keep their objects this way so a diff is a merge walk. */
#ifndef NR_UTIL_SORTED_H
#define NR_UTIL_SORTED_H

#include <stddef.h>

typedef int (*nr_sorted_cmp)(const void *, const void *);

/* Index of the first element not less than key. */
size_t nr_sorted_lower_bound(const void *base, size_t n, size_t size, const void *key,
			     nr_sorted_cmp cmp);
/* The element equal to key, or NULL. */
const void *nr_sorted_find(const void *base, size_t n, size_t size, const void *key,
			   nr_sorted_cmp cmp);
/* Insert elem in order, or overwrite the element with the same key;
 * *base may move (realloc). -ENOMEM leaves the array as it was. */
int nr_sorted_upsert(void **base, size_t *n, size_t size, const void *elem, nr_sorted_cmp cmp);
/* Remove the element equal to key, if any. */
void nr_sorted_remove(void *base, size_t *n, size_t size, const void *key, nr_sorted_cmp cmp);

#endif
