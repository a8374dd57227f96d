/*
 * cell_opts: see cell_opts.h.
 */
#include "cli/cell_opts.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "lang/lang.h"

static int bad(const char *cmd, const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "runcell %s: invalid --%s=%s: %s\n", cmd, opt, value, why);
	return -1;
}

int cli_parse_bind(const char *cmd, char *v, struct sandbox_bind *binds, size_t *nbinds)
{
	if (*nbinds >= CLI_MAX_BINDS)
		return bad(cmd, "bind", v, "too many binds");
	struct sandbox_bind *b = &binds[*nbinds];
	memset(b, 0, sizeof(*b));
	char *parts[3] = { v, NULL, NULL };
	int n = 1;
	for (char *p = v; *p && n < 3; p++)
		if (*p == ':') {
			*p = '\0';
			parts[n++] = p + 1;
		}
	if (n >= 2 && (!strcmp(parts[n - 1], "rw") || !strcmp(parts[n - 1], "ro"))) {
		b->rw = !strcmp(parts[n - 1], "rw");
		n--;
	}
	if (n > 2 || parts[0][0] != '/' || (n == 2 && parts[1][0] != '/')) {
		for (int i = 1; i < 3; i++)  /* the value as given, for the message */
			if (parts[i])
				parts[i][-1] = ':';
		return bad(cmd, "bind", v, "expected HOST[:CELLPATH][:rw] with absolute paths");
	}
	b->host = parts[0];
	b->cell = n == 2 ? parts[1] : NULL;
	(*nbinds)++;
	return 0;
}

int cli_parse_cgroup(const char *cmd, const char *v, enum sandbox_cgroup_mode *mode)
{
	static const struct {
		const char *name;
		enum sandbox_cgroup_mode mode;
	} modes[] = {
		{ "auto", SANDBOX_CGROUP_AUTO }, { "v1", SANDBOX_CGROUP_V1 },
		{ "v2", SANDBOX_CGROUP_V2 }, { "none", SANDBOX_CGROUP_NONE },
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(v, modes[i].name)) {
			*mode = modes[i].mode;
			return 0;
		}
	return bad(cmd, "cgroup", v, "expected auto, v1, v2 or none");
}

int cli_find_preloader(const char *cmd, const char *lang_id, struct lang_registry **reg,
		       struct judge_preloader *p)
{
	char dir[4096], why[512];
	memset(p, 0, sizeof(*p));
	if (lang_registry_load_for(lang_default_dir(dir, sizeof(dir)), lang_id, reg, why,
				   sizeof(why)) < 0)
		return bad(cmd, "preload", lang_id, why);
	const struct lang *l = lang_find(*reg, lang_id);
	if (!l)
		return bad(cmd, "preload", lang_id, "unknown language (see runcell languages)");
	if (!l->preload)
		return bad(cmd, "preload", lang_id, "the language has no preloader");
	int rc = judge_preloader_find(l, p);
	if (rc < 0) {
		snprintf(why, sizeof(why), "its preloader %.400s: %s", p->path, strerror(-rc));
		judge_preloader_free(p);
		return bad(cmd, "preload", lang_id, why);
	}
	return 0;
}

int cli_keeper_run(const char *cmd, const char *socket_path,
		   const struct sandbox_cell_config *shape, const struct sandbox_run_spec *spec,
		   bool say_preload, struct sandbox_result *result)
{
	char why[700];
	int rc = keeper_run(socket_path, shape, spec, result, why, sizeof(why));
	if (rc == 1 && why[0] && say_preload) {
		size_t used = strlen(result->message);
		snprintf(result->message + used, sizeof(result->message) - used,
			 "; executed, not preloaded: %s", why);
	}
	if (rc == 0) {
		if (socket_path)  /* asked for by name: say why it was not used */
			fprintf(stderr, "runcell %s: %s; building the cell here\n", cmd, why);
		else
			log_debug("%s: %s; building the cell here", cmd, why);
	}
	return rc;
}
