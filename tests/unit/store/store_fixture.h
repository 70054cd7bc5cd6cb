/* SPDX-License-Identifier: MIT
 * Shared fixture of the store's unit tests: a fresh temporary data directory and an
 * open store per test (removed in .fini), and a standard set of task rows.
 * Included by exactly one test file per executable; functions are static inline so
 * that a file which does not use one still compiles without warnings.
 */
#ifndef AC_TESTS_STORE_FIXTURE_H
#define AC_TESTS_STORE_FIXTURE_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h"

static char dir[64];
static ac_store *st;

static inline int remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void setup(void)
{
	strcpy(dir, "/tmp/ac_store_test_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(ac_store_open(dir, AC_DURABILITY_FULL, &st), AC_OK);
}

static inline void teardown(void)
{
	ac_store_close(st);
	st = NULL;
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

/* --- helpers --- */

#define MAX_IDS 256

typedef struct ids {
	uint64_t id[MAX_IDS];
	int count;
	int stop_after; /* 0 = never stop early */
} ids;

static inline bool collect(void *ctx, const ac_task_row *row)
{
	ids *c = ctx;

	cr_assert_lt(c->count, MAX_IDS);
	c->id[c->count++] = row->id;
	return c->stop_after == 0 || c->count < c->stop_after;
}

static const char *const agents[] = { "a", "b", NULL };

/* Row i of the standard fixture: status i%3, priority i%2, assigned a/b/none,
 * terminal when status is 2, record "rec<i>". */
static inline ac_task_row fixture_row(uint64_t i, char *rec, size_t cap)
{
	ac_task_row r = {
		.id = i,
		.status = (int)(i % 3),
		.priority = (int)(i % 2),
		.assigned_to = agents[i % 3 == 0 ? 2 : i % 2],
		.created_at_ms = 1000 + (int64_t)i,
		.updated_at_ms = 2000 + (int64_t)i,
		.is_terminal = i % 3 == 2,
	};

	r.record_len = (size_t)snprintf(rec, cap, "rec%llu", (unsigned long long)i);
	r.record = (const uint8_t *)rec;
	return r;
}

static inline void put_rows(uint64_t first, uint64_t last)
{
	char rec[32];

	cr_assert_eq(ac_store_begin(st), AC_OK);
	for (uint64_t i = first; i <= last; i++) {
		ac_task_row r = fixture_row(i, rec, sizeof rec);
		cr_assert_eq(ac_store_put_task(st, &r), AC_OK);
	}
	cr_assert_eq(ac_store_commit(st), AC_OK);
}

static inline bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static inline void reopen(void)
{
	ac_store_close(st);
	st = NULL;
	cr_assert_eq(ac_store_open(dir, AC_DURABILITY_FULL, &st), AC_OK);
}

#endif
