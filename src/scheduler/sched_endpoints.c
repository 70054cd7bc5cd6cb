/* SPDX-License-Identifier: MIT
 * Scheduler endpoint view: decoded registry events applied in seq order. Each entry
 * owns its strings; the router gets borrowed views. An array in registration order
 * plus a hash index on the id: every event, assignment and release looks an endpoint
 * up by id, and a snapshot upserts them all, so a walk per lookup made a snapshot of
 * a few thousand endpoints quadratic. A second array holds the usable ones (healthy,
 * with a model), the only ones a routing decision can choose or count: it is rebuilt
 * after a change of membership, so that a decision walks the usable endpoints, not
 * every registration (thousands of dead ones made each decision walk them all).
 */
#include <stdlib.h>
#include <string.h>

#include "codec/endpoint_wire.h"
#include "queue/task_map.h"
#include "rt/array.h"
#include "scheduler/sched_endpoints.h"

#define REPOS_PER_ENDPOINT 16

typedef struct served_repo {
	char *repo;
	int64_t at_ms;
} served_repo;

typedef struct sched_ep {
	char *id;
	bool is_healthy;
	char **models;
	uint32_t model_count;
	char **loaded;
	uint32_t loaded_count;
	uint64_t ps_vram;
	ac_route_endpoint res;    /* resources part only */
	uint64_t order;           /* registration order from the registry */
	uint32_t in_flight;
	served_repo repos[REPOS_PER_ENDPOINT];
} sched_ep;

struct ac_sched_endpoints {
	sched_ep **items;   /* registration order; owned */
	size_t count, cap;
	sched_ep **usable;  /* the usable items, registration order; borrowed */
	size_t usable_count, usable_cap;
	bool is_usable_stale; /* membership changed since usable was built */
	ac_task_map by_id;  /* ac_task_map_hash(id) -> items[i], borrowed */
	uint64_t seq;
	bool is_synced;
};

/* The key and the bytes of an id from the wire (not NUL-terminated). */
typedef struct id_ref {
	const char *p;
	size_t len;
} id_ref;

static void free_strs(char **s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(s[i]);
	}
	free(s);
}

static void ep_free(sched_ep *e)
{
	free(e->id);
	free_strs(e->models, e->model_count);
	free_strs(e->loaded, e->loaded_count);
	for (int i = 0; i < REPOS_PER_ENDPOINT; i++) {
		free(e->repos[i].repo);
	}
	free(e);
}

ac_err ac_sched_endpoints_alloc(ac_sched_endpoints **out)
{
	return (*out = calloc(1, sizeof(**out))) ? AC_OK : AC_ENOMEM;
}

void ac_sched_endpoints_free(ac_sched_endpoints *es)
{
	if (es == NULL) {
		return;
	}
	for (size_t i = 0; i < es->count; i++) {
		ep_free(es->items[i]);
	}
	free(es->items);
	free(es->usable);
	ac_task_map_fini(&es->by_id);
	free(es);
}

static bool has_id(const void *val, const void *ctx)
{
	const sched_ep *e = val;
	const id_ref *id = ctx;

	return strlen(e->id) == id->len && memcmp(e->id, id->p, id->len) == 0;
}

static sched_ep *find(const ac_sched_endpoints *es, const char *p, size_t len)
{
	id_ref id = { p, len };

	return ac_task_map_find(&es->by_id, ac_task_map_hash_len(p, len), has_id, &id);
}

/* A new entry for id at the end of the array and in the index; NULL when out of
 * memory (then nothing changed). */
static sched_ep *add(ac_sched_endpoints *es, const char *p, size_t len)
{
	sched_ep **items = ac_array_reserve(es->items, &es->cap, es->count, sizeof(*items), 8);
	sched_ep *e;

	if (items == NULL) {
		return NULL;
	}
	es->items = items;
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->id = strndup(p, len)) == NULL ||
	    ac_task_map_put(&es->by_id, ac_task_map_hash_len(p, len), e) != AC_OK) {
		if (e != NULL) {
			free(e->id);
		}
		free(e);
		return NULL;
	}
	es->items[es->count++] = e;
	return e;
}

static char **copy_strs(const ac_strs *s, uint32_t *n)
{
	char **out = calloc(s->count + 1, sizeof(*out));

	*n = 0;
	for (uint32_t i = 0; out != NULL && i < s->count; i++) {
		if ((out[i] = strndup(s->items[i].p, s->items[i].len)) == NULL) {
			free_strs(out, i);
			return NULL;
		}
		*n = i + 1;
	}
	return out;
}

static void set_resources(sched_ep *e, const ac_endpoint_wire *w)
{
	const ac_resources_wire *r = w->resources.set ? w->resources.p : NULL;

	memset(&e->res, 0, sizeof(e->res));
	e->ps_vram = w->loaded_vram_bytes.v;
	if (r == NULL) {
		e->res.has_vram_used = e->ps_vram > 0; /* /api/ps sum, total unknown */
		e->res.vram_used_bytes = e->ps_vram;
		e->res.reported_at_ms = 1; /* never fresh-by-default: no report at all */
		return;
	}
	e->res.has_cpu = r->cpu_percent.set;
	e->res.cpu_percent = r->cpu_percent.v;
	e->res.has_ram_total = r->ram_total_bytes.set;
	e->res.ram_total_bytes = r->ram_total_bytes.v;
	e->res.has_vram_used = r->vram_used_bytes.set || e->ps_vram > 0;
	e->res.vram_used_bytes = r->vram_used_bytes.set ? r->vram_used_bytes.v : e->ps_vram;
	e->res.has_vram_total = r->vram_total_bytes.set;
	e->res.vram_total_bytes = r->vram_total_bytes.v;
	e->res.reported_at_ms = r->reported_at_ms.set ? r->reported_at_ms.v : 1;
}

/* Healthy with a model: a candidate unless its slots are taken. */
static bool is_usable(const sched_ep *e)
{
	return e->is_healthy && e->model_count > 0;
}

/* Inserts or updates one endpoint; true when it can unblock waiting tasks. */
static bool upsert(ac_sched_endpoints *es, const ac_endpoint_wire *w)
{
	sched_ep *e = find(es, w->id.p, w->id.len);
	bool was_usable = e != NULL && is_usable(e);
	bool is_new = e == NULL;

	if (is_new && (e = add(es, w->id.p, w->id.len)) == NULL) {
		return false;
	}
	free_strs(e->models, e->model_count);
	free_strs(e->loaded, e->loaded_count);
	e->models = copy_strs(&w->models, &e->model_count);
	e->loaded = copy_strs(&w->loaded_models, &e->loaded_count);
	e->is_healthy = ac_str_eq(w->status, "healthy");
	e->order = w->seq.v;
	set_resources(e, w);
	es->is_usable_stale |= is_usable(e) != was_usable;
	return is_usable(e) && (is_new || !was_usable);
}

static void remove_id(ac_sched_endpoints *es, ac_str id)
{
	id_ref ref = { id.p, id.len };
	sched_ep *e = ac_task_map_remove(&es->by_id, ac_task_map_hash_len(id.p, id.len), has_id, &ref);
	size_t at = 0;

	if (e == NULL) {
		return;
	}
	while (es->items[at] != e) { /* O(count) pointer walk, on removal only */
		at++;
	}
	es->is_usable_stale |= is_usable(e);
	memmove(es->items + at, es->items + at + 1, (es->count - at - 1) * sizeof(*es->items));
	es->count--;
	ep_free(e);
}

static void clear(ac_sched_endpoints *es)
{
	for (size_t i = 0; i < es->count; i++) {
		ep_free(es->items[i]);
	}
	es->count = 0;
	es->is_usable_stale = true;
	ac_task_map_fini(&es->by_id); /* a snapshot refills it */
}

ac_ep_apply ac_sched_endpoints_apply(ac_sched_endpoints *es, const uint8_t *p, size_t len,
    bool is_snapshot, bool *unblocks)
{
	ac_endpoint_event ev;
	ac_arena arena;
	ac_ep_apply result = AC_EP_APPLIED;
	const ac_endpoint_wire *items;

	*unblocks = false;
	ac_arena_init(&arena);
	if (ac_schema_decode_bytes(&ac_endpoint_event_schema, p, len, &ev, &arena, NULL) != AC_OK) {
		ac_arena_fini(&arena);
		return AC_EP_IGNORED;
	}
	if (!is_snapshot && (!es->is_synced || ev.seq.v <= es->seq)) {
		result = AC_EP_IGNORED;
	} else if (!is_snapshot && ev.seq.v != es->seq + 1) {
		es->is_synced = false; /* PUB/SUB dropped something: start over from a snapshot */
		result = AC_EP_GAP;
	} else {
		if (is_snapshot) {
			clear(es);
			es->is_synced = true;
			*unblocks = true;
		}
		es->seq = ev.seq.v;
		if (ev.removed_id.set) {
			remove_id(es, ev.removed_id);
		}
		items = ev.endpoints.items;
		for (uint32_t i = 0; i < ev.endpoints.count; i++) {
			*unblocks |= upsert(es, &items[i]);
		}
	}
	ac_arena_fini(&arena);
	return result;
}

bool ac_sched_endpoints_synced(const ac_sched_endpoints *es)
{
	return es->is_synced;
}

static int64_t last_served(const sched_ep *e, const char *repo)
{
	for (int i = 0; repo != NULL && i < REPOS_PER_ENDPOINT; i++) {
		if (e->repos[i].repo != NULL && strcmp(e->repos[i].repo, repo) == 0) {
			return e->repos[i].at_ms;
		}
	}
	return 0;
}

/* Rebuilds the usable list if its membership changed; false when it cannot grow
 * (then the caller walks every item and skips the unusable ones). */
static bool refresh_usable(ac_sched_endpoints *es)
{
	if (!es->is_usable_stale) {
		return true;
	}
	if (es->usable_cap < es->count) {
		sched_ep **u = realloc(es->usable, es->count * sizeof(*u));
		if (u == NULL) {
			return false;
		}
		es->usable = u;
		es->usable_cap = es->count;
	}
	es->usable_count = 0;
	for (size_t i = 0; i < es->count; i++) {
		if (is_usable(es->items[i])) {
			es->usable[es->usable_count++] = es->items[i];
		}
	}
	es->is_usable_stale = false;
	return true;
}

size_t ac_sched_endpoints_view_size(ac_sched_endpoints *es)
{
	return refresh_usable(es) ? es->usable_count : es->count;
}

size_t ac_sched_endpoints_view(ac_sched_endpoints *es, const char *repo, ac_route_endpoint *out,
    size_t cap)
{
	bool is_fresh = refresh_usable(es);
	sched_ep **from = is_fresh ? es->usable : es->items;
	size_t count = is_fresh ? es->usable_count : es->count, n = 0;

	for (size_t i = 0; i < count && n < cap; i++) {
		sched_ep *e = from[i];
		if (!is_usable(e)) {
			continue;
		}
		out[n] = e->res;
		out[n].id = e->id;
		out[n].is_healthy = e->is_healthy;
		out[n].models = (const char *const *)e->models;
		out[n].model_count = e->model_count;
		out[n].loaded_models = (const char *const *)e->loaded;
		out[n].loaded_count = e->loaded_count;
		out[n].in_flight = e->in_flight;
		out[n].last_repo_at_ms = last_served(e, repo);
		n++;
	}
	return n;
}

bool ac_sched_endpoints_in_flight(const ac_sched_endpoints *es, const char *id, uint32_t *out)
{
	const sched_ep *e = find(es, id, strlen(id));

	if (e == NULL) {
		return false;
	}
	*out = e->in_flight;
	return true;
}

uint32_t ac_sched_endpoints_add_flight(ac_sched_endpoints *es, const char *id, int delta,
    uint32_t slots)
{
	sched_ep *e = id ? find(es, id, strlen(id)) : NULL;
	bool was_full;

	if (e == NULL || (delta < 0 && e->in_flight == 0)) {
		return 0;
	}
	was_full = e->in_flight >= slots;
	e->in_flight = (uint32_t)((int)e->in_flight + delta);
	return was_full && e->in_flight < slots && is_usable(e) ? 1 : 0;
}

uint32_t ac_sched_endpoints_free_slots(const ac_sched_endpoints *es, uint32_t slots)
{
	uint32_t n = 0;

	for (size_t i = 0; i < es->count; i++) {
		const sched_ep *e = es->items[i];
		n += is_usable(e) && e->in_flight < slots ? slots - e->in_flight : 0;
	}
	return n;
}

void ac_sched_endpoints_served(ac_sched_endpoints *es, const char *id, const char *repo,
    int64_t now_ms)
{
	sched_ep *e = id && repo ? find(es, id, strlen(id)) : NULL;
	int oldest = 0;

	for (int i = 0; e != NULL && i < REPOS_PER_ENDPOINT; i++) {
		if (e->repos[i].repo != NULL && strcmp(e->repos[i].repo, repo) == 0) {
			e->repos[i].at_ms = now_ms;
			return;
		}
		if (e->repos[i].at_ms < e->repos[oldest].at_ms) {
			oldest = i;
		}
	}
	if (e != NULL) {
		char *copy = strdup(repo);
		if (copy != NULL) {
			free(e->repos[oldest].repo);
			e->repos[oldest] = (served_repo){ copy, now_ms };
		}
	}
}

bool ac_sched_endpoints_check(const ac_sched_endpoints *es)
{
	for (size_t i = 0; i < es->count; i++) {
		if (find(es, es->items[i]->id, strlen(es->items[i]->id)) != es->items[i]) {
			return false;
		}
	}
	return es->by_id.count == es->count && ac_task_map_check(&es->by_id);
}

size_t ac_sched_endpoints_count(const ac_sched_endpoints *es)
{
	return es->count;
}

void ac_sched_endpoints_health(const ac_sched_endpoints *es, size_t *healthy, size_t *total)
{
	*healthy = 0;
	for (size_t i = 0; i < es->count; i++) {
		*healthy += es->items[i]->is_healthy;
	}
	*total = es->count;
}
