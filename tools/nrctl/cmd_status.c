/* status, and the lists: nodes, routes, endpoints. `status --verbose` is the
 * status followed by the three lists, asked for one after the other (each
 * answer is valid only inside its callbacks). The lists come item by item
 * (nr_client_*_foreach), so fields added to the items in later library
 * versions reach nrctl without an array layout in the way. */
#include <stddef.h>

#include "nrctl.h"
#include "print.h"

/* ---- lists -------------------------------------------------------------------- */

static void list_open(struct app *a)
{
	if (!a->list_open)
		list_begin(a->json ? &a->j : NULL, a->view, a->verbose);
	a->list_open = true;
}

static int item(struct app *a, const void *it)
{
	list_open(a);
	list_item(a->json ? &a->j : NULL, a->view, it, a->verbose);
	return 0;
}

static int node_item(const struct nr_node_info *n, void *data)
{
	return item(data, n);
}

static int route_item(const struct nr_route_info *r, void *data)
{
	return item(data, r);
}

static int endpoint_item(const struct nr_endpoint_info *e, void *data)
{
	return item(data, e);
}

/* The next list of `status --verbose` after this one. */
static int (*next_list(const struct list_view *v))(struct app *)
{
	return v == &nodes_view ? list_routes : v == &routes_view ? list_endpoints : NULL;
}

/* A list is complete. Alone (`nodes`, `routes`, `endpoints`) it is the
 * whole output; under `status --verbose` it is one section. */
static void on_list_done(struct nr_client *c, int status, const char *errmsg, void *data)
{
	struct app *a = data;
	int (*next)(struct app *) = next_list(a->view);

	(void)c;
	if (failed(a, status, errmsg))
		return;
	list_open(a); /* an empty list still has its header */
	list_end(a->json ? &a->j : NULL, a->view, a->verbose);
	if (a->verbose && next) {
		next(a);
		return;
	}
	if (a->verbose && a->json) {
		json_end_obj(&a->j); /* the object on_status began */
		json_done(&a->j);
	}
	finish(a, EXIT_OK);
}

static void list_start(struct app *a, const struct list_view *v)
{
	a->view = v;
	a->list_open = false;
}

int list_nodes(struct app *a)
{
	list_start(a, &nodes_view);
	return started(a, nr_client_node_foreach(a->client, node_item, on_list_done, a));
}

int list_routes(struct app *a)
{
	list_start(a, &routes_view);
	return started(a, nr_client_route_foreach(a->client, route_item, on_list_done, a));
}

int list_endpoints(struct app *a)
{
	list_start(a, &endpoints_view);
	return started(a, nr_client_endpoint_foreach(a->client, endpoint_item, on_list_done, a));
}

/* ---- status ---------------------------------------------------------------------- */

/* --verbose: status, then nodes, routes and endpoints, one call after the
 * other. */
static void on_status(struct nr_client *c, int status, const char *errmsg,
		      const struct nr_status *st, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	/* "Controller: Ok" only when all is healthy, and scripts (probes) rely on
	 * the exit status: the daemon's verdict, or (an older daemon) the store */
	if (st->sz >= offsetof(struct nr_status, healthy) + sizeof(st->healthy) ? !st->healthy
	    : st->store_etcd && !st->store_healthy)
		a->exit_code = EXIT_FAILED;
	if (a->json && !a->verbose) {
		json_status(&a->j, NULL, st);
		json_done(&a->j);
	} else if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_status(&a->j, "status", st);
	} else {
		print_status_text(st);
	}
	if (!a->verbose) {
		finish(a, EXIT_OK);
		return;
	}
	list_nodes(a);
}

int run_status(struct app *a)
{
	return started(a, nr_client_status(a->client, on_status, a));
}
