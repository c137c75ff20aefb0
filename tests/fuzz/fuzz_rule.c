/*
 * fuzz_rule: a routing-rule body (POST/PUT /v1/rules) as the server reads it:
 * json_body_parse, then router_rule_from_json; an accepted rule is built into a router
 * and a case made of its own keywords is routed.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * - every refusal is a well-formed contract error (fuzz_check_refusal);
 * - an accepted rule's representation (router_rule_to_json) is accepted again and is a
 *   fixed point, so GET /v1/rules output can be PUT back unchanged;
 * - the engine agrees with the semantics of API.md section 3 on the easy oracle: a case
 *   whose text holds every `any` and `all` keyword and whose district, type, channel and
 *   category are taken from the rule's lists is routed by this rule exactly when the
 *   rule is enabled and no `none` keyword occurs in the text (ASCII case folded).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_body.h"
#include "core/router.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const RouterCategory categories[] = {{"urban_mgmt.01", "urban_mgmt"}};

/* The case text: every any and all keyword, separated by a character no keyword needs. */
static char *
keyword_text(const RouterRule *rule)
{
	const RouterList *lists[] = {&rule->match.any, &rule->match.all};
	size_t len = 1;
	char *text, *p;

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			len += strlen(lists[l]->items[i]) + 1;
	text = malloc(len);
	FUZZ_ASSERT(text != NULL, "allocated");
	p = text;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			size_t n = strlen(lists[l]->items[i]);

			memcpy(p, lists[l]->items[i], n);
			p += n;
			*p++ = '\n';
		}
	}
	*p = '\0';
	return text;
}

static bool
ascii_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* API.md section 3: a case-insensitive substring, but a keyword of ASCII letters and digits
 * only occurs where no ASCII letter or digit flanks it. */
static bool
keyword_occurs(const char *text, const char *kw)
{
	size_t n = strlen(kw);
	bool word = n > 0;

	for (size_t i = 0; i < n; i++)
		word = word && ascii_alnum(kw[i]);
	for (const char *at = strcasestr(text, kw); at; at = strcasestr(at + 1, kw))
		if (!word || ((at == text || !ascii_alnum(at[-1])) && !ascii_alnum(at[n])))
			return true;
	return false;
}

static bool
none_occurs(const RouterRule *rule, const char *text)
{
	for (size_t i = 0; i < rule->match.none.n; i++)
		if (keyword_occurs(text, rule->match.none.items[i]))
			return true;
	return false;
}

static const char *
first_or_null(const RouterList *l)
{
	return l->n ? l->items[0] : NULL;
}

static void
check_routing(const RouterRule *rule)
{
	Router *router = router_build(rule, 1, categories, 1);
	char *text = keyword_text(rule);
	RouteInput in = {NULL, text, first_or_null(&rule->match.districts), first_or_null(&rule->match.types),
			 first_or_null(&rule->match.channels), first_or_null(&rule->match.categories)};
	RouteResult res;
	bool expect = rule->enabled && !none_occurs(rule, text);
	json_object *answer, *back;
	const char *json;

	FUZZ_ASSERT(router != NULL, "router built");
	FUZZ_ASSERT(router_rule_count(router) == (rule->enabled ? 1u : 0u), "enabled rules counted");
	FUZZ_ASSERT(router_route(router, &in, &res), "routed");
	FUZZ_ASSERT((res.method == ROUTE_RULE) == expect, "the rule matches exactly when the semantics say so");
	if (expect) {
		FUZZ_ASSERT(strcmp(res.department, rule->department) == 0, "routed to the rule's department");
		FUZZ_ASSERT(res.nmatched <= rule->match.any.n + rule->match.all.n, "matched keywords bounded");
		FUZZ_ASSERT(res.nmatched >= (rule->match.any.n ? 1u : 0u), "an any keyword matched");
	}
	answer = router_result_to_json(&res);
	FUZZ_ASSERT(answer != NULL, "dry-run answer built");
	back = fuzz_round_trip(answer, &json);
	json_object_put(back);
	json_object_put(answer);
	router_free(router);
	free(text);
}

static void
check_fixed_point(const RouterRule *rule)
{
	json_object *repr = router_rule_to_json(rule), *back, *repr2;
	const char *text, *text2;
	RouterRule again;
	ApiError err;

	FUZZ_ASSERT(repr != NULL, "representation built");
	back = fuzz_round_trip(repr, &text);
	FUZZ_ASSERT(router_rule_from_json(back, &again, &err), "the representation is accepted again");
	again.id = rule->id;
	repr2 = router_rule_to_json(&again);
	FUZZ_ASSERT(repr2 != NULL, "representation built again");
	text2 = json_object_to_json_string_ext(repr2, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	FUZZ_ASSERT(strcmp(text, text2) == 0, "the representation is a fixed point");
	json_object_put(repr2);
	router_rule_clear(&again);
	json_object_put(back);
	json_object_put(repr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL;
	RouterRule rule;
	ApiError err;

	memset(&err, 0, sizeof(err));
	if (!json_body_parse((const char *)data, size, &body, &err)) {
		fuzz_check_parse((const char *)data, size, NULL, &err);
		return 0;
	}
	fuzz_check_parse((const char *)data, size, body, &err);
	router_rule_init(&rule);
	if (!router_rule_from_json(body, &rule, &err)) {
		fuzz_check_refusal(&err);
	} else {
		FUZZ_ASSERT(rule.name && rule.department, "name and department present");
		FUZZ_ASSERT(rule.priority >= ROUTER_PRIORITY_MIN && rule.priority <= ROUTER_PRIORITY_MAX, "priority range");
		check_fixed_point(&rule);
		check_routing(&rule);
		router_rule_clear(&rule);
	}
	json_object_put(body);
	return 0;
}
