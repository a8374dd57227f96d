#!/bin/bash
# selftest.sh - checks that the cgroup v2 test guest (vm.sh) is what runcell's v2 tests need.
#
# Boots the guest and checks inside it: a pure cgroup v2 hierarchy with memory, pids and
# cpu available and enabled, the v2 files runcell relies on in a child cgroup, that
# memory.max really OOM-kills, pids.max really limits forks, cgroup.kill kills, that
# python3 and gcc work, that / is read-only and the project dir writable (checked from
# the host afterwards), and that vm.sh passes the exit status through. Prints one line
# per check and ends with "N passed, N failed". Exit 77 (after "0 passed, 0 failed,
# 1 skipped") when vm.sh cannot run here.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

if [ "${1:-}" = --guest ]; then
    # ---- runs inside the guest, as root; prints PASS/FAIL lines -------------------------
    marker=$2
    CG=/sys/fs/cgroup
    T=$CG/selftest-$$
    check() { # check NAME CMD... : PASS when CMD succeeds
        local name=$1
        shift
        if "$@" >/tmp/check.out 2>&1; then
            echo "PASS $name"
        else
            echo "FAIL $name: $(tr '\n' ' ' </tmp/check.out | cut -c1-200)"
        fi
    }
    has_words() { # has_words FILE WORD...
        local f=$1 w
        shift
        for w in "$@"; do
            grep -qw -- "$w" "$f" || { echo "$f lacks $w: $(cat "$f")"; return 1; }
        done
    }
    no_v1() {
        ! awk '$3 == "cgroup"' /proc/mounts | grep . && grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts
    }
    child_files() {
        local f
        mkdir "$T" || return 1
        # a nested cgroup gets controllers only when its parent delegates them
        echo "+memory +pids +cpu" >"$T/cgroup.subtree_control" || return 1
        for f in memory.peak memory.max memory.events memory.current cgroup.kill \
                 cgroup.procs pids.max pids.current cpu.max cpu.stat; do
            [ -e "$T/$f" ] || { echo "missing $T/$f"; return 1; }
        done
    }
    oom_kill() {
        local st
        mkdir -p "$T/oom" && echo 32M >"$T/oom/memory.max" || return 1
        echo 0 >"$T/oom/memory.swap.max" 2>/dev/null
        sh -c 'echo $$ > '"$T/oom/cgroup.procs"'; exec python3 -c "b = bytearray(200 << 20); print(\"survived\")"'
        st=$?
        [ "$st" = 137 ] || { echo "exit status $st, want 137 (SIGKILL)"; return 1; }
        grep -Eq '^oom_kill [1-9]' "$T/oom/memory.events" ||
            { echo "memory.events: $(cat "$T/oom/memory.events")"; return 1; }
        peak=$(cat "$T/oom/memory.peak")
        [ "$peak" -gt $((16 << 20)) ] && [ "$peak" -le $((32 << 20)) ] ||
            { echo "memory.peak $peak not in (16M, 32M]"; return 1; }
    }
    pids_limit() {
        mkdir -p "$T/pids" && echo 4 >"$T/pids/pids.max" || return 1
        out=$(sh -c 'echo $$ > '"$T/pids/cgroup.procs"'; for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait' 2>&1)
        grep -Eq '^max [1-9]' "$T/pids/pids.events" ||
            { echo "pids.events: $(cat "$T/pids/pids.events") output: $out"; return 1; }
    }
    cgroup_kill() {
        mkdir -p "$T/kill" || return 1
        sh -c 'echo $$ > '"$T/kill/cgroup.procs"'; sleep 100 & sleep 100 & wait' &
        local pid=$! i
        for i in $(seq 50); do
            [ "$(wc -l <"$T/kill/cgroup.procs")" -ge 3 ] && break
            sleep 0.1
        done
        echo 1 >"$T/kill/cgroup.kill" || return 1
        wait "$pid"
        [ $? = 137 ] || { echo "shell not SIGKILLed"; return 1; }
        for i in $(seq 50); do
            [ -z "$(cat "$T/kill/cgroup.procs")" ] && return 0
            sleep 0.1
        done
        echo "left: $(cat "$T/kill/cgroup.procs")"
        return 1
    }
    cpu_max() {
        mkdir -p "$T/cpu" && echo "10000 100000" >"$T/cpu/cpu.max" &&
            grep -qx '10000 100000' "$T/cpu/cpu.max"
    }
    gcc_works() {
        local d
        d=$(mktemp -d) && printf '#include <stdio.h>\nint main(void){puts("cc-ok");return 0;}\n' >"$d/t.c" &&
            gcc -O2 -o "$d/t" "$d/t.c" && [ "$("$d/t")" = cc-ok ]
    }
    root_ro() { ! touch /etc/.runcell-vm-probe 2>/dev/null; }
    check "root cgroup.controllers lists memory pids cpu" has_words $CG/cgroup.controllers memory pids cpu
    check "root cgroup.subtree_control enables memory pids cpu" has_words $CG/cgroup.subtree_control memory pids cpu
    check "no cgroup v1 hierarchy is mounted" no_v1
    check "child cgroup has memory.peak cgroup.kill memory.events pids.max cpu.max" child_files
    check "memory.max=32M OOM-kills a 200 MB allocation (oom_kill event, memory.peak)" oom_kill
    check "pids.max=4 makes forks fail (pids.events max)" pids_limit
    check "cgroup.kill kills every process in the cgroup" cgroup_kill
    check "cpu.max can be set" cpu_max
    check "python3 works" test "$(python3 -c 'print(6*7)')" = 42
    check "gcc compiles and the program runs" gcc_works
    check "host root is read-only" root_ro
    check "/tmp is a writable tmpfs" sh -c 'grep -q " /tmp tmpfs " /proc/mounts && touch /tmp/x'
    check "lo is up" sh -c 'grep -q "^ *lo:" /proc/net/dev && [ "$(cat /sys/class/net/lo/operstate)" != down ] || ip -o link show lo | grep -q UP'
    echo "guest wrote this" >"$marker" 2>/dev/null
    find "$T" -depth -type d -exec rmdir {} + 2>/dev/null
    exit 0
fi

# ---- host side -------------------------------------------------------------------------
VM="$HERE/vm.sh"
RWDIR=${RUNCELL_VM_RWDIR:-$(cd "$HERE/../.." && pwd -P)}
marker="$RWDIR/.cgroup2-selftest.$$"
rm -f "$marker"
passed=0
failed=0
out=$(mktemp)
trap 'rm -f "$out" "$marker"' EXIT

start=$(date +%s%N)
"$VM" bash "$HERE/selftest.sh" --guest "$marker" >"$out" 2>&1
rc=$?
end=$(date +%s%N)
if [ "$rc" = 77 ]; then
    cat "$out"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
fi
while IFS= read -r line; do
    case "$line" in
    "PASS "*) echo "ok: ${line#PASS }"; passed=$((passed + 1)) ;;
    "FAIL "*) echo "FAILED: ${line#FAIL }"; failed=$((failed + 1)) ;;
    *) echo "  guest: $line" ;;
    esac
done <"$out"
if [ "$rc" = 0 ] && [ $((passed + failed)) -ge 13 ]; then
    echo "ok: guest ran all checks and exited 0 ($(( (end - start) / 1000000 )) ms)"
    passed=$((passed + 1))
else
    echo "FAILED: guest run exited $rc after $((passed + failed)) checks"
    failed=$((failed + 1))
fi
if [ "$(cat "$marker" 2>/dev/null)" = "guest wrote this" ]; then
    echo "ok: a file written in the guest's project dir is on the host"
    passed=$((passed + 1))
else
    echo "FAILED: the guest's write to $marker did not reach the host"
    failed=$((failed + 1))
fi
"$VM" sh -c 'echo to-stdout; echo to-stderr >&2; exit 42' >"$out.o" 2>"$out.e"
rc=$?
if [ "$rc" = 42 ] && [ "$(cat "$out.o")" = to-stdout ] && [ "$(cat "$out.e")" = to-stderr ]; then
    echo "ok: vm.sh passes exit status 42, stdout and stderr through separately"
    passed=$((passed + 1))
else
    echo "FAILED: vm.sh exit $rc, stdout '$(cat "$out.o")', stderr '$(cat "$out.e")'"
    failed=$((failed + 1))
fi
rm -f "$out.o" "$out.e"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
