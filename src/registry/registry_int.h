/* SPDX-License-Identifier: MIT
 * Registry actor internals shared by registry.c (agents) and registry_endpoints.c
 * (endpoints, probes, the inproc event socket). Not used outside src/registry/.
 */
#ifndef AC_REGISTRY_REGISTRY_INT_H
#define AC_REGISTRY_REGISTRY_INT_H

#include <nng/nng.h>

#include "codec/agent_wire.h"
#include "registry/endpoints.h"
#include "registry/prober.h"
#include "registry/registry.h"
#include "registry/registry_state.h"
#include "store/store.h"

enum { TIMER_SWEEP = 1, TIMER_PROBE };

/* Where the scheduler subscribes to endpoint events (suffix for ac_rt_url). */
#define AC_REGISTRY_EVENTS_SUFFIX "registry-events"

struct ac_registry {
	const ac_config *cfg;
	ac_actor *actor;
	ac_rt *rt;
	ac_agents *agents;
	ac_endpoints *endpoints;
	ac_prober *prober;
	ac_store *store;       /* the registry's own connection (endpoints as kv rows) */
	nng_socket events;     /* inproc PUB of endpoint events (gapless seq) */
	uint64_t event_seq;
};

/* registry_endpoints.c */
void ac_registry_on_endpoint_register(void *state, ac_call *call);
void ac_registry_on_endpoint_remove(void *state, ac_call *call);
void ac_registry_on_endpoint_list(void *state, ac_call *call);
void ac_registry_on_probe_result(void *state, ac_call *call);
void ac_registry_on_snapshot_req(void *state, ac_call *call);
/* AC_MSG_ENDPOINT_LOAD: the scheduler's in-flight counts, shown in endpoint records. */
void ac_registry_on_endpoint_load(void *state, ac_call *call);
/* Probes every endpoint (the periodic health pass). */
void ac_registry_probe_all(ac_registry *r);
/* Registers the agent's ollama_url (source agent); localhost names are replaced by
 * the agent's peer address on pipe. Sets agent->endpoint. */
void ac_registry_agent_endpoint(ac_registry *r, ac_agent *a, ac_str url, uint32_t pipe);
/* Stores resources reported by agent a on its endpoint. */
void ac_registry_agent_resources(ac_registry *r, const ac_agent *a, ac_raw resources);
/* Opens the store, the event socket and the prober; loads endpoints. */
ac_err ac_registry_endpoints_open(ac_registry *r);
void ac_registry_endpoints_close(ac_registry *r);

#endif
