/* SPDX-License-Identifier: MIT
 * Tests for src/registry/prober.c against the fake Ollama (tests/support): a test
 * actor registered as AC_ACTOR_REGISTRY records every AC_MSG_PROBE_RESULT; the test
 * thread plays the owner that calls ac_prober_probe. Every fake mode, concurrency
 * across endpoints, one probe per tag, and ac_prober_free with probes in flight.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "codec/endpoint_wire.h"
#include "fake_ollama.h"
#include "registry/prober.h"
#include "rt/actor.h"
#include "rt/clock.h"

#define WAIT_MS 15000 /* generous: the probe itself gives up after 5 s */
#define MAX_RESULTS 128
#define MAX_NAMES 8

typedef struct result {
	uint64_t tag;
	bool ok, has_loaded, has_vram, has_error;
	char error[160];
	char models[MAX_NAMES][64];
	uint32_t model_count;
	char loaded[MAX_NAMES][64];
	uint32_t loaded_count;
	uint64_t vram, duration_ms;
	int64_t at_ms; /* when the registry got it */
} result;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	result results[MAX_RESULTS];
	size_t count;
} rec;

static ac_rt *rt;
static ac_actor *reg;
static ac_prober *prober;
static fake_ollama *fo, *fo2;

static void copy_names(char (*dst)[64], uint32_t *n, const ac_strs *s)
{
	*n = s->count;
	for (uint32_t i = 0; i < s->count && i < MAX_NAMES; i++) {
		ac_str_cpy(dst[i], 64, s->items[i]);
	}
}

/* The registry stand-in: decoded by the runtime with ac_probe_result_schema. */
static void on_probe_result(void *state, ac_call *call)
{
	const ac_probe_result *r = call->req;
	result x = { .tag = r->tag.v, .ok = r->ok.v, .has_loaded = r->loaded_models.set,
		.has_vram = r->vram_used_bytes.set, .has_error = r->error.set,
		.vram = r->vram_used_bytes.v, .duration_ms = r->duration_ms.v,
		.at_ms = ac_clock_mono_ms() };
	(void)state;
	ac_str_cpy(x.error, sizeof(x.error), r->error);
	copy_names(x.models, &x.model_count, &r->models);
	copy_names(x.loaded, &x.loaded_count, &r->loaded_models);
	pthread_mutex_lock(&rec.mu);
	if (rec.count < MAX_RESULTS) {
		rec.results[rec.count++] = x;
	}
	pthread_cond_broadcast(&rec.cv);
	pthread_mutex_unlock(&rec.mu);
}

static const ac_handler reg_handlers[AC_MSG_COUNT] = {
	[AC_MSG_PROBE_RESULT] = { on_probe_result, &ac_probe_result_schema },
};
static const ac_actor_def reg_def = {
	.name = "registry", .id = AC_ACTOR_REGISTRY, .handlers = reg_handlers,
};

static void setup(void)
{
	pthread_condattr_t ca;
	memset(&rec, 0, sizeof(rec));
	pthread_mutex_init(&rec.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rec.cv, &ca);
	pthread_condattr_destroy(&ca);
	fo = fo2 = NULL;
	cr_assert_eq(ac_rt_alloc(&rt), AC_OK);
	cr_assert_eq(ac_actor_start(rt, &reg_def, NULL, &reg), AC_OK);
	cr_assert_eq(ac_prober_alloc(rt, AC_ACTOR_REGISTRY, &prober), AC_OK);
	cr_assert_not_null(fo = fake_ollama_start());
}

static void teardown(void)
{
	ac_prober_free(prober); /* before the fakes: it may still have probes in flight */
	fake_ollama_free(fo);
	fake_ollama_free(fo2);
	ac_actor_stop(reg);
	ac_rt_free(rt);
	pthread_cond_destroy(&rec.cv);
	pthread_mutex_destroy(&rec.mu);
}

TestSuite(prober, .init = setup, .fini = teardown, .timeout = 60);

/* Waits for the first result of tag; a copy, or a failed test after WAIT_MS. */
static result wait_result(uint64_t tag)
{
	struct timespec dl;
	result r = { 0 };
	bool found = false;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&rec.mu);
	while (!found) {
		for (size_t i = 0; i < rec.count && !found; i++) {
			if ((found = rec.results[i].tag == tag)) {
				r = rec.results[i];
			}
		}
		if (!found && pthread_cond_timedwait(&rec.cv, &rec.mu, &dl) != 0) {
			break;
		}
	}
	pthread_mutex_unlock(&rec.mu);
	cr_assert(found, "no result for tag %llu", (unsigned long long)tag);
	return r;
}

/* Waits until n results arrived in all. */
static void wait_count(size_t n)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&rec.mu);
	while (rec.count < n && pthread_cond_timedwait(&rec.cv, &rec.mu, &dl) == 0) {
	}
	size_t got = rec.count;
	pthread_mutex_unlock(&rec.mu);
	cr_assert_geq(got, n);
}

static size_t results_of(uint64_t tag)
{
	size_t n = 0;
	pthread_mutex_lock(&rec.mu);
	for (size_t i = 0; i < rec.count; i++) {
		n += rec.results[i].tag == tag;
	}
	pthread_mutex_unlock(&rec.mu);
	return n;
}

static void probe_fake(fake_ollama *f, uint64_t tag)
{
	cr_assert_eq(ac_prober_probe(prober, tag, "127.0.0.1", fake_ollama_port(f)), AC_OK);
}

/* Probes fo in mode and returns the failed result's error. */
static result probe_failing(fake_mode mode, uint64_t tag)
{
	fake_ollama_set_mode(fo, mode);
	probe_fake(fo, tag);
	result r = wait_result(tag);
	cr_assert(!r.ok, "mode %d reported ok", (int)mode);
	cr_assert(r.has_error);
	cr_assert_eq(r.model_count, 0);
	cr_assert(!r.has_loaded);
	return r;
}

/* The fake's hit counter has no condition variable: poll it (bounded). */
static void wait_hits(fake_ollama *f, const char *path, unsigned n)
{
	int64_t until = ac_clock_mono_ms() + WAIT_MS;
	while (fake_ollama_hits(f, path) < n && ac_clock_mono_ms() < until) {
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	cr_assert_geq(fake_ollama_hits(f, path), n);
}

static void set_real_lists(fake_ollama *f)
{
	static const char *const models[] = { "qwen2.5-coder:7b", "llama3.1:8b", "odd \"name\"\\x" };
	static const char *const loaded[] = { "qwen2.5-coder:7b", "llama3.1:8b" };
	static const uint64_t vram[] = { 5137025024ull, 1000 };
	fake_ollama_set_models(f, models, 3);
	fake_ollama_set_loaded(f, loaded, vram, 2);
}

static void expect_full(const result *r)
{
	cr_assert(r->ok, "error: %s", r->error);
	cr_assert(!r->has_error);
	cr_assert_eq(r->model_count, 3);
	cr_assert_str_eq(r->models[0], "qwen2.5-coder:7b");
	cr_assert_str_eq(r->models[1], "llama3.1:8b");
	cr_assert_str_eq(r->models[2], "odd \"name\"\\x");
	cr_assert(r->has_loaded);
	cr_assert_eq(r->loaded_count, 2, "loaded %u, first %s", r->loaded_count, r->loaded[0]);
	cr_assert_str_eq(r->loaded[0], "qwen2.5-coder:7b");
	cr_assert(r->has_vram);
	cr_assert_eq(r->vram, 5137025024ull + 1000);
	cr_assert_lt(r->duration_ms, 5000);
}

Test(prober, ok_reports_models_loaded_models_and_vram)
{
	set_real_lists(fo);
	probe_fake(fo, 1);
	result r = wait_result(1);
	expect_full(&r);
	cr_assert_eq(fake_ollama_hits(fo, "/api/tags"), 1);
	cr_assert_eq(fake_ollama_hits(fo, "/api/ps"), 1);
	probe_fake(fo, 1); /* the tag is free again once its result was sent */
	wait_count(2);
	cr_assert_eq(results_of(1), 2);
	cr_assert_eq(fake_ollama_hits(fo, "/api/ps"), 2);
}

Test(prober, empty_lists_are_ok)
{
	probe_fake(fo, 2);
	result r = wait_result(2);
	cr_assert(r.ok, "error: %s", r.error);
	cr_assert_eq(r.model_count, 0);
	cr_assert(r.has_loaded);
	cr_assert_eq(r.loaded_count, 0);
	cr_assert_eq(r.vram, 0);
}

Test(prober, chunked_bodies_are_read)
{
	set_real_lists(fo);
	fake_ollama_set_mode(fo, FAKE_CHUNKED);
	probe_fake(fo, 3);
	result r = wait_result(3);
	expect_full(&r);
}

Test(prober, close_delimited_bodies_are_read)
{
	set_real_lists(fo);
	fake_ollama_set_mode(fo, FAKE_NO_LENGTH);
	probe_fake(fo, 4);
	result r = wait_result(4);
	expect_full(&r);
}

Test(prober, http_500_fails)
{
	cr_assert_str_eq(probe_failing(FAKE_500, 5).error, "http 500");
	cr_assert_eq(fake_ollama_hits(fo, "/api/ps"), 0, "/api/tags failed: no /api/ps");
}

Test(prober, garbage_is_bad_json)
{
	cr_assert_str_eq(probe_failing(FAKE_GARBAGE, 6).error, "bad json");
}

Test(prober, empty_object_has_no_models_array)
{
	cr_assert_str_eq(probe_failing(FAKE_NO_MODELS, 7).error, "no models array");
}

Test(prober, closed_connection_fails)
{
	result r = probe_failing(FAKE_CLOSE, 8);
	cr_log_info("FAKE_CLOSE gave: %s", r.error);
	cr_assert_str_neq(r.error, "timeout");
	cr_assert_lt(r.duration_ms, 1000);
}

Test(prober, stopped_endpoint_is_refused_and_recovers_on_the_same_port)
{
	fake_ollama_stop(fo);
	probe_fake(fo, 9);
	result r = wait_result(9);
	cr_assert(!r.ok);
	cr_assert_str_eq(r.error, "connect: Connection refused");
	cr_assert(fake_ollama_restart(fo));
	probe_fake(fo, 10);
	r = wait_result(10);
	cr_assert(r.ok, "error: %s", r.error);
}

Test(prober, hang_times_out_after_the_request_timeout_once_per_tag)
{
	fake_ollama_set_mode(fo, FAKE_HANG);
	int64_t t0 = ac_clock_mono_ms();
	probe_fake(fo, 11);
	probe_fake(fo, 11); /* in flight: not started again, no second result */
	result r = wait_result(11);
	cr_assert(!r.ok);
	cr_assert_str_eq(r.error, "timeout");
	cr_assert_geq(r.at_ms - t0, AC_PROBE_REQUEST_TIMEOUT_MS - 50);
	cr_assert_lt(r.at_ms - t0, AC_PROBE_REQUEST_TIMEOUT_MS + 1500);
	cr_assert_eq(fake_ollama_hits(fo, "/api/tags"), 1);
	fake_ollama_set_mode(fo, FAKE_OK); /* a later result flushes any duplicate */
	probe_fake(fo, 12);
	wait_result(12);
	cr_assert_eq(results_of(11), 1);
}

/* A listener with backlog 0 that never accepts: once one connection fills its queue,
 * the kernel drops further SYNs, so a connect hangs. Returns the port; fds[2] to close. */
static uint16_t full_listener(int fds[2])
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(fds[0], (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fds[0], 0), 0);
	cr_assert_eq(getsockname(fds[0], (struct sockaddr *)&sa, &sl), 0);
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fds[1], (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* connect() can return before the server side queued it: wait until it has */
	struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1);
	return ntohs(sa.sin_port);
}

/* Whether the kernel drops the SYN (the connect hangs) or lets the handshake through
 * anyway (then nothing answers and the 5 s bound applies) varies from run to run, so
 * several full listeners are probed at once and the hanging connects are checked. */
Test(prober, connect_is_bounded_by_the_connect_timeout)
{
	enum { N = 8 };
	int fds[N][2];
	uint16_t ports[N];
	for (int i = 0; i < N; i++) {
		ports[i] = full_listener(fds[i]);
	}
	int64_t t0 = ac_clock_mono_ms();
	for (int i = 0; i < N; i++) {
		cr_assert_eq(ac_prober_probe(prober, 200 + (uint64_t)i, "127.0.0.1", ports[i]), AC_OK);
	}
	int connect_bound = 0;
	for (int i = 0; i < N; i++) {
		result r = wait_result(200 + (uint64_t)i);
		int64_t ms = r.at_ms - t0;
		cr_assert_str_eq(r.error, "timeout");
		cr_assert_geq(ms, AC_PROBE_CONNECT_TIMEOUT_MS - 50);
		cr_assert_lt(ms, AC_PROBE_REQUEST_TIMEOUT_MS + 1000);
		connect_bound += ms < AC_PROBE_CONNECT_TIMEOUT_MS + 1000;
	}
	for (int i = 0; i < N; i++) {
		close(fds[i][1]);
		close(fds[i][0]);
	}
	cr_log_info("%d of %d connects hung and were cut at the connect timeout", connect_bound, N);
	cr_assert_gt(connect_bound, 0);
}

Test(prober, many_concurrent_probes_all_report)
{
	set_real_lists(fo);
	for (uint64_t tag = 100; tag < 150; tag++) {
		probe_fake(fo, tag);
	}
	wait_count(50);
	for (uint64_t tag = 100; tag < 150; tag++) {
		result r = wait_result(tag);
		expect_full(&r);
	}
	cr_assert_eq(fake_ollama_hits(fo, "/api/ps"), 50);
}

/* More probes than one reap batch, twice over the same tags: a tag is free again once
 * its result came (the in-flight set forgets it), so each is probed and reports twice. */
Test(prober, every_tag_probes_again_after_its_result_past_a_reap_batch)
{
	enum { N = 60 };
	for (int round = 1; round <= 2; round++) {
		for (uint64_t tag = 300; tag < 300 + N; tag++) {
			probe_fake(fo, tag);
		}
		wait_count((size_t)N * (size_t)round);
	}
	for (uint64_t tag = 300; tag < 300 + N; tag++) {
		cr_assert_eq(results_of(tag), 2, "tag %llu", (unsigned long long)tag);
	}
	cr_assert_eq(fake_ollama_hits(fo, "/api/tags"), 2 * N);
}

Test(prober, huge_content_length_is_refused_at_once)
{
	result r = probe_failing(FAKE_HUGE, 13);
	cr_assert_str_eq(r.error, "body too large");
	cr_assert_lt(r.duration_ms, 1000);
}

Test(prober, huge_chunked_body_is_refused)
{
	result r = probe_failing(FAKE_CHUNKED_HUGE, 14);
	cr_assert_str_eq(r.error, "body too large");
}

Test(prober, missing_api_ps_still_reports_models)
{
	set_real_lists(fo);
	fake_ollama_set_mode(fo, FAKE_PS_404);
	probe_fake(fo, 15);
	result r = wait_result(15);
	cr_assert(r.ok, "error: %s", r.error);
	cr_assert_eq(r.model_count, 3);
	cr_assert(!r.has_loaded, "loaded models unknown, not empty");
	cr_assert(!r.has_vram);
}

Test(prober, a_hanging_endpoint_does_not_delay_another)
{
	cr_assert_not_null(fo2 = fake_ollama_start());
	set_real_lists(fo2);
	fake_ollama_set_mode(fo, FAKE_HANG);
	probe_fake(fo, 16);
	wait_hits(fo, "/api/tags", 1);
	int64_t t0 = ac_clock_mono_ms();
	probe_fake(fo2, 17);
	result r = wait_result(17);
	expect_full(&r);
	cr_assert_lt(r.at_ms - t0, 1000);
	cr_assert_eq(results_of(16), 0, "the hanging probe is still in flight");
}

Test(prober, bad_host_gets_a_failed_result)
{
	cr_assert_eq(ac_prober_probe(prober, 18, "evil/host?x", 11434), AC_OK);
	cr_assert_str_eq(wait_result(18).error, "bad address");
	cr_assert_eq(ac_prober_probe(prober, 19, "127.0.0.1", 0), AC_OK);
	cr_assert_str_eq(wait_result(19).error, "bad address");
}

Test(prober, free_with_probes_in_flight_returns_promptly)
{
	cr_assert_not_null(fo2 = fake_ollama_start());
	fake_ollama_set_mode(fo, FAKE_HANG);
	fake_ollama_set_mode(fo2, FAKE_HUGE);
	probe_fake(fo, 20);
	probe_fake(fo2, 21);
	wait_hits(fo, "/api/tags", 1);
	wait_hits(fo2, "/api/tags", 1);
	wait_result(21); /* done but not yet reaped: free must free it too */
	probe_fake(fo, 22); /* just started: cancelled while connecting or sending */
	int64_t t0 = ac_clock_mono_ms();
	ac_prober_free(prober);
	prober = NULL;
	cr_assert_lt(ac_clock_mono_ms() - t0, 1000);
	cr_assert_eq(results_of(20), 0, "cancelled probes send nothing");
}

/* Names go through nng's asynchronous resolver. The fake listens on 127.0.0.1 only, so
 * a resolver that prefers ::1 for localhost gets a refusal, still proof of a lookup. */
Test(prober, host_names_and_ipv6_literals_are_accepted)
{
	cr_assert_eq(ac_prober_probe(prober, 24, "localhost", fake_ollama_port(fo)), AC_OK);
	result r = wait_result(24);
	cr_assert(r.ok || strcmp(r.error, "connect: Connection refused") == 0, "%s", r.error);
	cr_assert_eq(ac_prober_probe(prober, 25, "::1", fake_ollama_port(fo)), AC_OK);
	r = wait_result(25);
	cr_assert(!r.ok);
	cr_assert_str_neq(r.error, "bad address", "the literal is bracketed in the URL");
}

Test(prober, free_of_null_is_a_noop)
{
	ac_prober_free(NULL);
}
