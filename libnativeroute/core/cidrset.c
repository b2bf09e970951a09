/* Binary trie, one level per address bit. `below` counts the members in a
 * node's subtree including itself, so empty branches are pruned on delete and
 * "anything inside this prefix?" is a single check. */
#include "core/cidrset.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

struct nr_cidr_node {
	struct nr_cidr_node *child[2];
	const void *owner; /* non-NULL: a member ends here */
	uint32_t below;
};

static bool bit(const uint8_t *b, unsigned i)
{
	return (b[i / 8] >> (7 - i % 8)) & 1;
}

static void set_bit(uint8_t *b, unsigned i, bool v)
{
	if (v)
		b[i / 8] |= (uint8_t)(1u << (7 - i % 8));
}

static struct nr_cidr_node **root_of(struct nr_cidrset *s, uint8_t family)
{
	return family == AF_INET ? &s->root4 : family == AF_INET6 ? &s->root6 : NULL;
}

static void free_tree(struct nr_cidr_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
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
	struct nr_cidr_node **root = root_of((struct nr_cidrset *)s, p->addr.family);
	const struct nr_cidr_node *n = root ? *root : NULL;
	struct nr_prefix h;
	unsigned d;

	for (d = 0; n && !n->owner && d < p->len; d++)
		n = n->child[bit(p->addr.bytes, d)];
	if (!n || (!n->owner && n->below == 0))
		return false;
	nr_prefix_make(&p->addr, (uint8_t)d, &h);
	/* Either an ancestor/equal member, or descend to any member below. */
	while (!n->owner) {
		int c = n->child[0] && n->child[0]->below ? 0 : 1;

		set_bit(h.addr.bytes, d, c);
		n = n->child[c];
		d++;
	}
	h.len = (uint8_t)d;
	if (hit)
		*hit = h;
	if (owner)
		*owner = n->owner;
	return true;
}

int nr_cidrset_add(struct nr_cidrset *s, const struct nr_prefix *p, const void *owner)
{
	struct nr_cidr_node **slot = root_of(s, p->addr.family), *n;

	if (!slot || !owner || p->len > nr_addr_bits(p->addr.family))
		return -EINVAL;
	if (nr_cidrset_overlap(s, p, NULL, NULL))
		return -EEXIST;
	/* Allocate the missing path first so a failure changes nothing. */
	for (unsigned d = 0;; d++) {
		if (!*slot) {
			*slot = calloc(1, sizeof(**slot));
			if (!*slot) {
				nr_cidrset_del(s, p); /* prunes the partial path */
				return -ENOMEM;
			}
		}
		if (d == p->len)
			break;
		slot = &(*slot)->child[bit(p->addr.bytes, d)];
	}
	n = *root_of(s, p->addr.family);
	for (unsigned d = 0; d < p->len; d++) {
		n->below++;
		n = n->child[bit(p->addr.bytes, d)];
	}
	n->below++;
	n->owner = owner;
	s->n++;
	return 0;
}

int nr_cidrset_del(struct nr_cidrset *s, const struct nr_prefix *p)
{
	struct nr_cidr_node **path[129];
	struct nr_cidr_node **slot = root_of(s, p->addr.family);
	unsigned d;
	bool member;

	if (!slot || p->len > nr_addr_bits(p->addr.family))
		return -ENOENT;
	for (d = 0; *slot; d++) {
		path[d] = slot;
		if (d == p->len)
			break;
		slot = &(*slot)->child[bit(p->addr.bytes, d)];
	}
	if (!*slot) { /* path missing: prune empty nodes left by a failed add */
		while (d-- > 0)
			if ((*path[d])->below == 0 && !(*path[d])->child[0] && !(*path[d])->child[1]) {
				free(*path[d]);
				*path[d] = NULL;
			}
		return -ENOENT;
	}
	member = (*slot)->owner != NULL;
	if (member) {
		(*slot)->owner = NULL;
		s->n--;
	}
	for (unsigned i = d + 1; i-- > 0;) {
		struct nr_cidr_node *n = *path[i];

		if (member)
			n->below--;
		if (n->below == 0 && !n->owner) {
			free_tree(n);
			*path[i] = NULL;
		}
	}
	return member ? 0 : -ENOENT;
}
