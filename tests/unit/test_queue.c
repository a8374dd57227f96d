/*
 * Unit tests for queue/ (embedded backend) and store_list: publish wakes a
 * waiting taker at once, take times out when empty, at-least-once hand
 * over of a job whose lease ran out, completion ends delivery, several
 * takers never get the same job, the listing's order and fields.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "queue/queue.h"
#include "store/store.h"
#include "test.h"

static void url_of(const char *dir, char *out, size_t len)
{
	snprintf(out, len, "sqlite:%s/q.db", dir);
}

struct taker {
	const char *url;
	int rc;
	char id[STORE_ID_LEN + 1];
	uint64_t waited_ms;
};

static void *taker_main(void *arg)
{
	struct taker *t = arg;
	struct queue *q;
	char err[256];
	if (queue_open("embedded", t->url, &q, err, sizeof(err)) < 0) {
		t->rc = -1;
		return NULL;
	}
	uint64_t t0 = clock_now_ms();
	struct store_submission job;
	t->rc = queue_take(q, "taker", 10000, 900, &job);
	t->waited_ms = clock_now_ms() - t0;
	if (t->rc == 0) {
		snprintf(t->id, sizeof(t->id), "%s", job.id);
		store_submission_free(&job);
	}
	queue_close(q);
	return NULL;
}

static void body_publish_wakes(const char *dir)
{
	char url[512], err[256], id[STORE_ID_LEN + 1];
	url_of(dir, url, sizeof(url));
	struct queue *q;
	struct store *s;
	ASSERT_EQ(queue_open("embedded", url, &q, err, sizeof(err)), 0);
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	struct taker t = { .url = url };
	pthread_t th;
	ASSERT_EQ(pthread_create(&th, NULL, taker_main, &t), 0);
	usleep(150 * 1000); /* the taker is waiting now */
	ASSERT_EQ(store_put(s, "{\"language\":\"c\"}", id), 0);
	ASSERT_EQ(queue_publish(q, id), 0);
	pthread_join(th, NULL);
	ASSERT_EQ(t.rc, 0);
	ASSERT_STR(t.id, id);
	/* woken by the publish, not by the 900 ms timeout */
	ASSERT_LT(t.waited_ms, 700);
	int64_t depth = -1;
	ASSERT_EQ(queue_depth(q, &depth), 0);
	ASSERT_EQ(depth, 0);
	store_close(s);
	queue_close(q);
}
TEST(queue_publish_wakes_taker) { test_with_tmpdir(body_publish_wakes); }

static void body_take_timeout(const char *dir)
{
	char url[512], err[256];
	url_of(dir, url, sizeof(url));
	struct queue *q;
	ASSERT_EQ(queue_open("embedded", url, &q, err, sizeof(err)), 0);
	struct store_submission job;
	uint64_t t0 = clock_now_ms();
	ASSERT_EQ(queue_take(q, "w", 1000, 200, &job), QUEUE_EMPTY);
	uint64_t took = clock_now_ms() - t0;
	ASSERT_GE(took, 150);
	ASSERT_EQ(queue_take(q, "w", 1000, 0, &job), QUEUE_EMPTY);
	queue_close(q);
}
TEST(queue_take_times_out) { test_with_tmpdir(body_take_timeout); }

static void body_redeliver(const char *dir)
{
	char url[512], err[256], id[STORE_ID_LEN + 1];
	url_of(dir, url, sizeof(url));
	struct queue *a, *b;
	struct store *s;
	ASSERT_EQ(queue_open("embedded", url, &a, err, sizeof(err)), 0);
	ASSERT_EQ(queue_open("embedded", url, &b, err, sizeof(err)), 0);
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	ASSERT_EQ(store_put(s, "{}", id), 0);
	queue_publish(a, id);
	struct store_submission job;
	/* worker a takes it and "dies" (never completes) */
	ASSERT_EQ(queue_take(a, "a", 100, 0, &job), 0);
	ASSERT_EQ(job.attempts, 1);
	store_submission_free(&job);
	ASSERT_EQ(queue_take(b, "b", 100, 0, &job), QUEUE_EMPTY);
	usleep(150 * 1000);
	/* its lease ran out: b gets it (at-least-once) */
	ASSERT_EQ(queue_take(b, "b", 10000, 0, &job), 0);
	ASSERT_STR(job.id, id);
	ASSERT_EQ(job.attempts, 2);
	store_submission_free(&job);
	/* a's late result is refused, b's is kept, nothing is handed out again */
	ASSERT_EQ(queue_renew(a, id, "a", 1000), -ESTALE);
	ASSERT_EQ(store_complete(s, id, "a", "{\"verdict\":\"x\"}"), -ESTALE);
	ASSERT_EQ(store_complete(s, id, "b", "{\"verdict\":\"accepted\"}"), 0);
	ASSERT_EQ(queue_ack(b, id, "b"), 0);
	ASSERT_EQ(queue_take(a, "a", 100, 0, &job), QUEUE_EMPTY);
	store_close(s);
	queue_close(a);
	queue_close(b);
}
TEST(queue_redelivers_expired_lease) { test_with_tmpdir(body_redeliver); }

#define NJOBS 40
#define NTAKERS 4

struct drainer {
	const char *url;
	int n;
	char ids[NJOBS][STORE_ID_LEN + 1];
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	struct queue *q;
	char err[256], owner[32];
	snprintf(owner, sizeof(owner), "d%p", arg);
	if (queue_open("embedded", d->url, &q, err, sizeof(err)) < 0)
		return NULL;
	struct store_submission job;
	while (queue_take(q, owner, 60000, 300, &job) == 0) {
		snprintf(d->ids[d->n++], STORE_ID_LEN + 1, "%s", job.id);
		store_submission_free(&job);
	}
	queue_close(q);
	return NULL;
}

static void body_no_double_take(const char *dir)
{
	char url[512], err[256], id[STORE_ID_LEN + 1];
	url_of(dir, url, sizeof(url));
	struct store *s;
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	for (int i = 0; i < NJOBS; i++)
		ASSERT_EQ(store_put(s, "{}", id), 0);
	static struct drainer d[NTAKERS];
	pthread_t th[NTAKERS];
	for (int i = 0; i < NTAKERS; i++) {
		d[i] = (struct drainer){ .url = url };
		ASSERT_EQ(pthread_create(&th[i], NULL, drainer_main, &d[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < NTAKERS; i++) {
		pthread_join(th[i], NULL);
		total += d[i].n;
	}
	ASSERT_EQ(total, NJOBS);
	for (int i = 0; i < NTAKERS; i++)
		for (int j = 0; j < d[i].n; j++)
			for (int k = 0; k < NTAKERS; k++)
				for (int l = 0; l < d[k].n; l++)
					if ((i != k || j != l) && !strcmp(d[i].ids[j], d[k].ids[l]))
						FAIL("job %s taken twice", d[i].ids[j]);
	store_close(s);
}
TEST(queue_takers_never_share_a_job) { test_with_tmpdir(body_no_double_take); }

TEST(queue_unknown_backend)
{
	struct queue *q = (struct queue *)1;
	char err[256];
	ASSERT_EQ(queue_open("redis://x", "sqlite:/nonexistent/x.db", &q, err, sizeof(err)), -EINVAL);
	ASSERT_NULL(q);
	ASSERT_TRUE(strstr(err, "redis://x") != NULL);
}

static void body_list(const char *dir)
{
	char url[512], err[256], ids[3][STORE_ID_LEN + 1];
	url_of(dir, url, sizeof(url));
	struct store *s;
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	ASSERT_EQ(store_put(s, "{\"language\":\"c\"}", ids[0]), 0);
	ASSERT_EQ(store_put(s, "{\"language\":\"python3\"}", ids[1]), 0);
	ASSERT_EQ(store_put(s, "{\"source\":\"x\"}", ids[2]), 0);
	struct store_submission job;
	ASSERT_EQ(store_claim(s, "w", 10000, &job), 0);
	ASSERT_STR(job.id, ids[0]);
	store_submission_free(&job);
	ASSERT_EQ(store_complete(s, ids[0], "w", "{\"verdict\":\"wrong_answer\",\"tests\":[]}"), 0);
	struct store_summary out[5];
	size_t n = 99;
	ASSERT_EQ(store_list(s, -1, 5, out, &n), 0);
	ASSERT_EQ(n, 3);
	ASSERT_STR(out[0].id, ids[2]); /* newest first */
	ASSERT_STR(out[0].language, "");
	ASSERT_STR(out[1].language, "python3");
	ASSERT_EQ(out[2].status, STORE_DONE);
	ASSERT_STR(out[2].verdict, "wrong_answer");
	ASSERT_GT(out[2].finished_at, 0);
	ASSERT_EQ(store_list(s, STORE_QUEUED, 5, out, &n), 0);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(store_list(s, STORE_DONE, 1, out, &n), 0);
	ASSERT_EQ(n, 1);
	ASSERT_STR(out[0].id, ids[0]);
	ASSERT_EQ(store_list(s, -1, 1, out, &n), 0);
	ASSERT_EQ(n, 1);
	ASSERT_EQ(store_list(s, 7, 1, out, &n), -EINVAL);
	store_close(s);
}
TEST(store_list_newest_first) { test_with_tmpdir(body_list); }
