/*
 * path: the one spelling runcell accepts for paths it compares or places
 * by their text (bind targets, files for /box): every part non-empty and
 * neither "." nor "..".  Checked as text, not resolved, so "/./proc" or
 * "a/../b" cannot stand for a path the checks did not see.
 */
#include "sandbox/internal.h"

#include <string.h>

bool sandbox__path_parts_ok(const char *p)
{
	if (!*p || *p == '/' || strlen(p) > 1024)
		return false;
	for (const char *c = p;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!slash)
			return true;
		c = slash + 1;
	}
}
