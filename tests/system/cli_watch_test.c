/* SPDX-License-Identifier: MIT
 * agentcom watch (the CLI's telemetry view, libagentcom's ac_sub underneath) against a
 * real agentcomd: the binary ($AGENTCOM_CLI) runs through popen while the test submits
 * tasks, until it has printed the events it was asked for.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "agentcom/json.h"
#include "test_server.h"

#define OUT_CAP 16384

static ac_test_server srv;
static ac_client *cli;

static void start(void)
{
	cr_assert_not_null(getenv("AGENTCOM_CLI"), "AGENTCOM_CLI is not set");
	cr_assert(ac_ts_start(&srv, NULL));
	cli = ac_ts_client(&srv);
}

static void stop(void)
{
	ac_client_close(cli);
	ac_ts_cleanup(&srv);
}

TestSuite(cli_watch, .init = start, .fini = stop, .timeout = 60);

/* Runs "agentcom watch <args>" and submits a task every 50 ms until the watch ends
 * (it connects in the background: the first tasks may come before it listens).
 * Returns the exit status; out gets stdout, err_path the stderr file. */
static int watch_while_submitting(const char *args, char *out, size_t cap, char *err_path,
    size_t err_cap)
{
	char cmd[2048];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(err_path, err_cap, "%s/watch.err", srv.dir);
	snprintf(cmd, sizeof(cmd), "env -u AGENTCOM_PUB_URL '%s' watch --pub '%s' %s 2>'%s'",
	    getenv("AGENTCOM_CLI"), srv.pub, args, err_path);
	cr_assert_not_null(p = popen(cmd, "r"), "popen %s", cmd);
	for (int i = 0; i < 400; i++) {
		struct pollfd pfd = { .fd = fileno(p), .events = POLLIN };
		ssize_t got;
		if (poll(&pfd, 1, 50) == 0) {
			ac_ts_submit(cli, "\"description\":\"fix typo in watch test\"");
			continue;
		}
		if ((got = read(fileno(p), out + n, cap - 1 - n)) <= 0) {
			break; /* the watch ended */
		}
		n += (size_t)got;
	}
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(cli_watch, prints_the_events_of_a_prefix_as_json_lines_then_a_summary)
{
	static char out[OUT_CAP], err[1024];
	char err_path[300], *line, *save = NULL;
	int lines = 0;

	cr_assert_eq(watch_while_submitting("task.submitted --count 2 --json", out, sizeof(out),
	                 err_path, sizeof(err_path)),
	    0, "stdout: %s", out);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		uint8_t *mp = NULL;
		size_t len = 0;
		char why[160] = "";
		cr_assert_eq(ac_json_to_msgpack(line, strlen(line), &mp, &len, why, sizeof(why)), AC_OK,
		    "not JSON (%s): %s", why, line);
		free(mp);
		cr_assert_not_null(strstr(line, "{\"topic\":\"task.submitted\",\"event\":{"), "%s", line);
		cr_assert_not_null(strstr(line, "\"task_id\":"), "%s", line);
		lines++;
	}
	cr_assert_eq(lines, 2, "--count 2 printed %d lines", lines);
	ac_ts_read_file(err_path, err, sizeof(err));
	cr_assert_not_null(strstr(err, "agentcom: watched 2 events"), "stderr: %s", err);
}

Test(cli_watch, human_lines_carry_time_topic_and_fields)
{
	static char out[OUT_CAP];
	char err_path[300];

	cr_assert_eq(watch_while_submitting("task. --count 1", out, sizeof(out), err_path,
	                 sizeof(err_path)),
	    0);
	cr_assert_not_null(strstr(out, "Z task.submitted {\"ts_ms\":"), "stdout: %s", out);
	cr_assert_eq(out[4], '-', "no date first: %s", out);
}

Test(cli_watch, a_bad_count_is_a_usage_error)
{
	static char out[OUT_CAP];
	char err_path[300];

	cr_assert_eq(watch_while_submitting("--count many", out, sizeof(out), err_path,
	                 sizeof(err_path)),
	    2);
}
