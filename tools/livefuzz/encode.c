/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's msgpack encoder: writes an lf_node tree into a growable buffer
 * capped at LF_BUF_LIMIT. Hand-written on purpose, unlike the project's codecs: it must
 * also produce the forms msgpack-c's packer never emits (non-minimal widths, fixext,
 * float32 NaN, keys of any type), which a decoder has to accept or refuse cleanly.
 */
#include <stdlib.h>
#include <string.h>

#include "livefuzz.h"

void lf_buf_put(lf_buf *b, const void *p, size_t len)
{
	if (b->is_over || b->len + len > LF_BUF_LIMIT) {
		b->is_over = true;
		return;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;
		uint8_t *np;

		while (cap < b->len + len) {
			cap *= 2;
		}
		if ((np = realloc(b->p, cap)) == NULL) {
			b->is_over = true; /* not sent, counted as skipped */
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

void lf_buf_byte(lf_buf *b, uint8_t v)
{
	lf_buf_put(b, &v, 1);
}

void lf_buf_fini(lf_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void put_be(lf_buf *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		lf_buf_byte(b, (uint8_t)(v >> (8 * i)));
	}
}

/* One family of length-prefixed msgpack types (str, bin, array, map). */
typedef struct len_family {
	uint8_t fix;        /* fixed form: fix | len, for len < fix_limit */
	uint32_t fix_limit; /* 0: the family has no fixed form */
	uint8_t code[3];    /* the 8-, 16- and 32-bit forms; 0: that width does not exist */
} len_family;

static const len_family str_family = { 0xa0, 32, { 0xd9, 0xda, 0xdb } };
static const len_family bin_family = { 0, 0, { 0xc4, 0xc5, 0xc6 } };
static const len_family arr_family = { 0x90, 16, { 0, 0xdc, 0xdd } };
static const len_family map_family = { 0x80, 16, { 0, 0xde, 0xdf } };

/* The smallest header for len, or always the 32-bit one when is_wide. */
static void put_len(lf_buf *b, const len_family *f, uint32_t len, bool is_wide)
{
	if (is_wide) {
		lf_buf_byte(b, f->code[2]);
		put_be(b, len, 4);
	} else if (len < f->fix_limit) {
		lf_buf_byte(b, (uint8_t)(f->fix | len));
	} else if (f->code[0] != 0 && len < 256) {
		lf_buf_byte(b, f->code[0]);
		put_be(b, len, 1);
	} else if (len < 65536) {
		lf_buf_byte(b, f->code[1]);
		put_be(b, len, 2);
	} else {
		lf_buf_byte(b, f->code[2]);
		put_be(b, len, 4);
	}
}

typedef void (*enc_fn)(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct);

static void enc_nil(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	(void)g, (void)x, (void)is_wide, (void)wide_pct;
	lf_buf_byte(b, 0xc0);
}

static void enc_bool(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	(void)g, (void)is_wide, (void)wide_pct;
	lf_buf_byte(b, x->b ? 0xc3 : 0xc2);
}

static void enc_uint(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	static const struct {
		uint64_t max;
		uint8_t code;
		int bytes;
	} widths[] = { { 0xff, 0xcc, 1 }, { 0xffff, 0xcd, 2 }, { 0xffffffffu, 0xce, 4 },
		{ UINT64_MAX, 0xcf, 8 } };
	size_t k = 0;

	(void)g, (void)wide_pct;
	if (!is_wide && x->u < 128) {
		lf_buf_byte(b, (uint8_t)x->u);
		return;
	}
	while (is_wide ? widths[k].bytes != 8 : x->u > widths[k].max) {
		k++;
	}
	lf_buf_byte(b, widths[k].code);
	put_be(b, x->u, widths[k].bytes);
}

static void enc_int(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	static const struct {
		int64_t min, max;
		uint8_t code;
		int bytes;
	} widths[] = { { INT8_MIN, INT8_MAX, 0xd0, 1 }, { INT16_MIN, INT16_MAX, 0xd1, 2 },
		{ INT32_MIN, INT32_MAX, 0xd2, 4 }, { INT64_MIN, INT64_MAX, 0xd3, 8 } };
	size_t k = 0;

	(void)g, (void)wide_pct;
	if (!is_wide && x->i >= -32 && x->i < 128) {
		lf_buf_byte(b, (uint8_t)(int8_t)x->i); /* positive or negative fixint */
		return;
	}
	while (is_wide ? widths[k].bytes != 8 : (x->i < widths[k].min || x->i > widths[k].max)) {
		k++;
	}
	lf_buf_byte(b, widths[k].code);
	put_be(b, (uint64_t)x->i, widths[k].bytes);
}

static void enc_f64(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	uint64_t v;

	(void)g, (void)is_wide, (void)wide_pct;
	memcpy(&v, &x->d, sizeof(v));
	lf_buf_byte(b, 0xcb);
	put_be(b, v, 8);
}

static void enc_f32(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	float f = (float)x->d;
	uint32_t v;

	(void)g, (void)is_wide, (void)wide_pct;
	memcpy(&v, &f, sizeof(v));
	lf_buf_byte(b, 0xca);
	put_be(b, v, 4);
}

static void enc_str(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	(void)g, (void)wide_pct;
	put_len(b, &str_family, x->len, is_wide);
	lf_buf_put(b, x->s, x->len);
}

static void enc_bin(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	(void)g, (void)wide_pct;
	put_len(b, &bin_family, x->len, is_wide);
	lf_buf_put(b, x->s, x->len);
}

static void enc_ext(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	static const uint8_t fixext[17] = { [1] = 0xd4, [2] = 0xd5, [4] = 0xd6, [8] = 0xd7,
		[16] = 0xd8 };

	(void)g, (void)is_wide, (void)wide_pct;
	if (x->len < sizeof(fixext) && fixext[x->len] != 0) {
		lf_buf_byte(b, fixext[x->len]);
	} else {
		lf_buf_byte(b, 0xc7); /* ext 8 */
		put_be(b, x->len, 1);
	}
	lf_buf_byte(b, (uint8_t)x->ext);
	lf_buf_put(b, x->s, x->len);
}

static void enc_arr(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	put_len(b, &arr_family, x->count, is_wide);
	for (uint32_t i = 0; i < x->count; i++) {
		lf_encode(g, b, x->kids[i], wide_pct);
	}
}

static void enc_map(lf_gen *g, lf_buf *b, const lf_node *x, bool is_wide, int wide_pct)
{
	put_len(b, &map_family, x->count, is_wide);
	for (uint32_t i = 0; i < 2 * x->count; i++) {
		lf_encode(g, b, x->kids[i], wide_pct);
	}
}

static const enc_fn encoders[] = {
	[LF_NIL] = enc_nil, [LF_BOOL] = enc_bool, [LF_UINT] = enc_uint, [LF_INT] = enc_int,
	[LF_F64] = enc_f64, [LF_F32] = enc_f32, [LF_STR] = enc_str, [LF_BIN] = enc_bin,
	[LF_ARR] = enc_arr, [LF_MAP] = enc_map, [LF_EXT] = enc_ext,
};

void lf_encode(lf_gen *g, lf_buf *b, const lf_node *x, int wide_pct)
{
	/* Stop at once when over: a tree that encodes to gigabytes must not take minutes. */
	if (b->is_over) {
		return;
	}
	encoders[x->type](g, b, x, wide_pct != 0 && lf_coin(&g->r, wide_pct), wide_pct);
}
