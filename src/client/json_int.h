/* SPDX-License-Identifier: MIT
 * Internal to the JSON converter: the string and UTF-8 rules (json_str.c) that the parser
 * (json.c) and the printer (json_print.c) share. Not part of the public API.
 */
#ifndef AC_CLIENT_JSON_INT_H
#define AC_CLIENT_JSON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* Scans the UTF-8 sequence at p[0..avail), avail >= 1 (RFC 3629 / Unicode table 3-7: no
 * overlongs, no surrogates, nothing above U+10FFFF). Returns the bytes it covers and sets
 * *is_valid: a whole valid sequence, or, when invalid, the maximal subpart (>= 1 byte)
 * that a decoder replaces with one U+FFFD. Pure; any thread. */
size_t ac_json_utf8_scan(const uint8_t *p, size_t avail, bool *is_valid);

/* Decodes the JSON string whose opening quote is s[*pos] (s has len bytes) into dst, which
 * must have room for len - *pos bytes (decoded text is never longer than its source).
 * AC_OK: *dst_len bytes of UTF-8 written, *pos one past the closing quote.
 * AC_EINVAL: *reason is static text and *pos the offset it refers to (the opening quote
 * for an unterminated string). Pure; any thread. */
ac_err ac_json_str_decode(const char *s, size_t len, size_t *pos, uint8_t *dst,
    size_t *dst_len, const char **reason);

/* Room ac_json_str_encode needs for len input bytes: quotes plus at most 6 per byte. */
#define AC_JSON_STR_ENCODED_MAX(len) (2 + 6 * (len))

/* Writes p[0..len) as a quoted JSON string into dst (room for AC_JSON_STR_ENCODED_MAX(len)
 * bytes, no NUL written): ", \ and \b \f \n \r \t as short escapes, other control
 * characters as \u00XX, each maximal invalid UTF-8 subpart as U+FFFD, everything else
 * verbatim. Returns the bytes written. Pure; any thread. */
size_t ac_json_str_encode(const uint8_t *p, size_t len, char *dst);

#endif
