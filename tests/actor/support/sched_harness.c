/* SPDX-License-Identifier: MIT
 * The scheduler actor harness (sched_harness.h): fake queue, gateway and telemetry
 * actors that record what reaches them, the fixture, and the body builders. Over 500
 * lines: three fake actors and the builders of every message the scheduler takes.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "codec/agent_wire.h"
#include "codec/task_wire.h"
#include "config.h"
#include "routing/complexity.h"
#include "rt/actor.h"
#include "rt/clock.h"
#include "scheduler/scheduler.h"

#include "sched_harness.h"


/* ---- what the fakes saw ---- */

probe pr;
ac_rt *rt;
ac_config cfg;
ac_scheduler *sched;
static ac_actor *fake_queue, *fake_gw, *fake_tel;
static ac_actor *queue_self; /* the fake queue's own handle (its thread only) */
static unsigned barrier_seq;

void lock(void)
{
	ac_tsync_lock(&pr.sync);
}

void unlock(void)
{
	ac_tsync_unlock(&pr.sync);
}

static void unlock_signal(void)
{
	ac_tsync_unlock_signal(&pr.sync);
}

#define CHECK(cond) ac_tsync_check(&pr.sync, (cond), #cond, __LINE__)

bool wait_until(bool (*pred)(const void *arg), const void *arg, int64_t timeout_ms)
{
	return ac_tsync_wait(&pr.sync, pred, arg, timeout_ms);
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

/* Pending reasons are the queue's to show; the tests read them from stats instead. */
static void on_pending(void *state, ac_call *call)
{
	(void)state;
	(void)call;
}

static const ac_handler queue_handlers[AC_MSG_COUNT] = {
	[AC_MSG_ASSIGN] = { on_assign, &ac_assign_msg_schema },
	[AC_MSG_TASK_PENDING] = { on_pending, NULL },
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

/* The stats sections the scheduler passed on (to the gateway, the next stop). */
static void on_gw_stats(void *state, ac_call *call)
{
	(void)state;
	lock();
	pr.stats_len = call->body_len <= sizeof(pr.stats) ? call->body_len : 0;
	memcpy(pr.stats, call->body, pr.stats_len);
	pr.stats_seen++;
	unlock_signal();
}

static const ac_handler gw_handlers[AC_MSG_COUNT] = {
	[AC_MSG_GW_REPLY] = { on_gw_reply, NULL },
	[AC_MSG_STATS_COLLECT] = { on_gw_stats, NULL },
};
static const ac_actor_def gw_def = {
	.name = "fake-gateway",
	.id = AC_ACTOR_GATEWAY,
	.handlers = gw_handlers,
};

/* ---- fake telemetry: counts scheduler.match ---- */

/* Body: events (ac_event_next), each a topic string then its data map. */
static void on_tel_event(void *state, ac_call *call)
{
	static const char topic[] = "scheduler.match";
	const uint8_t *ev;
	size_t off = 0, len;
	uint64_t n = 0;

	(void)state;
	while (ac_event_next(call->body, call->body_len, &off, &ev, &len)) {
		/* a fixstr topic: one header byte, then the name */
		n += len > sizeof(topic) && ev[0] == (0xa0 | (sizeof(topic) - 1)) &&
		    memcmp(ev + 1, topic, sizeof(topic) - 1) == 0;
	}
	CHECK(off == call->body_len);
	lock();
	pr.matches += n;
	unlock_signal();
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

void sched_setup(void)
{
	memset(&pr, 0, sizeof(pr));
	ac_tsync_init(&pr.sync);
	barrier_seq = 0;
	ac_config_defaults(&cfg);
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &gw_def, NULL, &fake_gw), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &queue_def, NULL, &fake_queue), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &tel_def, NULL, &fake_tel), AC_OK);
	cr_assert_eq(ac_scheduler_start(rt, &cfg, &sched), AC_OK);
}

void sched_teardown(void)
{
	ac_tsync_unlock(&pr.sync); /* held if an assertion failed while waiting; else EPERM */
	ac_scheduler_stop(sched);
	ac_actor_stop(fake_tel);
	ac_actor_stop(fake_queue);
	ac_actor_stop(fake_gw);
	ac_rt_free(rt);
	ac_tsync_fini(&pr.sync);
}

/* Fails the test when a fake saw something wrong (Criterion ignores .fini failures). */
void expect_no_bad(void)
{
	lock();
	cr_assert_str_empty(pr.sync.bad, "a fake actor saw: %s", pr.sync.bad);
	unlock();
}

/* ---- sending to the scheduler ---- */

void send_to_sched(uint16_t type, uint64_t corr_id, uint32_t pipe_id, const ac_mpw *w)
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

void send_fetch(fetch f)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 2 + (f.caps != NULL) + (f.targets != NULL) + (f.endpoint != NULL));
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, f.agent);
	ac_mpw_key(&w, "wait_ms");
	ac_mpw_u64(&w, f.wait_ms);
	if (f.endpoint != NULL) {
		ac_mpw_key(&w, "endpoint");
		ac_mpw_cstr(&w, f.endpoint);
	}
	if (f.caps != NULL) {
		write_strs(&w, "capabilities", f.caps);
	}
	if (f.targets != NULL) {
		write_strs(&w, "targets", f.targets);
	}
	send_to_sched(AC_MSG_FETCH, f.corr_id, f.pipe_id ? f.pipe_id : 1, &w);
	ac_mpw_fini(&w);
}

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
void send_tasks(const task_ev *evs, size_t n)
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

void send_task(task_ev e)
{
	send_tasks(&e, 1);
}

void send_agent_gone(const char *agent)
{
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "agent_id");
	ac_mpw_cstr(&w, agent);
	send_to_sched(AC_MSG_AGENT_GONE, 0, 0, &w);
	ac_mpw_fini(&w);
}

static void write_endpoint(ac_mpw *w, const endpoint_spec *e, uint64_t order)
{
	ac_mpw_map(w, 6 + (e->cpu_percent >= 0));
	ac_mpw_key(w, "id");
	ac_mpw_cstr(w, e->id);
	ac_mpw_key(w, "host");
	ac_mpw_cstr(w, "127.0.0.1");
	ac_mpw_key(w, "port");
	ac_mpw_u64(w, 11434);
	ac_mpw_key(w, "status");
	ac_mpw_cstr(w, e->is_healthy ? "healthy" : "unhealthy");
	write_strs(w, "models", e->models);
	ac_mpw_key(w, "seq");
	ac_mpw_u64(w, order);
	if (e->cpu_percent >= 0) {
		ac_mpw_key(w, "resources");
		ac_mpw_map(w, 2);
		ac_mpw_key(w, "cpu_percent");
		ac_mpw_f64(w, e->cpu_percent);
		ac_mpw_key(w, "reported_at_ms");
		ac_mpw_i64(w, ac_clock_wall_ms());
	}
}

void send_snapshot(const endpoint_spec *eps, size_t n)
{
	static uint64_t seq;
	ac_mpw w;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 3);
	ac_mpw_key(&w, "seq");
	ac_mpw_u64(&w, ++seq);
	ac_mpw_key(&w, "event");
	ac_mpw_cstr(&w, "snapshot");
	ac_mpw_key(&w, "endpoints");
	ac_mpw_array(&w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		write_endpoint(&w, &eps[i], i + 1);
	}
	send_to_sched(AC_MSG_ENDPOINT_SNAPSHOT, 0, 0, &w);
	ac_mpw_fini(&w);
	cr_assert_eq(routing_stat("endpoints_known", NULL), n, "the snapshot was not applied");
}

/* ---- stats ---- */

static bool stats_at_least(const void *arg)
{
	return pr.stats_seen >= *(const uint64_t *)arg;
}

/* The value at key (then sub) in the map o, or NULL. */
static const msgpack_object *map_get(const msgpack_object *o, const char *key)
{
	for (uint32_t i = 0; o != NULL && o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
			return &o->via.map.ptr[i].val;
		}
	}
	return NULL;
}

uint64_t routing_stat(const char *key, const char *sub)
{
	static const uint8_t no_sections = 0x80; /* an empty fixmap: the sections so far */
	ac_mpw w = { 0 };
	msgpack_unpacked u;
	const msgpack_object *v;
	uint64_t want, n = 0;
	bool ok;

	lock();
	want = pr.stats_seen + 1;
	unlock();
	ac_mpw_init(&w);
	ac_mpw_raw(&w, &no_sections, 1);
	send_to_sched(AC_MSG_STATS_COLLECT, 700000 + want, 0, &w);
	ac_mpw_fini(&w);
	cr_assert(wait_until(stats_at_least, &want, WAIT_MS), "no stats reached telemetry");
	msgpack_unpacked_init(&u);
	ok = msgpack_unpack_next(&u, (const char *)pr.stats, pr.stats_len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS;
	v = ok ? map_get(map_get(&u.data, "routing"), key) : NULL;
	v = v != NULL && sub != NULL ? map_get(v, sub) : v;
	ok = v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
	n = ok ? v->via.u64 : 0;
	msgpack_unpacked_destroy(&u);
	unlock();
	cr_assert(ok, "no routing.%s%s%s in stats", key, sub ? "." : "", sub ? sub : "");
	return n;
}

/* ---- waiting ---- */

bool assigns_at_least(const void *arg)
{
	return pr.assign_count >= *(const size_t *)arg;
}

bool has_reply(const void *arg)
{
	for (size_t i = 0; i < pr.reply_count; i++) {
		if (pr.replies[i].corr_id == *(const uint64_t *)arg) {
			return true;
		}
	}
	return false;
}

bool has_assign_of(const void *arg)
{
	for (size_t i = 0; i < pr.assign_count; i++) {
		if (pr.assigns[i].task_id == *(const uint64_t *)arg) {
			return true;
		}
	}
	return false;
}

bool matches_at_least(const void *arg)
{
	return pr.matches >= *(const uint64_t *)arg;
}

bool unavailable_at_least(const void *arg)
{
	return pr.unavailable >= *(const uint64_t *)arg;
}

/* Waits for n assignments in all; returns a copy of the i-th (0-based, n-1 if i < 0). */
assign_rec wait_assign(size_t n)
{
	assign_rec r;

	cr_assert(wait_until(assigns_at_least, &n, WAIT_MS), "%zu assignments, want %zu",
	    pr.assign_count, n);
	r = pr.assigns[n - 1];
	unlock();
	return r;
}

reply_rec wait_reply(uint64_t corr_id)
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

size_t assign_count(void)
{
	size_t n;

	lock();
	n = pr.assign_count;
	unlock();
	return n;
}

bool replied(uint64_t corr_id)
{
	bool r;

	lock();
	r = has_reply(&corr_id);
	unlock();
	return r;
}

/* Barrier on the scheduler -> queue channel: a task only a barrier agent can take and
 * that agent's fetch. Once its ASSIGN arrives, every earlier proposal has arrived. */
void barrier_queue(void)
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
void barrier_gateway(void)
{
	uint64_t corr = 800000 + ++barrier_seq;

	send_to_sched(AC_MSG_HELLO_FWD, corr, 0, NULL);
	cr_assert_str_eq(wait_reply(corr).code, "unknown_op");
}

/* How many assignments are not barrier ones. */
size_t real_assigns(void)
{
	size_t n = 0;

	lock();
	for (size_t i = 0; i < pr.assign_count; i++) {
		n += pr.assigns[i].task_id < 900000;
	}
	unlock();
	return n;
}
