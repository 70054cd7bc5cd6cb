/* SPDX-License-Identifier: MIT
 * CLI commands for API tokens (admin only on the server): token create, list, revoke.
 * A token's text is shown once, by create, on its own first line so scripts can take
 * it with `head -1`; list never has it (the server keeps only hashes).
 */
#include <inttypes.h>

#include "cli.h"

static int
show_created(ac_cli *cli, const ac_reply *r)
{
	static const char *const keys[] = { "id", "role", "agent_id", "label" };
	char text[1024], path[32];

	(void)cli;
	if (ac_reply_get(r, "token") == NULL) {
		fputs("agentcom: the reply carries no token\n", stderr);
		return AC_CLI_EXIT_REPLY;
	}
	ac_cli_format_value(ac_reply_get(r, "token"), text, sizeof(text));
	puts(text);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "info.%s", keys[i]);
		ac_cli_format_value(ac_reply_get(r, path), text, sizeof(text));
		printf("%s%s=%s", i > 0 ? " " : "", keys[i], text);
	}
	putchar('\n');
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_token_create(ac_cli *cli)
{
	const char *pairs[] = {
		"role", ac_cli_opt(cli, "--role"),
		"agent_id", ac_cli_opt(cli, "--agent-id"),
		"label", ac_cli_opt(cli, "--label"),
	};

	if (pairs[1] == NULL) {
		return ac_cli_usage_error(cli, "token create: --role is required");
	}
	return ac_cli_run_op(cli, "token.create", pairs, 3, show_created);
}

/* One row: ID ROLE AGENT LABEL CREATED. */
static void
add_token_row(ac_cli_table *t, const ac_reply *r, uint32_t i)
{
	static const char *const keys[] = { "id", "role", "agent_id", "label" };
	char path[64], cell[256];
	int64_t created_ms;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		snprintf(path, sizeof(path), "tokens[%" PRIu32 "].%s", i, keys[k]);
		ac_cli_format_value(ac_reply_get(r, path), cell, sizeof(cell));
		ac_cli_table_add(t, cell);
	}
	snprintf(path, sizeof(path), "tokens[%" PRIu32 "].created_at_ms", i);
	if (ac_reply_i64(r, path, &created_ms)) {
		ac_cli_format_time_ms(created_ms, cell, sizeof(cell));
	} else {
		snprintf(cell, sizeof(cell), "-");
	}
	ac_cli_table_add(t, cell);
}

static int
show_list(ac_cli *cli, const ac_reply *r)
{
	static const char *const header[] = { "ID", "ROLE", "AGENT", "LABEL", "CREATED" };
	const msgpack_object *tokens = ac_reply_get(r, "tokens");
	uint32_t count = tokens != NULL && tokens->type == MSGPACK_OBJECT_ARRAY
	    ? tokens->via.array.size : 0;
	ac_cli_table t;
	bool is_printed;

	(void)cli;
	ac_cli_table_init(&t, 5);
	for (size_t k = 0; k < 5; k++) {
		ac_cli_table_add(&t, header[k]);
	}
	for (uint32_t i = 0; i < count; i++) {
		add_token_row(&t, r, i);
	}
	is_printed = ac_cli_table_print(&t, stdout);
	ac_cli_table_fini(&t);
	return is_printed ? AC_CLI_EXIT_OK : ac_cli_fail("token list");
}

int
ac_cli_cmd_token_list(ac_cli *cli)
{
	return ac_cli_run_op(cli, "token.list", NULL, 0, show_list);
}

static int
show_revoked(ac_cli *cli, const ac_reply *r)
{
	(void)r;
	printf("revoked token %s\n", cli->args[0]);
	return AC_CLI_EXIT_OK;
}

int
ac_cli_cmd_token_revoke(ac_cli *cli)
{
	const char *pairs[] = { "id", cli->args[0] };

	return ac_cli_run_op(cli, "token.revoke", pairs, 1, show_revoked);
}
