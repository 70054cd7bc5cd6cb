/* SPDX-License-Identifier: MIT
 * System tests of the gateway's request workers: a long-poll whose connection goes
 * away must give its worker back (stats gateway.busy), or each agent that restarts
 * mid-fetch costs the server a worker for good.
 */
#include <unistd.h>

#include <criterion/criterion.h>
#include <msgpack.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agent_server_fixture.h"
#include "test_server.h"

TestSuite(gateway, .fini = teardown);

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* Sends agent.fetch (wait_ms 30 s, the most) for agent on a connection of its own and returns
 * that connection, the request unanswered. */
static nng_socket send_long_fetch(const char *agent)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	nng_socket sock;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	pack_str(&pk, "op");
	pack_str(&pk, "agent.fetch");
	pack_str(&pk, "token");
	pack_str(&pk, srv.token);
	pack_str(&pk, "agent_id");
	pack_str(&pk, agent);
	pack_str(&pk, "wait_ms");
	msgpack_pack_uint32(&pk, 30000);
	cr_assert_eq(nng_req0_open(&sock), 0);
	cr_assert_eq(nng_dial(sock, srv.api, NULL, 0), 0);
	cr_assert_eq(nng_send(sock, sb.data, sb.size, 0), 0);
	msgpack_sbuffer_destroy(&sb);
	return sock;
}

static uint64_t stat_u64(const char *path)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	uint64_t v = 0;

	cr_assert(ac_reply_u64(r, path, &v), "stats has no %s", path);
	ac_reply_free(r);
	return v;
}

/* Polls stats until path reads want (true) or timeout_ms passes (false). */
static bool wait_stat(const char *path, uint64_t want, int timeout_ms)
{
	long long deadline = ac_ts_now_ms() + timeout_ms;

	while (stat_u64(path) != want) {
		if (ac_ts_now_ms() > deadline) {
			return false;
		}
		usleep(10000);
	}
	return true;
}

Test(gateway, a_held_fetch_whose_connection_closes_frees_its_worker, .timeout = 60)
{
	enum { ROUNDS = 24 };

	boot(NULL);
	/* a worker is busy until its reply's send completes, a moment after the client has it */
	cr_assert(wait_stat("gateway.busy", 1, 5000), "more than the stats request in hand");
	for (int i = 0; i < ROUNDS; i++) {
		ac_ts_hello(cli, "restarting-agent", ""); /* back online after the last close */
		nng_socket sock = send_long_fetch("restarting-agent");
		cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000), "round %d", i);
		cr_assert(wait_stat("gateway.busy", 2, 5000), "round %d: not just the held fetch and stats",
		    i);
		nng_close(sock); /* the agent dies mid-fetch */
		cr_assert(wait_stat("routing.waiting_agents", 0, 5000), "round %d: fetch still held", i);
	}
	/* well before the fetches' 30 s: every worker that held one is serving again */
	cr_assert(wait_stat("gateway.busy", 1, 5000), "%llu workers still hold a dead fetch",
	    (unsigned long long)stat_u64("gateway.busy") - 1);
	cr_assert_lt(stat_u64("gateway.workers"), 16 + ROUNDS, "the pool grew per dead fetch");
}

Test(gateway, stats_show_the_worker_pool, .timeout = 30)
{
	boot(NULL);
	cr_assert_geq(stat_u64("gateway.workers"), 1);
	cr_assert(wait_stat("gateway.busy", 1, 5000), "busy is not just the stats request");
}
