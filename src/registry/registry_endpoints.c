/* SPDX-License-Identifier: MIT
 * Registry actor, endpoint part: endpoint ops, agent-announced endpoints, probe
 * results and health transitions, persistence through the registry's own store
 * connection, and endpoint events on the inproc PUB socket (gapless seq) and telemetry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "codec/endpoint_wire.h"
#include "codec/ops.h"
#include "registry/registry_int.h"
#include "rt/clock.h"
#include "rt/log.h"

#define KV_KIND "endpoint"

/* ---- events ---- */

/* Publishes one event: on the inproc socket for the scheduler (with the endpoint as
 * it now is) and on telemetry. e is NULL for a removal. */
static void publish_internal(ac_registry *r, const char *event, const ac_endpoint *e,
    const char *id);

/* Publishes one event to the scheduler (inproc) and on telemetry. */
static void publish(ac_registry *r, const char *event, const ac_endpoint *e, const char *id)
{
	ac_mpw w;

	publish_internal(r, event, e, id);
	ac_mpw_init(&w);
	ac_mpw_map(&w, e != NULL ? 4 : 1);
	ac_mpw_key(&w, "endpoint_id");
	ac_mpw_cstr(&w, e != NULL ? e->id : id);
	if (e != NULL) {
		ac_mpw_key(&w, "status");
		ac_mpw_cstr(&w, ac_endpoint_status_names[e->status]);
		ac_mpw_key(&w, "models");
		ac_mpw_array(&w, e->model_count);
		for (uint32_t i = 0; i < e->model_count; i++) {
			ac_mpw_cstr(&w, e->models[i]);
		}
		ac_mpw_key(&w, "error");
		ac_mpw_cstr(&w, e->last_error[0] ? e->last_error : NULL);
	}
	ac_actor_publish(r->actor, event, &w);
	ac_mpw_fini(&w);
}

/* The scheduler's copy: the endpoint as it now is (or its removal), gapless seq. */
static void publish_internal(ac_registry *r, const char *event, const ac_endpoint *e,
    const char *id)
{
	ac_mpw w;
	nng_msg *m;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 3);
	ac_mpw_key(&w, "seq");
	ac_mpw_u64(&w, ++r->event_seq);
	ac_mpw_key(&w, "event");
	ac_mpw_cstr(&w, event);
	if (e != NULL) {
		ac_mpw_key(&w, "endpoints");
		ac_mpw_array(&w, 1);
		ac_endpoint_encode(e, &w);
	} else {
		ac_mpw_key(&w, "removed_id");
		ac_mpw_cstr(&w, id);
	}
	if (w.err == AC_OK && nng_msg_alloc(&m, 0) == 0) {
		if (nng_msg_append(m, ac_mpw_data(&w), ac_mpw_len(&w)) != 0 ||
		    nng_sendmsg(r->events, m, NNG_FLAG_NONBLOCK) != 0) {
			nng_msg_free(m); /* a dropped event shows as a seq gap to the scheduler */
		}
	}
	ac_mpw_fini(&w);
}

/* ---- persistence ---- */

typedef struct stored_ep {
	ac_str host;
	ac_uint port;
	ac_str name;
	ac_str source;
	ac_int registered_at_ms;
} stored_ep;

static const ac_field stored_fields[] = {
	AC_F(stored_ep, host, "host", AC_FT_STR, true),
	AC_F(stored_ep, port, "port", AC_FT_UINT, true, .max = 65535),
	AC_F(stored_ep, name, "name", AC_FT_STR, false),
	AC_F(stored_ep, source, "source", AC_FT_STR, false),
	AC_F(stored_ep, registered_at_ms, "registered_at_ms", AC_FT_INT, false),
};
static const ac_schema stored_schema = AC_SCHEMA("stored_endpoint", stored_ep, stored_fields);

static ac_err persist(ac_registry *r, const ac_endpoint *e)
{
	stored_ep v = {
		.host = { e->host, (uint32_t)strlen(e->host), true },
		.port = { e->port, true },
		.name = { e->name, (uint32_t)strlen(e->name), true },
		.source = { e->is_agent_source ? "agent" : "manual", e->is_agent_source ? 5 : 6, true },
		.registered_at_ms = { e->registered_at_ms, true },
	};
	ac_mpw w;
	ac_err err;

	ac_mpw_init(&w);
	ac_schema_encode(&stored_schema, &v, &w);
	err = w.err != AC_OK ? w.err : ac_store_put_kv(r->store, KV_KIND, e->id, ac_mpw_data(&w), ac_mpw_len(&w));
	ac_mpw_fini(&w);
	return err;
}

static bool load_one(void *ctx, const char *key, const uint8_t *value, size_t len)
{
	ac_registry *r = ctx;
	ac_arena arena;
	stored_ep v;
	ac_endpoint *e;
	char name[129];
	bool is_new;

	ac_arena_init(&arena);
	if (ac_schema_decode_bytes(&stored_schema, value, len, &v, &arena, NULL) != AC_OK ||
	    ac_endpoints_put(r->endpoints, v.host.p, v.host.len, (uint16_t)v.port.v,
	        ac_str_cpy(name, sizeof(name), v.name), ac_str_eq(v.source, "agent"),
	        v.registered_at_ms.v, &e, &is_new) != AC_OK) {
		ac_log(AC_LOG_ERR, "registry", "endpoint_corrupt", "id=%s", key);
	}
	ac_arena_fini(&arena);
	return true;
}

/* ---- probes ---- */

static void probe(ac_registry *r, const ac_endpoint *e)
{
	if (ac_prober_probe(r->prober, e->tag, e->host, e->port) != AC_OK) {
		ac_log(AC_LOG_WARN, "registry", "probe_not_started", "endpoint=%s", e->id);
	}
}

void ac_registry_probe_all(ac_registry *r)
{
	for (size_t i = 0; i < ac_endpoints_count(r->endpoints); i++) {
		probe(r, ac_endpoints_at(r->endpoints, i));
	}
}

/* Copies a string list into NUL-terminated strings in the arena. */
static const char **strs_in(const ac_strs *s, ac_arena *arena)
{
	const char **out = ac_arena_alloc(arena, (s->count + 1) * sizeof(*out));

	for (uint32_t i = 0; out != NULL && i < s->count; i++) {
		char *c = ac_arena_alloc(arena, s->items[i].len + 1);
		if (c == NULL) {
			return NULL;
		}
		memcpy(c, s->items[i].p, s->items[i].len);
		out[i] = c;
	}
	return out;
}

void ac_registry_on_probe_result(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_probe_result *res = call->req;
	ac_endpoint *e = ac_endpoints_find_tag(r->endpoints, res->tag.v);
	const char **models, **loaded;
	char error[160];
	unsigned changed;

	if (e == NULL) {
		return; /* removed while the probe ran */
	}
	if (res->ok.v && (models = strs_in(&res->models, call->arena)) != NULL &&
	    (loaded = strs_in(&res->loaded_models, call->arena)) != NULL) {
		/* /api/ps is best effort: when it failed, what we knew still holds */
		bool has_ps = res->loaded_models.set;
		changed = ac_endpoint_probe_ok(e, models, res->models.count,
		    has_ps ? loaded : (const char *const *)e->loaded_models,
		    has_ps ? res->loaded_models.count : e->loaded_count,
		    has_ps ? res->vram_used_bytes.v : e->ps_vram_used_bytes, ac_clock_wall_ms());
	} else {
		changed = ac_endpoint_probe_failed(e, ac_str_cpy(error, sizeof(error), res->error),
		    ac_clock_wall_ms());
	}
	if (changed & AC_EP_CHANGED_STATUS) {
		ac_log(AC_LOG_INFO, "registry", "endpoint_status", "endpoint=%s status=%s error=\"%s\"",
		    e->id, ac_endpoint_status_names[e->status], e->last_error);
		publish(r, e->status == AC_EP_HEALTHY ? "endpoint.healthy" : "endpoint.unhealthy", e, NULL);
	}
	if (changed & AC_EP_CHANGED_MODELS) {
		publish(r, "endpoint.models", e, NULL);
	}
}

/* ---- ops ---- */

static void reply_endpoint(ac_registry *r, ac_call *call, const ac_endpoint *e)
{
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "endpoint");
	ac_endpoint_encode(e, w);
	ac_actor_reply(r->actor, &call->env, w);
}

/* Registers (or re-registers) host:port and probes it at once when it is new. */
static ac_endpoint *register_endpoint(ac_registry *r, const char *host, size_t len,
    uint16_t port, const char *name, bool is_agent, ac_err *err)
{
	ac_endpoint *e;
	bool is_new;

	*err = ac_endpoints_put(r->endpoints, host, len, port, name, is_agent, ac_clock_wall_ms(), &e,
	    &is_new);
	if (*err == AC_OK && (*err = persist(r, e)) != AC_OK) {
		if (is_new) {
			ac_endpoints_remove(r->endpoints, e->id);
		}
		return NULL;
	}
	if (*err == AC_OK && is_new) {
		ac_log(AC_LOG_INFO, "registry", "endpoint_registered", "endpoint=%s source=%s", e->id,
		    is_agent ? "agent" : "manual");
		publish(r, "endpoint.registered", e, NULL);
		probe(r, e);
	}
	return *err == AC_OK ? e : NULL;
}

/* Letters, digits, '.', '-', '_' (names, IPv4) and ':' (IPv6). */
static bool is_host_name(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '-' || c == '_' || c == ':')) {
			return false;
		}
	}
	return len > 0;
}

void ac_registry_on_endpoint_register(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_endpoint_register *req = call->req;
	char name[129];
	ac_endpoint *e;
	ac_err err;

	if (!is_host_name(req->host.p, req->host.len)) {
		ac_actor_reply_err(r->actor, &call->env, AC_EINVAL,
		    "must be a host name or an IP address", "host");
		return;
	}
	e = register_endpoint(r, req->host.p, req->host.len,
	    req->port.set ? (uint16_t)req->port.v : AC_ENDPOINT_DEFAULT_PORT,
	    ac_str_cpy(name, sizeof(name), req->name), false, &err);
	if (e == NULL) {
		ac_actor_reply_err(r->actor, &call->env, err == AC_EINVAL ? AC_EINVAL : AC_EUNAVAIL,
		    err == AC_EINVAL ? "not a host name" : "could not store the endpoint",
		    err == AC_EINVAL ? "host" : NULL);
		return;
	}
	reply_endpoint(r, call, e);
}

void ac_registry_on_endpoint_remove(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_req_endpoint_id *req = call->req;
	char id[AC_ENDPOINT_ID_MAX];

	ac_str_cpy(id, sizeof(id), req->id);
	if (ac_endpoints_find(r->endpoints, id) == NULL) {
		ac_actor_reply_err(r->actor, &call->env, AC_ENOTFOUND, "no endpoint with this id", "id");
		return;
	}
	if (ac_store_delete_kv(r->store, KV_KIND, id) != AC_OK) {
		ac_actor_reply_err(r->actor, &call->env, AC_EUNAVAIL, "could not store the change", NULL);
		return;
	}
	ac_endpoints_remove(r->endpoints, id);
	publish(r, "endpoint.removed", NULL, id);
	ac_actor_reply_ok(r->actor, &call->env);
}

static void write_endpoints(ac_registry *r, ac_mpw *w)
{
	size_t n = ac_endpoints_count(r->endpoints);

	ac_mpw_array(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		ac_endpoint_encode(ac_endpoints_at(r->endpoints, i), w);
	}
}

void ac_registry_on_endpoint_list(void *state, ac_call *call)
{
	ac_registry *r = state;
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 2);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
	ac_mpw_key(w, "endpoints");
	write_endpoints(r, w);
	ac_actor_reply(r->actor, &call->env, w);
}

void ac_registry_on_endpoint_load(void *state, ac_call *call)
{
	ac_registry *r = state;
	const ac_endpoint_loads_msg *m = call->req;
	const ac_endpoint_load *loads = m->loads.items;
	char id[AC_ENDPOINT_ID_MAX];

	for (uint32_t i = 0; i < m->loads.count; i++) {
		ac_endpoint *e = ac_endpoints_find(r->endpoints,
		    ac_str_cpy(id, sizeof(id), loads[i].endpoint_id));
		if (e != NULL) {
			e->in_flight = loads[i].in_flight.v > UINT32_MAX ? UINT32_MAX :
			                                                   (uint32_t)loads[i].in_flight.v;
		}
	}
}

/* The scheduler saw a gap (or just started): send every endpoint, losslessly. */
void ac_registry_on_snapshot_req(void *state, ac_call *call)
{
	ac_registry *r = state;
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_mpw_map(w, 3);
	ac_mpw_key(w, "seq");
	ac_mpw_u64(w, r->event_seq);
	ac_mpw_key(w, "event");
	ac_mpw_cstr(w, "snapshot");
	ac_mpw_key(w, "endpoints");
	write_endpoints(r, w);
	ac_actor_tell(r->actor, AC_ACTOR_SCHEDULER, AC_MSG_ENDPOINT_SNAPSHOT, w);
}

/* ---- endpoints announced by agents ---- */

/* Splits "http://host:port/path" (scheme, port and path optional) into host and port. */
static bool parse_url(const char *p, size_t len, const char **host, size_t *host_len,
    uint16_t *port)
{
	const char *end = p + len, *h, *colon = NULL;
	const char *scheme = memmem(p, len, "://", 3);
	unsigned long v = AC_ENDPOINT_DEFAULT_PORT;

	h = scheme != NULL ? scheme + 3 : p;
	if (h < end && *h == '[') { /* [v6]:port */
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (close == NULL) {
			return false;
		}
		*host = h + 1;
		*host_len = (size_t)(close - h - 1);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		size_t n = 0; /* p is not NUL-terminated: every scan stops at end */
		while (h + n < end && h[n] != ':' && h[n] != '/') {
			n++;
		}
		*host = h;
		*host_len = n;
		colon = h + n < end && h[n] == ':' ? h + n : NULL;
	}
	if (colon != NULL) {
		const char *d = colon + 1;
		size_t n = 0;
		v = 0;
		while (d + n < end && n <= 5 && d[n] >= '0' && d[n] <= '9') {
			v = v * 10 + (unsigned long)(d[n] - '0');
			n++;
		}
		if (n == 0 || n > 5) {
			return false;
		}
	}
	*port = (uint16_t)v;
	return *host_len > 0 && v > 0 && v < 65536;
}

static bool is_loopback_name(const char *h, size_t len)
{
	static const char *const names[] = { "localhost", "127.0.0.1", "::1" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len && strncasecmp(names[i], h, len) == 0) {
			return true;
		}
	}
	return false;
}

/* The agent's address as the server sees it, for "localhost" in its ollama_url. */
static bool peer_host(uint32_t pipe_id, char *buf, size_t cap)
{
	nng_pipe p = { .id = pipe_id };
	nng_sockaddr sa;
	const uint8_t *a;

	if (pipe_id == 0 || nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0 ||
	    sa.s_family != NNG_AF_INET) {
		return false;
	}
	a = (const uint8_t *)&sa.s_in.sa_addr;
	snprintf(buf, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	return true;
}

void ac_registry_agent_endpoint(ac_registry *r, ac_agent *a, ac_str url, uint32_t pipe)
{
	const char *host;
	size_t len;
	uint16_t port;
	char peer[64];
	ac_endpoint *e;
	ac_err err;

	a->endpoint[0] = '\0';
	if (!url.set || !parse_url(url.p, url.len, &host, &len, &port)) {
		return;
	}
	if (is_loopback_name(host, len) && peer_host(pipe, peer, sizeof(peer))) {
		host = peer;
		len = strlen(peer);
	}
	if ((e = register_endpoint(r, host, len, port, NULL, true, &err)) != NULL) {
		snprintf(a->endpoint, sizeof(a->endpoint), "%s", e->id);
	}
}

void ac_registry_agent_resources(ac_registry *r, const ac_agent *a, ac_raw resources)
{
	ac_endpoint *e = a->endpoint[0] ? ac_endpoints_find(r->endpoints, a->endpoint) : NULL;
	ac_resources_wire v;
	ac_arena arena;

	if (e == NULL || !resources.set) {
		return;
	}
	ac_arena_init(&arena);
	if (ac_schema_decode_bytes(&ac_heartbeat_resources_schema, resources.p, resources.len, &v,
	        &arena, NULL) == AC_OK) {
		e->resources = (ac_resources){
			.has_cpu = v.cpu_percent.set, .cpu_percent = v.cpu_percent.v,
			.has_ram_total = v.ram_total_bytes.set, .ram_total_bytes = v.ram_total_bytes.v,
			.has_ram_used = v.ram_used_bytes.set, .ram_used_bytes = v.ram_used_bytes.v,
			.has_vram_total = v.vram_total_bytes.set, .vram_total_bytes = v.vram_total_bytes.v,
			.has_vram_used = v.vram_used_bytes.set, .vram_used_bytes = v.vram_used_bytes.v,
			.reported_at_ms = ac_clock_wall_ms(),
		};
		publish_internal(r, "endpoint.resources", e, NULL); /* scoring uses them */
	}
	ac_arena_fini(&arena);
}

/* ---- lifecycle ---- */

ac_err ac_registry_endpoints_open(ac_registry *r)
{
	char url[128];
	ac_err err;

	if ((err = ac_endpoints_alloc(&r->endpoints)) != AC_OK ||
	    (err = ac_store_open(r->cfg->data_dir, r->cfg->durability, &r->store)) != AC_OK ||
	    (err = ac_store_load_kv(r->store, KV_KIND, load_one, r)) != AC_OK) {
		return err;
	}
	ac_endpoints_sort_by_registration(r->endpoints);
	if (nng_pub0_open(&r->events) != 0) {
		return AC_ENOMEM;
	}
	nng_socket_set_int(r->events, NNG_OPT_SENDBUF, 1024);
	if (nng_listen(r->events, ac_rt_url(r->rt, AC_REGISTRY_EVENTS_SUFFIX, url, sizeof(url)), NULL,
	        0) != 0) {
		return AC_EINTERNAL;
	}
	ac_log(AC_LOG_INFO, "registry", "endpoints_loaded", "count=%zu", ac_endpoints_count(r->endpoints));
	return ac_prober_alloc(r->rt, AC_ACTOR_REGISTRY, &r->prober);
}

void ac_registry_endpoints_close(ac_registry *r)
{
	ac_prober_free(r->prober);
	r->prober = NULL;
	if (nng_socket_id(r->events) > 0) {
		nng_close(r->events);
	}
	ac_store_close(r->store);
	ac_endpoints_free(r->endpoints);
}
