/* SPDX-License-Identifier: MIT
 * `agentcom endpoints add HOST[:PORT] [--name N]` (or http://HOST[:PORT]/), `endpoints rm ID`,
 * `endpoints ls`:
 * the Ollama hosts the server probes (endpoint.register / remove / list).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "codec/mpw.h"

static int show_endpoint(ac_cli *cli, const ac_reply *r)
{
	char id[300] = "", status[32] = "";

	(void)cli;
	ac_reply_str(r, "endpoint.id", id, sizeof(id));
	ac_reply_str(r, "endpoint.status", status, sizeof(status));
	printf("endpoint %s registered (status %s; probed now and every health_interval_ms)\n", id,
	    status);
	return AC_CLI_EXIT_OK;
}

int ac_cli_cmd_endpoints_add(ac_cli *cli)
{
	const char *arg = cli->args[0], *colon, *name = ac_cli_opt(cli, "--name");
	char hostport[300];
	uint64_t port = 11434;
	size_t len;
	ac_mpw w;
	int rc;

	/* an Ollama URL as people write it (OLLAMA_HOST, --ollama-url) works too */
	if (strncmp(arg, "http://", 7) == 0) {
		arg += 7;
	}
	len = strlen(arg);
	if (len > 0 && arg[len - 1] == '/') {
		len--;
	}
	snprintf(hostport, sizeof(hostport), "%.*s", (int)len, arg);
	arg = hostport;
	colon = strrchr(arg, ':');
	if (colon != NULL && ac_cli_parse_u64(cli, "port", colon + 1, &port) != AC_CLI_EXIT_OK) {
		return AC_CLI_EXIT_USAGE;
	}
	ac_mpw_init(&w);
	ac_mpw_map(&w, name ? 4 : 3);
	ac_mpw_key(&w, "op");
	ac_mpw_cstr(&w, "endpoint.register");
	ac_mpw_key(&w, "host");
	ac_mpw_str(&w, arg, colon ? (size_t)(colon - arg) : strlen(arg));
	ac_mpw_key(&w, "port");
	ac_mpw_u64(&w, port);
	if (name) {
		ac_mpw_key(&w, "name");
		ac_mpw_cstr(&w, name);
	}
	rc = w.err == AC_OK ? ac_cli_run(cli, ac_mpw_data(&w), ac_mpw_len(&w), show_endpoint) :
	                      ac_cli_fail("endpoints add");
	ac_mpw_fini(&w);
	return rc;
}

static int show_removed(ac_cli *cli, const ac_reply *r)
{
	(void)r;
	printf("endpoint %s removed\n", cli->args[0]);
	return AC_CLI_EXIT_OK;
}

int ac_cli_cmd_endpoints_rm(ac_cli *cli)
{
	const char *pairs[] = { "id", cli->args[0] };

	return ac_cli_run_op(cli, "endpoint.remove", pairs, 1, show_removed);
}

/* "qwen2.5-coder:7b,llama3" from a list of strings, "-" when empty. */
static void join(const msgpack_object *o, char *buf, size_t cap)
{
	size_t used = 0;

	snprintf(buf, cap, "-");
	for (uint32_t i = 0; o != NULL && o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++) {
		char item[160];
		ac_cli_format_value(&o->via.array.ptr[i], item, sizeof(item));
		used += (size_t)snprintf(buf + used, used < cap ? cap - used : 0, "%s%s", i ? "," : "", item);
	}
}

static void cell_at(ac_cli_table *t, const ac_reply *r, uint32_t i, const char *key)
{
	char path[96], cell[512];

	snprintf(path, sizeof(path), "endpoints[%" PRIu32 "].%s", i, key);
	ac_cli_format_value(ac_reply_get(r, path), cell, sizeof(cell));
	ac_cli_table_add(t, cell);
}

static void add_row(ac_cli_table *t, const ac_reply *r, uint32_t i)
{
	static const char *const lists[] = { "models", "loaded_models" };
	static const char *const res[] = { "cpu_percent", "ram_used_bytes", "vram_used_bytes" };
	char path[96], cell[512];
	int64_t checked;

	cell_at(t, r, i, "id");
	cell_at(t, r, i, "status");
	cell_at(t, r, i, "in_flight");
	for (size_t k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "endpoints[%" PRIu32 "].%s", i, lists[k]);
		join(ac_reply_get(r, path), cell, sizeof(cell));
		ac_cli_table_add(t, cell);
	}
	for (size_t k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "endpoints[%" PRIu32 "].resources.%s", i, res[k]);
		ac_cli_format_value(ac_reply_get(r, path), cell, sizeof(cell));
		ac_cli_table_add(t, cell);
	}
	snprintf(path, sizeof(path), "endpoints[%" PRIu32 "].last_checked_ms", i);
	if (ac_reply_i64(r, path, &checked)) {
		ac_cli_format_time_ms(checked, cell, sizeof(cell));
	} else {
		snprintf(cell, sizeof(cell), "never");
	}
	ac_cli_table_add(t, cell);
}

static int show_list(ac_cli *cli, const ac_reply *r)
{
	static const char *const header[] = { "ENDPOINT", "STATUS", "TASKS", "MODELS", "LOADED",
		"CPU%", "RAM USED", "VRAM USED", "LAST CHECK" };
	const msgpack_object *eps = ac_reply_get(r, "endpoints");
	uint32_t n = eps != NULL && eps->type == MSGPACK_OBJECT_ARRAY ? eps->via.array.size : 0;
	ac_cli_table t;
	bool is_printed;

	(void)cli;
	ac_cli_table_init(&t, 9);
	for (size_t k = 0; k < 9; k++) {
		ac_cli_table_add(&t, header[k]);
	}
	for (uint32_t i = 0; i < n; i++) {
		add_row(&t, r, i);
	}
	is_printed = ac_cli_table_print(&t, stdout);
	ac_cli_table_fini(&t);
	return is_printed ? AC_CLI_EXIT_OK : ac_cli_fail("endpoints ls");
}

int ac_cli_cmd_endpoints_ls(ac_cli *cli)
{
	return ac_cli_run_op(cli, "endpoint.list", NULL, 0, show_list);
}
