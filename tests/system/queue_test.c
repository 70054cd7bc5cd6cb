/* SPDX-License-Identifier: MIT
 * System tests of the durable queue (DESIGN §3, §4 task ops, §7, §8): submit with every
 * field, validation errors naming the field, idempotency, list order and paging,
 * cancel/retry transitions, batches, stats, survival across a restart, and the summary
 * line a stopping server logs.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "agentcom/json.h"
#include "test_server.h"

static ac_test_server srv;
static ac_client *cli;

static void start(void)
{
	cr_assert(ac_ts_start(&srv, NULL));
	cli = ac_ts_client(&srv);
}

static void stop(void)
{
	ac_client_close(cli);
	ac_ts_cleanup(&srv);
}

TestSuite(queue, .init = start, .fini = stop, .timeout = 60);

static void expect_invalid(const char *json, const char *field)
{
	ac_reply *r = ac_ts_call(cli, "%s", json);

	cr_assert_not(ac_reply_ok(r), "accepted: %s", json);
	cr_assert_eq(ac_reply_error(r), AC_EINVAL, "%s -> %s", json, ac_strerror(ac_reply_error(r)));
	cr_assert_str_eq(ac_reply_field(r), field, "%s", json);
	ac_reply_free(r);
}

static uint64_t submit(const char *fields)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit\",%s}", fields);
	uint64_t id = 0;

	cr_assert(ac_reply_ok(r), "submit %s: %s", fields, ac_reply_message(r));
	cr_assert(ac_reply_u64(r, "task.id", &id));
	ac_reply_free(r);
	return id;
}

static void expect_str(ac_reply *r, const char *path, const char *want)
{
	char buf[256];

	cr_assert(ac_reply_str(r, path, buf, sizeof(buf)), "missing %s", path);
	cr_assert_str_eq(buf, want, "%s", path);
}

#define FULL_TASK                                                                           \
	"\"description\":\"Refactor the auth module\",\"priority\":\"high\","              \
	"\"max_retries\":5,\"ttl_ms\":90000,\"needed_capabilities\":[\"code\",\"review\"],"   \
	"\"targets\":[\"ollama\",\"claude\"],\"model\":\"qwen2.5-coder:7b\","               \
	"\"repo\":\"https://example.org/r.git\",\"branch\":\"main\","                        \
	"\"file_hints\":[{\"path\":\"src/a.c\",\"reason\":\"entry\"},{\"path\":\"src/b.c\"}]," \
	"\"success_criteria\":[\"tests pass\"],"                                             \
	"\"verification_steps\":[{\"type\":\"test_passes\",\"target\":\"make test\"}],"       \
	"\"metadata\":{\"team\":\"core\",\"n\":[1,2,{\"deep\":true}]},"                       \
	"\"submitted_by\":\"alice\",\"idempotency_key\":\"k-full\""

static void check_full_task(ac_reply *r)
{
	uint64_t n;
	bool b;

	expect_str(r, "task.description", "Refactor the auth module");
	expect_str(r, "task.priority", "high");
	expect_str(r, "task.status", "queued");
	cr_assert(ac_reply_u64(r, "task.max_retries", &n) && n == 5);
	cr_assert(ac_reply_u64(r, "task.ttl_ms", &n) && n == 90000);
	expect_str(r, "task.needed_capabilities[1]", "review");
	expect_str(r, "task.targets[1]", "claude");
	expect_str(r, "task.model", "qwen2.5-coder:7b");
	expect_str(r, "task.repo", "https://example.org/r.git");
	expect_str(r, "task.branch", "main");
	expect_str(r, "task.file_hints[0].reason", "entry");
	expect_str(r, "task.file_hints[1].path", "src/b.c");
	expect_str(r, "task.success_criteria[0]", "tests pass");
	expect_str(r, "task.verification_steps[0].target", "make test");
	expect_str(r, "task.metadata.team", "core");
	cr_assert(ac_reply_bool(r, "task.metadata.n[2].deep", &b) && b);
	expect_str(r, "task.submitted_by", "alice");
	expect_str(r, "task.idempotency_key", "k-full");
	expect_str(r, "task.complexity.effective_tier", "complex");
	expect_str(r, "task.complexity.source", "inferred");
	expect_str(r, "task.history[0].event", "queued");
	cr_assert(ac_reply_u64(r, "task.generation", &n) && n == 0);
}

Test(queue, every_field_survives_submit_restart_get)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit\"," FULL_TASK "}");
	uint64_t id;

	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	check_full_task(r);
	cr_assert(ac_reply_u64(r, "task.id", &id));
	ac_reply_free(r);
	ac_client_close(cli);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	cr_assert(ac_ts_restart(&srv, NULL));
	cli = ac_ts_client(&srv);
	r = ac_ts_call(cli, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)id);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	check_full_task(r);
	ac_reply_free(r);
}

Test(queue, invalid_input_names_the_field)
{
	expect_invalid("{\"op\":\"task.submit\"}", "description");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"\"}", "description");
	expect_invalid("{\"op\":\"task.submit\",\"description\":7}", "description");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"priority\":\"asap\"}", "priority");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"max_retries\":21}", "max_retries");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"targets\":[\"gpu\"]}", "targets[0]");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"file_hints\":"
	               "[{\"path\":\"a\"},{\"path\":\"b\"},{\"reason\":\"no path\"}]}",
	    "file_hints[2].path");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"verification_steps\":"
	               "[{\"type\":\"t\"}]}",
	    "verification_steps[0].target");
	expect_invalid("{\"op\":\"task.submit\",\"description\":\"x\",\"metadata\":[1]}", "metadata");
	expect_invalid("{\"op\":\"task.get\",\"id\":\"seven\"}", "id");
	expect_invalid("{\"op\":\"task.list\",\"limit\":1001}", "limit");
	expect_invalid("{\"op\":\"task.list\",\"status\":\"done\"}", "status");
}

Test(queue, oversized_fields_are_rejected)
{
	size_t len = 10001 + 200;
	char *json = malloc(len + 100);
	int n = snprintf(json, len + 100, "{\"op\":\"task.submit\",\"description\":\"");

	memset(json + n, 'a', 10001);
	strcpy(json + n + 10001, "\"}");
	expect_invalid(json, "description");
	/* exactly 10 000 bytes is fine */
	json[n + 10000] = '"', json[n + 10001] = '}', json[n + 10002] = '\0';
	ac_reply *r = ac_ts_call(cli, "%s", json);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_reply_free(r);
	free(json);
}

Test(queue, idempotency_key_returns_the_original)
{
	uint64_t a = submit("\"description\":\"once\",\"idempotency_key\":\"same\"");
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"twice\","
	                              "\"idempotency_key\":\"same\"}");
	uint64_t b;
	bool dup = false;

	cr_assert(ac_reply_ok(r));
	cr_assert(ac_reply_u64(r, "task.id", &b));
	cr_assert_eq(a, b);
	cr_assert(ac_reply_bool(r, "duplicate", &dup) && dup);
	expect_str(r, "task.description", "once");
	ac_reply_free(r);
}

Test(queue, get_unknown_is_not_found)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.get\",\"id\":424242}");

	cr_assert_eq(ac_reply_error(r), AC_ENOTFOUND);
	ac_reply_free(r);
}

Test(queue, queued_list_is_in_dispatch_order_and_pages)
{
	static const char *const prios[] = { "low", "normal", "urgent", "high", "urgent", "low" };
	static const char *const want[] = { "urgent", "urgent", "high", "normal", "low", "low" };
	uint64_t ids[6];
	char next[128], p[32];
	ac_reply *r;

	for (int i = 0; i < 6; i++) {
		char f[128];
		snprintf(f, sizeof(f), "\"description\":\"t%d\",\"priority\":\"%s\"", i, prios[i]);
		ids[i] = submit(f);
	}
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"status\":\"queued\",\"limit\":4}");
	cr_assert(ac_reply_ok(r));
	for (int i = 0; i < 4; i++) {
		char path[32];
		snprintf(path, sizeof(path), "tasks[%d].priority", i);
		cr_assert(ac_reply_str(r, path, p, sizeof(p)));
		cr_assert_str_eq(p, want[i], "position %d", i);
	}
	/* FIFO inside the urgent lane */
	uint64_t first;
	cr_assert(ac_reply_u64(r, "tasks[0].id", &first) && first == ids[2]);
	cr_assert(ac_reply_str(r, "next", next, sizeof(next)));
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"status\":\"queued\",\"limit\":4,\"cursor\":\"%s\"}",
	    next);
	cr_assert(ac_reply_ok(r));
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 2);
	cr_assert(ac_reply_str(r, "tasks[1].priority", p, sizeof(p)));
	cr_assert_str_eq(p, "low");
	cr_assert_null(ac_reply_get(r, "next"));
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.list\",\"status\":\"queued\",\"priority\":\"low\"}");
	cr_assert_eq(ac_reply_get(r, "tasks")->via.array.size, 2);
	ac_reply_free(r);
}

Test(queue, list_by_id_pages_through_everything)
{
	uint64_t seen = 0, last = 0;
	char next[128] = "";

	for (int i = 0; i < 25; i++) {
		submit("\"description\":\"page me\"");
	}
	for (;;) {
		ac_reply *r = next[0] ? ac_ts_call(cli, "{\"op\":\"task.list\",\"limit\":10,\"cursor\":\"%s\"}", next)
		                      : ac_ts_call(cli, "{\"op\":\"task.list\",\"limit\":10}");
		const msgpack_object *tasks = ac_reply_get(r, "tasks");
		cr_assert(ac_reply_ok(r));
		for (uint32_t i = 0; i < tasks->via.array.size; i++) {
			char path[32];
			uint64_t id;
			snprintf(path, sizeof(path), "tasks[%u].id", i);
			cr_assert(ac_reply_u64(r, path, &id));
			cr_assert_gt(id, last, "ids ascend across pages");
			last = id;
			seen++;
		}
		bool more = ac_reply_str(r, "next", next, sizeof(next));
		ac_reply_free(r);
		if (!more) {
			break;
		}
	}
	cr_assert_eq(seen, 25);
}

Test(queue, cancel_and_retry_follow_the_state_machine)
{
	uint64_t id = submit("\"description\":\"cancel me\"");
	ac_reply *r;
	uint64_t gen;

	r = ac_ts_call(cli, "{\"op\":\"task.retry\",\"id\":%llu}", (unsigned long long)id);
	cr_assert_eq(ac_reply_error(r), AC_ECONFLICT, "retry of a queued task");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	expect_str(r, "task.status", "cancelled");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id);
	cr_assert_eq(ac_reply_error(r), AC_ECONFLICT, "cancel of a cancelled task");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.get\",\"id\":%llu}", (unsigned long long)id);
	expect_str(r, "task.status", "cancelled");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.retry\",\"id\":%llu}", (unsigned long long)id);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	expect_str(r, "task.status", "queued");
	cr_assert(ac_reply_u64(r, "task.generation", &gen) && gen == 1);
	ac_reply_free(r);
}

/* The operator's last line about a run: its length and what happened to its tasks. */
Test(queue, shutdown_logs_a_summary_of_the_run)
{
	uint64_t id = submit("\"description\":\"kept\"");
	ac_reply *r;
	char line[1024];
	bool found = false;
	FILE *f;

	submit("\"description\":\"cancelled\"");
	r = ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id + 1);
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	ac_reply_free(r);
	cr_assert_eq(ac_ts_stop(&srv), 0);
	cr_assert_not_null(f = fopen(srv.log_path, "r"));
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		found = strstr(line, " telemetry summary ") != NULL;
	}
	fclose(f);
	cr_assert(found, "no summary line in %s", srv.log_path);
	cr_expect(strstr(line, " uptime_s=") != NULL, "%s", line);
	cr_expect(strstr(line, " tasks_submitted=2 ") != NULL, "%s", line);
	cr_expect(strstr(line, " tasks_cancelled=1") != NULL, "%s", line);
	cr_expect(strstr(line, " tasks_completed=0 ") != NULL, "%s", line);
}

Test(queue, batch_reports_each_item)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit_batch\",\"tasks\":["
	                              "{\"description\":\"one\"},{\"priority\":\"high\"},"
	                              "{\"description\":\"three\",\"priority\":\"low\"}]}");
	bool ok;

	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "results[0].ok", &ok) && ok);
	cr_assert(ac_reply_bool(r, "results[1].ok", &ok) && !ok);
	expect_str(r, "results[1].error.code", "invalid_argument");
	expect_str(r, "results[1].error.field", "description");
	expect_str(r, "results[2].task.priority", "low");
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.submit_batch\",\"tasks\":[5,{\"description\":\"two\"}]}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_bool(r, "results[0].ok", &ok) && !ok);
	expect_str(r, "results[0].error.code", "invalid_argument");
	expect_str(r, "results[0].error.message", "must be a task map");
	cr_assert(ac_reply_bool(r, "results[1].ok", &ok) && ok);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"task.submit_batch\",\"tasks\":{\"description\":\"x\"}}");
	cr_assert_eq(ac_reply_error(r), AC_EINVAL);
	cr_assert_str_eq(ac_reply_field(r), "tasks");
	ac_reply_free(r);
}

Test(queue, stats_count_by_status_and_priority)
{
	uint64_t n;
	ac_reply *r;
	uint64_t id = submit("\"description\":\"a\",\"priority\":\"urgent\"");

	submit("\"description\":\"b\"");
	r = ac_ts_call(cli, "{\"op\":\"task.cancel\",\"id\":%llu}", (unsigned long long)id);
	ac_reply_free(r);
	r = ac_ts_call(cli, "{\"op\":\"stats\"}");
	cr_assert(ac_reply_ok(r), "%s", ac_reply_message(r));
	cr_assert(ac_reply_u64(r, "queue.by_status.queued", &n) && n == 1);
	cr_assert(ac_reply_u64(r, "queue.by_status.cancelled", &n) && n == 1);
	cr_assert(ac_reply_u64(r, "queue.by_priority.normal", &n) && n == 1);
	cr_assert(ac_reply_u64(r, "queue.by_priority.urgent", &n) && n == 0);
	cr_assert_not_null(ac_reply_get(r, "uptime_ms"));
	ac_reply_free(r);
}

Test(queue, delay_sets_not_before)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"later\",\"delay_ms\":60000}");
	int64_t created, not_before;

	cr_assert(ac_reply_ok(r));
	cr_assert(ac_reply_i64(r, "task.created_at_ms", &created));
	cr_assert(ac_reply_i64(r, "task.not_before_ms", &not_before));
	cr_assert_eq(not_before - created, 60000);
	ac_reply_free(r);
}

Test(queue, explicit_tier_disagreement_is_kept)
{
	ac_reply *r = ac_ts_call(cli, "{\"op\":\"task.submit\",\"description\":\"fix typo in readme\","
	                              "\"complexity_tier\":\"complex\"}");

	expect_str(r, "task.complexity.effective_tier", "complex");
	expect_str(r, "task.complexity.explicit_tier", "complex");
	expect_str(r, "task.complexity.source", "explicit");
	expect_str(r, "task.complexity.inferred.tier", "trivial");
	ac_reply_free(r);
}
