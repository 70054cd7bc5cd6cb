/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's hostile values: invalid UTF-8, strings and lists just past every
 * documented limit (DESIGN §8), integers at the edges of each width, NaN and infinities,
 * bin and ext where strings belong, and deep nesting. The mutators put them in place of
 * valid values; changing a limit in proto/ means adding its neighbours here.
 */
#include <math.h>

#include "livefuzz.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

lf_node *lf_value_bad_utf8(lf_gen *g)
{
	static const struct {
		const char *p;
		size_t len;
	} bad[] = {
		{ "\xc0\xaf", 2 },             /* overlong '/' */
		{ "\xed\xa0\x80", 3 },         /* surrogate */
		{ "\xf4\x90\x80\x80", 4 },     /* past U+10FFFF */
		{ "\xff", 1 },
		{ "abc\xe2\x82", 5 },          /* truncated */
		{ "\x80", 1 },                 /* lone continuation */
		{ "\xe0\x80\x80", 3 },         /* overlong NUL */
		{ "\xf8\x88\x80\x80\x80", 5 }, /* 5-byte form */
		{ "a\0b", 3 },                 /* embedded NUL */
		{ "\xc3", 1 },
	};
	uint32_t i = lf_below(&g->r, COUNT(bad));

	return lf_strn(g, bad[i].p, bad[i].len);
}

lf_node *lf_value_big_str(lf_gen *g)
{
	/* limits: ids 128, other strings 1 024, description 10 000, the request 2 MiB */
	static const uint32_t sizes[] = { 33, 64, 65, 128, 129, 255, 256, 257, 299, 300, 301, 1024,
		1025, 4096, 4097, 10000, 10001, 65536, 70000, 1048577, 1900000 };
	uint32_t n = sizes[lf_below(&g->r, COUNT(sizes))];
	char ch = lf_coin(&g->r, 50) ? 'a' : (char)('0' + lf_below(&g->r, 10));
	lf_node *x = lf_fill(g, ch, n);

	if (lf_coin(&g->r, 20)) {
		x->s[n - 2] = '\xc3'; /* ends in a two-byte character */
		x->s[n - 1] = '\xa9';
	}
	return x;
}

lf_node *lf_value_huge_num(lf_gen *g)
{
	static const uint64_t us[] = { 0, 1, 2, 100, 101, 1000, 1001, 30000, 30001, 65535, 65536,
		0x7fffffffu, 0x80000000u, 0xffffffffu, 0x100000000ull, 2147483647000ull,
		2147483648000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
		0xffffffffffffffffull };
	static const int64_t is[] = { -1, -2, -32, -33, -128, -129, INT32_MIN,
		(int64_t)INT32_MIN - 1, INT64_MIN, INT64_MIN + 1 };
	static const double ds[] = { NAN, INFINITY, -INFINITY, -0.0, 1e308, -1e308, 0.5, 5e-324,
		1e19, -1.0 };
	uint32_t kind = lf_below(&g->r, 5);
	lf_node *x;

	if (kind < 2) {
		return lf_uint(g, us[lf_below(&g->r, COUNT(us))]);
	}
	if (kind == 2) {
		return lf_int(g, is[lf_below(&g->r, COUNT(is))]);
	}
	if (kind == 3) {
		x = lf_f64(g, ds[lf_below(&g->r, COUNT(ds))]);
		if (lf_coin(&g->r, 30)) {
			x->type = LF_F32;
		}
		return x;
	}
	return lf_uint(g, lf_rng_next(&g->r) >> lf_below(&g->r, 64));
}

static lf_node *scalar_bin(lf_gen *g)
{
	lf_node *x = lf_strn(g, "\x00\x01\x02", 3);

	x->type = LF_BIN;
	return x;
}

static lf_node *scalar_ext(lf_gen *g)
{
	lf_node *x = lf_strn(g, "abcd", 1 + lf_below(&g->r, 4));

	x->type = LF_EXT;
	x->ext = (int8_t)lf_below(&g->r, 256);
	return x;
}

static lf_node *scalar_empty_str(lf_gen *g)
{
	return lf_str(g, "");
}

static lf_node *scalar_word(lf_gen *g)
{
	return lf_str(g, "queued");
}

static lf_node *scalar_bool(lf_gen *g)
{
	return lf_bool(g, lf_coin(&g->r, 50));
}

lf_node *lf_value_scalar(lf_gen *g)
{
	static lf_node *(*const makers[])(lf_gen *) = { lf_nil, scalar_bool, lf_value_huge_num,
		scalar_empty_str, scalar_bin, scalar_ext, lf_arr, lf_map, lf_value_bad_utf8,
		scalar_word };

	return makers[lf_below(&g->r, COUNT(makers))](g);
}

lf_node *lf_value_deep(lf_gen *g, int depth, lf_node *leaf)
{
	lf_node *x = leaf;

	for (int i = 0; i < depth; i++) {
		lf_node *w = lf_coin(&g->r, 50) ? lf_arr(g) : lf_map(g);

		if (w->type == LF_ARR) {
			lf_push(g, w, x);
		} else {
			lf_put(g, w, "d", x);
		}
		x = w;
	}
	return x;
}

lf_node *lf_value_big_list(lf_gen *g, lf_node *item)
{
	/* lists <= 256, tasks <= 1 000, the pre-validator's count limits past those */
	static const uint32_t sizes[] = { 0, 1, 3, 4, 16, 17, 255, 256, 257, 1000, 1001, 4097,
		70000 };
	uint32_t n = sizes[lf_below(&g->r, COUNT(sizes))];
	lf_node *a = lf_container(g, LF_ARR, n + 1);

	for (uint32_t i = 0; i < n; i++) {
		lf_push(g, a, item);
	}
	return a;
}
