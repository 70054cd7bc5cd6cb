/* SPDX-License-Identifier: MIT
 * The body of a routing dry run: classification, the decision or why the task would
 * wait, and the ranked ollama candidates with their factors. Owns no state; the
 * candidate list is a temporary buffer freed before returning.
 */
#include "routing/explain.h"

#include <stdlib.h>

void ac_explain_classify(const ac_task_wire *req, ac_complexity *c)
{
	ac_complexity_input in = {
		.description = req->description.p,
		.description_len = req->description.len,
		.file_count = req->file_hints.count,
		.verification_count = req->verification_steps.count,
	};

	for (int i = 0; req->complexity_tier.set && i < AC_TIER_COUNT; i++) {
		if (ac_str_eq(req->complexity_tier, ac_tier_names[i])) {
			in.has_explicit = true;
			in.explicit_tier = (ac_tier)i;
		}
	}
	ac_complexity_classify(&in, c);
}

static unsigned targets_mask(const ac_strs *targets)
{
	unsigned mask = 0;

	for (uint32_t i = 0; targets->set && i < targets->count; i++) {
		for (int k = 0; k < AC_TARGET_COUNT; k++) {
			mask |= ac_str_eq(targets->items[i], ac_target_names[k]) ? 1u << k : 0u;
		}
	}
	return mask;
}

void ac_explain_route_task(const ac_task_wire *req, const ac_complexity *c,
    char model_buf[AC_EXPLAIN_MODEL_CAP], ac_route_task *t)
{
	*t = (ac_route_task){
		.tier = c->effective_tier,
		.is_explicit = c->is_explicit_source,
		.confidence = c->confidence,
		.word_count = c->word_count,
		.file_count = c->file_count,
		.model = req->model.set ? ac_str_cpy(model_buf, AC_EXPLAIN_MODEL_CAP, req->model)
		                        : NULL,
		.allowed_targets = targets_mask(&req->targets),
	};
}

static void write_candidate(const ac_candidate *c, const ac_route_endpoint *eps, ac_mpw *w)
{
	static const char *const names[] = { "load", "capacity", "vram", "warm", "affinity",
		"queue" };
	const double values[] = { c->load, c->capacity, c->vram, c->warm, c->affinity, c->queue };

	ac_mpw_map(w, 3);
	ac_mpw_key(w, "endpoint");
	ac_mpw_cstr(w, eps[c->index].id);
	ac_mpw_key(w, "score");
	ac_mpw_f64(w, c->score);
	ac_mpw_key(w, "factors");
	ac_mpw_map(w, 6);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ac_mpw_key(w, names[i]);
		ac_mpw_f64(w, values[i]);
	}
}

/* The router weighs endpoints only for a task whose own tier is ollama's. */
static bool weighs_endpoints(const ac_route_task *t)
{
	bool is_ollama_tier = t->tier == AC_TIER_STANDARD || t->tier == AC_TIER_UNKNOWN;

	return is_ollama_tier &&
	    (t->allowed_targets == 0 || (t->allowed_targets & (1u << AC_TARGET_OLLAMA)) != 0);
}

ac_err ac_explain_encode_fields(const ac_complexity *c, const ac_route_task *t,
    const ac_route_endpoint *eps, size_t n, const ac_route_opts *o, bool fallback_due,
    ac_mpw *w)
{
	ac_candidate *cands = NULL;
	const char *pending = NULL;
	ac_decision d;
	size_t count = 0;

	if (n > 0 && weighs_endpoints(t)) {
		if ((cands = calloc(n, sizeof(*cands))) == NULL) {
			return AC_ENOMEM;
		}
		count = ac_router_rank(t, eps, n, o, cands, n);
	}
	ac_mpw_key(w, "complexity");
	ac_complexity_encode(c, w);
	if (ac_router_route(t, eps, n, o, fallback_due, NULL, &d, &pending)) {
		ac_mpw_key(w, "decision");
		ac_decision_encode(&d, w);
	} else {
		ac_mpw_key(w, "pending_reason");
		ac_mpw_cstr(w, pending);
	}
	ac_mpw_key(w, "candidates");
	ac_mpw_array(w, (uint32_t)count);
	for (size_t i = 0; i < count; i++) {
		write_candidate(&cands[i], eps, w);
	}
	free(cands);
	return w->err;
}
