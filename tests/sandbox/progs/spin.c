/* spin: for(;;); must end as time_limit with cpu_ms close to the limit. */
int main(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}
