/* Saving the state off the loop, with "acknowledged = durable" kept.
 *
 * A pass decides the outcome of its requests, then hands them here. They
 * wait in `await` until a save that covers their change is on disk; only
 * then are their callbacks queued (ctl_deliver.c). The model is encoded on
 * the loop (it changes there), and the bytes are written, fsync'd, renamed
 * and the directory fsync'd on libuv's thread pool (uv_queue_work), so a
 * slow disk never stalls the caller's loop.
 *
 * Group commit: one save runs at a time. Requests decided while it runs
 * wait for the next one, which starts as soon as it ends and covers all of
 * them: 10,000 changes cost a handful of writes, not 10,000.
 *
 * Bytes equal to what the file holds are not written (nr_store_unchanged):
 * a restart that changed nothing writes nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"

#define NR_SAVE_RETRY_MS 1000

static void deliver_list(struct nr_ctl *ctl, struct nr_pending *p, int rc, const char *msg)
{
	while (p) {
		struct nr_pending *next = p->next;
		int status = p->status;
		const char *m = p->msg;

		/* a failed save fails what it should have made durable */
		if (status == 0 && rc < 0) {
			status = rc;
			m = msg;
		}
		nr_ctl_pending_run(ctl, p, status, m);
		p = next;
	}
}

static struct nr_pending *take_await(struct nr_ctl *ctl)
{
	struct nr_pending *list = ctl->await;

	ctl->await = NULL;
	ctl->await_tail = &ctl->await;
	return list;
}

static void save_work(uv_work_t *w)
{
	struct nr_ctl *ctl = w->data;

	ctl->save.rc = nr_store_write(ctl->store, ctl->save.text, ctl->save.len, &ctl->save.err);
}

static void save_done(uv_work_t *w, int status)
{
	struct nr_ctl *ctl = w->data;
	struct nr_pending *covered = ctl->save.covered;
	int rc = status < 0 ? status : ctl->save.rc;

	ctl->save.running = false;
	ctl->save.covered = NULL;
	if (nr_store_take_recreated(ctl->store))
		nr_ctl_emit(ctl, NR_EVENT_STATE_MIGRATED, NULL, NULL,
			    "state directory of %s was deleted; created it again to save the state",
			    nr_store_path(ctl->store));
	if (rc == 0) {
		nr_store_written(ctl->store, ctl->save.text, ctl->save.len);
	} else {
		if (status < 0)
			nr_err_set(&ctl->save.err, rc, "state save: %s", nr_strerror(rc));
		ctl->store_dirty = true; /* the model still differs from the file */
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ctl->save.err.msg);
		nr_ctl_schedule(ctl, NR_SAVE_RETRY_MS);
	}
	free(ctl->save.text);
	ctl->save.text = NULL;
	deliver_list(ctl, covered, rc, ctl->save.err.msg);
	if (ctl->closing && rc < 0) /* no retry after close */
		deliver_list(ctl, take_await(ctl), rc, ctl->save.err.msg);
	else if (ctl->await)
		nr_ctl_save_kick(ctl);
	/* a close that waited for this save ends now */
	if (ctl->closing && !ctl->save.running && ctl->open_handles == 0)
		nr_ctl_close_finish(ctl);
}

void nr_ctl_save_kick(struct nr_ctl *ctl)
{
	struct nr_err err = { 0 };
	int rc;

	if (ctl->save.running)
		return; /* save_done starts the next one */
	if (!ctl->store || !ctl->store_dirty || ctl->purged || ctl->purge_req) {
		deliver_list(ctl, take_await(ctl), 0, NULL);
		return;
	}
	if (nr_store_encode(ctl->model, &ctl->store_meta, &ctl->save.text, &ctl->save.len) < 0) {
		rc = nr_err_set(&err, -ENOMEM, "%s: out of memory", nr_store_path(ctl->store));
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", err.msg);
		deliver_list(ctl, take_await(ctl), rc, err.msg);
		nr_ctl_schedule(ctl, NR_SAVE_RETRY_MS);
		return;
	}
	ctl->store_dirty = false;
	if (nr_store_unchanged(ctl->store, ctl->save.text, ctl->save.len)) {
		free(ctl->save.text);
		ctl->save.text = NULL;
		deliver_list(ctl, take_await(ctl), 0, NULL);
		return;
	}
	ctl->save.covered = take_await(ctl);
	ctl->save.rc = 0;
	memset(&ctl->save.err, 0, sizeof(ctl->save.err));
	ctl->save.work.data = ctl;
	ctl->save.running = true;
	rc = uv_queue_work(ctl->loop, &ctl->save.work, save_work, save_done);
	if (rc < 0) { /* cannot happen with a valid loop; write here then */
		ctl->save.rc = nr_store_write(ctl->store, ctl->save.text, ctl->save.len, &ctl->save.err);
		save_done(&ctl->save.work, 0);
	}
}

void nr_ctl_save_await(struct nr_ctl *ctl, struct nr_pending *p)
{
	p->next = NULL;
	*ctl->await_tail = p;
	ctl->await_tail = &p->next;
}

void nr_ctl_save_init(struct nr_ctl *ctl)
{
	ctl->await_tail = &ctl->await;
}

/* At close (the handles are closed): a save that runs, or one that what
 * still waits needs, makes close wait for it (save_done ends the close). */
bool nr_ctl_save_busy(struct nr_ctl *ctl)
{
	if (!ctl->save.running && ctl->await)
		nr_ctl_save_kick(ctl);
	return ctl->save.running;
}
