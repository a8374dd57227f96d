/*
 * Unit tests for metrics: the exact text of a histogram (cumulative
 * buckets, +Inf, _sum, _count), gauges and counters, label and HELP
 * escaping, and observations from 4 threads at once adding up.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "api/metrics.h"
#include "test.h"

TEST(metrics_histogram_text)
{
	struct metrics_histogram h;
	metrics_histogram_init(&h);
	metrics_histogram_observe(&h, 0.0005);  /* le 0.001 */
	metrics_histogram_observe(&h, 0.001);   /* le 0.001 (bounds are inclusive) */
	metrics_histogram_observe(&h, 0.003);   /* le 0.005 */
	metrics_histogram_observe(&h, 0.7);     /* le 1 */
	metrics_histogram_observe(&h, 61);      /* +Inf only */
	metrics_histogram_observe(&h, -1);      /* counts as 0 */
	struct buf b;
	buf_init(&b, 0);
	metrics_write_histogram(&b, "x_seconds", "Time of x.", &h);
	const char *want =
		"# HELP x_seconds Time of x.\n"
		"# TYPE x_seconds histogram\n"
		"x_seconds_bucket{le=\"0.001\"} 3\n"
		"x_seconds_bucket{le=\"0.0025\"} 3\n"
		"x_seconds_bucket{le=\"0.005\"} 4\n"
		"x_seconds_bucket{le=\"0.01\"} 4\n"
		"x_seconds_bucket{le=\"0.025\"} 4\n"
		"x_seconds_bucket{le=\"0.05\"} 4\n"
		"x_seconds_bucket{le=\"0.1\"} 4\n"
		"x_seconds_bucket{le=\"0.25\"} 4\n"
		"x_seconds_bucket{le=\"0.5\"} 4\n"
		"x_seconds_bucket{le=\"1\"} 5\n"
		"x_seconds_bucket{le=\"2.5\"} 5\n"
		"x_seconds_bucket{le=\"5\"} 5\n"
		"x_seconds_bucket{le=\"10\"} 5\n"
		"x_seconds_bucket{le=\"30\"} 5\n"
		"x_seconds_bucket{le=\"60\"} 5\n"
		"x_seconds_bucket{le=\"+Inf\"} 6\n"
		"x_seconds_sum 61.7045\n"
		"x_seconds_count 6\n";
	ASSERT_STR(b.data, want);
	buf_free(&b);
}

TEST(metrics_histogram_empty)
{
	static struct metrics_histogram h; /* zeroed static: ready to use */
	struct buf b;
	buf_init(&b, 0);
	metrics_write_histogram(&b, "e", "", &h);
	ASSERT_TRUE(strstr(b.data, "e_bucket{le=\"+Inf\"} 0\ne_sum 0\ne_count 0\n") != NULL);
	buf_free(&b);
}

TEST(metrics_gauge_counter)
{
	struct buf b;
	buf_init(&b, 0);
	metrics_write_gauge(&b, "q_depth", "Queued.", 3);
	metrics_write_gauge(&b, "g", "h", 0.1);
	metrics_write_gauge(&b, "g", "h", -2.5e-7);
	metrics_write_gauge(&b, "g", "h", NAN);
	metrics_write_gauge(&b, "g", "h", -INFINITY);
	metrics_write_counter(&b, "c_total", "Line one\nback\\slash", 18446744073709551615ull);
	ASSERT_STR(b.data,
		   "# HELP q_depth Queued.\n# TYPE q_depth gauge\nq_depth 3\n"
		   "# HELP g h\n# TYPE g gauge\ng 0.1\n"
		   "# HELP g h\n# TYPE g gauge\ng -2.5e-07\n"
		   "# HELP g h\n# TYPE g gauge\ng NaN\n"
		   "# HELP g h\n# TYPE g gauge\ng -Inf\n"
		   "# HELP c_total Line one\\nback\\\\slash\n# TYPE c_total counter\n"
		   "c_total 18446744073709551615\n");
	buf_free(&b);
}

TEST(metrics_labeled_counter_escaping)
{
	const char *values[] = { "accepted", "a\"b", "back\\slash", "two\nlines", "" };
	const uint64_t counts[] = { 7, 1, 2, 3, 0 };
	struct buf b;
	buf_init(&b, 0);
	metrics_write_labeled_counter(&b, "runcell_submissions_total", "By verdict.", "verdict",
				      values, counts, 5);
	ASSERT_STR(b.data,
		   "# HELP runcell_submissions_total By verdict.\n"
		   "# TYPE runcell_submissions_total counter\n"
		   "runcell_submissions_total{verdict=\"accepted\"} 7\n"
		   "runcell_submissions_total{verdict=\"a\\\"b\"} 1\n"
		   "runcell_submissions_total{verdict=\"back\\\\slash\"} 2\n"
		   "runcell_submissions_total{verdict=\"two\\nlines\"} 3\n"
		   "runcell_submissions_total{verdict=\"\"} 0\n");
	buf_reset(&b);
	metrics_write_labeled_counter(&b, "none_total", "Empty.", "x", NULL, NULL, 0);
	ASSERT_STR(b.data, "# HELP none_total Empty.\n# TYPE none_total counter\n");
	buf_free(&b);
}

#define OBS_THREADS 4
#define OBS_EACH 100000

static struct metrics_histogram obs_h;

static void *obs_thread(void *arg)
{
	int k = (int)(intptr_t)arg;
	/* Thread k observes 0.002 s (k even) or 0.2 s (k odd). */
	double v = k % 2 ? 0.2 : 0.002;
	for (int i = 0; i < OBS_EACH; i++)
		metrics_histogram_observe(&obs_h, v);
	return NULL;
}

TEST(metrics_histogram_concurrent)
{
	metrics_histogram_init(&obs_h);
	pthread_t t[OBS_THREADS];
	for (int k = 0; k < OBS_THREADS; k++)
		ASSERT_EQ(pthread_create(&t[k], NULL, obs_thread, (void *)(intptr_t)k), 0);
	for (int k = 0; k < OBS_THREADS; k++)
		pthread_join(t[k], NULL);
	struct buf b;
	buf_init(&b, 0);
	metrics_write_histogram(&b, "c", "h", &obs_h);
	/* 2 threads x 100000 x 0.002 s + 2 x 100000 x 0.2 s = 400 + 40000 s. */
	ASSERT_TRUE(strstr(b.data, "c_bucket{le=\"0.0025\"} 200000\n") != NULL);
	ASSERT_TRUE(strstr(b.data, "c_bucket{le=\"0.1\"} 200000\n") != NULL);
	ASSERT_TRUE(strstr(b.data, "c_bucket{le=\"0.25\"} 400000\n") != NULL);
	ASSERT_TRUE(strstr(b.data, "c_bucket{le=\"+Inf\"} 400000\nc_sum 40400\nc_count 400000\n") != NULL);
	buf_free(&b);
}
