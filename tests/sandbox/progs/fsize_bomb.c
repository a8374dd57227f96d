/* fsize_bomb: writes 10 GB into one file in /box.  The file size limit
 * (SIGXFSZ) must end it as output_limit. */
#include "hostile.h"
int main(void)
{
	static char chunk[1 << 20];
	memset(chunk, 'f', sizeof chunk);
	int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) { printf("open: %s\n", strerror(errno)); return 2; }
	for (int i = 0; i < 10240; i++)
		if (write(fd, chunk, sizeof chunk) < 0) {
			printf("write: %s\n", strerror(errno));
			return 2;
		}
	return 0;
}
