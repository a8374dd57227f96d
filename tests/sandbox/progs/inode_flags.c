/* inode_flags: "set" puts FS_NODUMP_FL and FS_NOATIME_FL on /box, /tmp and
 * /dev/shm (a tmpfs lets their owner do so); "show" prints the flags.  In
 * a warm cell the wipe must clear them, or they carry bits from one run to
 * the next. */
#include "hostile.h"
#include <linux/fs.h>
#include <sys/ioctl.h>

int main(int argc, char **argv)
{
	static const char *const dirs[] = { "/box", "/tmp", "/dev/shm" };
	int set = argc > 1 && !strcmp(argv[1], "set");
	for (int i = 0; i < 3; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY);
		int flags = 0;
		if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
			printf("%s: %s\n", dirs[i], strerror(errno));
			continue;
		}
		if (set) {
			flags |= FS_NODUMP_FL | FS_NOATIME_FL;
			if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
				printf("%s: set: %s\n", dirs[i], strerror(errno));
			ioctl(fd, FS_IOC_GETFLAGS, &flags);
		}
		printf("%s %#x\n", dirs[i], flags & (FS_NODUMP_FL | FS_NOATIME_FL));
		close(fd);
	}
	return 0;
}
