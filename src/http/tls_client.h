/*
 * tls_client: TLS for runcell's outgoing HTTP (result callbacks to
 * https:// URLs), over a non-blocking socket that the caller connected
 * and polls itself.
 *
 * mbed TLS, linked statically.  The peer must present a certificate that
 * chains to the trust store (the system's, or the PEM file given) and
 * names the host: a DNS name (an address literal cannot be checked, so it
 * is refused).  TLS 1.2.
 * Every call returns at once: TLS_WANT_READ or TLS_WANT_WRITE says which
 * way the socket must become ready before the same call is made again.
 * One client serves the connections of several threads at once.
 */
#ifndef RUNCELL_HTTP_TLS_CLIENT_H
#define RUNCELL_HTTP_TLS_CLIENT_H

#include <stddef.h>

#define TLS_WANT_READ 1
#define TLS_WANT_WRITE 2

struct tls_client;
struct tls_conn;

/* Settings shared by every connection: the trust store.  ca_file NULL or
 * "" means the system's (/etc/ssl/certs/ca-certificates.crt, else every
 * file of /etc/ssl/certs); otherwise a PEM file of trusted certificates.
 * Read now.  Returns 0, or -EINVAL / -ENOMEM with why. */
int tls_client_new(const char *ca_file, struct tls_client **out, char *why, size_t len);
void tls_client_free(struct tls_client *c);

/* Starts TLS on fd (connected, non-blocking; not closed by tls_conn_free)
 * for host, a DNS name.  Returns 0, or a negative errno with why (-EINVAL
 * for an address literal). */
int tls_conn_new(struct tls_client *c, int fd, const char *host, struct tls_conn **out,
		 char *why, size_t len);
void tls_conn_free(struct tls_conn *t);

/* The handshake, certificate checks included: 0 when done, TLS_WANT_*,
 * or -EPROTO with why (for example "certificate verify failed: ..."). */
int tls_conn_handshake(struct tls_conn *t, char *why, size_t len);

/* Writes up to n bytes: 0 with *done > 0, TLS_WANT_*, or a negative errno
 * with why. */
int tls_conn_write(struct tls_conn *t, const void *p, size_t n, size_t *done, char *why,
		   size_t len);

/* Reads up to n bytes: 0 with *got > 0, 0 with *got == 0 at the end of
 * the stream, TLS_WANT_*, or a negative errno with why. */
int tls_conn_read(struct tls_conn *t, void *p, size_t n, size_t *got, char *why, size_t len);

#endif
