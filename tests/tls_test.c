/*
 * tests/tls_test.c - TLS over OpenSSL (swarmrt/tls.h): SwarmRT against
 * itself with many connections on two schedulers, against `openssl
 * s_server` and `openssl s_client`, certificate checks that must fail,
 * deadlines, a killed owner, every documented code. Loopback only; the
 * certificates are made at test time with the openssl command (a CA, a
 * server certificate it signs for localhost and 127.0.0.1, and a second
 * CA that signs nothing) in a fresh directory removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sys.h"
#include "io/io.h"
#include "test.h"
#include "tls/tls.h"

extern char **environ;

static atomic_int done;

static void run_n(swarm_fn driver, void *arg, unsigned nsched)
{
    swarm_config_t c = test_config(nsched);
    test_run_swarm(&c, driver, arg, &done);
}

/* ---- child programs: the openssl command ---- */

/* Start argv[0] (from PATH) with its stdin from in_fd and its stdout to
 * out_fd (-1: /dev/null); stderr is ours unless quiet. Returns its pid. */
static pid_t start_q(char *const argv[], int in_fd, int out_fd, int quiet)
{
    posix_spawn_file_actions_t fa;
    CHECK_OK(posix_spawn_file_actions_init(&fa));
    if (in_fd >= 0)
        CHECK_OK(posix_spawn_file_actions_adddup2(&fa, in_fd, 0));
    else
        CHECK_OK(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0));
    if (out_fd >= 0)
        CHECK_OK(posix_spawn_file_actions_adddup2(&fa, out_fd, 1));
    else
        CHECK_OK(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0));
    if (quiet)
        CHECK_OK(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0));
    pid_t pid;
    CHECK_OK(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ));
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static pid_t start(char *const argv[], int in_fd, int out_fd) { return start_q(argv, in_fd, out_fd, 0); }

static int finish(pid_t pid)
{
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void run_cmd(char *const argv[])
{
    int rc = finish(start_q(argv, -1, -1, 1)); /* (it talks on stderr) */
    if (rc != 0)
        TEST_FAIL("%s %s ... exited %d", argv[0], argv[1], rc);
}

/* ---- the certificates ---- */

static char dir[64];
static char ca_pem[96], ca_key[96], other_pem[96], other_key[96], srv_pem[96], srv_key[96], srv_csr[96], ext[96];

static void make_certs(void)
{
    strcpy(dir, "/tmp/swarm_tls_XXXXXX");
    CHECK(mkdtemp(dir));
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
    snprintf(ca_key, sizeof ca_key, "%s/ca.key", dir);
    snprintf(other_pem, sizeof other_pem, "%s/other.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/other.key", dir);
    snprintf(srv_pem, sizeof srv_pem, "%s/server.pem", dir);
    snprintf(srv_key, sizeof srv_key, "%s/server.key", dir);
    snprintf(srv_csr, sizeof srv_csr, "%s/server.csr", dir);
    snprintf(ext, sizeof ext, "%s/ext.cnf", dir);
    FILE *f = fopen(ext, "w");
    CHECK(f);
    fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n", f);
    fclose(f);
    char *ca[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", "/CN=swarm test CA", NULL};
    run_cmd(ca);
    char *other[] = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", other_key, "-out", other_pem, "-days", "2", "-subj", "/CN=another CA", NULL};
    run_cmd(other);
    char *csr[] = {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", srv_key, "-out", srv_csr, "-subj", "/CN=localhost", NULL};
    run_cmd(csr);
    char *sign[] = {"openssl", "x509", "-req", "-in", srv_csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", "1",
                    "-days", "2", "-extfile", ext, "-out", srv_pem, NULL};
    run_cmd(sign);
}

static void remove_certs(void)
{
    const char *files[] = {ca_pem, ca_key, other_pem, other_key, srv_pem, srv_key, srv_csr, ext};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        CHECK_OK(unlink(files[i]));
    CHECK_OK(rmdir(dir));
}

static swarm_tls_ctx_t *server_ctx(void)
{
    swarm_tls_ctx_t *c;
    CHECK_OK(swarm_tls_server_ctx(srv_pem, srv_key, &c));
    return c;
}

static swarm_tls_ctx_t *client_ctx(const char *ca)
{
    swarm_tls_ctx_t *c;
    CHECK_OK(swarm_tls_client_ctx(ca, &c));
    return c;
}

/* Read exactly len bytes (the stream must not end first). */
static void tls_read_full(swarm_tls_t *t, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = swarm_tls_read(t, (char *)buf + got, len - got, test_ms(60000));
        if (n <= 0) {
            char why[200];
            swarm_tls_error(t, why, sizeof why);
            TEST_FAIL("tls read after %zu of %zu bytes: %zd (%s)", got, len, n, why);
        }
        got += (size_t)n;
    }
}

/* A listening socket on 127.0.0.1 and its port. */
static int listen_any(uint16_t *port)
{
    int lfd = swarm_tcp_listen("127.0.0.1", 0, NULL);
    CHECK_CMP(lfd, >=, 0);
    *port = (uint16_t)swarm_sock_port(lfd);
    return lfd;
}

enum { TAG_READY = 1, TAG_GO = 2, TAG_DONE = 3, TAG_FD = 4, TAG_SHOOK = 5 };

/* The fd given to the caller, whose number follows in a TAG_FD message
 * (from: who gave it; may be NULL). */
static int given_fd(swarm_pid_t *from)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_FD, &m, test_ms(60000)));
    int fd;
    memcpy(&fd, swarm_msg_data(m), sizeof fd);
    if (from)
        *from = swarm_msg_sender(m);
    swarm_msg_free(m);
    return fd;
}

/* The server side of a fixture: shake hands, say so (TAG_SHOOK), then
 * neither read nor write until told (TAG_GO); its fd and connection go
 * with its end. */
static void idle_peer(void *arg)
{
    swarm_tls_ctx_t *sctx = arg;
    swarm_pid_t from;
    int fd = given_fd(&from);
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_accept(sctx, fd, test_ms(10000), &t));
    CHECK_OK(swarm_send(from, TAG_SHOOK, NULL, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_GO, &m, SWARM_INFINITE));
    swarm_msg_free(m);
}

/* A connected pair of stream sockets, TCP on loopback or Unix (*c ours;
 * *s ours too, or given to a new idle_peer *peer: await its TAG_SHOOK
 * after the client's handshake, before closing *c). A Unix socket whose
 * reader does not read stays full: no window, no delayed ACK to free room
 * later, as TCP may. */
static void stream_pair(int unix_domain, int *c, int *s, swarm_tls_ctx_t *sctx, swarm_pid_t *peer)
{
    char path[96];
    snprintf(path, sizeof path, "%s/sock", dir);
    uint16_t port = 0;
    int lfd = unix_domain ? swarm_unix_listen(path, 0) : listen_any(&port);
    CHECK_CMP(lfd, >=, 0);
    *c = unix_domain ? swarm_unix_connect(path, test_ms(10000)) : swarm_tcp_connect("127.0.0.1", port, test_ms(10000));
    CHECK_CMP(*c, >=, 0);
    *s = swarm_accept(lfd, NULL, NULL, test_ms(10000));
    CHECK_CMP(*s, >=, 0);
    CHECK_OK(swarm_close(lfd));
    if (unix_domain)
        CHECK_OK(unlink(path));
    if (peer) {
        CHECK_OK(swarm_spawn(peer, idle_peer, sctx, NULL));
        CHECK_OK(swarm_fd_give(*s, *peer));
        CHECK_OK(swarm_send(*peer, TAG_FD, s, sizeof *s));
    }
}

/* ---- echo: many connections on two schedulers, exact byte counts ---- */

typedef struct echo_cfg {
    int conns, rounds;
    uint16_t port;
    swarm_pid_t coord;
    uint64_t seed;
    swarm_tls_ctx_t *sctx, *cctx;
} echo_cfg_t;

static atomic_llong sent_bytes, got_bytes, echoed_bytes;
static atomic_long tls_calls, moved_calls;

/* Before a TLS call: junk in this thread's OpenSSL error queue, as another
 * OpenSSL user on the thread might leave (the call must not take it for
 * its own failure). After it: the queue of the thread it returned on is
 * empty, and whether that thread is another one is counted. */
static pthread_t before_call(void)
{
    ERR_raise(ERR_LIB_USER, 42);
    return pthread_self();
}

static void after_call(pthread_t before)
{
    CHECK_EQ(ERR_peek_error(), 0);
    atomic_fetch_add(&tls_calls, 1);
    if (!pthread_equal(before, pthread_self()))
        atomic_fetch_add(&moved_calls, 1);
}

static void echo_handler(void *arg)
{
    echo_cfg_t *cfg = arg;
    int fd = given_fd(NULL);
    swarm_tls_t *t;
    pthread_t th = before_call();
    CHECK_OK(swarm_tls_accept(cfg->sctx, fd, test_ms(60000), &t));
    after_call(th);
    char data[16384];
    for (;;) {
        th = before_call();
        ssize_t n = swarm_tls_read(t, data, sizeof data, test_ms(60000));
        after_call(th);
        if (n == 0)
            break; /* the client's close_notify */
        CHECK_CMP(n, >, 0);
        th = before_call();
        CHECK_EQ(swarm_tls_write_full(t, data, (size_t)n, test_ms(60000), NULL), n);
        after_call(th);
        atomic_fetch_add(&echoed_bytes, n);
    }
    CHECK_OK(swarm_tls_shutdown(t, test_ms(60000)));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(fd));
}

static void echo_acceptor(void *arg)
{
    echo_cfg_t *cfg = arg;
    int lfd = listen_any(&cfg->port);
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, NULL, 0));
    for (int i = 0; i < cfg->conns; i++) {
        int fd = swarm_accept(lfd, NULL, NULL, test_ms(60000));
        CHECK_CMP(fd, >=, 0);
        swarm_pid_t h;
        CHECK_OK(swarm_spawn(&h, echo_handler, cfg, NULL));
        CHECK_OK(swarm_fd_give(fd, h));
        CHECK_OK(swarm_send(h, TAG_FD, &fd, sizeof fd));
    }
    CHECK_OK(swarm_close(lfd));
}

static void echo_client(void *arg)
{
    echo_cfg_t *cfg = arg;
    uint64_t rng = cfg->seed ^ (swarm_self() * 0x9E3779B97F4A7C15ull);
    int fd = swarm_tcp_connect("127.0.0.1", cfg->port, test_ms(60000));
    CHECK_CMP(fd, >=, 0);
    swarm_tls_t *t;
    pthread_t th = before_call();
    int r = swarm_tls_connect(cfg->cctx, fd, "localhost", test_ms(60000), &t);
    after_call(th);
    if (r != 0) {
        char why[200];
        swarm_tls_error(t, why, sizeof why);
        TEST_FAIL("handshake: %s (%s)", swarm_strerror(r), why);
    }
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, NULL, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_GO, &m, test_ms(120000)));
    swarm_msg_free(m);
    enum { MAX = 40000 }; /* more than two records */
    char *out = malloc(MAX), *in = malloc(MAX);
    CHECK(out && in);
    for (int i = 0; i < cfg->rounds; i++) {
        size_t len = 1 + test_rand(&rng) % MAX;
        for (size_t k = 0; k < len; k++)
            out[k] = (char)test_rand(&rng);
        th = before_call();
        CHECK_EQ(swarm_tls_write_full(t, out, len, test_ms(60000), NULL), len);
        after_call(th);
        atomic_fetch_add(&sent_bytes, (long long)len);
        th = before_call();
        tls_read_full(t, in, len);
        after_call(th);
        CHECK(memcmp(in, out, len) == 0);
        atomic_fetch_add(&got_bytes, (long long)len);
    }
    free(out);
    free(in);
    CHECK_OK(swarm_tls_shutdown(t, test_ms(60000)));
    char x;
    CHECK_EQ(swarm_tls_read(t, &x, 1, test_ms(60000)), 0); /* the server's close_notify */
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(fd));
    CHECK_OK(swarm_send(cfg->coord, TAG_DONE, NULL, 0));
}

static int64_t handshake_ms, data_ms;

static void echo_driver(void *arg)
{
    echo_cfg_t *cfg = arg;
    cfg->coord = swarm_self();
    swarm_msg_t *m;
    CHECK_OK(swarm_spawn(NULL, echo_acceptor, cfg, NULL));
    CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(30000)));
    swarm_msg_free(m);
    swarm_pid_t *clients = malloc(sizeof *clients * (size_t)cfg->conns);
    CHECK(clients);
    int64_t t0 = test_now_ms();
    for (int i = 0; i < cfg->conns; i++)
        CHECK_OK(swarm_spawn(&clients[i], echo_client, cfg, NULL));
    for (int i = 0; i < cfg->conns; i++) {
        CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(120000)));
        swarm_msg_free(m);
    }
    int64_t t1 = test_now_ms();
    for (int i = 0; i < cfg->conns; i++)
        CHECK_OK(swarm_send(clients[i], TAG_GO, NULL, 0));
    for (int i = 0; i < cfg->conns; i++) {
        CHECK_OK(swarm_recv_tag(TAG_DONE, &m, test_ms(120000)));
        swarm_msg_free(m);
    }
    handshake_ms = t1 - t0;
    data_ms = test_now_ms() - t1;
    free(clients);
    atomic_store(&done, 1);
}

TEST(echo_many)
{
    make_certs();
    echo_cfg_t cfg = {.conns = (int)test_scale(200), .rounds = 4, .seed = test_seed()};
    cfg.sctx = server_ctx();
    cfg.cctx = client_ctx(ca_pem);
    int fds0 = test_count_fds();
    run_n(echo_driver, &cfg, 2);
    CHECK_EQ(atomic_load(&got_bytes), atomic_load(&sent_bytes));
    CHECK_EQ(atomic_load(&echoed_bytes), atomic_load(&sent_bytes));
    CHECK_EQ(test_count_fds(), fds0);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    long long bytes = atomic_load(&sent_bytes);
    printf("%d connections on 2 schedulers: %d handshakes in %" PRId64 " ms (%.0f/s); "
           "%lld bytes echoed in %" PRId64 " ms (%.1f MB/s each way)\n",
           cfg.conns, cfg.conns, handshake_ms, cfg.conns * 1000.0 / (double)(handshake_ms ? handshake_ms : 1),
           bytes, data_ms, bytes / 1e6 * 1000.0 / (double)(data_ms ? data_ms : 1));
    printf("TLS calls: %ld, returned on another thread than they began: %ld\n", atomic_load(&tls_calls),
           atomic_load(&moved_calls));
    CHECK_CMP(atomic_load(&moved_calls), >, 0);
    swarm_tls_ctx_free(cfg.sctx);
    swarm_tls_ctx_free(cfg.cctx);
    remove_certs();
}

/* ---- against openssl s_server ---- */

typedef struct peer_cfg {
    uint16_t port;
    swarm_tls_ctx_t *ctx;
    _Atomic int port_ready;
} peer_cfg_t;

/* One line to `s_server -rev` and its reversal back, by name and by
 * address, then a clean close (close_notify both ways). */
static void s_server_client(void *arg)
{
    peer_cfg_t *cfg = arg;
    const char *names[] = {"localhost", "127.0.0.1"};
    for (int i = 0; i < 2; i++) {
        int fd = swarm_tcp_connect("127.0.0.1", cfg->port, test_ms(10000));
        CHECK_CMP(fd, >=, 0);
        swarm_tls_t *t;
        int r = swarm_tls_connect(cfg->ctx, fd, names[i], test_ms(10000), &t);
        char why[200];
        swarm_tls_error(t, why, sizeof why);
        if (r != 0)
            TEST_FAIL("handshake with s_server as %s: %s (%s)", names[i], swarm_strerror(r), why);
        const char line[] = "hello from a swarm process\n", want[] = "ssecorp mraws a morf olleh\n";
        CHECK_EQ(swarm_tls_write_full(t, line, strlen(line), test_ms(10000), NULL), strlen(line));
        char got[sizeof want];
        tls_read_full(t, got, strlen(want));
        got[strlen(want)] = 0;
        CHECK(strcmp(got, want) == 0);
        CHECK_OK(swarm_tls_shutdown(t, test_ms(10000)));
        char x;
        CHECK_EQ(swarm_tls_read(t, &x, 1, test_ms(10000)), 0); /* s_server's close_notify */
        CHECK_OK(swarm_tls_free(t));
        CHECK_OK(swarm_close(fd));
    }
    atomic_store(&done, 1);
}

TEST(against_s_server)
{
    make_certs();
    int out[2];
    CHECK_OK(pipe(out));
    char *argv[] = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", srv_pem, "-key", srv_key,
                    "-rev", "-naccept", "2", NULL};
    pid_t pid = start(argv, -1, out[1]);
    close(out[1]);
    /* It says "ACCEPT 127.0.0.1:<port>" once it listens. */
    FILE *f = fdopen(out[0], "r");
    CHECK(f);
    char line[256];
    peer_cfg_t cfg = {.ctx = client_ctx(ca_pem)};
    while (!cfg.port) {
        if (!fgets(line, sizeof line, f))
            TEST_FAIL("s_server ended before it listened");
        unsigned port;
        if (sscanf(line, "ACCEPT 127.0.0.1:%u", &port) == 1)
            cfg.port = (uint16_t)port;
    }
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    atomic_store(&done, 0);
    CHECK_OK(swarm_spawn_in(sw, NULL, s_server_client, &cfg, NULL));
    CHECK_OK(swarm_wait(sw, test_ms(60000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
    CHECK_EQ(finish(pid), 0); /* it served its two connections and ended */
    fclose(f);
    swarm_tls_ctx_free(cfg.ctx);
    remove_certs();
}

/* ---- against openssl s_client ---- */

/* Serve one connection: read a line, answer "pong: <line>", close. */
static void s_client_server(void *arg)
{
    peer_cfg_t *cfg = arg;
    int lfd = listen_any(&cfg->port);
    atomic_store(&cfg->port_ready, 1);
    int fd = swarm_accept(lfd, NULL, NULL, test_ms(30000));
    CHECK_CMP(fd, >=, 0);
    swarm_tls_t *t;
    int r = swarm_tls_accept(cfg->ctx, fd, test_ms(30000), &t);
    char why[200];
    swarm_tls_error(t, why, sizeof why);
    if (r != 0)
        TEST_FAIL("handshake with s_client: %s (%s)", swarm_strerror(r), why);
    char line[128] = "pong: ";
    size_t n = strlen(line);
    while (n < sizeof line - 1 && line[n - 1] != '\n') {
        ssize_t k = swarm_tls_read(t, line + n, 1, test_ms(30000));
        CHECK_EQ(k, 1);
        n++;
    }
    CHECK_EQ(swarm_tls_write_full(t, line, n, test_ms(30000), NULL), n);
    CHECK_OK(swarm_tls_shutdown(t, test_ms(30000)));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(fd));
    CHECK_OK(swarm_close(lfd));
    atomic_store(&done, 1);
}

TEST(against_s_client)
{
    make_certs();
    peer_cfg_t cfg = {.ctx = server_ctx()};
    swarm_t *sw;
    swarm_config_t c = test_config(2);
    CHECK_OK(swarm_create(&sw, &c));
    atomic_store(&done, 0);
    CHECK_OK(swarm_spawn_in(sw, NULL, s_client_server, &cfg, NULL));
    TEST_POLL(atomic_load(&cfg.port_ready), 10000);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", cfg.port);
    int in[2], out[2];
    CHECK_OK(pipe(in));
    CHECK_OK(pipe(out));
    /* It checks the chain against our CA and the name (and fails if
     * either check fails); -quiet: only the data on stdout. */
    char *argv[] = {"openssl", "s_client", "-connect", addr, "-CAfile", ca_pem, "-verify_return_error",
                    "-verify_hostname", "localhost", "-quiet", NULL};
    pid_t pid = start(argv, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    const char ping[] = "ping from s_client\n";
    CHECK_EQ(write(in[1], ping, strlen(ping)), (ssize_t)strlen(ping));
    close(in[1]);
    char got[256];
    size_t n = 0;
    ssize_t k;
    while ((k = read(out[0], got + n, sizeof got - 1 - n)) > 0)
        n += (size_t)k;
    got[n] = 0;
    close(out[0]);
    CHECK_EQ(finish(pid), 0);
    CHECK_OK(swarm_wait(sw, test_ms(30000)));
    CHECK_OK(swarm_destroy(sw));
    CHECK_EQ(atomic_load(&done), 1);
    if (strcmp(got, "pong: ping from s_client\n") != 0)
        TEST_FAIL("s_client printed '%s'", got);
    swarm_tls_ctx_free(cfg.ctx);
    remove_certs();
}

/* ---- certificate checks that must fail ---- */

typedef struct refuse_cfg {
    swarm_tls_ctx_t *sctx, *cctx;
    const char *host;
    uint16_t port;
    swarm_pid_t coord;
} refuse_cfg_t;

/* Accept one connection, whose handshake fails; report its text. */
static void refuse_server(void *arg)
{
    refuse_cfg_t *cfg = arg;
    int lfd = listen_any(&cfg->port);
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, NULL, 0));
    int fd = swarm_accept(lfd, NULL, NULL, test_ms(10000));
    CHECK_CMP(fd, >=, 0);
    swarm_tls_t *t;
    API_RET(swarm_tls_accept, SWARM_ETLS, swarm_tls_accept(cfg->sctx, fd, test_ms(10000), &t));
    char why[200];
    swarm_tls_error(t, why, sizeof why);
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(fd));
    CHECK_OK(swarm_close(lfd));
    CHECK_OK(swarm_send(cfg->coord, TAG_DONE, why, strlen(why) + 1));
}

/* Connect to refuse_server as cfg says: the handshake fails on both
 * sides. Returns the client's text; *server_why the server's. */
static void refused(refuse_cfg_t *cfg, char *why, size_t len, char *server_why)
{
    cfg->coord = swarm_self();
    swarm_msg_t *m;
    CHECK_OK(swarm_spawn(NULL, refuse_server, cfg, NULL));
    CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(10000)));
    swarm_msg_free(m);
    int fd = swarm_tcp_connect("127.0.0.1", cfg->port, test_ms(10000));
    CHECK_CMP(fd, >=, 0);
    swarm_tls_t *t;
    API_RET(swarm_tls_connect, SWARM_ETLS, swarm_tls_connect(cfg->cctx, fd, cfg->host, test_ms(10000), &t));
    CHECK(t != NULL);
    size_t full = swarm_tls_error(t, why, len);
    CHECK_EQ(full, strlen(why));
    char small[8]; /* a short buffer: the text is cut, its length is not */
    CHECK_EQ(swarm_tls_error(t, small, sizeof small), full);
    CHECK_EQ(strlen(small), sizeof small - 1);
    CHECK_EQ(swarm_tls_error(t, NULL, 0), full);
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(fd));
    CHECK_OK(swarm_recv_tag(TAG_DONE, &m, test_ms(10000)));
    strcpy(server_why, (const char *)swarm_msg_data(m));
    swarm_msg_free(m);
    printf("client (%s): %s; server: %s\n", cfg->host, why, server_why);
}

static void refuse_driver(void *arg)
{
    (void)arg;
    char why[200], server_why[200];
    refuse_cfg_t cfg = {.sctx = server_ctx(), .cctx = client_ctx(other_pem), .host = "localhost"};
    /* A CA that did not sign the server's certificate. */
    refused(&cfg, why, sizeof why, server_why);
    CHECK(strstr(why, "certificate verify failed"));
    CHECK(strstr(why, "unable to get local issuer certificate"));
    CHECK(strstr(server_why, "alert"));
    swarm_tls_ctx_free(cfg.cctx);
    /* The right CA, the wrong names. */
    cfg.cctx = client_ctx(ca_pem);
    cfg.host = "wrong.example";
    refused(&cfg, why, sizeof why, server_why);
    CHECK(strstr(why, "certificate verify failed"));
    CHECK(strstr(why, "hostname mismatch"));
    cfg.host = "127.0.0.2";
    refused(&cfg, why, sizeof why, server_why);
    CHECK(strstr(why, "IP address mismatch"));
    swarm_tls_ctx_free(cfg.cctx);
    swarm_tls_ctx_free(cfg.sctx);
    atomic_store(&done, 1);
}

TEST(verify_failures)
{
    make_certs();
    run_n(refuse_driver, NULL, 2);
    remove_certs();
}

/* ---- deadlines ---- */

/* A TCP peer that accepts and then says nothing: handshakes time out, on
 * the client side and on the server side. */
static void timeout_driver(void *arg)
{
    (void)arg;
    swarm_tls_ctx_t *sctx = server_ctx(), *cctx = client_ctx(ca_pem);
    int c, s;
    stream_pair(0, &c, &s, NULL, NULL);
    swarm_tls_t *t;
    int64_t t0 = test_now_ms();
    API_RET(swarm_tls_connect, SWARM_ETIMEDOUT, swarm_tls_connect(cctx, c, "localhost", 200, &t));
    CHECK_CMP(test_now_ms() - t0, >=, 199);
    char why[200];
    swarm_tls_error(t, why, sizeof why);
    CHECK(strcmp(why, swarm_strerror(SWARM_ETIMEDOUT)) == 0);
    CHECK_OK(swarm_tls_free(t));
    /* The other way: a client that connects and sends nothing. s has
     * our ClientHello waiting unread: a fresh pair for the server side. */
    int c2, s2;
    stream_pair(0, &c2, &s2, NULL, NULL);
    t0 = test_now_ms();
    API_RET(swarm_tls_accept, SWARM_ETIMEDOUT, swarm_tls_accept(sctx, s2, 200, &t));
    CHECK_CMP(test_now_ms() - t0, >=, 199);
    CHECK_OK(swarm_tls_free(t));
    /* 0 is "try once". */
    API_RET(swarm_tls_accept, SWARM_ETIMEDOUT, swarm_tls_accept(sctx, s2, 0, &t));
    CHECK_OK(swarm_tls_free(t));
    int fds[] = {c, s, c2, s2};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        CHECK_OK(swarm_close(fds[i]));
    swarm_tls_ctx_free(sctx);
    swarm_tls_ctx_free(cctx);
    atomic_store(&done, 1);
}

TEST(handshake_timeout)
{
    make_certs();
    run_n(timeout_driver, NULL, 2);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    remove_certs();
}

/* A peer that does not read: writes take bytes until the kernel's buffers
 * are full, then time out having taken nothing more; every byte a write
 * took arrives, exactly once. */
static void slow_reader(void *arg)
{
    long long *cfg = arg; /* [0] the client pid, [1] fd, then out: [2] bytes read */
    swarm_tls_ctx_t *sctx = server_ctx();
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_accept(sctx, (int)cfg[1], test_ms(10000), &t));
    CHECK_OK(swarm_send((swarm_pid_t)cfg[0], TAG_READY, NULL, 0));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_GO, &m, test_ms(60000))); /* the writer filled the pipe */
    swarm_msg_free(m);
    static char buf[65536];
    long long total = 0;
    ssize_t n;
    while ((n = swarm_tls_read(t, buf, sizeof buf, test_ms(60000))) > 0)
        total += n;
    CHECK_EQ(n, 0); /* the writer's close_notify */
    cfg[2] = total;
    CHECK_OK(swarm_tls_free(t));
    swarm_tls_ctx_free(sctx);
    CHECK_OK(swarm_send((swarm_pid_t)cfg[0], TAG_DONE, NULL, 0));
}

static void deadline_driver(void *arg)
{
    (void)arg;
    swarm_tls_ctx_t *cctx = client_ctx(ca_pem);
    int c, s;
    stream_pair(1, &c, &s, NULL, NULL);
    long long cfg[3] = {(long long)swarm_self(), s, -1};
    swarm_pid_t reader;
    CHECK_OK(swarm_spawn(&reader, slow_reader, cfg, NULL));
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_connect(cctx, c, "localhost", test_ms(10000), &t));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(10000)));
    swarm_msg_free(m);
    static char chunk[5000];
    memset(chunk, 'w', sizeof chunk);
    long long taken = 0;
    ssize_t n;
    int writes = 0;
    while ((n = swarm_tls_write(t, chunk, sizeof chunk, 0)) > 0) {
        taken += n;
        writes++;
        CHECK_CMP(writes, <, 100000);
    }
    CHECK_EQ(n, SWARM_ETIMEDOUT);
    /* Full forms report what they took before the deadline. */
    size_t part = 1;
    CHECK_EQ(swarm_tls_write_full(t, chunk, sizeof chunk, 50, &part), SWARM_ETIMEDOUT);
    CHECK_EQ(part, 0);
    printf("took %lld bytes in %d writes before the kernel's buffers filled\n", taken, writes);
    /* The reader starts; everything taken arrives, then our close_notify. */
    CHECK_OK(swarm_send(reader, TAG_GO, NULL, 0));
    CHECK_OK(swarm_tls_shutdown(t, test_ms(60000)));
    CHECK_OK(swarm_recv_tag(TAG_DONE, &m, test_ms(60000)));
    swarm_msg_free(m);
    CHECK_EQ(cfg[2], taken);
    CHECK_OK(swarm_tls_free(t));
    int fds[] = {c, s};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        CHECK_OK(swarm_close(fds[i]));
    swarm_tls_ctx_free(cctx);
    atomic_store(&done, 1);
}

TEST(write_deadline)
{
    make_certs();
    run_n(deadline_driver, NULL, 2);
    remove_certs();
}

/* ---- a process killed mid-session, or mid-handshake ---- */

typedef struct kill_cfg {
    swarm_tls_ctx_t *sctx, *cctx;
    swarm_pid_t coord;
    int fd;
} kill_cfg_t;

static swarm_pid_t spawn_owner(swarm_fn fn, kill_cfg_t *cfg, swarm_ref_t *ref)
{
    swarm_pid_t p;
    CHECK_OK(swarm_spawn_monitor(&p, ref, fn, cfg, NULL));
    CHECK_OK(swarm_fd_give(cfg->fd, p));
    CHECK_OK(swarm_send(p, TAG_FD, &cfg->fd, sizeof cfg->fd));
    return p;
}

/* Owns its fd and connection, and is killed parked in a read. */
static void doomed_server(void *arg)
{
    kill_cfg_t *cfg = arg;
    CHECK_EQ(given_fd(NULL), cfg->fd);
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_accept(cfg->sctx, cfg->fd, test_ms(10000), &t));
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, NULL, 0));
    char b;
    swarm_tls_read(t, &b, 1, SWARM_INFINITE); /* killed in here */
    TEST_FAIL("the read returned");
}

/* Owns its fd and is killed in the handshake with a peer that never answers. */
static void doomed_client(void *arg)
{
    kill_cfg_t *cfg = arg;
    CHECK_EQ(given_fd(NULL), cfg->fd);
    swarm_tls_t *t;
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, NULL, 0));
    swarm_tls_connect(cfg->cctx, cfg->fd, "localhost", SWARM_INFINITE, &t); /* killed in here */
    TEST_FAIL("the handshake returned");
}

static void kill_driver(void *arg)
{
    (void)arg;
    kill_cfg_t cfg = {.sctx = server_ctx(), .cctx = client_ctx(ca_pem), .coord = swarm_self()};
    int c, s;
    stream_pair(0, &c, &s, NULL, NULL);
    /* The server side, s, is the doomed process's. */
    swarm_ref_t ref;
    cfg.fd = s;
    swarm_pid_t victim = spawn_owner(doomed_server, &cfg, &ref);
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_connect(cfg.cctx, c, "localhost", test_ms(10000), &t));
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(10000)));
    swarm_msg_free(m);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 2);
    while (!swarm__io_has_waiter(s, SWARM_IO_READ))
        swarm_yield();
    CHECK_OK(swarm_exit_pid(victim, swarm_reason(SWARM_ATOM_KILL)));
    test_await_down(ref);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 1); /* its connection freed */
    /* Its fd closed without close_notify: to us, a truncation. */
    char b;
    API_RET(swarm_tls_shutdown, 0, swarm_tls_shutdown(t, test_ms(10000)));
    CHECK_EQ(swarm_tls_read(t, &b, 1, test_ms(10000)), SWARM_ETLS);
    char why[200];
    swarm_tls_error(t, why, sizeof why);
    printf("after the peer was killed: %s\n", why);
    CHECK(strstr(why, "unexpected eof"));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(c));
    /* Mid-handshake: a client whose server never answers. */
    stream_pair(0, &c, &s, NULL, NULL);
    cfg.fd = c;
    victim = spawn_owner(doomed_client, &cfg, &ref);
    CHECK_OK(swarm_recv_tag(TAG_READY, &m, test_ms(10000)));
    swarm_msg_free(m);
    while (!swarm__io_has_waiter(c, SWARM_IO_READ))
        swarm_yield(); /* its ClientHello is out, it waits for the answer */
    CHECK_EQ(atomic_load(&swarm__tls_conns), 1);
    CHECK_OK(swarm_exit_pid(victim, swarm_reason(SWARM_ATOM_KILL)));
    test_await_down(ref);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    CHECK_OK(swarm_close(s));
    swarm_tls_ctx_free(cfg.sctx);
    swarm_tls_ctx_free(cfg.cctx);
    atomic_store(&done, 1);
}

TEST(killed_mid_session)
{
    make_certs();
    int fds0 = test_count_fds();
    run_n(kill_driver, NULL, 2);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    CHECK_EQ(test_count_fds(), fds0); /* the victims' fds closed by their ends */
    remove_certs();
}

/* ---- every documented code of the int calls (tests/api_doc_check.py) ---- */

static void await_tag(uint32_t tag, int *val)
{
    swarm_msg_t *m;
    CHECK_OK(swarm_recv_tag(tag, &m, test_ms(30000)));
    if (val)
        memcpy(val, swarm_msg_data(m), sizeof *val);
    swarm_msg_free(m);
}

/* A client connection to an idle peer whose socket buffers we filled:
 * every write from now on waits for room. */
static swarm_tls_t *full_conn(swarm_tls_ctx_t *sctx, swarm_tls_ctx_t *cctx, int *c, swarm_pid_t *peer)
{
    int s;
    stream_pair(1, c, &s, sctx, peer);
    swarm_tls_t *t;
    API_RET(swarm_tls_connect, 0, swarm_tls_connect(cctx, *c, "localhost", test_ms(10000), &t));
    await_tag(TAG_SHOOK, NULL);
    static char chunk[16384];
    ssize_t n;
    while ((n = swarm_tls_write(t, chunk, sizeof chunk, 0)) > 0)
        ;
    CHECK_EQ(n, SWARM_ETIMEDOUT);
    return t;
}

typedef struct codes_cfg {
    swarm_tls_ctx_t *sctx, *cctx;
    swarm_tls_t *t; /* the driver's */
    int fd, kind;
    swarm_pid_t coord;
} codes_cfg_t;

/* Waits on fd (kind 0: to read, 1: to write) until it is closed. */
static void fd_waiter(void *arg)
{
    codes_cfg_t *cfg = arg;
    CHECK_EQ(swarm_fd_wait(cfg->fd, cfg->kind ? SWARM_IO_WRITE : SWARM_IO_READ, SWARM_INFINITE), SWARM_ECLOSED);
}

/* Start an fd_waiter on fd (w must outlive it) and return once it waits. */
static void start_fd_waiter(codes_cfg_t *w, int fd, int kind)
{
    w->fd = fd;
    w->kind = kind;
    CHECK_OK(swarm_spawn(NULL, fd_waiter, w, NULL));
    while (!swarm__io_has_waiter(fd, kind ? SWARM_IO_WRITE : SWARM_IO_READ))
        swarm_yield();
}

/* Parks in a TLS call on fd until the driver closes it (kind 0: accept,
 * 1: connect, 2: shutdown on a full connection). */
static void closed_under(void *arg)
{
    codes_cfg_t *cfg = arg;
    swarm_tls_t *t;
    int c;
    swarm_pid_t peer = SWARM_PID_NONE;
    if (cfg->kind == 2)
        t = full_conn(cfg->sctx, cfg->cctx, &c, &peer);
    else
        c = cfg->fd;
    int r = c;
    CHECK_OK(swarm_send(cfg->coord, TAG_READY, &r, sizeof r));
    if (cfg->kind == 0)
        API_RET(swarm_tls_accept, SWARM_ECLOSED, swarm_tls_accept(cfg->sctx, c, SWARM_INFINITE, &t));
    if (cfg->kind == 1)
        API_RET(swarm_tls_connect, SWARM_ECLOSED, swarm_tls_connect(cfg->cctx, c, "localhost", SWARM_INFINITE, &t));
    if (cfg->kind == 2) {
        API_RET(swarm_tls_shutdown, SWARM_ECLOSED, swarm_tls_shutdown(t, SWARM_INFINITE));
        CHECK_OK(swarm_send(peer, TAG_GO, NULL, 0));
    }
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_send(cfg->coord, TAG_DONE, NULL, 0));
}

/* Not the owner: every call on the driver's connection is refused. */
static void intruder(void *arg)
{
    codes_cfg_t *cfg = arg;
    char b[4];
    API_RET(swarm_tls_shutdown, SWARM_EPERM, swarm_tls_shutdown(cfg->t, 0));
    API_RET(swarm_tls_free, SWARM_EPERM, swarm_tls_free(cfg->t));
    CHECK_EQ(swarm_tls_read(cfg->t, b, sizeof b, 0), SWARM_EPERM);
    CHECK_EQ(swarm_tls_write(cfg->t, b, sizeof b, 0), SWARM_EPERM);
    CHECK_EQ(swarm_tls_write_full(cfg->t, b, sizeof b, 0, NULL), SWARM_EPERM);
    CHECK_OK(swarm_send(cfg->coord, TAG_DONE, NULL, 0));
}

/* The client side of a handshake on the driver's fd, then gone. */
static void idle_client(void *arg)
{
    codes_cfg_t *cfg = arg;
    swarm_tls_t *t;
    CHECK_OK(swarm_tls_connect(cfg->cctx, cfg->fd, "localhost", test_ms(10000), &t));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_send(cfg->coord, TAG_DONE, NULL, 0));
}

static void codes_driver(void *arg)
{
    (void)arg;
    codes_cfg_t cfg = {.sctx = server_ctx(), .cctx = client_ctx(ca_pem), .coord = swarm_self()};
    swarm_tls_ctx_t *sctx = cfg.sctx, *cctx = cfg.cctx;
    swarm_tls_t *t = (swarm_tls_t *)&cfg;
    /* Arguments. */
    int c, s;
    stream_pair(0, &c, &s, NULL, NULL);
    API_RET(swarm_tls_accept, SWARM_EINVAL, swarm_tls_accept(NULL, s, 0, &t));
    CHECK(t == NULL);
    API_RET(swarm_tls_accept, SWARM_EINVAL, swarm_tls_accept(sctx, s, 0, NULL));
    API_RET(swarm_tls_accept, SWARM_EINVAL, swarm_tls_accept(cctx, s, 0, &t));
    API_RET(swarm_tls_accept, SWARM_EINVAL, swarm_tls_accept(sctx, s, -2, &t));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(NULL, c, "localhost", 0, &t));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(cctx, c, NULL, 0, &t));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(cctx, c, "localhost", 0, NULL));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(sctx, c, "localhost", 0, &t));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(cctx, c, "localhost", -2, &t));
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(cctx, c, "", 0, &t));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    API_RET(swarm_tls_connect, SWARM_EINVAL, swarm_tls_connect(cctx, c, longname, 0, &t));
    CHECK(t == NULL);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    API_RET(swarm_tls_accept, SWARM_EBADF, swarm_tls_accept(sctx, -1, 0, &t));
    API_RET(swarm_tls_accept, SWARM_EBADF, swarm_tls_accept(sctx, SWARM_IO_MAX_FD, 0, &t));
    int spare = dup(s);
    CHECK_OK(close(spare)); /* a number that is not open now */
    API_RET(swarm_tls_connect, SWARM_EBADF, swarm_tls_connect(cctx, spare, "localhost", 0, &t));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_tls_accept, SWARM_ENOMEM, swarm_tls_accept(sctx, s, 0, &t));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_tls_connect, SWARM_ENOMEM, swarm_tls_connect(cctx, c, "localhost", 0, &t));
    swarm__sys_reset();
    CHECK(t == NULL);
    /* EBUSY: another process waits to read the fd the handshake reads. */
    codes_cfg_t w = cfg, w2 = cfg, w3 = cfg;
    start_fd_waiter(&w, s, 0);
    API_RET(swarm_tls_accept, SWARM_EBUSY, swarm_tls_accept(sctx, s, test_ms(10000), &t));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(s)); /* the waiter sees ECLOSED */
    CHECK_OK(swarm_close(c));
    /* (A fresh pair: the ClientHello must not wake a waiter on s.) */
    stream_pair(0, &c, &s, NULL, NULL);
    start_fd_waiter(&w2, c, 0);
    API_RET(swarm_tls_connect, SWARM_EBUSY, swarm_tls_connect(cctx, c, "localhost", test_ms(10000), &t));
    /* A handshake that did not finish cannot be shut down. */
    API_RET(swarm_tls_shutdown, SWARM_ETLS, swarm_tls_shutdown(t, 0));
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_close(c)); /* the waiter sees ECLOSED */
    CHECK_OK(swarm_close(s));
    /* ECLOSED: the fd closed under a parked handshake, and shutdown. */
    for (int kind = 0; kind < 3; kind++) {
        int fd = -1, other = -1;
        if (kind < 2)
            stream_pair(0, kind ? &fd : &other, kind ? &other : &fd, NULL, NULL);
        codes_cfg_t k = cfg;
        k.fd = fd;
        k.kind = kind;
        CHECK_OK(swarm_spawn(NULL, closed_under, &k, NULL));
        await_tag(TAG_READY, &fd);
        while (!swarm__io_has_waiter(fd, kind == 2 ? SWARM_IO_WRITE : SWARM_IO_READ))
            swarm_yield();
        CHECK_OK(swarm_close(fd));
        await_tag(TAG_DONE, NULL);
        if (other >= 0)
            CHECK_OK(swarm_close(other));
    }
    /* A full connection: shutdown's deadline, another writer, intruders. */
    swarm_pid_t peer;
    t = full_conn(sctx, cctx, &c, &peer);
    API_RET(swarm_tls_shutdown, SWARM_ETIMEDOUT, swarm_tls_shutdown(t, 0));
    API_RET(swarm_tls_shutdown, SWARM_EINVAL, swarm_tls_shutdown(NULL, 0));
    API_RET(swarm_tls_shutdown, SWARM_EINVAL, swarm_tls_shutdown(t, -2));
    char b[4] = "abc";
    CHECK_EQ(swarm_tls_read(t, NULL, 1, 0), SWARM_EINVAL);
    CHECK_EQ(swarm_tls_write(t, NULL, 1, 0), SWARM_EINVAL);
    CHECK_EQ(swarm_tls_write_full(t, NULL, 1, 0, NULL), SWARM_EINVAL);
    CHECK_EQ(swarm_tls_read(t, b, 0, 0), 0);
    CHECK_EQ(swarm_tls_write(t, b, 0, 0), 0);
    CHECK_EQ(swarm_tls_read(NULL, b, 1, 0), SWARM_EINVAL);
    CHECK_EQ(swarm_tls_read(t, b, 1, -2), SWARM_EINVAL);
    CHECK_EQ(swarm_tls_read(t, b, 1, 0), SWARM_ETIMEDOUT); /* what is left must go out first */
    cfg.t = t;
    CHECK_OK(swarm_spawn(NULL, intruder, &cfg, NULL));
    await_tag(TAG_DONE, NULL);
    start_fd_waiter(&w3, c, 1);
    API_RET(swarm_tls_shutdown, SWARM_EBUSY, swarm_tls_shutdown(t, test_ms(10000)));
    CHECK_EQ(swarm_tls_write(t, b, 1, test_ms(10000)), SWARM_EBUSY);
    CHECK_OK(swarm_close(c)); /* the waiter sees ECLOSED */
    API_RET(swarm_tls_free, 0, swarm_tls_free(t));
    API_RET(swarm_tls_free, 0, swarm_tls_free(NULL));
    CHECK_OK(swarm_send(peer, TAG_GO, NULL, 0));
    /* A clean pair: shutdown twice, then writing is over. */
    t = NULL;
    stream_pair(0, &c, &s, sctx, &peer);
    API_RET(swarm_tls_connect, 0, swarm_tls_connect(cctx, c, "localhost", test_ms(10000), &t));
    await_tag(TAG_SHOOK, NULL);
    API_RET(swarm_tls_shutdown, 0, swarm_tls_shutdown(t, test_ms(10000)));
    API_RET(swarm_tls_shutdown, 0, swarm_tls_shutdown(t, test_ms(10000)));
    CHECK_EQ(swarm_tls_write(t, b, 1, test_ms(10000)), SWARM_ETLS);
    char why[200];
    swarm_tls_error(t, why, sizeof why);
    printf("writing after close_notify: %s\n", why);
    CHECK_OK(swarm_tls_free(t));
    CHECK_OK(swarm_send(peer, TAG_GO, NULL, 0));
    CHECK_OK(swarm_close(c));
    /* The server side's 0. */
    stream_pair(0, &c, &s, NULL, NULL);
    swarm_pid_t client;
    codes_cfg_t k = cfg;
    k.fd = c;
    CHECK_OK(swarm_spawn(&client, idle_client, &k, NULL));
    API_RET(swarm_tls_accept, 0, swarm_tls_accept(sctx, s, test_ms(10000), &t));
    CHECK_OK(swarm_tls_free(t));
    await_tag(TAG_DONE, NULL);
    CHECK_OK(swarm_close(c));
    CHECK_OK(swarm_close(s));
    swarm_tls_ctx_free(sctx);
    swarm_tls_ctx_free(cctx);
    atomic_store(&done, 1);
}

TEST(codes)
{
    make_certs();
    swarm_tls_ctx_t *c;
    swarm_tls_t *t;
    /* Contexts. */
    API_RET(swarm_tls_server_ctx, SWARM_EINVAL, swarm_tls_server_ctx(NULL, srv_key, &c));
    API_RET(swarm_tls_server_ctx, SWARM_EINVAL, swarm_tls_server_ctx(srv_pem, NULL, &c));
    API_RET(swarm_tls_server_ctx, SWARM_EINVAL, swarm_tls_server_ctx(srv_pem, srv_key, NULL));
    API_RET(swarm_tls_server_ctx, SWARM_ENOENT, swarm_tls_server_ctx("/nonexistent.pem", srv_key, &c));
    API_RET(swarm_tls_server_ctx, SWARM_ENOENT, swarm_tls_server_ctx(srv_pem, "/nonexistent.key", &c));
    API_RET(swarm_tls_server_ctx, SWARM_ETLS, swarm_tls_server_ctx(srv_key, srv_key, &c)); /* no certificate */
    API_RET(swarm_tls_server_ctx, SWARM_ETLS, swarm_tls_server_ctx(srv_pem, other_key, &c)); /* not its key */
    API_RET(swarm_tls_server_ctx, SWARM_ETLS, swarm_tls_server_ctx(srv_pem, srv_pem, &c)); /* no key */
    CHECK(c == NULL);
    CHECK_EQ(ERR_peek_error(), 0);
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_tls_server_ctx, SWARM_ENOMEM, swarm_tls_server_ctx(srv_pem, srv_key, &c));
    atomic_store(&swarm__alloc_fail_at, 1);
    API_RET(swarm_tls_client_ctx, SWARM_ENOMEM, swarm_tls_client_ctx(ca_pem, &c));
    swarm__sys_reset();
    API_RET(swarm_tls_server_ctx, 0, swarm_tls_server_ctx(srv_pem, srv_key, &c));
    swarm_tls_ctx_free(c);
    API_RET(swarm_tls_client_ctx, SWARM_EINVAL, swarm_tls_client_ctx(ca_pem, NULL));
    API_RET(swarm_tls_client_ctx, SWARM_ENOENT, swarm_tls_client_ctx("/nonexistent.pem", &c));
    API_RET(swarm_tls_client_ctx, SWARM_ETLS, swarm_tls_client_ctx(srv_key, &c)); /* no certificate */
    API_RET(swarm_tls_client_ctx, 0, swarm_tls_client_ctx(NULL, &c)); /* the system's CAs */
    swarm_tls_ctx_free(c);
    swarm_tls_ctx_free(NULL);
    CHECK_EQ(ERR_peek_error(), 0);
    /* Outside a process. */
    API_RET(swarm_tls_accept, SWARM_ENOTPROC, swarm_tls_accept(NULL, 0, 0, &t));
    API_RET(swarm_tls_connect, SWARM_ENOTPROC, swarm_tls_connect(NULL, 0, "localhost", 0, &t));
    API_RET(swarm_tls_shutdown, SWARM_ENOTPROC, swarm_tls_shutdown(NULL, 0));
    API_RET(swarm_tls_free, SWARM_ENOTPROC, swarm_tls_free((swarm_tls_t *)&c));
    CHECK_EQ(swarm_tls_read(NULL, NULL, 0, 0), SWARM_ENOTPROC);
    CHECK_EQ(swarm_tls_error(NULL, NULL, 0), 0);
    run_n(codes_driver, NULL, 2);
    CHECK_EQ(atomic_load(&swarm__tls_conns), 0);
    remove_certs();
}

TEST_MAIN(TEST_ENTRY(echo_many, TEST_CONCURRENCY, TEST_TIMEOUT(300)), TEST_ENTRY(against_s_server),
          TEST_ENTRY(against_s_client), TEST_ENTRY(verify_failures), TEST_ENTRY(handshake_timeout),
          TEST_ENTRY(write_deadline), TEST_ENTRY(killed_mid_session), TEST_ENTRY(codes))
