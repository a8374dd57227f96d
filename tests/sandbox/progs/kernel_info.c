/* kernel_info: kernel-private files and logs must be out of reach:
 * /proc/kcore, /proc/kmsg, syslog(2), /sys, /proc/sysrq-trigger, and
 * /proc/kallsyms must not show real addresses; /dev holds only the
 * minimal set (null zero full random urandom, fd stdin stdout stderr, shm). */
#include "hostile.h"
#include <sys/klog.h>
#include <dirent.h>
int main(void)
{
	char b[4096];
	HS_FAILS("open /proc/kcore", open("/proc/kcore", O_RDONLY), EACCES, EPERM, ENOENT);
	HS_FAILS("open /proc/kmsg", open("/proc/kmsg", O_RDONLY), EACCES, EPERM, ENOENT);
	HS_FAILS("syslog READ_ALL", klogctl(3, b, sizeof b), EPERM);
	HS_FAILS("open /dev/kmsg", open("/dev/kmsg", O_RDONLY), ENOENT, EACCES, EPERM);
	HS_FAILS("open /dev/mem", open("/dev/mem", O_RDONLY), ENOENT, EACCES, EPERM);
	HS_FAILS("open /dev/sda", open("/dev/sda", O_RDONLY), ENOENT, EACCES, EPERM);
	HS_FAILS("open /dev/vda", open("/dev/vda", O_RDONLY), ENOENT, EACCES, EPERM);
	struct stat st;
	HS_FAILS("stat /sys/kernel", stat("/sys/kernel", &st), ENOENT, EACCES);
	HS_FAILS("stat /sys/fs/cgroup", stat("/sys/fs/cgroup/memory", &st), ENOENT, EACCES);
	HS_FAILS("write /proc/sysrq-trigger", open("/proc/sysrq-trigger", O_WRONLY), EACCES, EPERM, EROFS, ENOENT);
	HS_FAILS("write /proc/sys/kernel/hostname", open("/proc/sys/kernel/hostname", O_WRONLY), EACCES, EPERM, EROFS, ENOENT);
	int fd = open("/proc/kallsyms", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, b, sizeof b - 1);
		close(fd);
		b[n > 0 ? n : 0] = 0;
		int real = 0;
		for (char *l = b; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (strncmp(l, "0000000000000000", 16) != 0)
				real++;
		hs_check("kallsyms shows no addresses", real == 0);
	} else {
		printf("good kallsyms closed: %s\n", strerror(errno));
	}
	static const char *const allowed[] = { ".", "..", "null", "zero", "full", "random", "urandom",
		"fd", "stdin", "stdout", "stderr", "shm" };
	DIR *d = opendir("/dev");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int ok = 0;
		for (unsigned i = 0; i < sizeof allowed / sizeof *allowed; i++)
			ok |= strcmp(e->d_name, allowed[i]) == 0;
		if (!ok) {
			printf("BAD /dev/%s present\n", e->d_name);
			hs_bad++;
		}
	}
	hs_check("/dev listed", d != NULL);
	return hs_done();
}
