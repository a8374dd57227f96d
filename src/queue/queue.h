/*
 * queue: how submissions reach workers.
 *
 * The API stores a submission (store_put), then publishes its id here;
 * a worker takes the next job, runs it, completes it in the store and
 * acknowledges it.  The contract is the one a cluster needs, so a Redis
 * Streams backend can replace the embedded one without touching the API
 * or the workers:
 *   - at-least-once: a job is handed out until it is acknowledged; a job
 *     whose worker died (its lease ran out) is handed to another;
 *   - the store decides: a result is written once (store_complete), so a
 *     job run twice still completes once;
 *   - take() blocks at most timeout_ms and may return QUEUE_EMPTY early.
 *
 * A handle is one connection, used by one thread: the API and every
 * worker open their own.  queue_open(url, store_url):
 *   "embedded"   the store itself is the queue (claims under a lease in
 *                SQLite); publishing wakes workers of this process.
 */
#ifndef RUNCELL_QUEUE_QUEUE_H
#define RUNCELL_QUEUE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum {
	QUEUE_EMPTY = 1, /* take: nothing arrived within the timeout */
};

struct queue;

struct queue_ops {
	const char *name;
	void (*close)(struct queue *q);
	/* The submission id is stored; make it visible to workers. */
	int (*publish)(struct queue *q, const char *id);
	/* The next job for worker, leased for lease_ms: 0 with *job filled
	 * (request_json, attempts, ...), QUEUE_EMPTY, or a negative errno. */
	int (*take)(struct queue *q, const char *worker, int64_t lease_ms, int timeout_ms,
		    struct store_submission *job);
	/* Keeps a long job leased: 0, or -ESTALE when the lease was lost. */
	int (*renew)(struct queue *q, const char *id, const char *worker, int64_t lease_ms);
	/* The job's result is in the store: never hand it out again. */
	int (*ack)(struct queue *q, const char *id, const char *worker);
	/* The worker was stopped before the job ended: hand it out again,
	 * and do not count this take among its attempts. */
	int (*release)(struct queue *q, const char *id, const char *worker);
	/* Jobs waiting for a worker (approximate under concurrency). */
	int (*depth)(struct queue *q, int64_t *out);
	/* Wakes every take() of this process waiting now (shutdown). */
	void (*interrupt)(struct queue *q);
};

struct queue {
	const struct queue_ops *ops;
	char errmsg[256];
};

/* Opens a queue connection; store_url is where the embedded backend's
 * jobs live.  0 and *out, or a negative errno with a message in err. */
int queue_open(const char *url, const char *store_url, struct queue **out, char *err,
	       size_t errlen);
/* Whether url names a backend this build has (for checking settings
 * before anything starts): 0, or -EINVAL with the reason in err. */
int queue_url_check(const char *url, char *err, size_t errlen);
int queue_open_embedded(const char *store_url, struct queue **out, char *err, size_t errlen);

static inline const char *queue_errmsg(const struct queue *q) { return q->errmsg; }
static inline void queue_close(struct queue *q)
{
	if (q)
		q->ops->close(q);
}
static inline int queue_publish(struct queue *q, const char *id)
{
	return q->ops->publish(q, id);
}
static inline int queue_take(struct queue *q, const char *worker, int64_t lease_ms,
			     int timeout_ms, struct store_submission *job)
{
	return q->ops->take(q, worker, lease_ms, timeout_ms, job);
}
static inline int queue_renew(struct queue *q, const char *id, const char *worker,
			      int64_t lease_ms)
{
	return q->ops->renew(q, id, worker, lease_ms);
}
static inline int queue_ack(struct queue *q, const char *id, const char *worker)
{
	return q->ops->ack(q, id, worker);
}
static inline int queue_release(struct queue *q, const char *id, const char *worker)
{
	return q->ops->release(q, id, worker);
}
static inline int queue_depth(struct queue *q, int64_t *out) { return q->ops->depth(q, out); }
static inline void queue_interrupt(struct queue *q) { q->ops->interrupt(q); }

#endif
