/* The kick timer: calls that change something ask for a pass, and the calls
 * of one loop turn share it. */
#include "ctl/ctl_internal.h"

static void kick_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;

	if (!ctl->closing && !ctl->load.running && ctl->load.rc == 0)
		ctl->pass(ctl);
}

void nr_ctl_schedule(struct nr_ctl *ctl, unsigned int delay_ms)
{
	/* no pass on the stand-in model while the saved state loads (it would
	 * prune every saved route), nor after the load failed: the load's end
	 * asks for one (ctl_load.c) */
	if (ctl->closing || !ctl->started || ctl->load.running || ctl->load.rc < 0)
		return;
	if (ctl->flight) { /* runs when the batch in flight is done */
		if (delay_ms == 0) {
			ctl->pass_again = true;
			return;
		}
	}
	/* an earlier pass already queued wins unless we need one sooner
	 * (uv_timer_get_due_in is 0 for an inactive timer too: ask first) */
	if (uv_is_active((uv_handle_t *)&ctl->kick_timer) &&
	    uv_timer_get_due_in(&ctl->kick_timer) <= delay_ms)
		return;
	uv_timer_start(&ctl->kick_timer, kick_cb, delay_ms, 0);
}
