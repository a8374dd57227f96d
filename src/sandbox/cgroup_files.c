/*
 * cgroup_files: reading and writing cgroup control files, and removing a
 * group directory with whatever is left in it.  Shared by both backends
 * (cgroup_v1.c, cgroup_v2.c), below them and below cgroup.c, so the
 * dependencies point one way: cgroup.c -> backends -> this file.
 */
#include "sandbox/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sandbox__write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int e = n < 0 ? errno : 0;
	close(fd);
	if (n < 0)
		return -e;
	return (size_t)n == len ? 0 : -EIO;
}

int sandbox__write_in(const char *dir, const char *file, const char *value)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return sandbox__write_file(path, value);
}

int sandbox__open_in(const char *dir, const char *file, int flags)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return open(path, flags | O_CLOEXEC);
}

static ssize_t read_fd_at0(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int sandbox__read_u64_fd(int fd, uint64_t *value)
{
	char buf[64];
	ssize_t n = read_fd_at0(fd, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -EINVAL;
	*value = v;
	return 0;
}

int sandbox__read_key_u64_fd(int fd, const char *key, uint64_t *value)
{
	char buf[4096];
	ssize_t n = read_fd_at0(fd, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	size_t klen = strlen(key);
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*value = strtoull(line + klen + 1, NULL, 10);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

bool sandbox__cg_controllers_have(const char *path, const char *a, const char *b)
{
	char line[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read_fd_at0(fd, line, sizeof(line));
	close(fd);
	if (n < 0)
		return false;
	bool has_a = false, has_b = false;
	char *save = NULL;
	for (char *tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!strcmp(tok, a))
			has_a = true;
		if (!strcmp(tok, b))
			has_b = true;
	}
	return has_a && has_b;
}

void sandbox__cg_kill_procs(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	long pid;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 1)
			kill((pid_t)pid, SIGKILL);
	fclose(f);
}

/* Kills whatever is left in a cgroup directory and removes it. */
int sandbox__cg_remove_dir(const char *dir)
{
	for (int attempt = 0; attempt < 2000; attempt++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		sandbox__cg_kill_procs(dir);
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

void sandbox__cg_sweep_dir(const char *parent, const char *prefix, bool kill_file)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	size_t plen = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, plen))
			continue;
		char dir[600];
		snprintf(dir, sizeof(dir), "%s/%s", parent, e->d_name);
		if (kill_file) {
			char kill_path[700];
			snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", dir);
			sandbox__write_file(kill_path, "1");
		}
		sandbox__cg_remove_dir(dir);
	}
	closedir(d);
}
