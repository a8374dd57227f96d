/*
 * store: the submission store.  The HTTP API puts submissions, workers
 * claim them under a lease, run them and complete them with a result.
 *
 * The interface is a vtable (struct store_ops) behind an opaque handle so
 * API and worker code never know the backend.  store_open(url) selects it:
 *   "sqlite:PATH" or a plain PATH   SQLite (store_sqlite.c); every commit
 *                                  is fsynced.  "sqlite:PATH?sync=normal":
 *                                  commits survive a crash of the process
 *                                  but not a power loss (for claims and
 *                                  results, which a lost write re-runs).
 * (a PostgreSQL backend, "postgres://...", will come next).
 *
 * A handle is one connection: use it from one thread at a time, and never
 * across fork() (open a new one in the child).  Concurrent handles, in
 * threads or processes, are safe: every write is one transaction.
 *
 * Return codes: 0 success; a positive STORE_* code for a non-error outcome
 * (nothing to claim, already completed); a negative errno-style code for an
 * error, with a message in store_errmsg():
 *   -EINVAL  bad argument (NULL, malformed id, empty owner, lease <= 0)
 *   -ENOENT  no submission with that id
 *   -EBUSY   delete refused: the submission is running (a worker holds it)
 *   -ESTALE  renew/complete by a worker that does not hold the lease
 *            (it expired and another worker claimed the job, or the job was
 *            requeued)
 *   -EPROTO  the database has a newer schema than this program
 *   -ETIMEDOUT  the database stayed locked past the busy timeout (5 s)
 *   -ENOSPC  disk full
 *   -EIO     any other backend failure (message says which)
 *   -ENOMEM  out of memory
 * Times are milliseconds since the Unix epoch (CLOCK_REALTIME, so leases
 * compare across processes); 0 means "not yet".
 */
#ifndef RUNCELL_STORE_STORE_H
#define RUNCELL_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_LEN 32 /* 128 random bits as lowercase hex */
#define STORE_SCOPE_MAX 64

enum store_status {
	STORE_QUEUED = 0,
	STORE_RUNNING = 1,
	STORE_DONE = 2,
	/* "deleted" is not a status: delete removes the row. */
};

/* Positive outcomes. */
enum {
	STORE_EMPTY = 1,        /* claim: nothing claimable right now */
	STORE_ALREADY_DONE = 2, /* complete: a result was already written (kept) */
};

struct store_submission {
	char id[STORE_ID_LEN + 1];
	enum store_status status;
	int64_t created_at, started_at, finished_at;
	char *request_json;    /* as given to put */
	char *result_json;     /* NULL until done */
	int attempts;          /* claims so far */
	char *owner;           /* worker holding (running) or that completed
				* (done) it; NULL when queued */
	char *scope;           /* whose it is (the API key it came with,
				* hashed): its part of the compile cache and
				* its turn in the queue; NULL: shared, FIFO */
	int64_t lease_expires; /* 0 when not leased */
};

/* Frees the strings of *s (not s itself) and zeroes it; NULL-safe. */
void store_submission_free(struct store_submission *s);
const char *store_status_name(enum store_status st);
/* True when id is exactly STORE_ID_LEN lowercase hex digits. */
bool store_id_valid(const char *id);
/* Fills id with a fresh random id (getrandom); 0 or negative errno. */
int store_id_new(char id[STORE_ID_LEN + 1]);
int64_t store_now_ms(void);

/* One line of a listing: no request or result, only what identifies it. */
struct store_summary {
	char id[STORE_ID_LEN + 1];
	enum store_status status;
	int64_t created_at, finished_at;
	char language[64]; /* the request's "language", "" if none */
	char verdict[32];  /* the result's "verdict", "" until done */
};

struct store;

struct store_ops {
	const char *name; /* "sqlite" */
	void (*close)(struct store *s);
	/* Stores a queued submission; durable when it returns 0. */
	int (*put)(struct store *s, const char *request_json, char id_out[STORE_ID_LEN + 1]);
	/* n submissions in one transaction: all stored or none.  scopes:
	 * NULL, or each one's scope (NULL, or 1 to STORE_SCOPE_MAX bytes). */
	int (*put_batch)(struct store *s, const char *const *requests,
			 const char *const *scopes, size_t n, char (*ids_out)[STORE_ID_LEN + 1]);
	int (*get)(struct store *s, const char *id, struct store_submission *out);
	/* out[i] for ids[i]; a missing one has out[i].id[0] == '\0'.  Returns the
	 * number found (>= 0) or a negative error (then out holds nothing). */
	int (*get_many)(struct store *s, const char *const *ids, size_t n,
			struct store_submission *out);
	/* Removes a queued or done submission, or a running one whose lease
	 * expired (a dead worker's); -EBUSY while a worker holds a valid lease,
	 * so a live worker's job is never pulled from under it. */
	int (*del)(struct store *s, const char *id);
	int (*count)(struct store *s, enum store_status st, int64_t *out);
	/* Submissions claimable now: queued + running with an expired lease. */
	int (*queue_depth)(struct store *s, int64_t *out);
	/* Atomically takes the next claimable submission (scopes take turns,
	 * the one served least recently first; then the oldest): running, owner,
	 * lease = now + lease_ms, attempts + 1, started_at = now.  0 and *out
	 * filled, or STORE_EMPTY. */
	int (*claim)(struct store *s, const char *owner, int64_t lease_ms,
		     struct store_submission *out);
	/* Extends the lease of a running job owner holds (even if it expired,
	 * as long as nobody else claimed it): 0, -ESTALE, -ENOENT. */
	int (*renew)(struct store *s, const char *id, const char *owner, int64_t lease_ms);
	/* Writes the result once.  0 for the write; STORE_ALREADY_DONE when a
	 * result exists (it is kept, whoever calls); -ESTALE when owner does
	 * not hold the job (another worker does, or it was requeued). */
	int (*complete)(struct store *s, const char *id, const char *owner,
			const char *result_json);
	/* Gives a running job owner holds back to the queue without a
	 * result, and without counting this claim among its attempts (the
	 * worker was stopped, the job did nothing wrong): 0, -ESTALE. */
	int (*release)(struct store *s, const char *id, const char *owner);
	/* Up to max submissions, newest first; status < 0 means any.  *n set
	 * to how many were written to out. */
	int (*list)(struct store *s, int status, size_t max, struct store_summary *out,
		    size_t *n);
	/* Every running submission back to queued (single-process server at
	 * startup: its previous incarnation died).  *n = how many (may be NULL). */
	int (*requeue_all_running)(struct store *s, int64_t *n);
};

/* Backends embed this as their first member. */
struct store {
	const struct store_ops *ops;
	char errmsg[256];
};

/* Opens (creating and migrating as needed) the store at url.  0 and *out,
 * or a negative errno with a message in err. */
int store_open(const char *url, struct store **out, char *err, size_t errsz);
int store_open_sqlite(const char *path, struct store **out, char *err, size_t errsz);

/* How many times, since the process started, a statement of this process
 * (a write, or a new handle's first read) found the database locked by
 * another process and had to wait and retry (the SQLite backend: its busy
 * handler).  Within one process these queue on a mutex instead and are not
 * counted. */
uint64_t store_lock_waits(void);

static inline const char *store_errmsg(const struct store *s) { return s->errmsg; }
static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}
static inline int store_put(struct store *s, const char *req, char id[STORE_ID_LEN + 1])
{
	return s->ops->put(s, req, id);
}
static inline int store_put_batch(struct store *s, const char *const *reqs,
				  const char *const *scopes, size_t n,
				  char (*ids)[STORE_ID_LEN + 1])
{
	return s->ops->put_batch(s, reqs, scopes, n, ids);
}
static inline int store_get(struct store *s, const char *id, struct store_submission *out)
{
	return s->ops->get(s, id, out);
}
static inline int store_get_many(struct store *s, const char *const *ids, size_t n,
				 struct store_submission *out)
{
	return s->ops->get_many(s, ids, n, out);
}
static inline int store_delete(struct store *s, const char *id) { return s->ops->del(s, id); }
static inline int store_count(struct store *s, enum store_status st, int64_t *out)
{
	return s->ops->count(s, st, out);
}
static inline int store_queue_depth(struct store *s, int64_t *out)
{
	return s->ops->queue_depth(s, out);
}
static inline int store_claim(struct store *s, const char *owner, int64_t lease_ms,
			      struct store_submission *out)
{
	return s->ops->claim(s, owner, lease_ms, out);
}
static inline int store_renew(struct store *s, const char *id, const char *owner, int64_t lease_ms)
{
	return s->ops->renew(s, id, owner, lease_ms);
}
static inline int store_complete(struct store *s, const char *id, const char *owner,
				 const char *result_json)
{
	return s->ops->complete(s, id, owner, result_json);
}
static inline int store_release(struct store *s, const char *id, const char *owner)
{
	return s->ops->release(s, id, owner);
}
static inline int store_list(struct store *s, int status, size_t max,
			     struct store_summary *out, size_t *n)
{
	return s->ops->list(s, status, max, out, n);
}
static inline int store_requeue_all_running(struct store *s, int64_t *n)
{
	return s->ops->requeue_all_running(s, n);
}

#endif
