/*
 * aho: Aho-Corasick over bytes with ASCII case folding (see aho.h).
 *
 * Build: a byte trie with sorted sibling lists, then renumbered in breadth-first order.
 * In BFS order the children of one node get consecutive numbers, so a node needs only
 * the number of its first child and its child count; the edge labels live in one byte
 * array indexed by child number (label[v] = the byte leading into v). Nodes with many
 * children (and always the root) also get a dense 256-entry table, so the hot first
 * levels of a Chinese trie (lead byte, then continuation bytes) cost one load.
 *
 * Scan: the classic automaton walk with failure links; `out[v]` is the nearest node on
 * v's failure chain (v included) that ends a pattern, so reporting follows only nodes
 * that really end a pattern.
 */
#include "core/aho.h"

#include <stdlib.h>
#include <string.h>

enum {
	AHO_DENSE_MIN = 12,	/* a node with this many children gets a dense table */
	AHO_NONE = 0		/* "no child": the root is never anybody's child */
};

typedef struct BNode {
	uint32_t first_child;	/* AHO_NONE when none */
	uint32_t next_sibling;	/* AHO_NONE when none; siblings sorted by label */
	int32_t pat;		/* pattern id ending here, -1 when none */
	uint8_t label;
} BNode;

struct AhoBuilder {
	BNode *nodes;
	uint32_t nnodes;
	uint32_t cap;
	uint32_t npatterns;
};

typedef struct ANode {
	uint32_t first_child;	/* number of the first child (children are consecutive) */
	uint32_t fail;
	uint32_t out;		/* nearest node on the failure chain ending a pattern, 0 when none */
	int32_t pat;		/* pattern ending exactly here, -1 when none */
	int32_t dense;		/* index of the dense table, -1 when none */
	uint32_t nchild;
} ANode;

struct Aho {
	ANode *nodes;
	uint8_t *label;		/* label[v]: the byte on the edge into v */
	uint32_t *dense;	/* ndense * 256 entries */
	uint32_t nnodes;
	uint32_t ndense;
	uint32_t npatterns;
};

static inline uint8_t fold(uint8_t c);
static bool builder_reserve(AhoBuilder *b, size_t extra);
static inline uint32_t aho_step(const Aho *a, uint32_t s, uint8_t c);

/*
 *********************************
 * Public functions
 *********************************
 */

AhoBuilder *
aho_builder_new(void)
{
	AhoBuilder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (!builder_reserve(b, 64)) {
		free(b);
		return NULL;
	}
	b->nodes[0] = (BNode){AHO_NONE, AHO_NONE, -1, 0};
	b->nnodes = 1;
	return b;
}

bool
aho_builder_add(AhoBuilder *b, const char *pattern, size_t len, uint32_t *id)
{
	uint32_t node = 0;

	if (!b || !pattern || len == 0)
		return false;
	/* Reserve the worst case first, so that nothing below can fail half-way. */
	if (len > UINT32_MAX - 1 - b->nnodes || !builder_reserve(b, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = fold((uint8_t)pattern[i]);
		uint32_t prev = AHO_NONE, cur = b->nodes[node].first_child;

		while (cur != AHO_NONE && b->nodes[cur].label < c) {
			prev = cur;
			cur = b->nodes[cur].next_sibling;
		}
		if (cur == AHO_NONE || b->nodes[cur].label != c) {
			uint32_t nn = b->nnodes++;

			b->nodes[nn] = (BNode){AHO_NONE, cur, -1, c};
			if (prev == AHO_NONE)
				b->nodes[node].first_child = nn;
			else
				b->nodes[prev].next_sibling = nn;
			cur = nn;
		}
		node = cur;
	}
	if (b->nodes[node].pat < 0)
		b->nodes[node].pat = (int32_t)b->npatterns++;
	if (id)
		*id = (uint32_t)b->nodes[node].pat;
	return true;
}

Aho *
aho_builder_finish(AhoBuilder *b)
{
	Aho *a = NULL;
	uint32_t *order = NULL;	/* order[new] = old */
	uint32_t n, head, tail;

	if (!b)
		return NULL;
	n = b->nnodes;
	a = calloc(1, sizeof(*a));
	order = malloc(sizeof(*order) * n);
	if (!a || !order)
		goto fail;
	a->nnodes = n;
	a->npatterns = b->npatterns;
	a->nodes = calloc(n, sizeof(*a->nodes));
	a->label = calloc(n, 1);
	if (!a->nodes || !a->label)
		goto fail;

	/* Breadth-first renumbering: children of one node become consecutive. */
	order[0] = 0;
	head = 0;
	tail = 1;
	while (head < tail) {
		uint32_t newu = head++;
		const BNode *bu = &b->nodes[order[newu]];
		ANode *au = &a->nodes[newu];

		au->pat = bu->pat;
		au->dense = -1;
		au->first_child = tail;
		au->nchild = 0;
		for (uint32_t c = bu->first_child; c != AHO_NONE; c = b->nodes[c].next_sibling) {
			a->label[tail] = b->nodes[c].label;
			order[tail++] = c;
			au->nchild++;
		}
		if (au->nchild == 0)
			au->first_child = AHO_NONE;
		if (newu == 0 || au->nchild >= AHO_DENSE_MIN)
			a->ndense++;
	}

	/* Dense tables: the root's is a full transition (missing -> root), the others map
	 * only real children (missing -> AHO_NONE, then the failure link is followed). */
	a->dense = calloc((size_t)a->ndense * 256, sizeof(*a->dense));
	if (!a->dense)
		goto fail;
	for (uint32_t v = 0, d = 0; v < n; v++) {
		ANode *av = &a->nodes[v];

		if (v != 0 && av->nchild < AHO_DENSE_MIN)
			continue;
		av->dense = (int32_t)d;
		for (uint32_t k = 0; k < av->nchild; k++) {
			uint32_t child = av->first_child + k;

			a->dense[(size_t)d * 256 + a->label[child]] = child;
		}
		d++;
	}

	/* Failure and output links, in BFS order so that shallower nodes are done first. */
	a->nodes[0].fail = 0;
	a->nodes[0].out = 0;
	for (uint32_t u = 0; u < n; u++) {
		const ANode *au = &a->nodes[u];

		for (uint32_t k = 0; k < au->nchild; k++) {
			uint32_t v = au->first_child + k;
			uint8_t c = a->label[v];
			uint32_t f = 0;

			if (u != 0) {
				uint32_t s = au->fail;

				for (;;) {
					f = aho_step(a, s, c);
					if (f != AHO_NONE || s == 0)
						break;
					s = a->nodes[s].fail;
				}
			}
			a->nodes[v].fail = f;
			a->nodes[v].out = a->nodes[v].pat >= 0 ? v : a->nodes[f].out;
		}
	}
	free(order);
	aho_builder_free(b);
	return a;
fail:
	free(order);
	aho_free(a);
	aho_builder_free(b);
	return NULL;
}

void
aho_builder_free(AhoBuilder *b)
{
	if (!b)
		return;
	free(b->nodes);
	free(b);
}

void
aho_free(Aho *a)
{
	if (!a)
		return;
	free(a->nodes);
	free(a->label);
	free(a->dense);
	free(a);
}

uint32_t
aho_pattern_count(const Aho *a)
{
	return a ? a->npatterns : 0;
}

size_t
aho_seen_words(const Aho *a)
{
	size_t n = a ? a->npatterns : 0;

	return n == 0 ? 1 : (n + 63) / 64;
}

size_t
aho_scan(const Aho *a, const char *text, size_t len, uint64_t *seen)
{
	const ANode *nodes;
	const uint8_t *p = (const uint8_t *)text;
	size_t added = 0;
	uint32_t s = 0;

	if (!a || !text || a->npatterns == 0)
		return 0;
	nodes = a->nodes;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = fold(p[i]);

		for (;;) {
			uint32_t nx = aho_step(a, s, c);

			if (nx != AHO_NONE || s == 0) {
				s = nx;
				break;
			}
			s = nodes[s].fail;
		}
		for (uint32_t o = nodes[s].out; o != 0; o = nodes[nodes[o].fail].out) {
			uint32_t id = (uint32_t)nodes[o].pat;
			uint64_t bit = (uint64_t)1 << (id & 63);

			if (!(seen[id >> 6] & bit)) {
				seen[id >> 6] |= bit;
				added++;
			}
		}
	}
	return added;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static inline uint8_t
fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Make room for `extra` more nodes. */
static bool
builder_reserve(AhoBuilder *b, size_t extra)
{
	size_t need = (size_t)b->nnodes + extra, cap = b->cap;
	BNode *nodes;

	if (need <= cap)
		return true;
	if (need > UINT32_MAX)
		return false;
	while (cap < need)
		cap = cap ? cap * 2 : 64;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	nodes = realloc(b->nodes, cap * sizeof(*nodes));
	if (!nodes)
		return false;
	b->nodes = nodes;
	b->cap = (uint32_t)cap;
	return true;
}

/* The child of s on byte c, AHO_NONE when none; for the root, the full transition
 * (AHO_NONE then means "stay at the root"). */
static inline uint32_t
aho_step(const Aho *a, uint32_t s, uint8_t c)
{
	const ANode *n = &a->nodes[s];

	if (n->dense >= 0)
		return a->dense[(size_t)n->dense * 256 + c];
	for (uint32_t k = 0; k < n->nchild; k++) {
		uint32_t child = n->first_child + k;

		if (a->label[child] == c)
			return child;
		if (a->label[child] > c)
			break;
	}
	return AHO_NONE;
}
