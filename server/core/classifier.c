/*
 * classifier: hashed character n-grams and softmax regression (see classifier.h).
 *
 * Layout: weights are one dense float array, row per feature bucket, column per label
 * (w[bucket * nlabels + label]), plus one bias per label. Training first turns every
 * example into its bucket list (one CSR array), so each pass only walks integers.
 */
#include "core/classifier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY 0u		/* the symbol of blanks, punctuation and text ends */
#define MAGIC "HLCLASS1"
#define MAGIC_LEN 8
#define MIN_PROB 1e-7

struct Classifier {
	unsigned dim_bits;
	uint32_t nlabels;
	char (*labels)[CLASSIFIER_LABEL_MAX + 1];
	float *bias;		/* nlabels */
	float *w;		/* (1 << dim_bits) * nlabels */
	uint32_t *vocab;	/* the symbols of the training texts, ascending */
	uint32_t nvocab;
	ClassifierInfo info;
};

/* An n-gram walker over one text: the last two symbols seen. */
typedef struct Walk {
	uint32_t prev1, prev2;
	unsigned have;		/* symbols seen so far, capped at 2 */
} Walk;

/* The examples as bucket lists. */
typedef struct Features {
	uint32_t *off;		/* n + 1 offsets into idx */
	uint32_t *idx;
	float *scale;		/* 1 / sqrt(number of n-grams), per example */
} Features;

static uint32_t next_symbol(const unsigned char **p, const unsigned char *end);
static uint32_t normalise(uint32_t cp);
static uint32_t mix(uint32_t h);
static size_t walk_text(const char *s, uint32_t mask, uint32_t *out, float *row, const float *w, uint32_t k);
static size_t walk_case(const char *title, const char *text, uint32_t mask, uint32_t *out, float *row,
			const float *w, uint32_t k);
static size_t row_of_case(const Classifier *c, const char *title, const char *text, float *row);
static bool features_build(Features *f, const ClassifierExample *ex, size_t n, uint32_t mask);
static void features_free(Features *f);
static Classifier *model_new(unsigned dim_bits, const char *const *labels, size_t nlabels);
static void logits(const Classifier *c, const Features *f, size_t i, double *z);
static void softmax(const double *z, uint32_t k, double temperature, double *p);
static void sgd(Classifier *c, const ClassifierExample *ex, const Features *f, const bool *skip, size_t n,
		const ClassifierParams *p);
static double fit_temperature(const double *z, const uint32_t *label, size_t n, uint32_t k);
static double log_loss(const double *z, const uint32_t *label, size_t n, uint32_t k, double t);
static bool labels_valid(const char *const *labels, size_t n);
static bool vocab_build(Classifier *c, const ClassifierExample *ex, size_t n);
static size_t vocab_add_text(uint32_t *out, const char *s);
static int u32_cmp(const void *a, const void *b);
static uint64_t xorshift(uint64_t *s);

/*
 *********************************
 * Public functions
 *********************************
 */

void
classifier_params_default(ClassifierParams *p)
{
	*p = (ClassifierParams){.dim_bits = 15, .epochs = 10, .learning_rate = 3.0f, .seed = 12345,
				.holdout_every = 10};
}

Classifier *
classifier_train(const char *const *labels, size_t nlabels, const ClassifierExample *ex, size_t n,
		 const ClassifierParams *p)
{
	Classifier *c = NULL;
	Features f = {0};
	bool *skip = NULL;
	double *z = NULL;
	uint32_t *zlabel = NULL;
	size_t nheld = 0, right = 0, positives = 0;

	if (!p || p->dim_bits < CLASSIFIER_DIM_BITS_MIN || p->dim_bits > CLASSIFIER_DIM_BITS_MAX ||
	    !labels_valid(labels, nlabels) || (n && !ex) || n >= UINT32_MAX)
		return NULL;
	c = model_new(p->dim_bits, labels, nlabels);
	skip = calloc(n ? n : 1, sizeof(*skip));
	if (!c || !skip || !features_build(&f, ex, n, (1u << p->dim_bits) - 1) || !vocab_build(c, ex, n))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		skip[i] = ex[i].label >= nlabels || !(ex[i].weight > 0);
		if (!skip[i] && !ex[i].negative && p->holdout_every && ++positives % p->holdout_every == 0) {
			skip[i] = true;
			nheld++;
		}
	}
	c->info.accuracy = -1;
	c->info.temperature = 1;
	if (nheld) {
		/* First training without the held-out examples: measure and calibrate. */
		z = malloc(sizeof(*z) * nheld * c->nlabels);
		zlabel = malloc(sizeof(*zlabel) * nheld);
		if (!z || !zlabel)
			goto fail;
		sgd(c, ex, &f, skip, n, p);
		positives = 0;
		for (size_t i = 0, h = 0; i < n; i++) {
			uint32_t best = 0;

			if (ex[i].label >= nlabels || !(ex[i].weight > 0) || ex[i].negative ||
			    ++positives % p->holdout_every != 0)
				continue;
			logits(c, &f, i, z + h * c->nlabels);
			for (uint32_t k = 1; k < c->nlabels; k++)
				if (z[h * c->nlabels + k] > z[h * c->nlabels + best])
					best = k;
			right += best == ex[i].label;
			zlabel[h++] = ex[i].label;
		}
		c->info.held_out = nheld;
		c->info.held_out_right = right;
		c->info.accuracy = (double)right / (double)nheld;
		c->info.temperature = fit_temperature(z, zlabel, nheld, c->nlabels);
		memset(c->w, 0, sizeof(*c->w) * ((size_t)1 << c->dim_bits) * c->nlabels);
		memset(c->bias, 0, sizeof(*c->bias) * c->nlabels);
	}
	for (size_t i = 0; i < n; i++) {
		skip[i] = ex[i].label >= nlabels || !(ex[i].weight > 0);
		c->info.examples += !skip[i];
	}
	sgd(c, ex, &f, skip, n, p);
	free(z);
	free(zlabel);
	free(skip);
	features_free(&f);
	return c;
fail:
	free(z);
	free(zlabel);
	free(skip);
	features_free(&f);
	classifier_free(c);
	return NULL;
}

double
classifier_coverage(const Classifier *c, const char *title, const char *text)
{
	const char *parts[2] = {title, text};
	size_t known = 0, total = 0;

	if (!c)
		return 0;
	for (int i = 0; i < 2; i++) {
		const unsigned char *p = (const unsigned char *)parts[i], *end;

		if (!p)
			continue;
		end = p + strlen(parts[i]);
		while (p < end) {
			uint32_t sym = normalise(next_symbol(&p, end));

			if (sym == BOUNDARY)
				continue;
			total++;
			/* ASCII letters and digits (codes, numbers) say little of the matter */
			known += sym >= 0x80 && bsearch(&sym, c->vocab, c->nvocab, sizeof(*c->vocab), u32_cmp);
		}
	}
	return total ? (double)known / (double)total : 0;
}

void
classifier_free(Classifier *c)
{
	if (!c)
		return;
	free(c->vocab);
	free(c->labels);
	free(c->bias);
	free(c->w);
	free(c);
}

size_t
classifier_predict(const Classifier *c, const char *title, const char *text, ClassifierGuess *top, size_t ntop)
{
	float row[CLASSIFIER_LABELS_MAX] = {0};
	double z[CLASSIFIER_LABELS_MAX] = {0}, prob[CLASSIFIER_LABELS_MAX];
	ClassifierGuess ranked[CLASSIFIER_LABELS_MAX];
	size_t grams, m;

	if (!c || !top || !ntop)
		return 0;
	grams = row_of_case(c, title, text, row);
	for (uint32_t k = 0; k < c->nlabels; k++)
		z[k] = c->bias[k] + (grams ? row[k] / sqrt((double)grams) : 0);
	softmax(z, c->nlabels, c->info.temperature, prob);
	m = ntop < c->nlabels ? ntop : c->nlabels;
	/* Every label ranked, not the best m selected one by one: routing asks for all of them
	 * (route_blend), and selecting 30 of 30 cost more than the rest of the prediction. By
	 * insertion, in index order: a few dozen labels, where qsort's calls of a comparison were
	 * ~2% of the server's CPU under intake (bench/RESULTS.md, session 10). */
	for (uint32_t k = 0; k < c->nlabels; k++) {
		uint32_t at = k;

		for (; at > 0 && ranked[at - 1].confidence < prob[k]; at--)
			ranked[at] = ranked[at - 1];
		ranked[at] = (ClassifierGuess){c->labels[k], k, prob[k]};
	}
	memcpy(top, ranked, m * sizeof(*top));
	return m;
}

size_t
classifier_label_count(const Classifier *c)
{
	return c ? c->nlabels : 0;
}

int
classifier_label_index(const Classifier *c, const char *label)
{
	for (uint32_t k = 0; c && label && k < c->nlabels; k++)
		if (strcmp(c->labels[k], label) == 0)
			return (int)k;
	return -1;
}

const char *
classifier_label(const Classifier *c, size_t index)
{
	return c && index < c->nlabels ? c->labels[index] : NULL;
}

const ClassifierInfo *
classifier_info(const Classifier *c)
{
	return c ? &c->info : NULL;
}

/*
 *********************************
 * Storage: "HLCLASS1", then little-endian u32 dim_bits, u32 nlabels, u64 examples,
 * u64 held_out, u64 held_out_right, f64 accuracy, f64 temperature, the labels (u8
 * length + bytes each), f32 bias[nlabels], f32 w[(1 << dim_bits) * nlabels], u32 nvocab,
 * u32 vocab[nvocab].
 *********************************
 */

static unsigned char *
put_u64(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		*p++ = (unsigned char)(v >> (8 * i));
	return p;
}

static const unsigned char *
get_u64(const unsigned char *p, uint64_t *v, int bytes)
{
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return p + bytes;
}

static unsigned char *
put_f64(unsigned char *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return put_u64(p, v, 8);
}

static unsigned char *
put_f32(unsigned char *p, float f)
{
	uint32_t v;

	memcpy(&v, &f, sizeof(v));
	return put_u64(p, v, 4);
}

bool
classifier_save(const Classifier *c, unsigned char **out, size_t *len)
{
	size_t nw = ((size_t)1 << c->dim_bits) * c->nlabels, size = MAGIC_LEN + 4 + 4 + 8 * 5;
	unsigned char *buf, *p;

	for (uint32_t k = 0; k < c->nlabels; k++)
		size += 1 + strlen(c->labels[k]);
	size += 4 * ((size_t)c->nlabels + nw) + 4 + 4 * (size_t)c->nvocab;
	buf = malloc(size);
	if (!buf)
		return false;
	memcpy(buf, MAGIC, MAGIC_LEN);
	p = put_u64(buf + MAGIC_LEN, c->dim_bits, 4);
	p = put_u64(p, c->nlabels, 4);
	p = put_u64(p, c->info.examples, 8);
	p = put_u64(p, c->info.held_out, 8);
	p = put_u64(p, c->info.held_out_right, 8);
	p = put_f64(p, c->info.accuracy);
	p = put_f64(p, c->info.temperature);
	for (uint32_t k = 0; k < c->nlabels; k++) {
		size_t l = strlen(c->labels[k]);

		*p++ = (unsigned char)l;
		memcpy(p, c->labels[k], l);
		p += l;
	}
	for (uint32_t k = 0; k < c->nlabels; k++)
		p = put_f32(p, c->bias[k]);
	for (size_t i = 0; i < nw; i++)
		p = put_f32(p, c->w[i]);
	p = put_u64(p, c->nvocab, 4);
	for (uint32_t i = 0; i < c->nvocab; i++)
		p = put_u64(p, c->vocab[i], 4);
	*out = buf;
	*len = size;
	return true;
}

Classifier *
classifier_load(const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf, *end = buf + len;
	uint64_t bits, k, ex, held, right, acc, temp, nvocab;
	char labels[CLASSIFIER_LABELS_MAX][CLASSIFIER_LABEL_MAX + 1];
	const char *names[CLASSIFIER_LABELS_MAX];
	Classifier *c;
	size_t nw;

	if (!buf || len < MAGIC_LEN + 48 || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return NULL;
	p = get_u64(p + MAGIC_LEN, &bits, 4);
	p = get_u64(p, &k, 4);
	p = get_u64(p, &ex, 8);
	p = get_u64(p, &held, 8);
	p = get_u64(p, &right, 8);
	p = get_u64(p, &acc, 8);
	p = get_u64(p, &temp, 8);
	if (bits < CLASSIFIER_DIM_BITS_MIN || bits > CLASSIFIER_DIM_BITS_MAX || k < 1 || k > CLASSIFIER_LABELS_MAX)
		return NULL;
	for (uint64_t i = 0; i < k; i++) {
		size_t l;

		if (p >= end || (l = *p++) > CLASSIFIER_LABEL_MAX || (size_t)(end - p) < l)
			return NULL;
		memcpy(labels[i], p, l);
		labels[i][l] = 0;
		names[i] = labels[i];
		p += l;
	}
	nw = ((size_t)1 << bits) * k;
	if ((size_t)(end - p) < 4 * (k + nw) + 4)
		return NULL;
	get_u64(p + 4 * (k + nw), &nvocab, 4);
	if ((size_t)(end - p) != 4 * (k + nw) + 4 + 4 * nvocab)
		return NULL;
	c = model_new((unsigned)bits, names, (size_t)k);
	if (!c)
		return NULL;
	c->info = (ClassifierInfo){(size_t)ex, (size_t)held, (size_t)right, 0, 0};
	memcpy(&c->info.accuracy, &acc, sizeof(acc));
	memcpy(&c->info.temperature, &temp, sizeof(temp));
	if (!(c->info.temperature > 0) || !isfinite(c->info.temperature)) {
		classifier_free(c);
		return NULL;
	}
	for (uint64_t i = 0; i < k + nw; i++) {
		uint64_t v;
		uint32_t v32;
		float f;

		p = get_u64(p, &v, 4);
		v32 = (uint32_t)v;
		memcpy(&f, &v32, sizeof(f));
		if (i < k)
			c->bias[i] = f;
		else
			c->w[i - k] = f;
	}
	c->vocab = malloc(sizeof(*c->vocab) * (nvocab ? nvocab : 1));
	if (!c->vocab) {
		classifier_free(c);
		return NULL;
	}
	p += 4;
	for (uint64_t i = 0; i < nvocab; i++) {
		uint64_t v;

		p = get_u64(p, &v, 4);
		c->vocab[i] = (uint32_t)v;
	}
	c->nvocab = (uint32_t)nvocab;
	return c;
}

/*
 *********************************
 * Features
 *********************************
 */

/* Decode one code point (a byte that starts no valid sequence reads as U+FFFD). */
static uint32_t
next_symbol(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t cp, min;
	int k;

	if (p[0] < 0x80) {
		*pp = p + 1;
		return p[0];
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		k = 1, cp = p[0] & 0x1F, min = 0x80;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		k = 2, cp = p[0] & 0x0F, min = 0x800;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		k = 3, cp = p[0] & 0x07, min = 0x10000;
	else
		goto bad;
	if (end - p <= k)
		goto bad;
	for (int i = 1; i <= k; i++) {
		if ((p[i] & 0xC0) != 0x80)
			goto bad;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		goto bad;
	*pp = p + k + 1;
	return cp;
bad:
	*pp = p + 1;
	return 0xFFFD;
}

/* Fold case and digits; blanks and punctuation become BOUNDARY. */
static uint32_t
normalise(uint32_t cp)
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)	/* full-width ASCII */
		cp -= 0xFEE0;
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			return cp + 32;
		if (cp >= '0' && cp <= '9')
			return '0';
		if ((cp >= 'a' && cp <= 'z'))
			return cp;
		return BOUNDARY;
	}
	if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
	    (cp >= 0xFF5F && cp <= 0xFF65) || cp == 0x00A0 || cp == 0x00B7 || cp == 0xFFFD)
		return BOUNDARY;
	return cp;
}

/* The murmur3 finaliser: spreads FNV's low bits before masking. */
static uint32_t
mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85EBCA6Bu;
	h ^= h >> 13;
	h *= 0xC2B2AE35u;
	h ^= h >> 16;
	return h;
}

static inline uint32_t
gram(uint32_t n, const uint32_t *sym, uint32_t mask)
{
	uint32_t h = 2166136261u ^ n;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ sym[i]) * 16777619u;
	return mix(h) & mask;
}

/* Four floats added at once (GCC's and Clang's vector extension: SSE on x86-64). */
typedef float Float4 __attribute__((vector_size(16)));

/* row += wr over k labels, four at a time: the same IEEE additions, label by label, as one at
 * a time, which the compiler left scalar at -O2 (~2 us a case, 4% of the server's CPU under
 * intake; bench/RESULTS.md, session 10). */
static inline void
row_add(float *restrict row, const float *restrict wr, uint32_t k)
{
	uint32_t j = 0;

	for (; j + 4 <= k; j += 4) {
		Float4 a, b;

		memcpy(&a, row + j, sizeof(a));
		memcpy(&b, wr + j, sizeof(b));
		a += b;
		memcpy(row + j, &a, sizeof(a));
	}
	for (; j < k; j++)
		row[j] += wr[j];
}

/* Emit a bucket: into out when given, and/or add its weight row into row. */
static inline void
emit(uint32_t b, uint32_t *out, size_t at, float *row, const float *w, uint32_t k)
{
	if (out)
		out[at] = b;
	if (row)
		row_add(row, w + (size_t)b * k, k);
}

/* Walk one text's n-grams (boundary at both ends, runs of boundaries collapsed).
 * Returns how many n-grams it emitted. */
static size_t
walk_text(const char *s, uint32_t mask, uint32_t *out, float *row, const float *w, uint32_t k)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	Walk wk = {BOUNDARY, BOUNDARY, 1};
	size_t n = 0;
	bool done = false;

	if (!s)
		return 0;
	end = p + strlen(s);
	while (!done) {
		uint32_t sym, g[3];

		if (p < end) {
			sym = normalise(next_symbol(&p, end));
		} else {
			sym = BOUNDARY;
			done = true;
		}
		if (sym == BOUNDARY && wk.prev1 == BOUNDARY)
			continue;
		if (sym != BOUNDARY) {
			g[0] = sym;
			emit(gram(1, g, mask), out ? out + n : NULL, 0, row, w, k);
			n++;
		}
		g[0] = wk.prev1;
		g[1] = sym;
		emit(gram(2, g, mask), out ? out + n : NULL, 0, row, w, k);
		n++;
		if (wk.have >= 2) {
			g[0] = wk.prev2;
			g[1] = wk.prev1;
			g[2] = sym;
			emit(gram(3, g, mask), out ? out + n : NULL, 0, row, w, k);
			n++;
		}
		wk.prev2 = wk.prev1;
		wk.prev1 = sym;
		wk.have = wk.have < 2 ? wk.have + 1 : 2;
	}
	return n;
}

static size_t
walk_case(const char *title, const char *text, uint32_t mask, uint32_t *out, float *row, const float *w,
	  uint32_t k)
{
	size_t n = walk_text(title, mask, out, row, w, k);

	return n + walk_text(text, mask, out ? out + n : NULL, row, w, k);
}

/* Upper bound of the n-grams of a string: three per byte plus the closing boundary. */
static size_t
grams_bound(const char *s)
{
	return s ? 3 * strlen(s) + 3 : 0;
}

/* Prefetch distance, in n-grams: a weight row is a cache line or two of a matrix of megabytes,
 * so nearly every n-gram's row comes from memory; fetching a few ahead overlaps the waits. */
#define ROW_PREFETCH 8

/* The buckets of a case this short are listed on the stack: the heap's, of a size that made
 * malloc consolidate its free chunks each time, were ~3% of the server's CPU under intake
 * (bench/RESULTS.md, session 10). */
#define ROW_STACK_GRAMS 2048

/* The summed weight rows of a case's n-grams into row; returns how many n-grams. The buckets
 * are listed first, then their rows added in the same order as walk_case would (the same
 * sums, bit for bit) with the rows ahead prefetched. */
static size_t
row_of_case(const Classifier *c, const char *title, const char *text, float *row)
{
	uint32_t mask = (1u << c->dim_bits) - 1, k = c->nlabels;
	uint32_t stack[ROW_STACK_GRAMS];
	size_t bound = grams_bound(title) + grams_bound(text) + 1;
	uint32_t *b = bound <= ROW_STACK_GRAMS ? stack : malloc(sizeof(*b) * bound);
	size_t n;

	if (!b)
		return walk_case(title, text, mask, NULL, row, c->w, k);
	n = walk_case(title, text, mask, b, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		if (i + ROW_PREFETCH < n) {
			const float *ahead = c->w + (size_t)b[i + ROW_PREFETCH] * k;

			__builtin_prefetch(ahead);
			__builtin_prefetch(ahead + k - 1); /* a row may end in the next line */
		}
		emit(b[i], NULL, 0, row, c->w, k);
	}
	if (b != stack)
		free(b);
	return n;
}

static bool
features_build(Features *f, const ClassifierExample *ex, size_t n, uint32_t mask)
{
	size_t total = 0, at = 0;

	f->off = malloc(sizeof(*f->off) * (n + 1));
	f->scale = malloc(sizeof(*f->scale) * (n ? n : 1));
	for (size_t i = 0; i < n; i++)
		total += grams_bound(ex[i].title) + grams_bound(ex[i].text);
	if (total >= UINT32_MAX)
		return false;
	f->idx = malloc(sizeof(*f->idx) * (total ? total : 1));
	if (!f->off || !f->scale || !f->idx)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t g = walk_case(ex[i].title, ex[i].text, mask, f->idx + at, NULL, NULL, 0);

		f->off[i] = (uint32_t)at;
		f->scale[i] = g ? (float)(1.0 / sqrt((double)g)) : 0;
		at += g;
	}
	f->off[n] = (uint32_t)at;
	return true;
}

static void
features_free(Features *f)
{
	free(f->off);
	free(f->idx);
	free(f->scale);
}

/*
 *********************************
 * Training
 *********************************
 */

static Classifier *
model_new(unsigned dim_bits, const char *const *labels, size_t nlabels)
{
	Classifier *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->dim_bits = dim_bits;
	c->nlabels = (uint32_t)nlabels;
	c->labels = calloc(nlabels, sizeof(*c->labels));
	c->bias = calloc(nlabels, sizeof(*c->bias));
	c->w = calloc(((size_t)1 << dim_bits) * nlabels, sizeof(*c->w));
	if (!c->labels || !c->bias || !c->w) {
		classifier_free(c);
		return NULL;
	}
	for (size_t k = 0; k < nlabels; k++)
		memcpy(c->labels[k], labels[k], strlen(labels[k]) + 1);
	return c;
}

static void
logits(const Classifier *c, const Features *f, size_t i, double *z)
{
	for (uint32_t k = 0; k < c->nlabels; k++)
		z[k] = c->bias[k];
	for (uint32_t a = f->off[i]; a < f->off[i + 1]; a++) {
		const float *wr = c->w + (size_t)f->idx[a] * c->nlabels;

		for (uint32_t k = 0; k < c->nlabels; k++)
			z[k] += f->scale[i] * wr[k];
	}
}

static void
softmax(const double *z, uint32_t k, double temperature, double *p)
{
	double max = z[0], sum = 0;

	for (uint32_t j = 1; j < k; j++)
		if (z[j] > max)
			max = z[j];
	for (uint32_t j = 0; j < k; j++)
		sum += p[j] = exp((z[j] - max) / temperature);
	for (uint32_t j = 0; j < k; j++)
		p[j] /= sum;
}

/* Epochs of SGD over the examples not skipped, in a seeded shuffled order each pass. */
static void
sgd(Classifier *c, const ClassifierExample *ex, const Features *f, const bool *skip, size_t n,
    const ClassifierParams *p)
{
	uint32_t *order = malloc(sizeof(*order) * (n ? n : 1));
	double z[CLASSIFIER_LABELS_MAX], prob[CLASSIFIER_LABELS_MAX], g[CLASSIFIER_LABELS_MAX];
	uint64_t rng = p->seed ? p->seed : 0x9E3779B97F4A7C15ull;
	size_t m = 0;

	if (!order)
		return;
	for (size_t i = 0; i < n; i++)
		if (!skip[i])
			order[m++] = (uint32_t)i;
	for (unsigned e = 0; e < p->epochs; e++) {
		double lr = p->learning_rate / sqrt(1.0 + e);

		for (size_t i = m; i > 1; i--) {
			size_t j = (size_t)(xorshift(&rng) % i);
			uint32_t t = order[i - 1];

			order[i - 1] = order[j];
			order[j] = t;
		}
		for (size_t q = 0; q < m; q++) {
			const ClassifierExample *x = &ex[order[q]];
			uint32_t y = x->label;

			logits(c, f, order[q], z);
			softmax(z, c->nlabels, 1.0, prob);
			if (!x->negative) {
				for (uint32_t k = 0; k < c->nlabels; k++)
					g[k] = prob[k] - (k == y);
			} else {
				/* d/dz_k of -log(1 - p_y) = p_y (δ_ky - p_k) / (1 - p_y) */
				double r = prob[y] / fmax(1 - prob[y], MIN_PROB);

				for (uint32_t k = 0; k < c->nlabels; k++)
					g[k] = r * ((k == y) - prob[k]);
			}
			for (uint32_t k = 0; k < c->nlabels; k++) {
				g[k] *= lr * x->weight;
				c->bias[k] -= (float)g[k];
			}
			for (uint32_t a = f->off[order[q]]; a < f->off[order[q] + 1]; a++) {
				float *wr = c->w + (size_t)f->idx[a] * c->nlabels;

				for (uint32_t k = 0; k < c->nlabels; k++)
					wr[k] -= (float)(f->scale[order[q]] * g[k]);
			}
		}
	}
	free(order);
}

/* Golden-section search of the temperature (0.05..20, on a log scale) minimising the
 * log loss of the held-out logits. */
static double
fit_temperature(const double *z, const uint32_t *label, size_t n, uint32_t k)
{
	const double phi = 0.6180339887498949;
	double a = log(0.05), b = log(20.0), x1 = b - phi * (b - a), x2 = a + phi * (b - a);
	double f1 = log_loss(z, label, n, k, exp(x1)), f2 = log_loss(z, label, n, k, exp(x2));

	for (int i = 0; i < 60; i++) {
		if (f1 < f2) {
			b = x2, x2 = x1, f2 = f1;
			x1 = b - phi * (b - a);
			f1 = log_loss(z, label, n, k, exp(x1));
		} else {
			a = x1, x1 = x2, f1 = f2;
			x2 = a + phi * (b - a);
			f2 = log_loss(z, label, n, k, exp(x2));
		}
	}
	return exp((a + b) / 2);
}

static double
log_loss(const double *z, const uint32_t *label, size_t n, uint32_t k, double t)
{
	double p[CLASSIFIER_LABELS_MAX], sum = 0;

	for (size_t i = 0; i < n; i++) {
		softmax(z + i * k, k, t, p);
		sum -= log(fmax(p[label[i]], MIN_PROB));
	}
	return sum;
}

static bool
labels_valid(const char *const *labels, size_t n)
{
	if (!labels || n < 1 || n > CLASSIFIER_LABELS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		size_t l = labels[i] ? strlen(labels[i]) : 0;

		if (l < 1 || l > CLASSIFIER_LABEL_MAX)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return false;
	}
	return true;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The sorted distinct symbols of every example's title and text. */
static bool
vocab_build(Classifier *c, const ClassifierExample *ex, size_t n)
{
	size_t total = 0, m = 0;
	uint32_t *all;

	for (size_t i = 0; i < n; i++)
		total += (ex[i].title ? strlen(ex[i].title) : 0) + (ex[i].text ? strlen(ex[i].text) : 0);
	all = malloc(sizeof(*all) * (total ? total : 1));
	if (!all)
		return false;
	for (size_t i = 0; i < n; i++) {
		m += vocab_add_text(all + m, ex[i].title);
		m += vocab_add_text(all + m, ex[i].text);
	}
	qsort(all, m, sizeof(*all), u32_cmp);
	c->nvocab = 0;
	for (size_t i = 0; i < m; i++)
		if (i == 0 || all[i] != all[i - 1])
			all[c->nvocab++] = all[i];
	c->vocab = all;
	return true;
}

/* The symbols of s but boundaries into out (at most strlen(s)); returns how many. */
static size_t
vocab_add_text(uint32_t *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *end;
	size_t n = 0;

	if (!s)
		return 0;
	end = p + strlen(s);
	while (p < end) {
		uint32_t sym = normalise(next_symbol(&p, end));

		if (sym != BOUNDARY)
			out[n++] = sym;
	}
	return n;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}
