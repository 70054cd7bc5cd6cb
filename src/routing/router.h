/* SPDX-License-Identifier: MIT
 * Tier routing and endpoint scoring (DESIGN §5.2-5.4): pure functions over a task's
 * complexity and a snapshot of endpoints. Used by the scheduler, route.explain and the
 * CLI's offline explain. No state, no I/O, no clock reads (now is passed in).
 */
#ifndef AC_ROUTING_ROUTER_H
#define AC_ROUTING_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/mpw.h"
#include "codec/task_wire.h"
#include "routing/complexity.h"

#define AC_RESOURCES_STALE_MS 90000
#define AC_AFFINITY_WINDOW_MS (10 * 60 * 1000)
#define AC_ROUTER_DEFAULT_SLOTS 4      /* endpoint_slots 0 means this */

/* Pending reasons (static strings; compare by value with strcmp, not by pointer). */
#define AC_PENDING_NO_ENDPOINTS "no_healthy_ollama_endpoints"
#define AC_PENDING_SATURATED "endpoints_saturated"
/* The task's own tier maps to a target its allowed_targets excludes (a trivial task
 * that forbids sidecar, a complex one that forbids claude, a standard one that forbids
 * ollama before its fallback is due). */
#define AC_PENDING_TARGET_NOT_ALLOWED "target_not_allowed"

/* What the router knows of one endpoint. Strings are borrowed. */
typedef struct ac_route_endpoint {
	const char *id;                /* "host:port" */
	bool is_healthy;
	const char *const *models;
	uint32_t model_count;
	const char *const *loaded_models;
	uint32_t loaded_count;
	uint32_t in_flight;            /* tasks assigned to it and not finished */
	int64_t last_repo_at_ms;       /* when it last served the task's repo; 0 = never */
	/* resources (DESIGN §5.3); has_* false = unknown */
	bool has_cpu, has_ram_total, has_vram_used, has_vram_total;
	double cpu_percent;
	uint64_t ram_total_bytes, vram_used_bytes, vram_total_bytes;
	int64_t reported_at_ms;        /* 0 = no timestamp (offline explain: fresh) */
} ac_route_endpoint;

typedef struct ac_route_task {
	ac_tier tier;                  /* effective tier */
	bool is_explicit;              /* complexity source */
	double confidence;
	uint32_t word_count, file_count;
	const char *model;             /* preferred model or NULL */
	unsigned allowed_targets;      /* bit per ac_target; 0 = all */
} ac_route_task;

typedef struct ac_route_opts {
	uint32_t endpoint_slots;       /* in_flight limit per endpoint; 0: the default */
	const char *default_model;
	int64_t now_ms;
} ac_route_opts;

typedef struct ac_candidate {
	uint32_t index;                /* into the endpoint array */
	double score;
	double load, capacity, vram, warm, affinity, queue;
	const char *model;             /* the model it would run (borrowed) */
} ac_candidate;

typedef struct ac_decision {
	ac_tier effective_tier;
	ac_target target;
	const char *endpoint;          /* NULL, an endpoint id, or "claude_api" */
	const char *model;             /* NULL, a model, or "claude" */
	bool fallback_used;
	ac_tier fallback_from_tier;    /* AC_TIER_COUNT when !fallback_used */
	const char *fallback_reason;   /* static string or NULL */
	uint32_t candidate_count;
	char classification_reason[200];
	int64_t decided_at_ms;
} ac_decision;

/* Scores every candidate endpoint for a standard-tier task (healthy, has a model — the
 * task's model when given — and in_flight below endpoint_slots), best first; ties go
 * to the lower index (registration order). Writes up to cap candidates into out and
 * returns how many qualified (may exceed cap). */
size_t ac_router_rank(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, ac_candidate *out, size_t cap);

/* Why a standard task has no candidate: "no_healthy_ollama_endpoints" (none healthy
 * with a usable model) or "endpoints_saturated" (some would fit but all are at their
 * slot limit). NULL when there is a candidate. */
const char *ac_router_pending_reason(const ac_route_task *t, const ac_route_endpoint *eps,
    size_t n, const ac_route_opts *o);

/* Routes t at its own tier (fallback_due false) or one tier up after its fallback wait
 * (fallback_due true, with fallback_reason). Returns true with *d filled when a
 * decision is made; false when t must wait (its tier has no candidate and no fallback
 * is due or allowed): *pending_reason is then set (one of the AC_PENDING_* strings).
 * Trivial never falls back; a target the task's allowed_targets excludes is never
 * chosen. Even with fallback_due, a standard task that now has a candidate routes at
 * its own tier. fallback_reason NULL: the decision names the reason the own tier has
 * no candidate now. d->decided_at_ms is o->now_ms. Infallible; any thread. */
bool ac_router_route(const ac_route_task *t, const ac_route_endpoint *eps, size_t n,
    const ac_route_opts *o, bool fallback_due, const char *fallback_reason, ac_decision *d,
    const char **pending_reason);

/* Decides again for a standard task that already fell back (for fallback_reason):
 * one tier up as before, whatever its own tier looks like now (DESIGN §5.5: once
 * routed one tier up, it goes to the first idle agent of that tier, so the fallback
 * that was announced and counted is the one applied). False, with *pending_reason
 * target_not_allowed, when t has no tier above it it may use. Infallible; any thread. */
bool ac_router_route_fallen_back(const ac_route_task *t, const ac_route_opts *o,
    const char *fallback_reason, ac_decision *d, const char **pending_reason);

/* Writes the decision map of DESIGN §5.4 (every field, nil where absent). */
void ac_decision_encode(const ac_decision *d, ac_mpw *w);

/* Cost tier of a target: "free", "local", "api". */
const char *ac_target_cost(ac_target t);

#endif
