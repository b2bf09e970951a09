/* DEL: release the endpoint, remove the veth pair. Best effort and
 * idempotent, as the spec requires: whatever is already gone (the endpoint,
 * the interfaces, the whole network namespace) is success. Only a daemon
 * that cannot be asked is an error (11): the address would stay allocated,
 * so the runtime must try again; the interfaces are removed regardless. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cni_daemon.h"
#include "cni_nl.h"

int cni_del_host_if(struct cni_nl *host, const char *name, struct cni_err *e)
{
	struct cni_link l;
	int rc = cni_nl_link_get(host, name, 0, &l);

	if (rc == -ENODEV)
		return 0;
	if (rc < 0)
		return cni_fail(e, CNI_E_KERNEL, "cannot read the host interface", "%s: %s", name,
				host->errmsg);
	if (strcmp(l.kind, "veth")) {
		fprintf(stderr, "%s: %s is a %s device, not our veth: left alone\n", CNI_PROG, name,
			l.kind[0] ? l.kind : "non-veth");
		return 0;
	}
	rc = cni_nl_link_del(host, l.ifindex);
	if (rc < 0 && rc != -ENODEV) /* ENODEV: went meanwhile (its namespace was deleted) */
		return cni_fail(e, CNI_E_KERNEL, "the kernel refused a change", "deleting %s: %s",
				name, host->errmsg);
	return 0;
}

int cni_cmd_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e)
{
	struct cni_err derr = { 0 };
	struct cni_names names;
	struct cni_daemon d;
	struct cni_nl host;
	int rc = 0;

	if (cni_names_make(conf, env->containerid, env->ifname, &names, e) < 0)
		return -1;
	if (cni_daemon_open(&d, conf->socket, conf->timeout_ms, &derr) == 0) {
		rc = cni_daemon_endpoint_remove(&d, names.endpoint_id, &derr);
		cni_daemon_close(&d);
		if (rc == -ENOENT)
			rc = 0;
	} else {
		rc = -1;
	}
	/* The interfaces go even when the daemon cannot be asked: the route
	 * to the pod goes with them, and a retry finds them gone. */
	if (cni_nl_open(&host, "host") < 0)
		return cni_fail(e, CNI_E_IO, "cannot open netlink", "%s", strerror(errno));
	if (cni_del_host_if(&host, names.host_if, e) < 0)
		rc = -1;
	cni_nl_close(&host);
	if (derr.code)
		*e = derr;
	return rc < 0 ? -1 : 0;
}
