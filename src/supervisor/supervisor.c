/*
 * supervisor/supervisor.c - swarmrt/supervisor.h as gen_server callbacks:
 * init traps exits and starts the children, handle_info takes their EXIT
 * messages and restarts by the strategy, handle_call answers the
 * queries, terminate stops the children in reverse order.
 */
#include <stdlib.h>
#include <string.h>

#include "reason/reason.h"
#include "swarmrt.h"
#include "swarmrt/supervisor.h"

#define DEFAULT_SHUTDOWN_MS 5000
#define DEFAULT_PERIOD_S 5

enum { REQ_WHICH = 1, REQ_COUNT = 2, REQ_START_CHILD = 3, REQ_TERMINATE_CHILD = 4, REQ_START_SIMPLE = 5,
       REQ_TERMINATE_PID = 6 };

typedef struct child {
    swarm_child_spec_t spec;
    swarm_pid_t pid; /* SWARM_PID_NONE: not running */
} child_t;

typedef struct sup {
    swarm_sup_flags_t flags;
    child_t *kids; /* in start order */
    size_t n, cap;
    int64_t *restarts; /* the last intensity + 1 restart times, a ring */
    size_t nrestarts;
    swarm_pid_t parent;
    swarm_child_spec_t tmpl; /* simple_one_for_one: the template */
    /* Replies of handle_call, copied after it returns. */
    union {
        int rc;
        swarm_sup_counts_t counts;
        struct {
            int rc;
            swarm_pid_t pid;
        } started;
    } out;
    swarm_sup_child_t *list;
} sup_t;

/* What swarm_sup_start hands the supervisor's init (on the caller's
 * stack: the caller waits until init returned). */
typedef struct start_arg {
    const swarm_sup_flags_t *flags;
    const swarm_child_spec_t *specs;
    size_t n;
    swarm_pid_t parent;
} start_arg_t;

void swarm_sup_flags_init(swarm_sup_flags_t *flags)
{
    flags->strategy = SWARM_ONE_FOR_ONE;
    flags->intensity = 1;
    flags->period_s = DEFAULT_PERIOD_S;
}

static int spec_valid(const swarm_child_spec_t *c)
{
    return !!c->fn != !!c->start && swarm__atom_valid(c->id) && c->restart >= SWARM_PERMANENT &&
           c->restart <= SWARM_TEMPORARY &&
           (c->shutdown > 0 || c->shutdown == SWARM_INFINITE || c->shutdown == SWARM_SHUTDOWN_BRUTAL_KILL ||
            c->shutdown == SWARM_SHUTDOWN_DEFAULT);
}

static child_t *find_id(sup_t *s, swarm_atom_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->kids[i].spec.id == id)
            return &s->kids[i];
    return NULL;
}

static child_t *find_pid(sup_t *s, swarm_pid_t pid)
{
    for (size_t i = 0; i < s->n && pid != SWARM_PID_NONE; i++)
        if (s->kids[i].pid == pid)
            return &s->kids[i];
    return NULL;
}

static int start_one(child_t *c)
{
    swarm_pid_t pid = SWARM_PID_NONE;
    int rc = c->spec.start ? c->spec.start(c->spec.arg, &pid) : swarm_spawn_link(&pid, c->spec.fn, c->spec.arg, NULL);
    c->pid = rc == 0 ? pid : SWARM_PID_NONE;
    return rc;
}

static int is_down_of(const swarm_msg_t *m, void *ctx)
{
    swarm_ref_t r;
    return swarm_msg_down(m, &r, NULL, NULL) && swarm_ref_eq(r, *(const swarm_ref_t *)ctx);
}

static int is_exit_from(const swarm_msg_t *m, void *ctx)
{
    swarm_pid_t from;
    return swarm_msg_exit(m, &from, NULL) && from == *(const swarm_pid_t *)ctx;
}

/* Stop one child by its shutdown rule and wait until it is gone. */
static void stop_one(child_t *c)
{
    swarm_pid_t pid = c->pid;
    if (pid == SWARM_PID_NONE)
        return;
    c->pid = SWARM_PID_NONE;
    swarm_ref_t mon;
    if (swarm_monitor(pid, &mon) != 0)
        return; /* (no memory: it is linked still; its EXIT will be ignored) */
    swarm_unlink(pid);
    int64_t grace = c->spec.shutdown;
    if (grace == SWARM_SHUTDOWN_DEFAULT)
        grace = c->spec.supervisor ? SWARM_INFINITE : DEFAULT_SHUTDOWN_MS;
    swarm_msg_t *m;
    int gone = 0;
    if (grace != SWARM_SHUTDOWN_BRUTAL_KILL) {
        swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_SHUTDOWN));
        gone = swarm_recv_match(is_down_of, &mon, &m, grace) == 0;
    }
    if (!gone) {
        swarm_exit_pid(pid, swarm_reason(SWARM_ATOM_KILL));
        gone = swarm_recv_match(is_down_of, &mon, &m, SWARM_INFINITE) == 0;
    }
    if (gone)
        swarm_msg_free(m);
    /* An EXIT it sent before the unlink is of no interest now. */
    while (swarm_recv_match(is_exit_from, &pid, &m, 0) == 0)
        swarm_msg_free(m);
}

/* Stop kids [from, n) in reverse order, skipping `except`. */
static void stop_range(sup_t *s, size_t from, const child_t *except)
{
    for (size_t i = s->n; i-- > from;)
        if (&s->kids[i] != except)
            stop_one(&s->kids[i]);
}

/* Drop temporary children that are not running (OTP deletes their spec). */
static void drop_dead_temporaries(sup_t *s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!(s->kids[i].spec.restart == SWARM_TEMPORARY && s->kids[i].pid == SWARM_PID_NONE))
            s->kids[j++] = s->kids[i];
    s->n = j;
}

/* One more restart now: 1 if that is within the intensity. */
static int restart_allowed(sup_t *s)
{
    int64_t now = swarm_now_ms();
    size_t ring = (size_t)s->flags.intensity + 1;
    s->restarts[s->nrestarts++ % ring] = now;
    size_t recent = 0, have = s->nrestarts < ring ? s->nrestarts : ring;
    for (size_t i = 0; i < have; i++)
        recent += now - s->restarts[i] <= (int64_t)s->flags.period_s * 1000;
    return recent <= s->flags.intensity;
}

/* Start kids [from, n) that are not running, in order; a start that fails
 * counts as a crash of that child. Returns 0, or -1 when the intensity is
 * exceeded. */
static int start_range(sup_t *s, size_t from)
{
    for (size_t i = from; i < s->n; i++) {
        while (s->kids[i].pid == SWARM_PID_NONE && start_one(&s->kids[i]) != 0)
            if (!restart_allowed(s))
                return -1;
    }
    return 0;
}

static int should_restart(const child_t *c, swarm_atom_t why)
{
    switch (c->spec.restart) {
    case SWARM_PERMANENT: return 1;
    case SWARM_TRANSIENT: return why != SWARM_ATOM_NORMAL && why != SWARM_ATOM_SHUTDOWN;
    default: return 0;
    }
}

static int sup_init(void *arg, void **state)
{
    const start_arg_t *a = arg;
    sup_t *s = calloc(1, sizeof *s);
    if (!s)
        return 1;
    s->flags = *a->flags;
    s->parent = a->parent;
    s->cap = a->n ? a->n : 4;
    s->kids = calloc(s->cap, sizeof *s->kids);
    s->restarts = calloc((size_t)s->flags.intensity + 1, sizeof *s->restarts);
    if (!s->kids || !s->restarts)
        goto fail;
    swarm_trap_exit(1, NULL);
    if (s->flags.strategy == SWARM_SIMPLE_ONE_FOR_ONE) {
        s->tmpl = a->specs[0]; /* children come later, one start at a time */
        *state = s;
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        s->kids[s->n] = (child_t){a->specs[i], SWARM_PID_NONE};
        s->n++;
        if (start_one(&s->kids[s->n - 1]) != 0) {
            s->n--;
            stop_range(s, 0, NULL);
            goto fail;
        }
    }
    *state = s;
    return 0;
fail:
    free(s->kids);
    free(s->restarts);
    free(s);
    return 1;
}

static int sup_info(void *state, const swarm_msg_t *msg, swarm_gs_result_t *r)
{
    sup_t *s = state;
    swarm_pid_t from;
    swarm_reason_t why;
    if (!swarm_msg_exit(msg, &from, &why))
        return SWARM_GS_CONTINUE;
    if (from == s->parent && from != SWARM_PID_NONE) {
        r->stop = why; /* (copied by the server loop before the message goes) */
        r->stop.size = 0;
        r->stop.data = NULL;
        return SWARM_GS_STOP;
    }
    child_t *c = find_pid(s, from);
    if (!c)
        return SWARM_GS_CONTINUE; /* not ours (or stopped on purpose) */
    c->pid = SWARM_PID_NONE;
    if (!should_restart(c, why.atom)) {
        drop_dead_temporaries(s);
        return SWARM_GS_CONTINUE;
    }
    if (!restart_allowed(s))
        goto give_up;
    size_t at = (size_t)(c - s->kids);
    if (s->flags.strategy == SWARM_ONE_FOR_ALL) {
        stop_range(s, 0, c);
        at = 0;
    } else if (s->flags.strategy == SWARM_REST_FOR_ONE) {
        stop_range(s, at + 1, NULL);
    } else {
        if (start_range(s, at) != 0) /* (only c is down) */
            goto give_up;
        return SWARM_GS_CONTINUE;
    }
    drop_dead_temporaries(s); /* stopped temporaries are not restarted */
    if (start_range(s, at < s->n ? at : s->n) != 0)
        goto give_up;
    return SWARM_GS_CONTINUE;
give_up:
    r->stop = swarm_reason(SWARM_ATOM_SHUTDOWN);
    return SWARM_GS_STOP;
}

/* Add spec as a new last child and start it: 0, SWARM_ECANCELED, or
 * SWARM_EINVAL / SWARM_ENOMEM (no room); *pid its pid. */
static int add_child(sup_t *s, const swarm_child_spec_t *spec, swarm_pid_t *pid)
{
    if (s->n >= SWARM_SUP_MAX_CHILDREN)
        return SWARM_EINVAL;
    if (s->n == s->cap) {
        child_t *k = realloc(s->kids, s->cap * 2 * sizeof *k);
        if (!k)
            return SWARM_ENOMEM;
        s->kids = k;
        s->cap *= 2;
    }
    s->kids[s->n] = (child_t){*spec, SWARM_PID_NONE};
    if (start_one(&s->kids[s->n]) != 0)
        return SWARM_ECANCELED;
    *pid = s->kids[s->n++].pid;
    return 0;
}

/* Stop child c and drop it. */
static void remove_child(sup_t *s, child_t *c)
{
    stop_one(c);
    size_t at = (size_t)(c - s->kids);
    memmove(&s->kids[at], &s->kids[at + 1], (s->n - at - 1) * sizeof *c);
    s->n--;
}

static int sup_call(void *state, const swarm_msg_t *req, swarm_gs_from_t from, swarm_gs_result_t *r)
{
    sup_t *s = state;
    (void)from;
    switch (swarm_msg_tag(req)) {
    case REQ_WHICH: {
        /* Newest first (the reply is copied after return). */
        free(s->list);
        s->list = malloc((s->n ? s->n : 1) * sizeof *s->list);
        if (!s->list) {
            r->reply_size = 0;
            return SWARM_GS_REPLY;
        }
        for (size_t i = 0; i < s->n; i++) {
            const child_t *c = &s->kids[s->n - 1 - i];
            s->list[i] = (swarm_sup_child_t){c->spec.id, c->pid, c->spec.supervisor};
        }
        r->reply = s->list;
        r->reply_size = s->n * sizeof *s->list;
        return SWARM_GS_REPLY;
    }
    case REQ_COUNT:
        memset(&s->out.counts, 0, sizeof s->out.counts);
        for (size_t i = 0; i < s->n; i++) {
            s->out.counts.specs++;
            s->out.counts.active += s->kids[i].pid != SWARM_PID_NONE;
            s->out.counts.supervisors += s->kids[i].spec.supervisor != 0;
            s->out.counts.workers += s->kids[i].spec.supervisor == 0;
        }
        r->reply = &s->out.counts;
        r->reply_size = sizeof s->out.counts;
        return SWARM_GS_REPLY;
    case REQ_START_CHILD:
    case REQ_START_SIMPLE: {
        int simple = s->flags.strategy == SWARM_SIMPLE_ONE_FOR_ONE;
        swarm_child_spec_t spec;
        if (swarm_msg_tag(req) == REQ_START_CHILD) {
            memcpy(&spec, swarm_msg_data(req), sizeof spec);
        } else {
            spec = s->tmpl;
            memcpy(&spec.arg, swarm_msg_data(req), sizeof spec.arg);
        }
        s->out.started.pid = SWARM_PID_NONE;
        if (simple != (swarm_msg_tag(req) == REQ_START_SIMPLE))
            s->out.started.rc = SWARM_EINVAL; /* the wrong call for this supervisor */
        else if (!simple && find_id(s, spec.id))
            s->out.started.rc = SWARM_EEXIST;
        else
            s->out.started.rc = add_child(s, &spec, &s->out.started.pid);
        r->reply = &s->out.started;
        r->reply_size = sizeof s->out.started;
        return SWARM_GS_REPLY;
    }
    case REQ_TERMINATE_CHILD:
    case REQ_TERMINATE_PID: {
        child_t *c;
        if (swarm_msg_tag(req) == REQ_TERMINATE_CHILD) {
            swarm_atom_t id;
            memcpy(&id, swarm_msg_data(req), sizeof id);
            c = s->flags.strategy == SWARM_SIMPLE_ONE_FOR_ONE ? NULL : find_id(s, id);
        } else {
            swarm_pid_t pid;
            memcpy(&pid, swarm_msg_data(req), sizeof pid);
            c = find_pid(s, pid);
        }
        s->out.rc = c ? 0 : SWARM_ENOENT;
        if (c)
            remove_child(s, c);
        r->reply = &s->out.rc;
        r->reply_size = sizeof s->out.rc;
        return SWARM_GS_REPLY;
    }
    default:
        return SWARM_GS_REPLY;
    }
}

static void sup_terminate(void *state, swarm_reason_t why)
{
    sup_t *s = state;
    (void)why;
    stop_range(s, 0, NULL);
    free(s->kids);
    free(s->restarts);
    free(s->list);
    free(s);
}

static const swarm_gs_ops_t sup_ops = {sup_init, sup_call, NULL, sup_info, sup_terminate};

int swarm_sup_start(swarm_pid_t *out, const swarm_sup_flags_t *flags, const swarm_child_spec_t *children, size_t n,
                    const swarm_gs_opts_t *opts)
{
    swarm_sup_flags_t f;
    if (!flags) {
        swarm_sup_flags_init(&f);
        flags = &f;
    }
    if ((n && !children) || n > SWARM_SUP_MAX_CHILDREN || flags->strategy < SWARM_ONE_FOR_ONE ||
        flags->strategy > SWARM_SIMPLE_ONE_FOR_ONE || (flags->strategy == SWARM_SIMPLE_ONE_FOR_ONE && n != 1))
        return SWARM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!spec_valid(&children[i]))
            return SWARM_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (children[j].id == children[i].id)
                return SWARM_EINVAL;
    }
    swarm_sup_flags_t fl = *flags;
    if (!fl.period_s)
        fl.period_s = DEFAULT_PERIOD_S;
    start_arg_t a = {&fl, children, n, opts && opts->link ? swarm_self() : SWARM_PID_NONE};
    return swarm_gs_start(out, &sup_ops, &a, opts);
}

/* A call into the supervisor; *m gets the reply. */
static int sup_call_into(swarm_pid_t sup, uint32_t req, const void *data, size_t size, swarm_msg_t **m)
{
    return swarm_gs_call(sup, req, data, size, m, SWARM_INFINITE, NULL);
}

/* A start request; the reply is {rc, pid}. */
static int start_call(swarm_pid_t sup, uint32_t req, const void *data, size_t size, swarm_pid_t *out)
{
    swarm_msg_t *m;
    int rc = sup_call_into(sup, req, data, size, &m);
    if (rc != 0)
        return rc;
    struct {
        int rc;
        swarm_pid_t pid;
    } started;
    memcpy(&started, swarm_msg_data(m), sizeof started);
    swarm_msg_free(m);
    if (started.rc == 0 && out)
        *out = started.pid;
    return started.rc;
}

int swarm_sup_start_child(swarm_pid_t sup, const swarm_child_spec_t *spec, swarm_pid_t *out)
{
    if (!spec || !spec_valid(spec))
        return SWARM_EINVAL;
    return start_call(sup, REQ_START_CHILD, spec, sizeof *spec, out);
}

int swarm_sup_start_simple(swarm_pid_t sup, void *arg, swarm_pid_t *out)
{
    return start_call(sup, REQ_START_SIMPLE, &arg, sizeof arg, out);
}

/* A terminate request; the reply is the rc. */
static int terminate_call(swarm_pid_t sup, uint32_t req, const void *data, size_t size)
{
    swarm_msg_t *m;
    int rc = sup_call_into(sup, req, data, size, &m);
    if (rc != 0)
        return rc;
    memcpy(&rc, swarm_msg_data(m), sizeof rc);
    swarm_msg_free(m);
    return rc;
}

int swarm_sup_terminate_pid(swarm_pid_t sup, swarm_pid_t pid)
{
    return terminate_call(sup, REQ_TERMINATE_PID, &pid, sizeof pid);
}

int swarm_sup_terminate_child(swarm_pid_t sup, swarm_atom_t id)
{
    return terminate_call(sup, REQ_TERMINATE_CHILD, &id, sizeof id);
}

int swarm_sup_which_children(swarm_pid_t sup, swarm_sup_child_t *out, size_t cap, size_t *n)
{
    if ((cap && !out) || !n)
        return SWARM_EINVAL;
    swarm_msg_t *m;
    int rc = sup_call_into(sup, REQ_WHICH, NULL, 0, &m);
    if (rc != 0)
        return rc;
    *n = swarm_msg_size(m) / sizeof *out;
    memcpy(out, swarm_msg_data(m), (*n < cap ? *n : cap) * sizeof *out);
    swarm_msg_free(m);
    return 0;
}

int swarm_sup_count_children(swarm_pid_t sup, swarm_sup_counts_t *out)
{
    if (!out)
        return SWARM_EINVAL;
    swarm_msg_t *m;
    int rc = sup_call_into(sup, REQ_COUNT, NULL, 0, &m);
    if (rc != 0)
        return rc;
    memcpy(out, swarm_msg_data(m), sizeof *out);
    swarm_msg_free(m);
    return 0;
}
