/* mode (show, or set with the direct-routing switches) and ipam. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <nativeroute/opts.h>

#include "nrctl.h"
#include "print.h"

/* The mode and every switch: the mode.get/mode.set answer carries the mode
 * and auto-direct-node-routes, the status has direct-routing-skip-unreachable
 * too, so the answer is followed by a status call. */
static void on_mode_status(struct nr_client *c, int status, const char *errmsg,
			   const struct nr_status *st, void *data)
{
	struct app *a = data;
	bool skip;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	/* a daemon older than the field: the switch reads as off */
	skip = st->sz >= offsetof(struct nr_status, direct_routing_skip_unreachable) + sizeof(bool) &&
	       st->direct_routing_skip_unreachable;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_str(&a->j, "mode", nr_routing_mode_str(st->routing_mode));
		json_bool(&a->j, "auto_direct_node_routes", st->auto_direct_node_routes);
		json_bool(&a->j, "direct_routing_skip_unreachable", skip);
		json_str(&a->j, "tunnel", st->routing_mode == NR_MODE_NATIVE ? "disabled" : "vxlan");
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("%s\n", nr_routing_mode_str(st->routing_mode));
		printf("auto-direct-node-routes: %s\n", st->auto_direct_node_routes ? "on" : "off");
		printf("direct-routing-skip-unreachable: %s\n", skip ? "on" : "off");
	}
	finish(a, EXIT_OK);
}

static void on_mode(struct nr_client *c, int status, const char *errmsg,
		    enum nr_routing_mode mode, bool adnr, void *data)
{
	struct app *a = data;

	(void)mode;
	(void)adnr;
	if (failed(a, status, errmsg))
		return;
	started(a, nr_client_status(c, on_mode_status, a));
}

int run_mode(struct app *a)
{
	NR_OPTS(nr_mode_opts, mo, .auto_direct_node_routes = a->adnr,
		.direct_routing_skip_unreachable = a->skip);

	if (a->argc == 0 && !a->adnr && !a->skip)
		return started(a, nr_client_mode_get(a->client, on_mode, a));
	if (a->argc != 2 || strcmp(a->argv[0], "set") != 0)
		return usage_error(a, "usage: nrctl mode [set native|tunnel|hybrid "
				   "[--[no-]auto-direct-node-routes] "
				   "[--[no-]direct-routing-skip-unreachable]]");
	if (nr_routing_mode_parse(a->argv[1], &mo.mode) < 0)
		return usage_error(a, "mode set: \"%s\": expected native, tunnel or hybrid",
				   a->argv[1]);
	/* one call: the mode and the switches are checked together */
	return started(a, nr_client_mode_set_opts(a->client, &mo, on_mode, a));
}

static void on_ipam(struct nr_client *c, int status, const char *errmsg,
		    const struct nr_ipam_info *ipam, void *data)
{
	struct app *a = data;
	const struct nr_ipam_allocation *al;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_begin_obj(&a->j, NULL);
		json_str(&a->j, "mode", nr_ipam_mode_str(ipam->mode));
		json_u64(&a->j, "used", ipam->used);
		json_u64(&a->j, "total", ipam->total);
		json_begin_arr(&a->j, "allocations");
		for (size_t i = 0; (al = nr_ipam_allocation_at(ipam, i)); i++) {
			json_begin_obj(&a->j, NULL);
			json_str(&a->j, "node", al->node);
			json_str(&a->j, "cidr", al->cidr);
			json_end_obj(&a->j);
		}
		json_end_arr(&a->j);
		json_end_obj(&a->j);
		json_done(&a->j);
	} else {
		printf("IPAM: %s  %zu/%zu allocated\n", nr_ipam_mode_str(ipam->mode), ipam->used,
		       ipam->total);
		printf("%-24s %s\n", "CIDR", "NODE");
		for (size_t i = 0; (al = nr_ipam_allocation_at(ipam, i)); i++)
			printf("%-24s %s\n", al->cidr, al->node);
	}
	finish(a, EXIT_OK);
}

int run_ipam(struct app *a)
{
	return started(a, nr_client_ipam_status(a->client, on_ipam, a));
}
