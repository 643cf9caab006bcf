/*
 * io/io.h - the I/O layer's own calls: the fd table and fd waits (fd.c),
 * the netpoller (poller.c), sockets (sock.c), the blocking-call pool
 * (blocking.c). docs/design/io.md tells the whole story.
 *
 * An fd the runtime knows has an entry in the swarm's fd table, indexed by
 * the fd's number. The entry holds who waits on it (one reader, one
 * writer), the readiness the poller saw while nobody waited (edge-
 * triggered epoll reports an edge once), a generation bumped at every
 * registration and close (an epoll event carries it, so an event for an
 * fd number's previous life wakes nobody), and, for an fd a process owns,
 * the node on the owner's resource list (ptable/res.h).
 *
 * A waiter parks in an fd wait (msg/: swarm__msg_recv_io); the poller,
 * or swarm_close, clears it from the entry and posts it an IO notice. All
 * wake-ups of a parked process go through its mailbox, so a kill, a
 * message or a timer racing the readiness needs no extra protocol.
 */
#ifndef SWARM_IO_IO_H
#define SWARM_IO_IO_H

#include <stdint.h>
#include <sys/types.h>

#include "state/state.h"
#include "swarmrt/io.h"

/* The IO notice's events: SWARM_IO_READ, SWARM_IO_WRITE, or this. */
#define SWARM__IO_CLOSED 0x100u

/* Swarm lifecycle (runtime/swarm.c): the epoll instance, its eventfd and
 * the fd table. init returns 0 or a negative errno with nothing left
 * open; destroy closes what the swarm still owns (the fds of processes
 * ended by destroy were closed by their resource lists). */
int swarm__io_init(swarm_t *sw);
void swarm__io_destroy(swarm_t *sw);

/* fd.c. Wait until fd is ready for events (process side; see
 * swarm_fd_wait). With out, a message ends the wait too (returns 0 with
 * *out). check: confirm a remembered readiness with poll(2) before
 * returning it (the public wait; the I/O calls retry their syscall
 * instead). Returns the events, or a SWARM_E* code. */
int swarm__io_wait(int fd, unsigned events, swarm_msg_t **out, int64_t deadline_ms, int check);

/* Does some process wait on fd for one of events? (tests: a waiter is
 * known to be parked without sleeping.) Process side. */
int swarm__io_has_waiter(int fd, unsigned events);

/* The deadline (absolute, the swarm's clock) of a timeout, or SWARM__NEVER. */
int64_t swarm__io_deadline(int64_t timeout_ms);
/* A deadline back into a timeout from now (>= 0, or SWARM_INFINITE). */
int64_t swarm__io_timeout(int64_t deadline_ms);

/* Register fd with the poller (non-blocking from now); flags: SWARM__IO_OWN
 * makes it the running process's, SWARM__IO_STREAM says it is a byte
 * stream (a stream socket or a pipe: a short read empties it, see
 * swarm__io_drained). Returns 0, SWARM_EBADF, SWARM_EEXIST (own: already
 * owned), SWARM_ENOMEM. */
#define SWARM__IO_OWN 1u
#define SWARM__IO_STREAM 2u
int swarm__io_register(swarm_t *sw, int fd, unsigned flags);

/* Is fd a stream registered as such (SWARM__IO_STREAM)? */
int swarm__io_is_stream(swarm_t *sw, int fd);

/* The drained hint of a stream (fd.c). A read that returned less than it
 * asked for left the receive queue empty, and every byte that arrives
 * after that is a new edge (edge-triggered epoll calls back on each
 * arrival): the next read can park for that edge without trying the
 * syscall first, which would only say EAGAIN. set: after such a read;
 * take: 1 if set (and clears it), 0 also once the poller saw the peer's
 * end or an error (that may have come in the same event as the last data,
 * and no edge follows it). A public wait (check) clears it, as it forgets
 * the remembered edges. Process side. */
void swarm__io_drained_set(swarm_t *sw, int fd);
int swarm__io_drained_take(swarm_t *sw, int fd);

/* fd.c: the swarm's fd table (io_init and io_destroy call these). */
int swarm__io_fdtab_init(swarm_t *sw);
void swarm__io_fdtab_destroy(swarm_t *sw);

/* blocking.c: the queue's bound, SWARM_BLOCKING_QUEUE (tests lower it). */
extern _Atomic unsigned swarm__blocking_queue_max;

/* blocking.c: stop and join the pool's threads (destroy). */
void swarm__io_blocking_destroy(swarm_t *sw);

/* poller.c: dispatch the events of one epoll_wait. Returns how many
 * processes it woke. */
struct epoll_event;
unsigned swarm__io_dispatch(swarm_t *sw, const struct epoll_event *evs, int n);

#endif
