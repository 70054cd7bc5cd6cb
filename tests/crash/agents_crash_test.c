/* SPDX-License-Identifier: MIT
 * Crash suite, agent side (DESIGN §4 rules, §7): three agents loop fetch(accept) ->
 * complete (one of them completing with fetch_wait_ms, taking the next task from the
 * reply) while a submitter submits 300 tasks; the server is killed with SIGKILL at
 * random moments and restarted; agents say hello again and finish what they held.
 * At the end every task is completed, none is lost, none is completed twice per generation.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "test_server.h"

#define TASKS 300
#define AGENTS 3
#define KILLS 3
#define WINDOW 40 /* the submitter stays at most this far ahead of the completions */
#define MAX_ACKS 4096
#define CALL_TIMEOUT_MS 3000

typedef struct ack {
	uint64_t id;
	uint64_t generation;
	int agent;
} ack;

static pthread_mutex_t url_mu = PTHREAD_MUTEX_INITIALIZER;
static char api_url[256], token[128];
static atomic_uint epoch; /* +1 after every restart: clients reopen on the new URL */
static atomic_bool stopping;

static ack acks[MAX_ACKS]; /* acknowledged completions */
static atomic_size_t ack_count;
static uint64_t submitted[TASKS]; /* acknowledged submissions, by index */
static atomic_int submitted_count;
static atomic_uint unexpected; /* error replies an agent did not expect */
static atomic_uint rehellos;
static atomic_uint recovered; /* tasks handed back by agent.hello after a restart */

static ac_client *open_current(unsigned *seen_epoch)
{
	ac_client *c = NULL;

	*seen_epoch = atomic_load(&epoch);
	pthread_mutex_lock(&url_mu);
	if (ac_client_open(&c, api_url, token) != AC_OK) {
		c = NULL;
	}
	pthread_mutex_unlock(&url_mu);
	if (c != NULL) {
		ac_client_set_timeout(c, CALL_TIMEOUT_MS);
	}
	return c;
}

/* A call that tolerates the server being gone: NULL on a transport error. */
static ac_reply *try_call(ac_client *c, const char *json)
{
	ac_reply *r = NULL;

	return ac_client_call_json(c, json, &r) == AC_OK ? r : NULL;
}

static void record_ack(uint64_t id, uint64_t gen, int who)
{
	size_t i = atomic_fetch_add(&ack_count, 1);

	if (i < MAX_ACKS) {
		acks[i] = (ack){ id, gen, who };
	}
}

/* task.complete; false when the agent must say hello again (transport error, conflict).
 * With next != NULL it also asks for the next task (fetch_wait_ms, accept: true: the
 * completion and the assignment share a commit, the path a kill must not break); a task
 * in the reply goes to *next (id 0 when none came). */
static bool complete(ac_client *c, const char *agent, int who, uint64_t id, uint64_t gen,
    uint64_t *next_id, uint64_t *next_gen)
{
	char json[320];
	ac_reply *r;
	bool go_on = true;

	snprintf(json, sizeof(json),
	    "{\"op\":\"task.complete\",\"agent_id\":\"%s\",\"id\":%llu,\"generation\":%llu,"
	    "\"result\":{\"by\":\"%s\"}%s}",
	    agent, (unsigned long long)id, (unsigned long long)gen, agent,
	    next_id != NULL ? ",\"fetch_wait_ms\":200,\"accept\":true" : "");
	if (next_id != NULL) {
		*next_id = 0;
	}
	if ((r = try_call(c, json)) == NULL) {
		return false;
	}
	if (ac_reply_ok(r)) {
		record_ack(id, gen, who);
		if (next_id != NULL && ac_reply_u64(r, "task.id", next_id)) {
			ac_reply_u64(r, "task.generation", next_gen);
		}
	} else {
		/* stale or conflict: the task moved on (reclaimed, redelivered elsewhere) */
		atomic_fetch_add(&unexpected, 1);
		go_on = ac_reply_error(r) != AC_ECONFLICT;
	}
	ac_reply_free(r);
	return go_on;
}

/* Works on task id, then completes it; odd agents complete-and-fetch and go on with
 * the tasks that come back. False when the agent must say hello again. */
static bool work_and_complete(ac_client *c, const char *agent, int who, uint64_t id,
    uint64_t gen, unsigned *rng)
{
	bool go_on = true;

	while (go_on && id != 0) {
		uint64_t next_id = 0, next_gen = 0;
		usleep((useconds_t)(rand_r(rng) % 4000)); /* the work: a kill may land here */
		go_on = complete(c, agent, who, id, gen, who % 2 == 1 ? &next_id : NULL, &next_gen);
		id = next_id;
		gen = next_gen;
	}
	return go_on;
}

/* task.accept; false when the agent must say hello again (transport error, refusal). */
static bool accept_task(ac_client *c, const char *agent, uint64_t id, uint64_t gen)
{
	char json[256];
	ac_reply *r;
	bool ok;

	snprintf(json, sizeof(json),
	    "{\"op\":\"task.accept\",\"agent_id\":\"%s\",\"id\":%llu,\"generation\":%llu}", agent,
	    (unsigned long long)id, (unsigned long long)gen);
	if ((r = try_call(c, json)) == NULL) {
		return false;
	}
	if (!(ok = ac_reply_ok(r))) {
		atomic_fetch_add(&unexpected, 1);
	}
	ac_reply_free(r);
	return ok;
}

/* agent.hello, then completes every task the server says the agent still holds (an
 * assigned one is accepted first: complete follows accept, DESIGN §3). */
static bool say_hello(ac_client *c, const char *agent, int who)
{
	char json[160];
	ac_reply *r;
	const msgpack_object *tasks;
	bool ok = true;

	snprintf(json, sizeof(json), "{\"op\":\"agent.hello\",\"agent_id\":\"%s\"}", agent);
	if ((r = try_call(c, json)) == NULL) {
		return false;
	}
	if (!ac_reply_ok(r)) {
		atomic_fetch_add(&unexpected, 1);
		ac_reply_free(r);
		return false;
	}
	atomic_fetch_add(&rehellos, 1);
	tasks = ac_reply_get(r, "tasks");
	for (uint32_t i = 0; ok && tasks != NULL && tasks->type == MSGPACK_OBJECT_ARRAY &&
	     i < tasks->via.array.size;
	     i++) {
		char path[48], status[32];
		uint64_t id = 0, gen = 0;
		snprintf(path, sizeof(path), "tasks[%u].id", i);
		ac_reply_u64(r, path, &id);
		snprintf(path, sizeof(path), "tasks[%u].generation", i);
		ac_reply_u64(r, path, &gen);
		snprintf(path, sizeof(path), "tasks[%u].status", i);
		atomic_fetch_add(&recovered, 1);
		ok = (!ac_reply_str(r, path, status, sizeof(status)) || strcmp(status, "assigned") != 0 ||
		         accept_task(c, agent, id, gen)) &&
		    complete(c, agent, who, id, gen, NULL, NULL);
	}
	ac_reply_free(r);
	return ok;
}

static void *agent_main(void *arg)
{
	int who = (int)(intptr_t)arg;
	char agent[32], fetch_json[160];
	unsigned seen = 0, rng = (unsigned)who * 7919u + 1;
	ac_client *c = open_current(&seen);
	bool need_hello = true;

	snprintf(agent, sizeof(agent), "crash-agent-%d", who);
	snprintf(fetch_json, sizeof(fetch_json),
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"%s\",\"wait_ms\":500,\"accept\":true}", agent);
	while (!atomic_load(&stopping)) {
		ac_reply *r;
		uint64_t id = 0, gen = 0;
		if (c == NULL || seen != atomic_load(&epoch)) {
			ac_client_close(c);
			c = open_current(&seen);
			need_hello = true;
			continue;
		}
		if (need_hello) {
			need_hello = !say_hello(c, agent, who);
			if (need_hello) {
				usleep(20000); /* server down or restarting */
			}
			continue;
		}
		if ((r = try_call(c, fetch_json)) == NULL) {
			need_hello = true;
			continue;
		}
		if (!ac_reply_ok(r)) {
			need_hello = true; /* conflict: the restarted server does not know us yet */
			if (ac_reply_error(r) != AC_ECONFLICT) {
				atomic_fetch_add(&unexpected, 1);
			}
		} else if (ac_reply_u64(r, "task.id", &id) && ac_reply_u64(r, "task.generation", &gen)) {
			need_hello = !work_and_complete(c, agent, who, id, gen, &rng);
		}
		ac_reply_free(r);
	}
	ac_client_close(c);
	return NULL;
}

static void *submitter_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg, seen = 0;
	ac_client *c = open_current(&seen);

	for (int i = 0; i < TASKS && !atomic_load(&stopping);) {
		char json[256];
		ac_reply *r;
		uint64_t id;
		if ((size_t)i >= atomic_load(&ack_count) + WINDOW) {
			usleep(1000); /* pacing: stay close to the agents */
			continue;
		}
		if (c == NULL || seen != atomic_load(&epoch)) {
			ac_client_close(c);
			c = open_current(&seen);
			continue;
		}
		/* the key makes a resend after a lost reply return the same task */
		snprintf(json, sizeof(json),
		    "{\"op\":\"task.submit\",\"description\":\"crash task %d\","
		    "\"idempotency_key\":\"agents-crash-%u-%d\"}",
		    i, seed, i);
		if ((r = try_call(c, json)) == NULL) {
			usleep(20000);
			continue;
		}
		if (ac_reply_ok(r) && ac_reply_u64(r, "task.id", &id)) {
			submitted[i++] = id;
			atomic_store(&submitted_count, i);
		} else {
			atomic_fetch_add(&unexpected, 1);
		}
		ac_reply_free(r);
	}
	ac_client_close(c);
	return NULL;
}

static uint64_t completed_now(ac_client *c)
{
	ac_reply *r = NULL;
	uint64_t n = 0;

	if (ac_client_call_json(c, "{\"op\":\"stats\"}", &r) == AC_OK) {
		ac_reply_u64(r, "queue.by_status.completed", &n);
		ac_reply_free(r);
	}
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void check_acks(void)
{
	size_t n = atomic_load(&ack_count);
	unsigned redelivered = 0;

	cr_assert_leq(n, MAX_ACKS);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (acks[i].id != acks[j].id) {
				continue;
			}
			cr_assert_neq(acks[i].generation, acks[j].generation,
			    "task %llu acknowledged complete twice with generation %llu (agents %d and %d)",
			    (unsigned long long)acks[i].id, (unsigned long long)acks[i].generation,
			    acks[i].agent, acks[j].agent);
			redelivered++;
		}
	}
	cr_log_info("%zu completions acknowledged, %u redelivered after a restart", n, redelivered);
}

Test(crash, agents_finish_every_task_across_kill9, .timeout = 300)
{
	ac_test_server srv;
	pthread_t agents[AGENTS], sub;
	unsigned seed = (unsigned)time(NULL);
	size_t kill_at[KILLS];
	ac_client *c;
	long long deadline;
	uint64_t done = 0, ids[TASKS];

	cr_log_info("seed %u", seed);
	srand(seed);
	for (int k = 0; k < KILLS; k++) { /* increasing completion counts in (10, 270) */
		kill_at[k] = (size_t)(10 + (260 / KILLS) * k + rand() % (260 / KILLS));
	}
	cr_assert(ac_ts_start_agents(&srv, NULL)); /* restarts keep fallback_wait_ms 0 */
	snprintf(api_url, sizeof(api_url), "%s", srv.api);
	snprintf(token, sizeof(token), "%s", srv.token);
	for (int i = 0; i < AGENTS; i++) {
		pthread_create(&agents[i], NULL, agent_main, (void *)(intptr_t)i);
	}
	pthread_create(&sub, NULL, submitter_main, (void *)(uintptr_t)seed);
	for (int k = 0; k < KILLS; k++) {
		deadline = ac_ts_now_ms() + 60000;
		while (atomic_load(&ack_count) < kill_at[k] && ac_ts_now_ms() < deadline) {
			usleep(1000);
		}
		cr_assert_geq(atomic_load(&ack_count), kill_at[k], "stalled before kill %d", k);
		ac_ts_kill(&srv);
		cr_log_info("kill %d after %zu completions, %d submitted", k, atomic_load(&ack_count),
		    atomic_load(&submitted_count));
		cr_assert(ac_ts_restart(&srv, NULL), "restart after kill %d", k);
		pthread_mutex_lock(&url_mu);
		snprintf(api_url, sizeof(api_url), "%s", srv.api);
		pthread_mutex_unlock(&url_mu);
		atomic_fetch_add(&epoch, 1);
	}
	/* everything submitted, and everything completed */
	c = ac_ts_client(&srv);
	deadline = ac_ts_now_ms() + 120000;
	while ((atomic_load(&submitted_count) < TASKS || (done = completed_now(c)) < TASKS) &&
	    ac_ts_now_ms() < deadline) {
		usleep(10000);
	}
	atomic_store(&stopping, true);
	pthread_join(sub, NULL);
	for (int i = 0; i < AGENTS; i++) {
		pthread_join(agents[i], NULL);
	}
	cr_log_info("%u hellos, %u tasks handed back by hello, %u unexpected error replies",
	    atomic_load(&rehellos), atomic_load(&recovered), atomic_load(&unexpected));
	cr_assert_eq(atomic_load(&submitted_count), TASKS, "only %d of %d submitted",
	    atomic_load(&submitted_count), TASKS);
	cr_assert_eq(done, TASKS, "%llu of %d tasks completed", (unsigned long long)done, TASKS);
	memcpy(ids, submitted, sizeof(ids));
	qsort(ids, TASKS, sizeof(ids[0]), cmp_u64);
	for (int i = 1; i < TASKS; i++) {
		cr_assert_neq(ids[i], ids[i - 1], "two submissions got task %llu", (unsigned long long)ids[i]);
	}
	for (int i = 0; i < TASKS; i++) {
		ac_reply *r = ac_ts_call(c, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)submitted[i]);
		char status[32], desc[64], want[64];
		cr_assert(ac_reply_ok(r), "task %llu lost: %s", (unsigned long long)submitted[i],
		    ac_reply_message(r));
		cr_assert(ac_reply_str(r, "task.status", status, sizeof(status)));
		cr_assert_str_eq(status, "completed", "task %llu is %s", (unsigned long long)submitted[i],
		    status);
		snprintf(want, sizeof(want), "crash task %d", i);
		cr_assert(ac_reply_str(r, "task.description", desc, sizeof(desc)));
		cr_assert_str_eq(desc, want);
		ac_reply_free(r);
	}
	check_acks();
	ac_client_close(c);
	ac_ts_cleanup(&srv);
}
