/* ADD: a veth pair, the endpoint on the daemon, the container's addresses
 * and routes, the Result. Every step that changed something is recorded, and
 * a failure undoes exactly those steps (never what existed before we came):
 * an error leaves the host, the container and the daemon as they were. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "cni_daemon.h"
#include "cni_nl.h"
#include "cni_result.h"

struct add {
	const struct cni_env *env;
	const struct cni_conf *conf;
	struct cni_names names;
	struct cni_nl host, cont;
	struct cni_daemon daemon;
	bool veth_made, endpoint_made;
	uint32_t host_index, cont_index;
	struct cni_attachment at;
};

static int kernel_fail(struct cni_err *e, struct cni_nl *nl, const char *what, const char *obj)
{
	return cni_fail(e, CNI_E_KERNEL, "the kernel refused a change", "%s %s in the %s namespace: %s",
			what, obj, nl->where, nl->errmsg[0] ? nl->errmsg : "failed");
}

/* The MTU when the configuration gives none: the daemon's if it says, else
 * the underlay's (the link holding the node IP): native routing adds no
 * header, so pods can use all of it. 1500 when neither is known. */
static uint32_t underlay_mtu(struct add *a)
{
	char ip4[64], ip6[64];
	struct cni_err ignore = { 0 };
	struct cni_link link;
	struct cni_ip ip;
	uint32_t ifindex;

	if (cni_daemon_local_node(&a->daemon, ip4, ip6, &ignore) < 0)
		return 1500;
	if (cni_ip_parse(*ip4 ? ip4 : ip6, &ip) < 0 || cni_nl_addr_link(&a->host, &ip, &ifindex) < 0 ||
	    cni_nl_link_get(&a->host, NULL, ifindex, &link) < 0 || !link.mtu)
		return 1500;
	return link.mtu;
}

/* Nothing may exist yet: an interface of that name in the container is an
 * error (spec: ADD must fail), and so is our host-side name (the attachment
 * exists: a runtime must not ADD twice without DEL). Neither is touched. */
static int check_free(struct add *a, struct cni_err *e)
{
	struct cni_link l;
	int rc;

	rc = cni_nl_link_get(&a->cont, a->env->ifname, 0, &l);
	if (rc == 0)
		return cni_fail(e, CNI_E_EXISTS, "the container already has this interface",
				"interface %s already exists in %s", a->env->ifname, a->env->netns);
	if (rc != -ENODEV)
		return kernel_fail(e, &a->cont, "looking up", a->env->ifname);
	rc = cni_nl_link_get(&a->host, a->names.host_if, 0, &l);
	if (rc == 0)
		return cni_fail(e, CNI_E_EXISTS, "the attachment already exists",
				"host interface %s (container %s, %s) already exists: DEL it first",
				a->names.host_if, a->env->containerid, a->env->ifname);
	if (rc != -ENODEV)
		return kernel_fail(e, &a->host, "looking up", a->names.host_if);
	return 0;
}

static int make_veth(struct add *a, uint32_t mtu, struct cni_err *e)
{
	struct cni_link hl, cl;
	int fd, rc;

	fd = open(a->env->netns, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cni_fail(e, CNI_E_UNKNOWN, "the container's network namespace is gone",
				"CNI_NETNS %s: %s", a->env->netns, strerror(errno));
	rc = cni_nl_veth_add(&a->host, a->names.host_if, a->env->ifname, fd, mtu);
	close(fd);
	if (rc == -EEXIST)
		return cni_fail(e, CNI_E_EXISTS, "the attachment already exists",
				"creating %s / %s: %s", a->names.host_if, a->env->ifname, a->host.errmsg);
	if (rc == -ETIMEDOUT) /* no answer: it may exist, undo looks it up by name */
		a->veth_made = true;
	if (rc < 0)
		return kernel_fail(e, &a->host, "creating veth", a->names.host_if);
	a->veth_made = true;
	if (cni_nl_link_get(&a->host, a->names.host_if, 0, &hl) < 0)
		return kernel_fail(e, &a->host, "reading", a->names.host_if);
	if (cni_nl_link_get(&a->cont, a->env->ifname, 0, &cl) < 0)
		return kernel_fail(e, &a->cont, "reading", a->env->ifname);
	a->host_index = hl.ifindex;
	a->cont_index = cl.ifindex;
	memcpy(a->at.host_mac, hl.mac, 6);
	memcpy(a->at.mac, cl.mac, 6);
	a->at.mtu = cl.mtu;
	if (cni_nl_link_set(&a->host, a->host_index, true, 0) < 0)
		return kernel_fail(e, &a->host, "setting up", a->names.host_if);
	return 0;
}

static int register_endpoint(struct add *a, struct cni_err *e)
{
	const char *ip4 = a->env->want_ip4 ? a->env->want_ip4 : a->conf->want_ip4;
	const char *ip6 = a->env->want_ip6 ? a->env->want_ip6 : a->conf->want_ip6;
	struct cni_endpoint ep;
	int rc;

	rc = cni_daemon_endpoint_add(&a->daemon, a->names.endpoint_id, a->names.host_if,
				     *ip4 ? ip4 : NULL, *ip6 ? ip6 : NULL, &ep, e);
	/* Lost or timed out: the daemon may have applied it, so undo tries. */
	if (rc == -ETIMEDOUT || rc == -ECONNRESET)
		a->endpoint_made = true;
	if (rc < 0)
		return rc;
	a->endpoint_made = true;
	if (cni_ip_parse(ep.ipv4, &a->at.ip4) == 0 && cni_ip_parse(ep.gateway4, &a->at.gw4) < 0)
		return cni_fail(e, CNI_E_DAEMON, "nativerouted gave no gateway",
				"endpoint %s: address %s without a gateway", ep.id, ep.ipv4);
	if (cni_ip_parse(ep.ipv6, &a->at.ip6) == 0 && cni_ip_parse(ep.gateway6, &a->at.gw6) < 0)
		return cni_fail(e, CNI_E_DAEMON, "nativerouted gave no gateway",
				"endpoint %s: address %s without a gateway", ep.id, ep.ipv6);
	if (!a->at.ip4.family && !a->at.ip6.family)
		return cni_fail(e, CNI_E_DAEMON, "nativerouted gave no address", "endpoint %s", ep.id);
	/* The daemon knows the path best (e.g. a tunnel's smaller MTU); an
	 * explicit "mtu" in the configuration still wins. */
	if (ep.mtu && !a->conf->mtu && ep.mtu != a->at.mtu) {
		if (cni_nl_link_set(&a->host, a->host_index, true, ep.mtu) < 0)
			return kernel_fail(e, &a->host, "setting the MTU of", a->names.host_if);
		if (cni_nl_link_set(&a->cont, a->cont_index, false, ep.mtu) < 0)
			return kernel_fail(e, &a->cont, "setting the MTU of", a->env->ifname);
		a->at.mtu = ep.mtu;
	}
	return 0;
}

/* Inside the container: the address as a host route (/32, /128), the
 * gateway on-link, the default route through it. */
static int configure_family(struct add *a, const struct cni_ip *ip, const struct cni_ip *gw,
			    struct cni_err *e)
{
	int bits = ip->family == AF_INET ? 32 : 128;
	char s[64];

	if (!ip->family)
		return 0;
	cni_ip_str(ip, s, sizeof(s));
	if (cni_nl_addr_add(&a->cont, a->cont_index, ip, bits) < 0)
		return kernel_fail(e, &a->cont, "adding address", s);
	cni_ip_str(gw, s, sizeof(s));
	if (cni_nl_route_add(&a->cont, ip->family, gw, bits, NULL, a->cont_index,
			     ip->family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE) < 0)
		return kernel_fail(e, &a->cont, "adding the on-link route to gateway", s);
	if (cni_nl_route_add(&a->cont, ip->family, NULL, 0, gw, a->cont_index, RT_SCOPE_UNIVERSE) < 0)
		return kernel_fail(e, &a->cont, "adding the default route via", s);
	return 0;
}

static int configure_container(struct add *a, struct cni_err *e)
{
	if (a->at.ip6.family && a->at.mtu && a->at.mtu < 1280)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"mtu\": %u is below IPv6's minimum 1280 and the endpoint has IPv6",
				a->at.mtu);
	if (cni_nl_link_set(&a->cont, a->cont_index, true, 0) < 0)
		return kernel_fail(e, &a->cont, "setting up", a->env->ifname);
	if (configure_family(a, &a->at.ip4, &a->at.gw4, e) < 0 ||
	    configure_family(a, &a->at.ip6, &a->at.gw6, e) < 0)
		return -1;
	return 0;
}

/* Undo in reverse order. The container side goes with the veth pair. */
static void undo(struct add *a)
{
	struct cni_err ignore = { 0 };

	if (a->endpoint_made &&
	    cni_daemon_endpoint_remove(&a->daemon, a->names.endpoint_id, &ignore) < 0)
		fprintf(stderr, "%s: undo: endpoint %s: %s\n", CNI_PROG, a->names.endpoint_id,
			ignore.details);
	if (a->veth_made && a->host_index && cni_nl_link_del(&a->host, a->host_index) < 0)
		fprintf(stderr, "%s: undo: deleting %s: %s\n", CNI_PROG, a->names.host_if, a->host.errmsg);
	else if (a->veth_made && !a->host_index) {
		struct cni_link l;

		if (cni_nl_link_get(&a->host, a->names.host_if, 0, &l) == 0)
			cni_nl_link_del(&a->host, l.ifindex);
	}
}

static int open_container(struct add *a, struct cni_err *e)
{
	int rc = cni_nl_open_in(&a->cont, a->env->netns, "container");

	if (rc == -ENOENT)
		return cni_fail(e, CNI_E_UNKNOWN, "the container's network namespace does not exist",
				"CNI_NETNS %s: %s", a->env->netns, strerror(-rc));
	if (rc == -ENOTSUP)
		return cni_fail(e, CNI_E_ENV, "invalid environment variables",
				"CNI_NETNS %s: not a network namespace", a->env->netns);
	if (rc < 0)
		return cni_fail(e, CNI_E_IO, "cannot enter the container's network namespace",
				"CNI_NETNS %s: %s", a->env->netns, strerror(-rc));
	return 0;
}

int cni_cmd_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e)
{
	struct add a = { .env = env, .conf = conf };
	json_object *res;
	int rc = -1;

	if (cni_names_make(conf, env->containerid, env->ifname, &a.names, e) < 0)
		return -1;
	if (cni_nl_open(&a.host, "host") < 0)
		return cni_fail(e, CNI_E_IO, "cannot open netlink", "%s", strerror(errno));
	if (open_container(&a, e) < 0)
		goto out_host;
	/* The daemon first: when it is down nothing has been made yet. */
	if (cni_daemon_open(&a.daemon, conf->socket, conf->timeout_ms, e) < 0)
		goto out_cont;
	if (check_free(&a, e) < 0)
		goto out;
	snprintf(a.at.host_if, sizeof(a.at.host_if), "%s", a.names.host_if);
	snprintf(a.at.ifname, sizeof(a.at.ifname), "%s", env->ifname);
	a.at.sandbox = env->netns;
	if (make_veth(&a, conf->mtu ? conf->mtu : underlay_mtu(&a), e) < 0 ||
	    register_endpoint(&a, e) < 0 || configure_container(&a, e) < 0) {
		undo(&a);
		goto out;
	}
	res = cni_result_build(conf, &a.at);
	cni_result_print(res);
	json_object_put(res);
	rc = 0;
out:
	cni_daemon_close(&a.daemon);
out_cont:
	cni_nl_close(&a.cont);
out_host:
	cni_nl_close(&a.host);
	return rc;
}
