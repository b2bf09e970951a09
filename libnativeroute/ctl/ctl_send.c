/* A pass's netlink batch, sent from libuv's thread pool.
 *
 * The kernel applies a route or nexthop inside sendmsg, in the thread that
 * sends it. That is a few microseconds per message, except when an insert
 * makes the FIB trie resize a large node or the fib_info hash grow: then
 * one sendmsg takes milliseconds (measured with 10,000 routes: 16 routes in
 * 9.3 ms; the median call 64 us). No slicing on the loop can bound that, so
 * the loop does not send: a worker sends one claim of operations (as many
 * as the receive buffer holds ACKs for), whose ACKs the kernel queues while
 * the worker sends; the loop reads them once the worker has returned (not
 * while it sends: why in step_send_offloaded, ctl_reconcile.c), and claims
 * the next operations.
 *
 * The same worker slot runs other jobs on ctl->nl (nr_ctl_send_job): a full
 * pass's route lookups (ctl_reach.c), ten thousand of which are ~50 ms of
 * kernel work in the asking thread, which the loop had done in slices.
 *
 * The batch is the pass's; while a worker uses it, it must not be freed: a
 * pass that ends meanwhile (close) hands it over (release), and the
 * worker's end frees it. The pass itself waits for the worker before it
 * finishes, so the command socket carries one batch at a time. */
#include <errno.h>

#include "ctl/ctl_internal.h"
#include "util/worker_yield.h"

bool nr_ctl_send_offloaded(const struct nr_ctl *ctl)
{
	return ctl->k->batch_send && ctl->k->batch_read;
}

bool nr_ctl_send_running(const struct nr_ctl *ctl)
{
	return ctl->send.running;
}

static void send_work(uv_work_t *w)
{
	struct nr_ctl *ctl = w->data;

	/* at background priority: the kernel's work for our requests runs in
	 * this thread, and must not keep the caller's loop from a CPU */
	nr_worker_yield_begin();
	if (ctl->send.job)
		ctl->send.rc = ctl->send.job->run(ctl, ctl->send.job_arg);
	else
		ctl->send.rc = ctl->k->batch_send(ctl->send.batch, ctl->send.first, ctl->send.n,
						  &ctl->send.sent);
	nr_worker_yield_end();
}

static void send_done(uv_work_t *w, int status)
{
	struct nr_ctl *ctl = w->data;
	struct nr_nl_batch *b = ctl->send.batch;
	const struct nr_ctl_job *job = ctl->send.job;
	void *arg = ctl->send.job_arg;
	int rc = status < 0 ? status : ctl->send.rc;
	void (*then)(struct nr_ctl *, int) = ctl->send.then;

	if (job) {
		if (job->ended)
			job->ended(arg, rc);
	} else {
		nr_nl_batch_claim_end(b, ctl->send.first, ctl->send.n, ctl->send.sent);
	}
	ctl->send.running = false;
	ctl->send.batch = NULL;
	ctl->send.job = NULL;
	ctl->send.job_arg = NULL;
	ctl->send.then = NULL;
	if (ctl->send.orphan) {
		ctl->send.orphan = false;
		if (job)
			job->free(arg);
		else
			nr_nl_batch_free(b);
	}
	if (ctl->closing) { /* a close may wait for this worker: it ends now */
		if (ctl->send.closed)
			ctl->send.closed(ctl);
		return;
	}
	if (then)
		then(ctl, rc);
}

static bool start_worker(struct nr_ctl *ctl, void (*then)(struct nr_ctl *ctl, int rc))
{
	ctl->send.rc = 0;
	ctl->send.then = then;
	ctl->send.work.data = ctl;
	ctl->send.running = true;
	/* fails only without a work callback */
	(void)uv_queue_work(ctl->loop, &ctl->send.work, send_work, send_done);
	return true;
}

bool nr_ctl_send_next(struct nr_ctl *ctl, struct nr_nl_batch *b,
		      void (*then)(struct nr_ctl *ctl, int rc))
{
	size_t first, n;

	if (ctl->send.running || ctl->closing)
		return false;
	n = nr_nl_batch_claim(b, &first);
	if (!n)
		return false;
	ctl->send.batch = b;
	ctl->send.first = first;
	ctl->send.n = n;
	ctl->send.sent = 0;
	return start_worker(ctl, then);
}

void nr_ctl_send_release(struct nr_ctl *ctl, struct nr_nl_batch *b)
{
	if (b && ctl->send.running && ctl->send.batch == b)
		ctl->send.orphan = true;
	else
		nr_nl_batch_free(b);
}

bool nr_ctl_send_job(struct nr_ctl *ctl, const struct nr_ctl_job *job, void *arg,
		     void (*then)(struct nr_ctl *ctl, int rc))
{
	if (ctl->send.running || ctl->closing)
		return false;
	ctl->send.job = job;
	ctl->send.job_arg = arg;
	return start_worker(ctl, then);
}

void nr_ctl_send_release_job(struct nr_ctl *ctl, const struct nr_ctl_job *job, void *arg)
{
	if (arg && ctl->send.running && ctl->send.job_arg == arg)
		ctl->send.orphan = true;
	else if (arg)
		job->free(arg);
}

void nr_ctl_send_cancel(struct nr_ctl *ctl)
{
	/* only a send that has not started yet (libuv's pool may be busy
	 * with the caller's own work): its end then comes with UV_ECANCELED,
	 * nothing sent; one already sending finishes */
	if (ctl->send.running)
		(void)uv_cancel((uv_req_t *)&ctl->send.work);
}

bool nr_ctl_send_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	if (!ctl->send.running)
		return false;
	ctl->send.closed = done;
	nr_ctl_send_cancel(ctl);
	return true;
}
