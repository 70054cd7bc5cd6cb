/* SPDX-License-Identifier: MIT
 * Queue actor: task op handlers and the handler table. Handlers change memory and hold
 * their replies; queue_batch.c commits each batch before anything leaves.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/agent_wire.h"
#include "codec/ops.h"
#include "queue/queue_int.h"
#include "routing/explain.h"
#include "rt/clock.h"
#include "rt/log.h"

#define PRUNE_INTERVAL_MS 60000
#define PRUNE_BATCH 1000

static void write_ok(ac_mpw *w, uint32_t fields)
{
	ac_mpw_map(w, fields + 1);
	ac_mpw_key(w, "ok");
	ac_mpw_bool(w, true);
}

static void write_task_field(ac_mpw *w, const ac_task *t, ac_arena *arena)
{
	ac_mpw_key(w, "task");
	ac_task_encode(t, false, arena, w);
}

static void publish_disagreement(ac_queue *q, const ac_task *t, const ac_complexity *c)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 4);
	ac_mpw_key(&w, "task_id");
	ac_mpw_u64(&w, t->id);
	ac_mpw_key(&w, "explicit_tier");
	ac_mpw_cstr(&w, ac_tier_names[c->explicit_tier]);
	ac_mpw_key(&w, "inferred_tier");
	ac_mpw_cstr(&w, ac_tier_names[c->inferred_tier]);
	ac_mpw_key(&w, "inferred_confidence");
	ac_mpw_f64(&w, c->confidence);
	ac_queue_hold_event(q, "complexity.disagreement", &w);
	ac_mpw_fini(&w);
}

/* Answers a repeated idempotency key with the original task. */
static bool write_duplicate(ac_queue *q, const ac_task_wire *req, ac_arena *arena, ac_mpw *w)
{
	int64_t now = ac_clock_wall_ms();
	uint64_t id;
	ac_task *t, *tmp;
	ac_err err;

	if (!req->idempotency_key.set ||
	    (id = ac_queue_state_lookup_key(q->qs, req->idempotency_key.p, req->idempotency_key.len,
	         now)) == 0 ||
	    (t = ac_queue_lookup(q, id, arena, &tmp, &err)) == NULL) {
		return false;
	}
	write_ok(w, 2);
	write_task_field(w, t, arena);
	ac_mpw_key(w, "duplicate");
	ac_mpw_bool(w, true);
	ac_task_free(tmp);
	return true;
}

/* Creates one task from a validated submit map and writes {ok, task, duplicate}. */
static ac_err submit_one(ac_queue *q, const ac_task_wire *req, ac_arena *arena, ac_mpw *w)
{
	int64_t now = ac_clock_wall_ms();
	ac_complexity c;
	ac_task *t;
	ac_err err;

	if (write_duplicate(q, req, arena, w)) {
		return AC_OK;
	}
	ac_explain_classify(req, &c);
	if ((err = ac_task_from_submit(req, &c, now, arena, &t)) != AC_OK) {
		return err;
	}
	t->id = q->next_id++;
	t->is_new = true;
	ac_task_add_history(t, now, "queued", req->delay_ms.set ? "submitted (delayed)" : "submitted");
	if ((err = ac_queue_state_insert(q->qs, t)) != AC_OK) {
		ac_task_free(t);
		return err;
	}
	if ((err = ac_queue_mark_dirty(q, t)) != AC_OK) {
		ac_task_free(ac_queue_state_take(q->qs, t->id));
		return err;
	}
	if (req->idempotency_key.set) {
		ac_queue_state_remember_key(q->qs, req->idempotency_key.p, req->idempotency_key.len,
		    t->id, now);
	}
	ac_queue_publish_task(q, "task.submitted", t, "tier", ac_tier_names[t->tier]);
	ac_queue_sched_new(q, t);
	if (ac_complexity_disagrees(&c)) {
		publish_disagreement(q, t, &c);
	}
	write_ok(w, 2);
	write_task_field(w, t, arena);
	ac_mpw_key(w, "duplicate");
	ac_mpw_bool(w, false);
	return AC_OK;
}

static void on_submit(void *state, ac_call *call)
{
	ac_queue *q = state;
	ac_mpw *w = ac_actor_scratch(call->actor);
	ac_err err = submit_one(q, call->req, call->arena, w);

	if (err != AC_OK) {
		ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	ac_queue_hold_reply(q, &call->env, w, true);
}

/* Submits each map of the array on its own: one bad map fails only its own result. */
static void submit_items(ac_queue *q, const msgpack_object *arr, ac_mpw *w)
{
	ac_arena item_arena;
	ac_decode_err why;

	ac_arena_init(&item_arena);
	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *item = &arr->via.array.ptr[i];
		ac_task_wire *req = ac_arena_alloc(&item_arena, sizeof(*req));
		ac_err err = req == NULL ? AC_ENOMEM :
		    ac_schema_decode(&ac_task_submit_schema, item, req, &item_arena, &why);
		if (err == AC_EBADREQ && item->type != MSGPACK_OBJECT_MAP) {
			/* bad_request is the envelope's: an item is an argument */
			why = (ac_decode_err){ .code = AC_EINVAL, .message = "must be a task map" };
		}
		if (err == AC_OK) {
			err = submit_one(q, req, &item_arena, w);
			why = (ac_decode_err){ .code = AC_EUNAVAIL, .message = "out of memory" };
		}
		if (err != AC_OK) {
			ac_write_error(w, why.code, why.message, why.field);
		}
		ac_arena_reset(&item_arena);
	}
	ac_arena_fini(&item_arena);
}

static void on_submit_batch(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_task_batch *req = call->req;
	ac_mpw *w = ac_actor_scratch(call->actor);
	msgpack_unpacked u;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)req->tasks.p, req->tasks.len, &off) !=
	        MSGPACK_UNPACK_SUCCESS || u.data.type != MSGPACK_OBJECT_ARRAY ||
	    u.data.via.array.size > AC_BATCH_MAX) {
		ac_queue_hold_error(q, &call->env, AC_EINVAL,
		    "must be an array of at most 1000 task maps", "tasks");
	} else {
		write_ok(w, 1);
		ac_mpw_key(w, "results");
		ac_mpw_array(w, u.data.via.array.size);
		submit_items(q, &u.data, w);
		ac_queue_hold_reply(q, &call->env, w, true);
	}
	msgpack_unpacked_destroy(&u);
}

static void reply_lookup_error(ac_queue *q, const ac_env *env, ac_err err)
{
	if (err == AC_ENOTFOUND) {
		ac_queue_hold_error(q, env, AC_ENOTFOUND, "no task with this id", "id");
	} else {
		ac_queue_hold_error(q, env, AC_EUNAVAIL, "the store could not be read", NULL);
	}
}

static void on_get(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_req_task_id *req = call->req;
	ac_mpw *w = ac_actor_scratch(call->actor);
	ac_task *t, *tmp;
	ac_err err;

	if ((t = ac_queue_lookup(q, req->id.v, call->arena, &tmp, &err)) == NULL) {
		reply_lookup_error(q, &call->env, err);
		return;
	}
	write_ok(w, 1);
	write_task_field(w, t, call->arena);
	/* held, not sent: a task changed earlier in this batch is not committed yet */
	ac_queue_hold_reply(q, &call->env, w, t->is_dirty);
	ac_task_free(tmp);
}

/* What the scheduler and the agent must learn of a cancel or retry. */
static void tell_others(ac_queue *q, ac_task *t, ac_task_status before)
{
	if (t->status == AC_TASK_QUEUED) {
		ac_queue_sched_queued(q, t, NULL);
	} else if (before == AC_TASK_QUEUED) {
		ac_queue_disarm(q, t); /* its ttl */
		ac_queue_sched_removed(q, t);
	} else if ((before == AC_TASK_ASSIGNED || before == AC_TASK_WORKING) && t->assigned_to) {
		ac_queue_sched_removed(q, t); /* frees its endpoint slot */
		ac_queue_disarm(q, t);
		ac_queue_abort_note(q, t->assigned_to, t->id);
		ac_queue_agent_note(q, t->assigned_to, "idle", 0);
	}
}

/* Applies a transition to a task, in memory or loaded from the store for it. */
static void transition(ac_queue *q, ac_call *call,
    ac_err (*apply)(ac_queue_state *, ac_task *, int64_t), const char *topic,
    const char *conflict)
{
	const ac_req_task_id *req = call->req;
	ac_mpw *w = ac_actor_scratch(call->actor);
	ac_task_status before;
	ac_task *t, *tmp;
	ac_err err;

	if ((t = ac_queue_lookup(q, req->id.v, call->arena, &tmp, &err)) == NULL) {
		reply_lookup_error(q, &call->env, err);
		return;
	}
	if (tmp != NULL && ac_queue_state_insert(q->qs, tmp) != AC_OK) {
		ac_task_free(tmp);
		ac_queue_hold_error(q, &call->env, AC_EINTERNAL, "task state conflict", NULL);
		return;
	}
	if (tmp != NULL) {
		q->terminal_counts[t->status]--; /* counted again when it is terminal once more */
	}
	before = t->status;
	if ((err = apply(q->qs, t, ac_clock_wall_ms())) != AC_OK ||
	    (err = ac_queue_mark_dirty(q, t)) != AC_OK) {
		if (tmp != NULL) {
			q->terminal_counts[t->status]++;
			ac_task_free(ac_queue_state_take(q->qs, t->id));
		}
		ac_queue_hold_error(q, &call->env, err == AC_ECONFLICT ? AC_ECONFLICT : AC_EUNAVAIL,
		    err == AC_ECONFLICT ? conflict : "out of memory", NULL);
		return;
	}
	tell_others(q, t, before);
	ac_queue_publish_task(q, topic, t, NULL, NULL);
	write_ok(w, 1);
	write_task_field(w, t, call->arena);
	ac_queue_hold_reply(q, &call->env, w, true);
}

static void on_cancel(void *state, ac_call *call)
{
	transition(state, call, ac_task_cancel, "task.cancelled",
	    "the task is already completed, dead-lettered or cancelled");
}

static void on_retry(void *state, ac_call *call)
{
	transition(state, call, ac_task_retry, "task.retried",
	    "only dead_letter or cancelled tasks can be retried");
}

/* ---- task.list ---- */

typedef struct list_ctx {
	ac_queue *q;
	ac_arena *arena;
	ac_task **found;     /* queued walk: borrowed tasks */
	ac_mpw *items;       /* store list: public maps written here */
	uint32_t count, limit;
	int want_prio;       /* -1 = any (queued walk filters assigned_to never) */
	uint64_t last_id;
	bool more;
} list_ctx;

static bool collect_queued(void *arg, const ac_task *t)
{
	list_ctx *c = arg;

	if (c->count == c->limit) {
		c->more = true;
		return false;
	}
	c->found[c->count++] = (ac_task *)t;
	return true;
}

static bool collect_row(void *arg, const ac_task_row *row)
{
	list_ctx *c = arg;
	ac_task *t;

	if (c->count == c->limit) {
		c->more = true;
		return false;
	}
	if (ac_task_decode(row->record, row->record_len, c->arena, &t) != AC_OK) {
		ac_log(AC_LOG_ERR, "queue", "record_corrupt", "task_id=%" PRIu64, row->id);
		return true;
	}
	ac_task_encode(t, false, c->arena, c->items);
	ac_task_free(t);
	c->last_id = row->id;
	c->count++;
	return true;
}

/* Reads a cursor this server wrote: kind, then n decimal integers, each after a '.'
 * ("q.1.1795739696063.42"), nothing else; false for anything a client made up
 * (signs other than a leading '-', overflow, junk, too many or too few parts). */
static bool parse_cursor(ac_str s, char kind, int64_t *out, int n)
{
	uint32_t i = 1;

	if (s.len < 2 || s.p[0] != kind) {
		return false;
	}
	for (int k = 0; k < n; k++) {
		bool neg, any = false;
		uint64_t v = 0;
		if (i >= s.len || s.p[i++] != '.') {
			return false;
		}
		neg = i < s.len && s.p[i] == '-';
		i += neg;
		for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, any = true) {
			uint64_t d = (uint64_t)(s.p[i] - '0');
			if (v > ((uint64_t)INT64_MAX - d) / 10) {
				return false; /* checked before it could wrap */
			}
			v = v * 10 + d;
		}
		if (!any) {
			return false;
		}
		out[k] = neg ? -(int64_t)v : (int64_t)v;
	}
	return i == s.len;
}

static void list_queued(ac_queue *q, const ac_req_task_list *req, ac_call *call, ac_mpw *w)
{
	list_ctx c = { .q = q, .arena = call->arena, .limit = req->limit.set ? (uint32_t)req->limit.v : 100 };
	int64_t at[3] = { 0 }; /* priority, enqueued_at_ms, id */
	char cur[129];
	bool after = req->cursor.set;

	if (after && (!parse_cursor(req->cursor, 'q', at, 3) || at[0] < 0 || at[0] >= AC_PRIO_COUNT ||
	                 at[2] < 0)) {
		ac_queue_hold_error(q, &call->env, AC_EINVAL, "not a cursor of this listing", "cursor");
		return;
	}
	if ((c.found = ac_arena_alloc(call->arena, sizeof(*c.found) * c.limit)) == NULL) {
		ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "out of memory", NULL);
		return;
	}
	ac_queue_state_walk_queued(q->qs, req->priority.set ? req->priority.v : -1, after,
	    (ac_priority)at[0], at[1], (uint64_t)at[2], collect_queued, &c);
	write_ok(w, c.more ? 2 : 1);
	ac_mpw_key(w, "tasks");
	ac_mpw_array(w, c.count);
	for (uint32_t i = 0; i < c.count; i++) {
		ac_task_encode(c.found[i], false, call->arena, w);
	}
	if (c.more && c.count > 0) {
		const ac_task *last = c.found[c.count - 1];
		snprintf(cur, sizeof(cur), "q.%d.%lld.%" PRIu64, (int)last->priority,
		    (long long)last->enqueued_at_ms, last->id);
		ac_mpw_key(w, "next");
		ac_mpw_cstr(w, cur);
	}
	ac_queue_hold_reply(q, &call->env, w, false);
}

static void list_stored(ac_queue *q, const ac_req_task_list *req, ac_call *call, ac_mpw *w)
{
	ac_mpw items;
	char cur[129], who[129];
	int64_t after = 0;
	list_ctx c = { .q = q, .arena = call->arena, .items = &items,
		.limit = req->limit.set ? (uint32_t)req->limit.v : 100 };
	ac_task_filter f = { .status = req->status.set ? req->status.v : -1,
		.priority = req->priority.set ? req->priority.v : -1,
		.assigned_to = req->assigned_to.set ? ac_str_cpy(who, sizeof(who), req->assigned_to) : NULL,
		.limit = c.limit + 1 };

	if (req->cursor.set && (!parse_cursor(req->cursor, 'i', &after, 1) || after < 0)) {
		ac_queue_hold_error(q, &call->env, AC_EINVAL, "not a cursor of this listing", "cursor");
		return;
	}
	f.after_id = (uint64_t)after;
	ac_mpw_init(&items);
	if (ac_store_list_tasks(q->store, &f, collect_row, &c) != AC_OK) {
		ac_queue_hold_error(q, &call->env, AC_EUNAVAIL, "the store could not be read", NULL);
		ac_mpw_fini(&items);
		return;
	}
	write_ok(w, c.more ? 2 : 1);
	ac_mpw_key(w, "tasks");
	ac_mpw_array(w, c.count);
	ac_mpw_raw(w, ac_mpw_data(&items), ac_mpw_len(&items));
	if (c.more) {
		snprintf(cur, sizeof(cur), "i.%" PRIu64, c.last_id);
		ac_mpw_key(w, "next");
		ac_mpw_cstr(w, cur);
	}
	ac_mpw_fini(&items);
	ac_queue_hold_reply(q, &call->env, w, false);
}

static void on_list(void *state, ac_call *call)
{
	const ac_req_task_list *req = call->req;
	ac_mpw *w = ac_actor_scratch(call->actor);

	if (req->status.set && req->status.v == AC_TASK_QUEUED && !req->assigned_to.set) {
		list_queued(state, req, call, w);
	} else {
		list_stored(state, req, call, w);
	}
}

/* ---- stats: the queue's section, then on to telemetry for the rest ---- */

static void on_stats(void *state, ac_call *call)
{
	ac_queue *q = state;
	uint64_t by_status[AC_TASK_STATUS_COUNT], by_prio[AC_PRIO_COUNT];
	ac_mpw *w = ac_actor_scratch(call->actor);

	ac_queue_state_counts(q->qs, by_status, by_prio);
	ac_mpw_map(w, 1);
	ac_mpw_key(w, "queue");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "by_status");
	ac_mpw_map(w, AC_TASK_STATUS_COUNT);
	for (int s = 0; s < AC_TASK_STATUS_COUNT; s++) {
		ac_mpw_key(w, ac_task_status_names[s]);
		ac_mpw_u64(w, ac_task_status_is_terminal((ac_task_status)s) ? q->terminal_counts[s] :
		                                                                  by_status[s]);
	}
	ac_mpw_key(w, "by_priority");
	ac_mpw_map(w, AC_PRIO_COUNT);
	for (int p = 0; p < AC_PRIO_COUNT; p++) {
		ac_mpw_key(w, ac_priority_names[p]);
		ac_mpw_u64(w, by_prio[p]);
	}
	ac_actor_forward(call->actor, AC_ACTOR_REGISTRY, &call->env, AC_MSG_STATS_COLLECT, w);
}

/* The scheduler's reasons queued tasks wait (a batch of notes); shown by task.get,
 * cleared on assign. Memory only: it describes the present, a restart re-derives it.
 * A fallback goes into the task's history, stored with the task's next change (its
 * assignment, expiry, cancel): not worth a write of its own in an outage's burst of
 * fallbacks, and a restart before then waits and falls back again. */
static void on_pending(void *state, ac_call *call)
{
	ac_queue *q = state;
	const ac_task_pending_msg *m = call->req;
	const ac_task_pending_note *notes = m->tasks.items;
	char detail[257];

	for (uint32_t i = 0; i < m->tasks.count; i++) {
		ac_task *t = ac_queue_state_find(q->qs, notes[i].id.v);
		if (t == NULL || t->status != AC_TASK_QUEUED) {
			continue;
		}
		ac_task_set_str(&t->pending_reason, notes[i].reason.len ? notes[i].reason.p : NULL,
		    notes[i].reason.len);
		if (notes[i].fallback.set) {
			ac_task_add_history(t, ac_clock_wall_ms(), "fallback",
			    ac_str_cpy(detail, sizeof(detail), notes[i].fallback));
		}
	}
}

/* ---- actor ---- */

static void on_timer(void *state, ac_actor *a, const ac_timer_entry *t)
{
	ac_queue *q = state;
	int64_t now = ac_clock_wall_ms();
	uint64_t pruned[AC_TASK_STATUS_COUNT] = { 0 };
	uint32_t deleted = 0;

	if (t->kind == TIMER_AFTER_LOAD) {
		ac_queue_after_load(q);
		return;
	}
	if (t->kind != TIMER_PRUNE) {
		ac_queue_on_task_timer(q, t);
		return;
	}
	ac_queue_state_expire_keys(q->qs, now, 10000);
	if (ac_store_prune(q->store, now - q->cfg->retention_ms, PRUNE_BATCH, pruned,
	        AC_TASK_STATUS_COUNT, &deleted) == AC_OK &&
	    deleted > 0) {
		for (int st = 0; st < AC_TASK_STATUS_COUNT; st++) {
			q->terminal_counts[st] -= pruned[st] < q->terminal_counts[st] ?
			    pruned[st] : q->terminal_counts[st];
		}
		ac_log(AC_LOG_INFO, "queue", "pruned", "tasks=%u", deleted);
	}
	/* a full batch means more is due: come back soon rather than in a minute */
	ac_actor_timer_add(a, ac_clock_mono_ms() + (deleted == PRUNE_BATCH ? 100 : PRUNE_INTERVAL_MS),
	    TIMER_PRUNE, 0, NULL);
}

static ac_err queue_actor_start(void *state, ac_actor *a)
{
	ac_queue *q = state;

	q->actor = a;
	/* telling the scheduler about a million queued tasks takes a while: do it from the
	 * loop, so the server is ready (and answering) while it happens */
	if (ac_actor_timer_add(a, ac_clock_mono_ms(), TIMER_AFTER_LOAD, 0, NULL) != AC_OK) {
		ac_queue_after_load(q);
	}
	return ac_actor_timer_add(a, ac_clock_mono_ms() + 1000, TIMER_PRUNE, 0, NULL);
}

static const ac_handler queue_handlers[AC_MSG_COUNT] = {
	[AC_MSG_OP_TASK_SUBMIT] = { on_submit, &ac_task_submit_schema },
	[AC_MSG_OP_TASK_SUBMIT_BATCH] = { on_submit_batch, &ac_req_task_batch_schema },
	[AC_MSG_OP_TASK_GET] = { on_get, &ac_req_task_id_schema },
	[AC_MSG_OP_TASK_LIST] = { on_list, &ac_req_task_list_schema },
	[AC_MSG_OP_TASK_CANCEL] = { on_cancel, &ac_req_task_id_schema },
	[AC_MSG_OP_TASK_RETRY] = { on_retry, &ac_req_task_id_schema },
	[AC_MSG_OP_STATS] = { on_stats, &ac_req_empty_schema },
	[AC_MSG_OP_TASK_ACCEPT] = { ac_queue_on_accept, &ac_req_task_accept_schema },
	[AC_MSG_OP_TASK_PROGRESS] = { ac_queue_on_progress, &ac_req_task_progress_schema },
	[AC_MSG_OP_TASK_COMPLETE] = { ac_queue_on_complete, &ac_req_task_complete_schema },
	[AC_MSG_OP_TASK_FAIL] = { ac_queue_on_fail, &ac_req_task_fail_schema },
	[AC_MSG_ASSIGN] = { ac_queue_on_assign, &ac_assign_msg_schema },
	[AC_MSG_HELLO_FWD] = { ac_queue_on_hello, &ac_req_agent_only_schema },
	[AC_MSG_HEARTBEAT_FWD] = { ac_queue_on_heartbeat, &ac_req_agent_only_schema },
	[AC_MSG_AGENT_GONE] = { ac_queue_on_agent_gone, &ac_req_agent_only_schema },
	[AC_MSG_TASK_PENDING] = { on_pending, &ac_task_pending_msg_schema },
	[AC_MSG_FETCH_HELD] = { ac_queue_on_fetch_held, NULL },
	[AC_MSG_EARLY_ANSWER] = { ac_queue_on_early_answer, NULL },
};

static const ac_actor_def queue_def = {
	.name = "queue",
	.id = AC_ACTOR_QUEUE,
	.handlers = queue_handlers,
	.start = queue_actor_start,
	.on_timer = on_timer,
	.on_drained = ac_queue_commit_batch,
	.max_batch = 512,
	.gather_us = AC_QUEUE_GATHER_US,
	.gather_more = ac_queue_gather_more,
};

static void queue_free(ac_queue *q)
{
	ac_queue_state_free(q->qs);
	ac_store_close(q->store);
	ac_mpw_fini(&q->held_bytes);
	ac_mpw_fini(&q->enc);
	ac_mpw_fini(&q->sched_events);
	ac_mpw_fini(&q->new_task_events);
	ac_mpw_fini(&q->agent_notes);
	ac_arena_fini(&q->commit_arena);
	free(q->aborts);
	free(q->dirty);
	free(q->held);
	free(q->early);
	free(q->voided);
	free(q);
}

ac_err ac_queue_start(ac_rt *rt, const ac_config *cfg, ac_queue **out)
{
	ac_queue *q = calloc(1, sizeof(*q));
	ac_err err;

	if (q == NULL) {
		return AC_ENOMEM;
	}
	q->cfg = cfg;
	ac_mpw_init(&q->held_bytes);
	ac_mpw_init(&q->enc);
	ac_mpw_init(&q->sched_events);
	ac_mpw_init(&q->new_task_events);
	ac_mpw_init(&q->agent_notes);
	ac_arena_init(&q->commit_arena);
	q->rng = (uint64_t)ac_clock_mono_us() * 0x9e3779b97f4a7c15ull | 1;
	if ((err = ac_queue_state_alloc(&q->qs)) != AC_OK ||
	    (err = ac_store_open(cfg->data_dir, cfg->durability, &q->store)) != AC_OK ||
	    (err = ac_queue_load(q)) != AC_OK) {
		queue_free(q);
		return err;
	}
	/* the queue's commits must not stall for checkpoints (logged when it cannot) */
	(void)ac_store_checkpoint_in_background(q->store);
	if ((err = ac_actor_start(rt, &queue_def, q, &q->actor)) != AC_OK) {
		queue_free(q);
		return err;
	}
	*out = q;
	return AC_OK;
}

void ac_queue_stop(ac_queue *q)
{
	if (q == NULL) {
		return;
	}
	ac_actor_stop(q->actor);
	queue_free(q);
}
