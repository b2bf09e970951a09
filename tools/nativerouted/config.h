/* nativerouted's configuration: command-line flags (DESIGN.md §7) and the
 * YAML file of --config, which takes our flag names and, for people coming
 * from the seed's Helm command, the Cilium option names mapped onto ours. */
#ifndef NRD_CONFIG_H
#define NRD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <nativeroute/controller.h>

#include "config_etcd.h"

#define NRD_MAX_CIDRS 16

struct nrd_config {
	char *socket;
	char *state_dir;
	char *node_name;
	char *node_ip;
	char *node_ip6;
	char *netns;
	enum nr_routing_mode mode;
	bool auto_direct_node_routes;
	bool bpf;                       /* --bpf: eBPF maps + tc fast path */
	bool skip_unreachable;
	enum nr_ipam_mode ipam;
	char *cluster_cidrs[NRD_MAX_CIDRS + 1]; /* NULL-terminated */
	size_t n_cluster_cidrs;
	unsigned int mask_size;
	unsigned int mask_size6;
	char *pod_cidrs[NRD_MAX_CIDRS + 1];
	size_t n_pod_cidrs;
	char *native_routing_cidr;
	char *native_routing_cidr6;
	enum nr_switch masquerade4;   /* KEEP = the library's default */
	enum nr_switch masquerade6;
	char *non_masquerade_cidrs[NRD_MAX_CIDRS + 1]; /* NULL-terminated */
	size_t n_non_masquerade_cidrs;
	char *socket_group;
	char *store;
	unsigned int max_clients;  /* 0 = server default */
	unsigned int max_queue_kb;
	unsigned int client_timeout; /* seconds, 0 = server default */
	unsigned int endpoint_grace; /* seconds; 0 = library default (30) */
	int log_level;          /* LOG_ERR .. LOG_DEBUG */
	bool ipv4_disabled;     /* ipv4.enabled: false in the file */
	bool ipv6_disabled;     /* ipv6.enabled / enable-ipv6: false */
	char ipv6_required_by[192]; /* "file:line: enable-ipv6: true", "" = not asked */
	bool tunnel_protocol_vxlan; /* tunnel-protocol: vxlan given (the only one) */
	unsigned int vxlan_port;    /* 0 = library default (8472) */
	unsigned int mtu;           /* underlay MTU, 0 = the device's */
	bool allow_config_migration; /* saved state under changed pools/masks */
	bool native_without_tunnel;  /* no nr_vxlan receive side in native mode */
	bool purge;
	bool check_config;
	char *config_file;
	struct nrd_etcd_config etcd;  /* --store etcd (config_etcd.c) */
};

void nrd_config_init(struct nrd_config *cfg);
void nrd_config_free(struct nrd_config *cfg);

/* Apply one setting by OUR name (a long flag without "--"). `origin` names
 * where it came from for messages ("--mode", "file.yaml:3"). Returns 0 or -1
 * with a message in err. */
int nrd_config_set(struct nrd_config *cfg, const char *name, const char *value,
		   const char *origin, char *err, size_t errlen);

/* Load a YAML file. Unknown keys and contradictions are errors naming the
 * key, the file and the line. */
int nrd_config_load_file(struct nrd_config *cfg, const char *path, char *err, size_t errlen);

/* Final checks once every source is applied (required fields, families). */
int nrd_config_validate(const struct nrd_config *cfg, char *err, size_t errlen);

/* Print the effective configuration as YAML that --config accepts. */
void nrd_config_print(const struct nrd_config *cfg, FILE *out);

#endif
