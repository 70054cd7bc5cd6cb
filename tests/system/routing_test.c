/* SPDX-License-Identifier: MIT
 * System tests of routing against live endpoints (DESIGN §5.3-5.5, topics scheduler.*,
 * alert.*): placement on a healthy fake Ollama, the outage drill (wait, fallback with its
 * badge and event, recovery), recovery before the timer, bursts spread by score and by
 * endpoint_slots, saturation, TTL expiry, the tier alert, live route.explain, model
 * choice and agent targets.
 */
#include "routing_fixture.h"

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

/* pending_reason says why a task waits now: with no agent to take it, it clears while
 * the task stays queued once its endpoint is healthy again... */
Test(routing, a_pending_reason_clears_when_the_endpoint_recovers, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=200", "--set",
		"fallback_wait_ms=60000", NULL };
	fake_ollama *fo;
	char ep[64];
	uint64_t id;

	boot(args);
	fo = add_fake(one_model, 1, ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	ac_ep_register(cli, fo);
	cr_assert(ac_ep_wait_status(cli, ep, "unhealthy", 3000));
	id = submit_std();
	wait_pending(id, "no_healthy_ollama_endpoints", 1000);
	fake_ollama_set_mode(fo, FAKE_OK);
	wait_pending(id, "", 3000); /* and still queued: no agent is there to take it */
}

/* ... or once it fell back one tier (its reason was its own tier's). While it waits for
 * an agent of the tier above, its history says so; the entry is stored with the
 * assignment and survives a restart. */
Test(routing, a_pending_reason_clears_when_the_task_falls_back, .timeout = 30)
{
	/* long enough to see the reason before it clears, on a slow (sanitized) server */
	static const char *const args[] = { "--set", "fallback_wait_ms=1000", NULL };
	const char *detail = "standard -> complex: no_healthy_ollama_endpoints";
	uint64_t id;
	ac_tevent *ev;
	ac_reply *r;

	boot(args);
	id = submit_std();
	wait_pending(id, "no_healthy_ollama_endpoints", 1000);
	ev = ac_tsub_wait_u64(sub, "scheduler.fallback", "task_id", id, 5000);
	cr_assert_not_null(ev, "no scheduler.fallback within 5 s (fallback_wait_ms 1000)");
	ac_tevent_free(ev);
	wait_pending(id, "", 3000);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "fallback", detail), "no history entry \"fallback\" (%s)", detail);
	ac_reply_free(r);
	ac_ts_hello(cli, "c1", ",\"targets\":[\"claude\"]");
	cr_assert_eq(ac_ts_fetch(cli, "c1", 3000, true, NULL), id);
	ac_client_close(cli);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	cr_assert(ac_ts_restart(&srv, args));
	cli = ac_ts_client(&srv);
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "fallback", detail), "the fallback entry was not stored");
	cr_assert(ac_ts_history_has(r, "assigned", NULL));
	ac_reply_free(r);
}

/* A task that falls back while an agent of the tier above already waits goes to it at
 * once, and its history still says it fell back (the note reaches the queue before the
 * assignment does). */
Test(routing, a_fallback_placed_at_once_is_in_the_history, .timeout = 20)
{
	static const char *const args[] = { "--set", "fallback_wait_ms=200", NULL };
	uint64_t id;
	ac_reply *r;

	boot(args);
	ac_ts_hello(cli, "c1", ",\"targets\":[\"claude\"]");
	id = submit_std();
	cr_assert_eq(ac_ts_fetch(cli, "c1", 5000, true, NULL), id, "the fallen-back task was not delivered");
	r = ac_ts_get(cli, id);
	cr_assert(ac_ts_history_has(r, "fallback", "standard -> complex: no_healthy_ollama_endpoints"),
	    "no fallback entry for a task placed at once");
	cr_assert(ac_ts_history_has(r, "assigned", NULL));
	ac_reply_free(r);
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
	expect_status(triv, "queued");
	expect_status(keep, "queued");
}

/* A delayed task's TTL counts from when it may start: a delay longer than the TTL
 * must not dead-letter it before any agent could see it. */
Test(routing, a_delayed_task_outlives_a_ttl_shorter_than_its_delay, .timeout = 20)
{
	static const char *const args[] = { "--set", "task_ttl_ms=400", NULL };
	int64_t nb = 0, upd = 0;
	uint64_t delayed;
	ac_reply *r;

	boot(args);
	delayed = ac_ts_submit(cli, "\"description\":\"" STD_TASK "\",\"delay_ms\":800");
	usleep(600 * 1000); /* past the TTL counted from the enqueue, before not_before */
	expect_status(delayed, "queued");
	cr_assert(ac_ts_wait_status(cli, delayed, "dead_letter", 3000),
	    "the delayed task never expired once it could start");
	r = ac_ts_get(cli, delayed);
	ac_ts_expect_str(r, "task.last_error", "ttl_expired");
	cr_assert(ac_reply_i64(r, "task.not_before_ms", &nb) && ac_reply_i64(r, "task.updated_at_ms", &upd));
	cr_assert_geq(upd - nb, 395, "expired %lld ms after not_before_ms (task_ttl_ms 400)",
	    (long long)(upd - nb));
	ac_reply_free(r);
}
