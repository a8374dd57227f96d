/*
 * result: the JSON form of a sandbox_result (see docs/SANDBOX.md).
 */
#include "cli/result.h"

void cli_result_fields(struct json_writer *w, const struct sandbox_result *r)
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
