/* SPDX-License-Identifier: MIT
 * agentcom-agent's main loop: hello (and recovery of tasks still assigned to us),
 * long-poll fetch, run, report with the next fetch folded in, back off and hello again
 * when the server is gone; and the stop path (SIGTERM/SIGINT: stop the child, send
 * what is unsent, agent.bye). The only shared state is the stop flag, set by the
 * signal watcher thread; everything else belongs to main's thread.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>

#include "agent.h"
#include "rt/clock.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define DEFAULT_HEARTBEAT_MS 5000
#define MIN_HEARTBEAT_MS 100
#define MIN_EMPTY_FETCH_MS 100   /* an empty fetch answered sooner: pause (no busy loop) */
#define GOODBYE_TIMEOUT_MS 2000  /* per call on the way out */

/* Set once by the watcher thread, read by main's. */
static atomic_bool stop_flag;

bool
ac_agent_is_stopping(void)
{
	return atomic_load(&stop_flag);
}

void
ac_agent_pause(const ac_agent *ag, int ms)
{
	struct pollfd p = { .fd = ag->wake_fd, .events = POLLIN };

	if (!ac_agent_is_stopping()) {
		poll(&p, 1, ms);
	}
}

/* SIGTERM and SIGINT are blocked in every thread and taken here with sigwait, because
 * a handler cannot wake a call blocked inside nng (a long-poll waits on a condition
 * variable, which signals do not interrupt). Closing every nng socket does: the call
 * returns AC_ECLOSED, and the goodbye goes out on a fresh client. */
typedef struct watcher {
	pthread_t thread;
	sigset_t set;
	int wake_wr;  /* write end of the wake pipe; main owns both ends */
	bool is_started;
} watcher;

static void *
watch(void *arg)
{
	watcher *w = arg;
	int sig = 0;
	ssize_t n;

	if (sigwait(&w->set, &sig) == 0) {
		atomic_store(&stop_flag, true);
		nng_closeall();
		/* Wakes poll(), and tells goodbye() that closeall is over: a client opened
		 * from now on stays open. */
		n = write(w->wake_wr, "x", 1);
		(void)n;
	}
	return NULL;
}

/* Before any other thread exists (nng's inherit the mask). A signal that comes before
 * the watcher runs stays pending and is taken by its first sigwait. */
static bool
block_signals(watcher *w, int wake_wr)
{
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGTERM);
	sigaddset(&w->set, SIGINT);
	w->wake_wr = wake_wr;
	return pthread_sigmask(SIG_BLOCK, &w->set, NULL) == 0;
}

/* After nng is up (the client is open): the watcher's nng_closeall must not race
 * nng's own initialisation in main (ThreadSanitizer saw it do so). 0 or an errno. */
static int
start_watcher(watcher *w)
{
	int rc = pthread_create(&w->thread, NULL, watch, w);

	w->is_started = rc == 0;
	return rc;
}

static void
stop_watcher(watcher *w)
{
	if (w->is_started) {
		pthread_cancel(w->thread); /* sigwait is a cancellation point */
		pthread_join(w->thread, NULL);
	}
}

typedef struct loop {
	bool need_hello;
	bool is_done;
	int exit_code;
	int backoff_ms;  /* 0 after a success, BACKOFF_MIN_MS..BACKOFF_MAX_MS after failures */
	ac_job next;     /* a task in hand (from complete-with-fetch), when has_next */
	bool has_next;
} loop;

static bool
is_fatal(ac_err err)
{
	return err == AC_EUNAUTH || err == AC_EPERM || err == AC_EUNKNOWNOP || err == AC_EINVAL ||
	    err == AC_EBADREQ || err == AC_EADDRINVAL;
}

static int
next_backoff(int ms)
{
	return ms == 0 ? BACKOFF_MIN_MS : ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
}

/* what failed with err: give up, or back off and say hello again. */
static void
on_failure(ac_agent *ag, loop *l, const char *what, ac_err err)
{
	if (ac_agent_is_stopping()) {
		return;
	}
	if (is_fatal(err)) {
		ac_agent_log(ag, NULL, "fatal", "%s refused: %s", what, ag->why);
		l->exit_code = AC_AGENT_EXIT_FATAL;
		l->is_done = true;
		return;
	}
	l->need_hello = true;
	l->backoff_ms = next_backoff(l->backoff_ms);
	ac_agent_log(ag, NULL, "retry", "%s failed: %s; retrying in %d ms", what, ag->why,
	    l->backoff_ms);
	ac_agent_pause(ag, l->backoff_ms);
}

/* Sends ag->unsent until it is answered: the server may be restarting, and a repeated
 * complete/fail is answered as the first (DESIGN §4). Retries leave out the fetch.
 * Returns how it was answered (a transport error only when stopping). */
static ac_err
report(ac_agent *ag, loop *l, const ac_job *job, bool want_next)
{
	ac_err err = ac_agent_send_unsent(ag, want_next, &l->next, &l->has_next);

	if (want_next && ac_agent_is_unknown(ag, err)) {
		/* A restarted server applies the completion, then refuses the fetch of an
		 * agent it does not know: repeat the completion plain to learn its fate. */
		l->need_hello = true;
		err = ac_agent_send_unsent(ag, false, &l->next, &l->has_next);
	}
	while (ac_agent_is_transient(err) && !ac_agent_is_stopping()) {
		l->need_hello = true; /* before fetching again: it may not know us any more */
		l->backoff_ms = next_backoff(l->backoff_ms);
		ac_agent_log(ag, job, "retry", "report failed: %s; retrying in %d ms", ag->why,
		    l->backoff_ms);
		ac_agent_pause(ag, l->backoff_ms);
		err = ac_agent_send_unsent(ag, false, &l->next, &l->has_next);
	}
	if (err == AC_OK) {
		l->backoff_ms = 0;
	} else if (!ac_agent_is_stopping()) {
		ac_agent_log(ag, job, "rejected", "report rejected: %s", ag->why);
	}
	if (!ac_agent_is_transient(err)) {
		ac_mpw_reset(&ag->unsent); /* answered: never resend it */
	}
	return err;
}

typedef enum { OUTCOME_NONE, OUTCOME_COMPLETE, OUTCOME_FAIL } outcome;

/* Puts task.complete with stdout as the result into ag->unsent. */
static void
build_complete(ac_agent *ag, const ac_job *job, const ac_run *run, bool is_text)
{
	ac_mpw result;

	ac_mpw_init(&result);
	ac_agent_build_result(run->out != NULL ? run->out : "", run->out_len,
	    run->is_out_truncated, is_text, &result);
	ac_agent_build_complete(ag, job, &result);
	ac_mpw_fini(&result);
}

/* Whether a completion was refused for its result (the client library or the server
 * would not take that JSON object: too deep, too many keys, ...). */
static bool
is_bad_result(const ac_agent *ag, ac_err err)
{
	return err == AC_EINVAL && (ag->why_field[0] == '\0' ||
	    strncmp(ag->why_field, "result", 6) == 0);
}

/* Puts the outcome of run into ag->unsent and logs it; OUTCOME_NONE when nothing is
 * to be reported (stopped, aborted). */
static outcome
conclude(ac_agent *ag, const ac_job *job, const ac_run *run)
{
	char error[AC_AGENT_ERROR_MAX + 1];

	if (run->is_stopped || run->is_aborted) {
		ac_agent_log(ag, job, run->is_aborted ? "aborted" : "stopped",
		    run->is_aborted ? "aborted by server" : "stopped by signal; not reported");
		return OUTCOME_NONE;
	}
	if (WIFEXITED(run->wait_status) && WEXITSTATUS(run->wait_status) == 0) {
		build_complete(ag, job, run, false);
		ac_agent_log(ag, job, "completed", "completed in %.1fs",
		    (double)run->elapsed_ms / 1000.0);
		return OUTCOME_COMPLETE;
	}
	ac_agent_format_error(run, error, sizeof(error));
	ac_agent_build_fail(ag, job, error);
	ac_agent_log(ag, job, "failed", "failed: %.*s", (int)strcspn(error, ":"), error);
	return OUTCOME_FAIL;
}

/* Runs job and reports it; with want_next a completion asks for the next task, which
 * may land in l->next (task.fail has no fetch). */
static void
run_job(ac_agent *ag, loop *l, const ac_job *job, bool want_next)
{
	outcome o = OUTCOME_NONE;
	ac_err err = AC_OK;
	ac_run run;

	ac_agent_log(ag, job, "started", "started");
	if (ac_agent_run(ag, job, &run) != AC_OK) {
		ac_agent_log(ag, job, "failed", "failed: %s", ag->why);
		ac_agent_build_fail(ag, job, ag->why);
		report(ag, l, job, false);
	} else if ((o = conclude(ag, job, &run)) != OUTCOME_NONE) {
		err = report(ag, l, job, want_next && o == OUTCOME_COMPLETE);
	}
	if (o == OUTCOME_COMPLETE && is_bad_result(ag, err)) {
		ac_agent_log(ag, job, "resend", "sending stdout as text instead");
		build_complete(ag, job, &run, true);
		report(ag, l, job, want_next);
	}
	ac_agent_run_fini(&run);
	if (ag->cfg.is_once) {
		l->is_done = true;
	}
}

static void
read_timings(ac_agent *ag, const ac_reply *r, size_t recovered)
{
	int64_t v;

	ag->heartbeat_ms = ac_reply_i64(r, "heartbeat_ms", &v) && v > 0 && v < INT32_MAX ?
	    (int)v : DEFAULT_HEARTBEAT_MS;
	if (ag->heartbeat_ms < MIN_HEARTBEAT_MS) {
		ag->heartbeat_ms = MIN_HEARTBEAT_MS;
	}
	ag->lease_ms = ac_reply_i64(r, "lease_ms", &v) && v > 0 && v < INT32_MAX ? (int)v : 0;
	ac_agent_log(ag, NULL, "hello", "hello to %s: heartbeat %d ms, lease %d ms, %zu "
	    "task(s) to recover", ag->cfg.url, ag->heartbeat_ms, ag->lease_ms, recovered);
}

/* Runs the tasks hello says are still ours: an assigned one is accepted first. */
static void
recover(ac_agent *ag, loop *l, const ac_reply *r, size_t count)
{
	char path[32];
	ac_job job;
	ac_err err;

	for (size_t i = 0; i < count && !l->is_done && !ac_agent_is_stopping(); i++) {
		snprintf(path, sizeof(path), "tasks[%zu]", i);
		if (ac_agent_job_from(r, path, &job) != AC_OK) {
			continue;
		}
		err = strcmp(job.status, "assigned") == 0 ? ac_agent_accept(ag, &job) : AC_OK;
		if (err == AC_OK) {
			run_job(ag, l, &job, false);
		} else if (ac_agent_is_transient(err)) {
			on_failure(ag, l, "accept", err);
			ac_agent_job_fini(&job);
			return;
		} else {
			ac_agent_log(ag, &job, "rejected", "accept refused: %s", ag->why);
		}
		ac_agent_job_fini(&job);
	}
}

static void
hello_step(ac_agent *ag, loop *l)
{
	const msgpack_object *tasks;
	ac_reply *r = NULL;
	size_t count;
	ac_err err;

	if ((err = ac_agent_hello(ag, &r)) != AC_OK) {
		on_failure(ag, l, "hello", err);
		return;
	}
	tasks = ac_reply_get(r, "tasks");
	count = tasks != NULL && tasks->type == MSGPACK_OBJECT_ARRAY ? tasks->via.array.size : 0;
	read_timings(ag, r, count);
	l->need_hello = false;
	l->backoff_ms = 0;
	recover(ag, l, r, count);
	ac_reply_free(r);
}

static void
fetch_step(ac_agent *ag, loop *l)
{
	int64_t start_ms = ac_clock_mono_ms();
	ac_err err = ac_agent_fetch(ag, &l->next, &l->has_next);

	if (err != AC_OK) {
		on_failure(ag, l, "fetch", err);
		return;
	}
	l->backoff_ms = 0;
	if (!l->has_next && ac_clock_mono_ms() - start_ms < MIN_EMPTY_FETCH_MS) {
		ac_agent_pause(ag, MIN_EMPTY_FETCH_MS);
	}
}

/* Whether the host's resources are due before the next long-poll (while a task runs,
 * child.c's heartbeats report them; an idle agent reports once per long-poll at most). */
static bool
is_report_due(const ac_agent *ag)
{
	return ag->is_reporting && ac_clock_mono_ms() >= ag->resources_due_ms;
}

static void
report_step(ac_agent *ag, loop *l)
{
	bool is_aborted; /* idle: there is no task to abort */
	ac_err err = ac_agent_heartbeat(ag, NULL, &is_aborted);

	if (err != AC_OK) {
		on_failure(ag, l, "heartbeat", err);
	}
}

static int
serve(ac_agent *ag)
{
	loop l = { .need_hello = true };
	ac_job job;

	while (!l.is_done && !ac_agent_is_stopping()) {
		if (l.need_hello) {
			hello_step(ag, &l);
		} else if (!l.has_next && is_report_due(ag)) {
			report_step(ag, &l);
		} else if (!l.has_next) {
			fetch_step(ag, &l);
		} else {
			job = l.next; /* run_job may put the following task into l.next */
			memset(&l.next, 0, sizeof(l.next));
			l.has_next = false;
			run_job(ag, &l, &job, !ag->cfg.is_once);
			ac_agent_job_fini(&job);
		}
	}
	if (l.has_next) { /* stopped with a task in hand: bye hands it back */
		ac_agent_job_fini(&l.next);
	}
	return l.exit_code;
}

/* After a stop signal the old socket is closed: use a fresh one, once the watcher is
 * done closing. Sends an unanswered complete/fail, then agent.bye (which reclaims
 * whatever is still ours). */
static void
goodbye(ac_agent *ag)
{
	struct pollfd p = { .fd = ag->wake_fd, .events = POLLIN };
	bool has_next = false;
	ac_job none;

	if (ac_agent_is_stopping()) {
		ac_agent_log(ag, NULL, "stopping", "stopping on signal");
		poll(&p, 1, GOODBYE_TIMEOUT_MS);
		ac_client_close(ag->client);
		ag->client = NULL;
		if (ac_client_open(&ag->client, ag->cfg.url, ag->cfg.token) != AC_OK) {
			return;
		}
	}
	ac_client_set_timeout(ag->client, GOODBYE_TIMEOUT_MS);
	if (ac_mpw_len(&ag->unsent) > 0 &&
	    ac_agent_send_unsent(ag, false, &none, &has_next) != AC_OK) {
		ac_agent_log(ag, NULL, "report_lost", "report not delivered: %s", ag->why);
	}
	ac_mpw_reset(&ag->unsent);
	if (ac_agent_bye(ag) != AC_OK) {
		ac_agent_log(ag, NULL, "bye_failed", "bye failed: %s", ag->why);
		return;
	}
	ac_agent_log(ag, NULL, "bye", "bye");
}

/* With --ollama-url the agent's machine hosts that Ollama: its heartbeats report the
 * machine's resources, which the server scores that endpoint with (DESIGN §5.3). */
static bool
start_reporting(ac_agent *ag)
{
	ac_err err;

	if (ag->cfg.ollama_url == NULL) {
		return true;
	}
	if ((err = ac_agent_sampler_init(&ag->sampler, NULL)) != AC_OK) {
		fprintf(stderr, "agentcom-agent: cannot sample the host: %s\n", ac_strerror(err));
		return false;
	}
	ag->is_reporting = true;
	if (ag->sampler.gpu_cmd != NULL) {
		ac_agent_log(ag, NULL, "resources", "heartbeats report CPU, RAM and VRAM (%s)",
		    ag->sampler.gpu_cmd);
	} else {
		ac_agent_log(ag, NULL, "resources", "heartbeats report CPU and RAM (no nvidia-smi)");
	}
	return true;
}

int
main(int argc, char **argv)
{
	ac_agent ag = { .wake_fd = -1 };
	int wake[2] = { -1, -1 };
	watcher w = { .is_started = false };
	int rc = ac_agent_parse_args(&ag.cfg, argc, argv), err_no;
	ac_err err;

	if (rc != AC_AGENT_EXIT_OK || ag.cfg.is_help) {
		return rc;
	}
	signal(SIGPIPE, SIG_IGN); /* a child that closes its stdin early gives EPIPE */
	ac_mpw_init(&ag.unsent);
	rc = AC_AGENT_EXIT_FATAL;
	if (pipe2(wake, O_CLOEXEC) != 0 || !block_signals(&w, wake[1])) {
		perror("agentcom-agent: cannot set up signals");
		goto fail_watcher;
	}
	ag.wake_fd = wake[0];
	if (!start_reporting(&ag)) {
		goto fail_sampler;
	}
	if ((err = ac_client_open(&ag.client, ag.cfg.url, ag.cfg.token)) != AC_OK) {
		fprintf(stderr, "agentcom-agent: %s: %s\n", ag.cfg.url, ac_strerror(err));
		goto fail_client;
	}
	if ((err_no = start_watcher(&w)) != 0) {
		fprintf(stderr, "agentcom-agent: cannot start the signal thread: %s\n", strerror(err_no));
		ac_client_close(ag.client);
		goto fail_client;
	}
	if ((rc = serve(&ag)) == AC_AGENT_EXIT_OK) {
		goodbye(&ag);
	}
	ac_client_close(ag.client);
fail_client:
	ac_agent_sampler_fini(&ag.sampler);
fail_sampler:
	stop_watcher(&w);
fail_watcher:
	for (int i = 0; i < 2; i++) {
		if (wake[i] >= 0) {
			close(wake[i]);
		}
	}
	ac_mpw_fini(&ag.unsent);
	return rc;
}
