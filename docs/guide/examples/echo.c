/* echo.c - one echo round trip over loopback: a listener, a connection
 * process that owns its socket, a client; a deadline; a refused connect. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <swarmrt.h>

enum { TAG_GO = 1 };

/* Owns the connection once the listener gave it: echoes until end of stream. */
static void connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    swarm_msg_t *go;
    swarm_recv_tag(TAG_GO, &go, SWARM_INFINITE); /* the socket is ours now */
    swarm_msg_free(go);
    char buf[256];
    ssize_t n;
    while ((n = swarm_read(fd, buf, sizeof buf, 5000)) > 0) /* parks, not the thread */
        swarm_write_full(fd, buf, (size_t)n, 5000, NULL);
    /* n == 0: the client closed. Returning closes fd: this process owns it. */
}

static void listener(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    int fd = swarm_accept(lfd, NULL, NULL, 5000);
    swarm_pid_t c;
    swarm_spawn(&c, connection, (void *)(intptr_t)fd, NULL);
    swarm_fd_give(fd, c); /* Erlang's controlling_process */
    swarm_send(c, TAG_GO, NULL, 0);
}

static void client(void *arg)
{
    (void)arg;
    int lfd = swarm_tcp_listen("127.0.0.1", 0, NULL); /* port 0: any free one */
    int port = swarm_sock_port(lfd);
    swarm_spawn(NULL, listener, (void *)(intptr_t)lfd, NULL);

    int fd = swarm_tcp_connect("127.0.0.1", (uint16_t)port, 1000);
    swarm_write_full(fd, "ping", 4, 1000, NULL);
    char buf[5] = {0};
    ssize_t n = swarm_read_full(fd, buf, 4, 1000, NULL); /* all 4 bytes, or the end */
    printf("echoed %zd bytes: %s\n", n, buf);

    /* Nothing more comes: the deadline ends the wait. */
    n = swarm_read(fd, buf, sizeof buf, 50);
    printf("read with a 50 ms deadline: %s\n", swarm_strerror((int)n));
    swarm_close(fd);

    /* Kernel errors come back as -errno. */
    swarm_close(lfd);
    fd = swarm_tcp_connect("127.0.0.1", (uint16_t)port, 1000);
    printf("connect to a closed port: %s\n", fd == -ECONNREFUSED ? "-ECONNREFUSED" : "?");
}

int main(void)
{
    return swarm_run(NULL, client, NULL) == 0 ? 0 : 1;
}
