/* nativeroute-cni: the CNI plugin of libnativeroute. A runtime runs it with
 * CNI_COMMAND and friends in the environment and the network configuration
 * on stdin; it answers with a Result (ADD), a version list (VERSION),
 * nothing (DEL, CHECK, STATUS, GC) or the spec's error object, always on
 * stdout, and exits non-zero on error. Logs go to stderr. See docs/cni.md. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nativeroute/version.h>

#include "cni.h"
#include "cni_result.h"

#define STDIN_MAX (4u << 20)

static char *read_stdin(struct cni_err *e)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, stdin);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			char *nb = cap >= STDIN_MAX ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				cni_fail(e, CNI_E_IO, "cannot read the network configuration",
					 "stdin: larger than %u bytes or out of memory", STDIN_MAX);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!buf || ferror(stdin)) {
		free(buf);
		cni_fail(e, CNI_E_IO, "cannot read the network configuration", "stdin: %s",
			 strerror(errno));
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static void print_version(const char *text)
{
	json_object *in = text ? json_tokener_parse(text) : NULL, *v, *out, *list;
	const char *ver = "1.1.0";

	if (in && json_object_object_get_ex(in, "cniVersion", &v) &&
	    json_object_is_type(v, json_type_string))
		ver = json_object_get_string(v);
	out = json_object_new_object();
	json_object_object_add(out, "cniVersion", json_object_new_string(ver));
	list = json_object_new_array();
	for (int i = 0; cni_versions[i]; i++)
		json_object_array_add(list, json_object_new_string(cni_versions[i]));
	json_object_object_add(out, "supportedVersions", list);
	cni_result_print(out);
	json_object_put(out);
	json_object_put(in);
}

static int usage(void)
{
	printf("%s %s: a CNI plugin (spec 1.1.0, 1.0.0, 0.4.0, 0.3.x) for nativerouted.\n"
	       "It is run by a container runtime: CNI_COMMAND=ADD|DEL|CHECK|STATUS|GC|VERSION,\n"
	       "CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS in the environment and the\n"
	       "network configuration on stdin. Configuration keys: socket, mtu, dns,\n"
	       "hostInterfacePrefix, timeoutMs; the \"ips\" capability. Installed with the\n"
	       "documentation: cni.md, examples/cni/; man nativeroute-cni.\n",
	       CNI_PROG, nr_version_string());
	return 0;
}

static int run(const char *cmd, const struct cni_conf *conf, struct cni_err *e)
{
	static const struct {
		const char *name;
		int (*fn)(const struct cni_env *, const struct cni_conf *, struct cni_err *);
		int env;                     /* 0 none, 1 container, 2 container + netns */
		enum cni_ver min;
	} cmds[] = {
		{ "ADD", cni_cmd_add, 2, CNI_V030 },      { "DEL", cni_cmd_del, 1, CNI_V030 },
		{ "CHECK", cni_cmd_check, 2, CNI_V040 },  { "STATUS", cni_cmd_status, 0, CNI_V110 },
		{ "GC", cni_cmd_gc, 0, CNI_V110 },
	};
	struct cni_env env;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(cmd, cmds[i].name))
			continue;
		if (conf->ver < cmds[i].min)
			return cni_fail(e, CNI_E_VERSION, "incompatible CNI version",
					"%s needs cniVersion %s or later, the configuration has %s",
					cmd, cni_versions[cmds[i].min], conf->version);
		memset(&env, 0, sizeof(env));
		if (cmds[i].env && cni_env_load(&env, cmds[i].env == 2, e) < 0)
			return -1;
		return cmds[i].fn(&env, conf, e);
	}
	return cni_fail(e, CNI_E_ENV, "invalid environment variables",
			"CNI_COMMAND=\"%s\": expected ADD, DEL, CHECK, STATUS, GC or VERSION", cmd);
}

int main(int argc, char **argv)
{
	struct cni_err e = { 0 };
	struct cni_conf conf = { 0 };
	const char *cmd = getenv("CNI_COMMAND");
	char *text;
	int rc;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return usage();
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("%s %s\n", CNI_PROG, nr_version_string());
		return 0;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed daemon socket is an error, not a death */
	if (!cmd || !*cmd) {
		cni_fail(&e, CNI_E_ENV, "invalid environment variables",
			 "CNI_COMMAND is not set: this program is run by a container runtime (see --help)");
		cni_error_print(NULL, &e);
		return 1;
	}
	text = read_stdin(&e);
	if (!strcmp(cmd, "VERSION")) {
		print_version(text);
		free(text);
		return 0;
	}
	rc = text ? cni_conf_parse(text, &conf, &e) : -1;
	free(text);
	if (rc == 0)
		rc = run(cmd, &conf, &e);
	if (rc < 0) {
		if (!e.code)
			cni_fail(&e, CNI_E_KERNEL, "failed", "%s", "no details");
		cni_error_print(conf.version, &e);
	}
	cni_conf_free(&conf);
	return rc < 0 ? 1 : 0;
}
