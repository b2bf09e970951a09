/* Saving the state: ahead of the kernel, off the loop.
 *
 * Write-ahead: a pass saves the model before it changes the kernel. When
 * the save fails (a full disk, no file descriptors left, a directory that
 * cannot be made again), the model goes back to the last durable state and
 * every request it covered fails with the reason, so "an error means
 * nothing changed" holds for the model, the kernel and the disk alike; a
 * success is applied and durable.
 *
 * Off the loop: encoding the model is O(nodes) - milliseconds at 10,000 -
 * so the loop keeps a copy of what the file records (ctl->save.img, a
 * struct nr_store_image) up to date per changed node instead: the model's
 * journal names the nodes changed since the last save (nr_model_journal_*),
 * and nr_ctl_save_prep copies those, in slices of the pass (ST_SAVE), until
 * the copy equals the model. Then the copy is encoded, compared with what
 * the file holds, written, fsync'd, renamed and the directory fsync'd on
 * libuv's thread pool (uv_queue_work); the loop does not touch the copy or
 * the store until the worker is done (one save at a time: the pass waits,
 * ctl->flight is set meanwhile, so close and purge wait too). A pass covers
 * every change made since the last one: 10,000 changes in one loop turn
 * cost one write and one fsync.
 *
 * Bytes equal to what the file holds are not written (nr_store_unchanged):
 * a restart that changed nothing writes nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"
#include "util/clock.h"
#include "util/worker_yield.h"

#define PREP_SLICE 64 /* journal entries (or nodes) between two clock reads */

/* ---- the copy ------------------------------------------------------------ */

static void img_drop_nodes(struct nr_store_image *img)
{
	for (size_t i = 0; i < img->top; i++) {
		free(img->nodes[i].name);
		img->nodes[i].name = NULL;
	}
	img->top = 0;
}

/* Slot `index` := the model's node there now (or none). */
static int img_copy(struct nr_store_image *img, const struct nr_model *m, uint32_t index)
{
	const struct nr_node *n = nr_model_node_by_index(m, index);
	struct nr_store_node *slot;

	if (index >= img->cap_nodes) {
		size_t cap = img->cap_nodes ? img->cap_nodes : 64;
		struct nr_store_node *g;

		if (!n)
			return 0; /* nothing there before either */
		while (cap <= index)
			cap *= 2;
		g = realloc(img->nodes, cap * sizeof(*g));
		if (!g)
			return -ENOMEM;
		memset(g + img->cap_nodes, 0, (cap - img->cap_nodes) * sizeof(*g));
		img->nodes = g;
		img->cap_nodes = cap;
	}
	slot = &img->nodes[index];
	if (n && slot->name && !strcmp(slot->name, n->name)) {
		/* same node: the name stays */
	} else {
		free(slot->name);
		slot->name = NULL;
		if (n && !(slot->name = strdup(n->name)))
			return -ENOMEM;
	}
	if (n) {
		slot->index = index;
		slot->ip4 = n->ip4;
		slot->ip6 = n->ip6;
		slot->cidr4 = n->cidr4;
		slot->cidr6 = n->cidr6;
		if (index >= img->top)
			img->top = index + 1;
	}
	while (img->top && !img->nodes[img->top - 1].name)
		img->top--;
	return 0;
}

/* The rest of what the file records, taken as it is now (small). */
static int img_finish(struct nr_ctl *ctl)
{
	struct nr_store_image *img = &ctl->save.img;
	const char *local = nr_model_local_name(ctl->model);
	size_t n = nr_model_endpoint_count(ctl->model), k = 0;

	if (!img->local_name || strcmp(img->local_name, local)) {
		free(img->local_name);
		if (!(img->local_name = strdup(local)))
			return -ENOMEM;
	}
	img->cfg = *nr_model_config(ctl->model);
	img->meta = ctl->store_meta;
	for (size_t i = 0; i < img->n_eps; i++)
		free(img->eps[i].id);
	img->n_eps = 0;
	if (n > img->cap_eps) {
		struct nr_store_endpoint *g = realloc(img->eps, n * sizeof(*g));

		if (!g)
			return -ENOMEM;
		img->eps = g;
		img->cap_eps = n;
	}
	for (const struct nr_endpoint *e = nr_model_endpoint_next(ctl->model, NULL); e;
	     e = nr_model_endpoint_next(ctl->model, e)) {
		struct nr_store_endpoint *c = &img->eps[k];

		memset(c, 0, sizeof(*c));
		if (!(c->id = strdup(e->id)))
			return -ENOMEM;
		snprintf(c->ifname, sizeof(c->ifname), "%s", e->ifname);
		c->ifindex = e->ifindex;
		c->ip4 = e->ip4;
		c->ip6 = e->ip6;
		img->n_eps = ++k;
	}
	return 0;
}

static bool save_needed(const struct nr_ctl *ctl)
{
	return ctl->store && ctl->store_dirty && !ctl->purged && !ctl->purge_req && !ctl->save.running;
}

int nr_ctl_save_prep(struct nr_ctl *ctl, uint64_t budget_ns)
{
	uint64_t t0 = nr_mono_ns();
	uint32_t idx[PREP_SLICE];

	if (!save_needed(ctl))
		return 0;
	/* a model not journaling is new (start, rollback, a state loaded) */
	if (!nr_model_journaling(ctl->model) || ctl->save.img_stale) {
		nr_model_journal_start(ctl->model);
		ctl->save.img_stale = false;
		ctl->save.rebuild = true;
		ctl->save.cursor = 0;
		img_drop_nodes(&ctl->save.img);
	}
	for (;;) {
		size_t k = 0;
		bool lost = false;
		int rc = 0;

		if (ctl->save.rebuild) { /* every node, by index; what changes
					  * behind the cursor is in the journal */
			const struct nr_node *n = nr_model_node_from(ctl->model, ctl->save.cursor);

			for (; n && k < PREP_SLICE && rc == 0; k++) {
				rc = img_copy(&ctl->save.img, ctl->model, n->index);
				ctl->save.cursor = n->index + 1;
				n = nr_model_node_from(ctl->model, ctl->save.cursor);
			}
			if (!n)
				ctl->save.rebuild = false;
		} else {
			k = nr_model_journal_take(ctl->model, idx, PREP_SLICE, &lost);
			if (lost) {
				ctl->save.rebuild = true;
				ctl->save.cursor = 0;
				img_drop_nodes(&ctl->save.img);
				continue;
			}
			if (k == 0)
				return 0; /* the copy is the model */
			for (size_t i = 0; i < k && rc == 0; i++)
				rc = img_copy(&ctl->save.img, ctl->model, idx[i]);
		}
		if (rc < 0) {
			ctl->save.img_stale = true; /* copy everything again next time */
			return rc;
		}
		if (nr_mono_ns() - t0 >= budget_ns)
			return 1;
	}
}

/* ---- the save -------------------------------------------------------------- */

/* On the thread pool: encode the copy, skip bytes the file holds, write. */
static void save_work(uv_work_t *w)
{
	struct nr_ctl *ctl = w->data;
	char *text = NULL;
	size_t len = 0;

	ctl->save.wrote = false;
	/* encoding and checksums: ~10 ms of CPU at 10,000 nodes, which the
	 * loop thread must not wait behind (util/worker_yield.h) */
	nr_worker_yield_begin();
	if (nr_store_encode_image(&ctl->save.img, &text, &len) < 0) {
		ctl->save.rc = nr_err_set(&ctl->save.err, -ENOMEM, "%s: out of memory",
					  nr_store_path(ctl->store));
	} else if (nr_store_unchanged(ctl->store, text, len)) {
		nr_worker_free(text, len);
		ctl->save.rc = 0;
	} else {
		ctl->save.rc = nr_store_write(ctl->store, text, len, &ctl->save.err);
		if (ctl->save.rc == 0) {
			nr_store_remember(ctl->store, text, len); /* takes the bytes */
			ctl->save.wrote = true;
		} else {
			free(text);
		}
	}
	nr_worker_yield_end();
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
	if (rc == 0 && ctl->save.wrote) {
		nr_store_count_save(ctl->store);
	} else if (rc < 0) {
		ctl->store_dirty = true; /* the model still differs from the file */
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ctl->save.err.msg);
	}
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

	if (!save_needed(ctl)) {
		then(ctl, 0, NULL);
		return;
	}
	/* what the pass's slices did not copy yet (nothing, usually) */
	rc = nr_ctl_save_prep(ctl, UINT64_MAX);
	if (rc == 0)
		rc = img_finish(ctl);
	if (rc < 0) {
		ctl->save.img_stale = true;
		rc = nr_err_set(&err, -ENOMEM, "%s: out of memory", nr_store_path(ctl->store));
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", err.msg);
		then(ctl, rc, err.msg);
		return;
	}
	ctl->store_dirty = false;
	ctl->save.rc = 0;
	memset(&ctl->save.err, 0, sizeof(ctl->save.err));
	ctl->save.work.data = ctl;
	ctl->save.then = then;
	ctl->save.running = true;
	rc = uv_queue_work(ctl->loop, &ctl->save.work, save_work, save_done);
	if (rc < 0) { /* cannot happen with a valid loop; write here then */
		save_work(&ctl->save.work);
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

void nr_ctl_save_free(struct nr_ctl *ctl)
{
	nr_store_image_free(&ctl->save.img);
}
