/*
 * Unit tests for the language registry: the real etc/languages, malformed
 * data files (each a clear error naming file and key), lookups, template
 * expansion and the version probe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lang/lang.h"
#include "test.h"

static struct lang_registry *load_real(void)
{
	unsetenv("RUNCELL_LANGUAGES");
	char dir[4096];
	lang_default_dir(dir, sizeof(dir));
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(dir, &reg, why, sizeof(why));
	if (rc != 0)
		FAIL("loading %s: %d %s", dir, rc, why);
	return reg;
}

TEST(lang_real_all_load)
{
	struct lang_registry *reg = load_real();
	static const char *const ids[] = { "c", "cpp", "python3", "javascript", "java", "rust",
					   "go", "bash", "ruby", "php", "lua" };
	ASSERT_EQ(lang_count(reg), 11);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const struct lang *l = lang_find(reg, ids[i]);
		if (!l)
			FAIL("language %s missing", ids[i]);
		ASSERT_STR(l->id, ids[i]);
		ASSERT_NOT_NULL(l->run);
		ASSERT_NOT_NULL(l->run[0]);
		ASSERT_TRUE(l->run[0][0] == '/' || !strncmp(l->run[0], "./", 2));
		ASSERT_EQ(l->version_cmd[0][0], '/');
		ASSERT_NOT_NULL(l->source);
		ASSERT_FALSE(l->probed);
		ASSERT_NULL(l->version);
		if (l->compile) {
			ASSERT_EQ(l->compile[0][0], '/');
			ASSERT_NOT_NULL(l->artifacts[0]);
		}
	}
	/* sorted by id */
	for (size_t i = 1; i < lang_count(reg); i++)
		ASSERT_LT(strcmp(lang_at(reg, i - 1)->id, lang_at(reg, i)->id), 0);
	ASSERT_NULL(lang_at(reg, lang_count(reg)));
	lang_registry_free(reg);
}

TEST(lang_find_alias_case_insensitive)
{
	struct lang_registry *reg = load_real();
	static const char *const pairs[][2] = {
		{ "python", "python3" }, { "PY", "python3" }, { "Python3", "python3" },
		{ "js", "javascript" }, { "node", "javascript" }, { "c++", "cpp" },
		{ "C++", "cpp" }, { "golang", "go" }, { "rs", "rust" }, { "sh", "bash" },
		{ "rb", "ruby" }, { "JAVA", "java" }, { "c", "c" }, { "Lua", "lua" },
		{ "php", "php" },
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const struct lang *l = lang_find(reg, pairs[i][0]);
		if (!l)
			FAIL("%s not found", pairs[i][0]);
		ASSERT_STR(l->id, pairs[i][1]);
	}
	ASSERT_NULL(lang_find(reg, "cobol"));
	ASSERT_NULL(lang_find(reg, ""));
	ASSERT_NULL(lang_find(reg, "pytho"));
	ASSERT_NULL(lang_find(reg, NULL));
	lang_registry_free(reg);
}

TEST(lang_real_details)
{
	struct lang_registry *reg = load_real();
	const struct lang *java = lang_find(reg, "java");
	ASSERT_STR(java->source, "Main.java");
	ASSERT_STR(java->binds[0], "/etc/java-17-openjdk");
	ASSERT_STR(java->artifacts[0], "*.class");
	ASSERT_GE(java->run_processes_min, 64);
	ASSERT_GT(java->run_memory_extra_kb, 0);
	ASSERT_EQ(java->compile_limits.memory_kb, 1024 * 1024);
	const struct lang *py = lang_find(reg, "python3");
	ASSERT_NULL(py->compile);
	ASSERT_STR(py->run[0], "/usr/bin/python3");
	ASSERT_NULL(py->artifacts[0]);
	ASSERT_NULL(py->env[0]);
	ASSERT_STR(py->preload, "runcell-python");
	ASSERT_NULL(java->preload);
	/* its environment is the runs' default one (what its preloader gets) */
	char **env = lang_env(py);
	for (size_t i = 0; sandbox_default_env[i] || env[i]; i++)
		if (!env[i] || !sandbox_default_env[i] || strcmp(env[i], sandbox_default_env[i]))
			FAIL("lang_env(python3)[%zu] = %s", i, env[i] ? env[i] : "(end)");
	free(env);
	const struct lang *go = lang_find(reg, "go");
	bool gocache = false;
	for (char **e = go->env; *e; e++)
		gocache |= !strncmp(*e, "GOCACHE=", 8);
	ASSERT_TRUE(gocache);
	/* Languages without compile_limits keep the defaults. */
	struct sandbox_limits d;
	sandbox_limits_default(&d);
	ASSERT_EQ(py->compile_limits.cpu_ms, d.cpu_ms);
	/* A given key overrides only itself. */
	const struct lang *c = lang_find(reg, "c");
	ASSERT_EQ(c->compile_limits.cpu_ms, 10000);
	ASSERT_EQ(c->compile_limits.output_kb, d.output_kb);
	ASSERT_TRUE(strstr(c->file, "c.json") != NULL);
	lang_registry_free(reg);
}

/* ------------------------------------------------------------------ */

static char tmpdir[64];

static void mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-lang-XXXXXX");
	if (!mkdtemp(tmpdir))
		FAIL("mkdtemp: %s", strerror(errno));
}

static void rmtmp(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		FAIL("cleanup of %s", tmpdir);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		FAIL("fopen %s", path);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (unlink(path) < 0)
		FAIL("unlink %s", path);
}

#define GOOD_BODY                                                                   \
	"\"name\": \"X\", \"run\": [\"/usr/bin/true\", \"{source}\", \"{args}\"], " \
	"\"version\": [\"/usr/bin/true\"]"

/* Loads a temp dir holding x.json = text; expects failure with every
 * `want` substring in the message (and the file's name). */
static void expect_bad(const char *text, const char *want1, const char *want2)
{
	mktmp();
	write_file("x.json", text);
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	if (rc == 0)
		FAIL("loaded, expected an error with \"%s\": %s", want1, text);
	ASSERT_NULL(reg);
	if (!strstr(why, "x.json"))
		FAIL("message does not name the file: %s", why);
	if (want1 && !strstr(why, want1))
		FAIL("message lacks \"%s\": %s", want1, why);
	if (want2 && !strstr(why, want2))
		FAIL("message lacks \"%s\": %s", want2, why);
}

TEST(lang_minimal_file_loads)
{
	mktmp();
	write_file("x.json", "{\"id\": \"x\", " GOOD_BODY "}");
	write_file("README.md", "not json");
	write_file(".hidden.json", "garbage");
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	if (rc)
		FAIL("%s", why);
	ASSERT_EQ(lang_count(reg), 1);
	const struct lang *l = lang_at(reg, 0);
	ASSERT_STR(l->id, "x");
	ASSERT_NULL(l->source);
	ASSERT_NULL(l->compile);
	ASSERT_NULL(l->aliases[0]);
	ASSERT_NULL(l->binds[0]);
	ASSERT_EQ(l->run_processes_min, 0);
	lang_registry_free(reg);
}

TEST(lang_malformed_files)
{
	expect_bad("{\"id\": \"x\", " GOOD_BODY ",}", "invalid JSON", NULL);
	expect_bad("", "invalid JSON", NULL);
	expect_bad("[1]", "expected a JSON object", NULL);
	expect_bad("{\"id\": \"x\", \"colour\": 1, " GOOD_BODY "}", "\"colour\"", "unknown key");
	expect_bad("{" GOOD_BODY "}", "\"id\"", "missing");
	expect_bad("{\"id\": 7, " GOOD_BODY "}", "\"id\"", "expected a string, got number");
	expect_bad("{\"id\": \"y\", " GOOD_BODY "}", "\"id\"", "file name");
	expect_bad("{\"id\": \"X\", " GOOD_BODY "}", "\"id\"", NULL);
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"version\": [\"/usr/bin/true\"]}",
		   "\"run\"", "missing");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": \"/usr/bin/true\", "
		   "\"version\": [\"/usr/bin/true\"]}", "\"run\"", "expected an array");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [], \"version\": [\"/bin/true\"]}",
		   "\"run\"", "empty");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"python3\"], "
		   "\"version\": [\"/bin/true\"]}", "\"run\"", "absolute");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/x\", 3], "
		   "\"version\": [\"/bin/true\"]}", "\"run\"", "element 1");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/x\", \"{file}\"], "
		   "\"version\": [\"/bin/true\"]}", "\"run\"", "unknown placeholder {file}");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/x\", \"-a{args}\"], "
		   "\"version\": [\"/bin/true\"]}", "\"run\"", "whole element");
	expect_bad("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/x\"], "
		   "\"version\": [\"/bin/true\", \"{source}\"]}", "\"version\"", "placeholder");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"aliases\": \"y\"}", "\"aliases\"",
		   "expected an array");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"aliases\": [\"a b\"]}", "\"aliases\"", NULL);
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"aliases\": [\"X\"]}", "\"X\"", "twice");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"source\": \"../a.c\"}", "\"source\"",
		   "plain file name");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"source\": []}", "\"source\"",
		   "expected a string, got array");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"env\": [\"NOEQUALS\"]}", "\"env\"",
		   "NAME=VALUE");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"binds\": [\"etc/x\"]}", "\"binds\"",
		   "absolute");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"binds\": [\"/etc/../root\"]}", "\"binds\"",
		   NULL);
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile\": [\"/bin/cc\", \"{source}\"]}",
		   "\"artifacts\"", "required");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"artifacts\": [\"main\"]}", "\"artifacts\"",
		   NULL);
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile\": [\"/bin/cc\"], "
		   "\"artifacts\": [\"a/b\"]}", "\"artifacts\"", NULL);
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile_limits\": 5}", "\"compile_limits\"",
		   "expected an object");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile_limits\": {\"cpu\": 5}}",
		   "\"compile_limits.cpu\"", "unknown key");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile_limits\": {\"cpu_ms\": \"5\"}}",
		   "\"compile_limits.cpu_ms\"", "expected an integer");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile_limits\": {\"memory_mb\": 0.5}}",
		   "\"compile_limits.memory_mb\"", "fraction");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile_limits\": {\"cpu_ms\": 0}}",
		   "\"compile_limits.cpu_ms\"", "out of range");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"run_processes_min\": -1}",
		   "\"run_processes_min\"", "out of range");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"run_memory_extra_mb\": true}",
		   "\"run_memory_extra_mb\"", "expected an integer, got bool");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"preload\": \"../runcell-python\"}",
		   "\"preload\"", "plain file name");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"preload\": 1}", "\"preload\"",
		   "expected a string");
	expect_bad("{\"id\": \"x\", " GOOD_BODY ", \"compile\": [\"/bin/cc\"], "
		   "\"artifacts\": [\"main\"], \"preload\": \"p\"}", "\"preload\"",
		   "without \"compile\"");
	expect_bad("{\"id\": \"x\", \"id\": \"x\", " GOOD_BODY "}", "invalid JSON", NULL);
}

TEST(lang_duplicate_names_across_files)
{
	mktmp();
	write_file("a.json", "{\"id\": \"a\", \"aliases\": [\"Shared\"], " GOOD_BODY "}");
	write_file("b.json", "{\"id\": \"b\", \"aliases\": [\"shared\"], " GOOD_BODY "}");
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	ASSERT_EQ(rc, -EINVAL);
	if (!strstr(why, "a.json") || !strstr(why, "b.json") || !strstr(why, "shared"))
		FAIL("unclear message: %s", why);
}

/* Files load in name order, so the first broken one by name is the one
 * reported, whatever order the directory lists them in. */
TEST(lang_files_load_in_name_order)
{
	mktmp();
	static const char *const names[] = { "m.json", "c.json", "x.json", "b.json", "q.json",
					     "a9.json", "k.json", "a10.json", "z.json", "d.json" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		write_file(names[i], "not json");
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	ASSERT_EQ(rc, -EINVAL);
	if (strncmp(why, tmpdir, strlen(tmpdir)) || strncmp(why + strlen(tmpdir), "/a10.json", 9))
		FAIL("the first file by name, a10.json, should be reported: %s", why);
}

/* runcell exec reads only the file its --lang names when that is an id:
 * a broken other file does not stop it; an alias loads (and checks) all. */
TEST(lang_load_for_one_id)
{
	mktmp();
	write_file("x.json", "{\"id\": \"x\", \"aliases\": [\"ex\"], " GOOD_BODY "}");
	write_file("y.json", "{\"id\": \"y\", " GOOD_BODY "}");
	write_file("broken.json", "not json");
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load_for(tmpdir, "x", &reg, why, sizeof(why));
	if (rc)
		FAIL("x: %s", why);
	ASSERT_EQ(lang_count(reg), 1);
	ASSERT_STR(lang_at(reg, 0)->id, "x");
	lang_registry_free(reg);
	reg = NULL;
	/* An alias, another case, a name that is no file: every file. */
	static const char *const others[] = { "ex", "X", "nosuch", "../x", "" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		why[0] = 0;
		rc = lang_registry_load_for(tmpdir, others[i], &reg, why, sizeof(why));
		ASSERT_EQ(rc, -EINVAL);
		if (!strstr(why, "broken.json"))
			FAIL("%s: the broken file should be reported: %s", others[i], why);
		ASSERT_NULL(reg);
	}
	/* The named file itself broken: its own error. */
	rc = lang_registry_load_for(tmpdir, "broken", &reg, why, sizeof(why));
	ASSERT_EQ(rc, -EINVAL);
	if (!strstr(why, "broken.json"))
		FAIL("unclear message: %s", why);
	remove_file("broken.json");
	rc = lang_registry_load_for(tmpdir, "ex", &reg, why, sizeof(why));
	rmtmp();
	if (rc)
		FAIL("ex: %s", why);
	ASSERT_EQ(lang_count(reg), 2);
	ASSERT_STR(lang_find(reg, "ex")->id, "x");
	lang_registry_free(reg);
}

TEST(lang_bad_dirs)
{
	struct lang_registry *reg = NULL;
	char why[512] = "";
	ASSERT_EQ(lang_registry_load("/nonexistent-runcell", &reg, why, sizeof(why)), -ENOENT);
	ASSERT_TRUE(strstr(why, "/nonexistent-runcell") != NULL);
	mktmp();
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	ASSERT_NE(rc, 0);
	ASSERT_TRUE(strstr(why, "no language files") != NULL);
	/* too large a file */
	char *big = malloc(70000);
	memset(big, ' ', 69999);
	big[0] = '{';
	big[69998] = '}';
	big[69999] = 0;
	write_file("x.json", big);
	free(big);
	rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	ASSERT_NE(rc, 0);
	if (!strstr(why, "x.json") || !strstr(why, "larger"))
		FAIL("unclear message: %s", why);
}

/* ------------------------------------------------------------------ */

static void expect_argv(char **argv, const char *const *want)
{
	size_t i = 0;
	for (; want[i]; i++) {
		if (!argv[i])
			FAIL("argv ends at %zu, expected \"%s\"", i, want[i]);
		ASSERT_STR(argv[i], want[i]);
	}
	if (argv[i])
		FAIL("extra argv[%zu] \"%s\"", i, argv[i]);
}

TEST(lang_expand_placeholders)
{
	const char *const sources[] = { "Main.java", "Util.java", NULL };
	const char *const args[] = { "a b", "", "{source}", NULL };
	struct lang_vars v = { "Main.java", sources, args, 384 };
	const char *const tmpl[] = { "/usr/bin/java", "-Xmx{memory_mb}m", "{memory_mb}",
				     "{source}", "{main}", "{sources}", "--", "{args}",
				     "x{main}.{source}y", "{notaplaceholder", "{}", "a{B}c", NULL };
	char **argv = NULL;
	ASSERT_EQ(lang_expand(tmpl, &v, &argv), 0);
	/* Values are never expanded again ("{source}" as an argument stays). */
	const char *const want[] = { "/usr/bin/java", "-Xmx384m", "384", "Main.java", "Main",
				     "Main.java", "Util.java", "--", "a b", "", "{source}",
				     "xMain.Main.javay", "{notaplaceholder", "{}", "a{B}c", NULL };
	expect_argv(argv, want);
	lang_argv_free(argv);

	/* No args, no sources: they vanish ({sources} falls back to source). */
	struct lang_vars v2 = { "main.tar.gz", NULL, NULL, 1 };
	const char *const tmpl2[] = { "/bin/x", "{args}", "{sources}", "{main}", NULL };
	ASSERT_EQ(lang_expand(tmpl2, &v2, &argv), 0);
	const char *const want2[] = { "/bin/x", "main.tar.gz", "main.tar", NULL };
	expect_argv(argv, want2);
	lang_argv_free(argv);

	const char *const empty_args[] = { NULL };
	struct lang_vars v3 = { "prog", NULL, empty_args, 0 };
	const char *const tmpl3[] = { "/bin/x", "{main}", "{args}", NULL };
	ASSERT_EQ(lang_expand(tmpl3, &v3, &argv), 0);
	const char *const want3[] = { "/bin/x", "prog", NULL };
	expect_argv(argv, want3);
	lang_argv_free(argv);

	const char *const bad[] = { "/bin/x", "{what}", NULL };
	argv = (char **)1;
	ASSERT_EQ(lang_expand(bad, &v, &argv), -EINVAL);
	ASSERT_NULL(argv);
	const char *const bad2[] = { "/bin/x", "-{what}-", NULL };
	ASSERT_EQ(lang_expand(bad2, &v, &argv), -EINVAL);
	/* {source} with no source is an error too */
	struct lang_vars v4 = { NULL, NULL, NULL, 0 };
	const char *const tmpl4[] = { "/bin/x", "{source}", NULL };
	ASSERT_EQ(lang_expand(tmpl4, &v4, &argv), -EINVAL);
}

/* Whether s still holds a "{word}" (word: [a-z_]+); other braces, such as
 * those of node's -e prelude, are text. */
static bool has_placeholder(const char *s)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (n > 0 && p[1 + n] == '}')
			return true;
	}
	return false;
}

TEST(lang_expand_real_templates)
{
	struct lang_registry *reg = load_real();
	const char *const sources[] = { "main.x", NULL };
	const char *const args[] = { "1", "2", NULL };
	struct lang_vars v = { "main.x", sources, args, 256 };
	for (size_t i = 0; i < lang_count(reg); i++) {
		const struct lang *l = lang_at(reg, i);
		char **argv = NULL;
		if (lang_expand((const char *const *)l->run, &v, &argv) != 0)
			FAIL("%s: run does not expand", l->id);
		for (char **a = argv; *a; a++)
			if (has_placeholder(*a))
				FAIL("%s: unexpanded %s", l->id, *a);
		lang_argv_free(argv);
		if (l->compile) {
			if (lang_expand((const char *const *)l->compile, &v, &argv) != 0)
				FAIL("%s: compile does not expand", l->id);
			lang_argv_free(argv);
		}
	}
	const struct lang *java = lang_find(reg, "java");
	struct lang_vars jv = { "Main.java", NULL, args, 300 };
	char **argv = NULL;
	ASSERT_EQ(lang_expand((const char *const *)java->run, &jv, &argv), 0);
	bool xmx = false, cls = false;
	for (char **a = argv; *a; a++) {
		xmx |= !strcmp(*a, "-Xmx300m");
		cls |= !strcmp(*a, "Main");
	}
	ASSERT_TRUE(xmx && cls);
	lang_argv_free(argv);
	lang_registry_free(reg);
}

/* ------------------------------------------------------------------ */

static struct lang *load_one(const char *text)
{
	mktmp();
	write_file("x.json", text);
	struct lang_registry *reg = NULL;
	char why[512] = "";
	int rc = lang_registry_load(tmpdir, &reg, why, sizeof(why));
	rmtmp();
	if (rc)
		FAIL("%s", why);
	/* The test keeps the registry (leaked on purpose: the child exits). */
	return (struct lang *)lang_at(reg, 0);
}

TEST(lang_probe_versions)
{
	/* stdout first line, leading empty lines skipped */
	struct lang *l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
				  "\"version\": [\"/bin/sh\", \"-c\", "
				  "\"echo; echo '  v1.2  '; echo two; echo err >&2\"]}");
	lang_probe(l);
	ASSERT_TRUE(l->probed);
	ASSERT_TRUE(l->available);
	ASSERT_STR(l->version, "v1.2");
	/* stderr when stdout is empty (java -version) */
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
		     "\"version\": [\"/bin/sh\", \"-c\", \"echo 'openjdk 17' >&2\"]}");
	lang_probe(l);
	ASSERT_TRUE(l->available);
	ASSERT_STR(l->version, "openjdk 17");
	/* the environment is clean */
	setenv("RUNCELL_TEST_SECRET", "leak", 1);
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
		     "\"version\": [\"/bin/sh\", \"-c\", \"echo \\\"[$RUNCELL_TEST_SECRET]\\\"\"]}");
	lang_probe(l);
	ASSERT_STR(l->version, "[]");
	/* a missing binary, a failing probe, a missing bind: unavailable */
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
		     "\"version\": [\"/nonexistent/bin/x\", \"--version\"]}");
	lang_probe(l);
	ASSERT_FALSE(l->available);
	ASSERT_NULL(l->version);
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
		     "\"version\": [\"/bin/sh\", \"-c\", \"echo 1; exit 3\"]}");
	lang_probe(l);
	ASSERT_FALSE(l->available);
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/nonexistent/run\"], "
		     "\"version\": [\"/bin/sh\", \"-c\", \"echo 1\"]}");
	lang_probe(l);
	ASSERT_FALSE(l->available);
	l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
		     "\"binds\": [\"/nonexistent/etc\"], "
		     "\"version\": [\"/bin/sh\", \"-c\", \"echo 1\"]}");
	lang_probe(l);
	ASSERT_FALSE(l->available);
}

TEST(lang_probe_timeout)
{
	/* A probe that hangs (and whose child keeps the pipe open) is cut at
	 * 5 s and reported unavailable. */
	struct lang *l = load_one("{\"id\": \"x\", \"name\": \"X\", \"run\": [\"/bin/sh\"], "
				  "\"version\": [\"/bin/sh\", \"-c\", \"sleep 60 & sleep 60\"]}");
	time_t t0 = time(NULL);
	lang_probe(l);
	ASSERT_FALSE(l->available);
	ASSERT_LE(time(NULL) - t0, 8);
}

TEST(lang_default_dir_order)
{
	char buf[4096];
	setenv("RUNCELL_LANGUAGES", "/some/where", 1);
	ASSERT_STR(lang_default_dir(buf, sizeof(buf)), "/some/where");
	unsetenv("RUNCELL_LANGUAGES");
	const char *d = lang_default_dir(buf, sizeof(buf));
	/* build/test-unit: next to the binary */
	ASSERT_TRUE(strstr(d, "/etc/languages") != NULL);
	struct stat st;
	ASSERT_EQ(stat(d, &st), 0);
}
