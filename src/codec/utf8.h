/* SPDX-License-Identifier: MIT
 * Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 */
#ifndef AC_CODEC_UTF8_H
#define AC_CODEC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when p[0..len) is valid UTF-8. NUL bytes are valid. Any thread. */
bool ac_utf8_valid(const char *p, size_t len);

#endif
