/*
 * url: parsing of http:// and https:// URLs (callbacks).
 *
 * Accepted: http[s]://host[:port][/path][?query], the scheme in any case;
 * host an IPv4 literal, an [IPv6] literal or a DNS name; port 1..65535
 * (80 or 443 when absent); at most URL_MAX bytes of printable ASCII; no
 * userinfo ('@'), no fragment ('#').  https:// needs a DNS name: the TLS
 * client checks certificates against names only.
 */
#ifndef RUNCELL_CORE_URL_H
#define RUNCELL_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URL_MAX 2048
#define URL_HOST_MAX 253 /* a DNS name; IPv6 literals are shorter */

struct url_http {
	char host[URL_HOST_MAX + 1]; /* name or address literal, no brackets */
	const char *authority;       /* into the URL: host[:port] as written (Host header) */
	size_t authority_len;
	const char *path;            /* into the URL: "/..." or "?..." or "" */
	uint16_t port;
	bool tls;                    /* https:// */
	int family;                  /* AF_INET / AF_INET6 for a literal, else AF_UNSPEC */
};

/* Parses url into *t (t may be NULL: only check).  0, or -EINVAL with a
 * message for people in why. */
int url_parse_http(const char *url, struct url_http *t, char *why, size_t len);

#endif
