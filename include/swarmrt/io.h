/*
 * swarmrt/io.h - I/O: waiting on fds, sockets, pipes, and blocking calls.
 *
 * A process writes plain blocking-style code; the runtime makes every fd it
 * opens non-blocking, and when a call would block it parks the process (not
 * the scheduler thread) until the fd is ready, its deadline passes, or the
 * fd is closed, as Go's netpoller and Erlang's check_io do. The schedulers
 * share one edge-triggered epoll instance: an idle scheduler sleeps in
 * epoll_wait with its next timer as the timeout, a busy one polls without
 * blocking at least every millisecond (docs/design/io.md).
 *
 * Ownership (Erlang's controlling process). An fd opened through these
 * calls (listen, accept, connect, udp, pipe, swarm_fd_adopt) is owned by
 * the process that opened it and is closed when that process ends, however
 * it ends. swarm_fd_give hands it to another process. Any process may read,
 * write and wait on it; only the owner may give it away.
 *
 * Waiting. At most one process at a time waits on an fd for reading, and
 * one for writing (a second gets SWARM_EBUSY). swarm_close wakes every
 * process waiting on the fd with SWARM_ECLOSED. Close fds through
 * swarm_close: a plain close() leaves the runtime's record of the fd behind
 * until the number is reused through these calls.
 *
 * Errors. Besides the SWARM_E* codes listed per call, a call that reaches
 * the kernel returns the kernel's error as a negative errno value
 * (-ECONNREFUSED, -ECONNRESET, -EPIPE, ...): SwarmRT codes equal -errno
 * where POSIX has a name (swarmrt/error.h), and errno itself is never used.
 * SIGPIPE is never raised on a scheduler thread: writes to sockets use
 * MSG_NOSIGNAL and the schedulers block SIGPIPE, so a write to a broken
 * connection or pipe returns -EPIPE. (A deterministic-mode swarm runs on
 * the caller's thread: block SIGPIPE there if you write to pipes.)
 *
 * Timeouts are as in swarmrt/msg.h: 0 = try once, SWARM_INFINITE = none.
 */
#ifndef SWARMRT_IO_H
#define SWARMRT_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "swarmrt/msg.h"
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Events to wait for, and what a wait reports. */
#define SWARM_IO_READ 1u  /* readable, or the peer hung up, or an error is pending */
#define SWARM_IO_WRITE 2u /* writable, or an error is pending */

/* The largest fd number the runtime tracks (fds are numbered from 0). */
#define SWARM_IO_MAX_FD (1 << 20)

/* Wait until fd is ready for any of events (SWARM_IO_READ and/or
 * SWARM_IO_WRITE), as poll(2) would say: bytes already waiting count, not
 * only new ones. fd need not come from these calls: any fd works; the
 * runtime registers it with its poller the first time and makes it
 * non-blocking (O_NONBLOCK stays set). A regular file is always ready (as
 * poll says): its reads and writes do not park, so slow file I/O belongs
 * on the blocking-call pool (swarm_blocking).
 * Returns the ready events (> 0, a subset of events), SWARM_ETIMEDOUT,
 * SWARM_ECLOSED (swarm_close closed fd while the caller waited),
 * SWARM_EBUSY (another process already waits on fd for one of these
 * events), SWARM_EBADF (fd is not open, or >= SWARM_IO_MAX_FD),
 * SWARM_EINVAL (events is empty or has other bits, or a negative timeout other
 * than SWARM_INFINITE), SWARM_ENOTPROC (not called from a process),
 * SWARM_ENOMEM (no memory to track the fd); never 0.
 * Context: process. Blocking: parks until ready, closed or the deadline;
 * a message does not end the wait (it stays queued). */
SWARM_API int swarm_fd_wait(int fd, unsigned events, int64_t timeout_ms);

/* Wait for a message or for fd to be ready, whichever comes first, so a
 * connection process can also take control messages. Returns 0 with *out
 * the oldest message (owned by the caller), the ready events (> 0) with
 * *out NULL, SWARM_ETIMEDOUT, SWARM_ECLOSED, SWARM_EBUSY, SWARM_EBADF,
 * SWARM_EINVAL (also when out is NULL), SWARM_ENOTPROC, SWARM_ENOMEM (as
 * swarm_fd_wait).
 * Context: process. Blocking: parks until a message, readiness, close or
 * the deadline. */
SWARM_API int swarm_recv_fd(int fd, unsigned events, swarm_msg_t **out, int64_t timeout_ms);

/* Put an fd opened elsewhere under the runtime: non-blocking, registered
 * with the poller, owned by the caller (closed when it ends).
 * Returns 0, SWARM_EBADF, SWARM_EEXIST (already owned by a process),
 * SWARM_ENOTPROC, SWARM_ENOMEM.
 * Context: process. Blocking: never. */
SWARM_API int swarm_fd_adopt(int fd);

/* Hand fd to process to (Erlang's controlling_process): to owns it from
 * now and it is closed when to ends; if to ends before it takes the fd,
 * the fd is closed then. Giving an fd to its owner is a no-op.
 * Returns 0, SWARM_EPERM (the caller does not own fd), SWARM_ESRCH (to is
 * dead: the caller still owns fd), SWARM_EINVAL (bad pid), SWARM_EBADF,
 * SWARM_ENOTPROC, SWARM_ENOMEM.
 * Context: process. Blocking: never. */
SWARM_API int swarm_fd_give(int fd, swarm_pid_t to);

/* Close fd: processes waiting on it wake with SWARM_ECLOSED, it leaves the
 * poller and its owner's list, then close(2). Any process may close any fd
 * the runtime knows, and an fd it does not know is just closed; outside a
 * process it is only closed (the runtime's record stays until the number
 * is reused).
 * Returns 0, SWARM_EBADF (fd is not open).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_close(int fd);

/* Options of a listening socket (NULL: the defaults, all fields 0). */
typedef struct swarm_listen_opts {
    int backlog;    /* 0: SOMAXCONN */
    int reuseport;  /* SO_REUSEPORT: several listeners on one port */
    int no_reuseaddr; /* SO_REUSEADDR is on unless this is set */
    int v6only;     /* IPv6 wildcard: IPv6 only (default: dual-stack) */
} swarm_listen_opts_t;

/* Listen on TCP host:port. host is a numeric IPv4 or IPv6 address,
 * "localhost", or NULL / "" / "*" for every address (IPv6 dual-stack, or
 * IPv4 where IPv6 is off). port 0 picks a free one (swarm_sock_port tells
 * which). Returns the listening fd (0 or more, owned by the caller),
 * SWARM_EINVAL (host is not a numeric address or "localhost", a negative
 * backlog), SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error
 * (-EADDRINUSE, -EACCES, ...).
 * Context: process. Blocking: never. */
SWARM_API int swarm_tcp_listen(const char *host, uint16_t port, const swarm_listen_opts_t *opts);

/* Accept a connection on a listening fd (TCP or Unix). peer/peer_len may
 * be NULL; else *peer_len is the size of peer on entry and the address's
 * on return. The new fd is non-blocking, owned by the caller, with
 * TCP_NODELAY set on TCP.
 * Returns the new fd (0 or more), SWARM_ETIMEDOUT, SWARM_ECLOSED,
 * SWARM_EBUSY (another process waits to accept on lfd), SWARM_EBADF (lfd
 * is not an open socket), SWARM_EINVAL (peer without peer_len, a bad
 * timeout), SWARM_ENOTPROC, SWARM_ENOMEM (the connection is dropped), or
 * the kernel's error (-EMFILE, -EINVAL when lfd does not listen, ...;
 * -ECONNABORTED is retried, not returned).
 * Context: process. Blocking: parks until a connection or the deadline. */
SWARM_API int swarm_accept(int lfd, struct sockaddr *peer, socklen_t *peer_len, int64_t timeout_ms);

/* Connect to TCP host:port (host numeric, or "localhost") within the
 * deadline. Returns the connected fd (0 or more, owned by the caller,
 * TCP_NODELAY set), SWARM_ETIMEDOUT (the socket is closed), SWARM_EINVAL
 * (host is NULL, the wildcard or not a numeric address or "localhost"; a
 * bad timeout), SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error
 * (-ECONNREFUSED, -ENETUNREACH, ...).
 * Context: process. Blocking: parks until connected, refused or the
 * deadline. */
SWARM_API int swarm_tcp_connect(const char *host, uint16_t port, int64_t timeout_ms);

/* Listen on a Unix-domain stream socket at path (an existing socket file
 * there is replaced; backlog 0: SOMAXCONN). Returns the listening fd (0 or
 * more, owned by the caller), SWARM_EINVAL (path NULL, empty or too long
 * for sockaddr_un; a negative backlog), SWARM_ENOTPROC, SWARM_ENOMEM, or
 * the kernel's error (-EACCES, ...).
 * Context: process. Blocking: never. */
SWARM_API int swarm_unix_listen(const char *path, int backlog);

/* Connect to the Unix-domain stream socket at path. Returns the connected
 * fd (0 or more, owned by the caller), SWARM_EAGAIN (the listener's
 * backlog is full: Unix sockets refuse at once rather than wait),
 * SWARM_EINVAL (as swarm_unix_listen's path; a bad timeout),
 * SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error (-ENOENT,
 * -ECONNREFUSED, ...).
 * Context: process. Blocking: never. */
SWARM_API int swarm_unix_connect(const char *path, int64_t timeout_ms);

/* A UDP socket bound to host:port (as swarm_tcp_listen's host; port 0:
 * any). Returns the fd (0 or more, owned by the caller), SWARM_EINVAL
 * (host as swarm_tcp_listen's), SWARM_ENOTPROC, SWARM_ENOMEM, or the
 * kernel's error.
 * Context: process. Blocking: never. */
SWARM_API int swarm_udp_open(const char *host, uint16_t port);

/* One datagram. sendto returns the bytes sent; recvfrom the datagram's
 * length (truncated to len) with its source in from/from_len (may be
 * NULL). Return also SWARM_ETIMEDOUT, SWARM_ECLOSED, SWARM_EBUSY,
 * SWARM_EBADF, SWARM_EINVAL, SWARM_ENOTPROC, or the kernel's error.
 * Context: process. Blocking: parks until the socket is ready. */
SWARM_API ssize_t swarm_udp_sendto(int fd, const void *buf, size_t len, const struct sockaddr *to,
                                   socklen_t to_len, int64_t timeout_ms);
SWARM_API ssize_t swarm_udp_recvfrom(int fd, void *buf, size_t len, struct sockaddr *from, socklen_t *from_len,
                                     int64_t timeout_ms);

/* The local port of a socket (after a listen on port 0). Returns the port
 * (0 or more), SWARM_EBADF (not an open socket), SWARM_EINVAL (not an IP
 * socket).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_sock_port(int fd);

/* A pipe: fds[0] the read end, fds[1] the write end, both non-blocking,
 * close-on-exec, owned by the caller. Returns 0, SWARM_EINVAL (fds NULL),
 * SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error (-EMFILE).
 * Context: process. Blocking: never. */
SWARM_API int swarm_pipe(int fds[2]);

/* Partial forms, as read(2) / write(2) but parking instead of blocking:
 * they return as soon as some bytes moved. read returns the bytes read
 * (> 0), or 0 at end of stream (the peer closed or shut down its side;
 * also when len is 0); write returns the bytes written (> 0; 0 when len
 * is 0).
 * Returns also SWARM_ETIMEDOUT (nothing moved in time), SWARM_ECLOSED,
 * SWARM_EBUSY, SWARM_EBADF, SWARM_EINVAL (NULL buf with len, or iovcnt
 * out of [0, IOV_MAX]), SWARM_ENOTPROC, or the kernel's error
 * (-ECONNRESET, -EPIPE, ...).
 * Context: process. Blocking: parks until some bytes move. */
SWARM_API ssize_t swarm_read(int fd, void *buf, size_t len, int64_t timeout_ms);
SWARM_API ssize_t swarm_write(int fd, const void *buf, size_t len, int64_t timeout_ms);
SWARM_API ssize_t swarm_readv(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms);
SWARM_API ssize_t swarm_writev(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms);

/* Full forms: move all len bytes (the deadline covers the whole call).
 * Return len, or for read_full fewer when the stream ended first (end of
 * stream after some bytes: their count; at once: 0). On an error, *done
 * (may be NULL) still says how many bytes moved before it.
 * Returns also as the partial forms.
 * Context: process. Blocking: parks until all bytes move. */
SWARM_API ssize_t swarm_read_full(int fd, void *buf, size_t len, int64_t timeout_ms, size_t *done);
SWARM_API ssize_t swarm_write_full(int fd, const void *buf, size_t len, int64_t timeout_ms, size_t *done);
SWARM_API ssize_t swarm_writev_full(int fd, const struct iovec *iov, int iovcnt, int64_t timeout_ms, size_t *done);

/* sendfile(2) from in_fd (a file) to out_fd (a socket), parking while the
 * socket is full: up to count bytes from *offset (advanced), or from
 * in_fd's offset when offset is NULL. Returns the bytes sent (0 at the
 * file's end), as swarm_write otherwise.
 * Context: process. Blocking: parks until some bytes move. */
SWARM_API ssize_t swarm_sendfile(int out_fd, int in_fd, off_t *offset, size_t count, int64_t timeout_ms);

/* shutdown(2): how is SHUT_RD, SHUT_WR or SHUT_RDWR. A process waiting to
 * read sees end of stream. Returns 0, SWARM_EBADF, SWARM_EINVAL, or the
 * kernel's error (-ENOTCONN).
 * Context: any thread. Blocking: never. */
SWARM_API int swarm_shutdown(int fd, int how);

/* Run fn(arg) on the runtime's blocking-call pool while the calling
 * process parks, for calls that would stall a scheduler: file I/O,
 * getaddrinfo, a foreign library. Its return value goes to *result (may
 * be NULL). The pool starts threads on demand up to
 * SWARM_BLOCKING_THREADS and queues calls beyond that, up to
 * SWARM_BLOCKING_QUEUE waiting calls.
 * If the caller is killed while fn runs, fn still runs to its end (a
 * thread cannot be stopped safely); its result is then dropped.
 * Returns 0, SWARM_EAGAIN (the queue is full: nothing was run),
 * SWARM_EINVAL (fn NULL), SWARM_ENOTPROC, SWARM_ENOMEM.
 * Context: process. Blocking: parks until fn returns (messages stay
 * queued). */
SWARM_API int swarm_blocking(void *(*fn)(void *arg), void *arg, void **result);
/* (arg must stay valid until fn returns, even if the caller is killed
 * meanwhile: point it at memory the call owns, not at the caller's stack,
 * if the caller may be killed.) */

#define SWARM_BLOCKING_THREADS 64
#define SWARM_BLOCKING_QUEUE 65536

/* getaddrinfo(3) on the blocking-call pool: the first address of host
 * (a name or a numeric address) for a stream socket, into addr/len.
 * Returns 0, SWARM_ENOENT (no such host), SWARM_EINVAL, SWARM_EAGAIN,
 * SWARM_ENOTPROC, SWARM_ENOMEM.
 * Context: process. Blocking: parks while the resolver runs. */
SWARM_API int swarm_resolve(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len);

#ifdef __cplusplus
}
#endif
#endif
