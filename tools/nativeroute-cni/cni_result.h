/* The spec's Result object: built after ADD (merged into a prevResult when
 * we are not first in a chain), read back by CHECK. */
#ifndef NR_CNI_RESULT_H
#define NR_CNI_RESULT_H

#include "cni.h"

/* What one attachment made. */
struct cni_attachment {
	char host_if[IFNAMSIZ];
	uint8_t host_mac[6];
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint32_t mtu;
	const char *sandbox;                 /* CNI_NETNS */
	struct cni_ip ip4, gw4, ip6, gw6;    /* family 0 = not in use */
};

/* A new Result (caller owns it), in the shape of conf->ver. */
json_object *cni_result_build(const struct cni_conf *conf, const struct cni_attachment *a);

/* Print a result / an error object on stdout. */
void cni_result_print(json_object *obj);
void cni_error_print(const char *version, const struct cni_err *e);

/* From a prevResult: what ADD reported for interface `ifname` in `sandbox`
 * (addresses, gateways, the host-side name). -ENOENT when it holds no such
 * interface; -EINVAL (with e) when it is malformed. */
int cni_result_find(json_object *prev, const char *ifname, const char *sandbox,
		    struct cni_attachment *out, struct cni_err *e);

#endif
