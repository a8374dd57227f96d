/*
 * log: leveled one-line messages on stderr (see log.h).  A line is built
 * in one buffer and written with one write(2), so lines from threads and
 * processes sharing stderr do not interleave.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"

static enum log_level log_threshold = LOG_INFO;
static bool log_json;
static const char *const log_names[] = { "debug", "info", "warning", "error" };

void log_set_json(bool on)
{
	log_json = on;
}

bool log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

void log_event_begin(struct json_writer *w, struct buf *b, enum log_level level,
		     const char *event)
{
	char ts[CLOCK_UTC_LEN];
	clock_format_utc(clock_realtime_ms(), ts);
	buf_init(b, 64 * 1024);
	json_writer_init(w, b);
	json_begin_object(w);
	json_field_string(w, "ts", ts);
	json_field_string(w, "level", log_names[level]);
	json_field_string(w, "event", event);
}

void log_event_end(struct json_writer *w, struct buf *b)
{
	json_end_object(w);
	buf_puts(b, "\n");
	if (json_writer_error(w) == 0 && b->data) {
		ssize_t n = write(STDERR_FILENO, b->data, b->len);
		(void)n;
	}
	buf_free(b);
}

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

void log_init_from_env(void)
{
	const char *v = getenv("RUNCELL_LOG");
	if (!v)
		return;
	if (!strcmp(v, "debug"))
		log_threshold = LOG_DEBUG;
	else if (!strcmp(v, "info"))
		log_threshold = LOG_INFO;
	else if (!strcmp(v, "warn"))
		log_threshold = LOG_WARN;
	else if (!strcmp(v, "error"))
		log_threshold = LOG_ERROR;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < log_threshold)
		return;
	char line[2048];
	va_list ap;
	if (log_json) {
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		struct buf b;
		struct json_writer w;
		log_event_begin(&w, &b, level, "log");
		json_field_string(&w, "msg", line);
		log_event_end(&w, &b);
		return;
	}
	int n = snprintf(line, sizeof(line), "runcell: %s: ", log_names[level]);
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
