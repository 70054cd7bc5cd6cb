/* SPDX-License-Identifier: MIT
 * Tests for ac_complexity_decode: it reads back every field ac_complexity_encode
 * writes (the scheduler routes on what it reads), and refuses what is not such a map.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "routing/complexity.h"

static ac_complexity round_trip(const ac_complexity *in)
{
	ac_mpw w;
	ac_arena arena;
	ac_complexity out;

	ac_mpw_init(&w);
	ac_arena_init(&arena);
	ac_complexity_encode(in, &w);
	cr_assert_eq(ac_complexity_decode(ac_mpw_data(&w), ac_mpw_len(&w), &arena, &out), AC_OK);
	ac_arena_fini(&arena);
	ac_mpw_fini(&w);
	return out;
}

static void assert_same(const ac_complexity *a, const ac_complexity *b)
{
	cr_assert_eq(a->effective_tier, b->effective_tier);
	cr_assert_eq(a->has_explicit, b->has_explicit);
	if (a->has_explicit) {
		cr_assert_eq(a->explicit_tier, b->explicit_tier);
	}
	cr_assert_eq(a->is_explicit_source, b->is_explicit_source);
	cr_assert_eq(a->inferred_tier, b->inferred_tier);
	cr_assert_float_eq(a->confidence, b->confidence, 1e-12);
	cr_assert_eq(a->word_count, b->word_count);
	cr_assert_eq(a->file_count, b->file_count);
	cr_assert_eq(a->verification_count, b->verification_count);
	cr_assert_eq(a->has_complex_keyword, b->has_complex_keyword);
	cr_assert_eq(a->has_trivial_keyword, b->has_trivial_keyword);
}

Test(complexity_wire, inferred_classification_reads_back_unchanged)
{
	const char *desc = "rewrite the scheduler and fix typo in its docs";
	ac_complexity_input in = { .description = desc, .description_len = strlen(desc),
		.file_count = 3, .verification_count = 2 };
	ac_complexity c, back;

	ac_complexity_classify(&in, &c);
	back = round_trip(&c);
	assert_same(&c, &back);
	cr_assert(back.has_complex_keyword && back.has_trivial_keyword);
	cr_assert_not(back.has_explicit);
}

Test(complexity_wire, explicit_tier_and_source_read_back)
{
	ac_complexity_input in = { .description = "fix typo", .description_len = 8,
		.has_explicit = true, .explicit_tier = AC_TIER_COMPLEX };
	ac_complexity c, back;

	ac_complexity_classify(&in, &c);
	back = round_trip(&c);
	assert_same(&c, &back);
	cr_assert_eq(back.effective_tier, AC_TIER_COMPLEX);
	cr_assert_eq(back.inferred_tier, AC_TIER_TRIVIAL);
	cr_assert(back.is_explicit_source);
}

Test(complexity_wire, a_map_without_effective_tier_is_refused)
{
	ac_mpw w;
	ac_arena arena;
	ac_complexity out;

	ac_mpw_init(&w);
	ac_arena_init(&arena);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "source");
	ac_mpw_cstr(&w, "inferred");
	cr_assert_eq(ac_complexity_decode(ac_mpw_data(&w), ac_mpw_len(&w), &arena, &out), AC_EINVAL);
	cr_assert_eq(out.effective_tier, AC_TIER_UNKNOWN);
	ac_mpw_reset(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "effective_tier");
	ac_mpw_cstr(&w, "enormous");
	cr_assert_eq(ac_complexity_decode(ac_mpw_data(&w), ac_mpw_len(&w), &arena, &out), AC_EINVAL);
	cr_assert_eq(out.effective_tier, AC_TIER_UNKNOWN);
	ac_arena_fini(&arena);
	ac_mpw_fini(&w);
}

Test(complexity_wire, bytes_that_are_not_a_map_are_refused)
{
	static const uint8_t not_a_map[] = { 0x92, 0x01, 0x02 }; /* [1, 2] */
	static const uint8_t truncated[] = { 0x81, 0xa3, 'a' };
	ac_arena arena;
	ac_complexity out;

	ac_arena_init(&arena);
	cr_assert_neq(ac_complexity_decode(not_a_map, sizeof(not_a_map), &arena, &out), AC_OK);
	cr_assert_neq(ac_complexity_decode(truncated, sizeof(truncated), &arena, &out), AC_OK);
	cr_assert_eq(out.effective_tier, AC_TIER_UNKNOWN);
	ac_arena_fini(&arena);
}
