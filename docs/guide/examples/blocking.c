/* blocking.c - a call that would block a scheduler thread, run on the
 * blocking pool while its process parks; and swarm_resolve. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, inet_ntop under -std=c11 */
#include <arpa/inet.h>
#include <stdio.h>
#include <swarmrt.h>
#include <time.h>

static _Atomic int ticks;

/* Runs on a pool thread, not on a scheduler: it may block. */
static void *slow_call(void *arg)
{
    struct timespec t = {0, 200 * 1000 * 1000};
    nanosleep(&t, NULL); /* stands for a read(2) of a file, a foreign library call */
    return arg;
}

static void ticker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        swarm_sleep(1);
        ticks++;
    }
}

static void main_proc(void *arg)
{
    (void)arg;
    swarm_spawn(NULL, ticker, NULL, NULL);
    void *result;
    swarm_blocking(slow_call, "done", &result); /* parks this process only */
    printf("slow_call returned \"%s\"; the ticker ran meanwhile: %s\n", (char *)result, ticks ? "yes" : "no");

    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (swarm_resolve("127.0.0.1", 8080, &ss, &len) == 0) { /* getaddrinfo on the pool */
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        char text[INET_ADDRSTRLEN];
        printf("resolved: %s port %d\n", inet_ntop(AF_INET, &a->sin_addr, text, sizeof text), ntohs(a->sin_port));
    }
}

int main(void)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 1; /* one thread: a blocked scheduler would stop the ticker */
    return swarm_run(&c, main_proc, NULL) == 0 ? 0 : 1;
}
