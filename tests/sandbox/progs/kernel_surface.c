/* kernel_surface: bpf(BPF_PROG_LOAD), perf_event_open(pid -1, cpu 0),
 * userfaultfd and io_uring_setup are denied (EPERM or ENOSYS); io_uring in
 * particular would bypass seccomp for opens and sockets. */
#include "hostile.h"
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/io_uring.h>
int main(void)
{
	struct bpf_insn prog[2] = { { .code = 0xb7 /* mov r0, 0 */ }, { .code = 0x95 /* exit */ } };
	char log[256];
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)prog;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	a.log_buf = (unsigned long)log;
	a.log_size = sizeof log;
	HS_FAILS("bpf(PROG_LOAD)", syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a), EPERM, ENOSYS);
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4; a.value_size = 4; a.max_entries = 1;
	HS_FAILS("bpf(MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a), EPERM, ENOSYS);
	struct perf_event_attr pe;
	memset(&pe, 0, sizeof pe);
	pe.size = sizeof pe;
	pe.type = PERF_TYPE_HARDWARE;
	pe.config = PERF_COUNT_HW_CPU_CYCLES;
	HS_FAILS("perf_event_open(-1, cpu 0)", syscall(SYS_perf_event_open, &pe, -1, 0, -1, 0), EPERM, ENOSYS);
	pe.type = PERF_TYPE_SOFTWARE;
	pe.config = PERF_COUNT_SW_TASK_CLOCK;
	pe.exclude_kernel = 1;
	HS_FAILS("perf_event_open(self)", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0), EPERM, ENOSYS);
	HS_FAILS("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC), EPERM, ENOSYS);
	HS_FAILS("userfaultfd user-only", syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */), EPERM, ENOSYS);
	HS_FAILS("open /dev/userfaultfd", open("/dev/userfaultfd", O_RDWR), ENOENT, EACCES, EPERM);
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	HS_FAILS("io_uring_setup", syscall(SYS_io_uring_setup, 8, &p), EPERM, ENOSYS);
	HS_FAILS("io_uring_enter", syscall(SYS_io_uring_enter, 0, 1, 0, 0, NULL, 0), EPERM, ENOSYS);
	HS_FAILS("io_uring_register", syscall(SYS_io_uring_register, 0, 0, NULL, 0), EPERM, ENOSYS);
	HS_FAILS("fanotify_init", syscall(SYS_fanotify_init, 0, O_RDONLY), EPERM, ENOSYS);
	return hs_done();
}
