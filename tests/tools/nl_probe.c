/* nl_probe: a command-line face of libnativeroute's netlink layer, so the
 * integration tests can drive it and check the kernel with ip(8)/bridge(8).
 *
 *   nl_probe [--table N] [--proto N] NETNS COMMAND ARGS...   (NETNS "-" = current)
 *
 * Exit 0 on success, 1 with the layer's error text on stderr otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/socket.h>

#include <linux/rtnetlink.h>

#include "core/kstate.h"
#include "netlink/nl_batch.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_event.h"
#include "netlink/nl_link.h"
#include "netlink/nl_parse.h"
#include "netlink/nl_reach.h"
#include "netlink/nl_socket.h"
#include "netlink/nl_sysctl.h"
#include "netlink/nl_vxlan.h"

struct probe {
	const char *netns;
	struct nr_nl *nl;
	struct nr_nl_owner owner;
	struct nr_err err;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: nl_probe [--table N] [--proto N] NETNS COMMAND ARGS...\n"
		"  nexthop-add ID GW IFNAME [onlink]     nexthop-del ID\n"
		"  route-replace PREFIX [nhid ID] [via GW] [dev IFNAME] [src IP] [mtu N]\n"
		"                [onlink] [scope link]   route-del PREFIX\n"
		"  neigh-replace IP MAC IFNAME           neigh-del IP IFNAME\n"
		"  fdb-append MAC DST IFNAME             fdb-del MAC DST IFNAME\n"
		"  dump-routes | dump-nexthops | dump-neighs IFNAME | dump-fdb IFNAME\n"
		"  dump-steps [foreign] [neighs IFNAME]  (nexthops + routes [+ IFNAME's neighbours]\n"
		"                                         in steps; steps, the longest step's CPU\n"
		"                                         time and the sort's steps on stderr)\n"
		"  reach IP\n"
		"  vxlan-ensure LOCAL MAC [vni N] [port N] [mtu N] [name NAME] [learning]\n"
		"  link-del IFNAME                       addr-add IFNAME IP/LEN\n"
		"  batch-bench N IFNAME FIRST_GW         (N nexthops + N routes, timed)\n"
		"  sysctl PATH VALUE | forwarding | proxy-arp IFNAME 0|1\n"
		"  events SECONDS                        (print route/nexthop events)\n"
		"  events-overrun N IFNAME FIRST_GW      (tiny event buffer + N changes)\n"
		"  batch-threaded N IFNAME FIRST_GW BAD  (N nexthops + N routes sent from a second\n"
		"                                         thread, ACKs read on this one; every\n"
		"                                         BAD-th route names a missing nexthop;\n"
		"                                         a small receive buffer: many claims)\n"
		"  events-own SECONDS PREFIX GW IFNAME   (events, with our own echoes filtered,\n"
		"                                         while we add and delete PREFIX)\n");
	return 2;
}

static int fail(struct probe *p)
{
	fprintf(stderr, "nl_probe: %s\n", p->err.msg[0] ? p->err.msg : "failed");
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This thread's CPU time: on a busy machine a step's wall time also counts
 * other processes' turns. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *text, uint8_t mac[6], struct nr_err *err)
{
	unsigned int m[6];

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return nr_err_set(err, -EINVAL, "%s: not a MAC address", text);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)m[i];
	return 0;
}

static int ifindex_of(struct probe *p, const char *name, uint32_t *ifindex)
{
	return nr_nl_link_index(p->nl, name, ifindex, &p->err);
}

static void print_failure(size_t index, const struct nr_nl_batch_op *op,
			  const char *text, void *data)
{
	fprintf(stderr, "nl_probe: op %zu: %s\n", index, text);
}

/* Run one operation through a batch, as the reconciler would. */
static int run_one(struct probe *p, enum nr_nl_op op, const struct nr_nl_object *obj)
{
	struct nr_nl_batch *b;
	int r = nr_nl_batch_new(p->nl, &p->owner, &b);

	if (r == 0)
		r = nr_nl_batch_add(b, op, obj, &p->err);
	if (r >= 0)
		r = nr_nl_batch_commit(b, print_failure, NULL, &p->err);
	nr_nl_batch_free(b);
	return r == 0 ? 0 : 1; /* failures were printed by the callback */
}

static int cmd_nexthop(struct probe *p, int argc, char **argv, bool add)
{
	struct nr_nl_object o = { .kind = NR_NL_NEXTHOP };

	if (argc < (add ? 3 : 1))
		return usage();
	o.u.nh.id = (uint32_t)strtoul(argv[0], NULL, 0);
	if (add && (nr_addr_parse(argv[1], &o.u.nh.gw, &p->err) < 0 ||
		    ifindex_of(p, argv[2], &o.u.nh.ifindex) < 0))
		return fail(p);
	o.u.nh.onlink = add && argc > 3 && !strcmp(argv[3], "onlink");
	return run_one(p, add ? NR_NL_REPLACE : NR_NL_DELETE, &o);
}

static int route_option(struct probe *p, struct nr_kroute *r, char **argv, int *i, int argc)
{
	const char *key = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (!strcmp(key, "onlink")) {
		r->onlink = true;
		return 0;
	}
	if (!val)
		return nr_err_set(&p->err, -EINVAL, "%s: missing value", key);
	++*i;
	if (!strcmp(key, "nhid"))
		r->nh_id = (uint32_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "via"))
		return nr_addr_parse(val, &r->gw, &p->err);
	else if (!strcmp(key, "dev"))
		return ifindex_of(p, val, &r->ifindex);
	else if (!strcmp(key, "src"))
		return nr_addr_parse(val, &r->src, &p->err);
	else if (!strcmp(key, "mtu"))
		r->mtu = (uint32_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "scope") && !strcmp(val, "link"))
		r->scope = RT_SCOPE_LINK;
	else
		return nr_err_set(&p->err, -EINVAL, "%s %s: unknown route option", key, val);
	return 0;
}

static int cmd_route(struct probe *p, int argc, char **argv, bool replace)
{
	struct nr_nl_object o = { .kind = NR_NL_ROUTE };

	if (argc < 1)
		return usage();
	if (nr_prefix_parse(argv[0], &o.u.route.dst, &p->err) < 0)
		return fail(p);
	for (int i = 1; replace && i < argc; i++)
		if (route_option(p, &o.u.route, argv, &i, argc) < 0)
			return fail(p);
	return run_one(p, replace ? NR_NL_REPLACE : NR_NL_DELETE, &o);
}

static int cmd_neigh(struct probe *p, int argc, char **argv, bool replace)
{
	struct nr_nl_object o = { .kind = NR_NL_NEIGH };

	if (argc < (replace ? 3 : 2) || nr_addr_parse(argv[0], &o.u.neigh.ip, &p->err) < 0 ||
	    (replace && parse_mac(argv[1], o.u.neigh.mac, &p->err) < 0) ||
	    ifindex_of(p, argv[replace ? 2 : 1], &o.u.neigh.ifindex) < 0)
		return argc < 2 ? usage() : fail(p);
	return run_one(p, replace ? NR_NL_REPLACE : NR_NL_DELETE, &o);
}

static int cmd_fdb(struct probe *p, int argc, char **argv, bool append)
{
	struct nr_nl_object o = { .kind = NR_NL_FDB };

	if (argc < 3)
		return usage();
	if (parse_mac(argv[0], o.u.fdb.mac, &p->err) < 0 ||
	    nr_addr_parse(argv[1], &o.u.fdb.dst, &p->err) < 0 ||
	    ifindex_of(p, argv[2], &o.u.fdb.ifindex) < 0)
		return fail(p);
	return run_one(p, append ? NR_NL_APPEND : NR_NL_DELETE, &o);
}

static void print_object(enum nr_nl_kind kind, const void *value)
{
	struct nr_nl_object o = { .kind = kind };
	char buf[NR_NL_OBJECT_STRLEN];

	switch (kind) {
	case NR_NL_NEXTHOP: o.u.nh = *(const struct nr_knexthop *)value; break;
	case NR_NL_ROUTE: o.u.route = *(const struct nr_kroute *)value; break;
	case NR_NL_NEIGH: o.u.neigh = *(const struct nr_kneigh *)value; break;
	case NR_NL_FDB: o.u.fdb = *(const struct nr_kfdb *)value; break;
	}
	printf("%s\n", nr_nl_object_str(&o, NR_NL_REPLACE, NULL, buf, sizeof(buf)));
}

static int cmd_dump(struct probe *p, const char *what, int argc, char **argv)
{
	struct nr_nl_dump_filter f = { .owner = p->owner };
	struct nr_kstate s;

	if (!strcmp(what, "dump-neighs") || !strcmp(what, "dump-fdb")) {
		if (argc < 1)
			return usage();
		if (ifindex_of(p, argv[0], what[5] == 'n' ? &f.neigh_ifindex : &f.fdb_ifindex) < 0)
			return fail(p);
	}
	if (nr_nl_dump_kstate(p->nl, &f, &s, &p->err) < 0)
		return fail(p);
	for (size_t i = 0; what[5] == 'n' && what[6] == 'e' && what[7] == 'x' && i < s.n_nexthops; i++)
		print_object(NR_NL_NEXTHOP, &s.nexthops[i]);
	for (size_t i = 0; !strcmp(what, "dump-routes") && i < s.n_routes; i++)
		print_object(NR_NL_ROUTE, &s.routes[i]);
	for (size_t i = 0; i < s.n_neighs; i++)
		print_object(NR_NL_NEIGH, &s.neighs[i]);
	for (size_t i = 0; i < s.n_fdbs; i++)
		print_object(NR_NL_FDB, &s.fdbs[i]);
	nr_kstate_free(&s);
	return 0;
}

/* The dump a controller runs from its loop (nr_nl_dumper): a non-blocking
 * socket, one receive buffer per step, poll() between steps. Prints what
 * dump-nexthops + dump-routes (+ dump-neighs IFNAME) print (with "foreign":
 * also the other protocols' nexthops, as "foreign <id>"), and on stderr
 * the number of steps and the CPU time of the longest one. */
static int cmd_dump_steps(struct probe *p, int argc, char **argv)
{
	struct nr_nl_dump_filter f = { .owner = p->owner };
	bool foreign = argc > 0 && !strcmp(argv[0], "foreign");
	struct nr_nl_dumper *d = NULL;
	struct nr_knexthop *others = NULL;
	struct nr_kstate s = { 0 };
	struct nr_nl *nl = NULL;
	size_t n_others = 0, finishes = 0;
	double longest = 0;
	int r;

	argc -= foreign;
	argv += foreign;
	if (argc == 2 && !strcmp(argv[0], "neighs")) {
		if (ifindex_of(p, argv[1], &f.neigh_ifindex) < 0)
			return fail(p);
	} else if (argc) {
		return usage();
	}
	if (nr_nl_open(p->netns, NR_NL_NONBLOCK, &nl, &p->err) < 0 ||
	    nr_nl_dumper_new(nl, &f, foreign, false, &d, &p->err) < 0) {
		nr_nl_close(nl);
		return fail(p);
	}
	do {
		struct pollfd pfd = { .fd = nr_nl_fd(nl), .events = POLLIN };
		double t0;

		if (poll(&pfd, 1, NR_NL_TIMEOUT_MS) != 1) {
			snprintf(p->err.msg, sizeof(p->err.msg), "dump-steps: no answer");
			r = -ETIMEDOUT;
			break;
		}
		t0 = cpu_now();
		r = nr_nl_dumper_step(d, &p->err);
		if (cpu_now() - t0 > longest)
			longest = cpu_now() - t0;
	} while (r == NR_NL_DUMP_WAIT);
	/* what came out of key order sorted in pieces of 256 moves, as the
	 * controller does between loop turns */
	if (r == 0)
		while ((r = nr_nl_dumper_finish(d, 256, &p->err)) == 1)
			finishes++;
	if (r == 0)
		r = nr_nl_dumper_take(d, &s, foreign ? &others : NULL, &n_others, &p->err);
	if (r == 0)
		fprintf(stderr, "steps %zu longest_cpu_ms %.3f finish_steps %zu\n", nr_nl_dumper_steps(d),
			longest * 1e3, finishes);
	nr_nl_dumper_free(d);
	nr_nl_close(nl);
	if (r < 0)
		return fail(p);
	for (size_t i = 0; i < s.n_nexthops; i++)
		print_object(NR_NL_NEXTHOP, &s.nexthops[i]);
	for (size_t i = 0; i < s.n_routes; i++)
		print_object(NR_NL_ROUTE, &s.routes[i]);
	for (size_t i = 0; i < s.n_neighs; i++)
		print_object(NR_NL_NEIGH, &s.neighs[i]);
	for (size_t i = 0; i < n_others; i++)
		printf("foreign %u\n", others[i].id);
	nr_kstate_free(&s);
	free(others);
	return 0;
}

static int cmd_reach(struct probe *p, int argc, char **argv)
{
	static const char *const kinds[] = { "?", "direct", "gateway", "local" };
	struct nr_nl_reach reach;
	struct nr_nl_link link = { .name = "?" };
	struct nr_addr ip;
	char a[NR_ADDR_STRLEN], s[NR_ADDR_STRLEN];

	if (argc < 1)
		return usage();
	if (nr_addr_parse(argv[0], &ip, &p->err) < 0 || nr_nl_reach(p->nl, &ip, &reach, &p->err) < 0)
		return fail(p);
	if (reach.ifindex)
		nr_nl_link_get(p->nl, NULL, reach.ifindex, &link, NULL);
	printf("%s dev %s", kinds[reach.kind], link.name);
	if (reach.gw.family)
		printf(" via %s", nr_addr_str(&reach.gw, a, sizeof(a)));
	if (reach.src.family)
		printf(" src %s", nr_addr_str(&reach.src, s, sizeof(s)));
	printf("\n");
	return 0;
}

static int vxlan_option(struct probe *p, struct nr_nl_vxlan *v, const char *key,
			const char *val)
{
	if (!strcmp(key, "vni"))
		v->vni = (uint32_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "port"))
		v->port = (uint16_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "mtu"))
		v->mtu = (uint32_t)strtoul(val, NULL, 0);
	else if (!strcmp(key, "name"))
		snprintf(v->name, sizeof(v->name), "%s", val);
	else
		return nr_err_set(&p->err, -EINVAL, "%s: unknown vxlan option", key);
	return 0;
}

static int cmd_vxlan(struct probe *p, int argc, char **argv)
{
	struct nr_nl_vxlan v = { 0 };
	uint32_t ifindex;
	int r;

	if (argc < 2)
		return usage();
	if (nr_addr_parse(argv[0], &v.local, &p->err) < 0 || parse_mac(argv[1], v.mac, &p->err) < 0)
		return fail(p);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "learning"))
			v.learning = true;
		else if (i + 1 >= argc || vxlan_option(p, &v, argv[i], argv[i + 1]) < 0)
			return p->err.msg[0] ? fail(p) : usage();
		else
			i++;
	}
	r = nr_nl_vxlan_ensure(p->nl, &v, &ifindex, &p->err);
	if (r < 0)
		return fail(p);
	printf("%s ifindex %u\n", r == 2 ? "replaced" : r ? "adopted" : "created", ifindex);
	return 0;
}

static int cmd_link_del(struct probe *p, int argc, char **argv)
{
	uint32_t ifindex;

	if (argc < 1)
		return usage();
	if (ifindex_of(p, argv[0], &ifindex) < 0 || nr_nl_link_delete(p->nl, ifindex, &p->err) < 0)
		return fail(p);
	return 0;
}

static int cmd_addr_add(struct probe *p, int argc, char **argv)
{
	struct nr_addr a;
	uint32_t ifindex;
	char ip[NR_ADDR_STRLEN];
	unsigned int len;

	if (argc < 2 || sscanf(argv[1], "%47[^/]/%u", ip, &len) != 2)
		return usage();
	if (ifindex_of(p, argv[0], &ifindex) < 0 || nr_addr_parse(ip, &a, &p->err) < 0 ||
	    nr_nl_addr_add(p->nl, ifindex, &a, (uint8_t)len, &p->err) < 0)
		return fail(p);
	return 0;
}

static void bench_objects(uint32_t i, uint32_t ifindex, uint32_t gw0,
			  struct nr_knexthop *nh, struct nr_kroute *r)
{
	uint32_t gw = gw0 + i, dst = (10u << 24) | (128u << 16) | (i << 8);

	*nh = (struct nr_knexthop){ .id = NR_NH_ID_BASE + i * 2, .ifindex = ifindex,
				    .gw.family = AF_INET };
	memcpy(nh->gw.bytes, (uint8_t[4]){ gw >> 24, gw >> 16, gw >> 8, gw }, 4);
	*r = (struct nr_kroute){ .dst.len = 24, .dst.addr.family = AF_INET, .nh_id = nh->id };
	memcpy(r->dst.addr.bytes, (uint8_t[4]){ dst >> 24, dst >> 16, dst >> 8, dst }, 4);
}

static int bench_fill(struct probe *p, struct nr_nl_batch *b, uint32_t n,
		      uint32_t ifindex, uint32_t gw0)
{
	for (uint32_t i = 0; i < n; i++) {
		struct nr_knexthop nh;
		struct nr_kroute r;

		bench_objects(i, ifindex, gw0, &nh, &r);
		if (nr_nl_batch_nexthop(b, NR_NL_REPLACE, &nh, &p->err) < 0 ||
		    nr_nl_batch_route(b, NR_NL_REPLACE, &r, &p->err) < 0)
			return -1;
	}
	return 0;
}

static int cmd_bench(struct probe *p, int argc, char **argv)
{
	struct nr_nl_batch *b = NULL;
	struct nr_kstate s = { 0 };
	struct nr_nl_dump_filter f = { .owner = p->owner };
	struct nr_addr gw;
	uint32_t n, ifindex, gw0;
	double t0, t1, t2;
	int r;

	if (argc < 3)
		return usage();
	n = (uint32_t)strtoul(argv[0], NULL, 0);
	if (n > 65536 || ifindex_of(p, argv[1], &ifindex) < 0 ||
	    nr_addr_parse(argv[2], &gw, &p->err) < 0 || gw.family != AF_INET)
		return p->err.msg[0] ? fail(p) : usage();
	gw0 = (uint32_t)gw.bytes[0] << 24 | gw.bytes[1] << 16 | gw.bytes[2] << 8 | gw.bytes[3];
	if (nr_nl_batch_new(p->nl, &p->owner, &b) < 0 || bench_fill(p, b, n, ifindex, gw0) < 0)
		return nr_nl_batch_free(b), fail(p);
	t0 = now();
	r = nr_nl_batch_commit(b, print_failure, NULL, &p->err);
	t1 = now();
	nr_nl_batch_free(b);
	if (r != 0)
		return r < 0 ? fail(p) : 1;
	if (nr_nl_dump_kstate(p->nl, &f, &s, &p->err) < 0)
		return fail(p);
	t2 = now();
	printf("batch-bench: programmed %u nexthops + %u routes in %.3f s; "
	       "dumped %zu nexthops + %zu routes in %.3f s\n",
	       n, n, t1 - t0, s.n_nexthops, s.n_routes, t2 - t1);
	nr_kstate_free(&s);
	return 0;
}

static int cmd_sysctl(struct probe *p, const char *cmd, int argc, char **argv)
{
	int r;

	if (!strcmp(cmd, "forwarding")) {
		r = nr_nl_sysctl_forwarding(p->netns, AF_INET, &p->err);
		if (r == 0)
			r = nr_nl_sysctl_forwarding(p->netns, AF_INET6, &p->err);
	} else if (argc < 2) {
		return usage();
	} else if (!strcmp(cmd, "proxy-arp")) {
		r = nr_nl_sysctl_proxy_arp(p->netns, argv[0], atoi(argv[1]), &p->err);
	} else {
		r = nr_nl_sysctl_write(p->netns, argv[0], argv[1], &p->err);
	}
	return r < 0 ? fail(p) : 0;
}

static int print_event(const struct nlmsghdr *nlh, void *data)
{
	struct nr_nl_route_info ri;
	struct nr_nl_nexthop_info ni;
	struct nr_kroute r;
	struct nr_knexthop nh;
	bool del = nlh->nlmsg_type == RTM_DELROUTE || nlh->nlmsg_type == RTM_DELNEXTHOP;

	if (nr_nl_parse_route(nlh, &r, &ri) == 0) {
		printf("%s proto %u table %u: ", del ? "del" : "new", ri.protocol, ri.table);
		print_object(NR_NL_ROUTE, &r);
	} else if (nr_nl_parse_nexthop(nlh, &nh, &ni) == 0) {
		printf("%s proto %u: ", del ? "del" : "new", ni.protocol);
		print_object(NR_NL_NEXTHOP, &nh);
	}
	fflush(stdout);
	return 0;
}

static int cmd_events(struct probe *p, int argc, char **argv)
{
	struct nr_nl *ev;
	double end;

	if (argc < 1)
		return usage();
	if (nr_nl_open(p->netns, NR_NL_EVENTS | NR_NL_NONBLOCK, &ev, &p->err) < 0)
		return fail(p);
	printf("listening\n");
	fflush(stdout);
	end = now() + atof(argv[0]);
	while (now() < end) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		int r = nr_nl_event_read(ev, print_event, NULL);

		if (r == -ENOBUFS)
			printf("resync needed\n");
		else if (r < 0)
			break;
		nanosleep(&ts, NULL);
	}
	nr_nl_close(ev);
	return 0;
}

static int count_event(const struct nlmsghdr *nlh, void *data)
{
	return 0;
}

/* Make the kernel drop events for us: the reconciler must then hear
 * -ENOBUFS ("resync needed"), and the socket must keep working. */
static int cmd_events_overrun(struct probe *p, int argc, char **argv)
{
	struct nr_nl *ev;
	struct nr_nl_batch *b = NULL;
	struct nr_addr gw;
	uint32_t ifindex, gw0;
	int tiny = 1, r, again;

	if (argc < 3)
		return usage();
	if (ifindex_of(p, argv[1], &ifindex) < 0 || nr_addr_parse(argv[2], &gw, &p->err) < 0 ||
	    nr_nl_open(p->netns, NR_NL_EVENTS | NR_NL_NONBLOCK, &ev, &p->err) < 0)
		return fail(p);
	/* The kernel rounds this up to its minimum, a few KiB. */
	setsockopt(nr_nl_fd(ev), SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny));
	gw0 = (uint32_t)gw.bytes[0] << 24 | gw.bytes[1] << 16 | gw.bytes[2] << 8 | gw.bytes[3];
	r = nr_nl_batch_new(p->nl, &p->owner, &b);
	if (r == 0 && bench_fill(p, b, (uint32_t)strtoul(argv[0], NULL, 0), ifindex, gw0) == 0)
		r = nr_nl_batch_commit(b, print_failure, NULL, &p->err);
	nr_nl_batch_free(b);
	r = r == 0 ? nr_nl_event_read(ev, count_event, NULL) : r;
	again = nr_nl_event_read(ev, count_event, NULL);
	nr_nl_close(ev);
	printf("first read: %s; next read: %s\n", r == -ENOBUFS ? "resync needed" : "no overrun",
	       again >= 0 ? "ok" : "error");
	return 0;
}

/* ---- a batch sent from another thread (as ctl/ctl_send.c does) ---------- */

struct sender {
	struct nr_nl_batch *b;
	size_t first, n, sent;
	int rc;
	atomic_bool done;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->rc = nr_nl_batch_send_claimed(s->b, s->first, s->n, &s->sent);
	atomic_store(&s->done, true);
	return NULL;
}

static void print_failed_route(size_t index, const struct nr_nl_batch_op *op, const char *text,
			       void *data)
{
	char buf[NR_ADDR_STRLEN];

	(*(size_t *)data)++;
	if (op->obj.kind == NR_NL_ROUTE)
		printf("failed %s: %s\n", nr_prefix_str(&op->obj.u.route.dst, buf, sizeof(buf)), text);
	else
		printf("failed op %zu: %s\n", index, text);
}

static int cmd_batch_threaded(struct probe *p, int argc, char **argv)
{
	struct nr_nl *nl = NULL;
	struct nr_nl_batch *b = NULL;
	struct nr_addr gw;
	uint32_t n, bad, ifindex, gw0;
	size_t failed = 0, claims = 0, total = 0;
	int r;

	if (argc < 4)
		return usage();
	n = (uint32_t)strtoul(argv[0], NULL, 0);
	bad = (uint32_t)strtoul(argv[3], NULL, 0);
	if (n > 65536 || !bad || ifindex_of(p, argv[1], &ifindex) < 0 ||
	    nr_addr_parse(argv[2], &gw, &p->err) < 0 || gw.family != AF_INET)
		return p->err.msg[0] ? fail(p) : usage();
	gw0 = (uint32_t)gw.bytes[0] << 24 | gw.bytes[1] << 16 | gw.bytes[2] << 8 | gw.bytes[3];
	if (nr_nl_open(p->netns, NR_NL_NONBLOCK, &nl, &p->err) < 0 ||
	    nr_nl_batch_new(nl, &p->owner, &b) < 0)
		goto out_fail;
	/* a small receive buffer: the ACK window holds ~128 answers, so the
	 * batch goes out in many claims */
	setsockopt(nr_nl_fd(nl), SOL_SOCKET, SO_RCVBUF, &(int){ 128 * 1024 }, sizeof(int));
	for (uint32_t i = 0; i < n; i++) {
		struct nr_knexthop nh;
		struct nr_kroute rt;

		bench_objects(i, ifindex, gw0, &nh, &rt);
		if (i % bad == bad - 1)
			rt.nh_id = NR_NH_ID_BASE + 2 * n + 2 * i + 1; /* no such nexthop */
		if (nr_nl_batch_nexthop(b, NR_NL_REPLACE, &nh, &p->err) < 0 ||
		    nr_nl_batch_route(b, NR_NL_REPLACE, &rt, &p->err) < 0)
			goto out_fail;
	}
	if (nr_nl_batch_begin(b, print_failed_route, &failed, &p->err) < 0)
		goto out_fail;
	{ /* a request on the socket now would read the batch's answers */
		struct nr_nl_link link;
		struct nr_err e = { 0 };

		r = nr_nl_link_get(nl, NULL, ifindex, &link, &e);
		printf("request on the batch's socket: %s\n", r == -EBUSY ? "refused" : "ALLOWED");
	}
	for (;;) {
		struct sender s = { .b = b };
		pthread_t t;

		r = nr_nl_batch_read_acks(b);
		if (r <= 0)
			break;
		s.n = nr_nl_batch_claim(b, &s.first);
		if (s.n) {
			claims++;
			if (pthread_create(&t, NULL, send_thread, &s) != 0) {
				nr_nl_batch_claim_end(b, s.first, s.n, 0);
				r = -EAGAIN;
				break;
			}
			/* the ACKs are read here while the other thread sends */
			while (!atomic_load(&s.done)) {
				struct pollfd pfd = { .fd = nr_nl_fd(nl), .events = POLLIN };

				if (poll(&pfd, 1, 5) > 0 && (r = nr_nl_batch_read_acks(b)) < 0)
					break;
			}
			pthread_join(t, NULL);
			nr_nl_batch_claim_end(b, s.first, s.n, s.sent);
			total += s.sent;
			if (s.rc < 0 || r < 0) {
				r = s.rc < 0 ? s.rc : r;
				break;
			}
		} else {
			struct pollfd pfd = { .fd = nr_nl_fd(nl), .events = POLLIN };

			if (poll(&pfd, 1, NR_NL_TIMEOUT_MS) == 0) {
				r = -ETIMEDOUT;
				break;
			}
		}
	}
	if (r < 0) {
		nr_err_set(&p->err, r, "batch: %s", strerror(-r));
		goto out_fail;
	}
	printf("sent %zu operations in %zu claims; %zu failed\n", total, claims, failed);
	nr_nl_batch_free(b);
	nr_nl_close(nl);
	return 0;
out_fail:
	nr_nl_batch_free(b);
	nr_nl_close(nl);
	return fail(p);
}

/* An event socket that drops the echoes of changes made through p->nl:
 * our own route add/delete must not show, another program's must. */
static int cmd_events_own(struct probe *p, int argc, char **argv)
{
	struct nr_nl *ev;
	struct nr_nl_object o = { .kind = NR_NL_ROUTE };
	uint32_t port;
	double end;
	int r;

	if (argc < 4)
		return usage();
	if (nr_prefix_parse(argv[1], &o.u.route.dst, &p->err) < 0 ||
	    nr_addr_parse(argv[2], &o.u.route.gw, &p->err) < 0 ||
	    ifindex_of(p, argv[3], &o.u.route.ifindex) < 0 ||
	    nr_nl_open(p->netns, NR_NL_EVENTS | NR_NL_NONBLOCK, &ev, &p->err) < 0)
		return fail(p);
	port = p->nl->portid;
	r = nr_nl_event_ignore_echoes(ev, &port, 1);
	if (r < 0) {
		nr_nl_close(ev);
		nr_err_set(&p->err, r, "socket filter: %s", strerror(-r));
		return fail(p);
	}
	printf("listening\n");
	fflush(stdout);
	r = run_one(p, NR_NL_REPLACE, &o);
	if (r == 0)
		r = run_one(p, NR_NL_DELETE, &o);
	end = now() + atof(argv[0]);
	while (r == 0 && now() < end) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (nr_nl_event_read(ev, print_event, NULL) < 0)
			break;
		nanosleep(&ts, NULL);
	}
	nr_nl_close(ev);
	return r;
}

static int dispatch(struct probe *p, const char *cmd, int argc, char **argv)
{
	if (!strcmp(cmd, "nexthop-add") || !strcmp(cmd, "nexthop-del"))
		return cmd_nexthop(p, argc, argv, !strcmp(cmd, "nexthop-add"));
	if (!strcmp(cmd, "route-replace") || !strcmp(cmd, "route-del"))
		return cmd_route(p, argc, argv, !strcmp(cmd, "route-replace"));
	if (!strcmp(cmd, "neigh-replace") || !strcmp(cmd, "neigh-del"))
		return cmd_neigh(p, argc, argv, !strcmp(cmd, "neigh-replace"));
	if (!strcmp(cmd, "fdb-append") || !strcmp(cmd, "fdb-del"))
		return cmd_fdb(p, argc, argv, !strcmp(cmd, "fdb-append"));
	if (!strcmp(cmd, "dump-steps"))
		return cmd_dump_steps(p, argc, argv);
	if (!strncmp(cmd, "dump-", 5))
		return cmd_dump(p, cmd, argc, argv);
	if (!strcmp(cmd, "reach"))
		return cmd_reach(p, argc, argv);
	if (!strcmp(cmd, "vxlan-ensure"))
		return cmd_vxlan(p, argc, argv);
	if (!strcmp(cmd, "link-del"))
		return cmd_link_del(p, argc, argv);
	if (!strcmp(cmd, "addr-add"))
		return cmd_addr_add(p, argc, argv);
	if (!strcmp(cmd, "batch-bench"))
		return cmd_bench(p, argc, argv);
	if (!strcmp(cmd, "sysctl") || !strcmp(cmd, "forwarding") || !strcmp(cmd, "proxy-arp"))
		return cmd_sysctl(p, cmd, argc, argv);
	if (!strcmp(cmd, "events"))
		return cmd_events(p, argc, argv);
	if (!strcmp(cmd, "events-overrun"))
		return cmd_events_overrun(p, argc, argv);
	if (!strcmp(cmd, "batch-threaded"))
		return cmd_batch_threaded(p, argc, argv);
	if (!strcmp(cmd, "events-own"))
		return cmd_events_own(p, argc, argv);
	return usage();
}

int main(int argc, char **argv)
{
	struct probe p = { .owner = { .table = RT_TABLE_MAIN, .protocol = 201 } };
	int i = 1, r;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--table"))
			p.owner.table = (uint32_t)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--proto"))
			p.owner.protocol = (uint8_t)strtoul(argv[i + 1], NULL, 0);
		else
			return usage();
	}
	if (argc - i < 2)
		return usage();
	p.netns = strcmp(argv[i], "-") ? argv[i] : NULL;
	if (nr_nl_open(p.netns, 0, &p.nl, &p.err) < 0)
		return fail(&p);
	r = dispatch(&p, argv[i + 1], argc - i - 2, argv + i + 2);
	nr_nl_close(p.nl);
	return r;
}
