/* Seeded bug: the sleeper reads park_word before it publishes io_sleeper,
 * so a waker in between sees no epoll sleeper, futex-wakes nobody, and
 * the sleeper blocks in epoll_wait for good. */
#define BUG_IO_CHECK_FIRST
#include "../io_sleeper.pml"
