/* SPDX-License-Identifier: MIT
 * Strict UTF-8 validation per RFC 3629 section 4: rejects overlong forms, UTF-16
 * surrogates (U+D800..U+DFFF), code points above U+10FFFF and truncated sequences.
 * Pure function; ASCII runs are skipped eight bytes at a time.
 */
#include <stdint.h>
#include <string.h>

#include "codec/utf8.h"

/* Valid range of the second byte for each lead byte; the later bytes of a sequence
 * are always 0x80..0xbf. The narrowed ranges are what exclude overlongs (e0, f0),
 * surrogates (ed) and code points above U+10FFFF (f4). */
typedef struct lead {
	uint8_t len;      /* sequence length; 0 = never valid as a lead byte */
	uint8_t lo, hi;   /* second byte range */
} lead;

static lead lead_of(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf) {
		return (lead){ 2, 0x80, 0xbf };
	}
	if (c >= 0xe0 && c <= 0xef) {
		return (lead){ 3, c == 0xe0 ? 0xa0 : 0x80, c == 0xed ? 0x9f : 0xbf };
	}
	if (c >= 0xf0 && c <= 0xf4) {
		return (lead){ 4, c == 0xf0 ? 0x90 : 0x80, c == 0xf4 ? 0x8f : 0xbf };
	}
	return (lead){ 0, 0, 0 }; /* 0x80..0xc1 (continuation, overlong lead), 0xf5.. */
}

static bool is_ascii8(const uint8_t *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof(v));
	return (v & UINT64_C(0x8080808080808080)) == 0;
}

bool ac_utf8_valid(const char *p, size_t len)
{
	const uint8_t *s = (const uint8_t *)p;
	size_t i = 0;

	while (i < len) {
		if (len - i >= 8 && is_ascii8(s + i)) {
			i += 8;
			continue;
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		lead l = lead_of(s[i]);
		if (l.len == 0 || len - i < l.len || s[i + 1] < l.lo || s[i + 1] > l.hi) {
			return false;
		}
		for (size_t k = 2; k < l.len; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return false;
			}
		}
		i += l.len;
	}
	return true;
}
