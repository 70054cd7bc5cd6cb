/* SPDX-License-Identifier: MIT
 * Tier routing of DESIGN §5.2-5.5: tier -> target, candidate filtering and ranking for
 * ollama (scoring lives in scorer.c), fallback one tier up, and the decision map of
 * §5.4. Pure functions: no state, no allocation, no I/O, no clock reads.
 */
#include "routing/router.h"

#include <stdio.h>
#include <string.h>

#include "routing/scorer.h"
#include "rt/assert.h"

/* Where each tier routes (unknown routes as standard, DESIGN §5.2). */
static const ac_target tier_targets[AC_TIER_COUNT] = {
	[AC_TIER_TRIVIAL] = AC_TARGET_SIDECAR,
	[AC_TIER_STANDARD] = AC_TARGET_OLLAMA,
	[AC_TIER_COMPLEX] = AC_TARGET_CLAUDE,
	[AC_TIER_UNKNOWN] = AC_TARGET_OLLAMA,
};

static const char *const target_costs[AC_TARGET_COUNT] = {
	[AC_TARGET_SIDECAR] = "free",
	[AC_TARGET_OLLAMA] = "local",
	[AC_TARGET_CLAUDE] = "api",
};

/* What claude decisions name, as the reference did. */
#define CLAUDE_ENDPOINT "claude_api"
#define CLAUDE_MODEL "claude"

const char *ac_target_cost(ac_target t)
{
	AC_ASSERT(t < AC_TARGET_COUNT);
	return target_costs[t];
}

static ac_tier resolve_tier(ac_tier tier)
{
	return tier == AC_TIER_UNKNOWN ? AC_TIER_STANDARD : tier;
}

static bool is_allowed(const ac_route_task *t, ac_target target)
{
	return t->allowed_targets == 0 || (t->allowed_targets & (1u << target)) != 0;
}

static uint32_t slots(const ac_route_opts *o)
{
	return o->endpoint_slots != 0 ? o->endpoint_slots : AC_ROUTER_DEFAULT_SLOTS;
}

static bool has_model(const ac_route_endpoint *ep, const char *model)
{
	for (uint32_t i = 0; i < ep->model_count; i++) {
		if (strcmp(ep->models[i], model) == 0) {
			return true;
		}
	}
	return false;
}

/* The model ep would run for t: the task's model (NULL when ep lacks it), else the
 * configured default when ep has it, else ep's first model (NULL when it has none). */
static const char *choose_model(const ac_route_task *t, const ac_route_endpoint *ep,
    const ac_route_opts *o)
{
	if (t->model != NULL) {
		return has_model(ep, t->model) ? t->model : NULL;
	}
	if (o->default_model != NULL && has_model(ep, o->default_model)) {
		return o->default_model;
	}
	return ep->model_count > 0 ? ep->models[0] : NULL;
}

/* Healthy with a usable model: a candidate unless saturated. */
static const char *usable_model(const ac_route_task *t, const ac_route_endpoint *ep,
    const ac_route_opts *o)
{
	return ep->is_healthy ? choose_model(t, ep, o) : NULL;
}

/* Inserts c into out[0..*kept) (best first; cap slots), after every candidate with a
 * score at least as high, so equal scores keep index order. */
static void insert_ranked(ac_candidate *out, size_t *kept, size_t cap, const ac_candidate *c)
{
	size_t pos = *kept;

	while (pos > 0 && out[pos - 1].score < c->score) {
		pos--;
	}
	if (pos >= cap) {
		return;
	}
	if (*kept < cap) {
		(*kept)++;
	}
	memmove(&out[pos + 1], &out[pos], (*kept - 1 - pos) * sizeof(*out));
	out[pos] = *c;
}

size_t ac_router_rank(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, ac_candidate *out, size_t cap)
{
	size_t count = 0, kept = 0;

	AC_ASSERT(cap == 0 || out != NULL);
	for (size_t i = 0; i < n; i++) {
		const char *model = usable_model(t, &eps[i], o);
		ac_candidate c = { .index = (uint32_t)i };

		if (model == NULL || eps[i].in_flight >= slots(o)) {
			continue;
		}
		ac_scorer_score(&eps[i], model, o->now_ms, &c);
		insert_ranked(out, &kept, cap, &c);
		count++;
	}
	return count;
}

const char *ac_router_pending_reason(const ac_route_task *t, const ac_route_endpoint *eps,
    size_t n, const ac_route_opts *o)
{
	bool is_any_usable = false;

	for (size_t i = 0; i < n; i++) {
		if (usable_model(t, &eps[i], o) == NULL) {
			continue;
		}
		if (eps[i].in_flight < slots(o)) {
			return NULL;
		}
		is_any_usable = true;
	}
	return is_any_usable ? AC_PENDING_SATURATED : AC_PENDING_NO_ENDPOINTS;
}

/* "<source>:<tier> (confidence 0.90, word_count=4, files=0)"; the tier is the task's
 * own (unknown stays "unknown"), as the reference printed it. */
static void write_reason(const ac_route_task *t, ac_decision *d)
{
	AC_ASSERT(t->tier < AC_TIER_COUNT);
	snprintf(d->classification_reason, sizeof(d->classification_reason),
	    "%s:%s (confidence %.2f, word_count=%u, files=%u)",
	    t->is_explicit ? "explicit" : "inferred", ac_tier_names[t->tier], t->confidence,
	    (unsigned)t->word_count, (unsigned)t->file_count);
}

/* Appends " [fallback from <tier>: <reason>]". */
static void append_fallback(ac_decision *d)
{
	size_t len = strlen(d->classification_reason);

	snprintf(d->classification_reason + len, sizeof(d->classification_reason) - len,
	    " [fallback from %s: %s]", ac_tier_names[d->fallback_from_tier], d->fallback_reason);
}

/* A decision at tier for target with no fallback; endpoint and model per target. */
static void decide(const ac_route_task *t, ac_tier tier, ac_target target,
    const ac_route_opts *o, ac_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->effective_tier = tier;
	d->target = target;
	d->fallback_from_tier = AC_TIER_COUNT;
	d->decided_at_ms = o->now_ms;
	if (target == AC_TARGET_CLAUDE) {
		d->endpoint = CLAUDE_ENDPOINT;
		d->model = CLAUDE_MODEL;
	}
	write_reason(t, d);
}

/* Standard at its own tier: the best candidate, or false with *reason. */
static bool route_ollama(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, ac_decision *d, const char **reason)
{
	ac_candidate best;
	size_t count;

	if (!is_allowed(t, AC_TARGET_OLLAMA)) {
		*reason = AC_PENDING_TARGET_NOT_ALLOWED;
		return false;
	}
	if ((count = ac_router_rank(t, eps, n, o, &best, 1)) == 0) {
		*reason = ac_router_pending_reason(t, eps, n, o);
		return false;
	}
	decide(t, AC_TIER_STANDARD, AC_TARGET_OLLAMA, o, d);
	d->endpoint = eps[best.index].id;
	d->model = best.model;
	d->candidate_count = (uint32_t)count;
	return true;
}

/* One step up from standard (the only tier that has a health signal and a tier above
 * it): complex on claude, when the task allows claude. */
static bool route_fallback(const ac_route_task *t, const ac_route_opts *o,
    const char *reason, ac_decision *d)
{
	if (!is_allowed(t, AC_TARGET_CLAUDE)) {
		return false;
	}
	decide(t, AC_TIER_COMPLEX, AC_TARGET_CLAUDE, o, d);
	d->fallback_used = true;
	d->fallback_from_tier = AC_TIER_STANDARD;
	d->fallback_reason = reason;
	append_fallback(d);
	return true;
}

bool ac_router_route(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, bool fallback_due, const char *fallback_reason, ac_decision *d,
    const char **pending_reason)
{
	ac_tier tier = resolve_tier(t->tier);
	ac_target target = tier_targets[tier];
	const char *reason = NULL;

	AC_ASSERT(t->tier < AC_TIER_COUNT);
	*pending_reason = NULL;
	if (target != AC_TARGET_OLLAMA) {
		/* Sidecar and claude have no health signal and never fall back. */
		if (!is_allowed(t, target)) {
			*pending_reason = AC_PENDING_TARGET_NOT_ALLOWED;
			return false;
		}
		decide(t, tier, target, o, d);
		return true;
	}
	if (route_ollama(t, eps, n, o, d, &reason)) {
		return true;
	}
	if (fallback_due && route_fallback(t, o, fallback_reason ? fallback_reason : reason, d)) {
		return true;
	}
	*pending_reason = reason;
	return false;
}

bool ac_router_route_fallen_back(const ac_route_task *t, const ac_route_opts *o,
    const char *fallback_reason, ac_decision *d, const char **pending_reason)
{
	AC_ASSERT(fallback_reason != NULL);
	*pending_reason = NULL;
	if (tier_targets[resolve_tier(t->tier)] != AC_TARGET_OLLAMA ||
	    !route_fallback(t, o, fallback_reason, d)) {
		*pending_reason = AC_PENDING_TARGET_NOT_ALLOWED;
		return false;
	}
	return true;
}

static void write_tier(ac_mpw *w, const char *key, bool is_set, ac_tier tier)
{
	ac_mpw_key(w, key);
	ac_mpw_cstr(w, is_set && tier < AC_TIER_COUNT ? ac_tier_names[tier] : NULL);
}

void ac_decision_encode(const ac_decision *d, ac_mpw *w)
{
	AC_ASSERT(d->target < AC_TARGET_COUNT);
	ac_mpw_map(w, 11);
	write_tier(w, "effective_tier", true, d->effective_tier);
	ac_mpw_key(w, "target_type");
	ac_mpw_cstr(w, ac_target_names[d->target]);
	ac_mpw_key(w, "selected_endpoint");
	ac_mpw_cstr(w, d->endpoint);
	ac_mpw_key(w, "selected_model");
	ac_mpw_cstr(w, d->model);
	ac_mpw_key(w, "fallback_used");
	ac_mpw_bool(w, d->fallback_used);
	write_tier(w, "fallback_from_tier", d->fallback_used, d->fallback_from_tier);
	ac_mpw_key(w, "fallback_reason");
	ac_mpw_cstr(w, d->fallback_used ? d->fallback_reason : NULL);
	ac_mpw_key(w, "candidate_count");
	ac_mpw_u64(w, d->candidate_count);
	ac_mpw_key(w, "classification_reason");
	ac_mpw_cstr(w, d->classification_reason);
	ac_mpw_key(w, "estimated_cost_tier");
	ac_mpw_cstr(w, ac_target_cost(d->target));
	ac_mpw_key(w, "decided_at_ms");
	ac_mpw_i64(w, d->decided_at_ms);
}
