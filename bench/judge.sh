#!/bin/bash
# bench/judge.sh: what `runcell exec` (the judge) costs, as ratios against
# baselines measured in the same run.  Not a test: a MISS does not fail it,
# only a run that breaks does (exit status 1).
#
#   bench/judge.sh [--quick] [--rounds N] [--py-runs N]
#   RUNCELL=path bench/judge.sh          (default build/runcell)
#
# (1) compile cache: one C++ submission judged twice, end to end, the first
#     time with an empty cache (RUNCELL_CACHE_DIR=$(mktemp -d)), the second
#     time with the same cache.  Target: second >= 10x faster.  Medians over
#     --rounds rounds, each with its own fresh cache.
# (2) judge overhead: a C a+b solution over 100 generated tests with
#     `runcell exec --lang c --tests DIR` (compile cache warmed first, so
#     the compile is not counted) vs the same program compiled on the host
#     and run bare 100 times from this shell, each with its input.  Prints
#     the overhead per test, (exec - bare) / 100, and the ratio.  Target:
#     <= 1 ms per test.  Also prints the marginal cost per test,
#     (exec 100 tests - exec 1 test) / 99 - bare per run, for information.
# (3) python: `runcell exec --lang python3 FILE` with print(1) vs bare
#     `/usr/bin/python3 -c 'print(1)'`, alternating runs; the figure is the
#     median of per-round ratios.  Target: <= 1.15x.  Each round runs exec
#     twice: taking a cell built ahead by a `runcell keep --cells 2` that the
#     benchmark starts on a socket of its own (--keeper=SOCKET), then
#     building its own cell (--no-keeper).  A third exec per round takes
#     its cell from a second keeper, started with --preload=python3, whose
#     cells have the interpreter started: the run is forked from it (the
#     result must say "preloaded": true; its rebuild starts an interpreter,
#     so 200 ms pass before the next command).  Every measured command follows
#     an unmeasured 50 ms pause, so that none runs while the previous one's
#     leftovers (a keeper's rebuild, a cell's teardown) take the CPU.
# (4) for information: a Python a+b over 20 tests with `runcell exec
#     --tests` (each test forked from the preloaded interpreter), the same
#     with --no-preload (python3 executed for each test), and python3 run
#     bare 20 times from this shell, taking turns, --rounds rounds.
#
# Wall time is taken with bash's $EPOCHREALTIME (no fork per reading).
# Progress goes to stderr, results to stdout.
set -u
cd "$(dirname "$0")/.." || exit 1

RUNCELL=${RUNCELL:-build/runcell}
PY=/usr/bin/python3
ROUNDS=5
PY_RUNS=40
NTESTS=100
while [ $# -gt 0 ]; do
	case $1 in
	--quick) ROUNDS=2; PY_RUNS=10 ;;
	--rounds) ROUNDS=$2; shift ;;
	--py-runs) PY_RUNS=$2; shift ;;
	-h|--help) sed -n '2,31p' "$0"; exit 0 ;;
	*) echo "judge.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

if [ ! -x "$RUNCELL" ]; then
	echo "judge.sh: $RUNCELL is missing (make build/runcell)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/runcell-bench-judge.XXXXXX) || exit 1
# exec's JSON goes to files here, on a tmpfs when there is one: bash's
# `>FILE` truncates the previous result, and on ext4 that truncate and the
# rewrite cost ~0.5 ms per run (measured here), which is the file system's,
# not runcell's (the bare runs write to /dev/null).
res=$(mktemp -d /dev/shm/runcell-bench-judge.XXXXXX 2>/dev/null) || res=$work
keeper_pids=
cleanup() {
	stop_keepers
	rm -rf "$work" "$res"
}
stop_keepers() {
	[ -n "$keeper_pids" ] && kill $keeper_pids 2>/dev/null && wait $keeper_pids 2>/dev/null
	keeper_pids=
}
start_keeper() { # start_keeper SOCKET LOG [OPTION...]
	local sock=$1 log=$2
	shift 2
	"$RUNCELL" keep --cells 2 --socket="$sock" "$@" 2>"$log" &
	keeper_pids="$keeper_pids $!"
	for _ in $(seq 1 100); do
		grep -q 'cells ready' "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	note "(3) runcell keep $* did not start: $(head -c 300 "$log")"
	broken=1
}
trap cleanup EXIT
export RUNCELL_CACHE_DIR="$work/cache-warm"
mkdir -p "$RUNCELL_CACHE_DIR"
broken=0

# ms with 3 decimals from a microsecond count
ms() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1000 }'; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
	if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
note() { echo "judge.sh: $*" >&2; }

# check_json FILE NTESTS: the exec output is accepted with NTESTS tests.
check_json() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print("bad JSON: %s" % e); sys.exit(1)
n = int(sys.argv[2])
if r.get("verdict") != "accepted":
    print("verdict %r" % r.get("verdict")); sys.exit(1)
if n >= 0 and len(r.get("tests") or []) != n:
    print("%d tests, expected %d" % (len(r.get("tests") or []), n)); sys.exit(1)
EOF
}

# run_exec OUT ARGS...: runs runcell exec, leaves the elapsed us in $elapsed;
# returns non-zero (and says why) when the run broke.
run_exec() {
	local out=$1 t0 t1 rc
	shift
	t0=${EPOCHREALTIME/[.,]/}
	"$RUNCELL" exec "$@" >"$out" 2>"$out.err"
	rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	elapsed=$((t1 - t0))
	if [ $rc -ne 0 ]; then
		note "runcell exec $* exited $rc: $(head -c 300 "$out.err")"
		return 1
	fi
	return 0
}

# ---- sources ---------------------------------------------------------------
cat >"$work/hello.cpp" <<'EOF'
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <vector>
int main()
{
	std::vector<std::string> v{"judge", "bench", "cache"};
	std::sort(v.begin(), v.end());
	std::map<std::string, int> m;
	for (auto &s : v)
		m[s] = (int)s.size();
	std::cout << v.front() << ' ' << m.size() << '\n';
}
EOF
printf 'bench 3\n' >"$work/hello.out"

cat >"$work/sum.c" <<'EOF'
#include <stdio.h>
int main(void)
{
	long long a, b;
	if (scanf("%lld %lld", &a, &b) != 2)
		return 1;
	printf("%lld\n", a + b);
	return 0;
}
EOF
mkdir -p "$work/tests" "$work/one"
for i in $(seq -w 1 $NTESTS); do
	a=$((RANDOM * 7919 + 10#$i)); b=$((RANDOM - 10#$i * 31))
	printf '%d %d\n' "$a" "$b" >"$work/tests/t$i.in"
	printf '%d\n' $((a + b)) >"$work/tests/t$i.out"
done
cp "$work/tests/t001.in" "$work/tests/t001.out" "$work/one/"

printf 'print(1)\n' >"$work/one.py"
printf 'a, b = map(int, input().split())\nprint(a + b)\n' >"$work/sum.py"
mkdir -p "$work/pytests"
for i in $(seq -w 1 20); do cp "$work/tests/t0$i.in" "$work/tests/t0$i.out" "$work/pytests/"; done

# ---- (1) compile cache ----------------------------------------------------
note "(1) compile cache: C++ cold vs cached, $ROUNDS rounds"
: >"$work/c1.first"; : >"$work/c1.second"
for r in $(seq 1 "$ROUNDS"); do
	cache=$(mktemp -d "$work/cache.XXXXXX"); why=
	if RUNCELL_CACHE_DIR=$cache run_exec "$res/c1.json" --lang cpp \
			--expected "$work/hello.out" "$work/hello.cpp" &&
	   why=$(check_json "$res/c1.json" -1); then
		echo "$elapsed" >>"$work/c1.first"
	else
		note "(1) first run broke: ${why:-}"; broken=1; break
	fi
	why=
	if RUNCELL_CACHE_DIR=$cache run_exec "$res/c1.json" --lang cpp \
			--expected "$work/hello.out" "$work/hello.cpp" &&
	   why=$(check_json "$res/c1.json" -1); then
		echo "$elapsed" >>"$work/c1.second"
	else
		note "(1) second run broke: ${why:-}"; broken=1; break
	fi
done

# ---- (2) judge overhead -----------------------------------------------------
note "(2) judge overhead: C, $NTESTS tests, $ROUNDS rounds"
: >"$work/c2.exec"; : >"$work/c2.one"; : >"$work/c2.bare"
c2_ok=1
if ! gcc -O2 -o "$work/sum" "$work/sum.c" -lm; then
	note "(2) gcc failed"; c2_ok=0; broken=1
fi
# warm the compile cache (and check the answers once)
if [ $c2_ok = 1 ]; then
	if ! run_exec "$res/c2.json" --lang c --tests "$work/tests" "$work/sum.c" ||
	   ! why=$(check_json "$res/c2.json" $NTESTS); then
		note "(2) exec broke: ${why:-}"; c2_ok=0; broken=1
	fi
fi
if [ $c2_ok = 1 ]; then
	for r in $(seq 1 "$ROUNDS"); do
		why=
		run_exec "$res/c2.json" --lang c --tests "$work/tests" "$work/sum.c" &&
			why=$(check_json "$res/c2.json" $NTESTS) ||
			{ note "(2) exec broke: ${why:-}"; broken=1; break; }
		echo "$elapsed" >>"$work/c2.exec"

		t0=${EPOCHREALTIME/[.,]/}
		for f in "$work"/tests/*.in; do
			"$work/sum" <"$f" >/dev/null || { note "(2) bare run failed"; broken=1; }
		done
		t1=${EPOCHREALTIME/[.,]/}
		echo $((t1 - t0)) >>"$work/c2.bare"

		run_exec "$res/c2.json" --lang c --tests "$work/one" "$work/sum.c" &&
			why=$(check_json "$res/c2.json" 1) ||
			{ note "(2) exec (1 test) broke: ${why:-}"; broken=1; break; }
		echo "$elapsed" >>"$work/c2.one"
	done
fi

# ---- (3) python -------------------------------------------------------------
note "(3) python print(1): $PY_RUNS alternating rounds"
ksock="$work/keeper.sock"
psock="$work/keeper-preload.sock"
start_keeper "$ksock" "$work/keeper.log"
start_keeper "$psock" "$work/keeper-preload.log" --preload=python3
: >"$work/c3.ratio"; : >"$work/c3.exec"; : >"$work/c3.bare"
: >"$work/c3k.ratio"; : >"$work/c3k.exec"; : >"$work/c3p.ratio"; : >"$work/c3p.exec"
for r in $(seq 1 $((PY_RUNS + 2))); do
	sleep 0.05
	t0=${EPOCHREALTIME/[.,]/}
	"$PY" -c 'print(1)' >/dev/null || { note "(3) bare python failed"; broken=1; break; }
	t1=${EPOCHREALTIME/[.,]/}
	bare=$((t1 - t0)); why=
	sleep 0.05
	run_exec "$res/c3k.json" --keeper="$ksock" --lang python3 "$work/one.py" &&
		why=$(check_json "$res/c3k.json" -1) ||
		{ note "(3) exec --keeper broke: ${why:-}"; broken=1; break; }
	if [ -s "$res/c3k.json.err" ]; then   # said why the keeper was not used
		note "(3) exec --keeper: $(head -c 300 "$res/c3k.json.err")"; broken=1; break
	fi
	keeper_ms=$elapsed
	sleep 0.05   # and the keeper rebuilds now, not during the next run
	run_exec "$res/c3p.json" --keeper="$psock" --lang python3 "$work/one.py" &&
		why=$(check_json "$res/c3p.json" -1) ||
		{ note "(3) exec --keeper (preloaded) broke: ${why:-}"; broken=1; break; }
	if ! grep -q '"preloaded":true' "$res/c3p.json"; then
		note "(3) exec from the preloading keeper was not preloaded: $(head -c 300 "$res/c3p.json")"
		broken=1; break
	fi
	preload_ms=$elapsed
	sleep 0.2    # its rebuild starts an interpreter: not during the next run
	run_exec "$res/c3.json" --no-keeper --lang python3 "$work/one.py" &&
		why=$(check_json "$res/c3.json" -1) ||
		{ note "(3) exec broke: ${why:-}"; broken=1; break; }
	local_ms=$elapsed
	[ "$r" -le 2 ] && continue   # warm-up
	echo "$bare" >>"$work/c3.bare"
	echo "$local_ms" >>"$work/c3.exec"
	echo "$keeper_ms" >>"$work/c3k.exec"
	awk -v a="$local_ms" -v b="$bare" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/c3.ratio"
	awk -v a="$keeper_ms" -v b="$bare" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/c3k.ratio"
	echo "$preload_ms" >>"$work/c3p.exec"
	awk -v a="$preload_ms" -v b="$bare" 'BEGIN { printf "%.4f\n", a / b }' >>"$work/c3p.ratio"
done
served=$(grep -c 'keep: run [0-9]*: ok' "$work/keeper.log")
served_p=$(grep -c 'keep: run [0-9]*: ok' "$work/keeper-preload.log")
stop_keepers

# ---- (4) python over 20 tests ------------------------------------------------
note "(4) python a+b over 20 tests: $ROUNDS rounds"
: >"$work/c4.pre"; : >"$work/c4.exec"; : >"$work/c4.bare"
for r in $(seq 1 "$ROUNDS"); do
	t0=${EPOCHREALTIME/[.,]/}
	for f in "$work"/pytests/*.in; do
		"$PY" "$work/sum.py" <"$f" >/dev/null || { note "(4) bare python failed"; broken=1; }
	done
	t1=${EPOCHREALTIME/[.,]/}
	echo $((t1 - t0)) >>"$work/c4.bare"
	for mode in pre exec; do
		flag=; [ $mode = exec ] && flag=--no-preload
		why=
		run_exec "$res/c4.json" --lang python3 $flag --tests "$work/pytests" "$work/sum.py" &&
			why=$(check_json "$res/c4.json" 20) ||
			{ note "(4) exec $flag broke: ${why:-}"; broken=1; continue; }
		echo "$elapsed" >>"$work/c4.$mode"
	done
done

# ---- results ----------------------------------------------------------------
verdict() { # verdict OK? LABEL DETAIL
	if [ "$1" = 1 ]; then echo "PASS  $2: $3"; else echo "MISS  $2: $3"; fi
}
echo "runcell judge benchmark ($RUNCELL, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"

n1=$(wc -l <"$work/c1.second")
if [ "$n1" -gt 0 ]; then
	f=$(median <"$work/c1.first"); s=$(median <"$work/c1.second")
	x=$(awk -v f="$f" -v s="$s" 'BEGIN { printf "%.1f", f / s }')
	ok=$(awk -v x="$x" 'BEGIN { print (x >= 10) ? 1 : 0 }')
	verdict "$ok" "compile cache (C++, $n1 rounds)" \
		"first $(ms "$f") ms, second $(ms "$s") ms, ${x}x faster (target >= 10x)"
else
	echo "MISS  compile cache: no successful runs"
fi

n2=$(wc -l <"$work/c2.exec")
if [ "$n2" -gt 0 ]; then
	e=$(median <"$work/c2.exec"); b=$(median <"$work/c2.bare"); o=$(median <"$work/c2.one")
	per=$(awk -v e="$e" -v b="$b" -v n=$NTESTS 'BEGIN { printf "%+.3f", (e - b) / n / 1000 }')
	x=$(awk -v e="$e" -v b="$b" 'BEGIN { printf "%.2f", e / b }')
	marg=$(awk -v e="$e" -v o="$o" -v b="$b" -v n=$NTESTS \
		'BEGIN { printf "%+.3f", ((e - o) / (n - 1) - b / n) / 1000 }')
	ok=$(awk -v p="$per" 'BEGIN { print (p <= 1.0) ? 1 : 0 }')
	verdict "$ok" "judge overhead (C, $NTESTS tests, $n2 rounds)" \
		"exec $(ms "$e") ms vs bare $(ms "$b") ms = ${x}x, ${per} ms per test (target <= 1 ms)"
	echo "      info: exec with 1 test $(ms "$o") ms; marginal cost per extra test over bare: ${marg} ms"
else
	echo "MISS  judge overhead: no successful runs"
fi

n3=$(wc -l <"$work/c3.ratio")
if [ "$n3" -gt 0 ]; then
	x=$(median <"$work/c3.ratio")
	e=$(median <"$work/c3.exec"); b=$(median <"$work/c3.bare")
	ok=$(awk -v x="$x" 'BEGIN { print (x <= 1.15) ? 1 : 0 }')
	verdict "$ok" "python3 print(1) ($n3 rounds)" \
		"exec $(ms "$e") ms vs bare $(ms "$b") ms, median per-round ratio $(awk -v x="$x" 'BEGIN { printf "%.3f", x }')x (target <= 1.15x)"
	x=$(median <"$work/c3k.ratio"); e=$(median <"$work/c3k.exec")
	ok=$(awk -v x="$x" 'BEGIN { print (x <= 1.15) ? 1 : 0 }')
	verdict "$ok" "  the same, cell from runcell keep" \
		"exec $(ms "$e") ms vs bare $(ms "$b") ms, median per-round ratio $(awk -v x="$x" 'BEGIN { printf "%.3f", x }')x (target <= 1.15x; the keeper served $served runs)"
	x=$(median <"$work/c3p.ratio"); e=$(median <"$work/c3p.exec")
	ok=$(awk -v x="$x" 'BEGIN { print (x <= 1.15) ? 1 : 0 }')
	verdict "$ok" "  the same, from runcell keep --preload=python3" \
		"exec $(ms "$e") ms vs bare $(ms "$b") ms, median per-round ratio $(awk -v x="$x" 'BEGIN { printf "%.3f", x }')x (target <= 1.15x; preloaded, the keeper served $served_p runs)"
else
	echo "MISS  python3 print(1): no successful runs"
fi

if [ -s "$work/c4.pre" ] && [ -s "$work/c4.exec" ]; then
	p=$(median <"$work/c4.pre"); e=$(median <"$work/c4.exec"); b=$(median <"$work/c4.bare")
	echo "info  python3 a+b over 20 tests ($ROUNDS rounds): exec $(ms "$p") ms (preloaded)," \
		"--no-preload $(ms "$e") ms, bare python3 20 times $(ms "$b") ms"
fi

if [ "$broken" = 1 ]; then
	echo "note: some runs broke (see stderr); figures above leave them out"
	exit 1
fi
exit 0
