/* Seeded bug: the waker reads io_sleeper before it moves park_word to
 * TOKEN: a sleeper that publishes itself in between and then reads the
 * old word blocks in epoll_wait, and the waker futex-wakes nobody. */
#define BUG_IO_WAKER_LOOKS_FIRST
#include "../io_sleeper.pml"
