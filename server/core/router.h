/*
 * router: the routing rules of API.md section 3 (分得更准) as values, their JSON form and
 * validation, and the engine that picks a department for a case.
 *
 * Pure: no I/O, no clock, no globals. Typical use by the server:
 *
 *   // loading (at start, and whenever NOTIFY rules_changed bumps the rules version)
 *   RouterRule *rules = ...;                 // one per row of `rules`, filled by
 *   router_rule_from_json(row_json, &rules[i], &err);  // (or field by field)
 *   rules[i].id = row_id;
 *   RouterCategory cats[] = {{"urban_mgmt.01", "urban_mgmt"}, ...};   // categories table
 *   Router *next = router_build(rules, n, cats, ncats);   // deep copies: free rules after
 *   Router *old = current; current = next; router_free(old);      // atomic swap of one pointer
 *
 *   // routing (case create, POST /v1/route)
 *   RouteInput in = {.title = ..., .text = ..., .district = ..., .type = "complaint",
 *                    .channel = "phone", .category = NULL};
 *   RouteResult res;
 *   if (!router_route(current, &in, &res)) -> 503/500 (out of memory only)
 *   res.method == ROUTE_RULE / ROUTE_CATEGORY / ROUTE_NONE (-> pending)
 *   json_object *body = router_result_to_json(&res);   // the dry run's answer
 *
 * Semantics (API.md section 3, exactly):
 * - A rule matches a case when at least one `any` keyword occurs in the title or the text
 *   (an empty `any` is satisfied), every `all` keyword occurs (each in the title or the
 *   text), no `none` keyword occurs, and each non-empty list of `districts`, `types`,
 *   `channels`, `categories` contains the case's value (a case without that value does
 *   not match a non-empty list).
 * - Keywords are plain substrings of the UTF-8 bytes, case-insensitive for ASCII letters
 *   only. Title and text are searched separately: a keyword never matches across the
 *   boundary between them.
 * - Disabled rules are ignored.
 * - Among matching rules the lowest `priority` wins; ties go to the rule with more
 *   distinct matched keywords, then to the lower `id`. "Distinct matched keywords" counts
 *   the keywords of the rule's `any` and `all` lists together that occur in the case,
 *   each keyword once even when it is listed in both lists or twice, and keywords equal
 *   after ASCII case folding ("WiFi", "wifi") as one. `none` keywords never count.
 * - No rule matches: the case's `category` (if any, and known to the router) gives its
 *   default department (method "category"); otherwise no department (method none:
 *   the case goes to the pending pool).
 *
 * Ownership: a RouterRule owns every string it points to (router_rule_clear frees them).
 * A Router owns deep copies of everything it was built from and never changes after
 * router_build, so one Router may be read by any number of threads and swapped as one
 * pointer. A RouteResult borrows strings from the Router that produced it: they stay
 * valid until that Router is freed.
 */
#ifndef HOTLINE_CORE_ROUTER_H
#define HOTLINE_CORE_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/api_error.h"

/* Limits of API.md section 3 / the rule body. */
#define ROUTER_NAME_MAX 100		/* characters */
#define ROUTER_LIST_MAX 200		/* entries in each match list */
#define ROUTER_KEYWORD_MAX 50		/* characters in one keyword (any/all/none) */
#define ROUTER_DISTRICT_MAX 50		/* characters, as a case's district */
#define ROUTER_CATEGORY_MAX 100		/* characters of a category code */
#define ROUTER_PRIORITY_MIN 0
#define ROUTER_PRIORITY_MAX 1000000
#define ROUTER_PRIORITY_DEFAULT 100
/* Most keywords a RouteResult can report: a whole `any` plus a whole `all` list. */
#define ROUTER_MAX_MATCHED (2 * ROUTER_LIST_MAX)

/* A list of owned, NUL-terminated UTF-8 strings. */
typedef struct RouterList {
	char **items;
	size_t n;
} RouterList;

typedef struct RouterMatch {
	RouterList any;		/* at least one must occur (empty: satisfied) */
	RouterList all;		/* each must occur */
	RouterList none;	/* none may occur */
	RouterList districts;	/* case's district must be one of these (empty: any) */
	RouterList types;	/* consult, complaint, help, report, suggestion, praise */
	RouterList channels;	/* phone, web, app, wechat, kiosk, hall, email, open311 */
	RouterList categories;	/* category codes, e.g. "urban_mgmt.03" */
} RouterMatch;

typedef struct RouterRule {
	int64_t id;		/* the database id; 0 while not stored */
	char *name;		/* 1..100 characters */
	int priority;		/* 0..1000000, lower wins; default 100 */
	bool enabled;		/* default true */
	char *department;	/* department code; its existence is the caller's check */
	RouterMatch match;
	bool shipped;		/* came with the server (migration), not written through the API:
				 * the learned model may outvote it (core/route_blend.h). Not part of
				 * the JSON form; the loader sets it. */
} RouterRule;

/* A category code and its default department (the `categories` table). */
typedef struct RouterCategory {
	const char *code;
	const char *department;
} RouterCategory;

typedef enum RouteMethod {
	ROUTE_NONE = 0,		/* no department: the case goes to the pending pool */
	ROUTE_RULE,		/* a rule matched */
	ROUTE_CATEGORY,		/* no rule matched; the category's default department */
	ROUTE_MODEL		/* the learned model decided (core/route_blend.h) */
} RouteMethod;

/* What router_route looks at. Every pointer may be NULL. Strings are NUL-terminated
 * UTF-8. A NULL type is taken as "complaint" and a NULL channel as "phone" (the API's
 * defaults); a NULL district or category matches no non-empty list. */
typedef struct RouteInput {
	const char *title;
	const char *text;
	const char *district;
	const char *type;
	const char *channel;
	const char *category;
} RouteInput;

typedef struct RouteResult {
	RouteMethod method;
	const char *department;	/* NULL for ROUTE_NONE */
	int64_t rule_id;	/* 0 unless ROUTE_RULE */
	const char *rule_name;	/* NULL unless ROUTE_RULE */
	bool shipped;		/* ROUTE_RULE: the winning rule is a shipped one */
	/* ROUTE_RULE only: the winning rule's distinct matched keywords (any, then all, each
	 * in list order, spelled as in the rule); nmatched is the count used for ties. */
	size_t nmatched;
	const char *matched[ROUTER_MAX_MATCHED];
} RouteResult;

typedef struct Router Router;

/*
 * Rules as values
 */

/* Zero a rule (no allocation); the state router_rule_clear leaves behind. */
void router_rule_init(RouterRule *rule);

/* Free every string of the rule and zero it. NULL is allowed. */
void router_rule_clear(RouterRule *rule);

/* Deep-copy src into dst (dst is overwritten, not freed first). Returns false when out
 * of memory, leaving dst zeroed. */
bool router_rule_copy(RouterRule *dst, const RouterRule *src) __attribute__((warn_unused_result));

/*
 * Parse and validate a rule body (POST/PUT /v1/rules, and rows read back from the
 * database as JSON). Accepted fields: "id" (ignored unless a positive integer: the
 * handler sets the id from the path or the database), "name" (required, 1..100
 * characters), "priority" (integer 0..1000000, default 100), "enabled" (boolean,
 * default true), "department" (required, a code like "urban_mgmt"), "match" (required
 * object) with the optional lists "any", "all", "none" (each <= 200 keywords of 1..50
 * characters, not blank), "districts" (<= 200 names of 1..50 characters), "types" and
 * "channels" (<= 200 values of the API's enums), "categories" (<= 200 codes of 1..100
 * characters). Strings must be valid UTF-8.
 *
 * On success fills *out (which it overwrites without freeing: pass an initialised or
 * cleared rule) and returns true; the caller frees it with router_rule_clear. On refusal
 * returns false with *out zeroed and err filled: 400 bad_json when obj is not an object,
 * 422 missing_field for a missing name/department/match, 422 invalid_field otherwise,
 * err->field naming the field ("priority", "match.any", "match.types"; an unknown key is
 * named as itself: "colour", "match.colour").
 */
bool router_rule_from_json(json_object *obj, RouterRule *out, ApiError *err)
	__attribute__((warn_unused_result));

/* The rule's API representation: {"id", "name", "priority", "enabled", "department",
 * "match": {all seven lists, empty ones included}}. A new reference owned by the
 * caller (json_object_put), NULL when out of memory. */
json_object *router_rule_to_json(const RouterRule *rule);

/*
 * The engine
 */

/*
 * Build an immutable router from n rules (disabled ones are skipped) and ncats category
 * defaults. Everything is copied: the caller keeps ownership of rules and cats and may
 * free them at once. Rules are assumed validated by router_rule_from_json; anything else
 * is still handled without crashing (an empty keyword occurs everywhere, an unknown type
 * or channel matches nothing). Returns NULL when out of memory. Free with router_free.
 */
Router *router_build(const RouterRule *rules, size_t n, const RouterCategory *cats, size_t ncats);

/* Free a router. NULL is allowed. Every RouteResult it produced becomes invalid. */
void router_free(Router *router);

/* Number of enabled rules, and of distinct keywords in the automaton. */
size_t router_rule_count(const Router *router);
size_t router_keyword_count(const Router *router);

/*
 * Route one case. Fills *out (see RouteResult) and returns true; returns false (with
 * out->method ROUTE_NONE) only when a scratch allocation fails, which needs more than
 * 32768 distinct keywords in the router. A NULL router or input gives ROUTE_NONE.
 * Cost: one pass over title and text plus the candidate rules whose `any` keywords
 * occurred (and the rules with an empty `any`), best first.
 */
bool router_route(const Router *router, const RouteInput *in, RouteResult *out) __attribute__((warn_unused_result));

/* One department with a matching rule, as router_route_candidates lists them. */
typedef struct RouterCandidate {
	const char *department;	/* borrowed from the router */
	int priority;		/* the best (lowest) priority among its matching rules */
	bool admin;		/* some matching rule of it was written through the API */
} RouterCandidate;

/*
 * router_route, and into cands (at most max; *ncands of them) every department that some
 * matching enabled rule names (in no particular order, each once) with its best priority:
 * the same matching, without the route's shortcut past worse priorities, over the same one
 * scan of the text (a second scan was ~2.4% of the server's CPU under intake). With cands
 * or ncands NULL, router_route. False as router_route's.
 */
bool router_route_candidates(const Router *router, const RouteInput *in, RouteResult *out, RouterCandidate *cands,
			     size_t max, size_t *ncands) __attribute__((warn_unused_result));

/* True when some enabled rule names the department (false for a NULL router). */
bool router_department_has_rules(const Router *router, const char *department);

/* "rule", "category", "model", or NULL for ROUTE_NONE. */
const char *router_method_name(RouteMethod method);

/* The dry run's answer: {"department", "method", "rule_id", "rule_name", "matched"},
 * with JSON null for what does not apply and [] when nothing matched. A new reference
 * owned by the caller, NULL when out of memory. */
json_object *router_result_to_json(const RouteResult *res);

/* Validators shared with the case handlers: true for the API's enum values. */
bool router_type_valid(const char *type);
bool router_channel_valid(const char *channel);

#endif
