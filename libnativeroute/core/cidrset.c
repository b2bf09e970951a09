/* Path-compressed binary trie (Patricia). Members are disjoint, so none has
 * another below it: the members are exactly the leaves, and every inner node
 * joins two non-empty subtrees at the first bit where they differ. So n
 * members take 2n - 1 nodes; an add allocates its leaf and at most one inner
 * node, and a walk visits one node per branching point, not one per address
 * bit (10,000 /26s under 10.0.0.0/8: 15 levels instead of 26, and no add
 * callocs a path of up to 26 nodes).
 * What a walk costs is its cache misses, so nodes are small: the key is
 * host-order 32-bit words, as many as the family needs (an IPv4 node is 24
 * bytes), and a node's test is an xor and a count of leading zeros. */
#include "core/cidrset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct nr_cidr_node {
	union {
		struct nr_cidr_node *child[2]; /* inner: both set */
		struct {
			void *none; /* NULL: this is a leaf, i.e. a member */
			const void *owner;
		} leaf;
	};
	/* A leaf: the member. Inner: the bits its whole subtree shares; its
	 * length is the bit that tells child[0] from child[1]. Bits past len
	 * are zero. */
	uint32_t len;
	uint32_t w[];
};

/* A prefix as words, most significant first; bits past len are ignored. */
struct key {
	uint32_t w[4];
	unsigned len, words;
};

static bool is_leaf(const struct nr_cidr_node *n)
{
	return !n->leaf.none;
}

static struct key key_of(const struct nr_prefix *p)
{
	struct key k = { .len = p->len, .words = p->addr.family == AF_INET ? 1 : 4 };

	memcpy(k.w, p->addr.bytes, sizeof(k.w));
	for (unsigned i = 0; i < k.words; i++)
		k.w[i] = ntohl(k.w[i]);
	return k;
}

static bool bit(const uint32_t *w, unsigned i)
{
	return (w[i / 32] >> (31 - i % 32)) & 1;
}

/* How many leading bits a and b share, at most `max`. */
static unsigned common(const uint32_t *a, const uint32_t *b, unsigned max)
{
	for (unsigned i = 0; i * 32 < max; i++) {
		uint32_t x = a[i] ^ b[i];

		if (x) {
			unsigned c = i * 32 + (unsigned)__builtin_clz(x);

			return c < max ? c : max;
		}
	}
	return max;
}

/* A node keyed by q's first `len` bits; NULL when out of memory. */
static struct nr_cidr_node *node_new(const struct key *q, unsigned len)
{
	/* offsetof, not sizeof: an IPv4 node fits a 32-byte malloc chunk */
	struct nr_cidr_node *n = malloc(offsetof(struct nr_cidr_node, w) + q->words * sizeof(uint32_t));

	if (!n)
		return NULL;
	n->len = len;
	for (unsigned i = 0; i < q->words; i++) {
		unsigned keep = len > i * 32 ? len - i * 32 : 0; /* of this word's 32 bits */

		n->w[i] = keep >= 32 ? q->w[i] : keep ? q->w[i] & ~0u << (32 - keep) : 0;
	}
	return n;
}

static struct nr_cidr_node **root_of(struct nr_cidrset *s, uint8_t family)
{
	return family == AF_INET ? &s->root4 : family == AF_INET6 ? &s->root6 : NULL;
}

/* The subtree's lowest member: the one the bit-per-level trie reported. */
static const struct nr_cidr_node *first(const struct nr_cidr_node *n)
{
	while (!is_leaf(n))
		n = n->child[0];
	return n;
}

/* The one walk of add and overlap. Returns the member overlapping q, or NULL
 * with *where = the slot q belongs in and *at = the first bit at which q
 * leaves the node there (q is disjoint from every member then). Inner nodes'
 * bits are checked on the way down, so a miss is known at the first node
 * that differs. */
static const struct nr_cidr_node *walk(struct nr_cidr_node **slot, const struct key *q,
				       struct nr_cidr_node ***where, unsigned *at)
{
	struct nr_cidr_node *n;
	unsigned c = 0;

	while ((n = *slot)) {
		c = common(q->w, n->w, q->len < n->len ? q->len : n->len);
		if (c == n->len && is_leaf(n))
			return n; /* a member containing q, or q itself */
		if (c == q->len)
			return first(n); /* q contains the whole subtree */
		if (c < n->len)
			break; /* q parts from the subtree at bit c */
		/* c == n->len, but that way the next load waits on the
		 * compare above: one dependent load per level, not two */
		slot = &n->child[bit(q->w, n->len)];
	}
	*where = slot;
	*at = c;
	return NULL;
}

static void free_tree(struct nr_cidr_node *n)
{
	if (!n)
		return;
	if (!is_leaf(n)) {
		free_tree(n->child[0]);
		free_tree(n->child[1]);
	}
	free(n);
}

void nr_cidrset_destroy(struct nr_cidrset *s)
{
	free_tree(s->root4);
	free_tree(s->root6);
	s->root4 = s->root6 = NULL;
	s->n = 0;
}

bool nr_cidrset_overlap(const struct nr_cidrset *s, const struct nr_prefix *p,
			struct nr_prefix *hit, const void **owner)
{
	/* walk() only reads through root; the slot it hands back is unused */
	struct nr_cidr_node **root = root_of((struct nr_cidrset *)s, p->addr.family), **where;
	const struct nr_cidr_node *n;
	struct key q;
	unsigned at;

	if (!root || p->len > nr_addr_bits(p->addr.family))
		return false;
	q = key_of(p);
	n = walk(root, &q, &where, &at);
	if (!n)
		return false;
	if (hit) {
		*hit = (struct nr_prefix){ .addr.family = p->addr.family, .len = (uint8_t)n->len };
		for (unsigned i = 0; i < q.words; i++) {
			uint32_t be = htonl(n->w[i]);

			memcpy(hit->addr.bytes + 4 * i, &be, sizeof(be));
		}
	}
	if (owner)
		*owner = n->leaf.owner;
	return true;
}

int nr_cidrset_add(struct nr_cidrset *s, const struct nr_prefix *p, const void *owner)
{
	struct nr_cidr_node **root = root_of(s, p->addr.family), **where, *leaf, *inner = NULL;
	struct key q;
	unsigned at;

	if (!root || !owner || p->len > nr_addr_bits(p->addr.family))
		return -EINVAL;
	q = key_of(p);
	if (walk(root, &q, &where, &at))
		return -EEXIST;
	/* Both allocations before any link, so a failure changes nothing. */
	leaf = node_new(&q, q.len);
	if (*where)
		inner = node_new(&q, at);
	if (!leaf || (*where && !inner)) {
		free(leaf);
		free(inner);
		return -ENOMEM;
	}
	leaf->leaf.none = NULL;
	leaf->leaf.owner = owner;
	if (inner) { /* q and the subtree at *where part at bit `at` */
		bool b = bit(q.w, at);

		inner->child[b] = leaf;
		inner->child[!b] = *where;
	}
	*where = inner ? inner : leaf;
	s->n++;
	return 0;
}

int nr_cidrset_del(struct nr_cidrset *s, const struct nr_prefix *p)
{
	struct nr_cidr_node **slot = root_of(s, p->addr.family), **up = NULL, *n, *parent;
	struct key q;

	if (!slot || p->len > nr_addr_bits(p->addr.family))
		return -ENOENT;
	q = key_of(p);
	/* Leaves lie deeper than their parent's bit, so stop once past q.len. */
	while ((n = *slot) && !is_leaf(n) && n->len < q.len) {
		up = slot;
		slot = &n->child[bit(q.w, n->len)];
	}
	if (!n || !is_leaf(n) || n->len != q.len || common(q.w, n->w, q.len) < q.len)
		return -ENOENT;
	/* Its parent has one child left: the sibling takes the parent's place. */
	if (up) {
		parent = *up;
		*up = parent->child[parent->child[0] == n];
		free(parent);
	} else {
		*slot = NULL;
	}
	free(n);
	s->n--;
	return 0;
}
