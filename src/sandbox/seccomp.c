/*
 * seccomp: the cell's syscall filter, the last thing a program gets before
 * execve.
 *
 * It is a deny-list: namespaces, a fresh uid without capabilities and
 * read-only mounts already decide what a program may touch; the filter
 * removes kernel surface those layers do not cover (keyrings, io_uring,
 * bpf, ...) and the syscalls that would rebuild a namespace or a mount.
 * Every rule below says why it is there.
 *
 * The filter is classic BPF, built here without libseccomp: a check of the
 * architecture, then a binary search over the sorted syscall numbers whose
 * leaves return directly, so an allowed syscall costs about eight
 * comparisons instead of one per rule.
 */
#include "sandbox/internal.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <termios.h>

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#else
#error "runcell's seccomp filter knows x86_64 and aarch64 only"
#endif

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

/* Syscalls newer than the build's headers, denied all the same: from 424
 * on, x86_64 and aarch64 share one numbering. */
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467  /* Linux 6.15 */
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463      /* Linux 6.13 */
#endif

#ifndef NETLINK_KOBJECT_UEVENT
#define NETLINK_KOBJECT_UEVENT 15
#endif
#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#define FADV_DONTNEED 4         /* POSIX_FADV_DONTNEED on 64-bit Linux */

enum rule_kind {
	RULE_ERRNO,       /* return an errno */
	RULE_SOCKET,      /* allow only AF_UNIX, AF_INET, AF_INET6, AF_NETLINK,
			   * and of these not MPTCP nor kernel uevents */
	RULE_IOCTL,       /* deny TIOCSTI and TIOCLINUX on the low 32 bits */
	RULE_CLONE,       /* deny namespace flags */
	RULE_FADVISE,     /* make POSIX_FADV_DONTNEED do nothing */
};

struct rule {
	int nr;
	enum rule_kind kind;
	int err;
};

#define DENY(name, e) { SYS_##name, RULE_ERRNO, e }

static const struct rule filter_rules[] = {
	/* clone3 passes its flags in memory that BPF cannot read, so
	 * namespace flags could not be checked: ENOSYS makes glibc fall back
	 * to clone, whose flags we can check. */
	DENY(clone3, ENOSYS),
	{ SYS_clone, RULE_CLONE, EPERM },
	/* New namespaces would give the program a root of its own (user ns)
	 * and the kernel surface that comes with it. */
	DENY(unshare, EPERM),
	DENY(setns, EPERM),
	/* Mounts would rebuild the view of the file system. */
	DENY(mount, EPERM),
	DENY(umount2, EPERM),
	DENY(pivot_root, EPERM),
	DENY(chroot, EPERM),
#ifdef SYS_fsopen
	DENY(fsopen, EPERM),
	DENY(fsconfig, EPERM),
	DENY(fsmount, EPERM),
	DENY(fspick, EPERM),
	DENY(move_mount, EPERM),
	DENY(open_tree, EPERM),
#endif
#ifdef SYS_mount_setattr
	DENY(mount_setattr, EPERM),
#endif
	/* open_tree that also sets the new mount's attributes. */
	DENY(open_tree_attr, EPERM),
	/* Keyrings are not namespaced: data stored there outlives the cell
	 * and is visible to the next program with the same uid. */
	DENY(keyctl, ENOSYS),
	DENY(add_key, ENOSYS),
	DENY(request_key, ENOSYS),
	/* io_uring operations bypass this filter (IORING_OP_SOCKET, OPENAT)
	 * and its code has had many privilege escalations. */
	DENY(io_uring_setup, ENOSYS),
	DENY(io_uring_enter, ENOSYS),
	DENY(io_uring_register, ENOSYS),
	/* eBPF, perf and userfaultfd: large kernel surface, common in
	 * exploits, no use for a judged program. */
	DENY(bpf, EPERM),
	DENY(perf_event_open, EPERM),
	DENY(userfaultfd, EPERM),
	/* Reading or steering another process, even one of the same cell. */
	DENY(ptrace, EPERM),
	DENY(process_vm_readv, EPERM),
	DENY(process_vm_writev, EPERM),
	DENY(kcmp, EPERM),
#ifdef SYS_pidfd_getfd
	DENY(pidfd_getfd, EPERM),
#endif
	/* Advice on another process's memory (page it out, collapse it). */
	DENY(process_madvise, EPERM),
	/* Extended attributes, ACLs among them: the kernel memory of a POSIX
	 * ACL is charged to no cgroup, and tmpfs counts it against neither
	 * its size nor its inodes, so 16384 files inheriting a 64 KiB default
	 * ACL held 2 GB of the host's memory under --memory=16.  As on a file
	 * system without xattrs: EOPNOTSUPP, which cp, tar and Python's
	 * shutil take in their stride. */
	DENY(setxattr, EOPNOTSUPP),
	DENY(lsetxattr, EOPNOTSUPP),
	DENY(fsetxattr, EOPNOTSUPP),
	DENY(setxattrat, EOPNOTSUPP),
	/* Legacy AIO contexts come from one host-wide pool (fs.aio-max-nr):
	 * one io_setup(65536) took all of it, and every io_setup on the host
	 * failed while the cell ran.  ENOSYS, as a kernel without AIO says;
	 * glibc's POSIX aio uses threads and still works. */
	DENY(io_setup, ENOSYS),
	/* An inotify watch on the shared /usr reports every open of a file
	 * there, by the host and by other cells: what they run, and a covert
	 * channel between cells.  ENOSYS, as a kernel without inotify says. */
#ifdef SYS_inotify_init
	DENY(inotify_init, ENOSYS),
#endif
	DENY(inotify_init1, ENOSYS),
	/* POSIX_FADV_DONTNEED drops a file's pages from the host's page cache
	 * with no permission check: a cell could evict the host's and the
	 * other cells' /usr, and make them read it from disk again.  It is
	 * only advice: the call succeeds and does nothing. */
	{ SYS_fadvise64, RULE_FADVISE, 0 },
	/* Whole-machine operations; they need capabilities the program does
	 * not have, denied here as a second wall. */
	DENY(kexec_load, EPERM),
#ifdef SYS_kexec_file_load
	DENY(kexec_file_load, EPERM),
#endif
	DENY(init_module, EPERM),
	DENY(finit_module, EPERM),
	DENY(delete_module, EPERM),
	DENY(reboot, EPERM),
	DENY(swapon, EPERM),
	DENY(swapoff, EPERM),
	DENY(syslog, EPERM),
	DENY(acct, EPERM),
	DENY(quotactl, EPERM),
#ifdef SYS_quotactl_fd
	DENY(quotactl_fd, EPERM),
#endif
	DENY(settimeofday, EPERM),
	DENY(clock_settime, EPERM),
	DENY(clock_adjtime, EPERM),
	DENY(adjtimex, EPERM),
	DENY(sethostname, EPERM),
	DENY(setdomainname, EPERM),
	DENY(vhangup, EPERM),
	DENY(fanotify_init, EPERM),
	/* File handles name files by inode and bypass path checks (the
	 * "shocker" container escape). */
	DENY(open_by_handle_at, EPERM),
	DENY(name_to_handle_at, EPERM),
	DENY(lookup_dcookie, EPERM),
#if defined(__x86_64__)
	/* Direct port I/O and LDT changes: old, rarely used, exploit-prone. */
	DENY(iopl, EPERM),
	DENY(ioperm, EPERM),
	DENY(modify_ldt, EPERM),
	DENY(uselib, ENOSYS),
	DENY(_sysctl, ENOSYS),
	DENY(sysfs, ENOSYS),
#endif
	/* Families other than unix, inet, inet6 and netlink reach kernel
	 * code outside the network namespace (AF_VSOCK talks to the
	 * hypervisor) or raw frames (AF_PACKET).  Two protocols of those go
	 * too: netlink's kernel uevents reach every network namespace of the
	 * initial user namespace (the host's device events and their count),
	 * and MPTCP is a large protocol no judged program needs
	 * (EPROTONOSUPPORT, as for a kernel without them). */
	{ SYS_socket, RULE_SOCKET, EAFNOSUPPORT },
	{ SYS_socketpair, RULE_SOCKET, EAFNOSUPPORT },
	/* TIOCSTI pushes keystrokes into a terminal's input (CVE-2017-5226);
	 * TIOCLINUX can do the same on a virtual console.  Compared on the
	 * low 32 bits because the kernel ignores the high ones
	 * (CVE-2019-10063). */
	{ SYS_ioctl, RULE_IOCTL, EPERM },
};

#define RULE_COUNT (sizeof(filter_rules) / sizeof(filter_rules[0]))

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

struct emitter {
	struct sandbox_filter *f;
	int overflow;
};

static int emit(struct emitter *e, unsigned short code, unsigned char jt,
		unsigned char jf, unsigned k)
{
	if (e->f->len >= SANDBOX_BPF_MAX) {
		e->overflow = 1;
		return -1;
	}
	struct sock_filter *ins = &e->f->insn[e->f->len];
	ins->code = code;
	ins->jt = jt;
	ins->jf = jf;
	ins->k = k;
	return e->f->len++;
}

static void emit_ret(struct emitter *e, unsigned value)
{
	emit(e, BPF_RET | BPF_K, 0, 0, value);
}

/* The block for one rule, entered with the syscall number in A; it always
 * ends in a return. */
static void emit_rule_block(struct emitter *e, const struct rule *r)
{
	static const unsigned ns_flags = CLONE_NEWNS | CLONE_NEWCGROUP |
		CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
		CLONE_NEWNET;
	switch (r->kind) {
	case RULE_ERRNO:
		emit_ret(e, SECCOMP_RET_ERRNO | (unsigned)r->err);
		break;
	case RULE_CLONE:
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(0));
		emit(e, BPF_JMP | BPF_JSET | BPF_K, 0, 1, ns_flags);
		emit_ret(e, SECCOMP_RET_ERRNO | (unsigned)r->err);
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case RULE_SOCKET:
		/* 0 */ emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(0));
		/* 1 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 6, 0, AF_UNIX);      /* -> 8 */
		/* 2 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 6, 0, AF_INET);      /* -> 9 */
		/* 3 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 5, 0, AF_INET6);     /* -> 9 */
		/* 4 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AF_NETLINK);   /* -> 6 */
		/* 5 */ emit_ret(e, SECCOMP_RET_ERRNO | (unsigned)r->err);
		/* 6: netlink, but not the kernel's uevents */
		/* 6 */ emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(2));
		/* 7 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 3, 0, NETLINK_KOBJECT_UEVENT); /* -> 11 */
		/* 8 */ emit_ret(e, SECCOMP_RET_ALLOW);
		/* 9: inet and inet6, but not MPTCP */
		/* 9 */ emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(2));
		/* 10 */ emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, IPPROTO_MPTCP);
		/* 11 */ emit_ret(e, SECCOMP_RET_ERRNO | EPROTONOSUPPORT);
		/* 12 */ emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case RULE_FADVISE:
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(3));
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, FADV_DONTNEED);
		emit_ret(e, SECCOMP_RET_ERRNO | 0u);
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case RULE_IOCTL:
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARG_LO(1));
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, TIOCSTI);
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, TIOCLINUX);
		emit_ret(e, SECCOMP_RET_ERRNO | (unsigned)r->err);
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	}
}

/* Emits a search over rules[lo, hi) sorted by number; A holds the number. */
static void emit_search(struct emitter *e, const struct rule *rules,
			size_t lo, size_t hi)
{
	if (hi - lo <= 3) {
		for (size_t i = lo; i < hi; i++) {
			int at = emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 0,
				      (unsigned)rules[i].nr);
			emit_rule_block(e, &rules[i]);
			if (at >= 0) {
				size_t skip = e->f->len - (size_t)at - 1;
				if (skip > 255)
					e->overflow = 1;
				e->f->insn[at].jf = (unsigned char)skip;
			}
		}
		emit_ret(e, SECCOMP_RET_ALLOW);
		return;
	}
	size_t mid = lo + (hi - lo) / 2;
	int at = emit(e, BPF_JMP | BPF_JGE | BPF_K, 0, 0, (unsigned)rules[mid].nr);
	emit_search(e, rules, lo, mid);
	if (at >= 0) {
		size_t skip = e->f->len - (size_t)at - 1;
		if (skip > 255)
			e->overflow = 1;
		e->f->insn[at].jt = (unsigned char)skip;
	}
	emit_search(e, rules, mid, hi);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;
	return (x->nr > y->nr) - (x->nr < y->nr);
}

int sandbox__filter_build(struct sandbox_filter *f, bool allow_net)
{
	(void)allow_net;  /* the socket families above do not depend on it */
	struct rule rules[RULE_COUNT];
	memcpy(rules, filter_rules, sizeof(rules));
	qsort(rules, RULE_COUNT, sizeof(rules[0]), rule_cmp);

	struct emitter e = { .f = f, .overflow = 0 };
	f->len = 0;
	/* A syscall of another ABI (i386 int 0x80 on x86_64) has other
	 * numbers and would slip past every rule: kill the process. */
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, FILTER_ARCH);
	emit_ret(&e, SECCOMP_RET_KILL_PROCESS);
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 syscalls share the x86_64 arch value and set bit 30 of the
	 * number; the rules below name x86_64 numbers only: kill. */
	emit(&e, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
	emit_ret(&e, SECCOMP_RET_KILL_PROCESS);
#endif
	emit_search(&e, rules, 0, RULE_COUNT);
	return e.overflow ? -E2BIG : 0;
}
