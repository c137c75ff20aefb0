/*
 * api: every route table of the server (see api.h).
 */
#include "api/api.h"

#include "api/assess.h"
#include "api/cases.h"
#include "api/health.h"
#include "api/intake_aids.h"
#include "api/kb.h"
#include "api/open311.h"
#include "api/reports.h"
#include "api/rules.h"
#include "api/session.h"
#include "api/sla.h"
#include "api/stream.h"
#include "api/track.h"
#include "api/users.h"

int
api_route_tables(const RouteTable **tables)
{
	const RouteTable *all[] = {
		health_routes(), users_routes(), session_routes(), stream_routes(), cases_routes(), sla_routes(),
		reports_routes(), rules_routes(), assess_routes(), open311_routes(), track_routes(),
		intake_aids_routes(), kb_routes(),
	};
	int n = (int)(sizeof(all) / sizeof(all[0]));

	_Static_assert(sizeof(all) / sizeof(all[0]) <= API_ROUTE_TABLES_MAX, "room for every table");
	for (int i = 0; i < n; i++)
		tables[i] = all[i];
	return n;
}
