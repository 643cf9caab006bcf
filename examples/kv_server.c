/* kv_server.c - a key-value store as a gen_server, and a client that uses
 * call timeouts.
 *
 * The server keeps a small open-addressing table in its state. The
 * client puts and gets keys, makes a call the server is too slow for (it
 * times out, and the late reply never shows up in its mailbox), then
 * stops the server and sees that a call to it fails at once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swarmrt.h>

enum { PUT = 1, GET = 2, SLOW = 3 };
#define SLOTS 1024
#define KEY_MAX 32
#define VAL_MAX 64

struct entry {
    char key[KEY_MAX];
    char val[VAL_MAX];
    int used;
};
struct kv {
    struct entry slot[SLOTS];
    size_t count;
};
struct put_req {
    char key[KEY_MAX];
    char val[VAL_MAX];
};

static struct entry *lookup(struct kv *kv, const char *key)
{
    size_t h = 5381;
    for (const char *p = key; *p; p++)
        h = h * 33 + (unsigned char)*p;
    for (size_t i = 0; i < SLOTS; i++) {
        struct entry *e = &kv->slot[(h + i) % SLOTS];
        if (!e->used || strcmp(e->key, key) == 0)
            return e;
    }
    return NULL; /* full */
}

static int kv_init(void *arg, void **state)
{
    (void)arg;
    *state = calloc(1, sizeof(struct kv));
    return *state == NULL;
}

static int kv_call(void *state, const swarm_msg_t *req, swarm_gs_from_t from, swarm_gs_result_t *r)
{
    struct kv *kv = state;
    (void)from;
    switch (swarm_msg_tag(req)) {
    case PUT: {
        const struct put_req *p = swarm_msg_data(req);
        struct entry *e = lookup(kv, p->key);
        if (e && !e->used) {
            e->used = 1;
            kv->count++;
        }
        if (e) {
            memcpy(e->key, p->key, KEY_MAX);
            memcpy(e->val, p->val, VAL_MAX);
        }
        r->reply = e ? "ok" : "full";
        r->reply_size = strlen(r->reply) + 1;
        return SWARM_GS_REPLY;
    }
    case GET: {
        struct entry *e = lookup(kv, swarm_msg_data(req));
        r->reply = e && e->used ? e->val : "";
        r->reply_size = strlen(r->reply) + 1;
        return SWARM_GS_REPLY;
    }
    case SLOW:
        swarm_sleep(300); /* longer than the client waits */
        r->reply = "too late";
        r->reply_size = 9;
        return SWARM_GS_REPLY;
    default:
        return SWARM_GS_REPLY;
    }
}

static void kv_terminate(void *state, swarm_reason_t why)
{
    printf("server: terminate (%s), %zu keys\n", swarm_atom_name(why.atom), ((struct kv *)state)->count);
    free(state);
}

static const swarm_gs_ops_t kv_ops = {.init = kv_init, .handle_call = kv_call, .terminate = kv_terminate};

static void put(swarm_pid_t srv, const char *key, const char *val)
{
    struct put_req p;
    memset(&p, 0, sizeof p);
    snprintf(p.key, sizeof p.key, "%s", key);
    snprintf(p.val, sizeof p.val, "%s", val);
    swarm_msg_t *m;
    if (swarm_gs_call(srv, PUT, &p, sizeof p, &m, 1000, NULL) == 0)
        swarm_msg_free(m);
}

static void client(void *arg)
{
    (void)arg;
    swarm_pid_t srv;
    swarm_gs_opts_t o;
    swarm_gs_opts_init(&o);
    swarm_atom("kv", &o.name);
    swarm_gs_start(&srv, &kv_ops, NULL, &o);
    put(srv, "erlang", "1986");
    put(srv, "go", "2009");
    put(swarm_whereis(NULL, o.name), "swarmrt", "2026"); /* by name */
    const char *keys[] = {"erlang", "go", "swarmrt", "c"};
    for (int i = 0; i < 4; i++) {
        swarm_msg_t *m;
        swarm_gs_call(srv, GET, keys[i], strlen(keys[i]) + 1, &m, 1000, NULL);
        printf("get %s -> \"%s\"\n", keys[i], (const char *)swarm_msg_data(m));
        swarm_msg_free(m);
    }
    swarm_msg_t *m;
    int rc = swarm_gs_call(srv, SLOW, NULL, 0, &m, 50, NULL);
    printf("slow call with a 50 ms timeout: %s\n", swarm_strerror(rc));
    /* The server finishes the slow call and replies; this call comes
     * after it, so the late reply has arrived by now, and was dropped. */
    swarm_gs_call(srv, GET, "go", 3, &m, 1000, NULL);
    swarm_msg_free(m);
    printf("mailbox after the late reply: %zu messages\n", swarm_mailbox_len());
    swarm_gs_stop(srv, swarm_reason(SWARM_ATOM_NORMAL), SWARM_INFINITE);
    swarm_atom_t why;
    rc = swarm_gs_call(srv, GET, "go", 3, &m, 5000, &why);
    printf("call after stop: %s (%s)\n", swarm_strerror(rc), swarm_atom_name(why));
}

int main(void)
{
    return swarm_run(NULL, client, NULL) == 0 ? 0 : 1;
}
