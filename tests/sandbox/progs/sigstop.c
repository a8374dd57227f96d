/* sigstop: raise(SIGSTOP).  A stopped process uses no CPU; the cell must
 * still end it at the wall limit. */
#include <signal.h>
int main(void)
{
	raise(SIGSTOP);
	return 0;
}
