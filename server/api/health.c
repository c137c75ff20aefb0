/* api/health: liveness, readiness (a real query), and Prometheus metrics. */
#include "api/health.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http/reply.h"
#include "metrics.h"
#include "routing_model.h"
#include "routing_state.h"
#include "sla_state.h"

static void
health_live(Req *req)
{
	static const char body[] = "{\"status\":\"ok\"}";

	reply_json_text(req, 200, body, sizeof(body) - 1);
}

static void
health_ready_cb(Req *req, PGresult *res)
{
	static const char body[] = "{\"status\":\"ready\"}";

	(void)res;
	reply_json_text(req, 200, body, sizeof(body) - 1);
}

/* Ready means a query round-trips now, not merely that a socket is open, and that the
 * rules and time limits a new case needs are loaded (a create would answer 503 before),
 * and the routing model too (trained at the first start: rules alone would route worse). */
static void
health_ready(Req *req)
{
	if (!routing_state_current() || !sla_state_loaded() || !routing_model_settled()) {
		reply_error(req, 503, "unavailable", NULL, "loading routing rules, model and time limits");
		return;
	}
	req_query(req, "SELECT 1", 0, NULL, health_ready_cb);
}

static void
health_metrics(Req *req)
{
	DbPoolStats stats, reads, intake;
	DbBatchStats intakes;
	char *text;

	db_pool_stats(req->app->pool, &stats);
	db_pool_stats(req->app->reads, &reads);
	db_pool_stats(req->app->intake_pool, &intake);
	db_batch_stats(req->app->intakes, &intakes);
	text = metrics_render(&stats, &reads, &intake, &intakes);
	if (!text) {
		reply_error(req, 503, "unavailable", NULL, "out of memory");
		return;
	}
	reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
	free(text);
}

static const Route health_route_list[] = {
	{"GET", "/healthz", ROLES_NONE, BODY_NONE, health_live},
	{"GET", "/readyz", ROLES_NONE, BODY_NONE, health_ready},
	{"GET", "/metrics", ROLES_NONE, BODY_NONE, health_metrics},
};

const RouteTable *
health_routes(void)
{
	static const RouteTable table = {health_route_list, sizeof(health_route_list) / sizeof(health_route_list[0])};

	return &table;
}
