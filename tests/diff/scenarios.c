/*
 * tests/diff/scenarios.c - SwarmRT's side of the differential tests: the
 * scenarios of scenarios.erl, each printing the same normalised trace as
 * Erlang does. Where C returns an error code for what Erlang raises, the
 * trace prints the Erlang term it stands for (SWARM_ESRCH from a link:
 * noproc; SWARM_EEXIST from register: badarg; SWARM_ENOENT from a timer
 * cancel: false). tests/diff/run.py runs both and compares.
 */
#include <stdio.h>
#include <string.h>
#include <swarmrt.h>

static void out_atom(const char *prefix, swarm_atom_t a) { printf("%s%s\n", prefix, swarm_atom_name(a)); }

static swarm_atom_t atom(const char *s)
{
    swarm_atom_t a = 0;
    swarm_atom(s, &a);
    return a;
}

static int is_down_of(const swarm_msg_t *m, void *ctx)
{
    swarm_ref_t r;
    return swarm_msg_down(m, &r, NULL, NULL) && swarm_ref_eq(r, *(swarm_ref_t *)ctx);
}

static swarm_atom_t wait_down(swarm_ref_t ref)
{
    swarm_msg_t *m;
    swarm_reason_t why;
    swarm_recv_match(is_down_of, &ref, &m, SWARM_INFINITE);
    swarm_msg_down(m, NULL, NULL, &why);
    swarm_msg_free(m);
    return why.atom;
}

static void quick(void *arg) { (void)arg; }
static void waiter(void *arg)
{
    (void)arg;
    swarm_msg_t *m;
    swarm_recv(&m, SWARM_INFINITE);
    swarm_msg_free(m);
}

static swarm_pid_t dead(void)
{
    swarm_pid_t p;
    swarm_ref_t r;
    swarm_spawn_monitor(&p, &r, quick, NULL, NULL);
    wait_down(r);
    return p;
}

static swarm_atom_t recv_exit(swarm_pid_t from_want)
{
    swarm_msg_t *m;
    swarm_pid_t from;
    swarm_reason_t why;
    swarm_recv_tag(SWARM_TAG_EXIT, &m, SWARM_INFINITE);
    swarm_msg_exit(m, &from, &why);
    swarm_msg_free(m);
    return from == from_want ? why.atom : atom("wrong_sender");
}

static void exit_kill_self(void *arg)
{
    (void)arg;
    swarm_exit_with(swarm_reason(SWARM_ATOM_KILL));
}
static void exit_boom(void *arg)
{
    (void)arg;
    swarm_exit_with(swarm_reason(atom("boom")));
}
static void link_boom_then_wait(void *arg)
{
    (void)arg;
    swarm_spawn_link(NULL, exit_boom, NULL, NULL);
    waiter(NULL);
}
static void trap_and_ready(void *arg)
{
    swarm_trap_exit(1, NULL);
    swarm_send((swarm_pid_t)(uintptr_t)arg, 1, "ready", 5);
    for (;;)
        swarm_sleep(1000000);
}
static void wait_go_boom(void *arg)
{
    (void)arg;
    waiter(NULL);
    exit_boom(NULL);
}

static swarm_pid_t parent;
static void ordered(void *arg)
{
    (void)arg;
    swarm_trap_exit(1, NULL);
    swarm_send(parent, 1, "ready", 5);
    char line[128] = "";
    for (int i = 0; i < 4; i++) {
        swarm_msg_t *m;
        swarm_reason_t why;
        swarm_recv(&m, SWARM_INFINITE);
        if (swarm_msg_exit(m, NULL, &why))
            snprintf(line + strlen(line), sizeof line - strlen(line), "%sEXIT %s", i ? " " : "", swarm_atom_name(why.atom));
        else
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s%.*s", i ? " " : "", (int)swarm_msg_size(m),
                     (const char *)swarm_msg_data(m));
        swarm_msg_free(m);
    }
    swarm_send(parent, 2, line, strlen(line) + 1);
}
static void order_sender(void *arg)
{
    swarm_pid_t v = (swarm_pid_t)(uintptr_t)arg;
    swarm_send(v, 1, "m1", 2);
    swarm_send(v, 1, "m2", 2);
    swarm_exit_pid(v, swarm_reason(atom("reason")));
    swarm_send(v, 1, "m3", 2);
}

static const char *scenario;

static void run(void *arg)
{
    (void)arg;
    const char *s = scenario;
    swarm_pid_t me = swarm_self(), p, q;
    swarm_ref_t r, r2;
    swarm_msg_t *m;
    if (!strcmp(s, "link_dead_trapping")) {
        swarm_trap_exit(1, NULL);
        p = dead();
        swarm_link(p);
        out_atom("EXIT ", recv_exit(p));
    } else if (!strcmp(s, "link_dead_not_trapping")) {
        p = dead();
        printf("error %s\n", swarm_link(p) == SWARM_ESRCH ? "noproc" : "none");
    } else if (!strcmp(s, "exit_normal_ignored")) {
        swarm_spawn_monitor(&p, &r, waiter, NULL, NULL);
        swarm_exit_pid(p, swarm_reason(SWARM_ATOM_NORMAL));
        swarm_send(p, 1, "go", 2);
        out_atom("DOWN ", wait_down(r));
    } else if (!strcmp(s, "kill_trapping")) {
        swarm_spawn(&p, trap_and_ready, (void *)(uintptr_t)me, NULL);
        swarm_recv_tag(1, &m, SWARM_INFINITE);
        swarm_msg_free(m);
        swarm_monitor(p, &r);
        swarm_exit_pid(p, swarm_reason(SWARM_ATOM_KILL));
        out_atom("DOWN ", wait_down(r));
    } else if (!strcmp(s, "exit_kill_via_link")) {
        swarm_trap_exit(1, NULL);
        swarm_spawn_link(&p, exit_kill_self, NULL, NULL);
        out_atom("EXIT ", recv_exit(p));
    } else if (!strcmp(s, "linked_boom")) {
        swarm_spawn_monitor(&p, &r, link_boom_then_wait, NULL, NULL);
        out_atom("DOWN ", wait_down(r));
    } else if (!strcmp(s, "linked_normal_trapping")) {
        swarm_trap_exit(1, NULL);
        swarm_spawn_link(&p, quick, NULL, NULL);
        out_atom("EXIT ", recv_exit(p));
    } else if (!strcmp(s, "order_msg_exit_msg")) {
        parent = me;
        swarm_spawn(&p, ordered, NULL, NULL);
        swarm_recv_tag(1, &m, SWARM_INFINITE);
        swarm_msg_free(m);
        swarm_spawn(NULL, order_sender, (void *)(uintptr_t)p, NULL);
        swarm_recv_tag(2, &m, SWARM_INFINITE);
        printf("%s\n", (const char *)swarm_msg_data(m));
        swarm_msg_free(m);
    } else if (!strcmp(s, "monitor_dead")) {
        p = dead();
        swarm_monitor(p, &r);
        out_atom("DOWN ", wait_down(r));
    } else if (!strcmp(s, "two_monitors")) {
        swarm_spawn(&p, waiter, NULL, NULL);
        swarm_monitor(p, &r);
        swarm_monitor(p, &r2);
        swarm_send(p, 1, "go", 2);
        swarm_atom_t a = wait_down(r), b = wait_down(r2);
        printf("DOWN %s %s\n", swarm_atom_name(a), swarm_atom_name(b));
    } else if (!strcmp(s, "demonitor_flush")) {
        p = dead();
        swarm_monitor(p, &r);
        swarm_sleep(10);
        int info = swarm_demonitor(r, SWARM_DEMONITOR_FLUSH | SWARM_DEMONITOR_INFO);
        printf("info %s left %zu\n", info == 1 ? "true" : "false", swarm_mailbox_len());
    } else if (!strcmp(s, "unlink_after_exit")) {
        swarm_trap_exit(1, NULL);
        swarm_spawn_link(&p, wait_go_boom, NULL, NULL);
        swarm_monitor(p, &r);
        swarm_send(p, 1, "go", 2);
        wait_down(r);
        swarm_unlink(p);
        if (swarm_recv_tag(SWARM_TAG_EXIT, &m, 0) == 0) {
            swarm_reason_t why;
            swarm_msg_exit(m, NULL, &why);
            out_atom("EXIT ", why.atom);
            swarm_msg_free(m);
        } else {
            printf("none\n");
        }
    } else if (!strcmp(s, "register_taken")) {
        swarm_spawn(&p, waiter, NULL, NULL);
        swarm_spawn(&q, waiter, NULL, NULL);
        swarm_register(atom("foo"), p);
        int rc = swarm_register(atom("foo"), q);
        printf("%s\n", rc == SWARM_EEXIST ? "badarg" : rc == 0 ? "true" : "other");
        swarm_send(p, 1, "go", 2);
        swarm_send(q, 1, "go", 2);
    } else if (!strcmp(s, "cancel_after_fire")) {
        swarm_send_after(10, me, 5, "y", 1, &r);
        swarm_sleep(50);
        int rc = swarm_cancel_timer(r, NULL);
        const char *c = rc == SWARM_ENOENT ? "false" : "true";
        if (swarm_recv_tag(5, &m, 0) == 0) {
            printf("cancel %s message y\n", c);
            swarm_msg_free(m);
        } else {
            printf("cancel %s none\n", c);
        }
    } else if (!strcmp(s, "cancel_async")) {
        int64_t left = 0;
        swarm_send_after(1000, me, 5, "y", 1, &r);
        swarm_cancel_timer_async(r);
        swarm_recv_tag(SWARM_TAG_CANCEL_TIMER, &m, SWARM_INFINITE);
        swarm_msg_cancel_timer(m, NULL, &left);
        swarm_msg_free(m);
        printf("left %s\n", left > 500 && left <= 1000 ? "true" : "false");
        swarm_send_after(10, me, 6, "z", 1, &r);
        swarm_recv_tag(6, &m, SWARM_INFINITE);
        swarm_msg_free(m);
        swarm_cancel_timer_async(r);
        swarm_recv_tag(SWARM_TAG_CANCEL_TIMER, &m, SWARM_INFINITE);
        swarm_msg_cancel_timer(m, NULL, &left);
        swarm_msg_free(m);
        printf("then %s\n", left < 0 ? "false" : "true");
        if (swarm_recv_tag(5, &m, 0) == 0) {
            printf("message y\n");
            swarm_msg_free(m);
        } else {
            printf("no y\n");
        }
    } else {
        printf("no such scenario %s\n", s);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: scenarios NAME\n");
        return 2;
    }
    scenario = argv[1];
    swarm_config_t c;
    swarm_config_init(&c);
    c.quiet = 1;
    c.deadlock = SWARM_DEADLOCK_OFF;
    return swarm_run(&c, run, NULL) == 0 ? 0 : 1;
}
