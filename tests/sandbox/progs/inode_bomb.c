/* inode_bomb: creates up to 1M empty files in /box; must stop on an inode
 * or memory limit (ENOSPC/ENOMEM/EDQUOT) or be killed; cleanup stays fast. */
#include "hostile.h"
int main(void)
{
	long n;
	int err = 0;
	for (n = 0; n < 1000000; n++) {
		char path[32];
		snprintf(path, sizeof path, "i%ld", n);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0) { err = errno; break; }
		close(fd);
	}
	printf("files %ld %s\n", n, err ? strerror(err) : "none");
	return 0;
}
