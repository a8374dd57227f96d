/*
 * pool: the workers of one server process.
 *
 * Each worker is a thread that owns a warm cell (re-opened when a job's
 * language needs other binds), its own queue and store connections and
 * its own compile cache handle.  It takes a job, judges it, writes the
 * result once (store_complete), acknowledges the job and tells the caller
 * through on_done (from the worker's thread).
 *
 * The pool grows and shrinks between min_workers and max_workers: a
 * manager thread adds a worker while jobs wait with no idle worker to take
 * them, and a worker above the minimum exits after idle_ms without work.
 */
#ifndef RUNCELL_WORKER_POOL_H
#define RUNCELL_WORKER_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "judge/submission.h"
#include "lang/lang.h"
#include "store/store.h"

/* What on_done learns about a finished job. */
struct pool_job {
	const char *id;
	const char *verdict;          /* judge verdict name */
	const char *language;         /* language id, "" when unknown */
	int worker;                   /* worker number */
	int attempt;                  /* claims so far */
	double queue_s, run_s;        /* created -> claimed, claimed -> stored */
	bool stored;                  /* this run wrote the result (false: it
					 was already there, or the lease was lost) */
	const char *callback_url;     /* the request's, NULL when none */
	void *priv;                   /* for pool_job_row */
};

/* The stored row of a job on_done reports (read on first use, from the
 * worker's thread; NULL when not stored or unreadable).  Valid until
 * on_done returns. */
const struct store_submission *pool_job_row(const struct pool_job *job);

typedef void (*pool_done_fn)(void *user, const struct pool_job *job);

struct pool_config {
	const char *store_url;
	const char *queue_url;
	int min_workers;          /* >= 0 */
	int max_workers;          /* >= max(1, min_workers) */
	int idle_ms;              /* 0 = 30000 */
	const struct lang_registry *languages;
	const struct submission_policy *policy;
	const char *cache_dir;    /* compile cache; NULL: none */
	uint64_t cache_max_bytes;
	uint64_t max_result_bytes;  /* stdout and stderr a stored result keeps */
	bool preload;             /* cells get a language's preloader, if there */
	pool_done_fn on_done;
	void *user;
};

struct pool;

int pool_start(const struct pool_config *cfg, struct pool **out, char *err, size_t errlen);
/* Stops taking jobs, lets running ones finish, joins every thread, frees. */
void pool_stop(struct pool *p);

struct pool_stats {
	int alive;        /* worker threads */
	int busy;         /* running a job */
	int ready;        /* workers holding a usable cell */
};
void pool_stats(struct pool *p, struct pool_stats *out);

#endif
