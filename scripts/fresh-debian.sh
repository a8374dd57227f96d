#!/usr/bin/env bash
# Runs `.ci/run` (or another command) on a fresh Debian 12 root: a minimal
# debootstrap of bookworm with only git, gcc and make added, into which this
# checkout's HEAD is cloned.  scripts/deps.sh must then install everything
# else, so a package that this machine happens to have but deps.sh forgets
# shows up here as a failure instead of on the next machine.
#
#   scripts/fresh-debian.sh [--root DIR] [--keep] [COMMAND...]
#
# COMMAND runs in the clone (default: CI=true bash .ci/run).  The root is
# made once in DIR (default /var/tmp/runcell-fresh) and reused; --keep leaves
# its mounts in place afterwards.  Needs root, debootstrap (installed if
# missing) and a reachable Debian mirror (the one apt uses here).
#
# It shares the kernel, cgroups and /dev with this host (that is what the
# cell needs); it is a check of packages and paths, not of another kernel.
# What a real install has and debootstrap does not: an /etc/hosts that names
# localhost (the callback tests resolve it), and the host's apt sources.
set -euo pipefail

root=/var/tmp/runcell-fresh
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--help|-h) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	--) shift; break ;;
	-*) echo "fresh-debian.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || set -- env CI=true bash .ci/run
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian.sh: must run as root" >&2; exit 1; }
src=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)

if ! command -v debootstrap >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -x "$root/usr/bin/git" ]; then
	echo "fresh-debian.sh: debootstrap bookworm into $root from $mirror" >&2
	debootstrap --variant=minbase --include=git,gcc,make,ca-certificates \
		bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
		{ echo "fresh-debian.sh: debootstrap failed, see $root.debootstrap.log" >&2; exit 1; }
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/"
		rm -f "$root/etc/apt/sources.list"
	fi
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

unmount() {
	[ "$keep" -eq 1 ] && return
	for m in run dev sys proc; do
		umount -R "$root/$m" 2>/dev/null || true
	done
	umount "$root" 2>/dev/null || true
}
trap unmount EXIT
# The root must be a mount point: the cell's pivot_root refuses a root that
# is only a chroot directory.
mountpoint -q "$root" || mount --bind "$root" "$root"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
mountpoint -q "$root/sys" || { mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"; }
mountpoint -q "$root/dev" || { mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; }
mountpoint -q "$root/run" || mount -t tmpfs -o mode=755 tmpfs "$root/run"

rm -rf "$root/root/runcell"
git clone -q "$src" "$root/root/runcell"
echo "fresh-debian.sh: $(git -C "$root/root/runcell" log --oneline -1) in $root/root/runcell: $*" >&2
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	bash -c 'cd /root/runcell && exec "$@"' bash "$@"
rc=$?
echo "fresh-debian.sh: exit status $rc" >&2
exit $rc
