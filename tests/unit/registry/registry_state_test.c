/* SPDX-License-Identifier: MIT
 * Tests for src/registry/registry_state.c: the agent table (put/find, registration
 * order, id limits), profiles, counts by state, and expiry of online agents older than
 * a cutoff with one callback per agent.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "registry/registry_state.h"

static ac_agents *as;

static void setup(void)
{
	cr_assert_eq(ac_agents_alloc(&as), AC_OK);
}

static void teardown(void)
{
	ac_agents_free(as);
}

TestSuite(registry_state, .init = setup, .fini = teardown);

static ac_agent *put(const char *id)
{
	ac_agent *a = NULL;

	cr_assert_eq(ac_agents_put(as, id, strlen(id), &a), AC_OK);
	cr_assert_not_null(a);
	return a;
}

static ac_agent *put_seen(const char *id, ac_agent_state state, int64_t last_seen)
{
	ac_agent *a = put(id);

	a->state = state;
	a->last_seen_ms = last_seen;
	return a;
}

Test(registry_state, put_adds_an_offline_zeroed_agent_and_find_returns_it)
{
	ac_agent *a = put("agent-1");

	cr_assert_str_eq(a->id, "agent-1");
	cr_assert_eq(a->state, AC_AGENT_OFFLINE);
	cr_assert_eq(a->current_task, 0);
	cr_assert_eq(a->last_seen_ms, 0);
	cr_assert_eq(a->connected_at_ms, 0);
	cr_assert_null(a->profile);
	cr_assert_eq(a->name[0], '\0');
	cr_assert_eq(ac_agents_find(as, "agent-1", 7), a);
	cr_assert_null(ac_agents_find(as, "agent-2", 7));
	cr_assert_null(ac_agents_find(as, "agent-", 6), "a prefix is another id");
	cr_assert_null(ac_agents_find(as, "agent-10", 8));
	cr_assert_eq(ac_agents_count(as), 1);
}

Test(registry_state, put_of_a_known_id_returns_the_same_record)
{
	ac_agent *a = put("agent-1"), *b;

	a->state = AC_AGENT_WORKING;
	a->current_task = 42;
	b = put("agent-1");
	cr_assert_eq(a, b);
	cr_assert_eq(b->state, AC_AGENT_WORKING);
	cr_assert_eq(b->current_task, 42);
	cr_assert_eq(ac_agents_count(as), 1);
}

Test(registry_state, id_is_taken_by_length_not_by_terminator)
{
	ac_agent *a = NULL;

	cr_assert_eq(ac_agents_put(as, "agent-12345", 7, &a), AC_OK);
	cr_assert_str_eq(a->id, "agent-1");
	cr_assert_eq(ac_agents_find(as, "agent-1xyz", 7), a);
}

Test(registry_state, id_of_128_bytes_fits_and_129_is_invalid)
{
	char id[200];
	ac_agent *a = NULL;

	memset(id, 'a', sizeof(id));
	cr_assert_eq(ac_agents_put(as, id, 128, &a), AC_OK);
	cr_assert_eq(strlen(a->id), 128);
	cr_assert_eq(ac_agents_find(as, id, 128), a);
	a = NULL;
	cr_assert_eq(ac_agents_put(as, id, 129, &a), AC_EINVAL);
	cr_assert_null(a);
	cr_assert_eq(ac_agents_count(as), 1);
}

Test(registry_state, agents_keep_registration_order_through_growth)
{
	char id[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "agent-%d", i);
		put(id);
	}
	cr_assert_eq(ac_agents_count(as), 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "agent-%d", i);
		cr_assert_str_eq(ac_agents_at(as, (size_t)i)->id, id);
		cr_assert_eq(ac_agents_find(as, id, strlen(id)), ac_agents_at(as, (size_t)i));
	}
}

Test(registry_state, set_profile_copies_and_replaces)
{
	ac_agent *a = put("agent-1");
	uint8_t p1[] = { 0x81, 0xa1, 'x', 0x01 };
	uint8_t p2[] = { 0x80 };
	uint8_t empty[1] = { 0 };

	cr_assert_eq(ac_agent_set_profile(a, p1, sizeof(p1)), AC_OK);
	p1[3] = 0x02; /* the agent holds a copy */
	cr_assert_eq(a->profile_len, 4);
	cr_assert_eq(a->profile[3], 0x01);
	cr_assert_neq(a->profile, p1);
	cr_assert_eq(ac_agent_set_profile(a, p2, sizeof(p2)), AC_OK);
	cr_assert_eq(a->profile_len, 1);
	cr_assert_eq(a->profile[0], 0x80);
	cr_assert_eq(ac_agent_set_profile(a, empty, 0), AC_OK);
	cr_assert_eq(a->profile_len, 0);
	cr_assert_not_null(a->profile);
}

Test(registry_state, counts_by_state)
{
	uint64_t by[AC_AGENT_STATE_COUNT];

	ac_agents_counts(as, by);
	cr_assert_arr_eq(by, ((uint64_t[]){ 0, 0, 0, 0 }), sizeof(by));
	put_seen("i1", AC_AGENT_IDLE, 1);
	put_seen("i2", AC_AGENT_IDLE, 1);
	put_seen("as", AC_AGENT_ASSIGNED, 1);
	put_seen("w1", AC_AGENT_WORKING, 1);
	put_seen("w2", AC_AGENT_WORKING, 1);
	put_seen("w3", AC_AGENT_WORKING, 1);
	put("off");
	ac_agents_counts(as, by);
	cr_assert_arr_eq(by, ((uint64_t[]){ 2, 1, 3, 1 }), sizeof(by));
	cr_assert_str_eq(ac_agent_state_names[AC_AGENT_ASSIGNED], "assigned");
	cr_assert_null(ac_agent_state_names[AC_AGENT_STATE_COUNT]);
}

typedef struct expired {
	const ac_agent *seen[16];
	size_t count;
} expired;

static void on_expired(void *ctx, ac_agent *a)
{
	expired *e = ctx;

	cr_assert_lt(e->count, 16);
	cr_assert_eq(a->state, AC_AGENT_OFFLINE, "offline before the callback");
	cr_assert_eq(a->current_task, 0);
	e->seen[e->count++] = a;
}

static bool was_expired(const expired *e, const ac_agent *a)
{
	size_t n = 0;

	for (size_t i = 0; i < e->count; i++) {
		n += e->seen[i] == a;
	}
	cr_assert_leq(n, 1, "%s reported %zu times", a->id, n);
	return n == 1;
}

Test(registry_state, expire_takes_only_online_agents_older_than_the_cutoff)
{
	ac_agent *idle_old = put_seen("idle-old", AC_AGENT_IDLE, 100);
	ac_agent *work_old = put_seen("work-old", AC_AGENT_WORKING, 50);
	ac_agent *asg_old = put_seen("asg-old", AC_AGENT_ASSIGNED, 999);
	ac_agent *at_cutoff = put_seen("at-cutoff", AC_AGENT_IDLE, 1000);
	ac_agent *fresh = put_seen("fresh", AC_AGENT_WORKING, 2000);
	ac_agent *off = put_seen("off", AC_AGENT_OFFLINE, 10);
	expired e = { .count = 0 };
	uint64_t by[AC_AGENT_STATE_COUNT];

	work_old->current_task = 7;
	fresh->current_task = 8;
	cr_assert_eq(ac_agents_expire(as, 1000, on_expired, &e), 3);
	cr_assert_eq(e.count, 3);
	cr_assert(was_expired(&e, idle_old));
	cr_assert(was_expired(&e, work_old));
	cr_assert(was_expired(&e, asg_old));
	cr_assert_not(was_expired(&e, at_cutoff));
	cr_assert_not(was_expired(&e, fresh));
	cr_assert_not(was_expired(&e, off));
	cr_assert_eq(at_cutoff->state, AC_AGENT_IDLE);
	cr_assert_eq(fresh->state, AC_AGENT_WORKING);
	cr_assert_eq(fresh->current_task, 8);
	cr_assert_eq(work_old->current_task, 0);
	cr_assert_eq(work_old->last_seen_ms, 50, "last_seen is kept");
	ac_agents_counts(as, by);
	cr_assert_arr_eq(by, ((uint64_t[]){ 1, 0, 1, 4 }), sizeof(by));
}

Test(registry_state, expire_calls_back_once_per_agent_across_calls)
{
	expired e = { .count = 0 };
	ac_agent *a = put_seen("a", AC_AGENT_IDLE, 100);
	ac_agent *b = put_seen("b", AC_AGENT_IDLE, 200);

	cr_assert_eq(ac_agents_expire(as, 150, on_expired, &e), 1);
	cr_assert_eq(ac_agents_expire(as, 150, on_expired, &e), 0);
	cr_assert_eq(ac_agents_expire(as, 300, on_expired, &e), 1);
	cr_assert_eq(ac_agents_expire(as, 300, on_expired, &e), 0);
	cr_assert_eq(e.count, 2);
	cr_assert_eq(e.seen[0], a);
	cr_assert_eq(e.seen[1], b);
	/* back online (hello), then silent again: expires again, once */
	a->state = AC_AGENT_IDLE;
	a->last_seen_ms = 400;
	cr_assert_eq(ac_agents_expire(as, 500, on_expired, &e), 1);
	cr_assert_eq(e.count, 3);
	cr_assert_eq(e.seen[2], a);
}

Test(registry_state, expire_on_an_empty_table_does_nothing)
{
	expired e = { .count = 0 };

	cr_assert_eq(ac_agents_expire(as, INT64_MAX, on_expired, &e), 0);
	cr_assert_eq(e.count, 0);
}
