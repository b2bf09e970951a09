/* The controller's durable state: at nr_ctl_new the model comes from the
 * state directory when it holds a saved one (nodes keep their index, hence
 * their nexthop ids, and their CIDRs), otherwise from the options. Saving
 * (ctl_save.c) is a group commit off the loop: the callbacks of a pass run
 * once a save covering their changes is on disk, while 10,000 changes in
 * one loop turn cost one write and one fsync. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl/ctl_internal.h"
#include "util/opts_internal.h"

static void add_note(struct nr_ctl_note **list, enum nr_event_type type, const char *node,
		     const char *msg)
{
	struct nr_ctl_note *n = calloc(1, sizeof(*n)), **tail = list;

	if (!n || !(n->msg = strdup(msg)) || (node && !(n->node = strdup(node)))) {
		if (n)
			free(n->msg);
		free(n);
		return; /* a lost note loses a message, not state */
	}
	n->type = type;
	while (*tail)
		tail = &(*tail)->next;
	*tail = n;
}

void nr_ctl_note_add(struct nr_ctl_note **list, const char *msg)
{
	char node[NR_NODE_NAME_MAX + 1] = "";
	const char *sp;

	/* "node NAME: ..." notes concern one node: say so in the event */
	if (!strncmp(msg, "node ", 5) && (sp = strchr(msg + 5, ':')) &&
	    (size_t)(sp - msg - 5) <= NR_NODE_NAME_MAX) {
		memcpy(node, msg + 5, (size_t)(sp - msg - 5));
		node[sp - msg - 5] = '\0';
	}
	add_note(list, NR_EVENT_STATE_MIGRATED, node[0] ? node : NULL, msg);
}

void nr_ctl_note_append(struct nr_ctl_note **list, struct nr_ctl_note **more)
{
	while (*list)
		list = &(*list)->next;
	*list = *more;
	*more = NULL;
}

void nr_ctl_note_free(struct nr_ctl_note **list)
{
	while (*list) {
		struct nr_ctl_note *n = *list;

		*list = n->next;
		free(n->node);
		free(n->msg);
		free(n);
	}
}

static int fresh_model(struct nr_ctl *ctl, const struct nr_cluster_config *cfg,
		       const struct nr_node_req *local, struct nr_err *err)
{
	int rc = nr_model_new(cfg, local->name, &ctl->model, err);

	if (rc == 0)
		rc = nr_model_node_add(ctl->model, local, NULL, err);
	return rc;
}

int nr_ctl_state_setup(struct nr_ctl *ctl, const struct nr_ctl_opts *o,
		       const struct nr_cluster_config *cfg, const struct nr_node_req *local,
		       struct nr_err *err)
{
	const char *dir = OPTS_GET(o, state_dir, NULL);
	struct stat sb;
	int rc;

	ctl->store_meta = (struct nr_store_meta){
		.route_protocol = ctl->owner.protocol,
		.route_table = ctl->owner.table,
		.opts_mode = { .mode = cfg->routing_mode,
			       .auto_direct_node_routes = cfg->auto_direct_node_routes,
			       .skip_unreachable = cfg->direct_routing_skip_unreachable },
	};
	if (!dir || !*dir)
		return fresh_model(ctl, cfg, local, err);
	/* what a rollback rebuilds the model from (besides the saved bytes) */
	ctl->rb.cfg = *cfg;
	ctl->rb.local = *local;
	ctl->rb.local.name = ctl->rb.name = strdup(local->name);
	if (!ctl->rb.name)
		return nr_err_set(err, -ENOMEM, "out of memory");
	rc = nr_store_open(dir, &ctl->store, err);
	if (rc < 0)
		return rc;
	ctl->store_dirty = true; /* the first pass writes what we start with */
	/* a saved state loads on the thread pool (ctl_load.c); until then the
	 * options' model stands in, and no pass runs */
	ctl->load.wanted = !OPTS_GET(o, discard_saved_state, false) &&
			   stat(nr_store_path(ctl->store), &sb) == 0;
	ctl->load.allow_migration = OPTS_GET(o, allow_config_migration, false);
	return fresh_model(ctl, cfg, local, err);
}

/* A save failed: the model goes back to what is on disk (the last durable
 * state), or to what the options describe when nothing was ever saved, so
 * that nothing the failed save covered stays changed anywhere. */
int nr_ctl_state_rollback(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_model *saved = ctl->model, *back = NULL;
	size_t len;
	const char *text = nr_store_durable(ctl->store, &len);
	int rc;

	if (text) {
		struct nr_state st;
		struct nr_store_restore ro = {
			.cfg = &ctl->rb.cfg, .meta = &ctl->store_meta, .local = &ctl->rb.local,
		};

		rc = nr_store_decode(text, len, nr_store_path(ctl->store), &st, err);
		if (rc == 0) {
			rc = nr_store_restore(&st, nr_store_path(ctl->store), &ro, &back, err);
			nr_state_free(&st);
		}
	} else {
		ctl->model = NULL;
		rc = fresh_model(ctl, &ctl->rb.cfg, &ctl->rb.local, err);
		back = ctl->model;
	}
	ctl->model = saved;
	if (rc < 0) {
		nr_model_free(back);
		return rc;
	}
	nr_model_free(saved);
	ctl->model = back;
	ctl->store_dirty = false;
	ctl->full_pass = true;   /* the plan must follow the model back */
	ctl->reach_stale = false;
	return 0;
}

void nr_ctl_state_emit_notes(struct nr_ctl *ctl)
{
	while (ctl->notes) {
		struct nr_ctl_note *n = ctl->notes;

		ctl->notes = n->next;
		nr_ctl_emit(ctl, n->type, n->node, NULL, "%s", n->msg);
		free(n->node);
		free(n->msg);
		free(n);
	}
}

void nr_ctl_state_discard(struct nr_ctl *ctl, const struct nr_ctl_opts *o)
{
	nr_store_discard(ctl->store, OPTS_GET(o, state_dir, NULL));
	ctl->store = NULL;
}

void nr_ctl_state_free(struct nr_ctl *ctl)
{
	nr_ctl_note_free(&ctl->notes);
	nr_store_close(ctl->store);
	ctl->store = NULL;
	free(ctl->rb.name);
	ctl->rb.name = NULL;
}
