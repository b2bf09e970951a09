/* nr_etcd_purge: nr_ctl_purge of a running controller that joined etcd
 * (public API only): the store must stop joining, watching and renewing and
 * delete this node's keys while it is in its steady state, not just from
 * `nativerouted --purge`'s fresh controller.
 *
 *   nr_etcd_purge NETNS NODE IP ENDPOINT CLUSTER
 *       new + start (native, cluster-pool 10.0.0.0/16, lease TTL 60 s),
 *       wait until the status says "Store: etcd Ok", then purge, then close
 *
 * Prints "joined: <store detail>" then "purge: status=S <message>"; exit
 * status 0 when the purge reported success. Gives up after 30 s. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

struct app {
	struct nr_ctl *ctl;
	uv_timer_t poll, limit;
	bool purging, done;
	int status;
};

static void closed(struct nr_ctl *ctl, void *data)
{
	(void)ctl;
	(void)data;
}

static void finish(struct app *a)
{
	a->done = true;
	uv_timer_stop(&a->poll);
	uv_timer_stop(&a->limit);
	uv_close((uv_handle_t *)&a->poll, NULL);
	uv_close((uv_handle_t *)&a->limit, NULL);
	nr_ctl_close(a->ctl, closed, a);
}

static void purged(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	struct app *a = data;

	(void)ctl;
	a->status = status;
	printf("purge: status=%d %s\n", status, msg ? msg : "");
	finish(a);
}

static void poll_cb(uv_timer_t *t)
{
	struct app *a = t->data;
	struct nr_status st;

	if (a->purging || nr_ctl_status(a->ctl, &st) < 0 || !st.store_etcd ||
	    strncmp(st.store_detail, "Ok (", 4))
		return;
	printf("joined: %s\n", st.store_detail);
	fflush(stdout);
	a->purging = true;
	if (nr_ctl_purge(a->ctl, purged, a) < 0) {
		printf("purge: refused: %s\n", nr_last_errmsg());
		a->status = -1;
		finish(a);
	}
}

static void limit_cb(uv_timer_t *t)
{
	struct app *a = t->data;

	printf("purge: timed out (purging=%d)\n", a->purging);
	a->status = -1;
	finish(a);
}

static void started(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	(void)ctl;
	(void)data;
	if (status < 0 && status != -ECANCELED)
		fprintf(stderr, "start: %s\n", msg ? msg : "");
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	struct app a = { .status = -1 };
	const char *endpoints[2] = { NULL, NULL };
	const char *cidrs[2] = { "10.0.0.0/16", NULL };

	if (argc != 6) {
		fprintf(stderr, "usage: nr_etcd_purge NETNS NODE IP ENDPOINT CLUSTER\n");
		return 2;
	}
	endpoints[0] = argv[4];
	NR_OPTS(nr_etcd_opts, etcd, .endpoints = endpoints, .cluster_name = argv[5],
		.lease_ttl_s = 60);
	NR_OPTS(nr_ctl_opts, opts, .netns = argv[1], .node_name = argv[2], .node_ipv4 = argv[3],
		.routing_mode = NR_MODE_NATIVE, .ipam_mode = NR_IPAM_CLUSTER_POOL,
		.cluster_cidrs = cidrs, .auto_direct_node_routes = true, .etcd = &etcd);
	if (nr_ctl_new(loop, &opts, &a.ctl) < 0) {
		fprintf(stderr, "nr_ctl_new: %s\n", nr_last_errmsg());
		return 1;
	}
	if (nr_ctl_start(a.ctl, started, &a) < 0) {
		fprintf(stderr, "nr_ctl_start: %s\n", nr_last_errmsg());
		return 1;
	}
	uv_timer_init(loop, &a.poll);
	uv_timer_init(loop, &a.limit);
	a.poll.data = a.limit.data = &a;
	uv_timer_start(&a.poll, poll_cb, 20, 20);
	uv_timer_start(&a.limit, limit_cb, 30000, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return a.status == 0 ? 0 : 1;
}
