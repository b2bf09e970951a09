/* etcd store benchmark, in a network namespace prepared by bench/run_etcd:
 *
 *   bench_etcd NETNS N ENDPOINT CLUSTER
 *       a controller with the etcd store joins CLUSTER; then N simulated hosts
 *       register (their nodes/<name> keys written straight to etcd by this
 *       program, 64 puts in flight); prints the seconds from the first put
 *       until the controller's kernel has a route for every one of them.
 *
 * Host i has IP 172.16.(i/250).(i%250+2) and pod CIDR 10.((i+1)/256).((i+1)%256).0/24,
 * exactly the nodes of `bench_controller bulk`, so the two runs program the
 * same routes (the baseline: nr_ctl_node_add calls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include <nativeroute/nativeroute.h>

#include "store/etcd_codec.h"
#include "store/etcd_http.h"

#define WINDOW 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct bench {
	uv_loop_t *loop;
	struct nr_ctl *ctl;
	struct nr_etcd_http *http;
	const char *cluster;
	size_t n, sent, answered, failed;
	double t0, t_written, t_routed;
	bool started, joined;
	uv_timer_t poll;
};

static void put_next(struct bench *b);

static void put_done(void *data, int status, long code, const char *body, size_t len,
		     const char *msg)
{
	struct bench *b = data;

	(void)body, (void)len;
	b->answered++;
	if ((status < 0 || code != 200) && b->failed++ < 3)
		fprintf(stderr, "put: %d HTTP %ld %s\n", status, code, msg ? msg : body);
	if (b->answered == b->n)
		b->t_written = now();
	put_next(b);
}

static void put_next(struct bench *b)
{
	while (b->sent < b->n && b->sent - b->answered < WINDOW) {
		size_t i = b->sent++;
		struct nr_etcd_node node = { 0 };
		struct nr_err err = { 0 };
		char key[600], *value, *body;

		snprintf(node.name, sizeof(node.name), "host-%zu", i);
		snprintf(node.ipv4, sizeof(node.ipv4), "172.16.%zu.%zu", i / 250, i % 250 + 2);
		snprintf(node.cidr4, sizeof(node.cidr4), "10.%zu.%zu.0/24", (i + 1) / 256, (i + 1) % 256);
		snprintf(key, sizeof(key), "/nativeroute/v1/%s/nodes/%s", b->cluster, node.name);
		value = nr_etcd_node_encode(&node);
		body = value ? nr_etcd_req_put(key, value, 0) : NULL;
		if (!body || !nr_etcd_http_post(b->http, "/v3/kv/put", body, put_done, b, &err)) {
			fprintf(stderr, "put %s: %s\n", key, err.msg);
			exit(1);
		}
		free(value);
		free(body);
	}
}

static void poll_cb(uv_timer_t *t)
{
	struct bench *b = t->data;
	struct nr_status st = { .sz = sizeof(st) };

	nr_ctl_status(b->ctl, &st);
	if (!b->joined) {
		if (!st.store_healthy)
			return;
		b->joined = true;
		b->t0 = now();
		put_next(b);
		return;
	}
	if (st.routes_programmed >= b->n) {
		b->t_routed = now();
		uv_timer_stop(t);
		uv_stop(b->loop);
	}
}

static void on_start(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	(void)ctl, (void)data;
	if (status < 0) {
		fprintf(stderr, "start: %s\n", msg);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	const char *pool[] = { "10.0.0.0/8", NULL };
	const char *endpoints[2] = { NULL, NULL };
	struct nr_err err = { 0 };

	if (argc != 5) {
		fprintf(stderr, "usage: bench_etcd NETNS N ENDPOINT CLUSTER\n");
		return 2;
	}
	b.loop = uv_default_loop();
	b.n = strtoul(argv[2], NULL, 10);
	b.cluster = argv[4];
	endpoints[0] = argv[3];
	NR_OPTS(nr_etcd_opts, eo, .endpoints = endpoints, .cluster_name = b.cluster);
	NR_OPTS(nr_ctl_opts, o, .netns = argv[1], .node_name = "local", .node_ipv4 = "172.16.255.1",
		.routing_mode = NR_MODE_NATIVE, .auto_direct_node_routes = true,
		.ipam_mode = NR_IPAM_CLUSTER_POOL, .cluster_cidrs = pool,
		.resync_interval_ms = 3600000, .etcd = &eo);
	struct nr_etcd_http_opts ho = { .endpoints = endpoints };

	if (nr_ctl_new(b.loop, &o, &b.ctl) < 0) {
		fprintf(stderr, "nr_ctl_new: %s\n", nr_last_errmsg());
		return 1;
	}
	if (nr_etcd_http_new(b.loop, &ho, &b.http, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	nr_ctl_start(b.ctl, on_start, NULL);
	uv_timer_init(b.loop, &b.poll);
	b.poll.data = &b;
	uv_timer_start(&b.poll, poll_cb, 1, 1);
	uv_run(b.loop, UV_RUN_DEFAULT);
	printf("etcd hosts=%zu seconds=%.3f written_seconds=%.3f failed=%zu\n", b.n,
	       b.t_routed - b.t0, b.t_written ? b.t_written - b.t0 : -1.0, b.failed);
	nr_etcd_http_close(b.http, NULL, NULL);
	uv_close((uv_handle_t *)&b.poll, NULL);
	nr_ctl_close(b.ctl, NULL, NULL);
	uv_run(b.loop, UV_RUN_DEFAULT);
	return b.failed ? 1 : 0;
}
