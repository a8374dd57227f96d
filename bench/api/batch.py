#!/usr/bin/python3
"""bench/api/batch.py: end-to-end time of one batch, for bench/api.sh.

    batch.py URL N ROUNDS [POLL_MS]

Per round: POST URL/v1/submissions/batch with N python3 print(1)
submissions, then GET URL/v1/submissions?ids=... every POLL_MS (default 5)
until every submission's status is "done".  The time runs from just before
the POST to the reply that shows all done, on one keep-alive connection.
One unrecorded warm-up round comes first.

Prints one line per recorded round, "ms=T polls=P verdicts=accepted:N", on
stdout.  Exits 1 (with the reason on stderr) when a reply is not 200, an
item was refused, a submission is not accepted, or a round takes more than
60 s.
"""
import http.client
import json
import sys
import time
from urllib.parse import urlsplit


def fail(msg):
    sys.stderr.write("batch.py: %s\n" % msg)
    sys.exit(1)


def main():
    if len(sys.argv) not in (4, 5):
        fail("usage: batch.py URL N ROUNDS [POLL_MS]")
    u = urlsplit(sys.argv[1])
    n, rounds = int(sys.argv[2]), int(sys.argv[3])
    poll = (float(sys.argv[4]) if len(sys.argv) == 5 else 5.0) / 1000.0
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    body = json.dumps({"submissions": [{"language": "python3", "source": "print(1)"}
                                       for _ in range(n)]})
    hdrs = {"Content-Type": "application/json"}

    def call(method, path, data=None):
        for attempt in (0, 1):
            try:
                conn.request(method, path, body=data, headers=hdrs if data else {})
                r = conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()  # a stale keep-alive connection: once more
                if attempt:
                    raise

    for rnd in range(rounds + 1):
        t0 = time.perf_counter()
        status, raw = call("POST", "/v1/submissions/batch", body)
        if status != 200:
            fail("POST /v1/submissions/batch: status %d: %.300s" % (status, raw))
        items = json.loads(raw).get("submissions") or []
        ids = [it.get("id") for it in items]
        if len(ids) != n or not all(ids):
            fail("POST /v1/submissions/batch: %d items, refused or short: %.300s"
                 % (len(items), raw))
        path = "/v1/submissions?ids=" + ",".join(ids)
        polls = 0
        while True:
            status, raw = call("GET", path)
            polls += 1
            if status != 200:
                fail("GET %s: status %d: %.300s" % (path[:60], status, raw))
            subs = json.loads(raw).get("submissions") or []
            if len(subs) != n or any(s is None for s in subs):
                fail("GET ?ids=: %d entries (or null ones) for %d ids" % (len(subs), n))
            if all(s.get("status") == "done" for s in subs):
                break
            if time.perf_counter() - t0 > 60:
                fail("round %d: not all done after 60 s" % rnd)
            time.sleep(poll)
        ms = (time.perf_counter() - t0) * 1000.0
        verdicts = {}
        for s in subs:
            v = s.get("verdict")
            verdicts[v] = verdicts.get(v, 0) + 1
        if verdicts != {"accepted": n}:
            fail("round %d: verdicts %s" % (rnd, verdicts))
        if rnd == 0:
            continue  # warm-up
        print("ms=%.3f polls=%d verdicts=accepted:%d" % (ms, polls, n), flush=True)


if __name__ == "__main__":
    main()
