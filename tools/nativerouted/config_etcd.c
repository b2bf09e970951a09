/* The etcd store settings of nativerouted (see config_etcd.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config_etcd.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void set_str(char **slot, const char *value)
{
	free(*slot);
	*slot = strdup(value);
}

void nrd_etcd_config_free(struct nrd_etcd_config *c)
{
	for (size_t i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	free(c->prefix);
	free(c->cluster_name);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->username);
	free(c->password);
	memset(c, 0, sizeof(*c));
}

/* "http://a:2379,http://b:2379" (repeatable): each must be a URL */
static int add_endpoints(struct nrd_etcd_config *c, const char *value, const char *origin,
			 char *err, size_t errlen)
{
	char *copy = strdup(value), *save = NULL;
	int rc = 0;

	if (!copy)
		return fail(err, errlen, "out of memory");
	for (char *t = strtok_r(copy, ", ", &save); t && rc == 0; t = strtok_r(NULL, ", ", &save)) {
		if (strncmp(t, "http://", 7) && strncmp(t, "https://", 8))
			rc = fail(err, errlen, "%s: etcd endpoint \"%s\": expected http://HOST:PORT or "
				  "https://HOST:PORT", origin, t);
		else if (c->n_endpoints == NRD_MAX_ENDPOINTS)
			rc = fail(err, errlen, "%s: more than %d etcd endpoints", origin,
				  NRD_MAX_ENDPOINTS);
		else
			c->endpoints[c->n_endpoints++] = strdup(t);
	}
	free(copy);
	return rc;
}

static int read_secret(const char *path, char **out, const char *origin, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t n;

	if (!f)
		return fail(err, errlen, "%s: %s: %s", origin, path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	set_str(out, buf);
	return 0;
}

/* Cilium's etcd.config: a YAML mapping of scalars and one list. */
static int load_etcd_file(struct nrd_etcd_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	yaml_parser_t p;
	yaml_event_t ev;
	char key[128] = "";
	int depth = 0, rc = 0;
	bool in_seq = false, done = false;

	if (!f)
		return fail(err, errlen, "etcd.config %s: %s", path, strerror(errno));
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = fail(err, errlen, "%s:%zu: %s", path, p.problem_mark.line + 1,
				  p.problem ? p.problem : "YAML error");
			break;
		}
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SEQUENCE_START_EVENT:
			in_seq = true;
			break;
		case YAML_SEQUENCE_END_EVENT:
			in_seq = false;
			key[0] = '\0';
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			char origin[1400];

			if (depth != 1)
				break;
			if (!key[0] && !in_seq) {
				snprintf(key, sizeof(key), "%s", v);
				break;
			}
			snprintf(origin, sizeof(origin), "%s:%zu: %s", path, ev.start_mark.line + 1, key);
			if (!strcmp(key, "endpoints"))
				rc = add_endpoints(c, v, origin, err, errlen);
			else if (!strcmp(key, "trusted-ca-file"))
				set_str(&c->ca_file, v);
			else if (!strcmp(key, "cert-file"))
				set_str(&c->cert_file, v);
			else if (!strcmp(key, "key-file"))
				set_str(&c->key_file, v);
			else if (!strcmp(key, "username"))
				set_str(&c->username, v);
			else if (!strcmp(key, "password"))
				set_str(&c->password, v);
			else
				rc = fail(err, errlen, "%s: unknown key (known: endpoints, "
					  "trusted-ca-file, cert-file, key-file, username, password)",
					  origin);
			if (!in_seq)
				key[0] = '\0';
			break;
		}
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}

/* Cilium: --kvstore-opt etcd.config=FILE, or in its ConfigMap the JSON
 * '{"etcd.config": "FILE"}'. */
static int kvstore_opt(struct nrd_etcd_config *c, const char *value, const char *origin,
		       char *err, size_t errlen)
{
	char path[1024];
	const char *p = strstr(value, "etcd.config");

	if (!p)
		return fail(err, errlen, "%s: \"%s\": only etcd.config=FILE is supported", origin,
			    value);
	p += strlen("etcd.config");
	p += strspn(p, "\"' ");
	if (*p != '=' && *p != ':')
		return fail(err, errlen, "%s: \"%s\": expected etcd.config=FILE", origin, value);
	p++;
	p += strspn(p, "\"' ");
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(p, "\"',} "), p);
	if (!path[0])
		return fail(err, errlen, "%s: \"%s\": no file after etcd.config", origin, value);
	return load_etcd_file(c, path, err, errlen);
}

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	/* Cilium writes durations: "15m", "30s" */
	if (end != s && (*end == 's' || *end == 'm' || *end == 'h') && !end[1])
		v *= *end == 'm' ? 60 : *end == 'h' ? 3600 : 1, end++;
	if (errno || end == s || *end || v > max)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static const char *const keys[] = {
	"etcd-endpoints", "etcd-prefix", "cluster-name", "etcd-ca-file", "etcd-cert-file",
	"etcd-key-file", "etcd-username", "etcd-password-file", "etcd-lease-ttl",
	"etcd-cidr-grace", "kvstore-opt", NULL,
};

bool nrd_etcd_config_key(const char *name)
{
	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(name, keys[i]))
			return true;
	return false;
}

int nrd_etcd_config_set(struct nrd_etcd_config *c, const char *name, const char *value,
			const char *origin, char *err, size_t errlen)
{
	if (!nrd_etcd_config_key(name))
		return 0;
	if (!strcmp(name, "etcd-endpoints"))
		return add_endpoints(c, value, origin, err, errlen) < 0 ? -1 : 1;
	if (!strcmp(name, "kvstore-opt"))
		return kvstore_opt(c, value, origin, err, errlen) < 0 ? -1 : 1;
	if (!strcmp(name, "etcd-password-file"))
		return read_secret(value, &c->password, origin, err, errlen) < 0 ? -1 : 1;
	if (!strcmp(name, "etcd-lease-ttl") || !strcmp(name, "etcd-cidr-grace")) {
		unsigned int *slot = name[5] == 'l' ? &c->lease_ttl : &c->cidr_grace;

		if (parse_uint(value, 86400 * 30, slot) < 0 || *slot < 2)
			return fail(err, errlen, "%s: \"%s\": expected seconds, 2 .. 2592000 (or "
				    "with s/m/h)", origin, value);
		return 1;
	}
	set_str(!strcmp(name, "etcd-prefix")	 ? &c->prefix
		: !strcmp(name, "cluster-name")	 ? &c->cluster_name
		: !strcmp(name, "etcd-ca-file")	 ? &c->ca_file
		: !strcmp(name, "etcd-cert-file") ? &c->cert_file
		: !strcmp(name, "etcd-key-file")	 ? &c->key_file
						 : &c->username,
		value);
	return 1;
}

int nrd_etcd_config_validate(const struct nrd_etcd_config *c, char *err, size_t errlen)
{
	if (!c->n_endpoints)
		return fail(err, errlen, "--store etcd needs --etcd-endpoints URL,... (or "
			    "kvstore-opt etcd.config=FILE)");
	if (!c->cert_file != !c->key_file)
		return fail(err, errlen, "--etcd-cert-file and --etcd-key-file go together");
	if (c->password && !c->username)
		return fail(err, errlen, "an etcd password without --etcd-username");
	return 0;
}

void nrd_etcd_config_print(const struct nrd_etcd_config *c, FILE *out)
{
	const char *strs[][2] = {
		{ "etcd-prefix", c->prefix },       { "cluster-name", c->cluster_name },
		{ "etcd-ca-file", c->ca_file },     { "etcd-cert-file", c->cert_file },
		{ "etcd-key-file", c->key_file },   { "etcd-username", c->username },
	};

	if (c->n_endpoints) {
		fprintf(out, "etcd-endpoints:\n");
		for (size_t i = 0; i < c->n_endpoints; i++)
			fprintf(out, "  - %s\n", c->endpoints[i]);
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i][1])
			fprintf(out, "%s: %s\n", strs[i][0], strs[i][1]);
	if (c->lease_ttl)
		fprintf(out, "etcd-lease-ttl: %u\n", c->lease_ttl);
	if (c->cidr_grace)
		fprintf(out, "etcd-cidr-grace: %u\n", c->cidr_grace);
}

void nrd_etcd_config_opts(const struct nrd_etcd_config *c, struct nr_etcd_opts *o)
{
	o->endpoints = (const char *const *)c->endpoints;
	o->prefix = c->prefix;
	o->cluster_name = c->cluster_name;
	o->ca_file = c->ca_file;
	o->cert_file = c->cert_file;
	o->key_file = c->key_file;
	o->username = c->username;
	o->password = c->password;
	o->lease_ttl_s = c->lease_ttl;
	o->cidr_grace_s = c->cidr_grace;
}
