#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <yaml.h>

#include "ipc/rpc_codec.h"

#include "options.h"

#define DEFAULT_SOCKET "/run/nativeroute/nativeroute.sock"
#define DEFAULT_STATE_DIR "/var/lib/nativeroute"

/* Messages quote what the user gave; they are printed as valid UTF-8
 * without control bytes whatever that was (\xNN otherwise). */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	nr_rpc_clean_text(err, errlen, raw);
	return -1;
}

static void set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
}

void nrd_config_init(struct nrd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket = strdup(DEFAULT_SOCKET);
	cfg->state_dir = strdup(DEFAULT_STATE_DIR);
	cfg->mode = NR_MODE_NATIVE;
	cfg->ipam = NR_IPAM_CLUSTER_POOL;
	cfg->store = strdup("file");
	cfg->log_level = LOG_INFO;
}

void nrd_config_free(struct nrd_config *cfg)
{
	char **strs[] = { &cfg->socket, &cfg->state_dir, &cfg->node_name, &cfg->node_ip,
			  &cfg->node_ip6, &cfg->netns, &cfg->native_routing_cidr,
			  &cfg->native_routing_cidr6, &cfg->socket_group, &cfg->store,
			  &cfg->config_file };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	for (size_t i = 0; i < cfg->n_cluster_cidrs; i++)
		free(cfg->cluster_cidrs[i]);
	for (size_t i = 0; i < cfg->n_pod_cidrs; i++)
		free(cfg->pod_cidrs[i]);
	for (size_t i = 0; i < cfg->n_non_masquerade_cidrs; i++)
		free(cfg->non_masquerade_cidrs[i]);
	cfg->n_cluster_cidrs = cfg->n_pod_cidrs = cfg->n_non_masquerade_cidrs = 0;
	nrd_etcd_config_free(&cfg->etcd);
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int parse_uint(const char *v, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > max || v[0] == '-')
		return -1;
	*out = (unsigned int)n;
	return 0;
}

static int add_cidr(char **list, size_t *n, const char *value, const char *origin, char *err,
		    size_t errlen)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(list[i], value) == 0)
			return 0;
	if (*n >= NRD_MAX_CIDRS)
		return fail(err, errlen, "%s: more than %d CIDRs", origin, NRD_MAX_CIDRS);
	list[(*n)++] = strdup(value);
	list[*n] = NULL;
	return 0;
}

static const char *const log_levels[] = { [LOG_ERR] = "error", [LOG_WARNING] = "warn",
					  [LOG_INFO] = "info", [LOG_DEBUG] = "debug" };

int nrd_config_set(struct nrd_config *cfg, const char *name, const char *value,
		   const char *origin, char *err, size_t errlen)
{
	if (!value)
		value = "true"; /* a bare boolean flag */
	if (!strcmp(name, "socket")) {
		set_str(&cfg->socket, value);
	} else if (!strcmp(name, "state-dir")) {
		set_str(&cfg->state_dir, value);
	} else if (!strcmp(name, "node-name")) {
		set_str(&cfg->node_name, value);
	} else if (!strcmp(name, "node-ip")) {
		set_str(&cfg->node_ip, value);
	} else if (!strcmp(name, "node-ip6")) {
		set_str(&cfg->node_ip6, value);
	} else if (!strcmp(name, "netns")) {
		set_str(&cfg->netns, value);
	} else if (!strcmp(name, "mode")) {
		if (nr_routing_mode_parse(value, &cfg->mode) < 0)
			return fail(err, errlen, "%s: mode \"%s\": expected native, tunnel or hybrid",
				    origin, value);
	} else if (!strcmp(name, "auto-direct-node-routes")) {
		if (parse_bool(value, &cfg->auto_direct_node_routes) < 0)
			return fail(err, errlen, "%s: \"%s\" is not true or false", origin, value);
	} else if (!strcmp(name, "direct-routing-skip-unreachable")) {
		if (parse_bool(value, &cfg->skip_unreachable) < 0)
			return fail(err, errlen, "%s: \"%s\" is not true or false", origin, value);
	} else if (!strcmp(name, "bpf")) {
		if (parse_bool(value, &cfg->bpf) < 0)
			return fail(err, errlen, "%s: \"%s\" is not true or false", origin, value);
	} else if (!strcmp(name, "allow-config-migration")) {
		if (parse_bool(value, &cfg->allow_config_migration) < 0)
			return fail(err, errlen, "%s: \"%s\" is not true or false", origin, value);
	} else if (!strcmp(name, "ipam")) {
		if (nr_ipam_mode_parse(value, &cfg->ipam) < 0)
			return fail(err, errlen, "%s: ipam \"%s\": expected cluster-pool or kubernetes",
				    origin, value);
	} else if (!strcmp(name, "cluster-cidr")) {
		return add_cidr(cfg->cluster_cidrs, &cfg->n_cluster_cidrs, value, origin, err, errlen);
	} else if (!strcmp(name, "pod-cidr")) {
		return add_cidr(cfg->pod_cidrs, &cfg->n_pod_cidrs, value, origin, err, errlen);
	} else if (!strcmp(name, "mask-size")) {
		if (parse_uint(value, 32, &cfg->mask_size) < 0 || !cfg->mask_size)
			return fail(err, errlen, "%s: mask size \"%s\": expected 1..32", origin, value);
	} else if (!strcmp(name, "mask-size6")) {
		if (parse_uint(value, 128, &cfg->mask_size6) < 0 || !cfg->mask_size6)
			return fail(err, errlen, "%s: mask size \"%s\": expected 1..128", origin, value);
	} else if (!strcmp(name, "native-routing-cidr")) {
		set_str(strchr(value, ':') ? &cfg->native_routing_cidr6 : &cfg->native_routing_cidr,
			value);
	} else if (!strcmp(name, "enable-ipv4-masquerade") ||
		   !strcmp(name, "enable-ipv6-masquerade")) {
		bool on;

		if (parse_bool(value, &on) < 0)
			return fail(err, errlen, "%s: \"%s\" is not true or false", origin, value);
		*(!strcmp(name, "enable-ipv4-masquerade") ? &cfg->masquerade4 : &cfg->masquerade6) =
			on ? NR_SWITCH_ON : NR_SWITCH_OFF;
	} else if (!strcmp(name, "non-masquerade-cidr")) {
		return add_cidr(cfg->non_masquerade_cidrs, &cfg->n_non_masquerade_cidrs, value, origin,
				err, errlen);
	} else if (!strcmp(name, "socket-group")) {
		set_str(&cfg->socket_group, value);
	} else if (!strcmp(name, "store")) {
		/* file: the state dir only; etcd: shared nodes and CIDR claims
		 * (the state dir stays this node's cache) */
		if (strcmp(value, "file") != 0 && strcmp(value, "etcd") != 0)
			return fail(err, errlen, "%s: store \"%s\": expected file or etcd", origin,
				    value);
		set_str(&cfg->store, value);
	} else if (nrd_etcd_config_key(name)) {
		return nrd_etcd_config_set(&cfg->etcd, name, value, origin, err, errlen) < 0 ? -1 : 0;
	} else if (!strcmp(name, "max-clients")) {
		if (parse_uint(value, 65536, &cfg->max_clients) < 0 || !cfg->max_clients)
			return fail(err, errlen, "%s: \"%s\": expected 1..65536", origin, value);
	} else if (!strcmp(name, "max-queue-kb")) {
		if (parse_uint(value, 1u << 22, &cfg->max_queue_kb) < 0 || !cfg->max_queue_kb)
			return fail(err, errlen, "%s: \"%s\": expected 1..4194304", origin, value);
	} else if (!strcmp(name, "tunnel-protocol")) {
		if (strcasecmp(value, "vxlan") != 0)
			return fail(err, errlen, "%s: tunnel protocol \"%s\": only vxlan is supported",
				    origin, value);
		cfg->tunnel_protocol_vxlan = true;
	} else if (!strcmp(name, "vxlan-port")) {
		if (parse_uint(value, 65535, &cfg->vxlan_port) < 0 || !cfg->vxlan_port)
			return fail(err, errlen, "%s: UDP port \"%s\": expected 1..65535", origin, value);
	} else if (!strcmp(name, "mtu")) {
		/* Cilium's mtu is the underlay's; the tunnel costs 50 bytes of it. */
		if (parse_uint(value, 65535, &cfg->mtu) < 0 || cfg->mtu < 1280)
			return fail(err, errlen, "%s: MTU \"%s\": expected 1280..65535", origin, value);
	} else if (!strcmp(name, "endpoint-grace")) {
		if (parse_uint(value, 86400, &cfg->endpoint_grace) < 0 || !cfg->endpoint_grace)
			return fail(err, errlen, "%s: endpoint grace \"%s\": expected 1..86400 seconds",
				    origin, value);
	} else if (!strcmp(name, "native-without-tunnel")) {
		if (parse_bool(value, &cfg->native_without_tunnel) < 0)
			return fail(err, errlen, "%s: \"%s\": expected true or false", origin, value);
	} else if (!strcmp(name, "client-timeout")) {
		if (parse_uint(value, 86400, &cfg->client_timeout) < 0 || !cfg->client_timeout)
			return fail(err, errlen, "%s: \"%s\": expected 1..86400 seconds", origin, value);
	} else if (!strcmp(name, "log-level")) {
		for (int i = 0; i <= LOG_DEBUG; i++) {
			if (log_levels[i] && !strcmp(log_levels[i], value)) {
				cfg->log_level = i;
				return 0;
			}
		}
		return fail(err, errlen, "%s: log level \"%s\": expected error, warn, info or debug",
			    origin, value);
	} else {
		return fail(err, errlen, "%s: unknown option \"%s\"", origin, name);
	}
	return 0;
}

/* ---- the YAML file ---------------------------------------------------------- */

/* One key of the file, flattened ("ipam: {mode: x}" is "ipam.mode"). */
struct entry {
	char key[128];
	char value[256];
	int line;
	bool in_list;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int entries_add(struct entries *es, const char *key, const char *value, int line,
		       bool in_list)
{
	/* Never truncate silently: a cut CIDR or path would be a different one. */
	if (strlen(key) >= sizeof(es->v[0].key) || strlen(value) >= sizeof(es->v[0].value))
		return -2;
	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 32;
		struct entry *n = realloc(es->v, cap * sizeof(*n));

		if (!n)
			return -1;
		es->v = n;
		es->cap = cap;
	}
	snprintf(es->v[es->n].key, sizeof(es->v[0].key), "%s", key);
	snprintf(es->v[es->n].value, sizeof(es->v[0].value), "%s", value);
	es->v[es->n].line = line;
	es->v[es->n].in_list = in_list;
	es->n++;
	return 0;
}

struct yaml_ctx {
	yaml_parser_t parser;
	const char *path;
	char *err;
	size_t errlen;
	unsigned int depth; /* mappings open */
};

/* Deeper nesting than any option needs; it also bounds our recursion (a
 * file of 30,000 nested flow maps must be an error, not a stack overflow). */
#define MAX_DEPTH 32

static int add_entry(struct yaml_ctx *y, struct entries *es, const char *key, const char *value,
		     int line, bool in_list)
{
	int rc = entries_add(es, key, value, line, in_list);

	if (rc == -2)
		return strlen(key) >= sizeof(es->v[0].key)
			       ? fail(y->err, y->errlen, "%s:%d: key longer than %zu bytes", y->path, line,
				      sizeof(es->v[0].key) - 1)
			       : fail(y->err, y->errlen, "%s:%d: %s: value longer than %zu bytes", y->path,
				      line, key, sizeof(es->v[0].value) - 1);
	if (rc < 0)
		return fail(y->err, y->errlen, "out of memory");
	return 0;
}

static int next_event(struct yaml_ctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev))
		return fail(y->err, y->errlen, "%s:%zu: YAML error: %s", y->path,
			    y->parser.problem_mark.line + 1,
			    y->parser.problem ? y->parser.problem : "unknown");
	return 0;
}

static int parse_mapping(struct yaml_ctx *y, const char *prefix, struct entries *es);

/* The value of `key` (the event after the key scalar). */
static int parse_value(struct yaml_ctx *y, const char *key, yaml_event_t *ev, struct entries *es)
{
	int line = (int)ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return add_entry(y, es, key, (const char *)ev->data.scalar.value, line, false);
	case YAML_MAPPING_START_EVENT: {
		int rc;

		if (y->depth >= MAX_DEPTH)
			return fail(y->err, y->errlen, "%s:%d: %s: nested deeper than %d levels", y->path,
				    line, key, MAX_DEPTH);
		y->depth++;
		rc = parse_mapping(y, key, es);
		y->depth--;
		return rc;
	}
	case YAML_SEQUENCE_START_EVENT:
		for (;;) {
			yaml_event_t item;
			int rc;

			if (next_event(y, &item) < 0)
				return -1;
			if (item.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&item);
				return 0;
			}
			if (item.type != YAML_SCALAR_EVENT) {
				line = (int)item.start_mark.line + 1;
				yaml_event_delete(&item);
				return fail(y->err, y->errlen, "%s:%d: %s: list items must be plain values",
					    y->path, line, key);
			}
			rc = add_entry(y, es, key, (const char *)item.data.scalar.value,
				       (int)item.start_mark.line + 1, true);
			yaml_event_delete(&item);
			if (rc < 0)
				return -1;
		}
	default:
		return fail(y->err, y->errlen, "%s:%d: %s: unsupported YAML value (aliases?)", y->path,
			    line, key);
	}
}

/* After MAPPING_START: key/value pairs until MAPPING_END. */
static int parse_mapping(struct yaml_ctx *y, const char *prefix, struct entries *es)
{
	for (;;) {
		yaml_event_t kev, vev;
		char key[128];
		int rc;

		if (next_event(y, &kev) < 0)
			return -1;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return 0;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			int line = (int)kev.start_mark.line + 1;

			yaml_event_delete(&kev);
			return fail(y->err, y->errlen, "%s:%d: keys must be plain strings", y->path, line);
		}
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
			 (const char *)kev.data.scalar.value);
		yaml_event_delete(&kev);
		if (next_event(y, &vev) < 0)
			return -1;
		rc = parse_value(y, key, &vev, es);
		yaml_event_delete(&vev);
		if (rc < 0)
			return -1;
	}
}

static int read_entries(const char *path, struct entries *es, char *err, size_t errlen)
{
	struct yaml_ctx y = { .path = path, .err = err, .errlen = errlen };
	FILE *f = fopen(path, "r");
	yaml_event_t ev;
	int rc = -1;

	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	yaml_parser_initialize(&y.parser);
	yaml_parser_set_input_file(&y.parser, f);
	/* STREAM_START, DOCUMENT_START, then the top-level mapping. */
	for (;;) {
		if (next_event(&y, &ev) < 0)
			goto out;
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		break;
	}
	if (ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
		yaml_event_delete(&ev); /* an empty file configures nothing */
		rc = 0;
		goto out;
	}
	if (ev.type != YAML_MAPPING_START_EVENT) {
		fail(err, errlen, "%s:%zu: the file must be a mapping of option: value", path,
		     ev.start_mark.line + 1);
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	y.depth = 1;
	rc = parse_mapping(&y, "", es);
	/* One document: a second one would be silently ignored otherwise. */
	while (rc == 0) {
		if (next_event(&y, &ev) < 0) {
			rc = -1;
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			rc = fail(err, errlen, "%s:%zu: a second YAML document: the file must hold one",
				  path, ev.start_mark.line + 1);
		} else if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
out:
	yaml_parser_delete(&y.parser);
	fclose(f);
	return rc;
}

/* How a key of the file maps onto our option names. `values` translates
 * the value ("tunnel: disabled" is "mode: native"); NULL keeps it. `ours`
 * NULL with `values`: a Cilium setting that states what nativerouted always
 * does (accepted for those values only, nothing to set). `refuse`: a name
 * with no equivalent here, refused with this pointer; `hint` explains a
 * value outside `values`. Nothing is ever accepted and then ignored. */
struct alias {
	const char *key;
	const char *ours;
	const char *const *values; /* pairs: theirs, ours; NULL-terminated */
	const char *refuse;
	const char *hint;
};

static const char *const routing_mode_values[] = { "native", "native", "tunnel", "tunnel", NULL };
static const char *const tunnel_values[] = { "disabled", "native", "vxlan", "tunnel", NULL };
static const char *const native_routing_values[] = { "true", "native", "false", "tunnel", NULL };
static const char *const always_true[] = { "true", "true", NULL };

#define NO_DEVICES                                                                          \
	"not needed here: the underlay device is the one the kernel routes each node IP "   \
	"through (set node-ip to an address on the device you mean)"

static const struct alias aliases[] = {
	/* Cilium's names: agent flags and Helm values (nativerouted(8) has the table). */
	{ "routing-mode", "mode", routing_mode_values, NULL, NULL },
	{ "routingMode", "mode", routing_mode_values, NULL, NULL },
	{ "tunnel", "mode", tunnel_values, NULL, " (only disabled or vxlan)" },
	{ "enable-ipv4-native-routing", "mode", native_routing_values, NULL, NULL },
	{ "autoDirectNodeRoutes", "auto-direct-node-routes", NULL, NULL, NULL },
	{ "ipam.mode", "ipam", NULL, NULL, NULL },
	{ "cluster-pool-ipv4-cidr", "cluster-cidr", NULL, NULL, NULL },
	{ "cluster-pool-ipv6-cidr", "cluster-cidr", NULL, NULL, NULL },
	{ "ipam.operator.clusterPoolIPv4PodCIDRList", "cluster-cidr", NULL, NULL, NULL },
	{ "ipam.operator.clusterPoolIPv6PodCIDRList", "cluster-cidr", NULL, NULL, NULL },
	{ "cluster-pool-ipv4-mask-size", "mask-size", NULL, NULL, NULL },
	{ "ipam.operator.clusterPoolIPv4MaskSize", "mask-size", NULL, NULL, NULL },
	{ "cluster-pool-ipv6-mask-size", "mask-size6", NULL, NULL, NULL },
	{ "ipam.operator.clusterPoolIPv6MaskSize", "mask-size6", NULL, NULL, NULL },
	{ "ipv4-native-routing-cidr", "native-routing-cidr", NULL, NULL, NULL },
	{ "ipv4NativeRoutingCIDR", "native-routing-cidr", NULL, NULL, NULL },
	{ "ipv6-native-routing-cidr", "native-routing-cidr", NULL, NULL, NULL },
	{ "ipv6NativeRoutingCIDR", "native-routing-cidr", NULL, NULL, NULL },
	{ "tunnelProtocol", "tunnel-protocol", NULL, NULL, NULL },
	{ "tunnel-port", "vxlan-port", NULL, NULL, NULL },
	{ "tunnelPort", "vxlan-port", NULL, NULL, NULL },
	{ "MTU", "mtu", NULL, NULL, NULL },
	{ "enable-endpoint-routes", NULL, always_true, NULL,
	  ": nativerouted always routes each local pod by its own route (only true)" },
	{ "endpointRoutes.enabled", NULL, always_true, NULL,
	  ": nativerouted always routes each local pod by its own route (only true)" },
	{ "ipv4.enabled", "ipv4.enabled", NULL, NULL, NULL },
	{ "enable-ipv4", "ipv4.enabled", NULL, NULL, NULL },
	{ "ipv6.enabled", "ipv6.enabled", NULL, NULL, NULL },
	{ "enable-ipv6", "ipv6.enabled", NULL, NULL, NULL },
	{ "devices", NULL, NULL, NO_DEVICES, NULL },
	{ "direct-routing-device", NULL, NULL, NO_DEVICES, NULL },
	{ "directRoutingDevice", NULL, NULL, NO_DEVICES, NULL },
	{ "enableIPv4Masquerade", "enable-ipv4-masquerade", NULL, NULL, NULL },
	{ "enableIPv6Masquerade", "enable-ipv6-masquerade", NULL, NULL, NULL },
	/* ip-masq-agent's list, bare or as Cilium's Helm value */
	{ "nonMasqueradeCIDRs", "non-masquerade-cidr", NULL, NULL, NULL },
	{ "ipMasqAgent.config.nonMasqueradeCIDRs", "non-masquerade-cidr", NULL, NULL, NULL },
	{ "kvstore", "store", NULL, NULL, NULL },
	{ "kvstore-lease-ttl", "etcd-lease-ttl", NULL, NULL, NULL },
};

/* Resolve a file key to (our name, our value); *ours NULL for a setting
 * that holds as it is. Returns -1 for unknown keys, names without an
 * equivalent, or values that have no meaning here. */
static int translate(const struct entry *e, const char *path, const char **ours,
		     const char **value, char *err, size_t errlen)
{
	const struct nrd_option *o = nrd_option_find(e->key);

	*value = e->value;
	if (o && !(o->flags & NRD_OPT_CLI_ONLY)) {
		*ours = o->name;
		return 0;
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		const struct alias *a = &aliases[i];

		if (strcmp(e->key, a->key) != 0)
			continue;
		if (a->refuse)
			return fail(err, errlen, "%s:%d: %s: %s", path, e->line, e->key, a->refuse);
		*ours = a->ours;
		if (!a->values)
			return 0;
		for (size_t j = 0; a->values[j]; j += 2) {
			bool b1, b2;

			if (!strcasecmp(a->values[j], e->value) ||
			    (parse_bool(a->values[j], &b1) == 0 && parse_bool(e->value, &b2) == 0 &&
			     b1 == b2)) {
				*value = a->values[j + 1];
				return 0;
			}
		}
		return fail(err, errlen, "%s:%d: %s: value \"%s\" is not supported here%s", path,
			    e->line, e->key, e->value, a->hint ? a->hint : "");
	}
	return fail(err, errlen, "%s:%d: unknown key \"%s\"", path, e->line, e->key);
}

/* The options that are repeatable flags, hence lists in the file. */
static bool takes_list(const char *ours)
{
	const struct nrd_option *o = ours ? nrd_option_find(ours) : NULL;

	return o && (o->flags & NRD_OPT_LIST);
}

/* Normalise a value for comparing two keys that set the same option. */
static void canonical(const char *ours, const char *value, char *out, size_t len)
{
	bool b;

	const struct nrd_option *o = nrd_option_find(ours);

	/* switches and ipv4/ipv6.enabled: yes/on/1 are true */
	if ((!o || !o->arg) && parse_bool(value, &b) == 0)
		value = b ? "true" : "false";
	snprintf(out, len, "%s", value);
}

/* Which family a setting is about (for ipv4/ipv6.enabled), 0 = none. */
static int family_of(const char *ours, const char *value)
{
	if (!strcmp(ours, "node-ip") || !strcmp(ours, "mask-size"))
		return 4;
	if (!strcmp(ours, "node-ip6") || !strcmp(ours, "mask-size6"))
		return 6;
	if (!strcmp(ours, "cluster-cidr") || !strcmp(ours, "pod-cidr") ||
	    !strcmp(ours, "native-routing-cidr"))
		return strchr(value, ':') ? 6 : 4;
	return 0;
}

int nrd_config_load_file(struct nrd_config *cfg, const char *path, char *err, size_t errlen)
{
	struct entries es = { 0 };
	const char **ours = NULL, **vals = NULL;
	/* [0] IPv4, [1] IPv6: the first setting of that family, and the
	 * "<family>.enabled" entry that switched it off or on */
	const struct entry *user[2] = { NULL }, *off[2] = { NULL }, *on[2] = { NULL };
	int rc = -1;

	if (read_entries(path, &es, err, errlen) < 0)
		goto out;
	ours = calloc(es.n + 1, sizeof(*ours));
	vals = calloc(es.n + 1, sizeof(*vals));
	if (!ours || !vals) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < es.n; i++) {
		const struct entry *e = &es.v[i];
		char origin[PATH_MAX + 32];
		int fam;

		if (translate(e, path, &ours[i], &vals[i], err, errlen) < 0)
			goto out;
		if (e->in_list && !takes_list(ours[i])) {
			fail(err, errlen, "%s:%d: %s takes one value, not a list", path, e->line, e->key);
			goto out;
		}
		if (!ours[i])
			continue; /* holds as it is (enable-endpoint-routes: true) */
		/* The same option set twice: fine if it agrees (routing-mode:
		 * native with tunnel: disabled), an error naming both if not. */
		for (size_t j = 0; j < i && !e->in_list; j++) {
			char a[256], b[256];

			if (!ours[j] || strcmp(ours[i], ours[j]) != 0)
				continue;
			if (!strcmp(e->key, es.v[j].key)) {
				fail(err, errlen, "%s:%d: \"%s\" given twice (first on line %d)", path,
				     e->line, e->key, es.v[j].line);
				goto out;
			}
			/* lists add up (cluster-pool-ipv4-cidr + cluster-pool-ipv6-cidr) */
			if (takes_list(ours[i]))
				continue;
			canonical(ours[i], vals[i], a, sizeof(a));
			canonical(ours[j], vals[j], b, sizeof(b));
			if (strcmp(a, b) != 0) {
				fail(err, errlen,
				     "%s:%d: \"%s: %s\" contradicts \"%s: %s\" on line %d", path,
				     e->line, e->key, e->value, es.v[j].key, es.v[j].value,
				     es.v[j].line);
				goto out;
			}
		}
		if (!strcmp(ours[i], "ipv4.enabled") || !strcmp(ours[i], "ipv6.enabled")) {
			int f = ours[i][3] == '6';
			bool yes;

			if (parse_bool(e->value, &yes) < 0) {
				fail(err, errlen, "%s:%d: %s: \"%s\" is not true or false", path, e->line,
				     e->key, e->value);
				goto out;
			}
			*(yes ? &on[f] : &off[f]) = e;
			continue;
		}
		fam = family_of(ours[i], vals[i]);
		if (fam && !user[fam == 6])
			user[fam == 6] = e;
		snprintf(origin, sizeof(origin), "%s:%d: %s", path, e->line, e->key);
		if (nrd_config_set(cfg, ours[i], vals[i], origin, err, errlen) < 0)
			goto out;
	}
	for (int f = 0; f < 2; f++) {
		if (off[f] && user[f]) {
			fail(err, errlen, "%s:%d: \"%s: %s\" contradicts \"%s: %s\" on line %d", path,
			     user[f]->line, user[f]->key, user[f]->value, off[f]->key, off[f]->value,
			     off[f]->line);
			goto out;
		}
	}
	cfg->ipv4_disabled = off[0] != NULL;
	cfg->ipv6_disabled = off[1] != NULL;
	/* IPv6 asked for: without an IPv6 node address nothing would be done
	 * for it, and that must not pass silently (checked in validate, so a
	 * --node-ip6 flag can supply it). */
	if (on[1]) {
		int n = snprintf(cfg->ipv6_required_by, sizeof(cfg->ipv6_required_by), "%.120s:%d: ",
				 path, on[1]->line);

		if (n > 0 && (size_t)n < sizeof(cfg->ipv6_required_by))
			snprintf(cfg->ipv6_required_by + n, sizeof(cfg->ipv6_required_by) - (size_t)n,
				 "%.40s: %.16s", on[1]->key, on[1]->value);
	}
	rc = 0;
out:
	free(ours);
	free(vals);
	free(es.v);
	return rc;
}

int nrd_config_validate(const struct nrd_config *cfg, char *err, size_t errlen)
{
	if (!cfg->node_name || !*cfg->node_name)
		return fail(err, errlen, "--node-name is required");
	if (!cfg->node_ip && !cfg->node_ip6)
		return fail(err, errlen, "--node-ip or --node-ip6 is required");
	if (cfg->ipv4_disabled && cfg->node_ip)
		return fail(err, errlen, "--node-ip %s contradicts ipv4.enabled: false in %s",
			    cfg->node_ip, cfg->config_file ? cfg->config_file : "the config");
	if (cfg->ipv6_disabled && cfg->node_ip6)
		return fail(err, errlen, "--node-ip6 %s contradicts ipv6.enabled: false in %s",
			    cfg->node_ip6, cfg->config_file ? cfg->config_file : "the config");
	if (cfg->ipv6_required_by[0] && !cfg->node_ip6)
		return fail(err, errlen, "%s needs an IPv6 node address (node-ip6)",
			    cfg->ipv6_required_by);
	/* --purge removes by protocol, table and device: the pools and the
	 * mode do not matter to it */
	if (cfg->ipam == NR_IPAM_CLUSTER_POOL && cfg->n_cluster_cidrs == 0 && !cfg->purge)
		return fail(err, errlen, "--ipam cluster-pool needs at least one --cluster-cidr");
	if (cfg->auto_direct_node_routes && cfg->mode == NR_MODE_TUNNEL && !cfg->purge)
		return fail(err, errlen,
			    "--auto-direct-node-routes contradicts --mode tunnel (use native or hybrid)");
	if (!cfg->socket || !*cfg->socket)
		return fail(err, errlen, "--socket must not be empty");
	if (cfg->store && !strcmp(cfg->store, "etcd"))
		return nrd_etcd_config_validate(&cfg->etcd, err, errlen);
	return 0;
}

static void print_list(FILE *out, const char *key, char *const *list, size_t n)
{
	if (!n)
		return;
	fprintf(out, "%s:\n", key);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  - %s\n", list[i]);
}

void nrd_config_print(const struct nrd_config *cfg, FILE *out)
{
	const char *strs[][2] = {
		{ "socket", cfg->socket },       { "state-dir", cfg->state_dir },
		{ "node-name", cfg->node_name }, { "node-ip", cfg->node_ip },
		{ "node-ip6", cfg->node_ip6 },   { "netns", cfg->netns },
		{ "socket-group", cfg->socket_group }, { "store", cfg->store },
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i][1])
			fprintf(out, "%s: %s\n", strs[i][0], strs[i][1]);
	fprintf(out, "mode: %s\n", nr_routing_mode_str(cfg->mode));
	fprintf(out, "auto-direct-node-routes: %s\n", cfg->auto_direct_node_routes ? "true" : "false");
	fprintf(out, "bpf: %s\n", cfg->bpf ? "true" : "false");
	fprintf(out, "direct-routing-skip-unreachable: %s\n", cfg->skip_unreachable ? "true" : "false");
	if (cfg->allow_config_migration)
		fprintf(out, "allow-config-migration: true\n");
	fprintf(out, "ipam: %s\n", nr_ipam_mode_str(cfg->ipam));
	print_list(out, "cluster-cidr", cfg->cluster_cidrs, cfg->n_cluster_cidrs);
	if (cfg->mask_size)
		fprintf(out, "mask-size: %u\n", cfg->mask_size);
	if (cfg->mask_size6)
		fprintf(out, "mask-size6: %u\n", cfg->mask_size6);
	print_list(out, "pod-cidr", cfg->pod_cidrs, cfg->n_pod_cidrs);
	if (cfg->native_routing_cidr || cfg->native_routing_cidr6) {
		char *nrc[2];
		size_t n = 0;

		if (cfg->native_routing_cidr)
			nrc[n++] = cfg->native_routing_cidr;
		if (cfg->native_routing_cidr6)
			nrc[n++] = cfg->native_routing_cidr6;
		print_list(out, "native-routing-cidr", nrc, n);
	}
	if (cfg->masquerade4)
		fprintf(out, "enable-ipv4-masquerade: %s\n",
			cfg->masquerade4 == NR_SWITCH_ON ? "true" : "false");
	if (cfg->masquerade6)
		fprintf(out, "enable-ipv6-masquerade: %s\n",
			cfg->masquerade6 == NR_SWITCH_ON ? "true" : "false");
	print_list(out, "non-masquerade-cidr", cfg->non_masquerade_cidrs,
		   cfg->n_non_masquerade_cidrs);
	if (cfg->max_clients)
		fprintf(out, "max-clients: %u\n", cfg->max_clients);
	if (cfg->max_queue_kb)
		fprintf(out, "max-queue-kb: %u\n", cfg->max_queue_kb);
	if (cfg->client_timeout)
		fprintf(out, "client-timeout: %u\n", cfg->client_timeout);
	if (cfg->endpoint_grace)
		fprintf(out, "endpoint-grace: %u\n", cfg->endpoint_grace);
	if (cfg->native_without_tunnel)
		fprintf(out, "native-without-tunnel: true\n");
	if (cfg->tunnel_protocol_vxlan)
		fprintf(out, "tunnel-protocol: vxlan\n");
	if (cfg->vxlan_port)
		fprintf(out, "vxlan-port: %u\n", cfg->vxlan_port);
	if (cfg->mtu)
		fprintf(out, "mtu: %u\n", cfg->mtu);
	fprintf(out, "log-level: %s\n", log_levels[cfg->log_level]);
	nrd_etcd_config_print(&cfg->etcd, out);
}
