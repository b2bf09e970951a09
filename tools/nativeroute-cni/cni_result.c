#include "cni_result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static json_object *iface(const struct cni_conf *conf, const char *name, const uint8_t mac[6],
			  uint32_t mtu, const char *sandbox)
{
	json_object *o = json_object_new_object();
	char m[18];

	mac_str(mac, m);
	add_str(o, "name", name);
	add_str(o, "mac", m);
	if (conf->ver >= CNI_V110 && mtu) /* "mtu" is a 1.1.0 field */
		json_object_object_add(o, "mtu", json_object_new_int64(mtu));
	if (sandbox)
		add_str(o, "sandbox", sandbox);
	return o;
}

static void add_family(const struct cni_conf *conf, json_object *ips, json_object *routes,
		       const struct cni_ip *ip, const struct cni_ip *gw, int index)
{
	char a[64], g[64], cidr[80];
	json_object *o, *r;

	if (!ip->family)
		return;
	cni_ip_str(ip, a, sizeof(a));
	cni_ip_str(gw, g, sizeof(g));
	snprintf(cidr, sizeof(cidr), "%s/%d", a, ip->family == AF_INET ? 32 : 128);
	o = json_object_new_object();
	if (conf->ver < CNI_V100) /* 0.3.x and 0.4.0 name the family */
		add_str(o, "version", ip->family == AF_INET ? "4" : "6");
	add_str(o, "address", cidr);
	if (gw->family)
		add_str(o, "gateway", g);
	json_object_object_add(o, "interface", json_object_new_int(index));
	json_object_array_add(ips, o);
	if (!gw->family)
		return;
	r = json_object_new_object();
	add_str(r, "dst", ip->family == AF_INET ? "0.0.0.0/0" : "::/0");
	add_str(r, "gw", g);
	json_object_array_add(routes, r);
}

/* prevResult's array `key`, created when absent. */
static json_object *array_of(json_object *res, const char *key)
{
	json_object *a;

	if (json_object_object_get_ex(res, key, &a) && json_object_is_type(a, json_type_array))
		return a;
	a = json_object_new_array();
	json_object_object_add(res, key, a);
	return a;
}

json_object *cni_result_build(const struct cni_conf *conf, const struct cni_attachment *at)
{
	json_object *res = NULL, *ifs, *ips, *routes, *dns = NULL; /* deep_copy wants NULL targets */
	int index;

	/* Not first in the chain: keep what the plugins before us reported and
	 * add ours, with interface indexes counted after theirs. */
	if (conf->prev && json_object_deep_copy(conf->prev, &res, NULL) < 0)
		res = NULL;
	if (!res)
		res = json_object_new_object();
	add_str(res, "cniVersion", conf->version);
	ifs = array_of(res, "interfaces");
	json_object_array_add(ifs, iface(conf, at->host_if, at->host_mac, at->mtu, NULL));
	index = (int)json_object_array_length(ifs);
	json_object_array_add(ifs, iface(conf, at->ifname, at->mac, at->mtu, at->sandbox));
	ips = array_of(res, "ips");
	routes = array_of(res, "routes");
	add_family(conf, ips, routes, &at->ip4, &at->gw4, index);
	add_family(conf, ips, routes, &at->ip6, &at->gw6, index);
	if (conf->dns && !json_object_object_get_ex(res, "dns", NULL) &&
	    json_object_deep_copy(conf->dns, &dns, NULL) == 0)
		json_object_object_add(res, "dns", dns);
	return res;
}

void cni_result_print(json_object *obj)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
	      stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

void cni_error_print(const char *version, const struct cni_err *e)
{
	json_object *o = json_object_new_object();

	add_str(o, "cniVersion", version ? version : "1.1.0");
	json_object_object_add(o, "code", json_object_new_int(e->code));
	add_str(o, "msg", e->msg);
	if (e->details[0])
		add_str(o, "details", e->details);
	cni_result_print(o);
	json_object_put(o);
}

/* ---- reading a prevResult (CHECK) ------------------------------------------- */

static const char *get_str(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static int bad(struct cni_err *e, const char *what)
{
	cni_fail(e, CNI_E_CONFIG, "invalid prevResult", "prevResult: %s", what);
	return -EINVAL;
}

static int find_ips(json_object *prev, int index, struct cni_attachment *out, struct cni_err *e)
{
	json_object *ips, *ip, *v;

	if (!json_object_object_get_ex(prev, "ips", &ips))
		return 0;
	if (!json_object_is_type(ips, json_type_array))
		return bad(e, "\"ips\" is not an array");
	for (size_t i = 0; i < json_object_array_length(ips); i++) {
		const char *addr, *gw;
		char buf[80], *slash;
		struct cni_ip a, g = { 0 };

		ip = json_object_array_get_idx(ips, i);
		if (!json_object_object_get_ex(ip, "interface", &v) || json_object_get_int(v) != index)
			continue;
		addr = get_str(ip, "address");
		gw = get_str(ip, "gateway");
		if (!addr)
			return bad(e, "an ips entry has no \"address\"");
		snprintf(buf, sizeof(buf), "%s", addr);
		if ((slash = strchr(buf, '/')))
			*slash = '\0';
		if (cni_ip_parse(buf, &a) < 0 || (gw && cni_ip_parse(gw, &g) < 0))
			return bad(e, "an ips entry holds something that is not an address");
		if (a.family == AF_INET) {
			out->ip4 = a;
			out->gw4 = g;
		} else {
			out->ip6 = a;
			out->gw6 = g;
		}
	}
	return 0;
}

int cni_result_find(json_object *prev, const char *ifname, const char *sandbox,
		    struct cni_attachment *out, struct cni_err *e)
{
	json_object *ifs, *o;
	int index = -1;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(prev, "interfaces", &ifs))
		return -ENOENT;
	if (!json_object_is_type(ifs, json_type_array))
		return bad(e, "\"interfaces\" is not an array");
	for (size_t i = 0; i < json_object_array_length(ifs); i++) {
		const char *name, *sb;

		o = json_object_array_get_idx(ifs, i);
		name = get_str(o, "name");
		sb = get_str(o, "sandbox");
		if (name && !strcmp(name, ifname) && sb && !strcmp(sb, sandbox)) {
			index = (int)i;
			/* ours put the host side just before the container side */
			if (i > 0 && (name = get_str(json_object_array_get_idx(ifs, i - 1), "name")))
				snprintf(out->host_if, sizeof(out->host_if), "%s", name);
		}
	}
	if (index < 0)
		return -ENOENT;
	snprintf(out->ifname, sizeof(out->ifname), "%s", ifname);
	out->sandbox = sandbox;
	return find_ips(prev, index, out, e);
}
