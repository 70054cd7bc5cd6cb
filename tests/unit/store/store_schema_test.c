/* SPDX-License-Identifier: MIT
 * Unit tests of src/store/store_schema.c: the file an open creates, migrations and
 * the refusal of a newer file, the pragmas set per durability, and the query plans
 * of the prepared statements (every filter is served by an index, no sort).
 */
#include "store_fixture.h"

Test(store, open_creates_file_and_reopen_is_idempotent)
{
	char path[128];
	struct stat sb;
	uint64_t next;

	snprintf(path, sizeof path, "%s/agentcom.db", dir);
	cr_assert_eq(stat(path, &sb), 0);
	put_rows(1, 3);
	reopen();
	reopen();
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 4, "the high-water mark follows the stored rows");
	ac_task_row r;
	cr_assert_eq(ac_store_get_task(st, 3, &r), AC_OK);
	cr_assert_eq(r.status, 0);
}

static int query_int(const char *sql)
{
	sqlite3_stmt *q = NULL;
	int v;

	cr_assert_eq(sqlite3_prepare_v2(ac_store_db(st), sql, -1, &q, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

Test(store, a_version_1_file_migrates_to_the_lean_indexes_and_keeps_its_rows)
{
	ac_task_row r;

	put_rows(1, 12);
	/* turn the file back into what schema v1 left */
	cr_assert_eq(sqlite3_exec(ac_store_db(st),
			 "DROP INDEX tasks_status;"
			 "CREATE INDEX tasks_status ON tasks(status, id);"
			 "CREATE INDEX tasks_priority ON tasks(priority, id);"
			 "PRAGMA user_version = 1;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	reopen();
	cr_assert_eq(query_int("PRAGMA user_version"), ac_store_schema_version());
	cr_assert_eq(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'tasks_priority'"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM sqlite_master WHERE name = 'tasks_status'"
				" AND sql LIKE '%WHERE status <> 0%'"),
	    1);
	cr_assert_eq(query_int("SELECT count(*) FROM tasks"), 12);
	cr_assert_eq(ac_store_get_task(st, 12, &r), AC_OK);
}

Test(store, open_sets_wal_version_and_synchronous_per_durability)
{
	static const int expect[] = { [AC_DURABILITY_FULL] = 2, [AC_DURABILITY_NORMAL] = 1,
		[AC_DURABILITY_OFF] = 0 };

	cr_assert_eq(query_int("PRAGMA user_version"), ac_store_schema_version());
	for (int d = AC_DURABILITY_FULL; d <= AC_DURABILITY_OFF; d++) {
		ac_store_close(st);
		cr_assert_eq(ac_store_open(dir, (ac_durability)d, &st), AC_OK);
		cr_assert_eq(query_int("PRAGMA synchronous"), expect[d]);
		cr_assert_eq(query_int("SELECT count(*) FROM pragma_journal_mode "
					"WHERE journal_mode = 'wal'"),
		    1);
	}
}

Test(store, newer_schema_version_is_refused)
{
	ac_store *s2 = NULL;

	cr_assert_eq(sqlite3_exec(ac_store_db(st), "PRAGMA user_version = 99", NULL, NULL, NULL),
	    SQLITE_OK);
	ac_store_close(st);
	st = NULL;
	cr_assert_eq(ac_store_open(dir, AC_DURABILITY_FULL, &s2), AC_EIO);
	cr_assert_null(s2);
}

Test(store, open_fails_in_missing_directory)
{
	ac_store *s2 = NULL;
	char missing[96];

	snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
	cr_assert_eq(ac_store_open(missing, AC_DURABILITY_FULL, &s2), AC_EIO);
	cr_assert_null(s2);
}

static void check_plan(const char *sql, const char *index)
{
	char eqp[1024];
	sqlite3_stmt *q = NULL;
	bool seen = index == NULL;

	snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
	cr_assert_eq(sqlite3_prepare_v2(ac_store_db(st), eqp, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(q, 3);
		cr_assert(strncmp(detail, "SCAN tasks", 10) != 0 || strstr(detail, "INDEX") != NULL,
		    "full scan in plan of %s: %s", sql, detail);
		cr_assert_null(strstr(detail, "TEMP B-TREE"), "sort in plan of %s: %s", sql, detail);
		seen = seen || strstr(detail, index) != NULL;
	}
	sqlite3_finalize(q);
	cr_assert(seen, "%s does not use %s", sql, index);
}

Test(store, queries_use_their_indexes)
{
	put_rows(1, 40);
	for (unsigned mask = 1; mask < 8; mask++) {
		/* the agent's index wins over status (store_schema.c); a priority alone
		 * walks the rowids in order (no index of its own since schema v2) */
		const char *index = mask & AC_STORE_LIST_ASSIGNED ? "tasks_assigned" :
		    mask & AC_STORE_LIST_STATUS                   ? "tasks_status" :
								    "INTEGER PRIMARY KEY";
		check_plan(ac_store_sql[AC_STORE_LIST + mask], index);
	}
	check_plan(ac_store_sql[AC_STORE_LIST], NULL);
	check_plan(ac_store_sql[AC_STORE_LIST_QUEUED], "INTEGER PRIMARY KEY");
	check_plan(ac_store_sql[AC_STORE_LIST_QUEUED + 1], "INTEGER PRIMARY KEY");
	check_plan(ac_store_sql[AC_STORE_LOAD_LIVE], "tasks_live");
	check_plan(ac_store_sql[AC_STORE_LOAD_IDEMPOTENCY], "tasks_idempotency");
	check_plan(ac_store_sql[AC_STORE_PRUNE], "tasks_prune");
}
