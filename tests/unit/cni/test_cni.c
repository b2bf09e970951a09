/* nativeroute-cni's pure parts: the network configuration and environment
 * it accepts or refuses (with the spec's codes), the names it derives, and
 * the Result in each version's shape, alone or appended to a prevResult. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "cni_result.h"

static int parse(const char *text, struct cni_conf *c, struct cni_err *e)
{
	memset(e, 0, sizeof(*e));
	return cni_conf_parse(text, c, e);
}

#define CONF(extra) "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"nativeroute-cni\"" extra "}"

Test(conf, defaults_and_unknown_keys_ignored)
{
	struct cni_conf c;
	struct cni_err e;

	cr_assert_eq(parse(CONF(",\"somethingElse\":{\"x\":1},\"ipMasq\":true"), &c, &e), 0, "%s", e.details);
	cr_assert_str_eq(c.socket, "/run/nativeroute/nativeroute.sock");
	cr_assert_str_eq(c.host_prefix, "nr");
	cr_assert_eq(c.mtu, 0);
	cr_assert_eq(c.timeout_ms, 10000);
	cr_assert_eq(c.ver, CNI_V100);
	cr_assert_null(c.prev);
	cni_conf_free(&c);
}

Test(conf, wrong_value_is_code_7_naming_key_and_value)
{
	static const struct { const char *text, *details; } cases[] = {
		{ CONF(",\"mtu\":\"big\""), "\"mtu\": \"big\" is not a number" },
		{ CONF(",\"mtu\":70000"), "\"mtu\": 70000 is outside 576..65535" },
		{ CONF(",\"socket\":\"rel.sock\""), "\"socket\": \"rel.sock\" is not an absolute path" },
		{ CONF(",\"socket\":5"), "\"socket\": 5 is not a string" },
		{ CONF(",\"hostInterfacePrefix\":\"toolong\""), "\"hostInterfacePrefix\": \"toolong\": 1 to 4" },
		{ CONF(",\"dns\":[]"), "\"dns\": [ ] is not an object" },
		{ CONF(",\"timeoutMs\":0"), "\"timeoutMs\": 0 is not a number" },
		{ "{\"cniVersion\":\"1.0.0\",\"name\":\"-bad\"}", "\"name\": \"-bad\": must start" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cni_conf c;
		struct cni_err e;

		cr_assert_lt(parse(cases[i].text, &c, &e), 0, "%s accepted", cases[i].text);
		cr_assert_eq(e.code, CNI_E_CONFIG, "%s: code %d", cases[i].text, e.code);
		cr_assert(strstr(e.details, cases[i].details), "%s: details \"%s\"", cases[i].text, e.details);
		cni_conf_free(&c);
	}
}

Test(conf, version_and_decode_errors)
{
	struct cni_conf c;
	struct cni_err e;

	cr_assert_lt(parse("{\"cniVersion\":\"2.0.0\",\"name\":\"n\"}", &c, &e), 0);
	cr_assert_eq(e.code, CNI_E_VERSION);
	cni_conf_free(&c);
	cr_assert_lt(parse("{\"name\":\"n\"}", &c, &e), 0, "a missing cniVersion means 0.1.0");
	cr_assert_eq(e.code, CNI_E_VERSION);
	cni_conf_free(&c);
	cr_assert_lt(parse("{\"cniVersion\":", &c, &e), 0);
	cr_assert_eq(e.code, CNI_E_DECODE);
	cni_conf_free(&c);
	cr_assert_lt(parse("[1]", &c, &e), 0);
	cr_assert_eq(e.code, CNI_E_DECODE);
	cni_conf_free(&c);
	for (int v = CNI_V030; v <= CNI_V110; v++) {
		char text[128];

		snprintf(text, sizeof(text), "{\"cniVersion\":\"%s\",\"name\":\"n\"}", cni_versions[v]);
		cr_assert_eq(parse(text, &c, &e), 0, "%s", text);
		cr_assert_eq((int)c.ver, v);
		cni_conf_free(&c);
	}
}

Test(conf, requested_ips_from_the_capability_or_args)
{
	struct cni_conf c;
	struct cni_err e;

	cr_assert_eq(parse(CONF(",\"capabilities\":{\"ips\":true},"
				"\"runtimeConfig\":{\"ips\":[\"10.0.0.9/24\",\"fd10::9/64\"]}"), &c, &e), 0, "%s", e.details);
	cr_assert_str_eq(c.want_ip4, "10.0.0.9");
	cr_assert_str_eq(c.want_ip6, "fd10::9");
	cni_conf_free(&c);
	cr_assert_eq(parse(CONF(",\"args\":{\"cni\":{\"ips\":[\"10.0.0.8\"]}}"), &c, &e), 0, "%s", e.details);
	cr_assert_str_eq(c.want_ip4, "10.0.0.8");
	cr_assert_str_eq(c.want_ip6, "");
	cni_conf_free(&c);
	cr_assert_lt(parse(CONF(",\"runtimeConfig\":{\"ips\":[\"ten\"]}"), &c, &e), 0);
	cr_assert_eq(e.code, CNI_E_CONFIG);
	cr_assert(strstr(e.details, "\"runtimeConfig.ips\"[0]: \"ten\" is not an IP address"), "%s", e.details);
	cni_conf_free(&c);
}

Test(env, cni_args_ip_and_unknown_keys)
{
	struct cni_env env;
	struct cni_err e = { 0 };

	setenv("CNI_CONTAINERID", "ctr-1", 1);
	setenv("CNI_IFNAME", "eth0", 1);
	setenv("CNI_NETNS", "/run/netns/x", 1);
	setenv("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.5/24,fd10::5", 1);
	cr_assert_eq(cni_env_load(&env, true, &e), 0, "%s", e.details);
	cr_assert_str_eq(env.want_ip4, "10.0.0.5");
	cr_assert_str_eq(env.want_ip6, "fd10::5");
	setenv("CNI_ARGS", "IP=ten", 1);
	cr_assert_lt(cni_env_load(&env, true, &e), 0);
	cr_assert_eq(e.code, CNI_E_ENV);
	cr_assert(strstr(e.details, "CNI_ARGS"));
}

Test(env, bad_variables_are_code_4_and_named)
{
	static const char *const bad[][2] = {
		{ "CNI_CONTAINERID", "" }, { "CNI_CONTAINERID", "has space" },
		{ "CNI_IFNAME", "sixteen-chars-xx" }, { "CNI_IFNAME", "a:b" }, { "CNI_NETNS", "" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cni_env env;
		struct cni_err e = { 0 };

		setenv("CNI_CONTAINERID", "ctr-1", 1);
		setenv("CNI_IFNAME", "eth0", 1);
		setenv("CNI_NETNS", "/run/netns/x", 1);
		unsetenv("CNI_ARGS");
		setenv(bad[i][0], bad[i][1], 1);
		cr_assert_lt(cni_env_load(&env, true, &e), 0, "%s=%s accepted", bad[i][0], bad[i][1]);
		cr_assert_eq(e.code, CNI_E_ENV);
		cr_assert(strstr(e.details, bad[i][0]), "%s", e.details);
	}
}

Test(names, derived_stable_and_short)
{
	struct cni_conf c;
	struct cni_names n;
	struct cni_err e = { 0 };
	char long_id[300];

	cr_assert_eq(parse(CONF(""), &c, &e), 0);
	cr_assert_eq(cni_names_make(&c, "ctr-a", "eth0", &n, &e), 0);
	cr_assert_str_eq(n.host_if, "nrb9e96a39c16", "the derivation must never change (DEL of an older ADD)");
	cr_assert_str_eq(n.endpoint_id, "cni:net1:ctr-a:eth0");
	cr_assert_eq(cni_names_make(&c, "ctr-a", "eth1", &n, &e), 0);
	cr_assert_str_neq(n.host_if, "nrb9e96a39c16");
	cni_conf_free(&c);
	cr_assert_eq(parse(CONF(",\"hostInterfacePrefix\":\"cali\""), &c, &e), 0);
	cr_assert_eq(cni_names_make(&c, "ctr-a", "eth0", &n, &e), 0);
	cr_assert_str_eq(n.host_if, "calib9e96a39c16");
	cr_assert_eq(strlen(n.host_if), 15);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	cr_assert_lt(cni_names_make(&c, long_id, "eth0", &n, &e), 0);
	cr_assert_eq(e.code, CNI_E_ENV);
	cni_conf_free(&c);
}

static struct cni_attachment attachment(void)
{
	struct cni_attachment a = { .host_if = "nrb9e96a39c16", .ifname = "eth0", .mtu = 1500,
				    .sandbox = "/run/netns/p", .host_mac = { 2, 0, 0, 0, 0, 1 },
				    .mac = { 2, 0, 0, 0, 0, 2 } };

	cni_ip_parse("10.0.0.2", &a.ip4);
	cni_ip_parse("10.0.0.1", &a.gw4);
	cni_ip_parse("fd10::2", &a.ip6);
	cni_ip_parse("fd10::1", &a.gw6);
	return a;
}

static char *result_text(const char *conf_text)
{
	struct cni_attachment a = attachment();
	struct cni_conf c;
	struct cni_err e;
	json_object *r;
	char *s;

	cr_assert_eq(parse(conf_text, &c, &e), 0, "%s", e.details);
	r = cni_result_build(&c, &a);
	s = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r);
	cni_conf_free(&c);
	return s;
}

Test(result, shape_1_0_0)
{
	char *s = result_text(CONF(",\"dns\":{\"nameservers\":[\"10.0.0.10\"]}"));

	cr_assert_str_eq(s,
		"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"nrb9e96a39c16\",\"mac\":\"02:00:00:00:00:01\"},"
		"{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:02\",\"sandbox\":\"/run/netns/p\"}],"
		"\"ips\":[{\"address\":\"10.0.0.2/32\",\"gateway\":\"10.0.0.1\",\"interface\":1},"
		"{\"address\":\"fd10::2/128\",\"gateway\":\"fd10::1\",\"interface\":1}],"
		"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\"},{\"dst\":\"::/0\",\"gw\":\"fd10::1\"}],"
		"\"dns\":{\"nameservers\":[\"10.0.0.10\"]}}");
	free(s);
}

Test(result, shape_0_4_0_has_ip_versions_1_1_0_has_mtu)
{
	char *s = result_text("{\"cniVersion\":\"0.4.0\",\"name\":\"n\"}");

	cr_assert(strstr(s, "{\"version\":\"4\",\"address\":\"10.0.0.2/32\""), "%s", s);
	cr_assert(strstr(s, "{\"version\":\"6\",\"address\":\"fd10::2/128\""), "%s", s);
	cr_assert_null(strstr(s, "\"mtu\""), "%s", s);
	free(s);
	s = result_text("{\"cniVersion\":\"1.1.0\",\"name\":\"n\"}");
	cr_assert(strstr(s, "{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:02\",\"mtu\":1500,\"sandbox\""), "%s", s);
	cr_assert_null(strstr(s, "\"version\""), "%s", s);
	free(s);
}

Test(result, appended_to_a_prev_result_with_indexes_after_its_interfaces)
{
	char *s = result_text(CONF(",\"prevResult\":{\"cniVersion\":\"1.0.0\","
				   "\"interfaces\":[{\"name\":\"a\"},{\"name\":\"b\",\"sandbox\":\"/x\"}],"
				   "\"ips\":[{\"address\":\"192.0.2.5/24\",\"interface\":1}],"
				   "\"dns\":{\"domain\":\"kept\"}}"
				   ",\"dns\":{\"domain\":\"ours\"}"));

	cr_assert(strstr(s, "{\"name\":\"a\"},{\"name\":\"b\",\"sandbox\":\"/x\"},{\"name\":\"nrb9e96a39c16\""), "%s", s);
	cr_assert(strstr(s, "{\"address\":\"192.0.2.5/24\",\"interface\":1},{\"address\":\"10.0.0.2/32\",\"gateway\":\"10.0.0.1\",\"interface\":3}"), "%s", s);
	cr_assert(strstr(s, "\"dns\":{\"domain\":\"kept\"}"), "the earlier plugin's dns stays: %s", s);
	free(s);
}

Test(result, check_reads_back_what_add_reported)
{
	struct cni_attachment a = attachment(), got;
	struct cni_conf c;
	struct cni_err e;
	json_object *r;
	char buf[64];

	cr_assert_eq(parse("{\"cniVersion\":\"0.4.0\",\"name\":\"n\"}", &c, &e), 0);
	r = cni_result_build(&c, &a);
	cr_assert_eq(cni_result_find(r, "eth0", "/run/netns/p", &got, &e), 0);
	cr_assert_str_eq(got.host_if, "nrb9e96a39c16");
	cr_assert_str_eq(cni_ip_str(&got.ip4, buf, sizeof(buf)), "10.0.0.2");
	cr_assert_str_eq(cni_ip_str(&got.gw4, buf, sizeof(buf)), "10.0.0.1");
	cr_assert_str_eq(cni_ip_str(&got.ip6, buf, sizeof(buf)), "fd10::2");
	cr_assert_str_eq(cni_ip_str(&got.gw6, buf, sizeof(buf)), "fd10::1");
	cr_assert_eq(cni_result_find(r, "eth0", "/run/netns/other", &got, &e), -ENOENT);
	cr_assert_eq(cni_result_find(r, "eth1", "/run/netns/p", &got, &e), -ENOENT);
	json_object_put(r);
	cni_conf_free(&c);
}
