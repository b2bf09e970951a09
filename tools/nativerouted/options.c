#include "options.h"

#include <string.h>

/* Order is the order of --help. */
const struct nrd_option nrd_options[] = {
	{ "socket", "PATH", 0, "RPC socket (default /run/nativeroute/nativeroute.sock)" },
	{ "socket-group", "GROUP", 0, "members may change state (others: read-only)" },
	{ "state-dir", "DIR", 0, "state directory (default /var/lib/nativeroute)" },
	{ "node-name", "NAME", 0, "this node's name in the cluster" },
	{ "node-ip", "IP", 0, "this node's underlay IPv4 address" },
	{ "node-ip6", "IP", 0, "this node's underlay IPv6 address" },
	{ "netns", "NAME", 0, "manage the named network namespace (/run/netns/NAME)" },
	{ "mode", "native|tunnel|hybrid", 0, "routing mode (default native)" },
	{ "auto-direct-node-routes", NULL, 0, "route remote pod CIDRs via the node IPs" },
	{ "direct-routing-skip-unreachable", NULL, 0, "skip (not refuse) nodes behind a gateway" },
	{ "bpf", NULL, 0, "eBPF host routing: pinned route/endpoint maps\n"
			  "and a tc fast path (falls back to routes alone)" },
	{ "tunnel-protocol", "vxlan", 0, "the tunnel's encapsulation (vxlan, the only one)" },
	{ "vxlan-port", "PORT", 0, "UDP port of the VXLAN tunnel (default 8472)" },
	{ "mtu", "N", 0, "underlay MTU (default: the device's); tunnelled\n"
			 "routes and the VXLAN device get N - 50" },
	{ "ipam", "cluster-pool|kubernetes", 0, "who assigns node CIDRs (default cluster-pool)" },
	{ "cluster-cidr", "CIDR", NRD_OPT_LIST, "pod address pool, v4 or v6 (repeatable)" },
	{ "mask-size", "N", 0, "IPv4 node CIDR size (default 24)" },
	{ "mask-size6", "N", 0, "IPv6 node CIDR size (default 112)" },
	{ "pod-cidr", "CIDR", NRD_OPT_LIST, "this node's pod CIDR(s) (repeatable)" },
	{ "native-routing-cidr", "CIDR", NRD_OPT_LIST, "reachable without masquerading (v4 and/or v6)" },
	{ "enable-ipv4-masquerade", NULL, 0, "masquerade IPv4 pod traffic leaving the native-\n"
					     "routing CIDR (or the cluster CIDRs) to the egress\n"
					     "device's address, nftables (default: on when the\n"
					     "family has either CIDR)" },
	{ "enable-ipv6-masquerade", NULL, 0, "the same for IPv6" },
	{ "non-masquerade-cidr", "CIDR", NRD_OPT_LIST, "another destination never masqueraded (repeatable)" },
	{ "store", "file|etcd", 0, "file: the state dir only; etcd: nodes and CIDR\n"
				  "claims shared through etcd (docs/etcd.md)" },
	{ "etcd-endpoints", "URL,...", 0, "etcd members (http[s]://HOST:PORT), fail-over" },
	{ "cluster-name", "NAME", 0, "keys under /nativeroute/v1/NAME (default default)" },
	{ "etcd-prefix", "PREFIX", 0, "instead of /nativeroute/v1" },
	{ "etcd-lease-ttl", "SECONDS", 0, "node lease (default 15), renewed every TTL/3" },
	{ "etcd-cidr-grace", "SECONDS", 0, "a vanished node's CIDR stays held (default 300)" },
	{ "etcd-ca-file", "FILE", 0, "TLS: CA certificate" },
	{ "etcd-cert-file", "FILE", 0, "TLS: client certificate" },
	{ "etcd-key-file", "FILE", 0, "TLS: client key" },
	{ "etcd-username", "USER", 0, "etcd auth: user name" },
	{ "etcd-password-file", "FILE", 0, "etcd auth: file holding the password" },
	{ "kvstore-opt", "etcd.config=FILE", 0, "Cilium's etcd config file (endpoints, TLS)" },
	{ "allow-config-migration", NULL, 0, "accept saved state under changed cluster CIDRs,\n"
					     "mask sizes or IPAM mode: re-allocate what no\n"
					     "longer fits (otherwise the daemon refuses)" },
	{ "config", "FILE", NRD_OPT_CLI_ONLY, "YAML file of these options (or Cilium's names);\n"
					      "flags given on the command line win" },
	{ "log-level", "error|warn|info|debug", 0, "(default info)" },
	{ "max-clients", "N", 0, "concurrent RPC clients (default 128)" },
	{ "max-queue-kb", "N", 0, "unread answers/events per client before it\n"
				  "is dropped (default 8192)" },
	{ "client-timeout", "SEC", 0, "close a client whose message stays incomplete,\n"
				      "or a read-only one idle, this long (default 30)" },
	{ "endpoint-grace", "SECONDS", 0, "an endpoint whose host interface disappeared\n"
					  "is released after this long (default 30)" },
	{ "native-without-tunnel", NULL, 0, "delete nr_vxlan in native mode (by default it\n"
					    "stays as the receive side for peers that\n"
					    "switch to tunnel mode first)" },
	{ "check-config", NULL, NRD_OPT_CLI_ONLY, "print the effective configuration and exit" },
	{ "purge", NULL, NRD_OPT_CLI_ONLY, "remove every route, nexthop, neighbour/FDB entry,\n"
					   "nr_vxlan device and the nftables table inet\n"
					   "nativeroute this daemon made in the namespace\n"
					   "and its state files, then exit" },
	{ "help", NULL, NRD_OPT_CLI_ONLY, "this text" },
	{ "version", NULL, NRD_OPT_CLI_ONLY, "the version" },
	{ NULL, NULL, 0, NULL },
};

const struct nrd_option *nrd_option_find(const char *name)
{
	for (const struct nrd_option *o = nrd_options; o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

void nrd_options_usage(FILE *out)
{
	fputs("Usage: nativerouted --node-name NAME --node-ip IP [OPTION]...\n"
	      "Run the native-routing control plane of this node and serve it on a Unix socket.\n"
	      "\n", out);
	for (const struct nrd_option *o = nrd_options; o->name; o++) {
		char head[64];
		const char *h = o->help;
		int n = snprintf(head, sizeof(head), "  --%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");

		/* help lines start in column 37, or on the next line */
		fprintf(out, "%s%*s", head, n < 37 ? 37 - n : 0, "");
		if (n >= 37)
			fprintf(out, "\n%37s", "");
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(out, "%.*s\n%37s", (int)(nl - h), h, "");
		fprintf(out, "%s\n", h);
	}
	fputs("\nSIGTERM stops the daemon and leaves the routes in place. See nativerouted(8).\n",
	      out);
}
