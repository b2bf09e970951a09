/* The two 1.1.0 verbs that concern the network rather than one container.
 * STATUS: can ADD succeed now (the daemon answers and has started)?
 * GC: release every endpoint of this network that the runtime no longer
 * lists as a valid attachment, with its host interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni_daemon.h"
#include "cni_nl.h"

int cni_cmd_status(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e)
{
	struct nr_status st = { .sz = sizeof(st) };
	struct cni_err derr = { 0 };
	struct cni_daemon d;
	int rc;

	(void)env;
	if (cni_daemon_open(&d, conf->socket, conf->timeout_ms, &derr) < 0)
		return cni_fail(e, CNI_E_UNAVAILABLE, "the plugin is not available", "%s",
				derr.details);
	rc = cni_daemon_status(&d, &st, &derr);
	cni_daemon_close(&d);
	if (rc < 0)
		return cni_fail(e, CNI_E_UNAVAILABLE, "the plugin is not available", "%s",
				derr.details);
	if (!st.started)
		return cni_fail(e, CNI_E_UNAVAILABLE, "the plugin is not available",
				"nativerouted at %s has not finished its first reconcile pass",
				conf->socket);
	return 0;
}

/* Is (containerid, ifname) in cni.dev/valid-attachments? */
static bool still_valid(json_object *valid, const char *cid, const char *ifname)
{
	for (size_t i = 0; valid && i < json_object_array_length(valid); i++) {
		json_object *o = json_object_array_get_idx(valid, i), *c, *f;

		if (json_object_object_get_ex(o, "containerID", &c) &&
		    json_object_object_get_ex(o, "ifname", &f) &&
		    !strcmp(json_object_get_string(c), cid) && !strcmp(json_object_get_string(f), ifname))
			return true;
	}
	return false;
}

static int check_valid_list(json_object *valid, struct cni_err *e)
{
	for (size_t i = 0; valid && i < json_object_array_length(valid); i++) {
		json_object *o = json_object_array_get_idx(valid, i), *c, *f;

		if (!json_object_is_type(o, json_type_object) ||
		    !json_object_object_get_ex(o, "containerID", &c) ||
		    !json_object_is_type(c, json_type_string) ||
		    !json_object_object_get_ex(o, "ifname", &f) || !json_object_is_type(f, json_type_string))
			return cni_fail(e, CNI_E_CONFIG, "invalid network configuration",
					"\"cni.dev/valid-attachments\"[%zu]: %s is not {\"containerID\": str, \"ifname\": str}",
					i, json_object_to_json_string(o));
	}
	return 0;
}

/* One stale endpoint "cni:<net>:<cid>:<ifname>": release it, remove its veth. */
static int collect(struct cni_daemon *d, struct cni_nl *host, const struct cni_conf *conf,
		   const char *id, const char *rest, struct cni_err *e)
{
	char cid[256], *ifname;
	struct cni_names names;
	int rc;

	snprintf(cid, sizeof(cid), "%s", rest);
	ifname = strchr(cid, ':');
	if (!ifname)
		return 0; /* not an id we made */
	*ifname++ = '\0';
	if (still_valid(conf->valid_attachments, cid, ifname))
		return 0;
	if (cni_names_make(conf, cid, ifname, &names, e) < 0)
		return -1;
	fprintf(stderr, "%s: GC: releasing %s (%s)\n", CNI_PROG, id, names.host_if);
	rc = cni_daemon_endpoint_remove(d, id, e);
	if (rc < 0 && rc != -ENOENT)
		return -1;
	return cni_del_host_if(host, names.host_if, e);
}

int cni_cmd_gc(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e)
{
	struct cni_endpoint *eps = NULL;
	struct cni_daemon d;
	struct cni_nl host;
	char prefix[128];
	size_t n = 0, plen;
	int rc = 0;

	(void)env;
	if (check_valid_list(conf->valid_attachments, e) < 0)
		return -1;
	cni_names_prefix(conf, prefix, sizeof(prefix));
	plen = strlen(prefix);
	if (cni_daemon_open(&d, conf->socket, conf->timeout_ms, e) < 0)
		return -1;
	if (cni_nl_open(&host, "host") < 0) {
		cni_daemon_close(&d);
		return cni_fail(e, CNI_E_IO, "cannot open netlink", "%s", strerror(errno));
	}
	if (cni_daemon_endpoint_list(&d, &eps, &n, e) < 0)
		rc = -1;
	/* Keep going after an error: remove as much as possible (spec), report
	 * the first failure. */
	for (size_t i = 0; i < n; i++)
		if (!strncmp(eps[i].id, prefix, plen) &&
		    collect(&d, &host, conf, eps[i].id, eps[i].id + plen, e) < 0)
			rc = -1;
	free(eps);
	cni_nl_close(&host);
	cni_daemon_close(&d);
	return rc;
}
