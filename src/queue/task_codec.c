/* SPDX-License-Identifier: MIT
 * Task record <-> msgpack. The record's scalar and string fields are viewed through an
 * ac_task_wire and written by the generic schema encoder; the immutable spec travels
 * as the encoded entries it was stored with.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/task_codec.h"

static ac_str view(const char *s)
{
	return (ac_str){ .p = s, .len = s ? (uint32_t)strlen(s) : 0, .set = s != NULL };
}

static ac_raw raw_view(const ac_blob *b)
{
	return (ac_raw){ .p = b->p, .len = b->len, .set = b->p != NULL };
}

static void view_history(const ac_task *t, ac_arena *arena, ac_task_wire *w)
{
	ac_history_entry *h = ac_arena_alloc(arena, sizeof(*h) * (t->history_count + 1));

	if (h == NULL || t->history_count == 0) {
		return;
	}
	for (uint32_t i = 0; i < t->history_count; i++) {
		const ac_history_item *it = ac_task_history_at(t, i);
		h[i].event = view(it->event);
		h[i].at_ms = (ac_int){ it->at_ms, true };
		h[i].detail = view(it->detail);
	}
	w->history = (ac_objs){ .items = h, .count = t->history_count, .set = true };
}

static void view_task(const ac_task *t, bool stored, ac_arena *arena, ac_task_wire *w)
{
	memset(w, 0, sizeof(*w));
	w->id = (ac_uint){ t->id, true };
	w->status = (ac_choice){ (int)t->status, true };
	w->priority = (ac_choice){ (int)t->priority, true };
	w->generation = (ac_uint){ t->generation, true };
	w->assigned_to = view(t->assigned_to);
	w->assigned_at_ms = (ac_int){ t->assigned_at_ms, t->assigned_at_ms != 0 };
	w->created_at_ms = (ac_int){ t->created_at_ms, true };
	w->enqueued_at_ms = (ac_int){ t->enqueued_at_ms, true };
	w->updated_at_ms = (ac_int){ t->updated_at_ms, true };
	w->not_before_ms = (ac_int){ t->not_before_ms, t->not_before_ms != 0 };
	w->retry_count = (ac_uint){ t->retry_count, true };
	w->max_retries = (ac_uint){ t->max_retries, true };
	w->reclaim_count = (ac_uint){ t->reclaim_count, true };
	w->ttl_ms = (ac_uint){ (uint64_t)t->ttl_ms, t->ttl_ms >= 0 };
	w->routing_decision = raw_view(&t->decision);
	w->pending_reason = view(t->pending_reason);
	w->result = raw_view(&t->result);
	w->tokens_used = (ac_uint){ (uint64_t)t->tokens_used, t->tokens_used >= 0 };
	w->last_error = view(t->last_error);
	w->submitted_by = view(t->submitted_by);
	w->idempotency_key = view(t->idempotency_key);
	view_history(t, arena, w);
	if (stored && t->applied_op != AC_FENCED_NONE) {
		w->applied_agent = view(t->applied_agent);
		w->applied_generation = (ac_uint){ t->applied_generation, true };
		w->applied_op = (ac_choice){ (int)t->applied_op, true };
	}
}

void ac_task_encode(const ac_task *t, bool stored, ac_arena *arena, ac_mpw *w)
{
	const ac_schema *s = stored ? &ac_task_stored_schema : &ac_task_public_schema;
	ac_task_wire tw;

	view_task(t, stored, arena, &tw);
	ac_mpw_map(w, ac_schema_count_set(s, &tw) + t->spec_count);
	ac_schema_encode_fields(s, &tw, w);
	ac_mpw_raw(w, t->spec.p, t->spec.len);
}

void ac_task_row_fill(const ac_task *t, const uint8_t *rec, size_t len, ac_task_row *row)
{
	row->id = t->id;
	row->status = (int)t->status;
	row->priority = (int)t->priority;
	row->assigned_to = t->assigned_to;
	row->idempotency_key = t->idempotency_key;
	row->created_at_ms = t->created_at_ms;
	row->updated_at_ms = t->updated_at_ms;
	row->is_terminal = ac_task_status_is_terminal(t->status);
	row->record = rec;
	row->record_len = len;
}

static ac_err blob_set(ac_blob *b, const void *p, size_t len)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	if (p == NULL) {
		return AC_OK;
	}
	if ((b->p = malloc(len ? len : 1)) == NULL) {
		return AC_ENOMEM;
	}
	memcpy(b->p, p, len);
	b->len = (uint32_t)len;
	return AC_OK;
}

static ac_err copy_str(char **slot, ac_str s)
{
	return s.set ? ac_task_set_str(slot, s.p, s.len) : AC_OK;
}

/* Encodes the spec fields of w into t->spec. */
static ac_err set_spec(ac_task *t, const ac_task_wire *w)
{
	ac_mpw enc;
	ac_err err;

	ac_mpw_init(&enc);
	ac_schema_encode_fields(&ac_task_spec_schema, w, &enc);
	err = enc.err != AC_OK ? enc.err : blob_set(&t->spec, ac_mpw_data(&enc), ac_mpw_len(&enc));
	t->spec_count = ac_schema_count_set(&ac_task_spec_schema, w);
	ac_mpw_fini(&enc);
	return err;
}

static ac_tier tier_of(ac_raw complexity)
{
	msgpack_unpacked u;
	const msgpack_object *o;
	size_t off = 0;
	ac_tier tier = AC_TIER_UNKNOWN;

	if (!complexity.set) {
		return tier;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)complexity.p, complexity.len, &off) ==
	        MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_MAP &&
	    (o = ac_mp_get(&u.data, "effective_tier")) != NULL && o->type == MSGPACK_OBJECT_STR) {
		for (int i = 0; i < AC_TIER_COUNT; i++) {
			if (strlen(ac_tier_names[i]) == o->via.str.size &&
			    memcmp(ac_tier_names[i], o->via.str.ptr, o->via.str.size) == 0) {
				tier = (ac_tier)i;
			}
		}
	}
	msgpack_unpacked_destroy(&u);
	return tier;
}

static ac_err load_history(ac_task *t, const ac_task_wire *w)
{
	const ac_history_entry *h = w->history.items;
	static const char *const events[] = { "queued", "submitted", "assigned", "accepted",
		"completed", "failed", "retried", "reclaimed", "expired", "dead_letter", "cancelled",
		"fallback", NULL };

	/* oldest first so the newest ends up at the head */
	for (uint32_t i = w->history.count; i-- > 0;) {
		const char *event = "event";
		char detail[1025];
		for (int e = 0; events[e] != NULL; e++) {
			if (ac_str_eq(h[i].event, events[e])) {
				event = events[e];
			}
		}
		ac_task_add_history(t, h[i].at_ms.v, event,
		    h[i].detail.set ? ac_str_cpy(detail, sizeof(detail), h[i].detail) : NULL);
	}
	return AC_OK;
}

static ac_err fill_from_wire(ac_task *t, const ac_task_wire *w)
{
	ac_err err = AC_OK;

	t->id = w->id.v;
	t->status = (ac_task_status)w->status.v;
	t->priority = (ac_priority)w->priority.v;
	t->tier = tier_of(w->complexity);
	t->generation = (uint32_t)w->generation.v;
	t->retry_count = (uint32_t)w->retry_count.v;
	t->max_retries = (uint32_t)w->max_retries.v;
	t->reclaim_count = (uint32_t)w->reclaim_count.v;
	t->created_at_ms = w->created_at_ms.v;
	t->enqueued_at_ms = w->enqueued_at_ms.v;
	t->updated_at_ms = w->updated_at_ms.v;
	t->assigned_at_ms = w->assigned_at_ms.v;
	t->not_before_ms = w->not_before_ms.v;
	t->ttl_ms = w->ttl_ms.set ? (int64_t)w->ttl_ms.v : -1;
	t->tokens_used = w->tokens_used.set ? (int64_t)w->tokens_used.v : -1;
	t->applied_generation = (uint32_t)w->applied_generation.v;
	t->applied_op = w->applied_op.set ? (ac_fenced_op)w->applied_op.v : AC_FENCED_NONE;
	if (copy_str(&t->assigned_to, w->assigned_to) || copy_str(&t->last_error, w->last_error) ||
	    copy_str(&t->pending_reason, w->pending_reason) ||
	    copy_str(&t->submitted_by, w->submitted_by) ||
	    copy_str(&t->idempotency_key, w->idempotency_key) ||
	    copy_str(&t->applied_agent, w->applied_agent) ||
	    blob_set(&t->result, w->result.set ? w->result.p : NULL, w->result.len) ||
	    blob_set(&t->decision, w->routing_decision.set ? w->routing_decision.p : NULL,
	        w->routing_decision.len) ||
	    set_spec(t, w) || load_history(t, w)) {
		err = AC_ENOMEM;
	}
	return err;
}

ac_err ac_task_decode(const uint8_t *p, size_t len, ac_arena *arena, ac_task **out)
{
	ac_task_wire *w = ac_arena_alloc(arena, sizeof(*w));
	ac_decode_err derr;
	ac_task *t;
	ac_err err;

	if (w == NULL || (t = ac_task_alloc()) == NULL) {
		return AC_ENOMEM;
	}
	err = ac_schema_decode_bytes(&ac_task_stored_schema, p, len, w, arena, &derr);
	if (err == AC_OK) {
		err = fill_from_wire(t, w);
	} else if (err != AC_ENOMEM) {
		err = AC_EIO;
	}
	if (err != AC_OK) {
		ac_task_free(t);
		return err;
	}
	*out = t;
	return AC_OK;
}

ac_err ac_task_from_submit(const ac_task_wire *req, const ac_complexity *c, int64_t now_ms,
    ac_arena *arena, ac_task **out)
{
	ac_task_wire w = *req;
	ac_mpw cx;
	ac_task *t = ac_task_alloc();
	ac_err err = AC_ENOMEM;

	if (t == NULL) {
		return AC_ENOMEM;
	}
	ac_mpw_init(&cx);
	ac_complexity_encode(c, &cx);
	w.complexity = (ac_raw){ .p = ac_arena_dup(arena, ac_mpw_data(&cx), ac_mpw_len(&cx)),
		.len = (uint32_t)ac_mpw_len(&cx), .set = true };
	if (cx.err == AC_OK && w.complexity.p != NULL && set_spec(t, &w) == AC_OK &&
	    copy_str(&t->idempotency_key, req->idempotency_key) == AC_OK &&
	    copy_str(&t->submitted_by, req->submitted_by) == AC_OK) {
		err = AC_OK;
	}
	ac_mpw_fini(&cx);
	if (err != AC_OK) {
		ac_task_free(t);
		return err;
	}
	t->status = AC_TASK_QUEUED;
	t->priority = req->priority.set ? (ac_priority)req->priority.v : AC_PRIO_NORMAL;
	t->tier = c->effective_tier;
	t->max_retries = req->max_retries.set ? (uint32_t)req->max_retries.v : 3;
	t->ttl_ms = req->ttl_ms.set ? (int64_t)req->ttl_ms.v : -1;
	t->created_at_ms = t->enqueued_at_ms = t->updated_at_ms = now_ms;
	t->not_before_ms = req->delay_ms.set && req->delay_ms.v > 0 ? now_ms + (int64_t)req->delay_ms.v : 0;
	*out = t;
	return AC_OK;
}
