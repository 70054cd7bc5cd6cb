/* SPDX-License-Identifier: MIT
 * The store: a narrow persistence interface (open, load live state, apply a batch in
 * one transaction, read, prune) so the queue and registry never see SQL. SQLite in WAL
 * mode is the implementation; a store is owned by exactly one thread.
 */
#ifndef AC_STORE_STORE_H
#define AC_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "config.h"

typedef struct ac_store ac_store;

/* One task as the store keeps it: a few indexed columns plus the whole record
 * (the task's msgpack map, see queue/task_codec.h). Pointers are borrowed. */
typedef struct ac_task_row {
	uint64_t id;
	int status;                  /* ac_task_status */
	int priority;                /* ac_priority */
	const char *assigned_to;     /* NULL when unassigned */
	const char *idempotency_key; /* NULL when none */
	int64_t created_at_ms;
	int64_t updated_at_ms;
	bool is_terminal;            /* completed, dead_letter, cancelled (for pruning) */
	const uint8_t *record;
	size_t record_len;
} ac_task_row;

/* Called once per row while loading or listing; the row is valid only during the
 * call. Return false to stop early. */
typedef bool (*ac_store_row_fn)(void *ctx, const ac_task_row *row);

/* Opens (creating if needed) <data_dir>/agentcom.db in WAL mode with synchronous
 * FULL / NORMAL / OFF for durability, and migrates its schema to the current
 * version (versioned migrations kept in a table; a newer file than this code knows
 * is refused with AC_EIO). Caller owns; close with ac_store_close. */
ac_err ac_store_open(const char *data_dir, ac_durability durability, ac_store **out);
void ac_store_close(ac_store *s);

/* Moves the copying of the write-ahead log into the database to a background thread
 * with its own connection, for the store whose commits must not stall (the queue's):
 * the committing thread then only checkpoints the short rest after each pass, so that
 * the log restarts. Without it the committing thread checkpoints inline once the log
 * passes 4000 pages, as SQLite's autocheckpoint does. AC_OK, or an error (logged;
 * checkpoints stay inline). Idempotent. */
ac_err ac_store_checkpoint_in_background(ac_store *s);

/* --- batch writes: begin, any number of puts/deletes, then commit or rollback --- */
ac_err ac_store_begin(ac_store *s);
/* Inserts or replaces the row with row->id. */
ac_err ac_store_put_task(ac_store *s, const ac_task_row *row);
/* Raises the stored id high-water mark to next_id (never lowers it). Optional: the
 * mark also follows the stored rows (ac_store_next_id) and survives their pruning. */
ac_err ac_store_set_next_id(ac_store *s, uint64_t next_id);
/* Commits (fsync'd under durability full). On error the transaction is rolled back
 * and nothing of the batch is stored. Errors: AC_EIO (disk full, I/O error). */
ac_err ac_store_commit(ac_store *s);
void ac_store_rollback(ac_store *s);

/* --- reads (outside or inside a batch) --- */
/* The id high-water mark: above every stored row's id, every pruned row's and any
 * ac_store_set_next_id mark (1 for a new store). */
ac_err ac_store_next_id(ac_store *s, uint64_t *out);
/* Calls fn for every row that is not terminal, in id order. */
ac_err ac_store_load_live(ac_store *s, ac_store_row_fn fn, void *ctx);
/* Calls fn for every row with an idempotency key created at or after since_ms. */
ac_err ac_store_load_idempotency(ac_store *s, int64_t since_ms, ac_store_row_fn fn, void *ctx);
/* Reads one row; AC_ENOTFOUND when absent. The row is valid until the next call on s. */
ac_err ac_store_get_task(ac_store *s, uint64_t id, ac_task_row *out);

/* Filters of ac_store_list_tasks; -1 / NULL = any. */
typedef struct ac_task_filter {
	int status;
	int priority;
	const char *assigned_to;
	uint64_t after_id; /* rows with id > after_id */
	uint32_t limit;
} ac_task_filter;
/* Calls fn for the matching rows in id order, at most f->limit of them. */
ac_err ac_store_list_tasks(ac_store *s, const ac_task_filter *f, ac_store_row_fn fn, void *ctx);

/* Deletes up to limit terminal rows whose updated_at_ms < before_ms, in its own
 * transaction; *deleted gets the count, and by_status[status] (n entries, at most 16;
 * may be NULL) grows by the deleted rows of each status once the deletion committed. */
ac_err ac_store_prune(ac_store *s, int64_t before_ms, uint32_t limit, uint64_t *by_status,
    int n, uint32_t *deleted);

/* Counts rows by status into counts[0..n) (status used as index; others ignored),
 * except queued rows (status 0): counts[0] is 0. The queue counts those in memory. */
ac_err ac_store_count_by_status(ac_store *s, uint64_t *counts, int n);

/* --- key/value rows for other owners (registry endpoints, etc.) --- */
/* Puts value under (kind, key) inside the current batch (or alone when no batch). */
ac_err ac_store_put_kv(ac_store *s, const char *kind, const char *key, const uint8_t *value,
    size_t len);
ac_err ac_store_delete_kv(ac_store *s, const char *kind, const char *key);
/* Calls fn(ctx, key, value, len) for each row of kind, in key order. */
typedef bool (*ac_store_kv_fn)(void *ctx, const char *key, const uint8_t *value, size_t len);
ac_err ac_store_load_kv(ac_store *s, const char *kind, ac_store_kv_fn fn, void *ctx);

#endif
