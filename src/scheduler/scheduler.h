/* SPDX-License-Identifier: MIT
 * The scheduler actor: holds agents' fetches, keeps the view of queued tasks the
 * queue tells it about, routes each task to its tier's target and proposes
 * assignments, which the queue validates and commits (DESIGN §2 rules 5-6, §5.5).
 */
#ifndef AC_SCHEDULER_SCHEDULER_H
#define AC_SCHEDULER_SCHEDULER_H

#include "agentcom/errors.h"
#include "config.h"
#include "rt/actor.h"

typedef struct ac_scheduler ac_scheduler;

/* Starts the actor. Main thread. */
ac_err ac_scheduler_start(ac_rt *rt, const ac_config *cfg, ac_scheduler **out);
/* Stops it, answering every held fetch `unavailable`; NULL is a no-op. Main thread. */
void ac_scheduler_stop(ac_scheduler *s);

#endif
