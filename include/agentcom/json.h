/* SPDX-License-Identifier: MIT
 * JSON <-> msgpack conversion for libagentcom users: the CLI's --json output and --file
 * input, and the reference agent's task/result JSON. Both directions are pure functions
 * over byte buffers: no global state, no I/O, independent of the process locale.
 */
#ifndef AGENTCOM_JSON_H
#define AGENTCOM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* Deepest container nesting either direction accepts: a scalar has depth 0, an array of
 * scalars depth 1. */
#define AC_JSON_MAX_DEPTH 64

/* Parses the JSON text json[0..len) (RFC 8259, UTF-8, no BOM; json need not be
 * NUL-terminated) into exactly one msgpack value in the smallest encoding:
 * - strings: escapes decoded, \u escapes incl. surrogate pairs become UTF-8 (\u0000 is
 *   kept as a NUL byte); raw bytes must be valid UTF-8 and raw control characters are
 *   rejected;
 * - numbers without fraction or exponent that fit int64 (negative) or uint64 become
 *   msgpack ints ("-0" becomes 0); every other number becomes float64; a number whose
 *   magnitude overflows a double is an error;
 * - objects become maps (keys in input order, duplicates kept), arrays become arrays,
 *   true/false/null become bool/nil.
 * Whitespace around the value is allowed; anything else after it is an error.
 * On success returns AC_OK, *out is the msgpack bytes (caller owns; free with free())
 * and *out_len their length; errbuf is left untouched.
 * Errors (*out and *out_len are then untouched):
 * - AC_EINVAL: a syntax error, nesting deeper than AC_JSON_MAX_DEPTH, a string or
 *   container longer than 2^32-1. When errbuf != NULL and errcap > 0, writes
 *   "line L col C: reason" there (NUL-terminated, truncated to errcap bytes); L and C
 *   count from 1, C counts characters (UTF-8 code points) within the line.
 * - AC_ENOMEM: allocation failed (errbuf, if given, gets "out of memory").
 * json may be NULL only when len is 0. Reentrant; any thread. */
ac_err ac_json_to_msgpack(const char *json, size_t len, uint8_t **out, size_t *out_len,
    char *errbuf, size_t errcap);

/* Flags of ac_msgpack_to_json. */
enum {
	AC_JSON_PRETTY = 1 /* newline after every element, 2-space indent, "key": value */
};

/* Writes the msgpack bytes mp[0..len), which must be exactly one value, as JSON text:
 * - nil/bool -> null/true/false; ints -> decimal;
 * - float32/float64 -> the shortest of %.15g, %.16g, %.17g (float32: %.6g..%.9g) that
 *   reads back as the same value, with ".0" appended when that text would read back
 *   as an integer (so 1.0 stays a float through a round trip); NaN and Inf -> null;
 * - str -> a JSON string escaped per RFC 8259 (", \ and \b \f \n \r \t short, other
 *   control characters as \u00XX, "/" and non-ASCII verbatim); each maximal invalid
 *   UTF-8 subsequence becomes one U+FFFD;
 * - bin -> a string of its standard base64 (with padding); ext -> null;
 * - map keys that are not strings are written as their compact JSON text, quoted and
 *   escaped as a string (key 1 -> "1", key [1,"a"] -> "[1,\"a\"]"); a bin key is
 *   written as its base64 string.
 * flags: 0 for compact text without any whitespace, or AC_JSON_PRETTY. No trailing
 * newline in either form.
 * On success returns AC_OK and *out is the NUL-terminated text (caller owns; free with
 * free()). Errors (*out is then untouched):
 * - AC_EBADREQ: mp is not exactly one well-formed msgpack value (truncated, trailing
 *   bytes, reserved bytes, counts not backed by bytes) or nests deeper than
 *   AC_JSON_MAX_DEPTH; mp is checked before anything is allocated for it;
 * - AC_ENOMEM: allocation failed.
 * mp may be NULL only when len is 0 (which is AC_EBADREQ). Reentrant; any thread. */
ac_err ac_msgpack_to_json(const uint8_t *mp, size_t len, int flags, char **out);

#endif
