/*
 * reason/atom.c - the atom table (swarmrt/reason.h).
 *
 * Process-wide and append-only. Names are read without a lock: an atom's
 * entry sits in a chunk of CHUNK entries, and a chunk pointer is published
 * (release) only after its entries up to the new atom are written, the
 * count after that. Interning takes the lock and looks the name up in an
 * open-addressing hash of atom ids, grown at half load.
 */
#include "reason/reason.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/sys.h"

#define CHUNK_SHIFT 10
#define CHUNK (1u << CHUNK_SHIFT)
#define NCHUNKS (SWARM_ATOM_LIMIT / CHUNK)

typedef struct entry {
    const char *name; /* NUL-terminated copy, never freed */
    uint32_t len;
    uint32_t hash;
} entry_t;

static const char *const builtin[SWARM_ATOM_BUILTIN_COUNT] = {
    [SWARM_ATOM_NORMAL] = "normal",     [SWARM_ATOM_KILLED] = "killed",
    [SWARM_ATOM_STACK_OVERFLOW] = "stack_overflow", [SWARM_ATOM_CRASH] = "crash",
    [SWARM_ATOM_NOMEM] = "nomem",       [SWARM_ATOM_KILL] = "kill",
    [SWARM_ATOM_SHUTDOWN] = "shutdown", [SWARM_ATOM_NOPROC] = "noproc",
    [SWARM_ATOM_NOCONNECTION] = "noconnection", [SWARM_ATOM_TIMEOUT] = "timeout",
    [SWARM_ATOM_UNDEFINED] = "undefined", [SWARM_ATOM_EXIT] = "exit",
};

static struct {
    pthread_mutex_t lock;
    entry_t *_Atomic chunks[NCHUNKS];
    _Atomic uint32_t count;   /* atoms handed out: ids [0, count) */
    uint32_t *hash;           /* ids + 1, 0 = empty [lock] */
    uint32_t hash_cap;        /* a power of two [lock] */
} table = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static entry_t *entry_of(uint32_t id)
{
    entry_t *c = atomic_load_explicit(&table.chunks[id >> CHUNK_SHIFT], memory_order_acquire);
    return c ? &c[id & (CHUNK - 1)] : NULL;
}

/* [lock] Put id in the hash (no growth). */
static void hash_put(uint32_t id, uint32_t h)
{
    uint32_t mask = table.hash_cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        if (!table.hash[i]) {
            table.hash[i] = id + 1;
            return;
        }
    }
}

/* [lock] Make room for one more id. Returns 0 or SWARM_ENOMEM. */
static int hash_reserve(uint32_t count)
{
    if (table.hash && (count + 1) * 2 <= table.hash_cap)
        return 0;
    uint32_t cap = table.hash_cap ? table.hash_cap * 2 : 256;
    uint32_t *h = swarm__calloc(cap, sizeof *h);
    if (!h)
        return SWARM_ENOMEM;
    uint32_t *old = table.hash;
    table.hash = h;
    table.hash_cap = cap;
    for (uint32_t id = 0; id < count; id++)
        hash_put(id, entry_of(id)->hash);
    swarm__free(old);
    return 0;
}

/* [lock] Append an atom. Returns 0 or an error; *out the new id. */
static int append(const char *name, size_t len, uint32_t h, uint32_t *out)
{
    uint32_t id = atomic_load_explicit(&table.count, memory_order_relaxed);
    if (id >= SWARM_ATOM_LIMIT)
        return SWARM_EAGAIN;
    int rc = hash_reserve(id);
    if (rc)
        return rc;
    entry_t *c = atomic_load_explicit(&table.chunks[id >> CHUNK_SHIFT], memory_order_relaxed);
    if (!c) {
        c = swarm__calloc(CHUNK, sizeof *c);
        if (!c)
            return SWARM_ENOMEM;
        atomic_store_explicit(&table.chunks[id >> CHUNK_SHIFT], c, memory_order_release);
    }
    char *copy = swarm__malloc(len + 1);
    if (!copy)
        return SWARM_ENOMEM;
    memcpy(copy, name, len);
    copy[len] = '\0';
    entry_t *e = &c[id & (CHUNK - 1)];
    e->name = copy;
    e->len = (uint32_t)len;
    e->hash = h;
    hash_put(id, h);
    /* release: the entry is written before a reader can see the id. */
    atomic_store_explicit(&table.count, id + 1, memory_order_release);
    *out = id;
    return 0;
}

/* [lock] The built-in atoms take ids 0.. in order. */
static int ensure_builtins(void)
{
    for (uint32_t id = atomic_load_explicit(&table.count, memory_order_relaxed); id < SWARM_ATOM_BUILTIN_COUNT;
         id++) {
        uint32_t got;
        size_t n = strlen(builtin[id]);
        int rc = append(builtin[id], n, hash_name(builtin[id], n), &got);
        if (rc)
            return rc;
    }
    return 0;
}

int swarm_atom_n(const char *name, size_t len, swarm_atom_t *out)
{
    if (!name || !out || len > SWARM_ATOM_MAX_LEN || memchr(name, '\0', len))
        return SWARM_EINVAL;
    uint32_t h = hash_name(name, len);
    pthread_mutex_lock(&table.lock);
    int rc = ensure_builtins();
    if (rc == 0) {
        uint32_t mask = table.hash_cap - 1;
        for (uint32_t i = h & mask;; i = (i + 1) & mask) {
            uint32_t slot = table.hash[i];
            if (!slot) {
                rc = append(name, len, h, out);
                break;
            }
            entry_t *e = entry_of(slot - 1);
            if (e->hash == h && e->len == len && memcmp(e->name, name, len) == 0) {
                *out = slot - 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&table.lock);
    return rc;
}

int swarm_atom(const char *name, swarm_atom_t *out)
{
    if (!name)
        return SWARM_EINVAL;
    size_t n = strnlen(name, SWARM_ATOM_MAX_LEN + 1);
    return swarm_atom_n(name, n, out);
}

const char *swarm_atom_name(swarm_atom_t atom)
{
    if (atom < SWARM_ATOM_BUILTIN_COUNT)
        return builtin[atom];
    if (atom >= atomic_load_explicit(&table.count, memory_order_acquire))
        return NULL;
    return entry_of(atom)->name;
}

int swarm__atom_valid(swarm_atom_t atom)
{
    return atom < SWARM_ATOM_BUILTIN_COUNT || atom < atomic_load_explicit(&table.count, memory_order_acquire);
}
