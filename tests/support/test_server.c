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
		"--pub", "tcp://127.0.0.1:0" };
	int n = 7, pipefd[2], logfd;
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
