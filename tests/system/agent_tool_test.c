/* SPDX-License-Identifier: MIT
 * System tests of the reference agent (DESIGN §1 agentcom-agent, §4 agent ops): a real
 * agentcomd and the agentcom-agent binary ($AGENTCOM_AGENT) spawned with posix_spawn
 * under an agent token; tasks submitted over the API must come back completed or failed
 * with the result the command produced; with --ollama-url its heartbeats carry the
 * host's resources. The agent's log is <data dir>/<agent id>.log.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "endpoint_util.h"
#include "test_server.h"

#define AGENT_ID "tool-a1"
#define DONE_TIMEOUT_MS 15000
#define EXIT_TIMEOUT_MS 10000

static ac_test_server srv;
static ac_client *cli;
static char agent_token[256];
static pid_t agent_pid;

static void start_with(const char *const *extra)
{
	ac_reply *r;

	cr_assert_not_null(getenv("AGENTCOM_AGENT"), "AGENTCOM_AGENT is not set");
	cr_assert(ac_ts_start(&srv, extra));
	cli = ac_ts_client(&srv);
	r = ac_ts_call(cli, "{\"op\":\"token.create\",\"role\":\"agent\",\"agent_id\":\"" AGENT_ID
			    "\"}");
	cr_assert(ac_reply_ok(r), "token.create: %s", ac_reply_message(r));
	cr_assert(ac_reply_str(r, "token", agent_token, sizeof(agent_token)));
	ac_reply_free(r);
	agent_pid = 0;
}

static void start(void)
{
	start_with(NULL);
}

/* Waits up to timeout_ms for the agent to exit; its exit status, or -1 when it had to
 * be killed or died of a signal. */
static int reap_agent(int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	int status = 0;

	while (waitpid(agent_pid, &status, WNOHANG) == 0) {
		if (ac_ts_now_ms() > deadline) {
			kill(agent_pid, SIGKILL);
			waitpid(agent_pid, &status, 0);
			agent_pid = 0;
			return -1;
		}
		usleep(10000);
	}
	agent_pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void stop(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		reap_agent(EXIT_TIMEOUT_MS);
	}
	ac_client_close(cli);
	ac_ts_cleanup(&srv);
}

TestSuite(agent_tool, .init = start, .fini = stop, .timeout = 60);

/* Spawns agentcom-agent --exec cmd (plus extra, NULL-terminated, may be NULL) with
 * stdout on /dev/null and stderr in <data dir>/AGENT_ID.log. */
static void spawn_agent(const char *cmd, const char *const *extra)
{
	const char *argv[32] = { getenv("AGENTCOM_AGENT"), "--url", srv.api, "--token",
		agent_token, "--id", AGENT_ID, "--exec", cmd, "--wait-ms", "1000" };
	int n = 11;
	char log_path[300];
	posix_spawn_file_actions_t fa;
	int rv;

	for (int i = 0; extra != NULL && extra[i] != NULL && n < 30; i++) {
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	snprintf(log_path, sizeof(log_path), "%s/" AGENT_ID ".log", srv.dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	rv = posix_spawn(&agent_pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rv, 0, "posix_spawn %s: %s", argv[0], strerror(rv));
}

static void expect_str(ac_reply *r, const char *path, const char *want)
{
	char buf[1024];

	cr_assert(ac_reply_str(r, path, buf, sizeof(buf)), "missing %s", path);
	cr_assert_str_eq(buf, want, "%s", path);
}

/* Waits for task id to reach status and returns its task.get reply (caller frees). */
static ac_reply *wait_task(uint64_t id, const char *status)
{
	cr_assert(ac_ts_wait_status(cli, id, status, DONE_TIMEOUT_MS),
	    "task %llu never became %s (agent log: %s/" AGENT_ID ".log)", (unsigned long long)id,
	    status, srv.dir);
	return ac_ts_get(cli, id);
}

Test(agent_tool, cat_returns_the_task_json_as_the_result)
{
	uint64_t id, result_id = 0, gen = 0;
	ac_reply *r;

	spawn_agent("cat", NULL);
	id = ac_ts_submit(cli, "\"description\":\"echo me back\",\"metadata\":{\"k\":\"v\"}");
	r = wait_task(id, "completed");
	expect_str(r, "task.assigned_to", AGENT_ID);
	/* the command saw the whole task map on stdin, and a JSON object is the result */
	cr_assert(ac_reply_u64(r, "task.result.id", &result_id));
	cr_assert_eq(result_id, id);
	cr_assert(ac_reply_u64(r, "task.result.generation", &gen) && gen >= 1);
	expect_str(r, "task.result.description", "echo me back");
	expect_str(r, "task.result.metadata.k", "v");
	expect_str(r, "task.result.status", "working"); /* fetched with accept: true */
	ac_reply_free(r);
}

Test(agent_tool, plain_stdout_becomes_output_and_env_names_the_task)
{
	char want[128];
	uint64_t id;
	ac_reply *r;

	spawn_agent("printf 'task %s gen %s: %s' \"$AGENTCOM_TASK_ID\" "
		    "\"$AGENTCOM_TASK_GENERATION\" \"$AGENTCOM_TASK_DESCRIPTION\"",
	    NULL);
	id = ac_ts_submit(cli, "\"description\":\"say hi\"");
	r = wait_task(id, "completed");
	snprintf(want, sizeof(want), "task %llu gen 1: say hi", (unsigned long long)id);
	expect_str(r, "task.result.output", want);
	ac_reply_free(r);
}

Test(agent_tool, nonzero_exit_fails_the_task_with_the_stderr_tail)
{
	uint64_t id;
	ac_reply *r;

	spawn_agent("cat >/dev/null; echo boom >&2; exit 3", NULL);
	id = ac_ts_submit(cli, "\"description\":\"doomed\",\"max_retries\":1");
	r = wait_task(id, "dead_letter");
	expect_str(r, "task.last_error", "exit 3: boom");
	ac_reply_free(r);
}

Test(agent_tool, once_exits_zero_after_one_task)
{
	const char *const once[] = { "--once", NULL };
	uint64_t id, n = 0;
	ac_reply *r;

	spawn_agent("cat >/dev/null; echo '{\"n\":7}'", once);
	id = ac_ts_submit(cli, "\"description\":\"only one\"");
	r = wait_task(id, "completed");
	cr_assert(ac_reply_u64(r, "task.result.n", &n) && n == 7);
	ac_reply_free(r);
	cr_assert_eq(reap_agent(EXIT_TIMEOUT_MS), 0);
}

Test(agent_tool, sigterm_stops_the_command_hands_the_task_back_and_exits_zero)
{
	uint64_t id, gen = 0;
	ac_reply *r;

	spawn_agent("sleep 30", NULL);
	id = ac_ts_submit(cli, "\"description\":\"long\"");
	ac_reply_free(wait_task(id, "working"));
	cr_assert_eq(kill(agent_pid, SIGTERM), 0);
	cr_assert_eq(reap_agent(EXIT_TIMEOUT_MS), 0, "agent did not exit 0 on SIGTERM");
	/* agent.bye reclaims the task at once: back in the queue, fenced anew */
	r = wait_task(id, "queued");
	cr_assert(ac_reply_u64(r, "task.generation", &gen) && gen >= 2);
	ac_reply_free(r);
}

/* ---- resources (README "agentcom-agent", DESIGN §3 endpoint resources) ---- */

#define MIB (1024ull * 1024)

/* Heartbeats every 200 ms, so that reports come often. */
static void start_fast_heartbeat(void)
{
	static const char *const fast[] = { "--set", "heartbeat_ms=200", NULL };

	start_with(fast);
}

TestSuite(agent_tool_resources, .init = start_fast_heartbeat, .fini = stop, .timeout = 60);

/* Puts a stand-in nvidia-smi (two GPUs) first on the PATH the agent inherits. */
static void fake_nvidia_smi(void)
{
	char bin[300], path[400], new_path[4096];
	FILE *f;

	snprintf(bin, sizeof(bin), "%s/bin", srv.dir);
	cr_assert_eq(mkdir(bin, 0700), 0);
	snprintf(path, sizeof(path), "%s/nvidia-smi", bin);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("#!/bin/sh\nprintf '24576, 1024\\n8192, 4096\\n'\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0700), 0);
	snprintf(new_path, sizeof(new_path), "%s:%s", bin,
	    getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	cr_assert_eq(setenv("PATH", new_path, 1), 0); /* this test's process only */
}

/* Polls endpoint.list until the first endpoint reports a CPU share (the first report
 * may come too soon after the agent started to have one); that reply, or NULL. */
static ac_reply *wait_cpu_report(int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;
	double cpu;
	ac_reply *r;

	do {
		r = ac_ep_list(cli);
		if (ac_reply_f64(r, "endpoints[0].resources.cpu_percent", &cpu)) {
			return r;
		}
		ac_reply_free(r);
		usleep(20000);
	} while (ac_ts_now_ms() < deadline);
	return NULL;
}

Test(agent_tool_resources, ollama_url_makes_heartbeats_report_the_hosts_resources)
{
	fake_ollama *fo = fake_ollama_start();
	char url[64], ep[32];
	const char *const extra[] = { "--ollama-url", url, "--wait-ms", "200", NULL };
	uint64_t total = 0, used = 0;
	double cpu = -1;
	ac_reply *r;

	cr_assert_not_null(fo);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)fake_ollama_port(fo));
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", (unsigned)fake_ollama_port(fo));
	fake_nvidia_smi();
	spawn_agent("cat", extra);
	r = wait_cpu_report(DONE_TIMEOUT_MS);
	cr_assert_not_null(r, "no resources with cpu_percent on the agent's endpoint (agent "
			      "log: %s/" AGENT_ID ".log)", srv.dir);
	expect_str(r, "endpoints[0].id", ep);
	expect_str(r, "endpoints[0].source", "agent");
	cr_assert(ac_reply_f64(r, "endpoints[0].resources.cpu_percent", &cpu));
	cr_assert(cpu >= 0.0 && cpu <= 100.0, "cpu_percent %g", cpu);
	cr_assert(ac_reply_u64(r, "endpoints[0].resources.ram_total_bytes", &total) && total > 0,
	    "no ram_total_bytes");
	cr_assert(ac_reply_u64(r, "endpoints[0].resources.ram_used_bytes", &used) && used <= total,
	    "ram_used_bytes %llu of %llu", (unsigned long long)used, (unsigned long long)total);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.vram_total_bytes"), (24576 + 8192) * MIB);
	cr_assert_eq(ac_ts_u64(r, "endpoints[0].resources.vram_used_bytes"), (1024 + 4096) * MIB);
	ac_reply_free(r);
	kill(agent_pid, SIGTERM);
	cr_assert_eq(reap_agent(EXIT_TIMEOUT_MS), 0);
	fake_ollama_free(fo);
}
