/*
 * tmpdir.c: test_with_tmpdir, the scratch directory of file-system cases
 * (store, cache, queue): the body runs in a child so a failed assertion
 * still leaves the parent to remove the directory.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static int tmpdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

void test_rm_rf(const char *dir)
{
	nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void test_with_tmpdir(void (*body)(const char *dir))
{
	char dir[] = "/tmp/runcell-test.XXXXXX";
	ASSERT_NOT_NULL(mkdtemp(dir));
	fflush(NULL);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		body(dir);
		_exit(0);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	test_rm_rf(dir);
	struct stat st;
	ASSERT_TRUE(lstat(dir, &st) < 0 && errno == ENOENT);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("case body failed (status 0x%x)", status);
}
