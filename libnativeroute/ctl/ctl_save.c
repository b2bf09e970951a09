/* Saving the state: ahead of the kernel, off the loop.
 *
 * Write-ahead: a pass saves the model before it changes the kernel. When
 * the save fails (a full disk, no file descriptors left, a directory that
 * cannot be made again), the model goes back to the last durable state and
 * every request it covered fails with the reason, so "an error means
 * nothing changed" holds for the model, the kernel and the disk alike; a
 * success is applied and durable.
 *
 * Off the loop: the model is encoded on the loop (it changes there), and
 * the bytes are written, fsync'd, renamed and the directory fsync'd on
 * libuv's thread pool (uv_queue_work), so a slow disk never stalls the
 * caller's loop. The pass waits for it (ctl->flight is set meanwhile, so
 * close and purge wait too). One pass at a time means one save at a time,
 * and a pass covers every change made since the last one: 10,000 changes
 * in one loop turn cost one write and one fsync.
 *
 * Bytes equal to what the file holds are not written (nr_store_unchanged):
 * a restart that changed nothing writes nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"

static void save_work(uv_work_t *w)
{
	struct nr_ctl *ctl = w->data;

	ctl->save.rc = nr_store_write(ctl->store, ctl->save.text, ctl->save.len, &ctl->save.err);
}

static void save_done(uv_work_t *w, int status)
{
	struct nr_ctl *ctl = w->data;
	int rc = status < 0 ? status : ctl->save.rc;
	nr_ctl_saved_fn then = ctl->save.then;

	ctl->save.running = false;
	ctl->save.then = NULL;
	if (status < 0)
		nr_err_set(&ctl->save.err, rc, "state save: %s", nr_strerror(rc));
	if (nr_store_take_recreated(ctl->store))
		nr_ctl_emit(ctl, NR_EVENT_STATE_MIGRATED, NULL, NULL,
			    "state directory of %s was deleted; created it again to save the state",
			    nr_store_path(ctl->store));
	if (rc == 0) {
		nr_store_written(ctl->store, ctl->save.text, ctl->save.len);
	} else {
		ctl->store_dirty = true; /* the model still differs from the file */
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ctl->save.err.msg);
	}
	free(ctl->save.text);
	ctl->save.text = NULL;
	if (ctl->closing) { /* a close may wait for this save: it ends now */
		if (ctl->save.closed)
			ctl->save.closed(ctl);
		return;
	}
	then(ctl, rc, ctl->save.err.msg);
}

void nr_ctl_save_ahead(struct nr_ctl *ctl, nr_ctl_saved_fn then)
{
	struct nr_err err = { 0 };
	int rc;

	if (!ctl->store || !ctl->store_dirty || ctl->purged || ctl->purge_req || ctl->save.running) {
		then(ctl, 0, NULL);
		return;
	}
	if (nr_store_encode(ctl->model, &ctl->store_meta, &ctl->save.text, &ctl->save.len) < 0) {
		rc = nr_err_set(&err, -ENOMEM, "%s: out of memory", nr_store_path(ctl->store));
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", err.msg);
		then(ctl, rc, err.msg);
		return;
	}
	ctl->store_dirty = false;
	if (nr_store_unchanged(ctl->store, ctl->save.text, ctl->save.len)) {
		free(ctl->save.text);
		ctl->save.text = NULL;
		then(ctl, 0, NULL);
		return;
	}
	ctl->save.rc = 0;
	memset(&ctl->save.err, 0, sizeof(ctl->save.err));
	ctl->save.work.data = ctl;
	ctl->save.then = then;
	ctl->save.running = true;
	rc = uv_queue_work(ctl->loop, &ctl->save.work, save_work, save_done);
	if (rc < 0) { /* cannot happen with a valid loop; write here then */
		ctl->save.rc = nr_store_write(ctl->store, ctl->save.text, ctl->save.len, &ctl->save.err);
		save_done(&ctl->save.work, 0);
	}
}

/* At close (the handles are closed): a running save makes close wait for
 * it; save_done then calls done, which ends the close (a callback: close is
 * the layer above, see ctl_internal.h). */
bool nr_ctl_save_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	if (!ctl->save.running)
		return false;
	ctl->save.closed = done;
	return true;
}
