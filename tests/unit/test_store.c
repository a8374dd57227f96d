/*
 * Unit tests for store/ (SQLite backend): every operation, unique ids,
 * durability across close/reopen and kill -9, concurrent claims from forked
 * children and from threads, lease hand-over, idempotent completion,
 * migrations on existing files, bad inputs.  Each case works in its own
 * directory under /tmp, removed afterwards even when an assertion fails
 * (the body runs in a child, the parent cleans up).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "test.h"

/* ---- scaffolding ---- */


static void db_path(const char *dir, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/store.db", dir);
}

static struct store *open_at(const char *dir)
{
	char path[256], err[256] = "";
	db_path(dir, path, sizeof(path));
	struct store *s = NULL;
	int r = store_open(path, &s, err, sizeof(err));
	if (r != 0)
		FAIL("store_open(%s): %d %s", path, r, err);
	return s;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void put1(struct store *s, const char *req, char id[STORE_ID_LEN + 1])
{
	int r = store_put(s, req, id);
	if (r != 0)
		FAIL("put: %d %s", r, store_errmsg(s));
}

/* Puts "{}" and claims it for owner; returns the claim's attempt number. */
static int put_claimed(struct store *s, const char *owner, int64_t lease_ms,
		       char id[STORE_ID_LEN + 1])
{
	put1(s, "{}", id);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, owner, lease_ms, &sub), 0);
	ASSERT_STR(sub.id, id);
	int attempts = (int)sub.attempts;
	store_submission_free(&sub);
	return attempts;
}

static int64_t count_of(struct store *s, enum store_status st)
{
	int64_t n = -1;
	ASSERT_EQ(store_count(s, st, &n), 0);
	return n;
}

/* Raw SQL on the file, for migration tests. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		FAIL("sql %s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---- ids ---- */

static int cmp_id(const void *a, const void *b) { return strcmp(a, b); }

TEST(store_id_new_unique_and_valid)
{
	enum { N = 2000 };
	static char ids[N][STORE_ID_LEN + 1];
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(store_id_new(ids[i]), 0);
		ASSERT_TRUE(store_id_valid(ids[i]));
	}
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	for (int i = 1; i < N; i++)
		ASSERT_NE(strcmp(ids[i - 1], ids[i]), 0);
}

TEST(store_id_valid_rejects)
{
	ASSERT_FALSE(store_id_valid(NULL));
	ASSERT_FALSE(store_id_valid(""));
	ASSERT_FALSE(store_id_valid("0123456789abcdef0123456789abcde"));   /* 31 */
	ASSERT_FALSE(store_id_valid("0123456789abcdef0123456789abcdef0")); /* 33 */
	ASSERT_FALSE(store_id_valid("0123456789ABCDEF0123456789abcdef"));  /* upper */
	ASSERT_FALSE(store_id_valid("0123456789abcdef0123456789abcdeg"));
	ASSERT_FALSE(store_id_valid("'; DROP TABLE submissions; --   "));
	ASSERT_TRUE(store_id_valid("0123456789abcdef0123456789abcdef"));
	ASSERT_STR(store_status_name(STORE_QUEUED), "queued");
	ASSERT_STR(store_status_name(STORE_RUNNING), "running");
	ASSERT_STR(store_status_name(STORE_DONE), "done");
}

/* ---- put / get ---- */

static void body_put_get(const char *dir)
{
	struct store *s = open_at(dir);
	ASSERT_STR(s->ops->name, "sqlite");
	char id[STORE_ID_LEN + 1];
	int64_t before = store_now_ms();
	const char *req = "{\"lang\":\"c\",\"source\":\"int main(){}\\n\",\"x\":\"\xc3\xa9\"}";
	put1(s, req, id);
	ASSERT_TRUE(store_id_valid(id));
	struct store_submission sub;
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_STR(sub.id, id);
	ASSERT_EQ(sub.status, STORE_QUEUED);
	ASSERT_STR(sub.request_json, req);
	ASSERT_NULL(sub.result_json);
	ASSERT_NULL(sub.owner);
	ASSERT_EQ(sub.attempts, 0);
	ASSERT_GE(sub.created_at, before);
	ASSERT_LE(sub.created_at, store_now_ms());
	ASSERT_EQ(sub.started_at, 0);
	ASSERT_EQ(sub.finished_at, 0);
	ASSERT_EQ(sub.lease_expires, 0);
	store_submission_free(&sub);
	store_submission_free(&sub); /* zeroed: a second free is harmless */
	store_submission_free(NULL);

	char missing[STORE_ID_LEN + 1];
	ASSERT_EQ(store_id_new(missing), 0);
	ASSERT_EQ(store_get(s, missing, &sub), -ENOENT);
	ASSERT_TRUE(strstr(store_errmsg(s), missing) != NULL);
	store_close(s);
}
TEST(store_put_get) { test_with_tmpdir(body_put_get); }

static void body_put_batch(const char *dir)
{
	struct store *s = open_at(dir);
	enum { N = 300 };
	static char reqs_buf[N][32];
	const char *reqs[N];
	static char ids[N][STORE_ID_LEN + 1];
	for (int i = 0; i < N; i++) {
		snprintf(reqs_buf[i], sizeof(reqs_buf[i]), "{\"n\":%d}", i);
		reqs[i] = reqs_buf[i];
	}
	static const char *scopes[N];
	for (int i = 0; i < N; i++)
		scopes[i] = i % 2 ? "scope-a" : NULL;
	ASSERT_EQ(store_put_batch(s, reqs, scopes, N, ids), 0);
	ASSERT_EQ(count_of(s, STORE_QUEUED), N);
	for (int i = 0; i < N; i += 37) {
		struct store_submission sub;
		ASSERT_EQ(store_get(s, ids[i], &sub), 0);
		ASSERT_STR(sub.request_json, reqs[i]);
		if (i % 2)
			ASSERT_STR(sub.scope, "scope-a");
		else
			ASSERT_NULL(sub.scope);
		store_submission_free(&sub);
	}
	/* ids unique across the batch */
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	for (int i = 1; i < N; i++)
		ASSERT_NE(strcmp(ids[i - 1], ids[i]), 0);

	/* all or nothing: a bad element stores none of the batch */
	const char *bad[3] = { "{\"a\":1}", NULL, "{\"c\":3}" };
	char bad_ids[3][STORE_ID_LEN + 1];
	ASSERT_EQ(store_put_batch(s, bad, NULL, 3, bad_ids), -EINVAL);
	ASSERT_EQ(count_of(s, STORE_QUEUED), N);
	ASSERT_EQ(store_put_batch(s, bad, NULL, 0, bad_ids), 0);
	ASSERT_EQ(store_put_batch(s, NULL, NULL, 2, bad_ids), -EINVAL);
	/* a scope is a short non-empty name */
	const char *one[1] = { "{}" };
	char long_scope[STORE_SCOPE_MAX + 2];
	memset(long_scope, 'x', sizeof(long_scope) - 1);
	long_scope[sizeof(long_scope) - 1] = '\0';
	const char *empty[1] = { "" }, *too_long[1] = { long_scope };
	ASSERT_EQ(store_put_batch(s, one, empty, 1, bad_ids), -EINVAL);
	ASSERT_EQ(store_put_batch(s, one, too_long, 1, bad_ids), -EINVAL);
	ASSERT_EQ(count_of(s, STORE_QUEUED), N);
	/* the connection is usable after a failed batch; no scope is NULL */
	char id[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	ASSERT_EQ(count_of(s, STORE_QUEUED), N + 1);
	struct store_submission plain;
	ASSERT_EQ(store_get(s, id, &plain), 0);
	ASSERT_NULL(plain.scope);
	store_submission_free(&plain);
	store_close(s);
}
TEST(store_put_batch_atomic) { test_with_tmpdir(body_put_batch); }

static void body_get_many(const char *dir)
{
	struct store *s = open_at(dir);
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1], missing[STORE_ID_LEN + 1];
	put1(s, "{\"a\":1}", a);
	put1(s, "{\"b\":2}", b);
	ASSERT_EQ(store_id_new(missing), 0);
	const char *ids[4] = { b, missing, a, b };
	struct store_submission out[4];
	ASSERT_EQ(store_get_many(s, ids, 4, out), 3);
	ASSERT_STR(out[0].id, b);
	ASSERT_STR(out[0].request_json, "{\"b\":2}");
	ASSERT_EQ(out[1].id[0], '\0');
	ASSERT_NULL(out[1].request_json);
	ASSERT_STR(out[2].request_json, "{\"a\":1}");
	ASSERT_STR(out[3].id, b);
	for (int i = 0; i < 4; i++)
		store_submission_free(&out[i]);
	ASSERT_EQ(store_get_many(s, ids, 0, out), 0);
	const char *bad[2] = { a, "nope" };
	ASSERT_EQ(store_get_many(s, bad, 2, out), -EINVAL);
	store_close(s);
}
TEST(store_get_many) { test_with_tmpdir(body_get_many); }

/* ---- durability ---- */

static void body_reopen(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1], done_id[STORE_ID_LEN + 1];
	put1(s, "{\"keep\":true}", id);
	put1(s, "{\"done\":true}", done_id);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w1", 60000, &sub), 0);
	ASSERT_STR(sub.id, id);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "w1", 60000, &sub), 0);
	ASSERT_EQ(store_complete(s, sub.id, "w1", "{\"ok\":1}"), 0);
	store_submission_free(&sub);
	store_close(s);

	s = open_at(dir);
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_EQ(sub.status, STORE_RUNNING);
	ASSERT_STR(sub.owner, "w1");
	store_submission_free(&sub);
	ASSERT_EQ(store_get(s, done_id, &sub), 0);
	ASSERT_EQ(sub.status, STORE_DONE);
	ASSERT_STR(sub.result_json, "{\"ok\":1}");
	store_submission_free(&sub);
	store_close(s);
}
TEST(store_durable_across_reopen) { test_with_tmpdir(body_reopen); }

/* A child puts and reports the id, then is killed with SIGKILL while its
 * connection is open: the row must be there for the next opener. */
static void body_kill9(const char *dir)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(p[0]);
		struct store *s = open_at(dir);
		char id[STORE_ID_LEN + 1];
		put1(s, "{\"survives\":\"kill -9\"}", id);
		if (write(p[1], id, STORE_ID_LEN) != STORE_ID_LEN)
			_exit(3);
		pause(); /* killed here, connection still open, WAL not checkpointed */
		_exit(4);
	}
	close(p[1]);
	char id[STORE_ID_LEN + 1] = "";
	ASSERT_EQ(read(p[0], id, STORE_ID_LEN), STORE_ID_LEN);
	close(p[0]);
	kill(pid, SIGKILL);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	struct store *s = open_at(dir);
	struct store_submission sub;
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_STR(sub.request_json, "{\"survives\":\"kill -9\"}");
	store_submission_free(&sub);
	store_close(s);
}
TEST(store_put_survives_kill9) { test_with_tmpdir(body_kill9); }

static void body_pragmas(const char *dir)
{
	struct store *s = open_at(dir);
	char path[256];
	db_path(dir, path, sizeof(path));
	/* WAL is persistent in the file; check it from another connection */
	sqlite3 *db;
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
	ASSERT_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(s);
}
TEST(store_uses_wal) { test_with_tmpdir(body_pragmas); }

/* ---- delete, count, queue depth ---- */

static void body_delete(const char *dir)
{
	struct store *s = open_at(dir);
	char q[STORE_ID_LEN + 1], r[STORE_ID_LEN + 1], d[STORE_ID_LEN + 1];
	put1(s, "{\"q\":1}", r); /* oldest: claimed first */
	put1(s, "{\"d\":1}", d);
	put1(s, "{\"r\":1}", q);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	ASSERT_STR(sub.id, r);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	ASSERT_STR(sub.id, d);
	store_submission_free(&sub);
	ASSERT_EQ(store_complete(s, d, "w", "{}"), 0);

	ASSERT_EQ(store_delete(s, r), -EBUSY); /* running: refused */
	ASSERT_EQ(store_get(s, r, &sub), 0);
	ASSERT_EQ(sub.status, STORE_RUNNING);
	store_submission_free(&sub);
	ASSERT_EQ(store_delete(s, q), 0); /* queued */
	ASSERT_EQ(store_get(s, q, &sub), -ENOENT);
	ASSERT_EQ(store_delete(s, d), 0); /* done */
	ASSERT_EQ(store_delete(s, d), -ENOENT);
	ASSERT_EQ(store_delete(s, "xyz"), -EINVAL);
	ASSERT_EQ(count_of(s, STORE_RUNNING), 1);
	ASSERT_EQ(count_of(s, STORE_DONE), 0);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 0);
	store_close(s);
}
TEST(store_delete) { test_with_tmpdir(body_delete); }

static void body_delete_expired(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	put_claimed(s, "dead", 200, id);
	ASSERT_EQ(store_delete(s, id), -EBUSY);
	sleep_ms(300);
	ASSERT_EQ(store_delete(s, id), 0); /* lease expired: a dead worker's job */
	ASSERT_EQ(store_complete(s, id, "dead", "{}"), -ENOENT);
	store_close(s);
}
TEST(store_delete_expired_running) { test_with_tmpdir(body_delete_expired); }

static void body_counts(const char *dir)
{
	struct store *s = open_at(dir);
	int64_t n = -1;
	ASSERT_EQ(store_queue_depth(s, &n), 0);
	ASSERT_EQ(n, 0);
	char ids[5][STORE_ID_LEN + 1];
	for (int i = 0; i < 5; i++)
		put1(s, "{}", ids[i]);
	ASSERT_EQ(store_queue_depth(s, &n), 0);
	ASSERT_EQ(n, 5);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "a", 60000, &sub), 0);
	ASSERT_EQ(store_complete(s, sub.id, "a", "{}"), 0);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "a", 60000, &sub), 0);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "b", 200, &sub), 0);
	store_submission_free(&sub);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 2);
	ASSERT_EQ(count_of(s, STORE_RUNNING), 2);
	ASSERT_EQ(count_of(s, STORE_DONE), 1);
	ASSERT_EQ(store_queue_depth(s, &n), 0);
	ASSERT_EQ(n, 2);
	sleep_ms(300); /* b's lease expires: its job is claimable again */
	ASSERT_EQ(store_queue_depth(s, &n), 0);
	ASSERT_EQ(n, 3);
	ASSERT_EQ(store_count(s, (enum store_status)7, &n), -EINVAL);
	ASSERT_EQ(store_count(s, STORE_DONE, NULL), -EINVAL);
	ASSERT_EQ(store_queue_depth(s, NULL), -EINVAL);
	store_close(s);
}
TEST(store_count_and_queue_depth) { test_with_tmpdir(body_counts); }

/* ---- claim, renew, complete ---- */

static void body_claim(const char *dir)
{
	struct store *s = open_at(dir);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w1", 1000, &sub), STORE_EMPTY);
	char a[STORE_ID_LEN + 1], b[STORE_ID_LEN + 1];
	put1(s, "{\"a\":1}", a);
	put1(s, "{\"b\":1}", b);
	int64_t before = store_now_ms();
	ASSERT_EQ(store_claim(s, "w1", 30000, &sub), 0);
	ASSERT_STR(sub.id, a); /* oldest first */
	ASSERT_EQ(sub.status, STORE_RUNNING);
	ASSERT_STR(sub.owner, "w1");
	ASSERT_EQ(sub.attempts, 1);
	ASSERT_STR(sub.request_json, "{\"a\":1}");
	ASSERT_GE(sub.started_at, before);
	ASSERT_GE(sub.lease_expires, before + 30000);
	ASSERT_LE(sub.lease_expires, store_now_ms() + 30000);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "w2", 30000, &sub), 0);
	ASSERT_STR(sub.id, b);
	ASSERT_STR(sub.owner, "w2");
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "w3", 30000, &sub), STORE_EMPTY);
	ASSERT_EQ(sub.id[0], '\0');
	/* the stored row matches what claim returned */
	ASSERT_EQ(store_get(s, a, &sub), 0);
	ASSERT_STR(sub.owner, "w1");
	ASSERT_EQ(sub.attempts, 1);
	store_submission_free(&sub);
	store_close(s);
}
TEST(store_claim_oldest_first) { test_with_tmpdir(body_claim); }

/* Claims the next job and checks it is the one of request want. */
static void claim_expect(struct store *s, const char *want)
{
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	ASSERT_STR(sub.request_json, want);
	store_submission_free(&sub);
	sleep_ms(2); /* the next claim at a later millisecond */
}

static void body_claim_turns(const char *dir)
{
	/* scopes (API keys) take turns, the one served least recently first;
	 * within a scope, and without scopes, the oldest first */
	struct store *s = open_at(dir);
	const char *reqs[4] = { "{\"a\":1}", "{\"a\":2}", "{\"a\":3}", "{\"b\":1}" };
	const char *scopes[4] = { "A", "A", "A", "B" };
	char ids[4][STORE_ID_LEN + 1], id[STORE_ID_LEN + 1];
	ASSERT_EQ(store_put_batch(s, reqs, scopes, 4, ids), 0);
	put1(s, "{\"none\":1}", id);
	claim_expect(s, "{\"a\":1}"); /* none served yet: the oldest */
	claim_expect(s, "{\"b\":1}"); /* B never served */
	claim_expect(s, "{\"none\":1}");
	claim_expect(s, "{\"a\":2}");
	const char *more[2] = { "{\"a\":4}", "{\"b\":2}" };
	const char *more_scopes[2] = { "A", "B" };
	ASSERT_EQ(store_put_batch(s, more, more_scopes, 2, ids), 0);
	claim_expect(s, "{\"b\":2}"); /* B was served before A's last */
	claim_expect(s, "{\"a\":3}");
	claim_expect(s, "{\"a\":4}");
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), STORE_EMPTY);
	store_close(s);
}
TEST(store_claim_scopes_take_turns) { test_with_tmpdir(body_claim_turns); }

static void body_lease_handover(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	put_claimed(s, "old", 200, id);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "new", 60000, &sub), STORE_EMPTY); /* lease valid */
	sleep_ms(300);
	ASSERT_EQ(store_claim(s, "new", 60000, &sub), 0); /* dead worker's job */
	ASSERT_STR(sub.id, id);
	ASSERT_STR(sub.owner, "new");
	ASSERT_EQ(sub.attempts, 2);
	store_submission_free(&sub);
	/* the old worker lost it */
	ASSERT_EQ(store_renew(s, id, "old", 60000), -ESTALE);
	ASSERT_EQ(store_complete(s, id, "old", "{\"late\":1}"), -ESTALE);
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_EQ(sub.status, STORE_RUNNING);
	ASSERT_NULL(sub.result_json);
	store_submission_free(&sub);
	ASSERT_EQ(store_complete(s, id, "new", "{\"first\":1}"), 0);
	ASSERT_EQ(store_complete(s, id, "old", "{\"late\":1}"), STORE_ALREADY_DONE);
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_STR(sub.result_json, "{\"first\":1}");
	store_submission_free(&sub);
	store_close(s);
}
TEST(store_lease_expiry_handover) { test_with_tmpdir(body_lease_handover); }

static void body_renew(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1], missing[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w", 200, &sub), 0);
	int64_t first = sub.lease_expires;
	store_submission_free(&sub);
	ASSERT_EQ(store_renew(s, id, "w", 60000), 0);
	sleep_ms(300);
	ASSERT_EQ(store_claim(s, "other", 1000, &sub), STORE_EMPTY); /* still held */
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_GT(sub.lease_expires, first + 50000);
	store_submission_free(&sub);
	ASSERT_EQ(store_renew(s, id, "other", 1000), -ESTALE);
	ASSERT_EQ(store_id_new(missing), 0);
	ASSERT_EQ(store_renew(s, missing, "w", 1000), -ENOENT);
	ASSERT_EQ(store_complete(s, id, "w", "{}"), 0);
	ASSERT_EQ(store_renew(s, id, "w", 1000), -ESTALE); /* done: nothing to renew */
	store_close(s);
}
TEST(store_renew) { test_with_tmpdir(body_renew); }

static void body_complete(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1], queued[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	put1(s, "{}", queued);
	struct store_submission sub;
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	store_submission_free(&sub);
	int64_t before = store_now_ms();
	ASSERT_EQ(store_complete(s, id, "w", "{\"verdict\":\"accepted\"}"), 0);
	ASSERT_EQ(store_complete(s, id, "w", "{\"verdict\":\"wrong_answer\"}"),
		  STORE_ALREADY_DONE);
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_EQ(sub.status, STORE_DONE);
	ASSERT_STR(sub.result_json, "{\"verdict\":\"accepted\"}");
	ASSERT_GE(sub.finished_at, before);
	ASSERT_EQ(sub.lease_expires, 0);
	ASSERT_EQ(sub.attempts, 1);
	store_submission_free(&sub);
	/* a done job is never claimed again */
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	ASSERT_STR(sub.id, queued);
	store_submission_free(&sub);
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), STORE_EMPTY);
	store_close(s);
}
TEST(store_complete_idempotent) { test_with_tmpdir(body_complete); }

static void body_complete_queued(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	ASSERT_EQ(store_complete(s, id, "w", "{}"), -ESTALE); /* never claimed */
	store_close(s);
}
TEST(store_complete_unclaimed) { test_with_tmpdir(body_complete_queued); }

static void body_requeue(const char *dir)
{
	struct store *s = open_at(dir);
	char ids[3][STORE_ID_LEN + 1];
	for (int i = 0; i < 3; i++)
		put1(s, "{}", ids[i]);
	struct store_submission sub;
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
		store_submission_free(&sub);
	}
	ASSERT_EQ(store_complete(s, ids[2], "w", "{}"), 0);
	store_close(s);

	s = open_at(dir); /* the server restarts */
	int64_t n = -1;
	ASSERT_EQ(store_requeue_all_running(s, &n), 0);
	ASSERT_EQ(n, 2);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 2);
	ASSERT_EQ(count_of(s, STORE_DONE), 1);
	ASSERT_EQ(store_get(s, ids[0], &sub), 0);
	ASSERT_EQ(sub.status, STORE_QUEUED);
	ASSERT_NULL(sub.owner);
	ASSERT_EQ(sub.lease_expires, 0);
	store_submission_free(&sub);
	ASSERT_EQ(store_complete(s, ids[0], "w", "{}"), -ESTALE);
	ASSERT_EQ(store_claim(s, "w2", 60000, &sub), 0);
	ASSERT_STR(sub.id, ids[0]); /* order kept */
	ASSERT_EQ(sub.attempts, 2);
	store_submission_free(&sub);
	ASSERT_EQ(store_requeue_all_running(s, NULL), 0);
	store_close(s);
}
TEST(store_requeue_all_running) { test_with_tmpdir(body_requeue); }

/* A worker stopped before its job ended gives it back: queued again, and
 * the claim is not one of its attempts; only the holder may. */
static void body_release(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	ASSERT_EQ(put_claimed(s, "w", 60000, id), 1);
	struct store_submission sub;
	ASSERT_EQ(store_release(s, id, "other"), -ESTALE);
	ASSERT_EQ(store_release(s, id, "w"), 0);
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_EQ(sub.status, STORE_QUEUED);
	ASSERT_EQ(sub.attempts, 0);
	ASSERT_NULL(sub.owner);
	store_submission_free(&sub);
	ASSERT_EQ(store_release(s, id, "w"), -ESTALE);  /* not running any more */
	ASSERT_EQ(store_claim(s, "w2", 60000, &sub), 0);
	ASSERT_STR(sub.id, id);
	ASSERT_EQ(sub.attempts, 1);
	store_submission_free(&sub);
	ASSERT_EQ(store_complete(s, id, "w2", "{}"), 0);
	ASSERT_EQ(store_release(s, id, "w2"), -ESTALE);  /* done stays done */
	ASSERT_EQ(count_of(s, STORE_DONE), 1);
	store_close(s);
}
TEST(store_release) { test_with_tmpdir(body_release); }

/* ---- concurrency ---- */

enum { CJOBS = 200, CWORKERS = 4 };

/* Children, each with its own connection, claim until the queue is empty
 * and report each claimed id on a pipe; each job must be claimed exactly
 * once. */
static void body_concurrent(const char *dir)
{
	struct store *s = open_at(dir);
	static char reqs_buf[CJOBS][24];
	const char *reqs[CJOBS];
	static char ids[CJOBS][STORE_ID_LEN + 1];
	for (int i = 0; i < CJOBS; i++) {
		snprintf(reqs_buf[i], sizeof(reqs_buf[i]), "{\"n\":%d}", i);
		reqs[i] = reqs_buf[i];
	}
	ASSERT_EQ(store_put_batch(s, reqs, NULL, CJOBS, ids), 0);
	store_close(s); /* never carry a connection across fork */

	int p[2];
	ASSERT_EQ(pipe(p), 0);
	pid_t pids[CWORKERS];
	fflush(NULL);
	for (int w = 0; w < CWORKERS; w++) {
		pids[w] = fork();
		ASSERT_GE(pids[w], 0);
		if (pids[w] == 0) {
			close(p[0]);
			char owner[32];
			snprintf(owner, sizeof(owner), "worker-%d", w);
			struct store *cs = open_at(dir);
			for (;;) {
				struct store_submission sub;
				int r = store_claim(cs, owner, 60000, &sub);
				if (r == STORE_EMPTY)
					break;
				if (r != 0)
					FAIL("claim: %d %s", r, store_errmsg(cs));
				if (write(p[1], sub.id, STORE_ID_LEN) != STORE_ID_LEN)
					_exit(5);
				if (store_complete(cs, sub.id, owner, "{\"ok\":true}") != 0)
					FAIL("complete: %s", store_errmsg(cs));
				store_submission_free(&sub);
			}
			store_close(cs);
			_exit(0);
		}
	}
	close(p[1]);
	static char got[CJOBS * 2][STORE_ID_LEN + 1];
	int n = 0;
	char rec[STORE_ID_LEN];
	for (;;) {
		ssize_t k = read(p[0], rec, sizeof(rec));
		if (k == 0)
			break;
		ASSERT_EQ(k, STORE_ID_LEN); /* PIPE_BUF-atomic records */
		ASSERT_LT(n, CJOBS * 2);
		memcpy(got[n], rec, STORE_ID_LEN);
		got[n][STORE_ID_LEN] = '\0';
		n++;
	}
	close(p[0]);
	for (int w = 0; w < CWORKERS; w++) {
		int status;
		ASSERT_EQ(waitpid(pids[w], &status, 0), pids[w]);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_EQ(n, CJOBS);
	qsort(got, (size_t)n, sizeof(got[0]), cmp_id);
	qsort(ids, CJOBS, sizeof(ids[0]), cmp_id);
	for (int i = 0; i < CJOBS; i++)
		ASSERT_STR(got[i], ids[i]); /* each exactly once */
	s = open_at(dir);
	ASSERT_EQ(count_of(s, STORE_DONE), CJOBS);
	char path[256];
	db_path(dir, path, sizeof(path));
	ASSERT_EQ(raw_int(path, "SELECT max(attempts) FROM submissions"), 1);
	store_close(s);
}
TEST(store_concurrent_claims_forked) { test_with_tmpdir(body_concurrent); }

/* The server's shape in one process: one thread puts jobs on a fully
 * synced connection while three workers claim and complete them on their
 * own connections.  Each job is done exactly once, and no writer ever
 * waited in SQLite's busy handler: within a process they queue on the
 * store's mutex instead (store_lock_waits counts only other processes). */
enum { TJOBS = 300, TWORKERS = 3 };

struct threaded {
	const char *dir;
	pthread_mutex_t lock;
	char put_ids[TJOBS][STORE_ID_LEN + 1];
	char done_ids[TJOBS * 2][STORE_ID_LEN + 1];
	int nput, ndone;
	_Atomic int putting;
};

static void *threaded_putter(void *arg)
{
	struct threaded *t = arg;
	struct store *s = open_at(t->dir);
	for (int i = 0; i < TJOBS; i++) {
		char id[STORE_ID_LEN + 1], req[32];
		snprintf(req, sizeof(req), "{\"n\":%d}", i);
		put1(s, req, id);
		pthread_mutex_lock(&t->lock);
		memcpy(t->put_ids[t->nput++], id, sizeof(id));
		pthread_mutex_unlock(&t->lock);
	}
	store_close(s);
	t->putting = 0;
	return NULL;
}

static void *threaded_worker(void *arg)
{
	struct threaded *t = arg;
	char path[256], url[300], err[256] = "", owner[32];
	db_path(t->dir, path, sizeof(path));
	snprintf(url, sizeof(url), "sqlite:%s?sync=normal", path);
	snprintf(owner, sizeof(owner), "thread-%p", (void *)&owner);
	struct store *s = NULL;
	if (store_open(url, &s, err, sizeof(err)) != 0)
		FAIL("store_open(%s): %s", url, err);
	for (;;) {
		int still_putting = t->putting;
		struct store_submission sub;
		int r = store_claim(s, owner, 60000, &sub);
		if (r == STORE_EMPTY) {
			if (!still_putting)
				break;
			sched_yield();
			continue;
		}
		if (r != 0)
			FAIL("claim: %d %s", r, store_errmsg(s));
		if (store_complete(s, sub.id, owner, "{\"ok\":true}") != 0)
			FAIL("complete %s: %s", sub.id, store_errmsg(s));
		pthread_mutex_lock(&t->lock);
		if (t->ndone < TJOBS * 2)
			memcpy(t->done_ids[t->ndone++], sub.id, STORE_ID_LEN + 1);
		pthread_mutex_unlock(&t->lock);
		store_submission_free(&sub);
	}
	store_close(s);
	return NULL;
}

static void body_threaded(const char *dir)
{
	static struct threaded t;
	memset(&t, 0, sizeof(t));
	t.dir = dir;
	pthread_mutex_init(&t.lock, NULL);
	t.putting = 1;
	store_close(open_at(dir)); /* create and migrate first */
	uint64_t waits = store_lock_waits();
	pthread_t put, work[TWORKERS];
	ASSERT_EQ(pthread_create(&put, NULL, threaded_putter, &t), 0);
	for (int i = 0; i < TWORKERS; i++)
		ASSERT_EQ(pthread_create(&work[i], NULL, threaded_worker, &t), 0);
	pthread_join(put, NULL);
	for (int i = 0; i < TWORKERS; i++)
		pthread_join(work[i], NULL);
	ASSERT_EQ(t.nput, TJOBS);
	ASSERT_EQ(t.ndone, TJOBS);
	qsort(t.put_ids, TJOBS, sizeof(t.put_ids[0]), cmp_id);
	qsort(t.done_ids, TJOBS, sizeof(t.done_ids[0]), cmp_id);
	for (int i = 0; i < TJOBS; i++)
		ASSERT_STR(t.done_ids[i], t.put_ids[i]); /* each exactly once */
	struct store *s = open_at(dir);
	ASSERT_EQ(count_of(s, STORE_DONE), TJOBS);
	store_close(s);
	ASSERT_EQ(store_lock_waits() - waits, 0);
}
TEST(store_concurrent_threads_never_busy_wait) { test_with_tmpdir(body_threaded); }

/* ---- open, urls, migrations ---- */

static void body_urls(const char *dir)
{
	char url[300], err[256];
	struct store *s = NULL;
	snprintf(url, sizeof(url), "sqlite:%s/a.db", dir);
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	char id[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	store_close(s);
	snprintf(url, sizeof(url), "sqlite://%s/a.db", dir); /* same file */
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 1);
	store_close(s);
	snprintf(url, sizeof(url), "%s/a.db", dir);
	ASSERT_EQ(store_open(url, &s, err, sizeof(err)), 0);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 1);
	store_close(s);

	ASSERT_EQ(store_open("", &s, err, sizeof(err)), -EINVAL);
	ASSERT_NULL(s);
	ASSERT_EQ(store_open(NULL, &s, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(store_open("sqlite:", &s, err, sizeof(err)), -EINVAL);
	ASSERT_EQ(store_open("postgres://localhost/runcell", &s, err, sizeof(err)), -ENOTSUP);
	ASSERT_EQ(store_open("redis://localhost", &s, err, sizeof(err)), -EINVAL);
	ASSERT_TRUE(strstr(err, "redis") != NULL);
	snprintf(url, sizeof(url), "%s/no/such/dir/x.db", dir);
	ASSERT_LT(store_open(url, &s, err, sizeof(err)), 0);
	ASSERT_NULL(s);
	ASSERT_NE(err[0], '\0');
}
TEST(store_open_urls) { test_with_tmpdir(body_urls); }

static void body_migrations(const char *dir)
{
	char path[256], err[256];
	db_path(dir, path, sizeof(path));
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	put1(s, "{\"old\":1}", id);
	store_close(s);
	ASSERT_EQ(raw_int(path, "SELECT version FROM schema_version"), 2);
	ASSERT_EQ(raw_int(path, "SELECT count(*) FROM schema_version"), 1);

	/* reopening an existing v2 file migrates nothing and keeps the data */
	s = open_at(dir);
	struct store_submission sub;
	ASSERT_EQ(store_get(s, id, &sub), 0);
	ASSERT_STR(sub.request_json, "{\"old\":1}");
	store_submission_free(&sub);
	store_close(s);
	ASSERT_EQ(raw_int(path, "SELECT count(*) FROM schema_version"), 1);

	/* a file from a newer runcell is refused, and left alone */
	raw_sql(path, "UPDATE schema_version SET version = 99");
	s = NULL;
	ASSERT_EQ(store_open(path, &s, err, sizeof(err)), -EPROTO);
	ASSERT_NULL(s);
	ASSERT_TRUE(strstr(err, "v99") != NULL);
	ASSERT_EQ(raw_int(path, "SELECT version FROM schema_version"), 99);
}
TEST(store_migrations_existing_file) { test_with_tmpdir(body_migrations); }

static void body_migrate_v0(const char *dir)
{
	/* an existing SQLite file with unrelated tables and an empty version
	 * table (v0) is migrated to the last version, its other tables untouched */
	char path[256];
	db_path(dir, path, sizeof(path));
	raw_sql(path, "CREATE TABLE other (x INTEGER); INSERT INTO other VALUES (7);"
		      "CREATE TABLE schema_version (version INTEGER NOT NULL);");
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	put1(s, "{}", id);
	store_close(s);
	ASSERT_EQ(raw_int(path, "SELECT version FROM schema_version"), 2);
	ASSERT_EQ(raw_int(path, "SELECT x FROM other"), 7);
}
TEST(store_migrate_from_v0) { test_with_tmpdir(body_migrate_v0); }

static void body_migrate_v1(const char *dir)
{
	/* a v1 file (before submissions had a scope) keeps its submissions,
	 * each with no scope, and takes scoped ones after */
	char path[256];
	db_path(dir, path, sizeof(path));
	raw_sql(path, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
		      "INSERT INTO schema_version VALUES (1);"
		      "CREATE TABLE submissions (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
		      " id TEXT NOT NULL UNIQUE, status INTEGER NOT NULL, created_at INTEGER NOT NULL,"
		      " started_at INTEGER NOT NULL DEFAULT 0, finished_at INTEGER NOT NULL DEFAULT 0,"
		      " request TEXT NOT NULL, result TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
		      " owner TEXT, lease_expires INTEGER NOT NULL DEFAULT 0);"
		      "CREATE INDEX submissions_status ON submissions(status, seq);"
		      "INSERT INTO submissions (id, status, created_at, request) VALUES"
		      " ('0123456789abcdef0123456789abcdef', 0, 1, '{\"v1\":1}');");
	struct store *s = open_at(dir);
	struct store_submission sub;
	ASSERT_EQ(store_get(s, "0123456789abcdef0123456789abcdef", &sub), 0);
	ASSERT_STR(sub.request_json, "{\"v1\":1}");
	ASSERT_NULL(sub.scope);
	store_submission_free(&sub);
	const char *reqs[1] = { "{\"v2\":1}" };
	char ids[1][STORE_ID_LEN + 1];
	const char *scopes[1] = { "k" };
	ASSERT_EQ(store_put_batch(s, reqs, scopes, 1, ids), 0);
	ASSERT_EQ(store_get(s, ids[0], &sub), 0);
	ASSERT_STR(sub.scope, "k");
	store_submission_free(&sub);
	store_close(s);
	ASSERT_EQ(raw_int(path, "SELECT version FROM schema_version"), 2);
}
TEST(store_migrate_from_v1) { test_with_tmpdir(body_migrate_v1); }

static void body_garbage(const char *dir)
{
	char path[256], err[256] = "";
	db_path(dir, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	char junk[4096];
	memset(junk, 'x', sizeof(junk));
	ASSERT_EQ(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	struct store *s = NULL;
	ASSERT_EQ(store_open(path, &s, err, sizeof(err)), -EIO);
	ASSERT_NULL(s);
	ASSERT_TRUE(strstr(err, "not a database") != NULL);
}
TEST(store_open_not_a_database) { test_with_tmpdir(body_garbage); }

/* ---- bad inputs ---- */

static void body_bad_inputs(const char *dir)
{
	struct store *s = open_at(dir);
	char id[STORE_ID_LEN + 1];
	struct store_submission sub;
	ASSERT_EQ(store_put(s, NULL, id), -EINVAL);
	ASSERT_EQ(store_put(s, "", id), -EINVAL);
	ASSERT_EQ(store_put(s, "{}", NULL), -EINVAL);
	ASSERT_NE(store_errmsg(s)[0], '\0');
	put1(s, "{}", id);
	ASSERT_EQ(store_get(s, NULL, &sub), -EINVAL);
	ASSERT_EQ(store_get(s, "ABCDEF0123456789ABCDEF0123456789", &sub), -EINVAL);
	ASSERT_EQ(store_get(s, "' OR 1=1 --", &sub), -EINVAL);
	ASSERT_EQ(store_get(s, id, NULL), -EINVAL);
	ASSERT_EQ(store_claim(s, "", 1000, &sub), -EINVAL);
	ASSERT_EQ(store_claim(s, NULL, 1000, &sub), -EINVAL);
	char longowner[300];
	memset(longowner, 'w', sizeof(longowner) - 1);
	longowner[sizeof(longowner) - 1] = '\0';
	ASSERT_EQ(store_claim(s, longowner, 1000, &sub), -EINVAL);
	ASSERT_EQ(store_claim(s, "w", 0, &sub), -EINVAL);
	ASSERT_EQ(store_claim(s, "w", -5, &sub), -EINVAL);
	ASSERT_EQ(store_claim(s, "w", INT64_MAX, &sub), -EINVAL);
	ASSERT_EQ(store_claim(s, "w", 1000, NULL), -EINVAL);
	ASSERT_EQ(count_of(s, STORE_QUEUED), 1); /* nothing was claimed */
	ASSERT_EQ(store_claim(s, "w", 60000, &sub), 0);
	store_submission_free(&sub);
	ASSERT_EQ(store_renew(s, id, "w", 0), -EINVAL);
	ASSERT_EQ(store_renew(s, "bad", "w", 1000), -EINVAL);
	ASSERT_EQ(store_complete(s, id, "w", NULL), -EINVAL);
	ASSERT_EQ(store_complete(s, id, "w", ""), -EINVAL);
	ASSERT_EQ(store_complete(s, id, "", "{}"), -EINVAL);
	ASSERT_EQ(store_complete(s, "bad", "w", "{}"), -EINVAL);
	ASSERT_EQ(store_complete(s, id, "w", "{}"), 0);
	store_close(s);
	store_close(NULL);
}
TEST(store_bad_inputs) { test_with_tmpdir(body_bad_inputs); }
