/* SPDX-License-Identifier: MIT
 * What the scheduler tells other actors in bulk: pending notes for the queue and events
 * for telemetry are gathered while a batch of messages and timers is handled and leave
 * together when it ends (or when a bound is reached), so that a burst of waits or
 * fallbacks costs a few inter-actor messages, not one per task. Order is kept.
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

void ac_sched_publish(ac_scheduler *s, const char *topic, const ac_mpw *data)
{
	if (data->err != AC_OK) {
		return; /* as ac_actor_publish: an event that could not be written is not sent */
	}
	/* the body of AC_MSG_TEL_EVENT: (topic, data map) pairs, one after the other */
	ac_mpw_cstr(&s->tel, topic);
	ac_mpw_raw(&s->tel, ac_mpw_data(data), ac_mpw_len(data));
	if (++s->tel_count >= AC_SCHED_EVENTS_MAX) {
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

static void flush_events(ac_scheduler *s)
{
	ac_env env = { .type = AC_MSG_TEL_EVENT };

	if (s->tel.err == AC_OK) {
		ac_actor_send(s->actor, AC_ACTOR_TELEMETRY, &env, ac_mpw_data(&s->tel),
		    ac_mpw_len(&s->tel));
	}
	ac_mpw_reset(&s->tel);
	s->tel_count = 0;
}

void ac_sched_flush(ac_scheduler *s)
{
	if (s->note_count > 0) {
		flush_notes(s);
	}
	if (s->tel_count > 0) {
		flush_events(s);
	}
}
