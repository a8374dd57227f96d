/* fallocate: ftruncate and fallocate a 100 GB file in /box (SIGXFSZ
 * ignored).  Both must fail (EFBIG from the file size limit, or ENOSPC). */
#include "hostile.h"
int main(void)
{
	signal(SIGXFSZ, SIG_IGN);
	int fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) { printf("open: %s\n", strerror(errno)); return 2; }
	off_t huge = 100LL << 30;
	HS_FAILS("ftruncate 100G", ftruncate(fd, huge), EFBIG, ENOSPC);
	HS_FAILS("fallocate 100G", fallocate(fd, 0, 0, huge), EFBIG, ENOSPC);
	HS_FAILS("pwrite at 100G", pwrite(fd, "x", 1, huge), EFBIG, ENOSPC);
	struct stat st;
	fstat(fd, &st);
	hs_check("file stayed small", st.st_blocks * 512LL < (64LL << 20));
	return hs_done();
}
