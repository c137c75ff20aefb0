/* api/cases: the case endpoints of API.md section 2 (create, read, list, inbox, actions). */
#ifndef HOTLINE_API_CASES_H
#define HOTLINE_API_CASES_H

#include <json-c/json.h>

#include "config.h"
#include "core/case_input.h"
#include "db/batch.h"
#include "http/routes.h"

/* The route table; the roles of each action come from core/case_state. */
const RouteTable *cases_routes(void);
/* The group commit of POST /v1/cases (db/batch), sized by cfg; NULL when memory ran out. */
DbBatch *cases_intake_batch_new(struct event_base *base, DbPool *pool, const Config *cfg);

/*
 * Create a case from validated input the way POST /v1/cases does (routing, clocks, the
 * intake batch, one transaction with its history row) and hand case_create's (status,
 * body) to done, which must reply. key is the Idempotency-Key or NULL; history, when not
 * NULL, is a JSON object merged into the data of the case's create event (what a channel
 * sent that the case has no column for). Neither is kept after the call. Refusals before
 * the database (rules or SLA policy not loaded yet, no memory) are answered here.
 */
void cases_create_submit(Req *req, const CaseInput *in, json_object *history, const char *key, ReqRowCb done);

#endif
