/* SPDX-License-Identifier: MIT
 * Queue actor internals shared by queue.c (op handlers) and queue_batch.c (group
 * commit, rollback, startup load). Not used outside src/queue/.
 */
#ifndef AC_QUEUE_QUEUE_INT_H
#define AC_QUEUE_QUEUE_INT_H

#include "codec/agent_wire.h"
#include "codec/task_wire.h"
#include "queue/queue.h"
#include "queue/queue_state.h"
#include "queue/task_codec.h"
#include "store/store.h"

/* A reply or event held until the batch commits. */
typedef struct held_msg {
	ac_env env;        /* reply envelope (to the gateway) or event (to telemetry) */
	ac_actor_id to;
	bool is_mutation;  /* replaced by `unavailable` when the commit fails */
	bool only_if_failed; /* nothing when the commit succeeds, `unavailable` if not */
	size_t off, len;   /* bytes in ac_queue.held_bytes */
} held_msg;

/* A fetch sent on before its task.complete committed (queue_early.c). */
typedef struct early_fetch {
	uint64_t corr_id;
	bool awaiting; /* no proposal or held notice from the scheduler yet */
} early_fetch;

/* An early fetch whose completion failed to commit (queue_early.c). */
typedef struct voided_fetch {
	uint64_t corr_id;
	int64_t until_ms; /* monotonic: forgotten after */
} voided_fetch;

typedef enum ac_early_state {
	AC_EARLY_NONE,    /* not an early fetch, or its completion has committed */
	AC_EARLY_PENDING, /* its completion is in the open batch: hold the answer */
	AC_EARLY_VOID,    /* its completion failed: the request is over */
} ac_early_state;

typedef struct abort_note {
	char agent_id[129];
	bool is_committed;           /* false while its batch's commit is pending */
	uint64_t task_id;
} abort_note;

#define AC_ABORT_NOTES_MAX 10000
/* How long a batch may wait for requests the gateway says are on their way. */
#define AC_QUEUE_GATHER_US 300

enum { TIMER_PRUNE = 1, TIMER_ACCEPT, TIMER_LEASE, TIMER_GRACE, TIMER_TTL, TIMER_AFTER_LOAD };

struct ac_queue {
	const ac_config *cfg;
	ac_actor *actor;
	ac_store *store;
	ac_queue_state *qs;
	uint64_t next_id;            /* next task id to hand out */
	uint64_t terminal_counts[AC_TASK_STATUS_COUNT]; /* terminal rows in the store */
	ac_task **dirty;             /* tasks changed in this batch (is_dirty set) */
	size_t dirty_count, dirty_cap;
	held_msg *held;
	size_t held_count, held_cap;
	ac_mpw held_bytes;
	ac_mpw enc;                  /* record encoder for the commit */
	ac_mpw sched_events;         /* task summaries for the scheduler, sent at commit */
	uint32_t sched_event_count;
	/* New tasks, told to the scheduler as the commit starts, so that its proposal
	 * travels while the commit syncs (it is handled after the commit, in a later
	 * pass: never before the task is durable). A failed commit takes them back. */
	ac_mpw new_task_events;
	uint32_t new_task_event_count;
	ac_mpw agent_notes;          /* agent notes for the registry, sent at commit */
	uint32_t agent_note_count;
	abort_note *aborts;          /* tasks each agent must stop (cancelled, reclaimed) */
	size_t abort_count, abort_cap;
	early_fetch *early;          /* early fetches of this batch (queue_early.c) */
	size_t early_count, early_cap;
	voided_fetch *voided;        /* early fetches of failed commits, for a while */
	size_t void_count, void_cap;
	uint64_t rng;                /* xorshift state for retry jitter */
	ac_arena commit_arena;
};

/* queue_agent.c: the handlers of agent ops and assignment, and the task timers */
void ac_queue_on_assign(void *state, ac_call *call);
void ac_queue_on_accept(void *state, ac_call *call);
void ac_queue_on_progress(void *state, ac_call *call);
void ac_queue_on_complete(void *state, ac_call *call);
void ac_queue_on_fail(void *state, ac_call *call);
void ac_queue_on_hello(void *state, ac_call *call);
void ac_queue_on_heartbeat(void *state, ac_call *call);
void ac_queue_on_agent_gone(void *state, ac_call *call);
void ac_queue_on_task_timer(ac_queue *q, const ac_timer_entry *e);
/* Tells the scheduler that t is queued (avoid: the agent that just lost it, or NULL). */
void ac_queue_sched_queued(ac_queue *q, const ac_task *t, const char *avoid);
/* Same, for a task created in this batch: told before the commit (new_task_events). */
void ac_queue_sched_new(ac_queue *q, const ac_task *t);
/* Tells the scheduler that queued task t left the queue another way. */
void ac_queue_sched_removed(ac_queue *q, const ac_task *t);
/* Records that agent (was active and) now has state for task_id (state NULL: seen). */
void ac_queue_agent_note(ac_queue *q, const char *agent, const char *state, uint64_t task_id);
/* Asks agent to stop task_id at its next heartbeat/progress. */
void ac_queue_abort_note(ac_queue *q, const char *agent, uint64_t task_id);
/* After each commit (or batch without one): notes of the batch hold when committed,
 * else they go. */
void ac_queue_aborts_settled(ac_queue *q, bool committed);
/* After a restart: arm the grace timer of every in-flight task and send the queued
 * ones to the scheduler. */
void ac_queue_after_load(ac_queue *q);
/* Cancels t's timer. */
void ac_queue_disarm(ac_queue *q, ac_task *t);
/* Arms the timer an in-flight task needs (accept timeout or lease). */
void ac_queue_rearm(ac_queue *q, ac_task *t);
/* Sends the collected scheduler events and agent notes. */
void ac_queue_flush_notes(ac_queue *q);

/* queue_early.c: fetches sent on before their task.complete commits */
/* Sends r's fetch to the scheduler now, marked AC_ENV_AFTER_COMMIT. */
void ac_queue_send_early_fetch(ac_queue *q, ac_call *call, const ac_req_task_fenced *r);
/* Where env stands as an early fetch; a pending one counts as answered from now on. */
ac_early_state ac_queue_early_state(ac_queue *q, const ac_env *env);
void ac_queue_on_fetch_held(void *state, ac_call *call);
void ac_queue_on_early_answer(void *state, ac_call *call);
/* gather_more: an early fetch of this batch still awaits the scheduler's answer. */
bool ac_queue_gather_more(void *state);
/* The batch committed or failed: its early fetches are ordinary ones now, or void. */
void ac_queue_early_settled(ac_queue *q, bool committed);

/* queue_batch.c */
/* Marks t changed in this batch. AC_ENOMEM. */
ac_err ac_queue_mark_dirty(ac_queue *q, ac_task *t);
/* Holds body as the reply to req (is_mutation: only valid if the batch commits). */
void ac_queue_hold_reply(ac_queue *q, const ac_env *req, const ac_mpw *body, bool is_mutation);
/* Holds a telemetry event (topic + data map) until the batch commits. */
void ac_queue_hold_event(ac_queue *q, const char *topic, const ac_mpw *data);
/* Publishes a task event on telemetry at commit: task_id, status, generation,
 * priority, agent_id, plus key: value when value is not NULL. */
void ac_queue_publish_task(ac_queue *q, const char *topic, const ac_task *t, const char *key,
    const char *value);
/* Holds nothing for req if the batch commits, `unavailable` if it does not. */
void ac_queue_hold_failure_reply(ac_queue *q, const ac_env *req);
/* Holds an error reply. */
void ac_queue_hold_error(ac_queue *q, const ac_env *req, ac_err code, const char *message,
    const char *field);
/* on_drained: commit the batch, then release replies/events, or roll back. */
void ac_queue_commit_batch(void *state, ac_actor *a);
/* Loads the live tasks and idempotency keys from the store. */
ac_err ac_queue_load(ac_queue *q);
/* Finds a task in memory, else loads it from the store into *tmp (caller frees).
 * Returns the task or NULL (AC_ENOTFOUND / AC_EIO in *err). */
ac_task *ac_queue_lookup(ac_queue *q, uint64_t id, ac_arena *arena, ac_task **tmp, ac_err *err);

#endif
