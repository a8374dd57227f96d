/*
 * Unit tests for sandbox/seccomp: the filter is run here by a small
 * classic-BPF interpreter over made-up syscalls, so every rule's decision
 * is checked without loading the filter into the kernel.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "sandbox/internal.h"
#include "test.h"

/* Runs a classic BPF program over one seccomp_data; returns its verdict,
 * or 0xdeadbeef for a program the kernel would reject at run time. */
static uint32_t bpf_run(const struct sandbox_filter *f, const struct seccomp_data *d)
{
	uint32_t a = 0;
	const unsigned char *mem = (const unsigned char *)d;
	for (unsigned pc = 0; pc < f->len; pc++) {
		const struct sock_filter *i = &f->insn[pc];
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k + 4 > sizeof(*d) || i->k % 4)
				return 0xdeadbeef;
			memcpy(&a, mem + i->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += a >= i->k ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (a & i->k) ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			return 0xdeadbeef;
		}
	}
	return 0xdeadbeef;  /* fell off the end */
}

static uint32_t verdict4(int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct sandbox_filter f;
	if (sandbox__filter_build(&f, false) < 0)
		return 0xdeadbeef;
	struct seccomp_data d;
	memset(&d, 0, sizeof(d));
#if defined(__x86_64__)
	d.arch = AUDIT_ARCH_X86_64;
#else
	d.arch = AUDIT_ARCH_AARCH64;
#endif
	d.nr = nr;
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = a2;
	d.args[3] = a3;
	return bpf_run(&f, &d);
}

static uint32_t verdict(int nr, uint64_t a0, uint64_t a1)
{
	return verdict4(nr, a0, a1, 0, 0);
}

#define ERRNO(e) (SECCOMP_RET_ERRNO | (e))

TEST(seccomp_allows_ordinary_syscalls)
{
	int ok[] = { SYS_read, SYS_write, SYS_openat, SYS_mmap, SYS_execve, SYS_exit_group,
		     SYS_futex, SYS_brk, SYS_getpid, SYS_wait4, SYS_pipe2, SYS_fcntl };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ASSERT_EQ(verdict(ok[i], 0, 0), SECCOMP_RET_ALLOW);
	/* Plain fork and thread creation through clone stay allowed. */
	ASSERT_EQ(verdict(SYS_clone, SIGCHLD, 0), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
				     CLONE_THREAD | CLONE_SYSVSEM, 0), SECCOMP_RET_ALLOW);
}

TEST(seccomp_denies_kernel_surface)
{
	static const struct { int nr; uint64_t a0; int err; } denied[] = {
		{ SYS_clone3, 0, ENOSYS }, { SYS_keyctl, 0, ENOSYS }, { SYS_add_key, 0, ENOSYS },
		{ SYS_io_uring_setup, 0, ENOSYS }, { SYS_bpf, 0, EPERM },
		{ SYS_perf_event_open, 0, EPERM }, { SYS_userfaultfd, 0, EPERM },
		{ SYS_ptrace, 0, EPERM }, { SYS_process_vm_readv, 0, EPERM },
		{ SYS_mount, 0, EPERM }, { SYS_umount2, 0, EPERM }, { SYS_pivot_root, 0, EPERM },
		{ SYS_unshare, CLONE_NEWUSER, EPERM }, { SYS_setns, 0, EPERM },
		{ SYS_open_by_handle_at, 0, EPERM }, { SYS_reboot, 0, EPERM },
		{ SYS_finit_module, 0, EPERM },
		/* Newer than some build hosts' headers: by number. */
		{ 440 /* process_madvise */, 0, EPERM }, { 467 /* open_tree_attr */, 0, EPERM },
		{ SYS_pidfd_getfd, 0, EPERM },
		/* memory no cgroup counts (ACLs), host-wide pools (AIO), the
		 * host's file activity (inotify) */
		{ SYS_setxattr, 0, EOPNOTSUPP }, { SYS_lsetxattr, 0, EOPNOTSUPP },
		{ SYS_fsetxattr, 0, EOPNOTSUPP }, { 463 /* setxattrat */, 0, EOPNOTSUPP },
		{ SYS_io_setup, 0, ENOSYS }, { SYS_inotify_init1, 0, ENOSYS },
#ifdef SYS_inotify_init
		{ SYS_inotify_init, 0, ENOSYS },
#endif
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		ASSERT_EQ(verdict(denied[i].nr, denied[i].a0, 0), ERRNO(denied[i].err));
}

TEST(seccomp_clone_namespace_flags)
{
	int flags[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
			CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP };
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		ASSERT_EQ(verdict(SYS_clone, (uint64_t)flags[i] | SIGCHLD, 0), ERRNO(EPERM));
		/* High bits must not hide the flag. */
		ASSERT_EQ(verdict(SYS_clone, (uint64_t)flags[i] | (0xffULL << 32), 0), ERRNO(EPERM));
	}
}

TEST(seccomp_socket_families)
{
	ASSERT_EQ(verdict(SYS_socket, AF_UNIX, SOCK_STREAM), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_socket, AF_INET, SOCK_STREAM), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_socket, AF_INET6, SOCK_DGRAM), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_socket, AF_NETLINK, SOCK_RAW), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_socket, AF_VSOCK, SOCK_STREAM), ERRNO(EAFNOSUPPORT));
	ASSERT_EQ(verdict(SYS_socket, AF_PACKET, SOCK_RAW), ERRNO(EAFNOSUPPORT));
	ASSERT_EQ(verdict(SYS_socket, AF_ALG, SOCK_SEQPACKET), ERRNO(EAFNOSUPPORT));
	ASSERT_EQ(verdict(SYS_socketpair, AF_VSOCK, SOCK_STREAM), ERRNO(EAFNOSUPPORT));
	/* protocols: not the kernel's uevents, not MPTCP */
	ASSERT_EQ(verdict4(SYS_socket, AF_NETLINK, SOCK_DGRAM, 15, 0), ERRNO(EPROTONOSUPPORT));
	ASSERT_EQ(verdict4(SYS_socket, AF_NETLINK, SOCK_RAW, 0 /* route */, 0), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict4(SYS_socket, AF_INET, SOCK_STREAM, 262, 0), ERRNO(EPROTONOSUPPORT));
	ASSERT_EQ(verdict4(SYS_socket, AF_INET6, SOCK_STREAM, 262, 0), ERRNO(EPROTONOSUPPORT));
	ASSERT_EQ(verdict4(SYS_socket, AF_INET, SOCK_STREAM, 6 /* tcp */, 0), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict4(SYS_socket, AF_INET6, SOCK_DGRAM, 17 /* udp */, 0), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict4(SYS_socket, AF_UNIX, SOCK_STREAM, 15, 0), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict4(SYS_socket, AF_VSOCK, SOCK_STREAM, 0, 0), ERRNO(EAFNOSUPPORT));
}

TEST(seccomp_fadvise_dontneed_does_nothing)
{
	/* POSIX_FADV_DONTNEED (4) "succeeds" without running; other advice runs */
	ASSERT_EQ(verdict4(SYS_fadvise64, 3, 0, 0, 4), ERRNO(0));
	ASSERT_EQ(verdict4(SYS_fadvise64, 3, 0, 0, 2 /* SEQUENTIAL */), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict4(SYS_fadvise64, 3, 0, 0, 3 /* WILLNEED */), SECCOMP_RET_ALLOW);
}

TEST(seccomp_tiocsti_low_32_bits)
{
	ASSERT_EQ(verdict(SYS_ioctl, 0, TIOCSTI), ERRNO(EPERM));
	ASSERT_EQ(verdict(SYS_ioctl, 0, TIOCSTI | (0x123ULL << 32)), ERRNO(EPERM));
	ASSERT_EQ(verdict(SYS_ioctl, 0, 0x541C), ERRNO(EPERM)); /* TIOCLINUX */
	ASSERT_EQ(verdict(SYS_ioctl, 0, TCGETS), SECCOMP_RET_ALLOW);
	ASSERT_EQ(verdict(SYS_ioctl, 0, FIONREAD), SECCOMP_RET_ALLOW);
}

TEST(seccomp_other_abis_are_killed)
{
	struct sandbox_filter f;
	ASSERT_EQ(sandbox__filter_build(&f, false), 0);
	struct seccomp_data d;
	memset(&d, 0, sizeof(d));
	d.arch = AUDIT_ARCH_I386;
	d.nr = 1;
	ASSERT_EQ(bpf_run(&f, &d), SECCOMP_RET_KILL_PROCESS);
#if defined(__x86_64__)
	d.arch = AUDIT_ARCH_X86_64;
	d.nr = 0x40000000 | SYS_write;  /* x32 */
	ASSERT_EQ(bpf_run(&f, &d), SECCOMP_RET_KILL_PROCESS);
#endif
}

TEST(seccomp_every_syscall_number_decides)
{
	/* No number falls off the end or reaches an unknown opcode. */
	for (int nr = 0; nr < 1024; nr++) {
		uint32_t v = verdict(nr, 0, 0);
		ASSERT_NE(v, 0xdeadbeef);
	}
}
