/* SPDX-License-Identifier: MIT
 * JSON text -> msgpack (ac_json_to_msgpack): a recursive-descent parser that writes
 * msgpack bytes as it reads, into one growable buffer it owns until it hands it over.
 * String bodies are json_str.c's; scalars and headers are packed by msgpack-c.
 * Reads only the caller's buffer; allocates nothing but the output (and, rarely, a copy
 * of a very long number).
 */
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "agentcom/json.h"
#include "client/json_int.h"
#include "rt/assert.h"

/* String and container headers are written once their length is known: the parser
 * reserves HDR_MAX bytes, writes the contents, then packs the smallest header and slides
 * the contents back. Each byte moves at most once per enclosing container (<= 64).
 * Rejected: a counting pre-pass, which would tokenize everything twice. */
#define HDR_MAX 5

typedef struct jp {
	const char *s;      /* the JSON text, borrowed */
	size_t len;
	size_t pos;         /* next byte to read */
	unsigned depth;     /* containers currently open */
	uint8_t *out;       /* msgpack written so far, owned until handed to the caller */
	size_t out_len;
	size_t out_cap;
	msgpack_packer pk;  /* appends scalars to out (pack_out) */
	const char *reason; /* syntax error: static text */
	size_t err_pos;     /* syntax error: byte offset it refers to */
} jp;

typedef ac_err (*parse_fn)(jp *p);
typedef int (*pack_header_fn)(msgpack_packer *pk, size_t n);

/* A header packed on its own before it is slid into place. */
typedef struct hdr_buf {
	uint8_t bytes[HDR_MAX];
	size_t len;
} hdr_buf;

static const bool is_ws[256] = { [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true };

typedef struct literal {
	const char *text;
	size_t len;
	uint8_t byte; /* its msgpack encoding */
} literal;

static const literal literals[] = {
	{ "true", 4, 0xc3 }, { "false", 5, 0xc2 }, { "null", 4, 0xc0 },
};

static ac_err fail(jp *p, size_t pos, const char *reason)
{
	p->reason = reason;
	p->err_pos = pos;
	return AC_EINVAL;
}

/* Fails with "unexpected end of input" at the end, else with reason. */
static ac_err fail_expecting(jp *p, const char *reason)
{
	return fail(p, p->pos, p->pos >= p->len ? "unexpected end of input" : reason);
}

static char peek(const jp *p)
{
	return p->pos < p->len ? p->s[p->pos] : '\0';
}

static void skip_ws(jp *p)
{
	while (p->pos < p->len && is_ws[(uint8_t)p->s[p->pos]])
		p->pos++;
}

/* Makes room for n more output bytes. */
static ac_err reserve(jp *p, size_t n)
{
	size_t cap = p->out_cap ? p->out_cap : 64;
	uint8_t *grown;

	if (p->out_cap - p->out_len >= n)
		return AC_OK;
	while (cap - p->out_len < n) {
		if (cap > SIZE_MAX / 2)
			return AC_ENOMEM;
		cap *= 2;
	}
	grown = realloc(p->out, cap);
	if (grown == NULL)
		return AC_ENOMEM;
	p->out = grown;
	p->out_cap = cap;
	return AC_OK;
}

/* msgpack_packer callback: appends to the output; -1 when out of memory. */
static int pack_out(void *data, const char *buf, size_t len)
{
	jp *p = data;

	if (reserve(p, len) != AC_OK)
		return -1;
	memcpy(p->out + p->out_len, buf, len);
	p->out_len += len;
	return 0;
}

/* msgpack_packer callback: collects one header (at most HDR_MAX bytes). */
static int pack_hdr(void *data, const char *buf, size_t len)
{
	hdr_buf *h = data;

	if (len > HDR_MAX - h->len)
		return -1;
	memcpy(h->bytes + h->len, buf, len);
	h->len += len;
	return 0;
}

/* Packs the smallest header for count at start, where HDR_MAX bytes were reserved before
 * the contents, and slides the contents back behind it. open: where the value began. */
static ac_err close_header(jp *p, size_t start, size_t count, pack_header_fn pack,
    size_t open)
{
	hdr_buf h = { .len = 0 };
	msgpack_packer hp;
	int rc;

	if ((uint64_t)count > UINT32_MAX)
		return fail(p, open, "string or container longer than 2^32-1");
	msgpack_packer_init(&hp, &h, pack_hdr);
	rc = pack(&hp, count);
	AC_ASSERT(rc == 0);
	memmove(p->out + start + h.len, p->out + start + HDR_MAX, p->out_len - start - HDR_MAX);
	memcpy(p->out + start, h.bytes, h.len);
	p->out_len -= HDR_MAX - h.len;
	return AC_OK;
}

/* A msgpack_pack_* result as an ac_err: pack_out fails only when memory runs out. */
static ac_err packed(int rc)
{
	return rc == 0 ? AC_OK : AC_ENOMEM;
}

static ac_err parse_string(jp *p)
{
	size_t open = p->pos, start = p->out_len, body_len;
	const char *reason;

	/* Decoded text is never longer than its source: one reservation covers the string. */
	if (reserve(p, HDR_MAX + (p->len - p->pos)) != AC_OK)
		return AC_ENOMEM;
	if (ac_json_str_decode(p->s, p->len, &p->pos, p->out + start + HDR_MAX, &body_len,
	        &reason) != AC_OK)
		return fail(p, p->pos, reason);
	p->out_len += HDR_MAX + body_len;
	return close_header(p, start, body_len, msgpack_pack_str, open);
}

static size_t skip_digits(jp *p)
{
	size_t first = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos - first;
}

/* Moves past one RFC 8259 number; *is_int when it has no fraction and no exponent. */
static ac_err scan_number(jp *p, bool *is_int)
{
	size_t first;

	*is_int = true;
	if (peek(p) == '-')
		p->pos++;
	first = p->pos;
	if (skip_digits(p) == 0)
		return fail_expecting(p, "invalid number");
	if (p->s[first] == '0' && p->pos - first > 1)
		return fail(p, first, "leading zero in number");
	if (peek(p) == '.') {
		p->pos++;
		*is_int = false;
		if (skip_digits(p) == 0)
			return fail_expecting(p, "invalid number");
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		*is_int = false;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (skip_digits(p) == 0)
			return fail_expecting(p, "invalid number");
	}
	return AC_OK;
}

/* Decimal digits d[0..n) as a uint64; false on overflow. */
static bool digits_to_u64(const char *d, size_t n, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned digit = (unsigned)(d[i] - '0');
		if (*v > (UINT64_MAX - digit) / 10)
			return false;
		*v = *v * 10 + digit;
	}
	return true;
}

/* s[start..pos) is a valid number: strtod it (the C locale is in force, see
 * ac_json_to_msgpack). strtod wants a NUL-terminated copy; json need not have a NUL. */
static ac_err parse_float(jp *p, size_t start)
{
	char small[64];
	size_t n = p->pos - start;
	char *text = n < sizeof small ? small : malloc(n + 1);
	double v;

	if (text == NULL)
		return AC_ENOMEM;
	memcpy(text, p->s + start, n);
	text[n] = '\0';
	v = strtod(text, NULL);
	if (text != small)
		free(text);
	if (isinf(v))
		return fail(p, start, "number out of range");
	return packed(msgpack_pack_double(&p->pk, v));
}

/* -mag for mag <= 2^63: -(mag - 1) - 1 reaches INT64_MIN without overflowing. */
static int64_t negate(uint64_t mag)
{
	return mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
}

static ac_err parse_number(jp *p)
{
	size_t start = p->pos;
	size_t sign = p->s[start] == '-' ? 1 : 0;
	bool is_int;
	uint64_t mag;
	ac_err err = scan_number(p, &is_int);

	if (err != AC_OK)
		return err;
	if (is_int && digits_to_u64(p->s + start + sign, p->pos - start - sign, &mag)) {
		if (sign == 0)
			return packed(msgpack_pack_uint64(&p->pk, mag));
		if (mag <= (uint64_t)INT64_MAX + 1)
			return packed(msgpack_pack_int64(&p->pk, negate(mag)));
	}
	return parse_float(p, start);
}

static ac_err parse_literal(jp *p)
{
	for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
		const literal *l = &literals[i];

		if (l->text[0] != p->s[p->pos])
			continue;
		if (p->len - p->pos < l->len || memcmp(p->s + p->pos, l->text, l->len) != 0)
			break;
		if (reserve(p, 1) != AC_OK)
			return AC_ENOMEM;
		p->out[p->out_len++] = l->byte;
		p->pos += l->len;
		return AC_OK;
	}
	return fail(p, p->pos, "invalid literal");
}

static ac_err parse_value(jp *p);

static ac_err parse_member(jp *p)
{
	ac_err err;

	skip_ws(p);
	if (peek(p) != '"')
		return fail_expecting(p, "expected a string key");
	if ((err = parse_string(p)) != AC_OK)
		return err;
	skip_ws(p);
	if (peek(p) != ':')
		return fail_expecting(p, "expected ':'");
	p->pos++;
	return parse_value(p);
}

/* Parses "item (',' item)* close" or just "close", after the opening bracket. */
static ac_err parse_items(jp *p, char close, parse_fn item, size_t *count)
{
	ac_err err;

	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		return AC_OK;
	}
	for (;;) {
		if ((err = item(p)) != AC_OK)
			return err;
		(*count)++;
		skip_ws(p);
		if (peek(p) == close) {
			p->pos++;
			return AC_OK;
		}
		if (peek(p) != ',')
			return fail_expecting(p,
			    close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
		p->pos++;
		skip_ws(p);
		if (peek(p) == close)
			return fail(p, p->pos, "trailing comma");
	}
}

static ac_err parse_container(jp *p, char close, parse_fn item, pack_header_fn pack)
{
	size_t open = p->pos, start = p->out_len;
	size_t count = 0;
	ac_err err;

	if (p->depth == AC_JSON_MAX_DEPTH)
		return fail(p, open, "nesting deeper than 64");
	if (reserve(p, HDR_MAX) != AC_OK)
		return AC_ENOMEM;
	p->out_len += HDR_MAX;
	p->pos++;
	p->depth++;
	err = parse_items(p, close, item, &count);
	p->depth--;
	if (err != AC_OK)
		return err;
	return close_header(p, start, count, pack, open);
}

static ac_err parse_array(jp *p)
{
	return parse_container(p, ']', parse_value, msgpack_pack_array);
}

static ac_err parse_object(jp *p)
{
	return parse_container(p, '}', parse_member, msgpack_pack_map);
}

/* What a value starting with a given byte is; NULL: no value starts so. */
static const parse_fn value_parsers[256] = {
	['{'] = parse_object, ['['] = parse_array, ['"'] = parse_string,
	['t'] = parse_literal, ['f'] = parse_literal, ['n'] = parse_literal,
	['-'] = parse_number, ['0'] = parse_number, ['1'] = parse_number,
	['2'] = parse_number, ['3'] = parse_number, ['4'] = parse_number,
	['5'] = parse_number, ['6'] = parse_number, ['7'] = parse_number,
	['8'] = parse_number, ['9'] = parse_number,
};

static ac_err parse_value(jp *p)
{
	parse_fn fn;

	skip_ws(p);
	fn = p->pos < p->len ? value_parsers[(uint8_t)p->s[p->pos]] : NULL;
	if (fn == NULL)
		return fail_expecting(p, "expected a value");
	return fn(p);
}

static ac_err parse_document(jp *p)
{
	ac_err err;

	msgpack_packer_init(&p->pk, p, pack_out);
	/* msgpack is rarely longer than its JSON, so this is usually the only allocation. */
	if (reserve(p, p->len + 16) != AC_OK)
		return AC_ENOMEM;
	if ((err = parse_value(p)) != AC_OK)
		return err;
	skip_ws(p);
	if (p->pos < p->len)
		return fail(p, p->pos, "trailing characters after the value");
	return AC_OK;
}

/* "line L col C: reason"; C counts code points (lead bytes) since the last newline. */
static void format_error(const jp *p, char *errbuf, size_t errcap)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < p->err_pos && i < p->len; i++) {
		uint8_t c = (uint8_t)p->s[i];
		if (c == '\n') {
			line++;
			col = 1;
		} else if ((c & 0xc0) != 0x80) {
			col++;
		}
	}
	snprintf(errbuf, errcap, "line %zu col %zu: %s", line, col, p->reason);
}

ac_err ac_json_to_msgpack(const char *json, size_t len, uint8_t **out, size_t *out_len,
    char *errbuf, size_t errcap)
{
	jp p = { .s = json, .len = len };
	/* strtod reads the thread's locale; a "C" locale object costs no allocation in glibc
	 * and uselocale only touches this thread, so a caller's setlocale cannot turn "1.5"
	 * into 1. */
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	locale_t saved;
	ac_err err = AC_ENOMEM;

	AC_ASSERT(out != NULL && out_len != NULL && (json != NULL || len == 0));
	if (c_locale == (locale_t)0)
		goto fail_locale;
	saved = uselocale(c_locale);
	err = parse_document(&p);
	uselocale(saved);
	freelocale(c_locale);
	if (err != AC_OK)
		goto fail_parse;
	*out = p.out;
	*out_len = p.out_len;
	return AC_OK;

fail_parse:
	free(p.out);
fail_locale:
	if (errbuf != NULL && errcap > 0) {
		if (err == AC_EINVAL)
			format_error(&p, errbuf, errcap);
		else
			snprintf(errbuf, errcap, "out of memory");
	}
	return err;
}
