/* Pending-request bookkeeping: the requests the mutations queue for the
 * next pass, what each touched, and their outcome once the pass (or the
 * masquerade job holding them, ctl_masq.c) is done. Below the mutations and
 * the pass, above the delivery queue (ctl_deliver.c): it never calls up. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_pending.h"
#include "util/last_error.h"

/* After a purge (or while one runs) the model no longer describes the
 * kernel: only close makes sense. A saved state still loading is waited
 * for (ctl_load.c). */
int nr_ctl_check_usable(struct nr_ctl *ctl)
{
	if (ctl->purged || ctl->purge_req)
		return nr_last_error_set(-ESHUTDOWN, "the controller was purged; close it");
	return nr_ctl_loaded(ctl);
}


/* One allocation per request, with its id copied behind it when given:
 * the node add, the hot one, has neither endpoint fields nor a second
 * allocation for the name its deferred check needs. */
struct nr_pending *nr_ctl_pending_new_named(enum nr_op_kind kind, nr_ctl_done_cb cb, void *data,
					    const char *id)
{
	bool ep = kind == NR_OP_ENDPOINT || kind == NR_OP_REMOVE_EP;
	size_t size = ep ? sizeof(struct nr_pending_ep) : sizeof(struct nr_pending);
	size_t len = id ? strlen(id) + 1 : 0;
	struct nr_pending *p = calloc(1, size + len);

	if (!p)
		return NULL;
	p->kind = kind;
	p->done_cb = cb;
	p->data = data;
	if (id) {
		p->id = (char *)p + size;
		memcpy(p->id, id, len);
		p->id_inline = true;
	}
	return p;
}

struct nr_pending *nr_ctl_pending_new(enum nr_op_kind kind, nr_ctl_done_cb cb, void *data)
{
	return nr_ctl_pending_new_named(kind, cb, data, NULL);
}

void nr_ctl_pending_queue(struct nr_ctl *ctl, struct nr_pending *p)
{
	ctl->store_dirty = true; /* every queued request changed the model */
	/* Queued while a pass runs (a callback, or a loop turn while its batch
	 * is out): that pass neither sent it nor answers it. Its record of the
	 * kernel stays right: during a pass a change leaves ctl->desired alone
	 * and asks for a full pass instead (nr_ctl_incremental), so what the
	 * pass adopts as observed is what it sent. */
	*ctl->pending_tail = p;
	ctl->pending_tail = &p->next;
	if (ctl->started)
		nr_ctl_schedule(ctl, 0);
}

void nr_ctl_pending_finish_all(struct nr_ctl *ctl, int status, const char *msg)
{
	struct nr_pending *p = ctl->pending;

	ctl->pending = NULL;
	ctl->pending_tail = &ctl->pending;
	while (p) {
		struct nr_pending *next = p->next;

		nr_ctl_pending_run(ctl, p, status, msg);
		p = next;
	}
}

/* Only endpoint requests record what they touch: a route to one of their
 * IPs. */
static bool failure_is_mine(struct nr_pending *p, const struct nr_ctl_failure *f)
{
	const struct nr_pending_ep *e;

	if (p->kind != NR_OP_ENDPOINT && p->kind != NR_OP_REMOVE_EP)
		return false;
	e = nr_pending_ep_of(p);
	for (int i = 0; i < 2; i++)
		if (e->dst[i].addr.family && f->dst.addr.family &&
		    nr_prefix_overlaps(&e->dst[i], &f->dst))
			return true;
	return false;
}

static void remember_failures(struct nr_ctl *ctl, const struct nr_ctl_failure *fails, size_t n)
{
	struct nr_ctl_failure *copy = n ? malloc(n * sizeof(*copy)) : NULL;

	free(ctl->last_fails);
	ctl->last_fails = copy;
	ctl->n_last_fails = copy ? n : 0;
	if (copy)
		memcpy(copy, fails, n * sizeof(*copy));
}

bool nr_ctl_route_blocked(const struct nr_ctl *ctl, const struct nr_prefix *dst)
{
	for (size_t i = 0; i < ctl->n_last_fails; i++)
		if (ctl->last_fails[i].dst.addr.family && nr_prefix_eq(&ctl->last_fails[i].dst, dst))
			return true;
	return false;
}

void nr_ctl_pending_finish(struct nr_ctl *ctl, struct nr_pending *list,
			   const struct nr_ctl_failure *fails, size_t n_fails,
			   int pass_status, const char *pass_msg)
{
	struct nr_pending *p = list;

	remember_failures(ctl, fails, n_fails);
	for (size_t i = 0; i < n_fails; i++) /* a foreign nexthop has this id */
		if (fails[i].nh_id && fails[i].code == -EEXIST)
			nr_ctl_nh_taken(ctl, fails[i].nh_id);
	while (p) {
		struct nr_pending *next = p->next;
		int status = p->status < 0 ? p->status : pass_status;
		const char *msg = p->status < 0 ? p->msg : pass_msg;

		for (size_t i = 0; status == 0 && i < n_fails; i++) {
			/* A node the model kept (and the state file has) is not
			 * undone by a kernel refusal of its route: the change was
			 * made, and the route is retried until it goes in. The
			 * refusal is the node's state ("blocked") and an event. */
			if (p->kind == NR_OP_NODE)
				continue;
			if (p->kind == NR_OP_START || p->kind == NR_OP_MODE || failure_is_mine(p, &fails[i])) {
				status = fails[i].code;
				msg = fails[i].text;
			}
		}
		nr_ctl_pending_run(ctl, p, status, msg);
		p = next;
	}
}
