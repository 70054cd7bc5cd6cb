/* SPDX-License-Identifier: MIT
 * Endpoint load scoring (DESIGN §5.3): the six factors of one endpoint and their
 * product, each clamped and with a neutral default for unknown data. Pure: no state,
 * no allocation, no I/O, no clock reads. The router filters; this only scores.
 */
#ifndef AC_ROUTING_SCORER_H
#define AC_ROUTING_SCORER_H

#include <stdbool.h>
#include <stdint.h>

#include "routing/router.h"

/* Factor constants of DESIGN §5.3. */
#define AC_SCORE_RAM_REFERENCE_BYTES ((uint64_t)16 << 30) /* capacity 1.0 at 16 GiB */
#define AC_SCORE_CAPACITY_MAX 1.5
#define AC_SCORE_CPU_UNKNOWN 50.0       /* load 0.5 */
#define AC_SCORE_VRAM_UNKNOWN 0.9
#define AC_SCORE_WARM_BONUS 1.15
#define AC_SCORE_AFFINITY_BONUS 1.05

/* True when ep's resources count as known at now_ms: reported_at_ms is 0 (no timestamp:
 * offline explain treats them as fresh) or at most AC_RESOURCES_STALE_MS old. */
bool ac_scorer_resources_fresh(const ac_route_endpoint *ep, int64_t now_ms);

/* True when model (NUL-terminated, may be NULL: false) is in ep's loaded_models. */
bool ac_scorer_is_warm(const ac_route_endpoint *ep, const char *model);

/* Fills c's six factors and score for ep running model at now_ms:
 *   load     = 1 - cpu/100, cpu clamped to [0, 100]; unknown cpu counts as 50
 *   capacity = min(ram_total / 16 GiB, 1.5); unknown or 0 -> 1.0
 *   vram     = 0.8 + 0.2 * (1 - used/total), used/total clamped to [0, 1]; 0.9 unless
 *              both used and a non-zero total are known
 *   warm     = 1.15 when model is in loaded_models, else 1.0
 *   affinity = 1.05 when last_repo_at_ms != 0 and now_ms - last_repo_at_ms <=
 *              AC_AFFINITY_WINDOW_MS, else 1.0
 *   queue    = 1 / (1 + in_flight)
 * Stale resources (ac_scorer_resources_fresh false) count as unknown. Sets c->model to
 * model (borrowed) and leaves c->index alone. Infallible; any thread. */
void ac_scorer_score(const ac_route_endpoint *ep, const char *model, int64_t now_ms,
    ac_candidate *c);

#endif
