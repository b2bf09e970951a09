/* Asking for a reconcile pass (ctl_kick.c). The bottom layer with
 * ctl_events.h: any part may ask, and asking only starts the kick timer.
 * The timer runs ctl->pass, which ctl_life.c points at nr_ctl_reconcile:
 * the parts below the pass never call into it directly. */
#ifndef NR_CTL_KICK_H
#define NR_CTL_KICK_H

struct nr_ctl;

/* Run a pass in delay_ms (0: this loop turn); an earlier one already due
 * wins. Nothing before nr_ctl_start or after close; while a batch is in
 * flight, a pass asked for now runs when it is done. */
void nr_ctl_schedule(struct nr_ctl *ctl, unsigned int delay_ms);

#endif
