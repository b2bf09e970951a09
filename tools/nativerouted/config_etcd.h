/* nativerouted's etcd store settings (--store etcd): our flag names, the
 * Cilium names that map onto them (kvstore, kvstore-opt etcd.config=FILE,
 * cluster-name, kvstore-lease-ttl) and the etcd client config file that
 * Cilium's etcd.config points to (endpoints, trusted-ca-file, cert-file,
 * key-file, username, password). */
#ifndef NRD_CONFIG_ETCD_H
#define NRD_CONFIG_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <nativeroute/controller.h>

#define NRD_MAX_ENDPOINTS 16

struct nrd_etcd_config {
	char *endpoints[NRD_MAX_ENDPOINTS + 1]; /* NULL-terminated */
	size_t n_endpoints;
	char *prefix, *cluster_name;
	char *ca_file, *cert_file, *key_file;
	char *username, *password;
	unsigned int lease_ttl, cidr_grace;
};

void nrd_etcd_config_free(struct nrd_etcd_config *c);
/* Apply a setting by our name; returns 1 when the name is an etcd one (0:
 * not ours), -1 with a message naming origin and value. */
int nrd_etcd_config_set(struct nrd_etcd_config *c, const char *name, const char *value,
			const char *origin, char *err, size_t errlen);
/* Whether `name` is one of the etcd keys a YAML file may use. */
bool nrd_etcd_config_key(const char *name);
int nrd_etcd_config_validate(const struct nrd_etcd_config *c, char *err, size_t errlen);
void nrd_etcd_config_print(const struct nrd_etcd_config *c, FILE *out);
/* The library's options (pointers into c). */
void nrd_etcd_config_opts(const struct nrd_etcd_config *c, struct nr_etcd_opts *o);

#endif
