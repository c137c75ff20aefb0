/*
 * routing_model: the learned routing model in force (API.md section 16), and the thread
 * that trains and loads it.
 *
 * The training thread has its own blocking PostgreSQL connection (it never touches the
 * event loop or the pool). It LISTENs on routing_model and loads the newest model of
 * routing_models whenever one is announced (and at start); it trains one when there is
 * none yet (from the seed examples), when POST /v1/routing/model/train asks, and by
 * itself once `routing_retrain` history events (signs, returns, visits) have
 * accumulated since the model in force was trained. Training holds a PostgreSQL advisory
 * lock, so one server trains at a time; the others load what it stored. A model that
 * the thread loaded is handed to the loop, which swaps it in within a fraction of a
 * second: a request holds the pointer only within one loop callback.
 */
#ifndef HOTLINE_ROUTING_MODEL_H
#define HOTLINE_ROUTING_MODEL_H

#include <stdbool.h>

#include <json-c/json.h>

#include "app.h"
#include "core/classifier.h"

/* Start the thread and the loop's pick-up timer. False when either cannot start. */
bool routing_model_start(App *app);
/* Stop the thread (waits for a training in progress) and free the model. */
void routing_model_stop(void);
/* True once the thread's first attempt to load (or train) a model has ended and what it
 * loaded is in force; /readyz waits for it, so a fresh server routes with a model from its
 * first request. Also true when that attempt failed (the database was away). */
bool routing_model_settled(void);
/* The model in force, or NULL until one is loaded (routing then uses the rules alone). */
const Classifier *routing_model_current(void);
/* Ask the thread to train now (POST /v1/routing/model/train). */
void routing_model_train(void);
/* GET /v1/routing/model: {"id", "trained_at", "examples", "departments", "accuracy",
 * "training"} of the model in force (nulls and zeros before the first). A new
 * reference, NULL when out of memory. */
json_object *routing_model_describe(void);

#endif
