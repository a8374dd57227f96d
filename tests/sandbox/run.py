#!/usr/bin/python3
"""Hostile test suite for runcell's cell.

Builds the programs of progs/ (C with gcc into build/tests/sandbox/bin,
Python and shell scripts copied next to them), binds that directory
read-only at /t in every cell, runs each case through
`runcell run --json`, and checks:
  - the result: exact status, exit code or signal where the contract
    decides, the set of acceptable statuses where it does not, the
    accounting within a stated tolerance;
  - the host: no cell process left (uid 60000..61000, found by a marker
    in their environment), no cgroup left under /sys/fs/cgroup/*/runcell/,
    no new mount, canary files and host secrets untouched, host listeners
    never reached, the driver's RUNCELL_SECRET_TEST never seen.
Then it runs the suite again in warm-cell mode: each hostile program
followed by a probe in the same cell (`--sequence`), the probe checking
that nothing of the previous run is left.  Last, the keeper pass: a
`runcell keep` with the suite's bind holds cells built ahead, and each
case of the plain runner runs again through it (`--keeper`); the host
checks then allow exactly the keeper's idle cells (their cgroups, once
the keeper has rebuilt), nothing else.

Usage: run.py [-k NAME] [-v] [--no-warm] [--no-keep] [--jobs N]
Prints "ok NAME", "FAIL NAME: why" or "skip NAME: why" per case and ends
with "N passed, N failed"; exit status 1 on any failure.
"""
import argparse
import base64
import glob
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import signal
import tempfile
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGS = os.path.join(HERE, "progs")
BUILD = os.path.join(ROOT, "build", "tests", "sandbox")
BIN = os.path.join(BUILD, "bin")
RUNCELL = os.environ.get("RUNCELL", os.path.join(ROOT, "build", "runcell"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import doc_examples  # noqa: E402

# The keeper's request head (src/keeper/wire.h): magic and version, which
# a status probe sends with no descriptors and no body.
with open(os.path.join(ROOT, "src", "keeper", "wire.h")) as _f:
    WIRE_VERSION = int(re.search(r"#define WIRE_VERSION (\d+)u", _f.read()).group(1))
WIRE_PROBE = struct.pack("<IIII", 0x72636b31, WIRE_VERSION, 0, 0)

DRIVER_MARK = "RUNCELL_SUITE_DRIVER"
CASE_MARK = "RUNCELL_SUITE_CASE"
SECRET_NAME = "RUNCELL_SECRET_TEST"
SECRET = "s3cr3t-%d-%x" % (os.getpid(), int(time.time()))
UID_LO, UID_HI = 60000, 61000
CANARY = "/tmp/runcell-suite-canary-%d" % os.getpid()
HOST_UNIX = "/tmp/runcell-suite-%d.sock" % os.getpid()
HOST_ABSTRACT = "runcell-suite-%d" % os.getpid()
SHARED = os.path.join(BUILD, "shared-%d" % os.getpid())
STDIN100 = os.path.join(BUILD, "stdin-100m")
MB = 1024
DEFAULT_ENV = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", "LANG=C.UTF-8"}
STATUSES = {"ok", "runtime_error", "signaled", "time_limit", "wall_time_limit",
            "memory_limit", "output_limit", "internal_error"}
FIELDS = {"status": str, "exit_code": (int, type(None)), "signal": (int, type(None)),
          "cpu_ms": int, "wall_ms": int, "memory_kb": int, "stdout": str, "stderr": str,
          "stdout_truncated": bool, "stderr_truncated": bool, "message": str}

VERBOSE = False


def log(msg):
    if VERBOSE:
        print("  " + msg.replace("\n", "\n  "), flush=True)


# ---------------------------------------------------------------- host side

class Listeners:
    """Host sockets the cells must never reach: TCP and UDP on 127.0.0.1,
    a unix socket in /tmp and an abstract one; plus a TCP listener that a
    cell with --net is meant to reach."""

    def __init__(self):
        self.hits = []
        self.net_hits = []
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp_port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp_port = self.udp.getsockname()[1]
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(HOST_UNIX):
            os.unlink(HOST_UNIX)
        self.unix.bind(HOST_UNIX)
        os.chmod(HOST_UNIX, 0o777)
        self.unix.listen(16)
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + HOST_ABSTRACT)
        self.abstract.listen(16)
        self.net = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.net.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.net.bind(("127.0.0.1", 0))
        self.net.listen(16)
        self.net_port = self.net.getsockname()[1]
        for s, name in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract")):
            threading.Thread(target=self._accept, args=(s, name, self.hits), daemon=True).start()
        threading.Thread(target=self._accept, args=(self.net, "net", self.net_hits), daemon=True).start()
        threading.Thread(target=self._udp, daemon=True).start()

    def _accept(self, s, name, hits):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.settimeout(1)
            try:
                data = c.recv(64)
            except OSError:
                data = b""
            hits.append((name, data))
            c.close()

    def _udp(self):
        while True:
            try:
                data, _ = self.udp.recvfrom(256)
            except OSError:
                return
            self.hits.append(("udp", data))

    def close(self):
        for s in (self.tcp, self.udp, self.unix, self.abstract, self.net):
            s.close()
        if os.path.exists(HOST_UNIX):
            os.unlink(HOST_UNIX)


def read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data if binary else data.decode("utf-8", "replace")


def proc_table():
    """pid -> dict(uid, ppid, environ(bytes), cmdline, exe)."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        status = read("/proc/%s/status" % d)
        if status is None:
            continue
        info = {"uid": -1, "ppid": 0}
        for line in status.splitlines():
            if line.startswith("Uid:"):
                info["uid"] = int(line.split()[1])
            elif line.startswith("PPid:"):
                info["ppid"] = int(line.split()[1])
        info["environ"] = read("/proc/%s/environ" % d, True) or b""
        info["cmdline"] = (read("/proc/%s/cmdline" % d, True) or b"").replace(b"\0", b" ").decode(
            "utf-8", "replace").strip()
        try:
            info["exe"] = os.readlink("/proc/%s/exe" % d)
        except OSError:
            info["exe"] = ""
        table[int(d)] = info
    return table


def ours(info):
    return ("%s=%d" % (DRIVER_MARK, os.getpid())).encode() in info["environ"].split(b"\0")


def case_of(info):
    for kv in info["environ"].split(b"\0"):
        if kv.startswith(CASE_MARK.encode() + b"="):
            return kv.split(b"=", 1)[1].decode("utf-8", "replace")
    return None


def foreign_candidate(pid):
    """A runcell (or another program using the sandbox) not started by this
    driver: other engineers share the machine."""
    try:
        exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return False
    if "runcell" not in exe and "sandbox" not in exe:
        return False
    if KEEPER and (pid == KEEPER.proc.pid or ppid_of(pid) == KEEPER.proc.pid):
        return False  # the keeper pass's keeper and its cells' inits
    return not ours({"environ": read("/proc/%d/environ" % pid, True) or b""})


def ppid_of(pid):
    for line in (read("/proc/%d/status" % pid) or "").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


class ForeignWatch:
    """Samples the process table every 100 ms and remembers when a foreign
    runcell was last seen, so that host checks do not blame a case for
    another user's cells."""

    def __init__(self):
        self.last = 0.0
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        me = os.getpid()
        while True:
            for d in os.listdir("/proc"):
                if d.isdigit() and int(d) != me and foreign_candidate(int(d)):
                    self.last = time.monotonic()
                    break
            time.sleep(0.1)

    def seen_since(self, t):
        return self.last >= t


def cgroup_dirs():
    found = set()
    for parent in glob.glob("/sys/fs/cgroup/*/runcell") + glob.glob("/sys/fs/cgroup/runcell"):
        for root, dirs, _ in os.walk(parent):
            for d in dirs:
                found.add(os.path.join(root, d))
    return found


def keeper_idle_groups_removed(found):
    """In the keeper pass, the groups of the keeper's idle cells are left
    out: in each hierarchy at most one per cell of the keeper, each without
    a task (a cell built ahead makes its group at once, v1 or v2).
    Anything more stays, to be reported."""
    if not KEEPER:
        return found
    by_parent = {}
    for d in found:
        by_parent.setdefault(os.path.dirname(d), []).append(d)
    left = set()
    for parent, dirs in by_parent.items():
        idle = [d for d in dirs if not (read(os.path.join(d, "cgroup.procs")) or "").strip()]
        if len(idle) > Keeper.CELLS or len(idle) < len(dirs):
            left.update(dirs)
    return left


def mounts():
    """The host's mounts, without the network namespaces runcell makes
    ahead for each slot's next cell (/run/runcell/net/SLOT, by design)."""
    lines = set()
    for line in (read("/proc/self/mountinfo") or "").splitlines():
        f = line.split()
        if f[4].startswith("/run/runcell/net"):
            continue
        lines.add(" ".join(f[3:5] + f[f.index("-") + 1:f.index("-") + 3]))
    return lines


def fingerprint(path):
    try:
        st = os.lstat(path)
    except OSError as e:
        return "missing %s" % e.errno
    h = hashlib.sha256(read(path, True) or b"").hexdigest() if os.path.isfile(path) else ""
    return (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, h)


WATCHED = ["/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/root", CANARY,
           os.path.join(BUILD, "canary"), BIN]


class Host:
    """State of the host at the start, compared after every wave."""

    def __init__(self, listeners):
        self.listeners = listeners
        self.watch = ForeignWatch()
        self.prints = {p: fingerprint(p) for p in WATCHED}
        self.bin_list = sorted(os.listdir(BIN))

    def leftovers(self, names):
        """Processes left by the cases in names: cell processes carry the
        case's marker (--env), runcell and its cell init the driver's one
        (their environment).  Also the cell-uid processes with no marker.
        0.5 s of grace for the kernel to finish reaping."""
        deadline = time.time() + 0.5
        while True:
            table = proc_table()
            left, unmarked = [], []
            for pid, info in table.items():
                if pid == os.getpid():
                    continue
                c = case_of(info)
                if c in names or (c is None and ours(info)):
                    left.append("pid %d uid %d (%s) %s" % (pid, info["uid"], c or "runcell",
                                                          info["cmdline"][:80]))
                elif c is None and UID_LO <= info["uid"] <= UID_HI:
                    unmarked.append(pid)
            if (not left and not unmarked) or time.time() > deadline:
                return left, unmarked, table
            time.sleep(0.05)

    def check_wave(self, names, before_mounts, before_uid, wave_start):
        errs = []
        left, unmarked, table = self.leftovers(names)
        if left:
            errs.append("processes left on the host: " + "; ".join(left[:5]))
        foreign = self.watch.seen_since(wave_start - 1)
        new_unmarked = [p for p in unmarked if p not in before_uid]
        if new_unmarked and not foreign:
            errs.append("unmarked cell-uid processes appeared: " + "; ".join(
                "pid %d uid %d %s" % (p, table[p]["uid"], table[p]["cmdline"][:60]) for p in new_unmarked[:5]))
        if KEEPER and not KEEPER.settle():
            errs.append("the keeper did not rebuild its cells within 10 s")
        deadline = time.time() + 0.5
        while True:
            cg = keeper_idle_groups_removed(cgroup_dirs())
            if not cg or time.time() > deadline:
                break
            time.sleep(0.05)
        if cg:
            time.sleep(0.25)   # let the watcher notice a foreign run that just began
            cg &= keeper_idle_groups_removed(cgroup_dirs())
        if cg and not self.watch.seen_since(wave_start - 1):
            errs.append("cgroup dirs left: " + ", ".join(sorted(cg)[:4]))
        elif cg:
            log("cgroup dirs present while another runcell ran (not checked): %s" % sorted(cg)[:4])
        new_mounts = mounts() - before_mounts
        if new_mounts and not self.watch.seen_since(wave_start - 1):
            errs.append("new host mounts: " + "; ".join(sorted(new_mounts)[:3]))
        for p, fp in self.prints.items():
            now = fingerprint(p)
            if now != fp:
                errs.append("host file %s changed: %s -> %s" % (p, fp, now))
                self.prints[p] = now
        if sorted(os.listdir(BIN)) != self.bin_list:
            errs.append("bound directory %s changed" % BIN)
            self.bin_list = sorted(os.listdir(BIN))
        if self.listeners.hits:
            errs.append("host listeners reached: %r" % self.listeners.hits[:3])
            self.listeners.hits.clear()
        return errs


# ---------------------------------------------------------------- results

def out_bytes(res, stream):
    b64 = res.get(stream + "_base64")
    if b64 is not None:
        return base64.b64decode(b64)
    return res[stream].encode("utf-8", "surrogatepass")


def schema(res):
    errs = []
    for k, t in FIELDS.items():
        if k not in res:
            errs.append("missing field %s" % k)
        elif not isinstance(res[k], t) or (t is int and isinstance(res[k], bool)):
            errs.append("field %s has type %s" % (k, type(res[k]).__name__))
    if errs:
        return errs
    st = res["status"]
    if st not in STATUSES:
        errs.append("unknown status %r" % st)
    if st == "ok" and (res["exit_code"] != 0 or res["signal"] is not None):
        errs.append("ok with exit_code %r signal %r" % (res["exit_code"], res["signal"]))
    if st == "runtime_error" and (not res["exit_code"] or res["signal"] is not None):
        errs.append("runtime_error with exit_code %r signal %r" % (res["exit_code"], res["signal"]))
    if st == "signaled" and (res["signal"] is None or res["exit_code"] is not None):
        errs.append("signaled with exit_code %r signal %r" % (res["exit_code"], res["signal"]))
    for s in ("stdout", "stderr"):
        if "\ufffd" in res[s] and s + "_base64" not in res and "\ufffd".encode() not in out_bytes(res, s):
            errs.append("%s has U+FFFD but no %s_base64" % (s, s))
    for k in ("cpu_ms", "wall_ms", "memory_kb"):
        if res[k] < 0:
            errs.append("%s negative" % k)
    if SECRET in res["stdout"] + res["stderr"] + res["message"]:
        errs.append("the host's %s is visible in the cell" % SECRET_NAME)
    return errs


def short(res):
    r = dict(res)
    for s in ("stdout", "stderr", "stdout_base64", "stderr_base64"):
        if s in r and len(r[s]) > 300:
            r[s] = r[s][:300] + "...(%d chars)" % len(res[s])
    return json.dumps(r)


def expect(status, code=None, sig=None, out=None, out_has=None, cpu=None, wall=None, mem=None,
           clean=False, more=None):
    """A checker: status is a name or a set; code/sig exact when given;
    out exact stdout (str or bytes); out_has substrings; cpu/wall/mem as
    (low, high) in ms / KB; clean: the program's own checks all passed
    (last stdout line "clean"); more(res) returns extra errors."""
    want = {status} if isinstance(status, str) else set(status)

    def check(res, case):
        errs = []
        if res["status"] not in want:
            errs.append("status %s, want %s" % (res["status"], "|".join(sorted(want))))
        if code is not None and res["exit_code"] != code:
            errs.append("exit_code %r, want %r" % (res["exit_code"], code))
        if sig is not None:
            sigs = sig if isinstance(sig, (set, tuple)) else {sig}
            if res["signal"] not in sigs:
                errs.append("signal %r, want %s" % (res["signal"], sigs))
        if out is not None:
            got = out_bytes(res, "stdout")
            exp = out if isinstance(out, bytes) else out.encode()
            if got != exp:
                errs.append("stdout %r, want %r" % (got[:120], exp[:120]))
        for s in out_has or ():
            if s not in res["stdout"]:
                errs.append("stdout lacks %r" % s)
        for k, rng in (("cpu_ms", cpu), ("wall_ms", wall), ("memory_kb", mem)):
            if rng and not rng[0] <= res[k] <= rng[1]:
                errs.append("%s %d outside [%d, %d]" % (k, res[k], rng[0], rng[1]))
        if clean:
            lines = res["stdout"].strip().splitlines()
            if not lines or lines[-1] != "clean":
                bad = [l for l in lines if l.startswith("BAD")]
                errs.append("in-cell checks: " + ("; ".join(bad[:6]) if bad else "no 'clean' line"))
        if more:
            errs += more(res) or []
        return errs
    return check


def clean(**kw):
    return expect("ok", code=0, clean=True, **kw)


def tol(value, pct):
    return (value * (100 - pct) // 100, value * (100 + pct) // 100)


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, name, argv, opts=(), check=None, group="", warm=True, parallel=True,
                 mark=True, elapsed=None, run=None, skip=None, after=None):
        self.name = name
        self.argv = list(argv)
        self.opts = list(opts)
        self.check = check
        self.group = group
        self.warm = warm and run is None
        self.parallel = parallel
        self.mark = mark
        self.elapsed = elapsed  # max seconds for the whole runcell call
        self.run = run          # special runner: fn(case) -> list of errors
        self.skip = skip        # fn() -> reason or None
        self.after = after      # fn(case) -> errors, checked after the run


def t(prog, *args):
    if prog.endswith(".py"):
        return ["/usr/bin/python3", "/t/" + prog] + list(args)
    if prog.endswith(".sh"):
        return ["/bin/bash", "/t/" + prog] + list(args)
    return ["/t/" + prog] + list(args)


class Keeper:
    """The keeper of the keeper pass: `runcell keep` with the suite's bind,
    on a socket of its own, started without the driver's marker (its
    processes are not a case's)."""
    CELLS = 2

    def __init__(self):
        self.socket = "/run/runcell/suite-%d.sock" % os.getpid()
        os.makedirs("/run/runcell", mode=0o700, exist_ok=True)  # as the first cell makes it
        env = {k: v for k, v in os.environ.items() if k not in (DRIVER_MARK, SECRET_NAME)}
        self.log = open(os.path.join(BUILD, "keeper-%d.log" % os.getpid()), "w+b")
        self.proc = subprocess.Popen([RUNCELL, "keep", "--cells", str(self.CELLS), "--socket",
                                      self.socket, "--bind=%s:/t" % BIN],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     env=env)
        deadline = time.time() + 15
        while self.status() is None and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.05)

    def status(self):
        """(ready, cells) from the keeper's status answer, or None."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(self.socket)
                s.sendall(WIRE_PROBE)
                head = b""
                while len(head) < 576:
                    chunk = s.recv(576 - len(head))
                    if not chunk:
                        return None
                    head += chunk
        except OSError:
            return None
        m = re.search(rb"status: (\d+) of (\d+) cells ready", head[64:])
        return (int(m.group(1)), int(m.group(2))) if m else None

    def settle(self, timeout=10):
        """Waits until every cell is built again; False if it never was."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.status()
            if st and st[0] >= st[1]:
                return True
            time.sleep(0.02)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        self.log.close()
        os.unlink(self.log.name)
        return self.proc.returncode, text


KEEPER = None      # the keeper pass's Keeper while it runs
SHAPE_OPTS = ("--net", "--bind", "--cgroup")


def runcell_cmd(case, argv, opts, sequence=False):
    cmd = [RUNCELL, "run", "--json", "--bind=%s:/t" % BIN]
    if sequence:
        cmd.append("--sequence")
    else:
        # The plain pass builds its cells itself, whatever keeper this
        # host runs; the keeper pass takes them from its own.
        cmd.append("--keeper=" + KEEPER.socket if KEEPER else "--no-keeper")
    if case.mark:
        cmd.append("--env=%s=%s" % (CASE_MARK, case.name))
    return cmd + list(opts) + ["--"] + list(argv)


def runcell_env():
    env = dict(os.environ)
    env[SECRET_NAME] = SECRET
    env[DRIVER_MARK] = str(os.getpid())
    return env


def invoke(cmd, timeout=60, stdin=subprocess.DEVNULL, env_extra=None):
    """Runs runcell (env_extra added to its environment); returns (rc,
    stdout, stderr, seconds)."""
    log("$ " + " ".join(cmd if sum(map(len, cmd)) < 2000 else cmd[:12] + ["...(%d args)" % len(cmd)]))
    t0 = time.monotonic()
    env = runcell_env()
    env.update(env_extra or {})
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err, time.monotonic() - t0
    return p.returncode, out, err, time.monotonic() - t0


def parse(rc, out, err, n=1):
    """The JSON objects on stdout, or an error string."""
    if rc is None:
        return "runcell did not return (killed after timeout)"
    if rc != 0:
        return "runcell exit status %d: %s" % (rc, err.decode("utf-8", "replace").strip()[:300])
    lines = [l for l in out.decode("utf-8", "replace").split("\n") if l.strip()]
    if len(lines) != n:
        return "want %d JSON line(s) on stdout, got %d: %r" % (n, len(lines), out[:200])
    try:
        return [json.loads(l) for l in lines]
    except ValueError as e:
        return "bad JSON (%s): %r" % (e, out[:200])


def run_plain(case):
    cmd = runcell_cmd(case, case.argv, case.opts)
    rc, out, err, secs = invoke(cmd, timeout=90)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    if KEEPER and b"building the cell here" in err and \
            not any(o.startswith(SHAPE_OPTS) for o in case.opts):
        return ["not run by the keeper: " + err.decode(errors="replace").strip()[:300]], cmd
    res = res[0]
    log("result: " + short(res))
    errs = schema(res) + case.check(res, case)
    if case.elapsed and secs > case.elapsed:
        errs.append("runcell took %.1f s, want <= %.1f s" % (secs, case.elapsed))
    return errs, cmd


# RUNCELL_TEST_SLOWDOWN: how much slower than native this machine runs
# programs (the cgroup v2 guest is emulated); it widens the probe's budget.
SLOWDOWN = float(os.environ.get("RUNCELL_TEST_SLOWDOWN", "1"))
PROBE_CHECK = clean(cpu=(0, int(150 * SLOWDOWN)), mem=(0, 16 * MB))
# CPU time with room where programs run slower, for cases about memory that
# touch tens of MB with the default 2 s (the emulated v2 guest, running two
# cases at a time, ended some at 2 s; alone there they take 0.4-0.6 s).
CPU_ROOM = [] if SLOWDOWN <= 1 else ["--cpu-time=%d" % int(2 * SLOWDOWN)]


def run_warm(case):
    argv = list(case.argv) + [":::", "/t/probe"]
    cmd = runcell_cmd(case, argv, case.opts, sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=90)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    log("hostile: " + short(res[0]))
    log("probe: " + short(res[1]))
    errs = schema(res[0]) + case.check(res[0], case)
    perrs = schema(res[1]) + PROBE_CHECK(res[1], case)
    errs += ["probe: " + e for e in perrs]
    if case.elapsed and secs > case.elapsed + 1:
        errs.append("runcell took %.1f s, want <= %.1f s" % (secs, case.elapsed + 1))
    return errs, cmd


# special runners ------------------------------------------------------

def run_process_limit_twice(case):
    """Two runs refused one fork each in one warm cell: each counts its own
    (a reused v1 group's pids.events counts from the group's creation)."""
    sh = ["/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait"]
    cmd = runcell_cmd(case, sh + [":::"] + sh, ["--processes=4"], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    errs = []
    for i, r in enumerate(res):
        errs += ["run %d: %s" % (i + 1, e) for e in schema(r) + expect(
            "runtime_error", code=2, more=message_has("(1 process or thread creation refused)"))(r, case)]
    return errs, cmd


def run_net_listen(case):
    port = 20000 + os.getpid() % 20000
    cmd = runcell_cmd(case, t("net_listen", str(port), "1500"), [])
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    errs = []
    time.sleep(0.7)
    for host in ("127.0.0.1", "0.0.0.0"):
        s = socket.socket()
        s.settimeout(1)
        try:
            s.connect((host, port))
            errs.append("host reached the cell's listener on %s:%d" % (host, port))
        except OSError:
            pass
        s.close()
    out, err = p.communicate(timeout=30)
    res = parse(p.returncode, out, err)
    if isinstance(res, str):
        return errs + [res], cmd
    log("result: " + short(res[0]))
    errs += schema(res[0]) + expect("ok", code=0, out_has=["accepted 0"])(res[0], case)
    return errs, cmd


def netns_of(res):
    """The network namespace net_traffic printed ("netns net:[N]"), or None."""
    m = re.search(r"netns (net:\[\d+\])", res["stdout"])
    return m.group(1) if m else None


def run_net_fresh_per_cell(case):
    """One-shot cells one after another (so in the same slot): each finds a
    network namespace nobody used (net_traffic checks its counters and
    sockets, then leaves traffic and sockets behind), each a different one,
    and from the second on it is the one made ahead during the last run
    (RUNCELL_TRACE says so), not a new one made on the critical path.
    Then a warm cell: runs that leave the namespace as it was keep it, the
    run after one that changed it gets a new one."""
    errs, seen = [], []
    cmd = runcell_cmd(case, t("net_traffic"), [])
    for i in range(3):
        rc, out, err, _ = invoke(cmd, env_extra={"RUNCELL_TRACE": "1"})
        res = parse(rc, out, err)
        if isinstance(res, str):
            return errs + ["run %d: %s" % (i + 1, res)], cmd
        res = res[0]
        log("result: " + short(res))
        errs += ["run %d: %s" % (i + 1, e) for e in schema(res) + clean()(res, case)]
        ns = netns_of(res)
        if not ns:
            errs.append("run %d: no netns line in %r" % (i + 1, res["stdout"][:200]))
        else:
            seen.append(ns)
        ahead = b"network namespace made ahead" in err
        if i > 0 and not ahead:
            errs.append("run %d: the cell made its network namespace itself, not the one made "
                        "ahead by the last cell of the slot" % (i + 1))
    # The kernel reuses a freed namespace's inode number: only namespaces
    # alive at once (a run's own and the one made ahead for the next)
    # must differ; what the runs before left is checked by net_traffic.
    if any(a == b for a, b in zip(seen, seen[1:])):
        errs.append("a network namespace was used twice in a row: %s" % seen)
    quiet, loud = t("net_traffic", "quiet"), t("net_traffic")
    argv = quiet + [":::"] + quiet + [":::"] + loud + [":::"] + quiet
    wcmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, _ = invoke(wcmd)
    res = parse(rc, out, err, n=4)
    if isinstance(res, str):
        return errs + ["warm: " + res], wcmd
    ids = []
    for i, r in enumerate(res):
        log("warm run %d: %s" % (i + 1, short(r)))
        errs += ["warm run %d: %s" % (i + 1, e) for e in schema(r) + clean()(r, case)]
        ids.append(netns_of(r))
    if not (ids[0] and ids[0] == ids[1] == ids[2]):
        errs.append("warm: runs that left the namespace untouched did not keep it: %s" % ids)
    if not ids[3] or ids[3] in ids[:3]:
        errs.append("warm: the run after traffic did not get a new namespace: %s" % ids)
    return errs, cmd


def start_signalling_cell(case, argv_of, name, timeout):
    """Starts runcell in the background with SHARED bound rw at /shared and
    argv_of("/shared/NAME") as its program, then waits (up to timeout s)
    until the program has written something to that file.  Returns the
    Popen, the command and the file's host path."""
    flag = os.path.join(SHARED, name)
    if os.path.exists(flag):
        os.unlink(flag)
    cmd = runcell_cmd(case, argv_of("/shared/" + name), ["--bind=%s:/shared:rw" % SHARED])
    log("$ " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    deadline = time.time() + timeout
    while not (os.path.exists(flag) and os.path.getsize(flag)) and time.time() < deadline \
            and p.poll() is None:
        time.sleep(0.02)
    return p, cmd, flag


def run_net_killed_holder(case):
    """runcell killed (SIGKILL) while its program, which used the network,
    still runs: the next cells of the slot never get that namespace, and
    find theirs unused."""
    p, cmd, flag = start_signalling_cell(case, lambda f: t("net_traffic", "linger", f), "netns", 10)
    errs = []
    killed = open(flag).read().strip() if os.path.exists(flag) else ""
    if not killed:
        errs.append("the lingering program never wrote its namespace")
    # A namespace's inode number is reused once the namespace is freed: the
    # case holds the killed run's namespace open, so that a later one with
    # its number can only be that namespace.
    held = -1
    for pid in os.listdir("/proc") if killed else ():
        try:
            if pid.isdigit() and os.readlink("/proc/%s/ns/net" % pid) == killed:
                held = os.open("/proc/%s/ns/net" % pid, os.O_RDONLY | os.O_CLOEXEC)
                break
        except OSError:
            continue
    if killed and held < 0:
        errs.append("no process of the lingering run found in %s" % killed)
    p.kill()
    p.communicate(timeout=30)
    try:
        return run_net_after_kill(case, killed, errs), cmd
    finally:
        if held >= 0:
            os.close(held)


def run_net_after_kill(case, killed, errs):
    for i in range(2):
        rc, out, err, _ = invoke(runcell_cmd(case, t("net_traffic"), []))
        res = parse(rc, out, err)
        if isinstance(res, str):
            return errs + ["run %d after the kill: %s" % (i + 1, res)]
        log("run %d after the kill: %s" % (i + 1, short(res[0])))
        errs += ["run %d after the kill: %s" % (i + 1, e) for e in schema(res[0]) + clean()(res[0], case)]
        if killed and "netns %s" % killed in res[0]["stdout"]:
            errs.append("run %d after the kill got the killed run's namespace %s" % (i + 1, killed))
    return errs


NETNS_DIR_FIRST_USE = r"""
import fcntl, os, subprocess, sys, time
def mounts():
    return sum(1 for l in open("/proc/self/mountinfo") if l.split()[4] == "/run/runcell/net")
def unmount():
    while subprocess.run(["umount", "-l", "/run/runcell/net"], capture_output=True).returncode == 0:
        pass
unmount()
before = mounts()
os.makedirs("/run/runcell", 0o700, exist_ok=True)
lock = os.open("/run/runcell/net.lock", os.O_RDONLY | os.O_CREAT, 0o600)
fcntl.flock(lock, fcntl.LOCK_EX)
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.0)
waited = p.poll() is None
while_held = mounts()
fcntl.flock(lock, fcntl.LOCK_UN)
p.wait(timeout=30)
print(before, waited, while_held, mounts(), p.returncode)
# a holder that never lets go: the cell gives up waiting, makes no mount
unmount()
fcntl.flock(lock, fcntl.LOCK_EX)
t = time.monotonic()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    timeout=30).returncode
print(rc, round(time.monotonic() - t), mounts())
"""


def run_netns_dir_first_use(case):
    """The first cells after a boot make /run/runcell/net a mount of its
    own.  Two at once used to find none and both mount, stacking two (seen
    once in 100 rounds of 24 cells at once): what the first had bound
    there was hidden for good.  The check and the mount are now made under
    a lock (/run/runcell/net.lock): while the test holds it, a first cell
    mounts nothing and waits; once it is free, there is exactly one mount.
    A holder that never lets go costs a cell ~2 s and its namespace made
    ahead, not a hang.  In a private mount namespace, so the host's
    /run/runcell/net is untouched."""
    cmd = ["unshare", "-m", "--propagation", "private", sys.executable, "-c",
           NETNS_DIR_FIRST_USE, RUNCELL, "run", "--json", "--", "/bin/true"]
    log("$ " + " ".join(cmd[:5] + ["SCRIPT"] + cmd[6:]))
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    got = p.stdout.decode(errors="replace").split()
    log("before, waited, mounts while held, after, exit; then with the lock never "
        "released: exit, seconds, mounts: %s" % got)
    if p.returncode != 0 or len(got) != 8:
        return ["the check failed: exit %d, %r" % (p.returncode, p.stderr[-300:])], cmd
    errs = []
    want = ["0", "True", "0", "1", "0"]
    if got[:5] != want:
        errs.append("mounts before, waited, mounts while the lock was held, after, exit "
                    "status: %s, want %s" % (got[:5], want))
    if got[5] != "0" or got[7] != "0" or not 1 <= int(got[6]) <= 5 * SLOWDOWN:
        errs.append("with the lock never released: exit %s after %s s, %s mounts; want exit 0 "
                    "after about 2 s (the wait's bound), no mount" % (got[5], got[6], got[7]))
    return errs, cmd


def run_two_cells(case):
    a, cmd_a, flag = start_signalling_cell(case, lambda f: t("cell_a", f, "2500"), "ready", 5)
    errs = []
    if not os.path.exists(flag):
        errs.append("cell A never signalled ready through its rw bind")
    cmd_b = runcell_cmd(case, t("cell_b"), [])
    rc, out, err, _ = invoke(cmd_b, timeout=30)
    if a.poll() is not None:
        errs.append("cell A had ended before cell B ran its checks")
    res_b = parse(rc, out, err)
    out_a, err_a = a.communicate(timeout=30)
    res_a = parse(a.returncode, out_a, err_a)
    for tag, res, chk in (("A", res_a, expect("ok", code=0, out_has=["cell a done"])), ("B", res_b, clean())):
        if isinstance(res, str):
            errs.append("cell %s: %s" % (tag, res))
            continue
        log("cell %s: %s" % (tag, short(res[0])))
        errs += ["cell %s: %s" % (tag, e) for e in schema(res[0]) + chk(res[0], case)]
    return errs, cmd_a + ["&"] + cmd_b


def run_zombies_repeat(case):
    argv = []
    for i in range(15):
        argv += t("zombies", "1000") + [":::"]
    argv += ["/t/probe"]
    # CPU: a fork costs 0.3-2 ms of it, depending on the day of the VM.
    cmd = runcell_cmd(case, argv, ["--processes=1100", "--cpu-time=10"], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=120)
    res = parse(rc, out, err, n=16)
    if isinstance(res, str):
        return [res], cmd[:12]
    errs = []
    for i, r in enumerate(res[:15]):
        e = schema(r) + expect("ok", code=0, out="zombies 1000\n")(r, case)
        errs += ["run %d: %s" % (i + 1, x) for x in e]
    errs += ["probe: " + e for e in schema(res[15]) + PROBE_CHECK(res[15], case)]
    return errs, cmd[:12] + ["... zombies 1000 x15 ::: /t/probe"]


def run_mem_after_left_files(case):
    """A warm cell's run that leaves its disk full (64 MB of files in /box
    and /tmp, charged to the cell's memory cgroup until the box is wiped)
    must not change what the next run reports: its own peak, neither that
    less the old files (it read 0 before the fix) nor with them."""
    argv = t("disk_fill") + [":::"] + t("mem_touch", "30") + [":::"] + t("mem_touch", "30")
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=3)
    if isinstance(res, str):
        return [res], cmd
    errs = ["run 1: " + e for e in expect("ok", code=0, more=stdout_num("ENOSPC", 48, 64))(res[0], case)]
    for i in (1, 2):
        errs += ["run %d: %s" % (i + 1, e)
                 for e in expect("ok", code=0, mem=(28 * MB, 40 * MB))(res[i], case)]
    return errs, cmd


def run_interrupted(case):
    """Ctrl-C, SIGTERM or SIGHUP to runcell while its program runs: the
    program is stopped, the cell removed (the wave's leftover check looks
    for processes, cgroups and mounts), exit 128 + signal, no result.
    Before, runcell died and left its cgroups on the host."""
    errs = []
    py = os.path.join(BUILD, "interrupted.py")
    with open(py, "w") as f:
        f.write("import time\ntime.sleep(30)\n")
    shown = None
    for sig, how in ((signal.SIGINT, "run"), (signal.SIGTERM, "run"), (signal.SIGHUP, "run"),
                     (signal.SIGINT, "sequence"), (signal.SIGTERM, "exec")):
        if how == "exec":
            cmd = [RUNCELL, "exec", "--lang", "python3", py]
        else:
            cmd = runcell_cmd(case, t("sleep_forever") + ([":::", "/bin/true"] if how == "sequence" else []),
                              ["--wall-time=20"], sequence=how == "sequence")
        shown = shown or cmd
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
        time.sleep(0.8)
        t0 = time.monotonic()
        p.send_signal(sig)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            errs.append("%s %s: still running 15 s after the signal" % (how, sig.name))
            continue
        took = time.monotonic() - t0
        text = err.decode(errors="replace")
        if p.returncode != 128 + sig or ("interrupted by " + sig.name) not in text or out.strip():
            errs.append("%s %s: rc %r, stdout %r, stderr %r (want %d, no result, a message)"
                        % (how, sig.name, p.returncode, out[:80], text[:160], 128 + sig))
        elif took > 5:
            errs.append("%s %s: took %.1f s to stop" % (how, sig.name, took))
    return errs, shown


def run_interrupted_during_build(case):
    """SIGTERM to runcell run soon after it started, mostly while its cell
    is being built: each either dies before it made anything (killed by the
    signal, its handlers not yet set, no trace line written) or exits 143
    with the message and no result; the wave's leftover check finds no
    process, cgroup or mount.  RUNCELL_TRACE tells how far each got ("cell
    ready" once the build is done).  The delay grows by 0.5 ms a try and
    starts again from 0 once a run got past its build, so that it finds
    the build whatever the binary's start costs (ASan's is longer); it goes
    on until three were stopped during the build (at most 80 tries), or
    the case says it did not test what it is for."""
    errs = []
    cmd = runcell_cmd(case, t("sleep_forever"), ["--wall-time=20"])
    env = runcell_env()
    env["RUNCELL_TRACE"] = "1"
    during_build = stopped = tries = 0
    delay = 0.0
    while during_build < 3 and tries < 80 and len(errs) < 3:
        tries += 1
        this, delay = delay, delay + 0.0005 if delay < 0.1 else 0.0
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        if this:
            time.sleep(this)
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            errs.append("after %.1f ms: still running 15 s after SIGTERM" % (this * 1000))
            continue
        text = err.decode(errors="replace")
        if p.returncode == -signal.SIGTERM:
            if "trace:" in text:
                errs.append("after %.1f ms: killed by SIGTERM after it had started work: %r"
                            % (this * 1000, text[-200:]))
            continue
        if p.returncode != 128 + signal.SIGTERM or "interrupted by SIGTERM" not in text or out.strip():
            errs.append("after %.1f ms: rc %r, stdout %r, stderr %r (want 143, no result, a "
                        "message)" % (this * 1000, p.returncode, out[:80], text[-200:]))
            continue
        stopped += 1
        if "cell ready" not in text:
            during_build += 1
        else:
            delay = 0.0  # past the build: sweep it again
    if not errs and during_build < 3:
        errs.append("only %d of %d runs were stopped during the build (%d stopped in all): the "
                    "case did not test what it is for" % (during_build, tries, stopped))
    return errs, cmd


def start_private_keeper(name, extra=(), sock_dir="/run/runcell"):
    """A keeper of a case's own (stopped by the case): (Popen, socket)."""
    sock = "%s/suite-%d-%s.sock" % (sock_dir, os.getpid(), name)
    os.makedirs(sock_dir, mode=0o700, exist_ok=True)
    p = subprocess.Popen([RUNCELL, "keep", "--cells", "1", "--socket", sock] + list(extra),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=runcell_env())
    deadline = time.time() + 15
    while time.time() < deadline and p.poll() is None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.connect(sock)
            break
        except OSError:
            time.sleep(0.05)
    return p, sock


def stop_private_keeper(p):
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return p.returncode, err.decode(errors="replace")


def run_keeper_cli(case):
    """runcell keep's and runcell run's keeper options: bad values exit 2
    naming the option; a second keeper on a taken socket is refused; a
    socket nobody listens on, or a keeper of another shape, and runcell run
    builds the cell itself and says why (exit 0, the result as usual)."""
    errs = []
    for cmd, want in (
            ([RUNCELL, "keep", "--cells", "0"], "--cells=0"),
            ([RUNCELL, "keep", "--cells", "65"], "--cells=65"),
            ([RUNCELL, "keep", "--socket", "rel.sock"], "--socket=rel.sock"),
            ([RUNCELL, "keep", "extra"], "unexpected argument extra"),
            ([RUNCELL, "keep", "--cgroup=v3"], "--cgroup=v3"),
            ([RUNCELL, "run", "--keeper=rel.sock", "--", "/bin/true"], "--keeper=rel.sock"),
            ([RUNCELL, "run", "--keeper=/run/x.sock", "--sequence", "--", "/bin/true"], "--sequence"),
            ([RUNCELL, "run", "--keeper=/run/x.sock", "--no-keeper", "--", "/bin/true"], "--no-keeper")):
        rc, out, err, _ = invoke(cmd, timeout=20)
        text = err.decode(errors="replace")
        if rc != 2 or want not in text or out.strip():
            errs.append("%s: rc %r, stderr %r (want 2 naming %r)" % (" ".join(cmd[1:]), rc, text[:160], want))
    p, sock = start_private_keeper("cli", ["--bind=%s:/t" % BIN])
    try:
        rc, out, err, _ = invoke([RUNCELL, "keep", "--socket", sock], timeout=20)
        if rc != 2 or b"another keeper" not in err:
            errs.append("second keeper on %s: rc %r, stderr %r" % (sock, rc, err[:160]))
        # served: no note on stderr
        cmd = runcell_cmd(case, ["/bin/echo", "kept"], ["--keeper=" + sock])
        cmd.remove("--no-keeper")
        rc, out, err, _ = invoke(cmd, timeout=30)
        res = parse(rc, out, err)
        if isinstance(res, str) or res[0]["stdout"] != "kept\n" or err.strip():
            errs.append("through the keeper: %r, stderr %r" % (res if isinstance(res, str) else short(res[0]), err[:200]))
        # another shape: the keeper declines, runcell run builds the cell
        cmd = runcell_cmd(case, ["/bin/echo", "here"], ["--keeper=" + sock, "--net"])
        cmd.remove("--no-keeper")
        rc, out, err, _ = invoke(cmd, timeout=30)
        res = parse(rc, out, err)
        text = err.decode(errors="replace")
        if isinstance(res, str) or res[0]["stdout"] != "here\n" or \
                "declined: the run asks for another cell" not in text or "building the cell here" not in text:
            errs.append("another shape: %r, stderr %r" % (res if isinstance(res, str) else short(res[0]), text[:200]))
    finally:
        rc, text = stop_private_keeper(p)
    if rc != 0 or "keep: run 1: ok" not in text or "keep: run 2" in text:
        errs.append("the keeper: exit %r, log %r (want 0, one run)" % (rc, text[-300:]))
    rc, out, err, _ = invoke([RUNCELL, "run", "--json", "--keeper=/run/runcell/suite-none.sock", "--",
                              "/bin/echo", "alone"], timeout=30)
    res = parse(rc, out, err)
    if isinstance(res, str) or res[0]["stdout"] != "alone\n" or b"building the cell here" not in err:
        errs.append("no keeper: %r, stderr %r" % (res if isinstance(res, str) else short(res[0]), err[:200]))
    return errs, [RUNCELL, "keep"]


def run_keeper_stopped(case):
    """runcell run killed outright while the keeper runs its program: the
    keeper ends the run (the wave's checks find no program left).  Then
    SIGTERM to runcell keep while a run it took is in progress: the
    program is ended, its cell removed, runcell run reports internal_error
    naming the cause (exit 1), the keeper exits 0; a run still queued for
    a cell was never taken, so runcell run builds it itself."""
    errs = []
    p, sock = start_private_keeper("stop", ["--bind=%s:/t" % BIN])
    cmd = runcell_cmd(case, t("sleep_forever"), ["--keeper=" + sock, "--wall-time=20"])
    cmd.remove("--no-keeper")
    c = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    time.sleep(1.0)
    c.kill()
    c.communicate()
    deadline = time.time() + 5
    while time.time() < deadline and [pid for pid, info in proc_table().items()
                                      if case_of(info) == case.name]:
        time.sleep(0.05)
    left = [pid for pid, info in proc_table().items() if case_of(info) == case.name]
    if left:
        errs.append("runcell run killed: its program still runs 5 s later (pids %s)" % left)
    c = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    time.sleep(1.0)
    # Queued behind it (the keeper has one cell): never taken, so built here.
    queued_cmd = runcell_cmd(case, ["/bin/echo", "queued"], ["--keeper=" + sock])
    queued_cmd.remove("--no-keeper")
    q = subprocess.Popen(queued_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    time.sleep(0.5)
    rc, text = stop_private_keeper(p)
    try:
        qout, qerr = q.communicate(timeout=30)
        qres = parse(q.returncode, qout, qerr)
        if isinstance(qres, str) or qres[0]["stdout"] != "queued\n" or \
                b"closed without taking the run; building the cell here" not in qerr:
            errs.append("queued run: %r, stderr %r" % (qres if isinstance(qres, str) else short(qres[0]),
                                                       qerr[:200]))
    except subprocess.TimeoutExpired:
        q.kill()
        q.communicate()
        errs.append("the queued runcell run did not return")
    if "keep: run 1: internal_error (client gone, run ended)" not in text:
        errs.append("the keeper's log does not say the first run ended with its client: %r" % text[-300:])
    try:
        out, err = c.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        c.kill()
        out, err = c.communicate()
        return ["runcell run still running 15 s after the keeper stopped"], cmd
    res = parse(0, out, err)
    if c.returncode != 1 or isinstance(res, str) or res[0]["status"] != "internal_error" or \
            "runcell keep was stopped during the run" not in res[0]["message"]:
        errs.append("runcell run: rc %r, %r" % (c.returncode, res if isinstance(res, str) else short(res[0])))
    if rc != 0:
        errs.append("the keeper exited with %r: %s" % (rc, text[-200:]))
    return errs, cmd


def run_keeper_peer_check(case):
    """The keeper's socket is 0600; even opened to all, a connection from
    another uid is declined (SO_PEERCRED) and runs nothing."""
    p, sock = start_private_keeper("peer", sock_dir="/tmp")  # /run/runcell is 0700
    errs = []
    try:
        os.chmod(sock, 0o666)
        probe = ("import socket, struct, os\n"
                 "os.setgid(65534); os.setuid(65534)\n"
                 "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                 "s.connect(%r)\n"
                 "try:\n"
                 "    s.sendall(%r)\n"
                 "except OSError:\n"
                 "    pass  # declined and closed before the request went: the answer is queued\n"
                 "h = b''\n"
                 "while len(h) < 576:\n"
                 "    c = s.recv(576 - len(h))\n"
                 "    if not c: break\n"
                 "    h += c\n"
                 "print(h[64:].split(b'\\0')[0].decode())\n" % (sock, WIRE_PROBE))
        r = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=20)
        said = r.stdout.decode(errors="replace")
        if "serves root and its own uid only" not in said:
            errs.append("uid 65534 got %r (stderr %r)" % (said[:200], r.stderr[:200]))
    finally:
        rc, text = stop_private_keeper(p)
    if rc != 0 or "keep: run" in text:
        errs.append("the keeper: exit %r, log %r (want 0, no run)" % (rc, text[-300:]))
    return errs, [RUNCELL, "keep", "--socket", sock]


SOCK_LOOK = ("import socket\n"
             "u = open('/proc/net/unix').read()\n"
             "print('name seen' if 'runcell-left' in u else 'name gone')\n"
             "try:\n"
             "    socket.create_connection(('127.0.0.1', 4242), timeout=2)\n"
             "    print('listener reached')\n"
             "except OSError:\n"
             "    print('no listener')\n"
             "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
             "s.bind('\\0runcell-left')\n"
             "print('name free')\n")


def run_sockets_left(case):
    """Sockets kept alive by a descriptor cycle after every process of a
    run is gone (only the kernel's unix collector frees them) kept their
    abstract name and TCP port for the next run of a warm cell, which saw
    and reached them, and their buffers stayed charged to the cell's
    memory group, lowering the next run's memory_kb by ~30 MB.  The next
    run gets a new network namespace and a new memory group."""
    argv = (t("sock_leave") + [":::", "/usr/bin/python3", "-c", SOCK_LOOK] + [":::"] +
            t("mem_touch", "30") + [":::"] + t("sock_leave", "40") + [":::"] + t("mem_touch", "30"))
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=5)
    if isinstance(res, str):
        return [res], cmd
    errs = ["run 1: " + e for e in expect("ok", code=0, out="left 0 KB queued\n")(res[0], case)]
    errs += ["run 2: " + e for e in
             expect("ok", code=0, out="name gone\nno listener\nname free\n")(res[1], case)]
    errs += ["run 4: " + e for e in expect("ok", code=0, out_has=["left"])(res[3], case)]
    for i in (2, 4):
        errs += ["run %d: %s" % (i + 1, e)
                 for e in expect("ok", code=0, mem=(28 * MB, 40 * MB))(res[i], case)]
    return errs, cmd


def run_box_times_reset(case):
    """Run N set the times of /box, /tmp and /dev/shm (any value: a
    message); run N+1 found them.  The wipe sets them to now."""
    argv = ["/bin/sh", "-c", "touch -d '2001-02-03 04:05:06' /box /tmp /dev/shm", ":::",
            "/bin/sh", "-c", "stat -c %y /box /tmp /dev/shm | cut -c1-4"]
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    year = time.strftime("%Y", time.gmtime())
    return ["run 2: " + e for e in
            expect("ok", code=0, out=(year + "\n") * 3)(res[1], case)], cmd


def tcp_queued_check(most_mb):
    def more(res):
        if res.get("status") == "memory_limit":
            return []   # stopped by the limit: bounded too
        m = re.match(r"queued (\d+) MB", res.get("stdout") or "")
        if not m:
            return ["no 'queued N MB' line: %r" % (res.get("stdout") or "")[:200]]
        if int(m.group(1)) >= most_mb:
            return ["the cell queued %s MB in TCP buffers under --memory=16 (at most %d MB "
                    "expected)" % (m.group(1), most_mb)]
        return []
    return more


def run_small_mem_warm(case):
    """Six identical small runs in one warm cell: each reports the memory
    it was charged.  A reused v1 group's base held what the kernel's last
    charge batch had left, and every third run read 0 KB."""
    argv = []
    for i in range(6):
        argv += (t("mem_touch", "0") if i == 0 else [":::"] + t("mem_touch", "0"))
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=6)
    if isinstance(res, str):
        return [res], cmd
    mems = [r.get("memory_kb") for r in res]
    if any(not isinstance(m, int) or m <= 0 for m in mems):
        return ["memory_kb of six identical runs %s: a run that ran was charged something" % mems], cmd
    if max(mems) > 4 * min(mems):
        return ["memory_kb of six identical runs %s: far apart" % mems], cmd
    return [], cmd


def run_fd_park(case):
    """Run N parks open files in an SCM_RIGHTS cycle (locks on /usr files,
    a deleted 20 MB file, an IPv6 flow label); run N+1 saw all of them (a
    message of any length through lock bytes, a full box).  init now has
    the kernel collect the cycle before DONE, and the flow labels renew
    the namespace."""
    argv = t("fd_park", "park") + [":::"] + t("fd_park", "look")
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    errs = expect("ok", code=0, out="parked\n")(res[0], case)
    errs += ["run 2: " + e for e in expect("ok", code=0, clean=True)(res[1], case)]
    return errs, cmd


def run_stdin_fresh_per_run(case):
    """With --sequence --stdin=FILE every program shared one open file: what
    one set on it (O_NONBLOCK, O_APPEND) the next saw.  A regular file is
    now opened anew for each."""
    path = os.path.join(BUILD, "stdin-fresh-%d.txt" % os.getpid())
    with open(path, "w") as f:
        f.write("the input\n")
    argv = ["/usr/bin/python3", "-c",
            "import fcntl,os; fcntl.fcntl(0, fcntl.F_SETFL, os.O_NONBLOCK | os.O_APPEND); print('set')",
            ":::", "/usr/bin/python3", "-c",
            "import fcntl,os,sys; fl = fcntl.fcntl(0, fcntl.F_GETFL); "
            "print(bool(fl & os.O_NONBLOCK), bool(fl & os.O_APPEND), sys.stdin.read().strip())"]
    cmd = runcell_cmd(case, argv, ["--stdin=" + path], sequence=True)
    try:
        rc, out, err, secs = invoke(cmd, timeout=60)
    finally:
        os.unlink(path)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    return ["run 2: " + e for e in
            expect("ok", code=0, out="False False the input\n")(res[1], case)], cmd


def run_inode_flags_reset(case):
    """Run N set inode flags (nodump, noatime) on /box, /tmp and /dev/shm;
    run N+1 saw them (two bits from one run to the next).  The wipe
    clears them."""
    argv = t("inode_flags", "set") + [":::"] + t("inode_flags", "show")
    cmd = runcell_cmd(case, argv, [], sequence=True)
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err, n=2)
    if isinstance(res, str):
        return [res], cmd
    errs = expect("ok", code=0, out="/box 0xc0\n/tmp 0xc0\n/dev/shm 0xc0\n")(res[0], case)
    errs += ["run 2: " + e for e in
             expect("ok", code=0, out="/box 0\n/tmp 0\n/dev/shm 0\n")(res[1], case)]
    return errs, cmd


def resident_bytes(path):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def run_fadvise_evict(case):
    """POSIX_FADV_DONTNEED on a /usr file from the cell dropped the host's
    cached pages of it (123 MB of the JDK's modules went to 0).  It is
    now a no-op that answers 0."""
    path = os.path.realpath("/usr/bin/python3")
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass
    before = resident_bytes(path)
    cmd = runcell_cmd(case, t("host_shared", path), [])
    rc, out, err, secs = invoke(cmd, timeout=60)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    errs = clean()(res[0], case)
    after = resident_bytes(path)
    if after < before * 0.9:
        errs.append("%s: %d bytes cached before the run, %d after: the cell evicted the "
                    "host's page cache" % (path, before, after))
    return errs, cmd


def run_flood_kill_race(case):
    """A one-shot cell's init exits right after reporting a run.  When
    the output cap makes the supervisor send KILL while init already
    reports, the unread KILL makes the kernel answer ECONNRESET ahead of
    the report: the run must still end as output_limit, never as
    internal_error.  Three loops at once make the race likely."""
    cmd = runcell_cmd(case, t("flood_out"), ["--output=64"])
    errs = []
    lock = threading.Lock()

    def loop():
        for i in range(25):
            rc, out, err, secs = invoke(cmd, timeout=60)
            res = parse(rc, out, err)
            e = [res] if isinstance(res, str) else expect("output_limit")(res[0], case)
            if e:
                with lock:
                    errs.append("run %d: %s" % (i + 1, "; ".join(e)))
    threads = [threading.Thread(target=loop) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return errs[:5], cmd[:12] + ["(x75, 3 at once)"]


def run_huge_argv(case):
    """1 MB of arguments with a 1 MB stack: the exec in the cell fails with
    E2BIG; runcell must say so cleanly (runtime_error or a refusal)."""
    args = ["x" * 999 + str(i % 10) for i in range(1000)]
    cmd = runcell_cmd(case, t("argv_dump", *args), ["--stack=1"])
    rc, out, err, _ = invoke(cmd, timeout=30)
    if rc is None:
        return ["runcell hung"], cmd[:8]
    if rc < 0:
        return ["runcell killed by signal %d" % -rc], cmd[:8]
    if rc != 0:
        return ([] if err.strip() else ["runcell exit %d without a message" % rc]), cmd[:8]
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd[:8]
    r = res[0]
    log("result: " + short(r))
    errs = schema(r)
    if r["status"] != "runtime_error":
        errs.append("status %s, want runtime_error (E2BIG) or a refusal" % r["status"])
    if not r["message"]:
        errs.append("empty message")
    return errs, cmd[:8] + ["...(1000 args of 1000 bytes)"]


def argv_check(args):
    def more(res):
        return big_argv_check(res, args)
    return more


def big_argv_check(res, args):
    want = ("%d\0" % (len(args) + 1)).encode() + b"".join(a.encode() + b"\0" for a in args)
    got = out_bytes(res, "stdout")
    return [] if got == want else ["argv changed on the way (%d bytes vs %d)" % (len(got), len(want))]


def run_many_env(case):
    opts = ["--env=V%05d=value-%d" % (i, i) for i in range(10000)]
    cmd = runcell_cmd(case, t("env_dump"), opts)
    rc, out, err, _ = invoke(cmd, timeout=60)
    if rc is not None and rc > 0 and err.strip():
        return [], cmd[:6] + ["...(10000 --env)"]   # a clean refusal is fine
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd[:6]
    r = res[0]
    errs = schema(r) + expect("ok", code=0)(r, case)
    lines = set(r["stdout"].splitlines())
    missing = [i for i in range(10000) if "V%05d=value-%d" % (i, i) not in lines]
    if missing:
        errs.append("%d of the 10000 variables missing (first V%05d)" % (len(missing), missing[0]))
    return errs, cmd[:6] + ["...(10000 --env)"]


def run_bad_options(case):
    errs = []
    for opts in (["--memory=abc"], ["--cpu-time=-1"], ["--no-such-option"], ["--processes=0"],
                 ["--cpu-time=0x10"], ["--cpu-time= 1"], ["--processes=+5"]):
        cmd = [RUNCELL, "run", "--json"] + opts + ["--", "/bin/true"]
        rc, out, err, _ = invoke(cmd, timeout=20)
        if rc is None or rc <= 0 or not err.strip():
            errs.append("%s: rc %r, stderr %r (want non-zero with a message)" % (opts[0], rc, err[:80]))
    # The message quotes the option as given, not the part before a ':'.
    for opt in ("--bind=/etc:relative", "--bind=/etc:/a:/b:rw", "--env=NOEQUALS"):
        rc, out, err, _ = invoke([RUNCELL, "run", opt, "--", "/bin/true"], timeout=20)
        if rc != 2 or ("invalid %s:" % opt) not in err.decode(errors="replace"):
            errs.append("%s: rc %r, stderr %r (want 2 and the option quoted whole)" % (opt, rc, err[:120]))
    # A bind the cell cannot make is the caller's error (exit 2), never an
    # internal_error; a cell path spelt unplainly must not slip past the
    # check of the paths the cell manages (/./proc used to bind the host's
    # /proc over the cell's).
    d = tempfile.mkdtemp(prefix="runcell-bind-")
    try:
        bad = {"/proc:/./proc": "plain", d + "://dev": "plain", d + ":/.": "plain",
               d + ":/box/../etc": "plain", d + ":/data/": "plain",
               d + ":/etc/passwd": "cannot bind", d + ":/usr/no-such-dir": "cannot create bind target",
               "/no-such-dir-anywhere:/data": "No such file"}
        for value, want in bad.items():
            rc, out, err, _ = invoke([RUNCELL, "run", "--json", "--bind=" + value, "--", "/bin/true"],
                                     timeout=20)
            text = err.decode(errors="replace")
            if rc != 2 or want not in text or out.strip():
                errs.append("--bind=%s: rc %r, stdout %r, stderr %r (want 2, no result, %r)"
                            % (value, rc, out[:60], text[:160], want))
    finally:
        os.rmdir(d)
    return errs, [RUNCELL, "run", "--json", "--memory=abc", "--", "/bin/true"]


def run_build_failure(case):
    """A cell whose build fails inside init because of a bind (a target
    under the read-only /usr): one-shot, and in a sequence, where the first
    program waits in line while the cell is built, init's report reaches
    the waiting run, which ends with the cause on stderr and exit 2 (the
    caller's bind, not an internal error), no JSON and nothing left."""
    errs = []
    bind = "--bind=/etc/hostname:/usr/runcell-no-such-target"
    for seq in (False, True):
        argv = ["/bin/true", ":::", "/bin/true"] if seq else ["/bin/true"]
        cmd = [RUNCELL, "run", "--json"] + (["--sequence"] if seq else []) + [bind, "--"] + argv
        rc, out, err, _ = invoke(cmd, timeout=20)
        tag = "sequence" if seq else "one-shot"
        text = err.decode(errors="replace")
        if rc != 2:
            errs.append("%s: exit status %r, want 2" % (tag, rc))
        if out.strip():
            errs.append("%s: stdout %r, want nothing" % (tag, out[:100]))
        if "cannot build the cell" not in text or "Read-only file system" not in text:
            errs.append("%s: stderr %r does not name the cause" % (tag, text[:200]))
    return errs, [RUNCELL, "run", "--json", "--sequence", bind, "--", "/bin/true", ":::", "/bin/true"]


def run_box_symlinks(case):
    """--box copies a directory in: regular files arrive, symlinks to host
    files must not bring host content (copied as links, skipped or refused)."""
    box = os.path.join(BUILD, "boxsrc-%d" % os.getpid())
    shutil.rmtree(box, ignore_errors=True)
    os.makedirs(os.path.join(box, "sub"))
    with open(os.path.join(box, "hello.txt"), "w") as f:
        f.write("hello\n")
    with open(os.path.join(box, "sub", "ok"), "w") as f:
        f.write("ok\n")
    os.symlink("/etc/shadow", os.path.join(box, "evil"))
    os.symlink(CANARY, os.path.join(box, "canary"))
    os.symlink("/root", os.path.join(box, "rootdir"))
    before = {p: fingerprint(os.path.join(box, p)) for p in ("hello.txt", "sub/ok", "evil")}
    cmd = runcell_cmd(case, t("box_check.sh"), ["--box=%s" % box])
    rc, out, err, _ = invoke(cmd)
    errs = []
    if rc is not None and rc > 0 and err.strip():
        log("refused: " + err.decode("utf-8", "replace"))
    else:
        res = parse(rc, out, err)
        if isinstance(res, str):
            return [res], cmd
        log("result: " + short(res[0]))
        errs += schema(res[0]) + expect("ok", code=0, out_has=["hello", "ok"], clean=True)(res[0], case)
    for p, fp in before.items():
        if fingerprint(os.path.join(box, p)) != fp:
            errs.append("--box source %s changed" % p)
    if sorted(os.listdir(box)) != ["canary", "evil", "hello.txt", "rootdir", "sub"]:
        errs.append("--box source dir changed: %s" % os.listdir(box))
    return errs, cmd


def run_box_tree(case):
    """--box brings directories too: an empty one, and one whose bits
    forbid writing, set after its contents are in; file modes kept."""
    box = os.path.join(BUILD, "boxtree-%d" % os.getpid())
    shutil.rmtree(box, ignore_errors=True)
    os.makedirs(os.path.join(box, "empty"))
    os.makedirs(os.path.join(box, "locked", "in"))
    with open(os.path.join(box, "locked", "in", "g"), "w") as f:
        f.write("inside\n")
    with open(os.path.join(box, "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod(os.path.join(box, "run.sh"), 0o755)
    with open(os.path.join(box, "none"), "w") as f:
        f.write("x\n")
    with open(os.path.join(box, "..x"), "w") as f:   # a name, not a way up: it was refused
        f.write("x\n")
    os.chmod(os.path.join(box, "none"), 0)   # arrived as 0644 before
    os.chmod(os.path.join(box, "empty"), 0o700)
    os.chmod(os.path.join(box, "locked"), 0o500)
    script = ("cd /box && find . -mindepth 1 -printf '%M %p\\n' | sort -k2 && cat locked/in/g && ./run.sh && "
              "if touch locked/new 2>/dev/null; then echo WROTE; fi")
    cmd = runcell_cmd(case, ["/bin/sh", "-c", script], ["--box=%s" % box])
    rc, out, err, _ = invoke(cmd)
    os.chmod(os.path.join(box, "locked"), 0o700)
    shutil.rmtree(box, ignore_errors=True)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    want = ("-rw-r--r-- ./..x\ndrwx------ ./empty\ndr-x------ ./locked\ndrwxr-xr-x ./locked/in\n"
            "-rw-r--r-- ./locked/in/g\n---------- ./none\n-rwxr-xr-x ./run.sh\ninside\nran\n")
    return schema(res[0]) + expect("ok", code=0, out=want)(res[0], case), cmd


def run_box_over_disk(case):
    """A --box that cannot fit the cell's disk (bytes, or files for its
    inodes) is refused before the run: exit 2 and a message, not an
    internal_error from inside the cell."""
    errs = []
    box = os.path.join(BUILD, "boxbig-%d" % os.getpid())
    for what, make, opt in (
            ("bytes", lambda d: open(os.path.join(d, "big"), "wb").write(b"x" * (2 << 20)), "--disk=1"),
            ("entries", lambda d: [open(os.path.join(d, "f%d" % i), "w").close() for i in range(1100)],
             "--disk=1")):
        shutil.rmtree(box, ignore_errors=True)
        os.makedirs(box)
        make(box)
        cmd = [RUNCELL, "run", "--json", "--box=%s" % box, opt, "--", "/bin/true"]
        rc, out, err, _ = invoke(cmd, timeout=30)
        e = err.decode("utf-8", "replace")
        if rc != 2 or "raise --disk" not in e or out.strip():
            errs.append("%s: rc %r, stdout %r, stderr %r (want 2, nothing on stdout, 'raise --disk')"
                        % (what, rc, out[:100], e[:200]))
        # the same box fits a larger disk
        cmd = [RUNCELL, "run", "--json", "--box=%s" % box, "--disk=16", "--", "/bin/true"]
        rc, out, err, _ = invoke(cmd, timeout=30)
        if rc != 0 or b'"status":"ok"' not in out:
            errs.append("%s with --disk=16: rc %r, %r" % (what, rc, (out + err)[:200]))
    shutil.rmtree(box, ignore_errors=True)
    return errs, cmd


def run_processes_above_hard_limit(case):
    """--processes above the hard RLIMIT_NPROC runcell inherited runs (the
    pids cgroup limits the cell); RLIMIT_NPROC is cut to that hard limit
    instead of failing the run as internal_error."""
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    cmd = runcell_cmd(case, ["/bin/bash", "-c", "ulimit -u"], ["--processes=1000000"])
    rc, out, err, _ = invoke(cmd)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    want = "unlimited\n" if hard == resource.RLIM_INFINITY else "%d\n" % min(hard, 1000000)
    return schema(res[0]) + expect("ok", code=0, out=want)(res[0], case), cmd


def run_limits_above_hard_rlimit(case):
    """Limits a cell sets as rlimits, above the hard rlimits runcell runs
    under: without CAP_SYS_RESOURCE they cannot be raised, so runcell run
    refuses them up front (exit 2, the option and the most it can be
    named), not as an internal_error once the cell is built.  Below them,
    the run works."""
    capeff = int(re.search(r"CapEff:\s*([0-9a-f]+)", open("/proc/self/status").read()).group(1), 16)
    can_raise = bool(capeff & (1 << 24))
    lower = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    errs = []
    for opt, fits in (("--open-files=2048", False), ("--open-files=512", True)):
        cmd = [RUNCELL, "run", "--json", opt, "--", "/bin/sh", "-c", "ulimit -n"]
        log("$ " + " ".join(cmd) + "  (hard RLIMIT_NOFILE 1024)")
        p = subprocess.run(cmd, capture_output=True, timeout=30, preexec_fn=lower, env=runcell_env())
        err = p.stderr.decode("utf-8", "replace")
        if fits or can_raise:
            want = opt.split("=")[1] + "\n"
            if p.returncode != 0 or ('"stdout":"%s"' % want.replace("\n", "\\n")).encode() not in p.stdout:
                errs.append("%s: rc %d, %r %r (want ok and %r)" % (opt, p.returncode, p.stdout[:200], err[:200], want))
        elif p.returncode != 2 or p.stdout.strip() or \
                "--open-files is above the hard limit" not in err or "at most 1024" not in err:
            errs.append("%s: rc %d, stdout %r, stderr %r (want 2, naming --open-files and 1024)"
                        % (opt, p.returncode, p.stdout[:100], err[:200]))
    return errs, cmd


def run_default_above_hard_rlimit(case):
    """A default above the hard rlimits (the 64 MB stack where ulimit -Hs
    is 8 MB) is lowered to them: every run without options failed there
    with exit 2, naming an option nobody gave.  Given, it is refused."""
    capeff = int(re.search(r"CapEff:\s*([0-9a-f]+)", open("/proc/self/status").read()).group(1), 16)
    lower = lambda: resource.setrlimit(resource.RLIMIT_STACK, (8 << 20, 8 << 20))
    errs = []
    cmd = [RUNCELL, "run", "--json", "--", "/bin/sh", "-c", "ulimit -s"]
    log("$ " + " ".join(cmd) + "  (hard RLIMIT_STACK 8 MB)")
    p = subprocess.run(cmd, capture_output=True, timeout=30, preexec_fn=lower, env=runcell_env())
    if p.returncode != 0 or b'"stdout":"8192\\n"' not in p.stdout:
        errs.append("no options: rc %d, %r %r (want ok, stack 8192 KB)" % (p.returncode, p.stdout[:200], p.stderr[:200]))
    if not capeff & (1 << 24):
        cmd2 = [RUNCELL, "run", "--json", "--stack=64", "--", "/bin/true"]
        p = subprocess.run(cmd2, capture_output=True, timeout=30, preexec_fn=lower, env=runcell_env())
        if p.returncode != 2 or b"--stack is above the hard limit" not in p.stderr:
            errs.append("--stack=64: rc %d, %r (want 2, naming --stack)" % (p.returncode, p.stderr[:200]))
    return errs, cmd


def run_cpu_fair_between_cells(case):
    """A run of 64 spinning processes, each in a session of its own, and
    another cell's run that needs 200 ms of CPU: the second gets its share
    of the CPU as a cell, not 1/65 of it.  Without a cpu group per cell the
    scheduler weighed each session (autogroup) as much as the other cell,
    and the second run hit its wall limit after a few ms of CPU."""
    hog = runcell_cmd(case, t("session_hog", "64", "%g" % (4 * SLOWDOWN)),
                      ["--processes=100", "--cpu-time=%g" % (30 * SLOWDOWN),
                       "--wall-time=%g" % (8 * SLOWDOWN)])
    log("$ " + " ".join(hog) + "  (in the background)")
    p = subprocess.Popen(hog, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=runcell_env())
    time.sleep(0.8 * SLOWDOWN)
    cmd = runcell_cmd(case, t("cpu_burn", "200", "0"), ["--wall-time=%g" % (3 * SLOWDOWN)])
    rc, out, err, secs = invoke(cmd, timeout=60 * SLOWDOWN)
    hog_out, hog_err = p.communicate(timeout=60 * SLOWDOWN)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    errs = schema(res[0]) + expect("ok", code=0, out="done\n")(res[0], case)
    if res[0]["wall_ms"] > 1500 * SLOWDOWN:
        errs.append("200 ms of CPU took %d ms of wall time next to the other cell"
                    % res[0]["wall_ms"])
    hog_res = parse(p.returncode, hog_out, hog_err)
    if isinstance(hog_res, str):
        errs.append("the spinning run: " + hog_res)
    elif hog_res[0]["cpu_ms"] < 1000 * SLOWDOWN:
        errs.append("the spinning run had %d ms of CPU: it did not compete" % hog_res[0]["cpu_ms"])
    return errs, cmd


def run_cpu_hierarchy_read_only(case):
    """The cpu group is optional: with the v1 cpu hierarchy read-only (a
    container may mount it so), a run goes without one.  It was an
    internal_error, "cannot create cgroup 0.0: Read-only file system"."""
    inner = " ".join(runcell_cmd(case, ["/bin/echo", "hi"], []))
    cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
           "mount -o remount,bind,ro /sys/fs/cgroup/cpu && exec " + inner]
    rc, out, err, secs = invoke(cmd)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    return schema(res[0]) + expect("ok", code=0, out="hi\n")(res[0], case), cmd


def run_cgroup_none(case):
    cmd = runcell_cmd(case, t("cpu_burn", "100", "0"), ["--cgroup=none"])
    rc, out, err, _ = invoke(cmd)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    r = res[0]
    errs = schema(r) + expect("ok", code=0)(r, case)
    if "rlimit" not in r["message"].lower() and "cgroup" not in r["message"].lower():
        errs.append("message does not say cgroups are off: %r" % r["message"])
    return errs, cmd


def run_passthrough(case):
    """Without --json the program's streams pass through and runcell adds
    one summary line on stderr; its exit status is still 0."""
    cmd = [RUNCELL, "run", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"]
    rc, out, err, _ = invoke(cmd, timeout=30)
    errs = []
    if rc != 0:
        errs.append("runcell exit status %r, want 0" % rc)
    if out != b"out\n":
        errs.append("stdout %r, want 'out\\n'" % out[:100])
    if not err.startswith(b"err\n") or err[4:].count(b"\n") != 1 or not err.endswith(b"\n"):
        errs.append("stderr %r, want 'err\\n' and one summary line" % err[:200])
    # A stderr without a final newline: the summary still starts its own line.
    rc, out, err, _ = invoke([RUNCELL, "run", "--", "/bin/sh", "-c", "printf err >&2"], timeout=30)
    if not err.startswith(b"err\nruncell: ok: "):
        errs.append("stderr %r, want 'err', a newline, then the summary" % err[:200])
    return errs, cmd


def run_doc_examples(case):
    """The `build/runcell run` examples of README.md and docs/SANDBOX.md,
    run as shown: status, stdout and message as printed there, a summary
    line with its measurements masked (tests/lib/doc_examples.py)."""
    errs, n = [], 0
    blocks = []
    for doc in ("README.md", "docs/SANDBOX.md"):
        blocks += doc_examples.examples(os.path.join(ROOT, doc))
    for heading, block in blocks:
        for cmd, shown in block:
            if not cmd.startswith("build/runcell run "):
                continue
            n += 1
            real = shlex.quote(RUNCELL) + cmd[len("build/runcell"):] + " 2>&1"
            p = subprocess.run(["bash", "-c", real], capture_output=True, timeout=60,
                               env=runcell_env())
            why = doc_examples.mismatch(shown, p.stdout.decode("utf-8", "replace"),
                                        ("status", "stdout", "stdout_base64", "message"))
            if p.returncode != 0 or why:
                errs.append("`%s`: exit %d, %s" % (cmd, p.returncode, why))
    if n < 6:
        errs.append("only %d `build/runcell run` examples in README.md and docs/SANDBOX.md" % n)
    return errs, ["README.md", "docs/SANDBOX.md"]


def run_probe_selftest(case):
    """The probe must be able to fail: run it next to planted leftovers."""
    script = ("touch /box/f /tmp/f /dev/shm/f; /t/sysv_ipc >/dev/null; sleep 5 & "
              "exec /t/probe")
    cmd = runcell_cmd(case, ["/bin/sh", "-c", script], [])
    rc, out, err, _ = invoke(cmd, timeout=30)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return [res], cmd
    want = ["BAD process", "/box/f left", "/tmp/f left", "/dev/shm/f left", "sysvipc/shm", "sysvipc/msg",
            "sysvipc/sem"]
    return schema(res[0]) + expect("runtime_error", code=1, out_has=want)(res[0], case), cmd


def run_host_selftest(case):
    """The host check must be able to fail: a host process carrying a case
    marker and a cell uid is reported."""
    env = {"PATH": "/usr/bin:/bin", CASE_MARK: case.name}

    def demote():
        os.setgid(60999)
        os.setuid(60999)
    p = subprocess.Popen(["/bin/sleep", "5"], env=env, preexec_fn=demote)
    try:
        time.sleep(0.1)
        left, unmarked, _ = HOST.leftovers({case.name})
    finally:
        p.kill()
        p.wait()
    if not any("pid %d " % p.pid in x for x in left):
        return ["host check missed a marked process (found %r)" % left], []
    return [], []


HOST = None
HOST_SLEEPERS = []


def start_uid_sleepers(case):
    """Host processes with cell-like uids (and root): kill(-1) in a cell must
    not reach them."""
    for uid in (60000, 60001, 0):
        def demote(u=uid):
            os.setsid()
            if u:
                os.setgid(u)
                os.setuid(u)
        p = subprocess.Popen(["/bin/sleep", "30"], preexec_fn=demote)
        HOST_SLEEPERS.append(p)


def stop_uid_sleepers(case):
    errs = []
    for p in HOST_SLEEPERS:
        if p.poll() is not None:
            errs.append("host process pid %d (sleep) was killed from the cell" % p.pid)
        else:
            p.kill()
            p.wait()
    HOST_SLEEPERS.clear()
    return errs


def run_kill_all(case):
    start_uid_sleepers(case)
    try:
        errs, cmd = run_plain(case)
    finally:
        errs_after = stop_uid_sleepers(case)
    return errs + errs_after, cmd


def int80_skip():
    p = subprocess.run([os.path.join(BIN, "int80")], capture_output=True)
    if p.returncode != 0 or b"getuid32 returned" not in p.stdout:
        return "the host kernel has no 32-bit syscall emulation"
    return None


def no_net_hits(case):
    if len(Case.listeners.net_hits) != 1 or Case.listeners.net_hits[0][1] != b"hostile\n":
        got = list(Case.listeners.net_hits)
        Case.listeners.net_hits.clear()
        return ["with --net the host listener got %r, want one 'hostile' connection" % got]
    Case.listeners.net_hits.clear()
    return []


def env_exact(extra=()):
    def more(res):
        got = set(res["stdout"].splitlines())
        want = DEFAULT_ENV | set(extra)
        if got != want:
            return ["environment %s, want %s" % (sorted(got), sorted(want))]
        return []
    return more


def env_loose(res):
    errs = []
    for v in ("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", "LANG=C.UTF-8"):
        if v not in res["stdout"]:
            errs.append("missing %s" % v)
    if SECRET_NAME in res["stdout"]:
        errs.append("%s visible" % SECRET_NAME)
    return errs


def message_has(text):
    def more(res):
        return [] if text in res["message"] else ["message %r lacks %r" % (res["message"], text)]
    return more


def stdout_num(prefix, lo, hi):
    def more(res):
        for line in res["stdout"].splitlines():
            if line.startswith(prefix):
                try:
                    n = int(line.split()[-1])
                except ValueError:
                    break
                return [] if lo <= n <= hi else ["%s %d outside [%d, %d]" % (prefix, n, lo, hi)]
        return ["no line %r in stdout" % prefix]
    return more


def shm_mem_check(res):
    if res["status"] == "memory_limit":
        return []
    if res["status"] == "ok" and "write:" in res["stdout"]:
        return []
    return ["want memory_limit or a write error, got %s: %r" % (res["status"], res["stdout"][:100])]


def shm_disk_check(res):
    m = re.search(r"after (\d+) MB", res["stdout"])
    if not m or not 48 <= int(m.group(1)) <= 64:
        return ["want ENOSPC after 48..64 MB (--disk default 64), got %r" % res["stdout"][:100]]
    return []


def flood_both_check(res):
    errs = []
    o, e = out_bytes(res, "stdout"), out_bytes(res, "stderr")
    if not o or not e:
        errs.append("a stream was not drained (stdout %d, stderr %d bytes)" % (len(o), len(e)))
    if len(o) > 256 * 1024 or len(e) > 256 * 1024:
        errs.append("stream over its cap (%d, %d)" % (len(o), len(e)))
    if not (res["stdout_truncated"] or res["stderr_truncated"]):
        errs.append("neither stream marked truncated")
    if set(o) - {ord("o")} or set(e) - {ord("e")}:
        errs.append("streams mixed up")
    return errs


def capped(stream, cap_bytes, fill):
    def more(res):
        b = out_bytes(res, stream)
        errs = []
        if len(b) != cap_bytes:
            errs.append("%s holds %d bytes, want the cap %d" % (stream, len(b), cap_bytes))
        if not res[stream + "_truncated"]:
            errs.append("%s_truncated false" % stream)
        if fill and set(b) - set(fill):
            errs.append("%s content corrupted" % stream)
        return errs
    return more


def cpu_as_reported(pct):
    """The cell's CPU time is within pct% of what the program measured of
    itself (CLOCK_PROCESS_CPUTIME_ID, its last line "cpu SECONDS"): the
    same threads over the same process lifetime, whatever its start cost."""
    def more(res):
        m = re.search(rb"cpu ([0-9.]+)\s*$", out_bytes(res, "stdout"))
        if not m:
            return ["no 'cpu SECONDS' line on stdout"]
        own = float(m.group(1)) * 1000
        if not own * (100 - pct) / 100 <= res["cpu_ms"] <= own * (100 + pct) / 100:
            return ["cpu_ms %d is not within %d%% of the %.0f ms the program measured"
                    % (res["cpu_ms"], pct, own)]
        return []
    return more


def one_capped(cap):
    """Both streams flood: the first over the cap ends the run; it holds
    exactly the cap and is marked truncated, the other is within the cap."""
    def more(res):
        errs = []
        full = [s for s in ("stdout", "stderr") if res[s + "_truncated"]]
        if not full:
            errs.append("no stream marked truncated")
        for s in ("stdout", "stderr"):
            b = out_bytes(res, s)
            if len(b) > cap or (s in full and len(b) != cap):
                errs.append("%s holds %d bytes (truncated %s), cap %d" % (s, len(b), res[s + "_truncated"], cap))
            line = (s + "-flood\n").encode()
            if b and not (line * (len(b) // len(line) + 1)).startswith(b):
                errs.append("%s content corrupted" % s)
        return errs
    return more


WEIRD_OUT = (b"A\xff\xfe\x80B\0C\r\n\x1b[31mred\x1b[0m\xc3\x28\xe2\x82\n"
             + bytes(ord("a") + i % 26 for i in range(1 << 20)) + b"\n")
WEIRD_ERR = b"err\0or\r\n\xc3\xa9t\xc3\xa9\n"


def weird_check(res):
    errs = []
    if "stdout_base64" not in res:
        errs.append("invalid UTF-8 stdout without stdout_base64")
    if out_bytes(res, "stderr") != WEIRD_ERR or res["stderr"] != WEIRD_ERR.decode():
        errs.append("stderr %r, want %r" % (res["stderr"][:60], WEIRD_ERR))
    if not res["stdout"].startswith("A\ufffd"):
        errs.append("stdout text does not start with A + U+FFFD: %r" % res["stdout"][:10])
    return errs


LITERAL_ARGS = ["$(id)", "`id`", "a;b", "x\ny", "it's", '"q"', "*", "~", "$HOME", "", "  sp  ",
                "\\", "|&<>", "--", "-v", "ünï", "%s%n"]


# The runners whose cases the keeper pass runs again through its keeper.
KEEP_PASS_RUNNERS = (None, run_interrupted, run_box_symlinks, run_box_tree)


def build_cases(listeners):
    Case.listeners = listeners
    canary_cell = [CANARY, os.path.join(BUILD, "canary")]
    secrets = ["/etc/shadow", "/etc/gshadow", "/root", "/root/.bashrc", "/home", "/work/main/Makefile",
               "/work/shared/DESIGN.md", "/work", "/var/lib/runcell", "/run/runcell",
               "/var/local/lib/isolate", "/sys/fs/cgroup", "/var/run/docker.sock",
               "/proc/1/root/etc/shadow", "/proc/1/environ", "/etc/ssh/ssh_host_rsa_key",
               "/root/.ssh", "/var/log"] + canary_cell
    L = []

    def add(*a, **kw):
        L.append(Case(*a, **kw))

    T = expect
    lim = ("time_limit", "wall_time_limit")
    # -- process and thread bombs
    add("fork_bomb", t("fork_bomb"), ["--cpu-time=1", "--wall-time=3"], T(lim), "bombs", elapsed=8)
    add("fork_bomb_py", t("fork_bomb.py"), ["--cpu-time=1", "--wall-time=3"], T(lim), "bombs", elapsed=8)
    add("fork_bomb_sh", t("fork_bomb.sh"), ["--cpu-time=1", "--wall-time=4"],
        T(("ok", "runtime_error") + lim), "bombs", elapsed=9)
    add("fork_bomb_memory_only", t("fork_bomb"), ["--memory=64", "--processes=500", "--cpu-time=1",
        "--wall-time=3"], T(lim + ("memory_limit",)), "bombs", elapsed=8, parallel=False)
    add("fork_exact_8", t("fork_exact"), ["--processes=8"], T("ok", code=0, out="forked 7\n"), "bombs")
    add("fork_exact_2", t("fork_exact"), ["--processes=2"], T("ok", code=0, out="forked 1\n"), "bombs")
    # A shell that cannot fork says only "Cannot fork": the message says the
    # process limit was reached (a reused v1 group counts from its run's start).
    add("process_limit_said", ["/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait"],
        ["--processes=4"], T("runtime_error", code=2, more=message_has(
            "; the process limit of 4 was reached (1 process or thread creation refused)")), "bombs")
    add("process_limit_said_twice_warm", [], run=run_process_limit_twice, group="bombs")
    add("thread_bomb", t("thread_bomb"), [], T("runtime_error", code=3, wall=(0, 2000),
        more=stdout_num("threads", 40, 63)), "bombs")
    add("zombies", t("zombies", "1000"), ["--processes=1100", "--cpu-time=10"], T("ok", code=0, out="zombies 1000\n"), "bombs")
    add("zombies_x15_warm", [], run=run_zombies_repeat, group="bombs")
    add("interrupted_by_signal", [], run=run_interrupted, group="bombs")
    add("interrupted_during_build", [], run=run_interrupted_during_build, group="bombs",
        parallel=False)
    add("keeper_cli", [], run=run_keeper_cli, group="keeper", parallel=False)
    add("keeper_stopped_mid_run", [], run=run_keeper_stopped, group="keeper", parallel=False)
    add("keeper_peer_check", [], run=run_keeper_peer_check, group="keeper", parallel=False)
    # -- memory
    add("mem_calibrate_100mb", t("mem_touch", "100"), CPU_ROOM, T("ok", code=0, mem=tol(100 * MB, 10)),
        "memory")
    add("mem_over_limit", t("mem_touch", "128"), ["--memory=64"],
        T("memory_limit", sig={9, None}), "memory")
    add("mem_untouched_mmap", t("mmap_untouched"), ["--memory=64"], T("ok", code=0, mem=(9 * MB, 30 * MB)),
        "memory")
    # 256 MB of page faults and reclaim against a 64 MB limit: seconds of CPU
    # under emulation would make it time_limit, which outranks memory_limit.
    add("mem_split_8x32", t("mem_split", "8", "32"),
        ["--memory=64", "--cpu-time=%g" % (2 * SLOWDOWN), "--wall-time=%g" % (5 * SLOWDOWN)],
        T("memory_limit"), "memory")
    add("mem_after_left_files_warm", [], run=run_mem_after_left_files, group="memory")
    add("sockets_left_warm", [], run=run_sockets_left, group="network")
    add("fs_box_times_reset_warm", [], run=run_box_times_reset, group="symlinks")
    add("fs_inode_flags_reset_warm", [], run=run_inode_flags_reset, group="symlinks")
    add("fd_park_warm", [], run=run_fd_park, group="symlinks")
    add("stdin_fresh_per_run", [], run=run_stdin_fresh_per_run, group="argv")
    add("mem_small_runs_warm", [], run=run_small_mem_warm, group="memory")
    # a caller at -1000 made its programs unkillable by the OOM killer
    # (an OOM then ended as wall_time_limit); programs go first
    add("mem_oom_score_adj", ["/bin/cat", "/proc/self/oom_score_adj"], [],
        T("ok", code=0, out="1000\n"), "memory")
    add("mem_cow_50mb", t("cow", "50"), CPU_ROOM, T("ok", code=0, mem=(45 * MB, 66 * MB)), "memory")
    add("mem_recursion", t("recursion"), [], T("signaled", sig=11), "memory")
    # Runtimes that reserve far more address space than they use: they
    # run under the default limit, and a heap allowed past the cell's limit
    # ends as memory_limit, not as a false failure at start.
    jvm = ["/usr/bin/java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", "/t"]
    jvm_opts = ["--bind=/etc/java-17-openjdk", "--processes=128"]
    add("mem_jvm_default_limit", jvm + ["Alloc", "64"], jvm_opts,
        T("ok", code=0, out="allocated 64 MB\n", mem=(64 * MB, 256 * MB)), "memory",
        skip=lambda: None if os.path.exists(os.path.join(BIN, "Alloc.class")) else "no javac on this host")
    add("mem_jvm_heap_past_limit", jvm + ["-Xmx1g", "Alloc", "600"], jvm_opts + ["--memory=256"],
        T("memory_limit"), "memory",
        skip=lambda: None if os.path.exists(os.path.join(BIN, "Alloc.class")) else "no javac on this host")
    add("mem_go_default_limit", t("hello_go"), CPU_ROOM,
        T("ok", code=0, out="go ok 50\n", mem=(50 * MB, 120 * MB)),
        "memory", skip=lambda: None if os.path.exists(os.path.join(BIN, "hello_go")) else "no go on this host")
    add("mem_dev_shm", t("shm_fill", "/dev/shm", "256"), ["--memory=64", "--disk=512"],
        T(("memory_limit", "ok"), more=shm_mem_check), "memory")
    add("mem_dev_shm_disk", t("shm_fill", "/dev/shm", "200"), CPU_ROOM,
        T("ok", code=0, out_has=["ENOSPC"], more=shm_disk_check), "memory")
    add("mem_memfd_py", t("memfd.py", "128"), ["--memory=64", "--file-size=1024"] + CPU_ROOM,
        T("memory_limit"), "memory")
    # -- CPU and wall
    add("cpu_calibrate_500ms", t("cpu_burn", "500", "300"), [],
        T("ok", code=0, cpu=tol(500, 10), wall=(790, 2500)), "cpu", parallel=False)
    # Under emulation (the v2 guest) a program's start costs a measurable
    # share of its CPU time: there the sum is checked against what the
    # program measured of itself, which includes it.
    add("cpu_threads_4x500ms", t("threads_spin", "4", "0.5"), ["--cpu-time=5"],
        T("ok", code=0, cpu=tol(2000, 10) if SLOWDOWN == 1 else (1800, int(2000 * SLOWDOWN)),
          wall=(900, 4000 if SLOWDOWN == 1 else int(4000 * SLOWDOWN)),
          more=cpu_as_reported(10)), "cpu", parallel=False)
    add("cpu_children_unwaited", t("cpu_children", "2", "300"), [],
        T("ok", code=0, cpu=tol(600, 10)), "cpu", parallel=False)
    # init is held on one CPU while a cell is built; the program must get
    # every CPU the caller has.
    add("cpu_every_cpu_allowed", ["/usr/bin/python3", "-c",
        "import os; print(sorted(os.sched_getaffinity(0)))"], [],
        T("ok", code=0, out="%s\n" % sorted(os.sched_getaffinity(0))), "cpu")
    add("cpu_spin", t("spin"), ["--cpu-time=1"], T("time_limit", cpu=(950, 1500), wall=(900, 3000)),
        "cpu", parallel=False)
    add("cpu_threads_8_forever", t("threads_spin", "8", "0"), ["--cpu-time=1"],
        T("time_limit", cpu=(950, 1600), wall=(0, 1500)), "cpu", parallel=False)
    add("cpu_ignore_signals", t("sig_ignore"), ["--cpu-time=1"], T("time_limit", wall=(0, 3000)), "cpu",
        parallel=False)
    # init ends a run at the wall limit counted from the program's start,
    # the same clock as wall_ms: a wall_time_limit never reports less.
    add("wall_sleep", t("sleep_forever"), ["--wall-time=1"],
        T("wall_time_limit", cpu=(0, 50), wall=(1000, 1600)), "cpu", parallel=False)
    add("wall_sigstop", t("sigstop"), ["--wall-time=1"], T("wall_time_limit", wall=(1000, 1600)), "cpu",
        elapsed=5)
    add("wall_stopped_child", t("stopped_child"), ["--wall-time=10"], T("ok", code=0), "cpu", elapsed=4)
    # -- output
    add("out_flood_stdout", t("flood_out"), ["--output=64"],
        T("output_limit", more=capped("stdout", 65536, b"A")), "output", elapsed=5)
    add("out_flood_default_cap", t("flood_out"), [],
        T("output_limit", more=capped("stdout", 4096 * 1024, b"A")), "output", elapsed=6)
    add("out_flood_kill_race_x75", [], run=run_flood_kill_race, group="output", parallel=False)
    add("out_flood_both", t("flood_both"), ["--output=256"],
        T("output_limit", wall=(0, 3000), more=flood_both_check), "output", elapsed=6)
    add("out_flood_sh", t("flood.sh"), ["--output=64"], T("output_limit", more=one_capped(65536)),
        "output", elapsed=6)
    add("out_file_size", t("fsize_bomb"), ["--file-size=8"], T("output_limit", sig={25, None}), "output")
    add("out_exact_cap", t("out_exact", "65536"), ["--output=64"],
        T("ok", code=0, out="b" * 65536, more=lambda r: ["stdout_truncated true at exactly the cap"]
          if r["stdout_truncated"] else []), "output")
    add("out_cap_plus_one", t("out_exact", "65537"), ["--output=64"],
        T("output_limit", more=capped("stdout", 65536, b"b")), "output")
    add("out_cap_plus_one_stderr", t("out_exact", "65537", "err"), ["--output=64"],
        T("output_limit", more=capped("stderr", 65536, b"b")), "output")
    add("out_fallocate_100g", t("fallocate"), [], clean(), "output")
    add("out_disk_fill", t("disk_fill"), [], T("ok", code=0, more=stdout_num("ENOSPC", 48, 64)), "output")
    add("out_disk_fill_16", t("disk_fill"), ["--disk=16"], T("ok", code=0, more=stdout_num("ENOSPC", 8, 16)),
        "output")
    add("out_inode_bomb", t("inode_bomb"), ["--cpu-time=5", "--wall-time=10"],
        T(("ok", "memory_limit") + lim, more=lambda r: [] if r["status"] != "ok" or any(
            e in r["stdout"] for e in ("No space", "Cannot allocate", "quota")) else
            ["ok without an inode error: %r" % r["stdout"]]), "output", elapsed=15)
    add("out_closed_streams", t("close_std"), [], T("ok", code=0, out="",
        more=lambda r: [] if r["stderr"] == "" else ["stderr %r" % r["stderr"]]), "output")
    add("out_invalid_utf8", t("weird_out"), [], T("ok", code=0, out=WEIRD_OUT, more=weird_check), "output")
    add("stdin_100mb_unread", t("stdin_ignore"), ["--stdin=" + STDIN100], T("ok", code=0, out="bye\n"),
        "output", elapsed=4)
    add("stdin_100mb_count", t("stdin_count"), ["--stdin=" + STDIN100],
        T("ok", code=0, out="%d\n" % (100 << 20)), "output", elapsed=8)
    # -- escaping the kill
    add("kill_daemon", t("daemon"), ["--wall-time=10"], T("ok", code=0, out="parent done\n", wall=(0, 2000)),
        "escape", elapsed=4)
    add("kill_daemon_py", t("daemon.py"), ["--wall-time=10"], T("ok", code=0, out="parent done\n"), "escape",
        elapsed=4)
    add("kill_popen_sleep_py", t("popen_sleep.py"), ["--wall-time=10"], T("ok", code=0, out="started\n"),
        "escape", elapsed=4)
    add("kill_bg_sleep_sh", t("bg_sleep.sh"), ["--wall-time=10"], T("ok", code=0, out="started\n"), "escape",
        elapsed=4)
    add("kill_grandchild_stdout", t("grandchild_stdout"), ["--wall-time=10"],
        T("ok", code=0, out_has=["main done"]), "escape", elapsed=4)
    add("kill_minus_one", t("kill_all"), [], clean(), "escape", run=run_kill_all, parallel=False)
    # -- secrets and other cells
    add("secret_paths", t("secrets", *secrets), [], clean(), "secrets")
    add("env_exact", t("env_dump"), [], T("ok", code=0, more=env_exact()), "secrets", mark=False)
    add("env_extra", t("env_dump"), ["--env=FOO=bar", "--env=WEIRD=a b;$(x)"],
        T("ok", code=0, more=env_exact(["FOO=bar", "WEIRD=a b;$(x)"])), "secrets", mark=False)
    add("env_py", t("env_dump.py"), [], T("ok", code=0, more=env_loose), "secrets")
    add("env_sh", t("env_dump.sh"), [], T("ok", code=0, more=env_loose), "secrets")
    add("proc_scan", t("proc_scan", "/work", "/etc/shadow", CANARY), ["--env=FIRST_IN_CELL=1"], clean(),
        "secrets")
    # (the in-cell check leaves out the suite's own /t bind, whose source is the checkout)
    add("proc_mountinfo", t("mountinfo", "/root", "/home", "/work", "shadow",
                            os.path.basename(CANARY), "docker"), [],
        clean(), "secrets")
    add("proc_kernel_info", t("kernel_info"), [], clean(), "secrets")
    add("fd_scan", t("fd_scan"), [], clean(), "secrets")
    add("sysv_ipc_left", t("sysv_ipc"), [], T("ok", code=0), "secrets")
    add("two_cells_isolated", [], run=run_two_cells, group="secrets", parallel=False)
    # -- symlinks and files vs runcell
    add("fs_symlinks_left", t("symlink_leave"), [], clean(out_has=["planted"]), "symlinks")
    add("fs_hardlink", t("hardlink"), [], clean(), "symlinks")
    # init's umask 0 leaked to the program: its files in a :rw bind were
    # writable by every uid on the host.
    add("fs_umask_022", ["/bin/sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"], [],
        T("ok", code=0, out="0022\n644\n"), "symlinks")
    add("fs_fifo_socket_left", t("fifo_leave"), [], T("ok", code=0, out="planted\n"), "symlinks", elapsed=4)
    add("fs_chmod000", t("chmod000"), [], T("ok", code=0, out="locked\n"), "symlinks")
    add("fs_readonly", t("ro_write"), [], clean(), "symlinks")
    add("fs_proc_escape", t("proc_escape"), [], clean(), "symlinks")
    add("fs_box_symlinks", [], run=run_box_symlinks, group="symlinks")
    add("fs_box_tree", [], run=run_box_tree, group="symlinks")
    add("fs_box_over_disk", [], run=run_box_over_disk, group="symlinks")
    add("processes_above_hard_limit", [], run=run_processes_above_hard_limit, group="bombs")
    add("limits_above_hard_rlimit", [], run=run_limits_above_hard_rlimit, group="argv")
    add("default_above_hard_rlimit", [], run=run_default_above_hard_rlimit, group="argv")
    add("cpu_fair_between_cells", [], run=run_cpu_fair_between_cells, group="cpu", parallel=False)
    add("cpu_hierarchy_read_only", [], run=run_cpu_hierarchy_read_only, group="cpu",
        skip=lambda: None if os.path.isfile("/sys/fs/cgroup/cpu/cpu.shares") else "no v1 cpu hierarchy")
    # -- network
    add("net_tcp", t("net_tcp", str(listeners.tcp_port)), [], clean(), "network", elapsed=8)
    add("net_udp", t("net_udp", str(listeners.udp_port)), [], clean(), "network", elapsed=8)
    add("net_raw_packet_vsock", t("net_raw"), [], clean(), "network")
    add("net_unix_host", t("net_unix", HOST_UNIX, HOST_ABSTRACT), [], clean(), "network")
    add("net_listen", [], run=run_net_listen, group="network", parallel=False)
    add("net_tcp_buffers_bounded", t("tcp_buffers", "125"), ["--memory=16", "--cpu-time=8"],
        T(("ok", "memory_limit"), more=tcp_queued_check(128)), "network")
    add("net_traffic_left", t("net_traffic"), [], clean(out_has=["good lo bytes after"]), "network")
    add("net_fresh_per_cell", [], run=run_net_fresh_per_cell, group="network", parallel=False)
    add("net_killed_holder", [], run=run_net_killed_holder, group="network", parallel=False)
    add("netns_dir_first_use", [], run=run_netns_dir_first_use, group="network", warm=False,
        parallel=False)
    add("net_on_reaches_host", t("net_tcp", str(listeners.net_port), "expect-connect"), ["--net"], clean(),
        "network", warm=False, parallel=False, after=no_net_hits)
    # -- privilege and kernel surface
    add("priv_setuid", t("privs"), [], clean(), "privilege")
    add("priv_suid_binary", t("euid-suid"), [], T("ok", code=0,
        more=lambda r: [] if r["stdout"].startswith("uid 6") and " euid 6" in r["stdout"]
        else ["setuid binary: %r" % r["stdout"]]), "privilege")
    add("priv_exec_suid", t("exec_suid", "/t/euid-suid"), [], clean(), "privilege")
    add("priv_mount", t("mount"), [], clean(), "privilege")
    add("priv_unshare_clone", t("unshare"), [], clean(), "privilege")
    add("priv_ptrace", t("ptrace"), [], clean(), "privilege")
    add("priv_reboot_modules", t("reboot"), [], clean(), "privilege")
    add("priv_keyctl", t("keyctl", "store"), [], clean(), "privilege")
    add("priv_bpf_perf_uffd_uring", t("kernel_surface"), [], clean(), "privilege")
    add("host_shared_acl_aio_inotify", t("host_shared"), [], clean(), "privilege")
    add("host_page_cache_kept", [], run=run_fadvise_evict, group="privilege", parallel=False)
    add("priv_tiocsti", t("tiocsti"), [], clean(), "privilege")
    add("priv_int80", t("int80"), [], T("signaled", sig=31, out=""), "privilege", skip=int80_skip)
    add("priv_x32", t("x32"), [], T("signaled", sig=31, out=""), "privilege")
    # -- argv and env
    add("argv_literal", t("argv_dump", *LITERAL_ARGS), [], T("ok", code=0, more=argv_check(LITERAL_ARGS)), "argv")
    add("argv_literal_sh", t("argv_dump.sh", *LITERAL_ARGS), [], T("ok", code=0, out="%d\n" % len(
        LITERAL_ARGS) + "".join("[%s]\n" % a for a in LITERAL_ARGS)), "argv")
    big = ["y" * 999 + str(i % 10) for i in range(1500)]
    add("argv_1500k", t("argv_dump", *big), [], T("ok", code=0, more=argv_check(big)), "argv")
    add("argv_huge_e2big", [], run=run_huge_argv, group="argv")
    add("env_10000_vars", [], run=run_many_env, group="argv", mark=False)
    add("exit_255", ["/bin/sh", "-c", "exit 255"], [], T("runtime_error", code=255), "argv")
    add("signal_self_kill", ["/bin/sh", "-c", "kill -9 $$"], [], T("signaled", sig=9), "argv")
    add("signal_abort", ["/usr/bin/python3", "-c", "import os; os.abort()"], [], T("signaled", sig=6), "argv")
    # A SIGXCPU the program sends itself is not the CPU limit (it was
    # time_limit, "CPU time limit of 2000 ms exceeded", at 0 ms).
    add("signal_self_xcpu", ["/bin/sh", "-c", "kill -XCPU $$"], [], T("signaled", sig=24), "argv")
    add("stdin_default_empty", t("stdin_count"), [], T("ok", code=0, out="0\n"), "argv")
    add("exec_missing", ["/t/does-not-exist"], [], T("runtime_error", code=127), "argv")
    add("exec_missing_path", ["no-such-program-anywhere"], [], T("runtime_error", code=127), "argv")
    add("exec_not_executable", ["/etc/hosts"], [], T("runtime_error"), "argv")
    add("bad_options", [], run=run_bad_options, group="argv")
    add("build_failure_reported", [], run=run_build_failure, group="argv")
    add("plain_passthrough", [], run=run_passthrough, group="argv")
    add("doc_examples", [], run=run_doc_examples, group="argv")
    add("fd_exhaust_16", t("fd_exhaust"), ["--open-files=16"], T("ok", code=0, out="opened 13 EMFILE\n"),
        "secrets")
    add("selftest_probe_fails", [], run=run_probe_selftest, group="selftest")
    add("selftest_host_check_fails", [], run=run_host_selftest, group="selftest", parallel=False)
    add("cgroup_none_said", [], run=run_cgroup_none, group="argv")
    return L


# ---------------------------------------------------------------- build

def build():
    os.makedirs(BIN, exist_ok=True)
    os.makedirs(SHARED, exist_ok=True)
    os.chmod(SHARED, 0o777)
    for f in os.listdir(SHARED):
        os.unlink(os.path.join(SHARED, f))
    errs = []
    for f in sorted(os.listdir(PROGS)):
        src = os.path.join(PROGS, f)
        if f.endswith(".c"):
            dst = os.path.join(BIN, f[:-2])
            if os.path.exists(dst) and os.path.getmtime(dst) >= max(
                    os.path.getmtime(src), os.path.getmtime(os.path.join(PROGS, "hostile.h"))):
                continue
            p = subprocess.run(["gcc", "-O1", "-Wall", "-Wextra", "-o", dst, src, "-lpthread"],
                               capture_output=True, text=True)
            if p.returncode != 0:
                errs.append("%s: %s" % (f, p.stderr.strip()[:300]))
        elif f.endswith((".py", ".sh")):
            shutil.copy(src, os.path.join(BIN, f))
            os.chmod(os.path.join(BIN, f), 0o755)
        elif f.endswith(".java") and shutil.which("javac"):
            dst = os.path.join(BIN, f[:-5] + ".class")
            if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
                p = subprocess.run(["javac", "-d", BIN, src], capture_output=True, text=True)
                if p.returncode != 0:
                    errs.append("%s: %s" % (f, p.stderr.strip()[:300]))
        elif f.endswith(".go") and shutil.which("go"):
            dst = os.path.join(BIN, f[:-3])
            if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
                env = dict(os.environ, GOCACHE=os.path.join(BUILD, "gocache"), HOME=BUILD,
                           GOFLAGS="-mod=mod", GO111MODULE="off")
                p = subprocess.run(["go", "build", "-o", dst, src], capture_output=True, text=True,
                                   env=env)
                if p.returncode != 0:
                    errs.append("%s: %s" % (f, p.stderr.strip()[:300]))
    if os.path.exists(os.path.join(BIN, "euid")):
        shutil.copy(os.path.join(BIN, "euid"), os.path.join(BIN, "euid-suid"))
        os.chown(os.path.join(BIN, "euid-suid"), 0, 0)
        os.chmod(os.path.join(BIN, "euid-suid"), 0o4755)
    os.chmod(BIN, 0o755)
    if not os.path.exists(STDIN100) or os.path.getsize(STDIN100) != 100 << 20:
        with open(STDIN100, "wb") as f:
            f.truncate(100 << 20)
    with open(CANARY, "w") as f:
        f.write("canary %s\n" % SECRET)
    os.chmod(CANARY, 0o600)
    with open(os.path.join(BUILD, "canary"), "w") as f:
        f.write("canary\n")
    return errs


# ---------------------------------------------------------------- main

def preflight():
    """The hostile programs delete and overwrite system files when they are
    not contained: before any of them runs, check that a cell really runs a
    program as an unprivileged uid in its own /box."""
    case = Case("preflight", t("euid"), mark=False)
    cmd = runcell_cmd(case, ["/bin/sh", "-c", "/t/euid; pwd; test -e /work && echo host-fs-visible"], [])
    rc, out, err, _ = invoke(cmd, timeout=30)
    res = parse(rc, out, err)
    if isinstance(res, str):
        return res
    r = res[0]
    lines = r.get("stdout", "").split()
    try:
        uid = int(lines[1])
    except (IndexError, ValueError):
        return "unexpected output %r (status %s: %s)" % (r.get("stdout"), r.get("status"), r.get("message"))
    if not UID_LO <= uid <= UID_HI or "host-fs-visible" in r["stdout"] or "/box" not in r["stdout"]:
        return "the cell is not isolated: %r" % r["stdout"]
    return None


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description="hostile test suite for runcell")
    ap.add_argument("-k", dest="pattern", default=None,
                    help="run cases whose name contains this; =NAME for one case; "
                         "several comma-separated")
    ap.add_argument("-v", dest="verbose", action="store_true", help="show commands and results")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-cell pass")
    ap.add_argument("--no-keep", action="store_true", help="skip the keeper pass")
    ap.add_argument("--jobs", type=int, default=2, help="cases run at once where safe (default 2)")
    args = ap.parse_args()
    VERBOSE = args.verbose
    os.environ.pop(SECRET_NAME, None)

    passed = failed = 0
    errs = build()
    if errs:
        for e in errs:
            print("FAIL build: " + e)
        print("0 passed, %d failed" % len(errs))
        return 1
    if not os.access(RUNCELL, os.X_OK):
        print("FAIL setup: no runcell binary at %s (set RUNCELL)" % RUNCELL)
        print("0 passed, 1 failed")
        return 1

    why = preflight()
    if why:
        print("FAIL preflight: %s (hostile programs not run: they must never run outside a cell)" % why)
        print("0 passed, 1 failed")
        return 1
    global HOST
    listeners = Listeners()
    host = HOST = Host(listeners)
    cases = build_cases(listeners)
    plan = [("", c) for c in cases]
    if not args.no_warm:
        plan += [("warm:", c) for c in cases if c.warm]
    if not args.no_keep:
        plan += [("keep:", c) for c in cases if c.run in KEEP_PASS_RUNNERS]
    if args.pattern:
        pats = [x for x in args.pattern.split(",") if x]

        def chosen(name):
            # "=name" selects that case only; "name" every case containing it.
            return any(name == x[1:] if x.startswith("=") else x in name for x in pats)
        plan = [(p, c) for p, c in plan if chosen(c.name)]

    lock = threading.Lock()

    def one(prefix, case):
        name = prefix + case.name
        reason = case.skip() if case.skip else None
        if reason:
            return name, None, reason, []
        try:
            if prefix == "warm:":
                errs, cmd = run_warm(case)
            elif case.run:
                errs, cmd = case.run(case)
            else:
                errs, cmd = run_plain(case)
            if case.after:
                errs += case.after(case)
        except Exception as e:  # a crash of the driver is a failure of the case
            errs, cmd = ["driver error: %r" % e], []
        return name, errs, None, cmd

    def report(name, errs, reason, cmd):
        nonlocal passed, failed
        with lock:
            if reason:
                print("skip %s: %s" % (name, reason), flush=True)
            elif errs:
                failed += 1
                print("FAIL %s: %s" % (name, " | ".join(errs)), flush=True)
                if VERBOSE and cmd:
                    print("  command: " + " ".join(cmd), flush=True)
            else:
                passed += 1
                print("ok " + name, flush=True)

    global KEEPER
    i = 0
    t0 = time.monotonic()
    while i < len(plan):
        if plan[i][0] == "keep:" and not KEEPER:
            KEEPER = Keeper()
            if not KEEPER.settle(timeout=15):
                print("FAIL keep: runcell keep did not start: %s"
                      % KEEPER.stop()[1].strip()[-300:], flush=True)
                failed += 1
                KEEPER = None
                plan = [(p, c) for p, c in plan if p != "keep:"]
                continue
        wave = [plan[i]]
        i += 1
        if plan[i - 1][1].parallel:
            while i < len(plan) and len(wave) < args.jobs and plan[i][1].parallel and \
                    plan[i][0] == wave[0][0]:  # a wave never spans two passes
                wave.append(plan[i])
                i += 1
        wave_start = time.monotonic()
        before_mounts = mounts()
        before_uid = {pid for pid, info in proc_table().items() if UID_LO <= info["uid"] <= UID_HI}
        results = [None] * len(wave)

        def worker(k):
            results[k] = one(*wave[k])
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(wave))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        names = {c.name for _, c in wave}
        host_errs = host.check_wave(names, before_mounts, before_uid, wave_start)
        for k, (name, errs, reason, cmd) in enumerate(results):
            if errs is not None and host_errs:
                others = [n for n, _, _, _ in results if n != name]
                errs = errs + ["host: " + e + (" (in parallel with %s)" % ", ".join(others) if others else "")
                               for e in host_errs]
            report(name, errs, reason, cmd)
    if KEEPER:
        rc, text = KEEPER.stop()
        KEEPER = None
        served = len(re.findall(r"keep: run \d+: ", text))
        want = len([1 for p, c in plan if p == "keep:" and c.run is None and
                    not any(o.startswith(SHAPE_OPTS) for o in c.opts)])
        if rc != 0 or served < want:
            failed += 1
            print("FAIL keep: runcell keep exited with %r after %d runs (want 0 and at least %d): %s"
                  % (rc, served, want, text.strip()[-300:]), flush=True)
        else:
            passed += 1
            print("ok keep: the keeper ran %d runs and stopped cleanly" % served, flush=True)
    log("total %.1f s" % (time.monotonic() - t0))
    listeners.close()
    try:
        os.unlink(CANARY)
    except OSError:
        pass
    shutil.rmtree(SHARED, ignore_errors=True)
    shutil.rmtree(os.path.join(BUILD, "boxsrc-%d" % os.getpid()), ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
