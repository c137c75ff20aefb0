/*
 * aho: Aho-Corasick over code points with ASCII case folding (see aho.h).
 *
 * Symbols: decode() turns UTF-8 into code points, folding ASCII letters; an invalid byte
 * b becomes the symbol AHO_RAW + b (above U+10FFFF), so every byte string decodes the
 * same way in patterns and in text.
 *
 * Build: the trie's edges live in an open-addressing hash keyed by (parent, symbol)
 * while patterns are added. aho_builder_finish sorts the edges by (parent, symbol) and
 * renumbers the nodes breadth-first, so that the children of one node get consecutive
 * numbers in symbol order: a node needs only its first child and child count. A step
 * from a narrow node scans its few children (one or two cache lines, and the very nodes
 * the next step reads); the edges of wide nodes (the root and the first characters of
 * many keywords: a Chinese trie is wide at the top) go into one more hash, `wide`, so
 * that such a step is one probe rather than a binary search full of mispredictions.
 *
 * Scan: the classic automaton walk with failure links; `out` of a node is the nearest
 * node on its failure chain (itself included) that ends a pattern, so reporting visits
 * only nodes that really end a pattern.
 */
#include "core/aho.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

#define AHO_RAW 0x110000u	/* symbol of an invalid byte b: AHO_RAW + b */
#define AHO_SYM_BITS 21		/* every symbol is below 1 << 21 */
#define AHO_NONE 0u		/* "no child": the root is never anybody's child */
#define AHO_LINEAR_MAX 8	/* children scanned linearly; wider nodes are hashed */
#define EMPTY_KEY UINT64_MAX

typedef struct Edge {
	uint64_t key;		/* parent << AHO_SYM_BITS | symbol; EMPTY_KEY when free */
	uint32_t child;
} Edge;

struct AhoBuilder {
	int32_t *pat;		/* per node: pattern id ending there, -1 when none */
	uint32_t nnodes, cap;
	Edge *edges;		/* hash of the trie's edges */
	size_t nedges, ecap;	/* ecap: a power of two */
	uint32_t npatterns;
	uint8_t *wordlen;	/* per pattern: its length when it is an ASCII word, else 0 */
	uint32_t wcap;
	bool ascii_words;	/* aho_builder_ascii_words */
};

typedef struct ANode {
	uint32_t sym;		/* symbol on the edge into this node */
	uint32_t first_child;	/* children are first_child .. first_child + nchild - 1 */
	uint32_t nchild;
	uint32_t fail;
	uint32_t out;		/* nearest node on the failure chain ending a pattern; 0: none */
} ANode;

typedef struct WEdge {
	uint64_t key;		/* node << AHO_SYM_BITS | sym; EMPTY_KEY when free */
	uint64_t child;		/* (64 bits: an entry is 16 bytes, four to a cache line) */
} WEdge;

struct Aho {
	ANode *nodes;
	int32_t *pat;		/* per node: pattern ending exactly there, -1 when none */
	uint32_t nnodes;
	uint32_t npatterns;
	uint8_t *wordlen;	/* per pattern: its length when it is an ASCII word, else 0 */
	WEdge *wide;		/* edges of the nodes with more than AHO_LINEAR_MAX children */
	size_t wmask;
};

typedef struct SortEdge {
	uint32_t parent, sym, child;
} SortEdge;

static inline uint32_t decode(const uint8_t *p, size_t len, size_t *i);
static inline bool ascii_alnum(uint8_t c);
static uint8_t word_length(const uint8_t *p, size_t len);
static bool builder_reserve(AhoBuilder *b, size_t extra);
static bool edges_grow(AhoBuilder *b, size_t need);
static inline size_t edge_slot(const Edge *edges, size_t mask, uint64_t key);
static inline uint64_t hash64(uint64_t x);
static int sort_edge_cmp(const void *a, const void *b);
static bool build_wide(Aho *a);
static inline size_t wide_hash(uint64_t key, size_t mask);
static inline uint32_t aho_step(const Aho *a, const ANode *nodes, uint32_t s, uint32_t sym);

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
		aho_builder_free(b);
		return NULL;
	}
	b->pat[0] = -1;
	b->nnodes = 1;
	return b;
}

void
aho_builder_ascii_words(AhoBuilder *b, bool on)
{
	if (b)
		b->ascii_words = on;
}

bool
aho_builder_add(AhoBuilder *b, const char *pattern, size_t len, uint32_t *id)
{
	const uint8_t *p = (const uint8_t *)pattern;
	size_t mask, i = 0;
	uint32_t node = 0;

	if (!b || !pattern || len == 0)
		return false;
	/* Reserve the worst case (one new node and edge per byte) first, so that nothing
	 * below can fail half-way and leave a partial pattern behind. */
	if (len > UINT32_MAX - 1 - b->nnodes || !builder_reserve(b, len))
		return false;
	if (b->npatterns == b->wcap) {
		uint32_t cap = b->wcap ? 2 * b->wcap : 64;
		uint8_t *w = cap > b->wcap ? realloc(b->wordlen, cap) : NULL;

		if (!w)
			return false;
		b->wordlen = w;
		b->wcap = cap;
	}
	mask = b->ecap - 1;
	while (i < len) {
		uint32_t sym = decode(p, len, &i);
		uint64_t key = ((uint64_t)node << AHO_SYM_BITS) | sym;
		size_t slot = edge_slot(b->edges, mask, key);

		if (b->edges[slot].key == EMPTY_KEY) {
			uint32_t nn = b->nnodes++;

			b->pat[nn] = -1;
			b->edges[slot].key = key;
			b->edges[slot].child = nn;
			b->nedges++;
		}
		node = b->edges[slot].child;
	}
	if (b->pat[node] < 0) {
		b->wordlen[b->npatterns] = b->ascii_words ? word_length(p, len) : 0;
		b->pat[node] = (int32_t)b->npatterns++;
	}
	if (id)
		*id = (uint32_t)b->pat[node];
	return true;
}

Aho *
aho_builder_finish(AhoBuilder *b)
{
	Aho *a = NULL;
	SortEdge *se = NULL;
	uint32_t *start = NULL;	/* start[old parent] = its first edge in se */
	uint32_t *order = NULL;	/* order[new] = old */
	uint32_t n, head, tail;
	size_t ne = 0;

	if (!b)
		return NULL;
	n = b->nnodes;
	a = calloc(1, sizeof(*a));
	se = malloc(sizeof(*se) * (b->nedges ? b->nedges : 1));
	start = calloc((size_t)n + 1, sizeof(*start));
	order = malloc(sizeof(*order) * n);
	if (!a || !se || !start || !order)
		goto fail;
	a->nnodes = n;
	a->npatterns = b->npatterns;
	a->nodes = calloc(n, sizeof(*a->nodes));
	a->pat = malloc(sizeof(*a->pat) * n);
	a->wordlen = b->wordlen;	/* taken over: the builder is freed below */
	b->wordlen = NULL;
	if (!a->nodes || !a->pat)
		goto fail;

	/* Edges sorted by (parent, symbol); start[] indexes each parent's run. */
	for (size_t k = 0; k < b->ecap; k++) {
		if (b->edges[k].key == EMPTY_KEY)
			continue;
		se[ne].parent = (uint32_t)(b->edges[k].key >> AHO_SYM_BITS);
		se[ne].sym = (uint32_t)(b->edges[k].key & ((1u << AHO_SYM_BITS) - 1));
		se[ne].child = b->edges[k].child;
		ne++;
	}
	qsort(se, ne, sizeof(*se), sort_edge_cmp);
	for (size_t k = 0; k < ne; k++)
		start[se[k].parent + 1]++;
	for (uint32_t v = 0; v < n; v++)
		start[v + 1] += start[v];

	/* Breadth-first renumbering: the children of one node become consecutive. */
	order[0] = 0;
	head = 0;
	tail = 1;
	while (head < tail) {
		uint32_t u = head++, old = order[u];
		ANode *au = &a->nodes[u];

		a->pat[u] = b->pat[old];
		au->first_child = tail;
		au->nchild = start[old + 1] - start[old];
		for (uint32_t k = start[old]; k < start[old + 1]; k++) {
			a->nodes[tail].sym = se[k].sym;
			order[tail++] = se[k].child;
		}
		if (au->nchild == 0)
			au->first_child = AHO_NONE;
	}

	if (!build_wide(a))
		goto fail;

	/* Failure and output links, in BFS order so that shallower nodes are done first. */
	for (uint32_t u = 0; u < n; u++) {
		const ANode *au = &a->nodes[u];

		for (uint32_t k = 0; k < au->nchild; k++) {
			uint32_t v = au->first_child + k, sym = a->nodes[v].sym, f = 0;

			if (u != 0) {
				uint32_t s = au->fail;

				for (;;) {
					f = aho_step(a, a->nodes, s, sym);
					if (f != AHO_NONE || s == 0)
						break;
					s = a->nodes[s].fail;
				}
			}
			a->nodes[v].fail = f;
			a->nodes[v].out = a->pat[v] >= 0 ? v : a->nodes[f].out;
		}
	}
	free(se);
	free(start);
	free(order);
	aho_builder_free(b);
	return a;
fail:
	free(se);
	free(start);
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
	free(b->pat);
	free(b->edges);
	free(b->wordlen);
	free(b);
}

void
aho_free(Aho *a)
{
	if (!a)
		return;
	free(a->wide);
	free(a->nodes);
	free(a->pat);
	free(a->wordlen);
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
	const uint8_t *p = (const uint8_t *)text;
	const ANode *nodes;
	const int32_t *pat;
	size_t added = 0, i = 0;
	uint32_t s = 0;

	if (!a || !text || a->npatterns == 0)
		return 0;
	nodes = a->nodes;
	pat = a->pat;
	while (i < len) {
		uint32_t sym = decode(p, len, &i);

		for (;;) {
			uint32_t nx = aho_step(a, nodes, s, sym);

			if (nx != AHO_NONE || s == 0) {
				s = nx;
				break;
			}
			s = nodes[s].fail;
		}
		for (uint32_t o = nodes[s].out; o != 0; o = nodes[nodes[o].fail].out) {
			uint32_t id = (uint32_t)pat[o];
			uint64_t bit = (uint64_t)1 << (id & 63);
			size_t wl = a->wordlen[id];

			/* an ASCII word occurs only where no ASCII letter or digit flanks it */
			if (wl && ((i < len && ascii_alnum(p[i])) || (i > wl && ascii_alnum(p[i - wl - 1]))))
				continue;
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

static inline bool
ascii_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* len when the pattern is an ASCII word (letters and digits only, at most 255), else 0. */
static uint8_t
word_length(const uint8_t *p, size_t len)
{
	if (len > 255)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!ascii_alnum(p[i]))
			return 0;
	return (uint8_t)len;
}

/* The symbol at p[*i] (advancing *i): a code point of a valid shortest-form UTF-8
 * sequence, ASCII letters folded to lower case, or AHO_RAW + byte for an invalid byte. */
static inline uint32_t
decode(const uint8_t *p, size_t len, size_t *i)
{
	size_t at = *i, n;
	uint32_t cp;

	if (p[at] < 0x80) {
		*i = at + 1;
		return (p[at] >= 'A' && p[at] <= 'Z') ? p[at] + ('a' - 'A') : p[at];
	}
	n = utf8_decode((const char *)p + at, len - at, &cp);
	*i = at + (n ? n : 1);
	return n ? cp : AHO_RAW + p[at];
}

/* Make room for `extra` more nodes and edges. */
static bool
builder_reserve(AhoBuilder *b, size_t extra)
{
	size_t need = (size_t)b->nnodes + extra, cap = b->cap;

	if (need > UINT32_MAX)
		return false;
	if (need > cap) {
		int32_t *pat;

		while (cap < need)
			cap = cap ? cap * 2 : 64;
		if (cap > UINT32_MAX)
			cap = UINT32_MAX;
		pat = realloc(b->pat, cap * sizeof(*pat));
		if (!pat)
			return false;
		b->pat = pat;
		b->cap = (uint32_t)cap;
	}
	return edges_grow(b, b->nedges + extra);
}

/* Keep the edge hash at most half full for `need` edges. */
static bool
edges_grow(AhoBuilder *b, size_t need)
{
	size_t ecap = b->ecap ? b->ecap : 128;
	Edge *edges;

	while (ecap < 2 * need)
		ecap *= 2;
	if (ecap == b->ecap)
		return true;
	edges = malloc(ecap * sizeof(*edges));
	if (!edges)
		return false;
	for (size_t k = 0; k < ecap; k++)
		edges[k].key = EMPTY_KEY;
	for (size_t k = 0; k < b->ecap; k++) {
		if (b->edges[k].key != EMPTY_KEY)
			edges[edge_slot(edges, ecap - 1, b->edges[k].key)] = b->edges[k];
	}
	free(b->edges);
	b->edges = edges;
	b->ecap = ecap;
	return true;
}

/* The slot holding key, or the free slot where it belongs. */
static inline size_t
edge_slot(const Edge *edges, size_t mask, uint64_t key)
{
	size_t slot = (size_t)hash64(key) & mask;

	while (edges[slot].key != EMPTY_KEY && edges[slot].key != key)
		slot = (slot + 1) & mask;
	return slot;
}

/* A 64-bit mixer (the finaliser of SplitMix64). */
static inline uint64_t
hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static int
sort_edge_cmp(const void *a, const void *b)
{
	const SortEdge *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return (x->sym > y->sym) - (x->sym < y->sym);
}

/* Hash the edges of every node with more than AHO_LINEAR_MAX children into a->wide
 * (at most half full). */
static bool
build_wide(Aho *a)
{
	size_t nw = 0, cap = 16;

	for (uint32_t u = 0; u < a->nnodes; u++)
		if (a->nodes[u].nchild > AHO_LINEAR_MAX)
			nw += a->nodes[u].nchild;
	while (cap < 2 * nw)
		cap *= 2;
	a->wide = malloc(cap * sizeof(*a->wide));
	if (!a->wide)
		return false;
	a->wmask = cap - 1;
	for (size_t k = 0; k < cap; k++)
		a->wide[k].key = EMPTY_KEY;
	for (uint32_t u = 0; u < a->nnodes; u++) {
		if (a->nodes[u].nchild <= AHO_LINEAR_MAX)
			continue;
		for (uint32_t k = 0; k < a->nodes[u].nchild; k++) {
			uint32_t c = a->nodes[u].first_child + k;
			uint64_t key = ((uint64_t)u << AHO_SYM_BITS) | a->nodes[c].sym;
			size_t slot = wide_hash(key, a->wmask);

			while (a->wide[slot].key != EMPTY_KEY)
				slot = (slot + 1) & a->wmask;
			a->wide[slot].key = key;
			a->wide[slot].child = c;
		}
	}
	return true;
}

/* A cheap multiplicative hash for the scan's hot path (Fibonacci hashing). */
static inline size_t
wide_hash(uint64_t key, size_t mask)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* The child of s on sym, AHO_NONE when none. */
static inline uint32_t
aho_step(const Aho *a, const ANode *nodes, uint32_t s, uint32_t sym)
{
	uint32_t lo = nodes[s].first_child, n = nodes[s].nchild;

	if (n <= AHO_LINEAR_MAX) {
		for (uint32_t k = 0; k < n; k++) {
			uint32_t c = nodes[lo + k].sym;

			if (c == sym)
				return lo + k;
			if (c > sym)
				break;
		}
		return AHO_NONE;
	}
	{
		uint64_t key = ((uint64_t)s << AHO_SYM_BITS) | sym;
		size_t slot = wide_hash(key, a->wmask);

		for (;;) {
			if (a->wide[slot].key == key)
				return (uint32_t)a->wide[slot].child;
			if (a->wide[slot].key == EMPTY_KEY)
				return AHO_NONE;
			slot = (slot + 1) & a->wmask;
		}
	}
}
