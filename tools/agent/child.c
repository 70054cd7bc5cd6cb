/* SPDX-License-Identifier: MIT
 * agentcom-agent's command runner: spawns /bin/sh -c CMD for one task with posix_spawn
 * (nng is not fork-safe), feeds the task JSON to its stdin, collects stdout and the
 * stderr tail with poll(), heartbeats meanwhile, forwards "progress:" lines, and stops
 * the child when the server aborts the task or a stop signal arrives. It never decides
 * what a run means; agent.c reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "rt/clock.h"

#define KILL_GRACE_MS 2000 /* SIGTERM, then SIGKILL this much later */
#define PIPE_GRACE_MS 200  /* after the exit, for output a grandchild still holds open */
#define TICK_MS 250        /* notices an exit while a grandchild keeps the pipes open */
#define EXIT_TICK_MS 10    /* pipes closed: the exit is imminent */
#define LINE_CAP 1024      /* a stderr line kept for "progress:" (longer ones are cut) */
#define PROGRESS_PREFIX "progress:"

enum { IN, OUT, ERR, FD_COUNT }; /* the parent's ends of the child's stdio */

typedef struct child {
	pid_t pid;
	int fd[FD_COUNT];     /* -1 once closed */
	const char *in;       /* the task JSON, in[in_off..in_len) still to write */
	size_t in_len, in_off;
	char line[LINE_CAP];  /* the stderr line being read */
	size_t line_len;
	bool is_exited, is_killed;
	int64_t next_beat_ms; /* next agent.heartbeat */
	int64_t kill_at_ms;   /* SIGKILL deadline once SIGTERM was sent; 0 before */
	int64_t done_at_ms;   /* once exited: stop waiting for the pipes to close */
} child;

/* The variables we set; inherited ones of the same name are dropped. */
static const char *const own_vars[] = { "AGENTCOM_TASK_ID=", "AGENTCOM_TASK_GENERATION=",
	"AGENTCOM_TASK_DESCRIPTION=", "AGENTCOM_TARGET=", "AGENTCOM_MODEL=" };
#define OWN_VAR_COUNT (sizeof(own_vars) / sizeof(own_vars[0]))

static bool
is_own_var(const char *e)
{
	for (size_t i = 0; i < OWN_VAR_COUNT; i++) {
		if (strncmp(e, own_vars[i], strlen(own_vars[i])) == 0) {
			return true;
		}
	}
	return false;
}

/* "NAME=value", or NULL (leaving the slot empty) when value is "". */
static char *
make_var(const char *name_eq, const char *value)
{
	size_t a = strlen(name_eq), b = strlen(value);
	char *s = b == 0 ? NULL : malloc(a + b + 1);

	if (s != NULL) {
		memcpy(s, name_eq, a);
		memcpy(s + a, value, b + 1);
	}
	return s;
}

static void
free_env(char **env, size_t own_at)
{
	for (size_t i = own_at; env != NULL && env[i] != NULL; i++) {
		free(env[i]);
	}
	free(env);
}

/* environ without our variables, then ours; slots from *own_at on are owned (free
 * with free_env). NULL when out of memory. */
static char **
make_env(const ac_job *job, size_t *own_at)
{
	char id[24], gen[24], **env;
	const char *vals[OWN_VAR_COUNT] = { id, gen, job->description, job->target, job->model };
	size_t n = 0, k = 0;

	while (environ[n] != NULL) {
		n++;
	}
	if ((env = calloc(n + OWN_VAR_COUNT + 1, sizeof(*env))) == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_own_var(environ[i])) {
			env[k++] = environ[i];
		}
	}
	*own_at = k;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)job->id);
	snprintf(gen, sizeof(gen), "%llu", (unsigned long long)job->generation);
	for (size_t i = 0; i < OWN_VAR_COUNT; i++) {
		if ((env[k] = make_var(own_vars[i], vals[i])) != NULL) {
			k++;
		} else if (vals[i][0] != '\0') { /* out of memory */
			free_env(env, *own_at);
			return NULL;
		}
	}
	return env;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static ac_err
spawn(ac_agent *ag, char **env, child *c)
{
	int p[FD_COUNT][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	char *argv[] = { "/bin/sh", "-c", (char *)ag->cfg.exec, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rv = 0;

	for (int i = 0; i < FD_COUNT && rv == 0; i++) {
		rv = pipe2(p[i], O_CLOEXEC) == 0 ? 0 : errno;
	}
	if (rv == 0) {
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[IN][0], 0);
		posix_spawn_file_actions_adddup2(&fa, p[OUT][1], 1);
		posix_spawn_file_actions_adddup2(&fa, p[ERR][1], 2);
		ac_agent_spawnattr_init(&at); /* own group: a stop reaches all sh started */
		rv = posix_spawn(&c->pid, "/bin/sh", &fa, &at, argv, env);
		posix_spawnattr_destroy(&at);
		posix_spawn_file_actions_destroy(&fa);
	}
	for (int i = 0; i < FD_COUNT; i++) { /* keep the parent's ends only */
		int mine = i == IN ? 1 : 0;
		close_fd(&p[i][1 - mine]);
		if (rv != 0) {
			close_fd(&p[i][mine]);
		}
		c->fd[i] = p[i][mine];
		if (c->fd[i] >= 0) {
			fcntl(c->fd[i], F_SETFL, fcntl(c->fd[i], F_GETFL) | O_NONBLOCK);
		}
	}
	if (rv != 0) {
		snprintf(ag->why, sizeof(ag->why), "cannot start /bin/sh: %s", strerror(rv));
		return AC_EIO;
	}
	return AC_OK;
}

static void
terminate(child *c, int64_t now_ms)
{
	if (c->kill_at_ms == 0 && !c->is_exited) {
		if (kill(-c->pid, SIGTERM) != 0) {
			kill(c->pid, SIGTERM);
		}
		c->kill_at_ms = now_ms + KILL_GRACE_MS;
	}
}

/* Output a grandchild still holds open gets a short grace; after a SIGTERM, the group
 * gets until the SIGKILL (sh may be gone while what it started ignores SIGTERM). */
static void
reap(child *c, ac_run *run, int64_t now_ms)
{
	if (!c->is_exited && waitpid(c->pid, &run->wait_status, WNOHANG) == c->pid) {
		c->is_exited = true;
		c->done_at_ms = (c->kill_at_ms != 0 && !c->is_killed ? c->kill_at_ms : now_ms) +
		    PIPE_GRACE_MS;
	}
}

static void
escalate(child *c, int64_t now_ms)
{
	if (!c->is_killed && now_ms >= c->kill_at_ms) {
		if (kill(-c->pid, SIGKILL) != 0 && !c->is_exited) {
			kill(c->pid, SIGKILL);
		}
		c->is_killed = true;
	}
}

/* Stop signal, heartbeat and abort, SIGKILL escalation. */
static void
supervise(ac_agent *ag, const ac_job *job, child *c, ac_run *run, int64_t now_ms)
{
	bool is_aborted = false;
	ac_err err;

	if (c->kill_at_ms != 0) {
		escalate(c, now_ms);
		return;
	}
	if (c->is_exited) {
		return;
	}
	if (ac_agent_is_stopping()) {
		run->is_stopped = true;
		terminate(c, now_ms);
		return;
	}
	if (now_ms >= c->next_beat_ms) {
		err = ac_agent_heartbeat(ag, job, &is_aborted);
		if (ac_agent_is_unknown(ag, err)) {
			/* The server restarted: register again so that the lease of the task,
			 * which hello does not touch, keeps being refreshed. */
			err = ac_agent_hello(ag, NULL);
		}
		if (err != AC_OK && !ac_agent_is_stopping()) {
			ac_agent_log(ag, job, "heartbeat_failed", "heartbeat failed: %s", ag->why);
		}
		c->next_beat_ms = ac_clock_mono_ms() + ag->heartbeat_ms;
		if (is_aborted) {
			run->is_aborted = true;
			terminate(c, now_ms);
		}
	}
}

static void
feed_stdin(child *c)
{
	ssize_t n = write(c->fd[IN], c->in + c->in_off, c->in_len - c->in_off);

	if (n > 0) {
		c->in_off += (size_t)n;
	}
	if (c->in_off == c->in_len || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_fd(&c->fd[IN]); /* done, or the child closed its stdin: fine either way */
	}
}

/* Reads what is there into buf; false (and the fd closed) on EOF or error. */
static bool
read_some(int *fd, char *buf, size_t cap, size_t *len)
{
	ssize_t n = read(*fd, buf, cap);

	*len = n > 0 ? (size_t)n : 0;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_fd(fd);
		return false;
	}
	return n > 0;
}

static void
read_stdout(child *c, ac_run *run)
{
	char buf[65536];
	size_t n, room;
	char *p;

	if (!read_some(&c->fd[OUT], buf, sizeof(buf), &n)) {
		return;
	}
	room = AC_AGENT_OUT_CAP - run->out_len;
	if (n > room) {
		run->is_out_truncated = true;
		n = room;
	}
	if (n == 0 || (p = realloc(run->out, run->out_len + n + 1)) == NULL) {
		run->is_out_truncated = run->is_out_truncated || n > 0;
		return;
	}
	memcpy(p + run->out_len, buf, n);
	run->out = p;
	run->out_len += n;
	run->out[run->out_len] = '\0';
}

static void
keep_tail(ac_run *run, const char *p, size_t n)
{
	if (n >= AC_AGENT_ERR_TAIL) {
		p += n - AC_AGENT_ERR_TAIL;
		n = AC_AGENT_ERR_TAIL;
		run->err_len = 0;
	} else if (run->err_len + n > AC_AGENT_ERR_TAIL) {
		size_t drop = run->err_len + n - AC_AGENT_ERR_TAIL;
		memmove(run->err, run->err + drop, run->err_len - drop);
		run->err_len -= drop;
	}
	memcpy(run->err + run->err_len, p, n);
	run->err_len += n;
}

/* A whole stderr line: "progress: text" goes to the server as task.progress. */
static void
on_line(ac_agent *ag, const ac_job *job, child *c, ac_run *run)
{
	size_t skip = strlen(PROGRESS_PREFIX), len = c->line_len;
	char msg[LINE_CAP];
	bool is_aborted = false;

	if (len < skip || memcmp(c->line, PROGRESS_PREFIX, skip) != 0 || c->kill_at_ms != 0) {
		return;
	}
	while (skip < len && (c->line[skip] == ' ' || c->line[skip] == '\t')) {
		skip++;
	}
	while (len > skip && c->line[len - 1] == '\r') {
		len--;
	}
	ac_agent_utf8_clean(c->line + skip, len - skip, msg);
	ac_agent_log(ag, job, "progress", "progress: %s", msg);
	if (ac_agent_progress(ag, job, msg, &is_aborted) == AC_OK && is_aborted) {
		run->is_aborted = true;
		terminate(c, ac_clock_mono_ms());
	}
}

static void
read_stderr(ac_agent *ag, const ac_job *job, child *c, ac_run *run)
{
	char buf[AC_AGENT_ERR_TAIL];
	size_t n;

	if (!read_some(&c->fd[ERR], buf, sizeof(buf), &n)) {
		return;
	}
	keep_tail(run, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			on_line(ag, job, c, run);
			c->line_len = 0;
		} else if (c->line_len < LINE_CAP - 1) {
			c->line[c->line_len++] = buf[i];
		}
	}
}

static int
poll_timeout(const child *c, int64_t now_ms)
{
	int64_t t = TICK_MS;

	if (c->kill_at_ms != 0 && !c->is_killed && c->kill_at_ms - now_ms < t) {
		t = c->kill_at_ms - now_ms;
	}
	if (c->is_exited) {
		t = c->done_at_ms - now_ms < t ? c->done_at_ms - now_ms : t;
	} else if (c->fd[OUT] < 0 && c->fd[ERR] < 0) {
		t = EXIT_TICK_MS < t ? EXIT_TICK_MS : t;
	} else if (c->kill_at_ms == 0 && c->next_beat_ms - now_ms < t) {
		t = c->next_beat_ms - now_ms;
	}
	return t < 0 ? 0 : (int)t;
}

static bool
is_done(const child *c, int64_t now_ms)
{
	return c->is_exited && ((c->fd[OUT] < 0 && c->fd[ERR] < 0) || now_ms >= c->done_at_ms);
}

/* One round: reap, supervise, wait for I/O (or the wake pipe), move the bytes. */
static void
step(ac_agent *ag, const ac_job *job, child *c, ac_run *run)
{
	struct pollfd p[FD_COUNT + 1];
	int64_t now_ms = ac_clock_mono_ms();
	nfds_t n = 0;

	reap(c, run, now_ms);
	if (is_done(c, now_ms)) {
		return;
	}
	supervise(ag, job, c, run, now_ms);
	for (int i = 0; i < FD_COUNT; i++) {
		if (c->fd[i] >= 0) {
			p[n++] = (struct pollfd){ .fd = c->fd[i], .events = i == IN ? POLLOUT : POLLIN };
		}
	}
	if (!ac_agent_is_stopping()) { /* once stopping it stays readable */
		p[n++] = (struct pollfd){ .fd = ag->wake_fd, .events = POLLIN };
	}
	if (poll(p, n, poll_timeout(c, now_ms)) <= 0) {
		return;
	}
	for (nfds_t i = 0; i < n; i++) {
		if (p[i].revents == 0) {
			continue;
		}
		if (p[i].fd == c->fd[IN]) {
			feed_stdin(c);
		} else if (p[i].fd == c->fd[OUT]) {
			read_stdout(c, run);
		} else if (p[i].fd == c->fd[ERR]) {
			read_stderr(ag, job, c, run);
		} /* the wake pipe: supervise() sees the stop flag next round */
	}
}

ac_err
ac_agent_run(ac_agent *ag, const ac_job *job, ac_run *run)
{
	child c = { .fd = { -1, -1, -1 }, .in = job->json, .in_len = strlen(job->json) };
	int64_t start_ms = ac_clock_mono_ms();
	size_t own_at = 0;
	char **env;
	ac_err err;

	memset(run, 0, sizeof(*run));
	if ((env = make_env(job, &own_at)) == NULL) {
		snprintf(ag->why, sizeof(ag->why), "out of memory");
		return AC_ENOMEM;
	}
	err = spawn(ag, env, &c);
	free_env(env, own_at);
	if (err != AC_OK) {
		return err;
	}
	c.next_beat_ms = start_ms + ag->heartbeat_ms;
	while (!is_done(&c, ac_clock_mono_ms())) {
		step(ag, job, &c, run);
	}
	for (int i = 0; i < FD_COUNT; i++) {
		close_fd(&c.fd[i]);
	}
	run->elapsed_ms = ac_clock_mono_ms() - start_ms;
	return AC_OK;
}

void
ac_agent_run_fini(ac_run *run)
{
	free(run->out);
	run->out = NULL;
	run->out_len = 0;
}
