/*
 * callback: result callbacks, POSTed by runcell's own small HTTP/1.1
 * client, over TLS for https:// URLs (the certificate must chain to the
 * trust store, the system's or ca_file, and name the URL's host).
 *
 * callback_send copies a delivery into an in-memory queue and returns at
 * once; a few background threads (senders) deliver, in order of due time,
 * so that a receiver that hangs holds up one of them, not the others:
 *
 *   POST /path HTTP/1.1
 *   Host, Content-Type: application/json, Content-Length,
 *   X-Runcell-Submission: ID, User-Agent: runcell, Connection: close
 *
 * Any 2xx status line is success.  Anything else (unresolvable name,
 * refused connection, failed TLS handshake or certificate check, timeout,
 * other status, malformed reply) is retried
 * after first_delay_ms, doubling up to max_delay_ms, up to max_attempts
 * attempts in all, then given up.  Each final outcome is logged (id, url,
 * attempts, last error).  One attempt (connect + send + receive) takes at
 * most timeout_ms; only the status line of the reply is read (at most
 * 8 KiB), then the connection is closed.  Deliveries live in memory only:
 * those still pending at callback_sender_stop are dropped (and logged).
 */
#ifndef RUNCELL_API_CALLBACK_H
#define RUNCELL_API_CALLBACK_H

#include <stddef.h>
#include <stdint.h>

#include "core/url.h"

#define CALLBACK_URL_MAX URL_MAX
#define CALLBACK_ID_MAX 128
#define CALLBACK_MAX_SENDERS 64

struct callback_config {
	int max_attempts;   /* attempts in all, first included; 0 = 5 */
	int first_delay_ms; /* delay before the first retry, doubling; 0 = 500 */
	int max_delay_ms;   /* cap of the delay; 0 = 30000 */
	int timeout_ms;     /* connect + send + receive, per attempt; 0 = 5000 */
	size_t max_pending; /* deliveries held at once; 0 = 10000 */
	size_t max_pending_bytes; /* their bodies together; 0 = 256 MiB */
	int senders;        /* threads delivering at once; 0 = 4 */
	const char *ca_file; /* PEM of trusted CAs for https://; NULL = the system's */
};

/* Checks a callback URL: http[s]://host[:port][/path][?query], the scheme
 * case-insensitive, host an IPv4 literal, a bracketed IPv6 literal
 * ("[::1]") or a DNS name, port 1..65535, at most CALLBACK_URL_MAX bytes,
 * printable ASCII only (no spaces or control characters), no userinfo
 * ("user@"), no fragment ("#").  Returns 0, or -EINVAL with the reason in
 * why (len bytes; why may be NULL).  Any thread. */
int callback_url_check(const char *url, char *why, size_t len);

struct callback_sender;

/* Starts a sender and its thread (which blocks every signal).  cfg NULL
 * means all defaults.  Returns 0 and *out, or -EINVAL (a negative
 * setting, or a ca_file that cannot be read), -ENOMEM, or the error of
 * pthread_create, with a message in
 * err (errlen bytes). */
int callback_sender_start(const struct callback_config *cfg, struct callback_sender **out,
			  char *err, size_t errlen);

/* Queues one delivery of body (len bytes, copied) to url for submission
 * id (printable ASCII, at most CALLBACK_ID_MAX bytes).  Never waits for
 * the network.  Returns 0; -EINVAL for a bad url or id; -EAGAIN when
 * max_pending deliveries are pending already, or their bodies and this
 * one would take more than max_pending_bytes; -ESHUTDOWN once
 * callback_sender_stop has begun; -ENOMEM.  Any thread. */
int callback_send(struct callback_sender *s, const char *url, const char *id,
		  const void *body, size_t len);

/* Stops accepting, keeps delivering what is pending for up to drain_ms
 * (an attempt in progress is cut at that deadline; a delivery whose next
 * attempt falls after it is not waited for), then drops what is left,
 * logs it, joins the thread and frees s.  Returns within about drain_ms
 * (plus a host-name lookup in progress).  s NULL is a no-op.  Call once,
 * after every callback_send has returned. */
void callback_sender_stop(struct callback_sender *s, int drain_ms);

struct callback_stats {
	uint64_t delivered; /* deliveries that got a 2xx */
	uint64_t retried;   /* attempts that failed and were scheduled again */
	uint64_t failed;    /* deliveries given up after max_attempts */
	uint64_t pending;   /* queued or being attempted now */
};

/* A consistent snapshot of the counters.  Any thread. */
void callback_stats(struct callback_sender *s, struct callback_stats *out);

#endif
