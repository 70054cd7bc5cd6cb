/* SPDX-License-Identifier: MIT
 * Structural pre-validation of untrusted msgpack: one forward pass over the bytes with
 * a fixed stack of "values still owed" per open container. No allocation, no
 * recursion, O(len). It only checks shape; types and limits are the schema's job.
 */
#include <stdbool.h>

#include "codec/prevalidate.h"
#include "rt/assert.h"

/* Deepest max_depth a caller may ask for: the stack below is sized for it. msgpack-c
 * itself refuses nesting deeper than 32, so nothing legitimate comes near. */
#define PV_DEPTH_CAP 128

typedef enum pv_kind { PV_BAD, PV_BLOB, PV_ARRAY, PV_MAP } pv_kind;

/* Shape of a header byte. A BLOB is a scalar, str, bin or ext: its payload is
 * `fixed` bytes plus the length read from the `nlen`-byte field after the byte.
 * For ARRAY and MAP, the `nlen`-byte field is the element count. */
typedef struct pv_shape {
	uint8_t kind;  /* pv_kind */
	uint8_t nlen;  /* bytes of the length/count field: 0, 1, 2 or 4 */
	uint8_t fixed; /* payload bytes that do not depend on a length field */
} pv_shape;

/* The 0xc0..0xdf block of the msgpack spec; the fix* ranges are decoded in shape_of. */
static const pv_shape ext_block[32] = {
	[0xc0 - 0xc0] = { PV_BLOB, 0, 0 },  /* nil */
	[0xc1 - 0xc0] = { PV_BAD, 0, 0 },   /* never used */
	[0xc2 - 0xc0] = { PV_BLOB, 0, 0 },  /* false */
	[0xc3 - 0xc0] = { PV_BLOB, 0, 0 },  /* true */
	[0xc4 - 0xc0] = { PV_BLOB, 1, 0 },  /* bin 8 */
	[0xc5 - 0xc0] = { PV_BLOB, 2, 0 },  /* bin 16 */
	[0xc6 - 0xc0] = { PV_BLOB, 4, 0 },  /* bin 32 */
	[0xc7 - 0xc0] = { PV_BLOB, 1, 1 },  /* ext 8 (+ type byte) */
	[0xc8 - 0xc0] = { PV_BLOB, 2, 1 },  /* ext 16 */
	[0xc9 - 0xc0] = { PV_BLOB, 4, 1 },  /* ext 32 */
	[0xca - 0xc0] = { PV_BLOB, 0, 4 },  /* float 32 */
	[0xcb - 0xc0] = { PV_BLOB, 0, 8 },  /* float 64 */
	[0xcc - 0xc0] = { PV_BLOB, 0, 1 },  /* uint 8 */
	[0xcd - 0xc0] = { PV_BLOB, 0, 2 },  /* uint 16 */
	[0xce - 0xc0] = { PV_BLOB, 0, 4 },  /* uint 32 */
	[0xcf - 0xc0] = { PV_BLOB, 0, 8 },  /* uint 64 */
	[0xd0 - 0xc0] = { PV_BLOB, 0, 1 },  /* int 8 */
	[0xd1 - 0xc0] = { PV_BLOB, 0, 2 },  /* int 16 */
	[0xd2 - 0xc0] = { PV_BLOB, 0, 4 },  /* int 32 */
	[0xd3 - 0xc0] = { PV_BLOB, 0, 8 },  /* int 64 */
	[0xd4 - 0xc0] = { PV_BLOB, 0, 2 },  /* fixext 1 (type + data) */
	[0xd5 - 0xc0] = { PV_BLOB, 0, 3 },  /* fixext 2 */
	[0xd6 - 0xc0] = { PV_BLOB, 0, 5 },  /* fixext 4 */
	[0xd7 - 0xc0] = { PV_BLOB, 0, 9 },  /* fixext 8 */
	[0xd8 - 0xc0] = { PV_BLOB, 0, 17 }, /* fixext 16 */
	[0xd9 - 0xc0] = { PV_BLOB, 1, 0 },  /* str 8 */
	[0xda - 0xc0] = { PV_BLOB, 2, 0 },  /* str 16 */
	[0xdb - 0xc0] = { PV_BLOB, 4, 0 },  /* str 32 */
	[0xdc - 0xc0] = { PV_ARRAY, 2, 0 }, /* array 16 */
	[0xdd - 0xc0] = { PV_ARRAY, 4, 0 }, /* array 32 */
	[0xde - 0xc0] = { PV_MAP, 2, 0 },   /* map 16 */
	[0xdf - 0xc0] = { PV_MAP, 4, 0 },   /* map 32 */
};

/* Returns the shape of header byte c; for the fix* forms the count or length is in
 * the byte itself and returned through *inline_n. */
static pv_shape shape_of(uint8_t c, uint64_t *inline_n)
{
	*inline_n = 0;
	if (c <= 0x7f || c >= 0xe0) {
		return (pv_shape){ PV_BLOB, 0, 0 }; /* positive / negative fixint */
	}
	if (c >= 0xc0) {
		return ext_block[c - 0xc0];
	}
	if (c >= 0xa0) {
		*inline_n = c & 0x1f;
		return (pv_shape){ PV_BLOB, 0, 0 }; /* fixstr */
	}
	*inline_n = c & 0x0f;
	return (pv_shape){ c >= 0x90 ? PV_ARRAY : PV_MAP, 0, 0 }; /* fixarray, fixmap */
}

static uint64_t read_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* Walks the one value at the start of p[0..len) (the checks of ac_prevalidate but
 * trailing bytes allowed); *used is its size in bytes. */
static ac_err walk_value(const uint8_t *p, size_t len, unsigned max_depth, size_t *used)
{
	/* owed[d] = values still to read in the container open at depth d; depth 0 is
	 * the virtual root, which owes the one top-level value. */
	uint64_t owed[PV_DEPTH_CAP + 1];
	unsigned depth = 0;
	size_t pos = 0;

	AC_ASSERT(max_depth <= PV_DEPTH_CAP);
	owed[0] = 1;
	for (;;) {
		while (depth > 0 && owed[depth] == 0) {
			depth--;
		}
		if (owed[depth] == 0) {
			break; /* the root got its value */
		}
		if (pos >= len) {
			return AC_EBADREQ; /* truncated */
		}
		owed[depth]--;

		uint64_t n;
		pv_shape sh = shape_of(p[pos], &n);
		size_t left = len - pos - 1;
		if (sh.kind == PV_BAD || left < sh.nlen) {
			return AC_EBADREQ;
		}
		if (sh.nlen > 0) {
			n = read_be(p + pos + 1, sh.nlen);
		}
		left -= sh.nlen;
		pos += 1u + sh.nlen;
		if (sh.kind == PV_BLOB) {
			n += sh.fixed;
			if (n > left) {
				return AC_EBADREQ; /* payload overruns the input */
			}
			pos += (size_t)n;
			continue;
		}
		/* Container: every element takes at least one byte, so a count the input
		 * cannot back is rejected before msgpack-c would allocate for it. */
		if (sh.kind == PV_MAP) {
			n *= 2; /* n <= 2^32-1, so no overflow */
		}
		if (n > left || depth + 1 > max_depth) {
			return AC_EBADREQ;
		}
		owed[++depth] = n;
	}
	*used = pos;
	return AC_OK;
}

ac_err ac_prevalidate(const uint8_t *p, size_t len, unsigned max_depth)
{
	size_t used;
	ac_err err = walk_value(p, len, max_depth, &used);

	return err == AC_OK && used != len ? AC_EBADREQ : err; /* trailing bytes */
}

ac_err ac_mp_value_len(const uint8_t *p, size_t len, unsigned max_depth, size_t *n)
{
	return walk_value(p, len, max_depth, n);
}
