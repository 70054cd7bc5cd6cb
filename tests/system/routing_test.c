/* SPDX-License-Identifier: MIT
 * System tests of routing against live endpoints (DESIGN §5.3-5.5, topics scheduler.*,
 * alert.*): placement on a healthy fake Ollama, the outage drill (wait, fallback with its
 * badge and event, recovery), recovery before the timer, bursts spread by score and by
 * endpoint_slots, saturation, TTL expiry, the tier alert, live route.explain, model
 * choice and agent targets.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "endpoint_util.h"
#include "fake_ollama.h"
#include "telemetry_sub.h"
#include "test_server.h"

#define ULL(x) ((unsigned long long)(x))
#define GIB 1073741824ULL
#define MAX_FAKES 4
#define STD_TASK "add a settings page field for notifications"
#define COMPLEX_TASK "refactor the authentication architecture and migrate the database"
#define TRIVIAL_TASK "fix typo in readme"
#define DEFAULT_MODEL "qwen2.5-coder:7b"

static ac_test_server srv;
static ac_client *cli; /* admin: client ops, and agent ops for any agent */
static ac_tsub *sub;
static fake_ollama *fakes[MAX_FAKES];

static const char *const one_model[] = { DEFAULT_MODEL };

static void boot(const char *const *extra)
{
	cr_assert(ac_ts_start(&srv, extra));
	cli = ac_ts_client(&srv);
	cr_assert_not_null(sub = ac_tsub_open(srv.pub, NULL), "subscribe to %s", srv.pub);
}

static void teardown(void)
{
	unsigned bad = sub != NULL ? ac_tsub_bad_frames(sub) : 0;

	ac_client_close(cli);
	ac_ts_cleanup(&srv);
	/* after the server: nng 1.5.2's nng_close on a SUB whose PUB peer is still up now
	 * and then never returns (nng #1543; reference/nng-notes.md §5) */
	ac_tsub_close(sub);
	for (int i = 0; i < MAX_FAKES; i++) {
		fake_ollama_free(fakes[i]);
	}
	cr_expect_eq(bad, 0, "%u telemetry frames were not `topic NUL map{ts_ms, seq}`", bad);
}

TestSuite(routing, .fini = teardown);

/* A fake Ollama with these models (freed by teardown); its id into id. */
static fake_ollama *add_fake(const char *const *models, size_t n, char *id, size_t cap)
{
	for (int i = 0; i < MAX_FAKES; i++) {
		if (fakes[i] == NULL) {
			return fakes[i] = ac_ep_fake(models, n, id, cap);
		}
	}
	cr_assert_fail("too many fakes");
	return NULL;
}

/* A registered fake with DEFAULT_MODEL, healthy. */
static fake_ollama *healthy_fake(char *id, size_t cap)
{
	fake_ollama *fo = add_fake(one_model, 1, id, cap);

	ac_ep_register(cli, fo);
	cr_assert(ac_ep_wait_status(cli, id, "healthy", 3000), "the fake Ollama never became healthy");
	return fo;
}

static uint64_t submit_std(void)
{
	return ac_ts_submit(cli, "\"description\":\"" STD_TASK "\"");
}

static bool has_str(ac_reply *r, const char *path, const char *want)
{
	char buf[256];

	return ac_reply_str(r, path, buf, sizeof(buf)) && strcmp(buf, want) == 0;
}

static bool is_nil(ac_reply *r, const char *path)
{
	const msgpack_object *o = ac_reply_get(r, path);

	return o == NULL || o->type == MSGPACK_OBJECT_NIL;
}

/* Polls task.get every 10 ms until the task waits with reason. */
static void wait_pending(uint64_t id, const char *reason, int timeout_ms)
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
static void expect_ollama(ac_reply *r, const char *prefix, const char *ep, const char *model)
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
static void expect_fallback(ac_reply *r, const char *prefix, const char *reason)
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
static void expect_route_event(uint64_t id)
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
static void report_cpu(const char *agent, double cpu)
{
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"%s\",\"resources\":{"
	                                "\"cpu_percent\":%.1f,\"ram_total_bytes\":17179869184}}",
	                    agent, cpu),
	    "heartbeat");
}

/* Two healthy fakes a and b whose agents ("near-a", "near-b", targets as given) report
 * cpu 10 % and 70 %; waits until route.explain ranks them with those loads and writes
 * their scores (queue factor 1). */
static void two_endpoints(char *a_ep, char *b_ep, size_t cap, const char *agent_targets, double *sa,
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
static uint64_t worker_takes(int i, char *ep, size_t cap)
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

/* ---- the outage drill ---- */

/* DESIGN §5.5 and README's outage drill: healthy -> ollama; host down -> a new standard
 * task waits with its pending reason, then escalates to claude after fallback_wait_ms with
 * the badge and a scheduler.fallback event; host back -> the next one goes to ollama at once. */
Test(routing, outage_drill, .timeout = 30)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=800", NULL };
	fake_ollama *fo;
	char ep[64], reason[64];
	uint64_t id, gen, n;
	int64_t wait_ms = 0;
	long long t0, waited;
	ac_tevent *ev;
	ac_reply *r;

	boot(args);
	fo = healthy_fake(ep, sizeof(ep));
	ac_ts_hello(cli, "w", ""); /* all targets */

	/* 1. healthy: a standard task goes to the endpoint */
	id = submit_std();
	r = ac_ts_fetch_reply(cli, "w", 2000, true);
	cr_assert(ac_ts_has_task(r), "no task while the endpoint is healthy");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	cr_assert_eq(ac_ts_u64(r, "task.routing_decision.candidate_count"), 1);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	expect_route_event(id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete");

	/* 2. the host goes down */
	fake_ollama_stop(fo);
	ev = ac_tsub_wait(sub, "endpoint.unhealthy", "endpoint_id", ep, 3000);
	cr_assert_not_null(ev, "no endpoint.unhealthy after the host stopped");
	ac_tevent_free(ev);
	t0 = ac_ts_now_ms();
	id = submit_std();
	cr_assert_eq(ac_ts_fetch(cli, "w", 300, true, NULL), 0, "a standard task was delivered at once");
	wait_pending(id, "no_healthy_ollama_endpoints", 1000);
	r = ac_ts_fetch_reply(cli, "w", 3000, true);
	waited = ac_ts_now_ms() - t0;
	cr_assert(ac_ts_has_task(r), "no fallback within %lld ms (fallback_wait_ms 800)", waited);
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_log_info("fell back after %lld ms", waited);
	cr_assert_geq(waited, 795, "delivered after %lld ms, before fallback_wait_ms", waited);
	cr_assert_lt(waited, 2500, "fell back only after %lld ms", waited);
	expect_fallback(r, "task.routing_decision", "no_healthy_ollama_endpoints");
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	r = ac_ts_get(cli, id); /* the badge is stored, the wait is over */
	expect_fallback(r, "task.routing_decision", "no_healthy_ollama_endpoints");
	cr_assert(is_nil(r, "task.pending_reason"), "an assigned task keeps its pending_reason");
	ac_reply_free(r);
	ev = ac_tsub_wait_u64(sub, "scheduler.fallback", "task_id", id, 3000);
	cr_assert_not_null(ev, "no scheduler.fallback for task %llu", ULL(id));
	cr_assert(ac_tevent_str(ev, "original_tier", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "standard");
	cr_assert(ac_tevent_str(ev, "fallback_tier", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "complex");
	cr_assert(ac_tevent_str(ev, "reason", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "no_healthy_ollama_endpoints");
	cr_assert(ac_tevent_i64(ev, "wait_ms", &wait_ms));
	cr_assert(wait_ms >= 795 && wait_ms < 2500, "scheduler.fallback wait_ms %lld", (long long)wait_ms);
	ac_tevent_free(ev);
	expect_route_event(id);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete the fallback");
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_u64(r, "routing.fallbacks", &n) && n == 1, "routing.fallbacks %llu", ULL(n));
	ac_reply_free(r);

	/* 3. the host comes back: the next standard task goes to it at once */
	cr_assert(fake_ollama_restart(fo));
	ev = ac_tsub_wait(sub, "endpoint.healthy", "endpoint_id", ep, 3000);
	cr_assert_not_null(ev, "no endpoint.healthy after the host came back");
	ac_tevent_free(ev);
	t0 = ac_ts_now_ms();
	id = submit_std();
	r = ac_ts_fetch_reply(cli, "w", 3000, true);
	waited = ac_ts_now_ms() - t0;
	cr_assert(ac_ts_has_task(r));
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	cr_assert_lt(waited, 700, "placed after %lld ms: it waited instead of going at once", waited);
	ac_reply_free(r);
}

/* DESIGN §5.5: an endpoint recovery re-evaluates the waiting tasks at once; the one
 * that can now go at its own tier goes there, its timer cancelled. */
Test(routing, an_endpoint_recovering_before_the_timer_takes_the_waiting_task, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=3000", NULL };
	fake_ollama *fo;
	char ep[64];
	ac_client *agent_c;
	long long t0, waited;
	uint64_t id, n = 99;
	ac_tevent *ev;
	ac_ts_bg bg;
	ac_reply *r;

	boot(args);
	fo = add_fake(one_model, 1, ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	ac_ep_register(cli, fo);
	cr_assert(ac_ep_wait_status(cli, ep, "unhealthy", 3000));
	agent_c = ac_ts_client(&srv);
	ac_ts_hello(agent_c, "w", "");
	t0 = ac_ts_now_ms();
	id = submit_std();
	wait_pending(id, "no_healthy_ollama_endpoints", 1000);
	ac_ts_bg_start(&bg, agent_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"w\",\"wait_ms\":6000,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 2000));
	fake_ollama_set_mode(fo, FAKE_OK);
	r = ac_ts_bg_join(&bg);
	waited = ac_ts_now_ms() - t0;
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "the waiting task was not placed");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_log_info("placed %lld ms after submit (fallback_wait_ms 3000)", waited);
	cr_assert_lt(waited, 2800, "placed after %lld ms: not before the fallback timer", waited);
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	ac_reply_free(r);
	r = ac_ts_get(cli, id);
	cr_assert(is_nil(r, "task.pending_reason"), "the placed task keeps its pending_reason");
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	ac_reply_free(r);
	/* its route event came, and no fallback before it (events are published in order) */
	expect_route_event(id);
	ev = ac_tsub_wait_u64(sub, "scheduler.fallback", "task_id", id, 0);
	cr_assert_null(ev, "a scheduler.fallback for a task placed at its own tier");
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_u64(r, "routing.fallbacks", &n) && n == 0, "routing.fallbacks %llu", ULL(n));
	ac_reply_free(r);
	ac_client_close(agent_c);
}

/* ---- load spreading ---- */

/* What DESIGN §5.3 predicts: each task to the best score/(1 + in_flight), ties to a. */
static void predict(double sa, double sb, int tasks, int slots, int *na, int *nb)
{
	*na = *nb = 0;
	for (int i = 0; i < tasks; i++) {
		double a = *na < slots ? sa / (1 + *na) : -1, b = *nb < slots ? sb / (1 + *nb) : -1;
		if (a < 0 && b < 0) {
			break;
		}
		if (a >= b) {
			(*na)++;
		} else {
			(*nb)++;
		}
	}
}

/* DESIGN §5.3, §12.3: two endpoints whose agents report different CPU share a burst by
 * score; the queue factor 1/(1+in_flight) spreads it. The workers hold their tasks, so
 * every assignment stays in flight. */
Test(routing, a_burst_is_shared_by_endpoint_score, .timeout = 30)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"endpoint_slots=64", "--set", "fallback_wait_ms=30000", NULL };
	enum { TASKS = 40 };
	char a_ep[64], b_ep[64], ep[64], batch[8192];
	size_t used = 0;
	double sa = 0, sb = 0;
	int na = 0, nb = 0, pa, pb;
	ac_reply *r;

	boot(args);
	two_endpoints(a_ep, b_ep, sizeof(a_ep), "[\"sidecar\"]", &sa, &sb);
	used += (size_t)snprintf(batch, sizeof(batch), "{\"op\":\"task.submit_batch\",\"tasks\":[");
	for (int i = 0; i < TASKS; i++) {
		used += (size_t)snprintf(batch + used, sizeof(batch) - used,
		    "%s{\"description\":\"" STD_TASK " %d\"}", i ? "," : "", i);
	}
	snprintf(batch + used, sizeof(batch) - used, "]}");
	r = ac_ts_call(cli, "%s", batch);
	cr_assert(ac_reply_ok(r), "submit_batch: %s", ac_reply_message(r));
	ac_reply_free(r);
	for (int i = 0; i < TASKS; i++) {
		worker_takes(i, ep, sizeof(ep));
		cr_assert(strcmp(ep, a_ep) == 0 || strcmp(ep, b_ep) == 0, "task placed on %s", ep);
		na += strcmp(ep, a_ep) == 0;
		nb += strcmp(ep, b_ep) == 0;
	}
	predict(sa, sb, TASKS, 64, &pa, &pb);
	printf("routing: burst of %d: cpu 10%% endpoint got %d, cpu 70%% endpoint got %d "
	       "(scores %.4f / %.4f; score/(1+in_flight) predicts %d / %d)\n",
	    TASKS, na, nb, sa, sb, pa, pb);
	fflush(stdout);
	cr_assert_gt(na, nb, "the lower-CPU endpoint got %d of %d", na, TASKS);
	cr_assert_geq(nb, 1, "the busier endpoint got nothing: the burst piled onto one host");
	cr_assert(na >= TASKS * 6 / 10 && na <= TASKS * 9 / 10,
	    "the lower-CPU endpoint got %d of %d; scores %.3f/%.3f make about %d", na, TASKS, sa, sb, pa);
}

/* DESIGN §5.3: an endpoint with endpoint_slots tasks in flight is no candidate: a burst
 * spreads over both hosts even though one scores far better; then a new task waits with
 * endpoints_saturated until a slot frees, and goes to the freed endpoint at once. */
Test(routing, endpoint_slots_spread_a_burst_and_a_freed_slot_takes_the_saturated_task, .timeout = 30)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set", "endpoint_slots=3",
		"--set", "fallback_wait_ms=30000", NULL };
	char a_ep[64], b_ep[64], ep[64], agent[16];
	uint64_t id, b_task = 0, gen;
	double sa = 0, sb = 0;
	int na = 0, nb = 0, pa, pb, b_worker = -1;
	ac_client *late_c;
	ac_ts_bg bg;
	ac_reply *r;
	long long t0;

	boot(args);
	two_endpoints(a_ep, b_ep, sizeof(a_ep), "[\"sidecar\"]", &sa, &sb);
	for (int i = 0; i < 6; i++) {
		submit_std();
	}
	for (int i = 0; i < 6; i++) {
		uint64_t got = worker_takes(i, ep, sizeof(ep));
		na += strcmp(ep, a_ep) == 0;
		nb += strcmp(ep, b_ep) == 0;
		if (strcmp(ep, b_ep) == 0 && b_worker < 0) {
			b_worker = i;
			b_task = got;
		}
	}
	predict(sa, sb, 6, 1000, &pa, &pb);
	cr_log_info("6 tasks with endpoint_slots 3: %d / %d (without the limit: %d / %d)", na, nb, pa, pb);
	cr_assert(na == 3 && nb == 3, "6 tasks with endpoint_slots 3 went %d / %d", na, nb);

	/* both saturated: a new task waits, and route.explain says why */
	id = submit_std();
	wait_pending(id, "endpoints_saturated", 2000);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "pending_reason", "endpoints_saturated");
	cr_assert_null(ac_reply_get(r, "decision"), "route.explain decided while every endpoint is full");
	ac_reply_free(r);

	/* a slot on b frees: the waiting task goes there at once */
	late_c = ac_ts_client(&srv);
	ac_ts_hello(late_c, "late", ",\"targets\":[\"ollama\"]");
	ac_ts_bg_start(&bg, late_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"late\",\"wait_ms\":5000,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 2000));
	r = ac_ts_get(cli, b_task);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	snprintf(agent, sizeof(agent), "w%02d", b_worker);
	t0 = ac_ts_now_ms();
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", agent, b_task, gen, ""), "complete on b");
	r = ac_ts_bg_join(&bg);
	cr_assert(ac_ts_has_task(r), "the saturated task was not placed when a slot freed");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_lt(ac_ts_now_ms() - t0, 2000);
	expect_ollama(r, "task.routing_decision", b_ep, DEFAULT_MODEL);
	ac_reply_free(r);
	ac_client_close(late_c);
}

/* DESIGN §5.5: a task waiting for a slot falls back like one waiting for health, and
 * the badge names endpoints_saturated. */
Test(routing, a_saturated_task_falls_back_with_reason_endpoints_saturated, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set", "endpoint_slots=1",
		"--set", "fallback_wait_ms=800", NULL };
	char ep[64], reason[64];
	long long t0, waited;
	uint64_t id;
	ac_tevent *ev;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	submit_std();
	worker_takes(0, ep, sizeof(ep)); /* holds the only slot */
	t0 = ac_ts_now_ms();
	id = submit_std();
	wait_pending(id, "endpoints_saturated", 1000);
	ac_ts_hello(cli, "any", "");
	r = ac_ts_fetch_reply(cli, "any", 3000, true);
	waited = ac_ts_now_ms() - t0;
	cr_assert(ac_ts_has_task(r), "no fallback within %lld ms", waited);
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	cr_assert_geq(waited, 795, "fell back after %lld ms, before fallback_wait_ms", waited);
	expect_fallback(r, "task.routing_decision", "endpoints_saturated");
	ac_reply_free(r);
	ev = ac_tsub_wait_u64(sub, "scheduler.fallback", "task_id", id, 3000);
	cr_assert_not_null(ev, "no scheduler.fallback");
	cr_assert(ac_tevent_str(ev, "reason", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "endpoints_saturated");
	ac_tevent_free(ev);
}

/* ---- TTL ---- */

/* DESIGN §5.5: queued non-trivial tasks expire task_ttl_ms after enqueued_at_ms, to
 * dead_letter with ttl_expired; trivial ones never, unless they carry their own ttl_ms;
 * ttl_ms 0 never expires. */
Test(routing, queued_tasks_expire_after_their_ttl_but_trivial_ones_do_not, .timeout = 20)
{
	static const char *const args[] = { "--set", "task_ttl_ms=500", NULL };
	uint64_t triv, keep, std, cx, triv_own;
	int64_t enq = 0, upd = 0;
	char reason[64];
	ac_tevent *ev;
	ac_reply *r;

	boot(args);
	/* trivial and ttl_ms 0 first: their would-be deadlines come before the others' */
	triv = ac_ts_submit(cli, "\"description\":\"" TRIVIAL_TASK "\"");
	keep = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\",\"ttl_ms\":0");
	std = submit_std();
	cx = ac_ts_submit(cli, "\"description\":\"" COMPLEX_TASK "\"");
	triv_own = ac_ts_submit(cli, "\"description\":\"" TRIVIAL_TASK "\",\"ttl_ms\":300");
	cr_assert(ac_ts_wait_status(cli, std, "dead_letter", 3000), "the standard task did not expire");
	cr_assert(ac_ts_wait_status(cli, cx, "dead_letter", 3000), "the complex task did not expire");
	cr_assert(ac_ts_wait_status(cli, triv_own, "dead_letter", 3000),
	    "a trivial task with its own ttl_ms did not expire");
	r = ac_ts_get(cli, std);
	ac_ts_expect_str(r, "task.last_error", "ttl_expired");
	cr_assert(ac_reply_i64(r, "task.enqueued_at_ms", &enq) && ac_reply_i64(r, "task.updated_at_ms", &upd));
	cr_assert_geq(upd - enq, 495, "expired %lld ms after enqueued_at_ms (task_ttl_ms 500)",
	    (long long)(upd - enq));
	ac_reply_free(r);
	r = ac_ts_get(cli, triv_own);
	ac_ts_expect_str(r, "task.last_error", "ttl_expired");
	ac_reply_free(r);
	ev = ac_tsub_wait_u64(sub, "task.expired", "task_id", std, 3000);
	cr_assert_not_null(ev, "no task.expired for the standard task");
	cr_assert(ac_tevent_str(ev, "reason", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "ttl_expired");
	cr_assert(ac_tevent_str(ev, "status", reason, sizeof(reason)));
	cr_assert_str_eq(reason, "dead_letter");
	ac_tevent_free(ev);
	/* the expiry timers fire in deadline order: these would have gone first */
	r = ac_ts_get(cli, triv);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_reply_free(r);
	r = ac_ts_get(cli, keep);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_reply_free(r);
}

/* ---- the tier alert ---- */

/* DESIGN §5.5: alert.tier_down once endpoints are registered and none has been healthy
 * for tier_down_alert_ms (counted from the first registration); alert.tier_recovered on
 * the first healthy one. */
Test(routing, tier_down_alert_then_tier_recovered, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"tier_down_alert_ms=300", NULL };
	fake_ollama *fo;
	char ep[64], tier[32];
	long long before, after;
	int64_t since = 0, since2 = 0, ts = 0;
	uint64_t n = 0;
	ac_tevent *ev;

	boot(args);
	fo = add_fake(one_model, 1, ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	before = ac_ts_wall_ms();
	ac_ep_register(cli, fo);
	after = ac_ts_wall_ms();
	ev = ac_tsub_wait(sub, "alert.tier_down", NULL, NULL, 3000);
	cr_assert_not_null(ev, "no alert.tier_down within 3 s (tier_down_alert_ms 300)");
	cr_assert(ac_tevent_str(ev, "tier", tier, sizeof(tier)));
	cr_assert_str_eq(tier, "standard");
	cr_assert(ac_tevent_u64(ev, "endpoints", &n) && n == 1, "endpoints %llu", ULL(n));
	cr_assert(ac_tevent_u64(ev, "healthy", &n) && n == 0, "healthy %llu", ULL(n));
	cr_assert(ac_tevent_i64(ev, "down_since_ms", &since));
	cr_assert(since >= before - 5 && since <= after + 1000, "down_since_ms %lld, registered at %lld",
	    (long long)since, before);
	cr_assert(ac_tevent_i64(ev, "ts_ms", &ts));
	cr_log_info("alert.tier_down %lld ms after the condition began", (long long)(ts - since));
	cr_assert_geq(ts - since, 295, "alert.tier_down after %lld ms, before tier_down_alert_ms",
	    (long long)(ts - since));
	ac_tevent_free(ev);

	fake_ollama_set_mode(fo, FAKE_OK);
	ev = ac_tsub_wait(sub, "alert.tier_recovered", NULL, NULL, 3000);
	cr_assert_not_null(ev, "no alert.tier_recovered after the endpoint became healthy");
	cr_assert(ac_tevent_str(ev, "tier", tier, sizeof(tier)));
	cr_assert_str_eq(tier, "standard");
	cr_assert(ac_tevent_u64(ev, "healthy", &n) && n == 1, "healthy %llu", ULL(n));
	cr_assert(ac_tevent_u64(ev, "endpoints", &n) && n == 1);
	cr_assert(ac_tevent_i64(ev, "down_since_ms", &since2) && since2 == since);
	ac_tevent_free(ev);
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 1000));
}

/* ---- route.explain against the live registry ---- */

Test(routing, route_explain_ranks_the_live_endpoints_and_stores_nothing, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", NULL };
	static const char *const models[] = { "llama3.2:3b", DEFAULT_MODEL };
	static const char *const loaded[] = { DEFAULT_MODEL };
	fake_ollama *fo;
	char ep[64];
	double load = 0, f;
	long long deadline;
	bool b = true;
	ac_reply *r;

	boot(args);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
	cr_assert(ac_reply_ok(r), "route.explain: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "complexity.effective_tier", "standard");
	ac_ts_expect_str(r, "pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_null(ac_reply_get(r, "decision"));
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);

	fo = add_fake(models, 2, ep, sizeof(ep));
	fake_ollama_set_loaded(fo, loaded, NULL, 1);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"box\",\"ollama_url\":"
	                                "\"http://127.0.0.1:%u\",\"targets\":[\"sidecar\"]}",
	                    (unsigned)fake_ollama_port(fo)),
	    "hello");
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"box\",\"resources\":{"
	                                "\"cpu_percent\":25.0,\"ram_total_bytes\":34359738368,"
	                                "\"vram_total_bytes\":25769803776,\"vram_used_bytes\":6442450944}}"),
	    "heartbeat");
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 3000));
	deadline = ac_ts_now_ms() + 3000;
	for (;;) {
		r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\"}");
		cr_assert(ac_reply_ok(r), "route.explain: %s", ac_reply_message(r));
		if (ac_reply_f64(r, "candidates[0].factors.load", &load) && fabs(load - 0.75) < 1e-9) {
			break;
		}
		ac_reply_free(r);
		cr_assert_lt(ac_ts_now_ms(), deadline, "route.explain never reflected cpu 25 (load %g)", load);
		usleep(10000);
	}
	expect_ollama(r, "decision", ep, DEFAULT_MODEL);
	cr_assert_eq(ac_ts_u64(r, "decision.candidate_count"), 1);
	cr_assert_null(ac_reply_get(r, "pending_reason"));
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 1);
	ac_ts_expect_str(r, "candidates[0].endpoint", ep);
	/* DESIGN §5.3 factors: 32 GiB -> capacity 1.5; vram 6/24 used -> 0.95; model loaded -> warm */
	static const struct { const char *path; double want; } factors[] = {
		{ "candidates[0].factors.load", 0.75 }, { "candidates[0].factors.capacity", 1.5 },
		{ "candidates[0].factors.vram", 0.95 }, { "candidates[0].factors.warm", 1.15 },
		{ "candidates[0].factors.affinity", 1.0 }, { "candidates[0].factors.queue", 1.0 },
		{ "candidates[0].score", 0.75 * 1.5 * 0.95 * 1.15 },
	};
	for (size_t i = 0; i < sizeof(factors) / sizeof(factors[0]); i++) {
		cr_assert(ac_reply_f64(r, factors[i].path, &f), "missing %s", factors[i].path);
		cr_assert(fabs(f - factors[i].want) < 1e-6, "%s is %g, want %g", factors[i].path, f, factors[i].want);
	}
	ac_reply_free(r);

	/* the task's model wins (not loaded: warm 1.0); a model nobody has waits */
	r = ac_ts_call(cli,
	    "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\",\"model\":\"llama3.2:3b\"}");
	ac_ts_expect_str(r, "decision.selected_model", "llama3.2:3b");
	cr_assert(ac_reply_f64(r, "candidates[0].factors.warm", &f) && fabs(f - 1.0) < 1e-9, "warm %g", f);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" STD_TASK "\",\"model\":\"nope:1b\"}");
	ac_ts_expect_str(r, "pending_reason", "no_healthy_ollama_endpoints");
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);
	/* other tiers: no candidates */
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" TRIVIAL_TASK "\"}");
	ac_ts_expect_str(r, "decision.target_type", "sidecar");
	cr_assert(ac_reply_bool(r, "decision.fallback_used", &b) && !b);
	cr_assert_eq(ac_reply_get(r, "candidates")->via.array.size, 0);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"" COMPLEX_TASK "\"}");
	ac_ts_expect_str(r, "decision.target_type", "claude");
	ac_ts_expect_str(r, "decision.selected_endpoint", "claude_api");
	ac_reply_free(r);
	/* validated as task.submit */
	ac_ts_expect_err(
	    ac_ts_call(cli, "{\"op\":\"route.explain\",\"description\":\"x\",\"priority\":\"soon\"}"),
	    AC_EINVAL, "priority", "route.explain with a bad priority");
	/* nothing stored */
	r = ac_ts_call(cli, "{\"op\":\"task.list\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 0, "route.explain stored a task");
	ac_reply_free(r);
}

/* ---- model choice and agent targets ---- */

/* DESIGN §5.3: model = the task's model, else default_model when the endpoint has it,
 * else the endpoint's first model; only endpoints with the task's model are candidates. */
Test(routing, the_selected_model_is_the_tasks_else_the_default_else_the_first, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	static const char *const a_models[] = { "llama3.2:3b", DEFAULT_MODEL };
	static const char *const b_models[] = { "mistral:7b", "phi3:mini" };
	static const struct { const char *extra; int ep; const char *model; } cases[] = {
		{ "", 0, DEFAULT_MODEL },                         /* tie -> a (registered first), default */
		{ ",\"model\":\"mistral:7b\"", 1, "mistral:7b" },  /* only b has it */
		{ ",\"model\":\"llama3.2:3b\"", 0, "llama3.2:3b" },
	};
	fake_ollama *a, *b;
	char eps[2][64];
	uint64_t id, gen;
	ac_reply *r;

	boot(args);
	a = add_fake(a_models, 2, eps[0], sizeof(eps[0]));
	b = add_fake(b_models, 2, eps[1], sizeof(eps[1]));
	ac_ep_register(cli, a);
	ac_ep_register(cli, b);
	cr_assert(ac_ep_wait_status(cli, eps[0], "healthy", 3000));
	cr_assert(ac_ep_wait_status(cli, eps[1], "healthy", 3000));
	ac_ts_hello(cli, "w", ",\"targets\":[\"ollama\"]");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		id = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\"%s", cases[i].extra);
		r = ac_ts_fetch_reply(cli, "w", 2000, true);
		cr_assert(ac_ts_has_task(r), "no task for case %zu", i);
		cr_assert_eq(ac_ts_u64(r, "task.id"), id);
		expect_ollama(r, "task.routing_decision", eps[cases[i].ep], cases[i].model);
		gen = ac_ts_u64(r, "task.generation");
		ac_reply_free(r);
		ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete");
	}
	/* without a: b has no default model, so its first one */
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", eps[0]), "remove a");
	id = submit_std();
	r = ac_ts_fetch_reply(cli, "w", 2000, true);
	cr_assert(ac_ts_has_task(r), "no task after a was removed");
	cr_assert_eq(ac_ts_u64(r, "task.id"), id);
	expect_ollama(r, "task.routing_decision", eps[1], "mistral:7b");
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ""), "complete");
	/* a model no endpoint has: it waits */
	id = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\",\"model\":\"nope:1b\"");
	wait_pending(id, "no_healthy_ollama_endpoints", 2000);
	cr_assert_eq(ac_ts_fetch(cli, "w", 200, true, NULL), 0);
}

/* DESIGN §5.5, §12.2: an agent whose targets are ["ollama"] gets only tasks routed to
 * ollama; one with ["claude"] gets no standard task while an endpoint is healthy. */
Test(routing, an_agent_with_targets_ollama_gets_only_ollama_tasks, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	char ep[64];
	uint64_t cx, triv, std, gen, got;
	ac_reply *r;

	boot(args);
	healthy_fake(ep, sizeof(ep));
	ac_ts_hello(cli, "loc", ",\"targets\":[\"ollama\"]");
	ac_ts_hello(cli, "cloud", ",\"targets\":[\"claude\"]");
	cx = ac_ts_submit(cli, "\"description\":\"" COMPLEX_TASK "\"");
	triv = ac_ts_submit(cli, "\"description\":\"" TRIVIAL_TASK "\"");
	std = submit_std();
	/* older tasks of other targets are skipped */
	r = ac_ts_fetch_reply(cli, "loc", 2000, true);
	cr_assert(ac_ts_has_task(r), "the ollama agent got nothing");
	cr_assert_eq(ac_ts_u64(r, "task.id"), std, "the ollama agent got task %llu",
	    ULL(ac_ts_u64(r, "task.id")));
	expect_ollama(r, "task.routing_decision", ep, DEFAULT_MODEL);
	gen = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "loc", std, gen, ""), "complete");
	cr_assert_eq(ac_ts_fetch(cli, "loc", 300, true, NULL), 0, "the ollama agent got a non-ollama task");
	/* a standard task while the endpoint is healthy is no claude task */
	std = submit_std();
	got = ac_ts_fetch(cli, "cloud", 2000, true, NULL);
	cr_assert_eq(got, cx, "the claude agent got %llu, want the complex task %llu", ULL(got), ULL(cx));
	r = ac_ts_get(cli, std);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_reply_free(r);
	r = ac_ts_get(cli, triv);
	ac_ts_expect_str(r, "task.status", "queued");
	ac_reply_free(r);
}

/* DESIGN §5.5 agent choice: "For ollama, prefer the agent whose ollama_url host and port
 * equal the selected endpoint". Both agents wait (the one next to the worse endpoint
 * longer); the task goes to the better endpoint and to the agent next to it. */
Test(routing, the_agent_next_to_the_selected_endpoint_is_preferred, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=30000", NULL };
	char a_ep[64], b_ep[64], who[32] = "", ep[64] = "";
	double sa, sb;
	ac_client *a_c, *b_c;
	ac_ts_bg a_f, b_f;
	ac_reply *ra, *rb;
	uint64_t id;

	boot(args);
	two_endpoints(a_ep, b_ep, sizeof(a_ep), "[\"ollama\"]", &sa, &sb);
	a_c = ac_ts_client(&srv);
	b_c = ac_ts_client(&srv);
	/* each agent's connection is the one of its last hello or fetch */
	ac_ts_bg_start(&b_f, b_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"near-b\",\"wait_ms\":1500,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 2000));
	ac_ts_bg_start(&a_f, a_c,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"near-a\",\"wait_ms\":1500,\"accept\":true}");
	cr_assert(ac_ts_wait_held_fetches(cli, 2, 2000));
	id = submit_std();
	ra = ac_ts_bg_join(&a_f);
	rb = ac_ts_bg_join(&b_f);
	if (ac_ts_has_task(ra)) {
		snprintf(who, sizeof(who), "near-a");
		ac_reply_str(ra, "task.routing_decision.selected_endpoint", ep, sizeof(ep));
	} else if (ac_ts_has_task(rb)) {
		snprintf(who, sizeof(who), "near-b");
		ac_reply_str(rb, "task.routing_decision.selected_endpoint", ep, sizeof(ep));
	}
	ac_reply_free(ra);
	ac_reply_free(rb);
	ac_client_close(a_c);
	ac_client_close(b_c);
	cr_log_info("task %llu went to %s on %s (scores: a %.4f, b %.4f)", ULL(id), who, ep, sa, sb);
	cr_assert_str_eq(ep, a_ep, "the task went to %s (agent %s), not to the best endpoint %s", ep, who, a_ep);
	cr_assert_str_eq(who, "near-a", "the task went to %s, not to the agent next to %s", who, a_ep);
}
