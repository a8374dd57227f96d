#!/bin/bash
# bench/api.sh: what the HTTP API of `runcell serve` costs, as ratios against
# bare python3 measured in the same run.  Not a test: a MISS does not fail
# it, only a run that breaks does (exit status 1: the server does not start
# or dies, a request fails, a submission is not accepted).
#
#   bench/api.sh [--quick] [--duration SEC] [--no-preload]
#   RUNCELL=path      the runcell binary to serve (default build/runcell)
#   LOADGEN=path      the load generator (default build/bench-api-load, next
#                     to $RUNCELL if there is one there; built from
#                     bench/api/loadgen.c with cc when missing)
#
# It starts `$RUNCELL serve --port 0 --data $(mktemp -d)` with the defaults
# (Python runs forked from the preloaded interpreter; --no-preload sets
# preload = false, every run executes python3)
# (max_workers = the CPU count), waits for /readyz 200, then measures:
# (a) {"language":"python3","source":"print(1)"} posted to
#     /v1/submissions?wait=true by bench/api/loadgen.c (closed loop, one
#     keep-alive connection per client) at concurrency 1, 2, 8 and 32, for
#     --duration seconds each (default 5, --quick 2): throughput, p50, p99.
#     A request counts when it is 200 with "verdict":"accepted" in the body.
# (b) bare: `/usr/bin/python3 -c 'print(1)'` in nproc parallel shell loops
#     for the same duration (runs per second), in slices between the levels
#     of (a): bare, 1, 2, bare, 8, bare, 32, bare.  Each level is compared
#     with the mean of the slices just before and after it.  And one at a
#     time: the median wall time of sequential runs (20, --quick 10).
# (c) a batch: 20 print(1) submissions in one POST /v1/submissions/batch,
#     then GET /v1/submissions?ids=... every 5 ms until all are "done";
#     median of 5 rounds (after one warm-up round), bench/api/batch.py.
# (d) the server's VmRSS (/proc/PID/status) idle after start and /readyz,
#     and idle again 2 s after the load.
# Targets, one PASS/MISS line each:
#   API throughput at concurrency 8 and at 32 >= 0.8x bare throughput
#   (requests/s over the bare slices' runs/s around that level)
#   p99 latency at concurrency 8 <= 3x the bare single-run time
#   batch of 20, POST to all done <= 500 ms (median)
#   idle RSS after start <= 20 MiB (the one after the load is information)
# The server is stopped with SIGTERM at the end (and on any exit).
# Wall time is taken with bash's $EPOCHREALTIME (no fork per reading).
# Progress goes to stderr, results to stdout.
set -u
cd "$(dirname "$0")/.." || exit 1

RUNCELL=${RUNCELL:-build/runcell}
PY=/usr/bin/python3
DURATION=5
PRELOAD=true
SINGLE_RUNS=20
WARMUP=20
BATCH_N=20
BATCH_ROUNDS=5
SCHEDULE="bare 1 2 bare 8 bare 32 bare"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) DURATION=2; SINGLE_RUNS=10; WARMUP=6 ;;
	--duration) DURATION=$2; shift ;;
	--no-preload) PRELOAD=false ;;
	-h|--help) sed -n '2,40p' "$0"; exit 0 ;;
	*) echo "api.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
case $DURATION in
''|*[!0-9.]*|*.*.*) echo "api.sh: bad --duration $DURATION" >&2; exit 2 ;;
esac

note() { echo "api.sh: $*" >&2; }
now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "$t"; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# field NAME LINE: the value of NAME=... in a loadgen result line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
calc() { awk "BEGIN { $1 }"; }

if [ ! -x "$RUNCELL" ]; then
	note "$RUNCELL is missing (make build/runcell)"
	exit 1
fi
if [ -z "${LOADGEN:-}" ]; then
	if [ -x "$(dirname "$RUNCELL")/bench-api-load" ]; then
		LOADGEN=$(dirname "$RUNCELL")/bench-api-load
	else
		LOADGEN=build/bench-api-load
	fi
	if [ ! -x "$LOADGEN" ] || [ bench/api/loadgen.c -nt "$LOADGEN" ]; then
		note "building $LOADGEN from bench/api/loadgen.c"
		mkdir -p "$(dirname "$LOADGEN")"
		${CC:-cc} -O2 -std=gnu11 -Wall -Wextra -pthread -o "$LOADGEN" bench/api/loadgen.c ||
			{ note "cannot build the load generator"; exit 1; }
	fi
elif [ ! -x "$LOADGEN" ]; then
	note "LOADGEN=$LOADGEN is not executable"
	exit 1
fi

ncpu=$(nproc)
load0=$(cut -d' ' -f1 /proc/loadavg)
work=$(mktemp -d /tmp/runcell-bench-api.XXXXXX) || exit 1
data=$(mktemp -d "$work/data.XXXXXX") || exit 1
spid=
stop_server() { # stop_server: SIGTERM, wait up to 15 s, then SIGKILL; sets $server_rc
	server_rc=
	[ -n "$spid" ] || return 0
	if kill -0 "$spid" 2>/dev/null; then
		kill -TERM "$spid" 2>/dev/null
		local i
		for i in $(seq 1 150); do
			kill -0 "$spid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$spid" 2>/dev/null; then
			note "the server did not stop 15 s after SIGTERM; SIGKILL"
			kill -KILL "$spid" 2>/dev/null
		fi
	fi
	wait "$spid" 2>/dev/null
	server_rc=$?
	spid=
}
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
broken=0

# VmRSS of one process, in kB
rss_kb() { awk '/^VmRSS:/ { print $2; f = 1 } END { if (!f) print "nan" }' "/proc/$1/status" 2>/dev/null || echo nan; }
# "N KB": how many processes descend from PID, and VmRSS of PID and them, in kB
tree_rss() {
	"$PY" - "$1" <<'EOF'
import os, sys
root = int(sys.argv[1]); kids = {}; rss = {}
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        stat = open("/proc/%s/stat" % p).read()
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kb = 0
        for line in open("/proc/%s/status" % p):
            if line.startswith("VmRSS:"):
                kb = int(line.split()[1])
    except (OSError, ValueError):
        continue
    kids.setdefault(ppid, []).append(int(p)); rss[int(p)] = kb
todo, seen = [root], []
while todo:
    p = todo.pop(); seen.append(p); todo += kids.get(p, [])
print(len(seen) - 1, sum(rss.get(p, 0) for p in seen))
EOF
}
mib() { calc "printf \"%.1f\", $1 / 1024"; }
server_alive() {
	if ! kill -0 "$spid" 2>/dev/null; then
		note "the server died; the end of its log:"
		tail -n 20 "$work/server.log" >&2
		return 1
	fi
}

# ---- start the server ---------------------------------------------------------
printf 'preload = %s\n' "$PRELOAD" >"$work/runcell.conf"
note "starting $RUNCELL serve --config $work/runcell.conf (preload = $PRELOAD) --port 0 --data $data"
t_start=$(now_us)
"$RUNCELL" serve --config "$work/runcell.conf" --port 0 --data "$data" >"$work/server.out" \
	2>"$work/server.log" &
spid=$!
url=
for i in $(seq 1 300); do
	url=$(sed -n '/"event": *"listening"/s/.*"url": *"\([^"]*\)".*/\1/p' "$work/server.log" | head -n 1)
	[ -n "$url" ] && break
	server_alive || exit 1
	sleep 0.05
done
if [ -z "$url" ]; then
	note "no \"listening\" log line after 15 s; the server's log:"
	tail -n 20 "$work/server.log" >&2
	exit 1
fi
ready=0
for i in $(seq 1 300); do
	if "$LOADGEN" --url "$url/readyz" --requests 1 --timeout 5 >/dev/null 2>&1; then
		ready=1; break
	fi
	server_alive || exit 1
	sleep 0.05
done
t_ready=$(now_us)
if [ $ready = 0 ]; then
	note "$url/readyz did not answer 200 within 15 s"
	exit 1
fi
ready_ms=$(calc "printf \"%.0f\", ($t_ready - $t_start) / 1000")
note "server pid $spid at $url, ready after $ready_ms ms"

sleep 1
rss_idle=$(rss_kb "$spid")
read -r kids_idle tree_idle < <(tree_rss "$spid")

# ---- a first submission: checks the answer and learns its JSON spacing ----------
printf '{"language":"python3","source":"print(1)"}' >"$work/print1.json"
if ! first=$("$LOADGEN" --url "$url/v1/submissions?wait=true" --body "$work/print1.json" \
		--requests 1 --save-body "$work/first.json" 2>"$work/first.err"); then
	note "the first submission failed: $first $(head -c 400 "$work/first.err")"
	exit 1
fi
why=$("$PY" - "$work/first.json" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit(1)
if r.get("status") != "done" or r.get("verdict") != "accepted":
    print("status %r, verdict %r" % (r.get("status"), r.get("verdict"))); sys.exit(1)
tests = (r.get("result") or {}).get("tests") or []
if len(tests) != 1 or tests[0].get("stdout") != "1\n":
    print("result.tests is not one test printing 1: %.200r" % tests); sys.exit(1)
EOF
) || { note "the first submission's answer is wrong: $why"; note "body: $(head -c 600 "$work/first.json")"; exit 1; }
expect=
for e in '"verdict":"accepted"' '"verdict": "accepted"'; do
	if grep -qF "$e" "$work/first.json"; then expect=$e; break; fi
done
if [ -z "$expect" ]; then
	note "cannot find the verdict in $(head -c 400 "$work/first.json")"
	exit 1
fi

note "warm-up: $WARMUP submissions at concurrency 2"
"$LOADGEN" --url "$url/v1/submissions?wait=true" --body "$work/print1.json" \
	--concurrency 2 --requests "$WARMUP" --expect "$expect" >/dev/null 2>"$work/warm.err" ||
	{ note "warm-up requests failed: $(head -c 400 "$work/warm.err")"; broken=1; }

# ---- (b) bare python --------------------------------------------------------------
note "bare: $SINGLE_RUNS sequential runs of $PY -c 'print(1)'"
: >"$work/single"
for r in $(seq 1 $((SINGLE_RUNS + 2))); do
	t0=$(now_us)
	"$PY" -c 'print(1)' >/dev/null || { note "bare python failed"; exit 1; }
	t1=$(now_us)
	[ "$r" -gt 2 ] && echo $((t1 - t0)) >>"$work/single"
done
single_us=$(median <"$work/single")

# bare_throughput TAG: $ncpu loops for $DURATION s; prints runs per second
bare_throughput() {
	local t0 end i n t p total=0 last=0 fail=0 pids=()
	t0=$(now_us)
	end=$(calc "printf \"%.0f\", $t0 + $DURATION * 1000000")
	for i in $(seq 1 "$ncpu"); do
		(
			n=0
			while [ "$(now_us)" -lt "$end" ]; do
				"$PY" -c 'print(1)' >/dev/null || exit 1
				n=$((n + 1))
			done
			echo "$n $(now_us)"
		) >"$work/bare.$1.$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail=1
	done
	[ $fail = 0 ] || return 1
	for i in $(seq 1 "$ncpu"); do
		read -r n t <"$work/bare.$1.$i" || return 1
		total=$((total + n))
		[ "$t" -gt "$last" ] && last=$t
	done
	[ "$total" -gt 0 ] || return 1
	calc "printf \"%.2f\", $total / (($last - $t0) / 1000000)"
}
# ---- (a) the API under load, between slices of (b) --------------------------------
# Bare slices and API levels alternate (SCHEDULE); each level is compared
# with the mean of the bare slices just before and just after it, so drift
# on the shared machine hits both sides of a ratio alike.
bare=()        # runs/s of each bare slice, in order
: >"$work/levels.raw"
for step in $SCHEDULE; do
	server_alive || exit 1
	if [ "$step" = bare ]; then
		note "bare: $ncpu parallel loops for $DURATION s (slice $((${#bare[@]} + 1)))"
		b=$(bare_throughput "${#bare[@]}") || { note "bare loops failed"; exit 1; }
		bare+=("$b")
		continue
	fi
	c=$step
	note "API: ?wait=true print(1) at concurrency $c for $DURATION s"
	line=$("$LOADGEN" --url "$url/v1/submissions?wait=true" --body "$work/print1.json" \
		--concurrency "$c" --duration "$DURATION" --warmup "$c" --expect "$expect" \
		2>"$work/load.$c.err")
	rc=$?
	if [ -z "$line" ]; then
		note "loadgen at concurrency $c broke (exit $rc): $(head -c 400 "$work/load.$c.err")"
		broken=1
		continue
	fi
	if [ $rc -ne 0 ]; then
		note "concurrency $c: some requests failed: $line"
		sed 's/^/    /' "$work/load.$c.err" >&2
		broken=1
	fi
	echo "$c $((${#bare[@]} - 1)) $line" >>"$work/levels.raw"
done
# levels: "C BARE_RPS LOADGEN-LINE", BARE_RPS the mean of the slices around C
: >"$work/levels"
while read -r c k line; do
	echo "$c $(calc "printf \"%.2f\", (${bare[$k]} + ${bare[$((k + 1))]}) / 2") $line" >>"$work/levels"
done <"$work/levels.raw"
bare_all=$(printf '%s\n' "${bare[@]}" | awk '{ s += $1 } END { printf "%.2f", s / NR }')

# ---- (c) a batch of 20 ------------------------------------------------------------
server_alive || exit 1
note "batch: $BATCH_N submissions in one POST, $BATCH_ROUNDS rounds (+1 warm-up)"
if ! "$PY" bench/api/batch.py "$url" "$BATCH_N" "$BATCH_ROUNDS" 5 >"$work/batch" 2>"$work/batch.err"; then
	note "batch broke: $(cat "$work/batch.err")"
	broken=1
fi

# ---- (d) idle again ---------------------------------------------------------------
server_alive || exit 1
sleep 2
rss_after=$(rss_kb "$spid")
read -r kids_after tree_after < <(tree_rss "$spid")
errors_logged=$(grep -c '"level": *"error"' "$work/server.log")
stop_server
note "server stopped (exit status $server_rc)"
if [ "$server_rc" != 0 ]; then
	note "the server exited $server_rc after SIGTERM (expected 0); the end of its log:"
	tail -n 10 "$work/server.log" >&2
	broken=1
fi

# ---- results ----------------------------------------------------------------------
verdict() { # verdict OK? LABEL DETAIL
	if [ "$1" = 1 ]; then echo "PASS  $2: $3"; else echo "MISS  $2: $3"; fi
}
ms() { calc "printf \"%.3f\", $1 / 1000"; }
preloaded=executed
grep -q 'forked from a preloaded interpreter' "$work/server.log" && preloaded="forked from a preloaded interpreter"
echo "runcell API benchmark ($RUNCELL serve, $ncpu CPUs, load $load0 at start, ${DURATION} s per level)"
echo "  Python runs: $preloaded (preload = $PRELOAD)"
echo "  server ready ${ready_ms} ms after start; JSON spacing: $expect"
echo "  bare $PY -c 'print(1)': single run median $(ms "$single_us") ms ($SINGLE_RUNS runs);" \
	"$ncpu loops, slices of $DURATION s: ${bare[*]} runs/s (mean $bare_all)"
printf '  %-5s %8s %8s %7s %9s %9s %7s %9s %9s %9s %9s\n' \
	conc requests ok errors rps bare/s 'x bare' p50_ms p90_ms p99_ms max_ms
: >"$work/ratios"
while read -r c b line; do
	x=$(calc "printf \"%.2f\", $(field rps "$line") / $b")
	echo "$x $c $(field rps "$line")" >>"$work/ratios"
	printf '  %-5s %8s %8s %7s %9s %9s %6sx %9s %9s %9s %9s\n' "$c" \
		"$(field requests "$line")" "$(field ok "$line")" "$(field errors "$line")" \
		"$(field rps "$line")" "$b" "$x" \
		"$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
		"$(field max_ms "$line")"
done <"$work/levels"
echo "  (bare/s: the mean of the bare slices just before and after the level)"

level() { sed -n "s/^$1 [^ ]* //p" "$work/levels"; } # level C: its loadgen line
level_bare() { sed -n "s/^$1 \([^ ]*\) .*/\1/p" "$work/levels"; }
for c in 8 32; do
	line=$(level $c)
	if [ -z "$line" ]; then
		echo "MISS  API throughput at concurrency $c: no result"
		continue
	fi
	rps=$(field rps "$line"); errs=$(field errors "$line"); b=$(level_bare $c)
	x=$(calc "printf \"%.2f\", $rps / $b")
	ok=$(calc "print ($x >= 0.8 && $errs == 0) ? 1 : 0")
	extra=; [ "$errs" != 0 ] && extra=", $errs failed requests"
	verdict "$ok" "API throughput at concurrency $c" \
		"$rps/s vs bare $b/s = ${x}x (target >= 0.8x)$extra"
done
if [ -s "$work/ratios" ]; then
	read -r bx bc brps < <(sort -g -r "$work/ratios" | head -n 1)
	echo "      info: best API throughput relative to bare: ${bx}x at concurrency $bc ($brps/s)"
fi

line=$(level 8)
if [ -n "$line" ]; then
	p99=$(field p99_ms "$line"); errs=$(field errors "$line")
	single_ms=$(ms "$single_us")
	x=$(calc "printf \"%.2f\", $p99 / $single_ms")
	ok=$(calc "print ($x <= 3 && $errs == 0) ? 1 : 0")
	extra=; [ "$errs" != 0 ] && extra=", $errs failed requests"
	verdict "$ok" "p99 latency at concurrency 8" \
		"$p99 ms vs bare single run $single_ms ms = ${x}x (target <= 3x)$extra"
	# Little's law: 8 clients in a closed loop wait, on average, 8 / the
	# throughput.  Even at the bare machine's throughput that is above 3x
	# a single run when there are fewer than 8/3 cores.
	b8=$(level_bare 8)
	floor=$(calc "printf \"%.1f\", 8 / $b8 * 1000")
	echo "      info: floor at concurrency 8 from the bare throughput alone: mean latency >= 8 / $b8/s = $floor ms = $(calc "printf \"%.2f\", $floor / $single_ms")x a single run"
else
	echo "MISS  p99 latency at concurrency 8: no result"
fi

nb=$(wc -l <"$work/batch")
if [ "$nb" -gt 0 ]; then
	sed -n 's/^ms=\([^ ]*\) .*/\1/p' "$work/batch" >"$work/batch.ms"
	b=$(median <"$work/batch.ms")
	lo=$(sort -g "$work/batch.ms" | head -n 1); hi=$(sort -g "$work/batch.ms" | tail -n 1)
	polls=$(sed -n 's/.* polls=\([0-9]*\) .*/\1/p' "$work/batch" | median)
	ok=$(calc "print ($b <= 500 && $nb == $BATCH_ROUNDS) ? 1 : 0")
	verdict "$ok" "batch of $BATCH_N print(1), POST to all done ($nb rounds)" \
		"median $(calc "printf \"%.3f\", $b") ms (min $lo, max $hi; median $polls polls) (target <= 500 ms)"
else
	echo "MISS  batch of $BATCH_N print(1): no successful round"
fi

if [ "$rss_idle" != nan ]; then
	ok=$(calc "print ($rss_idle <= 20 * 1024) ? 1 : 0")
	verdict "$ok" "idle server RSS after start" "$(mib "$rss_idle") MiB ($rss_idle kB) (target <= 20 MiB)"
else
	echo "MISS  idle server RSS after start: cannot read /proc/PID/status"
fi
echo "      info: idle RSS after the load $(mib "$rss_after") MiB ($rss_after kB);" \
	"with its descendants: $(mib "$tree_idle") MiB in $kids_idle processes after start," \
	"$(mib "$tree_after") MiB in $kids_after after the load"
if [ "$errors_logged" -gt 0 ]; then
	echo "note: the server logged $errors_logged error lines, e.g.:"
	grep '"level": *"error"' "$work/server.log" | head -n 3 | sed 's/^/    /'
fi
if [ "$broken" = 1 ]; then
	echo "note: some requests or runs broke (see stderr); figures above leave them out"
	exit 1
fi
exit 0
