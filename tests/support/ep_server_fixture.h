/* SPDX-License-Identifier: MIT
 * Fixture of the system tests around endpoints (endpoints_test.c, the routing tests): a
 * server (srv, with cli as admin) and a telemetry subscriber started by boot(), and up to
 * MAX_FAKES fake Ollamas, all freed by teardown() (the suite's .fini). Header-only:
 * included by exactly one test file per executable.
 */
#ifndef AC_TESTS_EP_SERVER_FIXTURE_H
#define AC_TESTS_EP_SERVER_FIXTURE_H

#include <criterion/criterion.h>

#include "fake_ollama.h"
#include "telemetry_sub.h"
#include "test_server.h"

#define MAX_FAKES 4

static ac_test_server srv;
static ac_client *cli; /* admin: client ops, and agent ops for any agent */
static ac_tsub *sub;
static fake_ollama *fakes[MAX_FAKES];

static inline void boot(const char *const *extra)
{
	cr_assert(ac_ts_start(&srv, extra));
	cli = ac_ts_client(&srv);
	cr_assert_not_null(sub = ac_tsub_open(srv.pub, NULL), "subscribe to %s", srv.pub);
}

static inline void teardown(void)
{
	unsigned bad = sub != NULL ? ac_tsub_bad_frames(sub) : 0;

	ac_client_close(cli);
	ac_ts_cleanup(&srv);
	/* after the server: nng 1.5.2's nng_close on a SUB whose PUB peer is still up now
	 * and then never returns (nng #1543; reference/nng-notes.md §5) */
	ac_tsub_close(sub);
	for (int i = 0; i < MAX_FAKES; i++) {
		fake_ollama_free(fakes[i]);
	}
	cr_expect_eq(bad, 0, "%u telemetry frames were not `topic NUL map{ts_ms, seq}`", bad);
}

#endif
