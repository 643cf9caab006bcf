/*
 * io/blocking.c - the blocking-call pool (swarm_blocking, swarm_resolve).
 *
 * A call that would stall a scheduler runs on a pool thread while its
 * caller parks in an fd-less wait (msg/: swarm__msg_recv_io with the
 * call's token); the thread posts the IO notice when the call returns.
 * The pool is made at the first call, starts a thread when a call finds
 * none idle (up to SWARM_BLOCKING_THREADS), queues calls beyond that (up
 * to SWARM_BLOCKING_QUEUE waiting), and is joined at destroy.
 *
 * A job's life, under the pool lock: QUEUED -> RUNNING -> DONE (the caller
 * takes the result and frees it). A caller that ends while waiting (its
 * wait's resource node) frees a DONE job, and marks a QUEUED or RUNNING one
 * ABANDONED: a queued one is then never run, a running one is freed by its
 * thread when the call returns.
 */
#include "io/io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "base/sys.h"
#include "msg/msg.h"
#include "sched/sched.h"
#include "swarmrt/error.h"

enum { QUEUED, RUNNING, DONE, ABANDONED };

_Atomic unsigned swarm__blocking_queue_max = SWARM_BLOCKING_QUEUE;

typedef struct job {
    struct job *next;
    void *(*fn)(void *);
    void *arg;
    void *result;
    swarm_pid_t pid;
    uint32_t token;
    int state;
    int own_arg;      /* arg is heap memory the job frees if abandoned */
    swarm__res_t res; /* on the caller's resource list while it waits */
    swarm_t *sw;
} job_t;

typedef struct swarm__bpool {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job_t *head, *tail;
    unsigned queued, idle, nthreads;
    int shutdown;
    swarm__thread_t threads[SWARM_BLOCKING_THREADS];
} bpool_t;

static void *worker(void *arg)
{
    bpool_t *bp = arg;
    pthread_mutex_lock(&bp->lock);
    for (;;) {
        while (!bp->head && !bp->shutdown)
            pthread_cond_wait(&bp->cond, &bp->lock);
        if (!bp->head)
            break; /* shut down, nothing left */
        job_t *j = bp->head;
        bp->head = j->next;
        if (!bp->head)
            bp->tail = NULL;
        bp->queued--;
        if (j->state == ABANDONED) {
            if (j->own_arg)
                swarm__free(j->arg);
            swarm__free(j);
            continue;
        }
        j->state = RUNNING;
        bp->idle--;
        pthread_mutex_unlock(&bp->lock);
        void *res = j->fn(j->arg);
        pthread_mutex_lock(&bp->lock);
        bp->idle++;
        if (j->state == ABANDONED) {
            if (j->own_arg)
                swarm__free(j->arg);
            swarm__free(j);
        } else {
            j->result = res;
            j->state = DONE;
            /* Posted under the lock: the caller cannot free j before. */
            swarm__msg_post_io(j->pid, j->token, SWARM_IO_READ);
        }
    }
    pthread_mutex_unlock(&bp->lock);
    return NULL;
}

static bpool_t *pool_get(swarm_t *sw)
{
    bpool_t *bp = atomic_load_explicit((_Atomic(bpool_t *) *)&sw->bpool, memory_order_acquire);
    if (bp)
        return bp;
    bp = swarm__calloc(1, sizeof *bp);
    if (!bp)
        return NULL;
    pthread_mutex_init(&bp->lock, NULL);
    pthread_cond_init(&bp->cond, NULL);
    bpool_t *expect = NULL;
    if (!atomic_compare_exchange_strong((_Atomic(bpool_t *) *)&sw->bpool, &expect, bp)) {
        pthread_mutex_destroy(&bp->lock);
        pthread_cond_destroy(&bp->cond);
        swarm__free(bp);
        return expect;
    }
    return bp;
}

/* The caller ended while waiting. */
static void job_release(swarm__res_t *r, swarm__proc_t *p, swarm__sched_t *s)
{
    (void)p;
    (void)s;
    job_t *j = SWARM_CONTAINER_OF(r, job_t, res);
    swarm_t *sw = j->sw;
    bpool_t *bp = sw->bpool;
    pthread_mutex_lock(&bp->lock);
    int done = j->state == DONE;
    if (!done)
        j->state = ABANDONED;
    pthread_mutex_unlock(&bp->lock);
    if (done)
        swarm__free(j);
    atomic_fetch_sub(&sw->io_waiters, 1);
}

/* swarm_blocking; with own_arg, arg is heap memory that an abandoned job
 * frees (the caller frees it otherwise). */
static int blocking(void *(*fn)(void *arg), void *arg, void **result, int own_arg)
{
    swarm__sched_t *s = swarm__sched_self();
    if (!s || !s->current)
        return SWARM_ENOTPROC;
    if (!fn)
        return SWARM_EINVAL;
    swarm_t *sw = s->swarm;
    bpool_t *bp = pool_get(sw);
    job_t *j = bp ? swarm__calloc(1, sizeof *j) : NULL;
    if (!j)
        return SWARM_ENOMEM;
    j->fn = fn;
    j->arg = arg;
    j->pid = swarm__ptable_pid(s->current);
    j->token = swarm__msg_next_corr();
    j->state = QUEUED;
    j->own_arg = own_arg;
    j->sw = sw;
    j->res.release = job_release;

    pthread_mutex_lock(&bp->lock);
    if (bp->queued >= atomic_load_explicit(&swarm__blocking_queue_max, memory_order_relaxed)) {
        pthread_mutex_unlock(&bp->lock);
        swarm__free(j);
        return SWARM_EAGAIN;
    }
    if (bp->idle <= bp->queued && bp->nthreads < SWARM_BLOCKING_THREADS &&
        swarm__thread_start(&bp->threads[bp->nthreads], 256 * 1024, worker, bp) == 0) {
        bp->nthreads++;
        bp->idle++;
    }
    if (!bp->nthreads) { /* not even one thread */
        pthread_mutex_unlock(&bp->lock);
        swarm__free(j);
        return SWARM_ENOMEM;
    }
    if (bp->tail)
        bp->tail->next = j;
    else
        bp->head = j;
    bp->tail = j;
    bp->queued++;
    pthread_cond_signal(&bp->cond);
    pthread_mutex_unlock(&bp->lock);

    swarm__proc_t *p = s->current;
    atomic_fetch_add(&sw->io_waiters, 1);
    swarm__res_add(&p->res, &j->res);
    uint32_t ev;
    int r;
    do /* (a kill ends the process inside this wait: job_release) */
        r = swarm__msg_recv_io(j->token, 0, &ev, NULL, SWARM_INFINITE, 0);
    while (r != 1);
    p = swarm__sched_current();
    swarm__res_remove(&p->res, &j->res);
    atomic_fetch_sub(&sw->io_waiters, 1);
    pthread_mutex_lock(&bp->lock); /* the worker posted under it */
    pthread_mutex_unlock(&bp->lock);
    if (result)
        *result = j->result;
    swarm__free(j);
    return 0;
}

int swarm_blocking(void *(*fn)(void *arg), void *arg, void **result)
{
    return blocking(fn, arg, result, 0);
}

void swarm__io_blocking_destroy(swarm_t *sw)
{
    bpool_t *bp = sw->bpool;
    if (!bp)
        return;
    pthread_mutex_lock(&bp->lock);
    bp->shutdown = 1;
    pthread_cond_broadcast(&bp->cond);
    pthread_mutex_unlock(&bp->lock);
    for (unsigned i = 0; i < bp->nthreads; i++)
        swarm__thread_join(&bp->threads[i]);
    pthread_mutex_destroy(&bp->lock);
    pthread_cond_destroy(&bp->cond);
    swarm__free(bp);
    sw->bpool = NULL;
}

/* swarm_resolve's query: heap memory (the caller may be killed while
 * the resolver runs), the host copied behind it. */
typedef struct resolve {
    uint16_t port;
    int rc;
    struct sockaddr_storage addr;
    socklen_t len;
    char host[];
} resolve_t;

static void *do_resolve(void *arg)
{
    resolve_t *q = arg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int r = getaddrinfo(q->host, NULL, &hints, &res);
    if (r != 0 || !res) {
        q->rc = r == EAI_MEMORY ? SWARM_ENOMEM : r == EAI_AGAIN ? SWARM_EAGAIN : SWARM_ENOENT;
        return NULL;
    }
    memcpy(&q->addr, res->ai_addr, res->ai_addrlen);
    q->len = res->ai_addrlen;
    if (res->ai_family == AF_INET)
        ((struct sockaddr_in *)&q->addr)->sin_port = htons(q->port);
    else if (res->ai_family == AF_INET6)
        ((struct sockaddr_in6 *)&q->addr)->sin6_port = htons(q->port);
    freeaddrinfo(res);
    q->rc = 0;
    return NULL;
}

int swarm_resolve(const char *host, uint16_t port, struct sockaddr_storage *addr, socklen_t *len)
{
    if (!swarm__sched_current())
        return SWARM_ENOTPROC;
    if (!host || !*host || !addr || !len)
        return SWARM_EINVAL;
    size_t n = strlen(host) + 1;
    resolve_t *q = swarm__malloc(sizeof *q + n);
    if (!q)
        return SWARM_ENOMEM;
    memcpy(q->host, host, n);
    q->port = port;
    q->rc = SWARM_ENOENT;
    int r = blocking(do_resolve, q, NULL, 1);
    if (r == 0 && (r = q->rc) == 0) {
        memcpy(addr, &q->addr, q->len);
        *len = q->len;
    }
    swarm__free(q);
    return r;
}
