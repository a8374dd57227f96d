/*
 * Unit tests for judge/cache: round trips, misses, corrupt and foreign
 * entries, symlinks, LRU eviction, concurrent puts from forked children,
 * key hashing.  Each case works in its own directory under /tmp, which is
 * removed afterwards even when an assertion fails (the body runs in a
 * child, the parent cleans up).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "judge/cache.h"
#include "test.h"

/* ---- scaffolding ---- */


static void key_of(const char *s, char key[65])
{
	struct cache_part p = { s, strlen(s) };
	cache_key(&p, 1, key);
}

static void entry_path(const char *dir, const char *key, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/%.2s/%s", dir, key, key);
}

static struct cache_file mkfile(const char *name, mode_t mode, const void *data, size_t len)
{
	struct cache_file f;
	f.name = (char *)name;
	f.mode = mode;
	buf_init(&f.data, 0);
	if (buf_append(&f.data, data, len) < 0)
		FAIL("buf_append");
	return f;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static size_t file_size(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		FAIL("lstat %s: %s", path, strerror(errno));
	return (size_t)st.st_size;
}

static void read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	char tmp[4096];
	ssize_t r;
	while ((r = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(b, tmp, (size_t)r);
	close(fd);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len)
		FAIL("write %s", path);
	close(fd);
}

/* ---- round trip, miss, argument checks ---- */

static void body_round_trip(const char *dir)
{
	struct cache *c;
	ASSERT_EQ(cache_open(dir, 1 << 20, &c), 0);
	unsigned char bin[3000];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 131 + 7); /* NULs included */
	struct cache_file files[4] = {
		mkfile("main", 0755, bin, sizeof(bin)),
		mkfile("Main.class", 0644, "\xca\xfe\xba\xbe", 4),
		mkfile("empty", 0600, "", 0),
		mkfile("suid", 04755, "x", 1),
	};
	char key[65];
	key_of("round trip", key);
	ASSERT_EQ(cache_put(c, key, files, 4), 0);

	struct cache_entry e;
	ASSERT_EQ(cache_get(c, key, &e), 0);
	ASSERT_EQ(e.nfiles, 4);
	static const mode_t want_mode[4] = { 0755, 0644, 0600, 0755 };
	for (size_t i = 0; i < 4; i++) {
		ASSERT_STR(e.files[i].name, files[i].name);
		ASSERT_EQ(e.files[i].mode, want_mode[i]);
		ASSERT_MEM(e.files[i].data.data, e.files[i].data.len, files[i].data.data,
			   files[i].data.len);
		ASSERT_NOT_NULL(e.files[i].data.data);
	}
	cache_entry_free(&e);
	ASSERT_EQ(e.nfiles, 0);

	/* A second put of the same key replaces the entry. */
	ASSERT_EQ(cache_put(c, key, &files[1], 1), 0);
	ASSERT_EQ(cache_get(c, key, &e), 0);
	ASSERT_EQ(e.nfiles, 1);
	ASSERT_STR(e.files[0].name, "Main.class");
	cache_entry_free(&e);

	/* Zero files is a valid entry. */
	char key0[65];
	key_of("zero", key0);
	ASSERT_EQ(cache_put(c, key0, NULL, 0), 0);
	ASSERT_EQ(cache_get(c, key0, &e), 0);
	ASSERT_EQ(e.nfiles, 0);
	cache_entry_free(&e);

	/* Survives close and reopen; no temporaries left. */
	cache_close(c);
	ASSERT_EQ(cache_open(dir, 1 << 20, &c), 0);
	ASSERT_EQ(cache_get(c, key, &e), 0);
	cache_entry_free(&e);
	char path[512];
	snprintf(path, sizeof(path), "%s/%.2s", dir, key);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c tmp", path);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	char line[64] = "";
	ASSERT_NOT_NULL(fgets(line, sizeof(line), p));
	pclose(p);
	ASSERT_STR(line, "0\n");

	for (size_t i = 0; i < 4; i++)
		buf_free(&files[i].data);
	cache_close(c);
}

TEST(cache_round_trip)
{
	test_with_tmpdir(body_round_trip);
}

static void body_miss_and_args(const char *dir)
{
	char sub[512];
	snprintf(sub, sizeof(sub), "%s/a/b/c", dir); /* created with parents */
	struct cache *c;
	ASSERT_EQ(cache_open(sub, 10000, &c), 0);
	char key[65];
	key_of("nothing here", key);
	struct cache_entry e;
	ASSERT_EQ(cache_get(c, key, &e), -ENOENT);
	ASSERT_EQ(e.nfiles, 0);

	static const char *const bad_keys[] = {
		"",
		"abc",
		"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
		"g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"../c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"e3/0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	};
	struct cache_file f = mkfile("x", 0644, "y", 1);
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		ASSERT_EQ(cache_get(c, bad_keys[i], &e), -EINVAL);
		ASSERT_EQ(cache_put(c, bad_keys[i], &f, 1), -EINVAL);
	}
	ASSERT_EQ(cache_get(c, NULL, &e), -EINVAL);

	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const char *bad_names[] = { "", ".", "..", "a/b", "/abs", "dir/", longname };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		struct cache_file g = f;
		g.name = (char *)bad_names[i];
		ASSERT_EQ(cache_put(c, key, &g, 1), -EINVAL);
	}
	longname[255] = '\0'; /* 255 is allowed */
	struct cache_file g = f;
	g.name = longname;
	ASSERT_EQ(cache_put(c, key, &g, 1), 0);
	ASSERT_EQ(cache_get(c, key, &e), 0);
	ASSERT_STR(e.files[0].name, longname);
	cache_entry_free(&e);
	/* Names with dots inside are fine; duplicates are not. */
	struct cache_file two[2] = { f, f };
	two[0].name = "a..b";
	two[1].name = ".hidden";
	ASSERT_EQ(cache_put(c, key, two, 2), 0);
	two[1].name = "a..b";
	ASSERT_EQ(cache_put(c, key, two, 2), -EINVAL);

	/* Larger than max_bytes: refused, nothing stored. */
	char key2[65];
	key_of("too big", key2);
	char *big = calloc(1, 10000);
	ASSERT_NOT_NULL(big);
	struct cache_file h = mkfile("big", 0644, big, 10000);
	ASSERT_EQ(cache_put(c, key2, &h, 1), -EFBIG);
	ASSERT_EQ(cache_get(c, key2, &e), -ENOENT);
	/* The earlier entry was not evicted by the refused put. */
	ASSERT_EQ(cache_get(c, key, &e), 0);
	cache_entry_free(&e);
	buf_free(&h.data);
	free(big);
	buf_free(&f.data);
	cache_close(c);
}

TEST(cache_miss_and_argument_checks)
{
	test_with_tmpdir(body_miss_and_args);
}

/* ---- corrupt, foreign, symlinked entries ---- */

enum corruption {
	TRUNC_HALF, TRUNC_SHORT, TRUNC_EMPTY, TRUNC_LAST, FLIP_HEADER, FLIP_MIDDLE, FLIP_SUM,
	APPEND, GARBAGE, FOREIGN, SYMLINK, SYMLINK_DANGLING, FIFO, VERSION_BUMP,
	NCORRUPTIONS
};

static void put_sample(struct cache *c, const char *key)
{
	char data[2000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i % 251);
	struct cache_file f[2] = { mkfile("prog", 0755, data, sizeof(data)),
				   mkfile("data.txt", 0644, "hello\n", 6) };
	if (cache_put(c, key, f, 2) != 0)
		FAIL("put_sample");
	buf_free(&f[0].data);
	buf_free(&f[1].data);
}

static void body_corrupt(const char *dir)
{
	struct cache *c;
	ASSERT_EQ(cache_open(dir, 1 << 20, &c), 0);
	char other[65], outside[512];
	key_of("other", other);
	put_sample(c, other);
	char opath[512];
	entry_path(dir, other, opath, sizeof(opath));
	snprintf(outside, sizeof(outside), "%s/outside", dir);

	for (int k = 0; k < NCORRUPTIONS; k++) {
		char name[32], key[65], path[512];
		snprintf(name, sizeof(name), "victim %d", k);
		key_of(name, key);
		put_sample(c, key);
		entry_path(dir, key, path, sizeof(path));
		struct buf img;
		buf_init(&img, 0);
		read_file(path, &img);
		ASSERT_GT(img.len, 100);
		switch (k) {
		case TRUNC_HALF:
			ASSERT_EQ(truncate(path, (off_t)img.len / 2), 0);
			break;
		case TRUNC_SHORT:
			ASSERT_EQ(truncate(path, 10), 0);
			break;
		case TRUNC_EMPTY:
			ASSERT_EQ(truncate(path, 0), 0);
			break;
		case TRUNC_LAST:
			ASSERT_EQ(truncate(path, (off_t)img.len - 1), 0);
			break;
		case FLIP_HEADER:
			img.data[20] ^= 0x01;
			write_file(path, img.data, img.len);
			break;
		case FLIP_MIDDLE:
			img.data[img.len / 2] ^= 0x40;
			write_file(path, img.data, img.len);
			break;
		case FLIP_SUM:
			img.data[img.len - 1] ^= 0x80;
			write_file(path, img.data, img.len);
			break;
		case APPEND:
			buf_append(&img, "x", 1);
			write_file(path, img.data, img.len);
			break;
		case GARBAGE:
			for (size_t i = 0; i < img.len; i++)
				img.data[i] = (char)(i * 7919 + 13);
			write_file(path, img.data, img.len);
			break;
		case FOREIGN: {
			/* A valid entry of another key, copied under this one. */
			struct buf o;
			buf_init(&o, 0);
			read_file(opath, &o);
			write_file(path, o.data, o.len);
			buf_free(&o);
			break;
		}
		case SYMLINK:
			/* Points at a byte-identical, valid copy: still not followed. */
			write_file(outside, img.data, img.len);
			ASSERT_EQ(unlink(path), 0);
			ASSERT_EQ(symlink(outside, path), 0);
			break;
		case SYMLINK_DANGLING:
			ASSERT_EQ(unlink(path), 0);
			ASSERT_EQ(symlink("/nonexistent/runcell", path), 0);
			break;
		case FIFO:
			ASSERT_EQ(unlink(path), 0);
			ASSERT_EQ(mkfifo(path, 0600), 0);
			break;
		case VERSION_BUMP: {
			/* A future version with a correct checksum is foreign too. */
			img.data[8] = 2;
			struct sha256 s;
			sha256_init(&s);
			sha256_update(&s, img.data, img.len - 32);
			sha256_final(&s, (unsigned char *)img.data + img.len - 32);
			write_file(path, img.data, img.len);
			break;
		}
		}
		struct cache_entry e;
		int rc = cache_get(c, key, &e);
		if (rc != -ENOENT)
			FAIL("corruption %d: get returned %d", k, rc);
		if (exists(path))
			FAIL("corruption %d: bad entry not removed", k);
		if (k == SYMLINK)
			ASSERT_TRUE(exists(outside)); /* the target is untouched */
		/* A fresh put works again. */
		put_sample(c, key);
		ASSERT_EQ(cache_get(c, key, &e), 0);
		ASSERT_EQ(e.nfiles, 2);
		cache_entry_free(&e);
		buf_free(&img);
	}

	/* A directory in place of an entry: a miss (left alone). */
	char dkey[65], dpath[512];
	key_of("directory", dkey);
	put_sample(c, dkey);
	entry_path(dir, dkey, dpath, sizeof(dpath));
	ASSERT_EQ(unlink(dpath), 0);
	ASSERT_EQ(mkdir(dpath, 0700), 0);
	struct cache_entry e;
	ASSERT_EQ(cache_get(c, dkey, &e), -ENOENT);
	/* ... and the next put of that key takes its place (the key was
	 * blocked for good: every put failed with EISDIR) */
	put_sample(c, dkey);
	ASSERT_EQ(cache_get(c, dkey, &e), 0);
	cache_entry_free(&e);
	/* a directory with something in it is left alone: a miss, the put fails */
	ASSERT_EQ(unlink(dpath), 0);
	ASSERT_EQ(mkdir(dpath, 0700), 0);
	char inner[600];
	snprintf(inner, sizeof(inner), "%s/x", dpath);
	ASSERT_EQ(mkdir(inner, 0700), 0);
	ASSERT_EQ(cache_get(c, dkey, &e), -ENOENT);
	struct cache_file f = { .name = "a", .mode = 0644 };
	ASSERT_LT(cache_put(c, dkey, &f, 1), 0);
	ASSERT_EQ(rmdir(inner), 0);

	/* A symlinked shard directory is not followed either. */
	char skey[65], shard[512], moved[512];
	key_of("shard", skey);
	put_sample(c, skey);
	snprintf(shard, sizeof(shard), "%s/%.2s", dir, skey);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	ASSERT_EQ(rename(shard, moved), 0);
	ASSERT_EQ(symlink(moved, shard), 0);
	ASSERT_EQ(cache_get(c, skey, &e), -ENOENT);
	/* A put replaces the symlink with a real directory. */
	put_sample(c, skey);
	struct stat st;
	ASSERT_EQ(lstat(shard, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(cache_get(c, skey, &e), 0);
	cache_entry_free(&e);

	/* The untouched entry is still good. */
	ASSERT_EQ(cache_get(c, other, &e), 0);
	cache_entry_free(&e);
	cache_close(c);
}

TEST(cache_corrupt_entries_are_misses)
{
	test_with_tmpdir(body_corrupt);
}

/* Entries with a valid checksum but bad contents (names, modes, sizes)
 * are refused: the reader does not trust the writer. */
static void body_validated(const char *dir)
{
	struct cache *c;
	ASSERT_EQ(cache_open(dir, 1 << 20, &c), 0);
	/* Layout: 80-byte header, then name_len u32, mode u32, size u64, name. */
	for (int k = 0; k < 7; k++) {
		char key[65], path[512];
		char nm[32];
		snprintf(nm, sizeof(nm), "tamper %d", k);
		key_of(nm, key);
		struct cache_file f[2] = { mkfile("ab", 0644, "data", 4), mkfile("cd", 0644, "", 0) };
		ASSERT_EQ(cache_put(c, key, f, 2), 0);
		buf_free(&f[0].data);
		buf_free(&f[1].data);
		entry_path(dir, key, path, sizeof(path));
		struct buf img;
		buf_init(&img, 0);
		read_file(path, &img);
		unsigned char *p = (unsigned char *)img.data;
		switch (k) {
		case 0: p[97] = '/'; break;                  /* "a/" */
		case 1: p[96] = '.'; p[97] = '.'; break;     /* ".." */
		case 2: p[97] = 0; break;                    /* NUL in name */
		case 3: p[85] = 0x08; break;                 /* mode 04644: setuid */
		case 4: p[95] = 0x7f; break;                 /* huge size */
		case 5: p[80] = 0; break;                    /* empty name */
		case 6: p[118] = 'a'; p[119] = 'b'; break;  /* second name "cd" -> "ab" */
		}
		struct sha256 s;
		sha256_init(&s);
		sha256_update(&s, img.data, img.len - 32);
		sha256_final(&s, p + img.len - 32);
		write_file(path, img.data, img.len);
		struct cache_entry e;
		int rc = cache_get(c, key, &e);
		if (rc != -ENOENT)
			FAIL("tamper %d: get returned %d", k, rc);
		ASSERT_FALSE(exists(path));
		buf_free(&img);
	}
	cache_close(c);
}

TEST(cache_entry_contents_validated)
{
	test_with_tmpdir(body_validated);
}

/* ---- LRU ---- */

static void put_sized(struct cache *c, const char *key, size_t n)
{
	char *data = malloc(n);
	if (!data)
		FAIL("malloc");
	memset(data, key[0], n);
	struct cache_file f = mkfile("f", 0644, data, n);
	int rc = cache_put(c, key, &f, 1);
	if (rc)
		FAIL("put_sized: %d", rc);
	buf_free(&f.data);
	free(data);
}

static void body_lru(const char *dir)
{
	enum { N = 1000 };
	char keys[6][65], paths[6][512];
	for (int i = 0; i < 6; i++) {
		char s[32];
		snprintf(s, sizeof(s), "lru%d", i);
		key_of(s, keys[i]);
		entry_path(dir, keys[i], paths[i], sizeof(paths[i]));
	}
	/* Measure one entry's size, then allow three. */
	struct cache *c;
	ASSERT_EQ(cache_open(dir, 1 << 20, &c), 0);
	put_sized(c, keys[5], N);
	size_t one = file_size(paths[5]);
	ASSERT_GT(one, N);
	ASSERT_LT(one, N + 200);
	cache_close(c);
	ASSERT_EQ(unlink(paths[5]), 0);

	ASSERT_EQ(cache_open(dir, 3 * one + one / 2, &c), 0);
	put_sized(c, keys[0], N);
	put_sized(c, keys[1], N);
	put_sized(c, keys[2], N);
	for (int i = 0; i < 3; i++)
		ASSERT_TRUE(exists(paths[i]));

	/* A hit makes 0 the most recent; 1 is now the oldest. */
	struct cache_entry e;
	ASSERT_EQ(cache_get(c, keys[0], &e), 0);
	cache_entry_free(&e);
	put_sized(c, keys[3], N);
	ASSERT_TRUE(exists(paths[0]));
	ASSERT_FALSE(exists(paths[1]));
	ASSERT_TRUE(exists(paths[2]));
	ASSERT_TRUE(exists(paths[3]));

	/* Next oldest: 2. */
	put_sized(c, keys[4], N);
	ASSERT_TRUE(exists(paths[0]));
	ASSERT_FALSE(exists(paths[2]));
	ASSERT_TRUE(exists(paths[3]));
	ASSERT_TRUE(exists(paths[4]));

	/* A larger entry pushes out two (0 then 3). */
	put_sized(c, keys[1], 2 * N);
	ASSERT_FALSE(exists(paths[0]));
	ASSERT_FALSE(exists(paths[3]));
	ASSERT_TRUE(exists(paths[4]));
	ASSERT_TRUE(exists(paths[1]));
	ASSERT_LE(file_size(paths[1]) + file_size(paths[4]), 3 * one + one / 2);

	/* Symlinks and foreign files are not counted nor removed. */
	char junk[512];
	snprintf(junk, sizeof(junk), "%s/%.2s/%s", dir, keys[4], "README");
	write_file(junk, "x", 1);
	put_sized(c, keys[2], N);
	ASSERT_TRUE(exists(junk));
	ASSERT_FALSE(exists(paths[4]));
	ASSERT_TRUE(exists(paths[1]));
	ASSERT_TRUE(exists(paths[2]));
	cache_close(c);
}

TEST(cache_lru_eviction)
{
	test_with_tmpdir(body_lru);
}

/* ---- concurrency ---- */

/* Content derived from a seed, with the seed in a second file, so any
 * entry read back can be checked for consistency. */
static void gen(unsigned seed, char *data, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		data[i] = (char)(seed >> 16);
	}
}

static int put_seeded(struct cache *c, const char *key, unsigned seed)
{
	size_t n = 1000 + seed % 3000;
	char *data = malloc(n);
	if (!data)
		return -ENOMEM;
	gen(seed, data, n);
	char s[32];
	int sl = snprintf(s, sizeof(s), "%u", seed);
	struct cache_file f[2];
	f[0].name = "seed";
	f[0].mode = 0644;
	buf_init(&f[0].data, 0);
	buf_append(&f[0].data, s, (size_t)sl);
	f[1].name = "blob";
	f[1].mode = 0755;
	buf_init(&f[1].data, 0);
	buf_append(&f[1].data, data, n);
	int rc = cache_put(c, key, f, 2);
	buf_free(&f[0].data);
	buf_free(&f[1].data);
	free(data);
	return rc;
}

/* 0 valid, 1 miss, -1 invalid. */
static int check_seeded(struct cache *c, const char *key, unsigned *seed_out)
{
	struct cache_entry e;
	int rc = cache_get(c, key, &e);
	if (rc == -ENOENT)
		return 1;
	if (rc)
		return -1;
	int ok = -1;
	if (e.nfiles == 2 && !strcmp(e.files[0].name, "seed") && !strcmp(e.files[1].name, "blob") &&
	    e.files[1].mode == 0755) {
		unsigned seed = (unsigned)strtoul(e.files[0].data.data, NULL, 10);
		size_t n = 1000 + seed % 3000;
		char *want = malloc(n);
		if (want) {
			gen(seed, want, n);
			if (e.files[1].data.len == n && !memcmp(want, e.files[1].data.data, n)) {
				ok = 0;
				if (seed_out)
					*seed_out = seed;
			}
			free(want);
		}
	}
	cache_entry_free(&e);
	return ok;
}

enum { KIDS = 6, ROUNDS = 40 };
static uint64_t conc_max;

static void body_concurrent(const char *dir)
{
	char shared[65];
	key_of("shared", shared);
	pid_t pids[KIDS];
	for (int k = 0; k < KIDS; k++) {
		pids[k] = fork();
		ASSERT_GE(pids[k], 0);
		if (pids[k] == 0) {
			struct cache *c;
			if (cache_open(dir, conc_max, &c))
				_exit(10);
			char own[65], name[32];
			snprintf(name, sizeof(name), "own%d", k);
			key_of(name, own);
			for (unsigned r = 0; r < ROUNDS; r++) {
				unsigned seed = (unsigned)k * 1000 + r;
				if (put_seeded(c, shared, seed))
					_exit(11);
				if (put_seeded(c, own, seed))
					_exit(12);
				if (check_seeded(c, shared, NULL) < 0)
					_exit(13);
				if (check_seeded(c, own, NULL) < 0)
					_exit(14);
			}
			cache_close(c);
			_exit(0);
		}
	}
	for (int k = 0; k < KIDS; k++) {
		int st;
		ASSERT_EQ(waitpid(pids[k], &st, 0), pids[k]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			FAIL("child %d: status 0x%x", k, st);
	}
	struct cache *c;
	ASSERT_EQ(cache_open(dir, conc_max, &c), 0);
	int hits = 0;
	for (int k = 0; k < KIDS; k++) {
		char own[65], name[32];
		snprintf(name, sizeof(name), "own%d", k);
		key_of(name, own);
		unsigned seed = 0;
		int rc = check_seeded(c, own, &seed);
		ASSERT_GE(rc, 0);
		if (rc == 0) {
			hits++;
			ASSERT_EQ(seed, (unsigned)k * 1000 + ROUNDS - 1); /* its last put */
		}
	}
	unsigned seed;
	int rc = check_seeded(c, shared, &seed);
	ASSERT_GE(rc, 0);
	if (conc_max >= (1 << 20)) {
		/* No eviction pressure: everything is there. */
		ASSERT_EQ(rc, 0);
		ASSERT_EQ(hits, KIDS);
		ASSERT_EQ(seed % 1000, ROUNDS - 1);
	}
	cache_close(c);
	/* No temporaries left behind. */
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "find %s -name '*.tmp.*' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	char line[64] = "";
	ASSERT_NOT_NULL(fgets(line, sizeof(line), p));
	pclose(p);
	ASSERT_STR(line, "0\n");
}

TEST(cache_concurrent_puts)
{
	conc_max = 64 << 20;
	test_with_tmpdir(body_concurrent);
}

TEST(cache_concurrent_puts_with_eviction)
{
	conc_max = 12000; /* about three entries: constant eviction races */
	test_with_tmpdir(body_concurrent);
}

/* ---- keys ---- */

TEST(cache_key_boundaries)
{
	char k1[65], k2[65], k3[65], k4[65], k5[65], k6[65], k7[65];
	struct cache_part ab_c[2] = { { "ab", 2 }, { "c", 1 } };
	struct cache_part a_bc[2] = { { "a", 1 }, { "bc", 2 } };
	struct cache_part abc[1] = { { "abc", 3 } };
	struct cache_part a_empty[2] = { { "a", 1 }, { "", 0 } };
	struct cache_part empty[1] = { { "", 0 } };
	cache_key(ab_c, 2, k1);
	cache_key(a_bc, 2, k2);
	cache_key(abc, 1, k3);
	cache_key(a_empty, 2, k4);
	cache_key(abc, 0, k5);
	cache_key(empty, 1, k6);
	cache_key(a_bc, 1, k7); /* just "a" */
	const char *all[] = { k1, k2, k3, k4, k5, k6, k7 };
	for (size_t i = 0; i < 7; i++) {
		ASSERT_EQ(strlen(all[i]), 64);
		ASSERT_EQ(strspn(all[i], "0123456789abcdef"), 64);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(all[i], all[j]))
				FAIL("keys %zu and %zu collide", i, j);
	}
	/* Deterministic; NUL bytes inside parts count. */
	char again[65];
	cache_key(ab_c, 2, again);
	ASSERT_STR(again, k1);
	struct cache_part nul1[1] = { { "a\0b", 3 } }, nul2[1] = { { "a\0c", 3 } };
	cache_key(nul1, 1, k1);
	cache_key(nul2, 1, k2);
	ASSERT_TRUE(strcmp(k1, k2) != 0);
}
