/* node add, node update, node get, node del. */
#include <errno.h>
#include <string.h>

#include <nativeroute/opts.h>

#include "nrctl.h"
#include "print.h"

static void on_node(struct nr_client *c, int status, const char *errmsg,
		    const struct nr_node_info *node, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		if (node)
			json_node(&a->j, node);
		else
			json_str(&a->j, NULL, NULL);
		json_done(&a->j);
	} else if (node) {
		table_node_header("");
		table_node_row(node, "");
	}
	finish(a, EXIT_OK);
}

int run_node_add(struct app *a)
{
	NR_OPTS(nr_node_spec, spec, .name = a->argv[0], .ipv4 = a->ip, .ipv6 = a->ip6,
		.pod_cidrs = a->n_pod_cidrs ? a->pod_cidrs : NULL);

	if (!a->ip && !a->ip6)
		return usage_error(a, "%s: --ip or --ip6 is required", a->cmd->name);
	if (!strcmp(a->cmd->name, "node update"))
		return started(a, nr_client_node_update(a->client, &spec, on_node, a));
	return started(a, nr_client_node_add(a->client, &spec, on_node, a));
}

int run_node_get(struct app *a)
{
	return started(a, nr_client_node_get(a->client, a->argv[0], on_node, a));
}

void on_done(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_bool(&a->j, "ok", true);
		json_end_obj(&a->j);
		json_done(&a->j);
	}
	finish(a, EXIT_OK);
}

int run_node_del(struct app *a)
{
	return started(a, nr_client_node_remove(a->client, a->argv[0], on_done, a));
}
