/* fork_bomb: for(;;) fork(); every process keeps forking and spinning.
 * The cell must cap the processes (pids limit) and end on its CPU or wall
 * limit, leaving nothing behind on the host. */
#include <unistd.h>
int main(void)
{
	for (;;)
		fork();
}
