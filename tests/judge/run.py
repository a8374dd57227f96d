#!/usr/bin/python3
"""Judge test suite: `runcell exec` and `runcell languages` against the contract.

  1. corpus: problems/<name>/ (tests/NN.in, NN.out, solutions/) judged with
     --tests: accepted, wrong_answer, time_limit and runtime_error solutions
     in C, C++, Python, JavaScript and Java; per-test verdicts and
     --first-failure; checkers (lines, exact, tokens, float).
  2. per language (langs/<id>/): hello, stdin echo, compile error, runtime
     error, time limit, memory limit.  A language the host lacks (per
     `runcell languages --json`) gets one "skip" line.
  3. Java and Go allocating 100 MB under the default memory limit.
  4. bad input: exit status 2 and a message on stderr.
  5. the compile cache (RUNCELL_CACHE_DIR): hit flagged, >= 3x faster.

Usage: run.py [-k SUBSTRING] [-v] [--jobs N]
Prints "ok NAME", "FAIL NAME: why" or "skip NAME: why" and ends with
"N passed, N failed"; exit status 1 on any failure.
Runs $RUNCELL, default build/runcell of this repository.
"""
import argparse
import concurrent.futures
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from result_shape import result_problem  # noqa: E402
RUNCELL = os.environ.get("RUNCELL", os.path.join(ROOT, "build", "runcell"))
PROBLEMS = os.path.join(HERE, "problems")
LANGS = os.path.join(HERE, "langs")

# language id -> (extension, compiled)
LANG_INFO = {
    "c": ("c", True), "cpp": ("cpp", True), "python3": ("py", False),
    "javascript": ("js", False), "java": ("java", True), "rust": ("rs", True),
    "go": ("go", True), "bash": ("sh", False), "ruby": ("rb", False),
    "php": ("php", False), "lua": ("lua", False),
}
CORPUS_LANGS = ["c", "cpp", "python3", "javascript", "java"]
ALIASES = {"python": "python3", "py": "python3", "js": "javascript", "node": "javascript",
           "c++": "cpp", "golang": "go", "rs": "rust", "sh": "bash", "rb": "ruby"}

TMP = None
AVAILABLE = {}       # id -> True/False (absent: unknown, tried anyway)
VERBOSE = False


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def q(args):
    return " ".join(a if a and all(c.isalnum() or c in "-_=./+:," for c in a)
                    else "'" + a.replace("'", "'\\''") + "'" for a in args)


def rel(path):
    return os.path.relpath(path, ROOT) if path.startswith(ROOT) else path


class Run:
    def __init__(self, args, rc, out, err, secs):
        self.args, self.rc, self.out, self.err, self.secs = args, rc, out, err, secs
        self.cmd = "runcell " + q([rel(a) for a in args])
        self.json = None

    def brief(self):
        return "`%s` -> exit %s, stderr %r" % (self.cmd, self.rc, self.err.strip()[-300:])


def runcell(args, env=None, timeout=120, preexec=None):
    e = dict(os.environ)
    e.pop("RUNCELL_CACHE_DIR", None)
    if env:
        e.update(env)
    t0 = time.monotonic()
    try:
        p = subprocess.run([RUNCELL] + args, stdin=subprocess.DEVNULL, capture_output=True,
                           env=e, timeout=timeout, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        raise Fail("`runcell %s` did not finish in %d s" % (q([rel(a) for a in args]), timeout))
    r = Run(args, p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    if VERBOSE:
        sys.stderr.write("# %s (%.2fs) rc=%d\n%s%s\n" % (r.cmd, r.secs, r.rc, r.out, r.err))
    return r


def exec_json(args, lang=None, env=None, timeout=120, preexec=None):
    """runcell exec ARGS; checks exit 0 and the JSON shape; returns (run, result)."""
    r = runcell(["exec"] + args, env=env, timeout=timeout, preexec=preexec)
    if r.rc != 0:
        raise Fail("%s; expected exit 0 with a JSON result (stdout %r)" % (r.brief(), r.out[:200]))
    lines = [l for l in r.out.splitlines() if l.strip()]
    try:
        res = json.loads(r.out)
    except ValueError as e:
        raise Fail("`%s`: stdout is not one JSON object (%s): %r" % (r.cmd, e, r.out[:300]))
    if len(lines) != 1:
        pass  # pretty-printed JSON is allowed
    r.json = res
    check_shape(r, res, lang)
    return r, res


def check_shape(r, res, lang):
    why = result_problem(res, lang)
    if why:
        raise Fail("`%s`: %s; result %s" % (r.cmd, why, short(res)))


def short(res):
    """The result without bulky fields, for messages."""
    if not isinstance(res, dict):
        return repr(res)[:300]
    r = dict(res)
    if isinstance(r.get("compile"), dict):
        c = r["compile"]
        r["compile"] = {k: (v[:160] if isinstance(v, str) else v) for k, v in c.items()
                        if k in ("status", "exit_code", "cached", "stderr", "stdout", "message")}
    if isinstance(r.get("tests"), list):
        r["tests"] = [{k: (t.get(k)[:80] if isinstance(t.get(k), str) else t.get(k))
                       for k in ("name", "verdict", "status", "exit_code", "signal", "cpu_ms",
                                 "stdout", "stderr")}
                      if isinstance(t, dict) else t for t in r["tests"]]
    r.pop("language", None)
    s = json.dumps(r)
    return s if len(s) < 900 else s[:900] + "..."


def expect(cond, r, why):
    if not cond:
        raise Fail("`%s`: %s; got %s" % (r.cmd, why, short(r.json)))


def need(lang):
    if AVAILABLE.get(lang) is False:
        raise Skip("%s toolchain not available on this host" % lang)


def verdicts(res):
    return [t["verdict"] for t in res["tests"]]


# ---------------------------------------------------------------- 1. corpus

def solution_path(problem, lang, kind):
    sol = os.path.join(PROBLEMS, problem, "solutions")
    if lang == "java":
        return os.path.join(sol, kind + "_java", "Main.java")
    return os.path.join(sol, "%s.%s" % (kind, LANG_INFO[lang][0]))


def test_names(problem):
    d = os.path.join(PROBLEMS, problem, "tests")
    return sorted(f[:-3] for f in os.listdir(d) if f.endswith(".in"))


def checker_for(problem):
    return ["--checker", "float"] if problem == "mean" else []


# how each wrong solution behaves: (uses --first-failure, expected test verdicts)
def corpus_expect(problem, kind, n):
    if kind == "ac":
        return False, ["accepted"] * n
    if kind == "wa":
        return False, None  # every test run; at least one wrong_answer
    if kind == "tle" and problem == "sort":
        # permutation sort: only the last test (14 numbers) is too slow
        return False, ["accepted"] * (n - 1) + ["time_limit"]
    verdict = {"tle": "time_limit", "re": "runtime_error"}[kind]
    # fails from test 02 on (n > 4); --first-failure stops there
    return True, ["accepted", verdict]


def case_corpus(problem, lang, kind):
    def run():
        need(lang)
        names = test_names(problem)
        ff, want = corpus_expect(problem, kind, len(names))
        src = solution_path(problem, lang, kind)
        args = ["--lang", lang, "--tests", os.path.join(PROBLEMS, problem, "tests")]
        args += checker_for(problem) + (["--first-failure"] if ff else []) + [src]
        r, res = exec_json(args, lang)
        got = verdicts(res)
        overall = {"ac": "accepted", "wa": "wrong_answer", "tle": "time_limit",
                   "re": "runtime_error"}[kind]
        expect(res["verdict"] == overall, r, "verdict %r expected" % overall)
        if LANG_INFO[lang][1]:
            expect(isinstance(res["compile"], dict), r, "compile result expected")
        if kind == "wa":
            expect(len(got) == len(names), r, "all %d tests expected to run" % len(names))
            expect("wrong_answer" in got, r, "at least one test wrong_answer expected")
            expect(set(got) <= {"accepted", "wrong_answer"}, r,
                   "only accepted/wrong_answer test verdicts expected")
        else:
            expect(got == want, r, "test verdicts %s expected%s" %
                   (want, " (--first-failure stops after the first failing test)" if ff else ""))
        tn = [t["name"] for t in res["tests"]]
        expect(all(a in (b, b + ".in") for a, b in zip(tn, names)), r,
               "test names in order %s expected" % names[:len(tn)])
        if kind == "ac":
            for t, nm in zip(res["tests"], names):
                want_out = open(os.path.join(PROBLEMS, problem, "tests", nm + ".out")).read()
                if problem != "mean":
                    expect(t["stdout"].split() == want_out.split(), r,
                           "test %s stdout %r expected" % (nm, want_out[:60]))
    return run


def case_first_failure_wa(problem, lang):
    def run():
        need(lang)
        src = solution_path(problem, lang, "wa")
        tdir = os.path.join(PROBLEMS, problem, "tests")
        r, res = exec_json(["--lang", lang, "--tests", tdir, "--first-failure"] +
                           checker_for(problem) + [src], lang)
        got = verdicts(res)
        expect(res["verdict"] == "wrong_answer", r, "verdict wrong_answer expected")
        expect(got and got[-1] == "wrong_answer" and all(v == "accepted" for v in got[:-1]),
               r, "--first-failure: accepted tests then exactly one wrong_answer, last")
    return run


def case_checker(problem, lang, kind, checker, want, src=None):
    def run():
        need(lang)
        s = src or solution_path(problem, lang, kind)
        tdir = os.path.join(PROBLEMS, problem, "tests")
        args = ["--lang", lang, "--tests", tdir] + (["--checker", checker] if checker else [])
        r, res = exec_json(args + [s], lang)
        expect(res["verdict"] == want, r, "verdict %r expected with checker %s" %
               (want, checker or "(default: lines)"))
    return run


# ---------------------------------------------------------------- 2. languages

def lang_file(lang, case):
    if lang == "java":
        return os.path.join(LANGS, "java", case, "Main.java")
    return os.path.join(LANGS, lang, "%s.%s" % (case, LANG_INFO[lang][0]))


def case_hello(lang, as_id=None):
    def run():
        need(lang)
        r, res = exec_json(["--lang", as_id or lang, lang_file(lang, "hello")], lang)
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        expect(len(res["tests"]) == 1, r, "one run expected (no --tests)")
        expect(res["tests"][0]["stdout"] == "hello\n", r, "stdout 'hello\\n' expected")
        if LANG_INFO[lang][1]:
            expect(isinstance(res["compile"], dict) and res["compile"].get("status") == "ok",
                   r, "a compile result with status ok expected")
        expect(isinstance(res["language"]["version"], str) and res["language"]["version"], r,
               "a language.version expected")
    return run


def case_echo(lang):
    def run():
        need(lang)
        inp = os.path.join(LANGS, "echo.in")
        r, res = exec_json(["--lang", lang, "--stdin", inp, "--expected", inp,
                            lang_file(lang, "echo")], lang)
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        expect(res["tests"] and res["tests"][0]["stdout"] == open(inp).read(), r,
               "stdout identical to --stdin expected")
    return run


def case_echo_wrong(lang):
    def run():
        need(lang)
        inp = os.path.join(LANGS, "echo.in")
        other = os.path.join(HERE, "misc", "other.out")
        r, res = exec_json(["--lang", lang, "--stdin", inp, "--expected", other,
                            lang_file(lang, "echo")], lang)
        expect(res["verdict"] == "wrong_answer", r, "verdict wrong_answer expected")
        expect(verdicts(res) == ["wrong_answer"], r, "one test, wrong_answer, expected")
    return run


def case_ce(lang):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, lang_file(lang, "ce")], lang)
        expect(res["verdict"] == "compile_error", r, "verdict compile_error expected")
        c = res["compile"]
        expect(isinstance(c, dict), r, "a compile result expected")
        msg = (c.get("stderr") or "") + (c.get("stdout") or "")
        expect("error" in msg.lower() or re.search(r"\w\.\w+:\d+", msg), r,
               "the compiler's message (with 'error' or FILE:LINE) in compile.stderr/stdout "
               "expected")
        expect("accepted" not in verdicts(res), r, "no test may run after a compile error")
    return run


def case_re(lang):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, lang_file(lang, "re")], lang)
        expect(res["verdict"] == "runtime_error", r, "verdict runtime_error expected")
        expect(res["tests"] and res["tests"][0]["exit_code"] == 3, r,
               "tests[0].exit_code 3 expected")
    return run


def case_tle(lang):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, "--cpu-time=1", lang_file(lang, "tle")], lang)
        expect(res["verdict"] == "time_limit", r, "verdict time_limit expected")
        t = res["tests"][0] if res["tests"] else {}
        expect(t.get("verdict") == "time_limit", r, "tests[0].verdict time_limit expected")
        expect(900 <= t.get("cpu_ms", 0) <= 3000, r, "tests[0].cpu_ms about 1000 expected")
    return run


def case_mle(lang):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, "--memory=64", lang_file(lang, "mle")], lang)
        t = res["tests"][0] if res["tests"] else {}
        expect(res["verdict"] == "memory_limit", r, "verdict memory_limit expected")
        expect(t.get("verdict") == "memory_limit", r, "tests[0].verdict memory_limit expected")
    return run


# ---------------------------------------------------------------- 3. big heaps

def case_big(lang, path):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, path], lang)
        expect(res["verdict"] == "accepted", r,
               "verdict accepted expected (100 MB under the default 256 MB limit)")
        t = res["tests"][0]
        expect(t["stdout"] == "25600\n", r, "stdout '25600\\n' expected")
        expect(t["memory_kb"] >= 100 * 1024, r, "memory_kb >= 102400 expected (100 MB touched)")
    return run


# ---------------------------------------------------------------- misc

def case_multi(lang, files, want_out):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang] + files, lang)
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        expect(res["tests"][0]["stdout"] == want_out, r, "stdout %r expected" % want_out)
    return run


def case_too_many_classes():
    # 260 anonymous classes: more compiled files than a program may carry
    # to its runs; said so as a compile_error (it was "cannot read back
    # Main$I.class: Argument list too long").
    def run():
        need("java")
        src = ["public class Main {", "  interface I { int f(); }",
               "  public static void main(String[] a) {", "    int s = 0;"]
        src += ["    s += new I() { public int f() { return %d; } }.f();" % i for i in range(260)]
        src += ["    System.out.println(s);", "  }", "}"]
        path = tmpfile("many/Main.java", ("\n".join(src) + "\n").encode())
        r, res = exec_json(["--lang", "java", path], "java")
        expect(res["verdict"] == "compile_error", r, "verdict compile_error expected")
        expect("more than 256 files" in res["message"], r, "the message should give the cap")
    return run


def case_oom(lang, path, says):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, path], lang)
        expect(res["verdict"] == "memory_limit", r, "verdict memory_limit expected")
        expect("ran out of memory (" in res["message"] and says in res["message"], r,
               "the message should say the runtime ran out of memory (%s)" % says)
    return run


def case_stdout(lang, path, opts, want_out, want_len):
    """accepted, with stdout want_out (or of want_len bytes)."""
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang, "--output=4096", path] + opts, lang)
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        out = res["tests"][0]["stdout"]
        if want_out is not None:
            expect(out == want_out, r, "stdout %r expected" % want_out)
        if want_len is not None:
            expect(len(out) == want_len, r, "%d bytes of stdout expected, got %d" % (want_len, len(out)))
    return run


def case_message(lang, path, opts, want, says):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang] + opts + [path], lang)
        expect(res["verdict"] == want, r, "verdict %r expected" % want)
        expect(says in res["tests"][0]["message"], r, "the test's message should say %r" % says)
    return run


def case_simple(lang, path, opts, want):
    def run():
        need(lang)
        r, res = exec_json(["--lang", lang] + opts + [path], lang)
        expect(res["verdict"] == want, r, "verdict %r expected" % want)
        expect(verdicts(res) == [want], r, "tests[0].verdict %r expected" % want)
    return run


def case_data_file():
    """--file: a data file next to a compiled program, readable, not writable."""
    def run():
        need("c")
        r, res = exec_json(["--lang", "c", "--file", os.path.join(HERE, "misc", "data.txt"),
                            os.path.join(HERE, "misc", "read_data.c")], "c")
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        want = "hello data\nreadonly\n"
        expect(res["tests"][0]["stdout"] == want, r, "stdout %r expected" % want)
    return run


def case_over_disk():
    """A compiled program larger than the runs' disk is a compile_error
    that says so, not an internal_error from placing it."""
    def run():
        need("c")
        r, res = exec_json(["--lang", "c", "--disk=10", os.path.join(HERE, "misc", "huge_binary.c")],
                           "c")
        expect(res["verdict"] == "compile_error", r, "verdict compile_error expected")
        expect("more than the disk limit" in res.get("message", ""), r,
               "message naming the disk limit expected")
        expect(res["tests"] == [], r, "no test should run")
    return run


def case_compile_under_low_hard_rlimit():
    """Under a hard RLIMIT_FSIZE of 10 MB, below the compile's own file-size
    limit (64 MB): without CAP_SYS_RESOURCE the compile cannot have its
    limit, so it gets what the host allows, and compiles (it used to be an
    internal_error from setrlimit in the cell)."""
    def run():
        need("c")
        cache = tempfile.mkdtemp(prefix="lowfsize-", dir=TMP)
        lower = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (10 << 20, 10 << 20))
        r, res = exec_json(["--lang", "c", "--file-size=1", lang_file("c", "hello")], "c",
                           env={"RUNCELL_CACHE_DIR": cache}, preexec=lower)
        expect(res["compile"] and res["compile"]["status"] == "ok" and not res["compile"].get("cached"),
               r, "a fresh compile that works expected")
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
    return run


def case_pipes(expected, want):
    """--stdin and --expected given as FIFOs (as `<(...)` gives them): both
    are read to their end, and the verdict compares with what was written."""
    def run():
        d = tempfile.mkdtemp(dir=TMP)
        feeds = {os.path.join(d, "in"): b"piped input\n", os.path.join(d, "out"): expected}
        for path in feeds:
            os.mkfifo(path)

        def feed(path, data):
            try:
                with open(path, "wb") as f:
                    f.write(data)
            except OSError:
                pass   # the reader went away: the verdict check below fails
        threads = [threading.Thread(target=feed, args=kv, daemon=True) for kv in feeds.items()]
        for t in threads:
            t.start()
        try:
            r, res = exec_json(["--lang", "python3", "--stdin", os.path.join(d, "in"),
                                "--expected", os.path.join(d, "out"),
                                lang_file("python3", "echo")], "python3")
        finally:
            for path in feeds:   # unblock a writer that nobody opened
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                    os.close(fd)
                except OSError:
                    pass
            for t in threads:
                t.join(5)
            shutil.rmtree(d, ignore_errors=True)
        expect(verdicts(res) == [want], r, "one test, %s, expected" % want)
        expect(res["tests"][0]["stdout"] == "piped input\n", r, "the piped stdin echoed")
    return run


def many_tests_dir(name, n):
    d = os.path.join(TMP, name)
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        for ext, data in (("in", b"1 2\n"), ("out", b"no\n")):
            with open(os.path.join(d, "%05d.%s" % (i, ext)), "wb") as f:
                f.write(data)
    return d


def case_many_tests():
    """8193 tests are listed (16385 files used to be 'too many'), and the
    first failure stops the run; 10001 are refused before any run."""
    def run():
        d = many_tests_dir("tests-8193", 8193)
        r, res = exec_json(["--lang", "python3", "--tests", d, "--first-failure",
                            lang_file("python3", "hello")], "python3")
        expect(verdicts(res) == ["wrong_answer"], r, "one test run, wrong_answer")
        d = many_tests_dir("tests-10001", 10001)
        case_bad(["--lang", "python3", "--tests", d, lang_file("python3", "hello")],
                 "at most 10000 tests")()
    return run


def case_python_tests_preloaded():
    """Two tests or more in Python: each is forked from the preloaded
    interpreter ("preloaded": true) and judged as an executed run is
    (--no-preload): verdict, status, exit code, signal, output; a memory
    and a CPU limit still hold.  A single test is executed."""
    def run():
        d = os.path.join(TMP, "preload-tests")
        os.makedirs(d, exist_ok=True)
        for name, data_in, data_out in (("1", b"3\n", b"6\n"), ("2", b"4\n", b"9\n"),
                                        ("3", b"x\n", b"")):
            for ext, data in (("in", data_in), ("out", data_out)):
                with open(os.path.join(d, "%s.%s" % (name, ext)), "wb") as f:
                    f.write(data)
        src = tmpfile("preload/main.py", b"n = int(input())\nprint(2 * n)\n")
        r, pre = exec_json(["--lang", "python3", "--tests", d, src], "python3")
        r2, ex = exec_json(["--lang", "python3", "--tests", d, "--no-preload", src], "python3")
        expect(all(t["preloaded"] for t in pre["tests"]), r, "every test preloaded")
        expect(not any(t["preloaded"] for t in ex["tests"]), r2, "no test preloaded")
        expect(verdicts(pre) == ["accepted", "wrong_answer", "runtime_error"], r,
               "accepted, wrong_answer, runtime_error")
        for a, b in zip(pre["tests"], ex["tests"]):
            for f in ("verdict", "status", "exit_code", "signal", "stdout", "stderr"):
                expect(a[f] == b[f], r, "test %s: %s %r preloaded, %r executed"
                       % (a["name"], f, a[f], b[f]))
        expect(pre["verdict"] == ex["verdict"] and pre["message"] == ex["message"], r,
               "the same verdict and message as executed (%r)" % ex["message"])
        for prog, opts, want in (("mle", [], "memory_limit"),
                                 ("tle", ["--cpu-time=1"], "time_limit")):
            r, res = exec_json(["--lang", "python3", "--tests", d] + opts +
                               [lang_file("python3", prog)], "python3")
            expect(verdicts(res) == [want] * 3 and all(t["preloaded"] for t in res["tests"]),
                   r, "three preloaded tests, each %s" % want)
        r, one = exec_json(["--lang", "python3", "--stdin", os.path.join(d, "1.in"), src],
                           "python3")
        expect(one["tests"][0]["stdout"] == "6\n" and not one["tests"][0]["preloaded"], r,
               "a single test executed")
        # a runcell without its preloader beside it: executed, and it says so
        alone = os.path.join(TMP, "alone")
        os.makedirs(alone, exist_ok=True)
        shutil.copy(RUNCELL, os.path.join(alone, "runcell"))
        p = subprocess.run([os.path.join(alone, "runcell"), "exec", "--lang", "python3",
                            "--tests", d, src], capture_output=True, timeout=120,
                           env=dict(os.environ, RUNCELL_LANGUAGES=os.path.join(ROOT, "etc",
                                                                               "languages")))
        err = p.stderr.decode(errors="replace")
        res = json.loads(p.stdout or b"null")
        if (p.returncode != 0 or not res or verdicts(res) != verdicts(ex) or
                any(t["preloaded"] for t in res["tests"]) or
                "python3 tests are executed, not preloaded" not in err or
                "runcell-python" not in err):
            raise Fail("exec without runcell-python beside it: exit %d, stderr %r, result %s"
                       % (p.returncode, err[:300], short(res)))
    return run


def case_output_kept():
    """24 tests printing 3 MiB each: exec prints 64 MiB of output in all,
    the rest marked truncated (it held and printed all 72 MiB)."""
    def run():
        d = os.path.join(TMP, "big-out")
        os.makedirs(d, exist_ok=True)
        for i in range(24):
            for ext in ("in", "out"):
                with open(os.path.join(d, "%02d.%s" % (i, ext)), "wb") as f:
                    f.write(b"y" * (3 << 20) if ext == "out" else b"")
        src = tmpfile("big-out-src/main.py", b"import sys\nsys.stdout.write('y' * (3 << 20))\n")
        r, res = exec_json(["--lang", "python3", "--tests", d, src], "python3", timeout=300)
        expect(res["verdict"] == "accepted", r, "accepted: the checker saw the whole output")
        total = sum(len(t["stdout"]) for t in res["tests"])
        expect(total == 64 << 20, r, "64 MiB of stdout printed in all, got %d bytes" % total)
        expect(res["tests"][-1]["stdout_truncated"] and not res["tests"][0]["stdout_truncated"],
               r, "the last tests' stdout marked truncated, the first's not")
    return run


def case_big_binary():
    """A C program with a 33 MiB array: its object and binary (66 MiB)
    did not fit the compile's 64 MiB disk; the compile now has 256 MiB,
    and at least the runs' --disk."""
    def run():
        src = tmpfile("bigbin/main.c", b"char big[33 << 20] = {1};\nint main(void) { return big[0] - 1; }\n")
        cache = tempfile.mkdtemp(dir=TMP)
        r, res = exec_json(["--lang", "c", src], "c", env={"RUNCELL_CACHE_DIR": cache})
        expect(res["verdict"] == "accepted", r, "accepted: the binary links and runs")
        # the runs' disk cannot hold it: compile_error naming both sizes
        cache = tempfile.mkdtemp(dir=TMP)
        r, res = exec_json(["--lang", "c", "--disk=16", src], "c", env={"RUNCELL_CACHE_DIR": cache})
        expect(res["verdict"] == "compile_error" and "disk" in res["message"], r,
               "compile_error about the runs' disk")
    return run


def case_args(opts, tail, want_out):
    def run():
        path = os.path.join(HERE, "misc", "args.py")
        r, res = exec_json(["--lang", "python3"] + opts + [path] + tail, "python3")
        expect(res["verdict"] == "accepted", r, "verdict accepted expected")
        expect(res["tests"][0]["stdout"] == want_out, r, "stdout %r expected" % want_out)
    return run


# ---------------------------------------------------------------- 4. bad input

def case_bad(args, mention=None):
    def run():
        r = runcell(["exec"] + args)
        if r.rc != 2:
            raise Fail("%s; expected exit 2 (stdout %r)" % (r.brief(), r.out[:200]))
        if not r.err.strip():
            raise Fail("`%s`: exit 2 but nothing on stderr" % r.cmd)
        if r.out.strip():
            raise Fail("`%s`: exit 2 but stdout not empty: %r" % (r.cmd, r.out[:200]))
        if mention and mention.lower() not in r.err.lower():
            raise Fail("`%s`: stderr %r does not mention %r" % (r.cmd, r.err.strip(), mention))
    return run


def tmpfile(name, data):
    p = os.path.join(TMP, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


def bad_cases():
    hello = lang_file("python3", "hello")
    tdir = os.path.join(PROBLEMS, "sum", "tests")
    big = b"print('hello')\n" + b"#" * (1048576 - 16) + b"\n"
    assert len(big) == 1048576
    empty = tmpfile("empty/main.py", b"")
    over = tmpfile("over/main.py", big + b"\n")
    exact = tmpfile("exact/main.py", big)
    nul = tmpfile("nul/main.py", b"print('hi')\n\x00\x01\x02\xff\xfe\x00garbage\x00\n")
    unp = os.path.join(TMP, "unpaired")
    emptydir = os.path.join(TMP, "empty-tests")
    os.makedirs(emptydir, exist_ok=True)
    for n, d in (("01.in", b"1\n5\n"), ("01.out", b"5\n"), ("02.in", b"1\n7\n")):
        tmpfile("unpaired/" + n, d)
    # a test input that is a directory, or a FIFO (which used to hang
    # runcell exec on open, waiting for a writer)
    dirin = os.path.join(TMP, "dir-input")
    os.makedirs(os.path.join(dirin, "x.in"), exist_ok=True)
    tmpfile("dir-input/x.out", b"1\n")
    fifoin = os.path.join(TMP, "fifo-input")
    os.makedirs(fifoin, exist_ok=True)
    if not os.path.exists(os.path.join(fifoin, "y.in")):
        os.mkfifo(os.path.join(fifoin, "y.in"))
    tmpfile("fifo-input/y.out", b"1\n")
    sock = os.path.join(TMP, "stdin.sock")
    if not os.path.exists(sock):
        socket.socket(socket.AF_UNIX).bind(sock)
    fifoout = os.path.join(TMP, "fifo-expected")
    os.makedirs(fifoout, exist_ok=True)
    if not os.path.exists(os.path.join(fifoout, "z.out")):
        os.mkfifo(os.path.join(fifoout, "z.out"))
    tmpfile("fifo-expected/z.in", b"1\n")
    out = [
        ("bad/keeper_relative", case_bad(["--lang", "python3", "--keeper=k.sock", hello],
                                         "--keeper=k.sock")),
        ("bad/keeper_and_no_keeper", case_bad(["--lang", "python3", "--keeper=/tmp/k.sock",
                                               "--no-keeper", hello], "--no-keeper")),
        ("bad/tests_input_is_a_directory", case_bad(["--lang", "python3", "--tests", dirin, hello],
                                                    "x.in is not a regular file")),
        ("bad/tests_input_is_a_fifo", case_bad(["--lang", "python3", "--tests", fifoin, hello],
                                               "y.in is not a regular file")),
        ("bad/tests_expected_is_a_fifo", case_bad(["--lang", "python3", "--tests", fifoout, hello],
                                                  "not a regular file")),
        ("bad/stdin_is_a_directory", case_bad(["--lang", "python3", "--stdin", TMP, hello],
                                              "is a directory")),
        ("bad/stdin_is_a_socket", case_bad(["--lang", "python3", "--stdin", sock, hello],
                                           "is a socket")),
        ("bad/unknown_language", case_bad(["--lang", "cobol", hello], "cobol")),
        ("bad/missing_file", case_bad(["--lang", "python3", "/nonexistent/x.py"],
                                      "/nonexistent/x.py")),
        ("bad/empty_source", case_bad(["--lang", "python3", empty])),
        ("bad/source_over_1MiB", case_bad(["--lang", "python3", over])),
        ("bad/binary_nul_bytes", case_bad(["--lang", "python3", nul])),
        ("bad/unpaired_tests", case_bad(["--lang", "python3", "--tests", unp, hello])),
        ("bad/tests_and_expected", case_bad(["--lang", "python3", "--tests", tdir,
                                             "--expected", os.path.join(tdir, "01.out"),
                                             hello])),
        ("bad/no_files", case_bad(["--lang", "python3"])),
        ("bad/file_given_twice", case_bad(["--lang", "python3", hello, hello], "twice")),
        # A second source named like an option would reach the compiler
        # as one (gcc ran -v.c as -v); a data file named like what the
        # compile makes used to fail in the cell as internal_error.
        ("bad/source_named_like_option", case_bad(["--lang", "c", lang_file("c", "hello"),
                                                   tmpfile("opt/-v.c", b"int x;\n")],
                                                  "would reach the compiler as an option")),
        ("bad/source_named_like_response_file", case_bad(["--lang", "c", lang_file("c", "hello"),
                                                          tmpfile("opt/@args.c", b"int x;\n")],
                                                         "would reach the compiler as an option")),
        ("bad/data_file_named_like_artifact", case_bad(["--lang", "c", "--file",
                                                        tmpfile("artifact/main", b"data\n"),
                                                        lang_file("c", "hello")],
                                                       "the compile makes a file of that name")),
        ("bad/data_file_named_like_class", case_bad(["--lang", "java", "--file",
                                                     tmpfile("artifact/Helper.class", b"data\n"),
                                                     lang_file("java", "hello")],
                                                    "the compile makes a file of that name")),
        # two data files of one name compiled first, then failed placing
        # the second: exit 1, "internal error"
        ("bad/data_file_given_twice", case_bad(["--lang", "python3",
                                                "--file", tmpfile("dup1/data.bin", b"a\n"),
                                                "--file", tmpfile("dup2/data.bin", b"b\n"), hello],
                                               "given twice")),
        ("bad/file_named_as_entry", case_bad(["--lang", "python3", hello,
                                              tmpfile("entry/main.py", b"x = 1\n")],
                                             "the first file takes that name")),
        ("bad/files_over_disk", case_bad(["--lang", "python3", "--disk=0.1", exact],
                                         "raise --disk")),
        ("bad/no_lang", case_bad([hello])),
        ("bad/unknown_checker", case_bad(["--lang", "python3", "--checker", "nosuch",
                                          hello])),
        ("bad/missing_tests_dir", case_bad(["--lang", "python3", "--tests",
                                            "/nonexistent/tests", hello])),
        ("bad/empty_tests_dir", case_bad(["--lang", "python3", "--tests", emptydir, hello],
                                         "no NAME.in / NAME.out pairs")),
        ("bad/source_exactly_1MiB_ok", case_simple("python3", exact, [], "accepted")),
    ]
    return out


# ---------------------------------------------------------------- 5. cache

class Keeper:
    """A `runcell keep --cells 1` on a socket of the test's own."""

    def __init__(self):
        d = tempfile.mkdtemp(prefix="k-", dir=TMP)
        self.sock = os.path.join(d, "keeper.sock")
        self.log = os.path.join(d, "keeper.log")
        self.logf = open(self.log, "wb")
        self.p = subprocess.Popen([RUNCELL, "keep", "--cells=1", "--socket=" + self.sock],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.logf)
        deadline = time.monotonic() + 60
        while "cells ready" not in self.text():
            if self.p.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise Fail("runcell keep did not start: %r" % self.text()[-300:])
            time.sleep(0.05)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def served(self):
        """The runs the keeper answered: "keep: run N: STATUS" lines."""
        return re.findall(r"keep: run \d+: (\w+)", self.text())

    def served_by_now(self, n, wait=10):
        """served(), once it lists n runs or wait seconds have passed: the
        keeper writes a run's line after the client has gone and the
        cell is closed, a moment after runcell exec has exited."""
        deadline = time.monotonic() + wait
        while len(self.served()) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.served()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.logf.close()


def case_keeper_exec():
    """runcell exec --keeper: a single run of a language without a compile
    step takes the keeper's cell and is judged as one built here is
    (--no-keeper): verdict, status, exit code, output, for accepted, wrong
    answer, runtime error, memory and time limits, with stdin and a data
    file; a compile, two tests or no keeper build their own cell and say
    why; a cached compile's only run is the keeper's; an interrupted exec
    ends its run in the keeper."""
    def run():
        k = Keeper()
        try:
            d = os.path.join(TMP, "keeper-exec")
            os.makedirs(d, exist_ok=True)
            inp = tmpfile("keeper-exec/in.txt", b"20 22\n")
            good = tmpfile("keeper-exec/good.out", b"42\n")
            bad = tmpfile("keeper-exec/bad.out", b"43\n")
            data = tmpfile("keeper-exec/data.txt", b"from the data file\n")
            src = tmpfile("keeper-exec/sum.py",
                          b"a, b = map(int, input().split())\nprint(a + b)\n"
                          b"print(open('data.txt').read(), end='', file=__import__('sys').stderr)\n")
            plans = [
                (["--stdin", inp, "--expected", good, "--file", data, src], "accepted"),
                (["--stdin", inp, "--expected", bad, "--file", data, src], "wrong_answer"),
                ([lang_file("python3", "re")], "runtime_error"),
                ([lang_file("python3", "mle")], "memory_limit"),
                (["--cpu-time=1", lang_file("python3", "tle")], "time_limit"),
            ]
            for i, (args, want) in enumerate(plans):
                r, got = exec_json(["--lang", "python3", "--keeper=" + k.sock] + args, "python3")
                r2, here = exec_json(["--lang", "python3", "--no-keeper"] + args, "python3")
                got_served = k.served_by_now(i + 1)
                expect(len(got_served) == i + 1, r, "the keeper served run %d (it logged %r)"
                       % (i + 1, got_served))
                expect(got["verdict"] == want and here["verdict"] == want, r,
                       "verdict %s through the keeper and here (got %s and %s)"
                       % (want, got["verdict"], here["verdict"]))
                a, b = got["tests"][0], here["tests"][0]
                for f in ("verdict", "status", "exit_code", "signal", "stdout", "preloaded"):
                    expect(a[f] == b[f], r, "%s %r through the keeper, %r here" % (f, a[f], b[f]))
                expect(not r.err.strip(), r, "nothing on stderr (%r)" % r.err[:200])
            expect(got["tests"][0]["cpu_ms"] >= 800, r, "the time limit counted CPU time")
            r, res = exec_json(["--lang", "python3", "--keeper=" + k.sock, "--stdin", inp,
                                "--expected", good, "--file", data, src], "python3")
            expect(res["tests"][0]["stderr"] == "from the data file\n", r,
                   "the data file read in the keeper's cell")
            n = len(k.served_by_now(len(plans) + 1))
            # not a single run, a compile, or no keeper: a cell built here, and why
            tdir = os.path.join(d, "tests")
            os.makedirs(tdir, exist_ok=True)
            for name in ("1", "2"):
                shutil.copy(inp, os.path.join(tdir, name + ".in"))
                shutil.copy(good, os.path.join(tdir, name + ".out"))
            cache = {"RUNCELL_CACHE_DIR": tempfile.mkdtemp(prefix="cache-", dir=d)}
            hello_c = ["--lang", "c", lang_file("c", "hello")]
            for args, says in (
                    (["--lang", "python3", "--tests", tdir, "--file", data, src],
                     ("serves a submission's only run", "the cell was built here")),
                    (hello_c, ("serves a submission's only run", "the cell was built here")),
                    (["--lang", "python3", "--stdin", inp, "--file", data, src],
                     ("no keeper at", "building the cell here"))):
                sock = os.path.join(d, "none.sock") if says[0] == "no keeper at" else k.sock
                r, res = exec_json(["--keeper=" + sock] + args, env=cache)
                expect(res["verdict"] == "accepted", r, "accepted (%s)" % res["verdict"])
                expect(all(w in r.err for w in says), r, "stderr says %r (%r)" % (says, r.err[:300]))
            got_served = k.served_by_now(n + 1, wait=1)  # a line that must not come
            expect(len(got_served) == n, r, "the keeper served none of them (%r)" % got_served)
            # the same C program again: its compile cached, its only run is the keeper's
            r, res = exec_json(["--keeper=" + k.sock] + hello_c, env=cache)
            expect(res["verdict"] == "accepted" and res["compile"].get("cached") and
                   res["tests"][0]["stdout"] == "hello\n", r,
                   "accepted from the cache, stdout hello (%s)" % short(res))
            got_served = k.served_by_now(n + 1)
            expect(len(got_served) == n + 1 and not r.err.strip(), r,
                   "the keeper served the cached C program's run, silently (%r, %r)"
                   % (got_served, r.err[:200]))
            # interrupted while the keeper runs the program
            p = subprocess.Popen([RUNCELL, "exec", "--lang", "python3", "--keeper=" + k.sock,
                                  "--wall-time=60", "--cpu-time=60",
                                  os.path.join(HERE, "misc", "sleep.py")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while "python3 main.py" not in ps_args() and time.monotonic() < deadline:
                time.sleep(0.05)
            started = "python3 main.py" in ps_args()
            p.send_signal(2)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                raise Fail("exec --keeper did not end within 30 s of SIGINT")
            if p.returncode != 130 or b"interrupted by SIGINT" not in err or out.strip():
                raise Fail("exec --keeper after SIGINT: exit %d, stdout %r, stderr %r"
                           % (p.returncode, out[:200], err[:300]))
            expect(started, r, "the program was running in the keeper's cell when interrupted")
            deadline = time.monotonic() + 10
            while "python3 main.py" in ps_args() and time.monotonic() < deadline:
                time.sleep(0.1)
            expect("python3 main.py" not in ps_args(), r, "the interrupted program is gone")
        finally:
            k.stop()
    return run


def ps_args():
    """Every process's command line, one per line (the cells' included)."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    out.append(f.read().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:
                pass
    return "\n".join(out)


def case_cache_whole_command():
    # Two language files whose compile commands differ only past their
    # 33rd word (-DVAL=1 against -DVAL=2): the key took only the first
    # 32 words, so the second ran the first's program (printed 1).
    need("c")
    cache = tempfile.mkdtemp(prefix="cache-", dir=TMP)
    outs = []
    for v in ("1", "2", "1"):
        langs = tempfile.mkdtemp(prefix="langs-", dir=TMP)
        for f in os.listdir(os.path.join(ROOT, "etc", "languages")):
            shutil.copy(os.path.join(ROOT, "etc", "languages", f), langs)
        p = os.path.join(langs, "c.json")
        j = json.load(open(p))
        j["compile"] = ["/usr/bin/gcc"] + ["-Wno-unused"] * 32 + ["-DVAL=" + v, "-o", "main",
                                                                 "{sources}"]
        json.dump(j, open(p, "w"))
        src = tmpfile("val/val.c", b'#include <stdio.h>\nint main(void) { printf("%d\\n", VAL); }\n')
        r, res = exec_json(["--lang", "c", src], "c",
                           env={"RUNCELL_CACHE_DIR": cache, "RUNCELL_LANGUAGES": langs})
        outs.append((res["tests"][0]["stdout"], res["compile"].get("cached")))
    expect(outs == [("1\n", False), ("2\n", False), ("1\n", True)], r,
           "stdout and compile.cached per run %s, expected 1 (new), 2 (new), 1 (cached)" % outs)


def case_cache():
    need("cpp")
    cache = tempfile.mkdtemp(prefix="cache-", dir=TMP)
    env = {"RUNCELL_CACHE_DIR": cache}
    src = os.path.join(HERE, "cache", "heavy.cpp")
    r1, a = exec_json(["--lang", "cpp", src], "cpp", env=env)
    r2, b = exec_json(["--lang", "cpp", src], "cpp", env=env)
    for r, res in ((r1, a), (r2, b)):
        expect(res["verdict"] == "accepted" and res["tests"][0]["stdout"] == "hello\n", r,
               "verdict accepted and stdout 'hello\\n' expected")
        expect(isinstance(res["compile"], dict), r, "a compile result expected")
    expect(a["compile"].get("cached") is False, r1,
           "first run (fresh RUNCELL_CACHE_DIR): compile.cached false expected")
    expect(b["compile"].get("cached") is True, r2,
           "second identical run: compile.cached true expected")
    if not os.listdir(cache):
        raise Fail("RUNCELL_CACHE_DIR=%s is empty after two runs" % cache)
    if r2.secs * 3 > r1.secs:
        raise Fail("`RUNCELL_CACHE_DIR=... %s`: cached run took %.3f s, first %.3f s; "
                   "expected >= 3x faster" % (r2.cmd, r2.secs, r1.secs))
    # one byte more: a miss
    changed = tmpfile("changed/heavy.cpp", open(src, "rb").read() + b"// changed\n")
    r3, c = exec_json(["--lang", "cpp", changed], "cpp", env=env)
    expect(isinstance(c["compile"], dict) and c["compile"].get("cached") is False, r3,
           "a changed source: compile.cached false expected")
    return "first %.2f s, cached %.2f s (%.1fx)" % (r1.secs, r2.secs, r1.secs / max(r2.secs, 1e-3))


def case_version_record():
    """A language that compiles nothing still keeps its version record, in a
    cache directory that did not exist: without it each run probes the
    toolchain again (a whole `python3 --version`)."""
    need("python3")
    cache = os.path.join(tempfile.mkdtemp(prefix="cache-", dir=TMP), "new", "dir")
    src = tmpfile("version-record/main.py", b"print(1)\n")
    for _ in range(2):
        r, res = exec_json(["--lang", "python3", src], "python3",
                           env={"RUNCELL_CACHE_DIR": cache})
        expect(res["verdict"] == "accepted" and res["tests"][0]["stdout"] == "1\n", r,
               "verdict accepted and stdout '1\\n' expected")
    record = os.path.join(cache, "versions", "python3")
    if not os.path.isfile(record):
        raise Fail("no version record %s after two runs with RUNCELL_CACHE_DIR=%s "
                   "(a directory that did not exist)" % (record, cache))
    lines = open(record).read().splitlines()
    expect(len(lines) == 2 and lines[1] == res["language"]["version"], r,
           "the record's second line is the version %r: %r" % (res["language"]["version"], lines))
    return "record %s" % lines[1]


def case_languages_records():
    """`runcell languages` reads the version records runcell exec keeps
    (valid while the toolchain's files are unchanged) instead of running
    every version probe, writes them when missing, and ignores a record
    whose toolchain identity does not match."""
    need("python3")
    cache = os.path.join(tempfile.mkdtemp(prefix="cache-", dir=TMP), "fresh")
    env = {"RUNCELL_CACHE_DIR": cache}

    def versions():
        r = runcell(["languages", "--json"], env=env)
        expect(r.rc == 0, r, "exit 0 expected")
        try:
            return r, {l["id"]: l["version"] for l in json.loads(r.out)}
        except (ValueError, KeyError, TypeError) as e:
            raise Fail("`runcell languages --json`: %s: %r" % (e, r.out[:200]))

    r, first = versions()
    record = os.path.join(cache, "versions", "python3")
    if not os.path.isfile(record):
        raise Fail("no version record %s after `runcell languages` with RUNCELL_CACHE_DIR=%s"
                   % (record, cache))
    ident, version = open(record).read().splitlines()
    expect(version == first["python3"], r,
           "the record holds the version listed: %r vs %r" % (version, first["python3"]))
    with open(record, "w") as f:
        f.write("%s\nPython from the record\n" % ident)
    r, second = versions()
    expect(second["python3"] == "Python from the record", r,
           "a record that matches the toolchain is used: %r" % second["python3"])
    expect(all(second[k] == v for k, v in first.items() if k != "python3"), r,
           "the other languages list the same versions: %r vs %r" % (first, second))
    with open(record, "w") as f:
        f.write("0:0:0:0;\nPython from a stale record\n")
    r, third = versions()
    expect(third["python3"] == first["python3"], r,
           "a record of other toolchain files is not used: %r" % third["python3"])
    return "%d languages, python3 %s" % (len(first), third["python3"])


# ---------------------------------------------------------------- driver

def load_languages():
    r = runcell(["languages", "--json"])
    if r.rc != 0:
        return "`runcell languages --json` -> exit %d: %s" % (r.rc, r.err.strip()[:200])
    try:
        data = json.loads(r.out)
    except ValueError as e:
        return "`runcell languages --json`: not JSON (%s): %r" % (e, r.out[:200])
    if isinstance(data, dict):
        data = data.get("languages", data)
    if isinstance(data, dict):  # {"c": {...}, ...}
        data = [dict(v, id=k) if isinstance(v, dict) else {} for k, v in data.items()]
    if not isinstance(data, list):
        return "`runcell languages --json`: expected a list of languages: %r" % r.out[:200]
    for l in data:
        if isinstance(l, dict) and isinstance(l.get("id"), str):
            AVAILABLE[l["id"]] = bool(l.get("available"))
    missing = [l for l in LANG_INFO if l not in AVAILABLE]
    if missing:
        return "`runcell languages --json` does not list %s" % ", ".join(missing)
    bad = [l for l in data if not isinstance(l.get("available"), bool)]
    if bad:
        return "`runcell languages --json`: 'available' is not a boolean for %s" % \
            ", ".join(str(l.get("id")) for l in bad)
    return None


def build_cases():
    cases = []
    # 1. corpus
    for problem in ("sum", "sort", "mean"):
        for lang in CORPUS_LANGS:
            for kind in ("ac", "wa", "tle", "re"):
                cases.append(("corpus/%s/%s/%s" % (problem, lang, kind),
                              case_corpus(problem, lang, kind), lang))
        cases.append(("corpus/%s/python3/wa_first_failure" % problem,
                      case_first_failure_wa(problem, "python3"), "python3"))
    cases += [
        ("checker/mean_ac_default_lines_is_wa",
         case_checker("mean", "python3", "ac", None, "wrong_answer"), "python3"),
        ("checker/mean_ac_exact_is_wa",
         case_checker("mean", "c", "ac", "exact", "wrong_answer"), "c"),
        ("checker/mean_ac_tokens_is_wa",
         case_checker("mean", "python3", "ac", "tokens", "wrong_answer"), "python3"),
        ("checker/sum_ac_exact",
         case_checker("sum", "python3", "ac", "exact", "accepted"), "python3"),
        ("checker/sum_ac_tokens",
         case_checker("sum", "python3", "ac", "tokens", "accepted"), "python3"),
        ("checker/trailing_ws_lines_accepted",
         case_checker("sum", "python3", None, None, "accepted",
                      os.path.join(HERE, "checkers", "trailing_ws.py")), "python3"),
        ("checker/trailing_ws_exact_is_wa",
         case_checker("sum", "python3", None, "exact", "wrong_answer",
                      os.path.join(HERE, "checkers", "trailing_ws.py")), "python3"),
        ("checker/trailing_ws_tokens_accepted",
         case_checker("sum", "python3", None, "tokens", "accepted",
                      os.path.join(HERE, "checkers", "trailing_ws.py")), "python3"),
    ]
    # 2. languages
    for lang, (ext, compiled) in LANG_INFO.items():
        cases.append(("lang/%s/hello" % lang, case_hello(lang), lang))
        cases.append(("lang/%s/echo" % lang, case_echo(lang), lang))
        if compiled:
            cases.append(("lang/%s/compile_error" % lang, case_ce(lang), lang))
        cases.append(("lang/%s/runtime_error" % lang, case_re(lang), lang))
        cases.append(("lang/%s/time_limit" % lang, case_tle(lang), lang))
        cases.append(("lang/%s/memory_limit" % lang, case_mle(lang), lang))
    for lang in ("c", "python3"):
        cases.append(("lang/%s/echo_wrong_expected" % lang, case_echo_wrong(lang), lang))
    for alias, lang in ALIASES.items():
        cases.append(("alias/%s" % alias, case_hello(lang, alias), lang))
    # 3. big heaps under the default limit
    cases.append(("bigheap/java_100MB", case_big("java", lang_file("java", "big")), "java"))
    cases.append(("bigheap/go_100MB", case_big("go", lang_file("go", "big")), "go"))
    # misc
    m = os.path.join(HERE, "multi")
    cases += [
        ("multi/python3", case_multi("python3", [m + "/py/main.py", m + "/py/helper.py"],
                                     "hello\n"), "python3"),
        ("multi/c", case_multi("c", [m + "/c/main.c", m + "/c/add.c"], "42\n"), "c"),
        # a name of 255 bytes, the most a file name may have: it failed with
        # an empty message (memfd names stop at 249 bytes)
        ("multi/name_255_bytes", case_multi("python3", [
            tmpfile("long/main.py", b"import glob\nprint(len(glob.glob('/box/' + 'n' * 252 + '.py')[0]))\n"),
            tmpfile("long/" + "n" * 252 + ".py", b"x = 1\n")], "260\n"), "python3"),
        ("misc/output_limit", case_simple("python3", os.path.join(HERE, "misc", "output.py"),
                                          ["--output=64"], "output_limit"), "python3"),
        ("misc/stdin_and_expected_from_pipes", case_pipes(b"piped input\n", "accepted"),
         "python3"),
        ("misc/expected_from_pipe_differs", case_pipes(b"other\n", "wrong_answer"), "python3"),
        ("misc/tests_8193_and_10001", case_many_tests(), "python3"),
        ("misc/python_tests_preloaded", case_python_tests_preloaded(), "python3"),
        ("misc/output_kept_64mib", case_output_kept(), "python3"),
        ("misc/big_binary_compiles", case_big_binary(), "c"),
        ("misc/args_option", case_args(["--arg=x", "--arg=y z"], [], "x|y z\n"), "python3"),
        ("misc/data_file_readonly", case_data_file(), "c"),
        ("misc/java_too_many_classes", case_too_many_classes(), "java"),
        # out of threads is not out of memory, though the JVM calls it an
        # OutOfMemoryError (it was memory_limit); Ruby's and C++'s failed
        # allocations are memory_limit, as Python's were (they were
        # runtime_error), and the message says why
        ("misc/java_out_of_threads", case_simple("java", tmpfile("thr/Main.java", (
            b"public class Main { public static void main(String[] a) { for (;;) {"
            b" Thread t = new Thread(() -> { try { Thread.sleep(100000); } catch (Exception e) {} });"
            b" t.setDaemon(true); t.start(); } } }\n")), [], "runtime_error"), "java"),
        ("misc/ruby_no_memory", case_oom("ruby", tmpfile("oom/main.rb", b"x = 'x' * (10**11)\n"),
                                         "NoMemoryError"), "ruby"),
        ("misc/cpp_bad_alloc", case_oom("cpp", tmpfile("oom/main.cpp", (
            b"#include <vector>\nint main() { std::vector<char> v; v.reserve(1ull << 40);"
            b" return (int)v.size(); }\n")), "std::bad_alloc"), "cpp"),
        ("misc/args_after_double_dash", case_args([], ["--", "a", "b c"], "a|b c\n"),
         "python3"),
        ("misc/tests_wiped_between_runs",
         case_checker("sum", "python3", None, None, "accepted",
                      os.path.join(HERE, "misc", "wipe.py")), "python3"),
        ("misc/binary_over_disk", case_over_disk(), "c"),
        ("misc/compile_under_low_hard_rlimit", case_compile_under_low_hard_rlimit(), "c"),
        # what runtimes do by default, as judges expect it: node's output
        # written before process.exit() is kept (its pipe writes were
        # asynchronous: 131072 of 1053751 bytes arrived), the entry is
        # still the main module with the argv node gives; a JVM takes one
        # 200 MB array under the 256 MB default (its old generation was
        # 171 MB); Rust code of the 2021 edition compiles
        ("misc/js_output_before_exit_kept", case_stdout("javascript", tmpfile("jsexit/main.js", (
            b"const s = []; for (let i = 0; i < 100000; i++) s.push(i * i);"
            b" process.stdout.write(s.join('\\n') + '\\n'); process.exit(0);\n")), ["--", "x"],
            None, 1053751), "javascript"),
        ("misc/js_main_module_argv", case_stdout("javascript", tmpfile("jsmain/main.js", (
            b"console.log(require.main === module, process.argv.slice(1).join(' '), __filename);\n")),
            ["--", "a", "b c"], "true /box/main.js a b c /box/main.js\n", None), "javascript"),
        ("misc/java_one_200MB_array", case_stdout("java", tmpfile("jbig/Main.java", (
            b"public class Main { public static void main(String[] a) {"
            b" long[] x = new long[26214400]; x[x.length - 1] = 7; System.out.println(x[x.length - 1]); } }\n")),
            [], "7\n", None), "java"),
        ("misc/rust_edition_2021", case_stdout("rust", tmpfile("rs2021/main.rs", (
            b"use std::collections::HashMap;\n"
            b"fn main() { let v: Vec<i64> = [1i64, 2].into_iter().collect();"
            b" let n: u8 = v[1].try_into().unwrap(); let m: HashMap<_, _> = [(1, n)].into_iter().collect();"
            b" println!(\"{} {}\", v[0] + v[1], m[&1]); }\n")), [], "3 2\n", None), "rust"),
        # the cell's limit is the one asked for plus the runtime's headroom:
        # the message names the first (it said 98304 KB for --memory=64)
        ("misc/go_memory_message_names_asked_limit", case_message(
            "go", lang_file("go", "mle"), ["--memory=64"], "memory_limit",
            "memory limit of 65536 KB exceeded, plus 32768 KB for the go runtime"), "go"),
        ("misc/wall_time_is_time_limit",
         case_simple("python3", os.path.join(HERE, "misc", "sleep.py"), ["--wall-time=1"],
                     "time_limit"), "python3"),
    ]
    # 4. bad input
    cases += [(n, f, None) for n, f in bad_cases()]
    return cases


def main():
    global TMP, VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="run cases whose name contains this")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    o = ap.parse_args()
    VERBOSE = o.v
    if not os.access(RUNCELL, os.X_OK):
        print("FAIL setup: %s is not executable" % RUNCELL)
        print("0 passed, 1 failed")
        return 1
    TMP = tempfile.mkdtemp(prefix="runcell-judge-")
    passed = failed = 0
    lock = threading.Lock()

    def report(name, status, why=""):
        nonlocal passed, failed
        with lock:
            if status == "ok":
                passed += 1
                print("ok %s%s" % (name, " (%s)" % why if why else ""))
            elif status == "skip":
                print("skip %s: %s" % (name, why))
            else:
                failed += 1
                print("FAIL %s: %s" % (name, why))
            sys.stdout.flush()

    try:
        err = load_languages()
        if not o.k or any(k in "languages/json" for k in o.k):
            report("languages/json", "FAIL" if err else "ok", err or "")
        for lang in LANG_INFO:
            if AVAILABLE.get(lang) is False:
                report("lang/%s" % lang, "skip",
                       "runcell languages --json says available false; its cases are not run")
        cases = build_cases()
        cases.append(("cache/compile_cache", case_cache, "cpp"))
        cases.append(("cache/whole_command_in_key", case_cache_whole_command, "c"))
        cases.append(("cache/version_record_new_dir", case_version_record, "python3"))
        cases.append(("cache/languages_records", case_languages_records, "python3"))
        cases.append(("keeper/exec_single_run", case_keeper_exec(), "python3"))
        if o.k:
            cases = [c for c in cases if any(k in c[0] for k in o.k)]
        serial = [c for c in cases if c[0].startswith(("cache/", "keeper/"))]
        parallel = [c for c in cases if c not in serial]

        def one(case):
            name, fn, lang = case
            if lang and AVAILABLE.get(lang) is False:
                return  # reported once per language above
            try:
                note = fn()
                report(name, "ok", note if isinstance(note, str) else "")
            except Skip as e:
                report(name, "skip", str(e))
            except Fail as e:
                report(name, "FAIL", str(e))
            except Exception as e:  # a bug in a case: a failure, not a crash
                report(name, "FAIL", "%s: %s" % (type(e).__name__, e))

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as ex:
            list(ex.map(one, parallel))
        for c in serial:
            one(c)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
