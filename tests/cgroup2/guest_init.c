/*
 * guest_init.c - pid 1 of the cgroup v2 test guest booted by tests/cgroup2/vm.sh.
 *
 * The guest exists so that runcell's cgroup v2 backend can be tested for real on a
 * host that only has cgroup v1. This program runs from the initramfs: it loads the
 * 9p/virtio modules listed in /modules/order, mounts the host's / (read-only) and the
 * project directory (read-write) over virtio-9p, mounts a pure cgroup v2 hierarchy at
 * /sys/fs/cgroup with +memory +pids +cpu enabled at the root, brings up lo, switches
 * into the host root and runs the job described in the "job" share (argv, cwd, env).
 * The job's stdout/stderr go to serial ports ttyS1/ttyS2 (vm.sh streams them), its
 * exit status is written to job/status and as a marker line on ttyS0, then the guest
 * powers off. Built with gcc -static, so it needs nothing from the host root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define GI_EXIT_SETUP 125 /* the guest could not prepare or start the job */
#define GI_MAX_ARGS 4096

static int gi_console = -1; /* ttyS0: control channel (log + exit marker) */
static int gi_out = -1;     /* ttyS1: job stdout */
static int gi_err = -1;     /* ttyS2: job stderr */
static int gi_jobfd = -1;   /* the job share, kept open across the root switch */
static int gi_in_child;     /* set in the forked job process before exec */

static void gi_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n = snprintf(line, sizeof line, "runcell-vm-init: ");
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (gi_console >= 0 && write(gi_console, line, (size_t)n) < 0) {
        /* nothing else to report to */
    }
}

static void gi_flush_ttys(void)
{
    if (gi_out >= 0)
        tcdrain(gi_out);
    if (gi_err >= 0)
        tcdrain(gi_err);
    if (gi_console >= 0)
        tcdrain(gi_console);
}

static void gi_finish(int status)
{
    char buf[64];
    int n;
    gi_flush_ttys();
    if (gi_jobfd >= 0) {
        int fd = openat(gi_jobfd, "status.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            n = snprintf(buf, sizeof buf, "%d\n", status);
            if (write(fd, buf, (size_t)n) != n)
                gi_log("short write of status file");
            fsync(fd);
            close(fd);
            if (renameat(gi_jobfd, "status.tmp", gi_jobfd, "status") != 0)
                gi_log("rename status: %s", strerror(errno));
        } else {
            gi_log("cannot write status file: %s", strerror(errno));
        }
    }
    n = snprintf(buf, sizeof buf, "\nRUNCELL-VM-EXIT %d\n", status);
    if (gi_console >= 0 && write(gi_console, buf, (size_t)n) < 0) {
        /* ignore */
    }
    sync();
    gi_flush_ttys();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

/* Report a setup failure on the job's stderr and the console, then power off. */
static void gi_fail(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n = snprintf(line, sizeof line, "vm.sh guest: ");
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (gi_err >= 0 && write(gi_err, line, (size_t)n) < 0) {
        /* ignore */
    }
    if (gi_console >= 0 && write(gi_console, line, (size_t)n) < 0) {
        /* ignore */
    }
    if (gi_in_child)
        _exit(GI_EXIT_SETUP);
    gi_finish(GI_EXIT_SETUP);
}

static int gi_open_tty(const char *path)
{
    struct termios t;
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

static void gi_mount(const char *src, const char *dst, const char *type, unsigned long flags,
                     const char *data)
{
    if (mount(src, dst, type, flags, data) != 0)
        gi_fail("mount %s (%s) on %s: %s", src, type, dst, strerror(errno));
}

static void gi_mkdir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        gi_fail("mkdir %s: %s", path, strerror(errno));
}

/* Read a whole file relative to dirfd; returns a NUL-terminated malloc'd buffer. */
static char *gi_read_file(int dirfd, const char *name, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf;
    ssize_t r;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    buf = malloc(cap + 1);
    if (!buf)
        gi_fail("out of memory");
    while ((r = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            if (!buf)
                gi_fail("out of memory");
        }
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

/* Split a NUL-separated buffer into a NULL-terminated vector. */
static char **gi_split0(char *buf, size_t len)
{
    char **vec = calloc(GI_MAX_ARGS + 1, sizeof *vec);
    size_t i = 0, off = 0;
    if (!vec)
        gi_fail("out of memory");
    while (off < len && i < GI_MAX_ARGS) {
        vec[i++] = buf + off;
        off += strlen(buf + off) + 1;
    }
    vec[i] = NULL;
    return vec;
}

static char *gi_trim(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static void gi_load_modules(void)
{
    char *order = gi_read_file(AT_FDCWD, "/modules/order", NULL);
    char *line, *save = NULL;
    if (!order)
        return; /* everything built in */
    for (line = strtok_r(order, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char path[512];
        int fd;
        snprintf(path, sizeof path, "/modules/%s", line);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            gi_fail("open module %s: %s", path, strerror(errno));
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            gi_fail("finit_module %s: %s", line, strerror(errno));
        close(fd);
    }
    free(order);
}

static void gi_write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        gi_fail("open %s: %s", path, strerror(errno));
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
        gi_fail("write '%s' to %s: %s", s, path, strerror(errno));
    close(fd);
}

static void gi_lo_up(void)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        gi_fail("socket: %s", strerror(errno));
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        gi_fail("SIOCGIFFLAGS lo: %s", strerror(errno));
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        gi_fail("SIOCSIFFLAGS lo: %s", strerror(errno));
    close(s);
}

/* mkdir -p for a cgroup path below /sys/fs/cgroup, then move pid 'self' into it. */
static void gi_enter_cgroup(const char *rel)
{
    char path[1024], *p;
    int n = snprintf(path, sizeof path, "/sys/fs/cgroup/%s", rel);
    if (n <= 0 || n >= (int)sizeof path)
        gi_fail("cgroup path too long");
    for (p = path + strlen("/sys/fs/cgroup/"); *p; p++) {
        if (*p == '/') {
            *p = '\0';
            gi_mkdir(path, 0755);
            *p = '/';
        }
    }
    gi_mkdir(path, 0755);
    strncat(path, "/cgroup.procs", sizeof path - strlen(path) - 1);
    gi_write_str(path, "0");
}

static int gi_wait_status_to_exit(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return GI_EXIT_SETUP;
}

int main(void)
{
    static const char *const tmpfs_dirs[] = {"/newroot/tmp", "/newroot/run", "/newroot/var/tmp"};
    char *cwd, *rwdir, *argbuf, *envbuf, *cgroup;
    char **argv, **envp;
    size_t arglen = 0, envlen = 0;
    char path[1024];
    pid_t child;
    int status = GI_EXIT_SETUP;
    size_t i;

    /* The kernel gives us /dev/console (from the initramfs) as fds 0-2, maybe. */
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") != 0) {
        /* without /dev there is no way to report anything */
        reboot(RB_POWER_OFF);
    }
    gi_console = gi_open_tty("/dev/ttyS0");
    gi_out = gi_open_tty("/dev/ttyS1");
    gi_err = gi_open_tty("/dev/ttyS2");
    gi_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    gi_mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    gi_load_modules();

    /* The job share: argv (NUL-separated), cwd, rwdir, env, optional cgroup. */
    gi_mkdir("/job", 0755);
    gi_mount("job", "/job", "9p", 0, "trans=virtio,version=9p2000.L,cache=none,msize=262144");
    gi_jobfd = open("/job", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (gi_jobfd < 0)
        gi_fail("open /job: %s", strerror(errno));
    argbuf = gi_read_file(gi_jobfd, "argv", &arglen);
    envbuf = gi_read_file(gi_jobfd, "env", &envlen);
    cwd = gi_trim(gi_read_file(gi_jobfd, "cwd", NULL));
    rwdir = gi_trim(gi_read_file(gi_jobfd, "rwdir", NULL));
    cgroup = gi_trim(gi_read_file(gi_jobfd, "cgroup", NULL));
    if (!argbuf || arglen == 0 || !cwd)
        gi_fail("job share lacks argv or cwd");
    argv = gi_split0(argbuf, arglen);
    envp = envbuf ? gi_split0(envbuf, envlen) : NULL;

    /* The host root, read-only; page cache kept (nothing changes it during a run). */
    gi_mkdir("/newroot", 0755);
    gi_mount("hostroot", "/newroot", "9p", MS_RDONLY,
             "trans=virtio,version=9p2000.L,cache=loose,msize=512000");
    for (i = 0; i < sizeof tmpfs_dirs / sizeof tmpfs_dirs[0]; i++)
        gi_mount("tmpfs", tmpfs_dirs[i], "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    /* After the tmpfs mounts, so a project under /tmp (a CI clone) stays
     * visible: its mount point is created inside the fresh tmpfs. */
    if (rwdir && rwdir[0] == '/') {
        snprintf(path, sizeof path, "/newroot%s", rwdir);
        for (char *c = path + strlen("/newroot") + 1; *c; c++) {
            if (*c != '/')
                continue;
            *c = '\0';
            mkdir(path, 0755);
            *c = '/';
        }
        mkdir(path, 0755);
        gi_mount("project", path, "9p", 0, "trans=virtio,version=9p2000.L,cache=mmap,msize=512000");
    }
    gi_mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL);
    gi_mount("/proc", "/newroot/proc", NULL, MS_MOVE, NULL);
    gi_mount("/sys", "/newroot/sys", NULL, MS_MOVE, NULL);
    gi_mount("cgroup2", "/newroot/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "nsdelegate,memory_recursiveprot");
    gi_mkdir("/newroot/dev/pts", 0755);
    gi_mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
             "mode=620,ptmxmode=666");
    gi_mkdir("/newroot/dev/shm", 01777);
    gi_mount("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    if (symlink("/proc/self/fd", "/newroot/dev/fd") != 0 && errno != EEXIST)
        gi_log("symlink /dev/fd: %s", strerror(errno));

    /* switch_root: move the new root over / and chroot into it. */
    if (chdir("/newroot") != 0)
        gi_fail("chdir /newroot: %s", strerror(errno));
    gi_mount(".", "/", NULL, MS_MOVE, NULL);
    if (chroot(".") != 0 || chdir("/") != 0)
        gi_fail("chroot: %s", strerror(errno));

    gi_write_str("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids +cpu");
    gi_lo_up();
    if (sethostname("runcell-vm", strlen("runcell-vm")) != 0)
        gi_log("sethostname: %s", strerror(errno));

    child = fork();
    if (child < 0)
        gi_fail("fork: %s", strerror(errno));
    if (child == 0) {
        int devnull;
        gi_in_child = 1;
        devnull = open("/dev/null", O_RDONLY);
        if (cgroup && cgroup[0])
            gi_enter_cgroup(cgroup[0] == '/' ? cgroup + 1 : cgroup);
        if (chdir(cwd) != 0)
            gi_fail("cannot chdir to %s in the guest: %s", cwd, strerror(errno));
        setsid();
        if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(gi_out, 1) < 0 || dup2(gi_err, 2) < 0)
            gi_fail("cannot set up stdio: %s", strerror(errno));
        if (devnull > 2)
            close(devnull);
        if (envp) {
            clearenv();
            for (i = 0; envp[i]; i++)
                putenv(envp[i]);
        }
        execvp(argv[0], argv);
        {
            int e = errno;
            dprintf(2, "vm.sh guest: cannot execute %s: %s\n", argv[0], strerror(e));
            _exit(e == ENOENT ? 127 : 126);
        }
    }

    /* Reap everything; the job's own status decides the exit status. */
    for (;;) {
        int st;
        pid_t p = wait(&st);
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p == child) {
            status = gi_wait_status_to_exit(st);
            break;
        }
    }
    kill(-1, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    if (rwdir && rwdir[0] == '/' && umount(rwdir) != 0)
        gi_log("umount %s: %s", rwdir, strerror(errno));
    gi_finish(status);
    return 0;
}
