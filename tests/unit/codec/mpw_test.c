/* SPDX-License-Identifier: MIT
 * Tests for src/codec/mpw.c: every writer call produces the msgpack msgpack-c reads
 * back, raw and object writes nest, and the error is sticky.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "codec/mpw.h"

static msgpack_object unpack(const ac_mpw *w, msgpack_unpacked *u)
{
	size_t off = 0;

	msgpack_unpacked_init(u);
	cr_assert_eq(msgpack_unpack_next(u, (const char *)ac_mpw_data(w), ac_mpw_len(w), &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, ac_mpw_len(w));
	return u->data;
}

Test(mpw, zeroed_writer_fini_is_noop)
{
	ac_mpw w;

	memset(&w, 0, sizeof(w));
	ac_mpw_fini(&w);
	ac_mpw_init(&w);
	ac_mpw_fini(&w);
	ac_mpw_fini(&w);
}

Test(mpw, writes_every_kind)
{
	ac_mpw w;
	msgpack_unpacked u;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 8);
	ac_mpw_key(&w, "s");
	ac_mpw_str(&w, "a\0b", 3);
	ac_mpw_key(&w, "c");
	ac_mpw_cstr(&w, NULL);
	ac_mpw_key(&w, "u");
	ac_mpw_u64(&w, UINT64_MAX);
	ac_mpw_key(&w, "i");
	ac_mpw_i64(&w, INT64_MIN);
	ac_mpw_key(&w, "f");
	ac_mpw_f64(&w, 2.25);
	ac_mpw_key(&w, "b");
	ac_mpw_bool(&w, true);
	ac_mpw_key(&w, "n");
	ac_mpw_nil(&w);
	ac_mpw_key(&w, "a");
	ac_mpw_array(&w, 2);
	ac_mpw_str(&w, "", 0);
	ac_mpw_bool(&w, false);
	cr_assert_eq(w.err, AC_OK);

	msgpack_object o = unpack(&w, &u);
	cr_assert_eq(o.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(o.via.map.size, 8);
	msgpack_object_kv *kv = o.via.map.ptr;
	cr_assert_eq(kv[0].val.type, MSGPACK_OBJECT_STR);
	cr_assert_eq(kv[0].val.via.str.size, 3);
	cr_assert_eq(memcmp(kv[0].val.via.str.ptr, "a\0b", 3), 0);
	cr_assert_eq(kv[1].val.type, MSGPACK_OBJECT_NIL);
	cr_assert_eq(kv[2].val.via.u64, UINT64_MAX);
	cr_assert_eq(kv[3].val.type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	cr_assert_eq(kv[3].val.via.i64, INT64_MIN);
	cr_assert_eq(kv[4].val.type, MSGPACK_OBJECT_FLOAT64);
	cr_assert_eq(kv[4].val.via.f64, 2.25);
	cr_assert_eq(kv[5].val.via.boolean, true);
	cr_assert_eq(kv[6].val.type, MSGPACK_OBJECT_NIL);
	cr_assert_eq(kv[7].val.via.array.size, 2);
	msgpack_unpacked_destroy(&u);
	ac_mpw_fini(&w);
}

Test(mpw, raw_and_object_nest_inside_a_message)
{
	ac_mpw inner, w;
	msgpack_unpacked u1, u2;

	ac_mpw_init(&inner);
	ac_mpw_map(&inner, 1);
	ac_mpw_key(&inner, "k");
	ac_mpw_array(&inner, 1);
	ac_mpw_i64(&inner, -5);
	msgpack_object io = unpack(&inner, &u1);

	ac_mpw_init(&w);
	ac_mpw_array(&w, 2);
	ac_mpw_raw(&w, ac_mpw_data(&inner), ac_mpw_len(&inner));
	ac_mpw_object(&w, &io);
	ac_mpw_raw(&w, NULL, 0);
	cr_assert_eq(w.err, AC_OK);
	cr_assert_eq(ac_mpw_len(&w), 1 + 2 * ac_mpw_len(&inner));
	cr_assert_eq(memcmp(ac_mpw_data(&w) + 1, ac_mpw_data(&inner), ac_mpw_len(&inner)), 0);
	cr_assert_eq(memcmp(ac_mpw_data(&w) + 1 + ac_mpw_len(&inner), ac_mpw_data(&inner),
	                 ac_mpw_len(&inner)), 0);
	msgpack_object o = unpack(&w, &u2);
	cr_assert_eq(o.via.array.size, 2);
	msgpack_unpacked_destroy(&u2);
	msgpack_unpacked_destroy(&u1);
	ac_mpw_fini(&w);
	ac_mpw_fini(&inner);
}

Test(mpw, reset_empties_and_clears_error)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_u64(&w, 1);
	w.err = AC_ENOMEM;
	ac_mpw_u64(&w, 2);
	cr_assert_eq(ac_mpw_len(&w), 1, "writes after an error are no-ops");
	ac_mpw_reset(&w);
	cr_assert_eq(w.err, AC_OK);
	cr_assert_eq(ac_mpw_len(&w), 0);
	ac_mpw_u64(&w, 3);
	cr_assert_eq(ac_mpw_len(&w), 1);
	cr_assert_eq(ac_mpw_data(&w)[0], 3);
	ac_mpw_fini(&w);
}

Test(mpw, string_too_long_for_msgpack_is_sticky)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_str(&w, "x", (size_t)UINT32_MAX + 1);
	cr_assert_eq(w.err, AC_ETOOLARGE);
	ac_mpw_nil(&w);
	cr_assert_eq(ac_mpw_len(&w), 0);
	ac_mpw_fini(&w);
}

Test(mpw, moved_writer_still_writes_its_own_buffer)
{
	ac_mpw a, b;

	ac_mpw_init(&a);
	ac_mpw_u64(&a, 1);
	memcpy(&b, &a, sizeof(b)); /* b takes over a's buffer */
	memset(&a, 0, sizeof(a));
	ac_mpw_u64(&b, 2);
	cr_assert_eq(b.err, AC_OK);
	cr_assert_eq(ac_mpw_len(&b), 2);
	cr_assert_eq(ac_mpw_len(&a), 0);
	ac_mpw_fini(&b);
}

Test(mpw, large_writes_grow_the_buffer)
{
	ac_mpw w;
	static char big[100000];

	memset(big, 'x', sizeof(big));
	ac_mpw_init(&w);
	ac_mpw_array(&w, 3);
	for (int i = 0; i < 3; i++) {
		ac_mpw_str(&w, big, sizeof(big));
	}
	cr_assert_eq(w.err, AC_OK);
	cr_assert_eq(ac_mpw_len(&w), 1 + 3 * (5 + sizeof(big)));
	ac_mpw_fini(&w);
}
