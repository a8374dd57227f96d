/* sleep_forever: sleep(1000); must end as wall_time_limit with ~0 CPU. */
#include <unistd.h>
int main(void)
{
	sleep(1000);
	return 0;
}
