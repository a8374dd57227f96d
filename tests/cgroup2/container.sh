#!/bin/sh
# container.sh - where runcell puts its cgroups on v2 (a container's cgroup namespace, a
# delegated service group, a group not delegated, a foreign tree), inside the cgroup2 guest.
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
check "and says the cell's own limit was exceeded" '"memory limit of 32768 KB exceeded (out-of-memory kill)"'
check "the namespace root's processes moved into a leaf, the container's other one too" 'other-in-leaf'
check "no process is left in the namespace root" '^root-procs: 0$'
find "$CT" -depth -type d -exec rmdir {} + 2>/dev/null

# A service whose cgroup systemd delegated (Delegate=yes sets trusted.delegate=1): the
# cells go under the service's own group, so its memory.max covers them too.
SV=/sys/fs/cgroup/svc-$$
mkdir "$SV" || exit 1
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.delegate", b"1")' "$SV"
echo 64M > "$SV/memory.max"
out=$(sh -c '
	echo $$ > "$1/cgroup.procs" || exit 2
	"$2" version
	"$2" run --json --memory=256 -- /usr/bin/python3 -c "b = bytearray(150 << 20); b[::4096] = b\"x\" * len(b[::4096])"
	echo own: $(cat /proc/self/cgroup)
	ls -d "$1"/runcell && echo host-level: $(ls /sys/fs/cgroup/runcell | grep -c "^[0-9]")
' sh "$SV" "$RUNCELL" 2>&1)
check "a delegated cgroup: cells go under the service's own group" "^cgroup v2: memory, pids, cpu[a-z.]* under $SV/runcell (runcell's own cgroup, delegated)"
check "and the service's memory.max (64M) ends a 150 MB run that --memory=256 allows" '"status":"memory_limit"'
check "and says a limit above the cell ran out, not the cell's" \
	"below the cell's memory limit of 262144 KB: a limit above the cell ran out"
check "the service's processes moved into its leaf" "^own: 0::/svc-$$/leaf$"
check "no cell group is left at the host's level" '^host-level: 0$'
# The same, started again from the leaf: still the service's group, not the leaf.
out=$(sh -c 'echo $$ > "$1/leaf/cgroup.procs" && "$2" version' sh "$SV" "$RUNCELL" 2>&1)
check "started from the leaf, runcell still uses the service's group" "under $SV/runcell (runcell's own cgroup, delegated)"
find "$SV" -depth -type d -exec rmdir {} + 2>/dev/null

# Delegated, but its parent did not enable memory and pids for it: runcell cannot build
# there, and says why instead of calling it "not delegated".
NC=/sys/fs/cgroup/noctl-$$
mkdir -p "$NC/svc" || exit 1
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.delegate", b"1")' "$NC/svc"
out=$(sh -c 'echo $$ > "$1/cgroup.procs" && "$2" version' sh "$NC/svc" "$RUNCELL" 2>&1)
check "a delegated group without the controllers is named as such" \
	"outside runcell's own cgroup /noctl-$$/svc: delegated, but memory and pids are not enabled for it"
rmdir "$NC/svc" "$NC"

# Not delegated: systemd owns that group, so the cells stay at the host's level and
# runcell says so.
ND=/sys/fs/cgroup/nodeleg-$$
mkdir "$ND" || exit 1
out=$(sh -c 'echo $$ > "$1/cgroup.procs" && "$2" version && "$2" run --json -- /bin/true' sh "$ND" "$RUNCELL" 2>&1)
check "a group not delegated: the cells go under the mount, and runcell says why" \
	"under /sys/fs/cgroup/runcell (outside runcell's own cgroup /nodeleg-$$, which is not delegated)"
check "and the run works" '"status":"ok"'
rmdir "$ND"

# A host's tree bind-mounted into a container with a cgroup namespace of its own: the
# kernel would refuse every program there, so runcell must not pick v2, and says why.
FT=/sys/fs/cgroup/foreign-$$
mkdir "$FT" || exit 1
out=$(sh -c '
	echo $$ > "$1/cgroup.procs" || exit 2
	exec unshare -C sh -c "\"\$0\" version; \"\$0\" run --json -- /bin/echo hi" "$2"
' sh "$FT" "$RUNCELL" 2>&1)
check "a foreign cgroup2 tree is not used" "^no usable cgroups (v2: /sys/fs/cgroup is not this process's cgroup2 tree"
check "and the run falls back to rlimits, saying so" '"status":"ok".*no usable cgroups'
rmdir "$FT"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
