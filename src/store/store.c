/* SPDX-License-Identifier: MIT
 * SQLite implementation of store.h: one connection in WAL mode, owned by the thread
 * that opened it, with every statement prepared once at open. It owns the connection
 * and its statements; it never builds SQL from values, never keeps a caller's
 * pointer past the call, and never touches a connection from a second thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt/assert.h"
#include "rt/log.h"
#include "store/checkpointer.h"
#include "store/store_int.h"

#define STORE_FILE "agentcom.db"
#define AC_STORE_MAX_STATUSES 16 /* ac_store_prune's by_status: more than any status */
#define BUSY_TIMEOUT_MS 5000

struct ac_store {
	sqlite3 *db;
	sqlite3_stmt *st[AC_STORE_STMT_COUNT];
	uint8_t *row_buf; /* ac_store_get_task's copy of the row it returns */
	size_t row_cap;
	char path[1024]; /* for log lines */
	ac_checkpointer *ckpt; /* NULL when it could not start: checkpoints run inline */
	int ckpt_start_pages, ckpt_force_pages;
	bool is_ckpt_asked; /* this cycle's background pass was asked for (on_wal_commit) */
	ac_durability durability;
	unsigned long inline_checkpoints;
};

/* WAL size policy, in pages. Past CHECKPOINT_START_PAGES (about 16 MiB) the
 * background checkpointer is asked for a pass, which copies the frames committed
 * before it began while commits go on. Once it is done, the committing thread
 * checkpoints the short tail itself between two transactions: only a checkpoint that
 * reaches the end of the log lets the next commit restart the WAL from its start,
 * and one that runs beside commits rarely does. Past CHECKPOINT_FORCE_PAGES (the
 * checkpointer fell behind or never started) the committing thread checkpoints
 * inline, as SQLite's autocheckpoint does. Measured: the inline 4000-page
 * checkpoints stalled the queue 10-50 ms each, the worst of paced delivery. */
#define CHECKPOINT_START_PAGES 4000
#define CHECKPOINT_FORCE_PAGES 16000

/* One synchronous setting per durability level (DESIGN §7). In WAL mode, NORMAL
 * syncs only at checkpoints: a crash loses nothing, a power cut may lose the tail. */
static const char *const sync_pragmas[] = {
	[AC_DURABILITY_FULL] = "PRAGMA synchronous = FULL",
	[AC_DURABILITY_NORMAL] = "PRAGMA synchronous = NORMAL",
	[AC_DURABILITY_OFF] = "PRAGMA synchronous = OFF",
};

/* Settings that do not depend on the configuration. cache_size is in KiB when
 * negative. Checkpoints follow on_wal_commit's policy (which replaces SQLite's
 * autocheckpoint): starting at 4000 pages rather than the default 1000 made no
 * measurable difference at 1-256 puts per commit (tests/bench/store_bench.c), but a
 * 10 000-row batch (about 1 500 pages) no longer checkpoints after every commit.
 * journal_size_limit truncates the WAL file back after a checkpoint. No
 * mmap: it made the warm 1M-row load slower (page faults) and turns I/O errors
 * into SIGBUS. */
static const char *const fixed_pragmas =
    "PRAGMA cache_size = -8192;"
    "PRAGMA temp_store = MEMORY;"
    "PRAGMA journal_size_limit = 67108864;";

/* Logs one SQLite failure where it is handled and converts it. Every SQLite
 * failure becomes AC_EIO: the queue answers `unavailable` for all of them. */
static ac_err fail(ac_store *s, const char *event, int rc)
{
	ac_log(AC_LOG_ERR, "store", event, "path=%s rc=%d error=\"%s\"", s->path, rc,
	    sqlite3_errmsg(s->db));
	return AC_EIO;
}

/* Returns a statement to its ready state and drops borrowed bindings. */
static void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps st once, expecting no row back (writes, BEGIN/COMMIT). */
static ac_err run(ac_store *s, sqlite3_stmt *st, const char *event)
{
	int rc = sqlite3_step(st);
	ac_err err = rc == SQLITE_DONE ? AC_OK : fail(s, event, rc);

	finish(st);
	return err;
}

static void read_row(sqlite3_stmt *st, ac_task_row *r)
{
	r->id = (uint64_t)sqlite3_column_int64(st, 0);
	r->status = sqlite3_column_int(st, 1);
	r->priority = sqlite3_column_int(st, 2);
	r->assigned_to = (const char *)sqlite3_column_text(st, 3);
	r->idempotency_key = (const char *)sqlite3_column_text(st, 4);
	r->created_at_ms = sqlite3_column_int64(st, 5);
	r->updated_at_ms = sqlite3_column_int64(st, 6);
	r->is_terminal = sqlite3_column_int(st, 7) != 0;
	r->record = sqlite3_column_blob(st, 8);
	r->record_len = (size_t)sqlite3_column_bytes(st, 8);
}

/* Steps a bound task SELECT to the end, or until fn returns false. fn must not
 * run the same statement again (no nested load or list from inside the callback). */
static ac_err each_row(ac_store *s, sqlite3_stmt *st, ac_store_row_fn fn, void *ctx,
    const char *event)
{
	ac_task_row row;
	ac_err err;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &row);
		if (!fn(ctx, &row)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = rc == SQLITE_DONE ? AC_OK : fail(s, event, rc);
	finish(st);
	return err;
}

/* Journal mode is checked, not assumed: a file system without shared memory
 * support leaves the file in rollback mode and the durability contract changes. */
static ac_err set_wal(ac_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	ac_err err = AC_OK;

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_ROW) {
		err = fail(s, "journal_mode_failed", rc);
	} else {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		if (mode == NULL || strcmp(mode, "wal") != 0) {
			ac_log(AC_LOG_ERR, "store", "journal_mode_failed", "path=%s mode=%s",
			    s->path, mode != NULL ? mode : "unknown");
			err = AC_EIO;
		}
	}
	sqlite3_finalize(st);
	return err;
}

static ac_err configure(ac_store *s, ac_durability durability)
{
	ac_err err;
	int rc;

	AC_ASSERT((unsigned)durability < sizeof sync_pragmas / sizeof sync_pragmas[0]);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	err = set_wal(s);
	if (err != AC_OK) {
		return err;
	}
	rc = sqlite3_exec(s->db, sync_pragmas[durability], NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(s->db, fixed_pragmas, NULL, NULL, NULL);
	}
	return rc == SQLITE_OK ? AC_OK : fail(s, "configure_failed", rc);
}

static void checkpoint_inline(ac_store *s, sqlite3 *db, const char *name)
{
	int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);

	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		ac_log(AC_LOG_WARN, "store", "checkpoint_failed", "path=%s rc=%d", s->path, rc);
	}
	s->inline_checkpoints++;
}

/* SQLite calls this after each commit with the WAL's size in pages. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	ac_store *s = arg;

	if (pages < s->ckpt_start_pages) {
		/* the log restarted (a pass copied it all): a cycle's done flag left over
		 * from that pass must not make the next cycle checkpoint inline */
		s->is_ckpt_asked = false;
		return SQLITE_OK;
	}
	if (s->ckpt == NULL || pages >= s->ckpt_force_pages) {
		checkpoint_inline(s, db, name);
	} else if (!s->is_ckpt_asked) {
		ac_checkpointer_request(s->ckpt); /* clears the done flag of an earlier pass */
		s->is_ckpt_asked = true;
	} else if (ac_checkpointer_take_done(s->ckpt)) {
		checkpoint_inline(s, db, name); /* the short tail: then the log restarts */
		s->is_ckpt_asked = false;
	}
	return SQLITE_OK;
}

ac_err ac_store_checkpoint_in_background(ac_store *s)
{
	ac_err err = s->ckpt != NULL ? AC_OK :
	    ac_checkpointer_start(s->path, sync_pragmas[s->durability], &s->ckpt);

	if (err != AC_OK) {
		s->ckpt = NULL;
		ac_log(AC_LOG_WARN, "store", "checkpointer_off", "path=%s checkpoints=inline", s->path);
	}
	return err;
}

static ac_err prepare_all(ac_store *s)
{
	for (int i = 0; i < AC_STORE_STMT_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, ac_store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			ac_log(AC_LOG_ERR, "store", "prepare_failed", "path=%s stmt=%d error=\"%s\"",
			    s->path, i, sqlite3_errmsg(s->db));
			return AC_EIO;
		}
	}
	return AC_OK;
}

ac_err ac_store_open(const char *data_dir, ac_durability durability, ac_store **out)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	ac_store *s = calloc(1, sizeof *s);
	ac_err err = AC_EIO;
	int n, rc;

	if (s == NULL) {
		return AC_ENOMEM;
	}
	n = snprintf(s->path, sizeof s->path, "%s/%s", data_dir, STORE_FILE);
	if (n < 0 || (size_t)n >= sizeof s->path) {
		ac_log(AC_LOG_ERR, "store", "open_failed", "error=\"data directory path too long\"");
		goto fail;
	}
	rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		err = fail(s, "open_failed", rc);
		goto fail;
	}
	err = configure(s, durability);
	err = err == AC_OK ? ac_store_schema_migrate(s->db, s->path) : err;
	err = err == AC_OK ? prepare_all(s) : err;
	if (err != AC_OK) {
		goto fail;
	}
	s->durability = durability;
	s->ckpt_start_pages = CHECKPOINT_START_PAGES;
	s->ckpt_force_pages = CHECKPOINT_FORCE_PAGES;
	sqlite3_wal_hook(s->db, on_wal_commit, s); /* SQLite's autocheckpoint is off now */
	*out = s;
	return AC_OK;
fail:
	ac_store_close(s);
	return err;
}

void ac_store_close(ac_store *s)
{
	if (s == NULL) {
		return;
	}
	ac_checkpointer_stop(s->ckpt); /* first: its connection must not be the last */
	for (int i = 0; i < AC_STORE_STMT_COUNT; i++) {
		sqlite3_finalize(s->st[i]);
	}
	/* An open batch is rolled back; the last connection checkpoints and removes
	 * the WAL, so the next open has no log to replay. */
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		ac_log(AC_LOG_ERR, "store", "close_failed", "path=%s error=\"%s\"", s->path,
		    sqlite3_errmsg(s->db));
	}
	free(s->row_buf);
	free(s);
}

sqlite3 *ac_store_db(ac_store *s)
{
	return s->db;
}

void ac_store_checkpoint_policy(ac_store *s, int start_pages, int force_pages)
{
	s->ckpt_start_pages = start_pages;
	s->ckpt_force_pages = force_pages;
}

void ac_store_checkpoint_counts(ac_store *s, unsigned long *background, unsigned long *inline_)
{
	*background = s->ckpt != NULL ? ac_checkpointer_passes(s->ckpt) : 0;
	*inline_ = s->inline_checkpoints;
}

ac_err ac_store_begin(ac_store *s)
{
	AC_ASSERT(sqlite3_get_autocommit(s->db)); /* batches do not nest */
	return run(s, s->st[AC_STORE_BEGIN], "begin_failed");
}

ac_err ac_store_put_task(ac_store *s, const ac_task_row *r)
{
	sqlite3_stmt *st = s->st[AC_STORE_PUT_TASK];
	/* A zero-length record still needs a non-NULL pointer to bind as a blob. */
	const void *rec = r->record != NULL ? (const void *)r->record : (const void *)"";
	int rc = 0; /* OR of the bind results: zero only when every bind succeeded */

	AC_ASSERT(r->id <= (uint64_t)INT64_MAX);
	rc |= sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
	rc |= sqlite3_bind_int(st, 2, r->status);
	rc |= sqlite3_bind_int(st, 3, r->priority);
	rc |= sqlite3_bind_text(st, 4, r->assigned_to, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 5, r->idempotency_key, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 6, r->created_at_ms);
	rc |= sqlite3_bind_int64(st, 7, r->updated_at_ms);
	rc |= sqlite3_bind_int(st, 8, r->is_terminal ? 1 : 0);
	rc |= sqlite3_bind_blob64(st, 9, rec, r->record_len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ac_err err = fail(s, "put_task_failed", sqlite3_errcode(s->db));
		finish(st);
		return err;
	}
	return run(s, st, "put_task_failed");
}

ac_err ac_store_set_next_id(ac_store *s, uint64_t next_id)
{
	sqlite3_stmt *st = s->st[AC_STORE_SET_NEXT_ID];

	AC_ASSERT(next_id <= (uint64_t)INT64_MAX);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)next_id);
	return run(s, st, "set_next_id_failed");
}

ac_err ac_store_commit(ac_store *s)
{
	ac_err err = run(s, s->st[AC_STORE_COMMIT], "commit_failed");

	/* A failed COMMIT may leave the transaction open (SQLITE_BUSY) or SQLite may
	 * have rolled it back already (I/O errors); either way nothing is kept. */
	if (err != AC_OK && !sqlite3_get_autocommit(s->db)) {
		(void)run(s, s->st[AC_STORE_ROLLBACK], "rollback_failed");
	}
	return err;
}

void ac_store_rollback(ac_store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		(void)run(s, s->st[AC_STORE_ROLLBACK], "rollback_failed");
	}
}

ac_err ac_store_next_id(ac_store *s, uint64_t *out)
{
	sqlite3_stmt *st = s->st[AC_STORE_GET_NEXT_ID];
	int rc = sqlite3_step(st);
	ac_err err = AC_OK;

	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
	} else if (rc == SQLITE_DONE) {
		*out = 1; /* the v1 migration inserts the row; a file without it is new */
	} else {
		err = fail(s, "next_id_failed", rc);
	}
	finish(st);
	return err;
}

ac_err ac_store_load_live(ac_store *s, ac_store_row_fn fn, void *ctx)
{
	return each_row(s, s->st[AC_STORE_LOAD_LIVE], fn, ctx, "load_live_failed");
}

ac_err ac_store_load_idempotency(ac_store *s, int64_t since_ms, ac_store_row_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[AC_STORE_LOAD_IDEMPOTENCY];

	sqlite3_bind_int64(st, 1, since_ms);
	return each_row(s, st, fn, ctx, "load_idempotency_failed");
}

/* Copies the strings and record of r into s->row_buf and points r at the copy, so
 * the row outlives the statement reset (ac_store_get_task's contract). */
static ac_err keep_row(ac_store *s, ac_task_row *r)
{
	size_t a = r->assigned_to != NULL ? strlen(r->assigned_to) + 1 : 0;
	size_t k = r->idempotency_key != NULL ? strlen(r->idempotency_key) + 1 : 0;
	size_t need = r->record_len + a + k;

	if (need > s->row_cap) {
		uint8_t *p = realloc(s->row_buf, need);
		if (p == NULL) {
			return AC_ENOMEM;
		}
		s->row_buf = p;
		s->row_cap = need;
	}
	if (r->record_len > 0) {
		memcpy(s->row_buf, r->record, r->record_len);
	}
	r->record = s->row_buf;
	if (a > 0) {
		r->assigned_to = memcpy(s->row_buf + r->record_len, r->assigned_to, a);
	}
	if (k > 0) {
		r->idempotency_key = memcpy(s->row_buf + r->record_len + a, r->idempotency_key, k);
	}
	return AC_OK;
}

ac_err ac_store_get_task(ac_store *s, uint64_t id, ac_task_row *out)
{
	sqlite3_stmt *st = s->st[AC_STORE_GET_TASK];
	ac_err err = AC_ENOTFOUND;
	int rc;

	AC_ASSERT(id <= (uint64_t)INT64_MAX);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, out);
		err = keep_row(s, out);
	} else if (rc != SQLITE_DONE) {
		err = fail(s, "get_task_failed", rc);
	}
	finish(st);
	return err;
}

ac_err ac_store_list_tasks(ac_store *s, const ac_task_filter *f, ac_store_row_fn fn, void *ctx)
{
	unsigned mask = (f->status >= 0 ? AC_STORE_LIST_STATUS : 0) |
	    (f->priority >= 0 ? AC_STORE_LIST_PRIORITY : 0) |
	    (f->assigned_to != NULL ? AC_STORE_LIST_ASSIGNED : 0);
	bool queued = f->status == AC_STORE_STATUS_QUEUED && f->assigned_to == NULL;
	sqlite3_stmt *st = queued ? s->st[AC_STORE_LIST_QUEUED + (f->priority >= 0)] :
				    s->st[AC_STORE_LIST + mask];

	AC_ASSERT(f->after_id <= (uint64_t)INT64_MAX);
	/* Every statement of the family has parameters ?1..?5; the unused ones are
	 * bound too and ignored. */
	sqlite3_bind_int(st, 1, f->status);
	sqlite3_bind_int(st, 2, f->priority);
	sqlite3_bind_text(st, 3, f->assigned_to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->after_id);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)f->limit);
	return each_row(s, st, fn, ctx, "list_tasks_failed");
}

/* Steps the bound PRUNE statement to the end, counting the deleted rows by status. */
static ac_err delete_counted(ac_store *s, sqlite3_stmt *st, uint64_t *by_status, int n,
    uint32_t *deleted)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int status = sqlite3_column_int(st, 0);
		if (by_status != NULL && status >= 0 && status < n) {
			by_status[status]++;
		}
		(*deleted)++;
	}
	finish(st);
	return rc == SQLITE_DONE ? AC_OK : fail(s, "prune_failed", rc);
}

ac_err ac_store_prune(ac_store *s, int64_t before_ms, uint32_t limit, uint64_t *by_status,
    int n, uint32_t *deleted)
{
	sqlite3_stmt *st = s->st[AC_STORE_PRUNE];
	uint64_t counted[AC_STORE_MAX_STATUSES] = { 0 };
	ac_err err;

	AC_ASSERT(sqlite3_get_autocommit(s->db)); /* its own transaction, not a batch's */
	AC_ASSERT(n <= AC_STORE_MAX_STATUSES);
	*deleted = 0;
	if ((err = ac_store_begin(s)) != AC_OK) {
		return err;
	}
	if ((err = run(s, s->st[AC_STORE_KEEP_NEXT_ID], "prune_failed")) == AC_OK) {
		sqlite3_bind_int64(st, 1, before_ms);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
		err = delete_counted(s, st, counted, n, deleted);
	}
	if (err == AC_OK) {
		err = ac_store_commit(s);
	} else {
		ac_store_rollback(s);
	}
	if (err != AC_OK) {
		*deleted = 0;
		return err;
	}
	for (int i = 0; by_status != NULL && i < n; i++) {
		by_status[i] += counted[i];
	}
	return AC_OK;
}

ac_err ac_store_count_by_status(ac_store *s, uint64_t *counts, int n)
{
	sqlite3_stmt *st = s->st[AC_STORE_COUNT_BY_STATUS];
	ac_err err;
	int rc;

	for (int i = 0; i < n; i++) {
		counts[i] = 0;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int status = sqlite3_column_int(st, 0);
		if (status >= 0 && status < n) {
			counts[status] = (uint64_t)sqlite3_column_int64(st, 1);
		}
	}
	err = rc == SQLITE_DONE ? AC_OK : fail(s, "count_by_status_failed", rc);
	finish(st);
	return err;
}

/* Outside a batch each kv statement runs in autocommit mode, which is its own
 * transaction; inside one it joins the batch. */
ac_err ac_store_put_kv(ac_store *s, const char *kind, const char *key, const uint8_t *value,
    size_t len)
{
	sqlite3_stmt *st = s->st[AC_STORE_PUT_KV];
	const void *v = value != NULL ? (const void *)value : (const void *)"";
	int rc = 0; /* OR of the bind results */

	rc |= sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_blob64(st, 3, v, len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ac_err err = fail(s, "put_kv_failed", sqlite3_errcode(s->db));
		finish(st);
		return err;
	}
	return run(s, st, "put_kv_failed");
}

ac_err ac_store_delete_kv(ac_store *s, const char *kind, const char *key)
{
	sqlite3_stmt *st = s->st[AC_STORE_DELETE_KV];

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return run(s, st, "delete_kv_failed");
}

ac_err ac_store_load_kv(ac_store *s, const char *kind, ac_store_kv_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[AC_STORE_LOAD_KV];
	ac_err err;
	int rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		const uint8_t *value = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		if (!fn(ctx, key, value, len)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	err = rc == SQLITE_DONE ? AC_OK : fail(s, "load_kv_failed", rc);
	finish(st);
	return err;
}
