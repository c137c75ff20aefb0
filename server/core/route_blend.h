/*
 * route_blend: routing by the rules and the learned model together (API.md section 16).
 *
 * The decision, for a case without an explicit department:
 * - the rules decide alone when no model is loaded, when a rule written through the
 *   API (not a shipped one) matches (an admin's rule is never overridden), and when no
 *   rule matches but the case names a category (the operator's choice: method
 *   "category");
 * - otherwise each department d gets the score log p(d) + bonus(d), where p(d) is the
 *   model's calibrated confidence and bonus(d) grows with the tier of the best shipped
 *   rule of d that matches (0 when none does: see BlendParams). The best score wins.
 *   So the model decides among the matching shipped rules, overrides a rule when it is
 *   confident enough to outweigh the rule's tier, and takes over when no rule matches
 *   (then only when its confidence reaches none_min and it has seen at least
 *   coverage_min of the case's characters: text it knows nothing of stays pending).
 * - but first: when the model's best guess is a department no rule names (one created
 *   since the rules were written, known only from its confirmed cases), the model takes
 *   the case once its confidence reaches new_min (and it has seen coverage_min of the
 *   case's characters): the rules cannot speak for that department.
 * - method "rule" when the winner is the department the rules alone would pick (their
 *   rule_id and matched keywords are kept), "model" otherwise.
 * The parameters were chosen on the hold-out batches 1-7 scored with the rules of their
 * time, and checked on batches 8-9 (bench/routing/README.md).
 *
 * Pure: the router and the classifier are immutable and only read.
 */
#ifndef HOTLINE_CORE_ROUTE_BLEND_H
#define HOTLINE_CORE_ROUTE_BLEND_H

#include "core/classifier.h"
#include "core/router.h"

#define ROUTE_BLEND_TIERS 5

typedef struct BlendParams {
	/* Upper priority bound of each tier (inclusive), best tier first; beyond the last:
	 * the last tier. */
	int tier_max[ROUTE_BLEND_TIERS];
	double tier_bonus[ROUTE_BLEND_TIERS];	/* added to log p(d), in nats */
	double none_min;	/* least confidence for the model to route a case no rule matches */
	double coverage_min;	/* and the least share of its characters the model has seen */
	double new_min;		/* least confidence for a department no rule names */
} BlendParams;

/* What route_blend decided and what the model thinks. */
typedef struct BlendResult {
	RouteResult route;	/* method ROUTE_MODEL when the model decided */
	RouteResult rules;	/* what the rules alone decided (for explanations) */
	ClassifierGuess suggestion[3];	/* the model's best three, most confident first */
	size_t nsuggestions;	/* 0 without a model */
} BlendResult;

void route_blend_params_default(BlendParams *p);

/*
 * Decide as described above. model may be NULL (rules alone). Strings in out are
 * borrowed from the router and the model. False only when the router runs out of
 * scratch memory (see router_route).
 */
bool route_blend(const Router *router, const Classifier *model, const RouteInput *in, const BlendParams *p,
		 BlendResult *out);

/* The dry run's extra fields (API.md section 16) added to obj: "suggestion" (null, or the
 * model's best {"department", "confidence"}) and, with top, "model" (its best three, same
 * shape). False when out of memory. */
bool route_blend_suggestion_to_json(const BlendResult *res, json_object *obj, bool with_top);

#endif
