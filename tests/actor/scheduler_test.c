/* SPDX-License-Identifier: MIT
 * The scheduler actor alone (src/scheduler/scheduler.c) with fake queue, gateway and
 * telemetry actors over inproc: task events and fetches in, AC_MSG_ASSIGN proposals and
 * fetch replies out. Absence is checked with barriers on the same channel, never with
 * sleeps. Over 500 lines: the three fakes and the body builders live here, one Test each.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "codec/agent_wire.h"
#include "codec/task_wire.h"
#include "config.h"
#include "routing/complexity.h"
#include "rt/actor.h"
#include "rt/clock.h"
#include "scheduler/scheduler.h"

#define WAIT_MS 20000 /* deadline for conditions that must come true */
#define MAX_SEEN 64

/* ---- what the fakes saw ---- */

typedef struct assign_rec {
	uint64_t corr_id;
	uint32_t pipe_id;
	uint64_t task_id, generation;
	char agent[129];
	char tier[16], target[16], endpoint[32], model[64], cost[16], reason[160];
	char from_tier[16], fallback_reason[64];
	bool endpoint_set, model_set, fallback_used, decision_ok;
	uint64_t candidate_count;
	int64_t at_wall_ms;
} assign_rec;

typedef struct reply_rec {
	uint64_t corr_id;
	bool ok, has_task;
	char code[32];
	int64_t at_mono_ms;
} reply_rec;

typedef struct probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	assign_rec assigns[MAX_SEEN];
	size_t assign_count;
	reply_rec replies[MAX_SEEN];
	size_t reply_count;
	unsigned reject_left;      /* the fake queue refuses this many proposals */
	ac_env last_env;           /* the last ASSIGN as received, to refuse it later */
	uint8_t last_body[4096];
	size_t last_len;
	uint64_t matches;          /* scheduler.match events seen by the fake telemetry */
	uint64_t unavailable;      /* replies with error code "unavailable" */
	char bad[160];             /* first failed check on an actor thread */
} probe;

static probe pr;
static ac_rt *rt;
static ac_config cfg;
static ac_scheduler *sched;
static ac_actor *fake_queue, *fake_gw, *fake_tel;
static ac_actor *queue_self; /* the fake queue's own handle (its thread only) */
static unsigned barrier_seq;

static void lock(void)
{
	pthread_mutex_lock(&pr.mu);
}

static void unlock(void)
{
	pthread_mutex_unlock(&pr.mu);
}

static void unlock_signal(void)
{
	pthread_cond_broadcast(&pr.cv);
	pthread_mutex_unlock(&pr.mu);
}

#define CHECK(cond) check_at((cond), #cond, __LINE__)
static void check_at(bool ok, const char *what, int line)
{
	if (ok) {
		return;
	}
	lock();
	if (pr.bad[0] == '\0') {
		snprintf(pr.bad, sizeof(pr.bad), "line %d: %s", line, what);
	}
	unlock_signal();
}

/* Waits until pred(arg) holds (true, lock held) or the deadline passes (false, lock
 * held). Call unlock() afterwards. */
static bool wait_until(bool (*pred)(const void *arg), const void *arg, int64_t timeout_ms)
{
	struct timespec dl;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	lock();
	while (!(ok = pred(arg))) {
		if (pthread_cond_timedwait(&pr.cv, &pr.mu, &dl) != 0 && !(ok = pred(arg))) {
			break;
		}
	}
	return ok;
}

/* ---- fake queue: records AC_MSG_ASSIGN, refuses when told to ---- */

typedef struct decision_view {
	ac_str effective_tier, target_type, selected_endpoint, selected_model;
	ac_flag fallback_used;
	ac_str fallback_from_tier, fallback_reason;
	ac_uint candidate_count;
	ac_str classification_reason, estimated_cost_tier;
	ac_int decided_at_ms;
} decision_view;
#define D decision_view
static const ac_field decision_fields[] = {
	AC_F(D, effective_tier, "effective_tier", AC_FT_STR, true),
	AC_F(D, target_type, "target_type", AC_FT_STR, true),
	AC_F(D, selected_endpoint, "selected_endpoint", AC_FT_STR, false),
	AC_F(D, selected_model, "selected_model", AC_FT_STR, false),
	AC_F(D, fallback_used, "fallback_used", AC_FT_FLAG, true),
	AC_F(D, fallback_from_tier, "fallback_from_tier", AC_FT_STR, false),
	AC_F(D, fallback_reason, "fallback_reason", AC_FT_STR, false),
	AC_F(D, candidate_count, "candidate_count", AC_FT_UINT, true),
	AC_F(D, classification_reason, "classification_reason", AC_FT_STR, true),
	AC_F(D, estimated_cost_tier, "estimated_cost_tier", AC_FT_STR, true),
	AC_F(D, decided_at_ms, "decided_at_ms", AC_FT_INT, true),
};
#undef D
static const ac_schema decision_schema = AC_SCHEMA("decision", decision_view, decision_fields);

static void read_decision(const ac_assign_msg *m, ac_arena *arena, assign_rec *r)
{
	decision_view d;

	r->decision_ok = m->decision.set &&
	    ac_schema_decode_bytes(&decision_schema, m->decision.p, m->decision.len, &d, arena,
	        NULL) == AC_OK;
	if (!r->decision_ok) {
		return;
	}
	ac_str_cpy(r->tier, sizeof(r->tier), d.effective_tier);
	ac_str_cpy(r->target, sizeof(r->target), d.target_type);
	ac_str_cpy(r->endpoint, sizeof(r->endpoint), d.selected_endpoint);
	ac_str_cpy(r->model, sizeof(r->model), d.selected_model);
	ac_str_cpy(r->cost, sizeof(r->cost), d.estimated_cost_tier);
	ac_str_cpy(r->reason, sizeof(r->reason), d.classification_reason);
	ac_str_cpy(r->from_tier, sizeof(r->from_tier), d.fallback_from_tier);
	ac_str_cpy(r->fallback_reason, sizeof(r->fallback_reason), d.fallback_reason);
	r->endpoint_set = d.selected_endpoint.set;
	r->model_set = d.selected_model.set;
	r->fallback_used = d.fallback_used.v;
	r->candidate_count = d.candidate_count.v;
}

static void on_assign(void *state, ac_call *call)
{
	const ac_assign_msg *m = call->req;
	ac_fetch_msg *f = ac_arena_alloc(call->arena, sizeof(*f));
	assign_rec r = { .corr_id = call->env.corr_id, .pipe_id = call->env.pipe_id,
		.at_wall_ms = ac_clock_wall_ms() };
	bool reject;

	(void)state;
	r.task_id = m->task_id.v;
	r.generation = m->generation.v;
	read_decision(m, call->arena, &r);
	CHECK(f != NULL && ac_schema_decode_bytes(&ac_fetch_msg_schema, m->fetch.p, m->fetch.len, f,
	                       call->arena, NULL) == AC_OK);
	if (f != NULL) {
		ac_str_cpy(r.agent, sizeof(r.agent), f->agent_id);
	}
	lock();
	if (pr.assign_count < MAX_SEEN) {
		pr.assigns[pr.assign_count++] = r;
	}
	pr.last_env = call->env;
	pr.last_len = call->body_len <= sizeof(pr.last_body) ? call->body_len : 0;
	memcpy(pr.last_body, call->body, pr.last_len);
	reject = pr.reject_left > 0;
	pr.reject_left -= reject;
	unlock_signal();
	if (reject) { /* as queue_agent.c does: same envelope and body, back to the scheduler */
		ac_env env = call->env;
		env.type = AC_MSG_ASSIGN_REJECTED;
		CHECK(ac_actor_send(queue_self, AC_ACTOR_SCHEDULER, &env, call->body, call->body_len) ==
		    AC_OK);
	}
}

static ac_err queue_start(void *state, ac_actor *a)
{
	(void)state;
	queue_self = a;
	return AC_OK;
}

static const ac_handler queue_handlers[AC_MSG_COUNT] = {
	[AC_MSG_ASSIGN] = { on_assign, &ac_assign_msg_schema },
};
static const ac_actor_def queue_def = {
	.name = "fake-queue",
	.id = AC_ACTOR_QUEUE,
	.handlers = queue_handlers,
	.start = queue_start,
};

/* ---- fake gateway: records AC_MSG_GW_REPLY ---- */

typedef struct gw_error {
	ac_str code;
} gw_error;
typedef struct gw_reply {
	ac_flag ok;
	ac_obj error;
	ac_raw task;
} gw_reply;
static const ac_field gw_error_fields[] = {
	AC_F(gw_error, code, "code", AC_FT_STR, true),
};
static const ac_schema gw_error_schema = AC_SCHEMA("error", gw_error, gw_error_fields);
static const ac_field gw_reply_fields[] = {
	AC_F(gw_reply, ok, "ok", AC_FT_FLAG, true),
	AC_F(gw_reply, error, "error", AC_FT_OBJ, false, .sub = &gw_error_schema),
	AC_F(gw_reply, task, "task", AC_FT_ANY, false),
};
static const ac_schema gw_reply_schema = AC_SCHEMA("reply", gw_reply, gw_reply_fields);

static void on_gw_reply(void *state, ac_call *call)
{
	gw_reply r;
	reply_rec rec = { .corr_id = call->env.corr_id, .at_mono_ms = ac_clock_mono_ms() };

	(void)state;
	CHECK(ac_schema_decode_bytes(&gw_reply_schema, call->body, call->body_len, &r, call->arena,
	          NULL) == AC_OK);
	rec.ok = r.ok.v;
	rec.has_task = r.task.set;
	if (r.error.set) {
		ac_str_cpy(rec.code, sizeof(rec.code), ((const gw_error *)r.error.p)->code);
	}
	lock();
	if (pr.reply_count < MAX_SEEN) {
		pr.replies[pr.reply_count++] = rec;
	}
	pr.unavailable += strcmp(rec.code, "unavailable") == 0;
	unlock_signal();
}

static const ac_handler gw_handlers[AC_MSG_COUNT] = {
	[AC_MSG_GW_REPLY] = { on_gw_reply, NULL },
};
static const ac_actor_def gw_def = {
	.name = "fake-gateway",
	.id = AC_ACTOR_GATEWAY,
	.handlers = gw_handlers,
};

/* ---- fake telemetry: counts scheduler.match ---- */

static void on_tel_event(void *state, ac_call *call)
{
	static const char topic[] = "scheduler.match";
	const uint8_t *ev;
	size_t off = 0, len;

	(void)state;
	while (ac_event_next(call->body, call->body_len, &off, &ev, &len)) {
		/* a fixstr topic: one header byte, then the name */
		if (len > sizeof(topic) && memcmp(ev + 1, topic, sizeof(topic) - 1) == 0) {
			lock();
			pr.matches++;
			unlock_signal();
		}
	}
}

static const ac_handler tel_handlers[AC_MSG_COUNT] = {
	[AC_MSG_TEL_EVENT] = { on_tel_event, NULL },
};
static const ac_actor_def tel_def = {
	.name = "fake-telemetry",
	.id = AC_ACTOR_TELEMETRY,
	.handlers = tel_handlers,
};

/* ---- fixture ---- */

static void setup(void)
{
	pthread_condattr_t ca;
	pthread_mutexattr_t ma;

	memset(&pr, 0, sizeof(pr));
	/* error-checking: teardown can release the lock a failed assertion left held */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&pr.mu, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pr.cv, &ca);
	pthread_condattr_destroy(&ca);
	barrier_seq = 0;
	ac_config_defaults(&cfg);
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &gw_def, NULL, &fake_gw), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &queue_def, NULL, &fake_queue), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &tel_def, NULL, &fake_tel), AC_OK);
	cr_assert_eq(ac_scheduler_start(rt, &cfg, &sched), AC_OK);
}

static void teardown(void)
{
	pthread_mutex_unlock(&pr.mu); /* held if an assertion failed while waiting; else EPERM */
	ac_scheduler_stop(sched);
	ac_actor_stop(fake_tel);
	ac_actor_stop(fake_queue);
	ac_actor_stop(fake_gw);
	ac_rt_free(rt);
	pthread_cond_destroy(&pr.cv);
	pthread_mutex_destroy(&pr.mu);
}

TestSuite(scheduler, .init = setup, .fini = teardown, .timeout = 120);

/* Fails the test when a fake saw something wrong (Criterion ignores .fini failures). */
static void expect_no_bad(void)
{
	lock();
	cr_assert_str_empty(pr.bad, "a fake actor saw: %s", pr.bad);
	unlock();
}

/* ---- sending to the scheduler ---- */

static void send_to_sched(uint16_t type, uint64_t corr_id, uint32_t pipe_id, const ac_mpw *w)
{
	ac_env env = { .type = type, .corr_id = corr_id, .pipe_id = pipe_id,
		.role = AC_ROLE_AGENT };
	nng_msg *m;

	cr_assert(w == NULL || w->err == AC_OK);
	cr_assert_eq(ac_msg_alloc(&m, &env, w ? ac_mpw_data(w) : NULL, w ? ac_mpw_len(w) : 0),
	    AC_OK);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_SCHEDULER, &m), AC_OK);
}

static uint32_t count_of(const char *const *list)
{
	uint32_t n = 0;

	while (list != NULL && list[n] != NULL) {
		n++;
	}
	return n;
}

static void write_strs(ac_mpw *w, const char *key, const char *const *list)
{
	ac_mpw_key(w, key);
	ac_mpw_array(w, count_of(list));
	for (uint32_t i = 0; i < count_of(list); i++) {
		ac_mpw_cstr(w, list[i]);
	}
}

typedef struct fetch {
	const char *agent;
	uint64_t corr_id;
	uint32_t pipe_id;
	uint64_t wait_ms;
	const char *const *caps;    /* NULL-terminated, NULL = none */
	const char *const *targets; /* NULL = all */
} fetch;

static void send_fetch(fetch f)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 2 + (f.caps != NULL) + (f.targets != NULL));
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, f.agent);
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, f.wait_ms);
	if (f.caps != NULL) {
		write_strs(&w, "capabilities", f.caps);
	}
	if (f.targets != NULL) {
		write_strs(&w, "targets", f.targets);
	}
	send_to_sched(AC_MSG_FETCH, f.corr_id, f.pipe_id ? f.pipe_id : 1, &w);
	ac_mpw_fini(&w);
}

typedef struct task_ev {
	uint64_t id;
	uint64_t generation;
	ac_priority priority;
	int64_t enqueued_at_ms;
	int64_t not_before_ms;
	ac_tier tier;
	const char *const *caps;
	const char *const *targets;
	const char *model;
	const char *avoid;
	bool removed;
} task_ev;

static void write_spec(ac_mpw *w, const task_ev *e)
{
	ac_mpw_map(w, 1 + (e->caps != NULL) + (e->targets != NULL) + (e->model != NULL));
	if (e->caps != NULL) {
		write_strs(w, "needed_capabilities", e->caps);
	}
	if (e->targets != NULL) {
		write_strs(w, "targets", e->targets);
	}
	if (e->model != NULL) {
		ac_mpw_key(w, "model");
		ac_mpw_cstr(w, e->model);
	}
	ac_mpw_key(w, "complexity");
	ac_mpw_map(w, 3);
	ac_mpw_key(w, "effective_tier");
	ac_mpw_cstr(w, ac_tier_names[e->tier]);
	ac_mpw_key(w, "source");
	ac_mpw_cstr(w, "inferred");
	ac_mpw_key(w, "inferred");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "confidence");
	ac_mpw_f64(w, 0.9);
	ac_mpw_key(w, "signals");
	ac_mpw_map(w, 2);
	ac_mpw_key(w, "word_count");
	ac_mpw_u64(w, 4);
	ac_mpw_key(w, "file_count");
	ac_mpw_u64(w, 0);
}

/* One AC_MSG_TASK_EVENTS message with evs[0..n). */
static void send_tasks(const task_ev *evs, size_t n)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "tasks");
	ac_mpw_array(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const task_ev *e = &evs[i];
		if (e->removed) {
			ac_mpw_map(&w, 2);
			ac_mpw_key(&w, "id");
			ac_mpw_u64(&w, e->id);
			ac_mpw_key(&w, "removed");
			ac_mpw_bool(&w, true);
			continue;
		}
		ac_mpw_map(&w, 6 + (e->avoid != NULL));
		ac_mpw_key(&w, "id");
		ac_mpw_u64(&w, e->id);
		ac_mpw_key(&w, "generation");
		ac_mpw_u64(&w, e->generation);
		ac_mpw_key(&w, "priority");
		ac_mpw_u64(&w, (uint64_t)e->priority);
		ac_mpw_key(&w, "enqueued_at_ms");
		ac_mpw_i64(&w, e->enqueued_at_ms);
		ac_mpw_key(&w, "not_before_ms");
		ac_mpw_i64(&w, e->not_before_ms);
		if (e->avoid != NULL) {
			ac_mpw_key(&w, "avoid_agent");
			ac_mpw_cstr(&w, e->avoid);
		}
		ac_mpw_key(&w, "spec");
		write_spec(&w, e);
	}
	send_to_sched(AC_MSG_TASK_EVENTS, 0, 0, &w);
	ac_mpw_fini(&w);
}

static void send_task(task_ev e)
{
	send_tasks(&e, 1);
}

static void send_agent_gone(const char *agent)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, agent);
	send_to_sched(AC_MSG_AGENT_GONE, 0, 0, &w);
	ac_mpw_fini(&w);
}

/* ---- waiting ---- */

static bool assigns_at_least(const void *arg)
{
	return pr.assign_count >= *(const size_t *)arg;
}

static bool has_reply(const void *arg)
{
	for (size_t i = 0; i < pr.reply_count; i++) {
		if (pr.replies[i].corr_id == *(const uint64_t *)arg) {
			return true;
		}
	}
	return false;
}

static bool has_assign_of(const void *arg)
{
	for (size_t i = 0; i < pr.assign_count; i++) {
		if (pr.assigns[i].task_id == *(const uint64_t *)arg) {
			return true;
		}
	}
	return false;
}

static bool matches_at_least(const void *arg)
{
	return pr.matches >= *(const uint64_t *)arg;
}

static bool unavailable_at_least(const void *arg)
{
	return pr.unavailable >= *(const uint64_t *)arg;
}

/* Waits for n assignments in all; returns a copy of the i-th (0-based, n-1 if i < 0). */
static assign_rec wait_assign(size_t n)
{
	assign_rec r;

	cr_assert(wait_until(assigns_at_least, &n, WAIT_MS), "%zu assignments, want %zu",
	    pr.assign_count, n);
	r = pr.assigns[n - 1];
	unlock();
	return r;
}

static reply_rec wait_reply(uint64_t corr_id)
{
	reply_rec r = { 0 };

	cr_assert(wait_until(has_reply, &corr_id, WAIT_MS), "no reply for corr_id %llu",
	    (unsigned long long)corr_id);
	for (size_t i = 0; i < pr.reply_count; i++) {
		if (pr.replies[i].corr_id == corr_id) {
			r = pr.replies[i];
		}
	}
	unlock();
	return r;
}

static size_t assign_count(void)
{
	size_t n;

	lock();
	n = pr.assign_count;
	unlock();
	return n;
}

static bool replied(uint64_t corr_id)
{
	bool r;

	lock();
	r = has_reply(&corr_id);
	unlock();
	return r;
}

/* Barrier on the scheduler -> queue channel: a task only a barrier agent can take and
 * that agent's fetch. Once its ASSIGN arrives, every earlier proposal has arrived. */
static void barrier_queue(void)
{
	char cap[32], agent[32];
	const char *caps[] = { cap, NULL };
	uint64_t id = 900000 + ++barrier_seq;

	snprintf(cap, sizeof(cap), "barrier-%u", barrier_seq);
	snprintf(agent, sizeof(agent), "barrier-agent-%u", barrier_seq);
	/* urgent and enqueued before every test task, so the barrier agent takes it first */
	send_task((task_ev){ .id = id, .priority = AC_PRIO_URGENT, .enqueued_at_ms = -1,
	    .tier = AC_TIER_TRIVIAL, .caps = caps });
	send_fetch((fetch){ .agent = agent, .corr_id = id, .caps = caps });
	cr_assert(wait_until(has_assign_of, &id, WAIT_MS), "barrier %u", barrier_seq);
	unlock();
}

/* Barrier on the scheduler -> gateway channel: a message the scheduler has no handler
 * for, with a reply handle, is answered unknown_op by the runtime. */
static void barrier_gateway(void)
{
	uint64_t corr = 800000 + ++barrier_seq;

	send_to_sched(AC_MSG_HELLO_FWD, corr, 0, NULL);
	cr_assert_str_eq(wait_reply(corr).code, "unknown_op");
}

/* How many assignments are not barrier ones. */
static size_t real_assigns(void)
{
	size_t n = 0;

	lock();
	for (size_t i = 0; i < pr.assign_count; i++) {
		n += pr.assigns[i].task_id < 900000;
	}
	unlock();
	return n;
}

static const char *const GIT[] = { "git", NULL };
static const char *const GPU[] = { "gpu", NULL };
static const char *const GIT_PY[] = { "py", "git", NULL };

/* ---- fetches without tasks ---- */

Test(scheduler, fetch_with_no_task_and_wait_0_is_answered_ok_without_task)
{
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 11, .wait_ms = 0 });
	r = wait_reply(11);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_str_empty(r.code);
	cr_assert_eq(assign_count(), 0);
	expect_no_bad();
}

Test(scheduler, held_fetch_expires_after_wait_ms_with_ok_and_no_task)
{
	int64_t start = ac_clock_mono_ms();
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 12, .wait_ms = 50 });
	r = wait_reply(12);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_geq(r.at_mono_ms - start, 50, "answered after %lld ms",
	    (long long)(r.at_mono_ms - start));
	/* the expired fetch is gone: a task now finds nobody */
	send_task((task_ev){ .id = 1, .tier = AC_TIER_COMPLEX });
	barrier_queue();
	cr_assert_eq(real_assigns(), 0);
	expect_no_bad();
}

/* ---- assignment ---- */

Test(scheduler, fetch_then_task_event_proposes_one_assignment_with_the_fetch_envelope)
{
	assign_rec a;

	send_fetch((fetch){ .agent = "agent-7", .corr_id = 21, .pipe_id = 5, .wait_ms = 10000 });
	barrier_gateway(); /* the fetch is held */
	send_task((task_ev){ .id = 7, .generation = 3, .priority = AC_PRIO_NORMAL,
	    .enqueued_at_ms = 100, .tier = AC_TIER_COMPLEX });
	a = wait_assign(1);
	cr_assert_eq(a.corr_id, 21, "the ASSIGN carries the fetch's reply handle");
	cr_assert_eq(a.pipe_id, 5);
	cr_assert_eq(a.task_id, 7);
	cr_assert_eq(a.generation, 3);
	cr_assert_str_eq(a.agent, "agent-7", "the fetch body travels with the proposal");
	cr_assert(a.decision_ok, "the decision has every field of DESIGN 5.4");
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert(a.endpoint_set);
	cr_assert_str_eq(a.endpoint, "claude_api");
	cr_assert_str_eq(a.model, "claude");
	cr_assert_str_eq(a.cost, "api");
	cr_assert_not(a.fallback_used);
	cr_assert_eq(a.candidate_count, 0);
	cr_assert_str_eq(a.reason, "inferred:complex (confidence 0.90, word_count=4, files=0)");
	/* exactly one proposal, and the scheduler did not answer the fetch itself */
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	barrier_gateway();
	cr_assert_not(replied(21));
	expect_no_bad();
}

Test(scheduler, task_then_fetch_is_assigned_at_once)
{
	assign_rec a;

	send_task((task_ev){ .id = 8, .generation = 1, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 22, .wait_ms = 0 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 8);
	cr_assert_eq(a.corr_id, 22);
	barrier_gateway();
	cr_assert_not(replied(22), "a fetch that got a task is answered by the queue");
	expect_no_bad();
}

Test(scheduler, decision_target_follows_the_tier)
{
	assign_rec a;

	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 31 });
	a = wait_assign(1);
	cr_assert(a.decision_ok);
	cr_assert_str_eq(a.tier, "trivial");
	cr_assert_str_eq(a.target, "sidecar");
	cr_assert_not(a.endpoint_set, "sidecar has no endpoint");
	cr_assert_not(a.model_set, "sidecar has no model");
	cr_assert_str_eq(a.cost, "free");
	cr_assert_eq(a.candidate_count, 0);

	send_task((task_ev){ .id = 2, .tier = AC_TIER_COMPLEX, .model = "ignored" });
	send_fetch((fetch){ .agent = "a1", .corr_id = 32 });
	a = wait_assign(2);
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert_str_eq(a.endpoint, "claude_api");
	cr_assert_str_eq(a.model, "claude");
	cr_assert_str_eq(a.cost, "api");
	cr_assert_eq(a.candidate_count, 0);
	expect_no_bad();
}

/* DESIGN 5.5: a standard task with no endpoint is not handed to an agent; after
 * fallback_wait_ms it goes one tier up, to claude, and says so. */
Test(scheduler, standard_task_without_endpoint_waits_then_falls_back_to_claude)
{
	int64_t start;
	assign_rec a;

	ac_scheduler_stop(sched);
	cfg.fallback_wait_ms = 300;
	cr_assert_eq(ac_scheduler_start(rt, &cfg, &sched), AC_OK);
	start = ac_clock_wall_ms();
	send_fetch((fetch){ .agent = "a1", .corr_id = 36, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_STANDARD });
	a = wait_assign(1);
	cr_assert_geq(a.at_wall_ms - start, 300 - 1, "assigned after %lld ms",
	    (long long)(a.at_wall_ms - start));
	cr_assert(a.decision_ok);
	cr_assert_str_eq(a.tier, "complex");
	cr_assert_str_eq(a.target, "claude");
	cr_assert(a.fallback_used);
	cr_assert_str_eq(a.from_tier, "standard");
	cr_assert_str_eq(a.fallback_reason, "no_healthy_ollama_endpoints");
	cr_assert_eq(a.corr_id, 36);
	expect_no_bad();
}

Test(scheduler, tasks_are_proposed_by_priority_then_fifo)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_LOW, .enqueued_at_ms = 10, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_URGENT, .enqueued_at_ms = 50, .tier = AC_TIER_COMPLEX },
		{ .id = 3, .priority = AC_PRIO_NORMAL, .enqueued_at_ms = 20, .tier = AC_TIER_COMPLEX,
		  .caps = GIT },
		{ .id = 4, .priority = AC_PRIO_HIGH, .enqueued_at_ms = 90, .tier = AC_TIER_TRIVIAL },
		{ .id = 5, .priority = AC_PRIO_URGENT, .enqueued_at_ms = 40, .tier = AC_TIER_COMPLEX },
		{ .id = 6, .priority = AC_PRIO_NORMAL, .enqueued_at_ms = 20, .tier = AC_TIER_TRIVIAL },
	};
	uint64_t want[] = { 5, 2, 4, 3, 6, 1 };
	char agent[16];

	send_tasks(evs, 6);
	for (size_t i = 0; i < 6; i++) {
		snprintf(agent, sizeof(agent), "agent-%zu", i);
		send_fetch((fetch){ .agent = agent, .corr_id = 40 + i, .caps = GIT_PY });
	}
	wait_assign(6);
	lock();
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(pr.assigns[i].task_id, want[i], "position %zu: task %llu, want %llu", i,
		    (unsigned long long)pr.assigns[i].task_id, (unsigned long long)want[i]);
		cr_assert_eq(pr.assigns[i].corr_id, 40 + i);
	}
	unlock();
	/* no task left: the next fetch is answered without one */
	send_fetch((fetch){ .agent = "agent-x", .corr_id = 49 });
	cr_assert(wait_reply(49).ok);
	cr_assert_not(wait_reply(49).has_task);
	expect_no_bad();
}

Test(scheduler, capability_or_target_mismatch_gets_no_assignment)
{
	static const char *const sidecar_only[] = { "sidecar", NULL };
	assign_rec a;

	send_fetch((fetch){ .agent = "py-agent", .corr_id = 51, .wait_ms = 10000, .caps = GIT_PY });
	send_fetch((fetch){ .agent = "small", .corr_id = 52, .wait_ms = 10000,
	    .targets = sidecar_only, .caps = GPU });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .caps = GPU, .priority = AC_PRIO_LOW });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_COMPLEX, .caps = GPU });
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	lock();
	a = pr.assigns[0];
	unlock();
	cr_assert_eq(a.task_id, 1, "the gpu sidecar task fits the small agent only");
	cr_assert_str_eq(a.agent, "small");
	/* task 2 needs gpu and claude: nobody held can take it, a fitting fetch can */
	send_fetch((fetch){ .agent = "gpu-agent", .corr_id = 53, .caps = GPU });
	a = wait_assign(3);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 53);
	expect_no_bad();
}

Test(scheduler, newer_fetch_from_the_same_agent_answers_the_older)
{
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 61, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a1", .corr_id = 62, .wait_ms = 10000 });
	r = wait_reply(61);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_task((task_ev){ .id = 1, .tier = AC_TIER_COMPLEX });
	a = wait_assign(1);
	cr_assert_eq(a.corr_id, 62);
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	barrier_gateway();
	cr_assert_not(replied(62));
	expect_no_bad();
}

Test(scheduler, assign_rejected_re_holds_the_fetch_and_it_gets_the_next_task)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_NORMAL, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 71, .pipe_id = 4, .wait_ms = 10000 });
	send_tasks(evs, 2);
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 1);
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2, "after the refusal the fetch takes the next task");
	cr_assert_eq(a.corr_id, 71);
	cr_assert_eq(a.pipe_id, 4);
	cr_assert_str_eq(a.agent, "a1");
	barrier_gateway();
	cr_assert_not(replied(71));
	expect_no_bad();
}

Test(scheduler, assign_rejected_with_no_task_left_waits_again)
{
	assign_rec a;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 72, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	wait_assign(1);
	barrier_gateway();
	cr_assert_not(replied(72), "the refused fetch is held again, not answered");
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 72);
	expect_no_bad();
}

Test(scheduler, agent_gone_drops_its_held_fetch)
{
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 81, .wait_ms = 10000 });
	send_agent_gone("a1");
	r = wait_reply(81);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_agent_gone("nobody"); /* harmless */
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	barrier_queue();
	cr_assert_eq(real_assigns(), 0, "the gone agent's fetch was still held");
	send_fetch((fetch){ .agent = "a2", .corr_id = 82 });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 1);
	cr_assert_str_eq(a.agent, "a2");
	expect_no_bad();
}

Test(scheduler, pipe_closed_drops_fetches_on_that_pipe_without_reply)
{
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 83, .pipe_id = 9, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 84, .pipe_id = 10, .wait_ms = 10000 });
	send_to_sched(AC_MSG_PIPE_CLOSED, 0, 9, NULL);
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a2");
	cr_assert_eq(a.corr_id, 84);
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	barrier_queue();
	cr_assert_eq(real_assigns(), 1);
	barrier_gateway();
	cr_assert_not(replied(83), "nobody is there to answer");
	expect_no_bad();
}

Test(scheduler, removed_task_event_drops_the_pending_task)
{
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_LOW, .tier = AC_TIER_TRIVIAL },
		{ .id = 3, .priority = AC_PRIO_HIGH, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	send_tasks(evs, 3);
	send_tasks((task_ev[]){ { .id = 1, .removed = true }, { .id = 3, .removed = true },
	    { .id = 77, .removed = true } }, 3);
	send_fetch((fetch){ .agent = "a1", .corr_id = 91 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 2);
	send_fetch((fetch){ .agent = "a2", .corr_id = 92 });
	cr_assert(wait_reply(92).ok);
	cr_assert_not(wait_reply(92).has_task);
	cr_assert_eq(real_assigns(), 1);
	expect_no_bad();
}

Test(scheduler, task_event_replaces_the_pending_task_with_the_same_id)
{
	assign_rec a;

	send_task((task_ev){ .id = 1, .generation = 1, .tier = AC_TIER_TRIVIAL, .caps = GPU });
	send_task((task_ev){ .id = 1, .generation = 2, .tier = AC_TIER_COMPLEX });
	send_fetch((fetch){ .agent = "a1", .corr_id = 93 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 1);
	cr_assert_eq(a.generation, 2);
	cr_assert_str_eq(a.target, "claude");
	send_fetch((fetch){ .agent = "a2", .corr_id = 94, .caps = GPU });
	cr_assert_not(wait_reply(94).has_task, "the replaced version is gone");
	expect_no_bad();
}

Test(scheduler, avoided_agent_is_passed_over_for_another_waiting_one)
{
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 95, .wait_ms = 10000 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 96, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .avoid = "a1" });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a2");
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL, .avoid = "a1" });
	a = wait_assign(2);
	cr_assert_str_eq(a.agent, "a1", "the avoided agent takes it when it is the only one");
	expect_no_bad();
}

Test(scheduler, delayed_task_is_not_assigned_before_its_time)
{
	int64_t not_before = ac_clock_wall_ms() + 400;
	task_ev evs[] = {
		{ .id = 1, .priority = AC_PRIO_URGENT, .not_before_ms = not_before,
		  .tier = AC_TIER_TRIVIAL },
		{ .id = 2, .priority = AC_PRIO_LOW, .tier = AC_TIER_TRIVIAL },
	};
	assign_rec a;

	send_tasks(evs, 2);
	send_fetch((fetch){ .agent = "a1", .corr_id = 101 });
	a = wait_assign(1);
	cr_assert_eq(a.task_id, 2, "the urgent task is not eligible yet");
	send_fetch((fetch){ .agent = "a2", .corr_id = 102, .wait_ms = 10000 });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 1);
	cr_assert_eq(a.corr_id, 102);
	/* ms clocks: the timer may fire within the millisecond before not_before_ms */
	cr_assert_geq(a.at_wall_ms, not_before - 1, "assigned %lld ms early",
	    (long long)(not_before - a.at_wall_ms));
	expect_no_bad();
}

Test(scheduler, delayed_task_replaced_before_its_time_keeps_only_the_new_timer)
{
	int64_t now = ac_clock_wall_ms();
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 103, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .generation = 1, .not_before_ms = now + 100,
	    .tier = AC_TIER_TRIVIAL });
	send_task((task_ev){ .id = 1, .generation = 2, .not_before_ms = now + 300,
	    .tier = AC_TIER_TRIVIAL });
	a = wait_assign(1);
	cr_assert_eq(a.generation, 2);
	cr_assert_geq(a.at_wall_ms, now + 300 - 1, "the first timer released the new version");
	expect_no_bad();
}

/* The fetch's wait_ms bounds the whole long-poll (DESIGN 4: "no task after wait_ms"):
 * a proposal refused late must not start a fresh wait_ms. */
Test(scheduler, refused_fetch_keeps_its_original_deadline)
{
	int64_t start = ac_clock_mono_ms();
	reply_rec r;

	lock();
	pr.reject_left = 1;
	unlock();
	send_fetch((fetch){ .agent = "a1", .corr_id = 131, .wait_ms = 600 });
	/* released by the scheduler's own timer at ~400 ms, proposed, refused */
	send_task((task_ev){ .id = 1, .not_before_ms = ac_clock_wall_ms() + 400,
	    .tier = AC_TIER_TRIVIAL });
	r = wait_reply(131);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	cr_assert_eq(assign_count(), 1, "the refused proposal");
	cr_assert_leq(r.at_mono_ms - start, 600 + 250,
	    "a fetch with wait_ms 600 was answered after %lld ms",
	    (long long)(r.at_mono_ms - start));
	expect_no_bad();
}

/* One held fetch per agent, the newer wins (DESIGN 4): a refused proposal made for an
 * older fetch must not displace the agent's newer one. */
Test(scheduler, refused_older_fetch_does_not_displace_a_newer_one)
{
	ac_env env;
	nng_msg *m;
	reply_rec r;
	assign_rec a;

	send_fetch((fetch){ .agent = "a1", .corr_id = 141, .wait_ms = 10000 });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	wait_assign(1); /* proposed for fetch 141; the fake queue keeps it */
	send_fetch((fetch){ .agent = "a1", .corr_id = 142, .wait_ms = 10000 }); /* newer */
	barrier_gateway();
	lock();
	env = pr.last_env;
	env.type = AC_MSG_ASSIGN_REJECTED;
	cr_assert_eq(ac_msg_alloc(&m, &env, pr.last_body, pr.last_len), AC_OK);
	unlock();
	cr_assert_eq(env.corr_id, 141);
	cr_assert_eq(ac_rt_send(rt, AC_ACTOR_SCHEDULER, &m), AC_OK); /* the queue refuses */
	barrier_gateway(); /* whatever the refusal answers has arrived */
	cr_assert_not(replied(142), "the agent's newer fetch was answered without a task");
	cr_assert(replied(141), "the refused, older fetch is answered");
	r = wait_reply(141);
	cr_assert(r.ok);
	cr_assert_not(r.has_task);
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	a = wait_assign(2);
	cr_assert_eq(a.task_id, 2);
	cr_assert_eq(a.corr_id, 142);
	expect_no_bad();
}

/* The longest-waiting capable agent gets a new task (scheduler_state.h), whatever
 * profile its capabilities put it in. */
Test(scheduler, longest_waiting_agent_gets_the_task_across_profiles)
{
	static const char *const x[] = { "x", NULL };
	static const char *const xy[] = { "x", "y", NULL };
	assign_rec a;

	send_fetch((fetch){ .agent = "a", .corr_id = 151, .wait_ms = 10000, .caps = x });
	send_fetch((fetch){ .agent = "b", .corr_id = 152, .wait_ms = 10000, .caps = xy });
	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL, .caps = x });
	a = wait_assign(1);
	cr_assert_str_eq(a.agent, "a");
	send_fetch((fetch){ .agent = "a", .corr_id = 153, .wait_ms = 10000, .caps = x });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL, .caps = x });
	a = wait_assign(2);
	cr_assert_str_eq(a.agent, "b", "b waited since before a's second fetch, %s got task 2",
	    a.agent);
	expect_no_bad();
}

Test(scheduler, each_match_is_published)
{
	uint64_t want = 2;

	send_task((task_ev){ .id = 1, .tier = AC_TIER_TRIVIAL });
	send_task((task_ev){ .id = 2, .tier = AC_TIER_TRIVIAL });
	send_fetch((fetch){ .agent = "a1", .corr_id = 111 });
	send_fetch((fetch){ .agent = "a2", .corr_id = 112 });
	wait_assign(2);
	cr_assert(wait_until(matches_at_least, &want, WAIT_MS), "%llu scheduler.match events",
	    (unsigned long long)pr.matches);
	unlock();
	expect_no_bad();
}

Test(scheduler, stop_answers_held_fetches_unavailable)
{
	reply_rec r;

	send_fetch((fetch){ .agent = "a1", .corr_id = 121, .wait_ms = 10000 });
	barrier_gateway(); /* held */
	ac_scheduler_stop(sched);
	sched = NULL;
	cr_assert(wait_until(has_reply, &(uint64_t){ 121 }, 5000), "no reply at stop");
	unlock();
	r = wait_reply(121);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.code, "unavailable");
	expect_no_bad();
}

/* Every held fetch is answered at stop, however many there are (scheduler.h): the
 * replies sent from the stop callback must survive the actor closing its sockets. */
Test(scheduler, stop_answers_every_held_fetch_unavailable)
{
	enum { N = 2000 };
	uint64_t want = N;
	char agent[32];

	for (uint64_t i = 0; i < N; i++) {
		snprintf(agent, sizeof(agent), "agent-%llu", (unsigned long long)i);
		send_fetch((fetch){ .agent = agent, .corr_id = 1000 + i, .wait_ms = 20000 });
	}
	barrier_gateway(); /* all held */
	ac_scheduler_stop(sched);
	sched = NULL;
	cr_assert(wait_until(unavailable_at_least, &want, 5000),
	    "%llu of %d held fetches were answered at stop", (unsigned long long)pr.unavailable, N);
	unlock();
	expect_no_bad();
}
