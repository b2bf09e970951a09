/* The mode mutation: routing mode and its switches. Same contract as the
 * node mutations (ctl_node_ops.c); the pass after it re-plans everything. */
#include <errno.h>
#include <stdlib.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_pending.h"
#include "util/last_error.h"
#include "util/opts_internal.h"

static void apply_switch(bool *field, enum nr_switch sw)
{
	if (sw == NR_SWITCH_ON)
		*field = true;
	else if (sw == NR_SWITCH_OFF)
		*field = false;
}

NR_API int nr_ctl_mode_set_opts(struct nr_ctl *ctl, const struct nr_mode_opts *opts,
				nr_ctl_done_cb cb, void *data)
{
	struct nr_err err = { 0 };
	struct nr_cluster_config cfg;
	enum nr_switch adnr, skip;
	struct nr_pending *p;
	int rc;

	nr_last_error_clear();
	if (!ctl || ctl->closing || !opts)
		return nr_last_error_set(-EINVAL, "mode set: no controller (or closing), or no options");
	if ((rc = nr_ctl_check_usable(ctl)) < 0)
		return rc;
	if (!OPTS_VALID(opts, nr_mode_opts, &err))
		return nr_last_error_set_from(&err, -EINVAL);
	cfg = *nr_model_config(ctl->model);
	if (OPTS_GET(opts, mode, 0)) {
		if (!nr_config_routing_mode_str(opts->mode))
			return nr_last_error_set(-EINVAL, "routing mode %d: expected native, tunnel "
						 "or hybrid", (int)opts->mode);
		cfg.routing_mode = opts->mode;
	}
	adnr = OPTS_GET(opts, auto_direct_node_routes, NR_SWITCH_KEEP);
	skip = OPTS_GET(opts, direct_routing_skip_unreachable, NR_SWITCH_KEEP);
	if (adnr > NR_SWITCH_OFF || skip > NR_SWITCH_OFF)
		return nr_last_error_set(-EINVAL, "mode set: switch value %d: expected keep (0), "
					 "on (1) or off (2)", adnr > NR_SWITCH_OFF ? (int)adnr : (int)skip);
	apply_switch(&cfg.auto_direct_node_routes, adnr);
	apply_switch(&cfg.direct_routing_skip_unreachable, skip);
	/* Switches that depend on others follow them in the same step, so a
	 * cluster-wide `mode set tunnel` never stops half-way on one node:
	 * tunnel mode has no direct routes, and skipping unreachable nodes
	 * means nothing without them. Only a switch asked for explicitly is
	 * refused (by the check of the whole configuration below). */
	if (cfg.routing_mode == NR_MODE_TUNNEL && adnr == NR_SWITCH_KEEP)
		cfg.auto_direct_node_routes = false;
	if (!cfg.auto_direct_node_routes && skip == NR_SWITCH_KEEP)
		cfg.direct_routing_skip_unreachable = false;
	p = nr_ctl_pending_new(NR_OP_MODE, cb, data);
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	rc = nr_model_set_config(ctl->model, &cfg, &err);
	if (rc < 0) {
		free(p);
		return nr_last_error_set_from(&err, rc);
	}
	/* the new mode may need answers tunnel mode never asked for, and
	 * changes every remote node's part of the plan */
	ctl->reach_stale = true;
	ctl->full_pass = true;
	nr_ctl_emit(ctl, NR_EVENT_MODE_CHANGED, NULL, nr_routing_mode_str(cfg.routing_mode),
		    "routing mode is now %s, auto-direct-node-routes %s, direct-routing-skip-unreachable %s",
		    nr_routing_mode_str(cfg.routing_mode), cfg.auto_direct_node_routes ? "on" : "off",
		    cfg.direct_routing_skip_unreachable ? "on" : "off");
	nr_ctl_pending_queue(ctl, p);
	return 0;
}

NR_API int nr_ctl_mode_set(struct nr_ctl *ctl, enum nr_routing_mode mode, nr_ctl_done_cb cb, void *data)
{
	NR_OPTS(nr_mode_opts, opts, .mode = mode);

	if (!mode) /* 0 means "keep" only in the opts form */
		return nr_last_error_set(-EINVAL, "routing mode 0: expected native, tunnel or hybrid");
	return nr_ctl_mode_set_opts(ctl, &opts, cb, data);
}
