/* api/cases: the case endpoints of API.md section 2 (create, read, list, inbox, actions). */
#ifndef HOTLINE_API_CASES_H
#define HOTLINE_API_CASES_H

#include "config.h"
#include "db/batch.h"
#include "http/routes.h"

/* The route table; the roles of each action come from core/case_state. */
const RouteTable *cases_routes(void);
/* The group commit of POST /v1/cases (db/batch), sized by cfg; NULL when memory ran out. */
DbBatch *cases_intake_batch_new(DbPool *pool, const Config *cfg);

#endif
