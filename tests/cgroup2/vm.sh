#!/bin/bash
# vm.sh - run one command inside a small QEMU guest (KVM, or TCG where KVM cannot
# boot a stock kernel) that has a pure cgroup v2 hierarchy.
#
# This host has cgroup v1 only (and cannot drop it), but runcell must also work on
# cgroup v2 hosts, so its v2 backend is tested in a guest: Debian 12's own kernel
# (fetched with apt-get download, unpacked into a cache dir, never installed), a static
# init (guest_init.c) in an initramfs, the host's / shared read-only over virtio-9p,
# tmpfs on /tmp /run /var/tmp, and the project directory shared read-write so build
# outputs and results written in the guest land on the host.
#
#   tests/cgroup2/vm.sh CMD [ARGS...]
#
# CMD runs as root in the guest with the same cwd as here, stdin /dev/null; its stdout
# and stderr stream to ours; vm.sh exits with CMD's status (128+N when killed by signal
# N, 125 when the guest could not run it, 124 on timeout). Exit 77 with a one-line
# reason on stderr means "cannot run here" (no /dev/kvm, no qemu, no kernel): callers
# report that as skipped.
#
# Environment (all optional):
#   RUNCELL_VM_RWDIR    host dir shared read-write (default: this repository's root)
#   RUNCELL_VM_CACHE    kernel/initramfs cache (default /var/cache/runcell-testvm)
#   RUNCELL_VM_MEM      guest memory in MB (default 2048)
#   RUNCELL_VM_CPUS     vCPUs (default 2)
#   RUNCELL_VM_TIMEOUT  seconds before the guest is killed (default 600)
#   RUNCELL_VM_CGROUP   run CMD in this cgroup (e.g. system.slice/x.service) instead of
#                       the root cgroup, like a service on a systemd host
#   RUNCELL_VM_ACCEL    auto (default: KVM when usable for a stock kernel, else TCG),
#                       kvm (exit 77 without /dev/kvm) or tcg (software emulation)
#   RUNCELL_VM_DEBUG=1  show the guest kernel console on stderr
#   RUNCELL_VM_KEEP=1   keep the per-run job dir (argv, env, console.log, status)
# The guest environment is minimal: PATH HOME=/root LANG=C.UTF-8 TERM=dumb, plus the
# host's CI and RUNCELL_* variables.
set -u

vm_skip() { echo "vm.sh: skipped: $*" >&2; exit 77; }
vm_die() { echo "vm.sh: $*" >&2; exit 125; }

[ $# -ge 1 ] || { echo "usage: vm.sh CMD [ARGS...]" >&2; exit 2; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
RWDIR=${RUNCELL_VM_RWDIR:-$(cd "$HERE/../.." && pwd -P)}
CACHE=${RUNCELL_VM_CACHE:-/var/cache/runcell-testvm}
MEM=${RUNCELL_VM_MEM:-2048}
CPUS=${RUNCELL_VM_CPUS:-2}
TIMEOUT=${RUNCELL_VM_TIMEOUT:-600}
QEMU=$(command -v qemu-system-x86_64 || true)

[ -n "$QEMU" ] || vm_skip "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"
# KVM boots a stock kernel in about a second. A host whose /dev/kvm is PVM (kvm_pvm, a
# paravirtual KVM for nested setups) runs only PVM-built guest kernels: a stock kernel
# hangs right after decompression there, so software emulation (TCG) is used instead.
case "${RUNCELL_VM_ACCEL:-auto}" in
kvm)
    [ -e /dev/kvm ] || vm_skip "/dev/kvm is missing"
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || vm_skip "/dev/kvm is not accessible"
    ACCEL=kvm ;;
tcg) ACCEL=tcg ;;
auto)
    if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
        ACCEL=kvm
    else
        ACCEL=tcg
    fi ;;
*) vm_die "RUNCELL_VM_ACCEL must be auto, kvm or tcg" ;;
esac
if [ "$ACCEL" = kvm ]; then
    ACCEL_ARGS=(-machine pc,accel=kvm -cpu host)
else
    ACCEL_ARGS=(-machine pc -accel tcg,thread=single -cpu max)
fi
for tool in gcc python3 apt-get dpkg-deb flock timeout; do
    command -v "$tool" >/dev/null || vm_skip "$tool is missing"
done
[ -d "$RWDIR" ] || vm_die "RUNCELL_VM_RWDIR $RWDIR is not a directory"

mkdir -p "$CACHE" || vm_skip "cannot create cache dir $CACHE"

# --- kernel: Debian's linux-image-amd64, unpacked once and pruned to what we use ----------
vm_kernel() {
    ls "$CACHE"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1
}
if [ -z "$(vm_kernel)" ]; then
    exec 9>"$CACHE/.lock"
    flock 9
    if [ -z "$(vm_kernel)" ]; then
        vm_kernel_pkg() {
            apt-cache depends linux-image-amd64 2>/dev/null |
                awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
        }
        pkg=$(vm_kernel_pkg)
        if [ -z "$pkg" ]; then
            # A fresh machine may have no package lists yet.
            apt-get update -qq >/dev/null 2>&1 || true
            pkg=$(vm_kernel_pkg)
        fi
        [ -n "$pkg" ] || vm_skip "cannot resolve linux-image-amd64 (apt-get update failed?)"
        dl=$(mktemp -d "$CACHE/dl.XXXXXX")
        (cd "$dl" && apt-get download -q "$pkg" >"$dl/log" 2>&1) ||
            { rm -rf "$dl"; vm_skip "apt-get download $pkg failed"; }
        dpkg-deb -x "$dl"/*.deb "$dl/root" || { rm -rf "$dl"; vm_die "dpkg-deb -x failed"; }
        ver=$(basename "$(ls -d "$dl"/root/lib/modules/* | head -n 1)")
        k="$dl/kernel"
        mkdir -p "$k/boot" "$k/lib/modules/$ver/kernel/fs" "$k/lib/modules/$ver/kernel/net" \
                 "$k/lib/modules/$ver/kernel/drivers"
        cp "$dl"/root/boot/vmlinuz-* "$dl"/root/boot/config-* "$k/boot/"
        cp "$dl/root/lib/modules/$ver/modules.builtin" "$k/lib/modules/$ver/"
        m="$dl/root/lib/modules/$ver/kernel"
        cp -r "$m/fs/9p" "$m/fs/netfs" "$m/fs/fscache" "$k/lib/modules/$ver/kernel/fs/"
        cp -r "$m/net/9p" "$k/lib/modules/$ver/kernel/net/"
        cp -r "$m/drivers/virtio" "$k/lib/modules/$ver/kernel/drivers/"
        rm -rf "$CACHE/kernel"
        mv "$k" "$CACHE/kernel"
        rm -rf "$dl"
    fi
    flock -u 9
fi
VMLINUZ=$(vm_kernel)
KVER=${VMLINUZ##*/vmlinuz-}
# The ELF vmlinux inside the bzImage boots through its PVH entry point: no firmware
# kernel loader and no decompression, which saves seconds under TCG.
VMLINUX="$CACHE/kernel/boot/vmlinux-$KVER"
if [ ! -s "$VMLINUX" ]; then
    python3 - "$VMLINUZ" "$VMLINUX" <<'PY' || vm_die "cannot extract vmlinux from $VMLINUZ"
import lzma, os, sys
data = open(sys.argv[1], "rb").read()
off = data.find(b"\xfd7zXZ\x00")
if off < 0:
    sys.exit("no xz payload")
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[off:])
if elf[:4] != b"\x7fELF":
    sys.exit("payload is not ELF")
with open(sys.argv[2] + ".tmp", "wb") as fh:
    fh.write(elf)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
fi
MODDIR="$CACHE/kernel/lib/modules/$KVER"

# --- init + initramfs, rebuilt when their sources or the kernel change ----------------------
key=$( (cat "$HERE/guest_init.c" "$HERE/mkinitramfs.py"; echo "$KVER") | sha256sum | cut -c1-16)
INITRD="$CACHE/initramfs-$key.cpio"
if [ ! -s "$INITRD" ]; then
    exec 9>"$CACHE/.lock"
    flock 9
    if [ ! -s "$INITRD" ]; then
        gcc -static -O2 -Wall -Wextra -std=gnu11 -o "$CACHE/init.$$" "$HERE/guest_init.c" ||
            vm_die "cannot build guest_init.c (static libc from libc6-dev needed)"
        python3 "$HERE/mkinitramfs.py" --init "$CACHE/init.$$" --moddir "$MODDIR" \
            --out "$INITRD" 9p 9pnet_virtio virtio_pci 2>/dev/null ||
            { rm -f "$CACHE/init.$$"; vm_die "cannot build the initramfs"; }
        rm -f "$CACHE/init.$$"
        find "$CACHE" -maxdepth 1 -name 'initramfs-*.cpio' ! -name "${INITRD##*/}" -delete
    fi
    flock -u 9
fi

# --- the job: argv, cwd, env, shared with the guest as a third 9p export -------------------
JOB=$(mktemp -d "${TMPDIR:-/tmp}/runcell-vm.XXXXXX") || vm_die "mktemp failed"
trap '[ "${RUNCELL_VM_KEEP:-0}" = 1 ] || rm -rf "$JOB"' EXIT
printf '%s\0' "$@" >"$JOB/argv"
pwd -P >"$JOB/cwd"
printf '%s\n' "$RWDIR" >"$JOB/rwdir"
printf '%s\n' "${RUNCELL_VM_CGROUP:-}" >"$JOB/cgroup"
{
    printf '%s\0' "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "HOME=/root" "LANG=C.UTF-8" "TERM=dumb"
    while IFS= read -r -d '' kv; do
        case "$kv" in CI=* | RUNCELL_*) printf '%s\0' "$kv" ;; esac
    done < <(env -0)
} >"$JOB/env"

APPEND="console=ttyS0 panic=-1 cgroup_no_v1=all rdinit=/init 8250.nr_uarts=3 tsc=reliable"
# The guest's serial ports reach our stdout/stderr through FIFOs relayed by cat: qemu
# reopening /proc/self/fd/N would get its own file offset and clobber a redirected file.
mkfifo "$JOB/out.fifo" "$JOB/err.fifo" "$JOB/con.fifo" || vm_die "mkfifo failed"
# sed -u relays whole lines, so stdout and stderr sent to one file do not mix mid-line.
LC_ALL=C sed -u '' "$JOB/out.fifo" &
cat_out=$!
LC_ALL=C sed -u '' "$JOB/err.fifo" >&2 &
cat_err=$!
if [ "${RUNCELL_VM_DEBUG:-0}" = 1 ]; then
    cat "$JOB/con.fifo" >&2 &
    CONSOLE="path=$JOB/con.fifo"
else
    APPEND="$APPEND quiet loglevel=3"
    cat "$JOB/con.fifo" >"$JOB/console.log" &
    CONSOLE="path=$JOB/con.fifo"
fi
cat_con=$!

# qemu's own messages go to qemu.log.
timeout -k 5 "$TIMEOUT" "$QEMU" \
    -nodefaults -no-user-config -display none -vga none -no-reboot \
    "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM" \
    -kernel "$VMLINUX" -initrd "$INITRD" -append "$APPEND" \
    -chardev "file,id=con,$CONSOLE" -serial chardev:con \
    -chardev "file,id=out,path=$JOB/out.fifo" -serial chardev:out \
    -chardev "file,id=err,path=$JOB/err.fifo" -serial chardev:err \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev "local,id=project,path=$RWDIR,security_model=passthrough,multidevs=remap" \
    -device virtio-9p-pci,fsdev=project,mount_tag=project \
    -fsdev "local,id=job,path=$JOB,security_model=passthrough" \
    -device virtio-9p-pci,fsdev=job,mount_tag=job \
    </dev/null >"$JOB/qemu.log" 2>&1
qrc=$?
# If qemu never opened a FIFO, its cat is still blocked in open(): unblock it.
# Opening a FIFO read-write never blocks and counts as a writer.
for f in out err con; do
    exec 8<>"$JOB/$f.fifo"
    exec 8>&-
done
wait "$cat_out" "$cat_err" "$cat_con" 2>/dev/null

if [ -s "$JOB/status" ]; then
    exit "$(cat "$JOB/status")"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    echo "vm.sh: guest timed out after ${TIMEOUT}s" >&2
    exit 124
fi
echo "vm.sh: guest did not report an exit status (qemu exit $qrc)" >&2
tail -n 20 "$JOB/qemu.log" "$JOB/console.log" 2>/dev/null | sed 's/^/vm.sh:   /' >&2
exit 125
