/*
 * timer/tmsg.h - a swarm's timer messages (tmsg.c): set up at create,
 * freed at destroy (runtime/swarm.c).
 */
#ifndef SWARM_TIMER_TMSG_H
#define SWARM_TIMER_TMSG_H

#include "state/state.h"

void swarm__tmsg_init(swarm_t *sw);
void swarm__tmsg_destroy(swarm_t *sw);

#endif
