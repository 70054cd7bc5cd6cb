/* SPDX-License-Identifier: MIT
 * CLI commands about the server as a whole: ping (liveness, version, round trip) and
 * stats (its counters, printed generically so new counters show without a CLI change).
 */
#include <inttypes.h>

#include "cli.h"
#include "codec/mpw.h"

/* "pong from agentcomd 0.1.0 (protocol 1), uptime 12.3 s, 0.21 ms round trip" */
static int
show_ping(ac_cli *cli, const ac_reply *r)
{
	char version[128];
	uint64_t proto = 0, uptime_ms = 0;

	ac_cli_format_value(ac_reply_get(r, "version"), version, sizeof(version));
	(void)ac_reply_u64(r, "proto", &proto);
	(void)ac_reply_u64(r, "uptime_ms", &uptime_ms);
	printf("pong from agentcomd %s (protocol %" PRIu64 "), uptime %.1f s, %.2f ms round trip\n",
	    version, proto, (double)uptime_ms / 1000.0, (double)cli->rtt_us / 1000.0);
	return AC_CLI_EXIT_OK;
}

/* Two pings: the first also waits for the connection, the second measures the round
 * trip of a request alone. */
int
ac_cli_cmd_ping(ac_cli *cli)
{
	ac_reply *r = NULL;
	ac_mpw w;
	int rc;

	ac_mpw_init(&w);
	ac_mpw_map(&w, 1);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, "ping");
	if (w.err != AC_OK) {
		rc = ac_cli_fail("ping");
	} else if ((rc = ac_cli_request(cli, ac_mpw_data(&w), ac_mpw_len(&w), &r)) == 0) {
		rc = ac_cli_run(cli, ac_mpw_data(&w), ac_mpw_len(&w), show_ping);
	}
	ac_reply_free(r);
	ac_mpw_fini(&w);
	return rc;
}

static int
show_stats(ac_cli *cli, const ac_reply *r)
{
	(void)cli;
	ac_cli_print_map(stdout, ac_reply_root(r), "ok");
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_stats(ac_cli *cli)
{
	return ac_cli_run_op(cli, "stats", NULL, 0, show_stats);
}
