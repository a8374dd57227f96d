#!/usr/bin/python3
"""API test suite: a real `runcell serve` against docs/API.md.

Each group starts its own server (`runcell serve --port 0 --data TMPDIR ...`)
on a fresh data directory, reads its URL from the "listening" log line, runs
its cases and stops it with SIGTERM (exit 0 expected: "GROUP/sigterm").

  api/*          every endpoint: POST (201, ?wait=true), GET polling, batch,
                 ?ids=, the admin listing, DELETE (204, 404, 409), languages,
                 /healthz, /readyz, /metrics, static files (--web)
  verdict/*      every verdict, multi-test submissions, files (base64), args,
                 stdin, metadata, checkers, non-UTF-8 output
  callback/*     delivery, retries, giving up (callback_attempts = 3)
  durability/*   kill -9 mid-queue and restart: none lost, none twice; the
                 data directory lock
  shutdown/*     SIGTERM with a job running and others queued
  backpressure/* --max-queue: 503 + Retry-After, every 201 completes
  badinput/*     bad requests: status code and "field"; nothing stored
  auth/*         api_keys, admin_key, --listen 0.0.0.0 (refused without keys),
                 --allow-anonymous, --listen ::1
  concurrency/*  200 submissions from 20 client threads
  autoscale/*    the pool grows to --max-workers under a queue and shrinks back
                 to --min-workers (worker_idle_ms), also from and to zero
  waiters/*      1000 clients held by ?wait=true; the loop stays responsive
  docs/*         every '$ curl' example of docs/API.md and README.md, run as
                 shown against a fresh server and checked against the answer
                 shown (status line, keys, verdict/stdout/error/field values)

Usage: run.py [-k SUBSTRING]... [-v] [--keep]
-v shows every request and, on a failure, the tail of the server logs (and
keeps them); --keep keeps the temporary directory (data and logs) anyway.
Prints "ok NAME", "FAIL NAME: why" or "skip NAME: why" (not counted) and ends
with "N passed, N failed";
exit status 1 on any failure, 77 when the host cannot run it (not root).
Runs $RUNCELL, default build/runcell of this repository; timeouts are scaled
up for an ASan build (or by $RUNCELL_TEST_SCALE).
"""
import argparse
import base64
import contextlib
import http.client
import http.server
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNCELL = os.environ.get("RUNCELL", os.path.join(ROOT, "build", "runcell"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from result_shape import VERDICTS, result_problem  # noqa: E402
import doc_examples  # noqa: E402

SUB_FIELDS = ("id", "status", "language", "created_at", "started_at", "finished_at",
              "attempts", "metadata", "verdict", "result")
LIST_FIELDS = ("id", "status", "language", "created_at", "verdict")
ID_RE = re.compile(r"^[0-9a-f]{32}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
METRICS = [("runcell_queue_depth", "gauge"), ("runcell_jobs_running", "gauge"),
           ("runcell_slots_busy", "gauge"), ("runcell_slots_total", "gauge"),
           ("runcell_submissions_total", "counter"),
           ("runcell_submissions_accepted_total", "counter"),
           ("runcell_store_lock_waits_total", "counter"),
           ("runcell_http_requests_total", "counter"),
           ("runcell_http_request_duration_seconds", "histogram"),
           ("runcell_job_duration_seconds", "histogram"),
           ("runcell_callbacks_total", "counter")]

VERBOSE = False
KEEP = False
TMP = None
SCALE = 1.0
ALL_SERVERS = []          # every Server ever started, for the final cleanup
ALL_SERVERS_LOCK = threading.Lock()


class Fail(Exception):
    pass


class Skip(Exception):
    """What this host cannot provide: "skip NAME: why", neither passed nor
    failed."""


def vlog(msg):
    if VERBOSE:
        sys.stderr.write("# " + msg.rstrip("\n") + "\n")
        sys.stderr.flush()


def clip(s, n=300):
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[:n] + "..."


def is_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def T(secs):
    """A timeout, scaled for slow (sanitizer) builds."""
    return secs * SCALE


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def write(path, text, mode=0o644):
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    os.chmod(path, mode)


def config_text(**kv):
    lines = ["# written by tests/api/run.py"]
    for k, v in kv.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        lines.append("%s = %s" % (k, v))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HTTP client

class Resp:
    def __init__(self, method, path, status, headers, body, secs):
        self.method, self.path, self.status = method, path, status
        self.headers = headers  # list of (name, value)
        self.body = body
        self.secs = secs
        self.text = body.decode("utf-8", "replace")
        self._json = None
        self._json_err = None
        try:
            self._json = json.loads(self.text) if body else None
        except ValueError as e:
            self._json_err = str(e)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def json(self):
        if self._json_err is not None or self._json is None:
            raise Fail("%s %s -> %d: body is not JSON (%s): %r" %
                       (self.method, self.path, self.status, self._json_err or "empty",
                        clip(self.text)))
        return self._json

    def what(self):
        return "%s %s -> %d %s" % (self.method, self.path, self.status, clip(self.text, 400))


class Client:
    """One keep-alive connection (reconnects when the server closed it)."""

    def __init__(self, host, port, headers=None):
        self.host, self.port = host, port
        self.conn = None
        self.default_headers = dict(headers or {})

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, timeout=None, raw_body=False):
        h = dict(self.default_headers)
        data = None
        if body is not None:
            if raw_body:
                data = body if isinstance(body, bytes) else body.encode()
            else:
                data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if headers:
            h.update(headers)
        h = {k: v for k, v in h.items() if v is not None}
        timeout = timeout if timeout is not None else T(30)
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            self.conn.timeout = timeout
            if self.conn.sock:
                self.conn.sock.settimeout(timeout)
            t0 = time.monotonic()
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                self.close()
                if fresh or attempt == 2:
                    raise Fail("%s %s: connection failed: %s" % (method, path, e))
                continue  # a stale keep-alive connection: once more on a new one
            except socket.timeout:
                self.close()
                raise Fail("%s %s: no answer in %.0f s" % (method, path, timeout))
            except OSError as e:
                self.close()
                raise Fail("%s %s: %s" % (method, path, e))
            secs = time.monotonic() - t0
            if r.will_close:
                self.close()
            resp = Resp(method, path, r.status, r.getheaders(), payload, secs)
            vlog("%s %s -> %d (%.3fs) %s" % (method, path, r.status, secs, clip(resp.text, 200)))
            return resp


def raw_request(host, port, data, timeout=None, read_all=True):
    """Sends raw bytes, returns (status or None, headers text, body bytes)."""
    timeout = timeout or T(20)
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) before reading everything
        buf = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
                head, sep, body = buf.partition(b"\r\n\r\n")
                if sep and not read_all:
                    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                    if m and len(body) >= int(m.group(1)):
                        break
        except ConnectionResetError:
            pass
        except socket.timeout:
            if not buf:
                raise Fail("no answer in %.0f s to raw request %r" % (timeout, clip(data, 80)))
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return (int(m.group(1)) if m else None), head.decode("latin-1"), body


def raw_post(srv, path, data, ctype="application/json"):
    """A POST through a raw socket (the server may answer before reading it all)."""
    srv.ensure()
    t0 = time.monotonic()
    status, head, body = raw_request(
        srv.host, srv.port, ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                             "Content-Length: %d\r\nConnection: close\r\n\r\n" %
                             (path, ctype, len(data))).encode() + data)
    headers = [tuple(x.strip() for x in l.split(":", 1)) for l in head.split("\r\n")[1:]
               if ":" in l]
    return Resp("POST", path, status or 0, headers, body, time.monotonic() - t0)


def wait_request(submission):
    """The bytes of a POST /v1/submissions?wait=true carrying submission."""
    body = json.dumps(submission).encode()
    return (b"POST /v1/submissions?wait=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body


def open_waiters(srv, n, submission, timeout):
    """n connections, each of which has sent a ?wait=true POST of submission."""
    req = wait_request(submission)
    socks = []
    for _ in range(n):
        c = socket.create_connection((srv.host, srv.port), timeout=timeout)
        c.sendall(req)
        socks.append(c)
    return socks


# ---------------------------------------------------------------- the server

class Server:
    """A `runcell serve` process: start, talk, stop; its logs in files."""

    def __init__(self, name, args=(), config=None, data=None, web=None, keys=None, env=None):
        self.name = name
        self.dir = tempfile.mkdtemp(dir=TMP, prefix=name.replace("/", "_") + "-")
        self.data = data or os.path.join(self.dir, "data")
        self.args = list(args)
        self.config = None
        if config is not None:
            self.config = os.path.join(self.dir, "runcell.conf")
            write(self.config, config)
        self.web = web
        self.logs = []
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        self.url = None
        self.start_error = None
        self.clients = {}
        self.headers = dict(keys or {})
        self.env = env
        self.lock = threading.Lock()

    # -- process

    def cmd(self, extra=()):
        c = [RUNCELL, "serve", "--port", "0", "--data", self.data]
        if self.config:
            c += ["--config", self.config]
        if self.web:
            c += ["--web", self.web]
        return c + self.args + list(extra)

    def spawn(self, extra=()):
        log = os.path.join(self.dir, "server%d.log" % (len(self.logs) + 1))
        self.logs.append(log)
        f = open(log, "wb")
        cmd = self.cmd(extra)
        vlog("start %s: %s (log %s)" % (self.name, " ".join(cmd), log))
        env = None
        if self.env:
            env = dict(os.environ)
            env.update(self.env)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                             start_new_session=True, cwd=self.dir, env=env)
        f.close()
        with ALL_SERVERS_LOCK:
            ALL_SERVERS.append(p)
        return p, log

    def start(self, extra=(), timeout=None):
        """Starts the server and waits for its "listening" line."""
        if self.alive():
            raise Fail("%s: already running" % self.name)
        self.proc, log = self.spawn(extra)
        deadline = time.monotonic() + (timeout or T(20))
        while time.monotonic() < deadline:
            ev = next((e for e in read_events(log) if e.get("event") == "listening"), None)
            if ev:
                url = ev.get("url", "")
                m = re.match(r"^http://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)$", str(url))
                if not m:
                    self.kill()
                    raise Fail("%s: the listening line has no usable url: %r" % (self.name, ev))
                self.url = url
                self.port = int(m.group(2))
                self.clients = {}
                return self
            if self.proc.poll() is not None:
                raise Fail("%s: `%s` exited with status %d before listening; log: %s" %
                           (self.name, " ".join(self.cmd(extra)[1:]), self.proc.returncode,
                            clip(tail(log, 6), 800)))
            time.sleep(0.05)
        self.kill()
        raise Fail("%s: no \"listening\" log line within %.0f s; log: %s" %
                   (self.name, timeout or T(20), clip(tail(log, 6), 800)))

    def ensure(self):
        with self.lock:
            if self.start_error:
                raise Fail(self.start_error)
            if not self.alive():
                try:
                    self.start()
                except Fail as e:
                    self.start_error = "server did not start: %s" % e
                    raise

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close_clients(self):
        for c in self.clients.values():
            c.close()
        self.clients = {}

    def stop(self, timeout=None):
        """SIGTERM; Fail unless it exits 0 in time (killed -9 then)."""
        self.close_clients()
        if not self.proc or self.proc.poll() is not None:
            return
        timeout = timeout or T(30)
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail("%s: still running %.0f s after SIGTERM (killed -9)" % (self.name, timeout))
        vlog("%s: exited %d %.2f s after SIGTERM" % (self.name, rc, time.monotonic() - t0))
        if rc != 0:
            raise Fail("%s: exit status %d after SIGTERM, expected 0; log: %s" %
                       (self.name, rc, clip(tail(self.logs[-1], 5), 600)))

    def kill(self):
        self.close_clients()
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            self.proc.wait()

    def events(self, event=None):
        out = []
        for log in self.logs:
            out += [e for e in read_events(log) if event is None or e.get("event") == event]
        return out

    def tails(self, n=15):
        return "\n".join("--- %s (%s):\n%s" % (self.name, log, tail(log, n)) for log in self.logs)

    # -- HTTP

    def client(self):
        self.ensure()
        t = threading.get_ident()
        c = self.clients.get(t)
        if c is None:
            c = self.clients[t] = Client(self.host, self.port, self.headers)
        return c

    def req(self, method, path, body=None, **kw):
        return self.client().request(method, path, body, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body, **kw)

    def delete(self, path, **kw):
        return self.req("DELETE", path, **kw)

    def submit(self, sub, **kw):
        """POST /v1/submissions: Fail unless 201 {id, status: queued}; returns the id."""
        r = self.post("/v1/submissions", sub, **kw)
        if r.status != 201:
            raise Fail("%s: expected 201" % r.what())
        j = r.json
        if not isinstance(j, dict) or not ID_RE.match(str(j.get("id"))) or \
                j.get("status") != "queued":
            raise Fail("%s: expected {\"id\": 32 hex digits, \"status\": \"queued\"}" % r.what())
        return j["id"]

    def run(self, sub, timeout=None, **kw):
        """POST ?wait=true; polls on 202; returns the done submission."""
        r = self.post("/v1/submissions?wait=true", sub, timeout=timeout or T(60), **kw)
        if r.status == 202:
            return self.wait_done(r.json["id"], timeout, headers=kw.get("headers"))
        if r.status != 200:
            raise Fail("%s: expected 200 (or 202)" % r.what())
        s = r.json
        check_sub(s, r)
        return s

    def wait_done(self, sid, timeout=None, seen=None, headers=None):
        deadline = time.monotonic() + (timeout or T(60))
        last = None
        while time.monotonic() < deadline:
            r = self.get("/v1/submissions/" + sid, headers=headers)
            if r.status != 200:
                raise Fail("%s: expected 200" % r.what())
            s = r.json
            last = s.get("status") if isinstance(s, dict) else None
            if seen is not None:
                seen.append(last)
            check_sub(s, r)
            if last == "done":
                return s
            if last not in ("queued", "running"):
                raise Fail("%s: status %r is none of queued, running, done" % (r.what(), last))
            time.sleep(0.05)
        raise Fail("submission %s still %r after %.0f s" % (sid, last, timeout or T(60)))

    def wait_exit(self, secs, after):
        """The exit status once the process ends by itself within secs
        (after says what it was told); killed and a Fail past that."""
        try:
            return self.proc.wait(T(secs))
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail("still running %.0f s after %s" % (T(secs), after))

    def wait_running(self, sid, what="the job"):
        """Waits until a worker holds submission sid."""
        deadline = time.monotonic() + T(20)
        while self.get("/v1/submissions/" + sid).json["status"] != "running":
            if time.monotonic() > deadline:
                raise Fail("%s never ran" % what)
            time.sleep(0.02)

    def status_of(self, ids):
        """{id: submission or None} through GET ?ids= (in chunks of 50)."""
        out = {}
        for i in range(0, len(ids), 50):
            chunk = ids[i:i + 50]
            r = self.get("/v1/submissions?ids=" + ",".join(chunk))
            if r.status != 200:
                raise Fail("%s: expected 200" % r.what())
            subs = r.json.get("submissions")
            if not isinstance(subs, list) or len(subs) != len(chunk):
                raise Fail("%s: expected %d entries" % (r.what(), len(chunk)))
            out.update(zip(chunk, subs))
        return out

    def listing(self, query="limit=1000", **kw):
        r = self.get("/v1/submissions?" + query, **kw)
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        subs = r.json.get("submissions") if isinstance(r.json, dict) else None
        if not isinstance(subs, list):
            raise Fail("%s: expected {\"submissions\": [...]}" % r.what())
        return subs

    def metrics(self):
        r = self.get("/metrics")
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        return r


def read_events(path):
    out = []
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return out
    for line in data.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict):
                out.append(e)
    return out


SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer.*|"
                          r"\S+:\d+(:\d+)?: runtime error: .*")


def sanitizer_reports(path):
    """ASan/LSan/UBSan reports in a server log."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return ["%s: %s" % (os.path.basename(path), m.group(0)[:200])
            for m in SANITIZER_RE.finditer(text)]


def tail(path, n):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return "(%s)" % e
    return "\n".join(lines[-n:])


# ---------------------------------------------------------------- checks

def check_result(res, where):
    why = result_problem(res)
    if why:
        raise Fail("%s: result %s: %s" % (where, why, clip(json.dumps(res), 600)))


def check_sub(s, r=None):
    where = r.what() if r is not None else "submission"
    if not isinstance(s, dict):
        raise Fail("%s: not an object" % where)
    missing = [k for k in SUB_FIELDS if k not in s]
    if missing:
        raise Fail("%s: fields %s missing" % (where, missing))
    if not ID_RE.match(str(s["id"])):
        raise Fail("%s: id %r is not 32 lowercase hex digits" % (where, s["id"]))
    if s["status"] not in ("queued", "running", "done"):
        raise Fail("%s: status %r" % (where, s["status"]))
    if not isinstance(s["created_at"], str) or not TS_RE.match(s["created_at"]):
        raise Fail("%s: created_at %r is not an ISO 8601 UTC time" % (where, s["created_at"]))
    if s["status"] != "done":
        if s["verdict"] is not None or s["result"] is not None:
            raise Fail("%s: verdict and result must be null until done" % where)
        return
    for k in ("started_at", "finished_at"):
        if not isinstance(s[k], str) or not TS_RE.match(s[k]):
            raise Fail("%s: %s %r is not an ISO 8601 UTC time" % (where, k, s[k]))
    if not (s["created_at"] <= s["started_at"] <= s["finished_at"]):
        raise Fail("%s: expected created_at <= started_at <= finished_at" % where)
    if not isinstance(s["attempts"], int) or s["attempts"] < 1:
        raise Fail("%s: attempts %r, expected >= 1 when done" % (where, s["attempts"]))
    check_result(s["result"], where)
    if s["verdict"] != s["result"]["verdict"]:
        raise Fail("%s: verdict %r differs from result.verdict %r" %
                   (where, s["verdict"], s["result"]["verdict"]))


def brief(s):
    """A done submission without bulky fields, for messages."""
    if not isinstance(s, dict):
        return clip(repr(s))
    res = s.get("result")
    if isinstance(res, dict):
        res = dict(res)
        res.pop("language", None)
        if isinstance(res.get("compile"), dict):
            res["compile"] = {k: clip(v, 160) if isinstance(v, str) else v
                              for k, v in res["compile"].items()
                              if k in ("status", "exit_code", "stderr", "message")}
        if isinstance(res.get("tests"), list):
            res["tests"] = [{k: clip(t.get(k), 80) if isinstance(t.get(k), str) else t.get(k)
                             for k in ("name", "verdict", "status", "exit_code", "cpu_ms",
                                       "memory_kb", "stdout", "stderr", "message")}
                            if isinstance(t, dict) else t for t in res["tests"]]
    return clip(json.dumps({"id": s.get("id"), "status": s.get("status"),
                            "verdict": s.get("verdict"), "result": res}), 900)


def expect(cond, why, s=None):
    if not cond:
        raise Fail(why + ("; got %s" % brief(s) if s is not None else ""))


def expect_verdict(s, verdict, stdout=None):
    expect(s["verdict"] == verdict, "verdict %r expected" % verdict, s)
    if stdout is not None:
        tests = s["result"]["tests"]
        expect(len(tests) == 1 and tests[0]["stdout"] == stdout,
               "one test with stdout %r expected" % stdout, s)


def expect_error(r, status, field):
    statuses = status if isinstance(status, tuple) else (status,)
    fields = field if isinstance(field, tuple) else (field,)
    want = "%s with field %s" % ("/".join(map(str, statuses)), "/".join(map(repr, fields)))
    if r.status not in statuses:
        raise Fail("%s: expected %s" % (r.what(), want))
    ct = r.header("Content-Type") or ""
    if not ct.startswith("application/json"):
        raise Fail("%s: expected %s as JSON; Content-Type %r" % (r.what(), want, ct))
    j = r.json
    if not isinstance(j, dict) or j.get("field") not in fields:
        raise Fail("%s: expected %s" % (r.what(), want))
    if not isinstance(j.get("error"), str) or not j["error"]:
        raise Fail("%s: expected a non-empty \"error\" message" % r.what())


def metric_value(text, name, labels=None):
    """The value of one sample; 0 when the series does not exist yet."""
    want = None
    if labels:
        want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    total = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = m.group(3) or ""
        if want is not None:
            pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', got)
            if ",".join('%s="%s"' % kv for kv in sorted(pairs)) != want:
                continue
        total = (total or 0) + float(m.group(4))
    return total or 0.0


def py(src, **kw):
    d = {"language": "python3", "source": src}
    d.update(kw)
    return d


SLEEP_PRINT = "import time\ntime.sleep(%s)\nprint(%s)\n"


# ---------------------------------------------------------------- the runner

class Runner:
    def __init__(self, patterns):
        self.patterns = patterns
        self.passed = self.failed = 0
        self.servers = []  # servers of the current group
        self.lock = threading.Lock()

    def want(self, name):
        return not self.patterns or any(p in name for p in self.patterns)

    def report(self, name, ok, why=""):
        with self.lock:
            if ok:
                self.passed += 1
                print("ok %s%s" % (name, " (%s)" % why if why else ""))
            else:
                self.failed += 1
                print("FAIL %s: %s" % (name, why))
                if VERBOSE:
                    for s in self.servers:
                        if s.logs:
                            sys.stderr.write(s.tails() + "\n")
            sys.stdout.flush()

    def case(self, name, fn, *args):
        if not self.want(name):
            return None
        t0 = time.monotonic()
        try:
            note = fn(*args)
        except Skip as e:
            with self.lock:
                print("skip %s: %s" % (name, e))
            return None
        except Fail as e:
            self.report(name, False, str(e))
            return False
        except Exception as e:  # a bug in a case: a failure, not a crash
            if VERBOSE:
                traceback.print_exc()
            self.report(name, False, "%s: %s" % (type(e).__name__, e))
            return False
        vlog("%s: %.2f s" % (name, time.monotonic() - t0))
        self.report(name, True, note if isinstance(note, str) else "")
        return True

    def server(self, *a, **kw):
        s = Server(*a, **kw)
        self.servers.append(s)
        return s

    def group(self, name, fn):
        self.servers = []
        t0 = time.monotonic()
        try:
            fn(self)
        except Fail as e:
            self.report(name + "/setup", False, str(e))
        except Exception as e:
            if VERBOSE:
                traceback.print_exc()
            self.report(name + "/setup", False, "%s: %s" % (type(e).__name__, e))
        finally:
            errs = []
            stopped = 0
            for s in self.servers:
                if s.alive():
                    stopped += 1
                    try:
                        s.stop()
                    except Fail as e:
                        errs.append(str(e))
                    finally:
                        s.kill()
            if stopped:
                self.report(name + "/sigterm", not errs, "; ".join(errs))
            reports = []
            for s in self.servers:
                for log in s.logs:
                    reports += sanitizer_reports(log)
            if reports:
                self.report(name + "/sanitizer", False, "; ".join(reports[:5]))
            vlog("group %s: %.1f s" % (name, time.monotonic() - t0))
            self.servers = []


# ---------------------------------------------------------------- 1. endpoints

def make_web():
    web = tempfile.mkdtemp(dir=TMP, prefix="web-")
    write(os.path.join(web, "index.html"), "<!doctype html><title>runcell</title>hello\n")
    write(os.path.join(web, "a.wasm"), b"\x00asm\x01\x00\x00\x00")
    write(os.path.join(web, "b.mjs"), "export const x = 1;\n")
    os.mkdir(os.path.join(web, "sub"))
    write(os.path.join(web, "sub", "index.html"), "<p>sub</p>\n")
    os.symlink("/etc/passwd", os.path.join(web, "escape.txt"))
    os.mkfifo(os.path.join(web, "fifo.html"))  # its open waited for a writer, and the loop with it
    write(os.path.join(web, ".env"), "SECRET=1\n")  # hidden files were served
    os.mkdir(os.path.join(web, ".git"))
    write(os.path.join(web, ".git", "config"), "[core]\n")
    return web


def g_api(R):
    srv = R.server("api", ["--max-workers", "1", "--min-workers", "1"], web=make_web())
    st = {}

    def post_201():
        r = srv.post("/v1/submissions", py("print(6*7)"))
        if r.status != 201:
            raise Fail("%s: expected 201" % r.what())
        if not (r.header("Content-Type") or "").startswith("application/json"):
            raise Fail("%s: Content-Type %r, expected application/json" %
                       (r.what(), r.header("Content-Type")))
        j = r.json
        expect(isinstance(j, dict) and ID_RE.match(str(j.get("id"))) and
               j.get("status") == "queued",
               "%s: expected {\"id\": 32 hex, \"status\": \"queued\"}" % r.what())
        loc = r.header("Location") or ""
        want = "/v1/submissions/" + j["id"]
        if not (loc == want or (loc.startswith("http://") and loc.endswith(want))):
            raise Fail("%s: Location %r, expected %r" % (r.what(), loc, want))
        r2 = srv.get(want)
        if r2.status != 200 or r2.json.get("id") != j["id"]:
            raise Fail("%s: the Location does not give the submission" % r2.what())
        s = srv.wait_done(j["id"])
        expect_verdict(s, "accepted", "42\n")
        st["a"] = s

    def post_wait():
        r = srv.post("/v1/submissions?wait=true", py("print(input()[::-1])", stdin="abc\n",
                                                     metadata={"n": 1}), timeout=T(60))
        if r.status != 200:
            raise Fail("%s: expected 200 with the whole submission" % r.what())
        s = r.json
        check_sub(s, r)
        expect(s["status"] == "done" and s["language"] == "python3" and
               s["metadata"] == {"n": 1} and s["attempts"] == 1,
               "status done, language python3, metadata {\"n\": 1}, attempts 1 expected", s)
        expect_verdict(s, "accepted", "cba\n")
        expect(s["result"]["language"]["id"] == "python3", "result.language.id python3", s)
        g = srv.get("/v1/submissions/" + s["id"])
        if g.status != 200 or g.json != s:
            raise Fail("%s: GET differs from the ?wait=true answer %s" % (g.what(), brief(s)))
        st["b"] = s

    def get_poll():
        sid = srv.submit(py(SLEEP_PRINT % (0.3, "'polled'")))
        seen = []
        s = srv.wait_done(sid, seen=seen)
        expect_verdict(s, "accepted", "polled\n")
        order = {"queued": 0, "running": 1, "done": 2}
        ranks = [order[x] for x in seen]
        expect(ranks == sorted(ranks), "statuses went backwards: %s" % seen)
        expect("running" in seen or "queued" in seen,
               "a 0.3 s job was never seen queued or running: %s" % seen)
        st["c"] = s
        return "saw %s" % "->".join(dict.fromkeys(seen))

    def batch():
        body = {"submissions": [py("print(1)"),
                                {"language": "cobol", "source": "x"},
                                py("print(3)", stdin="x"),
                                {"language": "python3"}]}
        r = srv.post("/v1/submissions/batch", body)
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        items = r.json.get("submissions") if isinstance(r.json, dict) else None
        if not isinstance(items, list) or len(items) != 4:
            raise Fail("%s: expected 4 entries in order" % r.what())
        for i in (0, 2):
            it = items[i]
            if not (isinstance(it, dict) and ID_RE.match(str(it.get("id"))) and
                    it.get("status") == "queued"):
                raise Fail("%s: entry %d should be {id, status: queued}" % (r.what(), i))
        e = items[1]
        if not (isinstance(e, dict) and e.get("status") == 422 and
                e.get("field") == "submissions[1].language" and isinstance(e.get("error"), str)):
            raise Fail("%s: entry 1 should be {status: 422, error, field: "
                       "\"submissions[1].language\"}" % r.what())
        e = items[3]
        if not (isinstance(e, dict) and e.get("status") == 422 and
                e.get("field") in ("submissions[3].source", "submissions[3].files")):
            raise Fail("%s: entry 3 (no source) should be {status: 422, field: "
                       "\"submissions[3].source\"}" % r.what())
        for i, out in ((0, "1\n"), (2, "3\n")):
            expect_verdict(srv.wait_done(items[i]["id"]), "accepted", out)

    def ids():
        unknown = "0123456789abcdef0123456789abcdef"
        a, b = st.get("a"), st.get("b")
        if not a or not b:
            raise Fail("needs api/post_201 and api/post_wait")
        r = srv.get("/v1/submissions?ids=%s,%s,%s" % (b["id"], unknown, a["id"]))
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        subs = r.json.get("submissions")
        if not isinstance(subs, list) or len(subs) != 3:
            raise Fail("%s: expected 3 entries" % r.what())
        expect(subs[1] is None, "%s: null expected for the unknown id" % r.what())
        expect(isinstance(subs[0], dict) and subs[0].get("id") == b["id"] and
               isinstance(subs[2], dict) and subs[2].get("id") == a["id"],
               "%s: entries not in the order asked" % r.what())
        check_sub(subs[0], r)
        expect(subs[0] == b, "%s: entry differs from GET /v1/submissions/ID" % r.what())

    def listing():
        subs = srv.listing("status=done&limit=2")
        expect(len(subs) == 2, "?status=done&limit=2 gave %d entries, expected 2: %s" %
               (len(subs), clip(json.dumps(subs))))
        for e in subs:
            expect(isinstance(e, dict) and all(k in e for k in LIST_FIELDS),
                   "listing entry without %s: %s" % (LIST_FIELDS, clip(json.dumps(e))))
            expect(e["status"] == "done" and e["verdict"] in VERDICTS,
                   "?status=done entry %s" % clip(json.dumps(e)))
        allsubs = srv.listing("limit=1000")
        created = [e["created_at"] for e in allsubs]
        expect(created == sorted(created, reverse=True), "listing not newest first: %s" % created)
        known = [x["id"] for x in st.values()]
        got = {e["id"] for e in allsubs}
        expect(set(known) <= got, "the listing lacks stored ids %s" % (set(known) - got))
        one = srv.listing("limit=1")
        expect(len(one) == 1 and one[0]["id"] == allsubs[0]["id"],
               "?limit=1 should give the newest submission only")
        q = srv.listing("status=queued")
        expect(all(e.get("status") == "queued" for e in q), "?status=queued gave %s" % q)
        return "%d stored" % len(allsubs)

    def delete_done():
        s = srv.run(py("print('bye')"))
        r = srv.delete("/v1/submissions/" + s["id"])
        if r.status != 204 or r.body:
            raise Fail("%s: expected 204 with no body" % r.what())
        expect_error(srv.get("/v1/submissions/" + s["id"]), 404, "id")
        expect_error(srv.delete("/v1/submissions/" + s["id"]), 404, "id")
        subs = srv.status_of([s["id"]])
        expect(subs[s["id"]] is None, "?ids= after DELETE: null expected")

    def delete_running_and_queued():
        # one worker: a sleeping job runs, the next one waits behind it
        slow = srv.submit(py(SLEEP_PRINT % (2, "'slow'")))
        deadline = time.monotonic() + T(20)
        while True:
            s = srv.get("/v1/submissions/" + slow).json
            if s["status"] == "running":
                break
            if s["status"] == "done" or time.monotonic() > deadline:
                raise Fail("never saw the 2 s job running (status %s)" % s["status"])
            time.sleep(0.02)
        queued = srv.submit(py("print('never')"))
        running = [e["id"] for e in srv.listing("status=running")]
        expect(running == [slow], "?status=running lists %s, expected only %s" % (running, slow))
        qd = [e["id"] for e in srv.listing("status=queued")]
        expect(queued in qd and slow not in qd, "?status=queued lists %s" % qd)
        r = srv.delete("/v1/submissions/" + slow)
        expect_error(r, 409, "id")
        r = srv.delete("/v1/submissions/" + queued)
        if r.status != 204:
            raise Fail("%s: DELETE of a queued submission: expected 204" % r.what())
        expect_error(srv.get("/v1/submissions/" + queued), 404, "id")
        after = srv.submit(py("print('after')"))
        expect_verdict(srv.wait_done(slow), "accepted", "slow\n")
        expect_verdict(srv.wait_done(after), "accepted", "after\n")
        ran = [e for e in srv.events("job") if e.get("id") == queued]
        expect(not ran, "the deleted queued submission ran anyway: %s" % ran)
        r = srv.delete("/v1/submissions/" + slow)
        if r.status != 204:
            raise Fail("%s: DELETE once done: expected 204" % r.what())

    def languages():
        r = srv.get("/v1/languages")
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        langs = r.json.get("languages") if isinstance(r.json, dict) else None
        if not isinstance(langs, list):
            raise Fail("%s: expected {\"languages\": [...]}" % r.what())
        byid = {}
        for lg in langs:
            if not isinstance(lg, dict) or not all(k in lg for k in (
                    "id", "name", "aliases", "version", "available", "compiled")):
                raise Fail("%s: entry without id, name, aliases, version, available, compiled: "
                           "%s" % (r.what(), clip(json.dumps(lg))))
            byid[lg["id"]] = lg
        p = byid.get("python3")
        expect(p and p["available"] is True and p["compiled"] is False and
               isinstance(p["aliases"], list) and "python" in p["aliases"] and
               "py" in p["aliases"], "python3: available, not compiled, aliases with python "
               "and py expected: %s" % clip(json.dumps(p)))
        expect(byid.get("c", {}).get("compiled") is True, "c should be compiled")
        cli = subprocess.run([RUNCELL, "languages", "--json"], capture_output=True)
        if cli.returncode == 0:
            want = {lg["id"]: lg for lg in json.loads(cli.stdout)}
            expect(set(want) == set(byid), "ids %s differ from `runcell languages --json` %s" %
                   (sorted(byid), sorted(want)))
            for k, lg in want.items():
                for f in ("aliases", "available", "compiled", "name"):
                    expect(byid[k][f] == lg[f], "%s.%s is %r, `runcell languages` says %r" %
                           (k, f, byid[k][f], lg[f]))
        s = srv.run({"language": "py", "source": "print('alias')"})
        expect_verdict(s, "accepted", "alias\n")
        expect(s["result"]["language"]["id"] == "python3", "alias py -> python3", s)
        return "%d languages" % len(langs)

    def healthz():
        r = srv.get("/healthz")
        if r.status != 200 or r.json != {"status": "ok"}:
            raise Fail("%s: expected 200 {\"status\": \"ok\"}" % r.what())

    def log_lines():
        srv.ensure()
        sid = srv.submit(py("print('logged')"))
        srv.wait_done(sid)
        time.sleep(0.2)
        with open(srv.logs[-1], "rb") as f:
            lines = [l for l in f.read().decode("utf-8", "replace").splitlines() if l.strip()]
        evs = []
        for l in lines:
            try:
                e = json.loads(l)
            except ValueError:
                raise Fail("a log line is not JSON: %r" % clip(l))
            expect(isinstance(e, dict) and TS_RE.match(str(e.get("ts"))) and
                   isinstance(e.get("level"), str) and isinstance(e.get("event"), str),
                   "a log line without ts, level, event: %r" % clip(l))
            evs.append(e)
        reqs = [e for e in evs if e["event"] == "request" and e.get("id") == sid]
        expect(any(e.get("method") == "POST" and e.get("path") == "/v1/submissions" and
                   e.get("status") == 201 and isinstance(e.get("ms"), (int, float))
                   for e in reqs), "no request line {method POST, path /v1/submissions, "
               "status 201, ms, id} for %s: %s" % (sid, clip(json.dumps(reqs))))
        jobs = [e for e in evs if e["event"] == "job" and e.get("id") == sid]
        expect(len(jobs) == 1 and jobs[0].get("verdict") == "accepted" and
               jobs[0].get("language") == "python3" and jobs[0].get("attempt") == 1 and
               all(k in jobs[0] for k in ("worker", "queue_ms", "run_ms")),
               "one job line {id, language, verdict, attempt, worker, queue_ms, run_ms} "
               "expected: %s" % clip(json.dumps(jobs)))

    def readyz():
        deadline = time.monotonic() + T(20)
        while True:
            r = srv.get("/readyz")
            if r.status == 200:
                break
            if r.status != 503 or time.monotonic() > deadline:
                raise Fail("%s: expected 200 (or 503 while starting)" % r.what())
            expect(isinstance(r.json, dict) and r.json.get("status") == "not ready",
                   "%s: a 503 /readyz should say \"not ready\"" % r.what())
            time.sleep(0.1)
        j = r.json
        expect(j.get("status") == "ready" and isinstance(j.get("workers"), int) and
               not isinstance(j.get("workers"), bool) and j["workers"] >= 1,
               "%s: expected {\"status\": \"ready\", \"workers\": N >= 1}" % r.what())

    def metrics_names():
        r = srv.metrics()
        ct = r.header("Content-Type") or ""
        expect(ct.replace(" ", "").startswith("text/plain;version=0.0.4"),
               "/metrics Content-Type %r, expected text/plain; version=0.0.4" % ct)
        types = dict(re.findall(r"(?m)^# TYPE (\S+) (\S+)", r.text))
        missing = [n for n, _ in METRICS if n not in types]
        expect(not missing, "no # TYPE line for %s" % missing)
        wrong = ["%s is %s, not %s" % (n, types[n], t) for n, t in METRICS if types[n] != t]
        expect(not wrong, "; ".join(wrong))
        for n, t in METRICS:
            if t == "histogram" and n != "runcell_job_duration_seconds":
                for sfx in ("_bucket", "_sum", "_count"):
                    expect(re.search(r"(?m)^%s%s[{ ]" % (n, sfx), r.text),
                           "histogram %s has no %s samples" % (n, sfx))
        for line in r.text.splitlines():
            if line and not line.startswith("#"):
                expect(re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfNa]+"
                                r"( -?\d+)?$", line), "bad sample line %r" % line)

    def metrics_grow():
        before = srv.metrics().text
        s = srv.run(py("print('m')"))
        expect_verdict(s, "accepted")
        after = srv.metrics().text
        for name, labels in (("runcell_submissions_total", {"verdict": "accepted"}),
                             ("runcell_submissions_accepted_total", None),
                             ("runcell_http_requests_total", {"code": "200"}),
                             ("runcell_job_duration_seconds_count", None)):
            a, b = metric_value(before, name, labels), metric_value(after, name, labels)
            expect(b >= a + 1, "%s%s went from %s to %s after one more job" %
                   (name, labels or "", a, b))
        expect(metric_value(after, "runcell_slots_total") >= 1, "runcell_slots_total < 1")

    def static_index():
        for path, ct, want in (("/", "text/html", "hello"), ("/index.html", "text/html", "hello"),
                               ("/sub/", "text/html", "<p>sub</p>")):
            r = srv.get(path)
            got = (r.header("Content-Type") or "").split(";")[0].strip()
            expect(r.status == 200 and got == ct and want in r.text,
                   "%s: expected 200 %s with %r (Content-Type %r)" % (r.what(), ct, want, got))

    def refused_counted():
        # Requests the HTTP layer refuses by itself (a malformed request
        # line, two Host headers, a chunked body) are counted and logged
        # like the rest; they were in neither.
        before = metric_value(srv.metrics().text, "runcell_http_requests_total", {"code": "400"})
        before411 = metric_value(srv.metrics().text, "runcell_http_requests_total", {"code": "411"}) or 0
        for raw in (b"GET /x\r\n\r\n", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                    b"POST /v1/submissions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"):
            raw_request(srv.host, srv.port, raw)
        m = srv.metrics().text
        after = metric_value(m, "runcell_http_requests_total", {"code": "400"})
        after411 = metric_value(m, "runcell_http_requests_total", {"code": "411"})
        expect(after == (before or 0) + 2 and after411 == before411 + 1,
               "400s counted %s -> %s, 411s %s -> %s; expected +2 and +1" %
               (before, after, before411, after411))
        lines = [e for e in srv.events("request") if e.get("path") is None and e.get("error")]
        expect(len(lines) >= 3, "%d log lines for refused requests, expected 3" % len(lines))

    def static_headers():
        # the page: checked again on each load, only its own scripts, never
        # framed; every answer, JSON too: no content sniffing
        r = srv.get("/")
        for name, want in (("Cache-Control", "no-cache"), ("X-Frame-Options", "DENY"),
                           ("Content-Security-Policy", "frame-ancestors 'none'"),
                           ("X-Content-Type-Options", "nosniff")):
            expect(want in (r.header(name) or ""), "%s: %s %r, want %r" % (r.what(), name,
                   r.header(name), want))
        for path in ("/healthz", "/v1/languages", "/nope"):
            r = srv.get(path)
            expect(r.header("X-Content-Type-Options") == "nosniff",
                   "%s: no X-Content-Type-Options: nosniff" % r.what())

    def static_mime():
        for path, ct, body in (("/a.wasm", "application/wasm", b"\x00asm\x01\x00\x00\x00"),
                               ("/b.mjs", "text/javascript", b"export const x = 1;\n")):
            r = srv.get(path)
            got = (r.header("Content-Type") or "").split(";")[0].strip()
            expect(r.status == 200 and got == ct and r.body == body,
                   "%s: expected 200 %s, the file's bytes (Content-Type %r)" % (r.what(), ct, got))

    def static_errors():
        # "Every error is a JSON object naming the field at fault"
        expect_error(srv.get("/nope.html"), 404, "path")
        expect_error(srv.get("/../etc/passwd"), 403, "path")
        expect_error(srv.get("/fifo.html", timeout=T(5)), 404, "path")
        expect_error(srv.get("/.env"), 404, "path")
        expect_error(srv.get("/.git/config"), 404, "path")
        expect_error(srv.get("/sub/../.env"), (403, 404), "path")
        expect(srv.get("/healthz").status == 200, "the server stopped answering after a FIFO")

    def curl_example():
        # the first example of docs/API.md: curl -d sends
        # application/x-www-form-urlencoded
        r = srv.post("/v1/submissions?wait=true", py("print(6*7)"),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        expect(r.status == 200, "%s: the documented `curl -d` example should work" % r.what())
        expect_verdict(r.json, "accepted", "42\n")

    def static_traversal():
        srv.ensure()
        for path in ("/../etc/passwd", "/%2e%2e/etc/passwd", "/sub/../../etc/passwd",
                     "/..%2fetc%2fpasswd", "/escape.txt", "/sub/%2e%2e/%2e%2e/etc/passwd"):
            status, head, body = raw_request(
                srv.host, srv.port,
                ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
            expect(status in (400, 403, 404) and b"root:" not in body,
                   "GET %s -> %s %r: expected 403 or 404, never the file" %
                   (path, status, clip(body.decode("latin-1"), 120)))

    def half_close():
        # A client that shuts down its sending side after a whole request
        # (nc -N) still gets its answer; most got none before, though their
        # submissions were stored and run.
        srv.ensure()
        answered = []
        for wait in ("?wait=true", ""):
            for i in range(5):
                body = json.dumps(py("print(%d)" % i)).encode()
                c = socket.create_connection((srv.host, srv.port), timeout=T(30))
                c.sendall(b"POST /v1/submissions%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                          % (wait.encode(), len(body)) + body)
                c.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    x = c.recv(65536)
                    if not x:
                        break
                    data += x
                c.close()
                answered.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
        want = ["HTTP/1.1 200 OK"] * 5 + ["HTTP/1.1 201 Created"] * 5
        expect(answered == want, "status lines after a half-close: %s" % answered)

    R.case("api/post_201", post_201)
    R.case("api/half_close_answered", half_close)
    R.case("api/post_wait_200", post_wait)
    R.case("api/get_poll", get_poll)
    R.case("api/batch_partial", batch)
    R.case("api/get_ids_order_null", ids)
    R.case("api/listing_status_limit", listing)
    R.case("api/delete_204_then_404", delete_done)
    R.case("api/delete_running_409_queued_204", delete_running_and_queued)
    R.case("api/languages", languages)
    R.case("api/healthz", healthz)
    R.case("api/log_lines", log_lines)
    R.case("api/readyz", readyz)
    R.case("api/metrics_names", metrics_names)
    R.case("api/metrics_grow", metrics_grow)
    R.case("api/static_index", static_index)
    R.case("api/static_mime", static_mime)
    R.case("api/static_headers", static_headers)
    R.case("api/refused_counted", refused_counted)
    R.case("api/static_errors_json_field", static_errors)
    R.case("api/static_traversal", static_traversal)
    R.case("api/curl_example", curl_example)


def expect_status(r, statuses):
    if r.status not in statuses:
        raise Fail("%s: expected %s" % (r.what(), "/".join(map(str, statuses))))


# ---------------------------------------------------------------- 2. verdicts

def g_verdict(R):
    srv = R.server("verdict", ["--max-workers", "2"])

    def single(sub, verdict, stdout=None):
        def fn():
            s = srv.run(sub)
            expect_verdict(s, verdict, stdout)
            return s
        return fn

    def compile_error():
        s = srv.run({"language": "c", "source": "int main(void) { return 0 }\n"})
        expect_verdict(s, "compile_error")
        c = s["result"]["compile"]
        expect(isinstance(c, dict) and "error" in (c.get("stderr") or ""),
               "the compiler's output (stderr with 'error') expected in result.compile", s)
        expect(s["result"]["tests"] == [], "no test runs after a compile error", s)

    def c_accepted():
        src = ("#include <stdio.h>\nint main(void) { int a, b; scanf(\"%d %d\", &a, &b);"
               " printf(\"%d\\n\", a + b); return 0; }\n")
        s = srv.run({"language": "c", "source": src, "stdin": "20 22\n",
                     "expected_output": "42\n"})
        expect_verdict(s, "accepted", "42\n")
        expect(isinstance(s["result"]["compile"], dict), "result.compile expected for C", s)

    def runtime_raise():
        s = srv.run(py("raise ValueError('boom')"))
        expect_verdict(s, "runtime_error")
        expect("ValueError" in s["result"]["tests"][0]["stderr"], "traceback in stderr", s)

    def runtime_exit3():
        s = srv.run(py("import sys\nprint('x')\nsys.exit(3)"))
        expect_verdict(s, "runtime_error", "x\n")
        expect(s["result"]["tests"][0]["exit_code"] == 3, "exit_code 3 expected", s)

    def time_limit():
        s = srv.run(py("while True:\n    pass\n", limits={"cpu_ms": 500}))
        expect_verdict(s, "time_limit")
        t = s["result"]["tests"][0]
        expect(400 <= t["cpu_ms"] <= 3000, "cpu_ms about 500 expected", s)

    def memory_limit():
        s = srv.run(py("b = bytearray(1 << 30)\nprint(len(b))", limits={"memory_kb": 65536}))
        expect_verdict(s, "memory_limit")

    def output_limit():
        s = srv.run(py("import sys\nfor i in range(100000):\n    sys.stdout.write('x' * 99 + "
                       "'\\n')\n", limits={"output_kb": 1}))
        expect_verdict(s, "output_limit")
        t = s["result"]["tests"][0]
        expect(len(t["stdout"]) <= 1024 + 16, "stdout cut near 1 KiB", s)

    def multi():
        sub = py("a, b = map(int, input().split())\nprint(a + b)", tests=[
            {"name": "one", "stdin": "1 2\n", "expected_output": "3\n"},
            {"name": "two", "stdin": "2 2\n", "expected_output": "5\n"},
            {"name": "three", "stdin": "5 5\n", "expected_output": "10\n"}])
        s = srv.run(sub)
        expect_verdict(s, "wrong_answer")
        ts = s["result"]["tests"]
        expect([t["name"] for t in ts] == ["one", "two", "three"] and
               [t["verdict"] for t in ts] == ["accepted", "wrong_answer", "accepted"] and
               [t["stdout"] for t in ts] == ["3\n", "4\n", "10\n"],
               "per-test names, verdicts and stdout expected", s)
        sub["first_failure"] = True
        s = srv.run(sub)
        expect_verdict(s, "wrong_answer")
        expect([t["verdict"] for t in s["result"]["tests"]] == ["accepted", "wrong_answer"],
               "first_failure: stops after the first failing test", s)

    def files_base64():
        s = srv.run({"language": "python3", "files": [
            {"name": "main.py", "content": b64("import helper\nprint(helper.f(), "
                                               "open('data.bin', 'rb').read().hex())\n"),
             "encoding": "base64"},
            {"name": "helper.py", "content": "def f():\n    return 7\n", "encoding": "utf8"},
            {"name": "data.bin", "content": b64(b"\xff\x10\x80"), "encoding": "base64"}]})
        expect_verdict(s, "accepted", "7 ff1080\n")

    def files_c():
        s = srv.run({"language": "c", "files": [
            {"name": "main.c", "content": "#include <stdio.h>\n#include \"util.h\"\n"
                                          "int main(void) { printf(\"%d\\n\", twice(21)); }\n"},
            {"name": "util.h", "content": "static int twice(int x) { return 2 * x; }\n"}]})
        expect_verdict(s, "accepted", "42\n")

    def args():
        a = ["--verbose", "two words", "", "ünï"]
        s = srv.run(py("import sys, json\nprint(json.dumps(sys.argv[1:]))", args=a))
        expect_verdict(s, "accepted")
        expect(json.loads(s["result"]["tests"][0]["stdout"]) == a, "argv %r expected" % a, s)

    def stdin_big():
        data = "".join("%d\n" % i for i in range(40000))
        s = srv.run(py("import sys\nd = sys.stdin.read()\nprint(len(d), sum(map(int, d.split())))",
                       stdin=data))
        expect_verdict(s, "accepted", "%d %d\n" % (len(data), sum(range(40000))))

    def metadata():
        md = {"user": 42, "tags": ["a", "ü"], "nested": {"x": None, "f": 1.5, "t": True}}
        s = srv.run(py("print(1)", metadata=md))
        expect(s["metadata"] == md, "metadata %r expected back" % md, s)
        g = srv.get("/v1/submissions/" + s["id"]).json
        expect(g["metadata"] == md, "GET: metadata %r expected back" % md, g)

    def checker_tokens():
        src = "print('1  2', end=' ')\nprint('3')"
        s = srv.run(py(src, expected_output="1 2\n3\n", checker="tokens"))
        expect_verdict(s, "accepted")
        s = srv.run(py(src, expected_output="1 2\n3\n"))
        expect_verdict(s, "wrong_answer")   # default checker: lines

    def checker_float():
        src = "print(0.33333334)"
        s = srv.run(py(src, expected_output="0.3333333\n", checker="float"))
        expect_verdict(s, "accepted")
        s = srv.run(py(src, expected_output="0.3333333\n", checker="exact"))
        expect_verdict(s, "wrong_answer")
        s = srv.run(py("print(0.3334)", expected_output="0.3333\n", checker="float:abs=1e-3,rel=0"))
        expect_verdict(s, "accepted")
        s = srv.run(py("print(0.34)", expected_output="0.3333\n", checker="float:1e-6"))
        expect_verdict(s, "wrong_answer")

    def non_utf8():
        s = srv.run(py("import sys\nsys.stdout.buffer.write(b'a\\xff\\xfeb')"))
        expect_verdict(s, "accepted")
        t = s["result"]["tests"][0]
        expect(t.get("stdout_base64") == b64(b"a\xff\xfeb"), "stdout_base64 of the bytes", s)

    R.case("verdict/accepted", single(py("print(input().upper())", stdin="hello\n",
                                         expected_output="HELLO\n"), "accepted", "HELLO\n"))
    R.case("verdict/wrong_answer", single(py("print(input())", stdin="yes\n",
                                             expected_output="no\n"), "wrong_answer", "yes\n"))
    R.case("verdict/compile_error", compile_error)
    R.case("verdict/c_accepted", c_accepted)
    R.case("verdict/runtime_error_raise", runtime_raise)
    R.case("verdict/runtime_error_exit3", runtime_exit3)
    R.case("verdict/time_limit", time_limit)
    R.case("verdict/memory_limit", memory_limit)
    R.case("verdict/output_limit", output_limit)
    R.case("verdict/multi_tests", multi)
    R.case("verdict/files_base64", files_base64)
    R.case("verdict/files_c_header", files_c)
    R.case("verdict/args", args)
    R.case("verdict/stdin_200k", stdin_big)
    R.case("verdict/metadata_echo", metadata)
    R.case("verdict/checker_tokens", checker_tokens)
    R.case("verdict/checker_float", checker_float)
    R.case("verdict/non_utf8_stdout", non_utf8)

    def result_capped():
        # max_result_kb = 64: 3 tests printing 40 KB each keep 64 KB of
        # output in the stored result (a 200 MB result used to be held whole
        # by every GET); the verdicts still come from the whole output.
        # under ASan freed memory waits in a quarantine (256 MB): the peak
        # below would count it; with none, it counts what is live
        asan = os.environ.get("ASAN_OPTIONS", "")
        s3 = R.server("verdict-capped", ["--max-workers", "1"], config=config_text(max_result_kb=64),
                      env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"})
        s3.ensure()
        body = "x" * 40960
        sub = py("import sys\nsys.stdout.write('x' * 40960)",
                 tests=[{"stdin": "", "expected_output": body}] * 3, checker="exact")
        s = s3.run(sub)
        expect_verdict(s, "accepted")
        outs = [(len(t["stdout"]), t["stdout_truncated"]) for t in s["result"]["tests"]]
        expect(outs == [(40960, False), (24576, True), (0, True)],
               "stored stdout lengths and truncated flags %s, expected 40960/24576/0" % outs, s)
        # GET ?ids= of several such results: past 4 x max_result_kb (256
        # KB here) the answer is 413, not built whole however large.
        ids = [sid for sid in (s["id"],)]
        for i in range(4):
            ids.append(s3.run(sub)["id"])
        r = s3.get("/v1/submissions?ids=" + ",".join(ids[:2]))
        expect(r.status == 200, "%s: two results fit" % r.what())
        r = s3.get("/v1/submissions?ids=" + ",".join(ids))
        expect_error(r, 413, "ids")
        # 24 tests printing 3 MiB each: the worker keeps 64 KB of it as
        # each test is judged (it used to hold all 72 MiB to the end).
        def peak_kb():
            with open("/proc/%d/status" % s3.proc.pid) as f:
                return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        before = peak_kb()
        s = s3.run(py("import sys\nsys.stdout.write('y' * (3 << 20))",
                      tests=[{"stdin": ""}] * 24), timeout=T(120))
        expect_verdict(s, "accepted")
        grew = peak_kb() - before
        expect(grew < 32 << 10, "server peak RSS grew by %d KB over a job of 24 x 3 MiB "
               "of output with max_result_kb = 64; expected under 32 MiB" % grew, s)
        s3.stop()

    R.case("verdict/result_capped", result_capped)


# ---------------------------------------------------------------- 3. callbacks

class Listener:
    """A local HTTP receiver; /ok answers 200, /retry 500 twice then 200,
    /fail always 500.  With tls=(certfile, keyfile) it speaks HTTPS."""

    def __init__(self, tls=None):
        self.hits = []          # (path, headers dict, body bytes, monotonic time, status)
        self.cv = threading.Condition()
        counts = {}
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                path = self.path.split("?")[0]
                with outer.cv:
                    counts[path] = counts.get(path, 0) + 1
                    k = counts[path]
                    status = {"/ok": 200, "/retry": 500 if k <= 2 else 200,
                              "/fail": 500}.get(path, 404)
                    outer.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                       body, time.monotonic(), status))
                    outer.cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.tls = tls
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        if self.tls:
            return "https://localhost:%d%s" % (self.port, path)
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def for_path(self, path):
        with self.cv:
            return [h for h in self.hits if h[0].split("?")[0] == path]

    def wait(self, path, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while len([h for h in self.hits if h[0].split("?")[0] == path]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cv.wait(left)
        return self.for_path(path)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def g_callback(R):
    srv = R.server("callback", ["--max-workers", "2"],
                   config=config_text(callback_attempts=3, callback_timeout_ms=2000))
    if not any(R.want("callback/" + n) for n in (
            "success", "retry_3rd_attempt", "failure_gives_up", "metrics", "hanging_receivers")):
        return
    lst = Listener()
    try:
        _g_callback(R, srv, lst)
    finally:
        lst.close()


def _g_callback(R, srv, lst):
    st = {}

    def check_hit(hit, s):
        path, headers, body, _, _ = hit
        expect(headers.get("x-runcell-submission") == s["id"],
               "X-Runcell-Submission %r, expected %r" % (headers.get("x-runcell-submission"),
                                                        s["id"]))
        expect((headers.get("content-type") or "").startswith("application/json"),
               "callback Content-Type %r" % headers.get("content-type"))
        try:
            j = json.loads(body)
        except ValueError:
            raise Fail("callback body is not JSON: %r" % clip(body))
        g = srv.get("/v1/submissions/" + s["id"]).json
        expect(j == g, "callback body differs from GET: %s vs %s" % (brief(j), brief(g)))

    want = {"delivered": 0, "retried": 0, "failed": 0}

    def success():
        want["delivered"] += 1
        # a query is where receivers put their tokens: never in the log
        s = srv.run(py("print('cb')", callback_url=lst.url("/ok?token=SECRET-TOKEN-1")))
        expect_verdict(s, "accepted", "cb\n")
        hits = lst.wait("/ok", 1, T(10))
        expect(len(hits) == 1, "one callback POST expected within %.0f s, got %d" %
               (T(10), len(hits)))
        check_hit(hits[0], s)
        expect(hits[0][0].endswith("?token=SECRET-TOKEN-1"), "the query reached the receiver")
        time.sleep(1.0)
        expect(len(lst.for_path("/ok")) == 1, "a delivered callback was sent again")
        logged = "\n".join(open(l, errors="replace").read() for l in srv.logs)
        expect("SECRET-TOKEN-1" not in logged, "the callback's query (a token) is in the log")
        ev = [e for e in srv.events() if e.get("event") == "callback" and e.get("id") == s["id"]]
        expect(len(ev) == 1 and ev[0].get("outcome") == "delivered" and ev[0].get("status") == 200
               and ev[0].get("attempts") == 1 and ev[0].get("url") == lst.url("/ok?..."),
               "one callback event expected: outcome delivered, status 200, attempts 1, url "
               "/ok?... (query left out); got %s" % clip(json.dumps(ev), 400))

    def retry():
        want["delivered"] += 1
        want["retried"] += 2
        s = srv.run(py("print('cb2')", callback_url=lst.url("/retry")))
        hits = lst.wait("/retry", 3, T(15))
        expect(len(hits) == 3, "3 attempts expected (500, 500, 200), got %d" % len(hits))
        gaps = [hits[i + 1][3] - hits[i][3] for i in range(2)]
        expect(gaps[0] >= 0.4 and gaps[1] >= 0.8,
               "retries after 0.5 s then 1 s expected; gaps %s" % ["%.2f" % g for g in gaps])
        for h in hits:
            check_hit(h, s)
        time.sleep(2.5)
        expect(len(lst.for_path("/retry")) == 3, "delivered on the 3rd attempt, yet sent again")
        return "gaps %s s" % ", ".join("%.2f" % g for g in gaps)

    def fail():
        want["retried"] += 2
        want["failed"] += 1
        t0 = time.monotonic()
        r = srv.post("/v1/submissions?wait=true",
                     py("print('cb3')", callback_url=lst.url("/fail")), timeout=T(60))
        t_answer = time.monotonic()
        if r.status != 200:
            raise Fail("%s: expected 200" % r.what())
        s = r.json
        st["fail"] = s["id"]
        expect_verdict(s, "accepted", "cb3\n")
        hits = lst.wait("/fail", 3, T(20))
        expect(len(hits) == 3, "callback_attempts = 3: 3 attempts expected, got %d" % len(hits))
        expect(t_answer < hits[1][3],
               "the ?wait=true answer came %.2f s after the POST, after the second callback "
               "attempt: the failing callback delayed it" % (t_answer - t0))
        time.sleep(2.5)   # a 4th attempt would come 2 s after the 3rd
        expect(len(lst.for_path("/fail")) == 3, "more than callback_attempts = 3 attempts: %d" %
               len(lst.for_path("/fail")))
        g = srv.wait_done(s["id"])
        expect(g == s, "the stored result changed after the failed callback")
        return "answered in %.2f s" % (t_answer - t0)

    def metrics():
        text = srv.metrics().text
        got = {o: metric_value(text, "runcell_callbacks_total", {"outcome": o})
               for o in ("delivered", "retried", "failed")}
        expect(got == want, "runcell_callbacks_total %s, expected %s (each failed attempt "
               "before the last is retried)" % (got, want))
        if "fail" in st:
            fails = [e for e in srv.events() if "callback" in json.dumps(e) and
                     st["fail"] in json.dumps(e) and e.get("event") != "request"]
            expect(fails, "no log line about the given-up callback of %s" % st["fail"])

    def hanging_receivers():
        # Receivers that accept and never answer hold a sender each until
        # the timeout; with several senders a good receiver still gets its
        # callback at once (with one sender it waited behind every hung
        # attempt: 3 x 3 s here).
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(16)
        held = []
        stop = threading.Event()

        def accept():
            hang.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(hang.accept()[0])
                except OSError:
                    pass
        th = threading.Thread(target=accept, daemon=True)
        th.start()
        s5 = R.server("callback-hang", ["--max-workers", "1"],
                      config=config_text(callback_attempts=1, callback_timeout_ms=3000))
        try:
            s5.ensure()
            bad = "http://127.0.0.1:%d/hang" % hang.getsockname()[1]
            for i in range(3):
                s5.run(py("print(%d)" % i, callback_url=bad))
            s = s5.run(py("print('good')", callback_url=lst.url("/ok-hang")))
            t_done = time.monotonic()
            hits = lst.wait("/ok-hang", 1, T(15))
            expect(len(hits) == 1, "no callback to the good receiver")
            late = hits[0][3] - t_done
            expect(late < 1.5, "the good receiver's callback came %.2f s after its result, "
                   "behind the hung ones" % late)
            return "delivered %.2f s after the result" % late
        finally:
            s5.stop()
            stop.set()
            th.join()
            for c in held:
                c.close()
            hang.close()

    R.case("callback/success", success)
    R.case("callback/retry_3rd_attempt", retry)
    R.case("callback/failure_gives_up", fail)
    R.case("callback/metrics", metrics)
    R.case("callback/hanging_receivers", hanging_receivers)


def make_test_pki(d):
    """A test CA, a second CA nobody trusts, and EC P-256 server
    certificates: localhost by the CA, other.example by the CA, localhost
    by the second CA.  Returns {name: (certfile, keyfile)} and the CA's
    certificate file."""
    def run(*args):
        p = subprocess.run(["openssl"] + list(args), cwd=d, capture_output=True, timeout=60)
        if p.returncode != 0:
            raise Fail("openssl %s: %s" % (args[0], p.stderr.decode(errors="replace")[-300:]))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "ca2"):
        run("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
            "-subj", "/CN=runcell test %s" % ca,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    out = {}
    for name, host, ca in (("good", "localhost", "ca"), ("wrong_name", "other.example", "ca"),
                           ("untrusted", "localhost", "ca2")):
        write(os.path.join(d, name + ".ext"),
              "subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n"
              "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n" % host)
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + host)
        run("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
        out[name] = (os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
    return out, os.path.join(d, "ca.pem")


def g_callback_tls(R):
    names = ("success", "untrusted_gives_up", "wrong_name_gives_up", "bad_ca_file")
    if not any(R.want("callback_tls/" + n) for n in names):
        return
    d = tempfile.mkdtemp(dir=TMP, prefix="pki-")
    try:
        certs, ca = make_test_pki(d)
    except Fail as e:
        for n in names:
            R.report("callback_tls/" + n, False, "test certificates: %s" % e)
        return
    srv = R.server("callback_tls", ["--max-workers", "2"],
                   config=config_text(callback_attempts=2, callback_timeout_ms=2000,
                                      callback_ca_file=ca))
    good, untrusted, wrong = (Listener(tls=certs["good"]), Listener(tls=certs["untrusted"]),
                              Listener(tls=certs["wrong_name"]))
    try:
        _g_callback_tls(R, srv, good, untrusted, wrong, d)
    finally:
        for lst in (good, untrusted, wrong):
            lst.close()


def _g_callback_tls(R, srv, good, untrusted, wrong, pki_dir):
    def success():
        s = srv.run(py("print('tls')", callback_url=good.url("/ok")))
        expect_verdict(s, "accepted", "tls\n")
        hits = good.wait("/ok", 1, T(10))
        expect(len(hits) == 1, "one callback POST over TLS expected within %.0f s, got %d" %
               (T(10), len(hits)))
        path, headers, body, _, _ = hits[0]
        expect(headers.get("x-runcell-submission") == s["id"],
               "X-Runcell-Submission %r, expected %r" % (headers.get("x-runcell-submission"),
                                                        s["id"]))
        expect(json.loads(body) == srv.get("/v1/submissions/" + s["id"]).json,
               "the callback body differs from GET")
        return good.url("/ok")

    def refused(lst, path, why):
        s = srv.run(py("print('x')", callback_url=lst.url(path)))
        expect_verdict(s, "accepted", "x\n")
        deadline = time.monotonic() + T(15)
        lines = []
        while time.monotonic() < deadline:
            lines = [e for e in srv.events() if e.get("event") == "callback" and
                     e.get("outcome") == "failed" and e.get("id") == s["id"]]
            if lines:
                break
            time.sleep(0.1)
        expect(lines, "no callback event with outcome failed for %s within %.0f s"
               % (s["id"], T(15)))
        e = lines[0]
        expect("certificate verify failed" in str(e.get("error")) and e.get("attempts") == 2
               and e.get("url") == lst.url(path),
               "the give-up event should have attempts 2, the URL and why (%s): %s"
               % (why, clip(json.dumps(e), 300)))
        expect(not lst.for_path(path), "the receiver got a POST over a refused connection")
        expect(srv.get("/v1/submissions/" + s["id"]).json == s,
               "the stored result changed after the refused callback")
        return "%s: %s" % (why, e.get("error"))

    def bad_ca_file():
        missing = os.path.join(pki_dir, "no-such-ca.pem")
        bad = R.server("callback_tls_bad_ca", [], config=config_text(callback_ca_file=missing))
        try:
            bad.start(timeout=T(10))
        except Fail:
            pass
        else:
            bad.stop()
            raise Fail("runcell serve started with callback_ca_file = %s (missing)" % missing)
        rc = bad.proc.wait(timeout=T(10))
        log = tail(bad.logs[-1], 10)
        expect(rc != 0, "exit status %d with a missing callback_ca_file" % rc)
        expect(missing in log, "the error should name %s: %s" % (missing, clip(log, 400)))
        return clip(log.strip().splitlines()[-1], 160)

    R.case("callback_tls/success", success)
    R.case("callback_tls/untrusted_gives_up",
           lambda: refused(untrusted, "/ok", "a CA not in callback_ca_file"))
    R.case("callback_tls/wrong_name_gives_up",
           lambda: refused(wrong, "/ok", "a certificate for other.example, not localhost"))
    R.case("callback_tls/bad_ca_file", bad_ca_file)


# ---------------------------------------------------------------- 4. durability

def g_durability(R):
    srv = R.server("durability", ["--max-workers", "1", "--min-workers", "1"])
    N = 30

    def kill9():
        srv.ensure()
        ids = []
        for i in range(N):
            ids.append(srv.submit(py(SLEEP_PRINT % (0.2, i))))
        deadline = time.monotonic() + T(60)
        while True:
            st = srv.status_of(ids)
            counts = {k: sum(1 for s in st.values() if s and s["status"] == k)
                      for k in ("queued", "running", "done")}
            if counts["done"] >= 5 and counts["running"] == 1 and counts["queued"] >= 5:
                break
            if counts["queued"] < 5 or time.monotonic() > deadline:
                raise Fail("could not catch the queue mid-way (%s)" % counts)
            time.sleep(0.03)
        srv.kill()
        first = counts
        srv.start()
        deadline = time.monotonic() + T(60)
        while True:
            st = srv.status_of(ids)
            if all(s and s["status"] == "done" for s in st.values()):
                break
            lost = [i for i, s in st.items() if s is None]
            expect(not lost, "submissions lost after kill -9: %s" % lost)
            if time.monotonic() > deadline:
                raise Fail("not all done %.0f s after the restart" % T(60))
            time.sleep(0.1)
        for i, sid in enumerate(ids):
            s = st[sid]
            check_sub(s)
            expect_verdict(s, "accepted", "%d\n" % i)
        jobs = srv.events("job")
        for sid in ids:
            n = sum(1 for e in jobs if e.get("id") == sid)
            expect(n == 1, "submission %s has %d \"job\" log lines across both runs, expected 1"
                   % (sid, n))
        retried = [sid for sid in ids if st[sid]["attempts"] > 1]
        listed = {e["id"] for e in srv.listing("limit=1000")}
        expect(listed == set(ids), "the listing differs from the %d submissions" % N)
        return "killed at %s; %d re-run" % (first, len(retried))

    def second_server_refused():
        """Starts a second server on srv's data directory: it must exit non-zero,
        naming the lock, while srv goes on serving."""
        p, log = srv.spawn()
        try:
            rc = p.wait(T(15))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise Fail("a second server on the same data directory is still running after "
                       "%.0f s" % T(15))
        srv.logs.remove(log)
        text = tail(log, 20)
        expect(rc != 0, "a second server on the same data dir exited 0: %s" % clip(text))
        expect("lock" in text.lower(), "the second server's message does not mention the "
               "lock: %r" % clip(text))
        expect(srv.get("/healthz").status == 200, "the first server stopped serving")

    def lock():
        srv.ensure()
        second_server_refused()

    def one_job_at(name, data, text):
        """A server on data runs one job printing text, then stops."""
        s3 = R.server(name, ["--max-workers", "1"], data=data)
        s3.ensure()
        sid = s3.submit(py("print(%r)" % text))
        expect_verdict(s3.wait_done(sid), "accepted", text + "\n")
        s3.stop()
        expect(os.path.exists(os.path.join(data, "runcell.db")),
               "no runcell.db in the data directory %r" % data)
        return s3

    def stored_before_reply():
        s2 = R.server("durability-2", ["--max-workers", "1"])
        s2.ensure()
        ids = [s2.submit(py("print(%d)" % i)) for i in range(5)]
        s2.kill()
        s2.start()
        for i, sid in enumerate(ids):
            expect_verdict(s2.wait_done(sid), "accepted", "%d\n" % i)
        s2.stop()

    def nested_data_dir():
        top = tempfile.mkdtemp(dir=TMP, prefix="nested-")
        data = os.path.join(top, "a", "b", "data")
        s3 = one_job_at("durability-3", data, "here")
        expect(not [e for e in read_events(s3.logs[0]) if "was an empty file" in e.get("msg", "")],
               "a new data directory was warned about as an empty store")
        mode = os.stat(data).st_mode & 0o777
        expect(mode == 0o700, "the data directory was created with mode %o, not 700" % mode)
        return data

    def lock_file_deleted():
        # The lock was a file in the data directory: deleted, a second
        # server took the first one's running jobs back to the queue.
        srv.ensure()
        for f in os.listdir(srv.data):
            if f.endswith(".lock"):
                os.unlink(os.path.join(srv.data, f))
        second_server_refused()

    def odd_data_paths():
        # '?' was taken for the store's option, a leading '//' made the
        # path relative to the working directory
        top = tempfile.mkdtemp(dir=TMP, prefix="odd-")
        got = []
        for data in (os.path.join(top, "q?x=1"), "/" + os.path.join(top, "slashes")):
            s5 = one_job_at("durability-odd", data, "odd")
            strays = [d for d in os.listdir(s5.dir) if d not in ("data",) and not d.endswith(".log")]
            expect(not strays, "the server made %r in its working directory" % strays)
            got.append(data)
        return " and ".join(got)

    def db_private():
        # a data directory that existed with mode 755 and a database of 644
        top = tempfile.mkdtemp(dir=TMP, prefix="perm-")
        data = os.path.join(top, "data")
        os.mkdir(data, 0o755)
        os.chmod(data, 0o755)
        open(os.path.join(data, "runcell.db"), "wb").close()
        os.chmod(os.path.join(data, "runcell.db"), 0o644)
        s6 = R.server("durability-perm", ["--max-workers", "1"], data=data)
        s6.ensure()
        sid = s6.submit(py("print('secret')"))
        expect_verdict(s6.wait_done(sid), "accepted", "secret\n")
        modes = {f: os.stat(os.path.join(data, f)).st_mode & 0o777
                 for f in os.listdir(data) if f.startswith("runcell.db")}
        s6.stop()
        expect(set(modes) >= {"runcell.db", "runcell.db-wal"}, "store files: %r" % modes)
        wide = {f: "%o" % m for f, m in modes.items() if m & 0o077}
        expect(not wide, "store files readable by others: %r" % wide)
        # an empty runcell.db (truncated, or replaced) is a new store: said
        warned = [e for e in read_events(s6.logs[0]) if "was an empty file" in e.get("msg", "")]
        expect(warned, "no warning that runcell.db was an empty file")
        return ", ".join("%s %o" % (f, m) for f, m in sorted(modes.items()))

    def store_file_link():
        # the store's files are made private without following a link
        # planted in their place (root would chmod what it points to)
        top = tempfile.mkdtemp(dir=TMP, prefix="link-")
        data = os.path.join(top, "data")
        os.mkdir(data, 0o700)
        target = os.path.join(top, "target")
        write(target, "x", 0o644)
        os.chmod(target, 0o644)
        os.symlink(target, os.path.join(data, "runcell.db-wal"))
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data], capture_output=True,
                           text=True, timeout=T(15))
        expect(p.returncode == 1 and "runcell.db-wal" in p.stderr,
               "a linked runcell.db-wal: exit %s, %r (want 1, naming the file)" % (p.returncode, clip(p.stderr)))
        mode = os.stat(target).st_mode & 0o777
        expect(mode == 0o644, "the link's target became mode %o" % mode)

    def signal_during_start():
        # a language whose version probe takes 2 s keeps the start busy; a
        # SIGTERM then killed the server (status 143, no log line)
        langs = tempfile.mkdtemp(dir=TMP, prefix="langs-")
        for f in os.listdir(os.path.join(ROOT, "etc", "languages")):
            if f.endswith(".json"):
                shutil.copy(os.path.join(ROOT, "etc", "languages", f), langs)
        write(os.path.join(langs, "slowprobe.json"), json.dumps({
            "id": "slowprobe", "name": "Slow probe", "aliases": [], "source": "main.sh",
            "compile": None, "run": ["/bin/sh", "{source}"],
            "version": ["/bin/sh", "-c", "sleep 2; echo 1"], "env": [], "binds": [],
            "artifacts": [], "compile_limits": None, "run_processes_min": 0,
            "run_memory_extra_mb": 0}))
        s7 = R.server("durability-startsig", ["--max-workers", "1"],
                      env={"RUNCELL_LANGUAGES": langs})
        p, log = s7.spawn()
        s7.proc = p
        time.sleep(0.8)
        expect(p.poll() is None, "the server exited before the signal: %s" % clip(tail(log, 6)))
        listening = any(e.get("event") == "listening" for e in read_events(log))
        expect(not listening, "the server was already listening: the probe did not hold the start")
        os.kill(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(T(20))
        except subprocess.TimeoutExpired:
            raise Fail("the server did not stop within %.0f s of a SIGTERM during its start" % T(20))
        expect(rc == 0, "a SIGTERM during the start ended the server with status %d (log: %s)"
               % (rc, clip(tail(log, 6))))
        return "stopped with 0 after its start"

    def cell_inits(pid):
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv0 = f.read().split(b"\0")[0]
            except OSError:
                continue
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            if ppid == pid and argv0 == b"runcell-cell-init":
                found.append(int(d))
        return found

    def cell_killed():
        # A worker's cell whose init is killed from outside, while idle and
        # while a job runs in it: the job is judged again on a new cell, not
        # stored as internal_error ("cannot talk to the cell's init").
        s4 = R.server("durability-cells", ["--max-workers", "1", "--min-workers", "1"])
        s4.ensure()
        expect_verdict(s4.wait_done(s4.submit(py("print('warm')"))), "accepted", "warm\n")
        inits = cell_inits(s4.proc.pid)
        expect(len(inits) == 1, "found %d cell inits under the server, expected 1" % len(inits))
        os.kill(inits[0], signal.SIGKILL)
        time.sleep(0.2)
        s = s4.wait_done(s4.submit(py("print('idle kill')")))
        expect_verdict(s, "accepted", "idle kill\n")
        sid = s4.submit(py(SLEEP_PRINT % (1.5, "'busy kill'")))
        s4.wait_running(sid)
        time.sleep(0.5)
        inits = cell_inits(s4.proc.pid)
        expect(len(inits) == 1, "found %d cell inits under the busy server" % len(inits))
        os.kill(inits[0], signal.SIGKILL)
        s = s4.wait_done(sid)
        expect_verdict(s, "accepted", "busy kill\n")
        again = [e for e in read_events(s4.logs[0]) if "once more" in e.get("msg", "")]
        expect(len(again) == 1, "%d 'once more' log lines, expected 1 (the busy kill)" % len(again))
        s4.stop()

    @contextlib.contextmanager
    def small_disk(prefix, server_name):
        """An 8 MB tmpfs for a data directory; afterwards the server named
        server_name is killed if it still runs, and the tmpfs unmounted."""
        mnt = tempfile.mkdtemp(prefix=prefix, dir=TMP)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt]).returncode != 0:
            raise Skip("cannot mount a tmpfs here")
        try:
            yield mnt
        finally:
            for srv_ in list(R.servers):
                if srv_.name == server_name and srv_.alive():
                    srv_.kill()
            subprocess.run(["umount", "-l", mnt])

    def fill(mnt):
        """Fills the disk at mnt; returns the file to delete for room."""
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        return filler

    def disk_full():
        # The data directory's disk fills while a job runs: a POST that
        # needs room gets 503 with Retry-After (it had none), and the job's
        # result is stored once room comes back a moment later, attempt 1
        # (it was dropped, and the job ran again after its lease).
        with small_disk("full-", "durability-full") as mnt:
            s6 = R.server("durability-full", ["--max-workers", "1", "--min-workers", "1"],
                          data=os.path.join(mnt, "data"))
            s6.ensure()
            sid = s6.submit(py("import time\ntime.sleep(1.5)\nprint('x' * 600000)",
                               limits={"wall_ms": 10000}))
            s6.wait_running(sid)
            filler = fill(mnt)
            r = s6.post("/v1/submissions", py("#" + "y" * 400000 + "\nprint(1)"))
            expect(r.status == 503 and r.header("Retry-After"),
                   "%s: a POST on a full disk: expected 503 with Retry-After" % r.what())
            time.sleep(2.5)
            os.unlink(filler)
            s = s6.wait_done(sid, T(30))
            expect_verdict(s, "accepted")
            expect(s["attempts"] == 1, "stored after the disk had room again, attempt %s"
                   % s["attempts"], s)
            again = [e for e in read_events(s6.logs[0]) if "trying again" in e.get("msg", "")]
            expect(again, "no 'trying again' log line: the disk never refused the result")
            s6.stop()
            return "%d tries before it fitted" % (len(again) + 1)

    def restart_on_full_disk():
        # kill -9 with a job running, then the disk fills: the start could
        # not hand the job back and exited 1, so nothing stored could be
        # read.  It now serves, and says why the job waits for its lease.
        with small_disk("fullstart-", "durability-fullstart") as mnt:
            s8 = R.server("durability-fullstart", ["--max-workers", "1", "--min-workers", "1"],
                          data=os.path.join(mnt, "data"))
            s8.ensure()
            sid = s8.submit(py("import time\ntime.sleep(5)\nprint(1)", limits={"wall_ms": 10000}))
            s8.wait_running(sid)
            s8.kill()
            filler = fill(mnt)
            s8.start()
            r = s8.get("/v1/submissions/" + sid)
            expect(r.status == 200 and r.json.get("status") in ("running", "queued"),
                   "%s: the stored submission after a start on a full disk" % r.what())
            warned = [e for e in read_events(s8.logs[-1]) if "the disk is full" in e.get("msg", "")]
            expect(warned, "no warning that the running submissions could not be handed back")
            os.unlink(filler)
            s8.stop()

    R.case("durability/kill9_restart", kill9)
    R.case("durability/disk_full", disk_full)
    R.case("durability/cell_killed", cell_killed)
    R.case("durability/stored_before_reply", stored_before_reply)
    R.case("durability/data_dir_lock", lock)
    R.case("durability/nested_data_dir_created", nested_data_dir)
    R.case("durability/lock_file_deleted", lock_file_deleted)
    R.case("durability/odd_data_paths", odd_data_paths)
    R.case("durability/store_files_private", db_private)
    R.case("durability/signal_during_start", signal_during_start)
    R.case("durability/store_file_link", store_file_link)
    R.case("durability/restart_on_full_disk", restart_on_full_disk)


# ---------------------------------------------------------------- 5. shutdown

def g_shutdown(R):
    srv = R.server("shutdown", ["--max-workers", "1", "--min-workers", "1"])

    def graceful():
        srv.ensure()
        first = srv.submit(py(SLEEP_PRINT % (2.5, "'first'")))
        srv.wait_running(first, "the first job")
        queued = [srv.submit(py(SLEEP_PRINT % (0.05, i))) for i in range(4)]
        # a client held by ?wait=true on a queued submission
        held = {}

        def held_client():
            try:
                c = Client(srv.host, srv.port)
                held["r"] = c.request("POST", "/v1/submissions?wait=true",
                                      py("print('held')"), timeout=T(40))
            except Fail as e:
                held["e"] = str(e)
        th = threading.Thread(target=held_client)
        th.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        # stop accepting: a new connection is refused or answered 503
        try:
            r = Client(srv.host, srv.port).request("POST", "/v1/submissions", py("print(1)"),
                                                   timeout=T(10))
        except Fail:
            r = None  # refused: fine
        if r is not None:
            expect(r.status == 503, "%s: a POST after SIGTERM should be refused or 503" %
                   r.what())
        rc = srv.wait_exit(30, "SIGTERM")
        took = time.monotonic() - t0
        th.join(T(10))
        expect(rc == 0, "exit status %d after SIGTERM, expected 0" % rc)
        expect("r" in held, "the client held by ?wait=true got no answer: %s" % held.get("e"))
        hr = held["r"]
        expect(hr.status == 202 and hr.json.get("status") in ("queued", "running") and
               ID_RE.match(str(hr.json.get("id"))),
               "%s: the held ?wait=true client should get 202 {id, status}" % hr.what())
        jobs1 = [e.get("id") for e in srv.events("job")]
        expect(jobs1 == [first], "the first run should complete exactly the running job; "
               "its job lines: %s" % jobs1)
        srv.start()
        s = srv.wait_done(first)
        expect_verdict(s, "accepted", "first\n")
        expect(s["attempts"] == 1, "the running job finished before exit: attempts 1", s)
        for i, sid in enumerate(queued):
            s = srv.wait_done(sid)
            expect_verdict(s, "accepted", "%d\n" % i)
            expect(s["attempts"] == 1, "a queued submission ran once, after the restart", s)
        s = srv.wait_done(hr.json["id"])
        expect_verdict(s, "accepted", "held\n")
        jobs = [e.get("id") for e in srv.events("job")]
        expect(sorted(jobs) == sorted([first] + queued + [hr.json["id"]]),
               "each submission completed once across both runs: %s" % jobs)
        return "exited %.2f s after SIGTERM" % took

    def sigint():
        s2 = R.server("shutdown-int", ["--max-workers", "1"])
        s2.ensure()
        sid = s2.submit(py("print('i')"))
        s2.wait_done(sid)
        s2.proc.send_signal(signal.SIGINT)
        rc = s2.wait_exit(30, "SIGINT")
        expect(rc == 0, "exit status %d after SIGINT, expected 0" % rc)

    def second_signal():
        # SIGHUP stops gracefully as SIGTERM does (it killed the server at
        # once); a second signal cuts the running job short: the server
        # exits within seconds, leaves no cell, and the job runs once
        # more, to completion, at the next start.  (The second signal was
        # ignored: the server waited out every running job.)
        s3 = R.server("shutdown-twice", ["--max-workers", "1", "--min-workers", "1"])
        s3.ensure()
        sid = s3.submit(py(SLEEP_PRINT % (6, "'long'"), limits={"wall_ms": 15000}))
        s3.wait_running(sid)
        # queued behind it: after the second signal no worker takes one
        # only to cut it (they were taken and cut, an attempt each)
        queued = [s3.submit(py("print(%d)" % i)) for i in range(5)]
        time.sleep(0.3)
        t0 = time.monotonic()
        s3.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        expect(s3.proc.poll() is None, "SIGHUP ended the server at once, not gracefully")
        s3.proc.send_signal(signal.SIGTERM)
        rc = s3.wait_exit(15, "the second signal")
        took = time.monotonic() - t0
        expect(rc == 0, "exit status %d after SIGHUP then SIGTERM, expected 0" % rc)
        expect(took < 4, "stopped %.1f s after the signals; the job had 5 s to go" % took)
        s3.start()
        s = s3.wait_done(sid, T(60))
        expect_verdict(s, "accepted", "long\n")
        # the claim the stop cut is given back, not counted: three such
        # stops used to give the job up as internal_error
        expect(s["attempts"] == 1, "the cut job ran again at the next start, its cut claim "
               "not counted: attempts %s" % s["attempts"], s)
        for i, q in enumerate(queued):
            s = s3.wait_done(q, T(60))
            expect_verdict(s, "accepted", "%d\n" % i)
            expect(s["attempts"] == 1, "a job queued at the second signal ran once: attempts %s"
                   % s["attempts"], s)
        s3.stop()
        return "stopped %.1f s after the signals" % took

    def busy_stop():
        # SIGTERM while many ?wait=true clients wait and GETs keep coming:
        # the waiters were answered from the store handle the event loop
        # was using at the same moment (SIGSEGV, or both threads spinning
        # for good with the data dir locked).
        s4 = R.server("shutdown-busy", ["--max-workers", "1", "--min-workers", "1",
                                        "--wait-timeout-ms", "60000"])
        s4.ensure()
        long_id = s4.submit(py(SLEEP_PRINT % (2, "'long'")))
        s4.wait_running(long_id)
        waiters = open_waiters(s4, 150, py("print('w')"), T(30))
        queued_id = s4.submit(py("print('q')"))
        stop = threading.Event()

        def hammer():
            try:
                c = socket.create_connection((s4.host, s4.port), timeout=T(5))
                get = b"GET /v1/submissions/%s HTTP/1.1\r\nHost: x\r\n\r\n" % queued_id.encode()
                while not stop.is_set():
                    c.sendall(get * 20)
                    c.recv(1 << 20)
            except OSError:
                pass
        hs = [threading.Thread(target=hammer) for _ in range(4)]
        for h in hs:
            h.start()
        time.sleep(0.5)
        s4.proc.send_signal(signal.SIGTERM)
        rc = s4.wait_exit(30, "SIGTERM")
        stop.set()
        for h in hs:
            h.join(T(10))
        expect(rc == 0, "exit status %s after SIGTERM with 150 waiters and GETs coming, "
               "expected 0" % rc)
        answered = 0
        for c in waiters:
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            answered += data.startswith(b"HTTP/1.1 202")
            c.close()
        expect(answered == len(waiters), "%d of %d waiting clients got their 202" %
               (answered, len(waiters)))
        return "150 waiters answered 202"

    R.case("shutdown/sigterm_graceful", graceful)
    R.case("shutdown/sigterm_busy", busy_stop)
    R.case("shutdown/sigint", sigint)
    R.case("shutdown/second_signal_cuts_jobs", second_signal)


# ---------------------------------------------------------------- 6. backpressure

def g_backpressure(R):
    # the flag overrides the config file's max_queue = 1
    srv = R.server("backpressure", ["--max-workers", "1", "--min-workers", "1",
                                    "--max-queue", "3"], config=config_text(max_queue=1))

    def full():
        accepted, refused = [], []
        # 1.5 s jobs: the queue stays full while the checks below run (with
        # shorter ones the single worker could free a place before the batch)
        for i in range(12):
            r = srv.post("/v1/submissions", py(SLEEP_PRINT % (1.5, i)))
            if r.status == 201:
                accepted.append((i, r.json["id"]))
            elif r.status == 503:
                refused.append(r)
            else:
                raise Fail("%s: expected 201 or 503" % r.what())
        expect(refused, "12 quick POSTs with --max-queue 3 and 1.5 s jobs: no 503")
        expect(3 <= len(accepted) <= 5, "%d accepted with --max-queue 3 (one running + 3 "
               "queued expected, give or take one; --max-queue overrides max_queue = 1 of the "
               "config file)" % len(accepted))
        # the gauges, once the single worker holds the first job
        deadline = time.monotonic() + T(5)
        while True:
            m = srv.metrics().text
            depth = metric_value(m, "runcell_queue_depth")
            running = metric_value(m, "runcell_jobs_running")
            busy = metric_value(m, "runcell_slots_busy")
            if running == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        expect(1 <= depth <= 3 and running == 1 and busy == 1,
               "with the queue full: runcell_queue_depth %s (1-3 expected), "
               "runcell_jobs_running %s and runcell_slots_busy %s (1 expected)" %
               (depth, running, busy))
        expect(metric_value(m, "runcell_slots_total") == 1, "runcell_slots_total should be 1 "
               "with --max-workers 1")
        expect(metric_value(m, "runcell_http_requests_total", {"code": "503"}) == len(refused),
               "runcell_http_requests_total{code=\"503\"} should count the %d refusals" %
               len(refused))
        r = refused[0]
        expect_error(r, 503, "queue")
        ra = r.header("Retry-After")
        expect(ra is not None and ra.strip().isdigit(),
               "%s: Retry-After header (seconds) expected, got %r" % (r.what(), ra))
        # If the worker claimed its first job only after the burst, that
        # claim freed a place: fill the queue again, then the batch must
        # find it full.
        for i in range(12, 16):
            r = srv.post("/v1/submissions", py(SLEEP_PRINT % (1.5, i)))
            if r.status == 503:
                break
            expect(r.status == 201, "%s: expected 201 or 503" % r.what())
            accepted.append((i, r.json["id"]))
        else:
            raise Fail("4 more POSTs with --max-queue 3 and 1.5 s jobs: no 503")
        b = srv.post("/v1/submissions/batch", {"submissions": [py("print(1)")]})
        expect_error(b, 503, "queue")
        for i, sid in accepted:
            expect_verdict(srv.wait_done(sid), "accepted", "%d\n" % i)
        listed = {e["id"] for e in srv.listing("limit=1000")}
        expect(listed == {sid for _, sid in accepted},
               "the store holds %d submissions, %d got 201" % (len(listed), len(accepted)))
        sid = srv.submit(py("print('again')"))
        expect_verdict(srv.wait_done(sid), "accepted", "again\n")
        return "%d accepted, %d refused" % (len(accepted), len(refused))

    R.case("backpressure/queue_full_503", full)

    def batch_over_queue():
        # A batch larger than --max-queue can never fit: 422, not a 503
        # with a Retry-After that retrying can never satisfy.
        b = srv.post("/v1/submissions/batch", {"submissions": [py("print(%d)" % i) for i in range(4)]})
        expect_error(b, 422, "submissions")
        expect(b.header("Retry-After") is None, "%s: no Retry-After on a 422" % b.what())
        expect("max_queue 3" in b.json["error"], "%s: the message should name max_queue" % b.what())

    R.case("backpressure/batch_over_queue_422", batch_over_queue)


# ---------------------------------------------------------------- 7. bad input

def bad_cases():
    ok = py("print(1)")

    def w(**kw):
        d = dict(ok)
        for k, v in kw.items():
            if v is DROP:
                d.pop(k, None)
            else:
                d[k] = v
        return d
    H = "/v1/submissions"
    HX = "0123456789abcdef0123456789abcdef"
    ids6 = ",".join(HX[:-1] + str(i) for i in range(6))
    return [
        # name, method, path, body (dict / bytes / None), headers, status, field
        ("malformed_json", "POST", H, b'{"language": "python3", ', None, 400, "body"),
        ("empty_body", "POST", H, b"", None, 400, "body"),
        ("invalid_utf8", "POST", H, b'{"language": "python3", "source": "print(\xff)"}', None,
         400, "body"),
        ("body_not_object", "POST", H, b"[1, 2]", None, (400, 422), "body"),
        ("trailing_garbage", "POST", H, b'{"language": "python3", "source": "x"} x', None, 400,
         "body"),
        ("language_number", "POST", H, w(language=3), None, 422, "language"),
        ("language_null", "POST", H, w(language=None), None, 422, "language"),
        ("language_missing", "POST", H, w(language=DROP), None, 422, "language"),
        ("language_unknown", "POST", H, w(language="cobol"), None, 422, "language"),
        ("source_number", "POST", H, w(source=12), None, 422, "source"),
        ("source_and_files_missing", "POST", H, w(source=DROP), None, 422, ("source", "files")),
        ("source_and_files_both", "POST", H, w(files=[{"name": "a.py", "content": "x"}]), None,
         422, ("source", "files")),
        ("unknown_field", "POST", H, w(lang="python3"), None, 422, "lang"),
        ("files_not_array", "POST", H, w(source=DROP, files={"name": "a.py"}), None, 422,
         "files"),
        ("files_empty", "POST", H, w(source=DROP, files=[]), None, 422, "files"),
        ("files_item_not_object", "POST", H, w(source=DROP, files=["print(1)"]), None, 422,
         "files[0]"),
        ("files_name_missing", "POST", H, w(source=DROP, files=[{"content": "x"}]), None, 422,
         "files[0].name"),
        ("files_name_slash", "POST", H, w(source=DROP, files=[
            {"name": "main.py", "content": "print(1)"}, {"name": "a/b.py", "content": "x"}]),
         None, 422, "files[1].name"),
        ("files_name_dotdot", "POST", H, w(source=DROP, files=[
            {"name": "..", "content": "print(1)"}]), None, 422, "files[0].name"),
        # 68 KB in 4 KB pages against a 64 KB disk (the body limit here is 64 KB)
        ("files_over_disk", "POST", H,
         w(source=DROP, files=[{"name": "main.py", "content": "x = 1\n" + "#" * 30000},
                               {"name": "b.py", "content": "#" * 30000},
                               {"name": "c.py", "content": "#" * 1000}], limits={"disk_kb": 64}),
         None, 422, "limits.disk_kb"),
        ("files_name_twice", "POST", H, w(source=DROP, files=[
            {"name": "a.py", "content": "print(1)"}, {"name": "a.py", "content": "print(2)"}]),
         None, 422, "files[1].name"),
        ("files_name_of_entry", "POST", H, w(source=DROP, files=[
            {"name": "x.py", "content": "print(1)"}, {"name": "main.py", "content": "x"}]),
         None, 422, "files[1].name"),
        ("files_name_like_option", "POST", H, w(language="c", source=DROP, files=[
            {"name": "main.c", "content": "int main(void) { return 0; }"},
            {"name": "-v.c", "content": "int x;"}]), None, 422, "files[1].name"),
        ("files_name_like_artifact", "POST", H, w(language="c", source=DROP, files=[
            {"name": "main.c", "content": "int main(void) { return 0; }"},
            {"name": "main", "content": "x"}]), None, 422, "files[1].name"),
        ("files_content_number", "POST", H, w(source=DROP, files=[
            {"name": "main.py", "content": 5}]), None, 422, "files[0].content"),
        ("files_bad_base64", "POST", H, w(source=DROP, files=[
            {"name": "main.py", "content": "!!not base64!!", "encoding": "base64"}]), None, 422,
         "files[0].content"),
        ("files_unknown_encoding", "POST", H, w(source=DROP, files=[
            {"name": "main.py", "content": "x", "encoding": "hex"}]), None, 422,
         "files[0].encoding"),
        ("files_unknown_key", "POST", H, w(source=DROP, files=[
            {"name": "main.py", "content": "x", "mode": 7}]), None, 422, "files[0].mode"),
        ("stdin_number", "POST", H, w(stdin=5), None, 422, "stdin"),
        ("expected_output_list", "POST", H, w(expected_output=["a"]), None, 422,
         "expected_output"),
        ("tests_not_array", "POST", H, w(tests={"stdin": "1"}), None, 422, "tests"),
        ("tests_item_stdin_number", "POST", H, w(tests=[{"stdin": "1"}, {"stdin": 2}]), None,
         422, "tests[1].stdin"),
        ("tests_unknown_key", "POST", H, w(tests=[{"stdin": "1", "input": "2"}]), None, 422,
         "tests[0].input"),
        ("tests_with_stdin", "POST", H, w(stdin="1", tests=[{"stdin": "1"}]), None, 422,
         ("stdin", "tests")),
        ("tests_with_expected_output", "POST", H, w(expected_output="1",
                                                    tests=[{"stdin": "1"}]), None, 422,
         ("expected_output", "tests")),
        ("tests_too_many", "POST", H, w(tests=[{"stdin": str(i)} for i in range(6)]), None, 422,
         "tests"),
        ("checker_unknown", "POST", H, w(checker="regex"), None, 422, "checker"),
        ("checker_number", "POST", H, w(checker=1), None, 422, "checker"),
        ("checker_float_bad_tolerance", "POST", H, w(checker="float:abc"), None, 422,
         "checker"),
        ("args_not_array", "POST", H, w(args="--verbose"), None, 422, "args"),
        ("args_item_number", "POST", H, w(args=["a", 2]), None, 422, "args[1]"),
        ("first_failure_string", "POST", H, w(first_failure="yes"), None, 422, "first_failure"),
        ("limits_not_object", "POST", H, w(limits=[1000]), None, 422, "limits"),
        ("limits_above_max", "POST", H, w(limits={"cpu_ms": 999999}), None, 422,
         "limits.cpu_ms"),
        ("limits_zero", "POST", H, w(limits={"cpu_ms": 0}), None, 422, "limits.cpu_ms"),
        # two tests of one name: "test x: ..." would not say which
        ("tests_name_twice", "POST", H, w(stdin=DROP, tests=[{"name": "x", "stdin": ""},
                                                            {"name": "x", "stdin": ""}]),
         None, 422, "tests[1].name"),
        ("tests_name_like_number", "POST", H, w(stdin=DROP, tests=[{"name": "2", "stdin": ""},
                                                                  {"stdin": ""}]),
         None, 422, "tests[1].name"),
        # a NUL cut names short in messages ("unknown language 'python3'")
        ("language_with_nul", "POST", H, w(language="python3\u0000x"), None, 422, "language"),
        ("checker_with_nul", "POST", H, w(checker="exact\u0000x"), None, 422, "checker"),
        ("callback_with_nul", "POST", H, w(callback_url="http://a/\u0000"), None, 422,
         "callback_url"),
        # below a cell's least: named, not "limits out of range (memory)"
        ("limits_below_least", "POST", H, w(limits={"memory_kb": 1}), None, 422, "limits.memory_kb"),
        ("limits_stack_below_least", "POST", H, w(limits={"stack_kb": 5}), None, 422,
         "limits.stack_kb"),
        ("limits_beyond_int64", "POST", H, w(limits={"cpu_ms": 9223372036854775808}), None, 422,
         "limits.cpu_ms"),
        ("limits_negative", "POST", H, w(limits={"memory_kb": -5}), None, 422,
         "limits.memory_kb"),
        ("limits_fraction", "POST", H, w(limits={"wall_ms": 1500.5}), None, 422,
         "limits.wall_ms"),
        ("limits_string", "POST", H, w(limits={"processes": "16"}), None, 422,
         "limits.processes"),
        ("limits_unknown_key", "POST", H, w(limits={"gpu_ms": 5}), None, 422, "limits.gpu_ms"),
        ("callback_https_address", "POST", H, w(callback_url="https://127.0.0.1:9/x"), None, 422,
         "callback_url"),
        ("callback_ftp", "POST", H, w(callback_url="ftp://127.0.0.1/x"), None, 422,
         "callback_url"),
        ("callback_number", "POST", H, w(callback_url=80), None, 422, "callback_url"),
        ("metadata_not_object", "POST", H, w(metadata=[1, 2]), None, 422, "metadata"),
        ("metadata_string", "POST", H, w(metadata="user 42"), None, 422, "metadata"),
        ("metadata_over_4k", "POST", H, w(metadata={"x": "y" * 5000}), None, 422, "metadata"),
        ("wait_bad_value", "POST", H + "?wait=maybe", ok, None, 400, "wait"),
        ("body_too_large", "POST", H, w(source="#" * (80 * 1024)), None, 413, "body"),
        ("content_type_text", "POST", H, ok, {"Content-Type": "text/plain"}, 415,
         "content-type"),
        ("content_type_xml", "POST", H, ok, {"Content-Type": "application/xml"}, 415,
         "content-type"),
        ("get_id_malformed", "GET", H + "/xyz", None, None, 400, "id"),
        ("get_id_uppercase", "GET", H + "/" + HX.upper(), None, None, 400, "id"),
        ("get_id_33_digits", "GET", H + "/" + HX + "0", None, None, 400, "id"),
        ("get_id_unknown", "GET", H + "/" + HX, None, None, 404, "id"),
        ("delete_id_malformed", "DELETE", H + "/not-an-id", None, None, 400, "id"),
        ("delete_id_unknown", "DELETE", H + "/" + HX, None, None, 404, "id"),
        ("ids_malformed", "GET", H + "?ids=%s,zz" % HX, None, None, 400, "ids"),
        ("ids_too_many", "GET", H + "?ids=" + ids6, None, None, 400, "ids"),
        # one big result asked for many times was built as many copies
        ("ids_repeated", "GET", H + "?ids=%s,%s" % (HX, HX), None, None, 400, "ids"),
        ("ids_with_status", "GET", H + "?ids=%s&status=done" % HX, None, None, 400, "ids"),
        ("query_twice", "POST", H + "?wait=true&wait=false", ok, None, 400, "wait"),
        ("query_no_name", "POST", H + "?=true", ok, None, 400, "query"),
        ("query_on_languages", "GET", "/v1/languages?x=1", None, None, 400, "x"),
        ("submissions_trailing_slash", "GET", H + "/", None, None, 404, "path"),
        ("listing_bad_status", "GET", H + "?status=finished", None, None, 400, "status"),
        ("listing_bad_limit", "GET", H + "?limit=abc", None, None, 400, "limit"),
        # %00 kept as written (decoded, "5%00x" was read as 5), no sign
        ("listing_limit_nul", "GET", H + "?limit=5%00x", None, None, 400, "limit"),
        ("listing_limit_plus", "GET", H + "?limit=%2B5", None, None, 400, "limit"),
        ("listing_status_nul", "GET", H + "?status=done%00x", None, None, 400, "status"),
        ("wait_nul", "POST", H + "?wait=true%00junk", ok, None, 400, "wait"),
        ("batch_over_max", "POST", H + "/batch", {"submissions": [ok] * 6}, None, (400, 422),
         "submissions"),
        ("batch_not_array", "POST", H + "/batch", {"submissions": ok}, None, (400, 422),
         "submissions"),
        ("batch_empty", "POST", H + "/batch", {"submissions": []}, None, (400, 422),
         "submissions"),
        ("batch_missing", "POST", H + "/batch", {"items": [ok]}, None, (400, 422),
         ("submissions", "items")),
        ("batch_malformed_json", "POST", H + "/batch", b"{", None, 400, "body"),
        ("unknown_path", "GET", "/v1/nope", None, None, 404, "path"),
        ("unknown_path_post", "POST", "/v1/other", ok, None, 404, "path"),
        ("unknown_path_v1_root", "GET", "/v1/", None, None, 404, "path"),
        ("method_get_batch", "GET", H + "/batch", None, None, 405, "method"),
        ("method_put", "PUT", H, ok, None, 405, "method"),
        ("method_long_name", "PROPFIND", H, None, None, 405, "method"),
        ("method_delete_languages", "DELETE", "/v1/languages", None, None, 405, "method"),
        ("method_post_on_id", "POST", H + "/" + HX, ok, None, 405, "method"),
    ]


DROP = object()


def g_badinput(R):
    srv = R.server("badinput", ["--max-workers", "1"],
                   config=config_text(max_cpu_ms=5000, batch_max=5, max_tests=5,
                                      max_body_kb=64))
    valid = []

    def baseline():
        s = srv.run(py("print('valid')"))
        expect_verdict(s, "accepted", "valid\n")
        valid.append(s["id"])
        r = srv.post("/v1/submissions", py("print('charset')"),
                     headers={"Content-Type": "application/json; charset=utf-8"})
        expect(r.status == 201, "%s: Content-Type application/json; charset=utf-8 should be "
               "accepted" % r.what())
        valid.append(r.json["id"])
        r = srv.post("/v1/submissions", py("print(1)", limits={"cpu_ms": 5000}))
        expect(r.status == 201, "%s: a limit equal to its maximum is valid" % r.what())
        valid.append(r.json["id"])

    def one(method, path, body, headers, status, field):
        def fn():
            raw = isinstance(body, bytes)
            if status == 413:
                r = raw_post(srv, path, json.dumps(body).encode())
            else:
                r = srv.req(method, path, body, headers=headers, raw_body=raw)
            expect_error(r, status, field)
            if status == 405:
                expect(r.header("Allow"), "%s: 405 needs an Allow header" % r.what())
                expect(method in r.json.get("error", ""),
                       "%s: the message should name the method %s whole" % (r.what(), method))
        return fn

    def nothing_stored():
        for sid in valid:
            srv.wait_done(sid)
        listed = [e["id"] for e in srv.listing("limit=1000")]
        expect(sorted(listed) == sorted(valid),
               "the store holds %d submissions, expected only the %d valid ones; extra: %s" %
               (len(listed), len(valid), sorted(set(listed) - set(valid))))
        m = srv.metrics().text
        n = metric_value(m, "runcell_submissions_accepted_total")
        expect(n == len(valid), "runcell_submissions_accepted_total %s, expected %d" %
               (n, len(valid)))
        return "%d stored" % len(listed)

    R.case("badinput/baseline_valid", baseline)
    for name, method, path, body, headers, status, field in bad_cases():
        R.case("badinput/" + name, one(method, path, body, headers, status, field))
    R.case("badinput/nothing_stored", nothing_stored)


# ---------------------------------------------------------------- 8. auth

# API keys (the server wants at least 8 characters, see etc/runcell.conf)
K1, K2, ADM = "key-one-k1", "key-two-k2", "admin-key-adm"


def g_auth(R):
    srv = R.server("auth", ["--max-workers", "1"],
                   config=config_text(api_keys="%s,%s" % (K1, K2), admin_key=ADM))
    st = {}

    def no_key():
        for m, p, b in (("POST", "/v1/submissions", py("print(1)")),
                        ("GET", "/v1/languages", None),
                        ("GET", "/v1/submissions/0123456789abcdef0123456789abcdef", None),
                        ("POST", "/v1/submissions/batch", {"submissions": [py("print(1)")]})):
            expect_error(srv.req(m, p, b), 401, "authorization")
        expect_error(srv.post("/v1/submissions", py("print(1)"),
                              headers={"Authorization": "Bearer nope"}), 401, "authorization")
        expect_error(srv.post("/v1/submissions", py("print(1)"),
                              headers={"X-Runcell-Key": K1 + "x"}), 401, "authorization")
        expect_error(srv.post("/v1/submissions", py("print(1)"),
                              headers={"Authorization": "Basic azE6"}), 401, "authorization")

    def bearer():
        s = srv.run(py("print('b')"), headers={"Authorization": "Bearer " + K1})
        expect_verdict(s, "accepted", "b\n")
        st["b"] = s["id"]
        r = srv.get("/v1/submissions/" + s["id"], headers={"Authorization": "Bearer " + K2})
        expect(r.status == 200, "%s: the second key k2 should work" % r.what())
        # 1*SP between the scheme and the key (RFC 9110 11.4)
        r = srv.get("/v1/submissions/" + s["id"], headers={"Authorization": "Bearer   " + K2})
        expect(r.status == 200, "%s: Bearer with spaces before the key should work" % r.what())

    def x_key():
        s = srv.run(py("print('x')"), headers={"X-Runcell-Key": K1})
        expect_verdict(s, "accepted", "x\n")
        st["x"] = s["id"]
        r = srv.get("/v1/languages", headers={"X-Runcell-Key": K2})
        expect(r.status == 200, "%s: expected 200" % r.what())

    def admin():
        if "b" not in st:
            raise Fail("needs auth/bearer_key")
        r = srv.delete("/v1/submissions/" + st["b"], headers={"Authorization": "Bearer " + K1})
        expect_error(r, 403, "authorization")
        expect_error(srv.get("/v1/submissions?limit=10", headers={"X-Runcell-Key": K1}),
                     403, "authorization")
        r = srv.get("/v1/submissions?limit=10", headers={"Authorization": "Bearer " + ADM})
        expect(r.status == 200, "%s: the admin key lists" % r.what())
        r = srv.delete("/v1/submissions/" + st["b"], headers={"Authorization": "Bearer " + ADM})
        expect(r.status == 204, "%s: expected 204 with the admin key" % r.what())
        r = srv.get("/v1/submissions?ids=" + st.get("x", st["b"]),
                    headers={"Authorization": "Bearer " + K1})
        expect(r.status == 200, "%s: ?ids= needs an API key only" % r.what())
        s = srv.run(py("print('a')"), headers={"X-Runcell-Key": ADM})
        expect_verdict(s, "accepted", "a\n")

    def cache_per_key():
        # one client cannot learn from the compile cache what another
        # compiled: a key sees only its own compiles as cached
        src = {"language": "c", "source": "int main(void) { return 41 + 0 * %d; }\n"
               % int(time.time() * 1000)}
        seen = []
        for key in (K1, K1, K2, K2, ADM):
            s = srv.run(src, headers={"X-Runcell-Key": key})
            expect_verdict(s, "runtime_error")
            seen.append(bool(s["result"]["compile"].get("cached")))
        b = srv.post("/v1/submissions/batch", {"submissions": [src]},
                     headers={"Authorization": "Bearer " + K2})
        expect(b.status == 200, "%s: expected 200" % b.what())
        s = srv.wait_done(b.json["submissions"][0]["id"], headers={"X-Runcell-Key": K2})
        seen.append(bool(s["result"]["compile"].get("cached")))
        expect(seen == [False, True, False, True, False, True],
               "cached per submission (k1, k1, k2, k2, admin, k2 in a batch): %s, want "
               "[False, True, False, True, False, True]" % seen)

    def keys_take_turns():
        # one worker; k1's batch of three queued before k2's one: k2's runs
        # second, not after all of k1's
        slow = py("import time\ntime.sleep(0.4)\nprint('k1')")
        b = srv.post("/v1/submissions/batch", {"submissions": [slow, slow, slow]},
                     headers={"X-Runcell-Key": K1})
        expect(b.status == 200, "%s: expected 200" % b.what())
        one = srv.post("/v1/submissions", py("print('k2')"), headers={"X-Runcell-Key": K2})
        expect(one.status == 201, "%s: expected 201" % one.what())
        k1 = [srv.wait_done(e["id"], headers={"X-Runcell-Key": K1})
              for e in b.json["submissions"]]
        k2 = srv.wait_done(one.json["id"], headers={"X-Runcell-Key": K2})
        order = sorted([(x["started_at"], "k1") for x in k1] + [(k2["started_at"], "k2")])
        expect([who for _, who in order] == ["k1", "k2", "k1", "k1"],
               "runs started in the order %s, want k1, k2, k1, k1" % [w for _, w in order])

    def open_paths():
        for p in ("/healthz", "/readyz", "/metrics"):
            r = srv.get(p)
            expect(r.status in ((200, 503) if p == "/readyz" else (200,)),
                   "%s: no key needed" % r.what())

    def refused_at_start(s):
        """Starts s, which must exit by itself without listening; returns
        its exit status and the tail of its log."""
        p, log = s.spawn()
        try:
            rc = p.wait(T(15))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise Fail("%s: still running after %.0f s" % (s.name, T(15)))
        text = tail(log, 10)
        expect(not [e for e in read_events(log) if e.get("event") == "listening"],
               "%s: it listened anyway" % s.name)
        s.logs.remove(log)
        return rc, text

    def listen_any_refused():
        rc, text = refused_at_start(R.server("auth-anon", ["--listen", "0.0.0.0"]))
        expect(rc != 0, "--listen 0.0.0.0 without api_keys exited 0")
        expect(re.search(r"api_keys|anonymous", text),
               "the message should name api_keys or allow-anonymous: %r" % clip(text))

    def listen_any_anonymous():
        s = R.server("auth-anon2", ["--listen", "0.0.0.0", "--allow-anonymous"])
        s.start()
        r = s.get("/healthz")
        expect(r.status == 200, "%s: expected 200" % r.what())
        r = s.get("/v1/languages")
        expect(r.status == 200, "%s: anonymous access expected" % r.what())
        s.stop()

    def listen_any_keys():
        s = R.server("auth-keys", ["--listen", "0.0.0.0"], config=config_text(api_keys=K1))
        s.start()
        expect_error(s.get("/v1/languages"), 401, "authorization")
        r = s.get("/v1/languages", headers={"Authorization": "Bearer " + K1})
        expect(r.status == 200, "%s: expected 200" % r.what())
        s.stop()

    R.case("auth/no_key_401", no_key)
    R.case("auth/bearer_key", bearer)
    R.case("auth/x_runcell_key", x_key)
    R.case("auth/admin_delete_list_403_204", admin)
    R.case("auth/compile_cache_per_key", cache_per_key)
    R.case("auth/keys_take_turns", keys_take_turns)
    R.case("auth/open_paths", open_paths)
    R.case("auth/listen_any_refused", listen_any_refused)
    R.case("auth/listen_any_allow_anonymous", listen_any_anonymous)

    def settings_refused():
        # Each stops the start with exit 2 and the file:line named: an
        # api_keys line with no key used to turn authentication off, a
        # short admin_key was taken, an unknown queue backend or a missing
        # CA file failed later with exit 1 and no line.
        for name, text, says in (
                ("keys-empty", "api_keys = ,\n", "lists no key"),
                ("keys-blank", "api_keys =\n", "lists no key"),
                ("admin-short", "admin_key = short\n", "at least 8"),
                ("queue-redis", "queue = redis://x\n", "unknown backend"),
                ("ca-missing", "callback_ca_file = /no/such/ca.pem\n", "/no/such/ca.pem")):
            s = R.server("settings-" + name, config=text)
            rc, out = refused_at_start(s)
            expect(rc == 2 and says in out and "runcell.conf:1" in out,
                   "%s: exit %s, %r (want 2, the file:line and %r)" % (name, rc, clip(out), says))
        data = tempfile.mkdtemp(prefix="noconf-", dir=TMP)
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data, "--config"],
                           capture_output=True, text=True, timeout=T(15))
        expect(p.returncode == 2 and "--config needs a file" in p.stderr,
               "--config without a value: exit %s, %r" % (p.returncode, clip(p.stderr)))

    R.case("auth/settings_refused", settings_refused)

    def web_page_with_keys():
        # The page's own code (web/app.js) against a server with api_keys,
        # in node with a stub DOM: the language list loads once a key is
        # typed (it stayed "(unavailable)"), a second submit during a run
        # sends nothing, output that is not UTF-8 is said to be so.
        node = shutil.which("node") or "/usr/bin/node"
        s = R.server("web-keys", ["--max-workers", "1"], config=config_text(api_keys=K1))
        s.start()
        p = subprocess.run([node, os.path.join(HERE, "web_page.js"), s.url, K1],
                           capture_output=True, text=True, timeout=T(60))
        s.stop()
        expect(p.returncode == 0 and "FAIL" not in p.stdout,
               "web/app.js: %s %s" % (clip(p.stdout), clip(p.stderr)))
        return "%d checks" % p.stdout.count("ok ")

    R.case("auth/web_page_with_keys", web_page_with_keys)
    def listen_ipv6_loopback():
        try:
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            t.bind(("::1", 0))
            t.close()
        except OSError as e:
            raise Skip("no IPv6 loopback on this host (%s)" % e)
        s = R.server("auth-v6", ["--listen", "::1"])
        s.start()
        expect(s.url.startswith("http://[::1]:"), "listening url %r, expected http://[::1]:PORT"
               % s.url)
        s.host = "::1"
        r = s.get("/healthz")
        expect(r.status == 200, "%s: expected 200 over IPv6" % r.what())
        r = s.get("/v1/languages")
        expect(r.status == 200, "%s: loopback needs no key" % r.what())
        s.stop()

    def keys_without_admin():
        s = R.server("auth-noadm", ["--max-workers", "1"], config=config_text(api_keys=K1))
        s.ensure()
        h = {"Authorization": "Bearer " + K1}
        sid = s.submit(py("print(1)"), headers=h)
        s.wait_done(sid, headers=h)
        r = s.get("/v1/submissions?limit=5", headers=h)
        expect(r.status == 200, "%s: without admin_key, an API key lists" % r.what())
        expect_error(s.get("/v1/submissions?limit=5"), 401, "authorization")
        r = s.delete("/v1/submissions/" + sid, headers=h)
        expect(r.status == 204, "%s: without admin_key, an API key deletes" % r.what())
        s.stop()

    R.case("auth/listen_any_with_keys", listen_any_keys)
    R.case("auth/api_keys_without_admin_key", keys_without_admin)
    R.case("auth/listen_ipv6_loopback_no_keys", listen_ipv6_loopback)

    def config_refused(name, config, want):
        """A config file the server cannot read exactly: exit 2 with the
        file and line named, and never listening."""
        def run():
            rc, text = refused_at_start(R.server(name, [], config=config))
            expect(rc == 2, "exit %s, expected 2: %s" % (rc, clip(text)))
            expect(want in text, "the message should say %r: %r" % (want, clip(text)))
        return run

    # A key list cut at the buffer's end would make a prefix of a key valid.
    R.case("auth/config_line_too_long",
           config_refused("conf-long", "port = 0\napi_keys = %s,%s\n" % (K1, "k" * 5000),
                          "runcell.conf:2: line longer than"))
    R.case("auth/config_line_without_equals",
           config_refused("conf-noeq", "# keys\napi_keys\n", "runcell.conf:2: expected 'key = value'"))
    R.case("auth/config_unknown_setting",
           config_refused("conf-unknown", "api_key = %s\n" % K1,
                          "runcell.conf:1: unknown setting 'api_key'"))
    # a limit outside what a cell takes said only "a limit setting is out of
    # range (open_files)": no file, no line, not the key
    R.case("auth/config_limit_out_of_range",
           config_refused("conf-limit", "port = 0\nmax_open_files = 2\n",
                          "runcell.conf:2: max_open_files must be an integer from 4 to 1048576, not '2'"))


    # build/runcell alone, as a user might copy it: the musl front binary
    # runs cells by itself and says what serve needs; the full binary
    # (SANITIZE=1, or no musl-gcc) serves by itself.
    def binary_alone():
        info = subprocess.run([RUNCELL, "version"], capture_output=True, text=True)
        expect(info.returncode == 0, "runcell version: exit %s" % info.returncode)
        build = [l for l in info.stdout.splitlines() if l.startswith("build: ")]
        expect(len(build) == 1, "runcell version should print one 'build:' line: %r" % info.stdout)
        front = "musl front" in build[0]
        alone = os.path.join(tempfile.mkdtemp(prefix="alone-", dir=TMP), "runcell")
        shutil.copy(RUNCELL, alone)
        run = subprocess.run([alone, "run", "--", "/bin/echo", "cell"], capture_output=True,
                             text=True, timeout=T(30))
        expect(run.returncode == 0 and run.stdout == "cell\n",
               "runcell run from a lone copy: exit %s, stdout %r, stderr %r"
               % (run.returncode, run.stdout, clip(run.stderr)))
        if front:
            data = tempfile.mkdtemp(prefix="alone-data-", dir=TMP)
            p = subprocess.run([alone, "serve", "--port", "0", "--data", data],
                               capture_output=True, text=True, timeout=T(15))
            expect(p.returncode == 2, "serve from a lone front binary: exit %s, expected 2: %r"
                   % (p.returncode, clip(p.stderr)))
            want = os.path.join(os.path.dirname(alone), "runcell-server")
            expect(("serve needs %s beside runcell" % want) in p.stderr,
                   "the message should name %s: %r" % (want, clip(p.stderr)))
            expect(not os.listdir(data), "serve wrote into --data anyway: %r" % os.listdir(data))
        else:
            p = subprocess.run([alone, "serve", "--help"], capture_output=True, text=True,
                               timeout=T(15))
            expect(p.returncode == 0 and "usage" in (p.stdout + p.stderr),
                   "serve --help from a lone full binary: exit %s: %r"
                   % (p.returncode, clip(p.stdout + p.stderr)))

    R.case("start/binary_alone", binary_alone)

    # A server whose configured maximum its cells could not set (a hard
    # stack rlimit of 8 MB, no CAP_SYS_RESOURCE) refuses to start, with
    # the setting named, rather than failing every request that asks.  A
    # built-in maximum there is lowered instead (it refused to start with
    # no config at all).
    def limits_above_hard():
        capeff = int(re.search(r"CapEff:\s*([0-9a-f]+)", open("/proc/self/status").read()).group(1), 16)
        if capeff & (1 << 24):
            raise Skip("this driver has CAP_SYS_RESOURCE: hard limits can be raised")
        lower = lambda: resource.setrlimit(resource.RLIMIT_STACK, (8 << 20, 8 << 20))
        conf = os.path.join(tempfile.mkdtemp(prefix="hardconf-", dir=TMP), "runcell.conf")
        write(conf, "max_stack_kb = 262144\n")
        data = tempfile.mkdtemp(prefix="hard-", dir=TMP)
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data, "--config", conf],
                           capture_output=True, text=True, timeout=T(15), preexec_fn=lower)
        expect(p.returncode == 2, "serve under a hard stack of 8 MB: exit %s, expected 2: %r"
               % (p.returncode, clip(p.stderr)))
        expect("max_stack_kb (262144) is above the hard limit" in p.stderr and "at most 8192" in p.stderr,
               "the message should name max_stack_kb and 8192: %r" % clip(p.stderr))
        log = os.path.join(data, "..", os.path.basename(data) + ".log")
        with open(log, "wb") as f:
            q = subprocess.Popen([RUNCELL, "serve", "--port", "0", "--data", data], stdout=f,
                                 stderr=f, preexec_fn=lower, start_new_session=True)
        try:
            deadline = time.monotonic() + T(20)
            while time.monotonic() < deadline and q.poll() is None and \
                    not any(e.get("event") == "listening" for e in read_events(log)):
                time.sleep(0.05)
            text = open(log, errors="replace").read()
            expect(q.poll() is None, "serve with the built-in maximums under a hard stack of 8 MB "
                   "exited %s: %r" % (q.returncode, clip(text)))
            expect("max_stack_kb lowered to 8192" in text, "no line saying max_stack_kb was lowered: %r"
                   % clip(text))
        finally:
            if q.poll() is None:
                q.send_signal(signal.SIGTERM)
                try:
                    q.wait(T(15))
                except subprocess.TimeoutExpired:
                    q.kill()
                    q.wait()

    R.case("start/limits_above_hard_rlimit", limits_above_hard)

    # An open-file limit too low for the workers' cells: refused at the
    # start (every job used to end as internal_error while /readyz said
    # ready); a low one that suffices caps the connections instead.
    def nofile_too_low():
        data = tempfile.mkdtemp(prefix="nofile-", dir=TMP)
        conf = os.path.join(data, "runcell.conf")
        write(conf, config_text(max_open_files=64, default_open_files=64))
        lower = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (90, 90))
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data, "--max-workers", "2",
                            "--config", conf],
                           capture_output=True, text=True, timeout=T(15), preexec_fn=lower)
        expect(p.returncode != 0, "serve under ulimit -n 90: exit 0: %r" % clip(p.stderr))
        expect("open-file limit of 90 is too low for 2 workers" in p.stderr,
               "the message should name the limit and the workers: %r" % clip(p.stderr))

    R.case("start/nofile_too_low", nofile_too_low)

    # Another program's SQLite file where runcell.db should be: refused,
    # untouched (it used to be switched to WAL and given runcell's tables);
    # a file that is no database at all: refused with its path named.
    def foreign_database():
        import sqlite3
        data = tempfile.mkdtemp(prefix="foreign-", dir=TMP)
        db = os.path.join(data, "runcell.db")
        c = sqlite3.connect(db)
        c.execute("CREATE TABLE users (id, name)")
        c.execute("INSERT INTO users VALUES (1, 'x')")
        c.commit()
        c.close()
        before = open(db, "rb").read()
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data], capture_output=True,
                           text=True, timeout=T(15))
        expect(p.returncode != 0, "serve on a foreign database: exit 0")
        expect("not a runcell database" in p.stderr and "users" in p.stderr,
               "the message should say so and name the table: %r" % clip(p.stderr))
        expect(open(db, "rb").read() == before, "the foreign database was changed")
        expect(not os.path.exists(db + "-wal"), "a WAL file was made beside the foreign database")
        with open(db, "wb") as f:
            f.write(b"this is not a database, just some text long enough" * 20)
        p = subprocess.run([RUNCELL, "serve", "--port", "0", "--data", data], capture_output=True,
                           text=True, timeout=T(15))
        expect(p.returncode != 0 and db in p.stderr,
               "a corrupt runcell.db: exit %d, message %r (want non-zero, the path named)"
               % (p.returncode, clip(p.stderr)))

    R.case("start/foreign_database", foreign_database)


# ---------------------------------------------------------------- 9. concurrency

def g_concurrency(R):
    srv = R.server("concurrency", ["--max-workers", "2"])

    def many():
        srv.ensure()
        errors = []
        done = [0]
        lock = threading.Lock()
        src = "s = input()\nprint(s[::-1], len(s))"

        def client(t):
            c = Client(srv.host, srv.port)
            try:
                for k in range(10):
                    word = "t%02dk%d-%s" % (t, k, "x" * (t + k))
                    want = "%s %d\n" % (word[::-1], len(word))
                    sub = py(src, stdin=word + "\n", expected_output=want)
                    if k % 2 == 0:
                        r = c.request("POST", "/v1/submissions?wait=true", sub, timeout=T(120))
                        if r.status == 202:
                            s = poll(c, r.json["id"])
                        elif r.status == 200:
                            s = r.json
                        else:
                            raise Fail("%s: expected 200" % r.what())
                    else:
                        r = c.request("POST", "/v1/submissions", sub)
                        if r.status != 201:
                            raise Fail("%s: expected 201" % r.what())
                        s = poll(c, r.json["id"])
                    check_sub(s)
                    if s["verdict"] != "accepted" or s["result"]["tests"][0]["stdout"] != want:
                        raise Fail("stdin %r: accepted with %r expected; got %s" %
                                   (word, want, brief(s)))
                    with lock:
                        done[0] += 1
            except Fail as e:
                with lock:
                    errors.append("client %d: %s" % (t, e))
            finally:
                c.close()

        def poll(c, sid):
            deadline = time.monotonic() + T(120)
            while time.monotonic() < deadline:
                r = c.request("GET", "/v1/submissions/" + sid)
                if r.status != 200:
                    raise Fail("%s: expected 200" % r.what())
                if r.json["status"] == "done":
                    return r.json
                time.sleep(0.05)
            raise Fail("%s not done in %.0f s" % (sid, T(120)))

        t0 = time.monotonic()
        ths = [threading.Thread(target=client, args=(t,)) for t in range(20)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        expect(not errors, "%d of 20 clients failed: %s" % (len(errors), "; ".join(errors[:3])))
        expect(done[0] == 200, "%d of 200 done" % done[0])
        # The API's writer and both workers wrote all along: within one
        # server they queue on a mutex, never in SQLite's sleeping retries.
        waits = metric_value(srv.metrics().text, "runcell_store_lock_waits_total")
        expect(waits == 0, "runcell_store_lock_waits_total is %s after 200 jobs, expected 0" % waits)
        return "200 in %.1f s" % (time.monotonic() - t0)

    R.case("concurrency/200_from_20_threads", many)


# ---------------------------------------------------------------- 10. waiters

def g_waiters(R):
    srv = R.server("waiters", ["--max-workers", "1", "--min-workers", "1"],
                   config=config_text(wait_timeout_ms=4000))
    N = 1000

    def thousand():
        srv.ensure()
        blocker = srv.submit(py(SLEEP_PRINT % (4, "'blocker'")))
        srv.wait_running(blocker, "the blocking job")
        req = wait_request(py("print(1)"))
        sel = selectors.DefaultSelector()
        socks = []
        t0 = time.monotonic()
        try:
            for i in range(N):
                s = socket.create_connection((srv.host, srv.port), timeout=T(10))
                s.sendall(req)
                s.setblocking(False)
                st = {"i": i, "buf": b"", "done": False, "err": None}
                socks.append((s, st))
                sel.register(s, selectors.EVENT_READ, st)
            sent = time.monotonic() - t0
            results = {}
            c = Client(srv.host, srv.port)
            burst_probe = c.request("GET", "/healthz", timeout=T(30)).secs
            c.close()

            def pump(until):
                while len(results) < N:
                    left = until - time.monotonic()
                    if left <= 0:
                        return
                    for key, _ in sel.select(min(left, 0.05)):
                        st = key.data
                        try:
                            chunk = key.fileobj.recv(65536)
                        except (ConnectionResetError, BrokenPipeError) as e:
                            chunk, st["err"] = b"", str(e)
                        except BlockingIOError:
                            continue
                        if chunk:
                            st["buf"] += chunk
                        head, sep, bd = st["buf"].partition(b"\r\n\r\n")
                        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                        if sep and m and len(bd) >= int(m.group(1)) or not chunk:
                            sel.unregister(key.fileobj)
                            results[st["i"]] = st

            # wait until every POST is stored (and so held), then check
            # that the loop still answers other requests at once
            deadline = time.monotonic() + T(30)
            while True:
                pump(time.monotonic() + 0.1)
                c = Client(srv.host, srv.port)
                m = c.request("GET", "/metrics", timeout=T(30)).text
                c.close()
                if metric_value(m, "runcell_submissions_accepted_total") >= N + 1:
                    break
                if time.monotonic() > deadline:
                    raise Fail("the %d POSTs were not all stored after %.0f s" % (N, T(30)))
            stored = time.monotonic() - t0
            probes = []
            for _ in range(3):
                pump(time.monotonic() + 0.3)
                for path in ("/healthz", "/v1/languages"):
                    c = Client(srv.host, srv.port)
                    r = c.request("GET", path, timeout=T(10))
                    c.close()
                    probes.append((path, r.status, r.secs))
            held_at_probe = N - len(results)
            pump(time.monotonic() + T(60))
        finally:
            for s, _ in socks:
                s.close()
            sel.close()
        limit = 1.0 * min(SCALE, 3)
        slow = [p for p in probes if p[1] != 200 or p[2] > limit]
        expect(not slow, "with %d clients held, probes answered slowly or not 200 "
               "(path, status, secs): %s" % (held_at_probe, slow))
        expect(len(results) == N, "%d of %d clients got no complete answer in %.0f s" %
               (N - len(results), N, T(60)))
        codes = {}
        bad = []
        for st in results.values():
            m = re.match(rb"HTTP/1\.1 (\d{3}) ", st["buf"])
            code = int(m.group(1)) if m else None
            codes[code] = codes.get(code, 0) + 1
            if code not in (200, 202):
                bad.append((st["i"], code, st["err"], clip(st["buf"][:200].decode("latin-1"))))
            elif code == 202:
                j = json.loads(st["buf"].partition(b"\r\n\r\n")[2])
                if not (ID_RE.match(str(j.get("id"))) and j.get("status") in ("queued",
                                                                               "running")):
                    bad.append((st["i"], code, "202 body %r" % j))
        expect(not bad, "%d clients got other than 200/202 (first: %s)" % (len(bad), bad[:3]))
        worst = max(p[2] for p in probes)
        return ("codes %s; sent in %.1f s, stored in %.1f s (a /healthz during the burst: "
                "%.3f s); slowest probe %.3f s with %d held" %
                (codes, sent, stored, burst_probe, worst, held_at_probe))

    def disconnecting():
        srv.ensure()
        before = metric_value(srv.metrics().text, "runcell_submissions_total",
                              {"verdict": "accepted"})
        blocker = srv.submit(py(SLEEP_PRINT % (1, "'blocker'")))
        socks = open_waiters(srv, 50, py("print(2)"), T(10))
        time.sleep(0.3)
        for i, c in enumerate(socks):
            if i % 2:   # half of them with a reset
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
        r = srv.get("/healthz")
        expect(r.status == 200, "%s: expected 200 after 50 held clients hung up" % r.what())
        expect_verdict(srv.wait_done(blocker), "accepted", "blocker\n")
        deadline = time.monotonic() + T(30)
        while True:
            m = srv.metrics().text
            n = metric_value(m, "runcell_submissions_total", {"verdict": "accepted"})
            if n >= before + 51:
                break
            if time.monotonic() > deadline:
                raise Fail("only %d of the 51 submissions finished (queue depth %s)" %
                           (n - before, metric_value(m, "runcell_queue_depth")))
            time.sleep(0.1)
        expect(n == before + 51, "%d finished, expected 51" % (n - before))

    R.case("waiters/disconnecting_clients", disconnecting)
    R.case("waiters/1000_held_clients", thousand)


# ---------------------------------------------------------------- autoscale

def g_autoscale(R):
    def gauges(srv):
        t = srv.metrics().text
        return (metric_value(t, "runcell_slots_total"), metric_value(t, "runcell_slots_busy"))

    def wait_for(srv, what, pred, secs):
        deadline = time.monotonic() + T(secs)
        seen = []
        while time.monotonic() < deadline:
            g = gauges(srv)
            seen.append(g)
            if pred(*g):
                return g
            time.sleep(0.05)
        raise Fail("%s not seen in %.0f s (slots_total, slots_busy): %s" %
                   (what, T(secs), seen[-5:]))

    def grow_and_shrink(srv, low, high):
        expect(gauges(srv)[0] == low, "idle pool has %s workers, expected %d" %
               (gauges(srv)[0], low))
        ids = []
        for i in range(2 * high + 2):
            r = srv.post("/v1/submissions", py(SLEEP_PRINT % (0.4, i)))
            expect(r.status == 201, "%s: expected 201" % r.what())
            ids.append((i, r.json["id"]))
        wait_for(srv, "%d workers, all busy" % high, lambda tot, busy: tot == high and busy == high,
                 10)
        for i, sid in ids:
            s = srv.wait_done(sid, T(60))
            expect_verdict(s, "accepted", "%d\n" % i)
        # worker_idle_ms = 400: the extra workers leave, one by one
        wait_for(srv, "back to %d workers" % low, lambda tot, busy: tot == low and busy == 0, 10)
        ev = [e for e in read_events(srv.logs[0]) if "adding one" in e.get("msg", "")]
        expect(len(ev) >= high - low, "%d 'adding one' log lines, expected >= %d" %
               (len(ev), high - low))
        return "%d -> %d -> %d workers" % (low, high, low)

    srv = R.server("autoscale", ["--min-workers", "1", "--max-workers", "2"],
                   config=config_text(worker_idle_ms=400))
    R.case("autoscale/grows_and_shrinks", grow_and_shrink, srv, 1, 2)
    zero = R.server("autoscale-zero", ["--min-workers", "0", "--max-workers", "2"],
                    config=config_text(worker_idle_ms=400))

    def from_zero():
        zero.ensure()
        r = zero.get("/readyz")
        expect(r.status == 200, "%s: with min_workers 0 an idle server is ready" % r.what())
        return grow_and_shrink(zero, 0, 2)

    R.case("autoscale/from_and_to_zero", from_zero)


# ---------------------------------------------------------------- main

# ---------------------------------------------------------------- docs

# The answers docs/API.md and README.md show are checked on these keys'
# values; the rest only for being there (times, ids and sizes vary).
DOC_EXACT_KEYS = ("verdict", "stdout", "error", "field")


def run_doc_block(srv, block):
    """Runs one block's commands in order against srv; returns the
    number run.  'ID=X' takes the id of the answer before it, and X is
    read as that id in the answers shown after it."""
    ident, last, n = None, "", 0
    for cmd, expected in block:
        if cmd.startswith("ID="):
            m = re.search(r'"id"\s*:\s*"([0-9a-f]{32})"', last)
            if not m:
                raise Fail("`%s`: the answer before it has no id: %s" % (cmd, clip(last, 200)))
            ident = (cmd[3:].strip(), m.group(1))
            continue
        if not cmd.startswith("curl "):
            continue
        shown = [l.replace(ident[0], ident[1]) if ident else l for l in expected]
        real = cmd.replace("localhost:8080", "127.0.0.1:%d" % srv.port)
        env = dict(os.environ, ID=ident[1] if ident else "")
        p = subprocess.run(["bash", "-c", real], capture_output=True, env=env,
                           timeout=T(30))
        last = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
        if p.returncode != 0:
            raise Fail("`%s`: exit status %d, stderr %s" % (cmd, p.returncode,
                                                          clip(p.stderr.decode(errors="replace"), 200)))
        why = doc_examples.mismatch(shown, last, DOC_EXACT_KEYS)
        if why:
            raise Fail("`%s`: %s" % (clip(cmd, 120), why))
        n += 1
    return n


def g_docs(R):
    """Every '$ curl' example of docs/API.md and README.md, against a
    fresh server (the Authentication section's against one with the keys
    it names)."""
    if not shutil.which("curl"):
        raise Fail("curl is not installed (scripts/deps.sh installs it)")
    R.case("docs/runcell.conf_uncommented", conf_uncommented, R)
    srv = R.server("docs")
    srv.start()
    keyed = None
    for doc in ("docs/API.md", "README.md"):
        blocks = [(h, b) for h, b in doc_examples.examples(os.path.join(ROOT, doc))
                  if any(c.startswith(("curl ", "ID=")) for c, _ in b)]
        if doc == "docs/API.md" and len(blocks) < 10:
            R.report("docs/API.md:examples", False, "only %d example blocks found" % len(blocks))
        for k, (heading, block) in enumerate(blocks):
            target = srv
            if heading == "Authentication":
                if keyed is None:
                    keyed = R.server("docs_keys", config=config_text(
                        api_keys="user-key-0001", admin_key="admin-key-0001"))
                    keyed.start()
                target = keyed
            name = "docs/%s:%s#%d" % (os.path.basename(doc), re.sub(r"\W+", "_", heading).strip("_"),
                                      k + 1)
            R.case(name, run_doc_block, target, block)


def conf_uncommented(R):
    """etc/runcell.conf with every example setting uncommented (but the CA
    file, whose path is only an example): each line must be one a server
    takes.  Two settings on one line used to stop the start."""
    out = []
    with open(os.path.join(ROOT, "etc", "runcell.conf")) as f:
        for line in f:
            m = re.match(r"^# ([a-z_]+) = ", line)
            if m and m.group(1) != "callback_ca_file":
                line = line[2:]
            out.append(line)
    srv = R.server("conf_uncommented", config="".join(out))
    try:
        srv.start(timeout=T(20))
    except Fail as e:
        raise Fail("etc/runcell.conf with its examples uncommented: %s" % e)
    r = srv.get("/healthz")
    expect(r.status == 200, "%s: expected 200" % r.what())
    srv.stop()


GROUPS = [("api", g_api), ("verdict", g_verdict), ("badinput", g_badinput),
          ("auth", g_auth), ("callback", g_callback), ("callback_tls", g_callback_tls),
          ("backpressure", g_backpressure),
          ("shutdown", g_shutdown), ("durability", g_durability),
          ("concurrency", g_concurrency), ("autoscale", g_autoscale), ("waiters", g_waiters),
          ("docs", g_docs)]


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= n:
        return
    new = n if hard == resource.RLIM_INFINITY else min(n, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    except (ValueError, OSError):
        pass


def main():
    global VERBOSE, KEEP, TMP, SCALE
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[], help="run cases whose name contains this")
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    o = ap.parse_args()
    VERBOSE, KEEP = o.v, o.keep
    if os.geteuid() != 0:
        print("skip: runcell serve needs root (cells create namespaces and cgroups)")
        return 77
    if not os.access(RUNCELL, os.X_OK):
        print("FAIL setup: %s is not executable" % RUNCELL)
        print("0 passed, 1 failed")
        return 1
    SCALE = float(os.environ.get("RUNCELL_TEST_SCALE") or (4 if is_asan(RUNCELL) else 1))
    raise_nofile(8192)
    TMP = tempfile.mkdtemp(prefix="runcell-api-")
    R = Runner(o.k)
    t0 = time.monotonic()
    try:
        for name, fn in GROUPS:
            R.group(name, fn)
    finally:
        with ALL_SERVERS_LOCK:
            for p in ALL_SERVERS:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except OSError:
                        p.kill()
                    p.wait()
        if KEEP or (R.failed and VERBOSE):
            sys.stderr.write("# logs and data kept in %s\n" % TMP)
        else:
            shutil.rmtree(TMP, ignore_errors=True)
    vlog("total %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (R.passed, R.failed))
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
