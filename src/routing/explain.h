/* SPDX-License-Identifier: MIT
 * Dry-run routing (DESIGN §4 route.explain, §5.3a offline explain): classify a validated
 * task.submit map and write what the router would decide against a set of endpoints.
 * Shared by the server's route.explain and the CLI's offline explain so that both
 * print the same thing. Pure: no state, no I/O, no clock reads.
 */
#ifndef AC_ROUTING_EXPLAIN_H
#define AC_ROUTING_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "agentcom/errors.h"
#include "codec/mpw.h"
#include "codec/task_wire.h"
#include "routing/complexity.h"
#include "routing/router.h"

/* Room for a submit map's model (at most 128 bytes) and its NUL. */
#define AC_EXPLAIN_MODEL_CAP 129

/* Classifies req as task.submit does (DESIGN §5.1): a complexity_tier spelling a tier
 * exactly is the explicit tier; any other value is ignored. Infallible; any thread. */
void ac_explain_classify(const ac_task_wire *req, ac_complexity *c);

/* Fills t for routing req classified as c: tier, source, confidence and signals from
 * c; allowed_targets from req->targets; model copied NUL-terminated into
 * model_buf[AC_EXPLAIN_MODEL_CAP] (t->model borrows it; NULL when req has none).
 * Infallible; any thread. */
void ac_explain_route_task(const ac_task_wire *req, const ac_complexity *c,
    char model_buf[AC_EXPLAIN_MODEL_CAP], ac_route_task *t);

/* Writes three map entries, without a map header (the caller's map counts them):
 * "complexity" (c as task.complexity), then "decision" (DESIGN §5.4) or
 * "pending_reason", then "candidates": [{endpoint, score, factors {load, capacity,
 * vram, warm, affinity, queue}}] best first — the ollama candidates the router weighed
 * (empty unless t routes to ollama and allows it). fallback_due routes as if the
 * fallback wait had passed. Returns AC_OK, or AC_ENOMEM (w may then hold part of the
 * entries; discard it). Any thread. */
ac_err ac_explain_encode_fields(const ac_complexity *c, const ac_route_task *t,
    const ac_route_endpoint *eps, size_t n, const ac_route_opts *o, bool fallback_due,
    ac_mpw *w);

#endif
