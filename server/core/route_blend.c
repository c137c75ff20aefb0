/*
 * route_blend: rules and model together (see route_blend.h).
 */
#include "core/route_blend.h"

#include <math.h>
#include <string.h>

#define CANDIDATES_MAX 64
#define UNKNOWN_PROB 1e-4	/* a department the model has no examples of */

static double tier_bonus(const BlendParams *p, int priority);

void
route_blend_params_default(BlendParams *p)
{
	*p = (BlendParams){.tier_max = {45, 60, 70, 100, 1000000},
			   .tier_bonus = {5.0, 2.0, 1.5, 1.0, 0.5},
			   .none_min = 0.7,
			   .coverage_min = 0.8,
			   .new_min = 0.5};
}

bool
route_blend(const Router *router, const Classifier *model, const RouteInput *in, const BlendParams *p,
	    BlendResult *out)
{
	ClassifierGuess all[CLASSIFIER_LABELS_MAX];
	RouterCandidate cands[CANDIDATES_MAX];
	size_t nall, ncands;
	const char *best = NULL;
	double best_score = -INFINITY;

	memset(out, 0, sizeof(*out));
	nall = in ? classifier_predict(model, in->title, in->text, all, CLASSIFIER_LABELS_MAX) : 0;
	/* the candidates only when the model has a say: from the route's own scan of the text */
	if (!router_route_candidates(router, in, &out->route, nall ? cands : NULL, CANDIDATES_MAX, &ncands))
		return false;
	out->rules = out->route;
	if (!in)
		return true;
	out->nsuggestions = nall < 3 ? nall : 3;
	memcpy(out->suggestion, all, out->nsuggestions * sizeof(*all));
	if (!nall || out->route.method == ROUTE_CATEGORY ||
	    (out->route.method == ROUTE_RULE && !out->route.shipped))
		return true;
	for (size_t i = 0; i < ncands; i++)
		if (cands[i].admin)
			return true;
	if ((!ncands && all[0].confidence >= p->none_min) ||
	    (all[0].confidence >= p->new_min && !router_department_has_rules(router, all[0].label))) {
		if (classifier_coverage(model, in->title, in->text) >= p->coverage_min)
			out->route = (RouteResult){.method = ROUTE_MODEL, .department = all[0].label};
		return true;
	}
	if (!ncands)
		return true;
	/* Every department the model knows, plus those only rules know. */
	for (size_t k = 0; k < nall; k++) {
		double score = log(fmax(all[k].confidence, UNKNOWN_PROB));

		for (size_t i = 0; i < ncands; i++)
			if (strcmp(cands[i].department, all[k].label) == 0)
				score += tier_bonus(p, cands[i].priority);
		if (score > best_score)
			best_score = score, best = all[k].label;
	}
	for (size_t i = 0; i < ncands; i++) {
		double score = log(UNKNOWN_PROB) + tier_bonus(p, cands[i].priority);

		if (classifier_label_index(model, cands[i].department) < 0 && score > best_score)
			best_score = score, best = cands[i].department;
	}
	if (best && (!out->route.department || strcmp(best, out->route.department) != 0)) {
		out->route = (RouteResult){.method = ROUTE_MODEL, .department = best};
	}
	return true;
}

static double
tier_bonus(const BlendParams *p, int priority)
{
	for (int t = 0; t < ROUTE_BLEND_TIERS; t++)
		if (priority <= p->tier_max[t])
			return p->tier_bonus[t];
	return p->tier_bonus[ROUTE_BLEND_TIERS - 1];
}

static json_object *
guess_json(const ClassifierGuess *g)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (json_object_object_add(o, "department", json_object_new_string(g->label)) ||
	    json_object_object_add(o, "confidence", json_object_new_double(round(g->confidence * 1e4) / 1e4))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

bool
route_blend_suggestion_to_json(const BlendResult *res, json_object *obj, bool with_top)
{
	json_object *top = json_object_new_array(), *first = NULL;

	if (!top)
		return false;
	for (size_t i = 0; i < res->nsuggestions; i++) {
		json_object *g = guess_json(&res->suggestion[i]);

		if (!g || json_object_array_add(top, g)) {
			json_object_put(g);
			json_object_put(top);
			return false;
		}
	}
	if (res->nsuggestions && !(first = guess_json(&res->suggestion[0]))) {
		json_object_put(top);
		return false;
	}
	if (json_object_object_add(obj, "suggestion", first)) {
		json_object_put(first);
		json_object_put(top);
		return false;
	}
	if (!with_top) {
		json_object_put(top);
		return true;
	}
	if (json_object_object_add(obj, "model", top)) {
		json_object_put(top);
		return false;
	}
	return true;
}
