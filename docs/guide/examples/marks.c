/* marks.c - a request past a long mailbox with a receive mark, a
 * high-priority server, what process info says about a waiting process,
 * and a timer cancelled with its answer sent as a message. */
#include <stdio.h>
#include <swarmrt.h>

enum { TAG_NOISE = 1, TAG_REQ, TAG_REPLY };

static void echo(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    while (swarm_recv_tag(TAG_REQ, &m, SWARM_INFINITE) == 0) {
        swarm_send(swarm_msg_sender(m), TAG_REPLY, swarm_msg_data(m), swarm_msg_size(m));
        swarm_msg_free(m);
    }
}

static int is_reply(const swarm_msg_t *m, void *ctx)
{
    (void)ctx;
    return swarm_msg_tag(m) == TAG_REPLY;
}

static void client(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) /* a long mailbox of unrelated messages */
        swarm_send(swarm_self(), TAG_NOISE, NULL, 0);

    swarm_spawn_opts_t opts;
    swarm_spawn_opts_init(&opts);
    opts.priority = SWARM_PRIO_HIGH; /* runs before any normal process that waits */
    swarm_pid_t server;
    swarm_spawn(&server, echo, NULL, &opts);

    /* Mark first, then ask: the receive looks only at what came after. */
    swarm_recv_mark_t mark;
    swarm_recv_mark(&mark);
    swarm_send(server, TAG_REQ, "ping", 5);
    swarm_msg_t *reply;
    if (swarm_recv_marked(&mark, is_reply, NULL, &reply, 1000) == 0) {
        printf("reply %s; %zu old messages still queued\n", (const char *)swarm_msg_data(reply),
               swarm_mailbox_len());
        swarm_msg_free(reply);
    }

    swarm_process_info_t info;
    if (swarm_process_info(server, &info, 1000) == 0)
        printf("server: %s priority, waits for tag %u: %s\n", info.priority == SWARM_PRIO_HIGH ? "high" : "other",
               info.wait_tag, info.wait == SWARM_WAIT_RECV_TAG ? "yes" : "no");

    /* Erlang's cancel_timer(Ref, [{async, true}, {info, true}]). */
    swarm_ref_t timer;
    swarm_send_after(5000, swarm_self(), TAG_NOISE, NULL, 0, &timer);
    swarm_cancel_timer_async(timer);
    swarm_msg_t *m;
    int64_t left = -1;
    if (swarm_recv_tag(SWARM_TAG_CANCEL_TIMER, &m, 1000) == 0) {
        swarm_msg_cancel_timer(m, NULL, &left);
        swarm_msg_free(m);
    }
    printf("timer cancelled with %s left\n", left > 4000 ? "more than 4 s" : left >= 0 ? "less" : "nothing");
    swarm_exit_pid(server, swarm_reason(SWARM_ATOM_KILL));
}

int main(void)
{
    swarm_config_t c;
    swarm_config_init(&c);
    c.schedulers = 1;
    return swarm_run(&c, client, NULL) == 0 ? 0 : 1;
}
