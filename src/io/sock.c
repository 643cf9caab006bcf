/*
 * io/sock.c - sockets, pipes and reads/writes that park (swarmrt/io.h).
 *
 * Every call has the same shape: make sure the fd is registered (so it is
 * non-blocking), try the syscall, and on EAGAIN park in an fd wait until
 * the fd is ready or the call's one deadline passes, then try again. The
 * syscalls go through base/sys.h's table, so tests can fail each of them.
 */
#include "io/io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/deadline.h"
#include "base/sys.h"
#include "sched/sched.h"
#include "swarmrt/error.h"

/* The running process's scheduler, or NULL outside a process. */
static swarm__sched_t *proc_sched(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s && s->current ? s : NULL;
}

/* Checks common to the calls on an fd: a process, a sane fd and
 * timeout, the fd registered. */
static int prep(int fd, int64_t timeout_ms)
{
    swarm__sched_t *s = proc_sched();
    if (!s)
        return SWARM_ENOTPROC;
    if (timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (fd < 0 || fd >= SWARM_IO_MAX_FD)
        return SWARM_EBADF;
    return swarm__io_register(s->swarm, fd, 0);
}

/* After a syscall said EAGAIN: wait for ev, 0 to try again, or an error. */
static int wait_ready(int fd, unsigned ev, int64_t deadline)
{
    int r = swarm__io_wait(fd, ev, NULL, deadline, 0);
    return r > 0 ? 0 : r;
}

/* A syscall's result: n, or -errno; EINTR is retried by the callers. */
#define SYS_RESULT(n) ((n) < 0 ? (ssize_t)-errno : (ssize_t)(n))
#define WOULD_BLOCK(n) ((n) == -EAGAIN || (n) == -EWOULDBLOCK)

/* One I/O operation, retried until it moves bytes or fails. */
typedef struct op {
    int kind; /* 0 read, 1 write, 2 readv, 3 writev, 4 recvfrom, 5 sendto, 6 sendfile */
    void *buf;
    size_t len;
    const struct iovec *iov;
    int iovcnt;
    struct sockaddr *addr;
    socklen_t *alen;
    const struct sockaddr *to;
    socklen_t to_len;
    int in_fd;
    off_t *off;
} op_t;

static ssize_t op_try(int fd, const op_t *o)
{
    ssize_t n;
    switch (o->kind) {
    case 0: n = SWARM__SYS(read)(fd, o->buf, o->len); break;
    case 1:
        /* MSG_NOSIGNAL: a broken connection is -EPIPE, never SIGPIPE. */
        n = SWARM__SYS(sendto)(fd, o->buf, o->len, MSG_NOSIGNAL, NULL, 0);
        if (n < 0 && errno == ENOTSOCK)
            n = SWARM__SYS(write)(fd, o->buf, o->len);
        break;
    case 2: n = SWARM__SYS(readv)(fd, o->iov, o->iovcnt); break;
    case 3: n = SWARM__SYS(writev)(fd, o->iov, o->iovcnt); break;
    case 4: n = SWARM__SYS(recvfrom)(fd, o->buf, o->len, 0, o->addr, o->alen); break;
    case 5: n = SWARM__SYS(sendto)(fd, o->buf, o->len, MSG_NOSIGNAL, o->to, o->to_len); break;
    default: n = SWARM__SYS(sendfile)(fd, o->in_fd, o->off, o->len); break;
    }
    return SYS_RESULT(n);
}

/* The bytes a read or readv asks for. */
static size_t op_want(const op_t *o)
{
    if (o->kind == 0)
        return o->len;
    size_t want = 0;
    for (int i = 0; i < o->iovcnt; i++)
        want += o->iov[i].iov_len;
    return want;
}

static ssize_t op_run(int fd, const op_t *o, int64_t deadline)
{
    unsigned ev = (o->kind == 0 || o->kind == 2 || o->kind == 4) ? SWARM_IO_READ : SWARM_IO_WRITE;
    /* A stream read after a short one: the queue was empty then, so wait
     * for the edge of what came since (at once if it came already)
     * instead of a read that would say EAGAIN (io.h: the drained hint;
     * one syscall of three per echo round trip). */
    int stream_read = o->kind == 0 || o->kind == 2;
    swarm_t *sw = swarm__sched_self()->swarm;
    if (stream_read && swarm__io_drained_take(sw, fd)) {
        int r = wait_ready(fd, SWARM_IO_READ, deadline);
        if (r != 0)
            return r;
    }
    for (;;) {
        ssize_t n = op_try(fd, o);
        if (n >= 0) {
            if (stream_read && n > 0 && (size_t)n < op_want(o))
                swarm__io_drained_set(sw, fd);
            swarm__sched_t *s = swarm__sched_self();
            swarm__sched_spend(s, 1);
            return n;
        }
        if (n == -EINTR)
            continue;
        if (!WOULD_BLOCK(n))
            return n;
        int r = wait_ready(fd, ev, deadline);
        if (r != 0)
            return r;
    }
}

static ssize_t op_partial(int fd, const op_t *o, int64_t timeout_ms)
{
    int r = prep(fd, timeout_ms);
    if (r != 0)
        return r;
    if (o->len && !o->buf && o->kind <= 5 && o->kind != 2 && o->kind != 3)
        return SWARM_EINVAL;
    if ((o->kind == 2 || o->kind == 3) && (o->iovcnt < 0 || o->iovcnt > IOV_MAX || (o->iovcnt && !o->iov)))
        return SWARM_EINVAL;
    return op_run(fd, o, swarm__io_deadline(timeout_ms));
}

ssize_t swarm_read(int fd, void *buf, size_t len, int64_t timeout_ms)
{
    op_t o = {.kind = 0, .buf = buf, .len = len};
    if (len == 0) {
        int r = prep(fd, timeout_ms);
        return r;
    }
    return op_partial(fd, &o, timeout_ms);
}

ssize_t swarm_write(int fd, const void *buf, size_t len, int64_t timeout_ms)
{
    op_t o = {.kind = 1, .buf = (void *)buf, .len = len};
    if (len == 0)
        return prep(fd, timeout_ms);
    return op_partial(fd, &o, timeout_ms);
}

ssize_t swarm_readv(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms)
{
    op_t o = {.kind = 2, .iov = iov, .iovcnt = iovcnt};
    return op_partial(fd, &o, timeout_ms);
}

ssize_t swarm_writev(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms)
{
    op_t o = {.kind = 3, .iov = iov, .iovcnt = iovcnt};
    return op_partial(fd, &o, timeout_ms);
}

ssize_t swarm_read_full(int fd, void *buf, size_t len, int64_t timeout_ms, size_t *done)
{
    size_t got = 0;
    if (done)
        *done = 0;
    int r = prep(fd, timeout_ms);
    if (r != 0)
        return r;
    if (len && !buf)
        return SWARM_EINVAL;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    while (got < len) {
        op_t o = {.kind = 0, .buf = (char *)buf + got, .len = len - got};
        ssize_t n = op_run(fd, &o, deadline);
        if (n < 0)
            return n;
        if (n == 0)
            break; /* end of stream */
        got += (size_t)n;
        if (done)
            *done = got;
    }
    return (ssize_t)got;
}

ssize_t swarm_write_full(int fd, const void *buf, size_t len, int64_t timeout_ms, size_t *done)
{
    struct iovec iov = {(void *)buf, len};
    if (len && !buf) {
        if (done)
            *done = 0;
        int r = prep(fd, timeout_ms);
        return r ? r : SWARM_EINVAL;
    }
    return swarm_writev_full(fd, &iov, 1, timeout_ms, done);
}

ssize_t swarm_writev_full(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms, size_t *done)
{
    if (done)
        *done = 0;
    int r = prep(fd, timeout_ms);
    if (r != 0)
        return r;
    if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt && !iov))
        return SWARM_EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    /* A private copy of the vector: it is advanced as bytes go out. */
    struct iovec small[8], *v = iovcnt <= 8 ? small : swarm__malloc((size_t)iovcnt * sizeof *v);
    if (!v)
        return SWARM_ENOMEM;
    if (iovcnt)
        memcpy(v, iov, (size_t)iovcnt * sizeof *v);
    int64_t deadline = swarm__io_deadline(timeout_ms);
    size_t sent = 0;
    int first = 0;
    ssize_t result = 0;
    while (sent < total) {
        while (first < iovcnt && v[first].iov_len == 0)
            first++;
        op_t o = iovcnt == 1 ? (op_t){.kind = 1, .buf = v[first].iov_base, .len = v[first].iov_len}
                             : (op_t){.kind = 3, .iov = v + first, .iovcnt = iovcnt - first};
        ssize_t n = op_run(fd, &o, deadline);
        if (n < 0) {
            result = n;
            break;
        }
        sent += (size_t)n;
        if (done)
            *done = sent;
        size_t k = (size_t)n;
        while (k) {
            size_t step = k < v[first].iov_len ? k : v[first].iov_len;
            v[first].iov_base = (char *)v[first].iov_base + step;
            v[first].iov_len -= step;
            k -= step;
            if (!v[first].iov_len)
                first++;
        }
    }
    if (v != small)
        swarm__free(v);
    return result < 0 ? result : (ssize_t)sent;
}

ssize_t swarm_sendfile(int out_fd, int in_fd, off_t *offset, size_t count, int64_t timeout_ms)
{
    op_t o = {.kind = 6, .in_fd = in_fd, .off = offset, .len = count, .buf = NULL};
    int r = prep(out_fd, timeout_ms);
    if (r != 0)
        return r;
    if (in_fd < 0)
        return SWARM_EBADF;
    return op_run(out_fd, &o, swarm__io_deadline(timeout_ms));
}

ssize_t swarm_udp_sendto(int fd, const void *buf, size_t len, const struct sockaddr *to, socklen_t to_len,
                         int64_t timeout_ms)
{
    op_t o = {.kind = 5, .buf = (void *)buf, .len = len, .to = to, .to_len = to_len};
    if (!to)
        return proc_sched() ? SWARM_EINVAL : SWARM_ENOTPROC;
    return op_partial(fd, &o, timeout_ms);
}

ssize_t swarm_udp_recvfrom(int fd, void *buf, size_t len, struct sockaddr *from, socklen_t *from_len,
                           int64_t timeout_ms)
{
    op_t o = {.kind = 4, .buf = buf, .len = len, .addr = from, .alen = from ? from_len : NULL};
    return op_partial(fd, &o, timeout_ms);
}

int swarm_shutdown(int fd, int how)
{
    if (fd < 0)
        return SWARM_EBADF;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return SWARM_EINVAL;
    return shutdown(fd, how) == 0 ? 0 : -errno;
}

int swarm_sock_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return SWARM_EBADF;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return SWARM_EINVAL;
}

/* A new socket, owned by the running process. Returns the fd or an error. */
static int new_socket(int domain, int type)
{
    swarm__sched_t *s = proc_sched();
    int fd = SWARM__SYS(socket)(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = swarm__io_register(s->swarm, fd, SWARM__IO_OWN | (type == SOCK_STREAM ? SWARM__IO_STREAM : 0));
    if (r != 0) {
        close(fd);
        return r;
    }
    return fd;
}

/* host and port into an address; host NULL, "" or "*" is the wildcard
 * (IPv6 where the kernel has it). Returns 0 or SWARM_EINVAL. */
static int ip_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *len, int *wild)
{
    memset(ss, 0, sizeof *ss);
    *wild = !host || !*host || !strcmp(host, "*");
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (*wild) {
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        a6->sin6_port = htons(port);
        *len = sizeof *a6;
        return 0;
    }
    if (!strcmp(host, "localhost"))
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        *len = sizeof *a4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof *a6;
        return 0;
    }
    return SWARM_EINVAL;
}

/* bind (and listen, if backlog >= 0) a fresh socket; closes it on failure. */
static int bind_listen(int fd, const struct sockaddr *a, socklen_t len, int backlog)
{
    if (bind(fd, a, len) != 0 || (backlog >= 0 && listen(fd, backlog) != 0)) {
        int err = -errno;
        swarm_close(fd);
        return err;
    }
    return fd;
}

/* A socket on the wildcard: IPv6 dual-stack, or IPv4 without IPv6. */
static int wild_socket(int type, struct sockaddr_storage *ss, socklen_t *len, uint16_t port, int v6only)
{
    int fd = new_socket(AF_INET6, type);
    if (fd == -EAFNOSUPPORT) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        memset(ss, 0, sizeof *ss);
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        a4->sin_port = htons(port);
        *len = sizeof *a4;
        return new_socket(AF_INET, type);
    }
    if (fd >= 0)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    return fd;
}

int swarm_tcp_listen(const char *host, uint16_t port, const swarm_listen_opts_t *opts)
{
    static const swarm_listen_opts_t defaults;
    if (!proc_sched())
        return SWARM_ENOTPROC;
    if (!opts)
        opts = &defaults;
    if (opts->backlog < 0)
        return SWARM_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len;
    int wild;
    if (ip_addr(host, port, &ss, &len, &wild) != 0)
        return SWARM_EINVAL;
    int fd = wild ? wild_socket(SOCK_STREAM, &ss, &len, port, opts->v6only != 0)
                  : new_socket(ss.ss_family, SOCK_STREAM);
    if (fd < 0)
        return fd;
    int on = 1;
    if (!opts->no_reuseaddr)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (opts->reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    return bind_listen(fd, (struct sockaddr *)&ss, len, opts->backlog ? opts->backlog : SOMAXCONN);
}

int swarm_udp_open(const char *host, uint16_t port)
{
    if (!proc_sched())
        return SWARM_ENOTPROC;
    struct sockaddr_storage ss;
    socklen_t len;
    int wild;
    if (ip_addr(host, port, &ss, &len, &wild) != 0)
        return SWARM_EINVAL;
    int fd = wild ? wild_socket(SOCK_DGRAM, &ss, &len, port, 0) : new_socket(ss.ss_family, SOCK_DGRAM);
    if (fd < 0)
        return fd;
    return bind_listen(fd, (struct sockaddr *)&ss, len, -1);
}

int swarm_accept(int lfd, struct sockaddr *peer, socklen_t *peer_len, int64_t timeout_ms)
{
    int r = prep(lfd, timeout_ms);
    if (r != 0)
        return r;
    if (peer && !peer_len)
        return SWARM_EINVAL;
    swarm__sched_t *s;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    for (;;) {
        int fd = SWARM__SYS(accept4)(lfd, peer, peer ? peer_len : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            s = swarm__sched_self();
            /* A connection has its listener's type: a stream if the
             * listener was registered as one. */
            unsigned flags = SWARM__IO_OWN | (swarm__io_is_stream(s->swarm, lfd) ? SWARM__IO_STREAM : 0);
            if ((r = swarm__io_register(s->swarm, fd, flags)) != 0) {
                close(fd);
                return r;
            }
            int on = 1; /* (fails harmlessly on a Unix socket) */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            swarm__sched_spend(s, 1);
            return fd;
        }
        int err = -errno;
        if (err == -EINTR || err == -ECONNABORTED)
            continue;
        if (!WOULD_BLOCK(err))
            return err == -ENOTSOCK ? SWARM_EBADF : err;
        if ((r = wait_ready(lfd, SWARM_IO_READ, deadline)) != 0)
            return r;
    }
}

/* Connect a fresh owned socket to a within timeout_ms. */
static int connect_to(int domain, const struct sockaddr *a, socklen_t len, int64_t timeout_ms)
{
    if (!proc_sched())
        return SWARM_ENOTPROC;
    if (timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    int fd = new_socket(domain, SOCK_STREAM);
    if (fd < 0)
        return fd;
    int r = SWARM__SYS(connect)(fd, a, len) == 0 ? 0 : -errno;
    /* (EAGAIN from a Unix socket: its listener's backlog is full;
     * returned as is, SWARM_EAGAIN) */
    if (r == -EINPROGRESS) {
        r = swarm__io_wait(fd, SWARM_IO_WRITE, NULL, deadline, 0);
        if (r > 0) {
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
            r = -err;
        }
    }
    if (r != 0) {
        swarm_close(fd);
        return r;
    }
    if (domain != AF_UNIX) {
        int on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    return fd;
}

int swarm_tcp_connect(const char *host, uint16_t port, int64_t timeout_ms)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int wild;
    if (!proc_sched())
        return SWARM_ENOTPROC;
    if (!host || ip_addr(host, port, &ss, &len, &wild) != 0 || wild)
        return SWARM_EINVAL;
    return connect_to(ss.ss_family, (struct sockaddr *)&ss, len, timeout_ms);
}

static int unix_addr(const char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (!path || !*path || strlen(path) >= sizeof a->sun_path)
        return SWARM_EINVAL;
    strcpy(a->sun_path, path);
    return 0;
}

int swarm_unix_listen(const char *path, int backlog)
{
    struct sockaddr_un a;
    if (!proc_sched())
        return SWARM_ENOTPROC;
    if (unix_addr(path, &a) != 0 || backlog < 0)
        return SWARM_EINVAL;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket file of an earlier listener */
    int fd = new_socket(AF_UNIX, SOCK_STREAM);
    if (fd < 0)
        return fd;
    return bind_listen(fd, (struct sockaddr *)&a, sizeof a, backlog ? backlog : SOMAXCONN);
}

int swarm_unix_connect(const char *path, int64_t timeout_ms)
{
    struct sockaddr_un a;
    if (!proc_sched())
        return SWARM_ENOTPROC;
    if (unix_addr(path, &a) != 0)
        return SWARM_EINVAL;
    return connect_to(AF_UNIX, (struct sockaddr *)&a, sizeof a, timeout_ms);
}

int swarm_pipe(int fds[2])
{
    swarm__sched_t *s = proc_sched();
    if (!s)
        return SWARM_ENOTPROC;
    if (!fds)
        return SWARM_EINVAL;
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
        return -errno;
    int r = swarm__io_register(s->swarm, p[0], SWARM__IO_OWN | SWARM__IO_STREAM);
    if (r != 0) {
        close(p[0]);
        close(p[1]);
        return r;
    }
    if ((r = swarm__io_register(s->swarm, p[1], SWARM__IO_OWN | SWARM__IO_STREAM)) != 0) {
        swarm_close(p[0]);
        close(p[1]);
        return r;
    }
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}
