/*
 * swarmrt.h - SwarmRT: Erlang's process model for C.
 *
 * Millions of isolated lightweight processes, scheduled M:N over one
 * scheduler thread per core, sharing nothing and talking only by messages.
 *
 * Every declaration states its Context (where it may be called: inside a
 * process, or any thread) and whether it is Blocking (never / may park /
 * may migrate to another OS thread).
 */
#ifndef SWARMRT_H
#define SWARMRT_H

#include "swarmrt/version.h"
#include "swarmrt/error.h"
#include "swarmrt/runtime.h"
#include "swarmrt/proc.h"
#include "swarmrt/msg.h"
#include "swarmrt/gen_server.h"
#include "swarmrt/supervisor.h"
#include "swarmrt/task.h"
#include "swarmrt/name.h"
#include "swarmrt/reason.h"
#include "swarmrt/ref.h"
#include "swarmrt/signal.h"
#include "swarmrt/timer.h"
#include "swarmrt/io.h"
#include "swarmrt/tls.h"
#include "swarmrt/chan.h"
#include "swarmrt/sync.h"
#include "swarmrt/stats.h"

#endif
