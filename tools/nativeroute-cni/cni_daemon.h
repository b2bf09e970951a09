/* nativerouted, seen from a one-shot program: each call runs a private libuv
 * loop until the client library's callback has fired, and hands back copies
 * of what the callback saw (its pointers are valid during the callback
 * only). Every failure is mapped to a CNI error: an unreachable daemon
 * (no socket, refused, lost, timed out) is "try again later" (11). */
#ifndef NR_CNI_DAEMON_H
#define NR_CNI_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>
#include <nativeroute/client.h>
#include <nativeroute/error.h>

#include "cni.h"

struct cni_daemon {
	uv_loop_t loop;
	struct nr_client *client;
	const char *socket;
};

/* What the daemon holds for an endpoint, copied. */
struct cni_endpoint {
	char id[256];
	char ifname[IFNAMSIZ];
	char ipv4[64], ipv6[64], gateway4[64], gateway6[64];
	unsigned int mtu;                    /* 0 = the daemon did not say */
};

/* Connect. -errno with e filled (11 when nobody answers). */
int cni_daemon_open(struct cni_daemon *d, const char *socket, unsigned int timeout_ms,
		    struct cni_err *e);
void cni_daemon_close(struct cni_daemon *d);

int cni_daemon_endpoint_add(struct cni_daemon *d, const char *id, const char *host_if,
			    const char *ipv4, const char *ipv6, struct cni_endpoint *out,
			    struct cni_err *e);
/* -ENOENT (without touching e) when there is no such endpoint. */
int cni_daemon_endpoint_remove(struct cni_daemon *d, const char *id, struct cni_err *e);
/* Every endpoint; *out is malloc'ed (free it). */
int cni_daemon_endpoint_list(struct cni_daemon *d, struct cni_endpoint **out, size_t *n,
			     struct cni_err *e);
/* -ENOENT (e untouched) when the daemon has no endpoint `id`. */
int cni_daemon_endpoint_get(struct cni_daemon *d, const char *id, struct cni_endpoint *out,
			    struct cni_err *e);
/* The local node's underlay addresses ("" when none). */
int cni_daemon_local_node(struct cni_daemon *d, char ipv4[64], char ipv6[64], struct cni_err *e);
int cni_daemon_status(struct cni_daemon *d, struct nr_status *st, struct cni_err *e);

#endif
