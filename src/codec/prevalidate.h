/* SPDX-License-Identifier: MIT
 * Structural check of untrusted msgpack bytes before msgpack-c sees them: msgpack-c
 * allocates whatever a container header claims, so every count must be backed by bytes.
 */
#ifndef AC_CODEC_PREVALIDATE_H
#define AC_CODEC_PREVALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"

/* Checks that p[0..len) is exactly one well-formed msgpack value: no truncation, no
 * trailing bytes, no reserved byte 0xc1, nesting depth <= max_depth (a scalar at top
 * level has depth 0, a map of scalars depth 1), and every container count no larger
 * than the bytes left (each element needs at least one byte). Runs in O(len) without
 * allocating. Returns AC_OK or AC_EBADREQ. Any thread. */
ac_err ac_prevalidate(const uint8_t *p, size_t len, unsigned max_depth);

/* As ac_prevalidate for the first value of p[0..len), which may be followed by more
 * bytes: *n is that value's size. Splits a run of concatenated values. Any thread. */
ac_err ac_mp_value_len(const uint8_t *p, size_t len, unsigned max_depth, size_t *n);

/* Deepest nesting the protocol accepts anywhere (DESIGN §8: 16 inside metadata/result,
 * plus the envelope and the field holding them). */
#define AC_MAX_WIRE_DEPTH 20

#endif
