/*
 * worker: a thread for blocking work (password hashing), so the event loop never waits.
 *
 * A job's work(arg) runs on the worker thread; its done(arg) then runs on the loop thread,
 * handed back through a pipe the loop watches (libevent's structures are touched by the
 * loop thread only). Jobs run one at a time in the order submitted.
 */
#ifndef HOTLINE_WORKER_H
#define HOTLINE_WORKER_H

#include <stdbool.h>

struct event_base;
typedef struct Worker Worker;
typedef void (*WorkerFn)(void *arg);

/* Start the thread. NULL when the thread, the pipe or memory cannot be had. */
Worker *worker_new(struct event_base *base, int queue_max);
/* Stop the thread after its current job; jobs not yet done are dropped (done is not called). */
void worker_free(Worker *w);
/*
 * Queue a job. False when queue_max jobs already wait (the caller answers 503); then
 * neither work nor done is ever called. done is always called later, never from inside here.
 */
bool worker_submit(Worker *w, WorkerFn work, WorkerFn done, void *arg) __attribute__((warn_unused_result));

#endif
