/*
 * report: the JSON form of cell and judge results (docs/SANDBOX.md,
 * docs/JUDGE.md).  One writer for every caller, so the CLI and the API
 * can never drift apart.
 */
#include "judge/report.h"

void report_cell_fields(struct json_writer *w, const struct sandbox_result *r)
{
	json_field_string(w, "status", sandbox_status_name(r->status));
	if (r->exit_code >= 0)
		json_field_int(w, "exit_code", r->exit_code);
	else
		json_field_null(w, "exit_code");
	if (r->signal > 0)
		json_field_int(w, "signal", r->signal);
	else
		json_field_null(w, "signal");
	json_field_uint(w, "cpu_ms", r->cpu_ms);
	json_field_uint(w, "wall_ms", r->wall_ms);
	json_field_uint(w, "memory_kb", r->memory_kb);
	json_write_bytes_field(w, "stdout", r->out.data ? r->out.data : "", r->out.len);
	json_write_bytes_field(w, "stderr", r->err.data ? r->err.data : "", r->err.len);
	json_field_bool(w, "stdout_truncated", r->out.truncated);
	json_field_bool(w, "stderr_truncated", r->err.truncated);
	json_field_string(w, "message", r->message);
}

void report_judge_result(struct json_writer *w, const struct lang *l,
			 const struct judge_result *res)
{
	json_begin_object(w);
	json_field_string(w, "verdict", judge_verdict_name(res->verdict));
	json_key(w, "language");
	json_begin_object(w);
	json_field_string(w, "id", l->id);
	json_field_string(w, "name", l->name);
	json_field_string(w, "version", l->version);
	json_end_object(w);
	json_key(w, "compile");
	if (!res->compiled) {
		json_null(w);
	} else {
		json_begin_object(w);
		if (res->cached) {
			json_field_string(w, "status", "ok");
			json_field_string(w, "message", "taken from the compile cache");
		} else {
			report_cell_fields(w, &res->compile);
		}
		json_field_bool(w, "cached", res->cached);
		json_end_object(w);
	}
	json_key(w, "tests");
	json_begin_array(w);
	for (size_t i = 0; i < res->ntests; i++) {
		json_begin_object(w);
		json_field_string(w, "name", res->tests[i].name);
		json_field_string(w, "verdict", judge_verdict_name(res->tests[i].verdict));
		report_cell_fields(w, &res->tests[i].run);
		json_field_bool(w, "preloaded", res->tests[i].run.preloaded);
		json_end_object(w);
	}
	json_end_array(w);
	json_field_uint(w, "cpu_ms_max", res->cpu_ms_max);
	json_field_uint(w, "wall_ms_max", res->wall_ms_max);
	json_field_uint(w, "memory_kb_max", res->memory_kb_max);
	json_field_string(w, "message", res->message);
	json_end_object(w);
}
