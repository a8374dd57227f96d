/*
 * cache: compiled artifacts, keyed by a SHA-256 of everything that
 * decides the compile (language id, detected version, compile argv,
 * options, every source file's name and bytes).
 *
 * One file per entry under the cache directory, written to a temporary
 * name and renamed into place, so several processes can share the cache
 * and a reader never sees half an entry.  Each entry carries a checksum
 * of its contents; a corrupt, truncated or foreign entry is treated as a
 * miss (and removed), never used.  The total size is bounded: after a put,
 * the least recently used entries (by mtime, refreshed on every hit) are
 * removed until the total is under the bound.
 */
#ifndef RUNCELL_JUDGE_CACHE_H
#define RUNCELL_JUDGE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

struct cache_file {
	char *name;        /* relative name, no '/' */
	mode_t mode;       /* permission bits */
	struct buf data;
};

struct cache_entry {
	struct cache_file *files;
	size_t nfiles;
};

struct cache;

/* The cache directory of the command-line tools: $RUNCELL_CACHE_DIR, or
 * /var/cache/runcell/compile when it is unset or empty.  (The server
 * keeps its own under its data directory.) */
const char *cache_default_dir(void);

/* Opens (creating) dir; max_bytes bounds the total size. */
int cache_open(const char *dir, uint64_t max_bytes, struct cache **out);
void cache_close(struct cache *c);

/* Hashes parts[0..n) (each length-prefixed, so boundaries matter) into a
 * 64-character lowercase hex key plus NUL. */
struct cache_part { const void *data; size_t len; };
void cache_key(const struct cache_part *parts, size_t n, char key[65]);

/* 0 and the entry (free with cache_entry_free); -ENOENT on a miss or a
 * bad entry; another -errno on I/O trouble. */
int cache_get(struct cache *c, const char *key, struct cache_entry *out);
int cache_put(struct cache *c, const char *key, const struct cache_file *files, size_t n);
void cache_entry_free(struct cache_entry *e);

#endif
