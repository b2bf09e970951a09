/* Controller benchmarks, in a network namespace prepared by bench/run:
 *
 *   bench_controller bulk NETNS N       program N remote nodes from empty,
 *                                       print seconds until the last callback
 *   bench_controller latency NETNS N K  with N nodes programmed, add and remove
 *                                       one more node K times; print p50/p99/max
 *                                       of "node add -> route in the kernel"
 *   bench_controller memory N           bytes of heap per node in the model
 *                                       (no kernel), at N nodes
 *
 * Node i has IP 172.16.(i/250).(i%250+2) on the namespace's dummy underlay
 * (172.16.0.0/16) and pod CIDR 10.(i/256).(i%256).0/24 inside 10.0.0.0/8, so
 * every node is directly reachable and auto-direct-node-routes applies. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include <nativeroute/nativeroute.h>

#include "core/model.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void node_text(size_t i, char *name, char *ip, char *cidr)
{
	sprintf(name, "node-%zu", i);
	sprintf(ip, "172.16.%zu.%zu", i / 250, i % 250 + 2);
	sprintf(cidr, "10.%zu.%zu.0/24", (i + 1) / 256, (i + 1) % 256);
}

struct run {
	size_t done, failed;
	double last;
};

static void count_cb(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	struct run *r = data;

	r->done++;
	r->last = now();
	if (status < 0 && r->failed++ < 3)
		fprintf(stderr, "callback error: %s\n", msg);
}

static bool with_bpf; /* "bulk NETNS N bpf": also program the eBPF maps and tc path */

static int new_ctl(uv_loop_t *loop, const char *netns, struct nr_ctl **ctl)
{
	const char *local_cidr[] = { "10.0.0.0/24", NULL };
	const char *pool[] = { "10.0.0.0/8", NULL };
	NR_OPTS(nr_ctl_opts, o, .netns = netns, .node_name = "local", .node_ipv4 = "172.16.255.1",
		.routing_mode = NR_MODE_NATIVE, .auto_direct_node_routes = true,
		.ipam_mode = NR_IPAM_KUBERNETES, .cluster_cidrs = pool, .pod_cidrs = local_cidr,
		.resync_interval_ms = 3600000, .bpf = with_bpf);

	if (nr_ctl_new(loop, &o, ctl) < 0) {
		fprintf(stderr, "nr_ctl_new: %s\n", nr_last_errmsg());
		return -1;
	}
	return 0;
}

static int add_node(struct nr_ctl *ctl, size_t i, struct run *r)
{
	char name[32], ip[32], cidr[32];
	const char *cidrs[] = { cidr, NULL };

	node_text(i, name, ip, cidr);
	NR_OPTS(nr_node_spec, spec, .name = name, .ipv4 = ip, .pod_cidrs = cidrs);
	if (nr_ctl_node_add(ctl, &spec, count_cb, r) < 0) {
		fprintf(stderr, "node add %s: %s\n", name, nr_last_errmsg());
		return -1;
	}
	return 0;
}

static void run_until(uv_loop_t *loop, struct run *r, size_t want)
{
	while (r->done < want)
		uv_run(loop, UV_RUN_ONCE);
}

static void closed(struct nr_ctl *ctl, void *data)
{
}

static int bulk(const char *netns, size_t n)
{
	uv_loop_t *loop = uv_default_loop();
	struct nr_ctl *ctl;
	struct run r = { 0 };
	double t0, t_calls;

	if (new_ctl(loop, netns, &ctl) < 0)
		return 1;
	nr_ctl_start(ctl, count_cb, &r);
	run_until(loop, &r, 1);
	r.done = 0;
	t0 = now();
	for (size_t i = 0; i < n; i++)
		if (add_node(ctl, i, &r) < 0)
			return 1;
	t_calls = now() - t0; /* validation + reachability, before any kernel change */
	run_until(loop, &r, n);
	printf("bulk nodes=%zu seconds=%.3f calls_seconds=%.3f failed=%zu\n", n, r.last - t0, t_calls,
	       r.failed);
	nr_ctl_close(ctl, closed, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return r.failed ? 1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int latency(const char *netns, size_t n, size_t k)
{
	uv_loop_t *loop = uv_default_loop();
	struct nr_ctl *ctl;
	struct run r = { 0 };
	double *lat = calloc(k, sizeof(*lat));

	if (!lat || new_ctl(loop, netns, &ctl) < 0)
		return 1;
	nr_ctl_start(ctl, count_cb, &r);
	for (size_t i = 0; i < n; i++)
		if (add_node(ctl, i, &r) < 0)
			return 1;
	run_until(loop, &r, n + 1);
	for (size_t j = 0; j < k; j++) {
		double t0 = now();
		char name[32];

		r.done = 0;
		if (add_node(ctl, n, &r) < 0)
			return 1;
		run_until(loop, &r, 1);
		lat[j] = r.last - t0;
		r.done = 0;
		snprintf(name, sizeof(name), "node-%zu", n);
		if (nr_ctl_node_remove(ctl, name, count_cb, &r) < 0)
			return 1;
		run_until(loop, &r, 1);
	}
	qsort(lat, k, sizeof(*lat), cmp_double);
	printf("latency nodes=%zu samples=%zu p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed=%zu\n", n, k,
	       lat[k / 2] * 1e3, lat[(k * 99) / 100] * 1e3, lat[k - 1] * 1e3, r.failed);
	free(lat);
	nr_ctl_close(ctl, closed, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int memory(size_t n)
{
	struct nr_cluster_config cfg;
	struct nr_model *m;
	struct nr_err err = { 0 };
	size_t before, after;

	nr_config_init(&cfg);
	nr_prefix_parse("10.0.0.0/8", &cfg.cluster_cidrs[cfg.n_cluster_cidrs++], NULL);
	cfg.mask_size4 = 26; /* room for 262,144 nodes */
	if (nr_model_new(&cfg, "local", &m, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	before = heap_in_use();
	for (size_t i = 0; i < n; i++) {
		char name[32];
		struct nr_node_req req = { .name = name };

		snprintf(name, sizeof(name), "node-%zu", i);
		req.ip4.family = AF_INET;
		req.ip4.bytes[0] = 172;
		req.ip4.bytes[1] = 16 + (uint8_t)(i >> 16);
		req.ip4.bytes[2] = (uint8_t)(i >> 8);
		req.ip4.bytes[3] = (uint8_t)i;
		if (nr_model_node_add(m, &req, NULL, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	after = heap_in_use();
	printf("memory nodes=%zu bytes_per_node=%.1f\n", n, (double)(after - before) / n);
	nr_model_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "bpf"))) && !strcmp(argv[1], "bulk")) {
		with_bpf = argc == 5;
		return bulk(argv[2], strtoul(argv[3], NULL, 10));
	}
	if (argc == 5 && !strcmp(argv[1], "latency"))
		return latency(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "memory"))
		return memory(strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: bench_controller bulk NETNS N | latency NETNS N K | memory N\n");
	return 2;
}
