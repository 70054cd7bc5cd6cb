/* SPDX-License-Identifier: MIT
 * The queue's pure state (DESIGN §3, §5.5): task records and their history ring, the
 * id map, four intrusive priority lanes sorted by (enqueued_at_ms, id), incremental
 * counts, idempotency keys and the cancel/retry transitions. Owns every task inserted.
 * No I/O, no threads, no clock: callers pass the time.
 */
#include <stdlib.h>
#include <string.h>

#include "queue/key_index.h"
#include "queue/queue_state.h"
#include "queue/task_map.h"
#include "rt/assert.h"

/* Invariants (checked by ac_queue_state_check):
 * - a task is in lanes[priority] iff status == AC_TASK_QUEUED (in_lane mirrors it);
 * - each lane is strictly increasing in (enqueued_at_ms, id);
 * - by_status and queued_by_prio equal a full recount of the id map.
 * Every status change goes through set_status, which keeps all three. */
typedef struct lane {
	ac_task *head, *tail;
} lane;

struct ac_queue_state {
	ac_task_map ids;      /* id -> ac_task, owned */
	ac_key_index keys;    /* idempotency key -> (id, created_at_ms) */
	lane lanes[AC_PRIO_COUNT];
	uint64_t by_status[AC_TASK_STATUS_COUNT];
	uint64_t queued_by_prio[AC_PRIO_COUNT];
	ac_task *flight_head; /* assigned and working tasks, newest first */
};

static const bool is_terminal_status[AC_TASK_STATUS_COUNT] = {
	[AC_TASK_COMPLETED] = true,
	[AC_TASK_DEAD_LETTER] = true,
	[AC_TASK_CANCELLED] = true,
};

/* ---- task records ---- */

ac_task *ac_task_alloc(void)
{
	ac_task *t = calloc(1, sizeof(*t));

	if (t != NULL) {
		t->ttl_ms = -1;
		t->tokens_used = -1;
	}
	return t;
}

static void clear_str(char **slot)
{
	free(*slot);
	*slot = NULL;
}

static void clear_blob(ac_blob *b)
{
	free(b->p);
	*b = (ac_blob){ NULL, 0 };
}

void ac_task_free(ac_task *t)
{
	if (t == NULL) {
		return;
	}
	AC_ASSERT(!t->in_lane && !t->in_flight);
	char **strs[] = { &t->assigned_to, &t->last_error, &t->pending_reason, &t->submitted_by,
		&t->idempotency_key, &t->applied_agent };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		clear_str(strs[i]);
	}
	clear_blob(&t->spec);
	clear_blob(&t->result);
	clear_blob(&t->decision);
	for (size_t i = 0; i < t->history_cap; i++) {
		free(t->history[i].detail);
	}
	free(t->history);
	free(t);
}

ac_err ac_task_set_str(char **slot, const char *s, size_t len)
{
	char *p = NULL;

	if (s != NULL) {
		if (len == SIZE_MAX || (p = malloc(len + 1)) == NULL) {
			return AC_ENOMEM;
		}
		memcpy(p, s, len);
		p[len] = '\0';
	}
	free(*slot);
	*slot = p;
	return AC_OK;
}

void ac_task_add_history(ac_task *t, int64_t at_ms, const char *event, const char *detail)
{
	ac_history_item *h;

	AC_ASSERT(event != NULL && t->history_head < AC_HISTORY_MAX &&
	    t->history_count <= AC_HISTORY_MAX);
	if (t->history_count == t->history_cap && t->history_cap < AC_HISTORY_MAX) {
		uint32_t cap = t->history_cap ? t->history_cap * 2 : 4;
		ac_history_item *grown;
		cap = cap > AC_HISTORY_MAX ? AC_HISTORY_MAX : cap;
		if ((grown = realloc(t->history, cap * sizeof(*grown))) == NULL) {
			return; /* history is best effort; the task itself is unaffected */
		}
		memset(grown + t->history_cap, 0, (cap - t->history_cap) * sizeof(*grown));
		t->history = grown;
		t->history_cap = cap;
	}
	h = &t->history[t->history_head];
	clear_str(&h->detail); /* the oldest entry's, once the ring is full */
	h->at_ms = at_ms;
	h->event = event;
	if (detail != NULL) {
		(void)ac_task_set_str(&h->detail, detail, strlen(detail)); /* NULL on ENOMEM */
	}
	t->history_head = (t->history_head + 1) % AC_HISTORY_MAX;
	if (t->history_count < AC_HISTORY_MAX) {
		t->history_count++;
	}
}

const ac_history_item *ac_task_history_at(const ac_task *t, uint32_t i)
{
	AC_ASSERT(i < t->history_count && t->history_head < AC_HISTORY_MAX);
	return &t->history[(t->history_head + AC_HISTORY_MAX - 1 - i) % AC_HISTORY_MAX];
}

bool ac_task_status_is_terminal(ac_task_status s)
{
	AC_ASSERT((unsigned)s < AC_TASK_STATUS_COUNT);
	return is_terminal_status[s];
}

/* ---- lanes and counts ---- */

/* Dispatch order within a lane: FIFO by enqueued_at_ms, ties broken by id. */
static bool is_after(const ac_task *t, int64_t enqueued_at_ms, uint64_t id)
{
	return t->enqueued_at_ms > enqueued_at_ms ||
	    (t->enqueued_at_ms == enqueued_at_ms && t->id > id);
}

/* Walks back from the tail: O(1) for the usual append, still correct for loads and
 * requeues out of order. A task before the head goes there at once. */
static void link_in_lane(ac_queue_state *qs, ac_task *t)
{
	lane *l = &qs->lanes[t->priority];
	ac_task *p = l->tail;

	AC_ASSERT(!t->in_lane && t->status == AC_TASK_QUEUED);
	if (l->head != NULL && is_after(l->head, t->enqueued_at_ms, t->id)) {
		p = NULL;
	}
	while (p != NULL && is_after(p, t->enqueued_at_ms, t->id)) {
		p = p->lane_prev;
	}
	t->lane_prev = p;
	t->lane_next = p ? p->lane_next : l->head;
	*(t->lane_next ? &t->lane_next->lane_prev : &l->tail) = t;
	*(p ? &p->lane_next : &l->head) = t;
	t->in_lane = true;
	qs->queued_by_prio[t->priority]++;
}

static void unlink_from_lane(ac_queue_state *qs, ac_task *t)
{
	lane *l = &qs->lanes[t->priority];

	AC_ASSERT(t->in_lane && qs->queued_by_prio[t->priority] > 0);
	*(t->lane_prev ? &t->lane_prev->lane_next : &l->head) = t->lane_next;
	*(t->lane_next ? &t->lane_next->lane_prev : &l->tail) = t->lane_prev;
	t->lane_prev = t->lane_next = NULL;
	t->in_lane = false;
	qs->queued_by_prio[t->priority]--;
}

/* The one place a held task changes status. Entering queued links it at its
 * (enqueued_at_ms, id) position, so set enqueued_at_ms first. */
static bool is_in_flight_status(ac_task_status s)
{
	return s == AC_TASK_ASSIGNED || s == AC_TASK_WORKING;
}

static void link_in_flight(ac_queue_state *qs, ac_task *t)
{
	t->flight_prev = NULL;
	t->flight_next = qs->flight_head;
	if (qs->flight_head != NULL) {
		qs->flight_head->flight_prev = t;
	}
	qs->flight_head = t;
	t->in_flight = true;
}

static void unlink_from_flight(ac_queue_state *qs, ac_task *t)
{
	if (t->flight_prev != NULL) {
		t->flight_prev->flight_next = t->flight_next;
	} else {
		qs->flight_head = t->flight_next;
	}
	if (t->flight_next != NULL) {
		t->flight_next->flight_prev = t->flight_prev;
	}
	t->flight_prev = t->flight_next = NULL;
	t->in_flight = false;
}

/* Keeps lanes, the in-flight list and the counts right; every status change goes here. */
void ac_queue_state_set_status(ac_queue_state *qs, ac_task *t, ac_task_status s)
{
	AC_ASSERT((unsigned)s < AC_TASK_STATUS_COUNT && qs->by_status[t->status] > 0);
	if (t->status == s) {
		return;
	}
	if (t->in_lane) {
		unlink_from_lane(qs, t);
	}
	if (t->in_flight && !is_in_flight_status(s)) {
		unlink_from_flight(qs, t);
	}
	qs->by_status[t->status]--;
	qs->by_status[s]++;
	t->status = s;
	if (s == AC_TASK_QUEUED) {
		link_in_lane(qs, t);
	}
	if (!t->in_flight && is_in_flight_status(s)) {
		link_in_flight(qs, t);
	}
}

void ac_queue_state_walk_in_flight(const ac_queue_state *qs, ac_task_fn fn, void *ctx)
{
	for (ac_task *t = qs->flight_head, *next; t != NULL; t = next) {
		next = t->flight_next; /* fn may change t's status */
		if (!fn(ctx, t)) {
			return;
		}
	}
}

/* ---- the state ---- */

ac_err ac_queue_state_alloc(ac_queue_state **out)
{
	ac_queue_state *qs = calloc(1, sizeof(*qs));

	if (qs == NULL) {
		return AC_ENOMEM;
	}
	ac_task_map_init(&qs->ids);
	ac_key_index_init(&qs->keys);
	*out = qs;
	return AC_OK;
}

void ac_queue_state_free(ac_queue_state *qs)
{
	if (qs == NULL) {
		return;
	}
	for (size_t i = 0; i < qs->ids.cap; i++) {
		ac_task *t = qs->ids.slots[i].val;
		if (t != NULL) {
			t->in_lane = false;
			t->in_flight = false;
			ac_task_free(t);
		}
	}
	ac_task_map_fini(&qs->ids);
	ac_key_index_fini(&qs->keys);
	free(qs);
}

/* A held task's key maps to it unless the index already has that key for a newer
 * task: a terminal task reloaded for a retry must not steal a key reused after its
 * window ended. */
static ac_err insert_key(ac_queue_state *qs, const ac_task *t)
{
	const char *key = t->idempotency_key;
	size_t len = strlen(key);
	uint64_t id;
	int64_t created_at_ms;

	if (ac_key_index_get(&qs->keys, key, len, &id, &created_at_ms) &&
	    created_at_ms > t->created_at_ms) {
		return AC_OK;
	}
	return ac_key_index_put(&qs->keys, key, len, t->id, t->created_at_ms);
}

ac_err ac_queue_state_insert(ac_queue_state *qs, ac_task *t)
{
	ac_err err;

	AC_ASSERT(t != NULL && !t->in_lane);
	AC_ASSERT((unsigned)t->status < AC_TASK_STATUS_COUNT &&
	    (unsigned)t->priority < AC_PRIO_COUNT);
	if (ac_task_map_find(&qs->ids, t->id, NULL, NULL) != NULL) {
		return AC_ECONFLICT;
	}
	/* reserve first: after the key is in, nothing may fail */
	if ((err = ac_task_map_reserve(&qs->ids, qs->ids.count + 1)) != AC_OK ||
	    (t->idempotency_key != NULL && (err = insert_key(qs, t)) != AC_OK)) {
		return err;
	}
	err = ac_task_map_put(&qs->ids, t->id, t);
	AC_ASSERT(err == AC_OK);
	qs->by_status[t->status]++;
	if (t->status == AC_TASK_QUEUED) {
		link_in_lane(qs, t);
	}
	if (is_in_flight_status(t->status)) {
		link_in_flight(qs, t);
	}
	return AC_OK;
}

ac_task *ac_queue_state_take(ac_queue_state *qs, uint64_t id)
{
	ac_task *t = ac_task_map_remove(&qs->ids, id, NULL, NULL);

	if (t == NULL) {
		return NULL;
	}
	if (t->in_lane) {
		unlink_from_lane(qs, t);
	}
	if (t->in_flight) {
		unlink_from_flight(qs, t);
	}
	AC_ASSERT(qs->by_status[t->status] > 0);
	qs->by_status[t->status]--;
	return t;
}

ac_task *ac_queue_state_find(const ac_queue_state *qs, uint64_t id)
{
	return ac_task_map_find(&qs->ids, id, NULL, NULL);
}

size_t ac_queue_state_count(const ac_queue_state *qs)
{
	return qs->ids.count;
}

/* ---- idempotency ---- */

ac_err ac_queue_state_remember_key(ac_queue_state *qs, const char *key, size_t len,
    uint64_t id, int64_t created_at_ms)
{
	AC_ASSERT(key != NULL || len == 0);
	return ac_key_index_put(&qs->keys, key, len, id, created_at_ms);
}

uint64_t ac_queue_state_lookup_key(const ac_queue_state *qs, const char *key, size_t len,
    int64_t now_ms)
{
	uint64_t id;
	int64_t created_at_ms;

	AC_ASSERT(key != NULL || len == 0);
	if (!ac_key_index_get(&qs->keys, key, len, &id, &created_at_ms) ||
	    created_at_ms <= now_ms - AC_IDEMPOTENCY_WINDOW_MS) {
		return 0;
	}
	return id;
}

void ac_queue_state_forget_key(ac_queue_state *qs, const char *key, size_t len)
{
	AC_ASSERT(key != NULL || len == 0);
	ac_key_index_remove(&qs->keys, key, len);
}

void ac_queue_state_expire_keys(ac_queue_state *qs, int64_t now_ms, size_t limit)
{
	ac_key_index_expire(&qs->keys, now_ms - AC_IDEMPOTENCY_WINDOW_MS, limit);
}

size_t ac_queue_state_key_count(const ac_queue_state *qs)
{
	return ac_key_index_count(&qs->keys);
}

/* ---- dispatch order ---- */

/* The first task of lane p after (enqueued_at_ms, id). O(1) while the cursor's task is
 * still queued there (the usual page-after-page listing), else one scan of the lane. */
static const ac_task *resume_after(const ac_queue_state *qs, ac_priority p,
    int64_t enqueued_at_ms, uint64_t id)
{
	const ac_task *t = ac_queue_state_find(qs, id);

	if (t != NULL && t->in_lane && t->priority == p && t->enqueued_at_ms == enqueued_at_ms) {
		return t->lane_next;
	}
	for (t = qs->lanes[p].head; t != NULL && !is_after(t, enqueued_at_ms, id);) {
		t = t->lane_next;
	}
	return t;
}

void ac_queue_state_walk_queued(const ac_queue_state *qs, int prio, bool after,
    ac_priority after_prio, int64_t after_enqueued_ms, uint64_t after_id, ac_task_fn fn,
    void *ctx)
{
	int first = prio < 0 ? 0 : prio, last = prio < 0 ? AC_PRIO_COUNT - 1 : prio;

	AC_ASSERT(prio < AC_PRIO_COUNT && (!after || (unsigned)after_prio < AC_PRIO_COUNT));
	if (after && (int)after_prio > last) {
		return; /* the cursor is past every lane asked for */
	}
	if (after && (int)after_prio > first) {
		first = (int)after_prio;
	}
	for (int p = first; p <= last; p++) {
		const ac_task *t = after && p == (int)after_prio ?
		    resume_after(qs, (ac_priority)p, after_enqueued_ms, after_id) :
		    qs->lanes[p].head;
		for (; t != NULL; t = t->lane_next) {
			if (!fn(ctx, t)) {
				return;
			}
		}
	}
}

void ac_queue_state_counts(const ac_queue_state *qs, uint64_t by_status[AC_TASK_STATUS_COUNT],
    uint64_t queued_by_priority[AC_PRIO_COUNT])
{
	memcpy(by_status, qs->by_status, sizeof(qs->by_status));
	memcpy(queued_by_priority, qs->queued_by_prio, sizeof(qs->queued_by_prio));
}

/* ---- transitions (DESIGN §3) ---- */

static void assert_held(const ac_queue_state *qs, const ac_task *t)
{
	AC_ASSERT(t != NULL && ac_queue_state_find(qs, t->id) == t);
}

ac_err ac_task_cancel(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	assert_held(qs, t);
	if (is_terminal_status[t->status]) {
		return AC_ECONFLICT;
	}
	ac_queue_state_set_status(qs, t, AC_TASK_CANCELLED);
	clear_str(&t->pending_reason); /* it only explains a wait in the queue */
	t->updated_at_ms = now_ms;
	ac_task_add_history(t, now_ms, "cancelled", NULL);
	return AC_OK;
}

ac_err ac_task_retry(ac_queue_state *qs, ac_task *t, int64_t now_ms)
{
	assert_held(qs, t);
	if (t->status != AC_TASK_DEAD_LETTER && t->status != AC_TASK_CANCELLED) {
		return AC_ECONFLICT;
	}
	t->retry_count = 0;
	t->reclaim_count = 0;
	t->generation++;
	clear_str(&t->assigned_to);
	t->assigned_at_ms = 0;
	clear_str(&t->last_error);
	clear_str(&t->pending_reason);
	t->not_before_ms = 0;
	t->enqueued_at_ms = t->updated_at_ms = now_ms;
	ac_queue_state_set_status(qs, t, AC_TASK_QUEUED); /* after enqueued_at_ms: it decides the position */
	ac_task_add_history(t, now_ms, "retried", NULL);
	return AC_OK;
}

/* ---- self-check ---- */

static bool check_lane(const ac_queue_state *qs, int p)
{
	const ac_task *prev = NULL;
	uint64_t n = 0;

	for (const ac_task *t = qs->lanes[p].head; t != NULL; prev = t, t = t->lane_next, n++) {
		if (t->lane_prev != prev || !t->in_lane || t->status != AC_TASK_QUEUED ||
		    (int)t->priority != p || ac_queue_state_find(qs, t->id) != t ||
		    (prev != NULL && !is_after(t, prev->enqueued_at_ms, prev->id))) {
			return false;
		}
	}
	return qs->lanes[p].tail == prev && n == qs->queued_by_prio[p];
}

static bool check_records(const ac_queue_state *qs)
{
	uint64_t by_status[AC_TASK_STATUS_COUNT] = { 0 }, by_prio[AC_PRIO_COUNT] = { 0 };

	for (size_t i = 0; i < qs->ids.cap; i++) {
		const ac_task *t = qs->ids.slots[i].val;
		if (t == NULL) {
			continue;
		}
		if (qs->ids.slots[i].key != t->id || (unsigned)t->status >= AC_TASK_STATUS_COUNT ||
		    (unsigned)t->priority >= AC_PRIO_COUNT ||
		    t->in_lane != (t->status == AC_TASK_QUEUED) ||
		    t->history_count > AC_HISTORY_MAX || t->history_head >= AC_HISTORY_MAX) {
			return false;
		}
		by_status[t->status]++;
		by_prio[t->priority] += t->status == AC_TASK_QUEUED;
	}
	return memcmp(by_status, qs->by_status, sizeof(by_status)) == 0 &&
	    memcmp(by_prio, qs->queued_by_prio, sizeof(by_prio)) == 0;
}

bool ac_queue_state_check(const ac_queue_state *qs)
{
	if (!ac_task_map_check(&qs->ids) || !check_records(qs) || !ac_key_index_check(&qs->keys)) {
		return false;
	}
	for (int p = 0; p < AC_PRIO_COUNT; p++) {
		if (!check_lane(qs, p)) {
			return false;
		}
	}
	return true;
}
