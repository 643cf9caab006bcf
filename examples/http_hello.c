/* http_hello.c - an HTTP/1.1 "hello" server: one process per connection,
 * keep-alive and pipelining.
 *
 *   swarm_http_hello [--port N]    serve 127.0.0.1:N (default 8080) until killed
 *   swarm_http_hello --self-test   serve a free port, make keep-alive, pipelined,
 *                                  byte-by-byte, HTTP/1.0 and malformed requests
 *                                  from client processes, print a summary, exit
 *
 * Try it with `curl -v http://127.0.0.1:8080/world`: "hello, /world".
 *
 * The acceptor is the next connection's process (Erlang's "accept, then
 * spawn the next acceptor"): it accepts, spawns a new acceptor, and
 * serves the socket it accepted, which it owns, so nothing is handed
 * over. Closing the listening socket wakes the waiting acceptor with
 * SWARM_ECLOSED. A connection reads into a buffer, answers every complete
 * request in it in order (pipelining), writes the answers in one go, and
 * reads again until the client closes, sends `Connection: close`, or a
 * request is malformed (400, then close). */
#define _GNU_SOURCE /* memmem, strcasestr */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <swarmrt.h>

#define IN_CAP 16384   /* the largest request (head and body) */
#define OUT_CAP 16384
#define IDLE_MS 30000  /* an idle keep-alive connection is closed after this */
#define CLIENT_MS 10000

static int lfd; /* the listening socket, owned by the root process */
static _Atomic unsigned long served_conns, served_requests, bad_requests;

/* ---- parsing ---- */

struct request {
    int status;        /* 0 while well formed, else the error to answer */
    int close;         /* the connection ends after this request */
    int head;          /* HEAD: no body in the answer */
    char target[256];
};

/* A code as text: SwarmRT's own codes, or the kernel's -errno (swarm_strerror
 * knows only SwarmRT's; the others equal -errno). */
static const char *errstr(int rc)
{
    return rc <= -4000 ? swarm_strerror(rc) : strerror(-rc);
}

static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated header value v[0..n) list token t? */
static int has_token(const char *v, size_t n, const char *t)
{
    size_t tl = strlen(t);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - i == tl && strncasecmp(v + i, t, tl) == 0)
            return 1;
        i = j;
    }
    return 0;
}

/* Parse the request at b[0..len). Returns its length (head and body) when
 * it is complete, 0 when more bytes are needed, -1 when it cannot be
 * answered (rq->status says how: 400, 413, 431, 501; the connection then
 * closes). A line may end in CRLF or a bare LF (RFC 9112, 2.2). */
static long parse_request(const char *b, size_t len, struct request *rq)
{
    memset(rq, 0, sizeof *rq);
    size_t pos = 0, body = 0;
    int line_no = 0, minor = -1, host = 0, have_length = 0;
    for (;;) {
        const char *nl = memchr(b + pos, '\n', len - pos);
        if (!nl) {
            if (len >= IN_CAP) {
                rq->status = 431; /* no end of head in a full buffer */
                return -1;
            }
            return 0;
        }
        size_t end = (size_t)(nl - b), next = end + 1;
        if (end > pos && b[end - 1] == '\r')
            end--;
        const char *l = b + pos;
        size_t n = end - pos;
        pos = next;
        if (line_no++ == 0) {
            /* method SP target SP HTTP/1.x */
            size_t m = 0;
            while (m < n && is_tchar(l[m]))
                m++;
            if (m == 0 || m == n || l[m] != ' ')
                goto bad;
            const char *t = l + m + 1, *tend = memchr(t, ' ', (size_t)(l + n - t));
            if (!tend || tend == t || (size_t)(tend - t) >= sizeof rq->target)
                goto bad;
            for (const char *c = t; c < tend; c++)
                if (*c <= ' ' || *c == 0x7f)
                    goto bad;
            size_t vl = (size_t)(l + n - tend - 1);
            if (vl != 8 || strncmp(tend + 1, "HTTP/1.", 7) != 0 || (tend[8] != '0' && tend[8] != '1'))
                goto bad;
            minor = tend[8] - '0';
            memcpy(rq->target, t, (size_t)(tend - t));
            rq->close = minor == 0; /* HTTP/1.0: close unless keep-alive */
            rq->head = m == 4 && memcmp(l, "HEAD", 4) == 0;
            if (!rq->head && !(m == 3 && memcmp(l, "GET", 3) == 0))
                rq->status = 405; /* well formed, but not a method we serve */
            continue;
        }
        if (n == 0)
            break; /* the end of the head */
        /* name ":" OWS value OWS; no space before the colon, no folding */
        size_t c = 0;
        while (c < n && is_tchar(l[c]))
            c++;
        if (c == 0 || c == n || l[c] != ':')
            goto bad;
        const char *v = l + c + 1, *ve = l + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        size_t vn = (size_t)(ve - v);
        if (c == 4 && strncasecmp(l, "Host", 4) == 0) {
            if (host++)
                goto bad;
        } else if (c == 10 && strncasecmp(l, "Connection", 10) == 0) {
            if (has_token(v, vn, "close"))
                rq->close = 1;
            else if (has_token(v, vn, "keep-alive"))
                rq->close = 0;
        } else if (c == 14 && strncasecmp(l, "Content-Length", 14) == 0) {
            size_t cl = 0;
            if (vn == 0 || vn > 9 || have_length++)
                goto bad;
            for (size_t i = 0; i < vn; i++) {
                if (v[i] < '0' || v[i] > '9')
                    goto bad;
                cl = cl * 10 + (size_t)(v[i] - '0');
            }
            body = cl;
        } else if (c == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0) {
            rq->status = 501; /* chunked bodies: not in a hello server */
            return -1;
        }
    }
    if (minor == 1 && host != 1)
        goto bad; /* HTTP/1.1 requires exactly one Host */
    if (body > IN_CAP || pos + body > IN_CAP) {
        rq->status = 413;
        return -1;
    }
    return len - pos >= body ? (long)(pos + body) : 0; /* the body is read and ignored */
bad:
    rq->status = 400;
    return -1;
}

/* ---- answering ---- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Not Implemented";
    }
}

/* Append the answer to rq to out[*n..OUT_CAP). */
static void respond(const struct request *rq, char *out, size_t *n)
{
    int status = rq->status ? rq->status : 200;
    char body[300];
    int bl = status == 200 ? snprintf(body, sizeof body, "hello, %s\n", rq->target)
                           : snprintf(body, sizeof body, "%d %s\n", status, reason_phrase(status));
    int hl = snprintf(out + *n, OUT_CAP - *n,
                      "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s%s\r\n", status,
                      reason_phrase(status), bl, status == 405 ? "Allow: GET, HEAD\r\n" : "",
                      rq->close ? "Connection: close\r\n" : "");
    *n += (size_t)hl;
    if (!rq->head) {
        memcpy(out + *n, body, (size_t)bl);
        *n += (size_t)bl;
    }
}

/* Close after the last answer without losing it: stop sending, then read
 * what the client still sends (for up to a second) before closing, so
 * unread bytes do not make the kernel reset the connection under the
 * answer (RFC 9112, 9.6). */
static void close_gracefully(int fd, char *buf)
{
    swarm_shutdown(fd, SHUT_WR);
    int64_t until = swarm_now_ms() + 1000;
    while (swarm_now_ms() < until && swarm_read(fd, buf, IN_CAP, until - swarm_now_ms()) > 0)
        ;
    swarm_close(fd);
}

static void serve(int fd)
{
    char *in = swarm_alloc(IN_CAP), *out = swarm_alloc(OUT_CAP); /* freed when the process ends */
    if (!in || !out) {
        swarm_close(fd);
        return;
    }
    size_t len = 0;
    served_conns++;
    for (;;) {
        size_t off = 0, outn = 0;
        int closing = 0;
        while (!closing) {
            struct request rq;
            long n = parse_request(in + off, len - off, &rq);
            if (n == 0)
                break;
            if (n < 0) {
                rq.close = closing = 1;
                bad_requests++;
            } else {
                off += (size_t)n;
                closing = rq.close;
                served_requests++;
            }
            respond(&rq, out, &outn);
            if (outn > OUT_CAP - 1024) { /* room for one more answer, or send these */
                if (swarm_write_full(fd, out, outn, IDLE_MS, NULL) != (ssize_t)outn)
                    goto done;
                outn = 0;
            }
        }
        if (outn && swarm_write_full(fd, out, outn, IDLE_MS, NULL) != (ssize_t)outn)
            goto done;
        if (closing) {
            close_gracefully(fd, in);
            return;
        }
        memmove(in, in + off, len - off);
        len -= off;
        ssize_t n = swarm_read(fd, in + len, IN_CAP - len, IDLE_MS);
        if (n <= 0)
            break; /* the client closed (0), reset, or stayed idle */
        len += (size_t)n;
    }
done:
    swarm_close(fd);
}

static void acceptor(void *arg)
{
    (void)arg;
    int fd;
    while ((fd = swarm_accept(lfd, NULL, NULL, SWARM_INFINITE)) < 0) {
        if (fd == SWARM_ECLOSED)
            return; /* the listener was closed: the server is stopping */
        fprintf(stderr, "accept: %s\n", errstr(fd)); /* -EMFILE, ... */
        swarm_sleep(100);
    }
    if (swarm_spawn(NULL, acceptor, NULL, NULL) != 0)
        fprintf(stderr, "no process for the next acceptor\n");
    serve(fd);
}

/* ---- the self-test's clients ---- */

enum { TAG_RESULT = 1 };
enum { KEEPALIVE = 10, PIPELINED = 10, ROUNDS = 20 };

struct result {
    int conns, requests, responses, answered_400, errors;
};
static uint16_t port;
static swarm_pid_t root_pid;

struct client {
    int fd;
    size_t len;
    char buf[8192];
};

/* Read one answer: its status and body (none for HEAD). 0, or -1 on an
 * error or a malformed answer. *closes: it carried Connection: close. */
static int read_response(struct client *c, int head, int *status, char *body, size_t cap, int *closes)
{
    char *end;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4))) {
        ssize_t n = swarm_read(c->fd, c->buf + c->len, sizeof c->buf - c->len, CLIENT_MS);
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
    size_t hl = (size_t)(end - c->buf) + 4, bl = 0;
    c->buf[hl - 1] = 0; /* (it was the last '\n') */
    if (sscanf(c->buf, "HTTP/1.1 %d ", status) != 1)
        return -1;
    char *cl = strcasestr(c->buf, "\r\nContent-Length: ");
    if (cl)
        bl = strtoul(cl + 18, NULL, 10);
    *closes = strcasestr(c->buf, "\r\nConnection: close\r") != NULL;
    if (head)
        bl = 0;
    if (bl >= cap)
        return -1;
    while (c->len < hl + bl) {
        ssize_t n = swarm_read(c->fd, c->buf + c->len, sizeof c->buf - c->len, CLIENT_MS);
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
    memcpy(body, c->buf + hl, bl);
    body[bl] = 0;
    memmove(c->buf, c->buf + hl + bl, c->len - hl - bl);
    c->len -= hl + bl;
    return 0;
}

/* The connection ends next (after a Connection: close answer). */
static int expect_eof(struct client *c)
{
    char b[64];
    return c->len == 0 && swarm_read(c->fd, b, sizeof b, CLIENT_MS) == 0 ? 0 : -1;
}

/* Send every request in reqs (kinds: 'G' GET, 'H' HEAD), the last with
 * Connection: close, all at once when pipelined, else one at a time; check
 * every answer. */
static void run_client(struct result *r, int id, int rounds, int pipelined)
{
    struct client *c = swarm_alloc(sizeof *c);
    char *req = swarm_alloc(IN_CAP);
    if (!c || !req || (c->fd = swarm_tcp_connect("127.0.0.1", port, CLIENT_MS)) < 0) {
        r->errors++;
        return;
    }
    c->len = 0;
    r->conns++;
    size_t rn = 0;
    for (int i = 0; i < rounds; i++) {
        int head = pipelined && i % 5 == 4;
        rn += (size_t)snprintf(req + rn, IN_CAP - rn, "%s /%s/%d/%d HTTP/1.1\r\nHost: localhost\r\n%s\r\n",
                               head ? "HEAD" : "GET", pipelined ? "pipe" : "ka", id, i,
                               i == rounds - 1 ? "Connection: close\r\n" : "");
        r->requests++;
        if (!pipelined || i == rounds - 1) {
            if (swarm_write_full(c->fd, req, rn, CLIENT_MS, NULL) != (ssize_t)rn) {
                r->errors++;
                return;
            }
            rn = 0;
        }
        if (pipelined && i < rounds - 1)
            continue;
        for (int k = pipelined ? 0 : i; k <= i; k++) {
            int status, closes, kh = pipelined && k % 5 == 4;
            char body[300], want[300];
            snprintf(want, sizeof want, kh ? "" : "hello, /%s/%d/%d\n", pipelined ? "pipe" : "ka", id, k);
            if (read_response(c, kh, &status, body, sizeof body, &closes) != 0 || status != 200 ||
                strcmp(body, want) != 0 || closes != (k == rounds - 1)) {
                r->errors++;
                return;
            }
            r->responses++;
        }
    }
    if (expect_eof(c) != 0)
        r->errors++;
    swarm_close(c->fd);
}

/* One request sent in pieces (the parser must wait for the rest), over
 * HTTP/1.0 (closes after the answer), or malformed (400, then close). */
static void run_odd_client(struct result *r, const char *req, size_t step, int want_status, const char *want_body)
{
    struct client *c = swarm_alloc(sizeof *c);
    if (!c || (c->fd = swarm_tcp_connect("127.0.0.1", port, CLIENT_MS)) < 0) {
        r->errors++;
        return;
    }
    c->len = 0;
    r->conns++;
    r->requests++;
    size_t len = strlen(req);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        if (swarm_write_full(c->fd, req + i, n, CLIENT_MS, NULL) != (ssize_t)n) {
            r->errors++;
            return;
        }
        if (step < len)
            swarm_sleep(1); /* let the server see each piece alone */
    }
    int status, closes;
    char body[300];
    if (read_response(c, 0, &status, body, sizeof body, &closes) != 0 || status != want_status ||
        strcmp(body, want_body) != 0 || !closes || expect_eof(c) != 0) {
        r->errors++;
    } else {
        r->responses++;
        r->answered_400 += status == 400;
    }
    swarm_close(c->fd);
}

static void client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct result r = {0};
    if (id < KEEPALIVE)
        run_client(&r, id, ROUNDS, 0);
    else if (id < KEEPALIVE + PIPELINED)
        run_client(&r, id, ROUNDS, 1);
    else if (id == KEEPALIVE + PIPELINED)
        run_odd_client(&r, "GET /slowly HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 3, 200,
                       "hello, /slowly\n");
    else if (id == KEEPALIVE + PIPELINED + 1)
        run_odd_client(&r, "GET /old HTTP/1.0\r\n\r\n", 1000, 200, "hello, /old\n");
    else
        run_odd_client(&r, "GET /\tbad HTTP/1.1\r\nHost: localhost\r\n\r\n", 1000, 400, "400 Bad Request\n");
    swarm_send(root_pid, TAG_RESULT, &r, sizeof r);
}

static int self_test, exit_status;
static struct result total;

static void root(void *arg)
{
    (void)arg;
    root_pid = swarm_self();
    lfd = swarm_tcp_listen("127.0.0.1", port, NULL);
    if (lfd < 0) {
        fprintf(stderr, "listen on port %u: %s\n", port, errstr(lfd));
        exit_status = 1;
        return;
    }
    port = (uint16_t)swarm_sock_port(lfd);
    swarm_spawn(NULL, acceptor, NULL, NULL);
    if (!self_test) {
        printf("http://127.0.0.1:%u/\n", port);
        fflush(stdout);
        for (;;) /* the root owns the listener: it must not end */
            swarm_sleep(INT64_MAX);
    }
    int clients = KEEPALIVE + PIPELINED + 3;
    for (int i = 0; i < clients; i++)
        swarm_spawn(NULL, client, (void *)(intptr_t)i, NULL);
    for (int i = 0; i < clients; i++) {
        swarm_msg_t *m;
        if (swarm_recv_tag(TAG_RESULT, &m, 4 * CLIENT_MS) != 0) {
            total.errors += clients - i; /* the missing ones */
            break;
        }
        const struct result *r = swarm_msg_data(m);
        total.conns += r->conns;
        total.requests += r->requests;
        total.responses += r->responses;
        total.answered_400 += r->answered_400;
        total.errors += r->errors;
        swarm_msg_free(m);
    }
    swarm_close(lfd); /* the waiting acceptor ends; swarm_run waits for the connections */
}

static void usage(void)
{
    fprintf(stderr, "usage: swarm_http_hello [--port N] [--self-test]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port_given = 0;
    port = 8080;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]), port_given = 1;
        else if (strcmp(argv[i], "--self-test") == 0)
            self_test = 1;
        else
            usage();
    }
    if (self_test && !port_given)
        port = 0; /* any free port */
    if (swarm_run(NULL, root, NULL) != 0)
        return 1;
    if (!self_test)
        return exit_status;
    /* Every process has ended: the server's counts are final. */
    if (served_conns != (unsigned long)total.conns || served_requests + bad_requests != (unsigned long)total.requests)
        total.errors++;
    printf("http: %d connections, %d requests, %d responses in order, %d answered 400, %d errors\n", total.conns,
           total.requests, total.responses, total.answered_400, total.errors);
    return total.errors ? 1 : exit_status;
}
