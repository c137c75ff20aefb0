/* test_classifier: the routing text classifier (server/core/classifier.c) and the way routing
 * combines it with the rules (server/core/route_blend.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/classifier.h"
#include "core/route_blend.h"
#include "core/router.h"

/* A small known problem: three departments, each with its own words. */
static const char *const labels[] = {"water_supply", "power_supply", "telecom"};
static const struct {
	const char *text;
	uint32_t label;
} problem[] = {
	{"家里停水了，水龙头没有水", 0},	{"自来水有异味，水很浑浊", 0},	{"水管破了漏水，路上全是水", 0},
	{"水压太低，楼上没有水", 0},		{"水费太贵，水表走得快", 0},		{"小区突然停水没通知", 0},
	{"家里停电了，灯都不亮", 1},		{"电压不稳，电器烧坏了", 1},		{"电费太贵，电表走得快", 1},
	{"变压器冒火花，电线掉了", 1},		{"小区突然停电没通知", 1},		{"电线杆上的电线断了", 1},
	{"宽带断网，网速很慢", 2},		{"手机没有信号，打不了电话", 2},	{"套餐乱扣费，话费不对", 2},
	{"光纤断了，网络连不上", 2},		{"基站信号差，上网卡", 2},		{"宽带报修没人来，网断了", 2},
};
#define NPROBLEM (sizeof(problem) / sizeof(problem[0]))

static Classifier *
train_problem(unsigned holdout_every, uint64_t seed)
{
	ClassifierExample ex[NPROBLEM];
	ClassifierParams p;

	for (size_t i = 0; i < NPROBLEM; i++)
		ex[i] = (ClassifierExample){NULL, problem[i].text, problem[i].label, false, 1.0f};
	classifier_params_default(&p);
	p.holdout_every = holdout_every;
	p.seed = seed;
	return classifier_train(labels, 3, ex, NPROBLEM, &p);
}

static const char *
best(const Classifier *c, const char *text, double *confidence)
{
	ClassifierGuess g;

	assert_int_equal(classifier_predict(c, NULL, text, &g, 1), 1);
	if (confidence)
		*confidence = g.confidence;
	return g.label;
}

/* Every training example is labelled right, and new texts in the same words too. */
static void
test_small_problem_solved_exactly(void **state)
{
	Classifier *c = train_problem(0, 7);

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < NPROBLEM; i++)
		assert_string_equal(best(c, problem[i].text, NULL), labels[problem[i].label]);
	assert_string_equal(best(c, "楼里又停水了", NULL), "water_supply");
	assert_string_equal(best(c, "昨晚停电到现在", NULL), "power_supply");
	assert_string_equal(best(c, "家里宽带又断网了", NULL), "telecom");
	assert_int_equal(classifier_info(c)->examples, NPROBLEM);
	assert_true(classifier_info(c)->accuracy < 0);	/* nothing held out */
	classifier_free(c);
}

/* The same examples, parameters and seed give the same model, byte for byte; another seed
 * shuffles differently. */
static void
test_training_is_deterministic(void **state)
{
	Classifier *a = train_problem(3, 42), *b = train_problem(3, 42), *d = train_problem(3, 43);
	unsigned char *ba, *bb, *bd;
	size_t la, lb, ld;

	(void)state;
	assert_true(classifier_save(a, &ba, &la));
	assert_true(classifier_save(b, &bb, &lb));
	assert_true(classifier_save(d, &bd, &ld));
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	assert_int_equal(la, ld);
	assert_memory_not_equal(ba, bd, la);
	free(ba);
	free(bb);
	free(bd);
	classifier_free(a);
	classifier_free(b);
	classifier_free(d);
}

/* Held-out examples measure accuracy; confidences are probabilities, ranked. */
static void
test_holdout_accuracy_and_ranked_confidences(void **state)
{
	Classifier *c = train_problem(3, 1);
	const ClassifierInfo *info = classifier_info(c);
	ClassifierGuess top[5];
	double sum = 0;

	(void)state;
	assert_int_equal(info->held_out, NPROBLEM / 3);
	assert_true(info->accuracy >= 0 && info->accuracy <= 1);
	assert_true(info->temperature > 0);
	assert_int_equal(classifier_predict(c, "停水", "家里没水了", top, 5), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(top[i].confidence > 0 && top[i].confidence < 1);
		assert_string_equal(top[i].label, labels[top[i].index]);
		sum += top[i].confidence;
	}
	assert_true(top[0].confidence >= top[1].confidence && top[1].confidence >= top[2].confidence);
	assert_true(sum > 0.999 && sum < 1.001);
	assert_string_equal(top[0].label, "water_supply");
	classifier_free(c);
}

/* Asked for every label (as routing asks), the ranks are every label once, by confidence, and
 * labels of equal confidence in the model's order: three labels with no example at all stay
 * exactly equal in training and come 2, 3, 4. The first three ranks are the top three. */
static void
test_every_label_ranked(void **state)
{
	static const char *const five[] = {"water_supply", "power_supply", "gas", "heating", "telecom"};
	ClassifierExample ex[12];
	ClassifierParams p;
	ClassifierGuess all[CLASSIFIER_LABELS_MAX], top[3];
	Classifier *c;

	(void)state;
	for (size_t i = 0; i < 12; i++)
		ex[i] = (ClassifierExample){NULL, problem[i].text, problem[i].label, false, 1.0f};
	classifier_params_default(&p);
	p.holdout_every = 0;
	c = classifier_train(five, 5, ex, 12, &p);
	assert_non_null(c);
	assert_int_equal(classifier_predict(c, NULL, "家里停水了", all, CLASSIFIER_LABELS_MAX), 5);
	assert_string_equal(all[0].label, "water_supply");
	assert_string_equal(all[1].label, "power_supply");
	for (uint32_t r = 2; r < 5; r++) {
		assert_int_equal(all[r].index, r);
		assert_true(all[r].confidence == all[2].confidence);
	}
	assert_true(all[0].confidence > all[1].confidence && all[1].confidence > all[2].confidence);
	assert_int_equal(classifier_predict(c, NULL, "家里停水了", top, 3), 3);
	for (int r = 0; r < 3; r++) {
		assert_int_equal(top[r].index, all[r].index);
		assert_true(top[r].confidence == all[r].confidence);
	}
	classifier_free(c);
}

/* The confidence of label k for a text. */
static double
confidence_of(const Classifier *c, const char *text, uint32_t k)
{
	ClassifierGuess top[3];

	assert_int_equal(classifier_predict(c, NULL, text, top, 3), 3);
	for (int i = 0; i < 3; i++)
		if (top[i].index == k)
			return top[i].confidence;
	return -1;
}

/* A negative example (a return) pushes its text away from the label it names. */
static void
test_negative_examples_push_away(void **state)
{
	const char *text = "停电停水都没通知";
	ClassifierExample ex[NPROBLEM + 6];
	ClassifierParams p;
	ClassifierGuess g;
	Classifier *plain, *taught;

	(void)state;
	for (size_t i = 0; i < NPROBLEM; i++)
		ex[i] = (ClassifierExample){NULL, problem[i].text, problem[i].label, false, 1.0f};
	classifier_params_default(&p);
	p.holdout_every = 0;
	plain = classifier_train(labels, 3, ex, NPROBLEM, &p);
	assert_non_null(plain);
	assert_int_equal(classifier_predict(plain, NULL, text, &g, 1), 1);
	for (size_t i = NPROBLEM; i < NPROBLEM + 6; i++)
		ex[i] = (ClassifierExample){NULL, text, g.index, true, 3.0f};
	taught = classifier_train(labels, 3, ex, NPROBLEM + 6, &p);
	assert_non_null(taught);
	assert_true(confidence_of(taught, text, g.index) < confidence_of(plain, text, g.index) - 0.1);
	classifier_free(plain);
	classifier_free(taught);
}

/* Saved and loaded: the same predictions; damaged bytes are refused. */
static void
test_save_and_load(void **state)
{
	Classifier *c = train_problem(3, 5), *back;
	unsigned char *bytes;
	size_t len;
	ClassifierGuess a[3], b[3];

	(void)state;
	assert_true(classifier_save(c, &bytes, &len));
	back = classifier_load(bytes, len);
	assert_non_null(back);
	assert_int_equal(classifier_predict(c, NULL, "电线断了", a, 3), 3);
	assert_int_equal(classifier_predict(back, NULL, "电线断了", b, 3), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].index, b[i].index);
		assert_true(a[i].confidence == b[i].confidence);
	}
	assert_int_equal(classifier_label_index(back, "telecom"), 2);
	assert_int_equal(classifier_label_index(back, "health"), -1);
	assert_null(classifier_load(bytes, len - 1));
	assert_null(classifier_load(bytes, 20));
	bytes[0] ^= 1;
	assert_null(classifier_load(bytes, len));
	free(bytes);
	classifier_free(back);
	classifier_free(c);
}

static void
test_refusals_and_coverage(void **state)
{
	const char *dup[] = {"a", "a"}, *empty[] = {""};
	ClassifierParams p;
	ClassifierExample ex = {NULL, "停水", 0, false, 1.0f};
	Classifier *c = train_problem(0, 1);
	ClassifierGuess g;

	(void)state;
	classifier_params_default(&p);
	assert_null(classifier_train(dup, 2, &ex, 1, &p));
	assert_null(classifier_train(empty, 1, &ex, 1, &p));
	p.dim_bits = 40;
	assert_null(classifier_train(labels, 3, &ex, 1, &p));
	assert_int_equal(classifier_predict(NULL, NULL, "停水", &g, 1), 0);
	/* invalid UTF-8 and empty text are read without harm */
	assert_int_equal(classifier_predict(c, "\xff\xfe", "", &g, 1), 1);
	assert_true(classifier_coverage(c, NULL, "停水停电") == 1.0);
	assert_true(classifier_coverage(c, NULL, "\xe3\x90\x80\xe3\x90\x81停水") == 0.5);
	assert_true(classifier_coverage(c, NULL, "") == 0);
	assert_true(classifier_coverage(c, NULL, "f35a454a8f") == 0);
	assert_true(classifier_coverage(c, NULL, "停水ab") == 0.5);
	classifier_free(c);
}

/*
 * route_blend
 */

static Router *
rules_of(const char *json, bool shipped)
{
	json_object *arr = json_tokener_parse(json);
	size_t n = json_object_array_length(arr);
	RouterRule *rules = calloc(n, sizeof(*rules));
	Router *r;

	for (size_t i = 0; i < n; i++) {
		ApiError err = {0};

		assert_true(router_rule_from_json(json_object_array_get_idx(arr, i), &rules[i], &err));
		rules[i].id = (int64_t)i + 1;
		rules[i].shipped = shipped;
	}
	r = router_build(rules, n, NULL, 0);
	for (size_t i = 0; i < n; i++)
		router_rule_clear(&rules[i]);
	free(rules);
	json_object_put(arr);
	return r;
}

/* Rules for telecom; water and power have rules too (that these texts do not match). */
#define BLEND_TELECOM \
	"{\"name\": \"weak\", \"priority\": 300, \"department\": \"telecom\", \"match\": {\"any\": [\"没通知\"]}}," \
	" {\"name\": \"strong\", \"priority\": 20, \"department\": \"telecom\", \"match\": {\"any\": [\"光纤\"]}}"
static const char blend_rules[] =
	"[" BLEND_TELECOM ","
	" {\"name\": \"w\", \"department\": \"water_supply\", \"match\": {\"any\": [\"自来水公司\"]}},"
	" {\"name\": \"p\", \"department\": \"power_supply\", \"match\": {\"any\": [\"供电所\"]}}]";

static void
test_blend_model_outvotes_a_weak_shipped_rule_only(void **state)
{
	Classifier *c = train_problem(0, 7);
	Router *shipped = rules_of(blend_rules, true), *admin = rules_of(blend_rules, false);
	BlendParams p;
	BlendResult res;
	RouteInput weak = {.text = "小区突然停水没通知"}, strong = {.text = "停水了，光纤也断了"};

	(void)state;
	route_blend_params_default(&p);
	/* a weak shipped rule says telecom; the model is sure it is water */
	assert_true(route_blend(shipped, c, &weak, &p, &res));
	assert_int_equal(res.route.method, ROUTE_MODEL);
	assert_string_equal(res.route.department, "water_supply");
	assert_string_equal(res.rules.department, "telecom");
	assert_int_equal(res.nsuggestions, 3);
	assert_string_equal(res.suggestion[0].label, "water_supply");
	/* a boundary-tier rule holds */
	assert_true(route_blend(shipped, c, &strong, &p, &res));
	assert_int_equal(res.route.method, ROUTE_RULE);
	assert_string_equal(res.route.department, "telecom");
	/* an admin's rule is never overridden */
	assert_true(route_blend(admin, c, &weak, &p, &res));
	assert_int_equal(res.route.method, ROUTE_RULE);
	assert_string_equal(res.route.department, "telecom");
	assert_string_equal(res.suggestion[0].label, "water_supply");
	/* no model: the rules alone */
	assert_true(route_blend(shipped, NULL, &weak, &p, &res));
	assert_int_equal(res.route.method, ROUTE_RULE);
	assert_int_equal(res.nsuggestions, 0);
	router_free(shipped);
	router_free(admin);
	classifier_free(c);
}

/* A department no rule names (created after the rules) is the model's to decide, even
 * against a boundary-tier shipped rule, once the model is confident. */
static void
test_blend_department_without_rules(void **state)
{
	Classifier *c = train_problem(0, 7);
	Router *r = rules_of("[" BLEND_TELECOM "]", true);
	BlendParams p;
	BlendResult res;
	RouteInput strong = {.text = "停水了，光纤也断了"};

	(void)state;
	route_blend_params_default(&p);
	assert_true(route_blend(r, c, &strong, &p, &res));
	assert_string_equal(res.rules.department, "telecom");
	assert_int_equal(res.route.method, ROUTE_MODEL);
	assert_string_equal(res.route.department, "water_supply");
	p.new_min = 1.1;	/* never confident enough: the rule holds */
	assert_true(route_blend(r, c, &strong, &p, &res));
	assert_int_equal(res.route.method, ROUTE_RULE);
	router_free(r);
	classifier_free(c);
}

static void
test_blend_without_a_rule(void **state)
{
	Classifier *c = train_problem(0, 7);
	Router *r = rules_of("[]", true);
	BlendParams p;
	BlendResult res;
	RouteInput known = {.text = "家里停电了，灯都不亮"}, unknown = {.text = "\xe3\x90\x80\xe3\x90\x81\xe3\x90\x82电"};

	(void)state;
	route_blend_params_default(&p);
	assert_true(route_blend(r, c, &known, &p, &res));
	assert_int_equal(res.route.method, ROUTE_MODEL);
	assert_string_equal(res.route.department, "power_supply");
	assert_string_equal(router_method_name(res.route.method), "model");
	/* text the model has hardly seen stays pending, whatever its guess */
	assert_true(route_blend(r, c, &unknown, &p, &res));
	assert_int_equal(res.route.method, ROUTE_NONE);
	assert_null(res.route.department);
	assert_int_equal(res.nsuggestions, 3);
	router_free(r);
	classifier_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_problem_solved_exactly),
		cmocka_unit_test(test_training_is_deterministic),
		cmocka_unit_test(test_holdout_accuracy_and_ranked_confidences),
		cmocka_unit_test(test_every_label_ranked),
		cmocka_unit_test(test_negative_examples_push_away),
		cmocka_unit_test(test_save_and_load),
		cmocka_unit_test(test_refusals_and_coverage),
		cmocka_unit_test(test_blend_model_outvotes_a_weak_shipped_rule_only),
		cmocka_unit_test(test_blend_department_without_rules),
		cmocka_unit_test(test_blend_without_a_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
