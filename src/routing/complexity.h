/* SPDX-License-Identifier: MIT
 * Task complexity classification (DESIGN §5.1): a pure function of the submitted
 * description, file hints, verification steps and explicit tier. No state, no I/O.
 */
#ifndef AC_ROUTING_COMPLEXITY_H
#define AC_ROUTING_COMPLEXITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "codec/arena.h"
#include "codec/mpw.h"

typedef enum ac_tier {
	AC_TIER_TRIVIAL,
	AC_TIER_STANDARD,
	AC_TIER_COMPLEX,
	AC_TIER_UNKNOWN,
	AC_TIER_COUNT
} ac_tier;

/* Wire names "trivial", "standard", "complex", "unknown"; NULL-terminated, in
 * ac_tier order, so it doubles as the CHOICE list of complexity_tier. */
extern const char *const ac_tier_names[];

typedef struct ac_complexity_input {
	const char *description; /* UTF-8, not NUL-terminated; may be NULL when len 0 */
	size_t description_len;
	uint32_t file_count;         /* number of file_hints */
	uint32_t verification_count; /* number of verification_steps */
	bool has_explicit;           /* a valid complexity_tier was given */
	ac_tier explicit_tier;
} ac_complexity_input;

typedef struct ac_complexity {
	ac_tier effective_tier;
	bool has_explicit;
	ac_tier explicit_tier;
	bool is_explicit_source; /* source "explicit" when true, else "inferred" */
	ac_tier inferred_tier;
	double confidence;       /* of the inferred tier, 0.0..1.0 */
	uint32_t word_count;
	uint32_t file_count;
	uint32_t verification_count;
	bool has_complex_keyword; /* signals.keywords.complex */
	bool has_trivial_keyword; /* signals.keywords.trivial */
} ac_complexity;

/* Classifies in (rules of DESIGN §5.1, with both fixes). Infallible, any thread. */
void ac_complexity_classify(const ac_complexity_input *in, ac_complexity *out);

/* True when the explicit tier was given and differs from the inferred one (the
 * condition for one complexity.disagreement event). */
bool ac_complexity_disagrees(const ac_complexity *c);

/* Writes c as the wire map of DESIGN §5.1: {effective_tier, explicit_tier (nil when
 * absent), source, inferred {tier, confidence, signals {word_count, file_count,
 * verification_count, keywords {complex: bool, trivial: bool}}}}. */
void ac_complexity_encode(const ac_complexity *c, ac_mpw *w);

/* Reads back a map written by ac_complexity_encode (p[0..len), lists in arena). Keys
 * other than effective_tier may be absent (their fields stay zero, tiers unknown).
 * AC_EINVAL/AC_EBADREQ when it is not such a map: out->effective_tier is then
 * AC_TIER_UNKNOWN. Any thread. */
ac_err ac_complexity_decode(const uint8_t *p, size_t len, ac_arena *arena, ac_complexity *out);

#endif
