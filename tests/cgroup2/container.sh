#!/bin/sh
# container.sh - runcell in a container's cgroup namespace, inside the cgroup2 guest.
#
# A container (Docker, Kubernetes with cgroup v2) gives its processes a cgroup namespace
# whose root is the container's cgroup, mounted at /sys/fs/cgroup.  Only the host's root
# cgroup may hold processes and delegate controllers, so runcell used to find v2 unusable
# there and fall back to per-process rlimits.  This makes such a container: a cgroup, a
# shell moved into it, a new cgroup namespace with its own cgroup2 mount and one more
# process (sleep) in its root; then runcell must use v2, move the root's processes into
# a leaf, and enforce --memory as memory_limit.  Prints one line per check and
# "N passed, N failed".  Run by run.sh inside vm.sh: container.sh RUNCELL.
set -u
RUNCELL=$1
pass=0
fail=0
check() { # check NAME PATTERN: PASS when the output has PATTERN
	if printf '%s\n' "$out" | grep -q -- "$2"; then
		echo "ok container: $1"
		pass=$((pass + 1))
	else
		echo "FAIL container: $1: output: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-400)"
		fail=$((fail + 1))
	fi
}

out=$("$RUNCELL" version 2>&1)
check "runcell on the guest's root cgroup uses v2" '^cgroup v2: memory, pids'

CT=/sys/fs/cgroup/ct-$$
mkdir "$CT" || exit 1
out=$(sh -c '
	echo $$ > "$1/cgroup.procs" || exit 2
	exec unshare -C -m --propagation private sh -c "
		umount /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || { echo mount failed; exit 3; }
		sleep 60 &
		other=\$!
		\"\$0\" version
		\"\$0\" run --json --memory=32 -- /usr/bin/python3 -c \"b = bytearray(100 << 20)\"
		echo root-procs: \$(grep -c . /sys/fs/cgroup/cgroup.procs)
		grep -qx \"\$other\" /sys/fs/cgroup/leaf/cgroup.procs && echo other-in-leaf
		kill \$other
	" "$2"' sh "$CT" "$RUNCELL" 2>&1)
check "runcell in a container's cgroup namespace uses v2" '^cgroup v2: memory, pids'
check "and --memory=32 ends a 100 MB allocation as memory_limit" '"status":"memory_limit"'
check "the namespace root's processes moved into a leaf, the container's other one too" 'other-in-leaf'
check "no process is left in the namespace root" '^root-procs: 0$'
find "$CT" -depth -type d -exec rmdir {} + 2>/dev/null
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
