/* nr_refusals: calls that must be refused before any side effect
 * ("a call that returns < 0 changed nothing"), in a namespace whose node IP
 * is 172.31.255.254 (set up by the caller).
 *
 *   nr_refusals NETNS DIR new
 *       nr_ctl_new with one bad thing each, state_dir DIR/<case>: prints
 *       "refused CASE: NAME: message" and "dir CASE: absent|PRESENT"; then
 *       a good one: "thread netns unchanged" when the calling thread is in
 *       its own namespace all along (sockets are opened in NETNS by a
 *       helper thread)
 *   nr_refusals NETNS DIR endpoint IFNAME
 *       a dual-stack controller (state_dir DIR/ep), started; then
 *       nr_ctl_endpoint_add on IFNAME, which the caller made refuse the
 *       IPv6 gateway address (disable_ipv6): prints "refused endpoint: ..."
 *       or "accepted endpoint"
 *   nr_refusals NETNS DIR start
 *       a dual-stack controller (state_dir DIR/start); nr_ctl_start, which
 *       the caller made refuse by a read-only IPv6 forwarding switch:
 *       prints "refused start: ..." or "accepted start"
 *
 * Exit 0 when every call was refused and no state directory was made. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include <nativeroute/controller.h>
#include <nativeroute/nativeroute.h>

static const char *pool[] = { "10.0.0.0/8", NULL };
static const char *local_cidr[] = { "10.0.0.0/26", NULL };

static int one(uv_loop_t *loop, const char *name, const char *dir, struct nr_ctl_opts *o)
{
	char path[512];
	struct stat st;
	struct nr_ctl *ctl;
	int rc, bad = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	o->state_dir = path;
	rc = nr_ctl_new(loop, o, &ctl);
	if (rc == 0) {
		printf("ACCEPTED %s\n", name);
		nr_ctl_close(ctl, NULL, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
		bad = 1;
	} else {
		printf("refused %s: %s: %s\n", name, nr_err_name(rc), nr_last_errmsg());
	}
	if (stat(path, &st) == 0) {
		printf("dir %s: PRESENT\n", name);
		bad = 1;
	} else {
		printf("dir %s: absent\n", name);
	}
	return bad;
}

/* The options each case spoils one of: a controller that would start. */
#define BASE .netns = netns, .node_name = "local", .node_ipv4 = "172.31.255.254", \
	     .ipam_mode = NR_IPAM_KUBERNETES, .cluster_cidrs = pool, .pod_cidrs = local_cidr

/* One nr_ctl_new that must be refused: BASE with the assignments to `o`
 * given (a designated initializer cannot repeat BASE's fields). */
#define REFUSE(name, ...)                                       \
	do {                                                    \
		NR_OPTS(nr_ctl_opts, o, BASE);                  \
		__VA_ARGS__;                                    \
		bad |= one(loop, name, dir, &o);                \
	} while (0)

static int refuse_new(uv_loop_t *loop, const char *netns, const char *dir)
{
	static const char *bad_pool[] = { "10.0.0.0/33", NULL };
	static const char *outside[] = { "192.168.5.0/26", NULL };
	static const char *bad_cidrs[] = { "192.168.0.0/40", NULL };
	static const char *ftp[] = { "ftp://127.0.0.1:1", NULL };
	static const char *http[] = { "http://127.0.0.1:1", NULL };
	NR_OPTS(nr_etcd_opts, etcd_scheme, .endpoints = ftp);
	NR_OPTS(nr_etcd_opts, etcd_ttl, .endpoints = http, .lease_ttl_s = 1);
	struct stat before, after;
	struct nr_ctl *ctl;
	int bad = 0;

	REFUSE("route-protocol-static", o.route_protocol = 4);
	REFUSE("route-protocol-kernel", o.route_protocol = 2);
	REFUSE("vxlan-vni", o.vxlan_vni = 0x1000000);
	REFUSE("node-ip-elsewhere", o.node_ipv4 = "172.31.255.253");
	REFUSE("netns-missing", o.netns = "nr-no-such-netns-0");
	REFUSE("cluster-cidr", o.cluster_cidrs = bad_pool);
	/* what only the model refused, after the state directory was made */
	REFUSE("pod-cidr-outside", o.pod_cidrs = outside);
	REFUSE("node-ip-in-cluster-cidr", o.node_ipv4 = "10.1.2.3");
	REFUSE("node-name", o.node_name = "Bad_Name");
	/* options read only after the model exists (masquerading, etcd) are
	 * checked with the others, before anything is made */
	REFUSE("masquerade-switch", o.masquerade_ipv4 = (enum nr_switch)7);
	REFUSE("non-masquerade-cidr", o.masquerade_ipv4 = NR_SWITCH_ON,
	       o.non_masquerade_cidrs = bad_cidrs);
	/* no IPv6 cluster CIDR: pod-to-pod traffic would be masqueraded */
	REFUSE("masquerade-without-cidr", o.masquerade_ipv6 = NR_SWITCH_ON);
	REFUSE("etcd-endpoint", o.etcd = &etcd_scheme);
	REFUSE("etcd-lease-ttl", o.etcd = &etcd_ttl);

	NR_OPTS(nr_ctl_opts, good, BASE);
	stat("/proc/thread-self/ns/net", &before);
	if (nr_ctl_new(loop, &good, &ctl) < 0) {
		printf("good options refused: %s\n", nr_last_errmsg());
		return 1;
	}
	stat("/proc/thread-self/ns/net", &after);
	printf("thread netns %s\n", before.st_ino == after.st_ino ? "unchanged" : "CHANGED");
	bad |= before.st_ino != after.st_ino;
	nr_ctl_close(ctl, NULL, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return bad;
}

static bool started;

static void start_cb(struct nr_ctl *ctl, int status, const char *msg, void *data)
{
	(void)ctl;
	(void)data;
	if (status < 0)
		printf("start failed: %s\n", msg);
	started = true;
}

static void ep_cb(struct nr_ctl *ctl, int status, const char *msg,
		  const struct nr_endpoint_info *info, void *data)
{
	(void)ctl;
	(void)info;
	(void)data;
	printf("endpoint callback: %d %s\n", status, msg ? msg : "");
}

/* A dual-stack controller, state_dir DIR/NAME; NULL (said why) if not. */
static struct nr_ctl *dual_stack(uv_loop_t *loop, const char *netns, const char *dir,
				 const char *name)
{
	static const char *pools[] = { "10.0.0.0/8", "fd00:10::/64", NULL };
	static const char *cidrs[] = { "10.0.0.0/26", "fd00:10::/112", NULL };
	char path[512];
	struct nr_ctl *ctl;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	NR_OPTS(nr_ctl_opts, o, .netns = netns, .node_name = "local", .node_ipv4 = "172.31.255.254",
		.ipam_mode = NR_IPAM_KUBERNETES, .cluster_cidrs = pools, .pod_cidrs = cidrs,
		.state_dir = path);
	if (nr_ctl_new(loop, &o, &ctl) < 0) {
		printf("setup failed: %s\n", nr_last_errmsg());
		return NULL;
	}
	return ctl;
}

/* Say whether the call was refused, close: 0 when it was. */
static int verdict(uv_loop_t *loop, struct nr_ctl *ctl, const char *what, int rc)
{
	if (rc < 0)
		printf("refused %s: %s: %s\n", what, nr_err_name(rc), nr_last_errmsg());
	else
		printf("accepted %s\n", what);
	nr_ctl_close(ctl, NULL, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	return rc < 0 ? 0 : 1;
}

static int refuse_endpoint(uv_loop_t *loop, const char *netns, const char *dir, const char *ifname)
{
	struct nr_ctl *ctl = dual_stack(loop, netns, dir, "ep");

	if (!ctl)
		return 1;
	if (nr_ctl_start(ctl, start_cb, NULL) < 0) {
		printf("setup failed: %s\n", nr_last_errmsg());
		nr_ctl_close(ctl, NULL, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
		return 1;
	}
	while (!started)
		uv_run(loop, UV_RUN_ONCE);
	NR_OPTS(nr_endpoint_spec, spec, .id = "pod-1", .ifname = ifname);
	return verdict(loop, ctl, "endpoint", nr_ctl_endpoint_add(ctl, &spec, ep_cb, NULL));
}

static int refuse_start(uv_loop_t *loop, const char *netns, const char *dir)
{
	struct nr_ctl *ctl = dual_stack(loop, netns, dir, "start");

	return ctl ? verdict(loop, ctl, "start", nr_ctl_start(ctl, start_cb, NULL)) : 1;
}

int main(int argc, char **argv)
{
	uv_loop_t *loop = uv_default_loop();
	int bad;

	if (argc == 4 && !strcmp(argv[3], "new"))
		bad = refuse_new(loop, argv[1], argv[2]);
	else if (argc == 5 && !strcmp(argv[3], "endpoint"))
		bad = refuse_endpoint(loop, argv[1], argv[2], argv[4]);
	else if (argc == 4 && !strcmp(argv[3], "start"))
		bad = refuse_start(loop, argv[1], argv[2]);
	else {
		fprintf(stderr, "usage: nr_refusals NETNS DIR new | endpoint IFNAME | start\n");
		return 2;
	}
	uv_loop_close(loop);
	return bad;
}
