/* keyctl ACTION: "store" adds a key with data to the user and session
 * keyrings, "read" looks for it.  The key syscalls are denied: both must
 * fail (EPERM/ENOSYS) and nothing persists from one run to the next. */
#include "hostile.h"
int main(int argc, char **argv)
{
	const char *act = argc > 1 ? argv[1] : "store";
	if (strcmp(act, "store") == 0) {
		HS_FAILS("add_key user keyring", syscall(SYS_add_key, "user", "hostile", "secret", 6, -4 /* USER */), EPERM, ENOSYS);
		HS_FAILS("add_key session keyring", syscall(SYS_add_key, "user", "hostile2", "secret", 6, -3), EPERM, ENOSYS);
		HS_FAILS("keyctl join session", syscall(SYS_keyctl, 1 /* JOIN */, "hostile"), EPERM, ENOSYS);
	} else {
		HS_FAILS("request_key", syscall(SYS_request_key, "user", "hostile", NULL, 0), EPERM, ENOSYS);
		HS_FAILS("keyctl search", syscall(SYS_keyctl, 10 /* SEARCH */, -4, "user", "hostile", 0), EPERM, ENOSYS);
	}
	return hs_done();
}
