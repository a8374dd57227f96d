/*
 * clock: monotonic time, and calendar time for people.  Wall-time limits
 * and measurements use CLOCK_MONOTONIC only, so a changed system clock
 * cannot stretch or shrink a run; CLOCK_REALTIME is only for timestamps
 * shown in logs and API answers.
 */
#ifndef RUNCELL_CORE_CLOCK_H
#define RUNCELL_CORE_CLOCK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CLOCK_UTC_LEN 32 /* "2026-11-26T13:00:00.123Z" and its NUL, with room */

static inline uint64_t clock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_now_ms(void)
{
	return clock_now_ns() / 1000000ull;
}

/* Milliseconds since the Unix epoch. */
static inline int64_t clock_realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms since the epoch as RFC 3339 UTC with milliseconds. */
static inline void clock_format_utc(int64_t ms, char out[CLOCK_UTC_LEN])
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char base[CLOCK_UTC_LEN];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, CLOCK_UTC_LEN, "%.24s.%03dZ", base, (int)(ms % 1000));
}

#endif
