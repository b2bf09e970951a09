/* CHECK: is the attachment still as ADD reported it (the prevResult)? The
 * container's interface (present, up, a veth), its addresses and our three
 * routes per family, the host side, and the daemon's endpoint (same
 * interface, same address). Any difference is an error naming it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "cni_daemon.h"
#include "cni_nl.h"
#include "cni_result.h"

static int drift(struct cni_err *e, const char *fmt, const char *a, const char *b)
{
	return cni_fail(e, CNI_E_DRIFT, "the attachment is not as ADD left it", fmt, a, b);
}

static int check_family(struct cni_nl *nl, uint32_t ifindex, const char *ifname,
			const struct cni_ip *ip, const struct cni_ip *gw, struct cni_err *e)
{
	int bits = ip->family == AF_INET ? 32 : 128, rc;
	char s[64], g[64];

	if (!ip->family)
		return 0;
	cni_ip_str(ip, s, sizeof(s));
	cni_ip_str(gw, g, sizeof(g));
	rc = cni_nl_addr_has(nl, ifindex, ip, bits);
	if (rc == 0)
		return drift(e, "address %s is missing from %s in the container", s, ifname);
	if (gw->family) {
		if (rc > 0)
			rc = cni_nl_route_has(nl, ip->family, gw, bits, NULL, ifindex);
		if (rc == 0)
			return drift(e, "the on-link route to gateway %s via %s is missing in the container", g, ifname);
		if (rc > 0)
			rc = cni_nl_route_has(nl, ip->family, NULL, 0, gw, ifindex);
		if (rc == 0)
			return drift(e, "the default route via %s dev %s is missing in the container", g, ifname);
	}
	if (rc < 0)
		return cni_fail(e, CNI_E_KERNEL, "cannot read the container's state", "%s", nl->errmsg);
	return 0;
}

static int check_container(const struct cni_env *env, const struct cni_attachment *want,
			   struct cni_err *e)
{
	struct cni_nl nl;
	struct cni_link l;
	int rc;

	rc = cni_nl_open_in(&nl, env->netns, "container");
	if (rc < 0)
		return cni_fail(e, CNI_E_UNKNOWN, "the container's network namespace is gone",
				"CNI_NETNS %s: %s", env->netns, strerror(-rc));
	rc = cni_nl_link_get(&nl, env->ifname, 0, &l);
	if (rc == -ENODEV)
		drift(e, "interface %s is missing from %s", env->ifname, env->netns);
	else if (rc < 0)
		cni_fail(e, CNI_E_KERNEL, "cannot read the container's state", "%s", nl.errmsg);
	else if (strcmp(l.kind, "veth"))
		drift(e, "interface %s is a %s device, not a veth", env->ifname, l.kind);
	else if (!l.up)
		drift(e, "interface %s is down%s", env->ifname, "");
	if (e->code == 0)
		check_family(&nl, l.ifindex, env->ifname, &want->ip4, &want->gw4, e);
	if (e->code == 0)
		check_family(&nl, l.ifindex, env->ifname, &want->ip6, &want->gw6, e);
	cni_nl_close(&nl);
	return e->code ? -1 : 0;
}

static int check_host(const struct cni_names *names, struct cni_err *e)
{
	struct cni_nl nl;
	struct cni_link l;
	int rc;

	if (cni_nl_open(&nl, "host") < 0)
		return cni_fail(e, CNI_E_IO, "cannot open netlink", "%s", strerror(errno));
	rc = cni_nl_link_get(&nl, names->host_if, 0, &l);
	if (rc == -ENODEV)
		drift(e, "host interface %s is missing%s", names->host_if, "");
	else if (rc < 0)
		cni_fail(e, CNI_E_KERNEL, "cannot read the host's state", "%s", nl.errmsg);
	else if (!l.up)
		drift(e, "host interface %s is down%s", names->host_if, "");
	cni_nl_close(&nl);
	return e->code ? -1 : 0;
}

static int check_daemon(const struct cni_conf *conf, const struct cni_names *names,
			const struct cni_attachment *want, struct cni_err *e)
{
	struct cni_endpoint ep;
	struct cni_daemon d;
	char s[64];
	int rc;

	if (cni_daemon_open(&d, conf->socket, conf->timeout_ms, e) < 0)
		return -1;
	rc = cni_daemon_endpoint_get(&d, names->endpoint_id, &ep, e);
	cni_daemon_close(&d);
	if (rc == -ENOENT)
		return drift(e, "nativerouted has no endpoint %s%s", names->endpoint_id, "");
	if (rc < 0)
		return -1;
	if (strcmp(ep.ifname, names->host_if))
		return drift(e, "nativerouted's endpoint is on %s, not %s", ep.ifname, names->host_if);
	if (want->ip4.family && strcmp(ep.ipv4, cni_ip_str(&want->ip4, s, sizeof(s))))
		return drift(e, "nativerouted's endpoint has address %s, not %s", ep.ipv4, s);
	if (want->ip6.family && strcmp(ep.ipv6, cni_ip_str(&want->ip6, s, sizeof(s))))
		return drift(e, "nativerouted's endpoint has address %s, not %s", ep.ipv6, s);
	return 0;
}

int cni_cmd_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e)
{
	struct cni_attachment want;
	struct cni_names names;
	int rc;

	if (cni_names_make(conf, env->containerid, env->ifname, &names, e) < 0)
		return -1;
	if (!conf->prev)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"CHECK needs the ADD result in \"prevResult\"%s", "");
	rc = cni_result_find(conf->prev, env->ifname, env->netns, &want, e);
	if (rc == -ENOENT)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"prevResult has no interface %s in sandbox %s", env->ifname, env->netns);
	if (rc < 0)
		return -1;
	if (!want.ip4.family && !want.ip6.family)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"prevResult has no address on %s", env->ifname);
	if (check_container(env, &want, e) < 0 || check_host(&names, e) < 0 ||
	    check_daemon(conf, &names, &want, e) < 0)
		return -1;
	return 0;
}
