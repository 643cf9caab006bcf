/*
 * tls/tls.c - TLS connections over the runtime's fds, with OpenSSL
 * (swarmrt/tls.h; docs/design/tls.md).
 *
 * OpenSSL only ever sees memory: the SSL object reads and writes one half
 * of a BIO pair, and the process moves ciphertext between the other half
 * and the fd with swarm_read / swarm_write, which park the process when
 * the fd is not ready. So no OpenSSL call ever parks: each runs to its end
 * on the thread that started it, and a process migrates only between
 * them. OpenSSL keeps per-thread state, the error queue above all, which
 * SSL_get_error consults; every call goes through ssl_call, which clears
 * the queue before the call and reads and clears it right after, before
 * anything can park. Nothing of one process's OpenSSL state is left on a
 * thread for the next process that runs there, or for itself after it
 * moved.
 *
 *   op (handshake, read, write, shutdown), until done or the deadline:
 *     flush: ciphertext in the pair -> swarm_write(fd)   (may park)
 *     ssl_call: ERR_clear_error, SSL_*, SSL_get_error, the reason text
 *               taken, ERR_clear_error                   (never parks)
 *     wants to read: flush, then swarm_read(fd) -> pair  (may park)
 */
#include "tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/sys.h"
#include "io/io.h"
#include "ptable/res.h"
#include "sched/sched.h"
#include "swarmrt/error.h"
#include "swarmrt/io.h"

/* Plaintext per SSL_write: one record. The pair's buffers hold a whole
 * record's ciphertext with room to spare (its header, a tag or MAC and
 * padding, a KeyUpdate or an alert), so an SSL_write made with the pair
 * empty never finds it full, and nothing is half-taken when a write's
 * deadline passes. */
#define RECORD 16384
#define PAIR_SIZE (RECORD + 4096)

struct swarm_tls_ctx {
    SSL_CTX *ssl;
    int server;
};

struct swarm_tls {
    swarm__res_t res; /* on the owner's resource list: its end frees us */
    swarm_pid_t owner;
    SSL *ssl;
    BIO *net; /* our half of the pair; the SSL object has the other */
    int fd;
    int eof;       /* the fd's stream ended */
    char err[200]; /* the last failure, as text (swarm_tls_error) */
};

_Atomic long swarm__tls_conns;

enum { OP_HANDSHAKE, OP_READ, OP_WRITE, OP_SHUTDOWN };

/* ---- contexts ---- */

/* Can path be read? 0, or the kernel's error as -errno. */
static int readable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    close(fd);
    return 0;
}

/* An encrypted key would make OpenSSL ask for its passphrase on the
 * terminal: refuse instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int ctx_new(int server, swarm_tls_ctx_t **out)
{
    swarm_tls_ctx_t *c = swarm__malloc(sizeof *c);
    if (!c)
        return SWARM_ENOMEM;
    ERR_clear_error();
    c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ssl) {
        ERR_clear_error();
        swarm__free(c);
        return SWARM_ENOMEM;
    }
    c->server = server;
    SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
    SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_default_passwd_cb(c->ssl, no_passphrase);
    *out = c;
    return 0;
}

/* A context whose setup failed: freed, with OpenSSL's queue left empty. */
static int ctx_fail(swarm_tls_ctx_t *c, int code)
{
    ERR_clear_error();
    swarm_tls_ctx_free(c);
    return code;
}

int swarm_tls_server_ctx(const char *cert_file, const char *key_file, swarm_tls_ctx_t **out)
{
    if (!cert_file || !key_file || !out)
        return SWARM_EINVAL;
    *out = NULL;
    int r = readable(cert_file);
    if (r == 0)
        r = readable(key_file);
    if (r != 0)
        return r;
    swarm_tls_ctx_t *c;
    if ((r = ctx_new(1, &c)) != 0)
        return r;
    if (SSL_CTX_use_certificate_chain_file(c->ssl, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(c->ssl, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c->ssl) != 1)
        return ctx_fail(c, SWARM_ETLS);
    ERR_clear_error();
    *out = c;
    return 0;
}

int swarm_tls_client_ctx(const char *ca_file, swarm_tls_ctx_t **out)
{
    if (!out)
        return SWARM_EINVAL;
    *out = NULL;
    int r = ca_file ? readable(ca_file) : 0;
    if (r != 0)
        return r;
    swarm_tls_ctx_t *c;
    if ((r = ctx_new(0, &c)) != 0)
        return r;
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
    if ((ca_file ? SSL_CTX_load_verify_locations(c->ssl, ca_file, NULL)
                 : SSL_CTX_set_default_verify_paths(c->ssl)) != 1)
        return ctx_fail(c, SWARM_ETLS);
    ERR_clear_error();
    *out = c;
    return 0;
}

void swarm_tls_ctx_free(swarm_tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    SSL_CTX_free(ctx->ssl); /* (connections hold references of their own) */
    swarm__free(ctx);
}

/* ---- one OpenSSL call ---- */

/* The reason for the failure OpenSSL just reported, into t->err: the
 * first error in the queue, with the certificate check's verdict when it
 * failed. Called before the queue is cleared. */
static void take_reason(swarm_tls_t *t)
{
    unsigned long e = ERR_peek_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    char code[48];
    if (!why) {
        snprintf(code, sizeof code, "OpenSSL error %#lx", e);
        why = e ? code : "the connection ended in the middle of TLS";
    }
    long v = SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK)
        snprintf(t->err, sizeof t->err, "%s: %s", why, X509_verify_cert_error_string(v));
    else
        snprintf(t->err, sizeof t->err, "%s", why);
}

/* One OpenSSL call on t and its verdict (SSL_ERROR_*), with this thread's
 * error queue empty before and after: nothing in between can park. */
static int ssl_call(swarm_tls_t *t, int op, void *buf, size_t len, size_t *n)
{
    int r;
    *n = 0;
    ERR_clear_error();
    switch (op) {
    case OP_HANDSHAKE: r = SSL_do_handshake(t->ssl); break;
    case OP_READ: r = SSL_read_ex(t->ssl, buf, len, n); break;
    case OP_WRITE: r = SSL_write_ex(t->ssl, buf, len, n); break;
    default:
        r = SSL_shutdown(t->ssl);
        r = r == 0 ? 1 : r; /* 0: sent, the peer's not yet seen */
        break;
    }
    int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_SSL || e == SSL_ERROR_SYSCALL)
        take_reason(t);
    ERR_clear_error();
    return e;
}

/* ---- moving ciphertext ---- */

/* A failure of t other than TLS's own: its text for swarm_tls_error. */
static ssize_t fail(swarm_tls_t *t, ssize_t code)
{
    if (code != SWARM_ETLS)
        snprintf(t->err, sizeof t->err, "%s", swarm_strerror((int)code));
    return code;
}

/* Send the ciphertext waiting in the pair. 0 once all of it is out, or
 * swarm_write's error (what was not sent stays in the pair). */
static int flush(swarm_tls_t *t, int64_t deadline)
{
    for (;;) {
        char *p;
        int n = BIO_nread0(t->net, &p);
        if (n <= 0)
            return 0;
        ssize_t w = swarm_write(t->fd, p, (size_t)n, swarm__io_timeout(deadline));
        if (w < 0)
            return (int)w;
        BIO_nread(t->net, &p, (int)w);
    }
}

/* Read ciphertext from the fd into the pair. > 0 bytes; 0 at the end of
 * the stream (the pair says so to OpenSSL, which then reports it); or
 * swarm_read's error. */
static ssize_t fill(swarm_tls_t *t, int64_t deadline)
{
    char *p;
    int room = t->eof ? 0 : BIO_nwrite0(t->net, &p);
    if (room <= 0) { /* (OpenSSL wants more after the end, or with the pair full: cannot be) */
        snprintf(t->err, sizeof t->err, "the connection ended in the middle of TLS");
        ERR_clear_error();
        return SWARM_ETLS;
    }
    ssize_t n = swarm_read(t->fd, p, (size_t)room, swarm__io_timeout(deadline));
    if (n > 0)
        BIO_nwrite(t->net, &p, (int)n);
    if (n == 0) {
        BIO_shutdown_wr(t->net);
        t->eof = 1;
    }
    return n;
}

/* Run op on t until it completes, moving ciphertext both ways, within the
 * deadline. Returns the bytes (read, write), 0 (handshake, shutdown; read
 * at close_notify), or a code. A write is one SSL_write of at most one
 * record into an empty pair: it completes without the fd, whose part is
 * the caller's flush. */
static ssize_t drive(swarm_tls_t *t, int op, void *buf, size_t len, int64_t deadline)
{
    for (;;) {
        /* What an earlier call left (a write past its deadline, an answer
         * OpenSSL made while reading) goes out before anything new. */
        int f = flush(t, deadline);
        if (f != 0)
            return fail(t, f);
        size_t n;
        int e = ssl_call(t, op, buf, len, &n);
        switch (e) {
        case SSL_ERROR_NONE:
            if (op == OP_READ) {
                flush(t, swarm__io_deadline(0)); /* (best effort: the bytes are the caller's) */
                return (ssize_t)n;
            }
            if (op == OP_WRITE)
                return (ssize_t)n;
            f = flush(t, deadline); /* the handshake's last flight, the alert */
            return f ? fail(t, f) : 0;
        case SSL_ERROR_WANT_WRITE:
            continue; /* the pair is full: flushed above */
        case SSL_ERROR_WANT_READ: {
            if ((f = flush(t, deadline)) != 0) /* the peer may wait for it */
                return fail(t, f);
            ssize_t r = fill(t, deadline);
            if (r < 0)
                return fail(t, r);
            continue;
        }
        case SSL_ERROR_ZERO_RETURN:
            if (op == OP_READ)
                return 0;
            snprintf(t->err, sizeof t->err, "the peer ended the TLS session (close_notify)");
            return SWARM_ETLS;
        default:
            /* The alert OpenSSL wrote to say why goes out if the socket
             * takes it now (best effort: the failure is the answer). Its
             * reason was taken by ssl_call. */
            flush(t, swarm__io_deadline(0));
            return SWARM_ETLS;
        }
    }
}

/* ---- connections ---- */

static void conn_destroy(swarm_tls_t *t)
{
    SSL_free(t->ssl); /* and its half of the pair */
    BIO_free(t->net);
    ERR_clear_error();
    atomic_fetch_sub_explicit(&swarm__tls_conns, 1, memory_order_relaxed);
    swarm__free(t);
}

/* The resource list's release: the owner ended without freeing t. */
static void conn_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    conn_destroy((swarm_tls_t *)r);
}

/* The running process, or NULL. */
static swarm__proc_t *me(void)
{
    swarm__sched_t *s = swarm__sched_self();
    return s ? s->current : NULL;
}

/* Checks before a handshake: *out NULL until a connection is made. */
static int handshake_args(swarm_tls_ctx_t *ctx, int server, int fd, int64_t timeout_ms, swarm_tls_t **out)
{
    if (out)
        *out = NULL;
    if (!me())
        return SWARM_ENOTPROC;
    if (!ctx || !out || ctx->server != server || timeout_ms < SWARM_INFINITE)
        return SWARM_EINVAL;
    if (fd < 0 || fd >= SWARM_IO_MAX_FD || fcntl(fd, F_GETFD) < 0)
        return SWARM_EBADF;
    return 0;
}

/* A connection on fd, owned by the running process. */
static int conn_new(swarm_tls_ctx_t *ctx, int fd, swarm_tls_t **out)
{
    swarm_tls_t *t = swarm__calloc(1, sizeof *t);
    if (!t)
        return SWARM_ENOMEM;
    BIO *inner = NULL;
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ssl);
    if (!t->ssl || !BIO_new_bio_pair(&inner, PAIR_SIZE, &t->net, PAIR_SIZE)) {
        SSL_free(t->ssl);
        ERR_clear_error();
        swarm__free(t);
        return SWARM_ENOMEM;
    }
    SSL_set_bio(t->ssl, inner, inner);
    t->fd = fd;
    swarm__proc_t *p = me();
    t->owner = swarm__ptable_pid(p);
    t->res.release = conn_release;
    swarm__res_add(&p->res, &t->res);
    atomic_fetch_add_explicit(&swarm__tls_conns, 1, memory_order_relaxed);
    *out = t;
    return 0;
}

int swarm_tls_accept(swarm_tls_ctx_t *ctx, int fd, int64_t timeout_ms, swarm_tls_t **out)
{
    int r = handshake_args(ctx, 1, fd, timeout_ms, out);
    if (r != 0 || (r = conn_new(ctx, fd, out)) != 0)
        return r;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    SSL_set_accept_state((*out)->ssl);
    return (int)drive(*out, OP_HANDSHAKE, NULL, 0, deadline);
}

int swarm_tls_connect(swarm_tls_ctx_t *ctx, int fd, const char *hostname, int64_t timeout_ms, swarm_tls_t **out)
{
    int r = handshake_args(ctx, 0, fd, timeout_ms, out);
    if (r == 0 && !hostname)
        r = SWARM_EINVAL;
    if (r != 0)
        return r;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    if ((r = conn_new(ctx, fd, out)) != 0)
        return r;
    swarm_tls_t *t = *out;
    /* An address is checked against the certificate's IP addresses, a name
     * against its DNS names (and sent as SNI). */
    unsigned char ip[sizeof(struct in6_addr)];
    int ok;
    ERR_clear_error();
    if (inet_pton(AF_INET, hostname, ip) == 1 || inet_pton(AF_INET6, hostname, ip) == 1) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), hostname);
    } else {
        SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = SSL_set_tlsext_host_name(t->ssl, hostname) && SSL_set1_host(t->ssl, hostname);
    }
    ERR_clear_error();
    if (!ok) { /* longer than 255 bytes, or an empty name */
        swarm_tls_free(t);
        *out = NULL;
        return SWARM_EINVAL;
    }
    SSL_set_connect_state(t->ssl);
    return (int)drive(t, OP_HANDSHAKE, NULL, 0, deadline);
}

/* Checks of the calls on a connection (buf and len: the data, if any). */
static int conn_args(swarm_tls_t *t, const void *buf, size_t len, int64_t timeout_ms)
{
    swarm__proc_t *p = me();
    if (!p)
        return SWARM_ENOTPROC;
    if (!t || timeout_ms < SWARM_INFINITE || (len && !buf))
        return SWARM_EINVAL;
    if (swarm__ptable_pid(p) != t->owner)
        return SWARM_EPERM;
    return 0;
}

ssize_t swarm_tls_read(swarm_tls_t *conn, void *buf, size_t len, int64_t timeout_ms)
{
    int r = conn_args(conn, buf, len, timeout_ms);
    if (r != 0 || len == 0)
        return r;
    return drive(conn, OP_READ, buf, len, swarm__io_deadline(timeout_ms));
}

/* One record's worth of buf into the connection (its ciphertext left in
 * the pair). */
static ssize_t write_some(swarm_tls_t *t, const void *buf, size_t len, int64_t deadline)
{
    return drive(t, OP_WRITE, (void *)buf, len < RECORD ? len : RECORD, deadline);
}

ssize_t swarm_tls_write(swarm_tls_t *conn, const void *buf, size_t len, int64_t timeout_ms)
{
    int r = conn_args(conn, buf, len, timeout_ms);
    if (r != 0 || len == 0)
        return r;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    ssize_t n = write_some(conn, buf, len, deadline);
    if (n > 0)
        flush(conn, deadline); /* (what is left goes out first next time) */
    return n;
}

ssize_t swarm_tls_write_full(swarm_tls_t *conn, const void *buf, size_t len, int64_t timeout_ms, size_t *done)
{
    if (done)
        *done = 0;
    int r = conn_args(conn, buf, len, timeout_ms);
    if (r != 0)
        return r;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = write_some(conn, (const char *)buf + sent, len - sent, deadline);
        if (n < 0)
            return n;
        sent += (size_t)n;
        if (done)
            *done = sent;
    }
    r = flush(conn, deadline);
    return r ? fail(conn, r) : (ssize_t)len;
}

int swarm_tls_shutdown(swarm_tls_t *conn, int64_t timeout_ms)
{
    int r = conn_args(conn, NULL, 0, timeout_ms);
    if (r != 0)
        return r;
    int64_t deadline = swarm__io_deadline(timeout_ms);
    if (SSL_get_shutdown(conn->ssl) & SSL_SENT_SHUTDOWN) { /* sent before: what is left of it */
        r = flush(conn, deadline);
        return r ? (int)fail(conn, r) : 0;
    }
    return (int)drive(conn, OP_SHUTDOWN, NULL, 0, deadline);
}

int swarm_tls_free(swarm_tls_t *conn)
{
    if (!conn)
        return 0;
    swarm__proc_t *p = me();
    if (!p)
        return SWARM_ENOTPROC;
    if (swarm__ptable_pid(p) != conn->owner)
        return SWARM_EPERM;
    swarm__res_remove(&p->res, &conn->res);
    conn_destroy(conn);
    return 0;
}

size_t swarm_tls_error(const swarm_tls_t *conn, char *buf, size_t len)
{
    const char *text = conn ? conn->err : "";
    if (len)
        snprintf(buf, len, "%s", text);
    return strlen(text);
}
