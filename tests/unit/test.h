/*
 * test.h: a small unit-test framework.
 *
 * TEST(name) { ... } defines and registers a case (by a constructor, so a
 * test file needs no list).  The runner (main.c) runs each case in its own
 * forked child with a timeout; an ASSERT_* that fails reports
 * "file:line: message" to the runner and ends the child, so one case can
 * neither crash nor hang the rest.
 */
#ifndef RUNCELL_TEST_H
#define RUNCELL_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn, const char *file, int line);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/* Ends the case as skipped ("skip NAME: why"), counted neither as passed
 * nor as failed: for what this host cannot provide. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Runs body(dir) in a forked child with a fresh directory under /tmp,
 * removes the directory afterwards and fails if the child did. */
void test_with_tmpdir(void (*body)(const char *dir));
/* Removes a directory tree (no symlinks followed). */
void test_rm_rf(const char *dir);
/* Copies seed into buf, applies 1-4 random edits (a byte changed, to a
 * printable one when asked; one of tokens inserted, "" standing for a NUL
 * byte; a run deleted; the end cut) and returns the length, always < cap. */
size_t test_mutate(char *buf, size_t cap, const char *seed, const char *const *tokens,
		   size_t ntokens, bool printable);
/* Prints a C-escaped excerpt of bytes into out (for failure messages). */
const char *test_quote(const void *data, size_t len, char *out, size_t outsz);

#define TEST(name)                                                          \
	static void test_##name(void);                                      \
	__attribute__((constructor)) static void test_register_##name(void) \
	{                                                                   \
		test_register(#name, test_##name, __FILE__, __LINE__);      \
	}                                                                   \
	static void test_##name(void)

#define FAIL(...) test_fail(__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT_TRUE(x)                                                  \
	do {                                                            \
		if (!(x))                                               \
			FAIL("expected true: %s", #x);                  \
	} while (0)

#define ASSERT_FALSE(x)                                                 \
	do {                                                            \
		if (x)                                                  \
			FAIL("expected false: %s", #x);                 \
	} while (0)

#define ASSERT_CMP_(a, op, b)                                                       \
	do {                                                                        \
		long long test_a_ = (long long)(a), test_b_ = (long long)(b);       \
		if (!(test_a_ op test_b_))                                          \
			FAIL("expected %s %s %s, got %lld vs %lld", #a, #op, #b,    \
			     test_a_, test_b_);                                     \
	} while (0)

#define ASSERT_EQ(a, b) ASSERT_CMP_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP_(a, >=, b)

#define ASSERT_NULL(p)                                                  \
	do {                                                            \
		if ((p) != NULL)                                        \
			FAIL("expected NULL: %s", #p);                  \
	} while (0)

#define ASSERT_NOT_NULL(p)                                              \
	do {                                                            \
		if ((p) == NULL)                                        \
			FAIL("expected non-NULL: %s", #p);              \
	} while (0)

/* NUL-terminated strings; NULL only equals NULL. */
#define ASSERT_STR(a, b)                                                             \
	do {                                                                         \
		const char *test_a_ = (a), *test_b_ = (b);                           \
		if (!test_a_ || !test_b_ ? test_a_ != test_b_ : strcmp(test_a_, test_b_) != 0) { \
			char test_qa_[200], test_qb_[200];                           \
			FAIL("expected %s == %s, got \"%s\" vs \"%s\"", #a, #b,      \
			     test_a_ ? test_quote(test_a_, strlen(test_a_), test_qa_, sizeof(test_qa_)) : "(null)", \
			     test_b_ ? test_quote(test_b_, strlen(test_b_), test_qb_, sizeof(test_qb_)) : "(null)"); \
		}                                                                    \
	} while (0)

/* Byte ranges: a has alen bytes, b has blen bytes. */
#define ASSERT_MEM(a, alen, b, blen)                                                 \
	do {                                                                         \
		const void *test_a_ = (a), *test_b_ = (b);                           \
		size_t test_al_ = (alen), test_bl_ = (blen);                         \
		if (test_al_ != test_bl_ || (test_al_ && memcmp(test_a_, test_b_, test_al_))) { \
			char test_qa_[200], test_qb_[200];                           \
			FAIL("expected %s == %s, got \"%s\" (%zu) vs \"%s\" (%zu)", #a, #b, \
			     test_quote(test_a_, test_al_, test_qa_, sizeof(test_qa_)), test_al_, \
			     test_quote(test_b_, test_bl_, test_qb_, sizeof(test_qb_)), test_bl_); \
		}                                                                    \
	} while (0)

#endif
