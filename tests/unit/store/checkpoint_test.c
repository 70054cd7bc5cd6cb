/* SPDX-License-Identifier: MIT
 * The store's checkpoint policy (store.c on_wal_commit, checkpointer.c): past the
 * start size a background pass copies the WAL while commits go on, then (when commits
 * came during the pass) the committing thread checkpoints the short tail so that the
 * log restarts; past the force size it checkpoints inline. Small page thresholds keep
 * the tests quick.
 */
#include <sys/stat.h>
#include <time.h>

#include "store_fixture.h"

#define RECORD_BYTES 2048
#define COMMITS 1500

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

/* 1500 commits of a few pages each would make a WAL of over 4000 pages (16 MiB) if it
 * never restarted; with a start size of 40 pages it stays far below that, the
 * background passes doing the copying. */
Test(store, background_passes_keep_the_wal_small)
{
	unsigned long background = 0, inline_ = 0;
	off_t largest = 0;

	cr_assert_eq(ac_store_checkpoint_in_background(st), AC_OK);
	ac_store_checkpoint_policy(st, 40, 100000);
	for (uint64_t n = 0; n < COMMITS; n++) {
		put_big(n);
		largest = wal_bytes() > largest ? wal_bytes() : largest;
	}
	ac_store_checkpoint_counts(st, &background, &inline_);
	cr_log_info("%lu background passes, %lu tail checkpoints, largest WAL %lld bytes",
	    background, inline_, (long long)largest);
	cr_assert_geq(background, 1);
	cr_assert_lt(largest, (off_t)4000 * 4096, "WAL grew to %lld bytes", (long long)largest);
	reopen();
	for (uint64_t i = 1; i <= COMMITS * 2; i++) {
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
	cr_assert_eq(ac_store_checkpoint_in_background(st), AC_OK);
	ac_store_checkpoint_policy(st, 20, 20);
	for (uint64_t n = 0; n < 200 && inline_ == 0; n++) {
		put_big(n);
		ac_store_checkpoint_counts(st, &background, &inline_);
	}
	cr_assert_geq(inline_, 1);
	cr_assert_eq(background, 0);
}

/* A pass that copied the whole log (no commits while it ran) lets the log restart by
 * itself; its done flag must not make the next cycle checkpoint the whole log inline:
 * the next tail checkpoint follows a new background pass. */
Test(store, a_complete_pass_leaves_no_inline_checkpoint_for_the_next_cycle)
{
	unsigned long background = 0, inline_ = 0, b1, i1;
	uint64_t n = 0;

	/* a log past the start size, then one commit that asks for the pass */
	cr_assert_eq(ac_store_checkpoint_in_background(st), AC_OK);
	ac_store_checkpoint_policy(st, 100000, 100000);
	for (; n < 30; n++) {
		put_big(n);
	}
	ac_store_checkpoint_policy(st, 40, 100000);
	put_big(n++);
	for (int i = 0; i < 5000 && background == 0; i++) { /* the pass, with no commits */
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
		ac_store_checkpoint_counts(st, &background, &inline_);
	}
	cr_assert_geq(background, 1);
	b1 = background;
	i1 = inline_;
	for (; n < COMMITS && inline_ == i1; n++) {
		put_big(n);
		ac_store_checkpoint_counts(st, &background, &inline_);
	}
	cr_assert_gt(inline_, i1, "no tail checkpoint in %d commits", COMMITS);
	cr_assert_gt(background, b1, "an inline checkpoint without a background pass before it");
}

Test(store, without_the_background_thread_checkpoints_are_inline)
{
	unsigned long background = 0, inline_ = 0;

	ac_store_checkpoint_policy(st, 20, 100000);
	for (uint64_t n = 0; n < 200 && inline_ == 0; n++) {
		put_big(n);
		ac_store_checkpoint_counts(st, &background, &inline_);
	}
	cr_assert_geq(inline_, 1);
	cr_assert_eq(background, 0);
}
