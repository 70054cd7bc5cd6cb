/* SPDX-License-Identifier: MIT
 * Scheduler view internals shared by scheduler_state.c (pending tasks, classes, lanes,
 * matching a fetch to a task) and sched_waiters.c (held fetches, profiles, the index of
 * fetches by endpoint, matching a task to a fetch). Nothing outside those two files.
 */
#ifndef AC_SCHEDULER_SCHEDULER_STATE_INT_H
#define AC_SCHEDULER_SCHEDULER_STATE_INT_H

#include "queue/task_map.h"
#include "scheduler/sched_wait.h"
#include "scheduler/scheduler_state.h"

typedef struct lane {
	ac_pending *head, *tail;
} lane;

struct ac_sched_class {
	ac_caps caps;
	ac_target target;
	lane lanes[AC_PRIO_COUNT];
	size_t count; /* tasks in its lanes */
	size_t refs;  /* pending tasks of this class, in a lane or not */
};

struct ac_sched_profile {
	ac_caps caps;
	uint8_t targets; /* bit per ac_target; 0 = all */
	ac_waiter *head, *tail;
	size_t count;
	ac_task_map near; /* endpoint hash -> near_list of its waiters with that endpoint */
};

/* A profile's waiters next to one endpoint, in arrival order; freed when empty. */
typedef struct near_list {
	ac_waiter *head, *tail;
} near_list;

struct ac_sched_state {
	ac_sched_class **classes;
	size_t class_count;
	ac_sched_profile **profiles;
	size_t profile_count;
	ac_task_map tasks;   /* id -> ac_pending */
	ac_task_map waiters; /* agent hash -> ac_waiter */
	size_t waiter_count;
	ac_sched_waits *waits; /* tasks waiting for an endpoint */
	uint64_t next_waiter_seq;
	bool has_unused;       /* a class or profile fell empty since the last sweep */
};

/* Same items in the same order. */
bool ac_sched_caps_equal(const ac_caps *a, const ac_caps *b);
/* Whether the fetches of profile p may take the tasks of class c (targets, caps). */
bool ac_sched_profile_takes(const ac_sched_profile *p, const ac_sched_class *c);
/* Frees every profile and held fetch (sched_waiters.c); for ac_sched_state_free. */
void ac_sched_profiles_free(ac_sched_state *s);
/* Frees the profiles that hold no fetch (sched_waiters.c). */
void ac_sched_profiles_sweep(ac_sched_state *s);

#endif
