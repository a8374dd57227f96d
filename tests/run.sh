#!/bin/bash
# run.sh: the top-level test runner (`make test`).
#
# Runs every suite that exists, in this order: the unit tests
# (build/test-unit), tests/sandbox/run.py, tests/cgroup2/run.sh, then any
# other tests/*/run.py or tests/*/run.sh.  Each suite's output passes
# through; its last "N passed, N failed" line is its result.  A suite that
# exits 77 is skipped.  A suite that exits non-zero without reporting a
# failure, prints no summary line, or runs past TEST_SUITE_TIMEOUT seconds
# (default 1800) counts as one failure.  The output ends with a per-suite
# summary and one line "N passed, N failed" with the totals; the exit
# status is 1 when anything failed.
#
#   tests/run.sh            every suite
#   tests/run.sh unit api   only these suites (by name)
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

suite_timeout=${TEST_SUITE_TIMEOUT:-1800}
summary_re='^([0-9]+) passed, ([0-9]+) failed$'
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runcell-tests.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

total_pass=0
total_fail=0
summary=()
declare -A seen=()

selected=("$@")
ran=()
export PYTHONUNBUFFERED=1

# run_suite NAME COMMAND...
run_suite() {
	local name=$1
	shift
	if [ ${#selected[@]} -gt 0 ]; then
		local ok=0 w
		for w in "${selected[@]}"; do [ "$w" = "$name" ] && ok=1; done
		[ $ok -eq 1 ] || return 0
	fi
	ran+=("$name")
	local log
	log="$tmp/${name//\//_}.log"
	echo "=== suite $name: $*"
	local rc
	timeout -k 10 "$suite_timeout" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	local line pass="" fail=""
	line=$(grep -E "$summary_re" "$log" | tail -n 1)
	if [[ $line =~ $summary_re ]]; then
		pass=${BASH_REMATCH[1]}
		fail=${BASH_REMATCH[2]}
	fi

	local result
	if [ "$rc" -eq 77 ]; then
		result="skipped (exit 77)"
	elif [ "$rc" -eq 124 ]; then
		pass=${pass:-0}
		fail=$(( ${fail:-0} + 1 ))
		result="$pass passed, $fail failed -- FAILED: timed out after ${suite_timeout}s"
	elif [ -z "$pass" ]; then
		pass=0
		fail=1
		result="0 passed, 1 failed -- FAILED: exited with status $rc and printed no \"N passed, N failed\" line"
	elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		result="$pass passed, 1 failed -- FAILED: exited with status $rc though it reported no failure"
	else
		result="$pass passed, $fail failed"
	fi
	if [ "$rc" -ne 77 ]; then
		total_pass=$((total_pass + pass))
		total_fail=$((total_fail + fail))
	fi
	summary+=("$(printf '%-12s %s' "$name" "$result")")
	echo
}

# A missing unit binary is a failure when there are unit tests to build.
if [ -x build/test-unit ]; then
	run_suite unit build/test-unit
elif ls tests/unit/*.c >/dev/null 2>&1; then
	run_suite unit sh -c 'echo "build/test-unit does not exist: run make build/test-unit" >&2; exit 1'
fi
seen[tests/unit]=1

if [ -f tests/sandbox/run.py ]; then
	run_suite sandbox python3 tests/sandbox/run.py
	seen[tests/sandbox/run.py]=1
fi
if [ -f tests/cgroup2/run.sh ]; then
	run_suite cgroup2 bash tests/cgroup2/run.sh
	seen[tests/cgroup2/run.sh]=1
fi

for dir in tests/*/; do
	dir=${dir%/}
	name=${dir#tests/}
	found=()
	for f in "$dir/run.py" "$dir/run.sh"; do
		[ -f "$f" ] && [ -z "${seen[$f]:-}" ] && found+=("$f")
	done
	for f in ${found[@]+"${found[@]}"}; do
		suite=$name
		# Two scripts in one directory, or one beside an already-run one.
		if [ ${#found[@]} -gt 1 ] || [ -n "${seen[$dir/run.py]:-}${seen[$dir/run.sh]:-}" ]; then
			suite=$name/${f##*/}
		fi
		case $f in
		*.py) run_suite "$suite" python3 "$f" ;;
		*) run_suite "$suite" bash "$f" ;;
		esac
		seen[$f]=1
	done
done

# A suite asked for by name that does not exist is a failure, not a pass.
for w in ${selected[@]+"${selected[@]}"}; do
	hit=0
	for r in ${ran[@]+"${ran[@]}"}; do [ "$r" = "$w" ] && hit=1; done
	if [ $hit -eq 0 ]; then
		summary+=("$(printf '%-12s %s' "$w" "0 passed, 1 failed -- FAILED: no such suite")")
		total_fail=$((total_fail + 1))
	fi
done

echo "=== summary"
for ((i = 0; i < ${#summary[@]}; i++)); do
	echo "${summary[$i]}"
done
[ ${#summary[@]} -eq 0 ] && echo "(no suites ran)"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
