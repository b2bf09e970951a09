/* nr_api_check: the 1.0 API review's promises, on a real controller and a
 * real daemon (tests/integration/test_api_review.sh sets both up).
 *
 *   nr_api_check ctl NETNS      an in-process controller in NETNS (kubernetes
 *                               IPAM, node IP 192.168.1.10, skip unreachable)
 *   nr_api_check client SOCKET  a client of the daemon at SOCKET, which knows
 *                               at least two nodes, an endpoint and routes
 *
 * Prints "ok: ..." per promise kept and "FAIL: ..." per one broken; exits 1
 * on any failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/nativeroute.h>

static int failures;

#define CHECK(cond, ...)                                      \
	do {                                                  \
		if (cond) {                                   \
			printf("ok: ");                       \
		} else {                                      \
			printf("FAIL: ");                     \
			failures++;                           \
		}                                             \
		printf(__VA_ARGS__);                          \
		printf("\n");                                 \
	} while (0)

static int stop_at_second(const struct nr_node_info *n, void *data)
{
	int *calls = data;

	(void)n;
	return ++*calls == 2 ? 7 : 0;
}

/* ---- the in-process controller ---------------------------------------------- */

static void ignore_done(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	(void)ctl;
	(void)msg;
	(void)data;
	printf("   (node-2 add: %d)\n", status);
}

static int check_ctl(const char *netns)
{
	uv_loop_t *loop = uv_default_loop();
	NR_OPTS(nr_ctl_opts, opts, .netns = netns, .node_name = "node-1",
		.node_ipv4 = "192.168.1.10", .ipam_mode = NR_IPAM_KUBERNETES,
		.pod_cidrs = (const char *[]){ "10.0.0.0/24", NULL }, .auto_direct_node_routes = true,
		.direct_routing_skip_unreachable = true);
	NR_OPTS(nr_node_spec, peer, .name = "node-2", .ipv4 = "192.168.1.11",
		.pod_cidrs = (const char *[]){ "10.0.1.0/24", NULL });
	struct nr_status st = { .sz = sizeof(st) }, tiny = { .sz = 1 };
	struct nr_ctl *ctl;
	int marker, calls = 0, rc;

	if (nr_ctl_new(loop, &opts, &ctl) < 0) {
		printf("FAIL: nr_ctl_new: %s\n", nr_last_errmsg());
		return 1;
	}
	CHECK(nr_ctl_get_data(ctl) == NULL, "nr_ctl_get_data is NULL before set");
	nr_ctl_set_data(ctl, &marker);
	CHECK(nr_ctl_get_data(ctl) == &marker, "nr_ctl_set_data/get_data keep the caller's pointer");
	CHECK(nr_ctl_get_data(NULL) == NULL, "nr_ctl_get_data(NULL) is NULL");

	CHECK(nr_ctl_status(ctl, &st) == 0 && st.direct_routing_skip_unreachable,
	      "nr_status reads back direct_routing_skip_unreachable (%d)",
	      st.direct_routing_skip_unreachable);
	rc = nr_ctl_status(ctl, &tiny);
	CHECK(rc == -EINVAL && strstr(nr_last_errmsg(), "sz"),
	      "nr_ctl_status with a bad sz: %d, errmsg \"%s\"", rc, nr_last_errmsg());
	rc = nr_ctl_node_foreach(ctl, NULL, NULL);
	CHECK(rc == -EINVAL && strstr(nr_last_errmsg(), "nr_ctl_node_foreach"),
	      "nr_ctl_node_foreach without fn: %d, errmsg \"%s\"", rc, nr_last_errmsg());

	rc = nr_ctl_node_add(ctl, &peer, ignore_done, NULL);
	CHECK(rc == 0, "node-2 added to the model before the start (%d %s)", rc,
	      rc ? nr_last_errmsg() : "");
	rc = nr_ctl_node_foreach(ctl, stop_at_second, &calls);
	CHECK(rc == 7 && calls == 2 && strstr(nr_last_errmsg(), "returned 7"),
	      "a node walk stopped by fn returns fn's value: %d after %d calls, errmsg \"%s\"", rc,
	      calls, nr_last_errmsg());
	nr_ctl_close(ctl, NULL, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return failures ? 1 : 0;
}

/* ---- the client --------------------------------------------------------------- */

struct run {
	uv_loop_t *loop;
	struct nr_client *c;
	bool done;
	int status;
	char names[64][64];
	size_t n;
	int calls;
	bool close_in_walk;
	bool closed;
	struct nr_status st;
	size_t n_allocs;
	bool allocs_match;
};

static void wait_done(struct run *r)
{
	while (!r->done)
		uv_run(r->loop, UV_RUN_ONCE);
	r->done = false;
}

static void on_connected(struct nr_client *c, int status, const char *msg, void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	r->status = status;
	r->done = true;
}

static void on_closed(struct nr_client *c, void *data)
{
	struct run *r = data;

	(void)c;
	r->closed = true;
}

static void on_nodes(struct nr_client *c, int status, const char *msg,
		     const struct nr_node_info *nodes, size_t n, void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	r->status = status;
	for (size_t i = 0; i < n && i < 64; i++)
		snprintf(r->names[i], sizeof(r->names[i]), "%s", nodes[i].name);
	r->n = n;
	r->done = true;
}

static int node_item(const struct nr_node_info *n, void *data)
{
	struct run *r = data;

	if (r->calls < 64 && strcmp(r->names[r->calls], n->name) != 0)
		r->status = -EBADMSG;
	r->calls++;
	if (r->close_in_walk && r->calls == 1)
		nr_client_close(r->c, on_closed, r);
	return 0;
}

static int node_item_stop(const struct nr_node_info *n, void *data)
{
	(void)n;
	return ++((struct run *)data)->calls == 2 ? 7 : 0;
}

static int endpoint_item(const struct nr_endpoint_info *e, void *data)
{
	struct run *r = data;

	r->calls += e->sz == sizeof(*e) && *e->id;
	return 0;
}

static int route_item(const struct nr_route_info *rt, void *data)
{
	struct run *r = data;

	r->calls += rt->sz == sizeof(*rt) && *rt->dst;
	return 0;
}

static void on_walk_done(struct nr_client *c, int status, const char *msg, void *data)
{
	struct run *r = data;

	(void)c;
	if (r->status == 0 || status != 0)
		r->status = status;
	if (status && msg)
		printf("   (walk done: %d \"%s\")\n", status, msg);
	r->done = true;
}

static void on_status(struct nr_client *c, int status, const char *msg, const struct nr_status *st,
		      void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	r->status = status;
	if (st)
		r->st = *st;
	r->done = true;
}

static void on_ipam(struct nr_client *c, int status, const char *msg,
		    const struct nr_ipam_info *info, void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	r->status = status;
	r->allocs_match = info != NULL;
	if (info) {
		r->n_allocs = info->n_allocations;
		for (size_t i = 0; i < info->n_allocations; i++) {
			const struct nr_ipam_allocation *a = nr_ipam_allocation_at(info, i);

			r->allocs_match &= a && !strcmp(a->node, info->allocations[i].node) &&
					   !strcmp(a->cidr, info->allocations[i].cidr);
		}
		r->allocs_match &= nr_ipam_allocation_at(info, info->n_allocations) == NULL;
	}
	r->done = true;
}

static void on_endpoints(struct nr_client *c, int status, const char *msg,
			 const struct nr_endpoint_info *eps, size_t n, void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	(void)eps;
	r->status = status;
	r->n = n;
	r->done = true;
}

static void on_routes(struct nr_client *c, int status, const char *msg,
		      const struct nr_route_info *routes, size_t n, void *data)
{
	struct run *r = data;

	(void)c;
	(void)msg;
	(void)routes;
	r->status = status;
	r->n = n;
	r->done = true;
}

static struct nr_client *connect_to(struct run *r, const char *socket)
{
	NR_OPTS(nr_client_opts, copts, .socket_path = socket, .timeout_ms = 10000);

	if (nr_client_new(r->loop, &copts, &r->c) < 0 ||
	    nr_client_connect(r->c, on_connected, r) < 0) {
		printf("FAIL: client: %s\n", nr_last_errmsg());
		exit(1);
	}
	wait_done(r);
	if (r->status < 0) {
		printf("FAIL: connect %s: %s\n", socket, nr_strerror(r->status));
		exit(1);
	}
	return r->c;
}

static int check_client(const char *socket)
{
	struct run r = { .loop = uv_default_loop() };
	size_t n;
	int rc;

	connect_to(&r, socket);
	nr_client_set_data(r.c, &r);
	CHECK(nr_client_get_data(r.c) == &r, "nr_client_set_data/get_data");

	/* the deprecated array form and the walk see the same nodes, in order */
	nr_client_node_list(r.c, on_nodes, &r);
	wait_done(&r);
	n = r.n;
	CHECK(r.status == 0 && n >= 2, "node.list (1.0 array form): %zu nodes", n);
	r.calls = 0;
	rc = nr_client_node_foreach(r.c, node_item, on_walk_done, &r);
	wait_done(&r);
	CHECK(rc == 0 && r.status == 0 && (size_t)r.calls == n,
	      "nr_client_node_foreach: %d items in the array's order, done %d", r.calls, r.status);
	r.calls = 0;
	nr_client_node_foreach(r.c, node_item_stop, on_walk_done, &r);
	wait_done(&r);
	CHECK(r.status == 7 && r.calls == 2, "a walk stopped by fn: done gets 7 (%d) after 2 items (%d)",
	      r.status, r.calls);
	rc = nr_client_node_foreach(r.c, NULL, on_walk_done, &r);
	CHECK(rc == -EINVAL && *nr_last_errmsg(), "a walk without fn is refused at once: %d \"%s\"", rc,
	      nr_last_errmsg());

	r.status = 0;
	nr_client_endpoint_list(r.c, on_endpoints, &r);
	wait_done(&r);
	n = r.n;
	r.calls = 0;
	nr_client_endpoint_foreach(r.c, endpoint_item, on_walk_done, &r);
	wait_done(&r);
	CHECK(r.status == 0 && n >= 1 && (size_t)r.calls == n,
	      "nr_client_endpoint_foreach: %d items, the array form %zu", r.calls, n);
	nr_client_route_list(r.c, on_routes, &r);
	wait_done(&r);
	n = r.n;
	r.calls = 0;
	nr_client_route_foreach(r.c, route_item, on_walk_done, &r);
	wait_done(&r);
	CHECK(r.status == 0 && n >= 1 && (size_t)r.calls == n,
	      "nr_client_route_foreach: %d items, the array form %zu", r.calls, n);

	nr_client_ipam_status(r.c, on_ipam, &r);
	wait_done(&r);
	CHECK(r.status == 0 && r.n_allocs >= 2 && r.allocs_match,
	      "nr_ipam_allocation_at gives the %zu allocations of the array, NULL past the end",
	      r.n_allocs);

	nr_client_status(r.c, on_status, &r);
	wait_done(&r);
	CHECK(r.status == 0 && r.st.direct_routing_skip_unreachable,
	      "status reads back direct_routing_skip_unreachable over RPC (%d)",
	      r.st.direct_routing_skip_unreachable);

	/* closing from inside a walk: the walk stops, done gets -ECANCELED */
	r.calls = 0;
	r.status = 0;
	r.close_in_walk = true;
	nr_client_node_foreach(r.c, node_item, on_walk_done, &r);
	wait_done(&r);
	CHECK(r.status == -ECANCELED && r.calls == 1,
	      "nr_client_close inside a walk: done gets -ECANCELED (%d) after 1 item (%d)", r.status,
	      r.calls);
	uv_run(r.loop, UV_RUN_DEFAULT);
	CHECK(r.closed, "close_cb ran after the walk's done");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "ctl"))
		return check_ctl(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "client"))
		return check_client(argv[2]);
	fprintf(stderr, "usage: nr_api_check ctl NETNS | client SOCKET\n");
	return 2;
}
