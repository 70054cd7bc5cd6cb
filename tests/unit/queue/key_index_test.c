/* SPDX-License-Identifier: MIT
 * Tests for src/queue/key_index.c: keys are copied and compared by bytes, the
 * creation-order list stays sorted for any arrival order, replace moves an entry,
 * expiry is oldest first and bounded by its limit, fini frees everything.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "queue/key_index.h"

static ac_key_index ki;

static void setup(void)
{
	ac_key_index_init(&ki);
}

static void teardown(void)
{
	ac_key_index_fini(&ki);
}

TestSuite(key_index, .init = setup, .fini = teardown);

static void put(const char *key, uint64_t id, int64_t at)
{
	cr_assert_eq(ac_key_index_put(&ki, key, strlen(key), id, at), AC_OK);
	cr_assert(ac_key_index_check(&ki));
}

static bool has(const char *key, uint64_t want_id, int64_t want_at)
{
	uint64_t id;
	int64_t at;

	return ac_key_index_get(&ki, key, strlen(key), &id, &at) && id == want_id && at == want_at;
}

Test(key_index, keys_are_copied_and_compared_by_bytes)
{
	char buf[8] = "abc";

	cr_assert_eq(ac_key_index_put(&ki, buf, 3, 1, 10), AC_OK);
	buf[0] = 'x';
	cr_assert(has("abc", 1, 10));
	cr_assert_not(has("xbc", 1, 10));
	cr_assert_eq(ac_key_index_put(&ki, "ab\0c", 4, 2, 11), AC_OK); /* embedded NUL */
	cr_assert_eq(ac_key_index_put(&ki, NULL, 0, 3, 12), AC_OK);    /* empty key */
	cr_assert(has("", 3, 12));
	cr_assert(has("abc", 1, 10));
	cr_assert_eq(ac_key_index_count(&ki), 3);
	cr_assert(ac_key_index_check(&ki));
}

Test(key_index, any_arrival_order_expires_oldest_first)
{
	static const int64_t at[] = { 50, 10, 30, 5, 70, 30, 60, 1, 40 };
	char key[16];

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		put(key, i, at[i]);
	}
	ac_key_index_expire(&ki, 30, 100); /* 1, 5, 10, 30, 30 go */
	cr_assert_eq(ac_key_index_count(&ki), 4);
	cr_assert(has("k0", 0, 50));
	cr_assert(has("k8", 8, 40));
	cr_assert_not(has("k2", 2, 30));
	cr_assert_not(has("k5", 5, 30));
	cr_assert(ac_key_index_check(&ki));
	ac_key_index_expire(&ki, 1000, 1); /* the limit: only 40 goes */
	cr_assert_not(has("k8", 8, 40));
	cr_assert_eq(ac_key_index_count(&ki), 3);
}

Test(key_index, replace_updates_id_and_moves_entry)
{
	put("a", 1, 10);
	put("b", 2, 20);
	put("a", 3, 30); /* now newer than b */
	cr_assert_eq(ac_key_index_count(&ki), 2);
	ac_key_index_expire(&ki, 25, 100);
	cr_assert(has("a", 3, 30));
	cr_assert_eq(ac_key_index_count(&ki), 1);
	ac_key_index_remove(&ki, "a", 1);
	ac_key_index_remove(&ki, "a", 1);
	cr_assert_eq(ac_key_index_count(&ki), 0);
	cr_assert(ac_key_index_check(&ki));
}

Test(key_index, many_keys_survive_growth)
{
	char key[32];

	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "submit-%d", i);
		cr_assert_eq(ac_key_index_put(&ki, key, strlen(key), (uint64_t)i, i / 3), AC_OK);
	}
	cr_assert(ac_key_index_check(&ki));
	for (int i = 0; i < 20000; i += 97) {
		snprintf(key, sizeof(key), "submit-%d", i);
		cr_assert(has(key, (uint64_t)i, i / 3));
	}
	ac_key_index_expire(&ki, 999, SIZE_MAX); /* created 0..999 -> i < 3000 */
	cr_assert_eq(ac_key_index_count(&ki), 17000);
	cr_assert(ac_key_index_check(&ki));
}
