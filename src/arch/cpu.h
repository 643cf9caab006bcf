/*
 * arch/cpu.h - the CPU interface of the build's ISA (spin-wait hint,
 * interrupted-context access): includes arch/<isa>/cpu.h. Adding an ISA
 * adds a folder under arch/; nothing above arch/ changes.
 */
#ifndef SWARM_ARCH_CPU_H
#define SWARM_ARCH_CPU_H

#if defined(__x86_64__)
#include "arch/x86_64/cpu.h"
#else
#error "SwarmRT: no arch/<isa>/cpu.h for this ISA yet"
#endif

#endif
