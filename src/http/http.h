/*
 * http: a small HTTP/1.1 server transport (no JSON knowledge).
 *
 * One event-loop thread on epoll serves every connection.  Requests are
 * parsed strictly and with bounds:
 *   - request line + headers at most max_header bytes (431 beyond),
 *     at most 100 header fields (431);
 *   - bodies only with Content-Length, at most max_body bytes (413 with
 *     {"error":"request body too large","field":"body"});
 *   - any Transfer-Encoding (chunked request bodies) is refused with 411;
 *   - malformed input -> 400 and the connection is closed;
 *   - HTTP/1.1 keeps connections alive unless "Connection: close";
 *     HTTP/1.0 connections are closed after one response;
 *   - pipelined requests are answered in order, one at a time;
 *   - "Expect: 100-continue" is honoured.
 * Timeouts: the request line and headers must arrive within
 * header_timeout_ms of their first byte (slowloris: 408 and close); a body
 * gets 408 when it stalls for idle_timeout_ms or, after header_timeout_ms,
 * falls below body_min_rate bytes a second; a response write that makes no
 * progress for idle_timeout_ms, and an idle keep-alive connection after
 * idle_timeout_ms, are closed.  Input buffers past 64 KiB a connection
 * share max_buffered bytes (503 beyond) and shrink once a request is
 * taken.  A
 * suspended request has no timeout (the layer above owns it).
 *
 * The handler runs on the loop thread and must not block.  It either
 * answers at once with http_respond(h, ...) before returning, or calls
 * http_suspend(h) and answers later with http_respond(h, ...) from ANY
 * thread: the completion is queued and the loop is woken by an eventfd.
 * If it returns having done neither, the client gets a 500.
 * A handle stays valid until http_respond is called on it, exactly once,
 * even if its client disconnected meanwhile (the completion is then a
 * no-op) or the server was stopped.  A client that closes its connection
 * while its request is suspended has the connection closed at once.
 */
#ifndef RUNCELL_HTTP_HTTP_H
#define RUNCELL_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_header {
	const char *name;  /* as sent; compare case-insensitively */
	const char *value; /* leading/trailing blanks trimmed */
};

struct http_request {
	const char *method; /* "GET", "POST", ... */
	const char *target; /* the raw request target, "/a/b?x=1" */
	const char *path;   /* target up to '?', still percent-encoded */
	const char *query;  /* after '?', "" when absent */
	int version_minor;  /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
	const struct http_header *headers;
	size_t nheaders;
	const char *body; /* NUL-terminated for convenience; may hold NULs */
	size_t body_len;
};

/* The first header named name (case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* The value of parameter name in a query string ("a=1&b=x%2Cy"),
 * percent-decoded into out (at most len - 1 bytes; "b" gives "x,y"; a bad
 * escape is kept as written).  "a" and "a=" give "".  False when absent. */
bool http_query_param(const char *query, const char *name, char *out, size_t len);

struct http_handle;

/* The request of h; valid (with every string in it) until http_respond. */
const struct http_request *http_handle_request(const struct http_handle *h);

struct http_response {
	int status;               /* 200..599 */
	const char *content_type; /* NULL: no Content-Type header */
	const void *body;
	size_t body_len;
	/* Extra header lines, each "Name: value\r\n" (e.g.
	 * "Retry-After: 1\r\n"), or NULL.  Lines with bare CR or LF, or
	 * not ending in CRLF, make http_respond fail. */
	const char *headers;
};

/* Queues the response of h and releases h.  Any thread, exactly once per
 * handle.  Returns 0, or -1 (EINVAL: a bad response; h is still owned by
 * the caller, who must respond again).  The transport adds Content-Length
 * (not for 204/304) and Connection. */
int http_respond(struct http_handle *h, const struct http_response *resp);

/* Shorthand for a response without extra headers. */
int http_respond_simple(struct http_handle *h, int status, const char *content_type,
			const void *body, size_t body_len);

/* From inside the handler only: the request will be answered later. */
void http_suspend(struct http_handle *h);

typedef void (*http_handler_fn)(void *user, struct http_handle *h,
				const struct http_request *req);

struct http_config {
	const char *addr;     /* IPv4 or IPv6 literal; NULL = "127.0.0.1" */
	uint16_t port;        /* 0 = ephemeral (see http_server_port) */
	size_t max_body;      /* 0 = 1 MiB */
	size_t max_header;    /* request line + headers; 0 = 16 KiB */
	int max_connections;  /* 0 = 4096; above it: 503 and close */
	int header_timeout_ms; /* 0 = 10000 */
	int idle_timeout_ms;   /* 0 = 60000 */
	int drain_timeout_ms;  /* graceful stop bound; 0 = 10000 */
	size_t body_min_rate;  /* bytes a second a body must keep up once
				* header_timeout_ms have passed (408); 0 = 1024 */
	size_t max_buffered;   /* request bytes held at once past 64 KiB per
				* connection (503 and close beyond);
				* 0 = 16 x (max_header + max_body) */
	http_handler_fn handler;
	void *user;
	/* Called (on the loop thread) for each answer the HTTP layer gives by
	 * itself, without the handler: a malformed request (400, 411, 413,
	 * 431, 505), a timeout (408), too many connections (503); for logs and
	 * metrics.  NULL: none. */
	void (*on_refused)(void *user, int status, const char *why);
};

struct http_server;

/* Binds, listens and starts the loop thread.  NULL on failure, with a
 * message in err. */
struct http_server *http_server_start(const struct http_config *cfg, char *err,
				      size_t errlen);

/* The bound port (useful with port 0). */
uint16_t http_server_port(const struct http_server *srv);

/* Graceful stop: stops accepting, closes idle connections, finishes the
 * responses in flight (suspended requests included) for up to
 * drain_timeout_ms, then closes everything and frees srv.  Handles still
 * suspended afterwards stay valid; answering them is a no-op.  Must not
 * be called from the handler. */
void http_server_stop(struct http_server *srv);

/* ---- static files ---- */

/* The MIME type for a file name, by extension. */
const char *http_mime_type(const char *name);

/* Answers h with the file at the request path below the directory
 * root_fd (an O_PATH or O_DIRECTORY descriptor): GET and HEAD only (405
 * otherwise); percent-decoding; "/" and ".../" mean index.html; ".."
 * segments, NUL and backslashes -> 403; symlinks may not leave the root
 * (openat2 RESOLVE_BENEATH) -> 404; missing, not a regular file -> 404.
 * Files above 64 MiB -> 500.  Always responds; returns the status. */
int http_serve_file(struct http_handle *h, int root_fd, const char *url_path);

#endif
