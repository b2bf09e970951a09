/* Masquerading, the pure part (see masq_plan.h). */
#include "nft/masq_plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/strbuf.h"

static const uint8_t fams[2] = { AF_INET, AF_INET6 };
static const char *const fam_names[2] = { "IPv4", "IPv6" };

int nr_masq_config_parse(struct nr_masq_config *mc, enum nr_switch v4, enum nr_switch v6,
			 const char *const *extra, bool supported, struct nr_err *err)
{
	memset(mc, 0, sizeof(*mc));
	if ((unsigned)v4 > NR_SWITCH_OFF || (unsigned)v6 > NR_SWITCH_OFF)
		return nr_err_set(err, -EINVAL, "masquerade_ipv%d %d: expected 0 (default), 1 (on) "
				  "or 2 (off)", (unsigned)v4 > NR_SWITCH_OFF ? 4 : 6,
				  (int)((unsigned)v4 > NR_SWITCH_OFF ? v4 : v6));
	mc->on[0] = v4;
	mc->on[1] = v6;
	mc->unsupported = !supported;
	for (size_t i = 0; extra && extra[i]; i++) {
		if (mc->n_extra == NR_MASQ_MAX_EXTRA)
			return nr_err_set(err, -EINVAL, "non-masquerade CIDR %s: more than %d given",
					  extra[i], NR_MASQ_MAX_EXTRA);
		if (nr_prefix_parse(extra[i], &mc->extra[mc->n_extra], err) < 0)
			return nr_err_prefix(err, -EINVAL, "non-masquerade CIDR ");
		mc->n_extra++;
	}
	return 0;
}

static const struct nr_prefix *native_cidr(const struct nr_cluster_config *cfg, int f)
{
	const struct nr_prefix *p = f == 0 ? &cfg->native_routing_cidr4 : &cfg->native_routing_cidr6;

	return p->addr.family ? p : NULL;
}

static enum nr_masq_source source_of(const struct nr_cluster_config *cfg, int f)
{
	if (native_cidr(cfg, f))
		return NR_MASQ_SRC_NATIVE_CIDR;
	return nr_config_has_pool(cfg, fams[f]) ? NR_MASQ_SRC_CLUSTER_CIDRS : NR_MASQ_SRC_NONE;
}

int nr_masq_config_check(const struct nr_masq_config *mc, const struct nr_cluster_config *cfg,
			 struct nr_err *err)
{
	for (int f = 0; f < 2; f++) {
		if (mc->on[f] != NR_SWITCH_ON)
			continue;
		if (mc->unsupported)
			return nr_err_set(err, -EINVAL, "%s masquerading: this library was built "
					  "without nftables (NR_WITH_NFTABLES=OFF)", fam_names[f]);
		if (source_of(cfg, f) == NR_MASQ_SRC_NONE)
			return nr_err_set(err, -EINVAL, "%s masquerading needs native_routing_cidr%s or "
					  "an %s cluster CIDR: without one, pod-to-pod traffic would "
					  "be masqueraded too", fam_names[f], f ? "6" : "", fam_names[f]);
	}
	return 0;
}

static int prefix_qcmp(const void *a, const void *b)
{
	return nr_prefix_cmp(a, b);
}

/* Sibling: same length, same parent, different prefix. */
static bool siblings(const struct nr_prefix *a, const struct nr_prefix *b, struct nr_prefix *parent)
{
	struct nr_prefix pb;

	if (a->addr.family != b->addr.family || a->len != b->len || a->len == 0 ||
	    nr_prefix_eq(a, b))
		return false;
	nr_prefix_make(&a->addr, (uint8_t)(a->len - 1), parent);
	nr_prefix_make(&b->addr, (uint8_t)(b->len - 1), &pb);
	return nr_prefix_eq(parent, &pb);
}

unsigned nr_masq_normalize(struct nr_prefix *v, unsigned n)
{
	bool merged = true;

	qsort(v, n, sizeof(*v), prefix_qcmp);
	while (merged) {
		unsigned out = 0;

		merged = false;
		/* sorted by address then length: a covering prefix comes first,
		 * and among disjoint kept ones only the last can cover the next */
		for (unsigned i = 0; i < n; i++) {
			struct nr_prefix parent;

			if (out && v[out - 1].addr.family == v[i].addr.family &&
			    nr_prefix_contains(&v[out - 1], &v[i]))
				continue;
			if (out && siblings(&v[out - 1], &v[i], &parent)) {
				v[out - 1] = parent;
				merged = true;
				continue;
			}
			v[out++] = v[i];
		}
		n = out;
	}
	return n;
}

static void plan_family(const struct nr_masq_config *mc, const struct nr_cluster_config *cfg,
			int f, const struct nr_prefix *pod, struct nr_masq_family *out)
{
	memset(out, 0, sizeof(*out));
	out->source = source_of(cfg, f);
	if (mc->on[f] == NR_SWITCH_OFF) {
		out->off_reason = "disabled";
		return;
	}
	if (mc->unsupported) {
		out->off_reason = "built without nftables";
		return;
	}
	if (out->source == NR_MASQ_SRC_NONE) {
		out->off_reason = "no native-routing or cluster CIDR";
		return;
	}
	if (!pod || !pod->addr.family) {
		out->off_reason = "no local pod CIDR";
		return;
	}
	out->on = true;
	out->src = *pod;
	if (out->source == NR_MASQ_SRC_NATIVE_CIDR) {
		out->keep[out->n_keep++] = *native_cidr(cfg, f);
	} else {
		for (unsigned i = 0; i < cfg->n_cluster_cidrs; i++)
			if (cfg->cluster_cidrs[i].addr.family == fams[f])
				out->keep[out->n_keep++] = cfg->cluster_cidrs[i];
	}
	for (unsigned i = 0; i < mc->n_extra; i++)
		if (mc->extra[i].addr.family == fams[f])
			out->keep[out->n_keep++] = mc->extra[i];
	out->keep[out->n_keep++] = *pod; /* a local pod is never masqueraded */
	out->n_keep = nr_masq_normalize(out->keep, out->n_keep);
}

void nr_masq_table_name(uint32_t table, uint8_t protocol, char *buf, size_t len)
{
	if (table == 254 && protocol == 201)
		snprintf(buf, len, "%s", NR_MASQ_TABLE_NAME);
	else
		snprintf(buf, len, "%s_%u_%u", NR_MASQ_TABLE_NAME, table, (unsigned)protocol);
}

void nr_masq_plan(const struct nr_masq_config *mc, const struct nr_cluster_config *cfg,
		  const struct nr_prefix *cidr4, const struct nr_prefix *cidr6, const char *table,
		  struct nr_masq_plan *out)
{
	snprintf(out->table, sizeof(out->table), "%s", table);
	plan_family(mc, cfg, 0, cidr4, &out->fam[0]);
	plan_family(mc, cfg, 1, cidr6, &out->fam[1]);
}

bool nr_masq_plan_any(const struct nr_masq_plan *p)
{
	return p->fam[0].on || p->fam[1].on;
}

/* ---- text ------------------------------------------------------------------ */

/* The layout of `nft list table` (nftables 1.0), so that a listing reads
 * like what we asked for; the comparison ignores white space anyway. */
static void render(struct nr_strbuf *b, const struct nr_masq_plan *p)
{
	static const char *const set_names[2] = { "nomasq4", "nomasq6" };
	static const char *const set_types[2] = { "ipv4_addr", "ipv6_addr" };
	static const char *const match[2] = { "ip", "ip6" };
	char a[NR_ADDR_STRLEN];

	nr_strbuf_printf(b, "table %s %s {\n", NR_MASQ_TABLE_FAMILY, p->table);
	nr_strbuf_printf(b, "\tcomment \"libnativeroute masquerading: changes are reverted\"\n");
	for (int f = 0; f < 2; f++) {
		const struct nr_masq_family *fm = &p->fam[f];

		if (!fm->on)
			continue;
		nr_strbuf_printf(b, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { ",
		    set_names[f], set_types[f]);
		for (unsigned i = 0; i < fm->n_keep; i++)
			nr_strbuf_printf(b, "%s%s", i ? ", " : "", nr_prefix_str(&fm->keep[i], a, sizeof(a)));
		nr_strbuf_printf(b, " }\n\t}\n\n");
	}
	nr_strbuf_printf(b, "\tchain postrouting {\n"
	       "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (int f = 0; f < 2; f++) {
		const struct nr_masq_family *fm = &p->fam[f];

		if (fm->on)
			nr_strbuf_printf(b, "\t\t%s saddr %s %s daddr != @%s masquerade\n", match[f],
			    nr_prefix_str(&fm->src, a, sizeof(a)), match[f], set_names[f]);
	}
	nr_strbuf_printf(b, "\t}\n}\n");
}

char *nr_masq_render(const struct nr_masq_plan *p)
{
	struct nr_strbuf b = { 0 };

	render(&b, p);
	return nr_strbuf_finish(&b, NULL);
}

char *nr_masq_script(const struct nr_masq_plan *p)
{
	struct nr_strbuf b = { 0 };

	/* "table" creates it when missing, so the delete cannot fail: the
	 * three commands are one transaction, the old table and the new never
	 * coexist and no packet sees neither */
	nr_strbuf_printf(&b, "table %s %s\ndelete table %s %s\n", NR_MASQ_TABLE_FAMILY, p->table,
	    NR_MASQ_TABLE_FAMILY, p->table);
	render(&b, p);
	return nr_strbuf_finish(&b, NULL);
}

static const char *skip_ws(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

bool nr_masq_listing_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	a = skip_ws(a);
	b = skip_ws(b);
	while (*a && *b) {
		bool wa = isspace((unsigned char)*a), wb = isspace((unsigned char)*b);

		if (wa != wb)
			return false;
		if (wa) {
			a = skip_ws(a);
			b = skip_ws(b);
			/* trailing white space on one side only */
			if (!*a || !*b)
				break;
			continue;
		}
		if (*a++ != *b++)
			return false;
	}
	return !*skip_ws(a) && !*skip_ws(b);
}

void nr_masq_excluded_str(const struct nr_masq_plan *p, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int f = 0; f < 2; f++) {
		for (unsigned i = 0; i < p->fam[f].n_keep && off < len; i++) {
			char a[NR_ADDR_STRLEN];
			int n = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
					 nr_prefix_str(&p->fam[f].keep[i], a, sizeof(a)));

			off = n < 0 ? len : off + (size_t)n;
		}
	}
}

void nr_masq_note_str(const struct nr_masq_plan *p, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (int f = 0; f < 2 && off < len; f++) {
		const struct nr_masq_family *fm = &p->fam[f];
		const char *what = !fm->on ? fm->off_reason
			: fm->source == NR_MASQ_SRC_CLUSTER_CIDRS
				? "no native-routing CIDR, the cluster CIDRs are used" : NULL;
		int n;

		if (!what)
			continue;
		n = snprintf(buf + off, len - off, "%s%s: %s", off ? "; " : "", fam_names[f], what);
		off = n < 0 ? len : off + (size_t)n;
	}
}
