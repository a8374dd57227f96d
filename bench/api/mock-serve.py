#!/usr/bin/python3
"""bench/api/mock-serve.py: a stand-in for `runcell serve`, to test
bench/api/loadgen.c and bench/api.sh without the real server.  Self-test
only; it is not what the benchmark measures.

    RUNCELL=bench/api/mock-serve.py bench/api.sh --quick
    bench/api/mock-serve.py serve [--config FILE] --port 0 --data DIR [--close-every N] [--drop-every N] [--chunked]

It speaks the part of docs/API.md the benchmark uses: POST
/v1/submissions[?wait=true], POST /v1/submissions/batch, GET
/v1/submissions?ids=..., GET /v1/submissions/ID, /readyz, /healthz.  Python
submissions really run (/usr/bin/python3 -c SOURCE, nproc at a time), bare.
--close-every N closes the keep-alive connection after every Nth response
(to exercise the load generator's reconnects); --drop-every N closes it after every Nth response
without saying so (a stale keep-alive connection); --chunked sends bodies with
Transfer-Encoding: chunked instead of Content-Length.
"""
import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

subs = {}
lock = threading.Lock()
done_cv = threading.Condition(lock)
jobs = queue.Queue()
counter = 0


def log(**kw):
    kw = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "info", **kw}
    sys.stderr.write(json.dumps(kw, separators=(",", ":")) + "\n")
    sys.stderr.flush()


def worker():
    while True:
        sid = jobs.get()
        with lock:
            s = subs[sid]
            s["status"] = "running"
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/python3", "-c", s["source"]], capture_output=True)
        ms = int((time.monotonic() - t0) * 1000)
        verdict = "accepted" if p.returncode == 0 else "runtime_error"
        with lock:
            s["status"] = "done"
            s["verdict"] = verdict
            s["result"] = {"verdict": verdict, "tests": [{
                "name": "1", "verdict": verdict, "status": "ok", "exit_code": p.returncode,
                "wall_ms": ms, "stdout": p.stdout.decode(), "stderr": p.stderr.decode()}]}
            done_cv.notify_all()


def new_sub(item):
    if not isinstance(item, dict) or item.get("language") not in ("python3", "python", "py"):
        return None
    sid = uuid.uuid4().hex
    subs[sid] = {"id": sid, "status": "queued", "language": "python3",
                 "source": item.get("source", ""), "verdict": None, "result": None}
    return sid


def view(s):
    return {k: v for k, v in s.items() if k != "source"}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        global counter
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        counter += 1
        close = ARGS.close_every and counter % ARGS.close_every == 0
        if ARGS.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if ARGS.drop_every and counter % ARGS.drop_every == 0:
            self.close_connection = True  # silently: no Connection: close
        self.end_headers()
        if ARGS.chunked:
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                if part:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        if u.path in ("/readyz", "/healthz"):
            return self.reply(200, {"status": "ready" if u.path == "/readyz" else "ok"})
        if u.path == "/v1/submissions" and "ids" in q:
            ids = q["ids"][0].split(",")
            with lock:
                return self.reply(200, {"submissions": [view(subs[i]) if i in subs else None
                                                        for i in ids]})
        if u.path.startswith("/v1/submissions/"):
            with lock:
                s = subs.get(u.path.rsplit("/", 1)[1])
                if s:
                    return self.reply(200, view(s))
        return self.reply(404, {"error": "not found", "field": "path"})

    def do_POST(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        n = int(self.headers.get("Content-Length", "0"))
        try:
            body = json.loads(self.rfile.read(n))
        except ValueError:
            return self.reply(400, {"error": "malformed JSON", "field": "body"})
        if u.path == "/v1/submissions/batch":
            out = []
            with lock:
                for i, item in enumerate(body.get("submissions", [])):
                    sid = new_sub(item)
                    out.append({"id": sid, "status": "queued"} if sid else
                               {"status": 422, "error": "bad", "field": "submissions[%d]" % i})
            for o in out:
                if "id" in o:
                    jobs.put(o["id"])
            return self.reply(200, {"submissions": out})
        if u.path == "/v1/submissions":
            with lock:
                sid = new_sub(body)
            if not sid:
                return self.reply(422, {"error": "unknown language", "field": "language"})
            jobs.put(sid)
            if q.get("wait") == ["true"]:
                deadline = time.monotonic() + 10
                with lock:
                    while subs[sid]["status"] != "done" and time.monotonic() < deadline:
                        done_cv.wait(0.5)
                    s = view(subs[sid])
                if s["status"] == "done":
                    return self.reply(200, s)
                return self.reply(202, {"id": sid, "status": s["status"]})
            return self.reply(201, {"id": sid, "status": "queued"})
        return self.reply(404, {"error": "not found", "field": "path"})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--data", default="data")
    ap.add_argument("--config", default=None)  # accepted, not read
    ap.add_argument("--close-every", type=int, default=0)
    ap.add_argument("--drop-every", type=int, default=0)
    ap.add_argument("--chunked", action="store_true")
    ARGS = ap.parse_args()
    if ARGS.cmd != "serve":
        sys.exit("mock-serve: only 'serve'")
    for _ in range(os.cpu_count() or 1):
        threading.Thread(target=worker, daemon=True).start()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), H)
    srv.daemon_threads = True
    log(event="listening", url="http://127.0.0.1:%d" % srv.server_address[1])
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    srv.serve_forever()


if __name__ == "__main__":
    main()
