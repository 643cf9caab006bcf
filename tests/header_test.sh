#!/usr/bin/env bash
# header_test.sh INCLUDE_DIR [CC] [CXX] [GENERATED_INCLUDE_DIR] - every public
# header (those in INCLUDE_DIR and the ones the build generates, such as
# swarmrt/version.h, in GENERATED_INCLUDE_DIR) compiles on its
# own, and swarmrt.h with all of them, as C11, C17 and C2x and as C++11,
# C++17 and C++20, with -Wall -Wextra -pedantic -Werror. Each translation
# unit also uses a declaration of its header, so a header that compiles
# only when something else was included first fails here.
set -euo pipefail
inc=$(cd "$1" && pwd)
cc=${2:-cc}
cxx=${3:-c++}
gen=${4:-}
if [ -n "$gen" ]; then gen=$(cd "$gen" && pwd); fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(-Wall -Wextra -pedantic -Werror -I"$inc" ${gen:+-I"$gen"} -c -o /dev/null)

# One use per header: what a user of that header alone would write.
use() {
    case "$1" in
    swarmrt.h) echo 'int f(void); int f(void) { swarm_msg_t *m; return swarm_recv(&m, SWARM_INFINITE) + (int)swarm_self() + swarm_stats((swarm_t *)0, (swarm_stats_t *)0) + (int)swarm_now_ms(); }' ;;
    swarmrt/version.h) echo 'SWARM_NORETURN void f(void); int g(void); int g(void) { return SWARM_VERSION_MAJOR; }' ;;
    swarmrt/error.h) echo 'const char *f(void); const char *f(void) { return swarm_strerror(SWARM_EINVAL); }' ;;
    swarmrt/runtime.h) echo 'int f(void); int f(void) { swarm_config_t c; swarm_config_init(&c); return swarm_create((swarm_t **)0, &c); }' ;;
    swarmrt/proc.h) echo 'void f(void); void f(void) { char b[SWARM_PID_STRLEN]; swarm_pid_format(swarm_self(), b, sizeof b); swarm_exit(SWARM_EXIT_NORMAL); }' ;;
    swarmrt/msg.h) echo 'int f(void); int f(void) { swarm_msg_t *m; return swarm_recv_tag(1, &m, 0) + swarm_send(SWARM_PID_NONE, 1, "", 0); }' ;;
    swarmrt/tls.h) echo 'int f(void); int f(void) { swarm_tls_ctx_t *c = 0; swarm_tls_t *t = 0; char b[4]; return swarm_tls_connect(c, 0, "localhost", SWARM_INFINITE, &t) + (int)swarm_tls_read(t, b, sizeof b, 0) + (int)swarm_tls_error(t, b, sizeof b) + swarm_tls_free(t); }' ;;
    swarmrt/io.h) echo 'int f(void); int f(void) { char b[4]; return (int)swarm_read(0, b, sizeof b, SWARM_INFINITE) + swarm_fd_wait(0, SWARM_IO_READ, 0) + swarm_close(-1); }' ;;
    swarmrt/timer.h) echo 'int f(void); int f(void) { swarm_ref_t r; int64_t left; return swarm_sleep(1) + swarm_send_after(1, SWARM_PID_NONE, 1, "", 0, &r) + swarm_cancel_timer(r, &left); }' ;;
    swarmrt/reason.h) echo 'int f(void); int f(void) { swarm_atom_t a; swarm_reason_t r = swarm_reason(SWARM_ATOM_SHUTDOWN); return swarm_atom("x", &a) + (int)r.atom + (swarm_atom_name(a) != 0); }' ;;
    swarmrt/ref.h) echo 'int f(void); int f(void) { swarm_ref_t r = swarm_make_ref(); return swarm_ref_eq(r, r) + swarm_ref_is_none(r); }' ;;
    swarmrt/signal.h) echo 'int f(void); int f(void) { swarm_ref_t r; swarm_msg_t *m = 0; return swarm_monitor(SWARM_PID_NONE, &r) + swarm_link(SWARM_PID_NONE) + swarm_msg_down(m, &r, 0, 0) + swarm_exit_pid(SWARM_PID_NONE, swarm_reason(SWARM_ATOM_KILL)); }' ;;
    swarmrt/name.h) echo 'int f(void); int f(void) { return swarm_register(SWARM_ATOM_SHUTDOWN, 1) + swarm_send_name((swarm_t *)0, SWARM_ATOM_SHUTDOWN, 1, "", 0) + (int)swarm_whereis((swarm_t *)0, 1); }' ;;
    swarmrt/gen_server.h) echo 'int f(void); int f(void) { swarm_gs_opts_t o; swarm_msg_t *m; swarm_gs_opts_init(&o); return swarm_gs_start((swarm_pid_t *)0, (const swarm_gs_ops_t *)0, (void *)0, &o) + swarm_gs_call(1, 1, "", 0, &m, 0, (swarm_atom_t *)0); }' ;;
    swarmrt/supervisor.h) echo 'int f(void); int f(void) { swarm_sup_flags_t fl; swarm_sup_counts_t c; swarm_sup_flags_init(&fl); return swarm_sup_start((swarm_pid_t *)0, &fl, (const swarm_child_spec_t *)0, 0, (const swarm_gs_opts_t *)0) + swarm_sup_count_children(1, &c); }' ;;
    swarmrt/task.h) echo 'int f(void); int f(void) { swarm_task_t t; swarm_msg_t *m; return swarm_task_spawn(&t, (swarm_fn)0, (void *)0) + swarm_task_await(&t, &m, 0, (swarm_atom_t *)0); }' ;;
    swarmrt/chan.h) echo 'int f(void); int f(void) { swarm_chan_t *c = 0; int v = 0; swarm_chan_case_t k = {c, SWARM_CHAN_RECV, &v, 0}; return swarm_chan_send(c, &v, 0) + swarm_chan_recv(c, &v, SWARM_INFINITE) + swarm_chan_select(&k, 1, SWARM_SELECT_MAILBOX, 0) + (int)swarm_chan_len(c); }' ;;
    swarmrt/sync.h) echo 'int f(void); int f(void) { swarm_mutex_t *m = 0; swarm_cond_t *c = 0; swarm_sem_t *s = 0; return swarm_mutex_lock(m, 10) + swarm_cond_wait(c, m, SWARM_INFINITE) + swarm_sem_post(s, 1) + (int)swarm_sem_value(s); }' ;;
    swarmrt/stats.h) echo 'int f(void); int f(void) { swarm_stats_t s; return swarm_stats((swarm_t *)0, &s); }' ;;
    *) echo "header_test.sh: no use written for $1" >&2; return 1 ;;
    esac
}

fail=0 n=0
headers=(swarmrt.h)
for h in "$inc"/swarmrt/*.h ${gen:+"$gen"/swarmrt/*.h}; do headers+=("swarmrt/$(basename "$h")"); done
for h in "${headers[@]}"; do
    tu="$tmp/$(echo "$h" | tr '/.' '__')"
    { echo "#include <$h>"; use "$h"; } >"$tu.c"
    cp "$tu.c" "$tu.cpp"
    for std in c11 c17 c2x; do
        n=$((n + 1))
        if ! "$cc" -std=$std "${flags[@]}" "$tu.c" 2>"$tmp/err"; then
            echo "FAILED: $h as $std:"; cat "$tmp/err"; fail=1
        fi
    done
    for std in c++11 c++17 c++20; do
        n=$((n + 1))
        if ! "$cxx" -std=$std "${flags[@]}" "$tu.cpp" 2>"$tmp/err"; then
            echo "FAILED: $h as $std:"; cat "$tmp/err"; fail=1
        fi
    done
done
[ $fail = 0 ] || exit 1
echo "headers: ${#headers[@]} headers x 6 standards ($n compiles) clean"
