/*
 * url: http:// and https:// URLs, parsed strictly (see url.h).  The callback sender
 * connects to what this returns and the API validates callback_url with
 * it, so what is accepted is exactly what can be delivered.
 */
#include "core/url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int url_why(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int url_why(char *why, size_t len, const char *fmt, ...)
{
	if (why && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool url_is_name(const char *h, size_t n)
{
	if (n == 0 || n > URL_HOST_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0)
				return false; /* empty label */
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (!ok || ++label > 63)
			return false;
	}
	return label > 0;
}

int url_parse_http(const char *url, struct url_http *t, char *why, size_t len)
{
	struct url_http scratch;
	if (!t)
		t = &scratch;
	memset(t, 0, sizeof(*t));
	if (!url)
		return url_why(why, len, "no URL");
	size_t n = strnlen(url, URL_MAX + 1);
	if (n > URL_MAX)
		return url_why(why, len, "URL longer than %d bytes", URL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f)
			return url_why(why, len, "URL has a space, control or non-ASCII "
						      "character at byte %zu", i);
		if (c == '#')
			return url_why(why, len, "URL has a fragment ('#')");
	}
	size_t scheme;
	if (!strncasecmp(url, "http://", 7)) {
		scheme = 7;
	} else if (!strncasecmp(url, "https://", 8)) {
		scheme = 8;
		t->tls = true;
	} else {
		return url_why(why, len, "URL must start with http:// or https://");
	}
	const char *auth = url + scheme;
	size_t alen = strcspn(auth, "/?");
	t->authority = auth;
	t->authority_len = alen;
	t->path = auth + alen;
	if (memchr(auth, '@', alen))
		return url_why(why, len, "URL has userinfo ('@')");
	if (alen == 0)
		return url_why(why, len, "URL has no host");

	const char *host, *rest;
	size_t hlen;
	if (auth[0] == '[') {
		const char *close = memchr(auth, ']', alen);
		if (!close)
			return url_why(why, len, "URL has '[' without ']'");
		host = auth + 1;
		hlen = (size_t)(close - host);
		rest = close + 1;
		if (hlen == 0 || hlen >= INET6_ADDRSTRLEN)
			return url_why(why, len, "bad IPv6 address in URL");
		memcpy(t->host, host, hlen);
		t->host[hlen] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, t->host, &a6) != 1)
			return url_why(why, len, "bad IPv6 address in URL");
		t->family = AF_INET6;
	} else {
		const char *colon = memchr(auth, ':', alen);
		host = auth;
		hlen = colon ? (size_t)(colon - auth) : alen;
		rest = auth + hlen;
		if (hlen == 0)
			return url_why(why, len, "URL has no host");
		if (!url_is_name(host, hlen))
			return url_why(why, len, "bad host name in URL");
		memcpy(t->host, host, hlen);
		t->host[hlen] = '\0';
		if (strspn(t->host, "0123456789.") == hlen) {
			struct in_addr a4;
			if (inet_pton(AF_INET, t->host, &a4) != 1)
				return url_why(why, len, "bad IPv4 address in URL");
			t->family = AF_INET;
		} else {
			t->family = AF_UNSPEC;
		}
	}

	/* The TLS client checks the certificate against a name only. */
	if (t->tls && t->family != AF_UNSPEC)
		return url_why(why, len, "https:// needs a host name, not an address (the "
					 "certificate is checked against the name)");
	const char *end = auth + alen;
	t->port = t->tls ? 443 : 80;
	if (rest < end) {
		if (*rest != ':')
			return url_why(why, len, "unexpected character after the host in URL");
		rest++;
		size_t plen = (size_t)(end - rest);
		if (plen == 0 || plen > 5 || strspn(rest, "0123456789") < plen)
			return url_why(why, len, "bad port in URL");
		unsigned long port = 0;
		for (size_t i = 0; i < plen; i++)
			port = port * 10 + (unsigned long)(rest[i] - '0');
		if (port < 1 || port > 65535)
			return url_why(why, len, "port out of range 1..65535 in URL");
		t->port = (uint16_t)port;
	}
	return 0;
}

