/* SPDX-License-Identifier: MIT
 * Spawns agentcomd with posix_spawn (nng is not fork-safe), reads the ready line from
 * a pipe with a deadline, and tears the server and its data directory down.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "test_server.h"

extern char **environ;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool read_ready(ac_test_server *s, int fd)
{
	size_t used = 0;
	long long deadline = now_ms() + 10000;

	while (used < sizeof(s->ready) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			return false;
		}
		if ((n = read(fd, s->ready + used, 1)) <= 0) {
			return false;
		}
		if (s->ready[used] == '\n') {
			s->ready[used] = '\0';
			return true;
		}
		used++;
	}
	return false;
}

static bool parse_ready(ac_test_server *s)
{
	char *api = strstr(s->ready, "api="), *pub = strstr(s->ready, " pub=");

	if (strncmp(s->ready, "ready ", 6) != 0 || api == NULL || pub == NULL) {
		return false;
	}
	snprintf(s->api, sizeof(s->api), "%.*s", (int)strcspn(api + 4, ", "), api + 4);
	snprintf(s->pub, sizeof(s->pub), "%.*s", (int)strcspn(pub + 5, " "), pub + 5);
	return true;
}

static void load_token(ac_test_server *s)
{
	char path[300];
	FILE *f;

	s->token[0] = '\0';
	snprintf(path, sizeof(path), "%s/admin.token", s->dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(s->token, sizeof(s->token), f) != NULL) {
			s->token[strcspn(s->token, "\n")] = '\0';
		}
		fclose(f);
	}
}

bool ac_ts_restart(ac_test_server *s, const char *const *extra)
{
	const char *bin = getenv("AGENTCOMD");
	const char *argv[64] = { bin, "--data-dir", s->dir, "--listen", "tcp://127.0.0.1:0",
		"--pub", "tcp://127.0.0.1:0", "--set", "fallback_wait_ms=0" };
	int n = s->fast_fallback ? 9 : 7, pipefd[2], logfd;
	posix_spawn_file_actions_t fa;
	bool ok;

	if (bin == NULL) {
		cr_log_error("AGENTCOMD is not set");
		return false;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL && n < 62; i++) {
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->dir);
	if (pipe(pipefd) != 0 || (logfd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0) {
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, logfd, 2);
	posix_spawn_file_actions_addclose(&fa, pipefd[0]);
	ok = posix_spawn(&s->pid, bin, &fa, NULL, (char *const *)argv, environ) == 0;
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	close(logfd);
	ok = ok && read_ready(s, pipefd[0]) && parse_ready(s);
	close(pipefd[0]);
	if (!ok) {
		cr_log_error("agentcomd did not become ready (log: %s)", s->log_path);
		ac_ts_kill(s);
		return false;
	}
	load_token(s);
	return true;
}

bool ac_ts_start(ac_test_server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/agentcom-test-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		return false;
	}
	return ac_ts_restart(s, extra);
}

bool ac_ts_start_agents(ac_test_server *s, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/agentcom-test-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		return false;
	}
	s->fast_fallback = true;
	return ac_ts_restart(s, extra);
}

int ac_ts_stop(ac_test_server *s)
{
	int status = 0;
	long long deadline = now_ms() + 10000;

	if (s->pid <= 0) {
		return -1;
	}
	kill(s->pid, SIGTERM);
	while (waitpid(s->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			ac_ts_kill(s);
			return -1;
		}
		usleep(5000);
	}
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void ac_ts_kill(ac_test_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

/* A sanitizer report in the server's log fails the test that ran it: the server is a
 * separate process, so its ASan/UBSan/LSan findings would otherwise go unseen. */
static void check_log(const ac_test_server *s)
{
	static const char *const marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
		"runtime error:", "assertion failed", NULL };
	char line[1024];
	FILE *f = fopen(s->log_path, "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		for (int i = 0; marks[i] != NULL; i++) {
			if (strstr(line, marks[i]) != NULL) {
				fclose(f);
				cr_assert_fail("agentcomd reported: %s(log: %s)", line, s->log_path);
			}
		}
	}
	if (f != NULL) {
		fclose(f);
	}
}

void ac_ts_cleanup(ac_test_server *s)
{
	char cmd[300];
	int status = 0;

	if (s->pid > 0) {
		status = ac_ts_stop(s);
	}
	if (s->log_path[0] != '\0') {
		check_log(s);
	}
	cr_expect_eq(status, 0, "agentcomd exited with %d (log: %s)", status, s->log_path);
	if (s->dir[0] != '\0' && strncmp(s->dir, "/tmp/agentcom-test-", 19) == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0) {
			cr_log_warn("could not remove %s", s->dir);
		}
	}
}

ac_client *ac_ts_client(const ac_test_server *s)
{
	ac_client *c = NULL;

	cr_assert_eq(ac_client_open(&c, s->api, s->token), AC_OK, "connect %s", s->api);
	return c;
}

ac_reply *ac_ts_call(ac_client *c, const char *json_fmt, ...)
{
	char buf[65536];
	ac_reply *r = NULL;
	va_list ap;
	ac_err err;

	va_start(ap, json_fmt);
	vsnprintf(buf, sizeof(buf), json_fmt, ap);
	va_end(ap);
	err = ac_client_call_json(c, buf, &r);
	cr_assert_eq(err, AC_OK, "call %s: %s", buf, ac_strerror(err));
	return r;
}

/* ---- helpers for the agent and lease tests ---- */

long long ac_ts_now_ms(void)
{
	return now_ms();
}

long long ac_ts_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ac_client *ac_ts_client_with(const ac_test_server *s, const char *token)
{
	ac_client *c = NULL;

	cr_assert_eq(ac_client_open(&c, s->api, token), AC_OK, "connect %s", s->api);
	return c;
}

uint64_t ac_ts_submit(ac_client *c, const char *fields_fmt, ...)
{
	char fields[16384];
	ac_reply *r;
	uint64_t id = 0;
	va_list ap;

	va_start(ap, fields_fmt);
	vsnprintf(fields, sizeof(fields), fields_fmt, ap);
	va_end(ap);
	r = ac_ts_call(c, "{\"op\":\"task.submit\",%s}", fields);
	cr_assert(ac_reply_ok(r), "submit %s: %s", fields, ac_reply_message(r));
	cr_assert(ac_reply_u64(r, "task.id", &id));
	ac_reply_free(r);
	return id;
}

ac_reply *ac_ts_get(ac_client *c, uint64_t id)
{
	ac_reply *r = ac_ts_call(c, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)id);

	cr_assert(ac_reply_ok(r), "task.get %llu: %s", (unsigned long long)id, ac_reply_message(r));
	return r;
}

bool ac_ts_wait_status(ac_client *c, uint64_t id, const char *status, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		ac_reply *r = ac_ts_get(c, id);
		char have[32] = "";
		bool same = ac_reply_str(r, "task.status", have, sizeof(have)) && strcmp(have, status) == 0;
		ac_reply_free(r);
		if (same) {
			return true;
		}
		if (now_ms() > deadline) {
			cr_log_warn("task %llu still %s, not %s, after %d ms", (unsigned long long)id, have,
			    status, timeout_ms);
			return false;
		}
		usleep(10000);
	}
}

/* The state of agent_id in an agent.list reply, "" when it is not listed. */
static void agent_state_of(ac_reply *r, const char *agent_id, char *state, size_t cap)
{
	const msgpack_object *agents = ac_reply_get(r, "agents");

	state[0] = '\0';
	for (uint32_t i = 0; agents != NULL && agents->type == MSGPACK_OBJECT_ARRAY &&
	     i < agents->via.array.size;
	     i++) {
		char path[64], id[160];
		snprintf(path, sizeof(path), "agents[%u].agent_id", i);
		if (ac_reply_str(r, path, id, sizeof(id)) && strcmp(id, agent_id) == 0) {
			snprintf(path, sizeof(path), "agents[%u].state", i);
			ac_reply_str(r, path, state, cap);
			return;
		}
	}
}

bool ac_ts_wait_agent_state(ac_client *c, const char *agent_id, const char *state, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		ac_reply *r = ac_ts_call(c, "{\"op\":\"agent.list\"}");
		char have[32];
		cr_assert(ac_reply_ok(r), "agent.list: %s", ac_reply_message(r));
		agent_state_of(r, agent_id, have, sizeof(have));
		ac_reply_free(r);
		if (strcmp(have, state) == 0) {
			return true;
		}
		if (now_ms() > deadline) {
			cr_log_warn("agent %s still '%s', not %s, after %d ms", agent_id, have, state,
			    timeout_ms);
			return false;
		}
		usleep(10000);
	}
}

bool ac_ts_wait_held_fetches(ac_client *c, uint64_t n, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;

	for (;;) {
		ac_reply *r = ac_ts_call(c, "{\"op\":\"stats\"}");
		uint64_t held = 0;
		bool known = ac_reply_u64(r, "routing.waiting_agents", &held);
		ac_reply_free(r);
		if (!known) {
			usleep(200000); /* no count to watch: give the fetches time to arrive */
			return true;
		}
		if (held >= n) {
			return true;
		}
		if (now_ms() > deadline) {
			cr_log_warn("%llu fetches held, not %llu, after %d ms", (unsigned long long)held,
			    (unsigned long long)n, timeout_ms);
			return false;
		}
		usleep(10000);
	}
}

static void *bg_main(void *arg)
{
	ac_ts_bg *bg = arg;

	bg->err = ac_client_call_json(bg->client, bg->json, &bg->reply);
	bg->finished_ms = now_ms();
	return NULL;
}

void ac_ts_bg_start(ac_ts_bg *bg, ac_client *c, const char *json_fmt, ...)
{
	va_list ap;

	bg->client = c;
	bg->reply = NULL;
	bg->err = AC_OK;
	va_start(ap, json_fmt);
	vsnprintf(bg->json, sizeof(bg->json), json_fmt, ap);
	va_end(ap);
	bg->started_ms = now_ms();
	bg->finished_ms = 0;
	cr_assert_eq(pthread_create(&bg->thread, NULL, bg_main, bg), 0);
}

ac_reply *ac_ts_bg_join(ac_ts_bg *bg)
{
	cr_assert_eq(pthread_join(bg->thread, NULL), 0);
	cr_assert_eq(bg->err, AC_OK, "call %s: %s", bg->json, ac_strerror(bg->err));
	return bg->reply;
}

void ac_ts_expect_ok(ac_reply *r, const char *what)
{
	cr_assert(ac_reply_ok(r), "%s: %s (%s)", what, ac_reply_message(r),
	    ac_strerror(ac_reply_error(r)));
	ac_reply_free(r);
}

void ac_ts_expect_err(ac_reply *r, ac_err code, const char *field, const char *what)
{
	cr_assert_not(ac_reply_ok(r), "%s: accepted", what);
	cr_assert_eq(ac_reply_error(r), code, "%s: got %s (%s), want %s", what,
	    ac_strerror(ac_reply_error(r)), ac_reply_message(r), ac_strerror(code));
	if (field != NULL) {
		cr_assert_str_eq(ac_reply_field(r), field, "%s: error field '%s', want '%s'", what,
		    ac_reply_field(r), field);
	}
	ac_reply_free(r);
}

void ac_ts_expect_str(ac_reply *r, const char *path, const char *want)
{
	char buf[512];

	cr_assert(ac_reply_str(r, path, buf, sizeof(buf)), "missing %s", path);
	cr_assert_str_eq(buf, want, "%s is \"%s\", want \"%s\"", path, buf, want);
}

uint64_t ac_ts_u64(ac_reply *r, const char *path)
{
	uint64_t v = 0;

	cr_assert(ac_reply_u64(r, path, &v), "missing %s", path);
	return v;
}

bool ac_ts_has_task(ac_reply *r)
{
	const msgpack_object *t = ac_reply_get(r, "task");

	return t != NULL && t->type != MSGPACK_OBJECT_NIL;
}

void ac_ts_hello(ac_client *c, const char *agent, const char *extra)
{
	ac_ts_expect_ok(ac_ts_call(c, "{\"op\":\"agent.hello\",\"agent_id\":\"%s\"%s}", agent, extra),
	    "agent.hello");
}

ac_reply *ac_ts_fetch_reply(ac_client *c, const char *agent, int wait_ms, bool accept)
{
	ac_reply *r = ac_ts_call(c, "{\"op\":\"agent.fetch\",\"agent_id\":\"%s\",\"wait_ms\":%d%s}",
	    agent, wait_ms, accept ? ",\"accept\":true" : "");

	cr_assert(ac_reply_ok(r), "fetch %s: %s", agent, ac_reply_message(r));
	return r;
}

uint64_t ac_ts_fetch(ac_client *c, const char *agent, int wait_ms, bool accept, uint64_t *gen)
{
	ac_reply *r = ac_ts_fetch_reply(c, agent, wait_ms, accept);
	uint64_t id = 0;

	if (ac_ts_has_task(r)) {
		id = ac_ts_u64(r, "task.id");
		if (gen != NULL) {
			*gen = ac_ts_u64(r, "task.generation");
		}
	}
	ac_reply_free(r);
	return id;
}

ac_reply *ac_ts_fenced(ac_client *c, const char *op, const char *agent, uint64_t id, uint64_t gen,
    const char *extra)
{
	return ac_ts_call(c, "{\"op\":\"%s\",\"agent_id\":\"%s\",\"id\":%llu,\"generation\":%llu%s}",
	    op, agent, (unsigned long long)id, (unsigned long long)gen, extra);
}

void ac_ts_read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Whether the task's history has an entry event (with detail, unless NULL). */
bool ac_ts_history_has(ac_reply *r, const char *event, const char *detail)
{
	const msgpack_object *h = ac_reply_get(r, "task.history");

	for (uint32_t i = 0; h != NULL && h->type == MSGPACK_OBJECT_ARRAY && i < h->via.array.size; i++) {
		char path[64], ev[64], det[256] = "";
		snprintf(path, sizeof(path), "task.history[%u].event", i);
		if (!ac_reply_str(r, path, ev, sizeof(ev)) || strcmp(ev, event) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "task.history[%u].detail", i);
		ac_reply_str(r, path, det, sizeof(det));
		if (detail == NULL || strstr(det, detail) != NULL) {
			return true;
		}
	}
	return false;
}
