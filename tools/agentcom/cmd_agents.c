/* SPDX-License-Identifier: MIT
 * `agentcom agents`: the agents the server knows, one row each (agent.list).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* A list value (capabilities, targets) as "a,b,c", or "-" / "all" when absent. */
static void format_list(const msgpack_object *o, const char *absent, char *buf, size_t cap)
{
	size_t used = 0;

	snprintf(buf, cap, "%s", absent);
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0) {
		return;
	}
	buf[0] = '\0';
	for (uint32_t i = 0; i < o->via.array.size && used + 2 < cap; i++) {
		char item[160];
		ac_cli_format_value(&o->via.array.ptr[i], item, sizeof(item));
		used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "," : "", item);
	}
}

static void add_agent_row(ac_cli_table *t, const ac_reply *r, uint32_t i, int64_t now_ms)
{
	static const char *const keys[] = { "agent_id", "state", "current_task" };
	char path[64], cell[512];
	int64_t seen_ms;

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		snprintf(path, sizeof(path), "agents[%" PRIu32 "].%s", i, keys[k]);
		ac_cli_format_value(ac_reply_get(r, path), cell, sizeof(cell));
		ac_cli_table_add(t, cell);
	}
	snprintf(path, sizeof(path), "agents[%" PRIu32 "].capabilities", i);
	format_list(ac_reply_get(r, path), "-", cell, sizeof(cell));
	ac_cli_table_add(t, cell);
	snprintf(path, sizeof(path), "agents[%" PRIu32 "].targets", i);
	format_list(ac_reply_get(r, path), "all", cell, sizeof(cell));
	ac_cli_table_add(t, cell);
	snprintf(path, sizeof(path), "agents[%" PRIu32 "].last_seen_ms", i);
	if (ac_reply_i64(r, path, &seen_ms)) {
		snprintf(cell, sizeof(cell), "%.1fs ago", (double)(now_ms - seen_ms) / 1000.0);
	} else {
		snprintf(cell, sizeof(cell), "-");
	}
	ac_cli_table_add(t, cell);
}

static int show_agents(ac_cli *cli, const ac_reply *r)
{
	static const char *const header[] = { "AGENT", "STATE", "TASK", "CAPABILITIES", "TARGETS",
		"LAST SEEN" };
	const msgpack_object *agents = ac_reply_get(r, "agents");
	uint32_t count = agents != NULL && agents->type == MSGPACK_OBJECT_ARRAY
	    ? agents->via.array.size : 0;
	struct timespec ts;
	ac_cli_table t;
	bool is_printed;

	(void)cli;
	clock_gettime(CLOCK_REALTIME, &ts);
	ac_cli_table_init(&t, 6);
	for (size_t k = 0; k < 6; k++) {
		ac_cli_table_add(&t, header[k]);
	}
	for (uint32_t i = 0; i < count; i++) {
		add_agent_row(&t, r, i, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	}
	is_printed = ac_cli_table_print(&t, stdout);
	ac_cli_table_fini(&t);
	return is_printed ? AC_CLI_EXIT_OK : ac_cli_fail("agents");
}

int ac_cli_cmd_agents(ac_cli *cli)
{
	return ac_cli_run_op(cli, "agent.list", NULL, 0, show_agents);
}
