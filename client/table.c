/*
 * table: display-width measuring, truncation, aligned tables and
 * "key: value" blocks for the hotline client.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

#define ELLIPSIS "\xe2\x80\xa6"	/* U+2026, one column */
#define REPLACEMENT 0xFFFDu

typedef struct Range {
	uint32_t first;
	uint32_t last;
} Range;

struct Table {
	size_t ncols;
	char **headers;
	int *max_width;
	bool *right;
	char **cells;		/* nrows * ncols fitted copies */
	size_t nrows;
	size_t cap;
};

typedef struct KvPair {
	char *key;
	char *value;
} KvPair;

struct KvBlock {
	KvPair *pairs;
	size_t n;
	size_t cap;
};

static bool in_ranges(uint32_t cp, const Range *r, size_t n);
static size_t sanitize_cp(const char *s, size_t len, uint32_t *cp, int *width);
static void put_cp(char *out, size_t *pos, uint32_t cp);
static void print_padded(FILE *out, const char *cell, int width, int col_width, bool right,
			 bool last);
static bool grow(void **p, size_t *cap, size_t need, size_t elem);

/* Zero-width code points: combining marks, zero-width spaces and joiners,
 * variation selectors, the byte order mark. */
static const Range zero_width[] = {
	{0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A},
	{0x064B, 0x065F}, {0x1160, 0x11FF}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
	{0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF},
	{0x302A, 0x302D}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
	{0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

/* East Asian Wide (W) and Fullwidth (F) blocks of Unicode 15, merged where
 * the gaps hold only unassigned code points. Sorted for binary search. */
static const Range wide[] = {
	{0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC},
	{0x23F0, 0x23F0}, {0x23F3, 0x23F3}, {0x25FD, 0x25FE}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
	{0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE},
	{0x26D4, 0x26D4}, {0x26EA, 0x26EA}, {0x26F2, 0x26F3}, {0x26F5, 0x26F5},
	{0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B},
	{0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF},
	{0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x2E80, 0x303E},
	{0x3041, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF},
	{0xA960, 0xA97F}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19},
	{0xFE30, 0xFE6F}, {0xFF00, 0xFF60}, {0xFFE0, 0xFFE6}, {0x16FE0, 0x16FE4},
	{0x17000, 0x18AFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
	{0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B},
	{0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F64F},
	{0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
	{0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

/*
 *********************************
 * Public functions
 *********************************
 */

int
table_cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 0;
	if (cp < 0x300)
		return 1;
	if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
		return 0;
	if (in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])))
		return 2;
	return 1;
}

size_t
table_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	size_t n = utf8_decode(s, len, cp);

	if (n)
		return n;
	*cp = REPLACEMENT;
	return 1;
}

int
table_width(const char *s)
{
	size_t len = strlen(s);
	int width = 0;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		i += table_utf8_decode(s + i, len - i, &cp);
		width += table_cp_width(cp);
	}
	return width;
}

char *
table_fit(const char *s, int max_width)
{
	size_t len = strlen(s);
	size_t pos = 0, cut = 0;
	int width = 0, w;
	uint32_t cp;
	/* Each input byte yields at most 3 output bytes (U+FFFD), plus "…". */
	char *out = malloc(len * 3 + sizeof(ELLIPSIS));

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		i += sanitize_cp(s + i, len - i, &cp, &w);
		if (max_width > 0 && width + w > max_width - 1 && cut == 0)
			cut = pos;	/* where "…" goes if the rest does not fit */
		if (max_width > 0 && width + w > max_width) {
			memcpy(out + cut, ELLIPSIS, sizeof(ELLIPSIS));
			return out;
		}
		put_cp(out, &pos, cp);
		width += w;
	}
	out[pos] = '\0';
	return out;
}

Table *
table_new(size_t ncols, const char *const *headers)
{
	Table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	t->headers = calloc(ncols, sizeof(char *));
	t->max_width = calloc(ncols, sizeof(int));
	t->right = calloc(ncols, sizeof(bool));
	if (t->headers == NULL || t->max_width == NULL || t->right == NULL)
		goto fail;
	for (size_t i = 0; i < ncols; i++) {
		t->headers[i] = table_fit(headers[i], 0);
		if (t->headers[i] == NULL)
			goto fail;
	}
	return t;
fail:
	table_free(t);
	return NULL;
}

void
table_set_max_width(Table *t, size_t col, int max_width)
{
	t->max_width[col] = max_width;
}

void
table_set_right(Table *t, size_t col)
{
	t->right[col] = true;
}

bool
table_add_row(Table *t, const char *const *cells)
{
	char **row;

	if (!grow((void **)&t->cells, &t->cap, (t->nrows + 1) * t->ncols, sizeof(char *)))
		return false;
	row = t->cells + t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = table_fit(cells[i] ? cells[i] : "", t->max_width[i]);
		if (row[i] == NULL) {
			while (i-- > 0)
				free(row[i]);
			return false;
		}
	}
	t->nrows++;
	return true;
}

size_t
table_rows(const Table *t)
{
	return t->nrows;
}

void
table_print(const Table *t, FILE *out)
{
	int *col_width = calloc(t->ncols, sizeof(int));

	if (col_width == NULL)
		return;
	for (size_t c = 0; c < t->ncols; c++)
		col_width[c] = table_width(t->headers[c]);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			int w = table_width(t->cells[r * t->ncols + c]);

			if (w > col_width[c])
				col_width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		char **row = r == 0 ? t->headers : t->cells + (r - 1) * t->ncols;
		size_t last = t->ncols;

		/* Empty cells at the end of a line print nothing: no trailing blanks. */
		while (last > 1 && row[last - 1][0] == '\0')
			last--;
		for (size_t c = 0; c < last; c++)
			print_padded(out, row[c], table_width(row[c]), col_width[c], t->right[c],
				     c + 1 == last);
		fputc('\n', out);
	}
	free(col_width);
}

void
table_free(Table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->max_width);
	free(t->right);
	free(t->cells);
	free(t);
}

KvBlock *
kv_new(void)
{
	return calloc(1, sizeof(KvBlock));
}

bool
kv_add(KvBlock *kv, const char *key, const char *value)
{
	KvPair pair = {table_fit(key, 0), strdup(value ? value : "")};

	if (pair.key == NULL || pair.value == NULL ||
	    !grow((void **)&kv->pairs, &kv->cap, kv->n + 1, sizeof(KvPair))) {
		free(pair.key);
		free(pair.value);
		return false;
	}
	kv->pairs[kv->n++] = pair;
	return true;
}

void
kv_print(const KvBlock *kv, FILE *out)
{
	int key_width = 0;

	for (size_t i = 0; i < kv->n; i++) {
		int w = table_width(kv->pairs[i].key);

		if (w > key_width)
			key_width = w;
	}
	for (size_t i = 0; i < kv->n; i++) {
		const char *key = kv->pairs[i].key;
		const char *line = kv->pairs[i].value;

		fprintf(out, "%s:", key);
		if (line[0] != '\0')
			fprintf(out, "%*s", key_width - table_width(key) + 1, "");
		for (;;) {
			const char *nl = strchr(line, '\n');
			size_t n = nl ? (size_t)(nl - line) : strlen(line);
			char *piece = strndup(line, n);
			char *clean = piece ? table_fit(piece, 0) : NULL;

			fprintf(out, "%s\n", clean ? clean : "");
			free(clean);
			free(piece);
			if (nl == NULL)
				break;
			line = nl + 1;
			fprintf(out, "%*s", key_width + 2, "");
		}
	}
}

void
kv_free(KvBlock *kv)
{
	if (kv == NULL)
		return;
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->pairs[i].key);
		free(kv->pairs[i].value);
	}
	free(kv->pairs);
	free(kv);
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
in_ranges(uint32_t cp, const Range *r, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < r[mid].first)
			hi = mid;
		else if (cp > r[mid].last)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Decode one code point for display: control characters become a space,
 * so a newline or a tab in a cell cannot break the layout. */
static size_t
sanitize_cp(const char *s, size_t len, uint32_t *cp, int *width)
{
	size_t n = table_utf8_decode(s, len, cp);

	if (*cp < 0x20 || *cp == 0x7F || (*cp >= 0x80 && *cp < 0xA0))
		*cp = ' ';
	*width = table_cp_width(*cp);
	return n;
}

static void
put_cp(char *out, size_t *pos, uint32_t cp)
{
	*pos += utf8_encode(cp, out + *pos);
}

static void
print_padded(FILE *out, const char *cell, int width, int col_width, bool right, bool last)
{
	int pad = col_width - width;

	if (right)
		fprintf(out, "%*s%s", pad, "", cell);
	else if (last)
		fputs(cell, out);
	else
		fprintf(out, "%s%*s", cell, pad, "");
	if (!last)
		fputs("  ", out);
}

/* Make room for need elements of elem bytes in *p (capacity *cap). */
static bool
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (q == NULL)
		return false;
	*p = q;
	*cap = n;
	return true;
}
