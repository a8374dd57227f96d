/*
 * queue_embedded: the single-machine queue, with no service to run.
 *
 * The store is the queue: a job is a queued row, take() is store_claim
 * (the oldest claimable row, leased to the worker), ack is implied by the
 * result store_complete wrote.  A row whose lease ran out (its worker
 * died) is claimable again, which gives at-least-once delivery.
 *
 * Waiting: publish() bumps a process-wide generation counter and wakes the
 * takers of this process, so a new job starts at once without polling.
 * A taker reads the generation before it claims and sleeps only if it is
 * unchanged, so a publish between the two is never missed.  Takers also
 * wake at least every second, for leases that expire and for rows another
 * process added to the same database.
 */
#include "queue/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMBEDDED_POLL_MS 1000

static pthread_mutex_t embedded_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t embedded_cond;
static pthread_once_t embedded_once = PTHREAD_ONCE_INIT;
static uint64_t embedded_generation;

struct queue_embedded {
	struct queue base;
	struct store *store;
};

static void embedded_init_cond(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&embedded_cond, &a);
	pthread_condattr_destroy(&a);
}

static uint64_t embedded_current(void)
{
	pthread_mutex_lock(&embedded_lock);
	uint64_t g = embedded_generation;
	pthread_mutex_unlock(&embedded_lock);
	return g;
}

static void embedded_wake(void)
{
	pthread_mutex_lock(&embedded_lock);
	embedded_generation++;
	pthread_cond_broadcast(&embedded_cond);
	pthread_mutex_unlock(&embedded_lock);
}

/* Sleeps until the generation moves past seen or ms pass. */
static void embedded_wait(uint64_t seen, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&embedded_lock);
	while (embedded_generation == seen)
		if (pthread_cond_timedwait(&embedded_cond, &embedded_lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&embedded_lock);
}

static int embedded_error(struct queue_embedded *q, int rc)
{
	snprintf(q->base.errmsg, sizeof(q->base.errmsg), "%s", store_errmsg(q->store));
	return rc;
}

static void embedded_close(struct queue *base)
{
	struct queue_embedded *q = (struct queue_embedded *)base;
	store_close(q->store);
	free(q);
}

static int embedded_publish(struct queue *base, const char *id)
{
	(void)base;
	(void)id; /* the row is already in the store */
	embedded_wake();
	return 0;
}

static int embedded_take(struct queue *base, const char *worker, int64_t lease_ms,
			 int timeout_ms, struct store_submission *job)
{
	struct queue_embedded *q = (struct queue_embedded *)base;
	uint64_t seen = embedded_current();
	int rc = store_claim(q->store, worker, lease_ms, job);
	if (rc < 0)
		return embedded_error(q, rc);
	if (rc == 0)
		return 0;
	if (timeout_ms <= 0)
		return QUEUE_EMPTY;
	embedded_wait(seen, timeout_ms < EMBEDDED_POLL_MS ? timeout_ms : EMBEDDED_POLL_MS);
	rc = store_claim(q->store, worker, lease_ms, job);
	if (rc < 0)
		return embedded_error(q, rc);
	return rc == 0 ? 0 : QUEUE_EMPTY;
}

static int embedded_renew(struct queue *base, const char *id, const char *worker,
			  int64_t lease_ms)
{
	struct queue_embedded *q = (struct queue_embedded *)base;
	int rc = store_renew(q->store, id, worker, lease_ms);
	return rc < 0 ? embedded_error(q, rc) : 0;
}

static int embedded_ack(struct queue *base, const char *id, const char *worker)
{
	/* store_complete took the row out of the claimable set. */
	(void)base;
	(void)id;
	(void)worker;
	return 0;
}

static int embedded_release(struct queue *base, const char *id, const char *worker)
{
	struct queue_embedded *q = (struct queue_embedded *)base;
	int rc = store_release(q->store, id, worker);
	return rc < 0 ? embedded_error(q, rc) : 0;
}

static int embedded_depth(struct queue *base, int64_t *out)
{
	struct queue_embedded *q = (struct queue_embedded *)base;
	int rc = store_queue_depth(q->store, out);
	return rc < 0 ? embedded_error(q, rc) : 0;
}

static void embedded_interrupt(struct queue *base)
{
	(void)base;
	embedded_wake();
}

static const struct queue_ops embedded_ops = {
	.name = "embedded",
	.close = embedded_close,
	.publish = embedded_publish,
	.take = embedded_take,
	.renew = embedded_renew,
	.ack = embedded_ack,
	.release = embedded_release,
	.depth = embedded_depth,
	.interrupt = embedded_interrupt,
};

int queue_open_embedded(const char *store_url, struct queue **out, char *err, size_t errlen)
{
	*out = NULL;
	pthread_once(&embedded_once, embedded_init_cond);
	struct queue_embedded *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "queue: out of memory");
		return -ENOMEM;
	}
	int rc = store_open(store_url, &q->store, err, errlen);
	if (rc < 0) {
		free(q);
		return rc;
	}
	q->base.ops = &embedded_ops;
	*out = &q->base;
	return 0;
}

int queue_url_check(const char *url, char *err, size_t errlen)
{
	if (!url || !*url || !strcmp(url, "embedded"))
		return 0;
	snprintf(err, errlen, "unknown backend '%s' (this build has: embedded)", url);
	return -EINVAL;
}

int queue_open(const char *url, const char *store_url, struct queue **out, char *err,
	       size_t errlen)
{
	char why[200];
	if (queue_url_check(url, why, sizeof(why)) == 0)
		return queue_open_embedded(store_url, out, err, errlen);
	*out = NULL;
	snprintf(err, errlen, "queue: %s", why);
	return -EINVAL;
}
