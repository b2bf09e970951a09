/* The saved state loads off the caller's loop: nr_ctl_new validates, takes
 * the locks and queues the reading, decoding and model rebuild on libuv's
 * thread pool; the model it builds replaces the placeholder (the options'
 * model) in one swap on the loop. At 100,000 nodes that work is ~400 ms,
 * which nr_ctl_new used to spend on the caller's loop (issue 17).
 *
 * Until the swap no pass runs (a pass on the placeholder would prune every
 * saved route). A call that reads or changes the model meanwhile waits for
 * the load (nr_ctl_loaded): a caller that waits for the start callback
 * never waits. A load that fails leaves the controller refusing everything
 * but close, with the load's error (the start callback reports it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "util/last_error.h"
#include "util/worker_yield.h"

static void load_note(const char *msg, void *data)
{
	struct nr_ctl *ctl = data;

	/* on the worker: the loop does not touch load.notes until it is done */
	nr_ctl_note_add(&ctl->load.notes, msg);
}

/* Whether the model as loaded encodes to the bytes the file holds: then
 * the first pass has nothing to save, and the encoding (~100 ms at 100,000
 * nodes) is done here rather than by that pass on the loop. */
static bool load_is_clean(struct nr_ctl *ctl)
{
	char *text = NULL;
	size_t len = 0;
	bool same;

	if (nr_store_encode(ctl->load.model, &ctl->store_meta, &text, &len) < 0)
		return false;
	same = nr_store_unchanged(ctl->store, text, len);
	nr_worker_free(text, len);
	return same;
}

static void load_work(uv_work_t *w)
{
	struct nr_ctl *ctl = w->data;
	struct nr_state st;
	struct nr_store_restore ro = {
		.cfg = &ctl->rb.cfg, .meta = &ctl->store_meta, .local = &ctl->rb.local,
		.allow_config_migration = ctl->load.allow_migration,
		.note = load_note, .note_data = ctl,
	};
	int rc;

	/* ~350 ms of CPU at 100,000 nodes: the loop thread must not wait
	 * behind it for a CPU (util/worker_yield.h) */
	nr_worker_yield_begin();
	rc = nr_store_load(ctl->store, &st, &ctl->load.err);
	if (rc == 0) {
		if (st.format < NR_STORE_FORMAT)
			load_note("state file format migrated", ctl);
		rc = nr_store_restore(&st, nr_store_path(ctl->store), &ro, &ctl->load.model,
				      &ctl->load.err);
		nr_state_free(&st);
	}
	if (rc == 0 && ctl->load.model)
		ctl->load.clean = load_is_clean(ctl); else if (rc == -ENOENT) { /* gone since nr_ctl_new looked: the placeholder it is */
		rc = 0;
	}
	nr_worker_yield_end();
	uv_mutex_lock(&ctl->load.lock);
	ctl->load.rc = rc;
	ctl->load.done = true;
	uv_cond_broadcast(&ctl->load.cond);
	uv_mutex_unlock(&ctl->load.lock);
}

/* On the loop, once: the swap, and what waited for it. */
static void load_install(struct nr_ctl *ctl)
{
	if (!ctl->load.running)
		return;
	ctl->load.running = false;
	if (ctl->load.rc == 0 && ctl->load.model) {
		nr_model_free(ctl->model);
		ctl->model = ctl->load.model;
		ctl->load.model = NULL;
		if (ctl->load.clean) /* no change made since: all calls waited for this */
			ctl->store_dirty = false;
	}
	nr_ctl_note_append(&ctl->notes, &ctl->load.notes);
	ctl->load.then(ctl); /* the first pass, or the start's failure (ctl_life.c) */
}

/* Without a state file to load: nothing. Queued all the same, so that the
 * process's first thread-pool job - on which libuv starts its threads and
 * waits for each to run, 0.2-2 ms measured - is queued by nr_ctl_new
 * rather than by the first pass (its nftables job or send) on the caller's
 * running loop. */
static void warm_work(uv_work_t *w)
{
	(void)w;
}

static void load_done(uv_work_t *w, int status)
{
	struct nr_ctl *ctl = w->data;

	ctl->load.queued = false;
	if (status == UV_ECANCELED && ctl->load.running) { /* closed before it began */
		ctl->load.rc = -ECANCELED;
		ctl->load.done = true;
	}
	load_install(ctl);
	if (ctl->closing && ctl->load.closed) { /* a close waited for this load */
		void (*closed)(struct nr_ctl *ctl) = ctl->load.closed;

		ctl->load.closed = NULL;
		closed(ctl);
	}
}

int nr_ctl_load_prepare(struct nr_ctl *ctl, struct nr_err *err)
{
	if (!ctl->load.wanted)
		return 0;
	if (uv_mutex_init(&ctl->load.lock) < 0)
		return nr_err_set(err, -ENOMEM, "out of memory");
	if (uv_cond_init(&ctl->load.cond) < 0) {
		uv_mutex_destroy(&ctl->load.lock);
		return nr_err_set(err, -ENOMEM, "out of memory");
	}
	ctl->load.sync_ready = true;
	return 0;
}

void nr_ctl_load_start(struct nr_ctl *ctl)
{
	ctl->load.work.data = ctl;
	ctl->load.running = ctl->load.wanted;
	ctl->load.queued = true; /* close waits for it (the request is ours) */
	/* fails only without a work function */
	(void)uv_queue_work(ctl->loop, &ctl->load.work, ctl->load.wanted ? load_work : warm_work,
			    load_done);
}

bool nr_ctl_load_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	if (!ctl->load.queued)
		return false;
	ctl->load.closed = done;
	return true;
}

int nr_ctl_loaded(struct nr_ctl *ctl)
{
	if (ctl->load.running) {
		uv_mutex_lock(&ctl->load.lock);
		while (!ctl->load.done)
			uv_cond_wait(&ctl->load.cond, &ctl->load.lock);
		uv_mutex_unlock(&ctl->load.lock);
		load_install(ctl);
	}
	if (ctl->load.rc < 0)
		return nr_last_error_set(ctl->load.rc, "%s", ctl->load.err.msg[0] ? ctl->load.err.msg
							 : "loading the saved state failed");
	return 0;
}

void nr_ctl_load_cancel(struct nr_ctl *ctl)
{
	if (ctl->load.queued)
		uv_cancel((uv_req_t *)&ctl->load.work); /* fails once it runs: then we wait */
}

void nr_ctl_load_free(struct nr_ctl *ctl)
{
	nr_model_free(ctl->load.model);
	ctl->load.model = NULL;
	nr_ctl_note_free(&ctl->load.notes);
	if (ctl->load.sync_ready) {
		uv_cond_destroy(&ctl->load.cond);
		uv_mutex_destroy(&ctl->load.lock);
		ctl->load.sync_ready = false;
	}
}
