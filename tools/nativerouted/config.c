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
 * the value ("tunnel: disabled" is "mode: native"); NULL keeps it. */
struct alias {
	const char *key;
	const char *ours;
	const char *const *values; /* pairs: theirs, ours; NULL-terminated */
};

static const char *const routing_mode_values[] = { "native", "native", "tunnel", "tunnel", NULL };
static const char *const tunnel_values[] = { "disabled", "native", "vxlan", "tunnel", NULL };
static const char *const native_routing_values[] = { "true", "native", "false", "tunnel", NULL };

static const struct alias aliases[] = {
	/* Cilium's names (agent flags and Helm values of the seed). */
	{ "routing-mode", "mode", routing_mode_values },
	{ "routingMode", "mode", routing_mode_values },
	{ "tunnel", "mode", tunnel_values },
	{ "enable-ipv4-native-routing", "mode", native_routing_values },
	{ "autoDirectNodeRoutes", "auto-direct-node-routes", NULL },
	{ "ipam.mode", "ipam", NULL },
	{ "cluster-pool-ipv4-cidr", "cluster-cidr", NULL },
	{ "cluster-pool-ipv4-mask-size", "mask-size", NULL },
	{ "ipv4-native-routing-cidr", "native-routing-cidr", NULL },
	{ "ipv4NativeRoutingCIDR", "native-routing-cidr", NULL },
	{ "ipv6-native-routing-cidr", "native-routing-cidr", NULL },
	{ "ipv6NativeRoutingCIDR", "native-routing-cidr", NULL },
	{ "enableIPv4Masquerade", "enable-ipv4-masquerade", NULL },
	{ "enableIPv6Masquerade", "enable-ipv6-masquerade", NULL },
	/* ip-masq-agent's list, bare or as Cilium's Helm value */
	{ "nonMasqueradeCIDRs", "non-masquerade-cidr", NULL },
	{ "ipMasqAgent.config.nonMasqueradeCIDRs", "non-masquerade-cidr", NULL },
	{ "ipv4.enabled", "ipv4.enabled", NULL },
	{ "kvstore", "store", NULL },
	{ "kvstore-lease-ttl", "etcd-lease-ttl", NULL },
};

static const char *const our_keys[] = {
	"socket", "state-dir", "node-name", "node-ip", "node-ip6", "netns", "mode",
	"auto-direct-node-routes", "direct-routing-skip-unreachable", "ipam", "cluster-cidr",
	"mask-size", "mask-size6", "pod-cidr", "native-routing-cidr", "socket-group", "store",
	"log-level", "max-clients", "max-queue-kb", "client-timeout", "allow-config-migration", "bpf",
	"enable-ipv4-masquerade", "enable-ipv6-masquerade", "non-masquerade-cidr",
	"etcd-endpoints", "etcd-prefix", "cluster-name", "etcd-ca-file", "etcd-cert-file",
	"etcd-key-file", "etcd-username", "etcd-password-file", "etcd-lease-ttl",
	"etcd-cidr-grace", "kvstore-opt", NULL,
};

/* Resolve a file key to (our name, our value). Returns -1 for unknown keys
 * or values that have no meaning here. */
static int translate(const struct entry *e, const char *path, const char **ours,
		     const char **value, char *err, size_t errlen)
{
	*value = e->value;
	for (size_t i = 0; our_keys[i]; i++) {
		if (!strcmp(e->key, our_keys[i])) {
			*ours = our_keys[i];
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		const struct alias *a = &aliases[i];

		if (strcmp(e->key, a->key) != 0)
			continue;
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
			    e->line, e->key, e->value,
			    !strcmp(e->key, "tunnel") ? " (only disabled or vxlan)" : "");
	}
	return fail(err, errlen, "%s:%d: unknown key \"%s\"", path, e->line, e->key);
}

/* The options that are repeatable flags, hence lists in the file. */
static bool takes_list(const char *ours)
{
	static const char *const lists[] = { "cluster-cidr", "pod-cidr", "native-routing-cidr",
					     "non-masquerade-cidr", NULL };

	for (size_t i = 0; lists[i]; i++)
		if (!strcmp(ours, lists[i]))
			return true;
	return false;
}

/* Normalise a value for comparing two keys that set the same option. */
static void canonical(const char *ours, const char *value, char *out, size_t len)
{
	bool b;

	if ((!strcmp(ours, "auto-direct-node-routes") ||
	     !strcmp(ours, "direct-routing-skip-unreachable") || !strcmp(ours, "ipv4.enabled") ||
	     !strncmp(ours, "enable-ipv", 10)) &&
	    parse_bool(value, &b) == 0)
		value = b ? "true" : "false";
	snprintf(out, len, "%s", value);
}

int nrd_config_load_file(struct nrd_config *cfg, const char *path, char *err, size_t errlen)
{
	struct entries es = { 0 };
	const char **ours = NULL, **vals = NULL;
	const struct entry *v4_user = NULL, *v4_off = NULL;
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

		if (translate(e, path, &ours[i], &vals[i], err, errlen) < 0)
			goto out;
		if (e->in_list && !takes_list(ours[i])) {
			fail(err, errlen, "%s:%d: %s takes one value, not a list", path, e->line, e->key);
			goto out;
		}
		/* The same option set twice: fine if it agrees (routing-mode:
		 * native with tunnel: disabled), an error naming both if not. */
		for (size_t j = 0; j < i && !e->in_list; j++) {
			char a[256], b[256];

			if (strcmp(ours[i], ours[j]) != 0)
				continue;
			if (!strcmp(e->key, es.v[j].key)) {
				fail(err, errlen, "%s:%d: \"%s\" given twice (first on line %d)", path,
				     e->line, e->key, es.v[j].line);
				goto out;
			}
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
		if (!strcmp(ours[i], "ipv4.enabled")) {
			bool on;

			if (parse_bool(e->value, &on) < 0) {
				fail(err, errlen, "%s:%d: %s: \"%s\" is not true or false", path, e->line,
				     e->key, e->value);
				goto out;
			}
			if (!on)
				v4_off = e;
			continue;
		}
		if ((!strcmp(ours[i], "node-ip") || !strcmp(ours[i], "cluster-cidr") ||
		     !strcmp(ours[i], "pod-cidr") || !strcmp(ours[i], "native-routing-cidr")) &&
		    !strchr(vals[i], ':') && !v4_user)
			v4_user = e;
		snprintf(origin, sizeof(origin), "%s:%d: %s", path, e->line, e->key);
		if (nrd_config_set(cfg, ours[i], vals[i], origin, err, errlen) < 0)
			goto out;
	}
	if (v4_off && v4_user) {
		fail(err, errlen, "%s:%d: \"%s: %s\" contradicts \"%s: %s\" on line %d", path,
		     v4_user->line, v4_user->key, v4_user->value, v4_off->key, v4_off->value,
		     v4_off->line);
		goto out;
	}
	cfg->ipv4_disabled = v4_off != NULL;
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
	if (cfg->ipam == NR_IPAM_CLUSTER_POOL && cfg->n_cluster_cidrs == 0)
		return fail(err, errlen, "--ipam cluster-pool needs at least one --cluster-cidr");
	if (cfg->auto_direct_node_routes && cfg->mode == NR_MODE_TUNNEL)
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
	fprintf(out, "log-level: %s\n", log_levels[cfg->log_level]);
	nrd_etcd_config_print(&cfg->etcd, out);
}
