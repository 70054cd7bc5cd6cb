/* SPDX-License-Identifier: MIT
 * The tasks that wait for an Ollama endpoint (DESIGN §5.5), in groups of tasks that
 * route alike (same preferred model), each FIFO per priority. Whether a waiting task
 * can go depends only on its group's key and the endpoint view, so an endpoint event
 * or a freed slot looks at group heads only: when a head cannot go, neither can the
 * rest of its group. Tasks that no endpoint can unblock (their own target is not
 * ollama, or their targets exclude it) wait in groups the heads walk skips. Pure data:
 * no I/O, no clock; one owner.
 */
#ifndef AC_SCHEDULER_SCHED_WAIT_H
#define AC_SCHEDULER_SCHED_WAIT_H

#include <stdbool.h>
#include <stddef.h>

#include "agentcom/errors.h"
#include "scheduler/scheduler_state.h"

typedef struct ac_sched_waits ac_sched_waits;

/* Caller owns *out; free with ac_sched_waits_free. AC_ENOMEM. */
ac_err ac_sched_waits_alloc(ac_sched_waits **out);
/* Frees the groups, never the tasks (they are the scheduler state's). NULL: no-op. */
void ac_sched_waits_free(ac_sched_waits *ws);

/* Appends p (borrowed until removed) to its group's lane for p->priority; no-op when p
 * already waits. AC_ENOMEM when a new group cannot be made (p then does not wait). */
ac_err ac_sched_waits_add(ac_sched_waits *ws, ac_pending *p);
/* Takes p off the waiting list; no-op when it does not wait. */
void ac_sched_waits_remove(ac_sched_waits *ws, ac_pending *p);
/* Calls fn for the first task (priority, then waiting order) of every group an
 * endpoint can unblock, O(such groups). fn must not add or remove waiting tasks. */
void ac_sched_waits_each_head(ac_sched_waits *ws, void (*fn)(void *ctx, ac_pending *p), void *ctx);
/* Tasks waiting, all groups. */
size_t ac_sched_waits_count(const ac_sched_waits *ws);
/* Structural check (counts and links); O(waiting tasks). */
bool ac_sched_waits_check(const ac_sched_waits *ws);

#endif
