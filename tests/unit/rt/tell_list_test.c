/* SPDX-License-Identifier: MIT
 * Tests for ac_actor_tell_list (src/rt/actor_msg.c): a list longer than
 * AC_TELL_LIST_MAX leaves as several messages, each within the limit, and the peer
 * gets every item once, in order; items of any size split where they end.
 */
#include <pthread.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/msg.h"
#include "rt/actor.h"
#include "test_sync.h"

#define MAX_MSGS 16

static struct {
	ac_tsync sync;
	uint32_t msgs;             /* list messages received */
	uint32_t sizes[MAX_MSGS];  /* items per message */
	uint64_t next;             /* the item expected next */
	uint64_t total;
} g;

static ac_rt *rt;
static ac_actor *sender, *receiver;

/* Sender: body is the item count; writes items 0..n-1, every 7th one padded with a
 * long string so items differ in size, and tells them as one list. */
static void on_send(void *state, ac_call *call)
{
	ac_mpw items;
	uint32_t n;
	static char pad[300];

	(void)state;
	if (call->body_len != sizeof(n)) {
		ac_tsync_check(&g.sync, false, "bad send request", __LINE__);
		return;
	}
	memcpy(&n, call->body, sizeof(n));
	memset(pad, 'x', sizeof(pad) - 1);
	ac_mpw_init(&items);
	for (uint32_t i = 0; i < n; i++) {
		ac_mpw_array(&items, 2);
		ac_mpw_u64(&items, i);
		ac_mpw_cstr(&items, i % 7 == 0 ? pad : "");
	}
	ac_actor_tell_list(call->actor, AC_ACTOR_SCHEDULER, AC_MSG_TASK_EVENTS, "tasks", &items, &n);
	ac_tsync_check(&g.sync, n == 0 && ac_mpw_len(&items) == 0, "the list was not emptied",
	    __LINE__);
	ac_mpw_fini(&items);
}

static void on_list(void *state, ac_call *call)
{
	msgpack_unpacked u;
	const msgpack_object *list;
	bool ok;

	(void)state;
	msgpack_unpacked_init(&u);
	ok = msgpack_unpack_next(&u, (const char *)call->body, call->body_len, NULL) ==
	        MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP &&
	    u.data.via.map.size == 1 && u.data.via.map.ptr[0].val.type == MSGPACK_OBJECT_ARRAY;
	ac_tsync_lock(&g.sync);
	ac_tsync_check(&g.sync, ok, "not a {tasks: [...]} map", __LINE__);
	if (ok) {
		list = &u.data.via.map.ptr[0].val;
		for (uint32_t i = 0; i < list->via.array.size; i++) {
			const msgpack_object *item = &list->via.array.ptr[i];
			ac_tsync_check(&g.sync, item->type == MSGPACK_OBJECT_ARRAY &&
			    item->via.array.ptr[0].via.u64 == g.next, "item out of order", __LINE__);
			g.next++;
		}
		if (g.msgs < MAX_MSGS) {
			g.sizes[g.msgs] = list->via.array.size;
		}
		g.msgs++;
		g.total += list->via.array.size;
	}
	ac_tsync_unlock_signal(&g.sync);
	msgpack_unpacked_destroy(&u);
}

static const ac_handler sender_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_COUNT] = { on_send, NULL },
};
static const ac_actor_def sender_def = {
	.name = "sender", .id = AC_ACTOR_QUEUE, .handlers = sender_handlers,
};
static const ac_handler receiver_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TASK_EVENTS] = { on_list, NULL },
};
static const ac_actor_def receiver_def = {
	.name = "receiver", .id = AC_ACTOR_SCHEDULER, .handlers = receiver_handlers,
};

static void setup(void)
{
	memset(&g, 0, sizeof(g));
	ac_tsync_init(&g.sync);
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &receiver_def, NULL, &receiver), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &sender_def, NULL, &sender), AC_OK);
}

static void teardown(void)
{
	ac_actor_stop(sender);
	ac_actor_stop(receiver);
	ac_rt_free(rt);
	ac_tsync_fini(&g.sync);
}

TestSuite(tell_list, .init = setup, .fini = teardown, .timeout = 60);

static void send_list_of(uint32_t n)
{
	ac_env env = { .type = AC_MSG_TEL_COUNT };
	nng_msg *m;

	cr_assert_eq(ac_msg_alloc(&m, &env, &n, sizeof(n)), AC_OK);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_QUEUE, &m), AC_OK);
}

static uint64_t want_total;

static bool all_arrived(const void *arg)
{
	(void)arg;
	return g.total >= want_total || g.sync.bad[0] != '\0';
}

static void expect_items(uint64_t total)
{
	want_total = total;
	cr_assert(ac_tsync_wait(&g.sync, all_arrived, NULL, 30000), "got %llu of %llu items",
	    (unsigned long long)g.total, (unsigned long long)total);
	ac_tsync_unlock(&g.sync);
	cr_assert_str_empty(g.sync.bad, "%s", g.sync.bad);
	cr_assert_eq(g.total, total);
}

Test(tell_list, a_short_list_is_one_message)
{
	send_list_of(AC_TELL_LIST_MAX);
	expect_items(AC_TELL_LIST_MAX);
	cr_assert_eq(g.msgs, 1);
}

Test(tell_list, a_long_list_leaves_in_chunks_in_order)
{
	uint32_t n = 2 * AC_TELL_LIST_MAX + 17;

	send_list_of(n);
	expect_items(n);
	cr_assert_eq(g.msgs, 3);
	cr_assert_eq(g.sizes[0], AC_TELL_LIST_MAX);
	cr_assert_eq(g.sizes[1], AC_TELL_LIST_MAX);
	cr_assert_eq(g.sizes[2], 17);
}

/* More than the peer's schema accepts (100 000): every item still arrives. */
Test(tell_list, a_list_past_the_peers_limit_arrives_whole)
{
	uint32_t n = 110000;

	send_list_of(n);
	expect_items(n);
	cr_assert_eq(g.msgs, (n + AC_TELL_LIST_MAX - 1) / AC_TELL_LIST_MAX);
}
