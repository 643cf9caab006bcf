/* swarm_io_server.c - the SwarmRT side of the I/O benchmarks (bench/io/).
 *
 *   swarm_io_server http [--port N] [--schedulers N]
 *   swarm_io_server echo [--port N] [--schedulers N]
 *
 * Listens on 127.0.0.1:N (0, the default: any free port), prints
 * "listening <port>" on stdout once it accepts, and serves until killed.
 * --schedulers sets swarm_config_t.schedulers (default 1; the benchmark
 * also pins the OS process with taskset -c 0).
 *
 * Both servers run one process per connection, in the "accept, spawn the
 * next acceptor, serve what you accepted" shape: the process that accepted
 * a socket owns it, so nothing is handed over. No read or write has a
 * deadline (SWARM_INFINITE), as Go's net/http and the Erlang peer have none:
 * an idle connection costs a parked process and nothing else.
 *
 * http: HTTP/1.1 with keep-alive and pipelining. Every request in the
 * input buffer is answered in order, the answers written in one go. A GET
 * or HEAD of target T is answered with exactly the bytes the Go and Erlang
 * peers send (bench/io/README.md, "HTTP hello"):
 *
 *   HTTP/1.1 200 OK\r\nContent-Length: <n>\r\nContent-Type: text/plain\r\n\r\nhello, T\n
 *
 * plus "Connection: close" (and then a close) when the request asked for
 * it or was HTTP/1.0. A request the server cannot parse gets a 400 and a
 * close. Buffers are 4 KiB in and 4 KiB out (Go's net/http uses 4 KiB
 * bufio readers and writers), on the process's stack while it answers;
 * between requests a connection waits in a read of at most 512 bytes,
 * and the processes are spawned with compact_after_ms = COMPACT_MS, so an
 * idle connection's stack pages go back to the kernel (its live bytes,
 * a few hundred, are kept aside: docs/design/compact.md).
 *
 * echo: read what arrives (up to 4 KiB), write it back in full, until the
 * client closes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <swarmrt.h>

#define IN_CAP 4096
#define OUT_CAP 4096
#define ECHO_CAP 4096
#define COMPACT_MS 100 /* idle this long: compact (spawn option compact_after_ms) */

static int lfd;
static void (*serve)(int fd);
static swarm_spawn_opts_t conn_opts; /* every acceptor, which serves what it accepts */

static const char *errstr(int rc)
{
    return rc <= -4000 ? swarm_strerror(rc) : strerror(-rc);
}

/* ------------------------------------------------------------------ http */

struct request {
    int bad;      /* could not be parsed: 400, then close */
    int close;    /* the connection ends after this answer */
    int head;     /* HEAD: no body */
    int other;    /* a method other than GET/HEAD: 405 */
    const char *target;
    size_t target_len;
};

static int tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated list v[0..n) hold token t (case-insensitive)? */
static int list_has(const char *v, size_t n, const char *t)
{
    size_t tl = strlen(t), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',' && v[j] != ' ' && v[j] != '\t')
            j++;
        if (j - i == tl && strncasecmp(v + i, t, tl) == 0)
            return 1;
        while (j < n && v[j] != ',')
            j++;
        i = j;
    }
    return 0;
}

/* Parse the request at b[0..len): its length (head + body) when complete,
 * 0 when more bytes are needed, -1 when it is malformed or does not fit the
 * buffer (rq->bad is then set). Lines end in CRLF or LF. Every header line
 * is checked for "name: value"; Connection and Content-Length are read. */
static long parse(const char *b, size_t len, struct request *rq)
{
    memset(rq, 0, sizeof *rq);
    size_t pos = 0, body = 0;
    int first = 1, minor = 1, host = 0;
    for (;;) {
        const char *nl = memchr(b + pos, '\n', len - pos);
        if (!nl) {
            if (len >= IN_CAP)
                goto bad;
            return 0;
        }
        size_t end = (size_t)(nl - b);
        const char *l = b + pos;
        size_t n = end - pos - (end > pos && b[end - 1] == '\r');
        pos = end + 1;
        if (first) {
            first = 0;
            size_t m = 0;
            while (m < n && tchar((unsigned char)l[m]))
                m++;
            if (m == 0 || m == n || l[m] != ' ')
                goto bad;
            const char *t = l + m + 1, *te = memchr(t, ' ', (size_t)(l + n - t));
            if (!te || te == t || (size_t)(l + n - te) != 9 || memcmp(te + 1, "HTTP/1.", 7) != 0 ||
                (te[8] != '0' && te[8] != '1'))
                goto bad;
            minor = te[8] - '0';
            rq->close = minor == 0;
            rq->target = t;
            rq->target_len = (size_t)(te - t);
            rq->head = m == 4 && memcmp(l, "HEAD", 4) == 0;
            rq->other = !rq->head && !(m == 3 && memcmp(l, "GET", 3) == 0);
            continue;
        }
        if (n == 0)
            break;
        size_t c = 0;
        while (c < n && tchar((unsigned char)l[c]))
            c++;
        if (c == 0 || c == n || l[c] != ':')
            goto bad;
        const char *v = l + c + 1, *ve = l + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (c == 4 && strncasecmp(l, "Host", 4) == 0) {
            host++;
        } else if (c == 10 && strncasecmp(l, "Connection", 10) == 0) {
            if (list_has(v, (size_t)(ve - v), "close"))
                rq->close = 1;
            else if (list_has(v, (size_t)(ve - v), "keep-alive"))
                rq->close = 0;
        } else if (c == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
            if (ve == v || ve - v > 6)
                goto bad;
            body = 0;
            for (const char *d = v; d < ve; d++) {
                if (*d < '0' || *d > '9')
                    goto bad;
                body = body * 10 + (size_t)(*d - '0');
            }
        } else if (c == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
            goto bad; /* no chunked bodies in a hello server */
        }
    }
    if (minor == 1 && host != 1)
        goto bad;
    if (pos + body > IN_CAP)
        goto bad;
    return len - pos >= body ? (long)(pos + body) : 0;
bad:
    rq->bad = rq->close = 1;
    return -1;
}

/* Append the answer to rq at out + *n; 0, or -1 if it does not fit. */
static int answer(const struct request *rq, char *out, size_t *n)
{
    const char *status = rq->bad ? "400 Bad Request" : rq->other ? "405 Method Not Allowed" : "200 OK";
    char body[320];
    int bl;
    if (rq->bad || rq->other || rq->target_len > 256)
        bl = snprintf(body, sizeof body, "%s\n", status);
    else
        bl = snprintf(body, sizeof body, "hello, %.*s\n", (int)rq->target_len, rq->target);
    int hl = snprintf(out + *n, OUT_CAP - *n, "HTTP/1.1 %s\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n%s\r\n",
                      status, bl, rq->close ? "Connection: close\r\n" : "");
    if (hl < 0 || (size_t)hl >= OUT_CAP - *n || (!rq->head && (size_t)bl > OUT_CAP - *n - (size_t)hl))
        return -1;
    *n += (size_t)hl;
    if (!rq->head) {
        memcpy(out + *n, body, (size_t)bl);
        *n += (size_t)bl;
    }
    return 0;
}

/* A connection between two reads: the bytes of a request that is not
 * complete yet (rare: a request split by the network), on the heap. */
struct conn {
    int fd;
    char *rest;
    size_t rest_len;
};

/* Answer every complete request in rest + got[0..n), in order, in one
 * write; keep what is left of an incomplete one. Returns 0 to read on,
 * -1 to close. The 4 KiB buffers live in this frame only, so a
 * connection waiting for its next request holds none of them (see
 * serve_http). */
static int serve_batch(struct conn *c, const char *got, size_t n)
{
    char in[IN_CAP], out[OUT_CAP];
    size_t len = c->rest_len;
    if (len + n > IN_CAP)
        return -1; /* a request larger than the buffer */
    if (len) {
        memcpy(in, c->rest, len);
        free(c->rest);
        c->rest = NULL;
        c->rest_len = 0;
    }
    memcpy(in + len, got, n);
    len += n;
    size_t off = 0, outn = 0;
    int closing = 0;
    while (!closing) {
        struct request rq;
        long used = parse(in + off, len - off, &rq);
        if (used == 0)
            break;
        if (outn + 512 > OUT_CAP) { /* flush before an answer may not fit */
            if (swarm_write_full(c->fd, out, outn, SWARM_INFINITE, NULL) != (ssize_t)outn)
                return -1;
            outn = 0;
        }
        if (answer(&rq, out, &outn) != 0)
            return -1;
        closing = rq.close;
        if (used > 0)
            off += (size_t)used;
    }
    if (outn && swarm_write_full(c->fd, out, outn, SWARM_INFINITE, NULL) != (ssize_t)outn)
        return -1;
    if (closing) {
        swarm_shutdown(c->fd, SHUT_WR);
        return -1;
    }
    if (off < len) {
        if (!(c->rest = malloc(len - off)))
            return -1;
        memcpy(c->rest, in + off, len - off);
        c->rest_len = len - off;
    }
    return 0;
}

/* Read into a small buffer in this frame, serve in serve_batch's: a
 * connection parked in its read holds a few hundred bytes of live stack,
 * which compaction (compact_after_ms, root) keeps once it has been idle
 * for a while, giving its stack pages back. */
static void serve_http(int fd)
{
    struct conn c = {.fd = fd};
    char got[512];
    for (;;) {
        ssize_t n = swarm_read(fd, got, sizeof got, SWARM_INFINITE);
        if (n <= 0 || serve_batch(&c, got, (size_t)n) != 0)
            break; /* closed by the client, reset, or done */
    }
    free(c.rest);
    swarm_close(fd);
}

/* ------------------------------------------------------------------ echo */

static void serve_echo(int fd)
{
    char buf[ECHO_CAP];
    for (;;) {
        ssize_t n = swarm_read(fd, buf, sizeof buf, SWARM_INFINITE);
        if (n <= 0)
            break;
        if (swarm_write_full(fd, buf, (size_t)n, SWARM_INFINITE, NULL) != n)
            break;
    }
    swarm_close(fd);
}

/* ------------------------------------------------------------ acceptors */

static void acceptor(void *arg)
{
    (void)arg;
    int fd;
    while ((fd = swarm_accept(lfd, NULL, NULL, SWARM_INFINITE)) < 0) {
        if (fd == SWARM_ECLOSED)
            return;
        fprintf(stderr, "accept: %s\n", errstr(fd)); /* -EMFILE, ... */
        swarm_sleep(10);
    }
    int rc = swarm_spawn(NULL, acceptor, NULL, &conn_opts);
    if (rc != 0)
        fprintf(stderr, "spawn of the next acceptor: %s\n", errstr(rc));
    serve(fd);
}

static uint16_t port;
static int status;

static void root(void *arg)
{
    (void)arg;
    swarm_listen_opts_t lo = {.backlog = 4096};
    lfd = swarm_tcp_listen("127.0.0.1", port, &lo);
    if (lfd < 0) {
        fprintf(stderr, "listen on port %u: %s\n", port, errstr(lfd));
        status = 1;
        return;
    }
    int rc = swarm_spawn(NULL, acceptor, NULL, &conn_opts);
    if (rc != 0) {
        fprintf(stderr, "spawn: %s\n", errstr(rc));
        status = 1;
        return;
    }
    printf("listening %d\n", swarm_sock_port(lfd));
    fflush(stdout);
    for (;;) /* the root owns the listener */
        swarm_sleep(INT64_MAX);
}

static void usage(void)
{
    fprintf(stderr, "usage: swarm_io_server http|echo [--port N] [--schedulers N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "http") == 0)
        serve = serve_http;
    else if (strcmp(argv[1], "echo") == 0)
        serve = serve_echo;
    else
        usage();
    swarm_spawn_opts_init(&conn_opts);
    conn_opts.compact_after_ms = COMPACT_MS;
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.name = "io_bench";
    cfg.schedulers = 1;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--schedulers") == 0 && i + 1 < argc)
            cfg.schedulers = (unsigned)atoi(argv[++i]);
        else
            usage();
    }
    return swarm_run(&cfg, root, NULL) == 0 ? status : 1;
}
