/*
 * sla_state: the SLA policy and the working-day calendar in force (see sla_state.h).
 *
 * One statement reads both versions, the policy and every calendar year (one snapshot);
 * the core validates them into an SlaRules, which db/reloader swaps in whole. The
 * reloader polls the cheap calendar_sla_versions() every few seconds and reloads when
 * either version moved; a failed poll or load keeps the last good rules, so the server
 * goes on computing deadlines through a database outage.
 */
#include "sla_state.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/fnv.h"
#include "core/sla.h"
#include "core/workcal.h"
#include "db/reloader.h"
#include "log.h"

/* Both versions as one text, the same in the check and the load: "<policy>/<calendar>". */
#define SLA_STATE_VERSION "format('%s/%s', v.sla_version, v.calendar_version)"

/*
 * The deadlines computed last for a type and urgency, by the instant they were computed from:
 * every create of that kind within one second has the same (deadlines count whole seconds),
 * and workcal's walk day by day through localtime_r and mktime cost ~1.7 us a create, 3% of
 * the server's CPU under intake (bench/RESULTS.md, session 10). A kind's entry may sit in any
 * of DEADLINE_MEMO_WAYS slots from its hash's (kinds alternate from one create to the next: two
 * sharing one slot would evict each other every time); a new entry replaces the one computed
 * from the earliest instant. In the SlaRules they were computed with, so that a reload starts
 * with none.
 */
#define DEADLINE_MEMO_SLOTS 16
#define DEADLINE_MEMO_WAYS 4

typedef struct DeadlineMemo {
	bool set;
	bool urgent;
	char type[SLA_TYPE_MAX];
	time_t at;
	time_t t[3]; /* sign_by, contact_by, finish_by */
} DeadlineMemo;

/* What deadlines are computed from. */
typedef struct SlaRules {
	SlaPolicy policy;
	Workcal *cal;
	DeadlineMemo memo[DEADLINE_MEMO_SLOTS];
} SlaRules;

static DeadlineMemo *deadline_memo_find(SlaRules *s, const char *type, bool urgent, time_t at, bool *hit);
static void *sla_state_build_cb(const PGresult *res);
static void sla_state_free_cb(void *rules);
static bool sla_state_parse_policy(const char *text, SlaPolicy *out);
static Workcal *sla_state_parse_calendar(const char *text);

static const ReloaderConfig sla_state_config = {
	.name = "sla_state",
	.what = "policy and calendar",
	.version_sql = "SELECT " SLA_STATE_VERSION " FROM calendar_sla_versions() v",
	.load_sql = "SELECT " SLA_STATE_VERSION ", "
		    "  (SELECT policy::text FROM sla_policy), "
		    "  (SELECT coalesce(jsonb_object_agg(year::text, jsonb_build_object("
		    "     'holidays', to_jsonb(holidays), 'workdays', to_jsonb(workdays))), '{}')::text "
		    "     FROM calendar_years) "
		    "FROM calendar_sla_versions() v",
	.build = sla_state_build_cb,
	.free = sla_state_free_cb,
	.poll_ms = 2000,
	.channel = NULL,
};

static Reloader reloader;

/*
 *********************************
 * Public functions
 *********************************
 */

bool
sla_state_start(App *app)
{
	return reloader_start(&reloader, &sla_state_config, app->base, app->pool, app->listener);
}

void
sla_state_stop(void)
{
	reloader_stop(&reloader);
}

void
sla_state_reload(void)
{
	reloader_reload(&reloader);
}

void
sla_state_reload_then(void (*done)(void *arg), void *arg)
{
	reloader_reload_then(&reloader, done, arg);
}

bool
sla_state_loaded(void)
{
	return reloader_current(&reloader) != NULL;
}

bool
sla_state_deadlines(const char *type, bool urgent, time_t at, time_t *sign_by, time_t *contact_by,
		    time_t *finish_by)
{
	SlaRules *s = reloader_current(&reloader);
	DeadlineMemo *m;
	bool hit;

	if (!s || !type)
		return false;
	m = deadline_memo_find(s, type, urgent, at, &hit);
	if (!hit) {
		if (strlen(type) >= sizeof(m->type) ||
		    !sla_deadlines(&s->policy, s->cal, type, urgent, at, &m->t[0], &m->t[1], &m->t[2])) {
			m->set = false;
			return false;
		}
		m->set = true;
		m->urgent = urgent;
		m->at = at;
		strcpy(m->type, type);
	}
	*sign_by = m->t[0];
	*contact_by = m->t[1];
	*finish_by = m->t[2];
	return true;
}

/* The entry of (type, urgent, at) (*hit), or the one to replace with it. */
static DeadlineMemo *
deadline_memo_find(SlaRules *s, const char *type, bool urgent, time_t at, bool *hit)
{
	size_t first = (size_t)((fnv1a64(type) + urgent) % DEADLINE_MEMO_SLOTS);
	DeadlineMemo *victim = &s->memo[first];

	for (size_t w = 0; w < DEADLINE_MEMO_WAYS; w++) {
		DeadlineMemo *m = &s->memo[(first + w) % DEADLINE_MEMO_SLOTS];

		if ((*hit = m->set && m->at == at && m->urgent == urgent && strcmp(m->type, type) == 0))
			return m;
		if (victim->set && (!m->set || m->at < victim->at))
			victim = m;
	}
	return victim;
}

bool
sla_state_clock_workdays(const char *type, bool urgent, unsigned *out)
{
	const SlaRules *s = reloader_current(&reloader);
	const SlaRule *rule = s ? sla_pick(&s->policy, type, urgent) : NULL;

	if (!rule)
		return false;
	*out = sla_clock_workdays(rule);
	return true;
}

bool
sla_state_rectify(time_t at, time_t *finish_by)
{
	const SlaRules *s = reloader_current(&reloader);
	time_t t;

	if (!s)
		return false;
	t = sla_rectify_deadline(&s->policy, s->cal, at);
	if (t == (time_t)-1)
		return false;
	*finish_by = t;
	return true;
}

bool
sla_state_extend(time_t finish_by, int workdays, time_t *out)
{
	const SlaRules *s = reloader_current(&reloader);
	time_t t;

	if (!s)
		return false;
	t = sla_extend(s->cal, finish_by, workdays);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}

bool
sla_state_policy(SlaPolicy *out)
{
	const SlaRules *s = reloader_current(&reloader);

	if (!s)
		return false;
	*out = s->policy;
	return true;
}

bool
sla_state_resume(time_t deadline, bool workdays, time_t since, time_t until, time_t *out)
{
	const SlaRules *s = reloader_current(&reloader);
	time_t t;

	if (!s)
		return false;
	t = sla_resume_deadline(s->cal, deadline, workdays, since, until);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}

/* Before the first load, the shipped default's. */
double
sla_state_warn_at(void)
{
	const SlaRules *s = reloader_current(&reloader);
	SlaPolicy def;

	if (s)
		return s->policy.warn_at;
	sla_policy_default(&def);
	return def.warn_at;
}

/*
 *********************************
 * Building
 *********************************
 */

/* The loaded row (version, policy, calendar years) as SlaRules; NULL when refused. */
static void *
sla_state_build_cb(const PGresult *res)
{
	SlaRules *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (!sla_state_parse_policy(db_value(res, 0, 1), &s->policy) ||
	    !(s->cal = sla_state_parse_calendar(PQgetvalue(res, 0, 2)))) {
		free(s);
		return NULL;
	}
	log_info("sla_state: %s (policy/calendar version %s)", sla_state_loaded() ? "reloaded" : "loaded",
		 PQgetvalue(res, 0, 0));
	return s;
}

static void
sla_state_free_cb(void *rules)
{
	SlaRules *s = rules;

	workcal_free(s->cal);
	free(s);
}

/* The stored policy; a database without one gets the shipped default. */
static bool
sla_state_parse_policy(const char *text, SlaPolicy *out)
{
	json_object *body;
	ApiError err;
	bool ok;

	if (!text) {
		log_warn("sla_state: no SLA policy stored; using the shipped default");
		sla_policy_default(out);
		return true;
	}
	body = json_tokener_parse(text);
	ok = sla_policy_from_json(body, out, &err);
	if (!ok)
		log_error("sla_state: stored policy refused at %s: %s", err.field, err.message);
	json_object_put(body);
	return ok;
}

/* The calendar from {"2026": {"holidays": [...], "workdays": [...]}, ...};
 * NULL when a year is invalid or out of memory. */
static Workcal *
sla_state_parse_calendar(const char *text)
{
	json_object *all = json_tokener_parse(text);
	WorkcalYear *years = NULL;
	Workcal *cal = NULL;
	size_t n = 0;
	ApiError err;

	if (!all || !json_object_is_type(all, json_type_object))
		goto done;
	years = malloc(sizeof(*years) * ((size_t)json_object_object_length(all) + 1));
	if (!years)
		goto done;
	json_object_object_foreach(all, key, body)
	{
		if (!workcal_year_from_json(atoi(key), body, &years[n], &err)) {
			log_error("sla_state: stored calendar %s refused at %s: %s", key, err.field, err.message);
			goto done;
		}
		n++;
	}
	cal = workcal_new(years, n);
done:
	free(years);
	json_object_put(all);
	return cal;
}
