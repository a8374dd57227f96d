/*
 * cache: compiled artifacts on disk (see cache.h).
 *
 * Layout: DIR/<key[0..2]>/<key>, one regular file per entry, written as
 * DIR/<key[0..2]>/<key>.tmp.<pid>.<random> and renamed into place (the
 * last rename of concurrent puts of one key wins; both complete).  No
 * fsync: a crash can leave a torn entry, which the checksum turns into a
 * miss.  Nothing inside DIR is followed through a symlink: the shard
 * directory and the entry are opened with O_NOFOLLOW relative to DIR's fd,
 * and only regular files are read or counted.
 *
 * Entry format (integers little-endian):
 *   "RCCACHE\0"        8 bytes magic
 *   version            u32 (CACHE_VERSION)
 *   nfiles             u32 (<= CACHE_MAX_FILES)
 *   key                64 bytes, the entry's own key (a file renamed or
 *                      copied under another key is foreign, hence a miss)
 *   nfiles times:
 *     name_len u32 (1..CACHE_MAX_NAME), mode u32 (permission bits only),
 *     size u64, name bytes, data bytes
 *   sha256             32 bytes over everything before it
 * The file must end exactly after the checksum.  An empty directory in
 * an entry's place is removed by the next put of that key; anything else
 * that is not a regular file is never read.
 *
 * Names are validated on both put and get: not empty, at most
 * CACHE_MAX_NAME bytes, no '/', no NUL, not "." or "..", no duplicates.
 * Modes are stored masked to 0777 (no setuid/setgid/sticky).
 *
 * Size bound: an entry's file size (header and checksum included) above
 * max_bytes is refused by put (-EFBIG) and treated as bad by get.  After a
 * put, the shards are scanned and the entries with the oldest mtime are
 * unlinked until the total is <= max_bytes.  A hit sets the entry's mtime
 * to now.  Stale temporaries (older than an hour) are removed by the scan.
 */
#include "judge/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/dir.h"
#include "core/sha256.h"

#define CACHE_MAGIC "RCCACHE\0"
#define CACHE_VERSION 1u
#define CACHE_MAX_FILES 4096u
#define CACHE_MAX_NAME 255u
#define CACHE_HDR_SIZE (8 + 4 + 4 + 64)
#define CACHE_FILE_HDR_SIZE (4 + 4 + 8)
#define CACHE_SUM_SIZE 32
#define CACHE_TMP_STALE_S 3600

struct cache {
	int dfd;
	uint64_t max_bytes;
};

/* ---- helpers ---- */

static bool cache_key_valid(const char *key)
{
	if (!key)
		return false;
	for (int i = 0; i < 64; i++) {
		char ch = key[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	return key[64] == '\0';
}

static bool cache_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > CACHE_MAX_NAME)
		return false;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	return true;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Writes and hashes. */
static int write_sum(int fd, struct sha256 *sum, const void *data, size_t len)
{
	sha256_update(sum, data, len);
	return write_all(fd, data, len);
}

static int read_all(int fd, void *data, size_t len, size_t *got)
{
	char *p = data;
	size_t n = 0;
	while (n < len) {
		ssize_t r = read(fd, p + n, len - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*got = n;
	return 0;
}

/* Opens (creating if asked) the shard directory of key, never through a
 * symlink.  A non-directory in its place is removed when creating. */
static int cache_shard_open(struct cache *c, const char *key, bool create)
{
	char shard[3] = { key[0], key[1], '\0' };
	for (int attempt = 0; attempt < 3; attempt++) {
		int fd = openat(c->dfd, shard, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		int err = errno;
		if (!create)
			return -err;
		if (err == ENOENT) {
			if (mkdirat(c->dfd, shard, 0700) < 0 && errno != EEXIST)
				return -errno;
		} else if (err == ELOOP || err == ENOTDIR) {
			if (unlinkat(c->dfd, shard, 0) < 0 && errno != ENOENT)
				return -errno;
		} else {
			return -err;
		}
	}
	return -EAGAIN;
}

static void cache_now(struct timespec ts[2])
{
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[1] = ts[0];
}

/* ---- open / close / key ---- */

const char *cache_default_dir(void)
{
	const char *dir = getenv("RUNCELL_CACHE_DIR");
	return dir && *dir ? dir : "/var/cache/runcell/compile";
}

int cache_open(const char *dir, uint64_t max_bytes, struct cache **out)
{
	*out = NULL;
	if (!dir || !*dir)
		return -EINVAL;
	int rc = dir_create_all(dir, 0700);
	if (rc < 0)
		return rc;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	struct cache *c = calloc(1, sizeof(*c));
	if (!c) {
		close(dfd);
		return -ENOMEM;
	}
	c->dfd = dfd;
	c->max_bytes = max_bytes;
	*out = c;
	return 0;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	close(c->dfd);
	free(c);
}

void cache_key(const struct cache_part *parts, size_t n, char key[65])
{
	static const char domain[] = "runcell-cache-key-v1";
	struct sha256 s;
	unsigned char len[8], digest[32];
	sha256_init(&s);
	sha256_update(&s, domain, sizeof(domain));
	put_u64(len, n);
	sha256_update(&s, len, sizeof(len));
	for (size_t i = 0; i < n; i++) {
		put_u64(len, parts[i].len);
		sha256_update(&s, len, sizeof(len));
		if (parts[i].len)
			sha256_update(&s, parts[i].data, parts[i].len);
	}
	sha256_final(&s, digest);
	sha256_hex(digest, key);
}

/* ---- get ---- */

void cache_entry_free(struct cache_entry *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nfiles; i++) {
		free(e->files[i].name);
		buf_free(&e->files[i].data);
	}
	free(e->files);
	e->files = NULL;
	e->nfiles = 0;
}

/* Parses a whole entry image (checksum already verified).  Returns 0,
 * -ENOENT when malformed, -ENOMEM. */
static int cache_parse(const unsigned char *img, size_t size, const char *key,
		       struct cache_entry *out)
{
	if (size < CACHE_HDR_SIZE + CACHE_SUM_SIZE)
		return -ENOENT;
	if (memcmp(img, CACHE_MAGIC, 8) || get_u32(img + 8) != CACHE_VERSION)
		return -ENOENT;
	uint32_t nfiles = get_u32(img + 12);
	if (nfiles > CACHE_MAX_FILES || memcmp(img + 16, key, 64))
		return -ENOENT;
	size_t end = size - CACHE_SUM_SIZE, off = CACHE_HDR_SIZE;
	struct cache_entry e = { NULL, 0 };
	if (nfiles) {
		e.files = calloc(nfiles, sizeof(*e.files));
		if (!e.files)
			return -ENOMEM;
	}
	int rc = -ENOENT;
	for (uint32_t i = 0; i < nfiles; i++) {
		if (end - off < CACHE_FILE_HDR_SIZE)
			goto fail;
		uint32_t nlen = get_u32(img + off), mode = get_u32(img + off + 4);
		uint64_t dlen = get_u64(img + off + 8);
		off += CACHE_FILE_HDR_SIZE;
		if (nlen > end - off || dlen > end - off - nlen)
			goto fail;
		const char *name = (const char *)img + off;
		if (!cache_name_valid(name, nlen) || (mode & ~0777u))
			goto fail;
		for (size_t j = 0; j < e.nfiles; j++)
			if (strlen(e.files[j].name) == nlen && !memcmp(e.files[j].name, name, nlen))
				goto fail;
		struct cache_file *f = &e.files[e.nfiles];
		buf_init(&f->data, 0);
		f->name = strndup(name, nlen);
		f->mode = (mode_t)mode;
		e.nfiles++;
		if (!f->name || buf_append(&f->data, img + off + nlen, (size_t)dlen) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		off += nlen + (size_t)dlen;
	}
	if (off != end)
		goto fail;
	*out = e;
	return 0;
fail:
	cache_entry_free(&e);
	return rc;
}

/* Unlinks name in sfd if it is still the inode st describes (or, with
 * st NULL, whatever it is, unless a directory). */
static void cache_remove(int sfd, const char *name, const struct stat *st)
{
	if (st) {
		struct stat now;
		if (fstatat(sfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_dev != st->st_dev || now.st_ino != st->st_ino)
			return;
	}
	unlinkat(sfd, name, 0);
}

int cache_get(struct cache *c, const char *key, struct cache_entry *out)
{
	out->files = NULL;
	out->nfiles = 0;
	if (!cache_key_valid(key))
		return -EINVAL;
	int sfd = cache_shard_open(c, key, false);
	if (sfd < 0)
		return (sfd == -ENOENT || sfd == -ELOOP || sfd == -ENOTDIR) ? -ENOENT : sfd;
	int rc;
	unsigned char *img = NULL;
	int fd = openat(sfd, key, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP) {
			/* A symlink in place of an entry: never followed, removed. */
			cache_remove(sfd, key, NULL);
			rc = -ENOENT;
		}
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	rc = -ENOENT;
	if (!S_ISREG(st.st_mode)) {
		if (!S_ISDIR(st.st_mode))
			cache_remove(sfd, key, &st);
		goto out;
	}
	if (st.st_size < CACHE_HDR_SIZE + CACHE_SUM_SIZE || (uint64_t)st.st_size > c->max_bytes) {
		cache_remove(sfd, key, &st);
		goto out;
	}
	size_t size = (size_t)st.st_size, got = 0;
	img = malloc(size + 1);
	if (!img) {
		rc = -ENOMEM;
		goto out;
	}
	/* Read one byte more than expected to notice growth. */
	rc = read_all(fd, img, size + 1, &got);
	if (rc < 0)
		goto out;
	rc = -ENOENT;
	if (got != size) {
		cache_remove(sfd, key, &st);
		goto out;
	}
	struct sha256 s;
	unsigned char digest[32];
	sha256_init(&s);
	sha256_update(&s, img, size - CACHE_SUM_SIZE);
	sha256_final(&s, digest);
	if (memcmp(digest, img + size - CACHE_SUM_SIZE, CACHE_SUM_SIZE)) {
		cache_remove(sfd, key, &st);
		goto out;
	}
	rc = cache_parse(img, size, key, out);
	if (rc == -ENOENT) {
		cache_remove(sfd, key, &st);
		goto out;
	}
	if (rc == 0) {
		/* LRU: a hit is a use. */
		struct timespec ts[2];
		cache_now(ts);
		futimens(fd, ts);
	}
out:
	free(img);
	if (fd >= 0)
		close(fd);
	close(sfd);
	return rc;
}

/* ---- eviction ---- */

struct cache_item {
	char shard[3];
	char name[65];
	struct timespec mtime;
	uint64_t size;
};

static int cache_item_cmp(const void *a, const void *b)
{
	const struct cache_item *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool is_hex2(const char *s)
{
	for (int i = 0; i < 2; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[2] == '\0';
}

/* A directory stream on a fresh open file description of dfd, so its
 * offset is its own.  Returns 0 or -errno. */
static int opendir_fresh(int dfd, DIR **out)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*out = fdopendir(fd);
	if (!*out) {
		int err = -errno;
		close(fd);
		return err;
	}
	return 0;
}

/* Scans one shard, appending its entries to *items. */
static int cache_scan_shard(int sfd, const char *shard, struct cache_item **items,
			    size_t *n, size_t *alloc, uint64_t *total)
{
	DIR *d;
	int err = opendir_fresh(sfd, &d);
	if (err < 0)
		return err;
	time_t now = time(NULL);
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t len = strlen(name);
		if (len < 64 || memcmp(name, shard, 2))
			continue;
		char key[65];
		memcpy(key, name, 64);
		key[64] = '\0';
		if (!cache_key_valid(key))
			continue;
		struct stat st;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (len > 64) {
			/* A temporary: leave it to its writer unless it is stale. */
			if (!strncmp(name + 64, ".tmp.", 5) && now - st.st_mtim.tv_sec > CACHE_TMP_STALE_S)
				unlinkat(sfd, name, 0);
			continue;
		}
		if (*n == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 64;
			struct cache_item *p = realloc(*items, na * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			*items = p;
			*alloc = na;
		}
		struct cache_item *it = &(*items)[(*n)++];
		memcpy(it->shard, shard, 3);
		memcpy(it->name, key, 65);
		it->mtime = st.st_mtim;
		it->size = (uint64_t)st.st_size;
		*total += it->size;
	}
	closedir(d);
	return rc;
}

static int cache_evict(struct cache *c)
{
	DIR *d;
	int err = opendir_fresh(c->dfd, &d);
	if (err < 0)
		return err;
	struct cache_item *items = NULL;
	size_t n = 0, alloc = 0;
	uint64_t total = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_hex2(de->d_name))
			continue;
		int sfd = openat(c->dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			continue;
		rc = cache_scan_shard(sfd, de->d_name, &items, &n, &alloc, &total);
		close(sfd);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && total > c->max_bytes) {
		qsort(items, n, sizeof(*items), cache_item_cmp);
		for (size_t i = 0; i < n && total > c->max_bytes; i++) {
			int sfd = openat(c->dfd, items[i].shard,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0)
				continue;
			/* ENOENT: someone else evicted it; it is gone either way. */
			unlinkat(sfd, items[i].name, 0);
			close(sfd);
			total -= items[i].size;
		}
	}
	free(items);
	return rc;
}

/* ---- put ---- */

int cache_put(struct cache *c, const char *key, const struct cache_file *files, size_t n)
{
	if (!cache_key_valid(key) || n > CACHE_MAX_FILES || (n && !files))
		return -EINVAL;
	uint64_t size = CACHE_HDR_SIZE + CACHE_SUM_SIZE;
	for (size_t i = 0; i < n; i++) {
		const char *name = files[i].name;
		if (!name || !cache_name_valid(name, strlen(name)))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(files[j].name, name))
				return -EINVAL;
		if (files[i].data.len && !files[i].data.data)
			return -EINVAL;
		size += CACHE_FILE_HDR_SIZE + strlen(name) + (uint64_t)files[i].data.len;
	}
	if (size > c->max_bytes)
		return -EFBIG;

	int sfd = cache_shard_open(c, key, true);
	if (sfd < 0)
		return sfd;
	char tmp[128];
	int fd = -1, rc;
	for (int attempt = 0; attempt < 8; attempt++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			rnd ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull + (uint64_t)attempt;
		}
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%016llx", key, (long)getpid(),
			 (unsigned long long)rnd);
		fd = openat(sfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = -errno;
		close(sfd);
		return rc;
	}

	struct sha256 s;
	unsigned char hdr[CACHE_HDR_SIZE], digest[32];
	sha256_init(&s);
	memcpy(hdr, CACHE_MAGIC, 8);
	put_u32(hdr + 8, CACHE_VERSION);
	put_u32(hdr + 12, (uint32_t)n);
	memcpy(hdr + 16, key, 64);
	rc = write_sum(fd, &s, hdr, sizeof(hdr));
	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char fh[CACHE_FILE_HDR_SIZE];
		size_t nlen = strlen(files[i].name);
		put_u32(fh, (uint32_t)nlen);
		put_u32(fh + 4, (uint32_t)(files[i].mode & 0777));
		put_u64(fh + 8, (uint64_t)files[i].data.len);
		rc = write_sum(fd, &s, fh, sizeof(fh));
		if (rc == 0)
			rc = write_sum(fd, &s, files[i].name, nlen);
		if (rc == 0 && files[i].data.len)
			rc = write_sum(fd, &s, files[i].data.data, files[i].data.len);
	}
	if (rc == 0) {
		sha256_final(&s, digest);
		rc = write_all(fd, digest, sizeof(digest));
	}
	if (rc == 0) {
		struct timespec ts[2];
		cache_now(ts);
		if (futimens(fd, ts) < 0)
			rc = -errno;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(sfd, tmp, sfd, key) < 0) {
		rc = -errno;
		/* An empty directory in the entry's place (left by hand or by
		 * another tool) would block this key for good: it goes. */
		if ((rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST) &&
		    unlinkat(sfd, key, AT_REMOVEDIR) == 0)
			rc = renameat(sfd, tmp, sfd, key) < 0 ? -errno : 0;
	}
	if (rc < 0)
		unlinkat(sfd, tmp, 0);
	close(sfd);
	if (rc < 0)
		return rc;
	/* The entry is in; a failed scan only delays eviction. */
	cache_evict(c);
	return 0;
}
