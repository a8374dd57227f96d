/* close_std: closes stdout and stderr then exits 0: ok with empty output. */
#include <unistd.h>
int main(void)
{
	close(1);
	close(2);
	return 0;
}
