/*
 * log: one line per event on stderr, "runcell: LEVEL: message".
 * The level threshold comes from log_set_level (RUNCELL_LOG=debug too).
 *
 * A server switches to structured logs with log_set_json(true): every line
 * is then one JSON object, {"ts":..., "level":..., "msg":...}, and events
 * with fields are written with log_event_begin / json_field_* /
 * log_event_end.
 */
#ifndef RUNCELL_CORE_LOG_H
#define RUNCELL_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

#include <stdbool.h>

#include "core/buf.h"
#include "core/json.h"

void log_set_level(enum log_level level);
void log_set_json(bool on);
/* False when level is below the threshold (then skip building the event). */
bool log_enabled(enum log_level level);
void log_init_from_env(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Starts {"ts":"...","level":"...","event":"..." in b (initialised here);
 * the caller adds fields with w, then log_event_end writes the line (one
 * write(2)) and frees b. */
void log_event_begin(struct json_writer *w, struct buf *b, enum log_level level,
		     const char *event);
void log_event_end(struct json_writer *w, struct buf *b);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
