/* SPDX-License-Identifier: MIT
 * Unit tests of src/store/store.c against a real SQLite file in a fresh temporary
 * directory per test: batches, commit failure, reads, listing, pruning and kv rows.
 * A forced COMMIT failure reaches the connection through store_int.h.
 */
#include "store_fixture.h"

/* --- batches --- */

Test(store, put_commit_get_round_trips_every_column)
{
	static const uint8_t rec[] = { 0x83, 0x00, 0xff, 0x10, 0x00 };
	ac_task_row in = { .id = 42, .status = 3, .priority = 2, .assigned_to = "agent-7",
		.idempotency_key = "key-1", .created_at_ms = 1700000000123,
		.updated_at_ms = 1700000000456, .is_terminal = true, .record = rec,
		.record_len = sizeof rec };
	ac_task_row out;

	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_put_task(st, &in), AC_OK);
	cr_assert_eq(ac_store_commit(st), AC_OK);
	memset(&out, 0, sizeof out);
	cr_assert_eq(ac_store_get_task(st, 42, &out), AC_OK);
	cr_assert_eq(out.id, 42);
	cr_assert_eq(out.status, 3);
	cr_assert_eq(out.priority, 2);
	cr_assert_str_eq(out.assigned_to, "agent-7");
	cr_assert_str_eq(out.idempotency_key, "key-1");
	cr_assert_eq(out.created_at_ms, 1700000000123);
	cr_assert_eq(out.updated_at_ms, 1700000000456);
	cr_assert(out.is_terminal);
	cr_assert_eq(out.record_len, sizeof rec);
	cr_assert_arr_eq(out.record, rec, sizeof rec);
}

Test(store, put_replaces_row_with_same_id)
{
	ac_task_row in = { .id = 7, .status = 1, .assigned_to = "x", .idempotency_key = "k",
		.record = (const uint8_t *)"old", .record_len = 3 };
	ac_task_row out;

	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_put_task(st, &in), AC_OK);
	in.status = 4;
	in.assigned_to = NULL;
	in.idempotency_key = NULL;
	in.record = NULL;
	in.record_len = 0;
	cr_assert_eq(ac_store_put_task(st, &in), AC_OK);
	cr_assert_eq(ac_store_commit(st), AC_OK);
	cr_assert_eq(ac_store_get_task(st, 7, &out), AC_OK);
	cr_assert_eq(out.status, 4);
	cr_assert_null(out.assigned_to);
	cr_assert_null(out.idempotency_key);
	cr_assert_eq(out.record_len, 0);
}

Test(store, get_missing_task_is_not_found)
{
	ac_task_row out;

	cr_assert_eq(ac_store_get_task(st, 1, &out), AC_ENOTFOUND);
}

static bool count_kv(void *ctx, const char *key, const uint8_t *value, size_t len)
{
	(void)key;
	(void)value;
	(void)len;
	++*(int *)ctx;
	return true;
}

Test(store, rollback_leaves_nothing)
{
	char rec[32];
	ac_task_row r = fixture_row(5, rec, sizeof rec);
	uint64_t next;
	int kv = 0;

	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	cr_assert_eq(ac_store_set_next_id(st, 100), AC_OK);
	cr_assert_eq(ac_store_put_kv(st, "endpoint", "e1", (const uint8_t *)"v", 1), AC_OK);
	ac_store_rollback(st);
	cr_assert_eq(ac_store_get_task(st, 5, &r), AC_ENOTFOUND);
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 1);
	cr_assert_eq(ac_store_load_kv(st, "endpoint", count_kv, &kv), AC_OK);
	cr_assert_eq(kv, 0);
	ac_store_rollback(st); /* no batch open: a no-op */
	put_rows(1, 1);
}

Test(store, commit_without_begin_fails_and_store_stays_usable)
{
	ac_task_row r;

	cr_assert_eq(ac_store_commit(st), AC_EIO);
	put_rows(1, 2);
	cr_assert_eq(ac_store_get_task(st, 2, &r), AC_OK);
}

static int refuse_commit(void *ctx)
{
	(void)ctx;
	return 1; /* turns the COMMIT into a ROLLBACK and makes it fail */
}

Test(store, failed_commit_rolls_back_the_batch)
{
	char rec[32];
	ac_task_row r = fixture_row(9, rec, sizeof rec);
	uint64_t next;

	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	cr_assert_eq(ac_store_set_next_id(st, 10), AC_OK);
	sqlite3_commit_hook(ac_store_db(st), refuse_commit, NULL);
	cr_assert_eq(ac_store_commit(st), AC_EIO);
	sqlite3_commit_hook(ac_store_db(st), NULL, NULL);
	cr_assert_eq(ac_store_get_task(st, 9, &r), AC_ENOTFOUND);
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 1);
	put_rows(1, 1);
	cr_assert_eq(ac_store_get_task(st, 1, &r), AC_OK);
}

/* --- reads --- */

Test(store, load_live_returns_only_live_rows_in_id_order)
{
	static const uint64_t order[] = { 8, 3, 1, 6, 2, 7, 4, 5 };
	char rec[32];
	ids got = { .count = 0 };

	cr_assert_eq(ac_store_begin(st), AC_OK);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		ac_task_row r = fixture_row(order[i], rec, sizeof rec);
		cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	}
	cr_assert_eq(ac_store_commit(st), AC_OK);
	cr_assert_eq(ac_store_load_live(st, collect, &got), AC_OK);
	/* 2, 5 and 8 are terminal (i % 3 == 2) */
	cr_assert_eq(got.count, 5);
	uint64_t want[] = { 1, 3, 4, 6, 7 };
	cr_assert_arr_eq(got.id, want, sizeof want);
	got = (ids){ .stop_after = 2 };
	cr_assert_eq(ac_store_load_live(st, collect, &got), AC_OK);
	cr_assert_eq(got.count, 2);
}

static bool matches(uint64_t i, const ac_task_filter *f)
{
	char rec[32];
	ac_task_row r = fixture_row(i, rec, sizeof rec);

	return i > f->after_id && (f->status < 0 || r.status == f->status) &&
	    (f->priority < 0 || r.priority == f->priority) &&
	    (f->assigned_to == NULL || str_eq(r.assigned_to, f->assigned_to));
}

/* Lists f both in one call and in pages of 3 and compares with a brute force. */
static void check_list(ac_task_filter f, uint64_t rows)
{
	ids all = { .count = 0 }, paged = { .count = 0 }, page;
	ids want = { .count = 0 };

	for (uint64_t i = 1; i <= rows; i++) {
		if (matches(i, &f)) {
			want.id[want.count++] = i;
		}
	}
	f.limit = 1000;
	cr_assert_eq(ac_store_list_tasks(st, &f, collect, &all), AC_OK);
	cr_assert_eq(all.count, want.count);
	cr_assert_arr_eq(all.id, want.id, sizeof(uint64_t) * (size_t)want.count);
	f.limit = 3;
	do {
		page = (ids){ .count = 0 };
		cr_assert_eq(ac_store_list_tasks(st, &f, collect, &page), AC_OK);
		cr_assert_leq(page.count, 3);
		for (int i = 0; i < page.count; i++) {
			paged.id[paged.count++] = page.id[i];
		}
		f.after_id = page.count > 0 ? page.id[page.count - 1] : f.after_id;
	} while (page.count == 3);
	cr_assert_eq(paged.count, want.count);
	cr_assert_arr_eq(paged.id, want.id, sizeof(uint64_t) * (size_t)want.count);
}

Test(store, list_filters_every_combination_and_pages_by_after_id)
{
	put_rows(1, 40);
	for (unsigned mask = 0; mask < 8; mask++) {
		for (int v = 0; v < 2; v++) {
			ac_task_filter f = {
				.status = mask & AC_STORE_LIST_STATUS ? v : -1,
				.priority = mask & AC_STORE_LIST_PRIORITY ? 1 - v : -1,
				.assigned_to = mask & AC_STORE_LIST_ASSIGNED ? agents[v] : NULL,
			};
			check_list(f, 40);
			f.after_id = 17;
			check_list(f, 40);
		}
	}
	ids none = { .count = 0 };
	ac_task_filter zero = { .status = -1, .priority = -1, .limit = 0 };
	cr_assert_eq(ac_store_list_tasks(st, &zero, collect, &none), AC_OK);
	cr_assert_eq(none.count, 0);
}

/* Asserts every step of sql's plan is a SEARCH (never a full SCAN of tasks) and
 * that one of them names index when index is not NULL. */

Test(store, load_idempotency_returns_keyed_rows_since)
{
	ac_task_row r = { .record = (const uint8_t *)"r", .record_len = 1 };
	ids got = { .count = 0 };

	cr_assert_eq(ac_store_begin(st), AC_OK);
	for (uint64_t i = 1; i <= 6; i++) {
		r.id = i;
		r.created_at_ms = (int64_t)(100 * i);
		r.idempotency_key = i % 2 == 0 ? "k" : NULL;
		r.is_terminal = i == 6;
		cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	}
	cr_assert_eq(ac_store_commit(st), AC_OK);
	cr_assert_eq(ac_store_load_idempotency(st, 400, collect, &got), AC_OK);
	uint64_t want[] = { 4, 6 };
	cr_assert_eq(got.count, 2);
	cr_assert_arr_eq(got.id, want, sizeof want);
}

Test(store, next_id_never_decreases_and_survives_reopen)
{
	uint64_t next;

	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 1);
	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_set_next_id(st, 50), AC_OK);
	cr_assert_eq(ac_store_set_next_id(st, 20), AC_OK);
	cr_assert_eq(ac_store_commit(st), AC_OK);
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 50);
	reopen();
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 50);
	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_set_next_id(st, 51), AC_OK);
	cr_assert_eq(ac_store_commit(st), AC_OK);
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 51);
}

Test(store, prune_deletes_only_old_terminal_rows_at_most_limit)
{
	uint32_t deleted = 99;
	ac_task_row r;

	put_rows(1, 30); /* terminal: 2, 5, ..., 29 with updated_at_ms 2000 + id */
	cr_assert_eq(ac_store_prune(st, 2015, 3, NULL, 0, &deleted), AC_OK);
	cr_assert_eq(deleted, 3);
	/* the oldest go first */
	cr_assert_eq(ac_store_get_task(st, 2, &r), AC_ENOTFOUND);
	cr_assert_eq(ac_store_get_task(st, 8, &r), AC_ENOTFOUND);
	cr_assert_eq(ac_store_get_task(st, 11, &r), AC_OK);
	cr_assert_eq(ac_store_prune(st, 2015, 100, NULL, 0, &deleted), AC_OK);
	cr_assert_eq(deleted, 2); /* 11 and 14 */
	cr_assert_eq(ac_store_prune(st, 2015, 100, NULL, 0, &deleted), AC_OK);
	cr_assert_eq(deleted, 0);
	cr_assert_eq(ac_store_get_task(st, 17, &r), AC_OK);
	cr_assert_eq(ac_store_get_task(st, 1, &r), AC_OK); /* old but live */
	cr_assert_eq(ac_store_get_task(st, 3, &r), AC_OK);
}

Test(store, prune_counts_what_it_deleted_by_status)
{
	uint64_t by_status[4] = { 7, 0, 0, 0 };
	uint32_t deleted = 0;

	put_rows(1, 30); /* terminal (status 2): 2, 5, ..., 29 */
	cr_assert_eq(ac_store_prune(st, 2015, 3, by_status, 4, &deleted), AC_OK);
	cr_assert_eq(deleted, 3);
	cr_assert_eq(by_status[2], 3);
	cr_assert_eq(ac_store_prune(st, 2015, 100, by_status, 4, &deleted), AC_OK);
	cr_assert_eq(by_status[2], 5, "counts add up over batches");
	cr_assert_eq(by_status[0], 7, "other statuses untouched");
	cr_assert_eq(by_status[1] + by_status[3], 0);
}

Test(store, pruning_the_newest_rows_never_lets_their_ids_come_back)
{
	uint32_t deleted = 0;
	uint64_t next = 0;

	put_rows(1, 29); /* 29 is terminal, the newest row */
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 30);
	cr_assert_eq(ac_store_prune(st, 5000, 100, NULL, 0, &deleted), AC_OK);
	cr_assert_eq(deleted, 10);
	reopen();
	cr_assert_eq(ac_store_next_id(st, &next), AC_OK);
	cr_assert_eq(next, 30, "ids of pruned rows must not be handed out again");
}

Test(store, count_by_status_counts_every_row_but_the_queued)
{
	uint64_t counts[4] = { 9, 9, 9, 9 };
	uint64_t small[2];

	put_rows(1, 10); /* status 0: 3,6,9; 1: 1,4,7,10; 2: 2,5,8 */
	cr_assert_eq(ac_store_count_by_status(st, counts, 4), AC_OK);
	cr_assert_eq(counts[0], 0, "queued rows are counted in memory, not here");
	cr_assert_eq(counts[1], 4);
	cr_assert_eq(counts[2], 3);
	cr_assert_eq(counts[3], 0);
	cr_assert_eq(ac_store_count_by_status(st, small, 2), AC_OK);
	cr_assert_eq(small[1], 4);
}

/* --- kv --- */

typedef struct kv_seen {
	char keys[8][16];
	char values[8][16];
	int count;
} kv_seen;

static bool collect_kv(void *ctx, const char *key, const uint8_t *value, size_t len)
{
	kv_seen *k = ctx;

	cr_assert_lt(k->count, 8);
	cr_assert_lt(len, 16);
	snprintf(k->keys[k->count], 16, "%s", key);
	if (len > 0) {
		memcpy(k->values[k->count], value, len);
	}
	k->values[k->count][len] = '\0';
	k->count++;
	return true;
}

Test(store, kv_put_delete_and_load_in_key_order)
{
	kv_seen k = { .count = 0 };

	cr_assert_eq(ac_store_put_kv(st, "endpoint", "b", (const uint8_t *)"vb", 2), AC_OK);
	cr_assert_eq(ac_store_put_kv(st, "other", "z", (const uint8_t *)"vz", 2), AC_OK);
	cr_assert_eq(ac_store_begin(st), AC_OK);
	cr_assert_eq(ac_store_put_kv(st, "endpoint", "a", (const uint8_t *)"va", 2), AC_OK);
	cr_assert_eq(ac_store_put_kv(st, "endpoint", "c", NULL, 0), AC_OK);
	cr_assert_eq(ac_store_put_kv(st, "endpoint", "b", (const uint8_t *)"vb2", 3), AC_OK);
	cr_assert_eq(ac_store_commit(st), AC_OK);
	reopen();
	cr_assert_eq(ac_store_load_kv(st, "endpoint", collect_kv, &k), AC_OK);
	cr_assert_eq(k.count, 3);
	cr_assert_str_eq(k.keys[0], "a");
	cr_assert_str_eq(k.keys[1], "b");
	cr_assert_str_eq(k.values[1], "vb2");
	cr_assert_str_eq(k.keys[2], "c");
	cr_assert_str_eq(k.values[2], "");
	cr_assert_eq(ac_store_delete_kv(st, "endpoint", "b"), AC_OK);
	cr_assert_eq(ac_store_delete_kv(st, "endpoint", "absent"), AC_OK);
	k = (kv_seen){ .count = 0 };
	cr_assert_eq(ac_store_load_kv(st, "endpoint", collect_kv, &k), AC_OK);
	cr_assert_eq(k.count, 2);
	cr_assert_str_eq(k.keys[1], "c");
	k = (kv_seen){ .count = 0 };
	cr_assert_eq(ac_store_load_kv(st, "other", collect_kv, &k), AC_OK);
	cr_assert_eq(k.count, 1);
	cr_assert_str_eq(k.values[0], "vz");
}
