/* privs: the cell's uid is unprivileged (60000..61000), without
 * capabilities; setuid(0), setgroups, setresuid, capset and raising hard
 * limits must fail; no_new_privs is set. */
#include "hostile.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
int main(void)
{
	uid_t u = getuid();
	printf("uid %d euid %d gid %d\n", (int)u, (int)geteuid(), (int)getgid());
	hs_check("uid in 60000..61000", u >= 60000 && u <= 61000 && geteuid() == u);
	HS_FAILS("setuid(0)", setuid(0), EPERM);
	HS_FAILS("setresuid(0,0,0)", setresuid(0, 0, 0), EPERM);
	HS_FAILS("setgid(0)", setgid(0), EPERM);
	gid_t g = 0;
	HS_FAILS("setgroups([0])", setgroups(1, &g), EPERM);
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { ~0u, ~0u, ~0u }, { ~0u, ~0u, ~0u } };
	HS_FAILS("capset(all)", syscall(SYS_capset, &h, d), EPERM);
	struct __user_cap_data_struct cur[2];
	memset(cur, 0xff, sizeof cur);
	syscall(SYS_capget, &h, cur);
	hs_check("no effective/permitted capabilities",
		 !cur[0].effective && !cur[0].permitted && !cur[1].effective && !cur[1].permitted);
	hs_check("no_new_privs set", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);
	struct rlimit rl;
	getrlimit(RLIMIT_NPROC, &rl);
	if (rl.rlim_max != RLIM_INFINITY) {
		rl.rlim_max = RLIM_INFINITY;
		HS_FAILS("raise RLIMIT_NPROC hard", setrlimit(RLIMIT_NPROC, &rl), EPERM);
	}
	getrlimit(RLIMIT_FSIZE, &rl);
	if (rl.rlim_max != RLIM_INFINITY) {
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		HS_FAILS("raise RLIMIT_FSIZE hard", setrlimit(RLIMIT_FSIZE, &rl), EPERM);
	}
	HS_FAILS("sethostname", sethostname("evil", 4), EPERM);
	HS_FAILS("nice -10", setpriority(PRIO_PROCESS, 0, -10), EACCES, EPERM);
	HS_FAILS("chown /box to root", chown("/box", 0, 0), EPERM);
	HS_FAILS("settimeofday", ({ struct timespec ts = { 0, 0 }; clock_settime(CLOCK_REALTIME, &ts); }), EPERM);
	return hs_done();
}
