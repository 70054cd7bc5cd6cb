/* SPDX-License-Identifier: MIT
 * The store's checkpoint policy (store.c on_wal_commit, checkpointer.c): past the
 * start size a background pass copies the WAL while commits go on, then the
 * committing thread checkpoints the short tail so that the log restarts; past the
 * force size it checkpoints inline. Small page thresholds keep the tests quick.
 */
#include <sys/stat.h>

#include "store_fixture.h"

#define RECORD_BYTES 2048
#define MAX_COMMITS 4000

static off_t wal_bytes(void)
{
	char path[128];
	struct stat sb;

	snprintf(path, sizeof path, "%s/agentcom.db-wal", dir);
	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* One commit of two rows with 2 KiB records (a few pages of WAL each). */
static void put_big(uint64_t id)
{
	static uint8_t rec[RECORD_BYTES];
	ac_task_row r = { .status = 1, .record = rec, .record_len = sizeof rec };

	memset(rec, (int)(id & 0xff), sizeof rec);
	cr_assert_eq(ac_store_begin(st), AC_OK);
	for (uint64_t i = 0; i < 2; i++) {
		r.id = id * 2 + i + 1;
		cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	}
	cr_assert_eq(ac_store_commit(st), AC_OK);
}

Test(store, background_pass_then_tail_keeps_the_wal_small)
{
	unsigned long background = 0, inline_ = 0;
	uint64_t n = 0;
	off_t largest = 0;

	ac_store_checkpoint_policy(st, 40, 100000);
	/* commits until the tail checkpoint after a background pass has happened twice
	 * (so the log restarted at least once in between) */
	for (; n < MAX_COMMITS && inline_ < 2; n++) {
		put_big(n);
		ac_store_checkpoint_counts(st, &background, &inline_);
		largest = wal_bytes() > largest ? wal_bytes() : largest;
	}
	cr_assert_geq(inline_, 2, "no tail checkpoint after %llu commits", (unsigned long long)n);
	cr_assert_geq(background, 1);
	/* restarted logs are rewritten from their start, not grown: far below the
	 * force size (100000 pages) */
	cr_assert_lt(largest, (off_t)4000 * 4096, "WAL grew to %lld bytes", (long long)largest);
	reopen();
	for (uint64_t i = 1; i <= n * 2; i++) {
		ac_task_row out;
		cr_assert_eq(ac_store_get_task(st, i, &out), AC_OK, "row %llu lost", (unsigned long long)i);
		cr_assert_eq(out.record_len, RECORD_BYTES);
	}
}

Test(store, force_size_checkpoints_inline_without_the_background_pass)
{
	unsigned long background = 0, inline_ = 0;

	/* force below start: every commit past it checkpoints inline, none is asked of
	 * the checkpointer */
	ac_store_checkpoint_policy(st, 20, 20);
	for (uint64_t n = 0; n < 200 && inline_ == 0; n++) {
		put_big(n);
		ac_store_checkpoint_counts(st, &background, &inline_);
	}
	cr_assert_geq(inline_, 1);
	cr_assert_eq(background, 0);
}
