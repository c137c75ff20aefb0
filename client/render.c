/*
 * render: JSON answers as aligned text (see render.h).
 */
#include "render.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"

#define CELL_MAX 40		/* widest generic table cell, in columns */
#define TEXT_MAX 36		/* widest title or text cell */
#define MAX_DEPTH 3		/* nesting of sections before plain tables */

/* Flattened "a.b" keys and their texts, in document order. */
typedef struct Pairs {
	char **key;
	char **value;
	size_t n;
	size_t cap;
} Pairs;

typedef struct Column {
	const char *header;
	int max_width;		/* 0: no limit */
	bool right;
} Column;

static bool pairs_add(Pairs *p, const char *key, const char *value);
static const char *pairs_find(const Pairs *p, const char *key);
static void pairs_free(Pairs *p);
static void flatten(json_object *obj, const char *prefix, bool count_tables, Pairs *out);
static void scalar_text(json_object *v, char *buf, size_t len);
static char *join_scalars(json_object *arr);
static bool is_table(json_object *v);
static size_t tables(json_object *obj);
static bool numeric(const char *text);
static int render_section(json_object *doc, int depth);
static int render_array(json_object *arr, int depth);
static int generic_table(json_object *arr);
static int case_table(json_object *arr);
static Table *table_from(const Column *cols, size_t n);
static void due_text(json_object *c, char *buf, size_t len);
static void rate_text(json_object *row, const char *key, char *buf, size_t len);
static bool rates_row(Table *t, json_object *row, const char *key) __attribute__((warn_unused_result));
static int print_table(Table *t, bool complete);
static int not_a_list(void);

/*
 *********************************
 * Public functions
 *********************************
 */

json_object *
render_get(json_object *obj, const char *path)
{
	char name[128];

	while (obj && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(name) || !json_object_is_type(obj, json_type_object))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		if (!json_object_object_get_ex(obj, name, &obj))
			return NULL;
		path += n + (path[n] == '.');
	}
	return obj;
}

const char *
render_text(json_object *obj, const char *path, char *buf, size_t len)
{
	scalar_text(render_get(obj, path), buf, len);
	return buf;
}

const char *
render_time(const char *stamp, char *buf, size_t len)
{
	if (strlen(stamp) >= 16 && stamp[10] == 'T')
		snprintf(buf, len, "%.10s %.5s", stamp, stamp + 11);
	else
		snprintf(buf, len, "%s", stamp);
	return buf;
}

json_object *
render_items(json_object *doc)
{
	json_object *items;

	if (json_object_is_type(doc, json_type_array))
		return doc;
	if (!json_object_is_type(doc, json_type_object))
		return NULL;
	if (json_object_object_get_ex(doc, "items", &items) &&
	    json_object_is_type(items, json_type_array))
		return items;
	json_object_object_foreach(doc, key, value)
	{
		(void)key;
		if (json_object_is_type(value, json_type_array))
			return value;
	}
	return NULL;
}

int
render_any(json_object *doc)
{
	return render_section(doc, 0);
}

int
render_case_table(json_object *doc)
{
	json_object *items = render_items(doc);

	return items ? case_table(items) : not_a_list();
}

int
render_history(json_object *doc)
{
	static const Column cols[] = {
		{"AT", 0, false}, {"ACTOR", 16, false}, {"ROLE", 0, false}, {"ACTION", 0, false},
		{"FROM", 0, false}, {"TO", 0, false}, {"DATA", 50, false},
	};
	json_object *items = render_items(doc);
	Table *t = items ? table_from(cols, sizeof(cols) / sizeof(cols[0])) : NULL;
	char at[64], stamp[64], actor[128], role[32], action[64], from[32], to[32];
	bool complete = true;

	if (t == NULL)
		return items ? HL_FAILED : not_a_list();
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);
		json_object *data = render_get(e, "data");
		const char *d = json_object_is_type(data, json_type_object) &&
					json_object_object_length(data) > 0
				    ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE)
				    : "";
		const char *cells[] = {
			render_time(render_text(e, "at", stamp, sizeof(stamp)), at, sizeof(at)),
			render_text(e, "actor", actor, sizeof(actor)),
			render_text(e, "role", role, sizeof(role)),
			render_text(e, "action", action, sizeof(action)),
			render_text(e, "from", from, sizeof(from)),
			render_text(e, "to", to, sizeof(to)),
			d,
		};

		complete = table_add_row(t, cells) && complete;
	}
	return print_table(t, complete);
}

int
render_rules(json_object *doc)
{
	static const Column cols[] = {
		{"ID", 0, true}, {"PRIORITY", 0, true}, {"ENABLED", 0, false},
		{"DEPARTMENT", 0, false}, {"NAME", 20, false}, {"ANY", 30, false},
		{"ALL", 20, false}, {"NONE", 20, false}, {"ONLY", 30, false},
	};
	static const char *const limits[] = {"districts", "types", "channels", "categories"};
	json_object *items = render_items(doc);
	Table *t = items ? table_from(cols, sizeof(cols) / sizeof(cols[0])) : NULL;
	char id[32], prio[32], enabled[16], dept[64], name[256], only[512];
	bool complete = true;

	if (t == NULL)
		return items ? HL_FAILED : not_a_list();
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *r = json_object_array_get_idx(items, i);
		char *any = join_scalars(render_get(r, "match.any"));
		char *all = join_scalars(render_get(r, "match.all"));
		char *none = join_scalars(render_get(r, "match.none"));

		only[0] = '\0';
		for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++) {
			char path[32];
			char *list;

			snprintf(path, sizeof(path), "match.%s", limits[k]);
			list = join_scalars(render_get(r, path));
			if (list && list[0]) {
				size_t used = strlen(only);

				snprintf(only + used, sizeof(only) - used, "%s%s=%s", used ? " " : "",
					 limits[k], list);
			}
			free(list);
		}
		const char *cells[] = {
			render_text(r, "id", id, sizeof(id)),
			render_text(r, "priority", prio, sizeof(prio)),
			render_text(r, "enabled", enabled, sizeof(enabled)),
			render_text(r, "department", dept, sizeof(dept)),
			render_text(r, "name", name, sizeof(name)),
			any, all, none, only,
		};

		complete = table_add_row(t, cells) && complete;
		free(any);
		free(all);
		free(none);
	}
	return print_table(t, complete);
}

int
render_rates(json_object *doc)
{
	static const Column cols[] = {
		{"KEY", 20, false},     {"RECEIVED", 0, true}, {"ANSWERED", 0, true},
		{"DISPATCHED", 0, true}, {"RESPONSE", 0, true}, {"ON TIME", 0, true},
		{"RESOLVED", 0, true},  {"SATISFIED", 0, true}, {"AVG", 0, true},
		{"RETURNED", 0, true},  {"REOPENED", 0, true}, {"OVERDUE", 0, true},
	};
	json_object *rows = render_get(doc, "rows");
	Table *t;
	char from[32], to[32], by[32];
	bool complete = true;

	if (!json_object_is_type(rows, json_type_array))
		return not_a_list();
	t = table_from(cols, sizeof(cols) / sizeof(cols[0]));
	if (t == NULL)
		return HL_FAILED;
	printf("cases created from %s to %s (exclusive), by %s\n",
	       render_text(doc, "from", from, sizeof(from)), render_text(doc, "to", to, sizeof(to)),
	       render_text(doc, "by", by, sizeof(by)));
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		char key[256];

		render_text(row, "key", key, sizeof(key));
		complete = rates_row(t, row, key[0] ? key : "(none)") && complete;
	}
	if (render_get(doc, "total"))
		complete = rates_row(t, render_get(doc, "total"), "(total)") && complete;
	return print_table(t, complete);
}

int
render_articles(json_object *doc)
{
	static const Column cols[] = {
		{"ID", 0, true}, {"TITLE", 30, false}, {"DEPARTMENT", 0, false}, {"TAGS", 24, false},
		{"ANSWER", TEXT_MAX, false},
	};
	json_object *items = render_items(doc);
	Table *t = items ? table_from(cols, sizeof(cols) / sizeof(cols[0])) : NULL;
	char id[32], title[1024], dept[64], body[4096];
	bool complete = true;

	if (t == NULL)
		return items ? HL_FAILED : not_a_list();
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *r = json_object_array_get_idx(items, i);
		char *tags = join_scalars(render_get(r, "tags"));
		const char *cells[] = {render_text(r, "id", id, sizeof(id)), render_text(r, "title", title, sizeof(title)),
				       render_text(r, "department", dept, sizeof(dept)), tags ? tags : "",
				       render_text(r, "body", body, sizeof(body))};

		complete = table_add_row(t, cells) && complete;
		free(tags);
	}
	return print_table(t, complete);
}

int
render_case_line(json_object *doc)
{
	char id[32], number[64], state[32], dept[64];

	if (render_get(doc, "id") == NULL)
		return render_any(doc);
	render_text(doc, "department", dept, sizeof(dept));
	printf("case %s (%s): now %s%s%s\n", render_text(doc, "id", id, sizeof(id)),
	       render_text(doc, "number", number, sizeof(number)),
	       render_text(doc, "state", state, sizeof(state)), dept[0] ? ", department " : "",
	       dept);
	return HL_OK;
}

/*
 *********************************
 * Helpers
 *********************************
 */

static bool
pairs_add(Pairs *p, const char *key, const char *value)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **k = realloc(p->key, cap * sizeof(char *));

		if (k == NULL)
			return false;
		p->key = k;
		char **v = realloc(p->value, cap * sizeof(char *));

		if (v == NULL)
			return false;
		p->value = v;
		p->cap = cap;
	}
	p->key[p->n] = strdup(key);
	p->value[p->n] = strdup(value);
	if (p->key[p->n] == NULL || p->value[p->n] == NULL) {
		free(p->key[p->n]);
		free(p->value[p->n]);
		return false;
	}
	p->n++;
	return true;
}

static const char *
pairs_find(const Pairs *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->key[i], key) == 0)
			return p->value[i];
	}
	return NULL;
}

static void
pairs_free(Pairs *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->key[i]);
		free(p->value[i]);
	}
	free(p->key);
	free(p->value);
	memset(p, 0, sizeof(*p));
}

/* Add the scalars of obj to out as "prefix.key". Arrays of scalars are
 * joined; arrays of objects (tables) become "N items" with count_tables,
 * and are left out otherwise (render_section prints them itself). */
static void
flatten(json_object *obj, const char *prefix, bool count_tables, Pairs *out)
{
	char name[256], text[512];

	json_object_object_foreach(obj, key, v)
	{
		snprintf(name, sizeof(name), "%s%s%s", prefix ? prefix : "", prefix ? "." : "", key);
		if (v == NULL)
			continue;
		if (json_object_is_type(v, json_type_object)) {
			flatten(v, name, count_tables, out);
		} else if (is_table(v)) {
			if (count_tables) {
				snprintf(text, sizeof(text), "%zu items", json_object_array_length(v));
				pairs_add(out, name, text);
			}
		} else if (json_object_is_type(v, json_type_array)) {
			char *list = join_scalars(v);

			/* In a key: value block an empty list says so; in a table
			 * cell it stays empty. */
			pairs_add(out, name, list && list[0] ? list : count_tables ? "" : "(none)");
			free(list);
		} else {
			scalar_text(v, text, sizeof(text));
			pairs_add(out, name, text);
		}
	}
}

static void
scalar_text(json_object *v, char *buf, size_t len)
{
	if (v == NULL)
		snprintf(buf, len, "%s", "");
	else if (json_object_is_type(v, json_type_string))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else
		snprintf(buf, len, "%s",
			 json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The elements of a JSON array as "a, b, c" (malloc'd; "" when v is not an
 * array). */
static char *
join_scalars(json_object *arr)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	size_t cap = 1, used = 0;
	char *out = NULL, text[512];

	for (size_t pass = 0; pass < 2; pass++) {
		if (pass == 1 && (out = malloc(cap)) == NULL)
			return NULL;
		used = 0;
		for (size_t i = 0; i < n; i++) {
			scalar_text(json_object_array_get_idx(arr, i), text, sizeof(text));
			if (pass == 0) {
				cap += strlen(text) + 2;
				continue;
			}
			used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", text);
		}
	}
	out[used] = '\0';
	return out;
}

/* An array holding objects: printed as a table. */
static bool
is_table(json_object *v)
{
	return json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0 &&
	       json_object_is_type(json_object_array_get_idx(v, 0), json_type_object);
}

/* How many members of obj are tables. */
static size_t
tables(json_object *obj)
{
	size_t n = 0;

	json_object_object_foreach(obj, key, v)
	{
		(void)key;
		n += is_table(v);
	}
	return n;
}

static bool
numeric(const char *text)
{
	char *end;

	if (text[0] == '\0')
		return true;
	strtod(text, &end);
	return *end == '\0' && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9'));
}

static int
render_section(json_object *doc, int depth)
{
	Pairs p = {0};
	KvBlock *kv;
	char text[512];
	bool printed;

	if (doc == NULL)
		return HL_OK;
	if (json_object_is_type(doc, json_type_array))
		return render_array(doc, depth);
	if (!json_object_is_type(doc, json_type_object)) {
		scalar_text(doc, text, sizeof(text));
		puts(text);
		return HL_OK;
	}
	flatten(doc, NULL, false, &p);
	printed = p.n > 0;
	kv = kv_new();
	for (size_t i = 0; kv && i < p.n; i++) {
		if (!kv_add(kv, p.key[i], p.value[i])) {
			kv_free(kv);
			kv = NULL;
		}
	}
	if (kv)
		kv_print(kv, stdout);
	else
		fputs("hotline: out of memory while printing the answer\n", stderr);
	kv_free(kv);
	pairs_free(&p);
	json_object_object_foreach(doc, key, v)
	{
		if (!is_table(v))
			continue;
		/* A list answer ({"items": [...], "next": null}) is just its table. */
		if (printed || tables(doc) > 1)
			printf("%s%s:\n", printed ? "\n" : "", key);
		printed = true;
		render_array(v, depth + 1);
	}
	return HL_OK;
}

static int
render_array(json_object *arr, int depth)
{
	size_t n = json_object_array_length(arr);
	json_object *first = n ? json_object_array_get_idx(arr, 0) : NULL;
	bool nested = false;
	char text[512];

	if (n == 0) {
		puts("(none)");
		return HL_OK;
	}
	if (!json_object_is_type(first, json_type_object)) {
		for (size_t i = 0; i < n; i++) {
			scalar_text(json_object_array_get_idx(arr, i), text, sizeof(text));
			puts(text);
		}
		return HL_OK;
	}
	if (render_get(first, "id") && render_get(first, "state") && render_get(first, "number"))
		return case_table(arr);
	json_object_object_foreach(first, key, v)
	{
		(void)key;
		nested = nested || is_table(v);
	}
	if (!nested || depth >= MAX_DEPTH)
		return generic_table(arr);
	/* Groups holding their own lists (cases by department): one section each. */
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			putchar('\n');
		render_section(json_object_array_get_idx(arr, i), depth + 1);
	}
	return HL_OK;
}

static int
generic_table(json_object *arr)
{
	size_t n = json_object_array_length(arr);
	Pairs cols = {0}, *rows = calloc(n, sizeof(Pairs));
	const char **headers = NULL, **cells = NULL;
	Table *t = NULL;
	int rc = HL_FAILED;
	bool complete = true;

	if (rows == NULL)
		return HL_FAILED;
	for (size_t i = 0; i < n; i++) {
		flatten(json_object_array_get_idx(arr, i), NULL, true, &rows[i]);
		for (size_t k = 0; k < rows[i].n; k++) {
			if (pairs_find(&cols, rows[i].key[k]) == NULL)
				pairs_add(&cols, rows[i].key[k], rows[i].key[k]);
		}
	}
	headers = calloc(cols.n + 1, sizeof(char *));
	cells = calloc(cols.n + 1, sizeof(char *));
	if (headers == NULL || cells == NULL)
		goto done;
	for (size_t k = 0; k < cols.n; k++) {
		for (char *c = cols.value[k]; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		headers[k] = cols.value[k];
	}
	t = table_new(cols.n, headers);
	if (t == NULL)
		goto done;
	for (size_t k = 0; k < cols.n; k++) {
		bool right = true;

		for (size_t i = 0; i < n && right; i++) {
			const char *v = pairs_find(&rows[i], cols.key[k]);

			right = v == NULL || numeric(v);
		}
		table_set_max_width(t, k, CELL_MAX);
		if (right)
			table_set_right(t, k);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < cols.n; k++)
			cells[k] = pairs_find(&rows[i], cols.key[k]);
		complete = table_add_row(t, cells) && complete;
	}
	rc = print_table(t, complete);
	t = NULL;
done:
	table_free(t);
	for (size_t i = 0; i < n; i++)
		pairs_free(&rows[i]);
	free(rows);
	pairs_free(&cols);
	free(headers);
	free(cells);
	return rc;
}

static int
case_table(json_object *arr)
{
	static const Column cols[] = {
		{"ID", 0, true},         {"CREATED", 0, false},   {"STATE", 0, false},
		{"TYPE", 0, false},      {"DEPARTMENT", 14, false}, {"DISTRICT", 10, false},
		{"DUE", 0, false},       {"FLAGS", 0, false},     {"TITLE", TEXT_MAX, false},
	};
	Table *t = table_from(cols, sizeof(cols) / sizeof(cols[0]));
	char id[32], stamp[64], created[64], state[32], type[32], dept[64], district[128];
	char due[64], flags[64], title[1024];
	bool complete = true;

	if (t == NULL)
		return HL_FAILED;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *c = json_object_array_get_idx(arr, i);

		bool urgent = json_object_get_boolean(render_get(c, "urgent"));
		bool overdue = json_object_get_boolean(render_get(c, "overdue"));
		char *late = join_scalars(render_get(c, "late"));

		/* "late" (overdue report) names the clocks that ran out. */
		snprintf(flags, sizeof(flags), "%s%s%s%s%s", urgent ? "urgent" : "",
			 urgent && overdue ? " " : "", overdue ? "overdue" : "",
			 late && late[0] && (urgent || overdue) ? " " : "",
			 late && late[0] ? late : "");
		free(late);
		render_text(c, "title", title, sizeof(title));
		if (title[0] == '\0')
			render_text(c, "text", title, sizeof(title));
		due_text(c, due, sizeof(due));
		const char *cells[] = {
			render_text(c, "id", id, sizeof(id)),
			render_time(render_text(c, "created_at", stamp, sizeof(stamp)), created,
				    sizeof(created)),
			render_text(c, "state", state, sizeof(state)),
			render_text(c, "type", type, sizeof(type)),
			render_text(c, "department", dept, sizeof(dept)),
			render_text(c, "district", district, sizeof(district)),
			due, flags, title,
		};

		complete = table_add_row(t, cells) && complete;
	}
	return print_table(t, complete);
}

static Table *
table_from(const Column *cols, size_t n)
{
	const char *headers[16];
	Table *t;

	for (size_t i = 0; i < n; i++)
		headers[i] = cols[i].header;
	t = table_new(n, headers);
	for (size_t i = 0; t && i < n; i++) {
		table_set_max_width(t, i, cols[i].max_width);
		if (cols[i].right)
			table_set_right(t, i);
	}
	return t;
}

/* "in 3h05m" / "2d01h late" from due_in_minutes (inbox) or
 * overdue_minutes (overdue report), else the finish_by deadline. */
static void
due_text(json_object *c, char *buf, size_t len)
{
	json_object *due = render_get(c, "due_in_minutes");
	char stamp[64];
	long long m, a;

	if (due == NULL || json_object_is_type(due, json_type_null)) {
		/* The overdue report counts minutes past the missed deadline. */
		due = render_get(c, "overdue_minutes");
		if (due == NULL || json_object_is_type(due, json_type_null)) {
			render_time(render_text(c, "deadlines.finish_by", stamp, sizeof(stamp)), buf,
				    len);
			return;
		}
		m = -json_object_get_int64(due);
	} else {
		m = json_object_get_int64(due);
	}
	a = m < 0 ? -m : m;
	if (a >= 1440)
		snprintf(buf, len, "%s%lldd%02lldh%s", m < 0 ? "" : "in ", a / 1440, a % 1440 / 60,
			 m < 0 ? " late" : "");
	else if (a >= 60)
		snprintf(buf, len, "%s%lldh%02lldm%s", m < 0 ? "" : "in ", a / 60, a % 60,
			 m < 0 ? " late" : "");
	else
		snprintf(buf, len, "%s%lldm%s", m < 0 ? "" : "in ", a, m < 0 ? " late" : "");
}

/* A rate as a percentage, "-" when null (no denominator). */
static void
rate_text(json_object *row, const char *key, char *buf, size_t len)
{
	json_object *v = render_get(row, key);

	if (v == NULL || json_object_is_type(v, json_type_null))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", json_object_get_double(v) * 100.0);
}

static bool
rates_row(Table *t, json_object *row, const char *key)
{
	char received[32], answered[32], dispatched[32], response[32], on_time[32];
	char resolved[32], satisfied[32], avg[32], returned[32], reopened[32], overdue[32];
	json_object *score = render_get(row, "avg_score");

	rate_text(row, "response_rate", response, sizeof(response));
	rate_text(row, "on_time_rate", on_time, sizeof(on_time));
	rate_text(row, "resolution_rate", resolved, sizeof(resolved));
	rate_text(row, "satisfaction_rate", satisfied, sizeof(satisfied));
	rate_text(row, "return_rate", returned, sizeof(returned));
	if (score == NULL || json_object_is_type(score, json_type_null))
		snprintf(avg, sizeof(avg), "-");
	else
		snprintf(avg, sizeof(avg), "%.2f", json_object_get_double(score));
	const char *cells[] = {
		key,
		render_text(row, "received", received, sizeof(received)),
		render_text(row, "answered", answered, sizeof(answered)),
		render_text(row, "dispatched", dispatched, sizeof(dispatched)),
		response, on_time, resolved, satisfied, avg, returned,
		render_text(row, "reopened", reopened, sizeof(reopened)),
		render_text(row, "overdue_open", overdue, sizeof(overdue)),
	};

	return table_add_row(t, cells);
}

/* Print and free t; complete is false when a row could not be added (out of memory): then
 * nothing is printed, since a listing with rows silently missing would mislead. */
static int
print_table(Table *t, bool complete)
{
	if (!complete) {
		table_free(t);
		fputs("hotline: out of memory while building the table\n", stderr);
		return HL_FAILED;
	}
	if (table_rows(t) == 0)
		puts("(none)");
	else
		table_print(t, stdout);
	table_free(t);
	return HL_OK;
}

static int
not_a_list(void)
{
	fputs("hotline: the server's answer is not a list; see it with --json\n", stderr);
	return HL_FAILED;
}

/* One "department (confidence)" line of the model's view; nothing for null. */
static void
print_guess(const char *lead, json_object *g)
{
	char dept[128], conf[32];

	if (!json_object_is_type(g, json_type_object))
		return;
	printf("%s%s (%.0f%%)\n", lead, render_text(g, "department", dept, sizeof(dept)),
	       100 * atof(render_text(g, "confidence", conf, sizeof(conf))));
}

int
render_route_explained(json_object *doc)
{
	json_object *rules = render_get(doc, "rules"), *model = render_get(doc, "model"), *kw;
	char dept[128], method[32], rule[160], id[32];

	printf("decision: %s (%s)\n", render_text(doc, "department", dept, sizeof(dept))[0] ? dept : "pending",
	       render_text(doc, "method", method, sizeof(method)));
	if (json_object_is_type(rules, json_type_object) && render_get(rules, "rule_id")) {
		printf("rules alone: %s by rule %s %s, matched:", render_text(rules, "department", dept, sizeof(dept)),
		       render_text(rules, "rule_id", id, sizeof(id)), render_text(rules, "rule_name", rule, sizeof(rule)));
		kw = render_get(rules, "matched");
		for (size_t i = 0; json_object_is_type(kw, json_type_array) && i < json_object_array_length(kw); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(kw, i)));
		printf("\n");
	} else {
		printf("rules alone: no rule matches\n");
	}
	if (!json_object_is_type(model, json_type_array) || json_object_array_length(model) == 0) {
		printf("model: none loaded\n");
		return HL_OK;
	}
	printf("model's top three:\n");
	for (size_t i = 0; i < json_object_array_length(model); i++)
		print_guess("  ", json_object_array_get_idx(model, i));
	return HL_OK;
}
