/*
 * tls/tls.h - the TLS layer's own state (swarmrt/tls.h; docs/design/tls.md).
 *
 * A connection is an OpenSSL SSL object whose only BIO is one half of a
 * BIO pair; the other half is the connection's, and the owning process
 * moves ciphertext between it and the fd with swarm_read / swarm_write
 * (io/). The connection is a node on its owner's resource list
 * (ptable/res.h), so the owner's end frees it.
 */
#ifndef SWARM_TLS_TLS_H
#define SWARM_TLS_TLS_H

#include <stdatomic.h>

#include "swarmrt/tls.h"

/* Connections alive in this OS process, every swarm together (tests: a
 * killed owner's connection is freed). */
extern _Atomic long swarm__tls_conns;

#endif
