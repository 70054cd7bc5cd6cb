/* SPDX-License-Identifier: MIT
 * Group commit for the queue actor: handlers change memory and hold their replies and
 * events; after each drained batch every changed task is written in one transaction,
 * and only then do replies and events leave. A failed commit restores the changed
 * tasks from the store and turns the held mutation replies into `unavailable`.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "rt/array.h"
#include "rt/clock.h"
#include "rt/log.h"

ac_err ac_queue_mark_dirty(ac_queue *q, ac_task *t)
{
	if (t->is_dirty) {
		return AC_OK;
	}
	ac_task **d = ac_array_reserve(q->dirty, &q->dirty_cap, q->dirty_count, sizeof(*d), 256);

	if (d == NULL) {
		return AC_ENOMEM;
	}
	q->dirty = d;
	t->is_dirty = true;
	q->dirty[q->dirty_count++] = t;
	return AC_OK;
}

static held_msg *hold(ac_queue *q, const ac_env *env, ac_actor_id to, const void *p,
    size_t len, bool is_mutation)
{
	held_msg *h = ac_array_reserve(q->held, &q->held_cap, q->held_count, sizeof(*h), 256);

	if (h == NULL) {
		ac_log(AC_LOG_ERR, "queue", "reply_dropped", "reason=out_of_memory");
		return NULL;
	}
	q->held = h;
	h = &q->held[q->held_count++];
	h->env = *env;
	h->to = to;
	h->is_mutation = is_mutation;
	h->only_if_failed = false;
	h->off = ac_mpw_len(&q->held_bytes);
	h->len = len;
	ac_mpw_raw(&q->held_bytes, p, len);
	return h;
}

void ac_queue_hold_failure_reply(ac_queue *q, const ac_env *req)
{
	ac_env env = { .type = AC_MSG_GW_REPLY, .corr_id = req->corr_id };
	held_msg *h;

	if (req->corr_id != 0 && (h = hold(q, &env, AC_ACTOR_GATEWAY, "", 0, true)) != NULL) {
		h->only_if_failed = true;
	}
}

void ac_queue_hold_reply(ac_queue *q, const ac_env *req, const ac_mpw *body, bool is_mutation)
{
	ac_env env = { .type = AC_MSG_GW_REPLY, .corr_id = req->corr_id };

	if (req->corr_id != 0) {
		hold(q, &env, AC_ACTOR_GATEWAY, ac_mpw_data(body), ac_mpw_len(body), is_mutation);
	}
}

/* Held events are the topic string followed by the data map (ac_actor_publish_encoded). */
void ac_queue_hold_event(ac_queue *q, const char *topic, const ac_mpw *data)
{
	ac_env env = { .type = AC_MSG_TEL_EVENT };
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_cstr(&w, topic);
	ac_mpw_raw(&w, ac_mpw_data(data), ac_mpw_len(data));
	if (w.err == AC_OK && data->err == AC_OK) {
		hold(q, &env, AC_ACTOR_TELEMETRY, ac_mpw_data(&w), ac_mpw_len(&w), true);
	}
	ac_mpw_fini(&w);
}

void ac_queue_hold_error(ac_queue *q, const ac_env *req, ac_err code, const char *message,
    const char *field)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_write_error(&w, code, message, field);
	ac_queue_hold_reply(q, req, &w, false);
	ac_mpw_fini(&w);
}

static ac_err write_dirty(ac_queue *q)
{
	ac_task_row row;
	ac_err err = AC_OK;

	for (size_t i = 0; i < q->dirty_count && err == AC_OK; i++) {
		ac_task *t = q->dirty[i];
		ac_mpw_reset(&q->enc);
		ac_task_encode(t, true, &q->commit_arena, &q->enc);
		ac_arena_reset(&q->commit_arena);
		if (q->enc.err != AC_OK) {
			return q->enc.err;
		}
		ac_task_row_fill(t, ac_mpw_data(&q->enc), ac_mpw_len(&q->enc), &row);
		err = ac_store_put_task(q->store, &row);
	}
	return err;
}

/* Drops terminal tasks from memory once they are safely stored. */
static void settle_dirty(ac_queue *q)
{
	for (size_t i = 0; i < q->dirty_count; i++) {
		ac_task *t = q->dirty[i];
		t->is_dirty = false;
		t->is_new = false;
		if (ac_task_status_is_terminal(t->status)) {
			q->terminal_counts[t->status]++;
			ac_task_free(ac_queue_state_take(q->qs, t->id));
		}
	}
}

static void recount_terminal(ac_queue *q)
{
	uint64_t counts[AC_TASK_STATUS_COUNT] = { 0 };

	if (ac_store_count_by_status(q->store, counts, AC_TASK_STATUS_COUNT) == AC_OK) {
		for (int s = 0; s < AC_TASK_STATUS_COUNT; s++) {
			q->terminal_counts[s] = ac_task_status_is_terminal((ac_task_status)s) ? counts[s] : 0;
		}
	}
}

/* Puts back the stored version of every changed task (or drops a new one). */
static void restore_dirty(ac_queue *q)
{
	for (size_t i = 0; i < q->dirty_count; i++) {
		uint64_t id = q->dirty[i]->id;
		ac_task *mem = ac_queue_state_take(q->qs, id), *stored = NULL;
		ac_task_row row;
		ac_err found = ac_store_get_task(q->store, id, &row);
		if (mem->idempotency_key != NULL) {
			ac_queue_state_forget_key(q->qs, mem->idempotency_key, strlen(mem->idempotency_key));
		}
		if (mem->is_new) {
			ac_queue_sched_removed(q, mem); /* announced as the commit began */
		}
		ac_task_free(mem);
		if (found == AC_OK &&
		    ac_task_decode(row.record, row.record_len, &q->commit_arena, &stored) == AC_OK) {
			if (ac_task_status_is_terminal(stored->status) ||
			    ac_queue_state_insert(q->qs, stored) != AC_OK) {
				ac_task_free(stored);
			} else if (stored->status == AC_TASK_QUEUED) {
				ac_queue_sched_queued(q, stored, NULL); /* the scheduler may have dropped it */
			} else {
				ac_queue_rearm(q, stored);
			}
			if (row.idempotency_key != NULL) {
				ac_queue_state_remember_key(q->qs, row.idempotency_key,
				    strlen(row.idempotency_key), id, row.created_at_ms);
			}
		}
		ac_arena_reset(&q->commit_arena);
	}
}

static void release_held(ac_queue *q, bool committed)
{
	const uint8_t *bytes = ac_mpw_data(&q->held_bytes);
	ac_mpw err;

	/* notes first: the registry and scheduler must know an agent is free before the
	 * agent can hear so and fetch again */
	ac_queue_flush_notes(q);
	ac_mpw_init(&err);
	ac_write_error(&err, AC_EUNAVAIL, "the store could not commit this change", NULL);
	for (size_t i = 0; i < q->held_count; i++) {
		held_msg *h = &q->held[i];
		ac_env reply = { .type = AC_MSG_GW_REPLY, .corr_id = h->env.corr_id };
		if (h->only_if_failed && committed) {
			continue;
		}
		if (h->env.type == AC_MSG_TEL_EVENT) {
			if (committed) {
				ac_actor_publish_encoded(q->actor, bytes + h->off, h->len);
			}
		} else if (committed || !h->is_mutation) {
			ac_actor_send(q->actor, h->to, &h->env, bytes + h->off, h->len);
		} else if (h->env.corr_id != 0) {
			/* a reply, or a request passed on with its reply handle */
			ac_actor_send(q->actor, AC_ACTOR_GATEWAY, &reply, ac_mpw_data(&err), ac_mpw_len(&err));
		}
	}
	ac_mpw_fini(&err);
	q->held_count = 0;
	ac_mpw_reset(&q->held_bytes);
}

void ac_queue_flush_notes(ac_queue *q)
{
	ac_actor_tell_list(q->actor, AC_ACTOR_SCHEDULER, AC_MSG_TASK_EVENTS, "tasks",
	    &q->sched_events, &q->sched_event_count);
	ac_actor_tell_list(q->actor, AC_ACTOR_REGISTRY, AC_MSG_AGENT_NOTES, "notes",
	    &q->agent_notes, &q->agent_note_count);
}

void ac_queue_commit_batch(void *state, ac_actor *a)
{
	ac_queue *q = state;
	ac_err err = AC_OK;

	(void)a;
	ac_actor_tell_list(q->actor, AC_ACTOR_SCHEDULER, AC_MSG_TASK_EVENTS, "tasks",
	    &q->new_task_events, &q->new_task_event_count);
	if (q->dirty_count > 0) {
		if ((err = ac_store_begin(q->store)) == AC_OK) {
			if ((err = write_dirty(q)) == AC_OK) {
				err = ac_store_commit(q->store); /* rolls back itself on failure */
			} else {
				ac_store_rollback(q->store);
			}
		}
		if (err == AC_OK) {
			settle_dirty(q);
		} else {
			ac_log(AC_LOG_ERR, "queue", "commit_failed", "tasks=%zu error=\"%s\"",
			    q->dirty_count, ac_strerror(err));
			/* what the batch told nobody yet is void; the restore says what holds */
			ac_mpw_reset(&q->sched_events);
			q->sched_event_count = 0;
			ac_mpw_reset(&q->agent_notes);
			q->agent_note_count = 0;
			restore_dirty(q);
			recount_terminal(q);
		}
		q->dirty_count = 0;
	}
	ac_queue_early_settled(q, err == AC_OK);
	ac_queue_aborts_settled(q, err == AC_OK);
	release_held(q, err == AC_OK);
}

/* ---- startup ---- */

typedef struct load_ctx {
	ac_queue *q;
	ac_arena arena;
	size_t loaded, corrupt;
} load_ctx;

static bool load_row(void *arg, const ac_task_row *row)
{
	load_ctx *c = arg;
	ac_task *t;

	if (ac_task_decode(row->record, row->record_len, &c->arena, &t) != AC_OK) {
		ac_log(AC_LOG_ERR, "queue", "record_corrupt", "task_id=%llu", (unsigned long long)row->id);
		c->corrupt++;
	} else if (ac_queue_state_insert(c->q->qs, t) != AC_OK) {
		ac_task_free(t);
	} else {
		c->loaded++;
	}
	ac_arena_reset(&c->arena);
	return true;
}

static bool load_key(void *arg, const ac_task_row *row)
{
	load_ctx *c = arg;

	ac_queue_state_remember_key(c->q->qs, row->idempotency_key, strlen(row->idempotency_key),
	    row->id, row->created_at_ms);
	return true;
}

ac_err ac_queue_load(ac_queue *q)
{
	load_ctx c = { .q = q };
	int64_t started = ac_clock_mono_ms();
	uint64_t counts[AC_TASK_STATUS_COUNT] = { 0 };
	ac_err err;

	ac_arena_init(&c.arena);
	err = ac_store_next_id(q->store, &q->next_id);
	if (err == AC_OK) {
		err = ac_store_load_live(q->store, load_row, &c);
	}
	if (err == AC_OK) {
		err = ac_store_load_idempotency(q->store,
		    ac_clock_wall_ms() - AC_IDEMPOTENCY_WINDOW_MS, load_key, &c);
	}
	if (err == AC_OK) {
		err = ac_store_count_by_status(q->store, counts, AC_TASK_STATUS_COUNT);
	}
	ac_arena_fini(&c.arena);
	for (int s = 0; s < AC_TASK_STATUS_COUNT; s++) {
		q->terminal_counts[s] = ac_task_status_is_terminal((ac_task_status)s) ? counts[s] : 0;
	}
	ac_log(err == AC_OK ? AC_LOG_INFO : AC_LOG_ERR, "queue", "loaded",
	    "live_tasks=%zu corrupt=%zu next_id=%llu ms=%lld error=\"%s\"", c.loaded, c.corrupt,
	    (unsigned long long)q->next_id, (long long)(ac_clock_mono_ms() - started),
	    ac_strerror(err));
	return err;
}

ac_task *ac_queue_lookup(ac_queue *q, uint64_t id, ac_arena *arena, ac_task **tmp, ac_err *err)
{
	ac_task *t = ac_queue_state_find(q->qs, id);
	ac_task_row row;

	*tmp = NULL;
	if (t != NULL) {
		return t;
	}
	*err = ac_store_get_task(q->store, id, &row);
	if (*err == AC_OK) {
		*err = ac_task_decode(row.record, row.record_len, arena, tmp);
	}
	return *tmp;
}
