/*
 * buf: capped growable byte buffer (see buf.h).
 */
#include "core/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void buf_free(struct buf *b)
{
	free(b->data);
	size_t cap = b->cap;
	buf_init(b, cap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->data)
		b->data[0] = '\0';
}

size_t buf_room(const struct buf *b)
{
	if (!b->cap)
		return SIZE_MAX;
	return b->len >= b->cap ? 0 : b->cap - b->len;
}

void buf_cut(struct buf *b, size_t len)
{
	if (b->len <= len)
		return;
	b->len = len;
	b->truncated = true;
	char *smaller = realloc(b->data, len + 1);
	if (smaller) {
		b->data = smaller;
		b->alloc = len + 1;
	}
	b->data[len] = '\0';
}

static int buf_grow(struct buf *b, size_t need)
{
	if (need + 1 <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need + 1) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	char *p = realloc(b->data, n);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	int rc = 0;
	size_t room = buf_room(b);
	if (len > room) {
		len = room;
		b->truncated = true;
		rc = -ENOSPC;
	}
	if (buf_grow(b, b->len + len) < 0)
		return -ENOMEM;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return rc;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = buf_append(b, big, (size_t)n);
	free(big);
	return rc;
}

char *buf_steal(struct buf *b, size_t *len)
{
	if (buf_grow(b, b->len) < 0)
		return NULL;
	b->data[b->len] = '\0';
	char *p = b->data;
	if (len)
		*len = b->len;
	size_t cap = b->cap;
	buf_init(b, cap);
	return p;
}
