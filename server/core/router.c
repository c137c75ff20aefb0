/*
 * router: routing rules (API.md section 3): validation, JSON, and the matching engine.
 *
 * Engine layout. router_build copies the enabled rules, sorts them best first by
 * (priority, id, input order) and compiles each into a CRule whose keyword lists are
 * runs of pattern ids in one pool. Every keyword of every list goes into one
 * Aho-Corasick automaton. For each pattern id a posting list names the rules that have
 * it in `any`, in rule order; rules whose `any` is empty are listed apart ("always").
 *
 * router_route scans title and text separately into one `seen` bit set, then evaluates
 * only the candidates: the "always" rules and the posting lists of the keywords seen.
 * Since every list is in priority order, a list is abandoned as soon as its next rule's
 * priority is worse than the best match so far. Evaluating a rule twice is harmless
 * (same verdict), so candidates need no de-duplication.
 */
#include "core/router.h"
#include "core/utf8.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/aho.h"
#include "core/codes.h"

#define SEEN_STACK_WORDS 512	/* 32768 keywords before router_route needs malloc */

typedef enum ListKind { LIST_KEYWORD, LIST_DISTRICT, LIST_CATEGORY, LIST_TYPE, LIST_CHANNEL } ListKind;

typedef struct CRule {
	const RouterRule *src;	/* the router's own copy */
	int priority;
	uint32_t any_off, n_any;	/* distinct pattern ids of `any` */
	uint32_t all_off, n_all;	/* pattern ids of `all` */
	uint32_t none_off, n_none;	/* pattern ids of `none` */
	uint32_t pos_off, n_pos;	/* distinct ids of any+all; kw[] names them */
	bool any_always;	/* `any` empty, or holds an empty keyword */
	bool never;		/* a `none` keyword is empty: it occurs everywhere */
	bool has_types, has_channels;
	uint32_t types_mask, channels_mask;
} CRule;

typedef struct CCategory {
	char *code;
	char *department;
} CCategory;

struct Router {
	RouterRule *rules;	/* copies of the enabled rules, input order */
	CRule *crules;		/* best first */
	size_t nrules;
	Aho *aho;
	uint32_t *pool;		/* pattern ids of all rule lists */
	const char **kw;	/* parallel to pool: the keyword as the rule spells it */
	size_t npool;
	uint32_t *post_off;	/* npatterns + 1 offsets into post */
	uint32_t *post;		/* crule indices, ascending, per pattern (any lists) */
	uint32_t *always;	/* crule indices with any_always, ascending */
	size_t nalways;
	CCategory *cats;	/* sorted by code */
	size_t ncats;
	const char **depts;	/* the departments the rules name, each once, sorted (into rules) */
	size_t ndepts;
};

/* A case scan_case has read: what rule_matches needs. */
typedef struct CaseScan {
	const Router *r;
	const RouteInput *in;
	const uint64_t *seen;
	uint32_t type_bit, channel_bit;
} CaseScan;

/* router_route's walk: the best matching rule so far. */
typedef struct BestRule {
	CaseScan scan;
	const CRule *best;
	uint32_t count;	/* its distinct matched positives */
} BestRule;

/* router_route_candidates' walk: the departments found so far. */
typedef struct Candidates {
	CaseScan scan;
	RouterCandidate *out;
	size_t n, max;
} Candidates;

static const char *const type_names[] = {"consult", "complaint", "help", "report", "suggestion", "praise"};
static const char *const channel_names[] = {"phone", "web", "app", "wechat", "kiosk", "hall", "email", "open311"};

static bool is_blank(const char *s);
static int enum_index(const char *v, const char *const *names, size_t n);
static uint32_t enum_mask(const RouterList *l, const char *const *names, size_t n);
static bool list_copy(RouterList *dst, const RouterList *src);
static void list_clear(RouterList *l);
static bool parse_string_field(json_object *v, const char *field, size_t min, size_t max, char **out,
			       ApiError *err);
static bool parse_list(json_object *v, const char *field, ListKind kind, RouterList *out, ApiError *err);
static bool parse_match(json_object *v, RouterMatch *m, ApiError *err);
static json_object *list_to_json(const RouterList *l);
static bool add_keywords(Router *r, AhoBuilder *b, const RouterList *l, uint32_t *off, uint32_t *n,
			 bool *has_empty);
static bool compile(Router *r, const uint32_t *order);
static bool scan_case(const Router *r, const RouteInput *in, uint64_t **seen, uint32_t *type_bit,
		      uint32_t *channel_bit);
static void walk_candidates(const CaseScan *scan, bool (*visit)(const CRule *c, void *ctx), void *ctx);
static bool rule_matches(const CaseScan *scan, const CRule *c, uint32_t *count);
static bool consider(const CRule *c, void *ctx);
static bool candidate_add(const CRule *c, void *ctx);
static bool list_has(const RouterList *l, const char *v);
static bool put(json_object *o, const char *key, json_object *val);
static bool put_or_null(json_object *o, const char *key, const char *s);
static bool departments_list(Router *r);
static int str_ptr_cmp(const void *a, const void *b);
static int cat_cmp(const void *a, const void *b);

/*
 *********************************
 * Public functions: rules as values
 *********************************
 */

void
router_rule_init(RouterRule *rule)
{
	memset(rule, 0, sizeof(*rule));
	rule->priority = ROUTER_PRIORITY_DEFAULT;
	rule->enabled = true;
}

void
router_rule_clear(RouterRule *rule)
{
	if (!rule)
		return;
	free(rule->name);
	free(rule->department);
	list_clear(&rule->match.any);
	list_clear(&rule->match.all);
	list_clear(&rule->match.none);
	list_clear(&rule->match.districts);
	list_clear(&rule->match.types);
	list_clear(&rule->match.channels);
	list_clear(&rule->match.categories);
	memset(rule, 0, sizeof(*rule));
}

bool
router_rule_copy(RouterRule *dst, const RouterRule *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = src->id;
	dst->priority = src->priority;
	dst->enabled = src->enabled;
	dst->shipped = src->shipped;
	if ((src->name && !(dst->name = strdup(src->name))) ||
	    (src->department && !(dst->department = strdup(src->department))) ||
	    !list_copy(&dst->match.any, &src->match.any) || !list_copy(&dst->match.all, &src->match.all) ||
	    !list_copy(&dst->match.none, &src->match.none) ||
	    !list_copy(&dst->match.districts, &src->match.districts) ||
	    !list_copy(&dst->match.types, &src->match.types) ||
	    !list_copy(&dst->match.channels, &src->match.channels) ||
	    !list_copy(&dst->match.categories, &src->match.categories)) {
		router_rule_clear(dst);
		return false;
	}
	return true;
}

bool
router_rule_from_json(json_object *obj, RouterRule *out, ApiError *err)
{
	json_object *v;

	memset(out, 0, sizeof(*out));
	if (!obj || !json_object_is_type(obj, json_type_object))
		return api_error_set(err, 400, "bad_json", "", "a rule must be a JSON object");
	router_rule_init(out);

	json_object_object_foreach(obj, key, val) {
		(void)val;
		if (strcmp(key, "id") != 0 && strcmp(key, "name") != 0 && strcmp(key, "priority") != 0 &&
		    strcmp(key, "enabled") != 0 && strcmp(key, "department") != 0 && strcmp(key, "match") != 0) {
			api_error_set(err, 422, "invalid_field", key, "unknown field %.*s",
				      (int)utf8_prefix(key, 60), key);
			goto fail;
		}
	}

	if (json_object_object_get_ex(obj, "id", &v) && json_object_is_type(v, json_type_int) &&
	    json_object_get_int64(v) > 0)
		out->id = json_object_get_int64(v);

	if (!json_object_object_get_ex(obj, "name", &v) || json_object_is_type(v, json_type_null)) {
		api_error_set(err, 422, "missing_field", "name", "name is required");
		goto fail;
	}
	if (!parse_string_field(v, "name", 1, ROUTER_NAME_MAX, &out->name, err))
		goto fail;

	if (json_object_object_get_ex(obj, "priority", &v) && !json_object_is_type(v, json_type_null)) {
		int64_t p;

		if (!json_object_is_type(v, json_type_int)) {
			api_error_set(err, 422, "invalid_field", "priority", "priority must be an integer from %d to %d",
				      ROUTER_PRIORITY_MIN, ROUTER_PRIORITY_MAX);
			goto fail;
		}
		p = json_object_get_int64(v);
		if (p < ROUTER_PRIORITY_MIN || p > ROUTER_PRIORITY_MAX ||
		    (p == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)) {
			api_error_set(err, 422, "invalid_field", "priority", "priority must be an integer from %d to %d",
				      ROUTER_PRIORITY_MIN, ROUTER_PRIORITY_MAX);
			goto fail;
		}
		out->priority = (int)p;
	}

	if (json_object_object_get_ex(obj, "enabled", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			api_error_set(err, 422, "invalid_field", "enabled", "enabled must be true or false");
			goto fail;
		}
		out->enabled = json_object_get_boolean(v);
	}

	if (!json_object_object_get_ex(obj, "department", &v) || json_object_is_type(v, json_type_null)) {
		api_error_set(err, 422, "missing_field", "department", "department is required");
		goto fail;
	}
	if (!parse_string_field(v, "department", 1, DEPARTMENT_CODE_MAX, &out->department, err))
		goto fail;
	if (!department_code_valid(out->department)) {
		api_error_set(err, 422, "invalid_field", "department", "department must be a department code");
		goto fail;
	}

	if (!json_object_object_get_ex(obj, "match", &v) || json_object_is_type(v, json_type_null)) {
		api_error_set(err, 422, "missing_field", "match", "match is required");
		goto fail;
	}
	if (!parse_match(v, &out->match, err))
		goto fail;
	return true;
fail:
	router_rule_clear(out);
	return false;
}

json_object *
router_rule_to_json(const RouterRule *rule)
{
	json_object *o = json_object_new_object(), *m = json_object_new_object();

	if (!o || !m)
		goto fail;
	if (!put(m, "any", list_to_json(&rule->match.any)) || !put(m, "all", list_to_json(&rule->match.all)) ||
	    !put(m, "none", list_to_json(&rule->match.none)) ||
	    !put(m, "districts", list_to_json(&rule->match.districts)) ||
	    !put(m, "types", list_to_json(&rule->match.types)) ||
	    !put(m, "channels", list_to_json(&rule->match.channels)) ||
	    !put(m, "categories", list_to_json(&rule->match.categories)))
		goto fail;
	if (!put(o, "id", json_object_new_int64(rule->id)) ||
	    !put(o, "name", json_object_new_string(rule->name ? rule->name : "")) ||
	    !put(o, "priority", json_object_new_int(rule->priority)) ||
	    !put(o, "enabled", json_object_new_boolean(rule->enabled)) ||
	    !put(o, "department", json_object_new_string(rule->department ? rule->department : "")))
		goto fail;
	if (!put(o, "match", m)) {
		m = NULL;	/* put released it */
		goto fail;
	}
	return o;
fail:
	json_object_put(m);
	json_object_put(o);
	return NULL;
}

/*
 *********************************
 * Public functions: the engine
 *********************************
 */

Router *
router_build(const RouterRule *rules, size_t n, const RouterCategory *cats, size_t ncats)
{
	Router *r = calloc(1, sizeof(*r));
	uint32_t *order = NULL;
	size_t enabled = 0;

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++)
		enabled += rules[i].enabled;
	if (enabled > UINT32_MAX / 2)
		goto fail;
	r->rules = calloc(enabled ? enabled : 1, sizeof(*r->rules));
	r->crules = calloc(enabled ? enabled : 1, sizeof(*r->crules));
	order = malloc(sizeof(*order) * (enabled ? enabled : 1));
	if (!r->rules || !r->crules || !order)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!rules[i].enabled)
			continue;
		if (!router_rule_copy(&r->rules[r->nrules], &rules[i]))
			goto fail;
		order[r->nrules] = (uint32_t)r->nrules;
		r->nrules++;
	}
	/* Best first: priority, then id, then input order (insertion sort is stable and
	 * rules number in the thousands at most, so keep it simple and allocation-free). */
	for (size_t i = 1; i < r->nrules; i++) {
		uint32_t x = order[i];
		size_t j = i;

		while (j > 0) {
			const RouterRule *a = &r->rules[order[j - 1]], *b = &r->rules[x];

			if (a->priority < b->priority || (a->priority == b->priority && a->id <= b->id))
				break;
			order[j] = order[j - 1];
			j--;
		}
		order[j] = x;
	}
	if (!compile(r, order))
		goto fail;

	r->cats = calloc(ncats ? ncats : 1, sizeof(*r->cats));
	if (!r->cats)
		goto fail;
	for (size_t i = 0; i < ncats; i++) {
		if (!cats[i].code || !cats[i].department)
			continue;
		r->cats[r->ncats].code = strdup(cats[i].code);
		r->cats[r->ncats].department = strdup(cats[i].department);
		r->ncats++;
		if (!r->cats[r->ncats - 1].code || !r->cats[r->ncats - 1].department)
			goto fail;
	}
	qsort(r->cats, r->ncats, sizeof(*r->cats), cat_cmp);
	if (!departments_list(r))
		goto fail;
	free(order);
	return r;
fail:
	free(order);
	router_free(r);
	return NULL;
}

void
router_free(Router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrules; i++)
		router_rule_clear(&r->rules[i]);
	free(r->rules);
	free(r->depts);
	free(r->crules);
	aho_free(r->aho);
	free(r->pool);
	free(r->kw);
	free(r->post_off);
	free(r->post);
	free(r->always);
	for (size_t i = 0; i < r->ncats; i++) {
		free(r->cats[i].code);
		free(r->cats[i].department);
	}
	free(r->cats);
	free(r);
}

size_t
router_rule_count(const Router *r)
{
	return r ? r->nrules : 0;
}

size_t
router_keyword_count(const Router *r)
{
	return r ? aho_pattern_count(r->aho) : 0;
}

bool
router_route(const Router *r, const RouteInput *in, RouteResult *out)
{
	return router_route_candidates(r, in, out, NULL, 0, NULL);
}

bool
router_route_candidates(const Router *r, const RouteInput *in, RouteResult *out, RouterCandidate *cands,
			size_t max, size_t *ncands)
{
	uint64_t stack_seen[SEEN_STACK_WORDS];
	uint64_t *seen = stack_seen;
	BestRule walk = {{r, in, NULL, 0, 0}, NULL, 0};
	const CRule *best;

	memset(out, 0, sizeof(*out));
	if (ncands)
		*ncands = 0;
	if (!r || !in)
		goto category;
	if (!scan_case(r, in, &seen, &walk.scan.type_bit, &walk.scan.channel_bit))
		return false;
	walk.scan.seen = seen;
	walk_candidates(&walk.scan, consider, &walk);
	if (cands && ncands) {
		Candidates all = {walk.scan, cands, 0, max};

		walk_candidates(&all.scan, candidate_add, &all);
		*ncands = all.n;
	}
	best = walk.best;
	if (best) {
		out->method = ROUTE_RULE;
		out->department = best->src->department;
		out->rule_id = best->src->id;
		out->rule_name = best->src->name;
		out->shipped = best->src->shipped;
		for (uint32_t k = 0; k < best->n_pos; k++)
			if (aho_seen_test(seen, r->pool[best->pos_off + k]))
				out->matched[out->nmatched++] = r->kw[best->pos_off + k];
	}
	if (seen != stack_seen)
		free(seen);
	if (best)
		return true;
category:
	if (r && in && in->category) {
		CCategory key = {(char *)in->category, NULL};
		const CCategory *c = bsearch(&key, r->cats, r->ncats, sizeof(*r->cats), cat_cmp);

		if (c) {
			out->method = ROUTE_CATEGORY;
			out->department = c->department;
		}
	}
	return true;
}

bool
router_department_has_rules(const Router *r, const char *department)
{
	return r && department && bsearch(&department, r->depts, r->ndepts, sizeof(*r->depts), str_ptr_cmp);
}

const char *
router_method_name(RouteMethod method)
{
	switch (method) {
	case ROUTE_RULE:
		return "rule";
	case ROUTE_CATEGORY:
		return "category";
	case ROUTE_MODEL:
		return "model";
	default:
		return NULL;
	}
}

json_object *
router_result_to_json(const RouteResult *res)
{
	json_object *o = json_object_new_object(), *m = json_object_new_array();
	const char *method = router_method_name(res->method);
	bool rule = res->method == ROUTE_RULE;

	if (!o || !m)
		goto fail;
	for (size_t i = 0; rule && i < res->nmatched; i++) {
		json_object *s = json_object_new_string(res->matched[i]);

		if (!s || json_object_array_add(m, s)) {
			json_object_put(s);
			goto fail;
		}
	}
	if (!put_or_null(o, "department", res->department) || !put_or_null(o, "method", method) ||
	    !(rule ? put(o, "rule_id", json_object_new_int64(res->rule_id)) : put_or_null(o, "rule_id", NULL)) ||
	    !put_or_null(o, "rule_name", rule ? (res->rule_name ? res->rule_name : "") : NULL))
		goto fail;
	if (!put(o, "matched", m)) {
		m = NULL;
		goto fail;
	}
	return o;
fail:
	json_object_put(m);
	json_object_put(o);
	return NULL;
}

bool
router_type_valid(const char *type)
{
	return enum_index(type, type_names, 6) >= 0;
}

bool
router_channel_valid(const char *channel)
{
	return enum_index(channel, channel_names, 8) >= 0;
}

/*
 *********************************
 * Helpers: validation and JSON
 *********************************
 */

static bool
is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

static int
enum_index(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static uint32_t
enum_mask(const RouterList *l, const char *const *names, size_t n)
{
	uint32_t mask = 0;

	for (size_t i = 0; i < l->n; i++) {
		int k = enum_index(l->items[i], names, n);

		if (k >= 0)
			mask |= 1u << k;
	}
	return mask;
}

static bool
list_copy(RouterList *dst, const RouterList *src)
{
	dst->items = NULL;
	dst->n = 0;
	if (src->n == 0)
		return true;
	dst->items = calloc(src->n, sizeof(*dst->items));
	if (!dst->items)
		return false;
	for (size_t i = 0; i < src->n; i++) {
		dst->items[i] = strdup(src->items[i] ? src->items[i] : "");
		if (!dst->items[i]) {
			dst->n = i;
			list_clear(dst);
			return false;
		}
	}
	dst->n = src->n;
	return true;
}

static void
list_clear(RouterList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* A JSON string of min..max characters, valid UTF-8, copied into *out. */
static bool
parse_string_field(json_object *v, const char *field, size_t min, size_t max, char **out, ApiError *err)
{
	const char *s;
	size_t len, chars;

	if (!json_object_is_type(v, json_type_string))
		return api_error_set(err, 422, "invalid_field", field, "%s must be a string", field);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!utf8_validate(s, len, &chars))
		return api_error_set(err, 422, "invalid_field", field, "%s must be valid UTF-8 text", field);
	if (chars < min || chars > max)
		return api_error_set(err, 422, "invalid_field", field, "%s must be %zu to %zu characters", field,
				     min, max);
	*out = strdup(s);
	if (!*out)
		return api_error_set(err, 503, "unavailable", "", "out of memory");
	return true;
}

static bool
parse_list(json_object *v, const char *field, ListKind kind, RouterList *out, ApiError *err)
{
	size_t n;

	out->items = NULL;
	out->n = 0;
	if (!v || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_array))
		return api_error_set(err, 422, "invalid_field", field, "%s must be an array of strings", field);
	n = json_object_array_length(v);
	if (n > ROUTER_LIST_MAX)
		return api_error_set(err, 422, "invalid_field", field, "%s may hold at most %d entries", field,
				     ROUTER_LIST_MAX);
	if (n == 0)
		return true;
	out->items = calloc(n, sizeof(*out->items));
	if (!out->items)
		return api_error_set(err, 503, "unavailable", "", "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		char *s = NULL;
		bool ok;

		switch (kind) {
		case LIST_KEYWORD:
			ok = parse_string_field(e, field, 1, ROUTER_KEYWORD_MAX, &s, err);
			if (ok && is_blank(s))
				ok = api_error_set(err, 422, "invalid_field", field, "%s may not hold a blank keyword",
						   field);
			break;
		case LIST_DISTRICT:
			ok = parse_string_field(e, field, 1, ROUTER_DISTRICT_MAX, &s, err);
			break;
		case LIST_CATEGORY:
			ok = parse_string_field(e, field, 1, ROUTER_CATEGORY_MAX, &s, err);
			break;
		case LIST_TYPE:
		case LIST_CHANNEL:
			ok = parse_string_field(e, field, 1, 20, &s, err);
			if (ok && kind == LIST_TYPE && !router_type_valid(s))
				ok = api_error_set(err, 422, "invalid_field", field,
						   "%s: unknown type (consult, complaint, help, report, suggestion, praise)",
						   field);
			if (ok && kind == LIST_CHANNEL && !router_channel_valid(s))
				ok = api_error_set(err, 422, "invalid_field", field,
						   "%s: unknown channel (phone, web, app, wechat, kiosk, hall, email, open311)",
						   field);
			break;
		default:
			ok = false;
		}
		if (!ok) {
			free(s);
			list_clear(out);
			return false;
		}
		out->items[out->n++] = s;
	}
	return true;
}

static bool
parse_match(json_object *v, RouterMatch *m, ApiError *err)
{
	static const struct {
		const char *key;
		const char *field;
		ListKind kind;
		size_t offset;
	} lists[] = {
		{"any", "match.any", LIST_KEYWORD, offsetof(RouterMatch, any)},
		{"all", "match.all", LIST_KEYWORD, offsetof(RouterMatch, all)},
		{"none", "match.none", LIST_KEYWORD, offsetof(RouterMatch, none)},
		{"districts", "match.districts", LIST_DISTRICT, offsetof(RouterMatch, districts)},
		{"types", "match.types", LIST_TYPE, offsetof(RouterMatch, types)},
		{"channels", "match.channels", LIST_CHANNEL, offsetof(RouterMatch, channels)},
		{"categories", "match.categories", LIST_CATEGORY, offsetof(RouterMatch, categories)},
	};
	const size_t nlists = sizeof(lists) / sizeof(lists[0]);

	if (!json_object_is_type(v, json_type_object))
		return api_error_set(err, 422, "invalid_field", "match", "match must be an object");
	json_object_object_foreach(v, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < nlists; i++)
			if (strcmp(key, lists[i].key) == 0)
				break;
		if (i == nlists) {
			char field[64];

			/* cut at a character boundary: errors are UTF-8 JSON */
			snprintf(field, sizeof(field), "match.%.*s", (int)utf8_prefix(key, 50), key);
			return api_error_set(err, 422, "invalid_field", field, "unknown field %s", field);
		}
	}
	for (size_t i = 0; i < nlists; i++) {
		json_object *l = NULL;

		json_object_object_get_ex(v, lists[i].key, &l);
		if (!parse_list(l, lists[i].field, lists[i].kind, (RouterList *)((char *)m + lists[i].offset), err))
			return false;	/* the caller clears the lists already filled */
	}
	return true;
}

static json_object *
list_to_json(const RouterList *l)
{
	json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		json_object *s = json_object_new_string(l->items[i]);

		if (!s || json_object_array_add(a, s)) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/*
 *********************************
 * Helpers: the engine
 *********************************
 */

/* Add every keyword of l to the automaton and append its id (and spelling) to the pool.
 * Empty keywords are left out and reported through *has_empty. */
static bool
add_keywords(Router *r, AhoBuilder *b, const RouterList *l, uint32_t *off, uint32_t *n, bool *has_empty)
{
	*off = (uint32_t)r->npool;
	*n = 0;
	for (size_t i = 0; i < l->n; i++) {
		const char *k = l->items[i];
		uint32_t id;

		if (!k || !*k) {
			*has_empty = true;
			continue;
		}
		if (!aho_builder_add(b, k, strlen(k), &id))
			return false;
		r->pool[r->npool] = id;
		r->kw[r->npool] = k;
		r->npool++;
		(*n)++;
	}
	return true;
}

/* Compile the rules (in `order`, best first) into crules, the automaton, the postings. */
static bool
compile(Router *r, const uint32_t *order)
{
	AhoBuilder *b = aho_builder_new();
	uint32_t *stamp = NULL, npat;
	size_t cap = 0;

	if (!b)
		return false;
	aho_builder_ascii_words(b, true);	/* "5A" is not in "f35a454a8f" */
	for (size_t i = 0; i < r->nrules; i++) {
		const RouterMatch *m = &r->rules[i].match;

		/* the lists themselves, then any+all once more for the distinct positives */
		cap += 2 * (m->any.n + m->all.n) + m->none.n;
	}
	if (cap > UINT32_MAX)
		goto fail;
	r->pool = malloc(sizeof(*r->pool) * (cap ? cap : 1));
	r->kw = malloc(sizeof(*r->kw) * (cap ? cap : 1));
	if (!r->pool || !r->kw)
		goto fail;

	for (size_t i = 0; i < r->nrules; i++) {
		const RouterRule *src = &r->rules[order[i]];
		CRule *c = &r->crules[i];
		bool any_empty = false, all_empty = false, none_empty = false;

		c->src = src;
		c->priority = src->priority;
		if (!add_keywords(r, b, &src->match.any, &c->any_off, &c->n_any, &any_empty) ||
		    !add_keywords(r, b, &src->match.all, &c->all_off, &c->n_all, &all_empty) ||
		    !add_keywords(r, b, &src->match.none, &c->none_off, &c->n_none, &none_empty))
			goto fail;
		c->any_always = src->match.any.n == 0 || any_empty;
		c->never = none_empty;
		c->has_types = src->match.types.n > 0;
		c->has_channels = src->match.channels.n > 0;
		c->types_mask = enum_mask(&src->match.types, type_names, 6);
		c->channels_mask = enum_mask(&src->match.channels, channel_names, 8);
	}
	r->aho = aho_builder_finish(b);
	b = NULL;
	if (!r->aho)
		goto fail;
	npat = aho_pattern_count(r->aho);

	/* Distinct positives per rule, and the `any` lists made distinct in place. */
	stamp = calloc(npat ? npat : 1, sizeof(*stamp));
	r->post_off = calloc((size_t)npat + 1, sizeof(*r->post_off));
	if (!stamp || !r->post_off)
		goto fail;
	for (size_t i = 0; i < r->nrules; i++) {
		CRule *c = &r->crules[i];
		uint32_t mark = (uint32_t)(2 * i + 1), w = 0;

		c->pos_off = (uint32_t)r->npool;
		c->n_pos = 0;
		for (uint32_t k = 0; k < c->n_any + c->n_all; k++) {
			/* any and all are adjacent in the pool */
			uint32_t at = c->any_off + k, id = r->pool[at];

			if (stamp[id] == mark)
				continue;
			stamp[id] = mark;
			r->pool[r->npool] = id;
			r->kw[r->npool] = r->kw[at];
			r->npool++;
			c->n_pos++;
		}
		mark++;
		for (uint32_t k = 0; k < c->n_any; k++) {
			uint32_t id = r->pool[c->any_off + k];

			if (stamp[id] == mark)
				continue;
			stamp[id] = mark;
			r->pool[c->any_off + w] = id;
			r->kw[c->any_off + w] = r->kw[c->any_off + k];
			w++;
			if (!c->any_always && !c->never)
				r->post_off[id + 1]++;
		}
		c->n_any = w;	/* the tail of the run is now unused */
	}
	for (uint32_t id = 0; id < npat; id++)
		r->post_off[id + 1] += r->post_off[id];
	r->post = malloc(sizeof(*r->post) * (r->post_off[npat] ? r->post_off[npat] : 1));
	r->always = malloc(sizeof(*r->always) * (r->nrules ? r->nrules : 1));
	if (!r->post || !r->always)
		goto fail;
	memset(stamp, 0, sizeof(*stamp) * (npat ? npat : 1));	/* now: fill cursor per id */
	for (size_t i = 0; i < r->nrules; i++) {
		const CRule *c = &r->crules[i];

		if (c->never)
			continue;
		if (c->any_always) {
			r->always[r->nalways++] = (uint32_t)i;
			continue;
		}
		for (uint32_t k = 0; k < c->n_any; k++) {
			uint32_t id = r->pool[c->any_off + k];

			r->post[r->post_off[id] + stamp[id]++] = (uint32_t)i;
		}
	}
	free(stamp);
	return true;
fail:
	aho_builder_free(b);
	free(stamp);
	return false;
}

/*
 * Scan title and text into *seen (the caller's stack set of SEEN_STACK_WORDS words, or
 * a calloc'd one when the automaton needs more: the caller frees it when it differs
 * from its stack set) and give the bits of the case's type and channel. False when out
 * of memory.
 */
static bool
scan_case(const Router *r, const RouteInput *in, uint64_t **seen, uint32_t *type_bit, uint32_t *channel_bit)
{
	size_t words = aho_seen_words(r->aho);
	int ti, ci;

	if (words > SEEN_STACK_WORDS) {
		*seen = calloc(words, sizeof(**seen));
		if (!*seen)
			return false;
	} else {
		memset(*seen, 0, words * sizeof(**seen));
	}
	if (in->title)
		aho_scan(r->aho, in->title, strlen(in->title), *seen);
	if (in->text)
		aho_scan(r->aho, in->text, strlen(in->text), *seen);
	ti = enum_index(in->type ? in->type : "complaint", type_names, 6);
	ci = enum_index(in->channel ? in->channel : "phone", channel_names, 8);
	*type_bit = ti < 0 ? 0 : 1u << ti;
	*channel_bit = ci < 0 ? 0 : 1u << ci;
	return true;
}

/* Does rule c match? On true, *count is its number of distinct matched positives. */
static bool
rule_matches(const CaseScan *scan, const CRule *c, uint32_t *count)
{
	const Router *r = scan->r;
	const RouteInput *in = scan->in;
	const uint64_t *seen = scan->seen;
	const RouterMatch *m = &c->src->match;
	uint32_t n = 0;

	if (c->never)
		return false;
	if (c->has_types && !(c->types_mask & scan->type_bit))
		return false;
	if (c->has_channels && !(c->channels_mask & scan->channel_bit))
		return false;
	if (m->districts.n && !list_has(&m->districts, in->district))
		return false;
	if (m->categories.n && !list_has(&m->categories, in->category))
		return false;
	for (uint32_t k = 0; k < c->n_none; k++)
		if (aho_seen_test(seen, r->pool[c->none_off + k]))
			return false;
	for (uint32_t k = 0; k < c->n_all; k++)
		if (!aho_seen_test(seen, r->pool[c->all_off + k]))
			return false;
	for (uint32_t k = 0; k < c->n_pos; k++)
		n += aho_seen_test(seen, r->pool[c->pos_off + k]);
	if (!c->any_always) {
		bool hit = false;

		for (uint32_t k = 0; k < c->n_any && !hit; k++)
			hit = aho_seen_test(seen, r->pool[c->any_off + k]);
		if (!hit)
			return false;
	}
	*count = n;
	return true;
}

/*
 * Call visit on every rule the scanned case may match: the rules with an empty `any`, then
 * the posting list of each keyword seen, each list best first. visit returns false to leave
 * the rest of its list. A rule with several of its `any` keywords seen is visited for each.
 */
static void
walk_candidates(const CaseScan *scan, bool (*visit)(const CRule *c, void *ctx), void *ctx)
{
	const Router *r = scan->r;

	for (size_t i = 0; i < r->nalways; i++)
		if (!visit(&r->crules[r->always[i]], ctx))
			break;
	for (size_t w = 0, words = aho_seen_words(r->aho); w < words; w++) {
		for (uint64_t bits = scan->seen[w]; bits; bits &= bits - 1) {
			uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));

			for (uint32_t p = r->post_off[id]; p < r->post_off[id + 1]; p++)
				if (!visit(&r->crules[r->post[p]], ctx))
					break;
		}
	}
}

/* router_route's visit: keep rule c if it matches and beats the best so far. Returns false
 * when c's priority is already worse than the best: the rest of its (ascending) list is too. */
static bool
consider(const CRule *c, void *ctx)
{
	BestRule *walk = ctx;
	const CRule *b = walk->best;
	uint32_t n;

	if (b && c->priority > b->priority)
		return false;
	if (c == b || !rule_matches(&walk->scan, c, &n))
		return true;
	if (!b || c->priority < b->priority || n > walk->count || (n == walk->count && c < b)) {
		walk->best = c;
		walk->count = n;
	}
	return true;
}

/* router_route_candidates' visit: when rule c matches, add its department (at most max of them) or
 * improve that department's entry. Every rule counts: the walk goes on. A rule visited twice
 * changes nothing the second time. */
static bool
candidate_add(const CRule *c, void *ctx)
{
	Candidates *walk = ctx;
	uint32_t count;
	size_t k;

	if (!rule_matches(&walk->scan, c, &count))
		return true;
	for (k = 0; k < walk->n && strcmp(walk->out[k].department, c->src->department) != 0; k++)
		;
	if (k == walk->n) {
		if (walk->n == walk->max)
			return true;
		walk->out[walk->n++] = (RouterCandidate){c->src->department, c->priority, false};
	}
	if (c->priority < walk->out[k].priority)
		walk->out[k].priority = c->priority;
	walk->out[k].admin |= !c->src->shipped;
	return true;
}

static bool
list_has(const RouterList *l, const char *v)
{
	if (!v)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], v) == 0)
			return true;
	return false;
}

/* Add val under key; on failure release val. A NULL val (a failed allocation) fails. */
static bool
put(json_object *o, const char *key, json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(o, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

/* Add the string s under key, or JSON null when s is NULL. */
static bool
put_or_null(json_object *o, const char *key, const char *s)
{
	if (!s)
		return json_object_object_add(o, key, NULL) == 0;
	return put(o, key, json_object_new_string(s));
}

/* r->depts from the rules: routing asks for every case whether the model's best department
 * has rules, which a walk through every rule's department answered (~1% of the server's CPU
 * under intake). False when out of memory. */
static bool
departments_list(Router *r)
{
	size_t n = 0;

	r->depts = malloc(sizeof(*r->depts) * (r->nrules ? r->nrules : 1));
	if (!r->depts)
		return false;
	for (size_t i = 0; i < r->nrules; i++)
		r->depts[i] = r->rules[i].department;
	qsort(r->depts, r->nrules, sizeof(*r->depts), str_ptr_cmp);
	for (size_t i = 0; i < r->nrules; i++)
		if (n == 0 || strcmp(r->depts[n - 1], r->depts[i]) != 0)
			r->depts[n++] = r->depts[i];
	r->ndepts = n;
	return true;
}

/* Two strings given by their addresses. */
static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cat_cmp(const void *a, const void *b)
{
	return strcmp(((const CCategory *)a)->code, ((const CCategory *)b)->code);
}
