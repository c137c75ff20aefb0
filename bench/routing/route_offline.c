/*
 * route_offline: measure routing rules on a labelled JSONL file without a server.
 *
 *   route_offline RULES DATA.jsonl [--misses] [--departments departments.json] [--json]
 *
 * RULES is sql/003_rules.sql (every JSON array between $rules$ quotes is read, ids
 * numbered in order as the migration inserts them) or a file holding one JSON array of
 * rule bodies. Each DATA line is a case: "text" and optionally "title", "district",
 * "type", "channel", "category"; the expected department is "department".
 * --departments gives the category defaults (categories coded <dept>.<NN> in file order,
 * as 002_departments.sql does). Prints accuracy, unrouted count and the top confusions;
 * --misses lists every miss with the rule that won and its matched keywords; --json
 * prints one JSON object instead (used by bench/route_eval.py --offline).
 * Uses the same core as the server (hotline_core: router_rule_from_json, router_route).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/router.h"

typedef struct Confusion {
	char key[96];
	int count;
} Confusion;

static char *slurp(const char *path);
static int add_rules_array(json_object *arr, RouterRule **rules, size_t *n, size_t *cap);
static int load_rules(const char *path, RouterRule **rules, size_t *n);
static int load_categories(const char *path, RouterCategory **cats, size_t *n);
static const char *jstr(json_object *o, const char *key);
static int confusion_cmp(const void *a, const void *b);

int
main(int argc, char **argv)
{
	const char *rules_path = NULL, *data_path = NULL, *dept_path = NULL;
	bool misses = false, as_json = false;
	RouterRule *rules = NULL;
	RouterCategory *cats = NULL;
	size_t nrules = 0, ncats = 0, total = 0, right = 0, unrouted = 0, nconf = 0;
	Confusion *conf = NULL;
	Router *router;
	RouteResult *res = malloc(sizeof(*res));
	char *data, *save = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--misses") == 0)
			misses = true;
		else if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--departments") == 0 && i + 1 < argc)
			dept_path = argv[++i];
		else if (!rules_path)
			rules_path = argv[i];
		else if (!data_path)
			data_path = argv[i];
		else
			rules_path = NULL, i = argc;
	}
	if (!rules_path || !data_path || !res) {
		fprintf(stderr, "usage: %s RULES(.sql|.json) DATA.jsonl [--misses] [--json] "
				"[--departments departments.json]\n", argv[0]);
		return 2;
	}
	if (load_rules(rules_path, &rules, &nrules) != 0)
		return 1;
	if (dept_path && load_categories(dept_path, &cats, &ncats) != 0)
		return 1;
	router = router_build(rules, nrules, cats, ncats);
	data = slurp(data_path);
	if (!router || !data) {
		fprintf(stderr, "cannot build the router or read %s\n", data_path);
		return 1;
	}
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		RouteInput in = {0};
		const char *want, *got;

		if (!o)
			continue;
		in.title = jstr(o, "title");
		in.text = jstr(o, "text");
		in.district = jstr(o, "district");
		in.type = jstr(o, "type");
		in.channel = jstr(o, "channel");
		in.category = jstr(o, "category");
		want = jstr(o, "department");
		if (!router_route(router, &in, res)) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		got = res->department;
		total++;
		if (!got)
			unrouted++;
		if (got && want && strcmp(got, want) == 0) {
			right++;
		} else {
			char key[96];
			size_t k;

			snprintf(key, sizeof(key), "%s -> %s", want ? want : "(none)", got ? got : "(none)");
			for (k = 0; k < nconf && strcmp(conf[k].key, key) != 0; k++)
				;
			if (k == nconf) {
				conf = realloc(conf, (nconf + 1) * sizeof(*conf));
				snprintf(conf[k].key, sizeof(conf[k].key), "%s", key);
				conf[k].count = 0;
				nconf++;
			}
			conf[k].count++;
			if (misses && !as_json) {
				printf("MISS %s: want %s, got %s", jstr(o, "id") ? jstr(o, "id") : "?",
				       want ? want : "(none)", got ? got : "(none)");
				if (res->method == ROUTE_RULE) {
					printf(" by rule %lld %s @[", (long long)res->rule_id, res->rule_name);
					for (size_t m = 0; m < res->nmatched; m++)
						printf("%s%s", m ? " " : "", res->matched[m]);
					printf("]");
				}
				printf("\n     %s%s%s\n", in.title ? in.title : "", in.title ? " | " : "",
				       in.text ? in.text : "");
			}
		}
		json_object_put(o);
	}
	qsort(conf, nconf, sizeof(*conf), confusion_cmp);
	if (as_json) {
		json_object *out = json_object_new_object(), *top = json_object_new_array();

		json_object_object_add(out, "total", json_object_new_int64((int64_t)total));
		json_object_object_add(out, "right", json_object_new_int64((int64_t)right));
		json_object_object_add(out, "unrouted", json_object_new_int64((int64_t)unrouted));
		json_object_object_add(out, "rules", json_object_new_int64((int64_t)router_rule_count(router)));
		for (size_t k = 0; k < nconf; k++) {
			json_object *c = json_object_new_object();

			json_object_object_add(c, "pair", json_object_new_string(conf[k].key));
			json_object_object_add(c, "count", json_object_new_int(conf[k].count));
			json_object_array_add(top, c);
		}
		json_object_object_add(out, "confusions", top);
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		json_object_put(out);
	} else {
		printf("rules: %zu enabled, %zu distinct keywords\n", router_rule_count(router),
		       router_keyword_count(router));
		printf("accuracy: %zu/%zu = %.1f%%\nunrouted: %zu\n", right, total,
		       total ? 100.0 * (double)right / (double)total : 0.0, unrouted);
		if (nconf)
			printf("top confusions (expected -> got):\n");
		for (size_t k = 0; k < nconf && k < 15; k++)
			printf("  %3d  %s\n", conf[k].count, conf[k].key);
	}
	router_free(router);
	for (size_t i = 0; i < nrules; i++)
		router_rule_clear(&rules[i]);
	free(rules);
	for (size_t i = 0; i < ncats; i++) {
		free((char *)cats[i].code);
		free((char *)cats[i].department);
	}
	free(cats);
	free(conf);
	free(data);
	free(res);
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = 0;
	fclose(f);
	return buf;
}

static int
add_rules_array(json_object *arr, RouterRule **rules, size_t *n, size_t *cap)
{
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "rules: expected a JSON array\n");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		ApiError err = {0};

		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 128;
			*rules = realloc(*rules, *cap * sizeof(**rules));
			if (!*rules)
				return -1;
		}
		if (!router_rule_from_json(json_object_array_get_idx(arr, i), &(*rules)[*n], &err)) {
			fprintf(stderr, "rule %zu refused: %s (field %s)\n", *n + 1, err.message, err.field);
			return -1;
		}
		if ((*rules)[*n].id == 0)
			(*rules)[*n].id = (int64_t)*n + 1;
		(*n)++;
	}
	return 0;
}

static int
load_rules(const char *path, RouterRule **rules, size_t *n)
{
	char *text = slurp(path);
	size_t cap = 0;
	const char *p;
	int rc = 0;

	if (!text) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	*n = 0;
	if (!strstr(text, "$rules$")) {
		json_object *arr = json_tokener_parse(text);

		rc = add_rules_array(arr, rules, n, &cap);
		json_object_put(arr);
		free(text);
		return rc;
	}
	for (p = strstr(text, "$rules$"); p && rc == 0; p = strstr(p, "$rules$")) {
		const char *start = p + 7, *end = strstr(start, "$rules$");
		char *chunk;
		json_object *arr;

		if (!end) {
			fprintf(stderr, "%s: unbalanced $rules$ quotes\n", path);
			rc = -1;
			break;
		}
		chunk = strndup(start, (size_t)(end - start));
		arr = json_tokener_parse(chunk);
		rc = add_rules_array(arr, rules, n, &cap);
		json_object_put(arr);
		free(chunk);
		p = end + 7;
	}
	free(text);
	return rc;
}

static int
load_categories(const char *path, RouterCategory **cats, size_t *n)
{
	char *text = slurp(path);
	json_object *o = text ? json_tokener_parse(text) : NULL, *depts;

	free(text);
	*n = 0;
	*cats = NULL;
	if (!o || !json_object_object_get_ex(o, "departments", &depts)) {
		fprintf(stderr, "cannot read departments from %s\n", path);
		json_object_put(o);
		return -1;
	}
	for (size_t d = 0; d < json_object_array_length(depts); d++) {
		json_object *dep = json_object_array_get_idx(depts, d), *scope;
		const char *code = jstr(dep, "code");

		if (!code || !json_object_object_get_ex(dep, "scope", &scope))
			continue;
		for (size_t s = 0; s < json_object_array_length(scope); s++) {
			char buf[128];

			*cats = realloc(*cats, (*n + 1) * sizeof(**cats));
			snprintf(buf, sizeof(buf), "%s.%02zu", code, s + 1);
			(*cats)[*n].code = strdup(buf);
			(*cats)[*n].department = strdup(code);
			(*n)++;
		}
	}
	json_object_put(o);
	return 0;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int
confusion_cmp(const void *a, const void *b)
{
	const Confusion *x = a, *y = b;

	if (x->count != y->count)
		return y->count - x->count;
	return strcmp(x->key, y->key);
}
