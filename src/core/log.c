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
#include <unistd.h>

static enum log_level log_threshold = LOG_INFO;

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
	static const char *const names[] = { "debug", "info", "warning", "error" };
	if (level < log_threshold)
		return;
	char line[2048];
	int n = snprintf(line, sizeof(line), "runcell: %s: ", names[level]);
	va_list ap;
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
