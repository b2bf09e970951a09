/* nativeroute-cni: a CNI plugin (spec 1.1.0, 1.0.0, 0.4.0, 0.3.x) that gives
 * a container its network from nativerouted. Shared types of the plugin's
 * files; nothing here is installed. */
#ifndef NR_CNI_H
#define NR_CNI_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <net/if.h>

#define CNI_PROG "nativeroute-cni"

/* Well-known error codes of the spec, and ours (100+). */
enum cni_code {
	CNI_E_VERSION = 1,    /* incompatible CNI version */
	CNI_E_FIELD = 2,      /* unsupported field */
	CNI_E_UNKNOWN = 3,    /* container unknown or does not exist */
	CNI_E_ENV = 4,        /* invalid environment variables */
	CNI_E_IO = 5,         /* I/O failure */
	CNI_E_DECODE = 6,     /* failed to decode content */
	CNI_E_CONFIG = 7,     /* invalid network config */
	CNI_E_AGAIN = 11,     /* try again later (daemon unreachable) */
	CNI_E_UNAVAILABLE = 50, /* STATUS: cannot service ADD */
	CNI_E_EXISTS = 100,   /* the attachment (or its interface) already exists */
	CNI_E_DAEMON = 101,   /* nativerouted refused the request */
	CNI_E_DRIFT = 102,    /* CHECK: the attachment is not as ADD left it */
	CNI_E_KERNEL = 103,   /* the kernel refused a change */
};

struct cni_err {
	int code;             /* 0 = no error */
	char msg[128];        /* short: what failed */
	char details[768];    /* long: with which value and why */
};

/* Record an error (the first one wins: later ones are usually consequences)
 * and return -1. */
int cni_fail(struct cni_err *e, int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Result shapes: 0.3.x/0.4.0 have "version" in ips, 1.1.0 adds "mtu" on
 * interfaces. Ordered: comparisons are meaningful. */
enum cni_ver { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110 };
extern const char *const cni_versions[]; /* indexed by enum cni_ver, NULL-terminated */

/* The CNI_* environment. */
struct cni_env {
	const char *command, *containerid, *netns, *ifname, *args, *path;
	const char *want_ip4, *want_ip6;     /* CNI_ARGS IP=... (as the static plugin) */
	char args_buf[1024];
};

/* The network configuration given on stdin. */
struct cni_conf {
	json_object *root;                   /* owns everything below */
	const char *version;
	enum cni_ver ver;
	const char *name, *type;
	const char *socket;                  /* daemon socket */
	unsigned int mtu;                    /* 0 = the daemon's / the underlay's */
	unsigned int timeout_ms;             /* per daemon call */
	char host_prefix[8];                 /* host-side veth name prefix */
	json_object *dns;                    /* or NULL */
	json_object *prev;                   /* prevResult or NULL */
	json_object *valid_attachments;      /* GC: cni.dev/valid-attachments */
	/* Requested addresses: the "ips" capability (runtimeConfig.ips) or
	 * args.cni.ips (CNI CONVENTIONS.md); CNI_ARGS IP= wins over both. */
	char want_ip4[64], want_ip6[64];
};

int cni_conf_parse(const char *text, struct cni_conf *conf, struct cni_err *e);
void cni_conf_free(struct cni_conf *conf);
int cni_env_load(struct cni_env *env, bool need_netns, struct cni_err *e);

/* An address of either family. */
struct cni_ip {
	int family;                          /* 0 = none */
	uint8_t a[16];
};
int cni_ip_parse(const char *text, struct cni_ip *ip);
const char *cni_ip_str(const struct cni_ip *ip, char *buf, size_t len);

/* Names of an attachment, all derived from (network, container id, ifname). */
struct cni_names {
	char host_if[IFNAMSIZ];              /* host-side veth */
	char endpoint_id[256];               /* the daemon's endpoint id */
};
int cni_names_make(const struct cni_conf *conf, const char *containerid, const char *ifname,
		   struct cni_names *out, struct cni_err *e);
/* "cni:<network>:" - every endpoint id of this network starts with it. */
void cni_names_prefix(const struct cni_conf *conf, char *buf, size_t len);

/* The operations (cni_add.c, cni_del.c, cni_check.c, cni_gc.c). Each prints
 * its result on success; on failure e says why and the caller prints it. */
int cni_cmd_add(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e);
int cni_cmd_del(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e);
int cni_cmd_check(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e);
int cni_cmd_status(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e);
int cni_cmd_gc(const struct cni_env *env, const struct cni_conf *conf, struct cni_err *e);

#endif
