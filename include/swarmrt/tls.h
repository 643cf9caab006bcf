/*
 * swarmrt/tls.h - TLS over the runtime's sockets, with OpenSSL.
 *
 * A TLS connection runs over a connected stream fd (swarm_accept,
 * swarm_tcp_connect, a Unix socket) and is written in the same blocking
 * style as swarmrt/io.h: a call that would block parks the process, never
 * the scheduler thread. OpenSSL (Debian's libssl3) never touches the fd
 * itself: it encrypts into and decrypts from memory, and the process moves
 * the ciphertext with swarm_read / swarm_write. Every OpenSSL call runs to
 * its end on one thread, with the thread's OpenSSL error queue cleared
 * before it and emptied after it, so a process may migrate between
 * scheduler threads at any park mid-session (docs/design/tls.md).
 *
 * Contexts. A swarm_tls_ctx_t holds the configuration: the certificate and
 * key of a server, or the trusted CAs of a client. Certificate checks are
 * on: a client verifies the server's chain and its name, and a handshake
 * that fails them fails. Make a context once (any thread) and share it
 * among all processes; connections keep what they need of it, so it may be
 * freed while they live.
 *
 * Connections. A swarm_tls_t belongs to the process that made it (by
 * swarm_tls_accept or swarm_tls_connect): only that process may use it,
 * and it is freed when that process ends, however it ends, if the process
 * did not free it itself (Erlang: the ssl socket's controlling process).
 * Freeing a connection never closes its fd: the fd has its own owner
 * (swarmrt/io.h), which closes it. One process drives a connection, so
 * reading and writing it are not concurrent.
 *
 * Errors. Besides the codes listed per call, a call that reaches the kernel
 * returns its error as -errno (-ECONNRESET, -EPIPE, ...), as swarmrt/io.h
 * says. SWARM_ETLS means TLS itself failed: the peer's certificate did not
 * verify, the peer sent an alert or something that is not TLS, or it
 * closed the connection without TLS's close_notify (a truncation attack
 * looks the same); swarm_tls_error tells what OpenSSL said.
 *
 * Timeouts are as in swarmrt/msg.h: 0 = try once, SWARM_INFINITE = none;
 * one deadline covers the whole call.
 */
#ifndef SWARMRT_TLS_H
#define SWARMRT_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "swarmrt/msg.h"
#include "swarmrt/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct swarm_tls_ctx swarm_tls_ctx_t;
typedef struct swarm_tls swarm_tls_t;

/* A server context: the certificate chain in cert_file (PEM, the server's
 * certificate first, then the intermediates) and its private key in
 * key_file (PEM, unencrypted). TLS 1.2 and 1.3.
 * Returns 0 with *out the context, SWARM_EINVAL (an argument NULL),
 * SWARM_ENOENT (a file does not exist), SWARM_ETLS (a file holds no PEM
 * certificate or key, or the key does not match the certificate),
 * SWARM_ENOMEM, or the kernel's error when a file cannot be read
 * (-EACCES, ...).
 * Context: any thread. Blocking: reads the files on the calling thread
 * (make contexts at start-up, or through swarm_blocking). */
SWARM_API int swarm_tls_server_ctx(const char *cert_file, const char *key_file, swarm_tls_ctx_t **out);

/* A client context that trusts the CA certificates in ca_file (PEM, one or
 * more), or the system's (Debian's ca-certificates) when ca_file is NULL.
 * Its connections verify the server's certificate chain and name.
 * Returns 0 with *out the context, SWARM_EINVAL (out NULL), SWARM_ENOENT
 * (ca_file does not exist), SWARM_ETLS (ca_file holds no PEM certificate),
 * SWARM_ENOMEM, or the kernel's error when ca_file cannot be read.
 * Context: any thread. Blocking: reads the file on the calling thread. */
SWARM_API int swarm_tls_client_ctx(const char *ca_file, swarm_tls_ctx_t **out);

/* Free a context (NULL: nothing). Connections made with it keep working.
 * Context: any thread, once no call is making a connection with it.
 * Blocking: never. */
SWARM_API void swarm_tls_ctx_free(swarm_tls_ctx_t *ctx);

/* The server side of a handshake on fd, a connected stream socket, within
 * the deadline. On return *out is NULL or a connection owned by the
 * caller, also when the handshake failed (swarm_tls_error then says why):
 * free it with swarm_tls_free either way (NULL is fine).
 * Returns 0, SWARM_ETLS (the handshake failed: swarm_tls_error says why),
 * SWARM_ETIMEDOUT, SWARM_ECLOSED (swarm_close closed fd meanwhile),
 * SWARM_EBUSY (another process waits on fd), SWARM_EBADF (fd is not open),
 * SWARM_EINVAL (ctx or out NULL, ctx is a client context, a bad timeout),
 * SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error (-ECONNRESET, ...).
 * Context: process. Blocking: parks until the handshake ends or the
 * deadline. */
SWARM_API int swarm_tls_accept(swarm_tls_ctx_t *ctx, int fd, int64_t timeout_ms, swarm_tls_t **out);

/* The client side of a handshake on fd with the server named hostname
 * (a DNS name, sent as SNI and checked against the certificate's names,
 * or a numeric IPv4 or IPv6 address, checked against its IP addresses).
 * *out as swarm_tls_accept's.
 * Returns 0, SWARM_ETLS (the handshake failed: the certificate did not
 * verify or does not name hostname, an alert; swarm_tls_error says why),
 * SWARM_ETIMEDOUT, SWARM_ECLOSED, SWARM_EBUSY, SWARM_EBADF, SWARM_EINVAL
 * (ctx, hostname or out NULL, ctx is a server context, a bad timeout),
 * SWARM_ENOTPROC, SWARM_ENOMEM, or the kernel's error.
 * Context: process. Blocking: parks until the handshake ends or the
 * deadline. */
SWARM_API int swarm_tls_connect(swarm_tls_ctx_t *ctx, int fd, const char *hostname, int64_t timeout_ms,
                                swarm_tls_t **out);

/* Partial forms, as swarm_read / swarm_write: read returns the bytes read
 * (> 0), or 0 at the end of the stream (the peer sent close_notify; also
 * when len is 0). write returns the bytes it took (> 0; 0 when len is 0):
 * they are the connection's from then on, and ciphertext of theirs that
 * the kernel did not take before the deadline goes out first at the next
 * call on conn.
 * Returns also SWARM_ETLS (swarm_tls_error says why; the connection is
 * then unusable), SWARM_ETIMEDOUT (nothing moved in time), SWARM_ECLOSED,
 * SWARM_EBUSY, SWARM_EPERM (the caller does not own conn), SWARM_EINVAL
 * (conn NULL, NULL buf with len, a bad timeout), SWARM_ENOTPROC, or the
 * kernel's error.
 * Context: the process that owns conn. Blocking: parks until some bytes
 * move. */
SWARM_API ssize_t swarm_tls_read(swarm_tls_t *conn, void *buf, size_t len, int64_t timeout_ms);
SWARM_API ssize_t swarm_tls_write(swarm_tls_t *conn, const void *buf, size_t len, int64_t timeout_ms);

/* Write all len bytes and send their ciphertext within the deadline.
 * Returns len; on an error, *done (may be NULL) says how many bytes the
 * connection took before it. Returns also as swarm_tls_write.
 * Context: the process that owns conn. Blocking: parks until all bytes
 * are sent. */
SWARM_API ssize_t swarm_tls_write_full(swarm_tls_t *conn, const void *buf, size_t len, int64_t timeout_ms,
                                       size_t *done);

/* Send close_notify: the end of what this side writes (TLS's half-close).
 * It does not wait for the peer's: swarm_tls_read returns 0 once that
 * comes. Neither frees conn nor closes its fd. A second call only sends
 * what may be left of the first's.
 * Returns 0, SWARM_ETLS, SWARM_ETIMEDOUT, SWARM_ECLOSED, SWARM_EBUSY,
 * SWARM_EPERM (the caller does not own conn), SWARM_EINVAL (conn NULL, a
 * bad timeout), SWARM_ENOTPROC, or the kernel's error (-EPIPE, ...).
 * Context: the process that owns conn. Blocking: parks until the alert is
 * sent. */
SWARM_API int swarm_tls_shutdown(swarm_tls_t *conn, int64_t timeout_ms);

/* Free conn (NULL: nothing), without sending anything: call
 * swarm_tls_shutdown first for a clean end. The fd is not closed: its
 * owner closes it (swarm_close, or the owner's end).
 * Returns 0, SWARM_EPERM (the caller does not own conn), SWARM_ENOTPROC.
 * Context: the process that owns conn. Blocking: never. */
SWARM_API int swarm_tls_free(swarm_tls_t *conn);

/* What the last failed call on conn ran into, as text: OpenSSL's reason
 * for SWARM_ETLS ("certificate verify failed: unable to get local issuer
 * certificate", "tlsv1 alert unknown ca", ...), else swarm_strerror's
 * text of the code; "" when no call failed (or conn is NULL). Writes at
 * most len bytes including the terminating NUL (nothing when len is 0)
 * and returns the length of the whole text, as snprintf does.
 * Context: the process that owns conn. Blocking: never. */
SWARM_API size_t swarm_tls_error(const swarm_tls_t *conn, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
