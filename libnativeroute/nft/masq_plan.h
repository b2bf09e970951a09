/* Masquerading, the pure part: which pod traffic leaves with the node's
 * address (Cilium's native-routing semantics), and the nftables table that
 * says so. No I/O: the controller (ctl/ctl_masq.c) feeds it the model and
 * hands the text to nft/nft_run.c.
 *
 * Per family, with masquerading on and a local pod CIDR:
 *   from the local pod CIDR, to anything outside
 *     the native-routing CIDR (or, without one, the cluster CIDRs),
 *     the extra non-masquerade CIDRs and the local pod CIDR itself
 *   => masquerade (the egress device's address).
 * Everything else is untouched: pod-to-pod keeps pod IPs. */
#ifndef NR_NFT_MASQ_PLAN_H
#define NR_NFT_MASQ_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "nativeroute/controller.h"

#include "core/config.h"
#include "util/addr.h"
#include "util/err.h"

/* The table the controller owns, whole; nothing else is ever touched. A
 * controller with the default route table and protocol owns "inet
 * nativeroute"; another one in the same namespace (other table/protocol)
 * owns "inet nativeroute_<table>_<protocol>", so two never fight over one
 * table (see nr_masq_table_name). */
#define NR_MASQ_TABLE_FAMILY "inet"
#define NR_MASQ_TABLE_NAME "nativeroute"
#define NR_MASQ_TABLE_NAME_MAX 40
#define NR_MASQ_MAX_EXTRA 16
/* native-routing or cluster CIDRs + extras + the local pod CIDR */
#define NR_MASQ_MAX_KEEP (NR_MAX_CLUSTER_CIDRS + NR_MASQ_MAX_EXTRA + 1)

/* What the options ask for. */
struct nr_masq_config {
	enum nr_switch on[2];        /* [0] IPv4, [1] IPv6; KEEP = default */
	struct nr_prefix extra[NR_MASQ_MAX_EXTRA];
	unsigned n_extra;
	bool unsupported;            /* built without nftables */
};

/* Where a family's "inside the cluster" comes from. */
enum nr_masq_source {
	NR_MASQ_SRC_NONE = 0,
	NR_MASQ_SRC_NATIVE_CIDR,     /* native_routing_cidr(6) */
	NR_MASQ_SRC_CLUSTER_CIDRS,   /* no native-routing CIDR: the cluster CIDRs */
};

struct nr_masq_family {
	bool on;                     /* a masquerade rule is planned */
	const char *off_reason;      /* static text when !on, else NULL */
	enum nr_masq_source source;
	struct nr_prefix src;        /* the local pod CIDR */
	/* destinations left alone: sorted, no overlaps, siblings merged */
	struct nr_prefix keep[NR_MASQ_MAX_KEEP];
	unsigned n_keep;
};

struct nr_masq_plan {
	char table[NR_MASQ_TABLE_NAME_MAX]; /* our table's name (family inet) */
	struct nr_masq_family fam[2]; /* [0] IPv4, [1] IPv6 */
};

/* Our table's name for a controller owning route table `table` with
 * protocol `protocol` (254/201, the defaults: "nativeroute"). */
void nr_masq_table_name(uint32_t table, uint8_t protocol, char *buf, size_t len);

/* Parse the options (extra CIDRs as text, NULL-terminated). Errors: -EINVAL
 * naming the CIDR. */
int nr_masq_config_parse(struct nr_masq_config *mc, enum nr_switch v4, enum nr_switch v6,
			 const char *const *extra, bool supported, struct nr_err *err);

/* Refuse what cannot work: masquerading switched on for a family that has
 * neither a native-routing nor a cluster CIDR (everything, pod-to-pod
 * included, would be masqueraded), or without nftables. Errors: -EINVAL. */
int nr_masq_config_check(const struct nr_masq_config *mc, const struct nr_cluster_config *cfg,
			 struct nr_err *err);

/* The plan for a local node with pod CIDRs cidr4/cidr6 (family 0 = none),
 * for the table named `table`. */
void nr_masq_plan(const struct nr_masq_config *mc, const struct nr_cluster_config *cfg,
		  const struct nr_prefix *cidr4, const struct nr_prefix *cidr6, const char *table,
		  struct nr_masq_plan *out);

/* Whether any family masquerades (otherwise the table must not exist). */
bool nr_masq_plan_any(const struct nr_masq_plan *p);

/* Sort, drop prefixes covered by another, merge sibling pairs into their
 * parent, in place; returns the new count. nftables refuses overlapping
 * elements in an interval set, and merged siblings list the same way the
 * kernel prints them. */
unsigned nr_masq_normalize(struct nr_prefix *v, unsigned n);

/* The table as nftables lists it (malloc'd text; NULL on ENOMEM). The
 * transaction that installs it is "table ...; delete table ...;" followed by
 * this text: create-if-missing, delete, create, in one atomic commit. */
char *nr_masq_render(const struct nr_masq_plan *p);

/* The replacement transaction for the plan (malloc'd; NULL on ENOMEM). */
char *nr_masq_script(const struct nr_masq_plan *p);

/* Compare two table listings ignoring layout (nft wraps long element lists
 * and indents with tabs): every run of white space is one space. */
bool nr_masq_listing_eq(const char *a, const char *b);

/* The excluded destinations of both families as "a/n b/n ..." into buf. */
void nr_masq_excluded_str(const struct nr_masq_plan *p, char *buf, size_t len);

/* One line for status: "IPv4: ...; IPv6: ..." saying, per family, why it is
 * off or where its cluster range comes from ("" when nothing to say). */
void nr_masq_note_str(const struct nr_masq_plan *p, char *buf, size_t len);

#endif
