/*
 * dir: directories on the file system.
 */
#ifndef RUNCELL_CORE_DIR_H
#define RUNCELL_CORE_DIR_H

#include <stddef.h>
#include <sys/types.h>

/* Creates path and every missing directory above it, each with mode (as
 * `mkdir -p`); existing ones are left as they are.  Returns 0, or -errno
 * (-ENAMETOOLONG for a path longer than PATH_MAX). */
int dir_create_all(const char *path, mode_t mode);

/* The directory of the running binary (/proc/self/exe), where runcell
 * finds what it was installed with.  Returns 0, or -errno. */
int dir_of_self(char *buf, size_t len);

#endif
