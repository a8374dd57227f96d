/*
 * tls_client: TLS under a poll loop that belongs to the caller (see
 * tls_client.h), on mbed TLS.
 *
 * Why mbed TLS and not OpenSSL: runcell is one static PIE, started once
 * per `runcell run`, and a static PIE applies all its relocations at
 * every start.  Static OpenSSL brings about 18,500 of them, which made
 * every start 0.2 ms slower (measured); mbed TLS brings under 800.
 *
 * One configuration holds the trust store (the system bundle, or the PEM
 * file given) and a CTR-DRBG seeded from the kernel; each connection is an
 * mbedtls_ssl_context on the caller's non-blocking socket, through two
 * small I/O callbacks that map EAGAIN to WANT_READ / WANT_WRITE.
 * Verification is required: the chain must reach a trusted certificate
 * and the certificate must name the host (mbedtls_ssl_set_hostname, which
 * also sends the name as SNI).  mbed TLS 2.28 does not list IP address
 * names of a certificate, so an address literal cannot be checked and is
 * refused: https needs a host name.  TLS 1.2 (the library's 1.3 support
 * is experimental and off in Debian's build).
 */
#include "http/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <unistd.h>

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_DIR "/etc/ssl/certs"

struct tls_client {
	mbedtls_ssl_config conf;
	mbedtls_x509_crt trusted;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	pthread_mutex_t drbg_lock;  /* connections of several threads share drbg */
};

/* mbed TLS is built without its threading layer: the one random generator
 * that every connection of this client draws from is locked here. */
static int locked_random(void *p, unsigned char *out, size_t n)
{
	struct tls_client *c = p;
	pthread_mutex_lock(&c->drbg_lock);
	int r = mbedtls_ctr_drbg_random(&c->drbg, out, n);
	pthread_mutex_unlock(&c->drbg_lock);
	return r;
}

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
};

static void tls_reason(char *why, size_t len, const char *what, int err)
{
	char buf[200];
	mbedtls_strerror(err, buf, sizeof(buf));
	snprintf(why, len, "%s: %s", what, buf);
}

static void client_clear(struct tls_client *c)
{
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->trusted);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	pthread_mutex_destroy(&c->drbg_lock);
}

/* The trust store: the PEM file given, else the system's bundle (or its
 * directory).  A file in which no certificate parses is an error. */
static int load_trusted(struct tls_client *c, const char *ca_file, char *why, size_t len)
{
	const char *from = ca_file && *ca_file ? ca_file : SYSTEM_BUNDLE;
	int r = mbedtls_x509_crt_parse_file(&c->trusted, from);
	if (r < 0 && !(ca_file && *ca_file) && access(SYSTEM_BUNDLE, F_OK) < 0) {
		from = SYSTEM_DIR;
		r = mbedtls_x509_crt_parse_path(&c->trusted, from);
	}
	if (r < 0 || c->trusted.version == 0) {
		char what[320];
		snprintf(what, sizeof(what), "cannot load trusted certificates from %s", from);
		if (r < 0)
			tls_reason(why, len, what, r);
		else
			snprintf(why, len, "%s: no certificate in it", what);
		return -EINVAL;
	}
	return 0;
}

int tls_client_new(const char *ca_file, struct tls_client **out, char *why, size_t len)
{
	*out = NULL;
	struct tls_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->trusted);
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	pthread_mutex_init(&c->drbg_lock, NULL);
	static const char pers[] = "runcell callbacks";
	int r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				      (const unsigned char *)pers, sizeof(pers) - 1);
	if (r != 0) {
		tls_reason(why, len, "cannot seed the TLS random generator", r);
		goto fail;
	}
	if (load_trusted(c, ca_file, why, len) < 0) {
		r = -1;
		goto fail;
	}
	r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) {
		tls_reason(why, len, "cannot set up TLS", r);
		goto fail;
	}
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&c->conf, &c->trusted, NULL);
	mbedtls_ssl_conf_rng(&c->conf, locked_random, c);
	/* TLS 1.2 and later only. */
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	*out = c;
	return 0;
fail:
	client_clear(c);
	free(c);
	return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EINVAL;
}

void tls_client_free(struct tls_client *c)
{
	if (c) {
		client_clear(c);
		free(c);
	}
}

static int io_send(void *ctx, const unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t w = send(t->fd, p, n, MSG_NOSIGNAL);
	if (w >= 0)
		return (int)w;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
						     : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int io_recv(void *ctx, unsigned char *p, size_t n)
{
	struct tls_conn *t = ctx;
	ssize_t r = recv(t->fd, p, n, 0);
	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int tls_conn_new(struct tls_client *c, int fd, const char *host, struct tls_conn **out,
		 char *why, size_t len)
{
	*out = NULL;
	if (is_ip_literal(host)) {
		snprintf(why, len, "https needs a host name, not an address: the certificate "
				   "is checked against the name");
		return -EINVAL;
	}
	struct tls_conn *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	t->fd = fd;
	mbedtls_ssl_init(&t->ssl);
	int r = mbedtls_ssl_setup(&t->ssl, &c->conf);
	if (r == 0)
		r = mbedtls_ssl_set_hostname(&t->ssl, host);
	if (r != 0) {
		tls_reason(why, len, "cannot set up TLS", r);
		tls_conn_free(t);
		return r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EINVAL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, io_send, io_recv, NULL);
	*out = t;
	return 0;
}

void tls_conn_free(struct tls_conn *t)
{
	if (t) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
	}
}

/* Maps a failed call's result r to TLS_WANT_* or a negative errno. */
static int tls_failure(struct tls_conn *t, int r, const char *what, char *why, size_t len)
{
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		char info[256];
		uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
		int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		/* One line: the first reason the library gives. */
		char *nl = n > 0 ? strchr(info, '\n') : NULL;
		if (nl)
			*nl = '\0';
		snprintf(why, len, "%s: certificate verify failed: %s", what,
			 n > 0 ? info : "unknown reason");
		return -EPROTO;
	}
	if (r == MBEDTLS_ERR_NET_CONN_RESET) {
		snprintf(why, len, "%s: connection reset by the peer", what);
		return -ECONNRESET;
	}
	tls_reason(why, len, what, r);
	return -EPROTO;
}

int tls_conn_handshake(struct tls_conn *t, char *why, size_t len)
{
	int r = mbedtls_ssl_handshake(&t->ssl);
	if (r == 0)
		return 0;
	if (r == MBEDTLS_ERR_SSL_CONN_EOF) {
		snprintf(why, len, "TLS handshake: the peer closed the connection");
		return -ECONNRESET;
	}
	return tls_failure(t, r, "TLS handshake", why, len);
}

int tls_conn_write(struct tls_conn *t, const void *p, size_t n, size_t *done, char *why,
		   size_t len)
{
	*done = 0;
	int r = mbedtls_ssl_write(&t->ssl, p, n);
	if (r > 0) {
		*done = (size_t)r;
		return 0;
	}
	return tls_failure(t, r, "TLS send", why, len);
}

int tls_conn_read(struct tls_conn *t, void *p, size_t n, size_t *got, char *why, size_t len)
{
	*got = 0;
	int r = mbedtls_ssl_read(&t->ssl, p, n);
	if (r > 0) {
		*got = (size_t)r;
		return 0;
	}
	/* The end of the stream, with or without close_notify: only a
	 * status line is wanted, and whether it came is the caller's to
	 * judge. */
	if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	return tls_failure(t, r, "TLS receive", why, len);
}
