/* sig_ignore: ignores SIGXCPU, SIGTERM, SIGHUP, SIGINT, blocks every
 * signal, clears ITIMER_PROF, raises its own CPU rlimit, then spins.
 * It must still be killed at the CPU limit. */
#include "hostile.h"
#include <sys/resource.h>
#include <sys/time.h>
int main(void)
{
	int sigs[] = { SIGXCPU, SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGALRM, SIGVTALRM, SIGPROF, SIGUSR1 };
	for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++)
		signal(sigs[i], SIG_IGN);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	struct itimerval zero = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &zero, NULL);
	setitimer(ITIMER_VIRTUAL, &zero, NULL);
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_CPU, &rl);
	for (volatile unsigned long i = 0;; i++)
		;
}
