/* SPDX-License-Identifier: MIT
 * The store's background checkpointer: a thread with its own SQLite connection to the
 * store's file that copies the WAL into the database when asked, so that the thread
 * that commits (the queue) does not stall for the tens of milliseconds a large
 * checkpoint takes. It shares no connection and no SQLite object with the store;
 * the two talk through a mutex-guarded request/done pair only. Internal to src/store.
 */
#ifndef AC_STORE_CHECKPOINTER_H
#define AC_STORE_CHECKPOINTER_H

#include <stdbool.h>

#include "agentcom/errors.h"

typedef struct ac_checkpointer ac_checkpointer;

/* Opens a second connection to path (which must exist, in WAL mode) with the
 * given synchronous pragma, and starts the thread. */
ac_err ac_checkpointer_start(const char *path, const char *sync_pragma, ac_checkpointer **out);

/* Asks for one PASSIVE checkpoint pass; no-op while one is asked for or running.
 * Any thread; never blocks on the pass. */
void ac_checkpointer_request(ac_checkpointer *c);

/* True once, after a requested pass has finished (then it is asked for anew). */
bool ac_checkpointer_take_done(ac_checkpointer *c);

/* Passes run so far (for tests and logs). */
unsigned long ac_checkpointer_passes(ac_checkpointer *c);

/* Stops the thread after the pass it runs, closes its connection, frees c. NULL ok. */
void ac_checkpointer_stop(ac_checkpointer *c);

#endif
