/*
 * buf: a growable byte buffer with a hard cap.
 *
 * Anything whose size a client or a sandboxed program controls (program
 * output, request bodies, file contents read back from a cell) goes into a
 * buf.  Appending past the cap keeps the bytes that fit, marks the buffer
 * truncated and returns -ENOSPC, so a hostile producer can never make the
 * consumer allocate more than the cap.
 */
#ifndef RUNCELL_CORE_BUF_H
#define RUNCELL_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;      /* NUL-terminated for convenience; may hold NULs */
	size_t len;      /* bytes stored */
	size_t alloc;    /* bytes allocated */
	size_t cap;      /* maximum len; 0 means no cap */
	bool truncated;  /* an append did not fit under the cap */
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Returns 0, -ENOSPC when the cap cut the append short, -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Keeps the first len bytes; when that cuts, marks b truncated and gives
 * the rest of the storage back. */
void buf_cut(struct buf *b, size_t len);
/* Room left under the cap (SIZE_MAX when uncapped). */
size_t buf_room(const struct buf *b);
/* Hands the storage to the caller (who frees it) and empties b. */
char *buf_steal(struct buf *b, size_t *len);

#endif
