/*
 * tests/stack_pages.h - white-box: how many pages of a process's usable
 * stack are resident (mincore), for the tests of compaction and
 * hibernation. Needs the runtime's internal headers.
 */
#ifndef SWARM_TESTS_STACK_PAGES_H
#define SWARM_TESTS_STACK_PAGES_H

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack/stack.h"
#include "state/state.h"
#include "test.h"

/* Resident pages of pid's usable stack. */
static inline unsigned test_stack_pages(swarm_t *sw, swarm_pid_t pid)
{
    const swarm__stack_t *st = &sw->ptable.procs[swarm__pid_index(pid)].stack;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)st->base & ~(uintptr_t)(page - 1);
    size_t n = ((uintptr_t)st->top - lo + page - 1) / page;
    unsigned char vec[256];
    CHECK_CMP(n, <=, sizeof vec);
    CHECK_OK(mincore((void *)lo, n * page, vec));
    unsigned r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

#endif
