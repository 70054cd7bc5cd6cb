/* SPDX-License-Identifier: MIT
 * The registry's endpoint table (DESIGN §3 Endpoint, §6): Ollama hosts with their
 * health, models, loaded models and reported resources, in registration order.
 * Pure data and the health rules; no nng, no threads, no clock reads.
 */
#ifndef AC_REGISTRY_ENDPOINTS_H
#define AC_REGISTRY_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "codec/mpw.h"

#define AC_ENDPOINT_ID_MAX 300
#define AC_ENDPOINT_DEFAULT_PORT 11434
#define AC_UNHEALTHY_AFTER_FAILURES 2

typedef enum ac_endpoint_status {
	AC_EP_UNKNOWN,
	AC_EP_HEALTHY,
	AC_EP_UNHEALTHY,
	AC_EP_STATUS_COUNT
} ac_endpoint_status;

extern const char *const ac_endpoint_status_names[]; /* NULL-terminated, enum order */

typedef struct ac_resources {
	bool has_cpu, has_ram_total, has_ram_used, has_vram_total, has_vram_used;
	double cpu_percent;
	uint64_t ram_total_bytes, ram_used_bytes, vram_total_bytes, vram_used_bytes;
	int64_t reported_at_ms; /* 0 = never */
} ac_resources;

typedef struct ac_endpoint {
	uint64_t tag;              /* stable small id for probes and events */
	char id[AC_ENDPOINT_ID_MAX]; /* "host:port" */
	char host[256];
	uint16_t port;
	char name[129];
	bool is_agent_source;      /* source "agent" (else "manual") */
	ac_endpoint_status status;
	char **models;             /* owned */
	uint32_t model_count;
	char **loaded_models;      /* owned */
	uint32_t loaded_count;
	uint64_t ps_vram_used_bytes; /* sum of size_vram from /api/ps */
	uint32_t consecutive_failures;
	int64_t last_checked_ms;   /* wall, 0 = never */
	int64_t registered_at_ms;
	char last_error[160];
	ac_resources resources;
	uint32_t in_flight;        /* the scheduler's count, as it last reported it */
} ac_endpoint;

typedef struct ac_endpoints ac_endpoints;

ac_err ac_endpoints_alloc(ac_endpoints **out);
void ac_endpoints_free(ac_endpoints *es);

/* Canonical id "host:port" of host[0..len) and port into buf (host lower-cased). */
void ac_endpoint_make_id(const char *host, size_t len, uint16_t port, char *buf, size_t cap);

/* Finds or adds host:port. A new endpoint is unknown, registered at now_ms; an existing
 * one keeps its health and models (its name and source are updated). *is_new tells. */
ac_err ac_endpoints_put(ac_endpoints *es, const char *host, size_t len, uint16_t port,
    const char *name, bool is_agent_source, int64_t now_ms, ac_endpoint **out, bool *is_new);
/* The endpoint with id (canonical, as ac_endpoint_make_id writes it) or with tag, or
 * NULL; O(1) through the table's indexes. Borrowed until it is removed. */
ac_endpoint *ac_endpoints_find(ac_endpoints *es, const char *id);
ac_endpoint *ac_endpoints_find_tag(ac_endpoints *es, uint64_t tag);
/* Removes and frees the endpoint with id; false when absent. */
bool ac_endpoints_remove(ac_endpoints *es, const char *id);
/* The table's invariant, for asserts and tests: every endpoint is found by its id and
 * by its tag, tags are below next_tag, and the indexes hold exactly the endpoints. */
bool ac_endpoints_check(const ac_endpoints *es);
size_t ac_endpoints_count(const ac_endpoints *es);
ac_endpoint *ac_endpoints_at(ac_endpoints *es, size_t i);

/* What a probe result changed (bit set). */
enum { AC_EP_CHANGED_STATUS = 1, AC_EP_CHANGED_MODELS = 2 };

/* Applies a successful probe: healthy, failures reset, models and loaded models
 * replaced. Returns AC_EP_CHANGED_* bits. */
unsigned ac_endpoint_probe_ok(ac_endpoint *e, const char *const *models, uint32_t n,
    const char *const *loaded, uint32_t loaded_n, uint64_t vram_used, int64_t now_ms);
/* Applies a failed probe: failures + 1, unhealthy at AC_UNHEALTHY_AFTER_FAILURES. */
unsigned ac_endpoint_probe_failed(ac_endpoint *e, const char *error, int64_t now_ms);

/* Writes the endpoint as its wire map (codec/endpoint_wire.h). */
void ac_endpoint_encode(const ac_endpoint *e, ac_mpw *w);

/* Puts loaded endpoints back in registration order (the store keeps them by id) and
 * renumbers their tags 1..count in that order. */
void ac_endpoints_sort_by_registration(ac_endpoints *es);

/* Counts per status. */
void ac_endpoints_counts(const ac_endpoints *es, uint64_t by_status[AC_EP_STATUS_COUNT]);

#endif
