/*
 * lang: the registry of languages, loaded from one JSON data file per
 * language in etc/languages/ (adding a language needs no code change).
 *
 * A definition holds argv templates, never shell strings.  Placeholders,
 * each a whole argv element:
 *   {source}    the entry file name (the first file unless "source" says)
 *   {sources}   every submitted file name (expands to several elements)
 *   {main}      the entry file name without its extension (Java's class)
 *   {args}      the program's arguments (expands to several elements)
 *   {memory_mb} the run's memory limit in MB (a JVM's -Xmx, Go's limit)
 * and inside an element, "{memory_mb}" is replaced in place too
 * (e.g. "-Xmx{memory_mb}m").
 */
#ifndef RUNCELL_LANG_H
#define RUNCELL_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/sandbox.h"

struct lang {
	char *id;             /* "python3" */
	char *name;           /* "Python 3" */
	char **aliases;       /* NULL-terminated */
	char *source;         /* file name the entry file gets in /box ("main.py",
				 "Main.java"); NULL keeps the submitted name */
	char **compile;       /* argv template, NULL-terminated; NULL: none */
	char **run;           /* argv template, NULL-terminated */
	char **version_cmd;   /* argv run on the host to detect the version */
	char **env;           /* extra NAME=VALUE for compile and run */
	char **binds;         /* extra host paths, read-only at the same path */
	char **artifacts;     /* what the run needs from the compile's /box:
				 file names, or "*.ext" for every such file */
	char **memory_errors; /* stderr texts of a runtime out of its heap */
	char *preload;        /* its preloader, a binary beside runcell's
				 ("runcell-python"); NULL: none */
	struct sandbox_limits compile_limits;  /* defaults for compiling */
	uint32_t run_processes_min;  /* the run gets at least this many */
	uint64_t run_memory_extra_kb; /* runtime overhead added to the limit */
	char *version;        /* detected version line, NULL if unavailable */
	bool available;       /* the toolchain is on this host */
	char *file;           /* the data file it came from */
	bool probed;          /* lang_probe ran (version/available are set) */
};

struct lang_registry;

/* Loads every DIR/ *.json; a malformed file is an error naming the file
 * and the field.  Versions are not probed here (see lang_probe). */
int lang_registry_load(const char *dir, struct lang_registry **out,
		       char *why, size_t why_len);
/* For a caller that needs one language (runcell exec): when NAME is a
 * language file's id, DIR/NAME.json alone, so the run neither reads nor
 * depends on the other files; for any other name (an alias, another
 * case), every file, as lang_registry_load. */
int lang_registry_load_for(const char *dir, const char *name, struct lang_registry **out,
			   char *why, size_t why_len);
void lang_registry_free(struct lang_registry *reg);
size_t lang_count(const struct lang_registry *reg);
const struct lang *lang_at(const struct lang_registry *reg, size_t i);
/* By id or alias, case-insensitive; NULL when unknown. */
const struct lang *lang_find(const struct lang_registry *reg, const char *id);
/* Like lang_probe, but first looks in DIR/versions/<id> for the version
 * found last time, valid while the toolchain's programs are the same files
 * (device, inode, size, mtime); writes the record after a probe. */
void lang_probe_cached(struct lang *lang, const char *dir);
/* Runs the version probe on the host (once per lang; cached in the
 * struct): sets version and available. */
void lang_probe(struct lang *lang);
/* lang_probe_cached (lang_probe when DIR is NULL) for every language of
 * the registry. */
void lang_probe_all(struct lang_registry *reg, const char *dir);

/* The environment of its compile and runs: sandbox_default_env plus the
 * language's, the latter winning (an array of borrowed strings; free it). */
char **lang_env(const struct lang *lang);
/* The host path of its preloader, if it has one and that is there
 * (executable, beside the running binary): 0, or -errno. */
int lang_preloader(const struct lang *lang, char *path, size_t len);

struct lang_vars {
	const char *source;            /* entry file name in /box */
	const char *const *sources;    /* every file name, NULL-terminated */
	const char *const *args;       /* program arguments, NULL-terminated */
	uint64_t memory_mb;
};

/* Expands a template into a new NULL-terminated argv (free with
 * lang_argv_free).  Returns 0 or -errno (-EINVAL: unknown placeholder). */
int lang_expand(const char *const *tmpl, const struct lang_vars *vars, char ***argv);
void lang_argv_free(char **argv);

/* Where etc/languages is: $RUNCELL_LANGUAGES, else next to the binary
 * (../etc/languages from build/runcell), else /etc/runcell/languages. */
const char *lang_default_dir(char *buf, size_t len);

#endif
