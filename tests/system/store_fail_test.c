/* SPDX-License-Identifier: MIT
 * System tests of the store-error clause of the durability contract (DESIGN §7): a
 * request whose commit fails is answered `unavailable`, leaves memory as the store has
 * it, and reads go on. The store error is a file-size limit (RLIMIT_FSIZE) put on the
 * running agentcomd with prlimit: no root, no mounts, no fault hooks in the server.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "agent_server_fixture.h"
#include "test_server.h"

#define WAL_FILE "agentcom.db-wal" /* the store's file (src/store/store.c) plus "-wal" */

/* The server's file-size limit before freeze(), put back by thaw(). */
static struct rlimit fsize_before;
static bool is_frozen;

static off_t wal_len(void)
{
	char path[300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", srv.dir, WAL_FILE);
	cr_assert_eq(stat(path, &st), 0, "stat %s: %s", path, strerror(errno));
	return st.st_size;
}

/* Makes every commit fail from now on. Between checkpoints the WAL only grows (frames
 * are appended; checkpoints start 4000 pages away), so with the limit at its
 * current length the next commit's frames start at the limit and their write fails
 * with EFBIG, which SQLite reports as a disk I/O error. server.log and the main
 * database file are far below the limit, so logging goes on. */
static void freeze(void)
{
	struct rlimit lim;

	cr_assert_eq(prlimit(srv.pid, RLIMIT_FSIZE, NULL, &fsize_before), 0, "prlimit: %s",
	    strerror(errno));
	lim.rlim_cur = (rlim_t)wal_len();
	lim.rlim_max = fsize_before.rlim_max;
	cr_assert_gt(lim.rlim_cur, 0);
	cr_assert_lt(lim.rlim_cur, fsize_before.rlim_cur, "the limit would not go down");
	cr_assert_eq(prlimit(srv.pid, RLIMIT_FSIZE, &lim, NULL), 0, "prlimit: %s", strerror(errno));
	is_frozen = true;
}

/* Lifts the limit again (to what it was, normally RLIM_INFINITY). */
static void thaw(void)
{
	if (is_frozen && srv.pid > 0) {
		cr_assert_eq(prlimit(srv.pid, RLIMIT_FSIZE, &fsize_before, NULL), 0, "prlimit: %s",
		    strerror(errno));
	}
	is_frozen = false;
}

/* A test that fails while frozen still stops the server cleanly (its close checkpoints). */
static void thaw_and_teardown(void)
{
	thaw();
	teardown();
}

TestSuite(store_fail, .fini = thaw_and_teardown);

/* An error reply with the wire code "unavailable" (proto/ops.md); frees r. */
static void expect_unavailable(ac_reply *r, const char *what)
{
	char code[64] = "";

	cr_assert_not(ac_reply_ok(r), "%s: accepted while the store fails", what);
	cr_assert(ac_reply_str(r, "error.code", code, sizeof(code)), "%s: no error.code", what);
	cr_assert_str_eq(code, "unavailable", "%s: %s (%s)", what, code, ac_reply_message(r));
	ac_ts_expect_err(r, AC_EUNAVAIL, NULL, what);
}

static uint64_t stat_of(const char *path)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	uint64_t n;

	cr_assert(ac_reply_ok(r), "stats: %s", ac_reply_message(r));
	n = ac_ts_u64(r, path);
	ac_reply_free(r);
	return n;
}

/* The scheduler hears of a failed submit's removal on another inproc pipe than the
 * stats request that follows the reply, so it may lag that request a little: poll
 * (every 10 ms, up to 5 s) until the count is back. */
static bool pending_back_to(uint64_t n)
{
	for (int i = 0; i < 500; i++) {
		if (stat_of("routing.pending") == n) {
			return true;
		}
		usleep(10 * 1000);
	}
	return false;
}

static void expect_task(uint64_t id, const char *status, const char *description)
{
	ac_reply *r = ac_ts_get(cli, id);

	ac_ts_expect_str(r, "task.status", status);
	ac_ts_expect_str(r, "task.description", description);
	ac_reply_free(r);
}

/* task.list (every status) holds exactly ids[0..count), in that order. */
static void expect_list(const uint64_t *ids, uint32_t count)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.list\"}");
	const msgpack_object *tasks = ac_reply_get(r, "tasks");

	cr_assert(ac_reply_ok(r), "task.list: %s", ac_reply_message(r));
	cr_assert_eq(tasks->via.array.size, count, "task.list has %u tasks, want %u",
	    tasks->via.array.size, count);
	for (uint32_t i = 0; i < count; i++) {
		char path[32];
		snprintf(path, sizeof(path), "tasks[%u].id", i);
		cr_assert_eq(ac_ts_u64(r, path), ids[i], "task.list position %u", i);
	}
	ac_reply_free(r);
}

/* What a frozen server still answers: ping, get, list, stats; the failed submit (the
 * id after kept) is nowhere. */
static void reads_go_on(uint64_t kept)
{
	ac_ts_expect_ok(ac_ts_call(cli, "{\"op\":\"ping\"}"), "ping");
	expect_task(kept, "queued", "kept");
	ac_ts_expect_err(ac_ts_call(cli, "{\"op\":\"task.get\",\"id\":%llu}",
	                     (unsigned long long)(kept + 1)),
	    AC_ENOTFOUND, NULL, "task.get of the failed submit");
	expect_list(&kept, 1);
	cr_assert_eq(stat_of("queue.by_status.queued"), 1);
	cr_assert_eq(stat_of("queue.by_priority.normal"), 1);
}

/* The failed submit is gone from memory, from the idempotency keys and from the
 * scheduler, which heard of it before the commit: it no longer counts it as pending,
 * and its proposal to a waiting fetch is refused, so the fetch keeps waiting and gets
 * the first task that commits. */
Test(store_fail, a_failed_submit_leaves_no_trace, .timeout = 30)
{
	uint64_t kept, pending, after, ids[2];
	ac_client *agent;
	ac_ts_bg fetch;
	ac_reply *r;
	bool dup = true;

	boot(NULL);
	agent = ac_ts_client(&srv);
	ac_ts_hello(agent, "waiter", "");
	/* a capability the waiter lacks: kept stays queued beside the held fetch */
	kept = ac_ts_submit(cli, "\"description\":\"kept\",\"needed_capabilities\":[\"gpu\"]");
	pending = stat_of("routing.pending");
	freeze();
	expect_unavailable(ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"lost\","
	                                   "\"idempotency_key\":\"k-lost\"}"),
	    "task.submit");
	cr_assert(pending_back_to(pending), "the scheduler still has the failed task");
	reads_go_on(kept);
	/* now with an agent waiting when the queue tells the scheduler of the task */
	ac_ts_bg_start(&fetch, agent,
	    "{\"op\":\"agent.fetch\",\"agent_id\":\"waiter\",\"wait_ms\":5000}");
	cr_assert(ac_ts_wait_held_fetches(cli, 1, 5000));
	expect_unavailable(ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"lost too\"}"),
	    "task.submit with an agent waiting");
	expect_list(&kept, 1);
	thaw();
	r = ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"after\","
	                    "\"idempotency_key\":\"k-lost\"}");
	cr_assert(ac_reply_ok(r), "submit after the store came back: %s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "duplicate", &dup) && !dup, "the failed submit kept its key");
	ac_ts_expect_str(r, "task.description", "after");
	after = ac_ts_u64(r, "task.id");
	ac_reply_free(r);
	r = ac_ts_bg_join(&fetch);
	cr_assert(ac_ts_has_task(r), "the waiting fetch got nothing after the store came back");
	cr_assert_eq(ac_ts_u64(r, "task.id"), after, "the waiting fetch got task %llu, not %llu",
	    (unsigned long long)ac_ts_u64(r, "task.id"), (unsigned long long)after);
	ac_reply_free(r);
	expect_task(kept, "queued", "kept");
	expect_task(after, "assigned", "after");
	ids[0] = kept, ids[1] = after;
	expect_list(ids, 2);
	cr_assert_eq(stat_of("queue.by_status.queued"), 1);
	cr_assert_eq(stat_of("queue.by_status.assigned"), 1);
	ac_client_close(agent);
}

/* A cancel whose commit fails changes nothing: the task is still queued, with no
 * `cancelled` in its history or the counters, and the scheduler still offers it. */
Test(store_fail, a_failed_cancel_keeps_the_task_queued, .timeout = 30)
{
	uint64_t id;
	ac_reply *r;

	boot(NULL);
	id = ac_ts_submit(cli, "\"description\":\"not cancelled\"");
	freeze();
	expect_unavailable(ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}",
	                       (unsigned long long)id),
	    "task.cancel");
	r = ac_ts_get(cli, id);
	ac_ts_expect_str(r, "task.status", "queued");
	/* (a "fallback" entry may come first: standard tasks fall back at once here) */
	cr_assert(ac_ts_history_has(r, "queued", "submitted"));
	cr_assert_not(ac_ts_history_has(r, "cancelled", NULL), "the failed cancel is in the history");
	ac_reply_free(r);
	cr_assert_eq(stat_of("queue.by_status.queued"), 1);
	cr_assert_eq(stat_of("queue.by_status.cancelled"), 0);
	thaw();
	ac_ts_hello(cli, "late", "");
	cr_assert_eq(ac_ts_fetch(cli, "late", 2000, false, NULL), id,
	    "the task whose cancel failed was not delivered");
	expect_task(id, "assigned", "not cancelled");
	/* and the store takes a cancel again */
	ac_ts_expect_ok(
	    ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id),
	    "task.cancel after the store came back");
	expect_task(id, "cancelled", "not cancelled");
}

/* A complete with fetch_wait_ms sends its fetch on before it commits (so that the
 * next assignment can share the commit). When that commit fails, the agent hears
 * only `unavailable`: its task is still working under it, the next task is not
 * handed to it, and completing again works and brings that next task. */
Test(store_fail, a_failed_complete_with_fetch_hands_out_nothing, .timeout = 30)
{
	uint64_t first, next, gen, gen_next;
	ac_reply *r;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	first = ac_ts_submit(cli, "\"description\":\"first\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &gen), first);
	next = ac_ts_submit(cli, "\"description\":\"next\"");
	freeze();
	/* without accept: a plain delivery would leave before any commit, were it not
	 * for the completion it rides on */
	expect_unavailable(ac_ts_fenced(cli, "task.complete", "w", first, gen,
	                       ",\"fetch_wait_ms\":1000"),
	    "task.complete with fetch_wait_ms");
	expect_task(first, "working", "first");
	expect_task(next, "queued", "next");
	thaw();
	r = ac_ts_fenced(cli, "task.complete", "w", first, gen,
	    ",\"fetch_wait_ms\":1000,\"accept\":true");
	cr_assert(ac_reply_ok(r), "complete after the store came back: %s", ac_reply_message(r));
	cr_assert(ac_ts_has_task(r), "the next task did not come with the completion");
	cr_assert_eq(ac_ts_u64(r, "task.id"), next);
	gen_next = ac_ts_u64(r, "task.generation");
	ac_reply_free(r);
	expect_task(first, "completed", "first");
	expect_task(next, "working", "next");
	cr_assert_gt(gen_next, 0);
}

/* Same with nothing to hand out: the scheduler's "no task" for a fetch of
 * fetch_wait_ms 0 is ready at once, before the completion's commit has failed; it
 * must wait for that commit and give way to `unavailable`. */
Test(store_fail, a_failed_complete_with_an_empty_fetch_is_unavailable, .timeout = 30)
{
	uint64_t id, gen;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	id = ac_ts_submit(cli, "\"description\":\"only\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &gen), id);
	freeze();
	expect_unavailable(ac_ts_fenced(cli, "task.complete", "w", id, gen, ",\"fetch_wait_ms\":0"),
	    "task.complete with fetch_wait_ms 0");
	expect_task(id, "working", "only");
	thaw();
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", id, gen, ",\"fetch_wait_ms\":0"),
	    "task.complete after the store came back");
	expect_task(id, "completed", "only");
}

/* The fetch of a completion whose commit failed is dead: the request got `unavailable`.
 * A task that comes while the scheduler still holds that fetch must not go to it (it
 * would sit `working` for an agent that never heard of it): the agent's next fetch
 * gets it. */
Test(store_fail, the_fetch_of_a_failed_completion_takes_no_task, .timeout = 30)
{
	uint64_t first, gen, later;

	boot(NULL);
	ac_ts_hello(cli, "w", "");
	first = ac_ts_submit(cli, "\"description\":\"first\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 2000, true, &gen), first);
	freeze();
	expect_unavailable(ac_ts_fenced(cli, "task.complete", "w", first, gen,
	                       ",\"fetch_wait_ms\":8000,\"accept\":true"),
	    "task.complete with fetch_wait_ms 8000");
	thaw();
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "w", first, gen, ""),
	    "plain complete after the store came back");
	later = ac_ts_submit(cli, "\"description\":\"later\"");
	cr_assert_eq(ac_ts_fetch(cli, "w", 3000, true, NULL), later,
	    "the task went to the dead fetch of the failed completion");
	expect_task(later, "working", "later");
}

/* A cancel of a working task tells its agent to abort on the next heartbeat, but only
 * once the cancel is durable: when its commit fails, the task stays the agent's and
 * no heartbeat says abort. */
Test(store_fail, a_failed_cancel_of_a_working_task_sends_no_abort, .timeout = 30)
{
	uint64_t id, gen;
	ac_reply *r;

	boot(NULL);
	id = ac_ts_submit(cli, "\"description\":\"keep working\"");
	ac_ts_hello(cli, "busy", "");
	cr_assert_eq(ac_ts_fetch(cli, "busy", 2000, true, &gen), id);
	freeze();
	expect_unavailable(ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}",
	                       (unsigned long long)id),
	    "task.cancel");
	r = ac_ts_call(cli, "{\"op\":\"agent.heartbeat\",\"agent_id\":\"busy\"}");
	cr_assert(ac_reply_ok(r), "heartbeat: %s", ac_reply_message(r));
	cr_assert_null(ac_reply_get(r, "abort[0]"), "told to abort a task whose cancel failed");
	ac_reply_free(r);
	thaw();
	expect_task(id, "working", "keep working");
	ac_ts_expect_ok(ac_ts_fenced(cli, "task.complete", "busy", id, gen, ""),
	    "the agent still completes its task");
	expect_task(id, "completed", "keep working");
}

/* The same for a task.progress that shares the failed cancel's batch: it may hear
 * `unavailable`, never `abort: true` for a task that is still the agent's. */
Test(store_fail, progress_beside_a_failed_cancel_is_never_told_to_abort, .timeout = 60)
{
	ac_client *canceller = NULL;
	uint64_t id, gen;
	int shared = 0;

	boot(NULL);
	id = ac_ts_submit(cli, "\"description\":\"keep working\"");
	ac_ts_hello(cli, "busy", "");
	cr_assert_eq(ac_ts_fetch(cli, "busy", 2000, true, &gen), id);
	canceller = ac_ts_client(&srv);
	freeze();
	for (int i = 0; i < 60; i++) {
		ac_ts_bg bg;
		ac_reply *r;
		bool abort = false;

		ac_ts_bg_start(&bg, canceller, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id);
		r = ac_ts_fenced(cli, "task.progress", "busy", id, gen, "");
		if (ac_reply_ok(r)) {
			cr_assert(ac_reply_bool(r, "abort", &abort));
			cr_assert_not(abort, "round %d: told to abort a task whose cancel failed", i);
		} else {
			cr_assert_eq(ac_reply_error(r), AC_EUNAVAIL, "round %d: %s", i, ac_reply_message(r));
			shared++;
		}
		ac_reply_free(r);
		expect_unavailable(ac_ts_bg_join(&bg), "task.cancel");
	}
	cr_log_info("%d of 60 progress reports shared the failed cancel's batch", shared);
	thaw();
	expect_task(id, "working", "keep working");
	ac_client_close(canceller);
}
