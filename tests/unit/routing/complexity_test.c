/* SPDX-License-Identifier: MIT
 * Tests for src/routing/complexity.c: the 24 cases of the reference's
 * complexity_test.exs with their computed numbers (original-tests.md §1), the DESIGN
 * §5.1 fixes (word-start keywords with ASCII folding; no keyword-less trivial), and
 * the wire map written by ac_complexity_encode. Over the 500-line soft limit because
 * each reference case keeps its own Test, numbered, so the port can be checked 1:1.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "routing/complexity.h"

#define EPS 1e-9

/* The description of cases 5 and 9: 20 words, complex keywords "Refactor", "migrate". */
static const char refactor_oauth[] =
    "Refactor the entire authentication system to support OAuth2 with multiple "
    "providers, migrate existing user tokens, and update all API endpoints";

static ac_complexity classify(const char *desc, uint32_t files, uint32_t steps)
{
	ac_complexity_input in = {
		.description = desc,
		.description_len = desc != NULL ? strlen(desc) : 0,
		.file_count = files,
		.verification_count = steps,
	};
	ac_complexity c;

	ac_complexity_classify(&in, &c);
	return c;
}

static ac_complexity classify_explicit(const char *desc, ac_tier tier)
{
	ac_complexity_input in = {
		.description = desc,
		.description_len = desc != NULL ? strlen(desc) : 0,
		.has_explicit = true,
		.explicit_tier = tier,
	};
	ac_complexity c;

	ac_complexity_classify(&in, &c);
	return c;
}

static void assert_inferred(const ac_complexity *c, ac_tier tier, double confidence)
{
	cr_assert_eq(c->inferred_tier, tier, "inferred %s, want %s",
	    ac_tier_names[c->inferred_tier], ac_tier_names[tier]);
	cr_assert_float_eq(c->confidence, confidence, EPS, "confidence %.17g, want %.17g",
	    c->confidence, confidence);
	cr_assert_eq(c->is_explicit_source, false);
	cr_assert_eq(c->has_explicit, false);
	cr_assert_eq(c->effective_tier, tier);
}

static void assert_explicit(const ac_complexity *c, ac_tier tier)
{
	cr_assert_eq(c->effective_tier, tier);
	cr_assert_eq(c->has_explicit, true);
	cr_assert_eq(c->explicit_tier, tier);
	cr_assert_eq(c->is_explicit_source, true);
}

/* ---- build/1 with explicit tier (cases 1-7) ---- */

/* Case 1: with nothing else the heuristic says unknown 0.0, so it disagrees. */
Test(complexity, explicit_standard_is_effective_with_explicit_source)
{
	ac_complexity c = classify_explicit(NULL, AC_TIER_STANDARD);

	assert_explicit(&c, AC_TIER_STANDARD);
	cr_assert_eq(c.inferred_tier, AC_TIER_UNKNOWN);
	cr_assert_eq(c.confidence, 0.0);
	cr_assert(ac_complexity_disagrees(&c));
}

/* Case 2. */
Test(complexity, explicit_trivial_is_effective_with_explicit_source)
{
	ac_complexity c = classify_explicit(NULL, AC_TIER_TRIVIAL);

	assert_explicit(&c, AC_TIER_TRIVIAL);
}

/* Case 3. */
Test(complexity, explicit_complex_is_effective_with_explicit_source)
{
	ac_complexity c = classify_explicit(NULL, AC_TIER_COMPLEX);

	assert_explicit(&c, AC_TIER_COMPLEX);
}

/* Case 4: and, inferred unknown too, it is the one explicit tier that agrees. */
Test(complexity, explicit_unknown_is_a_valid_tier)
{
	ac_complexity c = classify_explicit(NULL, AC_TIER_UNKNOWN);

	assert_explicit(&c, AC_TIER_UNKNOWN);
	cr_assert_not(ac_complexity_disagrees(&c));
}

/* Case 5. */
Test(complexity, explicit_tier_wins_when_heuristic_disagrees)
{
	ac_complexity c = classify_explicit(refactor_oauth, AC_TIER_TRIVIAL);

	assert_explicit(&c, AC_TIER_TRIVIAL);
	cr_assert_eq(c.inferred_tier, AC_TIER_COMPLEX);
	cr_assert_float_eq(c.confidence, 0.7, EPS);
	cr_assert_eq(c.word_count, 20);
	cr_assert(c.has_complex_keyword);
}

/* Case 6: the signals are filled in even when the explicit tier decides. */
Test(complexity, heuristic_runs_alongside_explicit_tier)
{
	ac_complexity_input in = {
		.description = "do something",
		.description_len = strlen("do something"),
		.file_count = 1,
		.verification_count = 1,
		.has_explicit = true,
		.explicit_tier = AC_TIER_STANDARD,
	};
	ac_complexity c;

	ac_complexity_classify(&in, &c);
	assert_explicit(&c, AC_TIER_STANDARD);
	cr_assert_eq(c.inferred_tier, AC_TIER_STANDARD);
	cr_assert_float_eq(c.confidence, 2.0 / 3.0, EPS);
	cr_assert_eq(c.word_count, 2);
	cr_assert_eq(c.file_count, 1);
	cr_assert_eq(c.verification_count, 1);
	cr_assert_not(ac_complexity_disagrees(&c));
}

static bool is_tier_name(const char *s)
{
	for (size_t i = 0; ac_tier_names[i] != NULL; i++) {
		if (strcmp(ac_tier_names[i], s) == 0) {
			return true;
		}
	}
	return false;
}

/* Case 7: the caller validates complexity_tier against ac_tier_names (exact spelling)
 * and leaves has_explicit false for anything else, such as "mega_hard". */
Test(complexity, invalid_explicit_tier_is_ignored)
{
	ac_complexity c = classify(NULL, 0, 0);

	cr_assert_not(is_tier_name("mega_hard"));
	cr_assert_not(is_tier_name("Standard"));
	cr_assert_eq(c.has_explicit, false);
	assert_inferred(&c, AC_TIER_UNKNOWN, 0.0);
}

Test(complexity, tier_names_are_null_terminated_in_enum_order)
{
	cr_assert_str_eq(ac_tier_names[AC_TIER_TRIVIAL], "trivial");
	cr_assert_str_eq(ac_tier_names[AC_TIER_STANDARD], "standard");
	cr_assert_str_eq(ac_tier_names[AC_TIER_COMPLEX], "complex");
	cr_assert_str_eq(ac_tier_names[AC_TIER_UNKNOWN], "unknown");
	cr_assert_null(ac_tier_names[AC_TIER_COUNT]);
}

/* ---- build/1 with inferred tier (cases 8-11) ---- */

/* Case 8. */
Test(complexity, short_trivial_description_infers_trivial)
{
	ac_complexity c = classify("fix typo in readme", 0, 0);

	assert_inferred(&c, AC_TIER_TRIVIAL, 0.9);
	cr_assert_eq(c.word_count, 4);
	cr_assert(c.has_trivial_keyword);
}

/* Case 9: 0.7 + one supporting signal (files > 3) = 0.7999999999999999. */
Test(complexity, complex_description_with_many_file_hints_infers_complex)
{
	ac_complexity c = classify(refactor_oauth, 5, 0);

	assert_inferred(&c, AC_TIER_COMPLEX, 0.7 + 0.1);
}

/* Case 10: votes standard (13 words), standard (2 files), trivial (0 steps). */
Test(complexity, medium_description_infers_standard)
{
	ac_complexity c = classify(
	    "Add a new optional field to the user settings page for notification preferences", 2,
	    0);

	assert_inferred(&c, AC_TIER_STANDARD, 2.0 / 3.0);
	cr_assert_eq(c.word_count, 13);
}

/* Case 11. */
Test(complexity, empty_input_is_unknown_with_zero_confidence)
{
	ac_complexity c = classify(NULL, 0, 0);

	assert_inferred(&c, AC_TIER_UNKNOWN, 0.0);
	cr_assert_eq(c.confidence, 0.0);
	cr_assert_eq(c.word_count, 0);
	cr_assert_not(c.has_complex_keyword);
	cr_assert_not(c.has_trivial_keyword);
}

/* ---- atom keys (cases 12-13): in C, the explicit tier comes through the struct ---- */

/* Case 12. */
Test(complexity, explicit_tier_given_through_input_struct)
{
	ac_complexity c = classify_explicit(NULL, AC_TIER_STANDARD);

	assert_explicit(&c, AC_TIER_STANDARD);
}

/* Case 13. */
Test(complexity, description_given_through_input_struct_is_classified)
{
	ac_complexity c = classify("fix typo", 0, 0);

	assert_inferred(&c, AC_TIER_TRIVIAL, 0.9);
}

/* ---- infer/1 (cases 14-16) ---- */

/* Case 14: three trivial votes and no trivial keyword. The reference said trivial 1.0;
 * DESIGN §5.1 fix 2 (rule 4 never yields trivial) makes it standard with 0 of 3 votes. */
Test(complexity, fix_a_bug_without_keyword_is_standard_not_trivial)
{
	ac_complexity c = classify("fix a bug", 0, 0);

	assert_inferred(&c, AC_TIER_STANDARD, 0.0);
	cr_assert_eq(c.word_count, 3);
	cr_assert_not(c.has_trivial_keyword);
}

/* Case 15. */
Test(complexity, confidence_is_within_zero_and_one)
{
	ac_complexity c = classify("fix typo", 0, 0);

	cr_assert(c.confidence >= 0.0 && c.confidence <= 1.0);
	cr_assert_float_eq(c.confidence, 0.9, EPS);
}

/* Case 16. */
Test(complexity, signals_include_word_file_and_verification_counts)
{
	ac_complexity c = classify("do something", 1, 1);

	assert_inferred(&c, AC_TIER_STANDARD, 2.0 / 3.0);
	cr_assert_eq(c.word_count, 2);
	cr_assert_eq(c.file_count, 1);
	cr_assert_eq(c.verification_count, 1);
	cr_assert_not(c.has_complex_keyword);
	cr_assert_not(c.has_trivial_keyword);
}

/* ---- signal-based classification (cases 17-22) ---- */

/* Case 17. */
Test(complexity, trivial_keyword_gives_trivial)
{
	ac_complexity c = classify("fix typo in readme", 0, 0);

	assert_inferred(&c, AC_TIER_TRIVIAL, 0.9);
	cr_assert(c.has_trivial_keyword);
	cr_assert_not(c.has_complex_keyword);
}

/* Case 18. */
Test(complexity, complex_keyword_gives_complex)
{
	ac_complexity c =
	    classify("refactor the authentication architecture and migrate the database", 0, 0);

	assert_inferred(&c, AC_TIER_COMPLEX, 0.7);
	cr_assert_eq(c.word_count, 8);
	cr_assert(c.has_complex_keyword);
}

/* Case 19: "format" is a trivial keyword (at a word start), but 6 files > 3 disable
 * rule 3; votes standard/complex/trivial tie 1-1-1 and go to standard. */
Test(complexity, many_file_hints_disable_trivial_keyword)
{
	ac_complexity c = classify("Update the validation layer across all endpoint handlers to "
				   "support the new enrichment field format",
	    6, 0);

	assert_inferred(&c, AC_TIER_STANDARD, 1.0 / 3.0);
	cr_assert_eq(c.word_count, 15);
	cr_assert(c.has_trivial_keyword);
}

/* Case 20: votes standard (14 words), trivial (0 files), complex (5 steps). */
Test(complexity, many_verification_steps_tie_to_standard)
{
	ac_complexity c = classify("Implement the new feature with all necessary validation "
				   "checks and test coverage across modules",
	    0, 5);

	assert_inferred(&c, AC_TIER_STANDARD, 1.0 / 3.0);
	cr_assert_eq(c.word_count, 14);
}

/* Case 21. */
Test(complexity, short_description_counts_words)
{
	ac_complexity c = classify("bump version", 0, 0);

	cr_assert_eq(c.word_count, 2);
	assert_inferred(&c, AC_TIER_TRIVIAL, 0.9);
}

/* Case 22: votes complex (60 words), trivial, trivial. The reference said trivial
 * 0.667; DESIGN §5.1 fix 2 turns the keyword-less trivial majority into standard with
 * its share of votes, 0 of 3. */
Test(complexity, long_description_without_hints_is_standard_not_trivial)
{
	char desc[60 * 8];
	size_t len = 0;

	for (int i = 1; i <= 60; i++) {
		len += (size_t)snprintf(
		    desc + len, sizeof(desc) - len, "%sword%d", i > 1 ? " " : "", i);
	}
	ac_complexity c = classify(desc, 0, 0);

	cr_assert_eq(c.word_count, 60);
	assert_inferred(&c, AC_TIER_STANDARD, 0.0);
}

/* ---- disagreement (cases 23-24): ac_complexity_disagrees is the event's condition ---- */

/* Case 23. */
Test(complexity, disagrees_when_explicit_and_inferred_differ)
{
	ac_complexity c = classify_explicit("Refactor the entire authentication system to "
					    "support OAuth2 with multiple providers, migrate "
					    "tokens, redesign auth",
	    AC_TIER_TRIVIAL);

	assert_explicit(&c, AC_TIER_TRIVIAL);
	cr_assert_eq(c.inferred_tier, AC_TIER_COMPLEX);
	cr_assert_float_eq(c.confidence, 0.7, EPS);
	cr_assert(ac_complexity_disagrees(&c));
}

/* Case 24. */
Test(complexity, agrees_when_explicit_and_inferred_match)
{
	ac_complexity c = classify_explicit("fix typo", AC_TIER_TRIVIAL);

	cr_assert_eq(c.inferred_tier, AC_TIER_TRIVIAL);
	cr_assert_not(ac_complexity_disagrees(&c));
}

Test(complexity, no_explicit_tier_never_disagrees)
{
	ac_complexity c = classify(refactor_oauth, 0, 0);

	cr_assert_not(ac_complexity_disagrees(&c));
}

/* ---- DESIGN §5.1 fix 1: keywords match at word starts, ASCII case folded ---- */

static bool has_trivial_keyword(const char *desc)
{
	return classify(desc, 0, 0).has_trivial_keyword;
}

static bool has_complex_keyword(const char *desc)
{
	return classify(desc, 0, 0).has_complex_keyword;
}

Test(complexity, format_matches_at_word_start_only)
{
	cr_assert(has_trivial_keyword("formatting the code"));
	cr_assert(has_trivial_keyword("re-format the code"));
	cr_assert(has_trivial_keyword("format"));
	cr_assert_not(has_trivial_keyword("information"));
}

/* The reference found "format" inside "information" and said trivial 0.9. With no
 * keyword the three trivial votes become standard 0.0 (DESIGN §5.1 fixes 1 and 2). */
Test(complexity, update_information_page_is_not_trivial)
{
	ac_complexity c = classify("update information page", 0, 0);

	cr_assert_not(c.has_trivial_keyword);
	assert_inferred(&c, AC_TIER_STANDARD, 0.0);
}

Test(complexity, lint_matches_at_word_start_only)
{
	cr_assert(has_trivial_keyword("linting"));
	cr_assert(has_trivial_keyword("run (lint) again"));
	cr_assert_not(has_trivial_keyword("remove the splinter"));
}

/* "fix  typo" still holds the keyword "typo"; the keywords whose words are not
 * keywords on their own show that two spaces break a multi-word keyword. */
Test(complexity, multi_word_keyword_needs_exactly_one_space)
{
	cr_assert(has_trivial_keyword("fix  typo"));
	cr_assert(has_trivial_keyword("update readme"));
	cr_assert_not(has_trivial_keyword("update  readme"));
	cr_assert(has_trivial_keyword("bump version"));
	cr_assert_not(has_trivial_keyword("bump  version"));
	cr_assert_not(has_trivial_keyword("bump\tversion"));
	cr_assert(has_trivial_keyword("version bump"));
	cr_assert_not(has_trivial_keyword("version  bump"));
}

Test(complexity, keywords_fold_ascii_case)
{
	cr_assert(has_complex_keyword("REFACTOR everything"));
	cr_assert(has_complex_keyword("ReDesign the UI"));
	cr_assert(has_trivial_keyword("Fix Typo"));
	cr_assert(has_trivial_keyword("UPDATE README"));
}

Test(complexity, keyword_after_non_ascii_byte_matches)
{
	/* U+00E9 is two bytes, neither an ASCII letter nor a digit. */
	cr_assert(has_trivial_keyword("\xc3\xa9lint"));
	cr_assert_not(has_trivial_keyword("2lint"));
	cr_assert_not(has_complex_keyword("prerewrite"));
}

Test(complexity, complex_keyword_overrides_trivial_keyword)
{
	ac_complexity c = classify("rewrite the formatter", 0, 0);

	cr_assert(c.has_trivial_keyword);
	assert_inferred(&c, AC_TIER_COMPLEX, 0.7);
}

/* ---- counting, bounds and rule edges ---- */

Test(complexity, words_split_on_ascii_whitespace_runs)
{
	ac_complexity c = classify("  a\tb\n\nc \r\v\fd  ", 0, 0);

	cr_assert_eq(c.word_count, 4);
}

Test(complexity, description_is_read_only_up_to_its_length)
{
	ac_complexity_input in = { .description = "fix typo", .description_len = 5 };
	ac_complexity c;

	ac_complexity_classify(&in, &c);
	cr_assert_eq(c.word_count, 2);
	cr_assert_not(c.has_trivial_keyword); /* "fix t" */
}

Test(complexity, complex_confidence_is_clamped_to_one)
{
	char desc[64 * 4] = "migrate";

	for (int i = 0; i < 50; i++) {
		strcat(desc, " x");
	}
	ac_complexity c = classify(desc, 4, 4);

	cr_assert_eq(c.word_count, 51);
	cr_assert_eq(c.inferred_tier, AC_TIER_COMPLEX);
	cr_assert_eq(c.confidence, 1.0);
}

Test(complexity, trivial_keyword_allows_three_files_and_three_steps)
{
	ac_complexity c = classify("rename the helper", 3, 3);

	assert_inferred(&c, AC_TIER_TRIVIAL, 0.9);
	c = classify("rename the helper", 3, 4);
	cr_assert_eq(c.inferred_tier, AC_TIER_STANDARD);
}

Test(complexity, long_trivial_description_has_lower_confidence)
{
	ac_complexity c =
	    classify("fix typo in the first paragraph of the getting started guide", 0, 0);

	cr_assert_eq(c.word_count, 11);
	assert_inferred(&c, AC_TIER_TRIVIAL, 0.75);
}

/* Trivial 2 votes, standard 1: DESIGN §5.1 fix 2 gives standard with 1 of 3 votes. */
Test(complexity, trivial_majority_becomes_standard_with_its_share)
{
	ac_complexity c = classify("add a field", 2, 0);

	assert_inferred(&c, AC_TIER_STANDARD, 1.0 / 3.0);
}

Test(complexity, complex_majority_wins_the_votes)
{
	ac_complexity c = classify("add a field", 4, 4);

	assert_inferred(&c, AC_TIER_COMPLEX, 2.0 / 3.0);
}

/* ---- wire map ---- */

/* The value under key in map m; fails the test when m is no map or lacks the key. */
static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	cr_assert_eq(m->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object_kv *kv = &m->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key)
		    && memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0) {
			return &kv->val;
		}
	}
	cr_assert_fail("key %s missing", key);
	return NULL;
}

static void assert_str(const msgpack_object *o, const char *want)
{
	cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
	cr_assert_eq(o->via.str.size, strlen(want));
	cr_assert_eq(memcmp(o->via.str.ptr, want, strlen(want)), 0);
}

static void assert_u64(const msgpack_object *o, uint64_t want)
{
	cr_assert_eq(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	cr_assert_eq(o->via.u64, want);
}

static void assert_bool(const msgpack_object *o, bool want)
{
	cr_assert_eq(o->type, MSGPACK_OBJECT_BOOLEAN);
	cr_assert_eq(o->via.boolean, want);
}

/* Inits w, encodes c into it (caller finis w) and unpacks it into u (caller destroys
 * it before w: u's strings point into w's buffer); the whole buffer is one map. */
static const msgpack_object *encode_and_unpack(const ac_complexity *c, ac_mpw *w,
    msgpack_unpacked *u)
{
	size_t off = 0;

	ac_mpw_init(w);
	ac_complexity_encode(c, w);
	cr_assert_eq(w->err, AC_OK);
	msgpack_unpacked_init(u);
	cr_assert_eq(msgpack_unpack_next(u, (const char *)ac_mpw_data(w), ac_mpw_len(w), &off),
	    MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(off, ac_mpw_len(w));
	cr_assert_eq(u->data.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(u->data.via.map.size, 4);
	return &u->data;
}

Test(complexity, encode_writes_inferred_map_with_nil_explicit_tier)
{
	ac_complexity c = classify("Update the validation layer across all endpoint handlers to "
				   "support the new enrichment field format",
	    6, 2);
	ac_mpw w;
	msgpack_unpacked u;
	const msgpack_object *m = encode_and_unpack(&c, &w, &u);
	const msgpack_object *inf = map_get(m, "inferred");
	const msgpack_object *sig = map_get(inf, "signals");
	const msgpack_object *kw = map_get(sig, "keywords");

	assert_str(map_get(m, "effective_tier"), "standard");
	cr_assert_eq(map_get(m, "explicit_tier")->type, MSGPACK_OBJECT_NIL);
	assert_str(map_get(m, "source"), "inferred");
	cr_assert_eq(inf->via.map.size, 3);
	assert_str(map_get(inf, "tier"), "standard");
	cr_assert_eq(map_get(inf, "confidence")->type, MSGPACK_OBJECT_FLOAT64);
	cr_assert_float_eq(map_get(inf, "confidence")->via.f64, 2.0 / 3.0, EPS);
	cr_assert_eq(sig->via.map.size, 4);
	assert_u64(map_get(sig, "word_count"), 15);
	assert_u64(map_get(sig, "file_count"), 6);
	assert_u64(map_get(sig, "verification_count"), 2);
	cr_assert_eq(kw->via.map.size, 2);
	assert_bool(map_get(kw, "complex"), false);
	assert_bool(map_get(kw, "trivial"), true);
	msgpack_unpacked_destroy(&u);
	ac_mpw_fini(&w);
}

Test(complexity, encode_writes_explicit_tier_and_source)
{
	ac_complexity c = classify_explicit(refactor_oauth, AC_TIER_TRIVIAL);
	ac_mpw w;
	msgpack_unpacked u;
	const msgpack_object *m = encode_and_unpack(&c, &w, &u);
	const msgpack_object *inf = map_get(m, "inferred");
	const msgpack_object *kw = map_get(map_get(inf, "signals"), "keywords");

	assert_str(map_get(m, "effective_tier"), "trivial");
	assert_str(map_get(m, "explicit_tier"), "trivial");
	assert_str(map_get(m, "source"), "explicit");
	assert_str(map_get(inf, "tier"), "complex");
	cr_assert_float_eq(map_get(inf, "confidence")->via.f64, 0.7, EPS);
	assert_u64(map_get(map_get(inf, "signals"), "word_count"), 20);
	assert_bool(map_get(kw, "complex"), true);
	assert_bool(map_get(kw, "trivial"), false);
	msgpack_unpacked_destroy(&u);
	ac_mpw_fini(&w);
}
