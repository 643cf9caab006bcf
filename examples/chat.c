/* chat.c - a line-based chat server: a room process and one process per
 * connection.
 *
 *   swarm_chat [--port N]    serve 127.0.0.1:N (default 7070) until killed
 *   swarm_chat --self-test   serve a free port, let a few client processes
 *                            talk, check what each got, print a summary, exit
 *
 * Try it with two or three `nc 127.0.0.1 7070`: the first line you type is
 * your name, every later line goes to everyone else; a line "/crash" makes
 * your connection's process crash, and the room sees it leave.
 *
 * The room is a registered process ("room") that holds the members. It
 * monitors each connection process that joins, so a connection that ends,
 * however it ends (the client hung up, a write failed, a crash), leaves the
 * room with a DOWN message. A connection process waits with swarm_recv_fd
 * for whichever comes first: bytes from its client (lines it sends to the
 * room) or a message from the room (a line it writes to its client). A
 * slow client parks only its own connection process in the write; the
 * room never waits for anybody. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swarmrt.h>

enum { TAG_GO = 1, TAG_JOIN, TAG_SAY, TAG_LINE, TAG_STOP, TAG_READY, TAG_CRASH, TAG_RESULT };
#define NAME_MAX_LEN 31
#define LINE_CAP 1024 /* a longer line is cut */
#define WRITE_MS 10000 /* a client that takes no bytes for this long is dropped */
#define MAX_MEMBERS 1024

static swarm_atom_t room_name;
static int lfd; /* the listening socket, owned by the root process */

/* ---- the room ---- */

struct member {
    swarm_pid_t pid;
    swarm_ref_t ref; /* (its monitor) */
    char name[NAME_MAX_LEN + 1];
};

/* A code as text: SwarmRT's own codes, or the kernel's -errno (swarm_strerror
 * knows only SwarmRT's; the others equal -errno). */
static const char *errstr(int rc)
{
    return rc <= -4000 ? swarm_strerror(rc) : strerror(-rc);
}

static void broadcast(struct member *ms, size_t n, swarm_pid_t except, const char *line)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].pid != except)
            swarm_send(ms[i].pid, TAG_LINE, line, strlen(line));
}

static struct member *find(struct member *ms, size_t n, swarm_pid_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].pid == pid)
            return &ms[i];
    return NULL;
}

static void room(void *arg)
{
    (void)arg;
    struct member *ms = swarm_alloc(MAX_MEMBERS * sizeof *ms);
    size_t n = 0;
    char line[LINE_CAP + 64];
    if (!ms)
        return;
    for (;;) {
        swarm_msg_t *m;
        swarm_recv(&m, SWARM_INFINITE);
        swarm_pid_t from = swarm_msg_sender(m);
        const char *data = swarm_msg_data(m);
        int size = (int)swarm_msg_size(m);
        switch (swarm_msg_tag(m)) {
        case TAG_JOIN: {
            if (n == MAX_MEMBERS || find(ms, n, from)) {
                swarm_send(from, TAG_LINE, "* the room is full\n", 19);
                break;
            }
            ms[n].pid = from;
            swarm_monitor(from, &ms[n].ref); /* a DOWN when it ends, whatever the reason */
            snprintf(ms[n].name, sizeof ms[n].name, "%.*s", size, data);
            /* Tell the newcomer who is here, the others who came. */
            size_t w = (size_t)snprintf(line, sizeof line, "* in the room:%s", n ? "" : " nobody else");
            for (size_t i = 0; i < n && w < sizeof line - NAME_MAX_LEN - 4; i++)
                w += (size_t)snprintf(line + w, sizeof line - w, "%s %s", i ? "," : "", ms[i].name);
            snprintf(line + w, sizeof line - w, "\n");
            swarm_send(from, TAG_LINE, line, strlen(line));
            snprintf(line, sizeof line, "* %s joined\n", ms[n].name);
            broadcast(ms, n, from, line);
            n++;
            break;
        }
        case TAG_SAY: {
            struct member *who = find(ms, n, from);
            if (who) {
                snprintf(line, sizeof line, "%s: %.*s\n", who->name, size, data);
                broadcast(ms, n, from, line);
            }
            break;
        }
        case SWARM_TAG_DOWN: {
            swarm_pid_t pid;
            swarm_reason_t why;
            swarm_msg_down(m, NULL, &pid, &why);
            struct member *who = find(ms, n, pid);
            if (who) {
                if (why.atom == SWARM_ATOM_NORMAL)
                    snprintf(line, sizeof line, "* %s left\n", who->name);
                else
                    snprintf(line, sizeof line, "* %s left (%s)\n", who->name, swarm_atom_name(why.atom));
                *who = ms[--n];
                broadcast(ms, n, SWARM_PID_NONE, line);
            }
            break;
        }
        case TAG_STOP:
            swarm_msg_free(m);
            return;
        }
        swarm_msg_free(m);
    }
}

/* ---- a connection ---- */

/* (The attributes only keep this crash on purpose out of the sanitizer
 * builds' reports.) */
__attribute__((no_sanitize("undefined", "thread"), noinline)) static void crash_now(void)
{
    volatile int *volatile p = NULL;
    *p = 1; /* ends this connection's process only; its socket is closed */
}

struct conn {
    int fd, joined;
    size_t len;
    char buf[LINE_CAP];
};

/* One line from the client: the first is its name, then what it says. */
static void client_line(struct conn *c, char *l, size_t n)
{
    if (n && l[n - 1] == '\r')
        n--;
    if (n == 0)
        return;
    if (!c->joined) {
        swarm_send_name(NULL, room_name, TAG_JOIN, l, n < NAME_MAX_LEN ? n : NAME_MAX_LEN);
        c->joined = 1;
    } else if (n == 6 && memcmp(l, "/crash", 6) == 0) {
        crash_now();
    } else {
        swarm_send_name(NULL, room_name, TAG_SAY, l, n);
    }
}

/* Read what the client has sent, up to the point where a read would wait
 * (a read with timeout 0 never parks), and pass on its complete lines.
 * Returns 0, or < 0 when the connection is over. */
static int client_input(struct conn *c)
{
    for (;;) {
        ssize_t n = swarm_read(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n == SWARM_ETIMEDOUT)
            return 0; /* nothing more for now */
        if (n <= 0)
            return -1; /* 0: the client hung up; or -ECONNRESET, ... */
        c->len += (size_t)n;
        char *start = c->buf, *nl;
        while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
            client_line(c, start, (size_t)(nl - start));
            start = nl + 1;
        }
        c->len -= (size_t)(start - c->buf);
        memmove(c->buf, start, c->len);
        if (c->len == sizeof c->buf) { /* a line too long: pass on what fits */
            client_line(c, c->buf, c->len);
            c->len = 0;
        }
    }
}

static void connection(void *arg)
{
    swarm_msg_t *m;
    if (swarm_recv_tag(TAG_GO, &m, WRITE_MS) != 0)
        return; /* never handed the socket: the acceptor still owns it */
    swarm_msg_free(m);
    struct conn *c = swarm_alloc(sizeof *c);
    if (!c)
        return; /* (the socket is closed as this process ends) */
    c->fd = (int)(intptr_t)arg;
    c->joined = 0;
    c->len = 0;
    for (;;) {
        /* A message from the room, or bytes from the client. */
        int r = swarm_recv_fd(c->fd, SWARM_IO_READ, &m, SWARM_INFINITE);
        if (r == 0) {
            ssize_t n = swarm_msg_tag(m) == TAG_LINE
                            ? swarm_write_full(c->fd, swarm_msg_data(m), swarm_msg_size(m), WRITE_MS, NULL)
                            : 0;
            swarm_msg_free(m);
            if (n < 0)
                break; /* the client is gone, or too slow */
        } else if (r < 0 || client_input(c) < 0) {
            break;
        }
    }
    swarm_close(c->fd);
}

static void acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = swarm_accept(lfd, NULL, NULL, SWARM_INFINITE);
        if (fd == SWARM_ECLOSED)
            return; /* the listener was closed: the server is stopping */
        if (fd < 0) {
            fprintf(stderr, "accept: %s\n", errstr(fd));
            swarm_sleep(100);
            continue;
        }
        swarm_pid_t c;
        if (swarm_spawn(&c, connection, (void *)(intptr_t)fd, NULL) != 0 || swarm_fd_give(fd, c) != 0) {
            swarm_close(fd);
            continue;
        }
        swarm_send(c, TAG_GO, NULL, 0); /* it owns the socket now */
    }
}

/* ---- the self-test's clients ---- */

enum { CLIENTS = 5, LINES = 10 };
#define CLIENT_MS 10000
static uint16_t port;
static swarm_pid_t root_pid;

struct result {
    int lines, saw_crash, errors;
};

struct reader {
    int fd;
    size_t len;
    char buf[4096];
};

/* The next line from the server, without its '\n', into out. 0, or -1. */
static int read_line(struct reader *r, char *out, size_t cap)
{
    char *nl;
    while (!(nl = memchr(r->buf, '\n', r->len))) {
        ssize_t n = swarm_read(r->fd, r->buf + r->len, sizeof r->buf - r->len, CLIENT_MS);
        if (n <= 0)
            return -1;
        r->len += (size_t)n;
    }
    size_t n = (size_t)(nl - r->buf);
    if (n >= cap)
        return -1;
    memcpy(out, r->buf, n);
    out[n] = 0;
    memmove(r->buf, nl + 1, r->len - n - 1);
    r->len -= n + 1;
    return 0;
}

static void client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct result res = {0, 0, 0};
    struct reader *r = swarm_alloc(sizeof *r);
    char line[512];
    if (!r || (r->fd = swarm_tcp_connect("127.0.0.1", port, CLIENT_MS)) < 0)
        goto fail;
    r->len = 0;
    int n = snprintf(line, sizeof line, "c%d\n", id);
    if (swarm_write_full(r->fd, line, (size_t)n, CLIENT_MS, NULL) != n)
        goto fail;

    /* Wait until everybody is in the room: whoever was there when we
     * came, then each who comes later. */
    unsigned known = 1u << id, all = (1u << CLIENTS) - 1;
    while (known != all) {
        if (read_line(r, line, sizeof line) != 0)
            goto fail;
        if (strncmp(line, "* in the room:", 14) == 0 || (line[0] == '*' && strstr(line, " joined"))) {
            for (char *p = line; (p = strchr(p, 'c')); p++)
                if (p[1] >= '0' && p[1] < '0' + CLIENTS)
                    known |= 1u << (p[1] - '0');
        } else {
            res.errors++;
        }
    }

    /* Say LINES lines in one write (the server splits them), and expect
     * every other client's LINES lines, each once, in the order said. */
    n = 0;
    for (int i = 0; i < LINES; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "line %d from c%d\n", i, id);
    if (swarm_write_full(r->fd, line, (size_t)n, CLIENT_MS, NULL) != n)
        goto fail;
    int next[CLIENTS] = {0};
    while (res.lines < (CLIENTS - 1) * LINES) {
        int from, i, from2;
        if (read_line(r, line, sizeof line) != 0)
            goto fail;
        if (sscanf(line, "c%d: line %d from c%d", &from, &i, &from2) != 3 || from != from2 || from == id ||
            from < 0 || from >= CLIENTS || i != next[from]++) {
            res.errors++;
            continue;
        }
        res.lines++;
    }
    swarm_send(root_pid, TAG_READY, NULL, 0);

    /* Then c0 crashes its connection's process on purpose; the others see
     * it leave. */
    if (id == 0) {
        swarm_msg_t *m;
        swarm_recv_tag(TAG_CRASH, &m, SWARM_INFINITE);
        swarm_msg_free(m);
        if (swarm_write_full(r->fd, "/crash\n", 7, CLIENT_MS, NULL) != 7 || read_line(r, line, sizeof line) != -1)
            res.errors++; /* (expected: no more lines, the server closed) */
    } else {
        if (read_line(r, line, sizeof line) != 0 || strcmp(line, "* c0 left (crash)") != 0)
            res.errors++;
        else
            res.saw_crash = 1;
    }
    swarm_close(r->fd);
    swarm_send(root_pid, TAG_RESULT, &res, sizeof res);
    return;
fail:
    res.errors++;
    swarm_send(root_pid, TAG_READY, NULL, 0);
    swarm_send(root_pid, TAG_RESULT, &res, sizeof res);
}

static int self_test, exit_status;

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
    swarm_pid_t room_pid, acc;
    swarm_ref_t acc_ref;
    swarm_spawn(&room_pid, room, NULL, NULL);
    swarm_register(room_name, room_pid); /* before any connection can look for it */
    swarm_spawn_monitor(&acc, &acc_ref, acceptor, NULL, NULL);
    if (!self_test) {
        printf("chat on 127.0.0.1:%u\n", port);
        fflush(stdout);
        swarm_msg_t *m;
        swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE); /* runs until killed */
        return;
    }
    swarm_pid_t c0 = SWARM_PID_NONE;
    for (int i = 0; i < CLIENTS; i++)
        swarm_spawn(i ? NULL : &c0, client, (void *)(intptr_t)i, NULL);
    struct result total = {0, 0, 0};
    swarm_msg_t *m;
    for (int i = 0; i < CLIENTS; i++)
        if (swarm_recv_tag(TAG_READY, &m, 4 * CLIENT_MS) == 0)
            swarm_msg_free(m);
    swarm_send(c0, TAG_CRASH, NULL, 0);
    for (int i = 0; i < CLIENTS; i++) {
        if (swarm_recv_tag(TAG_RESULT, &m, 4 * CLIENT_MS) != 0) {
            total.errors += CLIENTS - i;
            break;
        }
        const struct result *r = swarm_msg_data(m);
        total.lines += r->lines;
        total.saw_crash += r->saw_crash;
        total.errors += r->errors;
        swarm_msg_free(m);
    }
    swarm_close(lfd); /* the acceptor ends */
    swarm_send(room_pid, TAG_STOP, NULL, 0);
    printf("chat: %d clients, %d lines each, %d lines delivered once each, %d saw c0's connection crash and leave, "
           "%d errors\n",
           CLIENTS, LINES, total.lines, total.saw_crash, total.errors);
    exit_status = total.errors != 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: swarm_chat [--port N] [--self-test]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port_given = 0;
    port = 7070;
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
    swarm_atom("room", &room_name);
    swarm_config_t cfg;
    swarm_config_init(&cfg);
    cfg.quiet = self_test; /* the self-test's crash on purpose: no report */
    return swarm_run(&cfg, root, NULL) == 0 ? exit_status : 1;
}
