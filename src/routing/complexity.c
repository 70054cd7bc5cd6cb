/* SPDX-License-Identifier: MIT
 * Complexity classification (DESIGN §5.1): word/file/step signals, keyword matching at
 * word starts with ASCII case folding, and the four rules, first match wins. Pure.
 */
#include <string.h>

#include "routing/complexity.h"

const char *const ac_tier_names[] = { "trivial", "standard", "complex", "unknown", NULL };

static const char *const complex_keywords[] = { "refactor", "architect", "migration",
	"redesign", "migrate", "security", "overhaul", "rewrite", NULL };
static const char *const trivial_keywords[] = { "fix typo", "update readme", "bump version",
	"rename", "typo", "format", "lint", "version bump", NULL };

static bool is_alnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_space_ascii(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char fold(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* True when kw starts at a word start somewhere in s[0..len). */
static bool has_keyword(const char *s, size_t len, const char *kw)
{
	size_t k = strlen(kw);

	for (size_t i = 0; i + k <= len; i++) {
		size_t j = 0;
		if (i > 0 && is_alnum_ascii(s[i - 1])) {
			continue;
		}
		while (j < k && fold(s[i + j]) == kw[j]) {
			j++;
		}
		if (j == k) {
			return true;
		}
	}
	return false;
}

static bool any_keyword(const char *s, size_t len, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++) {
		if (has_keyword(s, len, list[i])) {
			return true;
		}
	}
	return false;
}

static uint32_t count_words(const char *s, size_t len)
{
	uint32_t n = 0;
	bool in_word = false;

	for (size_t i = 0; i < len; i++) {
		bool space = is_space_ascii(s[i]);
		if (!space && !in_word) {
			n++;
		}
		in_word = !space;
	}
	return n;
}

static ac_tier vote_count(uint32_t n)
{
	return n == 0 ? AC_TIER_TRIVIAL : (n <= 3 ? AC_TIER_STANDARD : AC_TIER_COMPLEX);
}

/* Rule 4: three votes, most wins, ties -> standard; never trivial (DESIGN §5.1 fix). */
static void vote(ac_complexity *c)
{
	unsigned votes[AC_TIER_COUNT] = { 0 };
	ac_tier win = AC_TIER_STANDARD;

	votes[c->word_count < 10 ? AC_TIER_TRIVIAL :
	      (c->word_count > 50 ? AC_TIER_COMPLEX : AC_TIER_STANDARD)]++;
	votes[vote_count(c->file_count)]++;
	votes[vote_count(c->verification_count)]++;
	if (votes[AC_TIER_COMPLEX] > votes[AC_TIER_STANDARD] &&
	    votes[AC_TIER_COMPLEX] > votes[AC_TIER_TRIVIAL]) {
		win = AC_TIER_COMPLEX;
	} else if (votes[AC_TIER_TRIVIAL] > votes[AC_TIER_STANDARD] &&
	           votes[AC_TIER_TRIVIAL] > votes[AC_TIER_COMPLEX]) {
		win = AC_TIER_TRIVIAL;
	}
	if (win == AC_TIER_TRIVIAL) {
		win = AC_TIER_STANDARD; /* trivial needs a trivial keyword */
	}
	c->inferred_tier = win;
	c->confidence = votes[win] / 3.0;
}

static void infer(const ac_complexity_input *in, ac_complexity *c)
{
	const char *s = in->description != NULL ? in->description : "";
	size_t len = in->description != NULL ? in->description_len : 0;

	c->word_count = count_words(s, len);
	c->file_count = in->file_count;
	c->verification_count = in->verification_count;
	c->has_complex_keyword = any_keyword(s, len, complex_keywords);
	c->has_trivial_keyword = any_keyword(s, len, trivial_keywords);
	if (c->word_count == 0 && c->file_count == 0 && c->verification_count == 0 &&
	    !c->has_complex_keyword && !c->has_trivial_keyword) {
		c->inferred_tier = AC_TIER_UNKNOWN;
		c->confidence = 0.0;
	} else if (c->has_complex_keyword) {
		c->inferred_tier = AC_TIER_COMPLEX;
		c->confidence = 0.7 + 0.1 * (c->file_count > 3) + 0.1 * (c->verification_count > 3) +
		    0.1 * (c->word_count > 50);
	} else if (c->has_trivial_keyword && c->file_count <= 3 && c->verification_count <= 3) {
		c->inferred_tier = AC_TIER_TRIVIAL;
		c->confidence = c->word_count < 10 ? 0.9 : 0.75;
	} else {
		vote(c);
	}
	if (c->confidence > 1.0) {
		c->confidence = 1.0;
	}
}

void ac_complexity_classify(const ac_complexity_input *in, ac_complexity *out)
{
	memset(out, 0, sizeof(*out));
	infer(in, out);
	out->has_explicit = in->has_explicit;
	out->explicit_tier = in->explicit_tier;
	out->is_explicit_source = in->has_explicit;
	out->effective_tier = in->has_explicit ? in->explicit_tier : out->inferred_tier;
}

bool ac_complexity_disagrees(const ac_complexity *c)
{
	return c->has_explicit && c->explicit_tier != c->inferred_tier;
}

void ac_complexity_encode(const ac_complexity *c, ac_mpw *w)
{
	ac_mpw_map(w, 4);
	ac_mpw_key(w, "effective_tier");
	ac_mpw_cstr(w, ac_tier_names[c->effective_tier]);
	ac_mpw_key(w, "explicit_tier");
	ac_mpw_cstr(w, c->has_explicit ? ac_tier_names[c->explicit_tier] : NULL);
	ac_mpw_key(w, "source");
	ac_mpw_cstr(w, c->is_explicit_source ? "explicit" : "inferred");
	ac_mpw_key(w, "inferred");
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "tier");
	ac_mpw_cstr(w, ac_tier_names[c->inferred_tier]);
	ac_mpw_key(w, "confidence");
	ac_mpw_f64(w, c->confidence);
	ac_mpw_key(w, "signals");
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
