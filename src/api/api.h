/*
 * api: the HTTP API of runcell serve (docs/API.md) on top of the http
 * transport, the store, the queue and the worker pool.
 *
 * The API never waits: handlers run on the transport's event loop, store a
 * submission (durable before the 201), publish it and answer; a client that
 * asked to wait is suspended and answered from the worker thread that
 * finished its job, or by a timer thread with 202 when its wait runs out.
 */
#ifndef RUNCELL_API_API_H
#define RUNCELL_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/callback.h"
#include "judge/submission.h"
#include "lang/lang.h"

struct api_config {
	const char *listen;            /* address literal */
	uint16_t port;                 /* 0: any free port */
	const char *store_url;         /* the API's: a 201 means stored */
	const char *worker_store_url;  /* the workers' claims and results; NULL:
					  store_url */
	const char *queue_url;
	const char *web_dir;           /* static files at /; NULL or missing: none */
	size_t max_body;               /* bytes */
	size_t batch_max;
	int64_t max_queue;             /* queued submissions before 503 */
	int wait_timeout_ms;
	const char *const *api_keys;   /* NULL-terminated; NULL or empty: no auth */
	const char *admin_key;         /* NULL: admin operations need no extra key */
	struct submission_policy policy;
	struct lang_registry *languages; /* probed */
	struct callback_config callback;
	int min_workers, max_workers, idle_ms;
	const char *cache_dir;
	uint64_t cache_max_bytes;
	uint64_t max_result_bytes;  /* stdout and stderr a stored result keeps */
	bool preload;               /* cells get a language's preloader (pool.h) */
};

struct api;

/* Opens the store and queue, starts the workers and the HTTP server. */
int api_start(const struct api_config *cfg, struct api **out, char *err, size_t errlen);
uint16_t api_port(const struct api *a);
/* Graceful stop: refuse new work, answer waiting clients, stop the HTTP
 * server, let running jobs finish, flush callbacks for a moment, free. */
void api_stop(struct api *a);

#endif
