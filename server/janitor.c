/* janitor: see janitor.h. */
#include "janitor.h"

#include <event2/event.h>

#include "metrics.h"

static struct {
	App *app;
	struct event *timer;
} jan;

static void
janitor_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	int max_wait = jan.app->config->queue_timeout_ms;
	int n;

	(void)fd;
	(void)what;
	(void)arg;
	/* The intake's waiting creates first: expiring them cannot add to the pool's queue. */
	n = db_batch_expire(jan.app->intakes, max_wait);
	n += db_pool_expire(jan.app->pool, max_wait);
	n += db_pool_expire(jan.app->intake_pool, max_wait);
	n += db_pool_expire(jan.app->reads, max_wait);
	metrics_queue_timeouts((unsigned)n);
}

bool
janitor_start(App *app)
{
	struct timeval tv = {1, 0};

	jan.app = app;
	jan.timer = event_new(app->base, -1, EV_PERSIST, janitor_tick_cb, NULL);
	return jan.timer && evtimer_add(jan.timer, &tv) == 0;
}

void
janitor_stop(void)
{
	if (jan.timer)
		event_free(jan.timer);
	jan.timer = NULL;
	jan.app = NULL;
}
