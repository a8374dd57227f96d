/*
 * metrics: Prometheus text-format writers (see metrics.h).
 *
 * A histogram keeps per-bucket counts and renders them cumulatively, so an
 * observation is one relaxed fetch_add on its bucket plus one on the sum,
 * and _count is derived from the same loads as the +Inf bucket (the two
 * always agree in one rendering).  The sum is kept in integer microseconds
 * because C11 has no portable atomic add on doubles.
 */
#include "api/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const double metrics_bounds[METRICS_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
static const char *const metrics_bound_text[METRICS_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "10", "30", "60",
};

void metrics_histogram_init(struct metrics_histogram *h)
{
	for (size_t i = 0; i <= METRICS_BUCKETS; i++)
		atomic_init(&h->counts[i], 0);
	atomic_init(&h->sum_us, 0);
}

void metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
	if (!(seconds > 0)) /* negative, zero or NaN */
		seconds = 0;
	if (seconds > 1e9)
		seconds = 1e9;
	size_t i = 0;
	while (i < METRICS_BUCKETS && seconds > metrics_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	uint64_t us = (uint64_t)(seconds * 1e6 + 0.5);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

/* HELP text: backslash and newline escaped. */
static void metrics_put_help(struct buf *b, const char *name, const char *help,
			     const char *type)
{
	buf_printf(b, "# HELP %s ", name);
	for (const char *p = help ? help : ""; *p; p++) {
		if (*p == '\\')
			buf_puts(b, "\\\\");
		else if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, p, 1);
	}
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void metrics_put_label_value(struct buf *b, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			buf_puts(b, "\\\\");
		else if (*p == '"')
			buf_puts(b, "\\\"");
		else if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_append(b, p, 1);
	}
}

/* Microseconds as seconds, without trailing zeros: 1500000 -> "1.5". */
static void metrics_put_us(struct buf *b, uint64_t us)
{
	char frac[8];
	snprintf(frac, sizeof(frac), "%06" PRIu64, us % 1000000u);
	size_t n = 6;
	while (n > 0 && frac[n - 1] == '0')
		n--;
	frac[n] = '\0';
	buf_printf(b, "%" PRIu64 "%s%s", us / 1000000u, n ? "." : "", frac);
}

void metrics_write_histogram(struct buf *b, const char *name, const char *help,
			     const struct metrics_histogram *h)
{
	metrics_put_help(b, name, help, "histogram");
	uint64_t cum = 0;
	for (size_t i = 0; i <= METRICS_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		buf_printf(b, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name,
			   i < METRICS_BUCKETS ? metrics_bound_text[i] : "+Inf", cum);
	}
	buf_printf(b, "%s_sum ", name);
	metrics_put_us(b, atomic_load_explicit(&h->sum_us, memory_order_relaxed));
	buf_printf(b, "\n%s_count %" PRIu64 "\n", name, cum);
}

void metrics_write_gauge(struct buf *b, const char *name, const char *help, double v)
{
	metrics_put_help(b, name, help, "gauge");
	if (isnan(v)) {
		buf_printf(b, "%s NaN\n", name);
		return;
	}
	if (isinf(v)) {
		buf_printf(b, "%s %s\n", name, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* The shortest of %.15g..%.17g that reads back as v. */
	char num[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, v);
		if (strtod(num, NULL) == v)
			break;
	}
	buf_printf(b, "%s %s\n", name, num);
}

void metrics_write_counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	metrics_put_help(b, name, help, "counter");
	buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

void metrics_write_labeled_counter(struct buf *b, const char *name, const char *help,
				   const char *label, const char *const *values,
				   const uint64_t *counts, size_t n)
{
	metrics_put_help(b, name, help, "counter");
	for (size_t i = 0; i < n; i++) {
		buf_printf(b, "%s{%s=\"", name, label);
		metrics_put_label_value(b, values[i]);
		buf_printf(b, "\"} %" PRIu64 "\n", counts[i]);
	}
}
