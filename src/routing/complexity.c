/* SPDX-License-Identifier: MIT
 * Task complexity heuristic of DESIGN §5.1 (the reference's complexity.ex with its two
 * fixes: word-start keyword matching, and no keyword-less trivial from the votes) and
 * the wire map it is published as. Pure: no state, no allocation, no I/O.
 */
#include "routing/complexity.h"

#include <stdint.h>

#include "codec/schema.h"
#include "rt/assert.h"

const char *const ac_tier_names[] = {
	[AC_TIER_TRIVIAL] = "trivial",
	[AC_TIER_STANDARD] = "standard",
	[AC_TIER_COMPLEX] = "complex",
	[AC_TIER_UNKNOWN] = "unknown",
	[AC_TIER_COUNT] = NULL,
};

/* Any of these makes a task complex (rule 2), whatever the other signals say. */
static const char *const complex_keywords[] = {
	"refactor", "architect", "migration", "redesign",
	"migrate", "security", "overhaul", "rewrite",
};

/* Any of these makes a small task trivial (rule 3). Multi-word keywords match only
 * with exactly one ' ' between the words, as in the reference's substring search. */
static const char *const trivial_keywords[] = {
	"fix typo", "update readme", "bump version", "rename",
	"typo", "format", "lint", "version bump",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Thresholds of rules 2..4: fewer than FEW_WORDS words is short, more than MANY_WORDS
 * is long; more than MANY_HINTS files or steps is a lot (and disables rule 3). */
enum { FEW_WORDS = 10, MANY_WORDS = 50, MANY_HINTS = 3 };

/* One vote of rule 4: value < trivial_below votes trivial, value > complex_above votes
 * complex, anything between votes standard. */
typedef struct vote_rule {
	uint32_t value;
	uint32_t trivial_below;
	uint32_t complex_above;
} vote_rule;

/* Tie-break order of rule 4: with three votes only 1-1-1 ties, and it goes to standard. */
static const ac_tier vote_preference[] = { AC_TIER_STANDARD, AC_TIER_COMPLEX, AC_TIER_TRIVIAL };

static bool is_ascii_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ascii_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
}

static unsigned char fold_ascii(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* True when the lowercase keyword kw starts at p[0..len), ASCII case folded. */
static bool has_prefix_folded(const unsigned char *p, size_t len, const char *kw)
{
	size_t i;

	for (i = 0; kw[i] != '\0'; i++) {
		if (i >= len || fold_ascii(p[i]) != (unsigned char)kw[i]) {
			return false;
		}
	}
	return true;
}

/* True when kw occurs in s at a word start: at offset 0 or after a byte that is not
 * an ASCII letter or digit (so "format" is found in "re-format", not "information"). */
static bool contains_word_start(const unsigned char *s, size_t len, const char *kw)
{
	size_t i;

	for (i = 0; i < len; i++) {
		bool is_word_start = i == 0 || !is_ascii_alnum(s[i - 1]);

		if (is_word_start && has_prefix_folded(s + i, len - i, kw)) {
			return true;
		}
	}
	return false;
}

static bool contains_any(const unsigned char *s, size_t len, const char *const *kws, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if (contains_word_start(s, len, kws[i])) {
			return true;
		}
	}
	return false;
}

/* Runs of ASCII whitespace separate words; empty pieces are not words. */
static uint32_t count_words(const unsigned char *s, size_t len)
{
	uint32_t count = 0;
	bool in_word = false;
	size_t i;

	for (i = 0; i < len; i++) {
		bool is_space = is_ascii_space(s[i]);

		if (!is_space && !in_word && count < UINT32_MAX) {
			count++;
		}
		in_word = !is_space;
	}
	return count;
}

static ac_tier vote_of(const vote_rule *r)
{
	if (r->value < r->trivial_below) {
		return AC_TIER_TRIVIAL;
	}
	return r->value > r->complex_above ? AC_TIER_COMPLEX : AC_TIER_STANDARD;
}

/* Rule 4. A trivial majority becomes standard with the share of standard votes as its
 * confidence (DESIGN §5.1 second fix): trivial means "no LLM" and needs a keyword. */
static void classify_by_votes(ac_complexity *out)
{
	const vote_rule rules[] = {
		{ out->word_count, FEW_WORDS, MANY_WORDS },
		{ out->file_count, 1, MANY_HINTS },
		{ out->verification_count, 1, MANY_HINTS },
	};
	unsigned votes[AC_TIER_COUNT] = { 0 };
	ac_tier winner = vote_preference[0];
	size_t i;

	for (i = 0; i < COUNT_OF(rules); i++) {
		votes[vote_of(&rules[i])]++;
	}
	for (i = 1; i < COUNT_OF(vote_preference); i++) {
		if (votes[vote_preference[i]] > votes[winner]) {
			winner = vote_preference[i];
		}
	}
	if (winner == AC_TIER_TRIVIAL) {
		winner = AC_TIER_STANDARD;
	}
	out->inferred_tier = winner;
	out->confidence = votes[winner] / (double)COUNT_OF(rules); /* unrounded: 2/3.0 */
}

/* Rules 1..4 over the signals already in out; first match wins. */
static void infer(ac_complexity *out)
{
	if (out->word_count == 0 && out->file_count == 0 && out->verification_count == 0
	    && !out->has_complex_keyword && !out->has_trivial_keyword) {
		out->inferred_tier = AC_TIER_UNKNOWN;
		out->confidence = 0.0;
	} else if (out->has_complex_keyword) {
		unsigned support = (out->file_count > MANY_HINTS)
		    + (out->verification_count > MANY_HINTS) + (out->word_count > MANY_WORDS);

		out->inferred_tier = AC_TIER_COMPLEX;
		out->confidence = 0.7 + 0.1 * support; /* unrounded: 0.7999999999999999 */
	} else if (out->has_trivial_keyword && out->file_count <= MANY_HINTS
	    && out->verification_count <= MANY_HINTS) {
		out->inferred_tier = AC_TIER_TRIVIAL;
		out->confidence = out->word_count < FEW_WORDS ? 0.9 : 0.75;
	} else {
		classify_by_votes(out);
	}
	if (out->confidence > 1.0) {
		out->confidence = 1.0; /* 0.7 + 0.1 * 3 is 1.0000000000000002 */
	}
}

void ac_complexity_classify(const ac_complexity_input *in, ac_complexity *out)
{
	const unsigned char *s = (const unsigned char *)in->description;
	size_t len = s != NULL ? in->description_len : 0;

	AC_ASSERT(s != NULL || in->description_len == 0);
	AC_ASSERT(!in->has_explicit || (unsigned)in->explicit_tier < AC_TIER_COUNT);
	*out = (ac_complexity){
		.has_explicit = in->has_explicit,
		.explicit_tier = in->has_explicit ? in->explicit_tier : AC_TIER_UNKNOWN,
		.is_explicit_source = in->has_explicit,
		.word_count = count_words(s, len),
		.file_count = in->file_count,
		.verification_count = in->verification_count,
		.has_complex_keyword =
		    contains_any(s, len, complex_keywords, COUNT_OF(complex_keywords)),
		.has_trivial_keyword =
		    contains_any(s, len, trivial_keywords, COUNT_OF(trivial_keywords)),
	};
	infer(out);
	out->effective_tier = in->has_explicit ? in->explicit_tier : out->inferred_tier;
}

bool ac_complexity_disagrees(const ac_complexity *c)
{
	return c->has_explicit && c->explicit_tier != c->inferred_tier;
}

static void encode_signals(const ac_complexity *c, ac_mpw *w)
{
	ac_mpw_map(w, 4);
	ac_mpw_key(w, "word_count");
	ac_mpw_u64(w, c->word_count);
	ac_mpw_key(w, "file_count");
	ac_mpw_u64(w, c->file_count);
	ac_mpw_key(w, "verification_count");
	ac_mpw_u64(w, c->verification_count);
	ac_mpw_key(w, "keywords");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "complex");
	ac_mpw_bool(w, c->has_complex_keyword);
	ac_mpw_key(w, "trivial");
	ac_mpw_bool(w, c->has_trivial_keyword);
}

void ac_complexity_encode(const ac_complexity *c, ac_mpw *w)
{
	AC_ASSERT((unsigned)c->effective_tier < AC_TIER_COUNT);
	AC_ASSERT((unsigned)c->inferred_tier < AC_TIER_COUNT);
	AC_ASSERT(!c->has_explicit || (unsigned)c->explicit_tier < AC_TIER_COUNT);
	ac_mpw_map(w, 4);
	ac_mpw_key(w, "effective_tier");
	ac_mpw_cstr(w, ac_tier_names[c->effective_tier]);
	ac_mpw_key(w, "explicit_tier");
	ac_mpw_cstr(w, c->has_explicit ? ac_tier_names[c->explicit_tier] : NULL); /* nil */
	ac_mpw_key(w, "source");
	ac_mpw_cstr(w, c->is_explicit_source ? "explicit" : "inferred");
	ac_mpw_key(w, "inferred");
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "tier");
	ac_mpw_cstr(w, ac_tier_names[c->inferred_tier]);
	ac_mpw_key(w, "confidence");
	ac_mpw_f64(w, c->confidence);
	ac_mpw_key(w, "signals");
	encode_signals(c, w);
}

/* The wire map's schema, for ac_complexity_decode: the same keys as the encoder. */
typedef struct cx_keywords {
	ac_flag complex;
	ac_flag trivial;
} cx_keywords;
typedef struct cx_signals {
	ac_uint word_count;
	ac_uint file_count;
	ac_uint verification_count;
	ac_obj keywords;
} cx_signals;
typedef struct cx_inferred {
	ac_choice tier;
	ac_real confidence;
	ac_obj signals;
} cx_inferred;
typedef struct cx_map {
	ac_choice effective_tier;
	ac_choice explicit_tier;
	ac_choice source;
	ac_obj inferred;
} cx_map;

static const char *const cx_source_names[] = { "inferred", "explicit", NULL };
static const ac_field keywords_fields[] = {
	AC_F(cx_keywords, complex, "complex", AC_FT_FLAG, false),
	AC_F(cx_keywords, trivial, "trivial", AC_FT_FLAG, false),
};
static const ac_schema keywords_schema = AC_SCHEMA("keywords", cx_keywords, keywords_fields);
static const ac_field signals_fields[] = {
	AC_F(cx_signals, word_count, "word_count", AC_FT_UINT, false, .max = UINT32_MAX),
	AC_F(cx_signals, file_count, "file_count", AC_FT_UINT, false, .max = UINT32_MAX),
	AC_F(cx_signals, verification_count, "verification_count", AC_FT_UINT, false,
	    .max = UINT32_MAX),
	AC_F(cx_signals, keywords, "keywords", AC_FT_OBJ, false, .sub = &keywords_schema),
};
static const ac_schema signals_schema = AC_SCHEMA("signals", cx_signals, signals_fields);
static const ac_field inferred_fields[] = {
	AC_F(cx_inferred, tier, "tier", AC_FT_CHOICE, false, .names = ac_tier_names),
	AC_F(cx_inferred, confidence, "confidence", AC_FT_REAL, false),
	AC_F(cx_inferred, signals, "signals", AC_FT_OBJ, false, .sub = &signals_schema),
};
static const ac_schema inferred_schema = AC_SCHEMA("inferred", cx_inferred, inferred_fields);
static const ac_field cx_fields[] = {
	AC_F(cx_map, effective_tier, "effective_tier", AC_FT_CHOICE, true, .names = ac_tier_names),
	AC_F(cx_map, explicit_tier, "explicit_tier", AC_FT_CHOICE, false, .names = ac_tier_names),
	AC_F(cx_map, source, "source", AC_FT_CHOICE, false, .names = cx_source_names),
	AC_F(cx_map, inferred, "inferred", AC_FT_OBJ, false, .sub = &inferred_schema),
};
static const ac_schema cx_schema = AC_SCHEMA("complexity", cx_map, cx_fields);

static void read_signals(const cx_signals *sig, ac_complexity *out)
{
	out->word_count = (uint32_t)sig->word_count.v;
	out->file_count = (uint32_t)sig->file_count.v;
	out->verification_count = (uint32_t)sig->verification_count.v;
	if (sig->keywords.set) {
		const cx_keywords *kw = sig->keywords.p;
		out->has_complex_keyword = kw->complex.v;
		out->has_trivial_keyword = kw->trivial.v;
	}
}

ac_err ac_complexity_decode(const uint8_t *p, size_t len, ac_arena *arena, ac_complexity *out)
{
	cx_map cx;
	ac_err err;

	*out = (ac_complexity){ .inferred_tier = AC_TIER_UNKNOWN };
	if ((err = ac_schema_decode_bytes(&cx_schema, p, len, &cx, arena, NULL)) != AC_OK) {
		out->effective_tier = AC_TIER_UNKNOWN;
		return err;
	}
	out->effective_tier = (ac_tier)cx.effective_tier.v;
	out->has_explicit = cx.explicit_tier.set;
	out->explicit_tier = cx.explicit_tier.set ? (ac_tier)cx.explicit_tier.v : AC_TIER_UNKNOWN;
	out->is_explicit_source = cx.source.set && cx.source.v == 1;
	if (cx.inferred.set) {
		const cx_inferred *in = cx.inferred.p;
		out->inferred_tier = in->tier.set ? (ac_tier)in->tier.v : AC_TIER_UNKNOWN;
		out->confidence = in->confidence.v;
		if (in->signals.set) {
			read_signals(in->signals.p, out);
		}
	}
	return AC_OK;
}
