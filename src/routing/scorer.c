/* SPDX-License-Identifier: MIT
 * The load scorer of DESIGN §5.3: six clamped factors per endpoint and their product.
 * Departs from the reference on purpose (DESIGN §12.3): factors are clamped, warm and
 * affinity really apply, and in-flight assignments lower the score. Pure: no state.
 */
#include "routing/scorer.h"

#include <string.h>

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

bool ac_scorer_resources_fresh(const ac_route_endpoint *ep, int64_t now_ms)
{
	return ep->reported_at_ms == 0 || now_ms - ep->reported_at_ms <= AC_RESOURCES_STALE_MS;
}

bool ac_scorer_is_warm(const ac_route_endpoint *ep, const char *model)
{
	for (uint32_t i = 0; model != NULL && i < ep->loaded_count; i++) {
		if (strcmp(ep->loaded_models[i], model) == 0) {
			return true;
		}
	}
	return false;
}

/* The clamp also keeps a NaN cpu from poisoning the product: NaN fails both tests of
 * clamp and would pass through, so it is caught first and counts as unknown. */
static double load_factor(bool is_known, double cpu_percent)
{
	double cpu = is_known && cpu_percent == cpu_percent ? cpu_percent : AC_SCORE_CPU_UNKNOWN;

	return 1.0 - clamp(cpu, 0.0, 100.0) / 100.0;
}

/* No floor: a small host (8 GiB -> 0.5) is meant to lose to a big one. */
static double capacity_factor(bool is_known, uint64_t ram_total_bytes)
{
	if (!is_known || ram_total_bytes == 0) {
		return 1.0;
	}
	return clamp((double)ram_total_bytes / (double)AC_SCORE_RAM_REFERENCE_BYTES, 0.0,
	    AC_SCORE_CAPACITY_MAX);
}

/* Without a total (Ollama's /api/ps gives only the used sum) the share is unknown. */
static double vram_factor(bool is_known, uint64_t used_bytes, uint64_t total_bytes)
{
	if (!is_known || total_bytes == 0) {
		return AC_SCORE_VRAM_UNKNOWN;
	}
	return 0.8 + 0.2 * (1.0 - clamp((double)used_bytes / (double)total_bytes, 0.0, 1.0));
}

static double affinity_factor(int64_t last_repo_at_ms, int64_t now_ms)
{
	bool is_recent = last_repo_at_ms != 0 && now_ms - last_repo_at_ms <= AC_AFFINITY_WINDOW_MS;

	return is_recent ? AC_SCORE_AFFINITY_BONUS : 1.0;
}

void ac_scorer_score(const ac_route_endpoint *ep, const char *model, int64_t now_ms,
    ac_candidate *c)
{
	bool is_fresh = ac_scorer_resources_fresh(ep, now_ms);

	c->load = load_factor(is_fresh && ep->has_cpu, ep->cpu_percent);
	c->capacity = capacity_factor(is_fresh && ep->has_ram_total, ep->ram_total_bytes);
	c->vram = vram_factor(is_fresh && ep->has_vram_used && ep->has_vram_total,
	    ep->vram_used_bytes, ep->vram_total_bytes);
	c->warm = ac_scorer_is_warm(ep, model) ? AC_SCORE_WARM_BONUS : 1.0;
	c->affinity = affinity_factor(ep->last_repo_at_ms, now_ms);
	c->queue = 1.0 / (1.0 + (double)ep->in_flight);
	c->score = c->load * c->capacity * c->vram * c->warm * c->affinity * c->queue;
	c->model = model;
}
