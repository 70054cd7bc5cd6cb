/* SPDX-License-Identifier: MIT
 * System tests of the operator CLI (DESIGN §1): a real agentcomd on tcp port 0 and the
 * agentcom binary ($AGENTCOM_CLI) run through popen, its stdout, stderr and exit status
 * checked: ping and token create, then submit, get, list, cancel, retry, error replies,
 * usage errors and --json output.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "agentcom/json.h"
#include "test_server.h"

#define OUT_CAP 65536

typedef struct cli_run {
	int status;        /* exit status, -1 when it did not exit normally */
	char out[OUT_CAP]; /* stdout */
	char err[8192];    /* stderr */
} cli_run;

static ac_test_server srv;
static cli_run run; /* static: too large for a test's stack */

static void start(void)
{
	cr_assert_not_null(getenv("AGENTCOM_CLI"), "AGENTCOM_CLI is not set");
	cr_assert(ac_ts_start(&srv, NULL));
}

static void stop(void)
{
	ac_ts_cleanup(&srv);
}

/* Runs "agentcom --url API --data-dir DIR <args>" (args are shell words, printf-style;
 * stdin_text, when not NULL, is piped in) with the environment's own AGENTCOM_*
 * defaults removed, so the token comes from DIR/admin.token. Fills run. */
static void cli(const char *stdin_text, const char *args_fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cli(const char *stdin_text, const char *args_fmt, ...)
{
	char args[4096], cmd[8192], err_path[300], in_path[300];
	va_list ap;
	size_t n = 0;
	FILE *p;
	int st;

	va_start(ap, args_fmt);
	vsnprintf(args, sizeof(args), args_fmt, ap);
	va_end(ap);
	snprintf(err_path, sizeof(err_path), "%s/cli.err", srv.dir);
	snprintf(in_path, sizeof(in_path), "%s/cli.in", srv.dir);
	if (stdin_text != NULL) {
		FILE *in = fopen(in_path, "w");
		cr_assert_not_null(in);
		fputs(stdin_text, in);
		fclose(in);
	}
	snprintf(cmd, sizeof(cmd),
	    "env -u AGENTCOM_TOKEN -u AGENTCOM_URL -u AGENTCOM_DATA_DIR '%s' --url '%s' "
	    "--data-dir '%s' %s <'%s' 2>'%s'", getenv("AGENTCOM_CLI"), srv.api, srv.dir, args,
	    stdin_text != NULL ? in_path : "/dev/null", err_path);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	while (n < sizeof(run.out) - 1 && !feof(p)) {
		n += fread(run.out + n, 1, sizeof(run.out) - 1 - n, p);
	}
	run.out[n] = '\0';
	st = pclose(p);
	run.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	ac_ts_read_file(err_path, run.err, sizeof(run.err));
}

static void expect_ok(void)
{
	cr_assert_eq(run.status, 0, "exit %d\nstdout: %s\nstderr: %s", run.status, run.out,
	    run.err);
}

static void expect_out(const char *text)
{
	cr_assert_not_null(strstr(run.out, text), "no \"%s\" in stdout:\n%s", text, run.out);
}

static void expect_match(const char *text, const char *pattern)
{
	regex_t re;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
	cr_assert_eq(regexec(&re, text, 0, NULL, 0), 0, "/%s/ does not match:\n%s", pattern, text);
	regfree(&re);
}

/* Submits DESCRIPTION with extra args and returns the new task's id. */
static unsigned long submit(const char *description, const char *extra)
{
	unsigned long id = 0;

	cli(NULL, "submit '%s' %s", description, extra);
	expect_ok();
	cr_assert_eq(sscanf(run.out, "submitted task %lu (", &id), 1, "stdout: %s", run.out);
	return id;
}

/* The JSON of stdout parses, as one value of msgpack type want. */
static void expect_json(msgpack_object_type want)
{
	char errbuf[160] = "";
	uint8_t *mp = NULL;
	size_t len = 0, off = 0;
	msgpack_unpacked u;

	cr_assert_eq(ac_json_to_msgpack(run.out, strlen(run.out), &mp, &len, errbuf,
	    sizeof(errbuf)), AC_OK, "stdout is not JSON (%s):\n%s", errbuf, run.out);
	msgpack_unpacked_init(&u);
	cr_assert_eq(msgpack_unpack_next(&u, (const char *)mp, len, &off), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(u.data.type, want);
	msgpack_unpacked_destroy(&u);
	free(mp);
}

TestSuite(cli, .init = start, .fini = stop, .timeout = 60);

Test(cli, ping_prints_pong)
{
	cli(NULL, "ping");
	expect_ok();
	expect_match(run.out, "^pong from agentcomd 0\\.1\\.0 \\(protocol 1\\), uptime [0-9.]+ s, "
	    "[0-9.]+ ms round trip$");
}

Test(cli, token_create_prints_the_token_then_its_info)
{
	char token[256] = "";

	cli(NULL, "token create --role client --label ci");
	expect_ok();
	expect_match(run.out, "^ac_[^ \n]+\nid=[^ ]+ role=client agent_id=- label=ci\n$");
	sscanf(run.out, "%255s", token);
	/* the new token works: a client may list tasks */
	cli(NULL, "--token '%s' list", token);
	expect_ok();
	expect_out("ID  STATUS");
}

Test(cli, submit_with_flags_then_get_shows_them)
{
	unsigned long id = submit("Rename the config loader",
	    "--priority high --capability c --capability python --target ollama "
	    "--target claude --model llama3 --repo org/app --branch dev "
	    "--file 'src/config.c:the loader' --file src/main.c --criterion 'tests pass' "
	    "--step 'test:make check:unit tests' --metadata '{\"team\":\"core\"}' "
	    "--max-retries 5 --tier complex");

	expect_match(run.out, "^submitted task [0-9]+ \\(priority high, tier complex, "
	    "status queued\\)$");
	cli(NULL, "get %lu", id);
	expect_ok();
	expect_match(run.out, "^status: +queued$");
	expect_match(run.out, "^priority: +high$");
	expect_match(run.out, "^tier: +complex \\(explicit\\)$");
	expect_match(run.out, "^retries: +0/5$");
	expect_match(run.out, "^created: +20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]{8}Z$");
	expect_match(run.out, "^description: +Rename the config loader$");
	expect_match(run.out, "^repo: +org/app$");
	expect_match(run.out, "^branch: +dev$");
	expect_match(run.out, "^capabilities: +c, python$");
	expect_match(run.out, "^targets: +ollama, claude$");
	expect_match(run.out, "^model: +llama3$");
	expect_match(run.out, "^file_hints: +src/config.c \\(the loader\\)\n +src/main.c$");
	expect_match(run.out, "^criteria: +tests pass$");
	expect_match(run.out, "^verification: +test: make check \\(unit tests\\)$");
	expect_match(run.out, "^metadata: +\\{\"team\":\"core\"\\}$");
	expect_match(run.out, "^history: +[0-9T:-]+Z  queued  submitted$");
	cr_assert_null(strstr(run.out, "assigned_to:"), "an absent field is shown:\n%s", run.out);
}

Test(cli, submit_with_the_same_key_is_a_duplicate)
{
	unsigned long id = submit("Update readme", "--key k-1");

	cli(NULL, "submit 'Update readme' --key k-1");
	expect_ok();
	expect_match(run.out, "^task [0-9]+ already submitted with this key \\(duplicate\\)$");
	cr_assert_eq(strtoul(run.out + 5, NULL, 10), id);
	/* without --key every call gets its own key: a second, distinct task */
	cr_assert_neq(submit("Update readme", ""), id);
}

Test(cli, submit_reads_a_task_map_from_stdin)
{
	unsigned long id;

	cli("{\"description\": \"From stdin\", \"priority\": \"urgent\", \"repo\": \"r1\"}",
	    "submit --file - --priority low --file docs/a.md");
	expect_ok();
	cr_assert_eq(sscanf(run.out, "submitted task %lu", &id), 1, "stdout: %s", run.out);
	expect_out("(priority low,"); /* the option overrides the file's key */
	cli(NULL, "get %lu", id);
	expect_match(run.out, "^description: +From stdin$");
	expect_match(run.out, "^repo: +r1$");
	expect_match(run.out, "^file_hints: +docs/a.md$");
}

Test(cli, list_shows_the_task_and_pages)
{
	char line[128];
	unsigned long id = submit("First listed task", "");

	submit("Second listed task", "--priority urgent");
	submit("Third listed task", "");
	cli(NULL, "list");
	expect_ok();
	expect_match(run.out, "^ID +STATUS +PRIO +TIER +GEN +AGENT +AGE +DESCRIPTION$");
	snprintf(line, sizeof(line), "^%lu +queued +normal +[a-z]+ +0 +- +[0-9]+s +First listed task$",
	    id);
	expect_match(run.out, line);
	cli(NULL, "list --limit 2");
	expect_ok();
	expect_match(run.out, "^next page: agentcom list --limit 2 --cursor [^ ]+$");
	cr_assert_null(strstr(run.out, "Third listed task"));
	cli(NULL, "list --limit 1 --all");
	expect_ok();
	expect_out("First listed task");
	expect_out("Third listed task");
	cr_assert_null(strstr(run.out, "next page"));
	cli(NULL, "list --status queued --priority urgent");
	expect_ok();
	expect_out("Second listed task");
	cr_assert_null(strstr(run.out, "First listed task"));
}

Test(cli, cancel_then_retry)
{
	char want[128];
	unsigned long id = submit("Cancel me", "");

	cli(NULL, "cancel %lu", id);
	expect_ok();
	snprintf(want, sizeof(want), "task %lu cancelled\n", id);
	cr_assert_str_eq(run.out, want);
	cli(NULL, "cancel %lu", id);
	cr_assert_eq(run.status, 1);
	expect_match(run.err, "^agentcom: conflict: ");
	cli(NULL, "retry %lu", id);
	expect_ok();
	snprintf(want, sizeof(want), "^task %lu queued again \\(generation [0-9]+\\)$", id);
	expect_match(run.out, want);
	cli(NULL, "get %lu", id);
	expect_match(run.out, "^status: +queued$");
}

Test(cli, error_replies_exit_1_and_name_the_field)
{
	cli(NULL, "submit 'Bad priority' --priority soon");
	cr_assert_eq(run.status, 1, "exit %d, stderr %s", run.status, run.err);
	cr_assert_str_eq(run.out, "");
	expect_match(run.err, "^agentcom: invalid_argument: .* \\(field priority\\)$");
	cli(NULL, "get 999999");
	cr_assert_eq(run.status, 1);
	expect_match(run.err, "^agentcom: not_found: .*\\(field id\\)$");
}

Test(cli, bad_command_lines_exit_2_with_usage)
{
	cli(NULL, "submit 'x' --priorty high");
	cr_assert_eq(run.status, 2);
	expect_match(run.err, "^agentcom: unknown option --priorty$");
	expect_match(run.err, "^usage: agentcom submit ");
	cli(NULL, "get forty-two");
	cr_assert_eq(run.status, 2);
	expect_match(run.err, "^usage: agentcom get ID$");
	cli(NULL, "submit 'x' --max-retries -1");
	cr_assert_eq(run.status, 2);
	cli(NULL, "submit 'x' --step no-colon");
	cr_assert_eq(run.status, 2);
	cli(NULL, "submit");
	cr_assert_eq(run.status, 2);
	cli(NULL, "submit x --tier hard");
	cr_assert_eq(run.status, 2);
	cli(NULL, "list --all=yes");
	cr_assert_eq(run.status, 2);
}

Test(cli, json_output_parses)
{
	unsigned long id = submit("Json task", "");

	cli(NULL, "--json get %lu", id);
	expect_ok();
	expect_json(MSGPACK_OBJECT_MAP);
	expect_match(run.out, "\"description\": \"Json task\"");
	cli(NULL, "list --json");
	expect_ok();
	expect_json(MSGPACK_OBJECT_MAP);
	cli(NULL, "list --json --all --limit 1");
	expect_ok();
	expect_json(MSGPACK_OBJECT_ARRAY);
	cli(NULL, "submit --json 'Another json task'");
	expect_ok();
	expect_json(MSGPACK_OBJECT_MAP);
	expect_out("\"duplicate\": false");
}

/* endpoints add takes HOST[:PORT] or an Ollama URL; ls lists them; rm removes. */
Test(cli, endpoints_add_ls_rm)
{
	cli(NULL, "endpoints add 127.0.0.1:11500");
	expect_ok();
	expect_out("endpoint 127.0.0.1:11500 registered");
	cli(NULL, "endpoints add http://127.0.0.2:11501/");
	expect_ok();
	expect_out("endpoint 127.0.0.2:11501 registered");
	cli(NULL, "endpoints add 127.0.0.3");
	expect_ok();
	expect_out("endpoint 127.0.0.3:11434 registered");
	cli(NULL, "endpoints add 127.0.0.4:notaport");
	cr_assert_eq(run.status, 2, "exit %d: %s", run.status, run.err);
	cli(NULL, "endpoints ls");
	expect_ok();
	expect_match(run.out, "^127\\.0\\.0\\.2:11501 ");
	cli(NULL, "endpoints rm 127.0.0.1:11500");
	expect_ok();
	expect_out("endpoint 127.0.0.1:11500 removed");
	cli(NULL, "endpoints ls");
	cr_assert_null(strstr(run.out, "127.0.0.1:11500"), "still listed:\n%s", run.out);
}

/* No server at the URL: exit 3 at once with the reason, not after --timeout (60 s
 * here: this test's own timeout is far shorter). */
Test(cli, a_refused_connection_exits_3_at_once, .timeout = 20)
{
	char cmd[1024], err[512];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' --url tcp://127.0.0.1:1 --token x --timeout 60000 ping "
	    "2>'%s/refused.err' >/dev/null", getenv("AGENTCOM_CLI"), srv.dir);
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "status %d", st);
	snprintf(cmd, sizeof(cmd), "%s/refused.err", srv.dir);
	ac_ts_read_file(cmd, err, sizeof(err));
	cr_assert_not_null(strstr(err, "refused"), "stderr: %s", err);
}
