/*
 * routing_speed: how long router_route takes for one case.
 *
 *   build/bench/routing_speed [--rules N] [--keywords-per-rule K] [--cases C] [--seed S]
 *                             [--texts FILE.jsonl]
 *
 * Generates N rules (default 2,000) with K keywords each (default 10, so 20,000 keywords):
 * realistic Chinese keywords of 2 to 6 characters drawn from about 600 common
 * characters, mostly in `any`, some in `all` and `none`, random priorities and an
 * occasional district or type filter. Then routes C cases (default 20,000): texts of
 * 60 to 300 characters of the same characters with 0 to 4 rule keywords planted in them,
 * plus a title for a third of them; and, with --texts, the "text" of every line of a
 * JSONL file (e.g. ../shared/data/routing-dev.jsonl) as well. Also times the default
 * rules of sql/003_rules.sql on the same texts.
 * Prints the build time and the mean, p50, p99 and max microseconds per case (wall
 * time, each case timed alone), and "cpu": the process's CPU time for the timed pass
 * divided by the cases (includes the timer calls; excludes preemption on a busy machine).
 * Target (the routing task): mean <= 20 us with 2,000 rules and 20,000 keywords. With
 * --texts, also trains a model on the file's labelled lines padded to 30 departments and
 * times the model alone (target: <= 50 us per case) and the default rules with the model
 * as the server combines them (core/route_blend).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/classifier.h"
#include "core/route_blend.h"
#include "core/router.h"

/* The most common Chinese characters, in UTF-8 (3 bytes each). */
static const char common[] =
	"的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞";

typedef struct Timing {
	double *us;
	size_t n;
} Timing;

static unsigned long long rng_state = 88172645463325252ull;

static unsigned
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state >> 11);
}

/* Append one random common character to buf (3 bytes). */
static size_t
put_char(char *buf)
{
	size_t nchars = (sizeof(common) - 1) / 3, k = rnd() % nchars;

	memcpy(buf, common + 3 * k, 3);
	return 3;
}

static char *
make_keyword(void)
{
	size_t len = 2 + rnd() % 5;	/* 2 to 6 characters */
	char *kw = malloc(len * 3 + 1);
	size_t at = 0;

	for (size_t i = 0; i < len; i++)
		at += put_char(kw + at);
	kw[at] = 0;
	return kw;
}

static void
list_push(RouterList *l, char *s)
{
	l->items = realloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n++] = s;
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of this process: unlike wall time, it leaves out the moments when a busy
 * (shared) machine ran something else. */
static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* What is timed: the rules alone, the model alone, or both as the server decides. */
typedef struct Decider {
	const Router *router;		/* NULL: the model alone */
	const Classifier *model;	/* NULL: the rules alone */
} Decider;

/* Decide one case; true when it got a department. */
static bool
decide(const Decider *d, const RouteInput *in, BlendResult *res)
{
	static BlendParams params;
	ClassifierGuess top[3];

	if (!d->router)
		return classifier_predict(d->model, in->title, in->text, top, 3) > 0;
	if (!params.tier_max[0])
		route_blend_params_default(&params);
	if (!route_blend(d->router, d->model, in, &params, res)) {
		fprintf(stderr, "routing failed\n");
		exit(1);
	}
	return res->route.method != ROUTE_NONE;
}

/* Route every case, timing each one; prints one line of statistics. */
static void
time_cases(const char *label, const Decider *d, RouteInput *cases, size_t ncases)
{
	BlendResult *res = malloc(sizeof(*res));
	double *us = malloc(sizeof(double) * (ncases ? ncases : 1)), total = 0, cpu0, cpu;
	size_t routed = 0;

	/* one warm-up pass, then the timed one */
	for (size_t i = 0; i < ncases; i++)
		(void)decide(d, &cases[i], res);
	cpu0 = cpu_us();
	for (size_t i = 0; i < ncases; i++) {
		double t0 = now_us();

		routed += decide(d, &cases[i], res);
		us[i] = now_us() - t0;
		total += us[i];
	}
	cpu = (cpu_us() - cpu0) / (double)ncases;
	qsort(us, ncases, sizeof(double), dcmp);
	printf("%-34s %6zu cases  mean %6.2f us (cpu %5.2f)  p50 %6.2f  p99 %6.2f  max %7.2f  (%zu routed)\n", label,
	       ncases, total / (double)ncases, cpu, us[ncases / 2], us[(size_t)((double)ncases * 0.99)], us[ncases - 1],
	       routed);
	free(us);
	free(res);
}

/*
 * A model over the labelled --texts cases (their "department") padded with generated
 * departments to 30, as a hotline with 30 departments would have: each padding department
 * gets 20 of the generated texts. Cost of a prediction grows with the departments.
 */
static Classifier *
model_of_30(json_object *lines, const RouteInput *generated, size_t ngen)
{
	enum { DEPARTMENTS = 30, PER_PAD = 20 };
	size_t n = json_object_array_length(lines), m = 0, nlabels = 0;
	ClassifierExample *ex = calloc(n + DEPARTMENTS * PER_PAD, sizeof(*ex));
	static char pad[DEPARTMENTS][16];
	const char *labels[DEPARTMENTS];
	ClassifierParams p;
	Classifier *c;

	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(lines, i), *v;
		const char *dept = json_object_object_get_ex(o, "department", &v) ? json_object_get_string(v) : NULL;
		size_t k;

		if (!dept)
			continue;
		for (k = 0; k < nlabels && strcmp(labels[k], dept) != 0; k++)
			;
		if (k == nlabels) {
			if (nlabels == DEPARTMENTS)
				continue;
			labels[nlabels++] = dept;
		}
		ex[m++] = (ClassifierExample){NULL, json_object_get_string(json_object_object_get(o, "text")),
					      (uint32_t)k, false, 1.0f};
	}
	for (size_t g = 0; nlabels < DEPARTMENTS; nlabels++)
		for (int j = 0; j < PER_PAD && g < ngen; j++, g++) {
			snprintf(pad[nlabels], sizeof(pad[nlabels]), "pad_%zu", nlabels);
			labels[nlabels] = pad[nlabels];
			ex[m++] = (ClassifierExample){NULL, generated[g].text, (uint32_t)nlabels, false, 1.0f};
		}
	classifier_params_default(&p);
	c = classifier_train(labels, nlabels, ex, m, &p);
	free(ex);
	return c;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The "text" of every JSONL line, appended to cases. */
static size_t
load_texts(const char *path, RouteInput **cases, size_t n, json_object **keep)
{
	char *data = slurp(path), *save = NULL;
	json_object *all = json_object_new_array();

	if (!data) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line), *v;

		if (!o || !json_object_object_get_ex(o, "text", &v)) {
			json_object_put(o);
			continue;
		}
		json_object_array_add(all, o);
		*cases = realloc(*cases, (n + 1) * sizeof(**cases));
		(*cases)[n] = (RouteInput){.text = json_object_get_string(v)};
		if (json_object_object_get_ex(o, "district", &v))
			(*cases)[n].district = json_object_get_string(v);
		if (json_object_object_get_ex(o, "type", &v))
			(*cases)[n].type = json_object_get_string(v);
		if (json_object_object_get_ex(o, "channel", &v))
			(*cases)[n].channel = json_object_get_string(v);
		n++;
	}
	free(data);
	*keep = all;
	return n;
}

/* The default rules: every JSON array between $rules$ quotes of sql/003_rules.sql. */
static Router *
default_router(void)
{
	char *sql = slurp(HOTLINE_SOURCE_DIR "/sql/003_rules.sql");
	RouterRule *rules = NULL;
	size_t n = 0;
	Router *r;

	if (!sql)
		return NULL;
	for (char *p = strstr(sql, "$rules$"); p; p = strstr(p, "$rules$")) {
		char *end = strstr(p + 7, "$rules$");
		json_object *arr;

		if (!end)
			break;
		*end = 0;
		arr = json_tokener_parse(p + 7);
		for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
			ApiError err;

			rules = realloc(rules, (n + 1) * sizeof(*rules));
			if (router_rule_from_json(json_object_array_get_idx(arr, i), &rules[n], &err)) {
				rules[n].id = (int64_t)n + 1;
				n++;
			}
		}
		json_object_put(arr);
		p = end + 7;
	}
	r = router_build(rules, n, NULL, 0);
	for (size_t i = 0; i < n; i++)
		router_rule_clear(&rules[i]);
	free(rules);
	free(sql);
	return r;
}

int
main(int argc, char **argv)
{
	static const char *const districts[] = {"驿城区", "西平县", "上蔡县", "平舆县", "正阳县", "确山县"};
	static const char *const types[] = {"consult", "complaint", "help", "report", "suggestion", "praise"};
	size_t nrules = 2000, per_rule = 10, ncases = 20000, nkeywords = 0, ngen;
	const char *texts_path = NULL;
	RouterRule *rules;
	RouteInput *cases;
	char **all_kw;
	Router *router, *defaults;
	Classifier *model = NULL;
	json_object *keep = NULL;
	double t0, t1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--rules") == 0)
			nrules = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--keywords-per-rule") == 0)
			per_rule = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--cases") == 0)
			ncases = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			rng_state = strtoull(argv[i + 1], NULL, 10) | 1;
		else if (strcmp(argv[i], "--texts") == 0)
			texts_path = argv[i + 1];
		else {
			fprintf(stderr, "usage: %s [--rules N] [--keywords-per-rule K] [--cases C] [--seed S] "
					"[--texts FILE.jsonl]\n", argv[0]);
			return 2;
		}
	}
	if (nrules == 0 || per_rule == 0 || per_rule > 3 * ROUTER_LIST_MAX || ncases == 0) {
		fprintf(stderr, "bad sizes\n");
		return 2;
	}

	/* Rules: per_rule keywords each; about 80% any, 10% all (at most 1), 10% none. */
	rules = calloc(nrules, sizeof(*rules));
	all_kw = malloc(sizeof(char *) * nrules * per_rule);
	for (size_t i = 0; i < nrules; i++) {
		RouterRule *r = &rules[i];
		char name[32];

		router_rule_init(r);
		r->id = (int64_t)i + 1;
		snprintf(name, sizeof(name), "rule %zu", i + 1);
		r->name = strdup(name);
		r->department = strdup("urban_mgmt");
		r->priority = (int)(rnd() % 1000);
		for (size_t k = 0; k < per_rule; k++) {
			char *kw = make_keyword();
			unsigned dice = rnd() % 10;

			all_kw[nkeywords++] = kw;
			if (dice == 0 && r->match.all.n == 0)
				list_push(&r->match.all, strdup(kw));
			else if (dice == 1)
				list_push(&r->match.none, strdup(kw));
			else
				list_push(&r->match.any, strdup(kw));
		}
		if (rnd() % 20 == 0)
			list_push(&r->match.districts, strdup(districts[rnd() % 6]));
		if (rnd() % 20 == 0)
			list_push(&r->match.types, strdup(types[rnd() % 6]));
	}
	t0 = now_us();
	router = router_build(rules, nrules, NULL, 0);
	t1 = now_us();
	if (!router) {
		fprintf(stderr, "router_build failed\n");
		return 1;
	}
	printf("built %zu rules, %zu keywords (%zu distinct) in %.1f ms\n", router_rule_count(router), nkeywords,
	       router_keyword_count(router), (t1 - t0) / 1000);

	/* Cases: 60-300 random characters with 0-4 planted keywords; a third with a title. */
	cases = calloc(ncases, sizeof(*cases));
	for (size_t i = 0; i < ncases; i++) {
		size_t len = 60 + rnd() % 241, plant = rnd() % 5, at = 0;
		char *text = malloc(len * 3 + plant * 18 + 1);

		for (size_t c = 0; c < len; c++) {
			at += put_char(text + at);
			if (plant && rnd() % (len / plant + 1) == 0) {
				const char *kw = all_kw[rnd() % nkeywords];

				memcpy(text + at, kw, strlen(kw));
				at += strlen(kw);
				plant--;
			}
		}
		text[at] = 0;
		cases[i].text = text;
		cases[i].district = districts[rnd() % 6];
		cases[i].type = types[rnd() % 6];
		cases[i].channel = "phone";
		if (rnd() % 3 == 0) {
			char *title = malloc(20 * 3 + 1);
			size_t tl = 0;

			for (int c = 0; c < 12; c++)
				tl += put_char(title + tl);
			title[tl] = 0;
			cases[i].title = title;
		}
	}
	ngen = ncases;
	time_cases("generated cases, generated rules", &(Decider){router, NULL}, cases, ngen);
	if (texts_path) {
		size_t n = load_texts(texts_path, &cases, ngen, &keep);

		time_cases("--texts cases, generated rules", &(Decider){router, NULL}, cases + ngen, n - ngen);
		ncases = n;
	}
	defaults = default_router();
	if (defaults) {
		printf("default rules: %zu rules, %zu distinct keywords\n", router_rule_count(defaults),
		       router_keyword_count(defaults));
		time_cases("generated cases, default rules", &(Decider){defaults, NULL}, cases, ngen);
		if (ncases > ngen)
			time_cases("--texts cases, default rules", &(Decider){defaults, NULL}, cases + ngen, ncases - ngen);
	}
	if (defaults && ncases > ngen) {
		t0 = now_us();
		model = model_of_30(keep, cases, ngen);
		t1 = now_us();
		if (!model) {
			fprintf(stderr, "training failed\n");
			return 1;
		}
		printf("model: %zu departments, %zu examples, trained in %.1f ms\n", classifier_label_count(model),
		       classifier_info(model)->examples, (t1 - t0) / 1000);
		time_cases("generated cases, model alone", &(Decider){NULL, model}, cases, ngen);
		time_cases("--texts cases, model alone", &(Decider){NULL, model}, cases + ngen, ncases - ngen);
		time_cases("--texts cases, default rules+model", &(Decider){defaults, model}, cases + ngen,
			   ncases - ngen);
	}
	classifier_free(model);

	router_free(router);
	router_free(defaults);
	for (size_t i = 0; i < ngen; i++) {
		free((char *)cases[i].text);
		free((char *)cases[i].title);
	}
	free(cases);
	for (size_t i = 0; i < nrules; i++)
		router_rule_clear(&rules[i]);
	free(rules);
	for (size_t i = 0; i < nkeywords; i++)
		free(all_kw[i]);
	free(all_kw);
	json_object_put(keep);
	return 0;
}
