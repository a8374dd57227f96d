"""The judge result contract (docs/JUDGE.md), checked the same way by the
suites that receive one: tests/judge (runcell exec) and tests/api (the
"result" of a submission).  Not a suite itself (no run.py here)."""

VERDICTS = {"accepted", "wrong_answer", "compile_error", "runtime_error", "time_limit",
            "memory_limit", "output_limit", "internal_error"}

TEST_FIELDS = {"name": str, "verdict": str, "status": str, "exit_code": (int, type(None)),
               "signal": (int, type(None)), "cpu_ms": int, "wall_ms": int, "memory_kb": int,
               "stdout": str, "stderr": str, "stdout_truncated": bool,
               "stderr_truncated": bool, "preloaded": bool}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def result_problem(res, lang=None):
    """The first way res breaks the contract, as text, or None.  lang: the
    language id it must report, when given."""
    if not isinstance(res, dict):
        return "result is not an object"
    for k in ("verdict", "language", "compile", "tests", "cpu_ms_max", "wall_ms_max",
              "memory_kb_max", "message"):
        if k not in res:
            return "field %r missing" % k
    if res["verdict"] not in VERDICTS:
        return "unknown verdict %r" % res["verdict"]
    lg = res["language"]
    if not isinstance(lg, dict) or not all(k in lg for k in ("id", "name", "version")):
        return "language must be an object with id, name, version"
    if lang and lg["id"] != lang:
        return "language.id is %r, expected %r" % (lg["id"], lang)
    if res["compile"] is not None and not isinstance(res["compile"], dict):
        return "compile must be an object or null"
    if not isinstance(res["tests"], list):
        return "tests must be a list"
    for t in res["tests"]:
        if not isinstance(t, dict):
            return "a test is not an object"
        for k, ty in TEST_FIELDS.items():
            if k not in t:
                return "test field %r missing" % k
            if not isinstance(t[k], ty) or (ty is int and isinstance(t[k], bool)):
                return "test field %r has type %s" % (k, type(t[k]).__name__)
        if t["verdict"] not in VERDICTS:
            return "unknown test verdict %r" % t["verdict"]
    for k, f in (("cpu_ms_max", "cpu_ms"), ("wall_ms_max", "wall_ms"),
                 ("memory_kb_max", "memory_kb")):
        if not _is_int(res[k]):
            return "%s is not an int" % k
        m = max([t[f] for t in res["tests"]] or [0])
        if res[k] < m:
            return "%s is %d, below the largest test %s %d" % (k, res[k], f, m)
    return None
