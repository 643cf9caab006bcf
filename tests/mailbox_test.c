/*
 * mailbox_test.c - the MPSC queue with its EMPTY mark, alone.
 */
#include <pthread.h>

#include "mbox/mailbox.h"
#include "test.h"

typedef struct node {
    swarm__mnode_t link;
    int producer;
    long seq;
} node_t;

TEST(single_thread)
{
    swarm__mailbox_t mb;
    node_t n[3];
    swarm__mbox_init(&mb);
    CHECK(swarm__mbox_pop(&mb) == NULL);
    for (int i = 0; i < 3; i++) {
        n[i].seq = i;
        CHECK_EQ(swarm__mbox_push(&mb, &n[i].link), 0);
    }
    for (int i = 0; i < 3; i++) {
        node_t *got = (node_t *)swarm__mbox_pop(&mb);
        CHECK(got == &n[i]);
    }
    CHECK(swarm__mbox_pop(&mb) == NULL);
}

TEST(mark_empty)
{
    swarm__mailbox_t mb;
    node_t a, b;
    swarm__mbox_init(&mb);
    CHECK_EQ(swarm__mbox_mark_empty(&mb), 1);
    CHECK_EQ(swarm__mbox_mark_empty(&mb), 1); /* idempotent */
    /* The first push after the mark reports it, the second does not. */
    CHECK_EQ(swarm__mbox_push(&mb, &a.link), 1);
    CHECK_EQ(swarm__mbox_push(&mb, &b.link), 0);
    CHECK_EQ(swarm__mbox_mark_empty(&mb), 0); /* not empty */
    CHECK((node_t *)swarm__mbox_pop(&mb) == &a);
    CHECK_EQ(swarm__mbox_mark_empty(&mb), 0);
    CHECK((node_t *)swarm__mbox_pop(&mb) == &b);
    CHECK(swarm__mbox_pop(&mb) == NULL);
    CHECK_EQ(swarm__mbox_mark_empty(&mb), 1);
}

#define PRODUCERS 4
static swarm__mailbox_t shared_mb;
static long per_producer;

static void *producer(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (long i = 0; i < per_producer; i++) {
        node_t *n = malloc(sizeof *n);
        n->producer = id;
        n->seq = i;
        swarm__mbox_push(&shared_mb, &n->link);
    }
    return NULL;
}

TEST(threads_fifo)
{
    per_producer = test_scale(500000);
    swarm__mbox_init(&shared_mb);
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i);
    long next[PRODUCERS] = {0};
    long got = 0, total = per_producer * PRODUCERS;
    while (got < total) {
        node_t *n = (node_t *)swarm__mbox_pop(&shared_mb);
        if (!n)
            continue;
        CHECK_EQ(n->seq, next[n->producer]); /* per-producer order, no loss, no dup */
        next[n->producer]++;
        got++;
        free(n);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    CHECK(swarm__mbox_pop(&shared_mb) == NULL);
    for (int i = 0; i < PRODUCERS; i++)
        CHECK_EQ(next[i], per_producer);
}

TEST_MAIN(TEST_ENTRY(single_thread), TEST_ENTRY(mark_empty), TEST_ENTRY(threads_fifo))
