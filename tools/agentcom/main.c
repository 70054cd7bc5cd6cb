/* SPDX-License-Identifier: MIT
 * agentcom, the operator CLI: the one table of commands and the dispatch. A new command
 * is one row here plus its handler in a cmd_*.c file; option parsing, requests and
 * output are shared (args.c, run.c, print.c). Never talks to nng directly.
 */
#include <stdio.h>

#include "cli.h"

static int run_help(ac_cli *cli);

#define SUBMIT_USAGE                                                                     \
	"DESCRIPTION|--file TASK.json [--priority urgent|high|normal|low]\n"                \
	"      [--capability CAP]... [--target sidecar|ollama|claude]... [--model M]\n"     \
	"      [--repo R] [--branch B] [--file PATH[:REASON]]... [--criterion TEXT]...\n"   \
	"      [--step TYPE:TARGET[:DESCRIPTION]]... [--metadata JSON] [--max-retries N]\n" \
	"      [--ttl-ms N] [--delay-ms N] [--tier trivial|standard|complex|unknown]\n"     \
	"      [--key IDEMPOTENCY_KEY]"

#define SUBMIT_DETAILS                                                                   \
	"\n"                                                                                 \
	"Without DESCRIPTION, the first --file names a JSON file (- for stdin) holding the\n"  \
	"whole submit map; options then replace (or add) the keys they set, whole arrays\n"   \
	"included, and any further --file is a file hint. With DESCRIPTION, every --file\n"   \
	"is a file hint. Each --capability, --target, --file, --criterion and --step adds\n"  \
	"one item. Without --key (or a key in the file), a random idempotency key is sent,\n" \
	"so the request can be retried without submitting twice. The server checks the\n"   \
	"values (its error names the field); the CLI checks --tier, which the server would\n" \
	"ignore when misspelt."

#define EXPLAIN_DETAILS                                                                  \
	"\n"                                                                                 \
	"Shows how a task would be classified and routed, storing nothing. TASK.json is a\n" \
	"task.submit map, validated as the server does (an invalid one prints the error as\n" \
	"JSON and exits 2). With --endpoints, no server is needed: ENDPOINTS.json is\n"       \
	"{\"endpoints\": [{\"id\", \"status\", \"models\", \"loaded_models\"?, \"in_flight\"?,\n" \
	"\"recent_repos\"?, \"resources\"?: {cpu_percent, ram_total_bytes, vram_total_bytes,\n" \
	"vram_used_bytes, reported_at_ms?}}]} in registration order (host and port may be\n" \
	"given; the id names the endpoint). --set endpoint_slots=N, default_model=M (server\n" \
	"defaults otherwise) and fallback=true (route as if the fallback wait had passed).\n" \
	"Without --endpoints the server's route.explain answers against its live registry.\n" \
	"Prints one JSON object: complexity, decision or pending_reason, candidates."

#define WATCH_DETAILS                                                                    \
	"\n"                                                                                 \
	"Subscribes to the server's PUB socket: --pub, else $AGENTCOM_PUB_URL, else\n"        \
	"tcp://127.0.0.1:7451 (no token needed). Each event is one line, its time (UTC),\n"  \
	"topic and fields as JSON; with --json, one JSON object {\"topic\", \"event\"}. Runs\n" \
	"until interrupted (Ctrl-C), N events were printed or S seconds passed; then says\n" \
	"on stderr how many it printed and, when watching every topic, how many it missed\n" \
	"(PUB/SUB drops what a slow reader does not take). Topics: proto/topics.md."

static const ac_cli_cmd commands[] = {
	{ "ping", ac_cli_cmd_ping, "", "check that agentcomd answers: version, uptime, round trip",
	    { NULL }, { NULL }, 0, 0, NULL },
	{ "stats", ac_cli_cmd_stats, "", "show the server's counters (queue, agents, routing, ...)",
	    { NULL }, { NULL }, 0, 0, NULL },
	{ "submit", ac_cli_cmd_submit, SUBMIT_USAGE, "submit a task; prints its id",
	    { "--priority", "--capability", "--target", "--model", "--repo", "--branch", "--file",
	        "--criterion", "--step", "--metadata", "--max-retries", "--ttl-ms", "--delay-ms",
	        "--tier", "--key" },
	    { NULL }, 0, 1, SUBMIT_DETAILS },
	{ "get", ac_cli_cmd_get, "ID", "show a task: state, spec, routing decision, history",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "list", ac_cli_cmd_list,
	    "[--status S] [--priority P] [--assigned-to AGENT] [--limit N] [--cursor C] [--all]",
	    "list tasks, a page at a time (--all: every page)",
	    { "--status", "--priority", "--assigned-to", "--limit", "--cursor" }, { "--all" }, 0, 0,
	    "\nTasks are listed by id; with --status queued, in dispatch order. With --json the\n"
	    "raw reply is printed (with --all: one JSON array of every task)." },
	{ "cancel", ac_cli_cmd_cancel, "ID", "cancel a task that has not finished",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "retry", ac_cli_cmd_retry, "ID", "queue a dead-lettered or cancelled task again",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "explain", ac_cli_cmd_explain,
	    "--task TASK.json [--endpoints ENDPOINTS.json [--set KEY=VALUE]...]",
	    "dry-run routing of a task: classification, decision, ranked endpoints",
	    { "--task", "--endpoints", "--set" }, { NULL }, 0, 0, EXPLAIN_DETAILS },
	{ "agents", ac_cli_cmd_agents, "", "list agents: state, current task, capabilities, targets",
	    { NULL }, { NULL }, 0, 0, NULL },
	{ "endpoints add", ac_cli_cmd_endpoints_add, "HOST[:PORT] [--name NAME]",
	    "register an Ollama host (port 11434 by default; http://HOST:PORT/ works too); it is "
	    "probed at once",
	    { "--name" }, { NULL }, 1, 1, NULL },
	{ "endpoints rm", ac_cli_cmd_endpoints_rm, "ID", "remove the endpoint with id HOST:PORT",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "endpoints ls", ac_cli_cmd_endpoints_ls, "",
	    "list endpoints: health, models, loaded models, CPU/RAM/VRAM, last check",
	    { NULL }, { NULL }, 0, 0, NULL },
	{ "token create", ac_cli_cmd_token_create,
	    "--role admin|client|agent [--agent-id ID] [--label TEXT]",
	    "create an API token; its text is printed once, on the first line",
	    { "--role", "--agent-id", "--label" }, { NULL }, 0, 0, NULL },
	{ "token list", ac_cli_cmd_token_list, "", "list API tokens (never their text)",
	    { NULL }, { NULL }, 0, 0, NULL },
	{ "token revoke", ac_cli_cmd_token_revoke, "ID", "revoke the token with id ID",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "watch", ac_cli_cmd_watch, "[TOPIC-PREFIX]... [--pub URL] [--count N] [--seconds S]",
	    "print telemetry events as they happen (all topics, or those with a prefix)",
	    { "--pub", "--count", "--seconds" }, { NULL }, 0, AC_CLI_MAX_ARGS, WATCH_DETAILS },
	{ "call", ac_cli_cmd_call, "JSON|-",
	    "send a request written as JSON (- reads stdin); print the reply as JSON",
	    { NULL }, { NULL }, 1, 1, NULL },
	{ "help", run_help, "[COMMAND]", "show the usage of every command, or of one",
	    { NULL }, { NULL }, 0, AC_CLI_MAX_ARGS, NULL },
};

/* "help token create" shows that command; "help token" every token command. */
static int
run_help(ac_cli *cli)
{
	char prefix[256] = "";
	size_t used = 0;

	for (int i = 0; i < cli->arg_count; i++) {
		int n = snprintf(prefix + used, sizeof(prefix) - used, "%s%s", i > 0 ? " " : "",
		    cli->args[i]);
		if (n < 0 || (size_t)n >= sizeof(prefix) - used) {
			break;
		}
		used += (size_t)n;
	}
	if (ac_cli_usage(cli, stdout, prefix) == 0) {
		return ac_cli_usage_error(cli, "help: no command '%s'", prefix);
	}
	return AC_CLI_EXIT_OK;
}

int
main(int argc, char **argv)
{
	ac_cli cli = { .table = commands, .table_count = sizeof(commands) / sizeof(commands[0]) };
	int rc = ac_cli_parse(&cli, argc, argv);

	if (rc == AC_CLI_EXIT_OK && cli.cmd == NULL) {
		/* "agentcom" alone is a usage error; "agentcom [token] --help" is not. */
		ac_cli_usage(&cli, cli.is_help ? stdout : stderr, cli.group ? cli.group : "");
		rc = cli.is_help ? AC_CLI_EXIT_OK : AC_CLI_EXIT_USAGE;
	} else if (rc == AC_CLI_EXIT_OK && cli.is_help) {
		ac_cli_usage(&cli, stdout, cli.cmd->name);
	} else if (rc == AC_CLI_EXIT_OK && (rc = ac_cli_resolve(&cli)) == AC_CLI_EXIT_OK) {
		rc = cli.cmd->fn(&cli);
	}
	ac_cli_fini(&cli);
	return rc;
}
