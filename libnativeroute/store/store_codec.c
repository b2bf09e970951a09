/* The state file format: UTF-8 text, one record per line, fields separated
 * by one TAB (no field can contain a TAB or a newline: names are DNS-1123,
 * ids printable without spaces, interface names without white space), an
 * empty field meaning "none". Text so that an operator can read it and a
 * diff shows what changed; records so that the parser can say which line is
 * wrong.
 *
 *   nativeroute-state <TAB> FORMAT
 *   local        NAME
 *   owner        ROUTE_PROTOCOL  ROUTE_TABLE                     (format >= 2)
 *   ipam         cluster-pool|kubernetes  MASK4  MASK6
 *   cluster_cidr CIDR                                  (0..8, in pool order)
 *   native_routing_cidr CIDR                           (0..2)
 *   mode         native|tunnel|hybrid  ADNR(0|1)  SKIP(0|1)      (current)
 *   opts_mode    native|tunnel|hybrid  ADNR  SKIP    (asked for; format >= 2)
 *   node         INDEX  NAME  IPV4  IPV6  CIDR4  CIDR6           (index order)
 *   endpoint     ID  IFNAME  IFINDEX  IPV4  IPV6                 (add order)
 *   end          RECORDS  CRC32C
 *
 * RECORDS counts the lines before `end` (header included) and CRC32C (8 hex
 * digits) covers every byte before the `end` line: a file cut anywhere, or
 * with any byte changed, is refused. Format history and migrations:
 *   1  the first draft: no owner and opts_mode records.
 *   2  owner (a changed route protocol or table would orphan our routes) and
 *      opts_mode (tells a run-time mode change from a changed option).
 *      Migrating 1 -> 2: owner unknown (not checked), opts_mode = mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "store/crc32c.h"
#include "store/store.h"
#include "util/strbuf.h"
#include "util/worker_yield.h"

#define MAGIC "nativeroute-state"
#define MAX_FIELDS 8
/* Encoding, decoding and the checksum run on libuv's thread pool (the
 * state load, a save), which yields between items (util/worker_yield.h);
 * the bytes copied and checked for NUL between two yield points: */
#define COPY_PIECE (256 * 1024)

void nr_state_free(struct nr_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_nodes; i++) {
		free(st->nodes[i].name);
		if (i % 64 == 63)
			nr_worker_yield_point();
	}
	for (size_t i = 0; i < st->n_eps; i++)
		free(st->eps[i].id);
	nr_worker_free(st->nodes, st->n_nodes * sizeof(*st->nodes)); /* 10 MB at 100,000 */
	nr_worker_free(st->eps, st->n_eps * sizeof(*st->eps));
	free(st->local_name);
	memset(st, 0, sizeof(*st));
}

/* ---- encode --------------------------------------------------------------- */

/* The state file's text, and how many lines it has (the `end` record
 * counts them). */
struct buf {
	struct nr_strbuf sb;
	size_t lines;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nr_strbuf_vprintf(&b->sb, fmt, ap);
	va_end(ap);
	b->lines++;
}

static const char *mode_str(enum nr_routing_mode m)
{
	const char *s = nr_config_routing_mode_str(m);

	return s ? s : "native";
}

static void encode_head(struct buf *b, const char *local_name, const struct nr_cluster_config *c,
			const struct nr_store_meta *meta)
{
	char a[NR_ADDR_STRLEN];

	buf_printf(b, MAGIC "\t%d\n", NR_STORE_FORMAT);
	buf_printf(b, "local\t%s\n", local_name);
	buf_printf(b, "owner\t%u\t%" PRIu32 "\n", meta->route_protocol, meta->route_table);
	buf_printf(b, "ipam\t%s\t%u\t%u\n", nr_config_ipam_mode_str(c->ipam_mode),
		   nr_config_mask_size(c, AF_INET), nr_config_mask_size(c, AF_INET6));
	for (unsigned i = 0; i < c->n_cluster_cidrs; i++)
		buf_printf(b, "cluster_cidr\t%s\n", nr_prefix_str(&c->cluster_cidrs[i], a, sizeof(a)));
	if (c->native_routing_cidr4.addr.family)
		buf_printf(b, "native_routing_cidr\t%s\n",
			   nr_prefix_str(&c->native_routing_cidr4, a, sizeof(a)));
	if (c->native_routing_cidr6.addr.family)
		buf_printf(b, "native_routing_cidr\t%s\n",
			   nr_prefix_str(&c->native_routing_cidr6, a, sizeof(a)));
	buf_printf(b, "mode\t%s\t%d\t%d\n", mode_str(c->routing_mode), c->auto_direct_node_routes,
		   c->direct_routing_skip_unreachable);
	buf_printf(b, "opts_mode\t%s\t%d\t%d\n", mode_str(meta->opts_mode.mode),
		   meta->opts_mode.auto_direct_node_routes, meta->opts_mode.skip_unreachable);
}

static void encode_node(struct buf *b, uint32_t index, const char *name, const struct nr_addr *ip4,
			const struct nr_addr *ip6, const struct nr_prefix *cidr4,
			const struct nr_prefix *cidr6)
{
	char a[4][NR_ADDR_STRLEN];

	buf_printf(b, "node\t%" PRIu32 "\t%s\t%s\t%s\t%s\t%s\n", index, name,
		   nr_addr_str(ip4, a[0], sizeof(a[0])), nr_addr_str(ip6, a[1], sizeof(a[1])),
		   nr_prefix_str(cidr4, a[2], sizeof(a[2])), nr_prefix_str(cidr6, a[3], sizeof(a[3])));
}

static void encode_endpoint(struct buf *b, const char *id, const char *ifname, uint32_t ifindex,
			    const struct nr_addr *ip4, const struct nr_addr *ip6)
{
	char a[2][NR_ADDR_STRLEN];

	buf_printf(b, "endpoint\t%s\t%s\t%" PRIu32 "\t%s\t%s\n", id, ifname, ifindex,
		   nr_addr_str(ip4, a[0], sizeof(a[0])), nr_addr_str(ip6, a[1], sizeof(a[1])));
}

static int encode_end(struct buf *b, char **out, size_t *len)
{
	if (!b->sb.oom) {
		uint32_t crc = nr_crc32c(0, b->sb.s ? b->sb.s : "", b->sb.len);

		buf_printf(b, "end\t%zu\t%08" PRIx32 "\n", b->lines, crc);
	}
	*out = nr_strbuf_finish(&b->sb, len);
	return *out ? 0 : -ENOMEM;
}

int nr_store_encode(const struct nr_model *m, const struct nr_store_meta *meta,
		    char **out, size_t *len)
{
	struct buf b = { 0 };

	if (!nr_strbuf_reserve(&b.sb, 4096 + 160 * (nr_model_node_count(m) + nr_model_endpoint_count(m))))
		return -ENOMEM;
	encode_head(&b, nr_model_local_name(m), nr_model_config(m), meta);
	for (const struct nr_node *n = nr_model_node_next(m, NULL); n; n = nr_model_node_next(m, n)) {
		encode_node(&b, n->index, n->name, &n->ip4, &n->ip6, &n->cidr4, &n->cidr6);
		nr_worker_yield_point();
	}
	for (const struct nr_endpoint *e = nr_model_endpoint_next(m, NULL); e;
	     e = nr_model_endpoint_next(m, e)) {
		encode_endpoint(&b, e->id, e->ifname, e->ifindex, &e->ip4, &e->ip6);
		nr_worker_yield_point();
	}
	return encode_end(&b, out, len);
}

int nr_store_encode_image(const struct nr_store_image *img, char **out, size_t *len)
{
	struct buf b = { 0 };

	if (!nr_strbuf_reserve(&b.sb, 4096 + 160 * (img->top + img->n_eps)))
		return -ENOMEM;
	encode_head(&b, img->local_name, &img->cfg, &img->meta);
	for (size_t i = 0; i < img->top; i++) {
		const struct nr_store_node *n = &img->nodes[i];

		if (n->name)
			encode_node(&b, n->index, n->name, &n->ip4, &n->ip6, &n->cidr4, &n->cidr6);
		nr_worker_yield_point();
	}
	for (size_t i = 0; i < img->n_eps; i++) {
		const struct nr_store_endpoint *e = &img->eps[i];

		encode_endpoint(&b, e->id, e->ifname, e->ifindex, &e->ip4, &e->ip6);
		nr_worker_yield_point();
	}
	return encode_end(&b, out, len);
}

void nr_store_image_free(struct nr_store_image *img)
{
	for (size_t i = 0; i < img->top; i++)
		free(img->nodes[i].name);
	for (size_t i = 0; i < img->n_eps; i++)
		free(img->eps[i].id);
	free(img->nodes);
	free(img->eps);
	free(img->local_name);
	memset(img, 0, sizeof(*img));
}

/* ---- decode --------------------------------------------------------------- */

struct parser {
	const char *path;
	unsigned int line;
	char *f[MAX_FIELDS];
	int nf;
	struct nr_err *err;
	bool seen_local, seen_ipam, seen_mode, seen_owner, seen_opts_mode;
	size_t cap_nodes, cap_eps;
};

static int bad(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct parser *ps, const char *fmt, ...)
{
	char msg[NR_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return nr_err_set(ps->err, -EBADMSG, "%s: line %u: %s", ps->path, ps->line, msg);
}

static int want_fields(struct parser *ps, int n)
{
	if (ps->nf != n)
		return bad(ps, "%s: %d field(s), expected %d", ps->f[0], ps->nf - 1, n - 1);
	return 0;
}

static int parse_u32(struct parser *ps, const char *text, const char *what, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (!*text || *end || errno || v > max || text[0] == '-' || text[0] == '+')
		return bad(ps, "%s: %s \"%s\" is not a number in 0..%" PRIu32, ps->f[0], what, text, max);
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(struct parser *ps, const char *text, const char *what, bool *out)
{
	if (strcmp(text, "0") && strcmp(text, "1"))
		return bad(ps, "%s: %s \"%s\" is not 0 or 1", ps->f[0], what, text);
	*out = text[0] == '1';
	return 0;
}

/* Empty text: family 0. Otherwise an address of exactly `family`. */
static int parse_addr(struct parser *ps, const char *text, uint8_t family, const char *what,
		      struct nr_addr *out)
{
	struct nr_err e = { 0 };

	memset(out, 0, sizeof(*out));
	if (!*text)
		return 0;
	if (nr_addr_parse(text, out, &e) < 0 || out->family != family)
		return bad(ps, "%s: bad %s \"%s\"", ps->f[0], what, text);
	return 0;
}

static int parse_prefix(struct parser *ps, const char *text, uint8_t family, const char *what,
			struct nr_prefix *out)
{
	struct nr_err e = { 0 };

	memset(out, 0, sizeof(*out));
	if (!*text)
		return 0;
	if (nr_prefix_parse(text, out, &e) < 0 || (family && out->addr.family != family))
		return bad(ps, "%s: bad %s \"%s\"", ps->f[0], what, text);
	return 0;
}

static int parse_mode(struct parser *ps, int first, struct nr_store_mode *out)
{
	struct nr_err e = { 0 };
	int rc = want_fields(ps, first + 3);

	if (rc == 0 && nr_config_routing_mode_parse(ps->f[first], &out->mode, &e) < 0)
		rc = bad(ps, "%s: unknown routing mode \"%s\"", ps->f[0], ps->f[first]);
	if (rc == 0)
		rc = parse_bool(ps, ps->f[first + 1], "auto_direct_node_routes", &out->auto_direct_node_routes);
	if (rc == 0)
		rc = parse_bool(ps, ps->f[first + 2], "skip_unreachable", &out->skip_unreachable);
	return rc;
}

static int rec_ipam(struct parser *ps, struct nr_state *st)
{
	struct nr_err e = { 0 };
	uint32_t m4, m6;
	int rc = want_fields(ps, 4);

	if (rc == 0 && nr_config_ipam_mode_parse(ps->f[1], &st->cfg.ipam_mode, &e) < 0)
		rc = bad(ps, "ipam: unknown IPAM mode \"%s\"", ps->f[1]);
	if (rc == 0)
		rc = parse_u32(ps, ps->f[2], "IPv4 mask size", 32, &m4);
	if (rc == 0)
		rc = parse_u32(ps, ps->f[3], "IPv6 mask size", 128, &m6);
	if (rc < 0)
		return rc;
	st->cfg.mask_size4 = (uint8_t)m4;
	st->cfg.mask_size6 = (uint8_t)m6;
	ps->seen_ipam = true;
	return 0;
}

static int rec_node(struct parser *ps, struct nr_state *st)
{
	struct nr_store_node n = { .line = ps->line };
	struct nr_err e = { 0 };
	int rc = want_fields(ps, 7);

	if (rc == 0)
		rc = parse_u32(ps, ps->f[1], "index", NR_NODE_INDEX_MAX, &n.index);
	if (rc == 0 && nr_node_name_check(ps->f[2], &e) < 0)
		rc = bad(ps, "node: %s", e.msg);
	if (rc == 0)
		rc = parse_addr(ps, ps->f[3], AF_INET, "IPv4", &n.ip4);
	if (rc == 0)
		rc = parse_addr(ps, ps->f[4], AF_INET6, "IPv6", &n.ip6);
	if (rc == 0)
		rc = parse_prefix(ps, ps->f[5], AF_INET, "IPv4 CIDR", &n.cidr4);
	if (rc == 0)
		rc = parse_prefix(ps, ps->f[6], AF_INET6, "IPv6 CIDR", &n.cidr6);
	if (rc < 0)
		return rc;
	if (!n.ip4.family && !n.ip6.family)
		return bad(ps, "node %s: no IP address", ps->f[2]);
	if (st->n_nodes && st->nodes[st->n_nodes - 1].index >= n.index)
		return bad(ps, "node %s: index %" PRIu32 " not above the previous %" PRIu32, ps->f[2],
			   n.index, st->nodes[st->n_nodes - 1].index);
	if (st->n_nodes == ps->cap_nodes) {
		size_t cap = ps->cap_nodes ? ps->cap_nodes * 2 : 64;
		struct nr_store_node *g = realloc(st->nodes, cap * sizeof(*g));

		if (!g)
			return nr_err_set(ps->err, -ENOMEM, "out of memory");
		st->nodes = g;
		ps->cap_nodes = cap;
	}
	if (!(n.name = strdup(ps->f[2])))
		return nr_err_set(ps->err, -ENOMEM, "out of memory");
	st->nodes[st->n_nodes++] = n;
	return 0;
}

static int rec_endpoint(struct parser *ps, struct nr_state *st)
{
	struct nr_store_endpoint ep = { .line = ps->line };
	int rc = want_fields(ps, 6);

	if (rc == 0 && (!*ps->f[1] || strlen(ps->f[1]) > NR_ENDPOINT_ID_MAX))
		rc = bad(ps, "endpoint: id empty or longer than %d", NR_ENDPOINT_ID_MAX);
	if (rc == 0 && strlen(ps->f[2]) > NR_IFNAME_MAX)
		rc = bad(ps, "endpoint %s: interface name \"%s\" too long", ps->f[1], ps->f[2]);
	if (rc == 0)
		rc = parse_u32(ps, ps->f[3], "ifindex", UINT32_MAX, &ep.ifindex);
	if (rc == 0)
		rc = parse_addr(ps, ps->f[4], AF_INET, "IPv4", &ep.ip4);
	if (rc == 0)
		rc = parse_addr(ps, ps->f[5], AF_INET6, "IPv6", &ep.ip6);
	if (rc < 0)
		return rc;
	if (!*ps->f[2] && !ep.ifindex)
		return bad(ps, "endpoint %s: neither interface name nor index", ps->f[1]);
	snprintf(ep.ifname, sizeof(ep.ifname), "%s", ps->f[2]);
	if (st->n_eps == ps->cap_eps) {
		size_t cap = ps->cap_eps ? ps->cap_eps * 2 : 64;
		struct nr_store_endpoint *g = realloc(st->eps, cap * sizeof(*g));

		if (!g)
			return nr_err_set(ps->err, -ENOMEM, "out of memory");
		st->eps = g;
		ps->cap_eps = cap;
	}
	if (!(ep.id = strdup(ps->f[1])))
		return nr_err_set(ps->err, -ENOMEM, "out of memory");
	st->eps[st->n_eps++] = ep;
	return 0;
}

static int rec_prefix_list(struct parser *ps, struct nr_state *st, bool native)
{
	struct nr_cluster_config *c = &st->cfg;
	struct nr_prefix p;
	int rc = want_fields(ps, 2);

	if (rc == 0)
		rc = parse_prefix(ps, ps->f[1], 0, "CIDR", &p);
	if (rc < 0)
		return rc;
	if (!p.addr.family)
		return bad(ps, "%s: empty CIDR", ps->f[0]);
	if (native) {
		struct nr_prefix *slot = p.addr.family == AF_INET ? &c->native_routing_cidr4
								  : &c->native_routing_cidr6;
		if (slot->addr.family)
			return bad(ps, "native_routing_cidr: two of one family");
		*slot = p;
		return 0;
	}
	if (c->n_cluster_cidrs == NR_MAX_CLUSTER_CIDRS)
		return bad(ps, "cluster_cidr: more than %d", NR_MAX_CLUSTER_CIDRS);
	c->cluster_cidrs[c->n_cluster_cidrs++] = p;
	return 0;
}

static int rec_owner(struct parser *ps, struct nr_state *st)
{
	uint32_t proto;
	int rc = want_fields(ps, 3);

	if (rc == 0)
		rc = parse_u32(ps, ps->f[1], "route protocol", 255, &proto);
	if (rc == 0)
		rc = parse_u32(ps, ps->f[2], "route table", UINT32_MAX, &st->meta.route_table);
	st->meta.route_protocol = (uint8_t)proto;
	ps->seen_owner = true;
	return rc;
}

static int parse_record(struct parser *ps, struct nr_state *st)
{
	const char *r = ps->f[0];
	struct nr_store_mode mode;
	int rc;

	if (!strcmp(r, "node"))
		return rec_node(ps, st);
	if (!strcmp(r, "endpoint"))
		return rec_endpoint(ps, st);
	if (!strcmp(r, "local")) {
		struct nr_err e = { 0 };

		if ((rc = want_fields(ps, 2)) < 0)
			return rc;
		if (ps->seen_local)
			return bad(ps, "local: given twice");
		if (nr_node_name_check(ps->f[1], &e) < 0)
			return bad(ps, "local: %s", e.msg);
		if (!(st->local_name = strdup(ps->f[1])))
			return nr_err_set(ps->err, -ENOMEM, "out of memory");
		ps->seen_local = true;
		return 0;
	}
	if (!strcmp(r, "ipam"))
		return rec_ipam(ps, st);
	if (!strcmp(r, "cluster_cidr") || !strcmp(r, "native_routing_cidr"))
		return rec_prefix_list(ps, st, r[0] == 'n');
	if (!strcmp(r, "mode")) {
		if ((rc = parse_mode(ps, 1, &mode)) < 0)
			return rc;
		st->cfg.routing_mode = mode.mode;
		st->cfg.auto_direct_node_routes = mode.auto_direct_node_routes;
		st->cfg.direct_routing_skip_unreachable = mode.skip_unreachable;
		ps->seen_mode = true;
		return 0;
	}
	if (st->format >= 2 && !strcmp(r, "owner"))
		return rec_owner(ps, st);
	if (st->format >= 2 && !strcmp(r, "opts_mode")) {
		ps->seen_opts_mode = true;
		return parse_mode(ps, 1, &st->meta.opts_mode);
	}
	return bad(ps, "unknown record \"%.32s\" in format %u", r, st->format);
}

/* Split `line` (NUL-terminated, no newline) at TABs, in place. */
static int split(struct parser *ps, char *line)
{
	ps->nf = 0;
	for (char *p = line;;) {
		char *tab = strchr(p, '\t');

		if (ps->nf == MAX_FIELDS)
			return bad(ps, "more than %d fields", MAX_FIELDS);
		ps->f[ps->nf++] = p;
		if (!tab)
			return 0;
		*tab = '\0';
		p = tab + 1;
	}
}

/* The last line must be a complete `end` record whose count and checksum
 * match: this is what detects a torn or damaged file. Returns the length of
 * the text it covers. */
static int check_end(const char *text, size_t len, const char *path, size_t *body_len,
		     size_t *records, struct nr_err *err)
{
	const char *last;
	char tail[64], *end;
	unsigned long long count;
	unsigned long crc;
	uint32_t computed;

	if (len == 0)
		return nr_err_set(err, -EBADMSG, "%s: empty file (torn write?)", path);
	if (text[len - 1] != '\n')
		return nr_err_set(err, -EBADMSG, "%s: truncated: the last line is incomplete (torn write?)",
				  path);
	last = len >= 2 ? memrchr(text, '\n', len - 1) : NULL;
	last = last ? last + 1 : text;
	*body_len = (size_t)(last - text);
	if (len - *body_len >= sizeof(tail) || strncmp(last, "end\t", 4))
		return nr_err_set(err, -EBADMSG, "%s: truncated: no end record (torn write?)", path);
	memcpy(tail, last + 4, len - *body_len - 5);
	tail[len - *body_len - 5] = '\0';
	errno = 0;
	count = strtoull(tail, &end, 10);
	if (end == tail || *end != '\t' || errno)
		return nr_err_set(err, -EBADMSG, "%s: end record: bad record count", path);
	crc = strtoul(end + 1, &end, 16);
	if (*end || strlen(tail) - (size_t)(strchr(tail, '\t') - tail) != 9)
		return nr_err_set(err, -EBADMSG, "%s: end record: bad checksum field", path);
	computed = nr_crc32c(0, text, *body_len);
	if (computed != (uint32_t)crc)
		return nr_err_set(err, -EBADMSG,
				  "%s: checksum mismatch (file says %08lx, content is %08" PRIx32
				  "): the file is corrupt", path, crc, computed);
	*records = (size_t)count;
	return 0;
}

static int check_header(struct parser *ps, char *line, struct nr_state *st)
{
	uint32_t format;
	int rc = split(ps, line);

	if (rc < 0)
		return rc;
	if (strcmp(ps->f[0], MAGIC) || ps->nf != 2)
		return nr_err_set(ps->err, -EBADMSG, "%s: not a nativeroute state file "
				  "(first line is not \"" MAGIC "<TAB>FORMAT\")", ps->path);
	if ((rc = parse_u32(ps, ps->f[1], "format", UINT32_MAX, &format)) < 0)
		return rc;
	if (format == 0)
		return bad(ps, "format 0 does not exist");
	if (format > NR_STORE_FORMAT)
		return nr_err_set(ps->err, -EPROTONOSUPPORT,
				  "%s: format %" PRIu32 " was written by a newer libnativeroute "
				  "(this one reads 1..%d); upgrade, or purge the state",
				  ps->path, format, NR_STORE_FORMAT);
	st->format = format;
	return 0;
}

/* Bring a decoded older format up to the current one. Each step is one
 * function; a new format adds a step, never edits an old one. */
static void migrate_1_to_2(struct nr_state *st)
{
	st->has_meta = false; /* owner unknown: not checked on restore */
	st->meta.opts_mode = (struct nr_store_mode){
		.mode = st->cfg.routing_mode,
		.auto_direct_node_routes = st->cfg.auto_direct_node_routes,
		.skip_unreachable = st->cfg.direct_routing_skip_unreachable,
	};
}

static int decode_body(struct parser *ps, char *copy, size_t body_len, size_t records,
		       struct nr_state *st)
{
	char *p = copy, *stop = copy + body_len;
	int rc = 0;

	for (ps->line = 1; rc == 0 && p < stop; ps->line++) {
		char *nl = memchr(p, '\n', (size_t)(stop - p));

		*nl = '\0';
		if (ps->line == 1)
			rc = check_header(ps, p, st);
		else if ((rc = split(ps, p)) == 0)
			rc = parse_record(ps, st);
		p = nl + 1;
		nr_worker_yield_point();
	}
	if (rc < 0)
		return rc;
	if (!st->format)
		return nr_err_set(ps->err, -EBADMSG, "%s: no header line", ps->path);
	if (ps->line - 1 != records)
		return nr_err_set(ps->err, -EBADMSG, "%s: end record counts %zu records, the file has %u",
				  ps->path, records, ps->line - 1);
	if (!ps->seen_local || !ps->seen_ipam || !ps->seen_mode)
		return nr_err_set(ps->err, -EBADMSG, "%s: missing %s record", ps->path,
				  !ps->seen_local ? "local" : !ps->seen_ipam ? "ipam" : "mode");
	if (st->format >= 2 && (!ps->seen_owner || !ps->seen_opts_mode))
		return nr_err_set(ps->err, -EBADMSG, "%s: missing %s record", ps->path,
				  !ps->seen_owner ? "owner" : "opts_mode");
	st->has_meta = true;
	if (st->format == 1)
		migrate_1_to_2(st);
	return 0;
}

int nr_store_decode(const char *text, size_t len, const char *path, struct nr_state *st,
		    struct nr_err *err)
{
	struct parser ps = { .path = path, .err = err };
	size_t body_len = 0, records = 0;
	char *copy;
	int rc;

	memset(st, 0, sizeof(*st));
	nr_config_init(&st->cfg);
	rc = check_end(text, len, path, &body_len, &records, err);
	if (rc < 0)
		return rc;
	copy = malloc(body_len + 1);
	if (!copy)
		return nr_err_set(err, -ENOMEM, "out of memory");
	for (size_t off = 0; off < body_len; off += COPY_PIECE) { /* 5 MB at 100,000 nodes */
		size_t k = body_len - off < COPY_PIECE ? body_len - off : COPY_PIECE;

		if (memchr(text + off, '\0', k)) {
			free(copy);
			return nr_err_set(err, -EBADMSG, "%s: contains a NUL byte", path);
		}
		memcpy(copy + off, text + off, k);
		nr_worker_yield_piece();
	}
	copy[body_len] = '\0';
	rc = decode_body(&ps, copy, body_len, records, st);
	nr_worker_free(copy, body_len);
	if (rc < 0)
		nr_state_free(st);
	return rc;
}
