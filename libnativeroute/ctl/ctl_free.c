/* Large blocks freed on libuv's thread pool. glibc gives a block of a
 * megabyte or more back with one munmap, and the kernel frees its pages
 * inside that call: 1.25 ms on the loop for one sort array of a plan at
 * 10,000 nodes (perf: __vm_munmap under nr_msort_end), ten times that at
 * 100,000. A close waits for the frees still queued (close_when_idle). */
#include <stdlib.h>

#include "ctl/ctl_internal.h"
#include "util/worker_yield.h"

#define FREE_OFF_LOOP (256 * 1024) /* below: free() here, it is cheap */

struct free_job {
	uv_work_t work;
	struct nr_ctl *ctl;
	void *p;
	size_t len;
};

static void free_work(uv_work_t *w)
{
	struct free_job *j = w->data;

	nr_worker_yield_begin();
	nr_worker_free(j->p, j->len);
	nr_worker_yield_end();
}

static void free_done(uv_work_t *w, int status)
{
	struct free_job *j = w->data;
	struct nr_ctl *ctl = j->ctl;
	void (*closed)(struct nr_ctl *) = ctl->frees.closed;

	if (status < 0) /* cancelled: not run */
		free(j->p);
	free(j);
	if (--ctl->frees.queued == 0 && closed) {
		ctl->frees.closed = NULL;
		closed(ctl);
	}
}

void nr_ctl_free_large(void *ctx, void *p, size_t len)
{
	struct nr_ctl *ctl = ctx;
	struct free_job *j;

	if (!p)
		return;
	if (len < FREE_OFF_LOOP || ctl->closing || !(j = malloc(sizeof(*j)))) {
		free(p);
		return;
	}
	*j = (struct free_job){ .ctl = ctl, .p = p, .len = len };
	j->work.data = j;
	if (uv_queue_work(ctl->loop, &j->work, free_work, free_done) < 0) {
		free(j);
		free(p);
		return;
	}
	ctl->frees.queued++;
}

bool nr_ctl_free_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	if (!ctl->frees.queued)
		return false;
	ctl->frees.closed = done;
	return true;
}
