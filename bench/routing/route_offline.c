/*
 * route_offline: measure routing rules (and the learned model) on a labelled JSONL file
 * without a server.
 *
 *   route_offline RULES DATA.jsonl [--misses] [--departments departments.json] [--json]
 *                 [--train FILE.jsonl ...] [--bonus B1,B2,B3,B4,B5] [--none-min P]
 *                 [--epochs N] [--rate R] [--dim-bits B]
 *
 * --train (repeatable) trains the classifier (core/classifier) on the labelled files,
 * leaving out every line whose text also occurs in DATA (so a batch is never scored by
 * a model that saw it), and reports three accuracies: the rules alone, the model alone
 * (its top department) and both combined as the server combines them
 * (core/route_blend; --bonus and --none-min override its parameters, --epochs, --rate,
 * --dim-bits the classifier's). --misses then lists the combined misses. The rules of
 * RULES count as shipped rules (the model may outvote them).
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

#include "core/classifier.h"
#include "core/route_blend.h"
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

#define TRAIN_FILES_MAX 32

/* The labelled lines of a JSONL file, parsed (lines without "text" are dropped). */
typedef struct Lines {
	json_object **items;
	size_t n;
} Lines;

static int load_lines(const char *path, Lines *out);
static Classifier *train_model(const char *const *files, size_t nfiles, const Lines *scored,
			       const ClassifierParams *cp);
static bool parse_bonus(const char *s, BlendParams *bp);
static void count_confusion(Confusion **conf, size_t *nconf, const char *want, const char *got);
static void print_miss(json_object *o, const RouteInput *in, const RouteResult *res, const char *want);

int
main(int argc, char **argv)
{
	const char *rules_path = NULL, *data_path = NULL, *dept_path = NULL, *train[TRAIN_FILES_MAX];
	bool misses = false, as_json = false, usage = false;
	RouterRule *rules = NULL;
	RouterCategory *cats = NULL;
	size_t nrules = 0, ncats = 0, ntrain = 0, total = 0, right = 0, unrouted = 0, nconf = 0;
	size_t model_right = 0, combined_right = 0, by_model = 0;
	Confusion *conf = NULL;
	Router *router;
	Classifier *model = NULL;
	ClassifierParams cp;
	BlendParams bp;
	BlendResult *res = malloc(sizeof(*res));
	Lines data = {0};

	classifier_params_default(&cp);
	route_blend_params_default(&bp);
	for (int i = 1; i < argc && !usage; i++) {
		bool more = i + 1 < argc;

		if (strcmp(argv[i], "--misses") == 0)
			misses = true;
		else if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--departments") == 0 && more)
			dept_path = argv[++i];
		else if (strcmp(argv[i], "--train") == 0 && more && ntrain < TRAIN_FILES_MAX)
			train[ntrain++] = argv[++i];
		else if (strcmp(argv[i], "--bonus") == 0 && more)
			usage = !parse_bonus(argv[++i], &bp);
		else if (strcmp(argv[i], "--none-min") == 0 && more)
			bp.none_min = atof(argv[++i]);
		else if (strcmp(argv[i], "--epochs") == 0 && more)
			cp.epochs = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0 && more)
			cp.learning_rate = (float)atof(argv[++i]);
		else if (strcmp(argv[i], "--dim-bits") == 0 && more)
			cp.dim_bits = (unsigned)atoi(argv[++i]);
		else if (!rules_path)
			rules_path = argv[i];
		else if (!data_path)
			data_path = argv[i];
		else
			usage = true;
	}
	if (usage || !rules_path || !data_path || !res) {
		fprintf(stderr, "usage: %s RULES(.sql|.json) DATA.jsonl [--misses] [--json] "
				"[--departments departments.json] [--train FILE.jsonl ...] [--bonus B1,B2,B3,B4,B5] "
				"[--none-min P] [--epochs N] [--rate R] [--dim-bits B]\n", argv[0]);
		return 2;
	}
	if (load_rules(rules_path, &rules, &nrules) != 0)
		return 1;
	for (size_t i = 0; i < nrules; i++)
		rules[i].shipped = true;
	if (dept_path && load_categories(dept_path, &cats, &ncats) != 0)
		return 1;
	router = router_build(rules, nrules, cats, ncats);
	if (!router || load_lines(data_path, &data) != 0) {
		fprintf(stderr, "cannot build the router or read %s\n", data_path);
		return 1;
	}
	if (ntrain && !(model = train_model(train, ntrain, &data, &cp))) {
		fprintf(stderr, "cannot train the model\n");
		return 1;
	}
	for (size_t i = 0; i < data.n; i++) {
		json_object *o = data.items[i];
		RouteInput in = {jstr(o, "title"), jstr(o, "text"), jstr(o, "district"), jstr(o, "type"),
				 jstr(o, "channel"), jstr(o, "category")};
		const char *want = jstr(o, "department"), *got;
		ClassifierGuess top;

		if (!route_blend(router, model, &in, &bp, res)) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		total++;
		if (model) {
			/* the rules alone, for their column */
			RouteResult rules_only;

			if (!router_route(router, &in, &rules_only))
				return 1;
			right += rules_only.department && want && strcmp(rules_only.department, want) == 0;
			model_right += classifier_predict(model, in.title, in.text, &top, 1) && want &&
				       strcmp(top.label, want) == 0;
			by_model += res->route.method == ROUTE_MODEL;
		}
		got = res->route.department;
		if (!got)
			unrouted++;
		if (got && want && strcmp(got, want) == 0) {
			combined_right++;
			continue;
		}
		count_confusion(&conf, &nconf, want, got);
		if (misses && !as_json)
			print_miss(o, &in, &res->route, want);
	}
	if (!model)
		right = combined_right;
	qsort(conf, nconf, sizeof(*conf), confusion_cmp);
	if (as_json) {
		json_object *out = json_object_new_object(), *top = json_object_new_array();

		json_object_object_add(out, "total", json_object_new_int64((int64_t)total));
		json_object_object_add(out, "right", json_object_new_int64((int64_t)right));
		json_object_object_add(out, "unrouted", json_object_new_int64((int64_t)unrouted));
		json_object_object_add(out, "rules", json_object_new_int64((int64_t)router_rule_count(router)));
		if (model) {
			json_object_object_add(out, "model_right", json_object_new_int64((int64_t)model_right));
			json_object_object_add(out, "combined_right", json_object_new_int64((int64_t)combined_right));
			json_object_object_add(out, "decided_by_model", json_object_new_int64((int64_t)by_model));
		}
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
		printf("accuracy: %zu/%zu = %.1f%%\n", right, total, total ? 100.0 * (double)right / (double)total : 0.0);
		if (model) {
			printf("model alone: %zu/%zu = %.1f%% (%zu examples, %zu departments)\n", model_right, total,
			       total ? 100.0 * (double)model_right / (double)total : 0.0, classifier_info(model)->examples,
			       classifier_label_count(model));
			printf("combined: %zu/%zu = %.1f%% (%zu decided by the model)\n", combined_right, total,
			       total ? 100.0 * (double)combined_right / (double)total : 0.0, by_model);
		}
		printf("unrouted: %zu\n", unrouted);
		if (nconf)
			printf("top confusions (expected -> got%s):\n", model ? ", combined" : "");
		for (size_t k = 0; k < nconf && k < 15; k++)
			printf("  %3d  %s\n", conf[k].count, conf[k].key);
	}
	classifier_free(model);
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
	for (size_t i = 0; i < data.n; i++)
		json_object_put(data.items[i]);
	free(data.items);
	free(res);
	return 0;
}

/* Parse every line of a JSONL file that has a "text". */
static int
load_lines(const char *path, Lines *out)
{
	char *text = slurp(path), *save = NULL;

	if (!text)
		return -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);

		if (!o || !jstr(o, "text")) {
			json_object_put(o);
			continue;
		}
		out->items = realloc(out->items, (out->n + 1) * sizeof(*out->items));
		out->items[out->n++] = o;
	}
	free(text);
	return 0;
}

static bool
scored_has(const Lines *scored, const char *text)
{
	for (size_t i = 0; i < scored->n; i++)
		if (strcmp(jstr(scored->items[i], "text"), text) == 0)
			return true;
	return false;
}

/* A model of the train files' labelled lines, minus any text that is to be scored. */
static Classifier *
train_model(const char *const *files, size_t nfiles, const Lines *scored, const ClassifierParams *cp)
{
	Lines all = {0};
	const char *labels[CLASSIFIER_LABELS_MAX];
	ClassifierExample *ex;
	size_t nlabels = 0, n = 0;
	Classifier *model;

	for (size_t f = 0; f < nfiles; f++)
		if (load_lines(files[f], &all) != 0) {
			fprintf(stderr, "cannot read %s\n", files[f]);
			return NULL;
		}
	ex = calloc(all.n + 1, sizeof(*ex));
	for (size_t i = 0; ex && i < all.n; i++) {
		const char *dept = jstr(all.items[i], "department"), *text = jstr(all.items[i], "text");
		size_t k;

		if (!dept || scored_has(scored, text))
			continue;
		for (k = 0; k < nlabels && strcmp(labels[k], dept) != 0; k++)
			;
		if (k == nlabels && nlabels < CLASSIFIER_LABELS_MAX)
			labels[nlabels++] = dept;
		ex[n++] = (ClassifierExample){jstr(all.items[i], "title"), text, (uint32_t)k, false, 1.0f};
	}
	model = ex && nlabels ? classifier_train(labels, nlabels, ex, n, cp) : NULL;
	free(ex);
	for (size_t i = 0; i < all.n; i++)
		json_object_put(all.items[i]);
	free(all.items);
	return model;
}

static bool
parse_bonus(const char *s, BlendParams *bp)
{
	double b[ROUTE_BLEND_TIERS];

	if (sscanf(s, "%lf,%lf,%lf,%lf,%lf", &b[0], &b[1], &b[2], &b[3], &b[4]) != ROUTE_BLEND_TIERS)
		return false;
	memcpy(bp->tier_bonus, b, sizeof(b));
	return true;
}

static void
count_confusion(Confusion **conf, size_t *nconf, const char *want, const char *got)
{
	char key[96];
	size_t k;

	snprintf(key, sizeof(key), "%s -> %s", want ? want : "(none)", got ? got : "(none)");
	for (k = 0; k < *nconf && strcmp((*conf)[k].key, key) != 0; k++)
		;
	if (k == *nconf) {
		*conf = realloc(*conf, (*nconf + 1) * sizeof(**conf));
		snprintf((*conf)[k].key, sizeof((*conf)[k].key), "%s", key);
		(*conf)[k].count = 0;
		(*nconf)++;
	}
	(*conf)[k].count++;
}

static void
print_miss(json_object *o, const RouteInput *in, const RouteResult *res, const char *want)
{
	printf("MISS %s: want %s, got %s", jstr(o, "id") ? jstr(o, "id") : "?", want ? want : "(none)",
	       res->department ? res->department : "(none)");
	if (res->method == ROUTE_RULE) {
		printf(" by rule %lld %s @[", (long long)res->rule_id, res->rule_name);
		for (size_t m = 0; m < res->nmatched; m++)
			printf("%s%s", m ? " " : "", res->matched[m]);
		printf("]");
	} else if (res->method == ROUTE_MODEL) {
		printf(" by the model");
	}
	printf("\n     %s%s%s\n", in->title ? in->title : "", in->title ? " | " : "", in->text ? in->text : "");
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
