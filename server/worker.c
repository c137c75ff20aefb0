/* worker: one thread, a job queue under a mutex, finished jobs handed back through a pipe. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

typedef struct WorkerJob {
	struct WorkerJob *next;
	WorkerFn work, done;
	void *arg;
} WorkerJob;

struct Worker {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	WorkerJob *head, *tail; /* waiting jobs, under lock */
	int queued;             /* waiting or running, under lock */
	int queue_max;
	bool stopping;          /* under lock */
	int pipe_fd[2];         /* [1]: the thread writes finished job pointers; [0]: the loop reads */
	struct event *ready;
};

static bool worker_start_thread(Worker *w);
static void *worker_main(void *arg);
static void worker_ready_cb(evutil_socket_t fd, short what, void *arg);

/*
 *********************************
 * Public functions
 *********************************
 */

Worker *
worker_new(struct event_base *base, int queue_max)
{
	Worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->queue_max = queue_max;
	w->pipe_fd[0] = w->pipe_fd[1] = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pipe2(w->pipe_fd, O_CLOEXEC) != 0 || fcntl(w->pipe_fd[0], F_SETFL, O_NONBLOCK) != 0)
		goto fail;
	w->ready = event_new(base, w->pipe_fd[0], EV_READ | EV_PERSIST, worker_ready_cb, w);
	if (!w->ready || event_add(w->ready, NULL) != 0)
		goto fail;
	if (!worker_start_thread(w))
		goto fail;
	return w;
fail:
	log_error("cannot start the worker thread");
	worker_free(w);
	return NULL;
}

void
worker_free(Worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	while (w->head) {
		WorkerJob *j = w->head;

		w->head = j->next;
		free(j);
	}
	if (w->ready)
		event_free(w->ready);
	/* Jobs finished but not yet read from the pipe are lost with it: free them. */
	if (w->pipe_fd[0] >= 0) {
		WorkerJob *j;

		while (read(w->pipe_fd[0], &j, sizeof(j)) == (ssize_t)sizeof(j))
			free(j);
		close(w->pipe_fd[0]);
	}
	if (w->pipe_fd[1] >= 0)
		close(w->pipe_fd[1]);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

bool
worker_submit(Worker *w, WorkerFn work, WorkerFn done, void *arg)
{
	WorkerJob *j = calloc(1, sizeof(*j));
	bool queued = false;

	if (!j)
		return false;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&w->lock);
	if (w->queued < w->queue_max && !w->stopping) {
		w->queued++;
		if (w->tail)
			w->tail->next = j;
		else
			w->head = j;
		w->tail = j;
		pthread_cond_signal(&w->wake);
		queued = true;
	}
	pthread_mutex_unlock(&w->lock);
	if (!queued)
		free(j);
	return queued;
}

/*
 *********************************
 * The thread and the hand-back
 *********************************
 */

/* The thread blocks every signal: SIGTERM and SIGINT are the loop's (libevent's handler, and
 * blocked for good once the loop is left), and the kernel may hand a process's signal to any
 * thread that does not block it. */
static bool
worker_start_thread(Worker *w)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	w->started = pthread_create(&w->thread, NULL, worker_main, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return w->started;
}

static void *
worker_main(void *arg)
{
	Worker *w = arg;

	for (;;) {
		WorkerJob *j;

		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		j = w->head;
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);
		j->work(j->arg);
		/* A pointer is smaller than PIPE_BUF, so the write is atomic; the pipe holds
		 * thousands of them, more than queue_max ever lets wait. */
		while (write(w->pipe_fd[1], &j, sizeof(j)) < 0 && errno == EINTR)
			;
	}
}

/* On the loop thread: call done for every job the thread finished. */
static void
worker_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	Worker *w = arg;
	WorkerJob *j;

	(void)what;
	while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		pthread_mutex_lock(&w->lock);
		w->queued--;
		pthread_mutex_unlock(&w->lock);
		j->done(j->arg);
		free(j);
	}
}
