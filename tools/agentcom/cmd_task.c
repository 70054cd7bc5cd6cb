/* SPDX-License-Identifier: MIT
 * CLI commands on tasks by id and the task listing (DESIGN §4): get, cancel, retry and
 * list (one page, or every page with --all). Builds requests and picks what to print;
 * the views themselves are in cmd_task_print.c, submit is in cmd_submit.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentcom/json.h"
#include "cli.h"
#include "codec/mpw.h"

#define LIST_WIDTH 100     /* a list row ends before this column */
#define LIST_DESC_MIN 11   /* but DESCRIPTION keeps at least this many characters */
#define CURSOR_MAX 256     /* the server's cursors are at most 128 bytes */

/* Sends {op, id: ID} and reports the reply through show. */
static int
run_id_op(ac_cli *cli, const char *op, ac_cli_show_fn show)
{
	uint64_t id = 0;
	ac_mpw w;
	int rc;

	if ((rc = ac_cli_parse_u64(cli, "ID", cli->args[0], &id)) != AC_CLI_EXIT_OK) {
		return rc;
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, 2);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, op);
	ac_mpw_key(&w, "id");
	ac_mpw_u64(&w, id);
	rc = w.err != AC_OK ? ac_cli_fail(op) : ac_cli_run(cli, ac_mpw_data(&w), ac_mpw_len(&w), show);
	ac_mpw_fini(&w);
	return rc;
}

static int
show_task(ac_cli *cli, const ac_reply *r)
{
	const msgpack_object *task = ac_reply_get(r, "task");

	(void)cli;
	if (task == NULL || task->type != MSGPACK_OBJECT_MAP) {
		fputs("agentcom: the reply carries no task\n", stderr);
		return AC_CLI_EXIT_REPLY;
	}
	ac_cli_print_task(stdout, task);
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_get(ac_cli *cli)
{
	return run_id_op(cli, "task.get", show_task);
}

/* "task 42 cancelled" */
static int
show_cancelled(ac_cli *cli, const ac_reply *r)
{
	char id[32];

	(void)cli;
	ac_cli_format_value(ac_reply_get(r, "task.id"), id, sizeof(id));
	printf("task %s cancelled\n", id);
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_cancel(ac_cli *cli)
{
	return run_id_op(cli, "task.cancel", show_cancelled);
}

/* "task 42 queued again (generation 3)" */
static int
show_retried(ac_cli *cli, const ac_reply *r)
{
	char id[32], generation[32];

	(void)cli;
	ac_cli_format_value(ac_reply_get(r, "task.id"), id, sizeof(id));
	ac_cli_format_value(ac_reply_get(r, "task.generation"), generation, sizeof(generation));
	printf("task %s queued again (generation %s)\n", id, generation);
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_retry(ac_cli *cli)
{
	return run_id_op(cli, "task.retry", show_retried);
}

/* --- list --- */

/* The string filters of list and their keys; --limit and --cursor are written apart. */
static const char *const list_filters[][2] = {
	{ "--status", "status" },
	{ "--priority", "priority" },
	{ "--assigned-to", "assigned_to" },
};
#define LIST_FILTER_COUNT (sizeof(list_filters) / sizeof(list_filters[0]))

/* What one `agentcom list` run keeps across pages. */
typedef struct list_run {
	bool is_json;       /* collect maps for JSON rather than rows */
	bool has_limit;
	uint64_t limit;
	ac_cli_table table; /* human output: the header, then every page's rows */
	ac_mpw tasks;       /* --json --all: every page's task maps, one after another */
	uint32_t task_count;
} list_run;

/* Sends one task.list request for the page at cursor (NULL: the first). */
static int
fetch_page(ac_cli *cli, const list_run *run, const char *cursor, ac_reply **reply)
{
	uint32_t count = 1 + run->has_limit + (cursor != NULL);
	ac_mpw w;
	int rc;

	for (size_t i = 0; i < LIST_FILTER_COUNT; i++) {
		count += ac_cli_opt(cli, list_filters[i][0]) != NULL;
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, count);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, "task.list");
	for (size_t i = 0; i < LIST_FILTER_COUNT; i++) {
		if (ac_cli_opt(cli, list_filters[i][0]) != NULL) {
			ac_mpw_key(&w, list_filters[i][1]);
			ac_mpw_cstr(&w, ac_cli_opt(cli, list_filters[i][0]));
		}
	}
	if (run->has_limit) {
		ac_mpw_key(&w, "limit");
		ac_mpw_u64(&w, run->limit);
	}
	if (cursor != NULL) {
		ac_mpw_key(&w, "cursor");
		ac_mpw_cstr(&w, cursor);
	}
	rc = w.err != AC_OK ? ac_cli_fail("list") :
	    ac_cli_request(cli, ac_mpw_data(&w), ac_mpw_len(&w), reply);
	ac_mpw_fini(&w);
	return rc;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The page's tasks, as table rows and (for --json) as maps. */
static void
collect_page(list_run *run, const ac_reply *r)
{
	const msgpack_object *tasks = ac_reply_get(r, "tasks");
	int64_t now = now_ms();

	for (uint32_t i = 0; tasks != NULL && tasks->type == MSGPACK_OBJECT_ARRAY &&
	    i < tasks->via.array.size; i++) {
		if (run->is_json) {
			ac_mpw_object(&run->tasks, &tasks->via.array.ptr[i]);
		} else {
			ac_cli_task_row(&run->table, &tasks->via.array.ptr[i], now);
		}
		run->task_count++;
	}
}

static bool
print_rows(list_run *run)
{
	ac_cli_table_fit(&run->table, LIST_WIDTH, LIST_DESC_MIN);
	return ac_cli_table_print(&run->table, stdout);
}

/* A command-line word, in single quotes unless it is plainly safe for a shell. */
static void
print_word(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:/=@+-,") == n) {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			fputs("'\\''", stdout);
		} else {
			ac_cli_print_text(stdout, s, 1);
		}
	}
	putchar('\'');
}

/* "next page: agentcom list --status queued --limit 10 --cursor q.2.1700000000000.7" */
static void
print_next(const ac_cli *cli, const char *next)
{
	static const char *const opts[] = { "--status", "--priority", "--assigned-to", "--limit" };

	fputs("next page: agentcom list", stdout);
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (ac_cli_opt(cli, opts[i]) != NULL) {
			printf(" %s ", opts[i]);
			print_word(ac_cli_opt(cli, opts[i]));
		}
	}
	fputs(" --cursor ", stdout);
	print_word(next);
	putchar('\n');
}

/* One page for humans: the table, then how to get the next page. */
static int
show_page(ac_cli *cli, const ac_reply *r)
{
	list_run run = { .has_limit = false };
	char next[CURSOR_MAX];
	bool is_printed;

	ac_cli_table_init(&run.table, AC_CLI_TASK_COLUMNS);
	ac_cli_task_header(&run.table);
	ac_mpw_init(&run.tasks);
	collect_page(&run, r);
	is_printed = print_rows(&run);
	ac_mpw_fini(&run.tasks);
	ac_cli_table_fini(&run.table);
	if (!is_printed) {
		return ac_cli_fail("list");
	}
	if (ac_reply_str(r, "next", next, sizeof(next))) {
		print_next(cli, next);
	}
	return AC_CLI_EXIT_OK;
}

/* --json --all: one JSON array of every task. */
static int
print_all_json(const list_run *run)
{
	char *json = NULL;
	ac_mpw w;
	int rc = AC_CLI_EXIT_OK;

	ac_mpw_init(&w);
	ac_mpw_array(&w, run->task_count);
	ac_mpw_raw(&w, ac_mpw_data(&run->tasks), ac_mpw_len(&run->tasks));
	if (w.err != AC_OK || run->tasks.err != AC_OK ||
	    ac_msgpack_to_json(ac_mpw_data(&w), ac_mpw_len(&w), AC_JSON_PRETTY, &json) != AC_OK) {
		rc = ac_cli_fail("list");
	} else {
		puts(json);
	}
	free(json);
	ac_mpw_fini(&w);
	return rc;
}

/* Follows `next` from the page at cursor to the end; a server that hands back the
 * cursor it was given would loop forever, so that stops the listing. */
static int
fetch_all(ac_cli *cli, list_run *run, const char *cursor)
{
	char cur[CURSOR_MAX], next[CURSOR_MAX];
	ac_reply *r = NULL;
	int rc;

	for (;;) {
		if ((rc = fetch_page(cli, run, cursor, &r)) != AC_CLI_EXIT_OK) {
			return rc;
		}
		if (!ac_reply_ok(r)) {
			rc = ac_cli_report(cli, r, NULL);
			break;
		}
		collect_page(run, r);
		if (!ac_reply_str(r, "next", next, sizeof(next))) {
			break;
		}
		if (cursor != NULL && strcmp(cursor, next) == 0) {
			fprintf(stderr, "agentcom: list: the server returned cursor %s again\n", next);
			rc = AC_CLI_EXIT_REPLY;
			break;
		}
		memcpy(cur, next, sizeof(cur));
		cursor = cur;
		ac_reply_free(r);
		r = NULL;
	}
	ac_reply_free(r);
	return rc;
}

static int
list_all(ac_cli *cli, list_run *run)
{
	int rc = fetch_all(cli, run, ac_cli_opt(cli, "--cursor"));

	if (rc != AC_CLI_EXIT_OK) {
		return rc;
	}
	if (cli->is_json) {
		return print_all_json(run);
	}
	return print_rows(run) ? AC_CLI_EXIT_OK : ac_cli_fail("list");
}

int
ac_cli_cmd_list(ac_cli *cli)
{
	const char *limit = ac_cli_opt(cli, "--limit");
	list_run run = { .is_json = cli->is_json, .has_limit = limit != NULL };
	ac_reply *r = NULL;
	int rc;

	if (limit != NULL &&
	    (rc = ac_cli_parse_u64(cli, "--limit", limit, &run.limit)) != AC_CLI_EXIT_OK) {
		return rc;
	}
	if (!ac_cli_flag(cli, "--all")) {
		rc = fetch_page(cli, &run, ac_cli_opt(cli, "--cursor"), &r);
		rc = rc == AC_CLI_EXIT_OK ? ac_cli_report(cli, r, show_page) : rc;
		ac_reply_free(r);
		return rc;
	}
	ac_cli_table_init(&run.table, AC_CLI_TASK_COLUMNS);
	ac_cli_task_header(&run.table);
	ac_mpw_init(&run.tasks);
	rc = list_all(cli, &run);
	ac_mpw_fini(&run.tasks);
	ac_cli_table_fini(&run.table);
	return rc;
}
