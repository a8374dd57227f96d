/*
 * lang: the registry of languages (see lang.h), loaded from data files.
 *
 * Data file format: DIR/<id>.json, one JSON object per language, parsed
 * strictly (core/json.h: at most 64 KiB, depth 8, strings of 4096 bytes).
 * Unknown keys, wrong types and out-of-range values are errors that name
 * the file and the key.  Files whose name does not end in ".json" (or that
 * start with '.') are ignored.
 *
 *   "id"         string, required: [a-z0-9_+.-], at most 32 bytes; must
 *                equal the file name without ".json"
 *   "name"       string, required: for people ("Python 3")
 *   "aliases"    [string]: other names (case-insensitive, unique across
 *                every file, as ids are); [A-Za-z0-9_+#.-]
 *   "source"     string | null: the name the entry file gets in /box
 *                ("Main.java"); a plain file name; null keeps the name
 *   "compile"    [string] | null: argv template of the compile (in /box)
 *   "run"        [string], required: argv template of the run
 *   "version"    [string], required: argv run on the host to detect the
 *                version (first non-empty line of stdout, else stderr)
 *   "env"        [string]: "NAME=VALUE" added for compile and run
 *   "binds"      [string]: absolute host paths bound read-only at the
 *                same path in the cell (/etc/java-17-openjdk)
 *   "artifacts"  [string]: what the run needs from the compile's /box:
 *                plain file names or "*.ext"; required (non-empty) when
 *                "compile" is set, empty otherwise
 *   "compile_limits" object | null: overrides of the default limits for
 *                the compile: "cpu_ms", "wall_ms", "memory_mb",
 *                "processes", "file_size_mb", "disk_mb", "output_kb"
 *   "run_processes_min"   integer >= 0: the run gets at least this many
 *                processes/threads (a JVM starts ~20 threads)
 *   "run_memory_extra_mb" integer >= 0: runtime overhead added to the
 *                run's memory limit ({memory_mb} stays the asked limit)
 *   "memory_errors" [string]: texts that, found in the stderr of a run
 *                that failed, mean the runtime ran out of its own heap
 *                ("java.lang.OutOfMemoryError"): judged as memory_limit
 *   "preload"    string | null: a preloader, a binary beside runcell's
 *                ("runcell-python"), that starts the run's program (run[0])
 *                once per warm cell and forks each run from it (the server;
 *                docs/SANDBOX.md); only without "compile"
 *
 * argv templates: argv[0] must be an absolute path (the cell's PATH is
 * not the login PATH), or "./NAME" for a compiled artifact in /box.
 * Placeholders: {source} {sources} {main} {args} {memory_mb} as whole
 * elements; {source}, {main} and {memory_mb} also inside an element
 * ("-Xmx{memory_mb}m").  {sources} and {args} expand to several elements
 * and must stand alone.  Any other "{word}" is an error at load time.
 */
#include "lang/lang.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/dir.h"
#include "core/json.h"

#define LANG_MAX_FILE (64 * 1024)
#define LANG_MAX_FILES 256
#define LANG_MAX_ARRAY 64
#define LANG_MAX_STRING 4096
#define LANG_MAX_ID 32
#define LANG_PROBE_TIMEOUT_MS 5000
#define LANG_VERSION_MAX 200

struct lang_registry {
	struct lang **langs;
	size_t n;
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */

struct loader {
	const char *file;   /* path for messages */
	char *why;
	size_t why_len;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct loader *ld, const char *key, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->why && ld->why_len) {
		if (key)
			snprintf(ld->why, ld->why_len, "%s: \"%s\": %s", ld->file, key, msg);
		else
			snprintf(ld->why, ld->why_len, "%s: %s", ld->file, msg);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Freeing                                                             */

void lang_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static void lang_free(struct lang *l)
{
	if (!l)
		return;
	free(l->id);
	free(l->name);
	lang_argv_free(l->aliases);
	free(l->source);
	lang_argv_free(l->compile);
	lang_argv_free(l->run);
	lang_argv_free(l->version_cmd);
	lang_argv_free(l->env);
	lang_argv_free(l->binds);
	lang_argv_free(l->artifacts);
	lang_argv_free(l->memory_errors);
	free(l->preload);
	free(l->version);
	free(l->file);
	free(l);
}

void lang_registry_free(struct lang_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		lang_free(reg->langs[i]);
	free(reg->langs);
	free(reg);
}

/* ------------------------------------------------------------------ */
/* Field checks                                                        */

static bool has_nul(const struct json_value *v)
{
	return strlen(v->u.str.s) != v->u.str.len;
}

static bool chars_ok(const char *s, const char *extra, bool upper)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') || (c && strchr(extra, c)))
			continue;
		return false;
	}
	return true;
}

static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int get_string(struct loader *ld, const struct json_value *obj, const char *key,
		      bool required, char **out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL) {
		if (required)
			return fail(ld, key, "missing (a string is required)");
		return 0;
	}
	if (v->type != JSON_STRING)
		return fail(ld, key, "expected a string, got %s", json_type_name(v->type));
	if (v->u.str.len == 0)
		return fail(ld, key, "must not be empty");
	if (has_nul(v))
		return fail(ld, key, "must not contain NUL");
	*out = strdup(v->u.str.s);
	return *out ? 0 : -ENOMEM;
}

/* A list of strings; null (when nullable) or missing leaves *out NULL
 * when null_ok, else an empty list. */
static int get_list(struct loader *ld, const struct json_value *obj, const char *key,
		    bool required, bool null_ok, char ***out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL) {
		if (required)
			return fail(ld, key, "missing (an array of strings is required)");
		if (v && !null_ok)
			return fail(ld, key, "expected an array of strings, got null");
		if (null_ok)
			return 0;
		*out = calloc(1, sizeof(char *));
		return *out ? 0 : -ENOMEM;
	}
	if (v->type != JSON_ARRAY)
		return fail(ld, key, "expected an array of strings, got %s",
			    json_type_name(v->type));
	size_t n = v->u.arr.n;
	if (n > LANG_MAX_ARRAY)
		return fail(ld, key, "more than %d elements", LANG_MAX_ARRAY);
	char **list = calloc(n + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct json_value *e = &v->u.arr.items[i];
		if (e->type != JSON_STRING) {
			lang_argv_free(list);
			return fail(ld, key, "element %zu: expected a string, got %s", i,
				    json_type_name(e->type));
		}
		if (has_nul(e)) {
			lang_argv_free(list);
			return fail(ld, key, "element %zu: must not contain NUL", i);
		}
		list[i] = strdup(e->u.str.s);
		if (!list[i]) {
			lang_argv_free(list);
			return -ENOMEM;
		}
	}
	*out = list;
	return 0;
}

static int get_uint(struct loader *ld, const struct json_value *obj, const char *key,
		    const char *shown, uint64_t min, uint64_t max, uint64_t *out)
{
	const struct json_value *v = json_get(obj, key);
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_NUMBER || !v->u.num.is_int)
		return fail(ld, shown, "expected an integer, got %s",
			    v->type == JSON_NUMBER ? "a fraction" : json_type_name(v->type));
	if (v->u.num.i < 0 || (uint64_t)v->u.num.i < min || (uint64_t)v->u.num.i > max)
		return fail(ld, shown, "%" PRId64 " is out of range [%" PRIu64 ", %" PRIu64 "]",
			    v->u.num.i, min, max);
	*out = (uint64_t)v->u.num.i;
	return 0;
}

/* Checks every "{word}" in a template element.  whole: the element is a
 * single placeholder.  Returns 0, or -EINVAL with *bad naming the issue. */
enum ph { PH_NONE, PH_SOURCE, PH_SOURCES, PH_MAIN, PH_ARGS, PH_MEMORY, PH_UNKNOWN };

static enum ph ph_of(const char *s, size_t len)
{
	static const struct { const char *name; enum ph ph; } names[] = {
		{ "source", PH_SOURCE }, { "sources", PH_SOURCES }, { "main", PH_MAIN },
		{ "args", PH_ARGS }, { "memory_mb", PH_MEMORY },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !memcmp(names[i].name, s, len))
			return names[i].ph;
	return PH_UNKNOWN;
}

/* Finds the next "{word}" (word: [a-z_]+) at or after s; returns its start
 * or NULL, with *len the length of the whole "{word}". */
static const char *next_ph(const char *s, size_t *len)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		const char *q = p + 1;
		while ((*q >= 'a' && *q <= 'z') || *q == '_')
			q++;
		if (*q == '}' && q > p + 1) {
			*len = (size_t)(q - p) + 1;
			return p;
		}
	}
	return NULL;
}

static int check_template(struct loader *ld, const char *key, char **argv, bool placeholders,
			  bool relative_ok)
{
	if (!argv[0])
		return fail(ld, key, "must not be empty");
	if (argv[0][0] != '/' && !(relative_ok && !strncmp(argv[0], "./", 2) && argv[0][2]))
		return fail(ld, key, "the program \"%s\" must be an absolute path%s", argv[0],
			    relative_ok ? " or ./NAME" : "");
	for (size_t i = 0; argv[i]; i++) {
		const char *s = argv[i];
		size_t len;
		for (const char *p = next_ph(s, &len); p; p = next_ph(p + len, &len)) {
			enum ph ph = ph_of(p + 1, len - 2);
			if (!placeholders)
				return fail(ld, key, "element %zu: no placeholder allowed here (%.*s)",
					    i, (int)len, p);
			if (ph == PH_UNKNOWN)
				return fail(ld, key, "element %zu: unknown placeholder %.*s", i,
					    (int)len, p);
			if ((ph == PH_SOURCES || ph == PH_ARGS) && (p != s || s[len]))
				return fail(ld, key, "element %zu: %.*s must be a whole element",
					    i, (int)len, p);
			if (i == 0)
				return fail(ld, key, "element 0: the program cannot be a placeholder");
		}
	}
	return 0;
}

static const char *const top_keys[] = {
	"id", "name", "aliases", "source", "compile", "run", "version", "env", "binds",
	"artifacts", "compile_limits", "run_processes_min", "run_memory_extra_mb",
	"memory_errors", "preload",
};
static const char *const limit_keys[] = {
	"cpu_ms", "wall_ms", "memory_mb", "processes", "file_size_mb", "disk_mb", "output_kb",
};

static int check_keys(struct loader *ld, const struct json_value *obj, const char *prefix,
		      const char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < obj->u.obj.n; i++) {
		const struct json_member *m = &obj->u.obj.members[i];
		bool known = false;
		for (size_t k = 0; k < nkeys && !known; k++)
			known = strlen(keys[k]) == m->key_len && !memcmp(keys[k], m->key, m->key_len);
		if (!known) {
			char shown[160];
			snprintf(shown, sizeof(shown), "%s%s", prefix, m->key);
			return fail(ld, shown, "unknown key");
		}
	}
	return 0;
}

static int parse_limits(struct loader *ld, const struct json_value *root, struct lang *l)
{
	sandbox_limits_default(&l->compile_limits);
	const struct json_value *v = json_get(root, "compile_limits");
	if (!v || v->type == JSON_NULL)
		return 0;
	if (v->type != JSON_OBJECT)
		return fail(ld, "compile_limits", "expected an object, got %s",
			    json_type_name(v->type));
	int rc = check_keys(ld, v, "compile_limits.", limit_keys,
			    sizeof(limit_keys) / sizeof(limit_keys[0]));
	if (rc)
		return rc;
	struct sandbox_limits *lim = &l->compile_limits;
	const uint64_t day_ms = 24ull * 3600 * 1000, tb_mb = 1ull << 20;
	uint64_t mem = lim->memory_kb / 1024, fs = lim->file_size_kb / 1024,
		 disk = lim->disk_kb / 1024, procs = lim->processes;
	if ((rc = get_uint(ld, v, "cpu_ms", "compile_limits.cpu_ms", 1, day_ms, &lim->cpu_ms)) ||
	    (rc = get_uint(ld, v, "wall_ms", "compile_limits.wall_ms", 1, day_ms, &lim->wall_ms)) ||
	    (rc = get_uint(ld, v, "memory_mb", "compile_limits.memory_mb", 1, tb_mb, &mem)) ||
	    (rc = get_uint(ld, v, "processes", "compile_limits.processes", 1, 1000000, &procs)) ||
	    (rc = get_uint(ld, v, "file_size_mb", "compile_limits.file_size_mb", 1, tb_mb, &fs)) ||
	    (rc = get_uint(ld, v, "disk_mb", "compile_limits.disk_mb", 1, tb_mb, &disk)) ||
	    (rc = get_uint(ld, v, "output_kb", "compile_limits.output_kb", 1, 1024 * 1024,
			   &lim->output_kb)))
		return rc;
	lim->memory_kb = mem * 1024;
	lim->file_size_kb = fs * 1024;
	lim->disk_kb = disk * 1024;
	lim->processes = (uint32_t)procs;
	const char *field = NULL;
	if (sandbox_limits_check(lim, &field) < 0) {
		char shown[80];
		snprintf(shown, sizeof(shown), "compile_limits.%s", field ? field : "?");
		return fail(ld, shown, "out of range");
	}
	return 0;
}

static int parse_lang(struct loader *ld, const struct json_value *root, const char *stem,
		      struct lang *l)
{
	int rc;
	if (root->type != JSON_OBJECT)
		return fail(ld, NULL, "expected a JSON object, got %s", json_type_name(root->type));
	rc = check_keys(ld, root, "", top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
	if (rc)
		return rc;
	if ((rc = get_string(ld, root, "id", true, &l->id)) ||
	    (rc = get_string(ld, root, "name", true, &l->name)) ||
	    (rc = get_list(ld, root, "aliases", false, false, &l->aliases)) ||
	    (rc = get_string(ld, root, "source", false, &l->source)) ||
	    (rc = get_list(ld, root, "compile", false, true, &l->compile)) ||
	    (rc = get_list(ld, root, "run", true, false, &l->run)) ||
	    (rc = get_list(ld, root, "version", true, false, &l->version_cmd)) ||
	    (rc = get_list(ld, root, "env", false, false, &l->env)) ||
	    (rc = get_list(ld, root, "binds", false, false, &l->binds)) ||
	    (rc = get_list(ld, root, "artifacts", false, false, &l->artifacts)) ||
	    (rc = get_list(ld, root, "memory_errors", false, false, &l->memory_errors)) ||
	    (rc = get_string(ld, root, "preload", false, &l->preload)))
		return rc;
	if (l->preload && !plain_name(l->preload))
		return fail(ld, "preload", "\"%s\" must be a plain file name", l->preload);
	if (l->preload && l->compile)
		return fail(ld, "preload", "only for a language without \"compile\"");

	if (strlen(l->id) > LANG_MAX_ID || !chars_ok(l->id, "_+.-", false))
		return fail(ld, "id", "\"%s\" must be 1-%d of [a-z0-9_+.-]", l->id, LANG_MAX_ID);
	if (strcmp(l->id, stem))
		return fail(ld, "id", "\"%s\" does not match the file name (%s.json)", l->id,
			    stem);
	for (char **a = l->aliases; *a; a++)
		if (strlen(*a) > LANG_MAX_ID || !chars_ok(*a, "_+#.-", true))
			return fail(ld, "aliases", "\"%s\" must be 1-%d of [A-Za-z0-9_+#.-]", *a,
				    LANG_MAX_ID);
	if (l->source && !plain_name(l->source))
		return fail(ld, "source", "\"%s\" must be a plain file name", l->source);
	if (l->compile && (rc = check_template(ld, "compile", l->compile, true, false)))
		return rc;
	if ((rc = check_template(ld, "run", l->run, true, true)) ||
	    (rc = check_template(ld, "version", l->version_cmd, false, false)))
		return rc;
	for (char **e = l->env; *e; e++) {
		const char *eq = strchr(*e, '=');
		bool ok = eq && eq != *e && !isdigit((unsigned char)**e);
		for (const char *p = *e; ok && p < eq; p++)
			ok = isalnum((unsigned char)*p) || *p == '_';
		if (!ok)
			return fail(ld, "env", "\"%s\" is not NAME=VALUE", *e);
	}
	for (char **b = l->binds; *b; b++)
		if ((*b)[0] != '/' || !strcmp(*b, "/") || strstr(*b, "/../") ||
		    (strlen(*b) >= 3 && !strcmp(*b + strlen(*b) - 3, "/..")))
			return fail(ld, "binds", "\"%s\" must be an absolute path without \"..\"",
				    *b);
	for (char **a = l->artifacts; *a; a++) {
		const char *name = !strncmp(*a, "*.", 2) ? *a + 2 : *a;
		if (!plain_name(name) || strchr(name, '*'))
			return fail(ld, "artifacts", "\"%s\" must be a file name or *.ext", *a);
	}
	if (l->compile && !l->artifacts[0])
		return fail(ld, "artifacts", "required when \"compile\" is set");
	if (!l->compile && l->artifacts[0])
		return fail(ld, "artifacts", "only meaningful with \"compile\"");
	if ((rc = parse_limits(ld, root, l)))
		return rc;
	uint64_t procs = 0, extra = 0;
	if ((rc = get_uint(ld, root, "run_processes_min", "run_processes_min", 0, 1000000,
			   &procs)) ||
	    (rc = get_uint(ld, root, "run_memory_extra_mb", "run_memory_extra_mb", 0, 1u << 20,
			   &extra)))
		return rc;
	l->run_processes_min = (uint32_t)procs;
	l->run_memory_extra_kb = extra * 1024;
	return 0;
}

char **lang_env(const struct lang *l)
{
	size_t nbase = 0, n = 0;
	while (sandbox_default_env[nbase])
		nbase++;
	for (char **e = l->env; e && *e; e++)
		n++;
	char **env = calloc(nbase + n + 1, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < nbase; i++) {
		const char *base = sandbox_default_env[i], *eq = strchr(base, '=');
		bool overridden = false;
		for (char **e = l->env; e && *e; e++)
			if (!strncmp(*e, base, (size_t)(eq - base) + 1))
				overridden = true;
		if (!overridden)
			env[k++] = (char *)base;
	}
	for (char **e = l->env; e && *e; e++)
		env[k++] = *e;
	env[k] = NULL;
	return env;
}

int lang_preloader(const struct lang *l, char *path, size_t len)
{
	if (!l->preload)
		return -ENOENT;
	char self[PATH_MAX];
	int rc = dir_of_self(self, sizeof(self));
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(path, len, "%s/%s", self, l->preload) >= len)
		return -ENAMETOOLONG;
	return access(path, X_OK) < 0 ? -errno : 0;
}

/* The buffer is sized by fstat, one byte over to see a file that grew
 * since (then it grows up to the cap): a 64 KiB buffer per file is a
 * mapping of its own in musl, and unmapping it flushes the TLB of every
 * CPU the process ran on (runcell languages, eleven files: 1.12 ms, then
 * 1.03 ms with this). */
static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > LANG_MAX_FILE) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (buf && n == cap && cap < LANG_MAX_FILE + 1) {
			cap = LANG_MAX_FILE + 1;
			char *bigger = realloc(buf, cap);
			if (!bigger)
				free(buf);
			buf = bigger;
		}
		if (!buf) {
			close(fd);
			return -ENOMEM;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > LANG_MAX_FILE) {
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	*text = buf;
	*len = n;
	return 0;
}

static int load_file(const char *dir, const char *name, struct lang **out, char *why,
		     size_t why_len)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		snprintf(why, why_len, "%s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	struct loader ld = { path, why, why_len };
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len);
	if (rc == -EFBIG)
		return fail(&ld, NULL, "larger than %d bytes", LANG_MAX_FILE);
	if (rc == -EINVAL)
		return fail(&ld, NULL, "not a regular file");
	if (rc < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	struct json_limits lim = { LANG_MAX_FILE, 8, LANG_MAX_STRING };
	struct json_value *root = NULL;
	struct json_error jerr;
	rc = json_parse(text, len, &lim, &root, &jerr);
	free(text);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return fail(&ld, NULL, "invalid JSON at byte %zu: %s", jerr.offset, jerr.message);
	struct lang *l = calloc(1, sizeof(*l));
	if (!l) {
		json_free(root);
		return -ENOMEM;
	}
	char stem[NAME_MAX + 1];
	snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(name) - 5), name);
	rc = parse_lang(&ld, root, stem, l);
	json_free(root);
	if (rc == 0 && !(l->file = strdup(path)))
		rc = -ENOMEM;
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(why, why_len, "%s: out of memory", path);
		lang_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* qsort hands the comparator pointers to the elements (char **), so
 * strcmp itself would compare the bytes of the pointers. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_lang(const void *a, const void *b)
{
	const struct lang *x = *(const struct lang *const *)a, *y = *(const struct lang *const *)b;
	return strcmp(x->id, y->id);
}

/* The names (id and aliases) must be unique, case-insensitively. */
static int check_unique(struct lang_registry *reg, char *why, size_t why_len)
{
	struct name { const char *s; const struct lang *l; } *names = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < reg->n; i++) {
		const struct lang *l = reg->langs[i];
		for (size_t k = 0; k == 0 || l->aliases[k - 1]; k++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				struct name *nn = realloc(names, cap * sizeof(*names));
				if (!nn) {
					free(names);
					return -ENOMEM;
				}
				names = nn;
			}
			names[n].s = k == 0 ? l->id : l->aliases[k - 1];
			names[n++].l = l;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			if (strcasecmp(names[i].s, names[j].s))
				continue;
			if (names[i].l == names[j].l)
				snprintf(why, why_len, "%s: \"aliases\": \"%s\" is listed twice",
					 names[j].l->file, names[j].s);
			else
				snprintf(why, why_len, "%s: the name \"%s\" is also used by %s",
					 names[j].l->file, names[j].s, names[i].l->file);
			free(names);
			return -EINVAL;
		}
	free(names);
	return 0;
}

int lang_registry_load(const char *dir, struct lang_registry **out, char *why, size_t why_len)
{
	*out = NULL;
	if (why && why_len)
		why[0] = 0;
	char dummy[8];
	if (!why || !why_len) {
		why = dummy;
		why_len = sizeof(dummy);
	}
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", dir, strerror(e));
		return -e;
	}
	/* Read the names first and sort them, so errors are deterministic. */
	char **names = NULL;
	size_t nnames = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		if (nnames == LANG_MAX_FILES) {
			snprintf(why, why_len, "%s: more than %d language files", dir,
				 LANG_MAX_FILES);
			rc = -E2BIG;
			break;
		}
		char **n2 = realloc(names, (nnames + 1) * sizeof(char *));
		if (!n2 || !(n2[nnames] = strdup(de->d_name))) {
			names = n2 ? n2 : names;
			rc = -ENOMEM;
			break;
		}
		names = n2;
		nnames++;
	}
	closedir(d);
	struct lang_registry *reg = calloc(1, sizeof(*reg));
	if (!reg && !rc)
		rc = -ENOMEM;
	if (!rc && nnames == 0) {
		snprintf(why, why_len, "%s: no language files (*.json)", dir);
		rc = -ENOENT;
	}
	if (!rc) {
		qsort(names, nnames, sizeof(char *), cmp_name);
		reg->langs = calloc(nnames, sizeof(struct lang *));
		if (!reg->langs)
			rc = -ENOMEM;
	}
	for (size_t i = 0; !rc && i < nnames; i++) {
		rc = load_file(dir, names[i], &reg->langs[reg->n], why, why_len);
		if (!rc)
			reg->n++;
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (!rc) {
		qsort(reg->langs, reg->n, sizeof(struct lang *), cmp_lang);
		rc = check_unique(reg, why, why_len);
	}
	if (rc) {
		if (rc == -ENOMEM && !why[0])
			snprintf(why, why_len, "out of memory");
		lang_registry_free(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

/* A name that can be a language file's id (which is the file's name), as
 * parse_lang checks ids; not a hidden file's, which loading skips. */
static bool plain_id(const char *name)
{
	return name[0] != '.' && strlen(name) <= LANG_MAX_ID && chars_ok(name, "_+.-", false);
}

int lang_registry_load_for(const char *dir, const char *name, struct lang_registry **out,
			   char *why, size_t why_len)
{
	*out = NULL;
	if (name && plain_id(name)) {
		char file[80];
		snprintf(file, sizeof(file), "%s.json", name);
		struct lang_registry *reg = calloc(1, sizeof(*reg));
		if (!reg || !(reg->langs = calloc(1, sizeof(struct lang *)))) {
			free(reg);
			return -ENOMEM;
		}
		int rc = load_file(dir, file, &reg->langs[0], why, why_len);
		if (rc == 0) {
			reg->n = 1;
			*out = reg;
			return 0;
		}
		lang_registry_free(reg);
		if (rc != -ENOENT)
			return rc;
	}
	return lang_registry_load(dir, out, why, why_len);
}

size_t lang_count(const struct lang_registry *reg)
{
	return reg ? reg->n : 0;
}

const struct lang *lang_at(const struct lang_registry *reg, size_t i)
{
	return reg && i < reg->n ? reg->langs[i] : NULL;
}

const struct lang *lang_find(const struct lang_registry *reg, const char *id)
{
	if (!reg || !id)
		return NULL;
	for (size_t i = 0; i < reg->n; i++) {
		const struct lang *l = reg->langs[i];
		if (!strcasecmp(l->id, id))
			return l;
		for (char **a = l->aliases; *a; a++)
			if (!strcasecmp(*a, id))
				return l;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Version probe                                                       */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* First non-empty line of s[0..n), trimmed, or NULL. */
static char *first_line(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != '\n')
			j++;
		size_t a = i, b = j;
		while (a < b && isspace((unsigned char)s[a]))
			a++;
		while (b > a && isspace((unsigned char)s[b - 1]))
			b--;
		if (b > a) {
			if (b - a > LANG_VERSION_MAX)
				b = a + LANG_VERSION_MAX;
			char *line = strndup(s + a, b - a);
			if (line)
				for (char *p = line; *p; p++)
					if ((unsigned char)*p < 0x20 || *p == 0x7f)
						*p = ' ';
			return line;
		}
		i = j + 1;
	}
	return NULL;
}

static bool executable(const char *path)
{
	struct stat st;
	return path[0] == '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* Runs argv with a clean environment; 0 with the outputs (at most 4 KiB
 * each) and the wait status, or -errno. */
static int probe_run(char *const *argv, char *out, size_t *out_len, char *err, size_t *err_len,
		     int *status)
{
	static char *const envp[] = { "PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8",
				      "LC_ALL=C.UTF-8", NULL };
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		int e = -errno;
		close(po[0]);
		close(po[1]);
		return e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return e;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls: the caller may have threads. */
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(126);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &sa, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	char *bufs[2] = { out, err };
	size_t *lens[2] = { out_len, err_len };
	*out_len = *err_len = 0;
	const size_t cap = 4096;
	uint64_t deadline = now_ms() + LANG_PROBE_TIMEOUT_MS;
	bool timed_out = false;
	int open_fds = 2;
	while (open_fds > 0) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		int r = poll(fds, 2, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			char tmp[1024];
			ssize_t n = read(fds[i].fd, tmp, sizeof(tmp));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			size_t keep = (size_t)n;
			if (keep > cap - *lens[i])
				keep = cap - *lens[i];
			memcpy(bufs[i] + *lens[i], tmp, keep);
			*lens[i] += keep;
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	/* The whole group goes: a version probe has no business lingering. */
	if (timed_out || open_fds > 0)
		kill(-pid, SIGKILL);
	int st = 0;
	uint64_t wait_deadline = now_ms() + (timed_out ? 1000 : LANG_PROBE_TIMEOUT_MS);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= wait_deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			timed_out = true;
			break;
		}
		usleep(2000);
	}
	kill(-pid, SIGKILL); /* leftovers of the group, if any */
	*status = st;
	return timed_out ? -ETIMEDOUT : 0;
}

void lang_probe(struct lang *l)
{
	if (!l || l->probed)
		return;
	l->probed = true;
	l->available = false;
	free(l->version);
	l->version = NULL;
	/* Every program named by path and every bind must exist. */
	if (!executable(l->version_cmd[0]) || (l->run[0][0] == '/' && !executable(l->run[0])) ||
	    (l->compile && !executable(l->compile[0])))
		return;
	for (char **b = l->binds; *b; b++)
		if (access(*b, R_OK) != 0)
			return;
	char out[4096], err[4096];
	size_t out_len = 0, err_len = 0;
	int status = 0;
	if (probe_run(l->version_cmd, out, &out_len, err, &err_len, &status) < 0)
		return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return;
	char *line = first_line(out, out_len);
	if (!line)
		line = first_line(err, err_len);
	if (!line)
		return;
	l->version = line;
	l->available = true;
}

/* What identifies the installed toolchain: device, inode, size and
 * modification time of every program the definition names. */
static void toolchain_identity(const struct lang *l, char *out, size_t len)
{
	size_t off = 0;
	char **lists[] = { l->version_cmd, l->compile, l->run };
	out[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!lists[i] || lists[i][0][0] != '/')
			continue;
		struct stat st;
		if (stat(lists[i][0], &st) < 0)
			continue;
		int n = snprintf(out + off, len - off, "%lx:%lx:%lld:%lld.%09ld;",
				 (unsigned long)st.st_dev, (unsigned long)st.st_ino,
				 (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				 st.st_mtim.tv_nsec);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

void lang_probe_cached(struct lang *l, const char *dir)
{
	if (!l || l->probed)
		return;
	char path[4096], ident[1024], text[2048];
	toolchain_identity(l, ident, sizeof(ident));
	int n = dir ? snprintf(path, sizeof(path), "%s/versions/%s", dir, l->id) : -1;
	if (n > 0 && (size_t)n < sizeof(path)) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t got = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		char *nl = got > 0 ? (text[got] = '\0', strchr(text, '\n')) : NULL;
		bool binds_ok = true;
		for (char **b = l->binds; b && *b; b++)
			if (access(*b, R_OK) != 0)
				binds_ok = false;
		if (nl && binds_ok && (size_t)(nl - text) == strlen(ident) &&
		    !strncmp(text, ident, strlen(ident)) && nl[1]) {
			char *end = strchr(nl + 1, '\n');
			if (end)
				*end = '\0';
			l->version = strdup(nl + 1);
			l->available = l->version != NULL;
			l->probed = true;
			return;
		}
	}
	lang_probe(l);
	if (!l->available || n <= 0 || (size_t)n >= sizeof(path))
		return;
	/* Written whole under a temporary name, then renamed: a reader sees
	 * the old record or the new one. */
	char vdir[4096], tmp[4200];
	snprintf(vdir, sizeof(vdir), "%s/versions", dir);
	/* The whole path: a language that compiles nothing opens no compile
	 * cache, and without the directory every run would probe again. */
	if (dir_create_all(vdir, 0700) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int len = snprintf(text, sizeof(text), "%s\n%s\n", ident, l->version);
	bool ok = len > 0 && (size_t)len < sizeof(text) && write(fd, text, (size_t)len) == len;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

void lang_probe_all(struct lang_registry *reg, const char *dir)
{
	for (size_t i = 0; reg && i < reg->n; i++)
		lang_probe_cached(reg->langs[i], dir);
}

/* ------------------------------------------------------------------ */
/* Templates                                                           */

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

/* Appends to a growing argv; takes ownership of s. */
static int push(char ***argv, size_t *n, size_t *cap, char *s)
{
	if (!s)
		return -ENOMEM;
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **a = realloc(*argv, nc * sizeof(char *));
		if (!a) {
			free(s);
			return -ENOMEM;
		}
		*argv = a;
		*cap = nc;
	}
	(*argv)[(*n)++] = s;
	(*argv)[*n] = NULL;
	return 0;
}

/* Expands one element with in-place placeholders into a new string. */
static int expand_inline(const char *s, const struct lang_vars *vars, const char *main_name,
			 char **out)
{
	size_t cap = strlen(s) + 1, len = 0;
	char *r = malloc(cap);
	if (!r)
		return -ENOMEM;
	const char *p = s;
	size_t plen;
	for (;;) {
		const char *ph = next_ph(p, &plen);
		const char *lit_end = ph ? ph : p + strlen(p);
		char num[32];
		const char *val = NULL;
		if (ph) {
			switch (ph_of(ph + 1, plen - 2)) {
			case PH_SOURCE:
				val = vars->source;
				break;
			case PH_MAIN:
				val = main_name;
				break;
			case PH_MEMORY:
				snprintf(num, sizeof(num), "%" PRIu64, vars->memory_mb);
				val = num;
				break;
			default:
				val = NULL;
			}
			if (!val) {
				free(r);
				return -EINVAL;
			}
		}
		size_t add = (size_t)(lit_end - p) + (val ? strlen(val) : 0);
		if (len + add + 1 > cap) {
			size_t nc = (len + add + 1) * 2;
			char *r2 = realloc(r, nc);
			if (!r2) {
				free(r);
				return -ENOMEM;
			}
			r = r2;
			cap = nc;
		}
		memcpy(r + len, p, (size_t)(lit_end - p));
		len += (size_t)(lit_end - p);
		if (!ph)
			break;
		memcpy(r + len, val, strlen(val));
		len += strlen(val);
		p = ph + plen;
	}
	r[len] = 0;
	*out = r;
	return 0;
}

int lang_expand(const char *const *tmpl, const struct lang_vars *vars, char ***argv)
{
	*argv = NULL;
	if (!tmpl || !vars)
		return -EINVAL;
	char *main_name = NULL;
	if (vars->source) {
		const char *b = base_name(vars->source);
		const char *dot = strrchr(b, '.');
		main_name = strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
		if (!main_name)
			return -ENOMEM;
	}
	size_t n = 0, cap = 1;
	char **out = calloc(1, sizeof(char *));
	int rc = out ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && tmpl[i]; i++) {
		const char *s = tmpl[i];
		if (!strcmp(s, "{sources}") || !strcmp(s, "{args}")) {
			const char *const *list = s[1] == 's' ? vars->sources : vars->args;
			if (s[1] == 's' && !list && vars->source) {
				rc = push(&out, &n, &cap, strdup(vars->source));
				continue;
			}
			for (size_t k = 0; rc == 0 && list && list[k]; k++)
				rc = push(&out, &n, &cap, strdup(list[k]));
			continue;
		}
		char *e = NULL;
		rc = expand_inline(s, vars, main_name, &e);
		if (rc == 0)
			rc = push(&out, &n, &cap, e);
	}
	free(main_name);
	if (rc) {
		lang_argv_free(out);
		return rc;
	}
	*argv = out;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Where the data files are                                            */

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *lang_default_dir(char *buf, size_t len)
{
	const char *env = getenv("RUNCELL_LANGUAGES");
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	char exe[PATH_MAX];
	if (dir_of_self(exe, sizeof(exe)) == 0) {
		char cand[PATH_MAX + 32];
		snprintf(cand, sizeof(cand), "%s/../etc/languages", exe);
		char real[PATH_MAX];
		if (is_dir(cand) && realpath(cand, real) && strlen(real) < len) {
			snprintf(buf, len, "%s", real);
			return buf;
		}
	}
	snprintf(buf, len, "%s", "/etc/runcell/languages");
	return buf;
}
