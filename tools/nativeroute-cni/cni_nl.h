/* The few rtnetlink operations the plugin needs, synchronous, on a libmnl
 * socket. A socket belongs to the network namespace it was opened in, so
 * the container's side is programmed through a socket opened there
 * (cni_nl_open_in), while the process itself never leaves the host's
 * namespace. Errors carry the kernel's extended ACK text. */
#ifndef NR_CNI_NL_H
#define NR_CNI_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <net/if.h>

#include "cni.h"

struct cni_nl {
	struct mnl_socket *sock;
	uint32_t portid, seq;
	char where[64];                      /* "host" or "container": for messages */
	char errmsg[256];                    /* the last error, with the kernel's text */
};

struct cni_link {
	uint32_t ifindex;
	char name[IFNAMSIZ];
	char kind[16];
	uint32_t mtu;
	bool up;
	uint8_t mac[6];
	int32_t link_netnsid;                /* veth: the peer's namespace id, -1 if none */
};

/* Open a socket in the current namespace. -errno. */
int cni_nl_open(struct cni_nl *nl, const char *where);
/* Open a socket inside the namespace at `netns_path`: a short-lived thread
 * enters it, opens the socket and returns to its original namespace
 * (aborting the process if it cannot: nothing may run in the wrong place);
 * the calling thread never moves. -ENOENT when the namespace is gone. */
int cni_nl_open_in(struct cni_nl *nl, const char *netns_path, const char *where);
void cni_nl_close(struct cni_nl *nl);

/* -ENODEV when there is no such link. */
int cni_nl_link_get(struct cni_nl *nl, const char *name, uint32_t ifindex, struct cni_link *out);
/* A veth pair: `host` here, `peer` created directly inside the namespace of
 * `peer_netns_fd` (no window where it exists under a temporary name). */
int cni_nl_veth_add(struct cni_nl *nl, const char *host, const char *peer, int peer_netns_fd,
		    uint32_t mtu);
int cni_nl_link_del(struct cni_nl *nl, uint32_t ifindex);
/* mtu 0 = unchanged. */
int cni_nl_link_set(struct cni_nl *nl, uint32_t ifindex, bool up, uint32_t mtu);
int cni_nl_addr_add(struct cni_nl *nl, uint32_t ifindex, const struct cni_ip *ip, int plen);
/* scope: RT_SCOPE_LINK for the on-link gateway route, RT_SCOPE_UNIVERSE
 * with a gateway for the default route. dst NULL = default. */
int cni_nl_route_add(struct cni_nl *nl, int family, const struct cni_ip *dst, int dst_len,
		     const struct cni_ip *gw, uint32_t oif, uint8_t scope);

/* Queries for CHECK: 1 found, 0 not found, <0 error. */
int cni_nl_addr_has(struct cni_nl *nl, uint32_t ifindex, const struct cni_ip *ip, int plen);
int cni_nl_route_has(struct cni_nl *nl, int family, const struct cni_ip *dst, int dst_len,
		     const struct cni_ip *gw, uint32_t oif);
/* The link holding local address `ip`: 0 and *ifindex, or -EADDRNOTAVAIL. */
int cni_nl_addr_link(struct cni_nl *nl, const struct cni_ip *ip, uint32_t *ifindex);

/* DEL's part (cni_del.c), shared with GC: remove host interface `name` if it
 * is a veth (the name is derived from the attachment, but an unrelated
 * device that happens to carry it stays). Gone already is success. */
int cni_del_host_if(struct cni_nl *host, const char *name, struct cni_err *e);

#endif
