/*
 * routing_model: the training thread and the model in force (see routing_model.h).
 *
 * Threads: the worker owns `conn` and everything named worker_*; the loop owns
 * `current`, the timer and the NOTIFY callback. They share only the fields under `mu`:
 * the model handed over (`pending`), the wishes (`train_wanted`, `load_wanted`, `stop`),
 * the newest model id known and the flags; a byte on the wake pipe interrupts the
 * worker's wait. The worker connects only for a load, a training or the count of new
 * history (every CHECK_SECONDS) and closes the connection after it: an idle server holds
 * no extra connection, and none of the pool's. NOTIFY routing_model reaches it through the
 * loop (db/listen, the server's one LISTEN connection).
 */
#include "routing_model.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "db/listen.h"
#include "db/pool.h"
#include "log.h"

#define ADVISORY_KEY "7236051912"	/* pg_advisory_lock key of training */
#define CHECK_SECONDS 30		/* how often the worker counts new history */
#define RETRY_SECONDS 5			/* after a failed connection or query */
#define PICKUP_MS 100			/* how often the loop looks for a handed-over model */
#define STOP_WAIT_SECONDS 5		/* how long stopping waits for the thread */
#define HISTORY_MAX "20000"		/* most recent cases (and returns) trained on */

/* A loaded model and what GET /v1/routing/model says of it. */
typedef struct Loaded {
	Classifier *model;
	long long id;
	long long last_event_id;
	char trained_at[40];
	long long examples;
	int departments;
	double accuracy;
	bool has_accuracy;
} Loaded;

static struct {
	const Config *config;
	pthread_t thread;
	bool thread_started;
	int wake[2];
	pthread_mutex_t mu;
	Loaded *pending;	/* mu: handed over by the worker */
	bool train_wanted;	/* mu */
	bool stop;		/* mu */
	bool training;		/* mu */
	bool load_wanted;	/* mu: a model may have been stored (start, NOTIFY) */
	long long known_id;	/* mu: the newest model id handed over */
	bool first_done;	/* mu: the first load (or training, or failed connect) has ended */
	Loaded *current;	/* loop */
	struct event *timer;	/* loop */
	PGconn *conn;		/* worker */
	long long loaded_id;	/* worker: the newest model it loaded or trained */
	long long last_event_id;	/* worker: history that model read */
	bool db_down;		/* worker: the last connect failed (logged once) */
} M = {.wake = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER};

/* Positive and negative examples: the seed, confirmed cases, returns (sql/019). Weights:
 * 1 for a seed, 3 halving every 180 days (at least 0.5) for history. Departments that
 * are disabled are left out. */
static const char sql_examples[] =
	"WITH enabled AS (SELECT code FROM departments WHERE enabled), "
	"hist AS (SELECT c.id, c.department, c.title, c.text, c.created_at FROM cases c "
	"          WHERE c.department IS NOT NULL "
	"            AND c.state NOT IN ('pending', 'dispatched', 'answered', 'merged', 'declined') "
	"          ORDER BY c.id DESC LIMIT " HISTORY_MAX "), "
	"ret AS (SELECT e.case_id, e.data->>'department' AS department, e.at FROM case_events e "
	"         WHERE e.action = 'return' AND e.data->>'department' IS NOT NULL "
	"         ORDER BY e.id DESC LIMIT " HISTORY_MAX ") "
	"SELECT false, s.department, s.title, s.text, 1.0::float8 FROM routing_seed s "
	"  JOIN enabled e ON e.code = s.department "
	"UNION ALL "
	"SELECT false, h.department, h.title, h.text, "
	"       greatest(0.5, 3 * power(0.5, extract(epoch FROM now() - h.created_at) / 86400 / 180))::float8 "
	"  FROM hist h JOIN enabled e ON e.code = h.department "
	"UNION ALL "
	"SELECT true, r.department, c.title, c.text, "
	"       greatest(0.5, 3 * power(0.5, extract(epoch FROM now() - r.at) / 86400 / 180))::float8 "
	"  FROM ret r JOIN cases c ON c.id = r.case_id JOIN enabled e ON e.code = r.department "
	" WHERE NOT (c.department IS NOT DISTINCT FROM r.department "
	"            AND c.state NOT IN ('pending', 'dispatched', 'answered', 'merged', 'declined'))";

static const char sql_newest[] =
	"SELECT id, to_char(trained_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM'), examples, departments, accuracy, "
	"       last_event_id, model "
	"  FROM routing_models ORDER BY id DESC LIMIT 1";

static void *worker_main(void *arg);
static bool worker_connect(void);
static bool worker_load_newest(bool *none);
static bool worker_train(bool wait, bool force);
static bool worker_newer_stored(void);
static Classifier *worker_fit(PGresult *rows, long long *examples);
static bool worker_store(Loaded *l);
static bool worker_wait(int seconds);
static bool worker_due(void);
static void hand_over(Loaded *l);
static void settle(void);
static void loaded_free(Loaded *l);
static bool exec_ok(PGresult *res, ExecStatusType want, const char *what);
static bool exec_status(PGresult *res, ExecStatusType want, const char *what);
static void pickup_cb(evutil_socket_t fd, short what, void *arg);
static void notify_cb(const char *payload, void *arg);
static void wish(bool *flag);
static void wake_worker(void);

/*
 *********************************
 * Public functions (loop thread)
 *********************************
 */

bool
routing_model_start(App *app)
{
	struct timeval tv = {0, PICKUP_MS * 1000};
	sigset_t all, old;

	M.config = app->config;
	M.load_wanted = true;
	if (!db_listener_add(app->listener, "routing_model", notify_cb, NULL))
		log_warn("routing_model: cannot LISTEN routing_model; other servers' models load at the next start");
	if (pipe(M.wake) != 0)
		return false;
	fcntl(M.wake[0], F_SETFL, O_NONBLOCK);
	fcntl(M.wake[1], F_SETFL, O_NONBLOCK);
	M.timer = event_new(app->base, -1, EV_PERSIST, pickup_cb, NULL);
	if (!M.timer || evtimer_add(M.timer, &tv) != 0)
		return false;
	/* The thread blocks every signal: SIGTERM must reach the loop (see server/worker.c). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	M.thread_started = pthread_create(&M.thread, NULL, worker_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return M.thread_started;
}

void
routing_model_stop(void)
{
	if (M.thread_started) {
		struct timespec until;

		pthread_mutex_lock(&M.mu);
		M.stop = true;
		pthread_mutex_unlock(&M.mu);
		wake_worker();
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STOP_WAIT_SECONDS;
		if (pthread_timedjoin_np(M.thread, NULL, &until) != 0) {
			/* stuck in a query on a hung database: leave it to the process's exit */
			log_warn("routing_model: the training thread did not stop within %d s", STOP_WAIT_SECONDS);
			return;
		}
		M.thread_started = false;
	}
	if (M.timer)
		event_free(M.timer);
	M.timer = NULL;
	loaded_free(M.pending);
	loaded_free(M.current);
	M.pending = M.current = NULL;
	for (int i = 0; i < 2; i++)
		if (M.wake[i] >= 0)
			close(M.wake[i]);
	M.wake[0] = M.wake[1] = -1;
}

bool
routing_model_settled(void)
{
	bool settled;

	pthread_mutex_lock(&M.mu);
	settled = M.first_done && !M.pending;
	pthread_mutex_unlock(&M.mu);
	return settled;
}

const Classifier *
routing_model_current(void)
{
	return M.current ? M.current->model : NULL;
}

void
routing_model_train(void)
{
	pthread_mutex_lock(&M.mu);
	M.train_wanted = true;
	pthread_mutex_unlock(&M.mu);
	wake_worker();
}

json_object *
routing_model_describe(void)
{
	const Loaded *l = M.current;
	json_object *o = json_object_new_object();
	bool training;

	if (!o)
		return NULL;
	pthread_mutex_lock(&M.mu);
	training = M.training || M.train_wanted;
	pthread_mutex_unlock(&M.mu);
	json_object_object_add(o, "id", l ? json_object_new_int64(l->id) : NULL);
	json_object_object_add(o, "trained_at", l ? json_object_new_string(l->trained_at) : NULL);
	json_object_object_add(o, "examples", json_object_new_int64(l ? l->examples : 0));
	json_object_object_add(o, "departments", json_object_new_int(l ? l->departments : 0));
	json_object_object_add(o, "accuracy", l && l->has_accuracy ? json_object_new_double(l->accuracy) : NULL);
	json_object_object_add(o, "training", json_object_new_boolean(training));
	return o;
}

/* Swap in a model the worker handed over; the old one is no longer in any request. */
static void
pickup_cb(evutil_socket_t fd, short what, void *arg)
{
	Loaded *l;

	(void)fd;
	(void)what;
	(void)arg;
	pthread_mutex_lock(&M.mu);
	l = M.pending;
	M.pending = NULL;
	pthread_mutex_unlock(&M.mu);
	if (!l)
		return;
	loaded_free(M.current);
	M.current = l;
	log_info("routing_model: model %lld in force (%lld examples, %d departments)", l->id, l->examples,
		 l->departments);
}

static void
wake_worker(void)
{
	char b = 1;

	if (M.wake[1] >= 0 && write(M.wake[1], &b, 1) < 0 && errno != EAGAIN)
		log_warn("routing_model: cannot wake the training thread");
}

/* Set a wish and wake the worker. */
static void
wish(bool *flag)
{
	pthread_mutex_lock(&M.mu);
	*flag = true;
	pthread_mutex_unlock(&M.mu);
	wake_worker();
}

/* NOTIFY routing_model (payload: the new id), or NULL after the listener reconnected. */
static void
notify_cb(const char *payload, void *arg)
{
	bool known;

	(void)arg;
	pthread_mutex_lock(&M.mu);
	known = payload && atoll(payload) <= M.known_id;
	pthread_mutex_unlock(&M.mu);
	if (!known)
		wish(&M.load_wanted);
}

/*
 *********************************
 * The worker thread
 *********************************
 */

static void *
worker_main(void *arg)
{
	bool retry = false, none = false;

	(void)arg;
	for (;;) {
		bool stop, train, load, check, automatic = false, ok = true;

		check = worker_wait(retry ? RETRY_SECONDS : M.config->routing_retrain > 0 ? CHECK_SECONDS : -1) &&
			!retry && M.loaded_id;
		pthread_mutex_lock(&M.mu);
		stop = M.stop;
		train = M.train_wanted;
		load = M.load_wanted || retry;
		M.load_wanted = false;
		pthread_mutex_unlock(&M.mu);
		if (stop)
			break;
		if (!train && !load && !check)
			continue;
		retry = false;
		if (!worker_connect()) {
			retry = true;
			settle();
			continue;
		}
		if (load)
			ok = worker_load_newest(&none);
		if (ok && check && !train && !none)
			automatic = worker_due();
		if (ok && (train || none || automatic)) {
			ok = worker_train(train || none, train);
			none = !ok && none;
		}
		retry = !ok;
		PQfinish(M.conn);
		M.conn = NULL;
		settle();
	}
	return NULL;
}

static bool
worker_connect(void)
{
	const char *tz[] = {M.config->timezone};
	/* the configured connection string, with a bound on how long a connect may hang */
	const char *const keys[] = {"dbname", "connect_timeout", NULL};
	const char *const values[] = {M.config->db, "5", NULL};

	M.conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(M.conn) != CONNECTION_OK) {
		if (!M.db_down)
			log_warn("routing_model: cannot connect; retrying every %d s", RETRY_SECONDS);
		M.db_down = true;
		PQfinish(M.conn);
		M.conn = NULL;
		return false;
	}
	if (M.db_down)
		log_info("routing_model: connected again");
	M.db_down = false;
	if (!exec_status(PQexecParams(M.conn, "SELECT set_config('TimeZone', $1, false)", 1, NULL, tz, NULL, NULL, 0),
			 PGRES_TUPLES_OK, "set the time zone")) {
		PQfinish(M.conn);
		M.conn = NULL;
		return false;
	}
	return true;
}

/* Load the newest stored model unless it is the one in force; *none when there is none. */
static bool
worker_load_newest(bool *none)
{
	PGresult *res = PQexec(M.conn, sql_newest);
	Loaded *l = NULL;
	unsigned char *bytes = NULL;
	size_t len = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_warn("routing_model: cannot read the models: %s", PQerrorMessage(M.conn));
		PQclear(res);
		return false;
	}
	*none = PQntuples(res) == 0;
	if (*none || atoll(PQgetvalue(res, 0, 0)) == M.loaded_id) {
		PQclear(res);
		return true;
	}
	l = calloc(1, sizeof(*l));
	bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 6), &len);
	if (!l || !bytes || !(l->model = classifier_load(bytes, len))) {
		log_error("routing_model: stored model %s cannot be loaded; keeping the one in force",
			  PQgetvalue(res, 0, 0));
		goto done;
	}
	l->id = atoll(PQgetvalue(res, 0, 0));
	snprintf(l->trained_at, sizeof(l->trained_at), "%s", PQgetvalue(res, 0, 1));
	l->examples = atoll(PQgetvalue(res, 0, 2));
	l->departments = atoi(PQgetvalue(res, 0, 3));
	l->has_accuracy = !PQgetisnull(res, 0, 4);
	l->accuracy = l->has_accuracy ? atof(PQgetvalue(res, 0, 4)) : 0;
	l->last_event_id = atoll(PQgetvalue(res, 0, 5));
	M.loaded_id = l->id;
	M.last_event_id = l->last_event_id;
	hand_over(l);
	l = NULL;
done:
	loaded_free(l);
	PQfreemem(bytes);
	PQclear(res);
	return true;
}

/* Was a model newer than the one in force stored meanwhile (by another server)? */
static bool
worker_newer_stored(void)
{
	PGresult *res = PQexec(M.conn, "SELECT coalesce(max(id), 0) FROM routing_models");
	bool newer = PQresultStatus(res) == PGRES_TUPLES_OK && atoll(PQgetvalue(res, 0, 0)) > M.loaded_id;

	PQclear(res);
	return newer;
}

/*
 * Train under the advisory lock and store the model (its NOTIFY reaches every server,
 * this one too). wait: wait for the lock (another server may be training), else give
 * up when another server holds it. force: train even when a model newer than the one
 * in force was stored meanwhile (POST train); otherwise that model is loaded instead.
 * False when the connection failed.
 */
static bool
worker_train(bool wait, bool force)
{
	PGresult *res;
	Classifier *model = NULL;
	Loaded *stored = NULL;
	bool locked, ok = false;
	long long last_event_id, examples = 0;

	res = PQexec(M.conn, wait ? "SELECT pg_advisory_lock(" ADVISORY_KEY "), true"
				  : "SELECT true, pg_try_advisory_lock(" ADVISORY_KEY ")");
	locked = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if (!locked)
		return PQstatus(M.conn) == CONNECTION_OK;
	if (!force && worker_newer_stored()) {
		PQclear(PQexec(M.conn, "SELECT pg_advisory_unlock(" ADVISORY_KEY ")"));
		return PQstatus(M.conn) == CONNECTION_OK;
	}
	pthread_mutex_lock(&M.mu);
	M.training = true;
	M.train_wanted = false;
	pthread_mutex_unlock(&M.mu);

	res = PQexec(M.conn, "SELECT coalesce(max(id), 0) FROM case_events");
	if (!exec_ok(res, PGRES_TUPLES_OK, "read the history position"))
		goto done;
	last_event_id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = PQexec(M.conn, sql_examples);
	if (!exec_ok(res, PGRES_TUPLES_OK, "read the examples"))
		goto done;
	model = worker_fit(res, &examples);
	if (!model) {
		log_error("routing_model: training failed (no examples, or out of memory)");
		ok = true;	/* the connection is fine: keep it */
		goto done;
	}
	log_info("routing_model: trained on %lld examples, %zu departments, held-out accuracy %.3f", examples,
		 classifier_label_count(model), classifier_info(model)->accuracy);
	stored = calloc(1, sizeof(*stored));
	if (!stored) {
		ok = true;
		goto done;
	}
	*stored = (Loaded){.model = model, .last_event_id = last_event_id, .examples = examples,
			   .departments = (int)classifier_label_count(model),
			   .accuracy = classifier_info(model)->accuracy,
			   .has_accuracy = classifier_info(model)->accuracy >= 0};
	model = NULL;
	ok = worker_store(stored);
	if (ok && stored->id) {
		M.loaded_id = stored->id;
		M.last_event_id = stored->last_event_id;
		hand_over(stored);	/* in force here at once; the NOTIFY is for the others */
		stored = NULL;
	}
done:
	PQclear(res);
	classifier_free(model);
	loaded_free(stored);
	PQclear(PQexec(M.conn, "SELECT pg_advisory_unlock(" ADVISORY_KEY ")"));
	pthread_mutex_lock(&M.mu);
	M.training = false;
	pthread_mutex_unlock(&M.mu);
	return ok;
}

/* The model of the example rows (negative, department, title, text, weight). */
static Classifier *
worker_fit(PGresult *rows, long long *examples)
{
	int n = PQntuples(rows);
	ClassifierExample *ex = calloc((size_t)n + 1, sizeof(*ex));
	const char *labels[CLASSIFIER_LABELS_MAX];
	size_t nlabels = 0, m = 0;
	ClassifierParams params;
	Classifier *model = NULL;

	if (!ex)
		return NULL;
	/* Labels: the departments with a positive example (negatives come last). */
	for (int i = 0; i < n; i++) {
		const char *dept = PQgetvalue(rows, i, 1);
		bool negative = PQgetvalue(rows, i, 0)[0] == 't';
		size_t k;

		for (k = 0; k < nlabels && strcmp(labels[k], dept) != 0; k++)
			;
		if (k == nlabels) {
			if (negative || nlabels == CLASSIFIER_LABELS_MAX)
				continue;
			labels[nlabels++] = dept;
		}
		ex[m++] = (ClassifierExample){db_value(rows, i, 2), PQgetvalue(rows, i, 3), (uint32_t)k, negative,
					      (float)atof(PQgetvalue(rows, i, 4))};
	}
	classifier_params_default(&params);
	if (nlabels)
		model = classifier_train(labels, nlabels, ex, m, &params);
	*examples = (long long)m;
	free(ex);
	return model;
}

/* Insert l's model (announced by its trigger), keep the newest three, and fill l's id and
 * trained_at (id 0 when out of memory). False when the database refused. */
static bool
worker_store(Loaded *l)
{
	unsigned char *bytes = NULL;
	size_t len;
	char examples[24], departments[24], accuracy[32], last[24];
	const char *params[5] = {examples, departments, l->has_accuracy ? accuracy : NULL, last, NULL};
	int lengths[5] = {0, 0, 0, 0, 0}, formats[5] = {0, 0, 0, 0, 1};
	PGresult *res;
	bool ok;

	if (!classifier_save(l->model, &bytes, &len))
		return true;	/* out of memory: nothing to store, the connection is fine */
	snprintf(examples, sizeof(examples), "%lld", l->examples);
	snprintf(departments, sizeof(departments), "%d", l->departments);
	snprintf(accuracy, sizeof(accuracy), "%.6f", l->accuracy);
	snprintf(last, sizeof(last), "%lld", l->last_event_id);
	params[4] = (const char *)bytes;
	lengths[4] = (int)len;
	res = PQexecParams(M.conn,
			   "WITH m AS (INSERT INTO routing_models (examples, departments, accuracy, last_event_id, model) "
			   "           VALUES ($1::int, $2::int, $3::float8, $4::bigint, $5::bytea) "
			   "           RETURNING id, trained_at), "
			   "     d AS (DELETE FROM routing_models WHERE id <= (SELECT id FROM m) - 3) "
			   "SELECT id, to_char(trained_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') FROM m",
			   5, NULL, params, lengths, formats, 0);
	ok = exec_ok(res, PGRES_TUPLES_OK, "store the model");
	if (ok) {
		l->id = atoll(PQgetvalue(res, 0, 0));
		snprintf(l->trained_at, sizeof(l->trained_at), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	free(bytes);
	return ok;
}

/* Wait for a wake byte, at most `seconds` (< 0: no limit). True when the time ran out. */
static bool
worker_wait(int seconds)
{
	fd_set fds;
	struct timeval tv = {seconds, 0};
	char buf[64];
	int ready;

	FD_ZERO(&fds);
	FD_SET(M.wake[0], &fds);
	ready = select(M.wake[0] + 1, &fds, NULL, NULL, seconds < 0 ? NULL : &tv);
	if (ready > 0)
		while (read(M.wake[0], buf, sizeof(buf)) > 0)
			;
	return ready == 0;
}

/* Has `routing_retrain` new history (signs, returns, visits) accumulated since the model
 * in force read it? */
static bool
worker_due(void)
{
	char last[24];
	const char *params[] = {last};
	PGresult *res;
	bool due;

	snprintf(last, sizeof(last), "%lld", M.last_event_id);
	res = PQexecParams(M.conn,
			   "SELECT count(*) FROM case_events WHERE id > $1::bigint AND action IN ('sign', 'return', 'visit')",
			   1, NULL, params, NULL, NULL, 0);
	due = PQresultStatus(res) == PGRES_TUPLES_OK && atoll(PQgetvalue(res, 0, 0)) >= M.config->routing_retrain;
	PQclear(res);
	return due;
}

static void
hand_over(Loaded *l)
{
	pthread_mutex_lock(&M.mu);
	loaded_free(M.pending);
	M.pending = l;
	if (l->id > M.known_id)
		M.known_id = l->id;
	pthread_mutex_unlock(&M.mu);
}

/* The worker's first attempt has ended (whatever came of it). */
static void
settle(void)
{
	pthread_mutex_lock(&M.mu);
	M.first_done = true;
	pthread_mutex_unlock(&M.mu);
}

static void
loaded_free(Loaded *l)
{
	if (!l)
		return;
	classifier_free(l->model);
	free(l);
}

/* True when res has the wanted status; logs why not otherwise. res stays the caller's. */
static bool
exec_ok(PGresult *res, ExecStatusType want, const char *what)
{
	if (PQresultStatus(res) == want)
		return true;
	log_warn("routing_model: cannot %s: %s", what, res ? PQresultErrorMessage(res) : "out of memory");
	return false;
}

/* Run a statement whose result is only its status. */
static bool
exec_status(PGresult *res, ExecStatusType want, const char *what)
{
	bool ok = exec_ok(res, want, what);

	PQclear(res);
	return ok;
}
