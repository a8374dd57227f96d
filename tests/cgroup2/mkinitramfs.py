#!/usr/bin/python3
"""mkinitramfs.py - build the initramfs of the cgroup v2 test guest (tests/cgroup2/vm.sh).

Writes an uncompressed "newc" cpio archive holding the static guest init as /init, a
/dev/console node, the mount points it uses, and the kernel modules it must load (the
named ones plus everything they depend on, resolved from each module's .modinfo
"depends=" field, since the unpacked kernel package has no modules.dep). /modules/order
lists them dependencies first, which is the order guest_init.c loads them in.

usage: mkinitramfs.py --init BIN --moddir /lib/modules/VER --out FILE MODULE...
"""
import argparse
import os
import re
import stat
import sys


def cpio_entry(name, mode, data=b"", rdev=(0, 0), ino=[0]):
    ino[0] += 1
    name_b = name.encode() + b"\0"
    fields = [
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0,
    ]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def module_index(moddir):
    """Map module name (with '-' as '_') to its .ko path."""
    index = {}
    for root, _dirs, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("-", "_")] = os.path.join(root, f)
    return index


def module_depends(path):
    with open(path, "rb") as fh:
        blob = fh.read()
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", blob)
    if not m or not m.group(1):
        return []
    return [d.decode().replace("-", "_") for d in m.group(1).split(b",") if d]


def builtin_modules(moddir):
    names = set()
    try:
        with open(os.path.join(moddir, "modules.builtin")) as fh:
            for line in fh:
                base = os.path.basename(line.strip())
                if base.endswith(".ko"):
                    names.add(base[:-3].replace("-", "_"))
    except OSError:
        pass
    return names


def resolve(wanted, index, builtin):
    order, seen = [], set()

    def visit(name, chain):
        if name in seen or name in builtin:
            return
        if name in chain:
            sys.exit("mkinitramfs: module dependency cycle at %s" % name)
        if name not in index:
            sys.exit("mkinitramfs: module %s not found" % name)
        for dep in module_depends(index[name]):
            visit(dep, chain + [name])
        seen.add(name)
        order.append(name)

    for w in wanted:
        visit(w.replace("-", "_"), [])
    return order


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init", required=True)
    ap.add_argument("--moddir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("modules", nargs="*")
    args = ap.parse_args()

    index = module_index(args.moddir)
    order = resolve(args.modules, index, builtin_modules(args.moddir))

    parts = []
    d = stat.S_IFDIR | 0o755
    for name in (".", "dev", "proc", "sys", "newroot", "job", "modules"):
        parts.append(cpio_entry(name, d))
    parts.append(cpio_entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)))
    for name in order:
        with open(index[name], "rb") as fh:
            parts.append(cpio_entry("modules/%s.ko" % name, stat.S_IFREG | 0o644, fh.read()))
    listing = "".join("%s.ko\n" % n for n in order).encode()
    parts.append(cpio_entry("modules/order", stat.S_IFREG | 0o644, listing))
    with open(args.init, "rb") as fh:
        parts.append(cpio_entry("init", stat.S_IFREG | 0o755, fh.read()))
    parts.append(cpio_entry("TRAILER!!!", 0))

    tmp = args.out + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(b"".join(parts))
    os.replace(tmp, args.out)
    print("initramfs: %s (modules: %s)" % (args.out, " ".join(order) or "none"), file=sys.stderr)


if __name__ == "__main__":
    main()
