/* endpoint add, endpoint get, endpoint del. */
#include <string.h>

#include <nativeroute/opts.h>

#include "nrctl.h"
#include "print.h"

static void on_endpoint(struct nr_client *c, int status, const char *errmsg,
			const struct nr_endpoint_info *ep, void *data)
{
	struct app *a = data;

	(void)c;
	if (failed(a, status, errmsg))
		return;
	if (a->json) {
		json_endpoint(&a->j, ep);
		json_done(&a->j);
	} else {
		table_endpoint_header("");
		table_endpoint_row(ep, "");
	}
	finish(a, EXIT_OK);
}

int run_endpoint_add(struct app *a)
{
	NR_OPTS(nr_endpoint_spec, spec, .id = a->argv[0], .ifname = a->ifname);

	if (!a->ifname)
		return usage_error(a, "endpoint add: --ifname is required");
	if (a->ip) {
		if (strchr(a->ip, ':'))
			spec.ipv6 = a->ip;
		else
			spec.ipv4 = a->ip;
	}
	return started(a, nr_client_endpoint_add(a->client, &spec, on_endpoint, a));
}

int run_endpoint_get(struct app *a)
{
	return started(a, nr_client_endpoint_get(a->client, a->argv[0], on_endpoint, a));
}

int run_endpoint_del(struct app *a)
{
	return started(a, nr_client_endpoint_remove(a->client, a->argv[0], on_done, a));
}
