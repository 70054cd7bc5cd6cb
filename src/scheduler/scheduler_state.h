/* SPDX-License-Identifier: MIT
 * The scheduler's pure view: pending tasks grouped in classes (same capabilities and
 * target) with four priority lanes each, and held fetches grouped in profiles (same
 * capabilities and targets). Matching looks at class heads or profile heads only, so
 * it costs O(classes) or O(profiles), never a scan of tasks or agents. No I/O.
 */
#ifndef AC_SCHEDULER_SCHEDULER_STATE_H
#define AC_SCHEDULER_SCHEDULER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentcom/errors.h"
#include "codec/msg.h"
#include "codec/task_wire.h"
#include "routing/complexity.h"

typedef struct ac_sched_class ac_sched_class;
typedef struct ac_sched_profile ac_sched_profile;
struct ac_wait_group;

/* A capability list, owned: count strings, NUL-terminated. */
typedef struct ac_caps {
	char **items;
	uint32_t count;
} ac_caps;

typedef struct ac_pending {
	uint64_t id;
	uint32_t generation;
	ac_priority priority;
	int64_t enqueued_at_ms;
	int64_t not_before_ms;
	ac_target target;            /* where its tier routes */
	ac_tier tier;
	bool is_explicit;
	double confidence;
	uint32_t word_count, file_count;
	char *model;                 /* owned, NULL when not given */
	char *repo;                  /* owned, NULL when not given (endpoint affinity) */
	unsigned allowed_targets;    /* bit per ac_target from the task's targets; 0 = all */
	const char *pending_reason;  /* why it waits for an endpoint (static), NULL */
	bool fallback_used;          /* routed one tier up after its wait */
	bool is_counted;             /* its decision is in the routing counters already */
	const char *fallback_reason; /* static, with fallback_used */
	int64_t waiting_since_ms;    /* monotonic, when it started waiting */
	uint64_t fallback_timer;     /* pending fallback timer, 0 none */
	/* the waiting list's (sched_wait.h) */
	struct ac_pending *wait_prev, *wait_next;
	struct ac_wait_group *wait_group;
	bool is_waiting;
	char *avoid;                 /* owned: agent to avoid when another is idle, NULL none
				      * (rare, so not inline: a queued task costs less) */
	uint64_t delay_timer;        /* pending not_before timer, 0 none */
	/* owned by the state */
	ac_sched_class *cls;
	struct ac_pending *prev, *next;
	bool in_lane;
} ac_pending;

typedef struct ac_waiter {
	char agent[129];
	char endpoint[300];          /* the endpoint its agent's ollama_url names, "" none */
	ac_env env;                  /* the fetch's reply handle and pipe */
	uint8_t *fetch;              /* the AC_MSG_FETCH body, owned (sent back with ASSIGN) */
	size_t fetch_len;
	uint64_t timer;              /* wait_ms expiry, 0 none */
	/* owned by the state */
	uint64_t seq;                /* arrival order across profiles */
	ac_sched_profile *prof;
	struct ac_waiter *prev, *next;
	struct ac_waiter *near_prev, *near_next; /* the profile's waiters next to endpoint */
} ac_waiter;

typedef struct ac_sched_state ac_sched_state;

ac_err ac_sched_state_alloc(ac_sched_state **out);
/* Frees everything, including held waiters (the caller answered them first). */
void ac_sched_state_free(ac_sched_state *s);
/* Frees the task classes no pending task refers to and the fetch profiles no held
 * fetch is in, so the view's linear walks stay over what is live, once there are more
 * than when_more_than of both together (a few empty ones are cheaper kept than made
 * again for the next task). Between passes only (a walk over classes or profiles may
 * be under way inside one); O(1) when nothing fell empty. */
void ac_sched_sweep(ac_sched_state *s, size_t when_more_than);
/* Live classes and profiles (for tests and stats). */
size_t ac_sched_class_count(const ac_sched_state *s);
size_t ac_sched_profile_count(const ac_sched_state *s);

/* --- pending tasks --- */
/* Adds p (taking ownership) with its capabilities caps (taken: caps is zeroed);
 * replaces a pending task with the same id. Not in a lane until ac_sched_release.
 * AC_ENOMEM: p is still the caller's (ac_sched_pending_free), and so is caps unless
 * it was taken (then zeroed: ac_caps_free on it is harmless either way). */
ac_err ac_sched_add_task(ac_sched_state *s, ac_pending *p, ac_caps *caps);
/* Frees a pending task the view does not hold. NULL is a no-op. */
void ac_sched_pending_free(ac_pending *p);
/* Puts a pending task in its class lane (its not_before has come). */
void ac_sched_release(ac_sched_state *s, ac_pending *p);
ac_pending *ac_sched_find_task(ac_sched_state *s, uint64_t id);
/* Removes and frees the pending task (no-op when absent). */
void ac_sched_drop_task(ac_sched_state *s, uint64_t id);
size_t ac_sched_task_count(const ac_sched_state *s);

/* Moves p to the class of target (same capabilities); out of its lane if it was in. */
ac_err ac_sched_retarget(ac_sched_state *s, ac_pending *p, ac_target target);
/* The waiting list: tasks whose tier has no endpoint yet (taken out of their lane),
 * grouped by how they route (sched_wait.h). AC_ENOMEM: p then waits nowhere. */
ac_err ac_sched_wait(ac_sched_state *s, ac_pending *p);
void ac_sched_unwait(ac_sched_state *s, ac_pending *p);
/* Calls fn for the first waiting task of each group an endpoint can unblock (fn must
 * not change the waiting list): if that task cannot go, no task of its group can. */
void ac_sched_each_wait_head(ac_sched_state *s, void (*fn)(void *ctx, ac_pending *p), void *ctx);
size_t ac_sched_waiting_count(const ac_sched_state *s);

/* --- held fetches --- */
/* Adds w (taking ownership) under the profile of (caps, targets mask); caps taken.
 * w->agent and w->endpoint must be set. AC_ENOMEM (then w is still the caller's). */
ac_err ac_sched_add_waiter(ac_sched_state *s, ac_waiter *w, ac_caps *caps, uint8_t targets);
ac_waiter *ac_sched_find_waiter(ac_sched_state *s, const char *agent);
/* Unlinks w (caller owns it afterwards; free with ac_waiter_free). */
void ac_sched_take_waiter(ac_sched_state *s, ac_waiter *w);
void ac_waiter_free(ac_waiter *w);
/* Calls fn for each waiter (fn may take it). */
void ac_sched_each_waiter(ac_sched_state *s, void (*fn)(void *ctx, ac_waiter *w), void *ctx);
size_t ac_sched_waiter_count(const ac_sched_state *s);

/* --- matching --- */
/* The best released task waiter may take (priority, then FIFO), or NULL. */
ac_pending *ac_sched_best_task(ac_sched_state *s, const ac_waiter *w);
/* The longest-waiting fetch that can take p (avoiding p->avoid when another can), or NULL. */
ac_waiter *ac_sched_best_waiter(ac_sched_state *s, const ac_pending *p);
/* The longest-waiting fetch next to endpoint (its agent's ollama_url names it, exact
 * id) that can take p and is not p->avoid, or NULL (DESIGN §5.5 agent choice). Looks
 * only at the fetches next to endpoint in the profiles that take p's class. */
ac_waiter *ac_sched_best_waiter_near(ac_sched_state *s, const ac_pending *p, const char *endpoint);
/* Whether w's profile takes p's class (capabilities and target). */
bool ac_sched_waiter_takes(const ac_waiter *w, const ac_pending *p);

void ac_caps_free(ac_caps *c);

#endif
