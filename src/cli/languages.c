/*
 * runcell languages: the languages this host knows, and whether their
 * toolchains are installed.
 *
 *   runcell languages [--json] [--dir=DIR]
 *
 * Every language is probed (its version command runs on the host), or
 * its version is read from the record that runcell exec keeps in the
 * compile cache's versions/ while the toolchain's files are unchanged.  A
 * language whose toolchain is missing is listed as unavailable, not an
 * error: exit 0.  A broken data file exits 1 with the file and key named;
 * a bad option exits 2.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "judge/cache.h"
#include "lang/lang.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: runcell languages [--json] [--dir=DIR]\n"
		   "\n"
		   "Lists the languages (id, name, aliases, detected version, available).\n"
		   "  --json      print a JSON array of {id, name, aliases, version,\n"
		   "              available, compiled}\n"
		   "  --dir=DIR   read the definitions from DIR [$RUNCELL_LANGUAGES, else\n"
		   "              <dir of runcell>/../etc/languages, else /etc/runcell/languages]\n");
}

static int print_json(const struct lang_registry *reg)
{
	struct buf out;
	buf_init(&out, 0);
	struct json_writer w;
	json_writer_init(&w, &out);
	json_begin_array(&w);
	for (size_t i = 0; i < lang_count(reg); i++) {
		const struct lang *l = lang_at(reg, i);
		json_begin_object(&w);
		json_field_string(&w, "id", l->id);
		json_field_string(&w, "name", l->name);
		json_key(&w, "aliases");
		json_begin_array(&w);
		for (char **a = l->aliases; *a; a++)
			json_string(&w, *a);
		json_end_array(&w);
		json_field_string(&w, "version", l->version); /* null if unavailable */
		json_field_bool(&w, "available", l->available);
		json_field_bool(&w, "compiled", l->compile != NULL);
		json_end_object(&w);
	}
	json_end_array(&w);
	int rc = json_writer_error(&w);
	if (rc == 0) {
		fwrite(out.data, 1, out.len, stdout);
		fputc('\n', stdout);
	}
	buf_free(&out);
	if (rc) {
		fprintf(stderr, "runcell languages: cannot write JSON (%s)\n", strerror(-rc));
		return 1;
	}
	return 0;
}

static void aliases_of(const struct lang *l, char *out, size_t len)
{
	size_t off = 0;
	out[0] = 0;
	for (char **a = l->aliases; *a && off < len; a++) {
		int n = snprintf(out + off, len - off, "%s%s", a == l->aliases ? "" : ",", *a);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void print_table(const struct lang_registry *reg)
{
	int wid = 2, wname = 4, walias = 7;
	char aliases[256];
	for (size_t i = 0; i < lang_count(reg); i++) {
		const struct lang *l = lang_at(reg, i);
		aliases_of(l, aliases, sizeof(aliases));
		if ((int)strlen(l->id) > wid)
			wid = (int)strlen(l->id);
		if ((int)strlen(l->name) > wname)
			wname = (int)strlen(l->name);
		if ((int)strlen(aliases) > walias)
			walias = (int)strlen(aliases);
	}
	printf("%-*s  %-*s  %-*s  %-9s  %s\n", wid, "ID", wname, "NAME", walias, "ALIASES",
	       "AVAILABLE", "VERSION");
	for (size_t i = 0; i < lang_count(reg); i++) {
		const struct lang *l = lang_at(reg, i);
		aliases_of(l, aliases, sizeof(aliases));
		printf("%-*s  %-*s  %-*s  %-9s  %s\n", wid, l->id, wname, l->name, walias,
		       aliases[0] ? aliases : "-", l->available ? "yes" : "no",
		       l->version ? l->version : "-");
	}
}

int cli_languages(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	const char *dir = NULL;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "runcell languages: unknown or incomplete option %s\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "runcell languages: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	char dirbuf[4096];
	bool given = dir != NULL;
	if (!dir)
		dir = lang_default_dir(dirbuf, sizeof(dirbuf));
	struct lang_registry *reg = NULL;
	char why[512];
	if (lang_registry_load(dir, &reg, why, sizeof(why)) < 0) {
		fprintf(stderr, "runcell languages: %s%s\n", given ? "invalid --dir: " : "", why);
		return given ? 2 : 1;
	}
	lang_probe_all(reg, cache_default_dir());
	int rc = 0;
	if (json)
		rc = print_json(reg);
	else
		print_table(reg);
	if (fflush(stdout) != 0)
		rc = 1;
	lang_registry_free(reg);
	return rc;
}
