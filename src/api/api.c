/*
 * api: routes, validation, waiting clients and metrics of runcell serve.
 *
 * Threads: the HTTP loop runs every handler (each does a bounded amount of
 * work: parse, validate, one store transaction); worker threads finish
 * jobs and answer the clients waiting for them (api_job_done); a timer
 * thread answers waits that ran out.  Waiting clients live in one table
 * under a mutex: whoever removes an entry answers it, so a client is
 * answered exactly once whatever races.
 *
 * A wait is registered before the job is published and the store is read
 * right after, so a job that finishes before the registration is still
 * answered at once.
 */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/metrics.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/sha256.h"
#include "http/http.h"
#include "judge/judge.h"
#include "queue/queue.h"
#include "store/store.h"
#include "worker/pool.h"

#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
#define API_TIMER_TICK_MS 20
#define API_VERDICTS 8
#define API_WRITE_BATCH 256

/* Whose a submission is (its part of the compile cache, its turn in the
 * queue): the API key it came with, hashed (SHA-256 of a fixed label and
 * the key, 32 hex digits), by the writer as it stores it.  None without
 * api_keys. */
#define API_SCOPE_LEN 32

struct api_reqinfo {
	uint64_t start_ns;
	char method[32];  /* a longer method is cut, with "..." */
	char path[160];
	const char *key;  /* the configured API key it came with (api_auth) */
};

struct api_waiter {
	struct http_handle *h;
	char id[STORE_ID_LEN + 1];
	uint64_t deadline_ns;
	struct api_reqinfo info;
};

/* The valid items of a batch, validated on the loop thread. */
struct api_batch {
	size_t n, nvalid;
	struct submission_error *errs; /* errs[i].status != 0: item i refused */
	struct buf *bodies;            /* the text to store of each valid item */
	const char **valid;            /* bodies[i].data of the valid ones, in order */
};

/* A request validated on the loop thread, waiting for the writer: one
 * submission (json) or a batch. */
struct api_put {
	struct http_handle *h;
	struct api_reqinfo info;
	char scope[API_SCOPE_LEN + 1];  /* of info.key, made by the writer */
	char *json;
	struct api_batch *batch;
	bool wait;
	struct api_put *next;
};

struct api {
	struct api_config cfg;
	struct http_server *http;
	struct pool *pool;
	struct store *store;   /* the HTTP loop's */
	struct queue *queue;   /* the HTTP loop's */
	struct queue *queue_w; /* the writer's */
	struct callback_sender *callbacks;
	int web_fd;
	struct buf languages_json;

	pthread_mutex_t wlock;
	struct api_waiter *waiters; /* under wlock */
	size_t nwaiters, wcap;
	pthread_cond_t tcond;
	bool timer_stop;       /* under wlock */
	pthread_t timer;
	struct store *timer_store;

	/* The writer thread stores POSTed submissions, all those waiting in
	 * one transaction (one fsync for a burst), so the loop never waits
	 * for the disk. */
	pthread_mutex_t plock;
	pthread_cond_t pcond;
	struct api_put *puts, **puts_tail; /* under plock */
	size_t npending;                    /* under plock */
	bool writer_stop;                   /* under plock */
	pthread_t writer;
	struct store *writer_store;

	atomic_bool stopping;
	struct metrics_histogram request_seconds, job_seconds;
	_Atomic uint64_t by_verdict[API_VERDICTS];
	_Atomic uint64_t accepted;
	_Atomic uint64_t by_code[600];
};

/* ---- replies ---- */

static void api_reqinfo_init(struct api_reqinfo *ri, const struct http_request *req)
{
	ri->start_ns = clock_now_ns();
	ri->key = NULL;
	if (snprintf(ri->method, sizeof(ri->method), "%s", req->method) >= (int)sizeof(ri->method))
		memcpy(ri->method + sizeof(ri->method) - 4, "...", 4);
	snprintf(ri->path, sizeof(ri->path), "%s", req->path);
}

static void api_note(struct api *a, const struct api_reqinfo *ri, int status, const char *id);

/* Answers h and writes the request's log line and metrics. */
static void api_send(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		     int status, const char *ctype, const void *body, size_t len,
		     const char *headers, const char *id)
{
	struct http_response resp = { .status = status, .content_type = ctype, .body = body,
				       .body_len = len, .headers = headers };
	if (http_respond(h, &resp) < 0) {
		static const char fallback[] = "{\"error\":\"internal error\",\"field\":null}";
		status = 500;
		http_respond_simple(h, 500, "application/json", fallback, sizeof(fallback) - 1);
	}
	api_note(a, ri, status, id);
}

/* A request's count by status and its log line: method and path null
 * when the request was never read whole, ms when known, why for a refusal. */
static void api_log_request(struct api *a, const char *method, const char *path, int status,
			    double secs, const char *id, const char *why)
{
	if (status >= 100 && status < 600)
		atomic_fetch_add(&a->by_code[status], 1);
	if (!log_enabled(LOG_INFO))
		return;
	struct buf b;
	struct json_writer w;
	log_event_begin(&w, &b, LOG_INFO, "request");
	if (method) {
		json_field_string(&w, "method", method);
		json_field_string(&w, "path", path);
	} else {
		json_field_null(&w, "method");
		json_field_null(&w, "path");
	}
	json_field_int(&w, "status", status);
	if (secs >= 0) {
		json_key(&w, "ms");
		json_double(&w, (double)(int64_t)(secs * 1e5) / 100.0);
	}
	if (id)
		json_field_string(&w, "id", id);
	if (why)
		json_field_string(&w, "error", why);
	log_event_end(&w, &b);
}

/* The request's metrics and its log line. */
static void api_note(struct api *a, const struct api_reqinfo *ri, int status, const char *id)
{
	double secs = (double)(clock_now_ns() - ri->start_ns) / 1e9;
	metrics_histogram_observe(&a->request_seconds, secs);
	api_log_request(a, ri->method, ri->path, status, secs, id, NULL);
}

/* An answer the HTTP layer gave by itself (a malformed request, a
 * timeout, a full house): counted and logged like any other, with why. */
static void api_refused(void *user, int status, const char *why)
{
	api_log_request(user, NULL, NULL, status, -1, NULL, why ? why : "");
}

static void api_send_json(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			  int status, struct buf *b, const char *headers, const char *id)
{
	api_send(a, h, ri, status, "application/json", b->data ? b->data : "", b->len, headers,
		 id);
}

static void api_error(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		      int status, const char *field, const char *headers, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static void api_error(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		      int status, const char *field, const char *headers, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	json_begin_object(&w);
	json_field_string(&w, "error", msg);
	json_field_string(&w, "field", field);
	json_end_object(&w);
	api_send_json(a, h, ri, status, &b, headers, NULL);
	buf_free(&b);
}

/* ---- rendering ---- */

static void api_time_field(struct json_writer *w, const char *key, int64_t ms)
{
	if (ms <= 0) {
		json_field_null(w, key);
		return;
	}
	char out[CLOCK_UTC_LEN];
	clock_format_utc(ms, out);
	json_field_string(w, key, out);
}

/* The submission object of GET (docs/API.md) from its stored row. */
static void api_render(struct json_writer *w, const struct store_submission *row)
{
	struct json_value *req = NULL;
	size_t rlen = row->request_json ? strlen(row->request_json) : 0;
	if (rlen)
		json_parse(row->request_json, rlen, &(struct json_limits){ .max_input = rlen + 1 },
			   &req, NULL);
	json_begin_object(w);
	json_field_string(w, "id", row->id);
	json_field_string(w, "status", store_status_name(row->status));
	const char *lang = NULL;
	size_t llen;
	if (req && json_get_str(req, "language", &lang, &llen) == 0)
		json_field_string(w, "language", lang);
	else
		json_field_null(w, "language");
	api_time_field(w, "created_at", row->created_at);
	api_time_field(w, "started_at", row->started_at);
	api_time_field(w, "finished_at", row->finished_at);
	json_field_int(w, "attempts", row->attempts);
	const struct json_value *meta = req ? json_get_object(req, "metadata") : NULL;
	json_key(w, "metadata");
	if (meta)
		json_value(w, meta);
	else
		json_null(w);
	json_free(req);
	/* Only the verdict is read from the result, which goes out as stored:
	 * every result begins {"verdict":"NAME", (judge/report.c). */
	static const char head[] = "{\"verdict\":";
	struct json_value *verdict = NULL;
	if (row->result_json && !strncmp(row->result_json, head, sizeof(head) - 1)) {
		const char *v = row->result_json + sizeof(head) - 1;
		json_parse(v, strcspn(v, ","), NULL, &verdict, NULL);
	}
	if (verdict && verdict->type == JSON_STRING)
		json_field_string(w, "verdict", verdict->u.str.s);
	else
		json_field_null(w, "verdict");
	json_free(verdict);
	json_key(w, "result");
	if (row->result_json)
		json_raw(w, row->result_json, strlen(row->result_json));
	else
		json_null(w);
	json_end_object(w);
}

static void api_send_row(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			 int status, const struct store_submission *row)
{
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	api_render(&w, row);
	api_send_json(a, h, ri, status, &b, NULL, row->id);
	buf_free(&b);
}

static void api_send_queued(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			    int status, const char *id, const char *st)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "{\"id\":\"%s\",\"status\":\"%s\"}", id, st);
	char loc[96];
	snprintf(loc, sizeof(loc), "Location: /v1/submissions/%s\r\n", id);
	api_send_json(a, h, ri, status, &b, loc, id);
	buf_free(&b);
}

/* ---- waiting clients ---- */

static int api_wait_add(struct api *a, struct http_handle *h, const char *id,
			const struct api_reqinfo *ri)
{
	pthread_mutex_lock(&a->wlock);
	if (a->nwaiters == a->wcap) {
		size_t cap = a->wcap ? a->wcap * 2 : 256;
		struct api_waiter *n = realloc(a->waiters, cap * sizeof(*n));
		if (!n) {
			pthread_mutex_unlock(&a->wlock);
			return -ENOMEM;
		}
		a->waiters = n;
		a->wcap = cap;
	}
	struct api_waiter *wt = &a->waiters[a->nwaiters++];
	wt->h = h;
	memcpy(wt->id, id, STORE_ID_LEN); /* ids are always STORE_ID_LEN hex digits */
	wt->id[STORE_ID_LEN] = '\0';
	wt->deadline_ns = clock_now_ns() + (uint64_t)a->cfg.wait_timeout_ms * 1000000ull;
	wt->info = *ri;
	pthread_mutex_unlock(&a->wlock);
	return 0;
}

/* Removes the waiters for id (all when id is NULL, or those past now_ns
 * when now_ns != 0) into *out; the caller answers them. */
static size_t api_wait_take(struct api *a, const char *id, uint64_t now_ns,
			    struct api_waiter **out)
{
	*out = NULL;
	pthread_mutex_lock(&a->wlock);
	size_t n = 0, keep = 0;
	struct api_waiter *taken = NULL;
	for (size_t i = 0; i < a->nwaiters; i++) {
		struct api_waiter *wt = &a->waiters[i];
		bool take = now_ns ? wt->deadline_ns <= now_ns : (!id || !strcmp(wt->id, id));
		if (!take) {
			a->waiters[keep++] = *wt;
			continue;
		}
		struct api_waiter *t = realloc(taken, (n + 1) * sizeof(*t));
		if (!t) { /* keep it for a later pass */
			a->waiters[keep++] = *wt;
			continue;
		}
		taken = t;
		taken[n++] = *wt;
	}
	a->nwaiters = keep;
	pthread_mutex_unlock(&a->wlock);
	*out = taken;
	return n;
}

/* Answers waiters whose submission is not done with 202. */
static void api_wait_expire(struct api *a, struct store *s, struct api_waiter *ws, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct store_submission row;
		const char *st = "queued";
		int rc = s ? store_get(s, ws[i].id, &row) : -EIO;
		if (rc == -ENOENT) {
			api_error(a, ws[i].h, &ws[i].info, 404, "id", NULL,
				  "submission %s was deleted", ws[i].id);
			continue;
		}
		if (rc == 0) {
			if (row.status == STORE_DONE) {
				api_send_row(a, ws[i].h, &ws[i].info, 200, &row);
				store_submission_free(&row);
				continue;
			}
			st = store_status_name(row.status);
			store_submission_free(&row);
		}
		api_send_queued(a, ws[i].h, &ws[i].info, 202, ws[i].id, st);
	}
}

static void *api_timer_main(void *arg)
{
	struct api *a = arg;
	pthread_mutex_lock(&a->wlock);
	while (!a->timer_stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += API_TIMER_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->tcond, &a->wlock, &until);
		if (a->timer_stop)
			break;
		pthread_mutex_unlock(&a->wlock);
		struct api_waiter *ws;
		size_t n = api_wait_take(a, NULL, clock_now_ns(), &ws);
		api_wait_expire(a, a->timer_store, ws, n);
		free(ws);
		pthread_mutex_lock(&a->wlock);
	}
	pthread_mutex_unlock(&a->wlock);
	return NULL;
}

/* From a worker thread: a job ended. */
static void api_job_done(void *user, const struct pool_job *job)
{
	struct api *a = user;
	metrics_histogram_observe(&a->job_seconds, job->run_s);
	if (log_enabled(LOG_INFO)) {
		struct buf b;
		struct json_writer w;
		log_event_begin(&w, &b, job->stored ? LOG_INFO : LOG_WARN,
				job->stored ? "job" : "job_not_stored");
		json_field_string(&w, "id", job->id);
		json_field_string(&w, "language", job->language);
		json_field_string(&w, "verdict", job->verdict);
		json_field_int(&w, "attempt", job->attempt);
		json_field_int(&w, "worker", job->worker);
		json_key(&w, "queue_ms");
		json_double(&w, (double)(int64_t)(job->queue_s * 1e5) / 100.0);
		json_key(&w, "run_ms");
		json_double(&w, (double)(int64_t)(job->run_s * 1e5) / 100.0);
		log_event_end(&w, &b);
	}
	if (!job->stored)
		return;
	for (int v = 0; v < API_VERDICTS; v++)
		if (!strcmp(job->verdict, judge_verdict_name((enum judge_verdict)v)))
			atomic_fetch_add(&a->by_verdict[v], 1);
	struct api_waiter *ws;
	size_t n = api_wait_take(a, job->id, 0, &ws);
	const struct store_submission *row = n || job->callback_url ? pool_job_row(job) : NULL;
	if (!row) {
		/* Not readable back: the waiters poll (202) rather than hang. */
		api_wait_expire(a, NULL, ws, n);
		free(ws);
		return;
	}
	struct buf b;
	buf_init(&b, 0);
	struct json_writer w;
	json_writer_init(&w, &b);
	api_render(&w, row);
	for (size_t i = 0; i < n; i++)
		api_send_json(a, ws[i].h, &ws[i].info, 200, &b, NULL, job->id);
	free(ws);
	/* The callback goes last: the result is stored and the waiters have
	 * it, whatever the receiver does. */
	if (job->callback_url && a->callbacks) {
		int rc = callback_send(a->callbacks, job->callback_url, job->id, b.data, b.len);
		if (rc == -EAGAIN)
			log_warn("callback for %s not queued: too many deliveries pending (their count "
				 "or bodies); the result is stored", job->id);
		else if (rc < 0)
			log_warn("callback for %s not queued: %s", job->id, strerror(-rc));
	}
	buf_free(&b);
}

/* ---- request helpers ---- */

static bool api_key_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* The scope of a key: a hash, so that the store never holds the key.
 * NULL without a key. */
static const char *api_scope_of(const char *key, char scope[API_SCOPE_LEN + 1])
{
	if (!key)
		return NULL;
	static const char label[] = "runcell compile cache scope\n";
	struct sha256 s;
	unsigned char digest[32];
	char hex[65];
	sha256_init(&s);
	sha256_update(&s, label, sizeof(label) - 1);
	sha256_update(&s, key, strlen(key));
	sha256_final(&s, digest);
	sha256_hex(digest, hex);
	snprintf(scope, API_SCOPE_LEN + 1, "%.*s", API_SCOPE_LEN, hex);
	return scope;
}

/* 0 when allowed, with ri->key set to the configured key that matched
 * (NULL without api_keys); else answers 401/403 and returns -1. */
static int api_auth(struct api *a, struct http_handle *h, struct api_reqinfo *ri,
		    const struct http_request *req, bool admin)
{
	bool keys = a->cfg.api_keys && a->cfg.api_keys[0];
	ri->key = NULL;
	if (!keys && !a->cfg.admin_key)
		return 0;
	const char *key = http_request_header(req, "X-Runcell-Key");
	const char *auth = http_request_header(req, "Authorization");
	if (!key && auth && !strncasecmp(auth, "Bearer ", 7))
		key = auth + 7 + strspn(auth + 7, " ");  /* 1*SP after the scheme */
	bool is_admin = key && a->cfg.admin_key && api_key_equal(key, a->cfg.admin_key);
	bool is_user = is_admin;
	const char *matched = is_admin ? a->cfg.admin_key : NULL;
	for (const char *const *k = a->cfg.api_keys; !is_user && k && *k && key; k++)
		if ((is_user = api_key_equal(key, *k)))
			matched = *k;
	if (!keys)
		is_user = true;
	if (!is_user) {
		api_error(a, h, ri, 401, "authorization", "WWW-Authenticate: Bearer\r\n",
			  key ? "invalid API key" : "an API key is required (Authorization: Bearer KEY)");
		return -1;
	}
	if (admin && a->cfg.admin_key && !is_admin) {
		api_error(a, h, ri, 403, "authorization", NULL, "this operation needs the admin key");
		return -1;
	}
	if (keys)
		ri->key = matched;
	return 0;
}

/* Every parameter of query must be one of allowed (NULL-terminated);
 * otherwise answers 400 naming it and returns -1. */
static int api_query_only(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			  const char *query, const char *const *allowed)
{
	for (const char *p = query; p && *p;) {
		size_t seg = strcspn(p, "&"), nl = strcspn(p, "=&");
		if (seg > 0 && nl == 0) {
			api_error(a, h, ri, 400, "query", NULL, "a query parameter without a name");
			return -1;
		}
		bool ok = nl == 0;
		for (const char *const *k = allowed; !ok && *k; k++)
			ok = strlen(*k) == nl && !strncmp(*k, p, nl);
		char name[48];
		snprintf(name, sizeof(name), "%.*s", (int)(nl < 40 ? nl : 40), p);
		if (!ok) {
			api_error(a, h, ri, 400, name, NULL, "unknown query parameter '%s'", name);
			return -1;
		}
		/* Twice is ambiguous (which one counts?): refused, not guessed. */
		for (const char *q = query; nl && q < p;) {
			size_t qseg = strcspn(q, "&"), qnl = strcspn(q, "=&");
			if (qnl == nl && !strncmp(q, p, nl)) {
				api_error(a, h, ri, 400, name, NULL, "query parameter '%s' given twice",
					  name);
				return -1;
			}
			q += qseg + (q[qseg] ? 1 : 0);
		}
		p = p[seg] ? p + seg + 1 : NULL;
	}
	return 0;
}

/* 0 (false), 1 (true), -1 invalid. */
static int api_query_bool(const char *query, const char *name)
{
	char v[16];
	if (!http_query_param(query, name, v, sizeof(v)))
		return 0;
	if (!strcmp(v, "true") || !strcmp(v, "1") || !*v)
		return 1;
	if (!strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* application/json (or any +json type); also curl -d's default form type,
 * so `curl -d '{...}'` works without -H: the body is read as JSON either
 * way and must parse as JSON. */
static bool api_json_body_type(const struct http_request *req)
{
	const char *ct = http_request_header(req, "Content-Type");
	if (!ct)
		return true;
	size_t n = strcspn(ct, "; \t");
	if (n == 16 && !strncasecmp(ct, "application/json", 16))
		return true;
	if (n == 33 && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
		return true;
	return n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5);
}

/* Too many queued?  Answers 503 and returns -1. */
static int api_backpressure(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			    int64_t adding)
{
	if (adding > a->cfg.max_queue) {
		/* Never fits, however long the client waits: not a 503. */
		api_error(a, h, ri, 422, "submissions", NULL,
			  "a batch of %lld is more than the queue ever holds (max_queue %lld); "
			  "send smaller batches", (long long)adding, (long long)a->cfg.max_queue);
		return -1;
	}
	int64_t depth = 0;
	if (queue_depth(a->queue, &depth) < 0) {
		api_error(a, h, ri, 503, "queue", "Retry-After: 1\r\n", "the queue is unavailable: %s",
			  queue_errmsg(a->queue));
		return -1;
	}
	pthread_mutex_lock(&a->plock);
	depth += (int64_t)a->npending;
	pthread_mutex_unlock(&a->plock);
	if (depth + adding > a->cfg.max_queue) {
		api_error(a, h, ri, 503, "queue", "Retry-After: 1\r\n",
			  "the queue is full (%lld waiting, at most %lld); retry later",
			  (long long)depth, (long long)a->cfg.max_queue);
		return -1;
	}
	return 0;
}

static int api_serialize(const struct json_value *obj, struct buf *out)
{
	buf_init(out, 0);
	struct json_writer w;
	json_writer_init(&w, out);
	json_value(&w, obj);
	if (json_writer_error(&w) < 0 || buf_append(out, "", 1) < 0) {
		buf_free(out);
		return -ENOMEM;
	}
	return 0;
}

static void api_store_failed_in(struct api *a, struct store *st, struct http_handle *h,
				const struct api_reqinfo *ri, int rc)
{
	log_error("store: %s", store_errmsg(st));
	/* Busy or full: a 503 is worth retrying, and says when (a full
	 * disk may take longer to free than a lock). */
	api_error(a, h, ri, rc == -ETIMEDOUT || rc == -ENOSPC ? 503 : 500, "store",
		  rc == -ETIMEDOUT ? "Retry-After: 1\r\n" : rc == -ENOSPC ? "Retry-After: 30\r\n" : NULL,
		  "the submission could not be stored: %s", store_errmsg(st));
}

static void api_store_failed(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			     int rc)
{
	api_store_failed_in(a, a->store, h, ri, rc);
}

static void api_batch_free(struct api_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; b->bodies && i < b->n; i++)
		buf_free(&b->bodies[i]);
	free(b->bodies);
	free(b->errs);
	free(b->valid);
	free(b);
}

static void api_put_free(struct api_put *p)
{
	free(p->json);
	api_batch_free(p->batch);
	free(p);
}

/* Hands p to the writer, or answers 503 when the server is stopping. */
static void api_enqueue(struct api *a, struct api_put *p)
{
	/* Suspended before the writer can see it: the writer (or a worker)
	 * may answer it at once. */
	http_suspend(p->h);
	pthread_mutex_lock(&a->plock);
	bool stopped = a->writer_stop;
	if (!stopped) {
		*a->puts_tail = p;
		a->puts_tail = &p->next;
		a->npending += p->batch ? p->batch->nvalid : 1;
		pthread_cond_signal(&a->pcond);
	}
	pthread_mutex_unlock(&a->plock);
	if (stopped) {
		struct http_handle *h = p->h;
		struct api_reqinfo ri = p->info;
		api_put_free(p);
		api_error(a, h, &ri, 503, "queue", "Retry-After: 5\r\n", "the server is shutting down");
	}
}

/* ---- endpoints ---- */

static void api_post_one(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			 const struct http_request *req)
{
	int wait = api_query_bool(req->query, "wait");
	if (wait < 0) {
		api_error(a, h, ri, 400, "wait", NULL, "wait must be true or false");
		return;
	}
	struct json_value *root;
	struct submission_error se;
	struct submission sub;
	if (submission_parse_body(req->body, req->body_len, a->cfg.max_body, &root, &se) < 0) {
		api_error(a, h, ri, se.status, se.field, NULL, "%s", se.message);
		return;
	}
	if (submission_from_json(root, "", a->cfg.languages, &a->cfg.policy, &sub, &se) < 0) {
		json_free(root);
		api_error(a, h, ri, se.status, se.field, NULL, "%s", se.message);
		return;
	}
	submission_free(&sub);
	struct buf stored;
	int rc = api_serialize(root, &stored);
	json_free(root);
	if (rc < 0) {
		api_error(a, h, ri, 500, "body", NULL, "out of memory");
		return;
	}
	if (api_backpressure(a, h, ri, 1) < 0) {
		buf_free(&stored);
		return;
	}
	struct api_put *p = calloc(1, sizeof(*p));
	if (!p) {
		buf_free(&stored);
		api_error(a, h, ri, 500, "body", NULL, "out of memory");
		return;
	}
	p->h = h;
	p->info = *ri;
	p->json = buf_steal(&stored, NULL);
	p->wait = wait;
	api_enqueue(a, p);
}

/* After the store: answer (201), or hold the client until its job ends. */
static void api_put_done(struct api *a, struct api_put *p, const char *id)
{
	atomic_fetch_add(&a->accepted, 1);
	if (!p->wait) {
		queue_publish(a->queue_w, id);
		api_send_queued(a, p->h, &p->info, 201, id, "queued");
		return;
	}
	if (api_wait_add(a, p->h, id, &p->info) < 0) {
		queue_publish(a->queue_w, id);
		api_send_queued(a, p->h, &p->info, 202, id, "queued");
		return;
	}
	queue_publish(a->queue_w, id);
	/* Done already (a worker was quicker than the registration)? */
	struct store_submission row;
	if (store_get(a->writer_store, id, &row) == 0) {
		if (row.status == STORE_DONE) {
			struct api_waiter *ws;
			size_t n = api_wait_take(a, id, 0, &ws);
			for (size_t i = 0; i < n; i++)
				api_send_row(a, ws[i].h, &ws[i].info, 200, &row);
			free(ws);
		}
		store_submission_free(&row);
	}
}

static void api_batch_store(struct api *a, struct api_put *p);

static void *api_writer_main(void *arg)
{
	struct api *a = arg;
	const char *texts[API_WRITE_BATCH], *scopes[API_WRITE_BATCH];
	char ids[API_WRITE_BATCH][STORE_ID_LEN + 1];
	struct api_put *singles[API_WRITE_BATCH];
	pthread_mutex_lock(&a->plock);
	for (;;) {
		while (!a->puts && !a->writer_stop)
			pthread_cond_wait(&a->pcond, &a->plock);
		if (!a->puts)
			break; /* stopping, and nothing left */
		/* Every single submission waiting now (up to API_WRITE_BATCH) in
		 * one transaction; each batch in a transaction of its own. */
		struct api_put *batches = NULL, **tail = &batches;
		size_t n = 0, taken = 0;
		while (a->puts && n < API_WRITE_BATCH) {
			struct api_put *p = a->puts;
			a->puts = p->next;
			p->next = NULL;
			taken += p->batch ? p->batch->nvalid : 1;
			if (p->batch) {
				*tail = p;
				tail = &p->next;
			} else {
				singles[n] = p;
				texts[n++] = p->json;
			}
		}
		if (!a->puts)
			a->puts_tail = &a->puts;
		pthread_mutex_unlock(&a->plock);
		for (size_t i = 0; i < n; i++)
			scopes[i] = api_scope_of(singles[i]->info.key, singles[i]->scope);
		int rc = n ? store_put_batch(a->writer_store, texts, scopes, n, ids) : 0;
		for (size_t i = 0; i < n; i++) {
			if (rc < 0)
				api_store_failed_in(a, a->writer_store, singles[i]->h, &singles[i]->info,
						    rc);
			else
				api_put_done(a, singles[i], ids[i]);
			api_put_free(singles[i]);
		}
		while (batches) {
			struct api_put *p = batches;
			batches = p->next;
			api_batch_store(a, p);
			api_put_free(p);
		}
		pthread_mutex_lock(&a->plock);
		a->npending -= taken;
	}
	pthread_mutex_unlock(&a->plock);
	return NULL;
}

static void api_post_batch(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			   const struct http_request *req)
{
	struct json_value *root;
	struct submission_error se;
	if (submission_parse_body(req->body, req->body_len, a->cfg.max_body, &root, &se) < 0) {
		api_error(a, h, ri, se.status, se.field, NULL, "%s", se.message);
		return;
	}
	const struct json_value *items = json_get(root, "submissions");
	if (root->type != JSON_OBJECT || !items || items->type != JSON_ARRAY) {
		json_free(root);
		api_error(a, h, ri, 422, "submissions", NULL,
			  "the body must be {\"submissions\": [...]}");
		return;
	}
	if (root->u.obj.n != 1) {
		const char *k = root->u.obj.members[0].key;
		if (!strcmp(k, "submissions"))
			k = root->u.obj.members[1].key;
		char f[64];
		snprintf(f, sizeof(f), "%.60s", k);
		json_free(root);
		api_error(a, h, ri, 422, f, NULL, "unknown field '%s'", f);
		return;
	}
	size_t n = items->u.arr.n;
	if (n == 0 || n > a->cfg.batch_max) {
		json_free(root);
		api_error(a, h, ri, 422, "submissions", NULL, "a batch holds 1 to %zu submissions",
			  a->cfg.batch_max);
		return;
	}
	struct api_batch *bt = calloc(1, sizeof(*bt));
	bool oom = !bt;
	if (bt) {
		bt->n = n;
		bt->errs = calloc(n, sizeof(*bt->errs));
		bt->bodies = calloc(n, sizeof(*bt->bodies));
		bt->valid = calloc(n, sizeof(*bt->valid));
		oom = !bt->errs || !bt->bodies || !bt->valid;
	}
	for (size_t i = 0; i < n && !oom; i++) {
		char prefix[40];
		snprintf(prefix, sizeof(prefix), "submissions[%zu].", i);
		struct submission sub;
		if (submission_from_json(&items->u.arr.items[i], prefix, a->cfg.languages,
					 &a->cfg.policy, &sub, &bt->errs[i]) < 0)
			continue;
		submission_free(&sub);
		if (api_serialize(&items->u.arr.items[i], &bt->bodies[i]) < 0)
			oom = true;
		else
			bt->valid[bt->nvalid++] = bt->bodies[i].data;
	}
	json_free(root);
	struct api_put *p = oom ? NULL : calloc(1, sizeof(*p));
	if (!p) {
		api_batch_free(bt);
		api_error(a, h, ri, 500, "body", NULL, "out of memory");
		return;
	}
	if (bt->nvalid && api_backpressure(a, h, ri, (int64_t)bt->nvalid) < 0) {
		api_batch_free(bt);
		free(p);
		return;
	}
	p->h = h;
	p->info = *ri;
	p->batch = bt;
	api_enqueue(a, p);
}

/* {"submissions": [...]}, the shape of every answer that lists several:
 * begin opens it in a new buffer, send closes it and answers 200. */
static void api_list_begin(struct json_writer *w, struct buf *b)
{
	buf_init(b, 0);
	json_writer_init(w, b);
	json_begin_object(w);
	json_key(w, "submissions");
	json_begin_array(w);
}

static void api_list_send(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			  struct json_writer *w, struct buf *b)
{
	json_end_array(w);
	json_end_object(w);
	api_send_json(a, h, ri, 200, b, NULL, NULL);
	buf_free(b);
}

/* In the writer: stores a batch's valid items in one transaction and
 * answers with one entry per item. */
static void api_batch_store(struct api *a, struct api_put *p)
{
	struct api_batch *bt = p->batch;
	char(*ids)[STORE_ID_LEN + 1] = calloc(bt->nvalid + 1, sizeof(*ids));
	const char *scope = api_scope_of(p->info.key, p->scope);
	const char **scopes = scope ? calloc(bt->nvalid + 1, sizeof(*scopes)) : NULL;
	if (!ids || (scope && !scopes)) {
		free(ids);
		free(scopes);
		api_error(a, p->h, &p->info, 500, "body", NULL, "out of memory");
		return;
	}
	for (size_t i = 0; scopes && i < bt->nvalid; i++)
		scopes[i] = scope;
	int rc = bt->nvalid ? store_put_batch(a->writer_store, bt->valid, scopes, bt->nvalid, ids)
			    : 0;
	free(scopes);
	if (rc < 0) {
		api_store_failed_in(a, a->writer_store, p->h, &p->info, rc);
		free(ids);
		return;
	}
	atomic_fetch_add(&a->accepted, bt->nvalid);
	struct buf b;
	struct json_writer w;
	api_list_begin(&w, &b);
	for (size_t i = 0, k = 0; i < bt->n; i++) {
		json_begin_object(&w);
		if (bt->errs[i].status) {
			json_field_int(&w, "status", bt->errs[i].status);
			json_field_string(&w, "error", bt->errs[i].message);
			json_field_string(&w, "field", bt->errs[i].field);
		} else {
			queue_publish(a->queue_w, ids[k]);
			json_field_string(&w, "id", ids[k++]);
			json_field_string(&w, "status", "queued");
		}
		json_end_object(&w);
	}
	api_list_send(a, p->h, &p->info, &w, &b);
	free(ids);
}

static void api_get_one(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			const char *id)
{
	if (!store_id_valid(id)) {
		api_error(a, h, ri, 400, "id", NULL, "an id is 32 lowercase hex digits");
		return;
	}
	struct store_submission row;
	int rc = store_get(a->store, id, &row);
	if (rc == -ENOENT) {
		api_error(a, h, ri, 404, "id", NULL, "no submission %s", id);
		return;
	}
	if (rc < 0) {
		api_store_failed(a, h, ri, rc);
		return;
	}
	api_send_row(a, h, ri, 200, &row);
	store_submission_free(&row);
}

/* The largest answer to GET ?ids=, built whole in memory: the output of
 * four results of max_result_kb (64 MiB by default). */
static size_t api_max_answer(const struct api *a)
{
	return a->cfg.max_result_bytes ? 4 * (size_t)a->cfg.max_result_bytes : (64u << 20);
}

static void api_get_many(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
			 const char *list)
{
	size_t n = 0;
	const char **ids = calloc(a->cfg.batch_max + 1, sizeof(*ids));
	char *copy = strdup(list);
	if (!ids || !copy) {
		free(ids);
		free(copy);
		api_error(a, h, ri, 500, "ids", NULL, "out of memory");
		return;
	}
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == a->cfg.batch_max) {
			api_error(a, h, ri, 400, "ids", NULL, "at most %zu ids", a->cfg.batch_max);
			goto out;
		}
		if (!store_id_valid(t)) {
			api_error(a, h, ri, 400, "ids", NULL,
				  "'%.40s' is not an id (32 lowercase hex digits)", t);
			goto out;
		}
		for (size_t j = 0; j < n; j++)
			if (!strcmp(ids[j], t)) {
				/* one big result asked for 100 times was 100 copies */
				api_error(a, h, ri, 400, "ids", NULL, "id %s given twice", t);
				goto out;
			}
		ids[n++] = t;
	}
	if (n == 0) {
		api_error(a, h, ri, 400, "ids", NULL, "ids is empty");
		goto out;
	}
	struct store_submission *rows = calloc(n, sizeof(*rows));
	int rc = rows ? store_get_many(a->store, ids, n, rows) : -ENOMEM;
	if (rc < 0) {
		free(rows);
		api_store_failed(a, h, ri, rc);
		goto out;
	}
	struct buf b;
	struct json_writer w;
	api_list_begin(&w, &b);
	bool too_big = false;
	for (size_t i = 0; i < n; i++) {
		if (too_big)
			;
		else if (rows[i].id[0])
			api_render(&w, &rows[i]);
		else
			json_null(&w);
		too_big = b.len > api_max_answer(a);
		store_submission_free(&rows[i]);
	}
	free(rows);
	if (too_big) {
		buf_free(&b);
		api_error(a, h, ri, 413, "ids", NULL, "the results of these %zu ids take more than "
			  "%zu KB together; ask for fewer at a time", n, api_max_answer(a) >> 10);
		goto out;
	}
	api_list_send(a, h, ri, &w, &b);
out:
	free(ids);
	free(copy);
}

static void api_list(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		     const char *query)
{
	char v[32];
	int status = -1;
	if (http_query_param(query, "status", v, sizeof(v))) {
		if (!strcmp(v, "queued"))
			status = STORE_QUEUED;
		else if (!strcmp(v, "running"))
			status = STORE_RUNNING;
		else if (!strcmp(v, "done"))
			status = STORE_DONE;
		else {
			api_error(a, h, ri, 400, "status", NULL,
				  "status must be queued, running or done");
			return;
		}
	}
	size_t limit = API_LIST_DEFAULT;
	if (http_query_param(query, "limit", v, sizeof(v))) {
		char *end;
		errno = 0;
		long long l = strtoll(v, &end, 10);
		if (errno || *end || !(v[0] >= '0' && v[0] <= '9') || l < 1 || l > API_LIST_MAX) {
			api_error(a, h, ri, 400, "limit", NULL, "limit must be 1 to %d", API_LIST_MAX);
			return;
		}
		limit = (size_t)l;
	}
	struct store_summary *rows = calloc(limit, sizeof(*rows));
	size_t n = 0;
	int rc = rows ? store_list(a->store, status, limit, rows, &n) : -ENOMEM;
	if (rc < 0) {
		free(rows);
		api_store_failed(a, h, ri, rc);
		return;
	}
	struct buf b;
	struct json_writer w;
	api_list_begin(&w, &b);
	for (size_t i = 0; i < n; i++) {
		json_begin_object(&w);
		json_field_string(&w, "id", rows[i].id);
		json_field_string(&w, "status", store_status_name(rows[i].status));
		json_field_string(&w, "language", rows[i].language);
		api_time_field(&w, "created_at", rows[i].created_at);
		if (rows[i].verdict[0])
			json_field_string(&w, "verdict", rows[i].verdict);
		else
			json_field_null(&w, "verdict");
		json_end_object(&w);
	}
	free(rows);
	api_list_send(a, h, ri, &w, &b);
}

static void api_delete(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		       const char *id)
{
	if (!store_id_valid(id)) {
		api_error(a, h, ri, 400, "id", NULL, "an id is 32 lowercase hex digits");
		return;
	}
	int rc = store_delete(a->store, id);
	if (rc == -ENOENT)
		api_error(a, h, ri, 404, "id", NULL, "no submission %s", id);
	else if (rc == -EBUSY)
		api_error(a, h, ri, 409, "id", NULL, "submission %s is running; delete it once done",
			  id);
	else if (rc < 0)
		api_store_failed(a, h, ri, rc);
	else {
		api_send(a, h, ri, 204, NULL, NULL, 0, NULL, id);
		/* Clients waiting for it learn now rather than at their timeout. */
		struct api_waiter *ws;
		size_t n = api_wait_take(a, id, 0, &ws);
		for (size_t i = 0; i < n; i++)
			api_error(a, ws[i].h, &ws[i].info, 404, "id", NULL,
				  "submission %s was deleted", id);
		free(ws);
	}
}

static void api_metrics(struct api *a, struct http_handle *h, const struct api_reqinfo *ri)
{
	struct buf b;
	buf_init(&b, 0);
	int64_t depth = 0, running = 0;
	queue_depth(a->queue, &depth);
	store_count(a->store, STORE_RUNNING, &running);
	struct pool_stats ps;
	pool_stats(a->pool, &ps);
	metrics_write_gauge(&b, "runcell_queue_depth", "Submissions waiting for a worker.",
			    (double)depth);
	metrics_write_gauge(&b, "runcell_jobs_running", "Submissions being run.", (double)running);
	metrics_write_gauge(&b, "runcell_slots_busy", "Workers running a job.", ps.busy);
	metrics_write_gauge(&b, "runcell_slots_total", "Workers alive.", ps.alive);
	const char *names[API_VERDICTS];
	uint64_t counts[API_VERDICTS];
	for (int v = 0; v < API_VERDICTS; v++) {
		names[v] = judge_verdict_name((enum judge_verdict)v);
		counts[v] = atomic_load(&a->by_verdict[v]);
	}
	metrics_write_labeled_counter(&b, "runcell_submissions_total",
				      "Finished submissions by verdict.", "verdict", names, counts,
				      API_VERDICTS);
	metrics_write_counter(&b, "runcell_submissions_accepted_total",
			      "Submissions stored and queued.", atomic_load(&a->accepted));
	metrics_write_counter(&b, "runcell_store_lock_waits_total",
			      "Store statements that found the database locked by another process.",
			      store_lock_waits());
	char codes[600][12];
	const char *cnames[600];
	uint64_t ccounts[600];
	size_t nc = 0;
	for (int c = 100; c < 600; c++) {
		uint64_t v = atomic_load(&a->by_code[c]);
		if (!v)
			continue;
		snprintf(codes[nc], sizeof(codes[nc]), "%d", c);
		cnames[nc] = codes[nc];
		ccounts[nc++] = v;
	}
	metrics_write_labeled_counter(&b, "runcell_http_requests_total",
				      "HTTP requests answered, by status.", "code", cnames, ccounts,
				      nc);
	metrics_write_histogram(&b, "runcell_http_request_duration_seconds",
				"Time from a request to its reply.", &a->request_seconds);
	metrics_write_histogram(&b, "runcell_job_duration_seconds",
				"Time from a job's claim to its stored result.", &a->job_seconds);
	struct callback_stats cs = { 0 };
	if (a->callbacks)
		callback_stats(a->callbacks, &cs);
	const char *outcomes[] = { "delivered", "retried", "failed" };
	uint64_t ocounts[] = { cs.delivered, cs.retried, cs.failed };
	metrics_write_labeled_counter(&b, "runcell_callbacks_total", "Callback attempts by outcome.",
				      "outcome", outcomes, ocounts, 3);
	api_send(a, h, ri, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
		 b.len, NULL, NULL);
	buf_free(&b);
}

static void api_status(struct api *a, struct http_handle *h, const struct api_reqinfo *ri,
		       bool ready_check)
{
	struct buf b;
	buf_init(&b, 0);
	int status = 200;
	if (!ready_check) {
		buf_puts(&b, "{\"status\":\"ok\"}");
	} else {
		struct pool_stats ps;
		pool_stats(a->pool, &ps);
		bool ready = !atomic_load(&a->stopping) &&
			     (ps.ready > 0 || a->cfg.min_workers == 0);
		status = ready ? 200 : 503;
		buf_printf(&b, "{\"status\":\"%s\",\"workers\":%d,\"ready_workers\":%d}",
			   ready ? "ready" : atomic_load(&a->stopping) ? "stopping" : "not ready",
			   ps.alive, ps.ready);
	}
	api_send_json(a, h, ri, status, &b, NULL, NULL);
	buf_free(&b);
}

static void api_method_not_allowed(struct api *a, struct http_handle *h,
				   const struct api_reqinfo *ri, const char *allow)
{
	char hdr[64];
	snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
	api_error(a, h, ri, 405, "method", hdr, "%s is not allowed here (allowed: %s)", ri->method,
		  allow);
}

static void api_handle(void *user, struct http_handle *h, const struct http_request *req)
{
	struct api *a = user;
	struct api_reqinfo ri;
	api_reqinfo_init(&ri, req);
	const char *path = req->path, *m = req->method;
	bool get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST");

	if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") || !strcmp(path, "/metrics")) {
		if (!get)
			return api_method_not_allowed(a, h, &ri, "GET, HEAD");
		if (!strcmp(path, "/metrics"))
			return api_metrics(a, h, &ri);
		return api_status(a, h, &ri, !strcmp(path, "/readyz"));
	}
	if (strncmp(path, "/v1/", 4) && strcmp(path, "/v1")) {
		if (a->web_fd < 0)
			return api_error(a, h, &ri, 404, "path", NULL, "no such path");
		return api_note(a, &ri, http_serve_file(h, a->web_fd, path), NULL);
	}
	if (!strcmp(path, "/v1/languages")) {
		if (!get)
			return api_method_not_allowed(a, h, &ri, "GET, HEAD");
		if (api_auth(a, h, &ri, req, false) < 0)
			return;
		static const char *const none[] = { NULL };
		if (api_query_only(a, h, &ri, req->query, none) < 0)
			return;
		return api_send_json(a, h, &ri, 200, &a->languages_json, NULL, NULL);
	}
	const char *rest = !strncmp(path, "/v1/submissions", 15) ? path + 15 : NULL;
	if (!rest || (*rest && *rest != '/'))
		return api_error(a, h, &ri, 404, "path", NULL, "no such path");
	if (*rest == '/')
		rest++;
	if (strchr(rest, '/') || (rest[-1] == '/' && !*rest))  /* ".../ID/" or "/v1/submissions/" */
		return api_error(a, h, &ri, 404, "path", NULL, "no such path");
	bool batch = !strcmp(rest, "batch");
	const char *allow = !*rest ? "GET, HEAD, POST" : batch ? "POST" : "GET, HEAD, DELETE";
	bool del = !strcmp(m, "DELETE");
	if ((!*rest && !get && !post) || (batch && !post) || (*rest && !batch && !get && !del))
		return api_method_not_allowed(a, h, &ri, allow);
	char probe[2];
	bool admin = del || (!*rest && get && !http_query_param(req->query, "ids", probe, sizeof(probe)));
	if (api_auth(a, h, &ri, req, admin) < 0)
		return;
	static const char *const post_params[] = { "wait", NULL };
	static const char *const list_params[] = { "ids", "status", "limit", NULL };
	static const char *const no_params[] = { NULL };
	if (api_query_only(a, h, &ri, req->query,
			   post && !batch ? post_params : !*rest && get ? list_params : no_params) < 0)
		return;
	if (post) {
		if (!api_json_body_type(req))
			return api_error(a, h, &ri, 415, "content-type", NULL,
					 "the body must be application/json");
		if (atomic_load(&a->stopping))
			return api_error(a, h, &ri, 503, "queue", "Retry-After: 5\r\n",
					 "the server is shutting down");
		return batch ? api_post_batch(a, h, &ri, req) : api_post_one(a, h, &ri, req);
	}
	if (del)
		return api_delete(a, h, &ri, rest);
	if (*rest)
		return api_get_one(a, h, &ri, rest);
	char *ids = malloc(strlen(req->query) + 1);
	if (!ids)
		return api_error(a, h, &ri, 500, "ids", NULL, "out of memory");
	bool by_ids = http_query_param(req->query, "ids", ids, strlen(req->query) + 1);
	if (by_ids && (http_query_param(req->query, "status", probe, sizeof(probe)) ||
		       http_query_param(req->query, "limit", probe, sizeof(probe))))
		api_error(a, h, &ri, 400, "ids", NULL, "ids lists submissions by id; status and "
			  "limit belong to the listing without ids");
	else if (by_ids)
		api_get_many(a, h, &ri, ids);
	else
		api_list(a, h, &ri, req->query);
	free(ids);
}

/* ---- lifecycle ---- */

static void api_render_languages(struct api *a)
{
	struct buf *b = &a->languages_json;
	buf_init(b, 0);
	struct json_writer w;
	json_writer_init(&w, b);
	json_begin_object(&w);
	json_key(&w, "languages");
	json_begin_array(&w);
	for (size_t i = 0; i < lang_count(a->cfg.languages); i++) {
		const struct lang *l = lang_at(a->cfg.languages, i);
		json_begin_object(&w);
		json_field_string(&w, "id", l->id);
		json_field_string(&w, "name", l->name);
		json_key(&w, "aliases");
		json_begin_array(&w);
		for (char **al = l->aliases; al && *al; al++)
			json_string(&w, *al);
		json_end_array(&w);
		json_field_string(&w, "version", l->version);
		json_field_bool(&w, "available", l->available);
		json_field_bool(&w, "compiled", l->compile != NULL);
		json_end_object(&w);
	}
	json_end_array(&w);
	json_end_object(&w);
}

/* Sets a thread's stop flag under its lock, wakes it and joins it. */
static void api_thread_stop(pthread_mutex_t *lock, pthread_cond_t *cond, bool *stop,
			    pthread_t thread)
{
	pthread_mutex_lock(lock);
	*stop = true;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(lock);
	pthread_join(thread, NULL);
}

static void api_timer_stop(struct api *a)
{
	api_thread_stop(&a->wlock, &a->tcond, &a->timer_stop, a->timer);
}

/* Stores and answers what is pending, then ends the writer. */
static void api_writer_stop(struct api *a)
{
	api_thread_stop(&a->plock, &a->pcond, &a->writer_stop, a->writer);
}

static void api_free(struct api *a)
{
	store_close(a->store);
	store_close(a->timer_store);
	store_close(a->writer_store);
	queue_close(a->queue);
	queue_close(a->queue_w);
	pthread_mutex_destroy(&a->plock);
	pthread_cond_destroy(&a->pcond);
	if (a->web_fd >= 0)
		close(a->web_fd);
	buf_free(&a->languages_json);
	free(a->waiters);
	pthread_mutex_destroy(&a->wlock);
	pthread_cond_destroy(&a->tcond);
	free(a);
}

/* Descriptors a worker may hold at once: its warm cell (socket, cgroup
 * files, two pipes and the files of a run), database and queue handles,
 * with room to spare; and those the rest of the server holds. */
#define API_FDS_PER_WORKER 32
#define API_FDS_RESERVED 128
#define API_MAX_CONNECTIONS 4096

/* How many client connections fit under the open-file limit once every
 * worker has what it needs; a flood of idle connections then gets 503 at
 * the door instead of making a job fail with EMFILE.  -EMFILE when the
 * limit is too low to serve at all. */
static int api_connection_budget(int max_workers, char *err, size_t errlen)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return API_MAX_CONNECTIONS;
	long long need = API_FDS_RESERVED + (long long)max_workers * API_FDS_PER_WORKER;
	long long left = (long long)rl.rlim_cur - need;
	if (left < 32) {
		snprintf(err, errlen, "the open-file limit of %llu is too low for %d workers: "
			 "raise it to at least %lld (ulimit -n), or lower --max-workers",
			 (unsigned long long)rl.rlim_cur, max_workers, need + 32);
		return -EMFILE;
	}
	return left > API_MAX_CONNECTIONS ? API_MAX_CONNECTIONS : (int)left;
}

int api_start(const struct api_config *cfg, struct api **out, char *err, size_t errlen)
{
	*out = NULL;
	int max_connections = api_connection_budget(cfg->max_workers, err, errlen);
	if (max_connections < 0)
		return max_connections;
	struct api *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->cfg = *cfg;
	a->web_fd = -1;
	pthread_mutex_init(&a->wlock, NULL);
	pthread_mutex_init(&a->plock, NULL);
	pthread_cond_init(&a->pcond, NULL);
	a->puts_tail = &a->puts;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->tcond, &ca);
	pthread_condattr_destroy(&ca);
	metrics_histogram_init(&a->request_seconds);
	metrics_histogram_init(&a->job_seconds);
	api_render_languages(a);
	int rc;
	if ((rc = store_open(cfg->store_url, &a->store, err, errlen)) < 0 ||
	    (rc = store_open(cfg->store_url, &a->timer_store, err, errlen)) < 0 ||
	    (rc = store_open(cfg->store_url, &a->writer_store, err, errlen)) < 0 ||
	    (rc = queue_open(cfg->queue_url, cfg->store_url, &a->queue, err, errlen)) < 0 ||
	    (rc = queue_open(cfg->queue_url, cfg->store_url, &a->queue_w, err, errlen)) < 0)
		goto fail;
	if (cfg->web_dir) {
		a->web_fd = open(cfg->web_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (a->web_fd < 0)
			log_warn("no static files: %s: %s", cfg->web_dir, strerror(errno));
	}
	if ((rc = callback_sender_start(&cfg->callback, &a->callbacks, err, errlen)) < 0)
		goto fail;
	struct pool_config pc = {
		.store_url = cfg->worker_store_url ? cfg->worker_store_url : cfg->store_url,
		.queue_url = cfg->queue_url,
		.min_workers = cfg->min_workers,
		.max_workers = cfg->max_workers,
		.idle_ms = cfg->idle_ms,
		.languages = cfg->languages,
		.policy = &a->cfg.policy,
		.cache_dir = cfg->cache_dir,
		.cache_max_bytes = cfg->cache_max_bytes,
		.max_result_bytes = cfg->max_result_bytes,
		.preload = cfg->preload,
		.on_done = api_job_done,
		.user = a,
	};
	if ((rc = pool_start(&pc, &a->pool, err, errlen)) < 0)
		goto fail_callbacks;
	if ((rc = pthread_create(&a->timer, NULL, api_timer_main, a)) != 0) {
		snprintf(err, errlen, "cannot start the timer thread: %s", strerror(rc));
		rc = -rc;
		goto fail_pool;
	}
	if ((rc = pthread_create(&a->writer, NULL, api_writer_main, a)) != 0) {
		snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
		rc = -rc;
		goto fail_timer;
	}
	struct http_config hc = {
		.addr = cfg->listen,
		.port = cfg->port,
		.max_body = cfg->max_body,
		.max_connections = max_connections,
		.handler = api_handle,
		.on_refused = api_refused,
		.user = a,
	};
	a->http = http_server_start(&hc, err, errlen);
	if (!a->http) {
		rc = -EADDRINUSE;
		goto fail_writer;
	}
	*out = a;
	return 0;
fail_writer:
	api_writer_stop(a);
fail_timer:
	api_timer_stop(a);
fail_pool:
	pool_stop(a->pool);
fail_callbacks:
	callback_sender_stop(a->callbacks, 0);
fail:
	api_free(a);
	return rc;
}

uint16_t api_port(const struct api *a)
{
	return http_server_port(a->http);
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	/* Submissions accepted but not stored yet are stored and answered
	 * (their waiting clients registered) before the waits are cut. */
	api_writer_stop(a);
	/* Waiting clients get what there is now (202 unless done), read
	 * through the timer's store handle once the timer has stopped: the
	 * event loop still serves GETs on a->store, and a handle is one
	 * thread's (two threads on one crashed the server at SIGTERM). */
	api_timer_stop(a);
	struct api_waiter *ws;
	size_t n = api_wait_take(a, NULL, 0, &ws);
	api_wait_expire(a, a->timer_store, ws, n);
	free(ws);
	http_server_stop(a->http);
	pool_stop(a->pool);
	callback_sender_stop(a->callbacks, 2000);
	api_free(a);
}
