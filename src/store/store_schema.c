/* SPDX-License-Identifier: MIT
 * The store's SQL: ordered schema migrations (PRAGMA user_version counts the applied
 * ones) and the text of every prepared statement. This file changes when the schema
 * or a query changes; it never touches a connection other than the one it is given,
 * and never builds SQL from values.
 */
#include <stdio.h>

#include "rt/log.h"
#include "store/store_int.h"

/* Migration i brings the file from version i to i + 1. Append only: a released
 * entry is never edited, because files in the field already ran it. */
static const char *const migrations[] = {
	/* v1: tasks with the indexed columns the queue filters on, next_id, kv. */
	"CREATE TABLE tasks("
	"  id INTEGER PRIMARY KEY,"
	"  status INTEGER NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  assigned_to TEXT,"
	"  idempotency_key TEXT,"
	"  created_at_ms INTEGER NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL,"
	"  terminal INTEGER NOT NULL,"
	"  record BLOB NOT NULL);"
	/* Live load walks only the non-terminal rows once most rows are history. */
	"CREATE INDEX tasks_live ON tasks(id) WHERE terminal = 0;"
	"CREATE INDEX tasks_status ON tasks(status, id);"
	"CREATE INDEX tasks_priority ON tasks(priority, id);"
	/* Partial: unassigned tasks (most waiting ones) cost no index entry. An
	 * `assigned_to = ?` term implies NOT NULL, so the planner still uses it. */
	"CREATE INDEX tasks_assigned ON tasks(assigned_to, id) WHERE assigned_to IS NOT NULL;"
	"CREATE INDEX tasks_prune ON tasks(updated_at_ms) WHERE terminal = 1;"
	"CREATE INDEX tasks_idempotency ON tasks(created_at_ms)"
	"  WHERE idempotency_key IS NOT NULL;"
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER);"
	"INSERT INTO meta(key, value) VALUES('next_id', 1);"
	"CREATE TABLE kv(kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB,"
	"  PRIMARY KEY(kind, key)) WITHOUT ROWID;",
	/* v2: fewer index pages per commit. Queued tasks are listed from memory, so the
	 * status index skips them (a submit then writes only the row and tasks_live);
	 * a priority filter rides on the status index or the rowid walk. The id
	 * high-water mark is max(id) + 1 of the rows, kept in meta only across a prune. */
	"DROP INDEX tasks_priority;"
	"DROP INDEX tasks_status;"
	"CREATE INDEX tasks_status ON tasks(status, id) WHERE status <> 0;",
};

#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

#define TASK_COLS                                                                     \
	"id, status, priority, assigned_to, idempotency_key, created_at_ms, "        \
	"updated_at_ms, terminal, record"
#define LIST_HEAD "SELECT " TASK_COLS " FROM tasks WHERE id > ?4"
/* A status listing never asks for queued tasks (those come from memory), and says
 * so, which lets it use the partial status index. */
#define LIST_HEAD_BY_STATUS                                                          \
	"SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_status WHERE status <> 0 AND id > ?4"
#define LIST_TAIL " ORDER BY id LIMIT ?5"
#define BY_STATUS " AND status = ?1"
#define BY_PRIORITY " AND priority = ?2"
#define BY_ASSIGNED " AND assigned_to = ?3"

/* No ANALYZE and no PRAGMA optimize: without sqlite_stat1 the planner prefers an
 * equality index over the rowid range, which is what every LIST plan needs (a
 * low-cardinality status would otherwise tempt it into scanning by id). With an
 * agent filter the agent's index wins, also over status: an agent holds few rows,
 * while one status (completed) can hold most of the table. */
const char *const ac_store_sql[AC_STORE_STMT_COUNT] = {
	[AC_STORE_BEGIN] = "BEGIN IMMEDIATE",
	[AC_STORE_COMMIT] = "COMMIT",
	[AC_STORE_ROLLBACK] = "ROLLBACK",
	/* An upsert updates in place and touches only the indexes whose columns
	 * changed; INSERT OR REPLACE would delete and reinsert every index entry. */
	[AC_STORE_PUT_TASK] = "INSERT INTO tasks(" TASK_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
			      " ON CONFLICT(id) DO UPDATE SET status = excluded.status,"
			      " priority = excluded.priority, assigned_to = excluded.assigned_to,"
			      " idempotency_key = excluded.idempotency_key,"
			      " created_at_ms = excluded.created_at_ms,"
			      " updated_at_ms = excluded.updated_at_ms,"
			      " terminal = excluded.terminal, record = excluded.record",
	[AC_STORE_GET_TASK] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1",
	[AC_STORE_SET_NEXT_ID] = "INSERT INTO meta(key, value) VALUES('next_id', ?1)"
				 " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
	[AC_STORE_GET_NEXT_ID] = "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'next_id'), 1),"
				 " coalesce((SELECT max(id) FROM tasks), 0) + 1)",
	/* before a prune deletes rows, their ids must stay used */
	[AC_STORE_KEEP_NEXT_ID] = "UPDATE meta SET value = max(value,"
				  " (SELECT coalesce(max(id), 0) + 1 FROM tasks)) WHERE key = 'next_id'",
	[AC_STORE_LOAD_LIVE] = "SELECT " TASK_COLS " FROM tasks INDEXED BY tasks_live"
			       " WHERE terminal = 0 ORDER BY id",
	[AC_STORE_LOAD_IDEMPOTENCY] = "SELECT " TASK_COLS " FROM tasks"
				      " WHERE idempotency_key IS NOT NULL AND created_at_ms >= ?1"
				      " ORDER BY created_at_ms",
	/* RETURNING: the caller keeps its per-status counts without a count(*) over every
	 * row after each batch */
	[AC_STORE_PRUNE] = "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks"
			   " WHERE terminal = 1 AND updated_at_ms < ?1"
			   " ORDER BY updated_at_ms LIMIT ?2) RETURNING status",
	/* The partial status index holds every row but the queued ones: walking it
	 * instead of the table keeps a restart with a million queued tasks from
	 * reading every record a second time. */
	[AC_STORE_COUNT_BY_STATUS] = "SELECT status, count(*) FROM tasks INDEXED BY tasks_status"
				     " WHERE status <> 0 GROUP BY status",
	[AC_STORE_PUT_KV] = "INSERT INTO kv(kind, key, value) VALUES(?1, ?2, ?3)"
			    " ON CONFLICT(kind, key) DO UPDATE SET value = excluded.value",
	[AC_STORE_DELETE_KV] = "DELETE FROM kv WHERE kind = ?1 AND key = ?2",
	[AC_STORE_LOAD_KV] = "SELECT key, value FROM kv WHERE kind = ?1 ORDER BY key",
	[AC_STORE_LIST_QUEUED + 0] = LIST_HEAD BY_STATUS LIST_TAIL,
	[AC_STORE_LIST_QUEUED + 1] = LIST_HEAD BY_STATUS BY_PRIORITY LIST_TAIL,
	[AC_STORE_LIST + 0] = LIST_HEAD LIST_TAIL,
	[AC_STORE_LIST + 1] = LIST_HEAD_BY_STATUS BY_STATUS LIST_TAIL,
	[AC_STORE_LIST + 2] = LIST_HEAD BY_PRIORITY LIST_TAIL,
	[AC_STORE_LIST + 3] = LIST_HEAD_BY_STATUS BY_STATUS BY_PRIORITY LIST_TAIL,
	[AC_STORE_LIST + 4] = LIST_HEAD BY_ASSIGNED LIST_TAIL,
	[AC_STORE_LIST + 5] = LIST_HEAD BY_STATUS BY_ASSIGNED LIST_TAIL,
	[AC_STORE_LIST + 6] = LIST_HEAD BY_PRIORITY BY_ASSIGNED LIST_TAIL,
	[AC_STORE_LIST + 7] = LIST_HEAD BY_STATUS BY_PRIORITY BY_ASSIGNED LIST_TAIL,
};

int ac_store_schema_version(void)
{
	return MIGRATION_COUNT;
}

/* Runs sql (one or more statements); logs and returns AC_EIO on failure. */
static ac_err exec(sqlite3 *db, const char *sql, const char *path, const char *event)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		ac_log(AC_LOG_ERR, "store", event, "path=%s rc=%d error=\"%s\"", path, rc,
		    msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return AC_EIO;
	}
	return AC_OK;
}

static ac_err read_version(sqlite3 *db, const char *path, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_ROW) {
		ac_log(AC_LOG_ERR, "store", "schema_version_failed", "path=%s rc=%d error=\"%s\"",
		    path, rc, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return AC_EIO;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return AC_OK;
}

/* Applies migrations [from, MIGRATION_COUNT) and stamps the new version; runs
 * inside the caller's transaction. */
static ac_err apply(sqlite3 *db, const char *path, int from)
{
	char stamp[64];
	ac_err err = AC_OK;

	for (int v = from; v < MIGRATION_COUNT && err == AC_OK; v++) {
		err = exec(db, migrations[v], path, "migration_failed");
	}
	if (err == AC_OK) {
		/* A PRAGMA takes no parameters; the value is our own constant. */
		snprintf(stamp, sizeof stamp, "PRAGMA user_version = %d", MIGRATION_COUNT);
		err = exec(db, stamp, path, "migration_failed");
	}
	return err;
}

ac_err ac_store_schema_migrate(sqlite3 *db, const char *path)
{
	int version = 0;
	ac_err err = read_version(db, path, &version);

	if (err == AC_OK && version < MIGRATION_COUNT) {
		err = exec(db, "BEGIN IMMEDIATE", path, "migration_failed");
		if (err != AC_OK) {
			return err;
		}
		/* Read again under the write lock: another process may have migrated. */
		err = read_version(db, path, &version);
		if (err == AC_OK && version < MIGRATION_COUNT) {
			err = apply(db, path, version);
		}
		err = err == AC_OK ? exec(db, "COMMIT", path, "migration_failed") : err;
		if (err != AC_OK && !sqlite3_get_autocommit(db)) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		}
		if (err == AC_OK) {
			ac_log(AC_LOG_INFO, "store", "schema_migrated", "path=%s from=%d to=%d",
			    path, version, MIGRATION_COUNT);
		}
	}
	if (err == AC_OK && version > MIGRATION_COUNT) {
		ac_log(AC_LOG_ERR, "store", "schema_too_new", "path=%s version=%d known=%d",
		    path, version, MIGRATION_COUNT);
		err = AC_EIO;
	}
	return err;
}
