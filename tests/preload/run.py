#!/usr/bin/python3
"""The preloaded Python (build/runcell-python, docs/SANDBOX.md).

Each case runs Python scripts in a warm cell twice, through
`runcell run --json --sequence`: once executed (/usr/bin/python3 started
for each) and once with --preload=python3 (forked from the interpreter the
cell started once).  It checks that the preloaded runs were preloaded, and
that they behave as the executed ones: status, exit code, stdout, stderr.
Then the guarantees of a preloaded run: its confinement, limits and
accounting, nothing of one run reaching the next (modules, processes,
memory of the preloader), the preloader out of the programs' reach, the
fallback to executing, bad --preload values, a `runcell keep
--preload=python3` whose cells fork the runs that ask for it (runcell run
and runcell exec) and execute the others, and the server forking its
Python runs from a preloader (and not with preload = false).

Usage: run.py [-k NAME[,NAME...]] [-v]
Prints "ok NAME" or "FAIL NAME: why" per case and ends with
"N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNCELL = os.environ.get("RUNCELL", os.path.join(ROOT, "build", "runcell"))
PY = "/usr/bin/python3"
VERBOSE = False
# How much slower than native the machine is (an emulated guest: 10).
SLOWDOWN = int(os.environ.get("RUNCELL_TEST_SLOWDOWN", "1"))


def runcell(args, box_files, progs, timeout=120, stdin=None):
    """Runs progs (argv lists) in one warm cell with box_files in /box;
    returns (exit status, [result objects], stderr)."""
    box = tempfile.mkdtemp(prefix="runcell-preload-")
    try:
        for name, text in box_files.items():
            with open(os.path.join(box, name), "w") as f:
                f.write(text)
        cmd = [RUNCELL, "run", "--json", "--sequence", "--box=" + box] + args + ["--"]
        for i, p in enumerate(progs):
            cmd += (p if i == 0 else [":::"] + p)
        if VERBOSE:
            print("  $ " + " ".join(cmd))
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout * SLOWDOWN, stdin=stdin)
        out = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
        return p.returncode, out, p.stderr.decode("utf-8", "replace")
    finally:
        shutil.rmtree(box)


def both(box_files, progs, extra=(), stdin_path=None):
    """The same programs executed and preloaded: (executed, preloaded).
    Where programs run slower than native (RUNCELL_TEST_SLOWDOWN, the
    emulated cgroup v2 guest), both get time limits as much larger: a
    forked interpreter's copy-on-write faults cost far more there, and no
    case compared here is about a time limit."""
    args = list(extra) + (["--stdin=" + stdin_path] if stdin_path else [])
    if SLOWDOWN > 1:
        args += ["--cpu-time=%d" % (2 * SLOWDOWN), "--wall-time=%d" % (5 * SLOWDOWN)]
    rc1, ex, err1 = runcell(args, box_files, progs)
    rc2, pre, err2 = runcell(args + ["--preload=python3"], box_files, progs)
    if rc1 != 0 or rc2 != 0 or len(ex) != len(progs) or len(pre) != len(progs):
        raise AssertionError("runcell failed: %d %r / %d %r" % (rc1, err1[-300:], rc2, err2[-300:]))
    return ex, pre


def same(box_files, progs, extra=(), stdin_path=None, fields=("status", "exit_code", "signal",
                                                               "stdout", "stderr")):
    errs = []
    ex, pre = both(box_files, progs, extra, stdin_path)
    for i, (a, b) in enumerate(zip(ex, pre)):
        if not b.get("preloaded"):
            errs.append("run %d not preloaded: %s" % (i + 1, b["message"]))
        if "preloaded" in a and a["preloaded"]:
            errs.append("run %d preloaded without --preload" % (i + 1))
        for f in fields:
            if a[f] != b[f]:
                errs.append("run %d: %s executed %r, preloaded %r" % (i + 1, f, a[f], b[f]))
    return errs


def py(script, *args):
    return [PY, script] + list(args)


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


# ------------------------------------------------------------ as python3 runs

@case
def same_hello_argv_paths():
    src = ("import sys, os\n"
           "print('hello', sys.argv, sys.orig_argv, __file__, __name__, sys.path[0])\n"
           "print(sys.executable, os.getcwd(), sorted(os.environ.items()))\n"
           "print(sys.stdout.encoding, sys.getfilesystemencoding(), sys.flags)\n"
           "print(__loader__.__class__.__name__, __spec__, __cached__, __doc__)\n"
           "print('é ü 日本', sys.getrecursionlimit())\n"
           "print(sorted(sys.modules))\n")
    # "python3", found in PATH as /usr/bin/python3, is served as well
    return same({"main.py": src}, [py("main.py", "a", "b c"), py("/box/main.py"),
                                    ["python3", "main.py", "x"]])


@case
def same_stdin_echo():
    data = tempfile.NamedTemporaryFile(delete=False)
    data.write(b"3\n1 2 3\nline two\n")
    data.close()
    try:
        src = ("import sys\nn = int(input())\nprint(sum(map(int, input().split())) * n)\n"
               "print(sys.stdin.read()[::-1])\n")
        return same({"main.py": src}, [py("main.py")], stdin_path=data.name)
    finally:
        os.unlink(data.name)


@case
def same_exceptions_and_exit_codes():
    files = {
        "tb.py": "def f(x):\n    return 1 / x\n\nprint('before')\nf(0)\n",
        "exit3.py": "import sys\nprint('x')\nsys.exit(3)\n",
        "exitmsg.py": "import sys\nsys.exit('fatal: no input')\n",
        "exit0.py": "raise SystemExit\n",
        "syntax.py": "print('a'\nx = \n",
        "recur.py": "def f(n):\n    return f(n + 1)\nf(0)\n",
        "keyerr.py": "import json\njson.loads('{')\n",
        "interrupt.py": "print('x')\nraise KeyboardInterrupt\n",
        "interrupt_sub.py": "class K(KeyboardInterrupt):\n    pass\nraise K\n",
    }
    progs = [py(n) for n in sorted(files)] + [py("nosuch.py")]
    return same(files, progs)


@case
def same_code_option():
    # python3 -c CODE ARGS...: sys.argv ["-c", ARGS...], "" first on
    # sys.path (imports from the working directory), __main__ without
    # __file__, tracebacks from "<string>", exit codes, a coding cookie
    # ignored, code that is not UTF-8
    files = {"helper.py": "def twice(x):\n    return 2 * x\n"}
    codes = [
        ("import sys, __main__\n"
         "print(sys.argv, sys.orig_argv, repr(sys.path[0]), __name__, sys.flags)\n"
         "print(__main__.__loader__, getattr(__main__, '__file__', None), __main__.__spec__)\n"
         "print(sorted(vars(__main__)), sorted(sys.modules))\n", "a", "b c", "-c"),
        ("import helper; print(helper.twice(21), helper.__file__)",),
        ("def f(x):\n    return 1 / x\nprint('before')\nf(0)\n",),
        ("import sys; print('x'); sys.exit(3)",),
        ("import sys; sys.exit('fatal: no input')",),
        ("raise SystemExit",),
        ("print('a'\nx = \n",),
        ("raise KeyboardInterrupt",),
        ("# -*- coding: latin-1 -*-\nprint('\u00e9 \u65e5\u672c')",),
        ("print(1)\n#\udcff",),
        ("import sys; print(ascii(sys.argv))", "\udcfe"),
        ("-1",),
    ]
    progs = [[PY, "-c"] + list(c) for c in codes]
    progs.append(["python3", "-c", "import sys; print(sys.executable, sys.orig_argv)"])
    return same(files, progs)


@case
def same_imports_from_box():
    files = {"main.py": "import helper, sys\nprint(helper.twice(21), helper.__file__)\n"
                        "print('helper' in sys.modules)\n",
             "helper.py": "def twice(x):\n    return 2 * x\n"}
    return same(files, [py("main.py")])


@case
def same_directory_and_zip_scripts():
    # python3 runs a directory or a zip file as a package: the preloaded
    # child executes python3 for those
    import io
    import zipfile
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("__main__.py", "import sys\nprint('zip main', sys.argv)\n")
    box = tempfile.mkdtemp(prefix="runcell-preload-pkg-")
    try:
        os.mkdir(os.path.join(box, "pkg"))
        with open(os.path.join(box, "pkg", "__main__.py"), "w") as f:
            f.write("import sys\nprint('dir main', sys.argv)\n")
        with open(os.path.join(box, "app.zip"), "wb") as f:
            f.write(z.getvalue())
        progs = [py("pkg", "x"), py("app.zip", "y"), ["python3", "app.zip", "z"]]
        outs = []
        for extra in ([], ["--preload=python3"]):
            cmd = [RUNCELL, "run", "--json", "--sequence", "--box=" + box] + extra + ["--"]
            cmd += progs[0] + [":::"] + progs[1] + [":::"] + progs[2]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            outs.append([json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()])
    finally:
        shutil.rmtree(box)
    ex, pre = outs
    errs = []
    if len(ex) != 3 or len(pre) != 3:
        return ["runcell failed: %r %r" % (ex, pre)]
    for a, b in zip(ex, pre):
        for f in ("status", "exit_code", "stdout", "stderr"):
            if a[f] != b[f]:
                errs.append("%s: executed %r, preloaded %r" % (f, a[f], b[f]))
    if ex[0]["stdout"] != "dir main ['pkg', 'x']\n":
        errs.append("executed: %r" % ex[0]["stdout"])
    return errs


@case
def same_exit_sequence():
    # threads waited for, atexit in order, __del__ of globals, output flushed
    src = ("import atexit, threading, time, sys\n"
           "class D:\n"
           "    def __del__(self):\n"
           "        print('del', flush=True)\n"
           "d = D()\n"
           "atexit.register(lambda: print('atexit 1'))\n"
           "atexit.register(lambda: print('atexit 2'))\n"
           "def late():\n"
           "    time.sleep(0.2)\n"
           "    print('thread done')\n"
           "threading.Thread(target=late).start()\n"
           "sys.stdout.write('no newline at the end')\n")
    return same({"main.py": src}, [py("main.py")])


@case
def same_large_output_and_limit():
    files = {"big.py": "import sys\nsys.stdout.write('x' * 3000000)\n",
             "flood.py": "while True:\n    print('y' * 1000)\n"}
    return same(files, [py("big.py"), py("flood.py")], extra=["--output=1024"],
                fields=("status", "stdout_truncated"))


@case
def hash_seed_shared_by_preloaded_runs():
    # documented: preloaded runs of a cell share the interpreter's hash seed
    src = "print(hash('runcell'))\n"
    ex, pre = both({"main.py": src}, [py("main.py"), py("main.py")])
    errs = []
    if ex[0]["stdout"] == ex[1]["stdout"]:
        errs.append("executed runs shared a hash seed (docs say they do not)")
    if pre[0]["stdout"] != pre[1]["stdout"]:
        errs.append("preloaded runs had different hash seeds (docs say they share one)")
    return errs


# ------------------------------------------------------------ confinement

@case
def confined_like_executed():
    src = ("import os\n"
           "st = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
           "print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups())\n"
           "print(st['CapInh'], st['CapPrm'], st['CapEff'], st['CapBnd'], st['CapAmb'])\n"
           "print(st['NoNewPrivs'], st['Seccomp'])\n"
           "print(open('/proc/self/cgroup').read())\n"
           "print(os.getsid(0) == os.getpid(), os.listdir('/proc/self/fd'))\n"
           "print('cpus', sorted(os.sched_getaffinity(0)))\n"
           "print(sorted(p for p in os.listdir('/proc') if p.isdigit()) == [str(os.getpid())])\n"
           "import resource\n"
           "print([resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE)])\n")
    return same({"main.py": src}, [py("main.py")])


@case
def limits_and_accounting():
    files = {"mem.py": "b = bytearray(400 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n",
             "cpu.py": "while True:\n    pass\n",
             "sleep.py": "import time\ntime.sleep(10)\n",
             "burn.py": "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n",
             "touch.py": "b = bytearray(60 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n"}
    # CPU limits with room: a page fault costs several microseconds in a VM
    rc, res, err = runcell(["--preload=python3", "--memory=256", "--cpu-time=%d" % (10 * SLOWDOWN)], files,
                           [py("mem.py"), py("burn.py"), py("touch.py")])
    # An emulated guest (SLOWDOWN > 1) may give the busy loop less than half
    # of a CPU: its wall limit leaves room for one second of CPU, and stays
    # below the sleeper's 10 s.
    wall2 = 2 if SLOWDOWN == 1 else 6
    rc2, res2, err2 = runcell(["--preload=python3", "--cpu-time=1", "--wall-time=%d" % wall2], files,
                              [py("cpu.py"), py("sleep.py")])
    if rc != 0 or rc2 != 0 or len(res) != 3 or len(res2) != 2:
        return ["runcell failed: %d %s / %d %s" % (rc, err[-300:], rc2, err2[-300:])]
    res = [res[0]] + res2 + res[1:]
    errs = []
    want = ["memory_limit", "time_limit", "wall_time_limit", "ok", "ok"]
    for i, (r, w) in enumerate(zip(res, want)):
        if not r.get("preloaded"):
            errs.append("run %d not preloaded: %s" % (i + 1, r["message"]))
        if r["status"] != w:
            errs.append("run %d: status %s, want %s (%s)" % (i + 1, r["status"], w, r["message"]))
    if not 250 <= res[3]["cpu_ms"] <= 1000:
        errs.append("0.3 s of CPU counted as %d ms" % res[3]["cpu_ms"])
    if not 60 * 1024 <= res[4]["memory_kb"] <= 120 * 1024:
        errs.append("60 MB touched counted as %d KB" % res[4]["memory_kb"])
    return errs


# ------------------------------------------------------------ between runs

@case
def nothing_of_a_run_reaches_the_next():
    files = {
        "dirty.py": ("import sys, json, builtins, os, subprocess\n"
                     "json.marker = 'left'\n"
                     "sys.modules['planted'] = json\n"
                     "builtins.planted = 1\n"
                     "sys.path.insert(0, '/tmp')\n"
                     "open('/tmp/planted.py', 'w').write('x = 1')\n"
                     "if os.fork() == 0:\n"
                     "    os.setsid()\n"
                     "    import time\n"
                     "    time.sleep(30)\n"
                     "print('dirtied')\n"),
        "probe.py": ("import sys, json, builtins, os\n"
                     "print(hasattr(json, 'marker'), 'planted' in sys.modules,\n"
                     "      hasattr(builtins, 'planted'), '/tmp' in sys.path,\n"
                     "      os.path.exists('/tmp/planted.py'),\n"
                     "      sorted(p for p in os.listdir('/proc') if p.isdigit()) == [str(os.getpid())])\n"),
    }
    rc, res, err = runcell(["--preload=python3"], files, [py("dirty.py"), py("probe.py")])
    if rc != 0 or len(res) != 2:
        return ["runcell failed: %d %s" % (rc, err[-300:])]
    errs = []
    if res[0]["stdout"] != "dirtied\n":
        errs.append("dirty run: %r %r" % (res[0]["stdout"], res[0]["stderr"][-200:]))
    if res[1]["stdout"] != "False False False False False True\n":
        errs.append("the next run saw the last one's state: %r %r" % (res[1]["stdout"], res[1]["stderr"][-300:]))
    if not all(r.get("preloaded") for r in res):
        errs.append("not preloaded: %r" % [r["message"] for r in res])
    return errs


@case
def arguments_of_a_run_not_in_the_next_memory():
    # the preloader wipes each request after its fork: no copy of it in
    # the memory the next run is forked with
    secret = "ARGSECRET%08x" % (os.getpid() * 7919 & 0xffffffff)
    # The scan never holds the secret as text: the needle is built byte by
    # byte from a masked form, and hits inside the needle and the one read
    # buffer (whose addresses it knows) are not counted.
    masked = bytes(c ^ 0x55 for c in secret.encode()).hex()
    scan = ("import re, ctypes\n"
            "needle = bytearray(c ^ 0x55 for c in bytes.fromhex('%s'))\n"
            "buf = bytearray(1 << 20)\n"
            "own = [(ctypes.addressof(ctypes.c_char.from_buffer(x)), len(x)) for x in (needle, buf)]\n"
            "found = 0\n"
            "with open('/proc/self/maps') as maps:\n"
            "    regions = [l for l in maps]\n"
            "mem = open('/proc/self/mem', 'rb', 0)\n"
            "for line in regions:\n"
            "    m = re.match(r'([0-9a-f]+)-([0-9a-f]+) r', line)\n"
            "    if not m or '[vvar]' in line or '[vsyscall]' in line:\n"
            "        continue\n"
            "    a, b = int(m.group(1), 16), int(m.group(2), 16)\n"
            "    if b - a > 64 << 20:\n"
            "        continue  # a sanitizer's shadow and heaps: reserved, not written\n"
            "    while a < b:\n"
            "        n = min(len(buf), b - a)\n"
            "        try:\n"
            "            mem.seek(a)\n"
            "            got = mem.readinto(memoryview(buf)[:n])\n"
            "        except OSError:\n"
            "            break\n"
            "        i = buf.find(needle, 0, got)\n"
            "        while i >= 0:\n"
            "            at = a + i\n"
            "            if not any(o <= at < o + k for o, k in own):\n"
            "                found += 1\n"
            "            i = buf.find(needle, i + 1, got)\n"
            "        a += n - len(needle) if n == len(buf) else n\n"
            "print(found)\n") % masked
    files = {"main.py": "print('x')\n", "scan.py": scan}
    rc, res, err = runcell(["--preload=python3"], files,
                           [py("main.py", secret, secret * 20), py("scan.py")])
    if rc != 0 or len(res) != 2:
        return ["runcell failed: %d %s" % (rc, err[-300:])]
    errs = []
    if res[1]["stdout"] != "0\n":
        errs.append("the second run found the first run's argument in its memory: %r %r (%s)"
                    % (res[1]["stdout"], res[1]["stderr"][-300:], res[1]["message"]))
    if not all(r.get("preloaded") for r in res):
        errs.append("not preloaded: %r" % [r["message"] for r in res])
    return errs


@case
def preloader_out_of_reach():
    # signals to every pid, a fork bomb and a kill(-1): the preloader is
    # root and hidden, and the next run is still forked from it
    files = {
        "killer.py": ("import os, signal\n"
                      "n = 0\n"
                      "for pid in range(1, 4096):\n"
                      "    if pid == os.getpid():\n"
                      "        continue\n"
                      "    try:\n"
                      "        os.kill(pid, signal.SIGKILL)\n"
                      "        n += 1\n"
                      "    except (PermissionError, ProcessLookupError):\n"
                      "        pass\n"
                      "print('killed', n)\n"),
        "bomb.py": ("import os\n"
                    "for i in range(200):\n"
                    "    try:\n"
                    "        os.fork()\n"
                    "    except OSError:\n"
                    "        break\n"
                    "os.kill(-1, 9)\n"),
        "probe.py": "print('still here')\n",
    }
    rc, res, err = runcell(["--preload=python3", "--processes=32"], files,
                           [py("killer.py"), py("bomb.py"), py("probe.py")])
    if rc != 0 or len(res) != 3:
        return ["runcell failed: %d %s" % (rc, err[-300:])]
    errs = []
    if res[0]["stdout"] != "killed 0\n":
        errs.append("the program signalled something: %r" % res[0]["stdout"])
    if res[2]["stdout"] != "still here\n" or not res[2].get("preloaded"):
        errs.append("after the attacks: %r, %s" % (res[2]["stdout"], res[2]["message"]))
    return errs


@case
def preloader_killed_from_the_host():
    # the host kills the preloader during a run: that run is unharmed (it
    # is init's child), the next ones are executed and say why
    files = {"wait.py": "import time\ntime.sleep(1.5)\nprint('waited')\n",
             "probe.py": "print('probe')\n"}
    box = tempfile.mkdtemp(prefix="runcell-preload-kill-")
    try:
        for name, text in files.items():
            with open(os.path.join(box, name), "w") as f:
                f.write(text)
        cmd = [RUNCELL, "run", "--json", "--sequence", "--preload=python3", "--box=" + box, "--",
               PY, "wait.py", ":::", PY, "probe.py", ":::", PY, "probe.py"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        killed = []
        deadline = time.time() + 10 * SLOWDOWN
        while not killed and time.time() < deadline and p.poll() is None:
            time.sleep(0.1)
            # the preloader is root; its runs are the cell uid.  It is
            # killed once it has forked the first run (before, on a slow
            # machine, the kill would land while it still starts)
            procs = []
            for pid in descendants(p.pid):
                try:
                    procs.append((pid, os.readlink("/proc/%d/exe" % pid),
                                  os.stat("/proc/%d" % pid).st_uid))
                except OSError:
                    continue
            python = [(pid, uid) for pid, exe, uid in procs if exe.endswith("/runcell-python")]
            if not any(uid != 0 for _, uid in python):
                continue
            for pid, uid in python:
                if uid == 0:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
        out, err = p.communicate(timeout=60 * SLOWDOWN)
    finally:
        shutil.rmtree(box)
    res = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
    if not killed:
        return ["no preloader found among runcell's processes"]
    if p.returncode != 0 or len(res) != 3:
        return ["runcell: exit %d, %d results, %s" % (p.returncode, len(res), err.decode()[-300:])]
    errs = []
    if (res[0]["stdout"], res[0]["preloaded"]) != ("waited\n", True):
        errs.append("the run during the kill: %r %s" % (res[0]["stdout"], res[0]["message"]))
    for r in res[1:]:
        if r["stdout"] != "probe\n" or r["preloaded"] or \
                "executed, not preloaded: the preloader ended" not in r["message"]:
            errs.append("after the kill: %r %r %s" % (r["stdout"], r["preloaded"], r["message"]))
    return errs


def descendants(pid):
    """pid's descendants, from /proc (children before grandchildren)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        cur = todo.pop(0)
        kids = [c for c, pp in parent.items() if pp == cur]
        out += kids
        todo += kids
    return out


@case
def executed_when_not_served():
    # an option other than -c, -c without its code, another program (also
    # python3.11, the same file by another name: sys.executable differs):
    # executed, no complaint; the preloaded ones
    # between still preloaded ("python3" is /usr/bin/python3 in PATH)
    files = {"main.py": "import os\nprint(os.environ.get('EXTRA'))\n"}
    rc, res, err = runcell(["--preload=python3"], files,
                           [[PY, "-u", "-c", "print(1)"], ["/bin/echo", "hi"], py("main.py"),
                            ["python3", "main.py"], [PY, "-c", "print(2)"], [PY, "-c"],
                            [PY, "-m", "json.tool", "--help"], ["python3.11", "main.py"]])
    if rc != 0 or len(res) != 8:
        return ["runcell failed: %d %s" % (rc, err[-300:])]
    errs = []
    got = [(r["stdout"][:6], r["preloaded"], r["message"]) for r in res]
    want = [("1\n", False, "exited normally"), ("hi\n", False, "exited normally"),
            ("None\n", True, "exited normally"), ("None\n", True, "exited normally"),
            ("2\n", True, "exited normally"), ("", False, "exited with code 2"),
            ("usage:", False, "exited normally"), ("None\n", False, "exited normally")]
    if got != want:
        errs.append("got %r, want %r" % (got, want))
    return errs


@case
def preloader_fails_to_start():
    # a preloader that cannot start (Python without its standard library):
    # the cell is still built, every run that asked for it is executed and
    # says why, and no preloader is left
    env = ["--env=PYTHONHOME=/nonexistent", "--preload=python3"]
    progs = [[PY, "-c", "print(5)"], ["/bin/echo", "hi"], [PY, "-c", "print(6)"]]
    rc, res, err = runcell(env, {}, progs)
    errs = []
    if rc != 0 or len(res) != 3:
        return ["runcell failed: %d %s" % (rc, err[-300:])]
    why = "executed, not preloaded: cannot start Python as /usr/bin/python3"
    for i in (0, 2):
        r = res[i]
        if r["preloaded"] or r["status"] != "runtime_error" or why not in r["message"] or \
                "encodings" not in r["stderr"]:
            errs.append("run %d: %r %r %r" % (i + 1, r["status"], r["message"], r["stderr"][-120:]))
    if res[1]["stdout"] != "hi\n" or res[1]["status"] != "ok" or "not preloaded" in res[1]["message"]:
        errs.append("/bin/echo: %r" % res[1])
    one, r, err = run_one(env + ["--no-keeper"], {}, progs[0])
    if one != 0 or not r or r["preloaded"] or why not in r["message"]:
        errs.append("one-shot: %d %r %r" % (one, r, err[-200:]))
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.readlink("/proc/%s/exe" % pid).endswith("/runcell-python"):
                errs.append("a preloader is left: %s" % pid)
        except OSError:
            pass
    return errs


@case
def bad_preload_values():
    errs = []
    for cmd in (["run"], ["keep", "--socket=/tmp/runcell-preload-bad.sock"]):
        for value, text in (("nosuchlang", "unknown language"), ("ruby", "has no preloader")):
            tail = ["--", "/bin/true"] if cmd == ["run"] else []
            p = subprocess.run([RUNCELL] + cmd + ["--preload=" + value] + tail,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            msg = p.stderr.decode()
            if p.returncode != 2 or "runcell %s: invalid --preload=%s" % (cmd[0], value) not in msg \
                    or text not in msg:
                errs.append("%s --preload=%s: exit %d, %r" % (cmd[0], value, p.returncode, msg))
    p = subprocess.run([RUNCELL, "keep", "--preload=python3", "--preload=python3"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 2 or b"--preload given twice" not in p.stderr:
        errs.append("keep --preload twice: exit %d, %r" % (p.returncode, p.stderr))
    if os.path.exists("/tmp/runcell-preload-bad.sock"):
        errs.append("a keeper refused for its --preload left its socket")
    return errs


# ------------------------------------------------------------ a keeper's cells

def keeper_start(extra):
    """A `runcell keep --cells 1` of the case's own: (Popen, socket, log)."""
    d = tempfile.mkdtemp(prefix="runcell-preload-keep-")
    sock, log = os.path.join(d, "k.sock"), open(os.path.join(d, "log"), "w+")
    p = subprocess.Popen([RUNCELL, "keep", "--cells", "1", "--socket", sock] + extra,
                         stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30 * SLOWDOWN
    while time.time() < deadline and p.poll() is None:
        log.seek(0)
        if "cells ready" in log.read():
            break
        time.sleep(0.05)
    return p, sock, log, d


def keeper_stop(p, log, d):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=30 * SLOWDOWN)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    log.seek(0)
    text = log.read()
    log.close()
    shutil.rmtree(d)
    return p.returncode, text


def run_one(args, box_files, prog, stdin=None):
    """One `runcell run --json` (no --sequence): (exit status, result, stderr)."""
    box = tempfile.mkdtemp(prefix="runcell-preload-one-")
    try:
        for name, text in box_files.items():
            with open(os.path.join(box, name), "w") as f:
                f.write(text)
        p = subprocess.run([RUNCELL, "run", "--json", "--box=" + box] + args + ["--"] + prog,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin,
                           timeout=120 * SLOWDOWN)
        out = p.stdout.decode()
        return p.returncode, json.loads(out) if out.strip() else None, p.stderr.decode()
    finally:
        shutil.rmtree(box)


@case
def keeper_preloaded():
    # runcell keep --preload=python3: its cells start the interpreter when
    # built; a run that asks for it (runcell run --preload=python3, runcell
    # exec) is forked from it, and behaves as the same run executed
    # without a keeper.  Other runs are executed there.  A keeper without
    # it executes such a run and says so.
    scripts = {
        "hello": "import os, sys\nprint('hi', sys.argv, os.path.basename(os.readlink('/proc/self/exe')))\n",
        "exit3": "import sys\nprint('out')\nsys.exit(3)\n",
        "raise": "def f():\n    raise ValueError('bad')\nf()\n",
        "stdin": "import sys\nprint(sys.stdin.read().upper(), end='')\n",
        "memory": "b = bytearray(200 << 20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\n",
        "spin": "while True:\n    pass\n",
    }
    limits = ["--memory=64", "--cpu-time=%d" % SLOWDOWN, "--wall-time=%d" % (5 * SLOWDOWN)]
    errs = []
    stdin_path = os.path.join(tempfile.mkdtemp(prefix="runcell-preload-in-"), "in")
    with open(stdin_path, "w") as f:
        f.write("piped\n")
    p, sock, log, d = keeper_start(["--preload=python3"])
    try:
        if p.poll() is not None:
            log.seek(0)
            return ["the keeper did not start: %s" % log.read()[-300:]]
        for name, src in scripts.items():
            prog = [PY, "main.py", "arg"]
            args = limits + ["--preload=python3", "--stdin=" + stdin_path]
            rc1, kept, err1 = run_one(args + ["--keeper=" + sock], {"main.py": src}, prog)
            rc2, own, err2 = run_one(limits + ["--no-keeper", "--stdin=" + stdin_path],
                                     {"main.py": src}, prog)
            if rc1 != 0 or rc2 != 0 or not kept or not own:
                errs.append("%s: exit %d %r / %d %r" % (name, rc1, err1[-200:], rc2, err2[-200:]))
                continue
            if err1:
                errs.append("%s: the keeper was not used: %r" % (name, err1[-200:]))
            if kept.get("preloaded") is not True:
                errs.append("%s: not preloaded: %s" % (name, kept["message"]))
            for field in ("status", "exit_code", "signal", "stdout", "stderr"):
                a, b = kept[field], own[field]
                if name == "hello" and field == "stdout":
                    b = b.replace("python3.11", "runcell-python")
                if a != b:
                    errs.append("%s: %s %r from the keeper, %r executed" % (name, field, a, b))
            want = {"memory": "memory_limit", "spin": "time_limit", "exit3": "runtime_error",
                    "raise": "runtime_error"}.get(name, "ok")
            if kept["status"] != want:
                errs.append("%s: status %s, want %s (%s)" % (name, kept["status"], want,
                                                             kept["message"]))
        # python3 -c CODE, forked as a script is
        rc, r, err = run_one(limits + ["--preload=python3", "--keeper=" + sock], {},
                             [PY, "-c", "import os, sys; print(sys.argv, "
                              "os.path.basename(os.readlink('/proc/self/exe')))", "x"])
        if rc != 0 or not r or r.get("preloaded") is not True or err or \
                r["stdout"] != "['-c', 'x'] runcell-python\n":
            errs.append("-c through the keeper: %r %r" % (r, err[-200:]))
        # a run that does not ask for it is executed in the same kind of cell
        rc, r, err = run_one(limits + ["--keeper=" + sock], {"main.py": scripts["hello"]},
                             [PY, "main.py"])
        if rc != 0 or not r or r["stdout"] != "hi ['main.py'] python3.11\n" or "preloaded" in r:
            errs.append("a run without --preload: %r %r" % (r, err[-200:]))
        rc, r, err = run_one(["--keeper=" + sock], {}, ["/bin/echo", "plain"])
        if rc != 0 or not r or r["stdout"] != "plain\n" or err:
            errs.append("/bin/echo through the keeper: %r %r" % (r, err[-200:]))
        # runcell exec's single test is forked from it too
        srcdir = tempfile.mkdtemp(prefix="runcell-preload-exec-")
        try:
            with open(os.path.join(srcdir, "main.py"), "w") as f:
                f.write(scripts["hello"])
            e = subprocess.run([RUNCELL, "exec", "--keeper=" + sock, "--lang", "python3"] + limits +
                               [os.path.join(srcdir, "main.py")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120 * SLOWDOWN)
            res = json.loads(e.stdout.decode() or "{}")
            t = (res.get("tests") or [{}])[0]
            if e.returncode != 0 or res.get("verdict") != "accepted" or t.get("preloaded") is not True \
                    or t.get("stdout") != "hi ['main.py'] runcell-python\n" or e.stderr:
                errs.append("exec: %d %r %r" % (e.returncode, e.stdout[-300:], e.stderr[-200:]))
            # --no-preload: executed, by the same keeper
            e = subprocess.run([RUNCELL, "exec", "--keeper=" + sock, "--no-preload", "--lang",
                                "python3"] + limits + [os.path.join(srcdir, "main.py")], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120 * SLOWDOWN)
            res = json.loads(e.stdout.decode() or "{}")
            t = (res.get("tests") or [{}])[0]
            if e.returncode != 0 or t.get("preloaded") is not False \
                    or t.get("stdout") != "hi ['main.py'] python3.11\n" or e.stderr:
                errs.append("exec --no-preload: %d %r %r" % (e.returncode, e.stdout[-300:],
                                                             e.stderr[-200:]))
        finally:
            shutil.rmtree(srcdir)
    finally:
        rc, text = keeper_stop(p, log, d)
        shutil.rmtree(os.path.dirname(stdin_path))
    runs = len(re.findall(r"keep: run \d+: ", text))
    if rc != 0 or runs != len(scripts) + 5:
        errs.append("the keeper: exit %r, %d runs (want %d): %r" % (rc, runs, len(scripts) + 5,
                                                                   text[-300:]))
    left = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.readlink("/proc/%s/exe" % pid).endswith("/runcell-python"):
                left.append(pid)
        except OSError:
            pass  # gone, or a kernel thread
    if left:
        errs.append("preloaders left after the keeper stopped: %s" % left)
    # a keeper without a preloader: the run is executed, and says why
    p, sock, log, d = keeper_start([])
    try:
        rc, r, err = run_one(limits + ["--preload=python3", "--keeper=" + sock],
                             {"main.py": scripts["hello"]}, [PY, "main.py"])
        if rc != 0 or not r or r["stdout"] != "hi ['main.py'] python3.11\n" or r["preloaded"] or \
                "executed, not preloaded: the keeper's cells have no preloader for /usr/bin/python3" \
                not in r["message"]:
            errs.append("a keeper without --preload: %r %r" % (r, err[-200:]))
    finally:
        rc, text = keeper_stop(p, log, d)
    if rc != 0 or "keep: run 1: ok" not in text:
        errs.append("the plain keeper: exit %r, %r" % (rc, text[-300:]))
    return errs


# ------------------------------------------------------------ the server

def serve(conf_lines):
    data = tempfile.mkdtemp(prefix="runcell-preload-serve-")
    conf = os.path.join(data, "runcell.conf")
    with open(conf, "w") as f:
        f.write("\n".join(conf_lines) + "\n")
    log = open(os.path.join(data, "log"), "w+")
    p = subprocess.Popen([RUNCELL, "serve", "--config", conf, "--port", "0", "--data",
                          os.path.join(data, "d")], stdout=log, stderr=subprocess.STDOUT)
    url = None
    deadline = time.time() + 30
    while time.time() < deadline and not url:
        time.sleep(0.1)
        log.seek(0)
        m = re.search(r'"url":"(http://[^"]+)"', log.read())
        url = m.group(1) if m else None
    return p, url, data, log


def submit(url, source):
    body = json.dumps({"language": "python3", "source": source}).encode()
    req = urllib.request.Request(url + "/v1/submissions?wait=true", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


@case
def server_forks_python_runs():
    errs = []
    src = "import os, sys\nprint(os.path.basename(os.readlink('/proc/self/exe')), sys.argv)\n"
    for conf, exe in (([], "runcell-python"), (["preload = false"], "python3.11")):
        p, url, data, log = serve(conf)
        try:
            if not url:
                log.seek(0)
                errs.append("%r: the server did not start: %s" % (conf, log.read()[-300:]))
                continue
            for _ in range(3):
                r = submit(url, src)
                tests = r.get("result", {}).get("tests") or [{}]
                out = tests[0].get("stdout", r)
                if r.get("verdict") != "accepted" or out != "%s ['main.py']\n" % exe:
                    errs.append("%r: %r" % (conf, out))
            log.seek(0)
            said = "forked from a preloaded interpreter" in log.read()
            if said != (not conf):
                errs.append("%r: the log %s the preloader" % (conf, "names" if said else "omits"))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
            log.close()
            shutil.rmtree(data)
    return errs


def main():
    global VERBOSE
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default=None)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    VERBOSE = a.v
    if not os.access(os.path.join(os.path.dirname(RUNCELL), "runcell-python"), os.X_OK):
        print("FAIL preloader: %s/runcell-python was not built (python3-dev missing?)"
              % os.path.dirname(RUNCELL))
        print("0 passed, 1 failed")
        return 1
    passed = failed = 0
    for fn in CASES:
        if a.k and not any(k in fn.__name__ for k in a.k.split(",")):
            continue
        try:
            errs = fn()
        except Exception as e:  # a broken case is a failure, never a pass
            errs = ["%s: %s" % (type(e).__name__, e)]
        if errs:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, " | ".join(errs)), flush=True)
        else:
            passed += 1
            print("ok %s" % fn.__name__, flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
