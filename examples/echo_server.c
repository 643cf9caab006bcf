/* echo_server.c - a TCP echo server: one process per connection, the
 * connections under a supervisor.
 *
 *   swarm_echo_server [--port N]       serve 127.0.0.1:N (default 7007) until killed
 *   swarm_echo_server --self-test N    serve a free port, run N client processes
 *                                      against it, print a summary and exit
 *
 * Try it with `nc 127.0.0.1 7007`: every line comes back.
 *
 * The root process listens and starts a simple_one_for_one supervisor of
 * connection processes (temporary: one that ends is not restarted) and an
 * acceptor. For each connection the acceptor asks the supervisor for a
 * child, hands the socket to it with swarm_fd_give (Erlang's
 * controlling_process: from then on the socket is closed when the child
 * ends, however it ends) and tells it to start (ranch's handshake: the
 * child touches the socket only once it owns it). Each connection process
 * reads and writes as if it were blocking; a wait parks the process, not
 * the scheduler thread. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swarmrt.h>

enum { TAG_GO = 1, TAG_RESULT = 2 };
#define IDLE_MS 30000   /* a connection silent this long is closed */
#define CLIENT_MS 10000 /* the self-test clients' deadline for each step */

struct server {
    int lfd;           /* the listening socket (owned by the root process) */
    swarm_pid_t conns; /* the connection supervisor */
};
static struct server srv;
static _Atomic unsigned long accepted, echoed;

/* A code as text: SwarmRT's own codes, or the kernel's -errno (swarm_strerror
 * knows only SwarmRT's; the others equal -errno). */
static const char *errstr(int rc)
{
    return rc <= -4000 ? swarm_strerror(rc) : strerror(-rc);
}

static void connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    swarm_msg_t *m;
    if (swarm_recv_tag(TAG_GO, &m, IDLE_MS) != 0)
        return; /* never handed the socket: the acceptor still owns it */
    swarm_msg_free(m);
    char buf[16384];
    for (;;) {
        ssize_t n = swarm_read(fd, buf, sizeof buf, IDLE_MS);
        if (n <= 0)
            break; /* 0: the client closed; < 0: an error (-ECONNRESET, ...) or idle */
        if (swarm_write_full(fd, buf, (size_t)n, IDLE_MS, NULL) != n)
            break;
        echoed += (unsigned long)n;
    }
    swarm_close(fd); /* (ending would close it too) */
}

static void acceptor(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = swarm_accept(srv.lfd, NULL, NULL, SWARM_INFINITE);
        if (fd == SWARM_ECLOSED)
            return; /* the listener was closed: the server is stopping */
        if (fd < 0) {
            fprintf(stderr, "accept: %s\n", errstr(fd)); /* -EMFILE, ... */
            swarm_sleep(100);
            continue;
        }
        swarm_pid_t c;
        if (swarm_sup_start_simple(srv.conns, (void *)(intptr_t)fd, &c) != 0) {
            swarm_close(fd);
            continue;
        }
        if (swarm_fd_give(fd, c) != 0) { /* SWARM_ESRCH: it is gone, the fd is still ours */
            swarm_close(fd);
            continue;
        }
        accepted++;
        swarm_send(c, TAG_GO, NULL, 0);
    }
}

/* ---- the self-test's clients ---- */

struct result {
    unsigned long bytes;
    int errors;
};
static uint16_t port;
static swarm_pid_t root_pid;
static const size_t sizes[] = {1, 100, 1000, 65536}; /* one round trip each */

static void client(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct result res = {0, 0};
    /* The process's own heap (freed when it ends): too big for its stack. */
    unsigned char *out = swarm_alloc(65536), *in = swarm_alloc(65536);
    int fd = out && in ? swarm_tcp_connect("127.0.0.1", port, CLIENT_MS) : SWARM_ENOMEM;
    if (fd < 0) {
        res.errors = 1;
        swarm_send(root_pid, TAG_RESULT, &res, sizeof res);
        return;
    }
    for (int r = 0; r < 4; r++) {
        for (size_t k = 0; k < sizes[r]; k++)
            out[k] = (unsigned char)(id * 31 + r * 7 + (int)k);
        ssize_t n = swarm_write_full(fd, out, sizes[r], CLIENT_MS, NULL);
        if (n == (ssize_t)sizes[r])
            n = swarm_read_full(fd, in, sizes[r], CLIENT_MS, NULL);
        if (n != (ssize_t)sizes[r] || memcmp(in, out, sizes[r]) != 0) {
            res.errors++;
            break;
        }
        res.bytes += sizes[r];
    }
    swarm_close(fd);
    swarm_send(root_pid, TAG_RESULT, &res, sizeof res);
}

static int self_test = 0, status = 0;

/* Wait until the supervisor has no children left (each connection ends
 * when its client closes). */
static void drain(void)
{
    for (int i = 0; i < 1000; i++) {
        swarm_sup_counts_t c;
        if (swarm_sup_count_children(srv.conns, &c) != 0 || c.active == 0)
            return;
        swarm_sleep(10);
    }
}

static void root(void *arg)
{
    (void)arg;
    root_pid = swarm_self();
    srv.lfd = swarm_tcp_listen("127.0.0.1", port, NULL);
    if (srv.lfd < 0) {
        fprintf(stderr, "listen on port %u: %s\n", port, errstr(srv.lfd));
        status = 1;
        return;
    }
    port = (uint16_t)swarm_sock_port(srv.lfd);
    swarm_child_spec_t tmpl = {.fn = connection, .restart = SWARM_TEMPORARY, .shutdown = 1000};
    swarm_atom("connection", &tmpl.id);
    swarm_sup_flags_t f;
    swarm_sup_flags_init(&f);
    f.strategy = SWARM_SIMPLE_ONE_FOR_ONE;
    if (swarm_sup_start(&srv.conns, &f, &tmpl, 1, NULL) != 0) {
        fprintf(stderr, "could not start the connection supervisor\n");
        status = 1;
        return; /* (the listening socket is closed as this process ends) */
    }
    swarm_pid_t acc;
    swarm_ref_t acc_ref;
    swarm_spawn_monitor(&acc, &acc_ref, acceptor, NULL, NULL);
    if (!self_test) {
        printf("echo server on 127.0.0.1:%u\n", port);
        fflush(stdout);
        swarm_msg_t *m;
        swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE); /* runs until killed */
        return;
    }

    for (int i = 0; i < self_test; i++)
        swarm_spawn(NULL, client, (void *)(intptr_t)i, NULL);
    unsigned long bytes = 0;
    int errors = 0;
    for (int i = 0; i < self_test; i++) {
        swarm_msg_t *m;
        if (swarm_recv_tag(TAG_RESULT, &m, 4 * CLIENT_MS) != 0) {
            errors += self_test - i; /* the missing ones */
            break;
        }
        const struct result *r = swarm_msg_data(m);
        bytes += r->bytes;
        errors += r->errors;
        swarm_msg_free(m);
    }
    drain();
    swarm_close(srv.lfd); /* the acceptor wakes with SWARM_ECLOSED and ends */
    swarm_msg_t *m;
    swarm_recv_tag(SWARM_TAG_DOWN, &m, SWARM_INFINITE);
    swarm_msg_free(m);
    swarm_gs_stop(srv.conns, swarm_reason(SWARM_ATOM_SHUTDOWN), SWARM_INFINITE);
    if (echoed != bytes)
        errors++;
    printf("echo: %d clients, %lu connections, %lu bytes echoed, %d errors\n", self_test, accepted, bytes, errors);
    status = errors != 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: swarm_echo_server [--port N] [--self-test CLIENTS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port_given = 0;
    port = 7007;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = (uint16_t)atoi(argv[++i]), port_given = 1;
        else if (strcmp(argv[i], "--self-test") == 0 && i + 1 < argc) {
            self_test = atoi(argv[++i]);
            if (self_test < 1)
                usage();
        } else
            usage();
    }
    if (self_test && !port_given)
        port = 0; /* any free port */
    return swarm_run(NULL, root, NULL) == 0 ? status : 1;
}
