/* SPDX-License-Identifier: MIT
 * The queue actor: the only writer of task state and the owner of the SQLite store.
 * Answers the task ops, commits each batch of changes in one transaction before any
 * reply or event leaves (group commit), and publishes task events.
 */
#ifndef AC_QUEUE_QUEUE_H
#define AC_QUEUE_QUEUE_H

#include "agentcom/errors.h"
#include "config.h"
#include "rt/actor.h"

typedef struct ac_queue ac_queue;

/* Opens the store in cfg->data_dir, loads the live tasks and starts the actor.
 * Logs the load time. AC_EIO when the store cannot be opened or read. Main thread. */
ac_err ac_queue_start(ac_rt *rt, const ac_config *cfg, ac_queue **out);

/* Stops the actor (committing what it already received) and closes the store.
 * NULL is a no-op. Main thread. */
void ac_queue_stop(ac_queue *q);

#endif
