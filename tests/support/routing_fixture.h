/* SPDX-License-Identifier: MIT
 * Shared fixture of the routing system tests (routing_test.c, routing_more_test.c): a
 * server with a telemetry subscriber, fake Ollamas freed by .fini, and the helpers the
 * tests assert through. Included by exactly one test file per executable; functions are
 * static inline so that a file which does not use one still compiles without warnings.
 */
#ifndef AC_TESTS_ROUTING_FIXTURE_H
#define AC_TESTS_ROUTING_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "endpoint_util.h"
#include "ep_server_fixture.h"

#define ULL(x) ((unsigned long long)(x))
#define GIB 1073741824ULL
#define STD_TASK "add a settings page field for notifications"
#define COMPLEX_TASK "refactor the authentication architecture and migrate the database"
#define TRIVIAL_TASK "fix typo in readme"
#define DEFAULT_MODEL "qwen2.5-coder:7b"

static const char *const one_model[] = { DEFAULT_MODEL };

TestSuite(routing, .fini = teardown);

/* A fake Ollama with these models (freed by teardown); its id into id. */
static inline fake_ollama *add_fake(const char *const *models, size_t n, char *id, size_t cap)
{
	for (int i = 0; i < MAX_FAKES; i++) {
		if (fakes[i] == NULL) {
			return fakes[i] = ac_ep_fake(models, n, id, cap);
		}
	}
	cr_assert_fail("too many fakes");
	return NULL;
}

/* Asserts that task id has this status now. */
static inline void expect_status(uint64_t id, const char *status)
{
	ac_reply *r = ac_ts_get(cli, id);

	ac_ts_expect_str(r, "task.status", status);
	ac_reply_free(r);
}

/* A registered fake with DEFAULT_MODEL, healthy. */
static inline fake_ollama *healthy_fake(char *id, size_t cap)
{
	fake_ollama *fo = add_fake(one_model, 1, id, cap);

	ac_ep_register(cli, fo);
	cr_assert(ac_ep_wait_status(cli, id, "healthy", 3000), "the fake Ollama never became healthy");
	return fo;
}

static inline uint64_t submit_std(void)
{
	return ac_ts_submit(cli, "\"description\":\"" STD_TASK "\"");
}

static inline bool has_str(ac_reply *r, const char *path, const char *want)
{
	char buf[256];

	return ac_reply_str(r, path, buf, sizeof(buf)) && strcmp(buf, want) == 0;
}

static inline bool is_nil(ac_reply *r, const char *path)
{
	const msgpack_object *o = ac_reply_get(r, path);

	return o == NULL || o->type == MSGPACK_OBJECT_NIL;
}

/* Polls task.get every 10 ms until task id is queued with pending_reason reason ("":
 * none). */
static inline void wait_pending(uint64_t id, const char *reason, int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	char have[64] = "";

	for (;;) {
		ac_reply *r = ac_ts_get(cli, id);
		bool done;
		have[0] = '\0';
		ac_reply_str(r, "task.pending_reason", have, sizeof(have));
		done = strcmp(have, reason) == 0;
		if (done) {
			ac_ts_expect_str(r, "task.status", "queued");
		}
		ac_reply_free(r);
		if (done) {
			return;
		}
		cr_assert_lt(ac_ts_now_ms(), deadline, "task %llu pending_reason '%s', not %s, after %d ms",
		    ULL(id), have, reason, timeout_ms);
		usleep(10000);
	}
}

/* Checks the decision at prefix ("task.routing_decision") of an ollama placement. */
static inline void expect_ollama(ac_reply *r, const char *prefix, const char *ep, const char *model)
{
	char path[96];
	bool used = true;

#define P(field) (snprintf(path, sizeof(path), "%s.%s", prefix, field), path)
	ac_ts_expect_str(r, P("effective_tier"), "standard");
	ac_ts_expect_str(r, P("target_type"), "ollama");
	ac_ts_expect_str(r, P("selected_endpoint"), ep);
	ac_ts_expect_str(r, P("selected_model"), model);
	ac_ts_expect_str(r, P("estimated_cost_tier"), "local");
	cr_assert(ac_reply_bool(r, P("fallback_used"), &used) && !used, "an ollama placement says fallback_used");
	cr_assert(is_nil(r, P("fallback_from_tier")) && is_nil(r, P("fallback_reason")));
#undef P
}

/* Checks the fallback badge (DESIGN §5.4, §5.5) at prefix. */
static inline void expect_fallback(ac_reply *r, const char *prefix, const char *reason)
{
	char path[96], text[256], suffix[128];
	bool used = false;

#define P(field) (snprintf(path, sizeof(path), "%s.%s", prefix, field), path)
	ac_ts_expect_str(r, P("effective_tier"), "complex");
	ac_ts_expect_str(r, P("target_type"), "claude");
	ac_ts_expect_str(r, P("selected_endpoint"), "claude_api");
	ac_ts_expect_str(r, P("selected_model"), "claude");
	ac_ts_expect_str(r, P("estimated_cost_tier"), "api");
	cr_assert(ac_reply_bool(r, P("fallback_used"), &used) && used, "fallback_used is not true");
	ac_ts_expect_str(r, P("fallback_from_tier"), "standard");
	ac_ts_expect_str(r, P("fallback_reason"), reason);
	cr_assert_eq(ac_ts_u64(r, P("candidate_count")), 0);
	cr_assert(ac_reply_str(r, P("classification_reason"), text, sizeof(text)));
	snprintf(suffix, sizeof(suffix), " [fallback from standard: %s]", reason);
	cr_assert(strlen(text) > strlen(suffix) && strcmp(text + strlen(text) - strlen(suffix), suffix) == 0,
	    "classification_reason \"%s\" does not end with \"%s\"", text, suffix);
#undef P
}

/* DESIGN §4 Telemetry: scheduler.route carries every field of the stored decision, plus
 * task_id and scoring_duration_us. */
static inline void expect_route_event(uint64_t id)
{
	static const char *const fields[] = { "effective_tier", "target_type", "selected_endpoint",
		"selected_model", "fallback_used", "fallback_from_tier", "fallback_reason", "candidate_count",
		"classification_reason", "estimated_cost_tier", "decided_at_ms" };
	ac_tevent *ev = ac_tsub_wait_u64(sub, "scheduler.route", "task_id", id, 3000);
	ac_reply *r;
	int64_t us = -1;

	cr_assert_not_null(ev, "no scheduler.route for task %llu", ULL(id));
	cr_assert(ac_tevent_i64(ev, "scoring_duration_us", &us) && us >= 0,
	    "scheduler.route without scoring_duration_us");
	r = ac_ts_get(cli, id);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char path[96];
		const msgpack_object *want, *have = ac_tevent_get(ev, fields[i]);
		snprintf(path, sizeof(path), "task.routing_decision.%s", fields[i]);
		want = ac_reply_get(r, path);
		cr_assert_not_null(have, "scheduler.route of task %llu lacks %s", ULL(id), fields[i]);
		cr_assert(want == NULL ? have->type == MSGPACK_OBJECT_NIL : msgpack_object_equal(*want, *have),
		    "scheduler.route %s differs from the task's routing_decision", fields[i]);
	}
	ac_reply_free(r);
	ac_tevent_free(ev);
}

/* agent.heartbeat with cpu_percent and 16 GiB of RAM (capacity 1.0). */
static inline void report_cpu(const char *agent, double cpu)
{
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"%s\",\"resources\":{"
	                                "\"cpu_percent\":%.1f,\"ram_total_bytes\":17179869184}}",
	                    agent, cpu),
	    "heartbeat");
}

/* Two healthy fakes a and b whose agents ("near-a", "near-b", targets as given) report
 * cpu 10 % and 70 %; waits until route.explain ranks them with those loads and writes
 * their scores (queue factor 1). */
static inline void two_endpoints(char *a_ep, char *b_ep, size_t cap, const char *agent_targets, double *sa,
    double *sb)
{
	fake_ollama *a = add_fake(one_model, 1, a_ep, cap), *b = add_fake(one_model, 1, b_ep, cap);
	long long deadline;

	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"near-a\",\"ollama_url\":"
	                                "\"http://127.0.0.1:%u\",\"targets\":%s}",
	                    (unsigned)fake_ollama_port(a), agent_targets),
	    "hello near-a");
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"near-b\",\"ollama_url\":"
	                                "\"http://127.0.0.1:%u\",\"targets\":%s}",
	                    (unsigned)fake_ollama_port(b), agent_targets),
	    "hello near-b");
	report_cpu("near-a", 10);
	report_cpu("near-b", 70);
	cr_assert(ac_ep_wait_status(cli, a_ep, "healthy", 3000));
	cr_assert(ac_ep_wait_status(cli, b_ep, "healthy", 3000));
	deadline = ac_ts_now_ms() + 3000;
	for (;;) { /* the resources reach the scheduler's view */
		ac_reply *r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
		double la = -1, lb = -1;
		bool ok;
		cr_assert(ac_reply_ok(r), "route.explain: %s", ac_reply_message(r));
		ok = has_str(r, "candidates[0].endpoint", a_ep) && has_str(r, "candidates[1].endpoint", b_ep) &&
		    ac_reply_f64(r, "candidates[0].factors.load", &la) &&
		    ac_reply_f64(r, "candidates[1].factors.load", &lb) && fabs(la - 0.9) < 1e-9 &&
		    fabs(lb - 0.3) < 1e-9;
		if (ok) {
			cr_assert(ac_reply_f64(r, "candidates[0].score", sa));
			cr_assert(ac_reply_f64(r, "candidates[1].score", sb));
		}
		ac_reply_free(r);
		if (ok) {
			return;
		}
		cr_assert_lt(ac_ts_now_ms(), deadline, "route.explain never showed loads 0.9/0.3 (got %g/%g)",
		    la, lb);
		usleep(10000);
	}
}

/* Hello for worker i (targets ollama) and a fetch with accept; returns the task id and
 * copies its selected_endpoint. The worker keeps the task (it stays in flight). */
static inline uint64_t worker_takes(int i, char *ep, size_t cap)
{
	char agent[16];
	ac_reply *r;
	uint64_t id;

	snprintf(agent, sizeof(agent), "w%02d", i);
	ac_ts_hello(cli, agent, ",\"targets\":[\"ollama\"]");
	r = ac_ts_fetch_reply(cli, agent, 2000, true);
	cr_assert(ac_ts_has_task(r), "worker %s got no task", agent);
	id = ac_ts_u64(r, "task.id");
	ac_ts_expect_str(r, "task.routing_decision.target_type", "ollama");
	cr_assert(ac_reply_str(r, "task.routing_decision.selected_endpoint", ep, cap));
	ac_reply_free(r);
	return id;
}

#endif
