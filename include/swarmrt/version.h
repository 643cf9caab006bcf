/*
 * swarmrt/version.h - version and export macro.
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

#endif
