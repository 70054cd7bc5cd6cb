/* SPDX-License-Identifier: MIT
 * Tests for tools/livefuzz/bytes.c and encode.c: padding lands exactly on 2^k - 4 bytes
 * (the point of the mode: nng then sizes the buffer exactly) with the token first and
 * the op last, and the encoder's non-minimal forms decode to the same values.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "codec/schema.h"
#include "livefuzz.h"

static lf_gen g;
static lf_buf b;
static msgpack_unpacked u;

static void setup(void)
{
	lf_rng_seed(&g.r, 1, 0, 0);
	msgpack_unpacked_init(&u);
}

static void teardown(void)
{
	msgpack_unpacked_destroy(&u);
	lf_buf_fini(&b);
	ac_arena_fini(&g.a);
}

TestSuite(livefuzz_bytes, .init = setup, .fini = teardown);

/* {op: "agent.hello", agent_id, <extra bytes of x>, token} as the builders leave it. */
static lf_node *hello(uint32_t extra)
{
	lf_node *m = lf_map(&g);

	lf_put(&g, m, "op", lf_str(&g, "agent.hello"));
	lf_put(&g, m, "agent_id", lf_str(&g, "a1"));
	lf_put(&g, m, "ollama_url", lf_fill(&g, 'x', extra));
	lf_put(&g, m, "token", lf_str(&g, "ac_0123"));
	return m;
}

static const msgpack_object *decode(void)
{
	size_t off = 0;

	cr_assert_eq(msgpack_unpack_next(&u, (const char *)b.p, b.len, &off), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, b.len, "trailing bytes");
	return &u.data;
}

static bool key_is(const msgpack_object *m, uint32_t i, const char *key)
{
	const msgpack_object *k = &m->via.map.ptr[i].key;

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
	    memcmp(k->via.str.ptr, key, strlen(key)) == 0;
}

Test(livefuzz_bytes, padding_fills_exactly_2k_minus_4_bytes_token_first_op_last)
{
	/* sizes around the pad's str 8 / str 16 header changes and a few powers of two */
	static const uint32_t extras[] = { 0, 10, 200, 900, 995, 1000, 1010, 3000, 40000 };

	for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		const msgpack_object *m;
		size_t wire;

		b.len = 0;
		ac_arena_reset(&g.a);
		cr_assert(lf_pad(&g, hello(extras[i]), &b), "extra %u: %zu bytes", extras[i], b.len);
		wire = b.len + 4; /* nng's REQ header */
		cr_assert(wire >= 1024 && (wire & (wire - 1)) == 0, "extra %u: %zu bytes", extras[i],
		    b.len);
		msgpack_unpacked_destroy(&u);
		msgpack_unpacked_init(&u);
		m = decode();
		cr_assert_eq(m->via.map.size, 5);
		cr_assert(key_is(m, 0, "pad") && key_is(m, 1, "token") && key_is(m, 4, "op"));
	}
}

Test(livefuzz_bytes, wide_encodings_decode_to_the_same_values)
{
	lf_node *m = lf_map(&g);
	lf_node *list = lf_arr(&g);
	const msgpack_object *o, *v;

	lf_push(&g, list, lf_uint(&g, 7));
	lf_push(&g, list, lf_int(&g, -3));
	lf_put(&g, m, "op", lf_str(&g, "task.get"));
	lf_put(&g, m, "id", lf_uint(&g, 42));
	lf_put(&g, m, "l", list);
	lf_encode(&g, &b, m, 100);
	cr_assert_eq(b.p[0], 0xdf, "map 32 header");
	cr_assert_eq(b.p[5], 0xdb, "str 32 key");
	o = decode();
	v = ac_mp_get(o, "op");
	cr_assert(v->via.str.size == 8 && memcmp(v->via.str.ptr, "task.get", 8) == 0);
	cr_assert_eq(ac_mp_get(o, "id")->via.u64, 42);
	v = ac_mp_get(o, "l");
	cr_assert_eq(v->via.array.size, 2);
	cr_assert_eq(v->via.array.ptr[0].via.u64, 7);
	cr_assert_eq(v->via.array.ptr[1].via.i64, -3);
}

Test(livefuzz_bytes, encoding_past_the_limit_marks_the_buffer_over)
{
	lf_node *m = lf_map(&g);

	lf_put(&g, m, "junk", lf_fill(&g, 'z', LF_BUF_LIMIT));
	lf_encode(&g, &b, m, 0);
	cr_assert(b.is_over);
	cr_assert_leq(b.len, LF_BUF_LIMIT);
}
