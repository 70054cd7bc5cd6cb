/* SPDX-License-Identifier: MIT
 * JSON string syntax and UTF-8 rules, both directions: decoding a JSON string (escapes,
 * \u surrogate pairs, strict UTF-8) for json.c and escaping bytes into one (with U+FFFD
 * for invalid UTF-8) for json_print.c. Pure functions over caller buffers: no allocation.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "client/json_int.h"

/* Decoding: escapes with a one-character form; 0 means "not one of them" ('u' is apart). */
static const char short_unescapes[128] = {
	['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
	['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

/* Encoding: what follows the backslash for each ASCII byte; 0 = verbatim, 'u' = \u00XX. */
static const char escapes[128] = {
	[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
	[0x06] = 'u', [0x07] = 'u', [0x08] = 'b', [0x09] = 't', [0x0a] = 'n', [0x0b] = 'u',
	[0x0c] = 'f', [0x0d] = 'r', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u',
	[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u',
	[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u',
	[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"', ['\\'] = '\\',
};

static const char hex_digits[] = "0123456789abcdef";

size_t ac_json_utf8_scan(const uint8_t *p, size_t avail, bool *is_valid)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the next continuation byte */
	size_t need;

	*is_valid = c < 0x80;
	if (c < 0xc2 || c > 0xf4)
		return 1;
	need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	/* Table 3-7: these leads narrow the second byte (overlongs, surrogates, > U+10FFFF). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i <= need; i++) {
		if (i >= avail || p[i] < lo || p[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}
	*is_valid = true;
	return need + 1;
}

static int hex_value(char c)
{
	int lower = c | 0x20;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (lower >= 'a' && lower <= 'f')
		return lower - 'a' + 10;
	return -1;
}

/* Reads the 4 hex digits at s[at..at+4) into *v; false if they are not all there. */
static bool read_hex4(const char *s, size_t len, size_t at, uint32_t *v)
{
	*v = 0;
	if (at > len || len - at < 4)
		return false;
	for (size_t i = at; i < at + 4; i++) {
		int d = hex_value(s[i]);
		if (d < 0)
			return false;
		*v = *v << 4 | (uint32_t)d;
	}
	return true;
}

/* Writes code point cp (not a surrogate, <= U+10FFFF) as UTF-8; returns its length. */
static size_t put_utf8(uint8_t *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (uint8_t)(0xc0 | cp >> 6);
		d[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (uint8_t)(0xe0 | cp >> 12);
		d[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (uint8_t)(0xf0 | cp >> 18);
	d[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Reads the \u escape at s[*pos] into *cp, joining a high surrogate with the escaped low
 * one that must follow. On error, *reason and *pos say what and where. */
static ac_err read_u_escape(const char *s, size_t len, size_t *pos, uint32_t *cp,
    const char **reason)
{
	size_t at = *pos;
	uint32_t low;

	*reason = "invalid \\u escape";
	if (!read_hex4(s, len, at + 2, cp))
		return AC_EINVAL;
	*reason = "lone surrogate";
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return AC_EINVAL;
	*pos = at + 6;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return AC_OK;
	*pos = at;
	if (len - at < 8 || s[at + 6] != '\\' || s[at + 7] != 'u')
		return AC_EINVAL;
	if (!read_hex4(s, len, at + 8, &low)) {
		*reason = "invalid \\u escape";
		*pos = at + 6;
		return AC_EINVAL;
	}
	if (low < 0xdc00 || low > 0xdfff)
		return AC_EINVAL;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
	*pos = at + 12;
	return AC_OK;
}

/* Decodes the escape at s[*pos] (a backslash) into dst; returns the bytes written, or
 * sets *err (and *reason, *pos) and returns 0. */
static size_t decode_escape(const char *s, size_t len, size_t *pos, uint8_t *dst,
    const char **reason, ac_err *err)
{
	uint8_t c = (uint8_t)s[*pos + 1]; /* the caller saw that there is one */
	uint32_t cp;

	if (c < 128 && short_unescapes[c] != 0) {
		dst[0] = (uint8_t)short_unescapes[c];
		*pos += 2;
		return 1;
	}
	if (c != 'u') {
		*reason = "invalid escape";
		*err = AC_EINVAL;
		return 0;
	}
	*err = read_u_escape(s, len, pos, &cp, reason);
	return *err == AC_OK ? put_utf8(dst, cp) : 0;
}

ac_err ac_json_str_decode(const char *s, size_t len, size_t *pos, uint8_t *dst,
    size_t *dst_len, const char **reason)
{
	size_t open = *pos, i = open + 1, n = 0;
	ac_err err = AC_OK;

	while (i < len && s[i] != '"') {
		uint8_t c = (uint8_t)s[i];
		size_t run;
		bool is_valid;

		if (c == '\\') {
			if (i + 1 >= len)
				break; /* a final backslash: unterminated */
			n += decode_escape(s, len, &i, dst + n, reason, &err);
			if (err != AC_OK)
				break;
			continue;
		}
		if (c < 0x20) {
			*reason = "control character in string";
			err = AC_EINVAL;
			break;
		}
		run = 1;
		if (c >= 0x80) {
			run = ac_json_utf8_scan((const uint8_t *)s + i, len - i, &is_valid);
			if (!is_valid) {
				*reason = "invalid UTF-8";
				err = AC_EINVAL;
				break;
			}
		}
		memcpy(dst + n, s + i, run);
		n += run;
		i += run;
	}
	if (err == AC_OK && (i >= len || s[i] != '"')) {
		*reason = "unterminated string";
		err = AC_EINVAL;
		i = open;
	}
	*pos = err == AC_OK ? i + 1 : i;
	*dst_len = n;
	return err;
}

size_t ac_json_str_encode(const uint8_t *p, size_t len, char *dst)
{
	size_t n = 0, i = 0;
	bool is_valid;

	dst[n++] = '"';
	while (i < len) {
		uint8_t c = p[i];
		size_t run;

		if (c < 0x80) {
			char e = escapes[c];
			if (e == 0) {
				dst[n++] = (char)c;
			} else if (e != 'u') {
				dst[n++] = '\\';
				dst[n++] = e;
			} else {
				memcpy(dst + n, "\\u00", 4);
				dst[n + 4] = hex_digits[c >> 4];
				dst[n + 5] = hex_digits[c & 0xf];
				n += 6;
			}
			i++;
			continue;
		}
		run = ac_json_utf8_scan(p + i, len - i, &is_valid);
		if (is_valid)
			memcpy(dst + n, p + i, run);
		else
			memcpy(dst + n, "\xef\xbf\xbd", 3); /* U+FFFD */
		n += is_valid ? run : 3;
		i += run;
	}
	dst[n++] = '"';
	return n;
}
