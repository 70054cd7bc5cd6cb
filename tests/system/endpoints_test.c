/* SPDX-License-Identifier: MIT
 * System tests of the endpoint registry (DESIGN §3 endpoint, §6, topics endpoint.*):
 * health from probes of a fake Ollama (unknown -> healthy, two failures -> unhealthy,
 * recovery), a hanging host that must not stall the registry, register/list/remove,
 * persistence across a restart, and endpoints announced by agents with their resources.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "endpoint_util.h"
#include "ep_server_fixture.h"

#define ULL(x) ((unsigned long long)(x))
#define GIB 1073741824ULL

static const char *const models2[] = { "qwen2.5-coder:7b", "llama3.2:3b" };
/* Probes every 200 ms: two failures take about 400 ms. */
static const char *const fast[] = { "--set", "health_interval_ms=200", NULL };

TestSuite(endpoints, .fini = teardown);

/* A fake Ollama listing models2 (freed by teardown); its id into id. */
static fake_ollama *add_fake(char *id, size_t cap)
{
	for (int i = 0; i < MAX_FAKES; i++) {
		if (fakes[i] == NULL) {
			return fakes[i] = ac_ep_fake(models2, 2, id, cap);
		}
	}
	cr_assert_fail("too many fakes");
	return NULL;
}

/* Waits for an endpoint.* event about id; asserts it came and has that status. */
static ac_tevent *expect_event(const char *topic, const char *id, const char *status, int timeout_ms)
{
	ac_tevent *ev = ac_tsub_wait(sub, topic, "endpoint_id", id, timeout_ms);
	char have[32] = "";

	cr_assert_not_null(ev, "no %s for %s within %d ms", topic, id, timeout_ms);
	if (status != NULL) {
		cr_assert(ac_tevent_str(ev, "status", have, sizeof(have)), "%s without status", topic);
		cr_assert_str_eq(have, status, "%s has status %s", topic, have);
	}
	return ev;
}

/* One endpoint.list read of id's status and consecutive_failures. */
static void snapshot(const char *id, char *status, size_t cap, uint64_t *failures)
{
	ac_reply *r = ac_ep_list(cli);
	int i = ac_ep_index(r, id);
	char path[64];

	cr_assert_geq(i, 0, "%s is not listed", id);
	snprintf(path, sizeof(path), "endpoints[%d].status", i);
	cr_assert(ac_reply_str(r, path, status, cap));
	snprintf(path, sizeof(path), "endpoints[%d].consecutive_failures", i);
	cr_assert(ac_reply_u64(r, path, failures));
	ac_reply_free(r);
}

/* Polls until id has at least one failed probe; returns the status seen then, when
 * exactly one had failed ("" when the poll first saw two or more). */
static void status_after_one_failure(const char *id, char *status, size_t cap)
{
	long long deadline = ac_ts_now_ms() + 3000;
	uint64_t failures = 0;

	for (;;) {
		snapshot(id, status, cap, &failures);
		if (failures >= 1) {
			break;
		}
		cr_assert_lt(ac_ts_now_ms(), deadline, "no failed probe of %s within 3 s", id);
		usleep(5000);
	}
	if (failures != 1) {
		cr_log_warn("the poll saw %llu failures at once; one-failure state not observed", ULL(failures));
		status[0] = '\0';
	}
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- health ---- */

/* DESIGN §6: a new endpoint is probed at once (the interval here is 5 s, so a health
 * change well before that came from the immediate probe); first success -> healthy,
 * with models from /api/tags and loaded models from /api/ps. */
Test(endpoints, a_new_endpoint_is_unknown_until_its_first_probe_makes_it_healthy, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=5000", NULL };
	static const char *const loaded[] = { "qwen2.5-coder:7b" };
	static const uint64_t vram[] = { 4 * GIB };
	fake_ollama *fo;
	char ep[64], name[64];
	long long before, after, t0, took;
	int64_t at;
	ac_tevent *ev;
	ac_reply *r;

	boot(args);
	fo = add_fake(ep, sizeof(ep));
	fake_ollama_set_loaded(fo, loaded, vram, 1);
	before = ac_ts_wall_ms();
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u}",
	    (unsigned)fake_ollama_port(fo));
	after = ac_ts_wall_ms();
	t0 = ac_ts_now_ms();
	cr_assert(ac_reply_ok(r), "endpoint.register: %s", ac_reply_message(r));
	ac_ts_expect_str(r, "endpoint.id", ep);
	ac_ts_expect_str(r, "endpoint.host", "127.0.0.1");
	cr_assert_eq(ac_ts_u64(r, "endpoint.port"), fake_ollama_port(fo));
	ac_ts_expect_str(r, "endpoint.name", ep);
	ac_ts_expect_str(r, "endpoint.source", "manual");
	ac_ts_expect_str(r, "endpoint.status", "unknown");
	cr_assert_eq(ac_reply_get(r, "endpoint.models")->via.array.size, 0);
	cr_assert_eq(ac_ts_u64(r, "endpoint.consecutive_failures"), 0);
	cr_assert(ac_reply_i64(r, "endpoint.registered_at_ms", &at));
	cr_assert(at >= before && at <= after, "registered_at_ms %lld not in [%lld, %lld]", (long long)at,
	    before, after);
	ac_reply_free(r);

	ev = expect_event("endpoint.registered", ep, "unknown", 3000);
	ac_tevent_free(ev);
	ev = expect_event("endpoint.healthy", ep, "healthy", 3000);
	took = ac_ts_now_ms() - t0;
	cr_log_info("healthy %lld ms after endpoint.register", took);
	cr_assert_lt(took, 2500, "healthy only after %lld ms: the first probe waited for the interval", took);
	cr_assert(ac_tevent_is_nil(ev, "error"), "endpoint.healthy carries an error");
	ac_tevent_str(ev, "models[0]", name, sizeof(name));
	cr_assert_str_eq(name, "qwen2.5-coder:7b");
	ac_tevent_str(ev, "models[1]", name, sizeof(name));
	cr_assert_str_eq(name, "llama3.2:3b");
	ac_tevent_free(ev);

	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 1);
	ac_ts_expect_str(r, "endpoints[0].status", "healthy");
	ac_ts_expect_str(r, "endpoints[0].models[0]", "qwen2.5-coder:7b");
	ac_ts_expect_str(r, "endpoints[0].models[1]", "llama3.2:3b");
	ac_ts_expect_str(r, "endpoints[0].loaded_models[0]", "qwen2.5-coder:7b");
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].loaded_vram_bytes"), 4 * GIB);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].consecutive_failures"), 0);
	cr_assert_not_null(ac_reply_get(r, "endpoints[0].last_checked_ms"), "no last_checked_ms after a probe");
	cr_assert_null(ac_reply_get(r, "endpoints[0].last_error"), "a healthy endpoint shows last_error");
	ac_reply_free(r);
	cr_assert_geq(fake_ollama_hits(fo, "/api/tags"), 1);
	cr_assert_geq(fake_ollama_hits(fo, "/api/ps"), 1);

	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "stats: %s", ac_reply_message(r));
	cr_assert_eq(ac_ts_u64(r, "endpoints.by_status.healthy"), 1);
	cr_assert_eq(ac_ts_u64(r, "endpoints.by_status.unknown"), 0);
	cr_assert_eq(ac_ts_u64(r, "endpoints.by_status.unhealthy"), 0);
	ac_reply_free(r);
}

/* DESIGN §6: 2 consecutive failures -> unhealthy; one is not enough. */
Test(endpoints, http_500s_make_an_endpoint_unhealthy_after_two_failures, .timeout = 20)
{
	fake_ollama *fo;
	char ep[64], status[32], error[200];
	uint64_t failures;
	ac_tevent *ev;

	boot(fast);
	fo = add_fake(ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	ac_ep_register(cli, fo);
	status_after_one_failure(ep, status, sizeof(status));
	if (status[0] != '\0') {
		cr_assert_str_eq(status, "unknown", "one failed probe made a new endpoint %s", status);
	}
	ev = expect_event("endpoint.unhealthy", ep, "unhealthy", 3000);
	cr_assert(ac_tevent_str(ev, "error", error, sizeof(error)) && error[0] != '\0',
	    "endpoint.unhealthy without an error");
	cr_log_info("endpoint.unhealthy error: %s", error);
	ac_tevent_free(ev);
	snapshot(ep, status, sizeof(status), &failures);
	cr_assert_str_eq(status, "unhealthy");
	cr_assert_geq(failures, 2, "unhealthy after %llu failures", ULL(failures));
	cr_assert(ac_ep_str(cli, ep, "last_error", error, sizeof(error)) && error[0] != '\0',
	    "an unhealthy endpoint shows no last_error");
	cr_assert_geq(fake_ollama_hits(fo, "/api/tags"), 2);
}

Test(endpoints, one_failed_probe_keeps_a_healthy_endpoint_healthy, .timeout = 20)
{
	fake_ollama *fo;
	char ep[64], status[32], name[64];
	uint64_t failures;
	ac_tevent *ev;

	boot(fast);
	fo = add_fake(ep, sizeof(ep));
	ac_ep_register(cli, fo);
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 3000));
	fake_ollama_set_mode(fo, FAKE_500);
	status_after_one_failure(ep, status, sizeof(status));
	if (status[0] != '\0') {
		cr_assert_str_eq(status, "healthy", "one failed probe made a healthy endpoint %s", status);
	}
	ev = expect_event("endpoint.unhealthy", ep, "unhealthy", 3000);
	/* the last known models stay on the record and in the event */
	cr_assert(ac_tevent_str(ev, "models[0]", name, sizeof(name)));
	cr_assert_str_eq(name, "qwen2.5-coder:7b");
	ac_tevent_free(ev);
	snapshot(ep, status, sizeof(status), &failures);
	cr_assert_str_eq(status, "unhealthy");
	cr_assert_geq(failures, 2);
}

/* unhealthy -> healthy on the next good probe, published as endpoint.healthy; the same
 * for a host that was down (connection refused) and came back on the same port. */
Test(endpoints, a_recovered_endpoint_is_healthy_again_and_published, .timeout = 20)
{
	fake_ollama *fo;
	char ep[64], error[200] = "";
	long long t0;
	uint64_t failures = 1;
	ac_tevent *ev;

	boot(fast);
	fo = add_fake(ep, sizeof(ep));
	fake_ollama_set_mode(fo, FAKE_500);
	ac_ep_register(cli, fo);
	ac_tevent_free(expect_event("endpoint.unhealthy", ep, "unhealthy", 3000));

	fake_ollama_set_mode(fo, FAKE_OK);
	t0 = ac_ts_now_ms();
	ev = expect_event("endpoint.healthy", ep, "healthy", 3000);
	cr_log_info("healthy again %lld ms after the fake answered again", ac_ts_now_ms() - t0);
	cr_assert(ac_tevent_is_nil(ev, "error"), "endpoint.healthy carries an error");
	cr_assert_not_null(ac_tevent_get(ev, "models[1]"), "endpoint.healthy without the models");
	ac_tevent_free(ev);
	cr_assert(ac_ep_u64(cli, ep, "consecutive_failures", &failures));
	cr_assert_eq(failures, 0);
	cr_assert_not(ac_ep_str(cli, ep, "last_error", error, sizeof(error)),
	    "last_error \"%s\" kept after a success", error);

	/* the host goes away altogether, then comes back */
	fake_ollama_stop(fo);
	ev = expect_event("endpoint.unhealthy", ep, "unhealthy", 3000);
	cr_assert(ac_tevent_str(ev, "error", error, sizeof(error)) && error[0] != '\0');
	cr_log_info("stopped host: %s", error);
	ac_tevent_free(ev);
	cr_assert(fake_ollama_restart(fo), "the fake could not listen on its port again");
	ac_tevent_free(expect_event("endpoint.healthy", ep, "healthy", 3000));
	cr_assert(ac_ep_wait_status(cli, ep, "healthy", 1000));
}

/* A successful probe that finds another model list publishes endpoint.models. */
Test(endpoints, a_changed_model_list_is_published, .timeout = 20)
{
	static const char *const next[] = { "mistral:7b" };
	fake_ollama *fo;
	char ep[64], name[64];
	ac_tevent *ev;

	boot(fast);
	fo = add_fake(ep, sizeof(ep));
	ac_ep_register(cli, fo);
	ac_tevent_free(expect_event("endpoint.healthy", ep, "healthy", 3000));
	fake_ollama_set_models(fo, next, 1);
	for (;;) { /* the first probe may publish endpoint.models too: find the new list */
		ev = expect_event("endpoint.models", ep, "healthy", 3000);
		if (ac_tevent_str(ev, "models[0]", name, sizeof(name)) && strcmp(name, "mistral:7b") == 0) {
			break;
		}
		ac_tevent_free(ev);
	}
	cr_assert_null(ac_tevent_get(ev, "models[1]"), "endpoint.models lists a removed model");
	ac_tevent_free(ev);
	cr_assert(ac_ep_str(cli, ep, "models[0]", name, sizeof(name)));
	cr_assert_str_eq(name, "mistral:7b");
}

/* DESIGN §6: probes run concurrently and never block the registry. A host that takes
 * the connection and never answers (its probe waits for the 5 s request timeout) must
 * not slow endpoint.list down nor delay another host's probes. */
Test(endpoints, a_hanging_host_stalls_neither_the_api_nor_other_probes, .timeout = 30)
{
	fake_ollama *hang, *good;
	char hang_ep[64], good_ep[64], status[32];
	long long deadline, worst_us = 0, total_us = 0, t0;
	int64_t last_checked = 0, seen;
	int calls = 0, advances = 0;

	boot(fast);
	hang = add_fake(hang_ep, sizeof(hang_ep));
	good = add_fake(good_ep, sizeof(good_ep));
	fake_ollama_set_mode(hang, FAKE_HANG);
	ac_ep_register(cli, hang);
	ac_ep_register(cli, good);
	cr_assert(ac_ep_wait_status(cli, good_ep, "healthy", 3000));
	deadline = ac_ts_now_ms() + 3000;
	while (fake_ollama_hits(hang, "/api/tags") == 0) { /* a probe now hangs on it */
		cr_assert_lt(ac_ts_now_ms(), deadline, "the hanging host was never probed");
		usleep(10000);
	}
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"ping\"}"), "ping");

	/* 1.5 s of endpoint.list calls: each fast; the other host probed every ~200 ms */
	deadline = ac_ts_now_ms() + 1500;
	while (ac_ts_now_ms() < deadline) {
		long long t = now_us(), dt;
		ac_reply *r = ac_ep_list(cli);
		char path[64];
		int gi = ac_ep_index(r, good_ep), hi = ac_ep_index(r, hang_ep);
		dt = now_us() - t;
		worst_us = dt > worst_us ? dt : worst_us;
		total_us += dt;
		calls++;
		cr_assert(gi >= 0 && hi >= 0);
		snprintf(path, sizeof(path), "endpoints[%d].last_checked_ms", gi);
		if (ac_reply_i64(r, path, &seen) && seen > last_checked) {
			advances += last_checked != 0;
			last_checked = seen;
		}
		snprintf(path, sizeof(path), "endpoints[%d].status", hi);
		cr_assert(ac_reply_str(r, path, status, sizeof(status)));
		cr_assert_str_eq(status, "unknown", "the hanging host is %s while its probe hangs", status);
		ac_reply_free(r);
		usleep(20000);
	}
	printf("endpoints: endpoint.list while a probe hangs: %d calls, mean %.2f ms, worst %.2f ms; "
	       "the other host was probed %d more times in 1.5 s\n",
	    calls, total_us / 1000.0 / calls, worst_us / 1000.0, advances);
	fflush(stdout);
	cr_assert_lt(worst_us, 100000, "endpoint.list took %.2f ms while a probe hangs", worst_us / 1000.0);
	cr_assert_geq(advances, 4, "the healthy host was probed only %d times in 1.5 s (interval 200 ms)",
	    advances);

	/* and a failure of the other host is noticed on schedule */
	fake_ollama_set_mode(good, FAKE_500);
	t0 = ac_ts_now_ms();
	cr_assert(ac_ep_wait_status(cli, good_ep, "unhealthy", 2000),
	    "the other host did not turn unhealthy on schedule while one probe hangs");
	cr_log_info("other host unhealthy %lld ms after it began failing", ac_ts_now_ms() - t0);
}

/* ---- register, list, remove ---- */

static void mint_client(char *out, size_t cap)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"token.create\",\"role\":\"client\"}");

	cr_assert(ac_reply_ok(r), "token.create: %s", ac_reply_message(r));
	cr_assert(ac_reply_str(r, "token", out, cap));
	ac_reply_free(r);
}

Test(endpoints, register_list_and_remove, .timeout = 20)
{
	fake_ollama *a, *b;
	char a_ep[64], b_ep[64], id[64], tok[128];
	ac_client *client;
	ac_tevent *ev;
	ac_reply *r;

	boot(fast);
	a = add_fake(a_ep, sizeof(a_ep));
	b = add_fake(b_ep, sizeof(b_ep));
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u,"
	                    "\"name\":\"gpu box\"}",
	    (unsigned)fake_ollama_port(a));
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "endpoint.name", "gpu box");
	ac_reply_free(r);
	ac_ep_register(cli, b);

	/* registration order, seq ascending, name defaults to the id */
	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 2);
	ac_ts_expect_str(r, "endpoints[0].id", a_ep);
	ac_ts_expect_str(r, "endpoints[1].id", b_ep);
	ac_ts_expect_str(r, "endpoints[0].name", "gpu box");
	ac_ts_expect_str(r, "endpoints[1].name", b_ep);
	cr_assert_lt(ac_ts_u64(r, "endpoints[0].seq"), ac_ts_u64(r, "endpoints[1].seq"));
	ac_reply_free(r);

	/* registering a known id keeps its health and models and updates its name */
	cr_assert(ac_ep_wait_status(cli, a_ep, "healthy", 3000));
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u,"
	                    "\"name\":\"renamed\"}",
	    (unsigned)fake_ollama_port(a));
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "endpoint.status", "healthy");
	ac_ts_expect_str(r, "endpoint.models[0]", "qwen2.5-coder:7b");
	ac_ts_expect_str(r, "endpoint.name", "renamed");
	ac_reply_free(r);
	cr_assert(ac_ep_str(cli, a_ep, "name", id, sizeof(id)));
	cr_assert_str_eq(id, "renamed");

	/* the host is lower-cased in the id; the port defaults to 11434 */
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"LocalHost\",\"port\":%u}",
	    (unsigned)fake_ollama_port(b));
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	snprintf(id, sizeof(id), "localhost:%u", (unsigned)fake_ollama_port(b));
	ac_ts_expect_str(r, "endpoint.id", id);
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", id), "remove localhost");
	r = ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_ts_expect_str(r, "endpoint.id", "127.0.0.1:11434");
	cr_assert_eq(ac_ts_u64(r, "endpoint.port"), 11434);
	ac_reply_free(r);
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"127.0.0.1:11434\"}"),
	    "remove the default port");

	/* remove */
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", b_ep), "remove b");
	ev = ac_tsub_wait(sub, "endpoint.removed", "endpoint_id", b_ep, 3000);
	cr_assert_not_null(ev, "no endpoint.removed for %s", b_ep);
	ac_tevent_free(ev);
	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 1);
	ac_ts_expect_str(r, "endpoints[0].id", a_ep);
	ac_reply_free(r);
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", b_ep), AC_ENOTFOUND,
	    "id", "remove twice");
	/* endpoint.registered once per new id: the re-registration published nothing (the
	 * registry publishes in order, so it would have come before endpoint.removed) */
	ev = ac_tsub_wait(sub, "endpoint.registered", "endpoint_id", a_ep, 0);
	cr_assert_not_null(ev, "no endpoint.registered for %s", a_ep);
	ac_tevent_free(ev);
	ev = ac_tsub_wait(sub, "endpoint.registered", "endpoint_id", a_ep, 0);
	cr_assert_null(ev, "a second endpoint.registered for a known id");

	/* validation */
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.register\"}"), AC_EINVAL, "host", "no host");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"bad host\"}"), AC_EINVAL,
	    "host", "host with a space");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"h\",\"port\":0}"),
	    AC_EINVAL, "port", "port 0");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"h\",\"port\":65536}"),
	    AC_EINVAL, "port", "port 65536");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"endpoint.remove\"}"), AC_EINVAL, "id", "remove without id");

	/* register and remove are admin ops; list is open to clients */
	mint_client(tok, sizeof(tok));
	client = ac_ts_client_with(&srv, tok);
	ac_ts_expect_err(ac_ts_call(client, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\","
	                                    "\"port\":1}"),
	    AC_EPERM, NULL, "client register");
	ac_ts_expect_err(ac_ts_call(client, "{\"op\":\"endpoint.remove\",\"id\":\"%s\"}", a_ep), AC_EPERM,
	    NULL, "client remove");
	r = ac_ts_call(client, "{\"op\":\"endpoint.list\"}");
	cr_assert(ac_reply_ok(r), "client list: %s", ac_reply_message(r));
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 1);
	ac_reply_free(r);
	ac_client_close(client);
}

/* ---- persistence ---- */

/* "endpoints[i].field" (one static buffer: use before the next call). */
static const char *field_of(int i, const char *field)
{
	static char path[96];

	snprintf(path, sizeof(path), "endpoints[%d].%s", i, field);
	return path;
}

/* Reconnects the client and the subscriber to the restarted server (new ports). */
static void restart(const char *const *args)
{
	ac_tsub_close(sub);
	sub = NULL;
	ac_client_close(cli);
	cli = NULL;
	cr_assert(ac_ts_restart(&srv, args));
	cli = ac_ts_client(&srv);
	cr_assert_not_null(sub = ac_tsub_open(srv.pub, NULL));
}

/* DESIGN §6, §7: endpoints persist; after a restart they start unknown and are probed
 * at once. The interval is 5 s, so a probe within 2 s of the start is the start's own. */
Test(endpoints, endpoints_survive_a_restart_and_are_probed_again_at_once, .timeout = 40)
{
	static const char *const args[] = { "--set", "health_interval_ms=5000", NULL };
	fake_ollama *m, *a;
	char m_ep[64], a_ep[64], url[96], have[64];
	int64_t m_at = 0, a_at = 0, at = 0;
	int mi, ai;
	unsigned m_hits, a_hits;
	long long deadline;
	ac_reply *r;

	boot(args);
	m = add_fake(m_ep, sizeof(m_ep));
	a = add_fake(a_ep, sizeof(a_ep));
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"endpoint.register\",\"host\":\"127.0.0.1\",\"port\":%u,"
	                                "\"name\":\"gpu box\"}",
	                    (unsigned)fake_ollama_port(m)),
	    "register");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)fake_ollama_port(a));
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"box-1\",\"ollama_url\":\"%s\"}",
	                    url),
	    "hello with ollama_url");
	cr_assert(ac_ep_wait_status(cli, m_ep, "healthy", 3000));
	cr_assert(ac_ep_wait_status(cli, a_ep, "healthy", 3000));
	cr_assert(ac_ep_i64(cli, m_ep, "registered_at_ms", &m_at));
	cr_assert(ac_ep_i64(cli, a_ep, "registered_at_ms", &a_at));

	/* restart with both hosts hanging: the probes cannot finish, so the state seen is the
	 * state loaded from the store */
	fake_ollama_set_mode(m, FAKE_HANG);
	fake_ollama_set_mode(a, FAKE_HANG);
	m_hits = fake_ollama_hits(m, "/api/tags");
	a_hits = fake_ollama_hits(a, "/api/tags");
	cr_assert_eq(ac_ts_stop(&srv), 0);
	restart(args);
	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 2, "endpoints lost in the restart");
	cr_assert((mi = ac_ep_index(r, m_ep)) >= 0 && (ai = ac_ep_index(r, a_ep)) >= 0);
	ac_ts_expect_str(r, field_of(mi, "name"), "gpu box");
	ac_ts_expect_str(r, field_of(mi, "source"), "manual");
	ac_ts_expect_str(r, field_of(mi, "status"), "unknown");
	cr_assert(ac_reply_i64(r, field_of(mi, "registered_at_ms"), &at) && at == m_at);
	ac_ts_expect_str(r, field_of(ai, "source"), "agent");
	ac_ts_expect_str(r, field_of(ai, "status"), "unknown");
	cr_assert(ac_reply_i64(r, field_of(ai, "registered_at_ms"), &at) && at == a_at);
	ac_reply_free(r);
	deadline = ac_ts_now_ms() + 2000;
	while (fake_ollama_hits(m, "/api/tags") == m_hits || fake_ollama_hits(a, "/api/tags") == a_hits) {
		cr_assert_lt(ac_ts_now_ms(), deadline, "the stored endpoints were not probed at start");
		usleep(10000);
	}
	cr_assert(ac_ep_str(cli, m_ep, "status", have, sizeof(have)));
	cr_assert_str_eq(have, "unknown", "status %s while its probe hangs", have);

	/* restart with the hosts answering: healthy again within the first probe */
	fake_ollama_set_mode(m, FAKE_OK);
	fake_ollama_set_mode(a, FAKE_OK);
	cr_assert_eq(ac_ts_stop(&srv), 0, "agentcomd did not stop cleanly with probes hanging");
	restart(args);
	cr_assert(ac_ep_wait_status(cli, m_ep, "healthy", 2500), "not probed at once after the restart");
	cr_assert(ac_ep_wait_status(cli, a_ep, "healthy", 2500), "not probed at once after the restart");
	cr_assert(ac_ep_str(cli, m_ep, "models[0]", have, sizeof(have)));
	cr_assert_str_eq(have, "qwen2.5-coder:7b");
}

/* ops.md endpoint.list: endpoints come "in registration order", and seq is that order
 * (score ties go to the lower seq). Registers first the endpoint whose id sorts last, so
 * a list that comes back ordered by id after the restart shows. */
Test(endpoints, registration_order_survives_a_restart, .timeout = 20)
{
	static const char *const args[] = { "--set", "health_interval_ms=5000", NULL };
	fake_ollama *x, *y, *first, *second;
	char x_ep[64], y_ep[64];
	const char *first_ep, *second_ep;
	uint64_t seq0, seq1;
	int64_t first_at = 0;
	uint32_t n;
	ac_reply *r;
	int at;

	boot(args);
	x = add_fake(x_ep, sizeof(x_ep));
	y = add_fake(y_ep, sizeof(y_ep));
	first = strcmp(x_ep, y_ep) > 0 ? x : y;
	second = first == x ? y : x;
	first_ep = first == x ? x_ep : y_ep;
	second_ep = first == x ? y_ep : x_ep;
	ac_ep_register(cli, first);
	/* registered_at_ms has ms resolution: let the clock move so the two differ */
	cr_assert(ac_ep_i64(cli, first_ep, "registered_at_ms", &first_at));
	while (ac_ts_wall_ms() <= first_at) {
		usleep(200);
	}
	ac_ep_register(cli, second);
	r = ac_ep_list(cli);
	ac_ts_expect_str(r, "endpoints[0].id", first_ep);
	ac_ts_expect_str(r, "endpoints[1].id", second_ep);
	cr_assert_lt(ac_ts_u64(r, "endpoints[0].seq"), ac_ts_u64(r, "endpoints[1].seq"));
	ac_reply_free(r);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	restart(args);
	r = ac_ep_list(cli);
	n = ac_reply_get(r, "endpoints")->via.array.size;
	at = ac_ep_index(r, first_ep);
	seq0 = ac_ts_u64(r, "endpoints[0].seq");
	seq1 = ac_ts_u64(r, "endpoints[1].seq");
	ac_reply_free(r);
	cr_assert_eq(n, 2, "endpoints lost in the restart");
	cr_assert_eq(at, 0, "after a restart endpoint.list starts with %s, registered second (first: %s)",
	    at == 1 ? second_ep : "?", first_ep);
	cr_assert_lt(seq0, seq1);
}

/* ---- endpoints announced by agents ---- */

/* DESIGN §6, ops agent.hello/heartbeat: an agent's ollama_url registers that endpoint
 * (source agent; localhost becomes the agent's address as the server sees it), and its
 * heartbeat resources are stored on it. */
Test(endpoints, an_agent_announced_endpoint_carries_the_agents_resources, .timeout = 20)
{
	fake_ollama *fo;
	char ep[64], url[96];
	long long before, after;
	double cpu = 0;
	int64_t at = 0;
	ac_tevent *ev;
	ac_reply *r;

	boot(fast);
	fo = add_fake(ep, sizeof(ep));
	snprintf(url, sizeof(url), "http://localhost:%u", (unsigned)fake_ollama_port(fo));
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"box-1\",\"ollama_url\":\"%s\"}",
	                    url),
	    "hello with ollama_url");
	ev = expect_event("endpoint.registered", ep, "unknown", 3000);
	ac_tevent_free(ev);
	ac_tevent_free(expect_event("endpoint.healthy", ep, "healthy", 3000));
	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 1);
	ac_ts_expect_str(r, "endpoints[0].id", ep);
	ac_ts_expect_str(r, "endpoints[0].host", "127.0.0.1");
	ac_ts_expect_str(r, "endpoints[0].source", "agent");
	ac_ts_expect_str(r, "endpoints[0].status", "healthy");
	cr_assert_null(ac_reply_get(r, "endpoints[0].resources"), "resources before any report");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"agent.list\"}");
	ac_ts_expect_str(r, "agents[0].ollama_url", url);
	ac_reply_free(r);

	before = ac_ts_wall_ms();
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"box-1\",\"resources\":{"
	                                "\"cpu_percent\":37.5,\"ram_total_bytes\":34359738368,"
	                                "\"ram_used_bytes\":8589934592,\"vram_total_bytes\":25769803776,"
	                                "\"vram_used_bytes\":6442450944}}"),
	    "heartbeat");
	after = ac_ts_wall_ms();
	r = ac_ep_list(cli);
	cr_assert(ac_reply_f64(r, "endpoints[0].resources.cpu_percent", &cpu), "no resources.cpu_percent");
	cr_assert_float_eq(cpu, 37.5, 1e-9);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.ram_total_bytes"), 32 * GIB);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.ram_used_bytes"), 8 * GIB);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.vram_total_bytes"), 24 * GIB);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.vram_used_bytes"), 6 * GIB);
	cr_assert(ac_reply_i64(r, "endpoints[0].resources.reported_at_ms", &at));
	cr_assert(at >= before && at <= after, "reported_at_ms %lld not in [%lld, %lld]", (long long)at,
	    before, after);
	ac_reply_free(r);

	/* a second agent on the same host names the same endpoint and reports on it */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)fake_ollama_port(fo));
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.hello\",\"agent_id\":\"box-2\",\"ollama_url\":\"%s\"}",
	                    url),
	    "second hello");
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"box-2\",\"resources\":{"
	                                "\"cpu_percent\":80}}"),
	    "heartbeat box-2");
	/* an agent without an ollama_url: its resources go nowhere */
	ac_ts_hello(cli, "plain", "");
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"plain\",\"resources\":{"
	                                "\"cpu_percent\":1}}"),
	    "heartbeat plain");
	r = ac_ep_list(cli);
	cr_assert_eq(ac_reply_get(r, "endpoints")->via.array.size, 1, "the same host registered twice");
	cr_assert(ac_reply_f64(r, "endpoints[0].resources.cpu_percent", &cpu));
	cr_assert_float_eq(cpu, 80.0, 1e-9, "cpu_percent %g, want box-2's 80", cpu);
	ac_reply_free(r);
}
