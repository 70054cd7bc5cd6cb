/* SPDX-License-Identifier: MIT
 * The registry actor: owns agents (presence, profile, liveness). Answers agent.hello
 * (with the queue), heartbeat, bye and agent.list, passes fetches to the scheduler with
 * the agent's profile, and reports agents that went offline or left.
 */
#ifndef AC_REGISTRY_REGISTRY_H
#define AC_REGISTRY_REGISTRY_H

#include "agentcom/errors.h"
#include "config.h"
#include "rt/actor.h"

typedef struct ac_registry ac_registry;

/* Starts the actor. Main thread. */
ac_err ac_registry_start(ac_rt *rt, const ac_config *cfg, ac_registry **out);
/* Stops it; NULL is a no-op. Main thread. */
void ac_registry_stop(ac_registry *r);

#endif
