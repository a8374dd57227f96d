/*
 * store_sqlite: the SQLite backend of the submission store (store.h).
 *
 * Durability: journal_mode=WAL with synchronous=FULL.  With WAL, NORMAL
 * already survives kill -9 of the process (a commit is in the WAL file in
 * the OS page cache when sqlite3_step returns), but a power loss or kernel
 * crash can lose the last commits.  A 201 from the API promises the
 * submission is kept, so every commit fsyncs the WAL (FULL); the cost is one
 * fsync per transaction, which put_batch amortizes over many submissions.
 * A handle opened with "?sync=normal" (the workers' claims and results)
 * skips the fsync: a power loss may then forget a claim or a result, and
 * the job simply runs again (delivery is at-least-once anyway).
 *
 * Concurrency: each handle is one connection; writers serialize on SQLite's
 * write lock.  Within one process they first queue on store_write_lock, a
 * mutex.  Without it they waited in SQLite's default busy handler, which
 * sleeps 1, 2, 5, 10 ms... between tries: under load (the API's writer
 * thread inserting while workers claim and complete) a third of the jobs
 * slept there.  A mutex hands the lock over the moment it is free.  A
 * handle's first statements (which read the schema) and its close (the
 * last one checkpoints and removes the WAL) queue on it too.  Writers
 * in other processes are still waited for by busy_wait, in steps of 0.1 ms
 * growing to 2 ms, for up to 5 s, and counted (store_lock_waits).
 * Every read-modify-write runs in BEGIN IMMEDIATE (the write lock is taken
 * before reading, so no two connections decide on the same snapshot), and
 * claim is a single UPDATE ... RETURNING, which takes the write lock before
 * it selects.
 *
 * Schema: table schema_version holds one row; migrations[i] moves a file
 * from version i to i+1 and runs at open in the same transaction as the
 * version bump.  A file with a newer version than this program knows is
 * refused (-EPROTO), never downgraded.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000
#define OWNER_MAX 255
#define LEASE_MAX_MS (7LL * 24 * 3600 * 1000)

/* Held by this process's writer from its first write statement to its
 * commit or rollback (see Concurrency above).  One for every database the
 * process has open: there is normally one, and none is written while
 * another's transaction is open. */
static pthread_mutex_t store_write_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_uint_fast64_t store_busy_waits;

uint64_t store_lock_waits(void) { return atomic_load(&store_busy_waits); }

/* SQLite's busy handler: tries is 0 at the first retry of a statement.
 * Sleeps 0.1, 0.2, 0.4, 0.8, 1.6 ms, then 2 ms at a time; gives up (the
 * call fails with SQLITE_BUSY, -ETIMEDOUT) once BUSY_TIMEOUT_MS has been
 * slept. */
static int busy_wait(void *unused, int tries)
{
	(void)unused;
	if (tries == 0)
		atomic_fetch_add(&store_busy_waits, 1);
	long slept_us = tries < 5 ? 100L * ((1L << tries) - 1) : 3100L + (tries - 5) * 2000L;
	if (slept_us >= BUSY_TIMEOUT_MS * 1000L)
		return 0;
	long us = tries < 5 ? 100L << tries : 2000L;
	struct timespec ts = {0, us * 1000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 1;
}

static const char *const migrations[] = {
	/* v0 -> v1 */
	"CREATE TABLE submissions ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" status INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" started_at INTEGER NOT NULL DEFAULT 0,"
	" finished_at INTEGER NOT NULL DEFAULT 0,"
	" request TEXT NOT NULL,"
	" result TEXT,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" owner TEXT,"
	" lease_expires INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX submissions_status ON submissions(status, seq);",
	/* v1 -> v2: whose a submission is (an API key's scope: its compile
	 * cache, and its turn in the queue) */
	"ALTER TABLE submissions ADD COLUMN scope TEXT;"
	"CREATE INDEX submissions_scope ON submissions(scope, started_at);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define COLS "id, status, created_at, started_at, finished_at, request, result, attempts, " \
	     "owner, lease_expires, scope"

#define STMT_CACHE 24

struct store_sqlite {
	struct store base; /* first: a struct store * is a struct store_sqlite * */
	sqlite3 *db;
	/* Prepared statements, kept for the life of the handle: parsing SQL
	 * cost more than running it.  Keyed by the SQL text's address (every
	 * statement is a literal). */
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STMT_CACHE];
};

/* ---- helpers shared by every backend ---- */

void store_submission_free(struct store_submission *s)
{
	if (!s)
		return;
	free(s->request_json);
	free(s->result_json);
	free(s->owner);
	free(s->scope);
	memset(s, 0, sizeof(*s));
}

const char *store_status_name(enum store_status st)
{
	switch (st) {
	case STORE_QUEUED: return "queued";
	case STORE_RUNNING: return "running";
	case STORE_DONE: return "done";
	}
	return "unknown";
}

bool store_id_valid(const char *id)
{
	if (!id)
		return false;
	for (int i = 0; i < STORE_ID_LEN; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return id[STORE_ID_LEN] == '\0';
}

int store_id_new(char id[STORE_ID_LEN + 1])
{
	unsigned char raw[STORE_ID_LEN / 2];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 15];
	}
	id[STORE_ID_LEN] = '\0';
	return 0;
}

int64_t store_now_ms(void)
{
	return clock_realtime_ms();
}

static int open_sqlite(const char *path, bool sync_full, struct store **out, char *err,
		       size_t errsz);

int store_open(const char *url, struct store **out, char *err, size_t errsz)
{
	if (out)
		*out = NULL;
	if (!url || !*url || !out) {
		snprintf(err, errsz, "store: empty url");
		return -EINVAL;
	}
	if (strncmp(url, "sqlite:", 7) == 0) {
		const char *path = url + 7;
		if (strncmp(path, "//", 2) == 0) /* sqlite:///abs/path */
			path += 2;
		const char *q = strrchr(path, '?');
		if (!q)
			return store_open_sqlite(path, out, err, errsz);
		bool full = strcmp(q, "?sync=full") == 0;
		if (!full && strcmp(q, "?sync=normal") != 0) {
			snprintf(err, errsz, "store: unknown option \"%s\" (sync=full or sync=normal)", q);
			return -EINVAL;
		}
		char *p = strndup(path, (size_t)(q - path));
		if (!p) {
			snprintf(err, errsz, "store: out of memory");
			return -ENOMEM;
		}
		int r = open_sqlite(p, full, out, err, errsz);
		free(p);
		return r;
	}
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
		snprintf(err, errsz, "store: the PostgreSQL backend is not built yet");
		return -ENOTSUP;
	}
	if (strstr(url, "://")) {
		snprintf(err, errsz, "store: unknown store url scheme in \"%s\"", url);
		return -EINVAL;
	}
	return store_open_sqlite(url, out, err, errsz);
}

/* ---- errors ---- */

__attribute__((format(printf, 3, 4))) static int fail(struct store_sqlite *ss, int code,
						       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ss->base.errmsg, sizeof(ss->base.errmsg), fmt, ap);
	va_end(ap);
	return code;
}

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -ETIMEDOUT;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	default: return -EIO;
	}
}

/* A failed SQLite call: code from rc, message from the connection. */
static int fail_db(struct store_sqlite *ss, int rc, const char *what)
{
	return fail(ss, map_rc(rc), "sqlite: %s: %s", what, sqlite3_errmsg(ss->db));
}

static int exec(struct store_sqlite *ss, const char *sql)
{
	int rc = sqlite3_exec(ss->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail_db(ss, rc, sql);
}

static int prepare(struct store_sqlite *ss, const char *sql, sqlite3_stmt **st);
static int release(struct store_sqlite *ss, sqlite3_stmt *st);

/* One statement without results, through the statement cache. */
static int exec_cached(struct store_sqlite *ss, const char *sql)
{
	sqlite3_stmt *st;
	int r = prepare(ss, sql, &st);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	int rc2 = release(ss, st);
	if (rc != SQLITE_DONE)
		return fail_db(ss, rc2 != SQLITE_OK ? rc2 : rc, sql);
	return 0;
}

/* Opens a write transaction; end_tx closes it.  On failure nothing is
 * held. */
static int begin_immediate(struct store_sqlite *ss)
{
	pthread_mutex_lock(&store_write_lock);
	int r = exec_cached(ss, "BEGIN IMMEDIATE");
	if (r < 0)
		pthread_mutex_unlock(&store_write_lock);
	return r;
}

static int commit(struct store_sqlite *ss) { return exec_cached(ss, "COMMIT"); }

static void rollback(struct store_sqlite *ss)
{
	if (!sqlite3_get_autocommit(ss->db))
		sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Ends a transaction: commits after success (r == 0), else rolls back,
 * a positive r (STORE_ALREADY_DONE) included.  Returns r or the commit's
 * error. */
static int finish_tx(struct store_sqlite *ss, int r)
{
	if (r == 0)
		r = commit(ss);
	if (r != 0)
		rollback(ss);
	return r;
}

/* The same for a transaction begin_immediate opened: also lets the next
 * writer of this process in. */
static int end_tx(struct store_sqlite *ss, int r)
{
	r = finish_tx(ss, r);
	pthread_mutex_unlock(&store_write_lock);
	return r;
}

static int prepare(struct store_sqlite *ss, const char *sql, sqlite3_stmt **st)
{
	size_t i = 0;
	for (; i < STMT_CACHE && ss->stmts[i].sql; i++)
		if (ss->stmts[i].sql == sql) {
			*st = ss->stmts[i].st;
			sqlite3_clear_bindings(*st);
			return 0;
		}
	int rc = sqlite3_prepare_v3(ss->db, sql, -1, i < STMT_CACHE ? SQLITE_PREPARE_PERSISTENT : 0,
				    st, NULL);
	if (rc != SQLITE_OK)
		return fail_db(ss, rc, "prepare");
	if (i < STMT_CACHE) {
		ss->stmts[i].sql = sql;
		ss->stmts[i].st = *st;
	}
	return 0;
}

/* Ends a statement from prepare(): reset if cached, else finalized.
 * Returns what sqlite3_finalize would (the last step's error). */
static int release(struct store_sqlite *ss, sqlite3_stmt *st)
{
	for (size_t i = 0; i < STMT_CACHE && ss->stmts[i].sql; i++)
		if (ss->stmts[i].st == st)
			return sqlite3_reset(st);
	return sqlite3_finalize(st);
}

static void stmt_cache_free(struct store_sqlite *ss)
{
	for (size_t i = 0; i < STMT_CACHE && ss->stmts[i].sql; i++)
		sqlite3_finalize(ss->stmts[i].st);
	memset(ss->stmts, 0, sizeof(ss->stmts));
}

static int check_id(struct store_sqlite *ss, const char *id)
{
	return store_id_valid(id) ? 0 : fail(ss, -EINVAL, "store: malformed submission id");
}

static int check_owner(struct store_sqlite *ss, const char *owner)
{
	if (!owner || !*owner || strlen(owner) > OWNER_MAX)
		return fail(ss, -EINVAL, "store: worker id must be 1..%d bytes", OWNER_MAX);
	return 0;
}

static int check_lease(struct store_sqlite *ss, int64_t lease_ms)
{
	if (lease_ms <= 0 || lease_ms > LEASE_MAX_MS)
		return fail(ss, -EINVAL, "store: lease must be 1..%lld ms", (long long)LEASE_MAX_MS);
	return 0;
}

static char *dup_col(sqlite3_stmt *st, int col, bool *oom)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	const unsigned char *t = sqlite3_column_text(st, col);
	char *s = t ? strdup((const char *)t) : NULL;
	if (!s)
		*oom = true;
	return s;
}

/* Reads a row of COLS into out. */
static int read_row(struct store_sqlite *ss, sqlite3_stmt *st, struct store_submission *out)
{
	bool oom = false;
	memset(out, 0, sizeof(*out));
	const unsigned char *id = sqlite3_column_text(st, 0);
	snprintf(out->id, sizeof(out->id), "%s", id ? (const char *)id : "");
	out->status = (enum store_status)sqlite3_column_int(st, 1);
	out->created_at = sqlite3_column_int64(st, 2);
	out->started_at = sqlite3_column_int64(st, 3);
	out->finished_at = sqlite3_column_int64(st, 4);
	out->request_json = dup_col(st, 5, &oom);
	out->result_json = dup_col(st, 6, &oom);
	out->attempts = sqlite3_column_int(st, 7);
	out->owner = dup_col(st, 8, &oom);
	out->lease_expires = sqlite3_column_int64(st, 9);
	out->scope = dup_col(st, 10, &oom);
	if (oom || !out->request_json) {
		store_submission_free(out);
		return fail(ss, -ENOMEM, "store: out of memory");
	}
	return 0;
}

/* ---- open, migrate, close ---- */

/* A database without runcell's schema_version table must hold no table
 * at all: runcell never takes over (and changes) another program's file. */
static int check_ours(struct store_sqlite *ss)
{
	sqlite3_stmt *st;
	int r = prepare(ss, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
			"name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name != 'schema_version'", &st);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	char first[64] = "";
	if (rc == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);
		snprintf(first, sizeof(first), "%s", name ? (const char *)name : "");
	}
	release(ss, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail_db(ss, rc, "reading the list of tables");
	if (rc == SQLITE_ROW && strcmp(first, "schema_version"))
		return fail(ss, -EPROTO, "store: not a runcell database (it holds a table %s "
			    "that runcell did not create); use another data directory", first);
	return 0;
}

static int migrate(struct store_sqlite *ss)
{
	int r = begin_immediate(ss);
	if (r < 0)
		return r;
	r = exec(ss, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
	if (r < 0)
		goto out;
	sqlite3_stmt *st;
	if ((r = prepare(ss, "SELECT max(version) FROM schema_version", &st)) < 0)
		goto out;
	int rc = sqlite3_step(st);
	int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0; /* NULL -> 0 */
	release(ss, st);
	if (rc != SQLITE_ROW) {
		r = fail_db(ss, rc, "reading the schema version");
		goto out;
	}
	if (version > SCHEMA_VERSION) {
		r = fail(ss, -EPROTO,
			 "store: database schema v%d is newer than this runcell (v%d)", version,
			 SCHEMA_VERSION);
		goto out;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		if ((r = exec(ss, migrations[v])) < 0)
			goto out;
	}
	if (version < SCHEMA_VERSION) {
		char sql[96];
		snprintf(sql, sizeof(sql), "DELETE FROM schema_version;"
			 "INSERT INTO schema_version VALUES (%d)", SCHEMA_VERSION);
		if ((r = exec(ss, sql)) < 0)
			goto out;
	}
out:
	return end_tx(ss, r);
}

static const struct store_ops sqlite_ops;

/* The last handle on a database to close takes it whole for a moment
 * (to checkpoint and remove the WAL): a handle of this process opening
 * then would wait in busy_wait, so closing queues with the writers too. */
static void close_handle(struct store_sqlite *ss)
{
	stmt_cache_free(ss);
	pthread_mutex_lock(&store_write_lock);
	sqlite3_close(ss->db);
	pthread_mutex_unlock(&store_write_lock);
	free(ss);
}

/* WAL (journal_mode answers with the mode in force: check it is WAL) and
 * the fsync policy. */
static int open_pragmas(struct store_sqlite *ss, const char *path, bool sync_full)
{
	sqlite3_stmt *st;
	int r = check_ours(ss);  /* before WAL mode changes the file */
	if (r < 0)
		return r;
	r = prepare(ss, "PRAGMA journal_mode=WAL", &st);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	bool wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
		   strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	release(ss, st);
	if (rc != SQLITE_ROW)
		return fail_db(ss, rc, path);
	if (!wal)
		return fail(ss, -EIO, "store: %s: cannot switch to WAL mode", path);
	return exec(ss, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

int store_open_sqlite(const char *path, struct store **out, char *err, size_t errsz)
{
	return open_sqlite(path, true, out, err, errsz);
}

static int open_sqlite(const char *path, bool sync_full, struct store **out, char *err,
		       size_t errsz)
{
	*out = NULL;
	if (!path || !*path) {
		snprintf(err, errsz, "store: empty sqlite path");
		return -EINVAL;
	}
	struct store_sqlite *ss = calloc(1, sizeof(*ss));
	if (!ss) {
		snprintf(err, errsz, "store: out of memory");
		return -ENOMEM;
	}
	ss->base.ops = &sqlite_ops;
	int r = 0;
	int rc = sqlite3_open_v2(path, &ss->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = ss->db ? fail_db(ss, rc, path) : fail(ss, -ENOMEM, "store: out of memory");
		goto fail;
	}
	sqlite3_busy_handler(ss->db, busy_wait, NULL);
	/* The first statements of a handle read the schema, which takes the
	 * database's locks: they queue with this process's writers and
	 * closers, or a handle opened meanwhile would wait in busy_wait (seen
	 * in ~1 of 10 runs of store_concurrent_threads_never_busy_wait). */
	pthread_mutex_lock(&store_write_lock);
	r = open_pragmas(ss, path, sync_full);
	pthread_mutex_unlock(&store_write_lock);
	if (r < 0)
		goto fail;
	if ((r = migrate(ss)) < 0)
		goto fail;
	*out = &ss->base;
	return 0;
fail:
	if (strstr(ss->base.errmsg, path))
		snprintf(err, errsz, "%s", ss->base.errmsg);
	else
		snprintf(err, errsz, "%s (%s)", ss->base.errmsg, path);
	close_handle(ss);
	return r;
}

static void sq_close(struct store *s)
{
	close_handle((struct store_sqlite *)s);
}

/* ---- operations ---- */

/* One INSERT (in the caller's transaction or autocommit). */
static int insert_one(struct store_sqlite *ss, sqlite3_stmt *st, const char *req,
		      const char *scope, char id[STORE_ID_LEN + 1])
{
	if (!req || !*req)
		return fail(ss, -EINVAL, "store: empty request");
	if (scope && (!*scope || strlen(scope) > STORE_SCOPE_MAX))
		return fail(ss, -EINVAL, "store: bad scope");
	for (int tries = 0;; tries++) {
		int r = store_id_new(id);
		if (r < 0)
			return fail(ss, r, "store: getrandom: %s", strerror(-r));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, STORE_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, store_now_ms());
		sqlite3_bind_text(st, 3, req, -1, SQLITE_STATIC);
		if (scope)
			sqlite3_bind_text(st, 4, scope, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			return 0;
		/* A 128-bit collision: draw again (a second one means a bug). */
		if (rc != SQLITE_CONSTRAINT || tries > 0)
			return fail_db(ss, rc, "insert");
	}
}

#define INSERT_SQL "INSERT INTO submissions (id, status, created_at, request, scope) " \
		   "VALUES (?1, 0, ?2, ?3, ?4)"

static int sq_put(struct store *s, const char *req, char id_out[STORE_ID_LEN + 1])
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (!id_out)
		return fail(ss, -EINVAL, "store: NULL id_out");
	sqlite3_stmt *st;
	int r = prepare(ss, INSERT_SQL, &st);
	if (r < 0)
		return r;
	pthread_mutex_lock(&store_write_lock);
	r = insert_one(ss, st, req, NULL, id_out);
	release(ss, st);
	pthread_mutex_unlock(&store_write_lock);
	return r;
}

static int sq_put_batch(struct store *s, const char *const *reqs, const char *const *scopes,
			size_t n, char (*ids)[STORE_ID_LEN + 1])
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (n && (!reqs || !ids))
		return fail(ss, -EINVAL, "store: NULL batch");
	if (n == 0)
		return 0;
	int r = begin_immediate(ss);
	if (r < 0)
		return r;
	sqlite3_stmt *st;
	if ((r = prepare(ss, INSERT_SQL, &st)) == 0) {
		for (size_t i = 0; i < n && r == 0; i++)
			r = insert_one(ss, st, reqs[i], scopes ? scopes[i] : NULL, ids[i]);
		release(ss, st);
	}
	return end_tx(ss, r);
}

static int get_one(struct store_sqlite *ss, const char *id, struct store_submission *out)
{
	sqlite3_stmt *st;
	int r = prepare(ss, "SELECT " COLS " FROM submissions WHERE id = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = read_row(ss, st, out);
	else if (rc == SQLITE_DONE)
		r = fail(ss, -ENOENT, "store: no submission %s", id);
	else
		r = fail_db(ss, rc, "get");
	release(ss, st);
	return r;
}

static int sq_get(struct store *s, const char *id, struct store_submission *out)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_id(ss, id);
	if (r < 0)
		return r;
	if (!out)
		return fail(ss, -EINVAL, "store: NULL out");
	return get_one(ss, id, out);
}

static int sq_get_many(struct store *s, const char *const *ids, size_t n,
		       struct store_submission *out)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (n && (!ids || !out))
		return fail(ss, -EINVAL, "store: NULL ids");
	for (size_t i = 0; i < n; i++) {
		int r = check_id(ss, ids[i]);
		if (r < 0)
			return r;
	}
	if (n)
		memset(out, 0, n * sizeof(*out));
	int r = exec_cached(ss, "BEGIN"); /* one snapshot for all */
	if (r < 0)
		return r;
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		r = get_one(ss, ids[i], &out[i]);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			break;
		found++;
	}
	if (r == -ENOENT)
		r = 0;
	r = finish_tx(ss, r);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			store_submission_free(&out[i]);
		return r;
	}
	ss->base.errmsg[0] = '\0';
	return found;
}

/* Status and lease of id, in the current transaction: 0, -ENOENT or error. */
static int row_state(struct store_sqlite *ss, const char *id, int *status, int64_t *lease,
		     char *owner, size_t ownersz)
{
	sqlite3_stmt *st;
	int r = prepare(ss, "SELECT status, lease_expires, owner FROM submissions WHERE id = ?1",
			&st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*status = sqlite3_column_int(st, 0);
		*lease = sqlite3_column_int64(st, 1);
		const unsigned char *o = sqlite3_column_text(st, 2);
		snprintf(owner, ownersz, "%s", o ? (const char *)o : "");
	} else if (rc == SQLITE_DONE) {
		r = fail(ss, -ENOENT, "store: no submission %s", id);
	} else {
		r = fail_db(ss, rc, "select");
	}
	release(ss, st);
	return r;
}

/* Runs one bound-by-caller write statement to completion. */
static int step_done(struct store_sqlite *ss, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	release(ss, st);
	return rc == SQLITE_DONE ? 0 : fail_db(ss, rc, what);
}

static int sq_delete(struct store *s, const char *id)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_id(ss, id);
	if (r < 0 || (r = begin_immediate(ss)) < 0)
		return r;
	int status = 0;
	int64_t lease = 0;
	char owner[OWNER_MAX + 1];
	if ((r = row_state(ss, id, &status, &lease, owner, sizeof(owner))) < 0)
		goto out;
	if (status == STORE_RUNNING && lease > store_now_ms()) {
		r = fail(ss, -EBUSY, "store: submission %s is running", id);
		goto out;
	}
	sqlite3_stmt *st;
	if ((r = prepare(ss, "DELETE FROM submissions WHERE id = ?1", &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((r = step_done(ss, st, "delete")) < 0)
		goto out;
out:
	return end_tx(ss, r);
}

static int scalar(struct store_sqlite *ss, const char *sql, int64_t a, int64_t *out)
{
	sqlite3_stmt *st;
	int r = prepare(ss, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		r = fail_db(ss, rc, "count");
	release(ss, st);
	return r;
}

static int sq_count(struct store *s, enum store_status stt, int64_t *out)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (!out || (stt != STORE_QUEUED && stt != STORE_RUNNING && stt != STORE_DONE))
		return fail(ss, -EINVAL, "store: bad status");
	return scalar(ss, "SELECT count(*) FROM submissions WHERE status = ?1", stt, out);
}

static int sq_queue_depth(struct store *s, int64_t *out)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (!out)
		return fail(ss, -EINVAL, "store: NULL out");
	return scalar(ss,
		      "SELECT count(*) FROM submissions WHERE status = 0 "
		      "OR (status = 1 AND lease_expires <= ?1)",
		      store_now_ms(), out);
}

static int sq_claim(struct store *s, const char *owner, int64_t lease_ms,
		    struct store_submission *out)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_owner(ss, owner);
	if (r < 0 || (r = check_lease(ss, lease_ms)) < 0)
		return r;
	if (!out)
		return fail(ss, -EINVAL, "store: NULL out");
	memset(out, 0, sizeof(*out));
	/* One statement: it takes the write lock before the subquery reads,
	 * so two claimers cannot pick the same row.  Scopes take turns: of
	 * each scope's oldest claimable submission, the one whose scope was
	 * served least recently goes first (a scope never served: 0), then
	 * the oldest.  Without scopes this is first in, first out. */
	sqlite3_stmt *st;
	r = prepare(ss,
		    "UPDATE submissions SET status = 1, owner = ?1, started_at = ?2,"
		    " lease_expires = ?2 + ?3, attempts = attempts + 1"
		    " WHERE seq = (SELECT q.seq FROM submissions q WHERE q.seq IN"
		    " (SELECT min(seq) FROM submissions WHERE status = 0"
		    " OR (status = 1 AND lease_expires <= ?2) GROUP BY scope)"
		    " ORDER BY (SELECT max(r.started_at) FROM submissions r"
		    " WHERE r.scope IS q.scope), q.seq LIMIT 1)"
		    " RETURNING " COLS,
		    &st);
	if (r < 0)
		return r;
	pthread_mutex_lock(&store_write_lock);
	int64_t now = store_now_ms();
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, lease_ms);
	int rc = sqlite3_step(st);
	bool got = false;
	if (rc == SQLITE_ROW) {
		r = read_row(ss, st, out);
		got = r == 0;
		rc = sqlite3_step(st); /* finishes (and commits) the statement */
	}
	if (rc != SQLITE_DONE && r == 0)
		r = fail_db(ss, rc, "claim");
	rc = release(ss, st);
	pthread_mutex_unlock(&store_write_lock);
	if (rc != SQLITE_OK && r == 0)
		r = fail_db(ss, rc, "claim");
	if (r < 0) {
		if (got)
			store_submission_free(out);
		return r;
	}
	return got ? 0 : STORE_EMPTY;
}

static int sq_renew(struct store *s, const char *id, const char *owner, int64_t lease_ms)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_id(ss, id);
	if (r < 0 || (r = check_owner(ss, owner)) < 0 || (r = check_lease(ss, lease_ms)) < 0)
		return r;
	if ((r = begin_immediate(ss)) < 0)
		return r;
	int status = 0;
	int64_t lease = 0;
	char cur[OWNER_MAX + 1];
	if ((r = row_state(ss, id, &status, &lease, cur, sizeof(cur))) < 0)
		goto out;
	if (status != STORE_RUNNING || strcmp(cur, owner) != 0) {
		r = fail(ss, -ESTALE, "store: %s does not hold submission %s", owner, id);
		goto out;
	}
	sqlite3_stmt *st;
	if ((r = prepare(ss, "UPDATE submissions SET lease_expires = ?2 WHERE id = ?1", &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now_ms() + lease_ms);
	if ((r = step_done(ss, st, "renew")) < 0)
		goto out;
out:
	return end_tx(ss, r);
}

static int sq_release(struct store *s, const char *id, const char *owner)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_id(ss, id);
	if (r < 0 || (r = check_owner(ss, owner)) < 0)
		return r;
	sqlite3_stmt *st;
	if ((r = begin_immediate(ss)) < 0)
		return r;
	if ((r = prepare(ss, "UPDATE submissions SET status = 0, owner = NULL, lease_expires = 0,"
			     " started_at = 0, attempts = max(attempts - 1, 0)"
			     " WHERE id = ?1 AND owner = ?2 AND status = 1", &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	if ((r = step_done(ss, st, "release")) < 0)
		goto out;
	if (sqlite3_changes(ss->db) == 0)
		r = fail(ss, -ESTALE, "store: %s does not hold submission %s", owner, id);
out:
	return end_tx(ss, r);
}

static int sq_complete(struct store *s, const char *id, const char *owner, const char *result)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	int r = check_id(ss, id);
	if (r < 0 || (r = check_owner(ss, owner)) < 0)
		return r;
	if (!result || !*result)
		return fail(ss, -EINVAL, "store: empty result");
	if ((r = begin_immediate(ss)) < 0)
		return r;
	int status = 0;
	int64_t lease = 0;
	char cur[OWNER_MAX + 1];
	if ((r = row_state(ss, id, &status, &lease, cur, sizeof(cur))) < 0)
		goto out;
	if (status == STORE_DONE) {
		r = STORE_ALREADY_DONE;
		snprintf(ss->base.errmsg, sizeof(ss->base.errmsg),
			 "store: submission %s already has a result", id);
		goto out;
	}
	if (status != STORE_RUNNING || strcmp(cur, owner) != 0) {
		r = fail(ss, -ESTALE, "store: %s does not hold submission %s", owner, id);
		goto out;
	}
	sqlite3_stmt *st;
	if ((r = prepare(ss,
			 "UPDATE submissions SET status = 2, result = ?2, finished_at = ?3,"
			 " lease_expires = 0 WHERE id = ?1",
			 &st)) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, result, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, store_now_ms());
	if ((r = step_done(ss, st, "complete")) < 0)
		goto out;
out:
	return end_tx(ss, r); /* nothing written on ALREADY_DONE either */
}

static int sq_requeue_all_running(struct store *s, int64_t *n)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	pthread_mutex_lock(&store_write_lock);
	int r = exec(ss, "UPDATE submissions SET status = 0, owner = NULL, lease_expires = 0,"
			 " started_at = 0 WHERE status = 1");
	int64_t changed = sqlite3_changes(ss->db);
	pthread_mutex_unlock(&store_write_lock);
	if (r < 0)
		return r;
	if (n)
		*n = changed;
	return 0;
}

static int sq_list(struct store *s, int status, size_t max, struct store_summary *out,
		   size_t *n)
{
	struct store_sqlite *ss = (struct store_sqlite *)s;
	if (!n || (max && !out) || status > STORE_DONE)
		return fail(ss, -EINVAL, "store: bad list arguments");
	*n = 0;
	sqlite3_stmt *st;
	/* json_extract reads the two short fields without loading whole
	 * requests and results (up to megabytes each) into memory. */
	int r = prepare(ss,
			"SELECT id, status, created_at, finished_at,"
			" json_extract(request, '$.language'), json_extract(result, '$.verdict')"
			" FROM submissions WHERE ?1 < 0 OR status = ?1 ORDER BY seq DESC LIMIT ?2",
			&st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, status);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		struct store_summary *o = &out[*n];
		memset(o, 0, sizeof(*o));
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(o->id, sizeof(o->id), "%s", t ? (const char *)t : "");
		o->status = (enum store_status)sqlite3_column_int(st, 1);
		o->created_at = sqlite3_column_int64(st, 2);
		o->finished_at = sqlite3_column_int64(st, 3);
		t = sqlite3_column_text(st, 4);
		snprintf(o->language, sizeof(o->language), "%s", t ? (const char *)t : "");
		t = sqlite3_column_text(st, 5);
		snprintf(o->verdict, sizeof(o->verdict), "%s", t ? (const char *)t : "");
		(*n)++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = fail_db(ss, rc, "list");
	release(ss, st);
	return r;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.put = sq_put,
	.put_batch = sq_put_batch,
	.get = sq_get,
	.get_many = sq_get_many,
	.del = sq_delete,
	.count = sq_count,
	.queue_depth = sq_queue_depth,
	.claim = sq_claim,
	.renew = sq_renew,
	.complete = sq_complete,
	.release = sq_release,
	.list = sq_list,
	.requeue_all_running = sq_requeue_all_running,
};
