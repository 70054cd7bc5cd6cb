/* SPDX-License-Identifier: MIT
 * msgpack -> JSON text (ac_msgpack_to_json): prevalidates the bytes, then walks them in
 * one pass into a growable text buffer whose out-of-memory error is sticky (write
 * everything, check once). Reads the bytes itself rather than through msgpack-c, whose
 * C unpacker stops at 32 levels of nesting; never reads bytes prevalidation refused.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentcom/json.h"
#include "client/json_int.h"
#include "codec/prevalidate.h"
#include "rt/assert.h"

typedef struct jw {
	char *buf;      /* the text so far, owned until handed to the caller */
	size_t len;
	size_t cap;
	bool is_pretty;
	bool is_oom;    /* sticky: once set, every write is a no-op */
} jw;

typedef enum mp_kind {
	MP_NIL, MP_FALSE, MP_TRUE, MP_UINT, MP_INT, MP_F32, MP_F64,
	MP_STR, MP_BIN, MP_EXT, MP_ARRAY, MP_MAP, MP_KIND_COUNT
} mp_kind;

/* One msgpack header form: its kind, the bytes of the big-endian field after the tag
 * (the value of a number; the length or count of the rest) and, for ext, the bytes after
 * that field which the length does not count (type byte, fixext data). */
typedef struct mp_form {
	uint8_t kind; /* mp_kind */
	uint8_t nlen;
	uint8_t extra;
} mp_form;

/* One decoded header. str/bin payloads are borrowed from the input. */
typedef struct mp_item {
	mp_kind kind;
	uint64_t n;   /* MP_UINT value; str/bin length; array/map count */
	int64_t i;    /* MP_INT value */
	double f;     /* MP_F32/MP_F64 value */
	const uint8_t *data;
} mp_item;

/* Reads bytes that ac_prevalidate has passed: every length is backed by bytes. */
typedef struct mp_reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
} mp_reader;

/* depth: containers around the value, for the pretty indent. */
typedef void (*write_fn)(jw *w, mp_reader *r, const mp_item *it, unsigned depth);

static const char base64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 0xc0..0xdf block of the msgpack spec; the fix forms are decoded in read_item. */
static const mp_form forms[32] = {
	[0x00] = { MP_NIL, 0, 0 }, [0x01] = { MP_NIL, 0, 0 }, /* 0xc1: prevalidate refuses */
	[0x02] = { MP_FALSE, 0, 0 }, [0x03] = { MP_TRUE, 0, 0 },
	[0x04] = { MP_BIN, 1, 0 }, [0x05] = { MP_BIN, 2, 0 }, [0x06] = { MP_BIN, 4, 0 },
	[0x07] = { MP_EXT, 1, 1 }, [0x08] = { MP_EXT, 2, 1 }, [0x09] = { MP_EXT, 4, 1 },
	[0x0a] = { MP_F32, 4, 0 }, [0x0b] = { MP_F64, 8, 0 },
	[0x0c] = { MP_UINT, 1, 0 }, [0x0d] = { MP_UINT, 2, 0 }, [0x0e] = { MP_UINT, 4, 0 },
	[0x0f] = { MP_UINT, 8, 0 },
	[0x10] = { MP_INT, 1, 0 }, [0x11] = { MP_INT, 2, 0 }, [0x12] = { MP_INT, 4, 0 },
	[0x13] = { MP_INT, 8, 0 },
	[0x14] = { MP_EXT, 0, 2 }, [0x15] = { MP_EXT, 0, 3 }, [0x16] = { MP_EXT, 0, 5 },
	[0x17] = { MP_EXT, 0, 9 }, [0x18] = { MP_EXT, 0, 17 },
	[0x19] = { MP_STR, 1, 0 }, [0x1a] = { MP_STR, 2, 0 }, [0x1b] = { MP_STR, 4, 0 },
	[0x1c] = { MP_ARRAY, 2, 0 }, [0x1d] = { MP_ARRAY, 4, 0 },
	[0x1e] = { MP_MAP, 2, 0 }, [0x1f] = { MP_MAP, 4, 0 },
};

/* Makes room for n more bytes; false (and is_oom set) when memory runs out. */
static bool reserve(jw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 64;
	char *grown;

	if (w->is_oom)
		return false;
	if (w->cap - w->len >= n)
		return true;
	while (cap - w->len < n && cap <= SIZE_MAX / 2)
		cap *= 2;
	grown = cap - w->len >= n ? realloc(w->buf, cap) : NULL;
	if (grown == NULL) {
		w->is_oom = true;
		return false;
	}
	w->buf = grown;
	w->cap = cap;
	return true;
}

static void put(jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void put_cstr(jw *w, const char *s)
{
	put(w, s, strlen(s));
}

/* Pretty mode only: a newline and the indent of depth, before an element or a closing
 * bracket. */
static void put_break(jw *w, unsigned depth)
{
	if (!w->is_pretty || !reserve(w, 1 + 2 * (size_t)depth))
		return;
	w->buf[w->len++] = '\n';
	memset(w->buf + w->len, ' ', 2 * (size_t)depth);
	w->len += 2 * (size_t)depth;
}

static void write_escaped(jw *w, const char *p, size_t n)
{
	if (reserve(w, AC_JSON_STR_ENCODED_MAX(n)))
		w->len += ac_json_str_encode((const uint8_t *)p, n, w->buf + w->len);
}

/* Moves past n bytes and returns them; prevalidation makes the assert an invariant. */
static const uint8_t *take(mp_reader *r, uint64_t n)
{
	const uint8_t *at = r->p + r->pos;

	AC_ASSERT(n <= r->len - r->pos);
	r->pos += (size_t)n;
	return at;
}

static uint64_t take_be(mp_reader *r, unsigned nbytes)
{
	const uint8_t *d = take(r, nbytes);
	uint64_t v = 0;

	for (unsigned i = 0; i < nbytes; i++)
		v = v << 8 | d[i];
	return v;
}

/* Completes it from the form's field v: numbers decoded, payloads taken. */
static void apply_form(mp_reader *r, mp_item *it, mp_form form, uint64_t v)
{
	uint64_t sign = form.nlen > 0 ? (uint64_t)1 << (8 * form.nlen - 1) : 0;
	uint32_t bits32 = (uint32_t)v;
	float f32;

	it->n = v;
	if (it->kind == MP_INT) /* sign-extend without relying on implementation-defined casts */
		it->i = (v & sign) ? -(int64_t)(~v & (sign - 1)) - 1 : (int64_t)v;
	if (it->kind == MP_F32) {
		memcpy(&f32, &bits32, sizeof f32);
		it->f = f32;
	}
	if (it->kind == MP_F64)
		memcpy(&it->f, &v, sizeof it->f);
	if (it->kind == MP_STR || it->kind == MP_BIN)
		it->data = take(r, v);
	if (it->kind == MP_EXT)
		take(r, v + form.extra);
}

static mp_item read_item(mp_reader *r)
{
	uint8_t c = *take(r, 1);
	mp_item it = { .kind = MP_UINT, .n = c };
	mp_form form;

	if (c <= 0x7f)
		return it;
	if (c >= 0xe0) {
		it.kind = MP_INT;
		it.i = (int64_t)c - 256;
		return it;
	}
	if (c < 0xc0) { /* fixmap, fixarray, fixstr */
		it.kind = c < 0x90 ? MP_MAP : c < 0xa0 ? MP_ARRAY : MP_STR;
		it.n = c < 0xa0 ? (c & 0x0f) : (c & 0x1f);
		if (it.kind == MP_STR)
			it.data = take(r, it.n);
		return it;
	}
	form = forms[c - 0xc0];
	it.kind = (mp_kind)form.kind;
	apply_form(r, &it, form, take_be(r, form.nlen));
	return it;
}

static void write_value(jw *w, mp_reader *r, unsigned depth);

/* nil, and ext, which JSON has no way to say. */
static void write_null(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	(void)r;
	(void)it;
	(void)depth;
	put_cstr(w, "null");
}

static void write_bool(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	(void)r;
	(void)depth;
	put_cstr(w, it->kind == MP_TRUE ? "true" : "false");
}

static void write_uint(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	char text[24];

	(void)r;
	(void)depth;
	put(w, text, (size_t)snprintf(text, sizeof text, "%" PRIu64, it->n));
}

static void write_int(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	char text[24];

	(void)r;
	(void)depth;
	put(w, text, (size_t)snprintf(text, sizeof text, "%" PRId64, it->i));
}

/* Shortest of the candidate precisions that reads back as the same value (float32: as the
 * same float). The C locale is in force (see ac_msgpack_to_json). */
static void write_float(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	bool is_f32 = it->kind == MP_F32;
	int prec = is_f32 ? 6 : 15, max_prec = is_f32 ? 9 : 17;
	double back;
	char text[48];

	(void)r;
	(void)depth;
	if (!isfinite(it->f)) {
		put_cstr(w, "null");
		return;
	}
	for (;; prec++) {
		snprintf(text, sizeof text, "%.*g", prec, it->f);
		back = strtod(text, NULL);
		if (prec == max_prec || (is_f32 ? (float)back == (float)it->f : back == it->f))
			break;
	}
	/* "1" would read back as an integer: keep the value a float through a round trip. */
	if (strspn(text, "-0123456789") == strlen(text))
		strcat(text, ".0");
	put_cstr(w, text);
}

static void write_string(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	(void)r;
	(void)depth;
	write_escaped(w, (const char *)it->data, (size_t)it->n);
}

/* bin as a string of standard base64 with padding (RFC 4648 §4). */
static void write_bin(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	const uint8_t *p = it->data;
	size_t n = (size_t)it->n;
	char *d;

	(void)r;
	(void)depth;
	if (!reserve(w, 2 + (n + 2) / 3 * 4))
		return;
	d = w->buf + w->len;
	*d++ = '"';
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)p[i] << 16 | (left > 1 ? (uint32_t)p[i + 1] << 8 : 0) |
		    (left > 2 ? p[i + 2] : 0);

		d[0] = base64_digits[v >> 18];
		d[1] = base64_digits[v >> 12 & 63];
		d[2] = left > 1 ? base64_digits[v >> 6 & 63] : '=';
		d[3] = left > 2 ? base64_digits[v & 63] : '=';
		d += 4;
	}
	*d++ = '"';
	w->len = (size_t)(d - w->buf);
}

static void write_array(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	put(w, "[", 1);
	for (uint64_t i = 0; i < it->n; i++) {
		if (i > 0)
			put(w, ",", 1);
		put_break(w, depth + 1);
		write_value(w, r, depth + 1);
	}
	if (it->n > 0)
		put_break(w, depth);
	put(w, "]", 1);
}

static void write_item(jw *w, mp_reader *r, const mp_item *it, unsigned depth);

/* JSON keys are strings: a str key is written as it is, a bin key as its base64 string,
 * any other key as its compact JSON text, escaped into a string. */
static void write_key(jw *w, mp_reader *r)
{
	mp_item key = read_item(r);
	jw text = { .is_pretty = false };

	if (key.kind == MP_STR || key.kind == MP_BIN) {
		write_item(w, r, &key, 0);
		return;
	}
	write_item(&text, r, &key, 0);
	if (text.is_oom)
		w->is_oom = true;
	else
		write_escaped(w, text.buf, text.len);
	free(text.buf);
}

static void write_map(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	put(w, "{", 1);
	for (uint64_t i = 0; i < it->n; i++) {
		if (i > 0)
			put(w, ",", 1);
		put_break(w, depth + 1);
		write_key(w, r);
		put(w, ": ", w->is_pretty ? 2 : 1);
		write_value(w, r, depth + 1);
	}
	if (it->n > 0)
		put_break(w, depth);
	put(w, "}", 1);
}

static const write_fn writers[MP_KIND_COUNT] = {
	[MP_NIL] = write_null, [MP_FALSE] = write_bool, [MP_TRUE] = write_bool,
	[MP_UINT] = write_uint, [MP_INT] = write_int, [MP_F32] = write_float,
	[MP_F64] = write_float, [MP_STR] = write_string, [MP_BIN] = write_bin,
	[MP_EXT] = write_null, [MP_ARRAY] = write_array, [MP_MAP] = write_map,
};

static void write_item(jw *w, mp_reader *r, const mp_item *it, unsigned depth)
{
	writers[it->kind](w, r, it, depth);
}

static void write_value(jw *w, mp_reader *r, unsigned depth)
{
	mp_item it = read_item(r);

	write_item(w, r, &it, depth);
}

ac_err ac_msgpack_to_json(const uint8_t *mp, size_t len, int flags, char **out)
{
	jw w = { .is_pretty = (flags & AC_JSON_PRETTY) != 0 };
	mp_reader r = { .p = mp, .len = len };
	/* snprintf/strtod read the thread's locale: see ac_json_to_msgpack. */
	locale_t c_locale, saved;

	AC_ASSERT(out != NULL && (mp != NULL || len == 0));
	if (len == 0 || ac_prevalidate(mp, len, AC_JSON_MAX_DEPTH) != AC_OK)
		return AC_EBADREQ;
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		return AC_ENOMEM;
	(void)reserve(&w, 2 * len + 16); /* a guess that usually avoids any regrowth */
	saved = uselocale(c_locale);
	write_value(&w, &r, 0);
	uselocale(saved);
	freelocale(c_locale);
	put(&w, "", 1); /* the NUL */
	AC_ASSERT(r.pos == len);
	if (w.is_oom) {
		free(w.buf);
		return AC_ENOMEM;
	}
	*out = w.buf;
	return AC_OK;
}
