/*
 * Unit tests for keeper/wire: a request survives encoding, the socket and
 * decoding; a short, forged or mutated body is refused, never read past.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keeper/wire.h"
#include "test.h"

static const struct sandbox_bind wire_binds[] = {
	{ .host = "/etc/java", .cell = NULL, .rw = false },
	{ .host = "/srv/data", .cell = "/data", .rw = true },
};
static const char *const wire_argv[] = { "/usr/bin/python3", "", "-c", "print(1)", NULL };
static const char *const wire_env[] = { "PATH=/bin", "A=b=c", NULL };
static const char wire_blob[] = { 'x', '\0', 'y' };

/* A spec of every kind of field; fds[0] is its stdin, fds[1] a file's. */
static void wire_sample(struct sandbox_cell_config *shape, struct sandbox_run_spec *spec,
			struct sandbox_file *files, int fds[2])
{
	memset(shape, 0, sizeof(*shape));
	shape->binds = wire_binds;
	shape->nbinds = 2;
	shape->net = true;
	shape->cgroup = SANDBOX_CGROUP_V1;
	shape->preload = (struct sandbox_preload){ .server = "/opt/runcell-python",
						   .program = "/usr/bin/python3" };
	memset(spec, 0, sizeof(*spec));
	spec->preload = true;
	sandbox_limits_default(&spec->limits);
	spec->limits.cpu_ms = 1234;
	spec->limits.disk_kb = 99999;
	spec->argv = wire_argv;
	spec->env = wire_env;
	spec->cwd = "/box/sub";
	spec->stdin_fd = fds[0];
	memset(files, 0, 3 * sizeof(*files));
	files[0] = (struct sandbox_file){ .path = "main.py", .fd = fds[1], .mode = 0755 };
	files[1] = (struct sandbox_file){ .path = "d/blob", .fd = -1, .data = wire_blob,
					  .len = sizeof(wire_blob), .readonly = true };
	files[2] = (struct sandbox_file){ .path = "d", .fd = -1, .mode = S_IFDIR | 0500 };
	spec->files = files;
	spec->nfiles = 3;
}

/* Copies, as the keeper's read does: decode owns them. */
static int wire_decode_copy(const struct buf *body, const int *fds, size_t nfds,
			    struct wire_request *req)
{
	char *b = malloc(body->len ? body->len : 1);
	int *f = malloc((nfds ? nfds : 1) * sizeof(int));
	memcpy(b, body->data, body->len);
	for (size_t i = 0; i < nfds; i++)
		f[i] = dup(fds[i]);
	return wire_request_decode(b, body->len, f, nfds, req);
}

/* A sample request encoded, with its pipe (stdin and a file's fd). */
struct wire_fixture {
	int p[2];
	int fds[WIRE_FDS_MAX];
	size_t nfds;
	struct sandbox_cell_config shape;
	struct sandbox_run_spec spec;
	struct sandbox_file files[3];
	struct buf body;
};

static void fixture_open(struct wire_fixture *f)
{
	ASSERT_EQ(pipe(f->p), 0);
	wire_sample(&f->shape, &f->spec, f->files, f->p);
	ASSERT_EQ(wire_request_encode(&f->shape, &f->spec, &f->body, f->fds, &f->nfds), 0);
}

static void fixture_close(struct wire_fixture *f)
{
	buf_free(&f->body);
	close(f->p[0]);
	close(f->p[1]);
}

static void wire_check_same(const struct wire_request *req, const struct sandbox_run_spec *spec,
			    const struct sandbox_cell_config *shape)
{
	ASSERT_TRUE(wire_shape_equal(&req->shape, shape));
	ASSERT_NULL(req->shape.binds[0].cell);
	ASSERT_STR(req->shape.binds[1].cell, "/data");
	ASSERT_TRUE(wire_preload_same(&req->shape.preload, &shape->preload));
	ASSERT_NULL(req->shape.preload.env);  /* the keeper's own: not sent */
	ASSERT_EQ(req->spec.preload, spec->preload);
	for (size_t i = 0; i < SANDBOX_LIMIT_COUNT; i++)
		ASSERT_EQ(sandbox_limit_get(&req->spec.limits, i), sandbox_limit_get(&spec->limits, i));
	ASSERT_STR(req->spec.cwd, "/box/sub");
	for (size_t i = 0; i < 5; i++) {
		if (!wire_argv[i]) {
			ASSERT_NULL(req->spec.argv[i]);
			break;
		}
		ASSERT_STR(req->spec.argv[i], wire_argv[i]);
	}
	ASSERT_STR(req->spec.env[1], "A=b=c");
	ASSERT_NULL(req->spec.env[2]);
	ASSERT_EQ(req->spec.nfiles, 3);
	ASSERT_STR(req->spec.files[0].path, "main.py");
	ASSERT_EQ(req->spec.files[0].mode, 0755);
	ASSERT_TRUE(req->spec.files[0].fd >= 0);
	ASSERT_STR(req->spec.files[1].path, "d/blob");
	ASSERT_TRUE(req->spec.files[1].readonly);
	ASSERT_EQ(req->spec.files[1].fd, -1);
	ASSERT_MEM(req->spec.files[1].data, req->spec.files[1].len, wire_blob, sizeof(wire_blob));
	ASSERT_EQ(req->spec.files[2].mode, S_IFDIR | 0500);
	ASSERT_TRUE(req->spec.stdin_fd >= 0);
}

TEST(keeper_wire_round_trip)
{
	static struct wire_fixture f;
	fixture_open(&f);
	ASSERT_EQ(f.nfds, 2);
	ASSERT_EQ(f.fds[0], f.p[0]);
	ASSERT_EQ(f.fds[1], f.p[1]);
	struct wire_request req;
	ASSERT_EQ(wire_decode_copy(&f.body, f.fds, f.nfds, &req), 0);
	wire_check_same(&req, &f.spec, &f.shape);
	wire_request_free(&req);

	/* No environment (the default one), no stdin, no files, no preloader. */
	f.spec.env = NULL;
	f.spec.preload = false;
	f.shape.preload = (struct sandbox_preload){ 0 };
	f.spec.stdin_fd = -1;
	f.spec.nfiles = 0;
	f.spec.cwd = NULL;
	buf_free(&f.body);
	ASSERT_EQ(wire_request_encode(&f.shape, &f.spec, &f.body, f.fds, &f.nfds), 0);
	ASSERT_EQ(f.nfds, 0);
	ASSERT_EQ(wire_decode_copy(&f.body, f.fds, f.nfds, &req), 0);
	ASSERT_NULL(req.spec.env);
	ASSERT_NULL(req.spec.cwd);
	ASSERT_EQ(req.spec.stdin_fd, -1);
	ASSERT_EQ(req.spec.nfiles, 0);
	ASSERT_FALSE(req.spec.preload);
	ASSERT_NULL(req.shape.preload.server);
	ASSERT_NULL(req.shape.preload.program);
	wire_request_free(&req);
	fixture_close(&f);
}

/* Every cut of a valid body, and a descriptor too many or too few. */
TEST(keeper_wire_short_or_forged_refused)
{
	static struct wire_fixture f;
	fixture_open(&f);
	struct wire_request req;
	for (size_t cut = 0; cut < f.body.len; cut++) {
		struct buf shorter = f.body;
		shorter.len = cut;
		if (wire_decode_copy(&shorter, f.fds, f.nfds, &req) != -EPROTO)
			FAIL("a body cut to %zu of %zu bytes was taken", cut, f.body.len);
		wire_request_free(&req);
	}
	ASSERT_EQ(wire_decode_copy(&f.body, f.fds, f.nfds - 1, &req), -EPROTO);
	wire_request_free(&req);
	int more[3] = { f.p[0], f.p[1], f.p[0] };
	ASSERT_EQ(wire_decode_copy(&f.body, more, 3, &req), -EPROTO);
	wire_request_free(&req);
	fixture_close(&f);
}

/* Random edits (bytes changed, lengths made huge, the end cut): taken or
 * refused, never a read past the body (the ASan build checks). */
TEST(keeper_wire_mutated_bodies)
{
	static struct wire_fixture f;
	fixture_open(&f);
	struct buf body = f.body;
	int *fds = f.fds;
	size_t nfds = f.nfds;
	unsigned seed = 7;
	int taken = 0, refused = 0;
	for (int i = 0; i < 5000; i++) {
		struct buf m = body;
		m.data = malloc(body.len);
		memcpy(m.data, body.data, body.len);
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % body.len;
			switch ((seed >> 4) % 3) {
			case 0: m.data[at] = (char)(seed >> 20); break;
			case 1: memset(m.data + at, 0xff, body.len - at < 4 ? body.len - at : 4); break;
			default: m.len = at; break;
			}
		}
		struct wire_request req;
		int rc = wire_decode_copy(&m, fds, nfds, &req);
		if (rc == 0)
			taken++;
		else if (rc == -EPROTO || rc == -ENOMEM)
			refused++;
		else
			FAIL("decode returned %d", rc);
		wire_request_free(&req);
		free(m.data);
	}
	ASSERT_GT(refused, 0);
	ASSERT_EQ(taken + refused, 5000);
	fixture_close(&f);
}

/* Over a socket: more descriptors than one packet carries, a body that a
 * stream socket may split. */
TEST(keeper_wire_over_socket)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int big = 1 << 20;
	ASSERT_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	ASSERT_EQ(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	enum { N = 300 };
	int devnull = open("/dev/null", O_RDONLY);
	ASSERT_TRUE(devnull >= 0);
	static struct sandbox_file files[N];
	for (int i = 0; i < N; i++)
		files[i] = (struct sandbox_file){ .path = "f", .fd = devnull };
	static char blob[100000];
	memset(blob, 'b', sizeof(blob));
	files[0] = (struct sandbox_file){ .path = "blob", .fd = -1, .data = blob, .len = sizeof(blob) };
	struct sandbox_cell_config shape;
	memset(&shape, 0, sizeof(shape));
	struct sandbox_run_spec spec;
	memset(&spec, 0, sizeof(spec));
	sandbox_limits_default(&spec.limits);
	spec.argv = wire_argv;
	spec.stdin_fd = devnull;
	spec.files = files;
	spec.nfiles = N;
	struct buf body;
	static int fds[WIRE_FDS_MAX];
	size_t nfds;
	ASSERT_EQ(wire_request_encode(&shape, &spec, &body, fds, &nfds), 0);
	ASSERT_EQ(nfds, N);  /* stdin and the 299 files with descriptors */
	struct wire_request_head h = { WIRE_MAGIC, WIRE_VERSION, (uint32_t)nfds, (uint32_t)body.len };
	pid_t pid = fork();
	if (pid == 0)
		_exit(wire_send_request(sv[0], &h, body.data, fds, nfds) == 0 ? 0 : 1);
	struct wire_request_head got_h;
	static int got[WIRE_FDS_MAX];
	size_t first;
	ASSERT_EQ(wire_recv_head(sv[1], &got_h, got, WIRE_FDS_MAX, &first), 0);
	ASSERT_EQ(got_h.nfds, N);
	ASSERT_EQ(first, WIRE_FDS_PER_PACKET);
	char *b = malloc(got_h.body_len);
	ASSERT_EQ(wire_recv_all(sv[1], b, got_h.body_len, false), 0);
	ASSERT_EQ(wire_recv_fds(sv[1], got + first, N - first), 0);
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	struct stat want, have;
	ASSERT_EQ(fstat(devnull, &want), 0);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(fstat(got[i], &have), 0);
		ASSERT_EQ(have.st_rdev, want.st_rdev);
	}
	int *own = malloc(N * sizeof(int));
	memcpy(own, got, N * sizeof(int));
	struct wire_request req;
	ASSERT_EQ(wire_request_decode(b, got_h.body_len, own, N, &req), 0);
	ASSERT_EQ(req.spec.files[0].len, sizeof(blob));
	ASSERT_EQ(req.spec.files[N - 1].fd, got[N - 1]);
	wire_request_free(&req);
	buf_free(&body);
	close(devnull);
	close(sv[0]);
	close(sv[1]);
}

TEST(keeper_wire_shape_equal)
{
	struct sandbox_bind a[] = { { "/x", NULL, false } }, b[] = { { "/x", NULL, true } };
	struct sandbox_cell_config one = { .binds = a, .nbinds = 1 }, two = one;
	ASSERT_TRUE(wire_shape_equal(&one, &two));
	two.binds = b;
	ASSERT_FALSE(wire_shape_equal(&one, &two));
	two = one;
	two.net = true;
	ASSERT_FALSE(wire_shape_equal(&one, &two));
	two = one;
	two.cgroup = SANDBOX_CGROUP_NONE;
	ASSERT_FALSE(wire_shape_equal(&one, &two));
	two = one;
	two.nbinds = 0;
	ASSERT_FALSE(wire_shape_equal(&one, &two));
	two = one;
	two.reexec = two.lazy = two.ahead = true;  /* the keeper's own: not the shape */
	ASSERT_TRUE(wire_shape_equal(&one, &two));
}

TEST(keeper_wire_preload_same)
{
	struct sandbox_preload none = { 0 }, py = { .server = "/b/runcell-python",
						     .program = "/usr/bin/python3" };
	struct sandbox_preload other = py, env = py;
	ASSERT_TRUE(wire_preload_same(&py, &py));
	static const char *const e[] = { "A=1", NULL };
	env.env = e;  /* the runs' environment is checked per run, in the cell */
	ASSERT_TRUE(wire_preload_same(&py, &env));
	ASSERT_FALSE(wire_preload_same(&none, &none));  /* none is never a match */
	ASSERT_FALSE(wire_preload_same(&py, &none));
	ASSERT_FALSE(wire_preload_same(&none, &py));
	other.program = "/usr/bin/python3.11";
	ASSERT_FALSE(wire_preload_same(&py, &other));
	other = py;
	other.server = "/elsewhere/runcell-python";
	ASSERT_FALSE(wire_preload_same(&py, &other));
}
