/* SPDX-License-Identifier: MIT
 * Internals shared by store.c and store_schema.c (and the store's white-box tests):
 * the table of prepared statements and the schema migration entry point.
 * Nothing outside src/store/ and tests/unit/store/ may include this header.
 */
#ifndef AC_STORE_STORE_INT_H
#define AC_STORE_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

/* Every statement the store runs, prepared once at open. The eight LIST entries are
 * indexed by a mask of the filters present (AC_STORE_LIST_*), so that each
 * combination gets its own plan and the status index is used whenever status is set,
 * except for queued rows, which that index leaves out: LIST_QUEUED (+1 with a
 * priority) walks the rowids instead. */
typedef enum ac_store_stmt {
	AC_STORE_BEGIN,
	AC_STORE_COMMIT,
	AC_STORE_ROLLBACK,
	AC_STORE_PUT_TASK,
	AC_STORE_GET_TASK,
	AC_STORE_SET_NEXT_ID,
	AC_STORE_KEEP_NEXT_ID,
	AC_STORE_GET_NEXT_ID,
	AC_STORE_LOAD_LIVE,
	AC_STORE_LOAD_IDEMPOTENCY,
	AC_STORE_PRUNE,
	AC_STORE_COUNT_BY_STATUS,
	AC_STORE_PUT_KV,
	AC_STORE_DELETE_KV,
	AC_STORE_LOAD_KV,
	AC_STORE_LIST_QUEUED, /* first of 2 */
	AC_STORE_LIST = AC_STORE_LIST_QUEUED + 2, /* first of 8: AC_STORE_LIST + mask */
	AC_STORE_STMT_COUNT = AC_STORE_LIST + 8,
} ac_store_stmt;

/* Bits of the list mask. */
#define AC_STORE_LIST_STATUS 1u
#define AC_STORE_LIST_PRIORITY 2u
#define AC_STORE_LIST_ASSIGNED 4u

/* ac_task_status's queued, the status the partial tasks_status index leaves out. */
#define AC_STORE_STATUS_QUEUED 0

/* The SQL of each statement (static storage). Task SELECTs return the columns in
 * the order id, status, priority, assigned_to, idempotency_key, created_at_ms,
 * updated_at_ms, terminal, record. LIST binds ?1 status, ?2 priority, ?3 assigned_to,
 * ?4 after_id, ?5 limit. */
extern const char *const ac_store_sql[AC_STORE_STMT_COUNT];

/* Brings db (path only for log lines) to the newest schema version in one
 * transaction. A file newer than this code, or any SQLite error, is logged and
 * returns AC_EIO with the file unchanged. Called by the thread that owns db. */
ac_err ac_store_schema_migrate(sqlite3 *db, const char *path);

/* The schema version this code writes. */
int ac_store_schema_version(void);

/* Test hook: the store's connection, borrowed; valid until ac_store_close. Only
 * white-box tests use it (query plans, commit hooks to force a failed COMMIT). */
sqlite3 *ac_store_db(ac_store *s);

/* Test hooks: the WAL sizes (pages) at which a background pass is asked for and at
 * which the committing thread checkpoints inline (store.c, on_wal_commit), and how
 * many passes of each kind ran. */
void ac_store_checkpoint_policy(ac_store *s, int start_pages, int force_pages);
void ac_store_checkpoint_counts(ac_store *s, unsigned long *background, unsigned long *inline_);

#endif
