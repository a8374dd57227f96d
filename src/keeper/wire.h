/*
 * wire: what `runcell run` and `runcell keep` say to each other over the
 * keeper's unix stream socket, and where and how much.
 *
 *   request:  head (magic, version, count of descriptors, body length)
 *             and body in one sendmsg, which carries the first
 *             WIRE_FDS_PER_PACKET descriptors (SCM_RIGHTS); the rest follow
 *             in one-byte packets of as many.  One sendmsg wakes the
 *             keeper once: each wake-up is a context switch on the
 *             client's CPU.  The body holds
 *             the cell's shape (binds, --net, cgroup mode, the preloader
 *             it asks for), limits, whether to fork it from the preloader,
 *             cwd, argv, environment, the --box files' names, modes and,
 *             for files given from memory, their bytes.
 *   reply:    head (served or declined, the result's numbers and message),
 *             then stdout's bytes, then stderr's.
 *
 * Both ends are the same build on the same host, so the heads are plain
 * structs of fixed-width fields; the body is length-prefixed and checked
 * field by field, never trusted for a length.
 */
#ifndef RUNCELL_KEEPER_WIRE_H
#define RUNCELL_KEEPER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "sandbox/sandbox.h"

#define KEEPER_SOCKET_DEFAULT "/run/runcell/keeper.sock"
/* The most a request may carry: argv, environment and --box file names,
 * and its descriptors (stdin and the --box files).  A larger one is run
 * by runcell run itself. */
#define WIRE_REQUEST_MAX (4u << 20)
#define WIRE_FDS_MAX 1024

#define WIRE_MAGIC 0x72636b31u  /* "rck1" */
#define WIRE_VERSION 2u
#define WIRE_FDS_PER_PACKET 250

struct wire_request_head {
	uint32_t magic;
	uint32_t version;
	uint32_t nfds;
	uint32_t body_len;
};

struct wire_reply_head {
	uint32_t magic;
	uint32_t served;         /* 1: ran; 0: declined, message says why */
	int32_t status;
	int32_t exit_code;
	int32_t signal;
	uint8_t out_truncated, err_truncated, preloaded;
	uint8_t preload_missing;  /* asked to preload; the cells have no such preloader */
	uint64_t cpu_ms, wall_ms, memory_kb;
	uint64_t out_len, err_len;
	char message[512];
};

/* A decoded request: shape and spec point into its own storage. */
struct wire_request {
	struct sandbox_cell_config shape;  /* binds, net, cgroup, preload (no env) */
	struct sandbox_run_spec spec;
	struct sandbox_bind *binds;
	char *body;                     /* owns the strings and file bytes */
	const char **argv;
	const char **env;
	struct sandbox_file *files;
	int *fds;                       /* every descriptor received */
	size_t nfds;
};

/* Whole buffers over a stream socket, EINTR retried (a signal's EINTR is
 * returned when stop_on_eintr).  Receiving fails with -ENODATA when the
 * peer closed before all came, -ECONNRESET when it closed with something
 * of ours unread, -EPROTO on descriptors where none belong. */
int wire_send_all(int sock, const void *data, size_t len);
int wire_recv_all(int sock, void *data, size_t len, bool stop_on_eintr);
/* The request: head and body, the descriptors as above. */
int wire_send_request(int sock, const struct wire_request_head *head, const void *body,
		      const int *fds, size_t nfds);
/* The head, and the descriptors that came with it (at most max; *nfds
 * says how many); wire_recv_fds reads the rest. */
int wire_recv_head(int sock, struct wire_request_head *head, int *fds, size_t max,
		   size_t *nfds);
int wire_recv_fds(int sock, int *fds, size_t n);

/* The body of a run of spec in a cell of shape's binds, net and cgroup,
 * and the descriptors to send with it (stdin first, then each file's).
 * -E2BIG past WIRE_REQUEST_MAX or WIRE_FDS_MAX. */
int wire_request_encode(const struct sandbox_cell_config *shape,
			const struct sandbox_run_spec *spec, struct buf *body, int *fds,
			size_t *nfds);
/* Whether a cell of config a is the cell b asks for (binds, net, cgroup). */
bool wire_shape_equal(const struct sandbox_cell_config *a, const struct sandbox_cell_config *b);
/* Whether a and b are the same preloader (binary and interpreter); never
 * when either is none. */
bool wire_preload_same(const struct sandbox_preload *a, const struct sandbox_preload *b);
/* Takes ownership of body (malloc'd, len bytes) and fds (malloc'd), even
 * on error.  -EPROTO when the body is not a request. */
int wire_request_decode(char *body, size_t len, int *fds, size_t nfds, struct wire_request *req);
void wire_request_free(struct wire_request *req);

#endif
