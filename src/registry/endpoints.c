/* SPDX-License-Identifier: MIT
 * Endpoint table: an array in registration order with hash indexes on the id (ops,
 * agents' endpoints, the scheduler's load reports) and on the tag (probe results), so
 * that no per-message lookup walks the table however many endpoints pile up; and the
 * health rules of DESIGN §6 — first success healthy, two failures unhealthy.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/endpoint_wire.h"
#include "queue/task_map.h"
#include "registry/endpoints.h"
#include "rt/array.h"
#include "rt/assert.h"

const char *const ac_endpoint_status_names[] = { "unknown", "healthy", "unhealthy", NULL };

struct ac_endpoints {
	ac_endpoint **items;  /* registration order; owned */
	size_t count, cap;
	uint64_t next_tag;
	ac_task_map by_id;    /* ac_task_map_hash(id) -> items[i], borrowed */
	ac_task_map by_tag;   /* tag -> items[i], borrowed (tags are unique) */
};

static void free_list(char **list, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(list[i]);
	}
	free(list);
}

static void endpoint_free(ac_endpoint *e)
{
	free_list(e->models, e->model_count);
	free_list(e->loaded_models, e->loaded_count);
	free(e);
}

ac_err ac_endpoints_alloc(ac_endpoints **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		return AC_ENOMEM;
	}
	(*out)->next_tag = 1;
	return AC_OK;
}

void ac_endpoints_free(ac_endpoints *es)
{
	if (es == NULL) {
		return;
	}
	for (size_t i = 0; i < es->count; i++) {
		endpoint_free(es->items[i]);
	}
	free(es->items);
	ac_task_map_fini(&es->by_id);
	ac_task_map_fini(&es->by_tag);
	free(es);
}

void ac_endpoint_make_id(const char *host, size_t len, uint16_t port, char *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap && n < 255; i++) {
		buf[n++] = (char)tolower((unsigned char)host[i]);
	}
	snprintf(buf + n, cap - n, ":%u", (unsigned)port);
}

static bool has_id(const void *val, const void *ctx)
{
	return strcmp(((const ac_endpoint *)val)->id, ctx) == 0;
}

ac_endpoint *ac_endpoints_find(ac_endpoints *es, const char *id)
{
	return ac_task_map_find(&es->by_id, ac_task_map_hash(id), has_id, id);
}

ac_endpoint *ac_endpoints_find_tag(ac_endpoints *es, uint64_t tag)
{
	return ac_task_map_find(&es->by_tag, tag, NULL, NULL);
}

/* Adds e (its id and tag set) to the array and both indexes; room is made first, so
 * AC_ENOMEM leaves the table as it was. */
static ac_err append(ac_endpoints *es, ac_endpoint *e)
{
	ac_endpoint **items = ac_array_reserve(es->items, &es->cap, es->count, sizeof(*items), 8);

	if (items == NULL) {
		return AC_ENOMEM;
	}
	es->items = items;
	if (ac_task_map_reserve(&es->by_id, es->count + 1) != AC_OK ||
	    ac_task_map_reserve(&es->by_tag, es->count + 1) != AC_OK) {
		return AC_ENOMEM;
	}
	/* cannot fail: room was reserved above */
	ac_err id_put = ac_task_map_put(&es->by_id, ac_task_map_hash(e->id), e);
	ac_err tag_put = ac_task_map_put(&es->by_tag, e->tag, e);
	AC_ASSERT(id_put == AC_OK && tag_put == AC_OK);
	es->items[es->count++] = e;
	return AC_OK;
}

ac_err ac_endpoints_put(ac_endpoints *es, const char *host, size_t len, uint16_t port,
    const char *name, bool is_agent_source, int64_t now_ms, ac_endpoint **out, bool *is_new)
{
	char id[AC_ENDPOINT_ID_MAX];
	ac_endpoint *e;

	if (len == 0 || len > 255) {
		return AC_EINVAL;
	}
	ac_endpoint_make_id(host, len, port, id, sizeof(id));
	*is_new = (e = ac_endpoints_find(es, id)) == NULL;
	if (*is_new) {
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			return AC_ENOMEM;
		}
		snprintf(e->id, sizeof(e->id), "%s", id);
		snprintf(e->host, sizeof(e->host), "%.*s", (int)len, host);
		e->port = port;
		e->tag = es->next_tag;
		e->registered_at_ms = now_ms;
		if (append(es, e) != AC_OK) {
			free(e);
			return AC_ENOMEM;
		}
		es->next_tag++;
	}
	if (name != NULL && name[0] != '\0') {
		snprintf(e->name, sizeof(e->name), "%s", name);
	} else if (e->name[0] == '\0') {
		snprintf(e->name, sizeof(e->name), "%.128s", e->id);
	}
	e->is_agent_source = is_agent_source;
	*out = e;
	return AC_OK;
}

bool ac_endpoints_remove(ac_endpoints *es, const char *id)
{
	ac_endpoint *e = ac_task_map_remove(&es->by_id, ac_task_map_hash(id), has_id, id);
	size_t i = 0;

	if (e == NULL) {
		return false;
	}
	ac_endpoint *by_tag = ac_task_map_remove(&es->by_tag, e->tag, NULL, NULL);
	AC_ASSERT(by_tag == e);
	/* Registration order stays: a walk for the pointer and a shift of pointers,
	 * O(count) but only on removal, never on a lookup. */
	while (es->items[i] != e) {
		i++;
	}
	memmove(es->items + i, es->items + i + 1, (es->count - i - 1) * sizeof(*es->items));
	es->count--;
	endpoint_free(e);
	return true;
}

bool ac_endpoints_check(const ac_endpoints *es)
{
	for (size_t i = 0; i < es->count; i++) {
		const ac_endpoint *e = es->items[i];
		if (ac_task_map_find(&es->by_id, ac_task_map_hash(e->id), has_id, e->id) != e ||
		    ac_task_map_find(&es->by_tag, e->tag, NULL, NULL) != e || e->tag >= es->next_tag) {
			return false;
		}
	}
	return es->by_id.count == es->count && es->by_tag.count == es->count &&
	    ac_task_map_check(&es->by_id) && ac_task_map_check(&es->by_tag);
}

size_t ac_endpoints_count(const ac_endpoints *es)
{
	return es->count;
}

ac_endpoint *ac_endpoints_at(ac_endpoints *es, size_t i)
{
	return es->items[i];
}

/* Replaces *list with a copy of src; true when the contents changed. */
static bool set_list(char ***list, uint32_t *n, const char *const *src, uint32_t src_n)
{
	bool same = *n == src_n;
	char **copy;

	for (uint32_t i = 0; same && i < src_n; i++) {
		same = strcmp((*list)[i], src[i]) == 0;
	}
	if (same || (copy = calloc(src_n ? src_n : 1, sizeof(*copy))) == NULL) {
		return false;
	}
	for (uint32_t i = 0; i < src_n; i++) {
		if ((copy[i] = strdup(src[i])) == NULL) {
			free_list(copy, i);
			return false;
		}
	}
	free_list(*list, *n);
	*list = copy;
	*n = src_n;
	return true;
}

unsigned ac_endpoint_probe_ok(ac_endpoint *e, const char *const *models, uint32_t n,
    const char *const *loaded, uint32_t loaded_n, uint64_t vram_used, int64_t now_ms)
{
	unsigned changed = 0;

	if (e->status != AC_EP_HEALTHY) {
		changed |= AC_EP_CHANGED_STATUS;
	}
	e->status = AC_EP_HEALTHY;
	e->consecutive_failures = 0;
	e->last_checked_ms = now_ms;
	e->last_error[0] = '\0';
	if (set_list(&e->models, &e->model_count, models, n)) {
		changed |= AC_EP_CHANGED_MODELS;
	}
	set_list(&e->loaded_models, &e->loaded_count, loaded, loaded_n);
	e->ps_vram_used_bytes = vram_used;
	return changed;
}

unsigned ac_endpoint_probe_failed(ac_endpoint *e, const char *error, int64_t now_ms)
{
	e->consecutive_failures++;
	e->last_checked_ms = now_ms;
	snprintf(e->last_error, sizeof(e->last_error), "%s", error ? error : "failed");
	if (e->consecutive_failures >= AC_UNHEALTHY_AFTER_FAILURES && e->status != AC_EP_UNHEALTHY) {
		e->status = AC_EP_UNHEALTHY;
		return AC_EP_CHANGED_STATUS;
	}
	return 0;
}

void ac_endpoints_counts(const ac_endpoints *es, uint64_t by_status[AC_EP_STATUS_COUNT])
{
	memset(by_status, 0, sizeof(uint64_t) * AC_EP_STATUS_COUNT);
	for (size_t i = 0; i < es->count; i++) {
		by_status[es->items[i]->status]++;
	}
}

static ac_str view(const char *s)
{
	return (ac_str){ .p = s, .len = (uint32_t)strlen(s), .set = s[0] != '\0' };
}

static ac_strs view_list(char **list, uint32_t n, ac_str *items)
{
	for (uint32_t i = 0; i < n; i++) {
		items[i] = view(list[i]);
	}
	return (ac_strs){ .items = items, .count = n, .set = true };
}

static ac_resources_wire view_resources(const ac_resources *r)
{
	return (ac_resources_wire){
		.cpu_percent = { r->cpu_percent, r->has_cpu },
		.ram_total_bytes = { r->ram_total_bytes, r->has_ram_total },
		.ram_used_bytes = { r->ram_used_bytes, r->has_ram_used },
		.vram_total_bytes = { r->vram_total_bytes, r->has_vram_total },
		.vram_used_bytes = { r->vram_used_bytes, r->has_vram_used },
		.reported_at_ms = { r->reported_at_ms, r->reported_at_ms != 0 },
	};
}

void ac_endpoint_encode(const ac_endpoint *e, ac_mpw *w)
{
	ac_str *models = calloc(e->model_count + e->loaded_count + 1, sizeof(*models));
	ac_resources_wire res = view_resources(&e->resources);
	ac_endpoint_wire v = {
		.id = view(e->id), .host = view(e->host), .port = { e->port, true },
		.name = view(e->name), .source = view(e->is_agent_source ? "agent" : "manual"),
		.status = view(ac_endpoint_status_names[e->status]),
		.loaded_vram_bytes = { e->ps_vram_used_bytes, true },
		.consecutive_failures = { e->consecutive_failures, true },
		.last_checked_ms = { e->last_checked_ms, e->last_checked_ms != 0 },
		.registered_at_ms = { e->registered_at_ms, true },
		.last_error = view(e->last_error),
		.resources = { &res, e->resources.reported_at_ms != 0 },
		.seq = { e->tag, true },
		.in_flight = { e->in_flight, true },
	};

	if (models == NULL) {
		w->err = AC_ENOMEM;
		return;
	}
	v.models = view_list(e->models, e->model_count, models);
	v.loaded_models = view_list(e->loaded_models, e->loaded_count, models + e->model_count);
	ac_schema_encode(&ac_endpoint_wire_schema, &v, w);
	free(models);
}

static int by_registration(const void *a, const void *b)
{
	const ac_endpoint *x = *(ac_endpoint *const *)a, *y = *(ac_endpoint *const *)b;

	return x->registered_at_ms < y->registered_at_ms ? -1 : x->registered_at_ms > y->registered_at_ms;
}

void ac_endpoints_sort_by_registration(ac_endpoints *es)
{
	if (es->count > 1) { /* items is NULL while empty: qsort must not see it */
		qsort(es->items, es->count, sizeof(*es->items), by_registration);
	}
	for (size_t i = 0; i < es->count; i++) {
		ac_endpoint *old = ac_task_map_remove(&es->by_tag, es->items[i]->tag, NULL, NULL);
		AC_ASSERT(old == es->items[i]);
	}
	for (size_t i = 0; i < es->count; i++) {
		es->items[i]->tag = i + 1; /* tags follow registration order: the tie-break */
		/* cannot fail: the map kept its size when the old tags left it */
		ac_err put = ac_task_map_put(&es->by_tag, es->items[i]->tag, es->items[i]);
		AC_ASSERT(put == AC_OK);
	}
	es->next_tag = es->count + 1;
}
