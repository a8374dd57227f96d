/*
 * pool: worker threads with warm cells, scaled by queue depth.
 *
 * Why threads and not processes: a worker's state is its warm cell (an
 * init process in its own namespaces, see sandbox.h) and a few database
 * handles; a thread per worker keeps the server one process with one
 * memory footprint, and cells are started by re-executing the binary
 * (config.reexec), which is safe from a multithreaded process.
 *
 * A job's lease starts at POOL_LEASE_MS and is extended once, as soon as
 * the request is read, to cover the longest the job can take (compile
 * wall time plus each test's wall time): every limit is enforced, so a
 * live worker never loses its lease, and a dead one's job is handed on
 * when the lease runs out.  A job handed out more than POOL_MAX_ATTEMPTS
 * times is completed as internal_error rather than retried forever.
 */
#include "worker/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "judge/cache.h"
#include "judge/judge.h"
#include "judge/report.h"
#include "queue/queue.h"

#define POOL_LEASE_MS 60000
#define POOL_LEASE_SLACK_MS 30000
#define POOL_MAX_ATTEMPTS 3
#define POOL_TAKE_WAIT_MS 1000
#define POOL_MANAGER_TICK_MS 50
#define POOL_MAX_RESULT (256u << 20)

struct worker {
	struct pool *pool;
	int number;
	pthread_t thread;
	atomic_bool finished;
	struct worker *next;
};

struct pool {
	struct pool_config cfg;
	pthread_mutex_t lock;
	struct worker *workers;   /* under lock */
	int next_number;          /* under lock */
	atomic_int alive, busy, ready, starting;
	atomic_bool stopping;
	pthread_t manager;
	struct queue *manager_queue;
	/* The preloaded interpreter of the cells (see pool_find_preloader). */
	struct judge_preloader preloader;
	const struct lang *preload_lang;
};

/* ---- one job ---- */

struct worker_state {
	struct worker *self;
	char owner[64];
	struct queue *queue;
	struct store *store;
	struct cache *cache;
	struct sandbox_cell *cell;
	const struct lang *cell_lang; /* whose binds the cell has; NULL: none */
	bool cell_ok;
	char callback_url[SUBMISSION_MAX_URL + 1]; /* of the current job */
	struct store_submission row;  /* the current job's, once read */
	bool row_read, row_ok;
	const char *row_id;
};

static bool same_binds(const struct lang *a, const struct lang *b)
{
	char **x = a ? a->binds : NULL, **y = b ? b->binds : NULL;
	for (; x && *x && y && *y; x++, y++)
		if (strcmp(*x, *y))
			return false;
	return !(x && *x) && !(y && *y);
}

static void worker_close_cell(struct worker_state *ws)
{
	if (ws->cell) {
		sandbox_cell_close(ws->cell);
		ws->cell = NULL;
		if (ws->cell_ok)
			atomic_fetch_sub(&ws->self->pool->ready, 1);
		ws->cell_ok = false;
	}
}

/* A usable cell with l's binds (l NULL: no extra binds). */
static int worker_cell_for(struct worker_state *ws, const struct lang *l, char *why,
			   size_t len)
{
	if (ws->cell && sandbox_cell_usable(ws->cell) && same_binds(ws->cell_lang, l))
		return 0;
	worker_close_cell(ws);
	size_t n = 0;
	for (char **b = l ? l->binds : NULL; b && *b; b++)
		n++;
	struct sandbox_bind binds[n + 1];
	for (size_t i = 0; i < n; i++)
		binds[i] = (struct sandbox_bind){ .host = l->binds[i] };
	struct sandbox_cell_config cfg = { .binds = binds, .nbinds = n, .reexec = true };
	/* A cell for the preloaded language's binds can run it: it gets the
	 * preloader (a C program and a Python one share a cell). */
	struct pool *pool = ws->self->pool;
	if (pool->preload_lang && same_binds(l, pool->preload_lang))
		cfg.preload = pool->preloader.preload;
	int rc = sandbox_cell_open(&cfg, &ws->cell, why, len);
	if (rc < 0) {
		ws->cell = NULL;
		return rc;
	}
	ws->cell_lang = l;
	ws->cell_ok = true;
	atomic_fetch_add(&ws->self->pool->ready, 1);
	return 0;
}

/* The result of a job that could not be judged at all. */
static void internal_result(struct buf *out, const char *message)
{
	struct json_writer w;
	json_writer_init(&w, out);
	json_begin_object(&w);
	json_field_string(&w, "verdict", "internal_error");
	json_field_null(&w, "language");
	json_field_null(&w, "compile");
	json_key(&w, "tests");
	json_begin_array(&w);
	json_end_array(&w);
	json_field_uint(&w, "cpu_ms_max", 0);
	json_field_uint(&w, "wall_ms_max", 0);
	json_field_uint(&w, "memory_kb_max", 0);
	json_field_string(&w, "message", message);
	json_end_object(&w);
}

/* Extends the lease of a job to bound ms from now, when that is more than
 * the lease it was taken with. */
static void worker_extend_lease(struct worker_state *ws, const char *id, int64_t bound)
{
	if (bound > POOL_LEASE_MS && queue_renew(ws->queue, id, ws->owner, bound) < 0)
		log_warn("worker %d: cannot extend the lease of %s: %s", ws->self->number, id,
			 queue_errmsg(ws->queue));
}

/* Judges the job into out (a result object); returns its verdict name. */
static const char *worker_judge(struct worker_state *ws, const struct store_submission *job,
				const char **language, struct buf *out)
{
	struct pool *p = ws->self->pool;
	char why[1024];
	if (job->attempts > POOL_MAX_ATTEMPTS) {
		snprintf(why, sizeof(why),
			 "handed to a worker %d times without a result; given up", job->attempts);
		internal_result(out, why);
		return "internal_error";
	}
	struct json_value *root = NULL;
	struct submission_error se;
	struct submission sub;
	size_t len = strlen(job->request_json);
	if (submission_parse_body(job->request_json, len, len + 1, &root, &se) < 0 ||
	    submission_from_json(root, "", p->cfg.languages, p->cfg.policy, &sub, &se) < 0) {
		snprintf(why, sizeof(why), "the stored request cannot be judged: %s: %s", se.field,
			 se.message);
		json_free(root);
		internal_result(out, why);
		return "internal_error";
	}
	*language = sub.lang->id;
	snprintf(ws->callback_url, sizeof(ws->callback_url), "%s",
		 sub.callback_url ? sub.callback_url : "");
	/* Cover the longest this job can take, so the lease never runs out
	 * under a live worker. */
	int64_t bound = POOL_LEASE_SLACK_MS;
	if (sub.lang->compile)
		bound += (int64_t)sub.lang->compile_limits.wall_ms;
	bound += (int64_t)sub.req.ntests * (int64_t)sub.req.limits.wall_ms;
	worker_extend_lease(ws, job->id, bound);
	const char *verdict;
	if (worker_cell_for(ws, sub.lang, why, sizeof(why)) < 0) {
		char msg[1100];
		snprintf(msg, sizeof(msg), "cannot build a cell: %s", why);
		internal_result(out, msg);
		verdict = "internal_error";
	} else {
		sub.req.cache = ws->cache;
		sub.req.cache_scope = job->scope;
		/* Output past what the stored result keeps is dropped as each
		 * test is judged, not held to the end of the job. */
		sub.req.keep_output = (size_t)p->cfg.max_result_bytes;
		struct judge_result res;
		int rc = judge_submit(ws->cell, &sub.req, &res);
		if (rc == 0 && res.verdict == JUDGE_INTERNAL_ERROR && !sandbox_interrupted()) {
			/* runcell's failure, not the program's: a cell killed from
			 * outside, descriptors or memory short for a moment.  Once
			 * more, on a new cell, before it is stored for good. */
			log_warn("worker %d: %s ended as internal_error (%s); judging it once more "
				 "on a new cell", ws->self->number, job->id, res.message);
			/* the second judging needs its own lease: another
			 * worker took the job over once the first ran out */
			worker_extend_lease(ws, job->id, bound);
			judge_result_free(&res);
			worker_close_cell(ws);
			if (worker_cell_for(ws, sub.lang, why, sizeof(why)) < 0) {
				snprintf(res.message, sizeof(res.message), "cannot build a cell: %.600s", why);
				rc = -EIO;
			} else {
				rc = judge_submit(ws->cell, &sub.req, &res);
			}
		}
		if (rc < 0) {
			internal_result(out, res.message);
			verdict = "internal_error";
		} else {
			struct json_writer w;
			json_writer_init(&w, out);
			report_judge_result(&w, sub.lang, &res);
			verdict = judge_verdict_name(res.verdict);
			if (json_writer_error(&w) < 0) {
				buf_reset(out);
				internal_result(out, "the result is too large to store");
				verdict = "internal_error";
			}
		}
		judge_result_free(&res);
		if (!sandbox_cell_usable(ws->cell))
			worker_close_cell(ws);
	}
	submission_free(&sub);
	json_free(root);
	return verdict;
}

static void worker_run_job(struct worker_state *ws, struct store_submission *job)
{
	struct pool *p = ws->self->pool;
	uint64_t t0 = clock_now_ns();
	const char *language = "";
	ws->callback_url[0] = '\0';
	struct buf result;
	buf_init(&result, POOL_MAX_RESULT);
	const char *verdict = worker_judge(ws, job, &language, &result);
	if (sandbox_interrupted()) {
		/* The server was told twice to stop: the job's cell was killed
		 * under it.  No result: it goes back to the queue, and this
		 * claim is not one of its attempts (three such stops gave up
		 * jobs that had done nothing wrong). */
		if (queue_release(ws->queue, job->id, ws->owner) < 0)
			log_warn("worker %d: cannot give %s back to the queue: %s", ws->self->number,
				 job->id, queue_errmsg(ws->queue));
		log_warn("worker %d: %s cut short by the stop; it runs again at the next start",
			 ws->self->number, job->id);
		buf_free(&result);
		return;
	}
	if (buf_append(&result, "", 1) < 0) { /* NUL-terminated for the store */
		buf_reset(&result);
		internal_result(&result, "the result is too large to store");
		verdict = "internal_error";
		buf_append(&result, "", 1);
	}
	/* A full disk or a busy database may pass: the result is worth a few
	 * tries (about 6 s) before it is given up and the job left to run
	 * again once its lease runs out. */
	int rc = store_complete(ws->store, job->id, ws->owner, result.data);
	for (int i = 0, ms = 100; rc < 0 && rc != -ESTALE && rc != -ENOENT && i < 6 &&
				  !sandbox_interrupted(); i++, ms *= 2) {
		log_warn("worker %d: cannot store the result of %s (%s); trying again in %d ms",
			 ws->self->number, job->id, store_errmsg(ws->store), ms);
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		rc = store_complete(ws->store, job->id, ws->owner, result.data);
	}
	buf_free(&result);
	struct pool_job info = {
		.id = job->id,
		.verdict = verdict,
		.language = language,
		.worker = ws->self->number,
		.attempt = job->attempts,
		.queue_s = job->started_at > job->created_at
				   ? (double)(job->started_at - job->created_at) / 1e3
				   : 0,
		.stored = rc == 0,
	};
	if (rc < 0)
		log_error("worker %d: cannot store the result of %s: %s", ws->self->number,
			  job->id, store_errmsg(ws->store));
	else if (rc == STORE_ALREADY_DONE)
		log_warn("worker %d: %s already had a result (kept)", ws->self->number, job->id);
	if (rc == 0 || rc == STORE_ALREADY_DONE)
		queue_ack(ws->queue, job->id, ws->owner);
	info.callback_url = ws->callback_url[0] ? ws->callback_url : NULL;
	info.priv = ws;
	ws->row_read = false;
	ws->row_ok = false;
	ws->row_id = job->id;
	info.run_s = (double)(clock_now_ns() - t0) / 1e9;
	if (p->cfg.on_done)
		p->cfg.on_done(p->cfg.user, &info);
	if (ws->row_ok)
		store_submission_free(&ws->row);
	ws->row_read = ws->row_ok = false;
}

const struct store_submission *pool_job_row(const struct pool_job *job)
{
	struct worker_state *ws = job->priv;
	if (!job->stored || !ws)
		return NULL;
	if (!ws->row_read) {
		ws->row_read = true;
		ws->row_ok = store_get(ws->store, ws->row_id, &ws->row) == 0;
	}
	return ws->row_ok ? &ws->row : NULL;
}

static void *worker_main(void *arg)
{
	struct worker *self = arg;
	struct pool *p = self->pool;
	struct worker_state ws = { .self = self };
	snprintf(ws.owner, sizeof(ws.owner), "pid%d-w%d", (int)getpid(), self->number);
	char err[512];
	if (queue_open(p->cfg.queue_url, p->cfg.store_url, &ws.queue, err, sizeof(err)) < 0 ||
	    store_open(p->cfg.store_url, &ws.store, err, sizeof(err)) < 0) {
		log_error("worker %d: %s", self->number, err);
		goto out;
	}
	if (p->cfg.cache_dir && cache_open(p->cfg.cache_dir, p->cfg.cache_max_bytes, &ws.cache) < 0)
		log_warn("worker %d: no compile cache at %s: %s", self->number, p->cfg.cache_dir,
			 strerror(errno));
	/* A cell ready before the first job: the first job does not pay for it. */
	if (worker_cell_for(&ws, NULL, err, sizeof(err)) < 0) {
		/* A second stop signal interrupts the build: that is the stop,
		 * not a failure. */
		if (sandbox_interrupted())
			log_info("worker %d: stopped while building its cell", self->number);
		else
			log_error("worker %d: cannot build a cell: %s", self->number, err);
	}
	atomic_fetch_sub(&p->starting, 1);
	uint64_t idle_since = clock_now_ns();
	int idle_ms = p->cfg.idle_ms > 0 ? p->cfg.idle_ms : 30000;
	/* After a second signal (sandbox_interrupted) a job taken would only
	 * be cut at once: none is taken. */
	while (!atomic_load(&p->stopping) && !sandbox_interrupted()) {
		struct store_submission job;
		int rc = queue_take(ws.queue, ws.owner, POOL_LEASE_MS, POOL_TAKE_WAIT_MS, &job);
		if (rc == 0) {
			atomic_fetch_add(&p->busy, 1);
			worker_run_job(&ws, &job);
			store_submission_free(&job);
			atomic_fetch_sub(&p->busy, 1);
			idle_since = clock_now_ns();
			continue;
		}
		if (rc < 0) {
			log_error("worker %d: queue: %s", self->number, queue_errmsg(ws.queue));
			usleep(200 * 1000);
		}
		/* Above the minimum, an idle worker leaves (one at a time). */
		if ((clock_now_ns() - idle_since) / 1000000 >= (uint64_t)idle_ms) {
			int alive = atomic_load(&p->alive);
			if (alive > p->cfg.min_workers &&
			    atomic_compare_exchange_strong(&p->alive, &alive, alive - 1)) {
				log_info("worker %d: idle for %d ms, leaving (%d left)", self->number,
					 idle_ms, alive - 1);
				worker_close_cell(&ws);
				cache_close(ws.cache);
				queue_close(ws.queue);
				store_close(ws.store);
				atomic_store(&self->finished, true);
				return NULL;
			}
			idle_since = clock_now_ns();
		}
	}
out:
	worker_close_cell(&ws);
	cache_close(ws.cache);
	queue_close(ws.queue);
	store_close(ws.store);
	if (!ws.queue || !ws.store)
		atomic_fetch_sub(&p->starting, 1);
	atomic_fetch_sub(&p->alive, 1);
	atomic_store(&self->finished, true);
	return NULL;
}

/* ---- the pool ---- */

static int pool_spawn(struct pool *p)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->pool = p;
	pthread_mutex_lock(&p->lock);
	w->number = p->next_number++;
	atomic_fetch_add(&p->alive, 1);
	atomic_fetch_add(&p->starting, 1);
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		atomic_fetch_sub(&p->alive, 1);
		atomic_fetch_sub(&p->starting, 1);
		pthread_mutex_unlock(&p->lock);
		free(w);
		return -rc;
	}
	w->next = p->workers;
	p->workers = w;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Joins and frees the workers that ended. */
static void pool_reap(struct pool *p, bool all)
{
	pthread_mutex_lock(&p->lock);
	struct worker **pp = &p->workers;
	while (*pp) {
		struct worker *w = *pp;
		if (all || atomic_load(&w->finished)) {
			*pp = w->next;
			pthread_mutex_unlock(&p->lock);
			pthread_join(w->thread, NULL);
			free(w);
			pthread_mutex_lock(&p->lock);
			pp = &p->workers;
			continue;
		}
		pp = &w->next;
	}
	pthread_mutex_unlock(&p->lock);
}

/* Adds a worker while jobs wait and no worker is free to take them. */
static void *pool_manager(void *arg)
{
	struct pool *p = arg;
	while (!atomic_load(&p->stopping)) {
		usleep(POOL_MANAGER_TICK_MS * 1000);
		pool_reap(p, false);
		int alive = atomic_load(&p->alive), busy = atomic_load(&p->busy),
		    starting = atomic_load(&p->starting);
		if (alive < p->cfg.min_workers) {
			pool_spawn(p);
			continue;
		}
		if (alive >= p->cfg.max_workers || starting > 0)
			continue;
		int64_t depth = 0;
		if (queue_depth(p->manager_queue, &depth) < 0)
			continue;
		if (depth > alive - busy) {
			log_info("pool: %lld waiting, %d of %d workers free: adding one",
				 (long long)depth, alive - busy, alive);
			pool_spawn(p);
		}
	}
	return NULL;
}

/* The first language with a preloader that is there (cfg.preload on). */
static void pool_find_preloader(struct pool *p)
{
	const struct lang_registry *reg = p->cfg.languages;
	for (size_t i = 0; reg && p->cfg.preload && i < lang_count(reg); i++) {
		const struct lang *l = lang_at(reg, i);
		if (!l->preload || !l->available)
			continue;
		int rc = judge_preloader_find(l, &p->preloader);
		if (rc < 0) {
			log_warn("%s runs without its preloader: %s: %s", l->id, p->preloader.path,
				 strerror(-rc));
			continue;
		}
		p->preload_lang = l;
		log_info("%s runs are forked from a preloaded interpreter (%s)", l->id,
			 p->preloader.path);
		return;
	}
}

int pool_start(const struct pool_config *cfg, struct pool **out, char *err, size_t errlen)
{
	*out = NULL;
	if (cfg->min_workers < 0 || cfg->max_workers < 1 || cfg->max_workers < cfg->min_workers) {
		snprintf(err, errlen, "workers: need 0 <= min <= max and max >= 1 (min %d, max %d)",
			 cfg->min_workers, cfg->max_workers);
		return -EINVAL;
	}
	struct pool *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->cfg = *cfg;
	pool_find_preloader(p);
	pthread_mutex_init(&p->lock, NULL);
	int rc = queue_open(cfg->queue_url, cfg->store_url, &p->manager_queue, err, errlen);
	if (rc < 0) {
		judge_preloader_free(&p->preloader);
		free(p);
		return rc;
	}
	for (int i = 0; i < cfg->min_workers; i++)
		pool_spawn(p);
	if ((rc = pthread_create(&p->manager, NULL, pool_manager, p)) != 0) {
		snprintf(err, errlen, "cannot start the pool manager: %s", strerror(rc));
		atomic_store(&p->stopping, true);
		queue_interrupt(p->manager_queue);
		pool_reap(p, true);
		queue_close(p->manager_queue);
		judge_preloader_free(&p->preloader);
		free(p);
		return -rc;
	}
	*out = p;
	return 0;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	atomic_store(&p->stopping, true);
	queue_interrupt(p->manager_queue);
	pthread_join(p->manager, NULL);
	pool_reap(p, true);
	queue_close(p->manager_queue);
	pthread_mutex_destroy(&p->lock);
	judge_preloader_free(&p->preloader);
	free(p);
}

void pool_stats(struct pool *p, struct pool_stats *out)
{
	out->alive = atomic_load(&p->alive);
	out->busy = atomic_load(&p->busy);
	out->ready = atomic_load(&p->ready);
}
