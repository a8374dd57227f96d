/* net_raw: raw and packet sockets, AF_VSOCK and netlink route changes must
 * be refused. */
#include "hostile.h"
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
int main(void)
{
	HS_FAILS("socket(AF_PACKET, SOCK_RAW)", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), EPERM, EAFNOSUPPORT);
	HS_FAILS("socket(AF_PACKET, SOCK_DGRAM)", socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)), EPERM, EAFNOSUPPORT);
	HS_FAILS("socket(AF_INET, SOCK_RAW)", socket(AF_INET, SOCK_RAW, IPPROTO_RAW), EPERM);
	HS_FAILS("socket(AF_INET, SOCK_RAW, ICMP)", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	HS_FAILS("socket(AF_VSOCK)", socket(AF_VSOCK, SOCK_STREAM, 0), EPERM, EAFNOSUPPORT);
	return hs_done();
}
