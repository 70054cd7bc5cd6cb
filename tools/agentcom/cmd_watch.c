/* SPDX-License-Identifier: MIT
 * agentcom watch: prints the server's telemetry events as they are published
 * (proto/topics.md), one line each, until interrupted, --count events or --seconds.
 * Subscribes through libagentcom (agentcom/sub.h); needs no token.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "agentcom/json.h"
#include "agentcom/sub.h"
#include "cli.h"
#include "codec/mpw.h"
#include "rt/clock.h"

#define RECV_SLICE_MS 200        /* how often a stop request is noticed */
#define CONNECT_NOTICE_MS 1000   /* say what we wait for when it takes this long */
#define MAX_SECONDS 315360000ULL /* ten years; longer means no limit */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* "2026-11-27T05:48:01.123Z": ac_cli_format_time_ms with the milliseconds. */
static void format_ts(int64_t ms, char *buf, size_t cap)
{
	size_t n;

	ac_cli_format_time_ms(ms, buf, cap);
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == 'Z') {
		snprintf(buf + n - 1, cap - (n - 1), ".%03dZ", (int)(ms % 1000));
	}
}

/* One line: "<time> <topic> <map as JSON>", or with --json one JSON object
 * {"topic": ..., "event": {...}}. */
static void print_event(const ac_cli *cli, const ac_event *ev)
{
	char *json = NULL, ts[48];
	ac_mpw w;

	if (!cli->is_json) {
		format_ts(ev->ts_ms, ts, sizeof(ts));
		printf("%s ", ts);
		ac_cli_print_text(stdout, ev->topic, strlen(ev->topic));
		if (ac_msgpack_to_json(ev->data, ev->len, 0, &json) == AC_OK) {
			printf(" %s", json);
		}
		putchar('\n');
		free(json);
		return;
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "topic");
	ac_mpw_cstr(&w, ev->topic);
	ac_mpw_key(&w, "event");
	ac_mpw_raw(&w, ev->data, ev->len);
	if (w.err == AC_OK && ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), 0, &json) == AC_OK) {
		printf("%s\n", json);
	}
	free(json);
	ac_mpw_fini(&w);
}

/* The prefixes to subscribe to: the arguments, NULL-terminated (none: everything). */
static const char **prefixes_of(const ac_cli *cli)
{
	static const char *list[AC_CLI_MAX_ARGS + 1];

	for (int i = 0; i < cli->arg_count; i++) {
		list[i] = cli->args[i];
	}
	list[cli->arg_count] = NULL;
	return list;
}

static const char *pub_url(const ac_cli *cli)
{
	const char *url = ac_cli_opt(cli, "--pub"), *env = getenv("AGENTCOM_PUB_URL");

	if (url != NULL) {
		return url;
	}
	return env != NULL && env[0] != '\0' ? env : AC_DEFAULT_PUB_URL;
}

/* Receives and prints until a stop: count events (0: no limit), the deadline
 * (INT64_MAX: none), a signal, or a failure to receive (*failed set). Returns how many
 * it printed. */
static uint64_t watch_loop(const ac_cli *cli, ac_sub *sub, const char *url, uint64_t count,
    int64_t deadline, bool *failed)
{
	int64_t notice_at = ac_clock_mono_ms() + CONNECT_NOTICE_MS;
	uint64_t printed = 0;
	ac_event ev;

	while (!stop_requested && (count == 0 || printed < count) && ac_clock_mono_ms() < deadline) {
		int64_t left = deadline - ac_clock_mono_ms();
		ac_err err = ac_sub_recv(sub, left < RECV_SLICE_MS ? (int)left : RECV_SLICE_MS, &ev);
		if (err == AC_OK) {
			print_event(cli, &ev);
			fflush(stdout);
			printed++;
		} else if (err != AC_ETIMEDOUT) {
			fprintf(stderr, "agentcom: watch: %s\n", ac_strerror(err));
			*failed = true;
			break;
		}
		if (notice_at != 0 && ac_clock_mono_ms() >= notice_at) {
			if (!ac_sub_is_connected(sub)) {
				fprintf(stderr, "agentcom: watch: waiting for %s\n", url);
			}
			notice_at = 0;
		}
	}
	return printed;
}

/* The subscriber at exit, still reachable (so leak checkers do not flag it). */
static ac_sub *left_open;

int ac_cli_cmd_watch(ac_cli *cli)
{
	const char *count_s = ac_cli_opt(cli, "--count"), *secs_s = ac_cli_opt(cli, "--seconds");
	const char *url = pub_url(cli);
	uint64_t count = 0, secs = 0, printed;
	ac_sub *sub = NULL;
	bool failed = false;
	ac_err err;

	if ((count_s != NULL && ac_cli_parse_u64(cli, "--count", count_s, &count) != 0) ||
	    (secs_s != NULL && ac_cli_parse_u64(cli, "--seconds", secs_s, &secs) != 0)) {
		return AC_CLI_EXIT_USAGE;
	}
	if ((err = ac_sub_open(&sub, url, prefixes_of(cli))) != AC_OK) {
		fprintf(stderr, "agentcom: watch: %s: %s\n", url, ac_strerror(err));
		return err == AC_ENOMEM ? ac_cli_fail("watch") : AC_CLI_EXIT_USAGE;
	}
	catch_signals();
	printed = watch_loop(cli, sub, url, count,
	    secs > 0 && secs < MAX_SECONDS ? ac_clock_mono_ms() + (int64_t)secs * 1000 : INT64_MAX,
	    &failed);
	fprintf(stderr, "agentcom: watched %" PRIu64 " events (%" PRIu64 " missed)\n", printed,
	    ac_sub_missed(sub));
	/* Not closed: the process exits now, and nng 1.5.2 may never return from closing
	 * a subscriber whose server is up (agentcom/sub.h). */
	left_open = sub;
	return failed ? AC_CLI_EXIT_UNREACHABLE : AC_CLI_EXIT_OK;
}
