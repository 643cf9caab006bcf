/*
 * swarmrt/version.h - version, export and portability macros.
 *
 * The public headers compile as C11 and later and as C++11 and later, with
 * -Wall -Wextra -pedantic -Werror (tests/header_test.sh checks every header
 * alone and swarmrt.h as C11, C17, C2x, C++11, C++17 and C++20).
 */
#ifndef SWARMRT_VERSION_H
#define SWARMRT_VERSION_H

#define SWARM_VERSION_MAJOR 0
#define SWARM_VERSION_MINOR 1
#define SWARM_VERSION_PATCH 0

#if defined(SWARM_BUILDING_LIBRARY) && defined(__GNUC__)
#define SWARM_API __attribute__((visibility("default")))
#else
#define SWARM_API
#endif

/* A function that never returns, spelled as each language wants it: C++'s
 * [[noreturn]] (C++ has no _Noreturn), C23's [[noreturn]] where the compiler
 * has it (C23 deprecates _Noreturn), else C11's _Noreturn. It goes first in
 * a declaration: SWARM_NORETURN SWARM_API void f(void). */
#if defined(__cplusplus)
#define SWARM_NORETURN [[noreturn]]
#else
#if defined(__has_c_attribute)
#if __has_c_attribute(noreturn)
#define SWARM_NORETURN [[noreturn]]
#endif
#endif
#ifndef SWARM_NORETURN
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SWARM_NORETURN _Noreturn
#elif defined(__GNUC__)
#define SWARM_NORETURN __attribute__((noreturn))
#else
#define SWARM_NORETURN
#endif
#endif
#endif

#endif
