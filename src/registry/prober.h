/* SPDX-License-Identifier: MIT
 * Health prober for Ollama endpoints (DESIGN §6): asynchronous HTTP GETs of /api/tags
 * (models) and /api/ps (loaded models, VRAM) with nng's HTTP client. Probes run on
 * nng's callback threads and never block the caller; each result comes back to the
 * registry actor as one AC_MSG_PROBE_RESULT message. Owns only its in-flight probes.
 */
#ifndef AC_REGISTRY_PROBER_H
#define AC_REGISTRY_PROBER_H

#include <stdint.h>

#include "agentcom/errors.h"
#include "rt/actor.h"

#define AC_PROBE_CONNECT_TIMEOUT_MS 3000
#define AC_PROBE_REQUEST_TIMEOUT_MS 5000
#define AC_PROBE_MAX_BODY (4u * 1024 * 1024)

typedef struct ac_prober ac_prober;

/* Creates a prober that reports to actor `to` of rt. Caller owns; free with
 * ac_prober_free. Any thread. */
ac_err ac_prober_alloc(ac_rt *rt, ac_actor_id to, ac_prober **out);

/* Cancels every probe in flight, waits for their callbacks, frees p. NULL is a no-op.
 * Not from an nng callback. */
void ac_prober_free(ac_prober *p);

/* Starts one probe of http://host:port: GET /api/tags, then GET /api/ps. Returns at
 * once. Exactly one AC_MSG_PROBE_RESULT (body: ac_probe_result_schema in
 * codec/endpoint_wire.h) is sent for every AC_OK return, carrying `tag` back.
 * A probe of the same tag already in flight is not started again (AC_OK, no second
 * result). The connect is bounded by AC_PROBE_CONNECT_TIMEOUT_MS, the whole probe by
 * AC_PROBE_REQUEST_TIMEOUT_MS; a body over AC_PROBE_MAX_BODY, a non-200 status,
 * non-JSON, or a /api/tags without a "models" array is a failure (error text in the
 * result). AC_ENOMEM. Call from the owning actor's thread. */
ac_err ac_prober_probe(ac_prober *p, uint64_t tag, const char *host, uint16_t port);

#endif
