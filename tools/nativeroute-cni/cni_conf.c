/* The network configuration (stdin), the CNI_* environment, and the names
 * derived from them. Unknown configuration keys are ignored, as the spec
 * allows; known ones with a wrong type or value are refused with code 7,
 * naming the key and the value. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nativeroute/client.h>

#include "cni.h"

const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL };

int cni_fail(struct cni_err *e, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (e->code)
		return -1;
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
	return -1;
}

int cni_ip_parse(const char *text, struct cni_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (!text || !*text)
		return -EINVAL;
	if (inet_pton(AF_INET, text, ip->a) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, text, ip->a) == 1)
		ip->family = AF_INET6;
	return ip->family ? 0 : -EINVAL;
}

const char *cni_ip_str(const struct cni_ip *ip, char *buf, size_t len)
{
	if (!ip->family || !inet_ntop(ip->family, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "%s", "");
	return buf;
}

static const char *str_key(json_object *root, const char *key, struct cni_err *e, int *bad)
{
	json_object *v;

	if (!json_object_object_get_ex(root, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"%s\": %s is not a string", key, json_object_to_json_string(v));
		return NULL;
	}
	return json_object_get_string(v);
}

/* Network names: an alphanumeric, then alphanumerics, '_', '.', '-' (spec
 * section 1); the same rule as container ids. */
static bool name_ok(const char *s)
{
	if (!s || !isalnum((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static int parse_mtu(json_object *root, struct cni_conf *c, struct cni_err *e)
{
	json_object *v;
	int64_t mtu;

	if (!json_object_object_get_ex(root, "mtu", &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"mtu\": %s is not a number", json_object_to_json_string(v));
	mtu = json_object_get_int64(v);
	if (mtu < 576 || mtu > 65535) /* 576: IPv4's minimum datagram; 1280 is checked for IPv6 later */
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"mtu\": %lld is outside 576..65535", (long long)mtu);
	c->mtu = (unsigned int)mtu;
	return 0;
}

static int parse_timeout(json_object *root, struct cni_conf *c, struct cni_err *e)
{
	json_object *v;
	int64_t ms;

	c->timeout_ms = 10000;
	if (!json_object_object_get_ex(root, "timeoutMs", &v) || json_object_is_type(v, json_type_null))
		return 0;
	ms = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	if (ms < 1 || ms > 600000)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"timeoutMs\": %s is not a number of milliseconds in 1..600000",
				json_object_to_json_string(v));
	c->timeout_ms = (unsigned int)ms;
	return 0;
}

static int parse_prefix(json_object *root, struct cni_conf *c, struct cni_err *e)
{
	int bad = 0;
	const char *p = str_key(root, "hostInterfacePrefix", e, &bad);

	if (bad)
		return -1;
	if (!p)
		p = "nr";
	if (!*p || strlen(p) > 4)
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"hostInterfacePrefix\": \"%s\": 1 to 4 characters (the name must fit 15 with the 11-character hash)",
				p);
	for (const char *s = p; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
					"\"hostInterfacePrefix\": \"%s\": letters, digits, '_' and '-' only", p);
	snprintf(c->host_prefix, sizeof(c->host_prefix), "%s", p);
	return 0;
}

static int parse_objects(json_object *root, struct cni_conf *c, struct cni_err *e)
{
	static const struct { const char *key; json_type type; } objs[] = {
		{ "dns", json_type_object }, { "prevResult", json_type_object },
		{ "cni.dev/valid-attachments", json_type_array },
	};
	json_object *v[3] = { NULL, NULL, NULL };

	for (size_t i = 0; i < 3; i++) {
		if (!json_object_object_get_ex(root, objs[i].key, &v[i]) ||
		    json_object_is_type(v[i], json_type_null)) {
			v[i] = NULL;
			continue;
		}
		if (!json_object_is_type(v[i], objs[i].type))
			return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
					"\"%s\": %s is not a%s", objs[i].key,
					json_object_to_json_string(v[i]),
					objs[i].type == json_type_array ? "n array" : "n object");
	}
	c->dns = v[0];
	c->prev = v[1];
	c->valid_attachments = v[2];
	return 0;
}

/* ["10.0.0.5/24", "fd10::5"]: at most one address per family; the prefix
 * length is ours to choose (host routes), so it is dropped. */
static int parse_ips(json_object *ips, const char *where, struct cni_conf *c, struct cni_err *e)
{
	if (!json_object_is_type(ips, json_type_array))
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration", "\"%s\": %s is not an array",
				where, json_object_to_json_string(ips));
	for (size_t i = 0; i < json_object_array_length(ips); i++) {
		json_object *v = json_object_array_get_idx(ips, i);
		char buf[64], *slash;
		struct cni_ip ip;

		snprintf(buf, sizeof(buf), "%s",
			 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "");
		if ((slash = strchr(buf, '/')))
			*slash = '\0';
		if (cni_ip_parse(buf, &ip) < 0)
			return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
					"\"%s\"[%zu]: %s is not an IP address", where, i,
					json_object_to_json_string(v));
		snprintf(ip.family == AF_INET ? c->want_ip4 : c->want_ip6, sizeof(c->want_ip4), "%s", buf);
	}
	return 0;
}

static int parse_requested_ips(json_object *root, struct cni_conf *c, struct cni_err *e)
{
	json_object *rc, *args, *cni, *ips;

	if (json_object_object_get_ex(root, "args", &args) && json_object_is_type(args, json_type_object) &&
	    json_object_object_get_ex(args, "cni", &cni) && json_object_is_type(cni, json_type_object) &&
	    json_object_object_get_ex(cni, "ips", &ips) && parse_ips(ips, "args.cni.ips", c, e) < 0)
		return -1;
	if (json_object_object_get_ex(root, "runtimeConfig", &rc) && json_object_is_type(rc, json_type_object) &&
	    json_object_object_get_ex(rc, "ips", &ips) && parse_ips(ips, "runtimeConfig.ips", c, e) < 0)
		return -1;
	return 0;
}

int cni_conf_parse(const char *text, struct cni_conf *c, struct cni_err *e)
{
	enum json_tokener_error jerr;
	int bad = 0;

	memset(c, 0, sizeof(*c));
	c->root = json_tokener_parse_verbose(text, &jerr);
	if (!c->root)
		return cni_fail(e, CNI_E_DECODE, "cannot decode the network configuration",
				"stdin is not JSON: %s", json_tokener_error_desc(jerr));
	if (!json_object_is_type(c->root, json_type_object))
		return cni_fail(e, CNI_E_DECODE, "cannot decode the network configuration",
				"stdin is not a JSON object");
	c->version = str_key(c->root, "cniVersion", e, &bad);
	c->name = str_key(c->root, "name", e, &bad);
	c->type = str_key(c->root, "type", e, &bad);
	c->socket = str_key(c->root, "socket", e, &bad);
	if (bad)
		return -1;
	if (!c->version)
		c->version = "0.1.0"; /* the spec's meaning of a missing version: refused below */
	c->ver = (enum cni_ver)-1;
	for (int i = 0; cni_versions[i]; i++)
		if (!strcmp(cni_versions[i], c->version))
			c->ver = (enum cni_ver)i;
	if ((int)c->ver < 0)
		return cni_fail(e, CNI_E_VERSION, "incompatible CNI version",
				"cniVersion \"%s\" is not supported (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)",
				c->version);
	if (!name_ok(c->name))
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"name\": \"%s\": must start with a letter or digit, then letters, digits, '_', '.', '-'",
				c->name ? c->name : "");
	if (!c->socket)
		c->socket = NR_CLIENT_DEFAULT_SOCKET;
	if (*c->socket != '/')
		return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
				"\"socket\": \"%s\" is not an absolute path", c->socket);
	if (parse_mtu(c->root, c, e) < 0 || parse_timeout(c->root, c, e) < 0 ||
	    parse_prefix(c->root, c, e) < 0 || parse_objects(c->root, c, e) < 0 ||
	    parse_requested_ips(c->root, c, e) < 0)
		return -1;
	return 0;
}

void cni_conf_free(struct cni_conf *c)
{
	json_object_put(c->root);
	c->root = NULL;
}

/* ---- environment ----------------------------------------------------------- */

static int env_fail(struct cni_err *e, const char *var, const char *why)
{
	const char *v = getenv(var);

	return cni_fail(e, CNI_E_ENV, "invalid environment variables", "%s=\"%s\": %s", var,
			v ? v : "", why);
}

/* CNI_ARGS: "K=V;K=V". IP= asks for an address (as the static IPAM plugin
 * and `cnitool` use it); K8S_POD_* and everything else is accepted and
 * ignored (runtimes pass IgnoreUnknown=1 with keys meant for others). */
static int parse_args(struct cni_env *env, struct cni_err *e)
{
	char *save = NULL, *kv;

	if (!env->args || !*env->args)
		return 0;
	if (strlen(env->args) >= sizeof(env->args_buf))
		return env_fail(e, "CNI_ARGS", "too long");
	snprintf(env->args_buf, sizeof(env->args_buf), "%s", env->args);
	for (kv = strtok_r(env->args_buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');
		struct cni_ip ip;

		if (!eq || eq == kv)
			return env_fail(e, "CNI_ARGS", "expected KEY=VALUE pairs separated by ';'");
		*eq = '\0';
		if (strcmp(kv, "IP"))
			continue;
		/* IP=10.0.0.5 or IP=10.0.0.5,fd00::5 (one per family) */
		for (char *ips = eq + 1, *tok, *s2 = NULL; (tok = strtok_r(ips, ",", &s2)); ips = NULL) {
			char *slash = strchr(tok, '/');

			if (slash) /* "10.0.0.5/24": the prefix is ours to choose */
				*slash = '\0';
			if (cni_ip_parse(tok, &ip) < 0)
				return env_fail(e, "CNI_ARGS", "IP= is not an IP address");
			if (ip.family == AF_INET)
				env->want_ip4 = tok;
			else
				env->want_ip6 = tok;
		}
	}
	return 0;
}

int cni_env_load(struct cni_env *env, bool need_netns, struct cni_err *e)
{
	memset(env, 0, sizeof(*env));
	env->command = getenv("CNI_COMMAND");
	env->containerid = getenv("CNI_CONTAINERID");
	env->netns = getenv("CNI_NETNS");
	env->ifname = getenv("CNI_IFNAME");
	env->args = getenv("CNI_ARGS");
	env->path = getenv("CNI_PATH");
	if (!name_ok(env->containerid))
		return env_fail(e, "CNI_CONTAINERID",
				"must start with a letter or digit, then letters, digits, '_', '.', '-'");
	if (!env->ifname || !*env->ifname || strlen(env->ifname) >= IFNAMSIZ ||
	    strpbrk(env->ifname, "/: \t\n") || !strcmp(env->ifname, ".") || !strcmp(env->ifname, ".."))
		return env_fail(e, "CNI_IFNAME", "not a valid interface name (1..15 characters, no '/', ':' or space)");
	if (need_netns && (!env->netns || !*env->netns))
		return env_fail(e, "CNI_NETNS", "required");
	if (env->netns && !*env->netns)
		env->netns = NULL;
	return parse_args(env, e);
}

/* ---- names ----------------------------------------------------------------- */

/* FNV-1a, 64 bit: stable across versions and machines, which is all the
 * host-side name needs (it is found again by DEL from the same inputs). */
static uint64_t fnv1a(const char *a, const char *b)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *s = a; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	h = (h ^ (uint8_t)'/') * 0x100000001b3ull;
	for (const char *s = b; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

void cni_names_prefix(const struct cni_conf *conf, char *buf, size_t len)
{
	snprintf(buf, len, "cni:%s:", conf->name);
}

int cni_names_make(const struct cni_conf *conf, const char *containerid, const char *ifname,
		   struct cni_names *out, struct cni_err *e)
{
	int n;

	/* 44 bits of the hash in 11 hex digits: prefix (<= 4) + 11 <= 15. */
	snprintf(out->host_if, sizeof(out->host_if), "%.4s%011llx", conf->host_prefix,
		 (unsigned long long)(fnv1a(containerid, ifname) >> 20));
	n = snprintf(out->endpoint_id, sizeof(out->endpoint_id), "cni:%s:%s:%s", conf->name,
		     containerid, ifname);
	if (n < 0 || (size_t)n >= sizeof(out->endpoint_id))
		return cni_fail(e, CNI_E_ENV, "invalid environment variables",
				"CNI_CONTAINERID (%zu characters) with network \"%s\" and CNI_IFNAME makes an endpoint id longer than 255",
				strlen(containerid), conf->name);
	return 0;
}
