/*
 * metrics: Prometheus text-format (version 0.0.4) writers for /metrics.
 *
 * No registry: whoever owns a number keeps it (an _Atomic counter, a
 * struct metrics_histogram embedded in its own struct) and the /metrics
 * handler writes each one into a buf with the functions below.  Updates
 * are C11 atomics (relaxed), so any thread may observe while another
 * renders; a rendering is not a snapshot across metrics, as Prometheus
 * allows.  Label values and HELP texts are escaped as the format says.
 */
#ifndef RUNCELL_API_METRICS_H
#define RUNCELL_API_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The bucket upper bounds, in seconds: 0.001 0.0025 0.005 0.01 0.025
 * 0.05 0.1 0.25 0.5 1 2.5 5 10 30 60, then +Inf. */
#define METRICS_BUCKETS 15

struct metrics_histogram {
	/* Observations per bucket, NOT cumulative (the writer adds them
	 * up); [METRICS_BUCKETS] holds those above the last bound. */
	_Atomic uint64_t counts[METRICS_BUCKETS + 1];
	_Atomic uint64_t sum_us; /* sum of observations, microseconds */
};

/* Zeroes h (a static or zeroed struct is already initialised). */
void metrics_histogram_init(struct metrics_histogram *h);

/* Records one duration.  Negative and NaN count as 0; in the sum, one
 * observation counts for at most 1e9 s.  Any thread. */
void metrics_histogram_observe(struct metrics_histogram *h, double seconds);

/* "# HELP", "# TYPE name histogram", the cumulative name_bucket{le="..."}
 * lines with +Inf last, name_sum (seconds) and name_count (equal to the
 * +Inf bucket).  Any thread. */
void metrics_write_histogram(struct buf *b, const char *name, const char *help,
			     const struct metrics_histogram *h);

/* "# HELP", "# TYPE name gauge", "name v".  NaN and infinities are
 * written as NaN, +Inf, -Inf; other values in the shortest form that
 * reads back exactly. */
void metrics_write_gauge(struct buf *b, const char *name, const char *help, double v);

/* "# HELP", "# TYPE name counter", "name v".  By convention name ends in
 * _total. */
void metrics_write_counter(struct buf *b, const char *name, const char *help, uint64_t v);

/* A counter family with one label: HELP and TYPE once, then
 * name{label="values[i]"} counts[i] for each of the n entries (values
 * escaped: backslash, double quote, newline). */
void metrics_write_labeled_counter(struct buf *b, const char *name, const char *help,
				   const char *label, const char *const *values,
				   const uint64_t *counts, size_t n);

#endif
