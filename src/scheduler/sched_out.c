/* SPDX-License-Identifier: MIT
 * What the scheduler tells the queue in bulk: pending notes are gathered while a batch
 * of messages and timers is handled and leave together when it ends (or when a bound is
 * reached), so that a burst of waits or fallbacks costs a few inter-actor messages, not
 * one per task. Order is kept. (Telemetry events are gathered by ac_actor_publish.)
 */
#include "scheduler/scheduler_int.h"

void ac_sched_tell_pending(ac_scheduler *s, uint64_t id, const char *reason)
{
	ac_mpw_map(&s->notes, 2);
	ac_mpw_key(&s->notes, "id");
	ac_mpw_u64(&s->notes, id);
	ac_mpw_key(&s->notes, "reason");
	ac_mpw_cstr(&s->notes, reason);
	if (++s->note_count >= AC_SCHED_NOTES_MAX) {
		ac_sched_flush(s);
	}
}

static void flush_notes(ac_scheduler *s)
{
	ac_mpw m;

	ac_mpw_init(&m);
	ac_mpw_map(&m, 1);
	ac_mpw_key(&m, "tasks");
	ac_mpw_array(&m, s->note_count);
	ac_mpw_raw(&m, ac_mpw_data(&s->notes), ac_mpw_len(&s->notes));
	if (s->notes.err == AC_OK) {
		ac_actor_tell(s->actor, AC_ACTOR_QUEUE, AC_MSG_TASK_PENDING, &m);
	}
	ac_mpw_fini(&m);
	ac_mpw_reset(&s->notes);
	s->note_count = 0;
}

void ac_sched_flush(ac_scheduler *s)
{
	if (s->note_count > 0) {
		flush_notes(s);
	}
}
