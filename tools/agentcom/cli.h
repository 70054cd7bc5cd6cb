/* SPDX-License-Identifier: MIT
 * The agentcom operator CLI, shared between its files: the command table type, the
 * parsed command line, the call-and-report path (run.c), output helpers (print.c) and
 * every command handler (cmd_*.c). Single-threaded; everything here runs on main's thread.
 */
#ifndef AC_TOOLS_AGENTCOM_CLI_H
#define AC_TOOLS_AGENTCOM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

#include "agentcom/client.h"

#define AC_CLI_MAX_OPTS 16      /* value options one command may have */
#define AC_CLI_MAX_FLAGS 4      /* options without a value one command may have */
#define AC_CLI_MAX_ARGS 16      /* positional arguments one command may have */
#define AC_CLI_MAX_OPT_USES 256 /* value options on one command line, repeats included */

/* Exit statuses; the usage text documents them. */
enum {
	AC_CLI_EXIT_OK = 0,
	AC_CLI_EXIT_REPLY = 1,       /* the server answered with an error reply */
	AC_CLI_EXIT_USAGE = 2,       /* bad command line (or a request that cannot be sent) */
	AC_CLI_EXIT_UNREACHABLE = 3, /* no reply: timed out, connection lost, ... */
};

typedef struct ac_cli ac_cli;

/* A command handler: reads cli's options and arguments, returns an exit status. */
typedef int (*ac_cli_fn)(ac_cli *cli);

/* Prints a success reply for humans; returns an exit status. */
typedef int (*ac_cli_show_fn)(ac_cli *cli, const ac_reply *r);

typedef struct ac_cli_cmd {
	const char *name;    /* one or more words: "ping", "token create" */
	ac_cli_fn fn;
	const char *usage;   /* what follows the name, e.g. "ID" or "[COMMAND]" */
	const char *summary; /* one line */
	const char *opts[AC_CLI_MAX_OPTS];   /* the command's own value options ("--role") */
	const char *flags[AC_CLI_MAX_FLAGS]; /* the command's own options without value ("--all") */
	int min_args, max_args;              /* positional arguments */
	const char *details; /* more help for "agentcom help CMD" (NULL: none); "\n"-separated */
} ac_cli_cmd;

/* One value option as given on the command line: cmd->opts[opt] with its value. */
typedef struct ac_cli_opt_use {
	int opt;
	const char *value;
} ac_cli_opt_use;

struct ac_cli {
	const ac_cli_cmd *table; /* every command, for help */
	size_t table_count;
	const ac_cli_cmd *cmd;   /* the command being run */
	const char *group;       /* "token" of "agentcom token --help" (cmd is NULL then) */
	/* global options as given (NULL when absent); args.c's table writes them */
	const char *url;         /* resolved by ac_cli_resolve */
	const char *token_arg;
	const char *data_dir;
	const char *timeout_arg;
	bool is_json;
	bool is_help;
	/* resolved by ac_cli_resolve */
	char *token;             /* owned; NULL when there is none */
	int timeout_ms;          /* < 0: the library's default */
	/* the command's own options: the last value of each (parallel to cmd->opts, NULL when
	 * absent), every use in command-line order (for repeatable options), the flags
	 * (parallel to cmd->flags), and the arguments */
	const char *opt_values[AC_CLI_MAX_OPTS];
	ac_cli_opt_use opt_uses[AC_CLI_MAX_OPT_USES];
	size_t opt_use_count;
	bool flag_values[AC_CLI_MAX_FLAGS];
	const char *args[AC_CLI_MAX_ARGS];
	int arg_count;
	ac_client *client;       /* opened by the first request; owned */
	int64_t rtt_us;          /* round trip of the last request */
};

/* --- args.c: command line --- */

/* Parses argv (global options anywhere before "--", the command's words, its options
 * and arguments) into cli, which must be zeroed and have table/table_count set.
 * Returns AC_CLI_EXIT_OK, or AC_CLI_EXIT_USAGE after saying why on stderr. With no
 * command at all (or only a group and --help), cli->cmd stays NULL. Borrows argv for
 * cli's lifetime. */
int ac_cli_parse(ac_cli *cli, int argc, char **argv);

/* Resolves the defaults: url from --url, $AGENTCOM_URL, AC_DEFAULT_URL; token from
 * --token (where "" means none), $AGENTCOM_TOKEN, the first line of
 * <data-dir>/admin.token (data dir: --data-dir, $AGENTCOM_DATA_DIR, ./agentcom-data;
 * a missing file means no token, an unreadable one gets a warning); timeout_ms from
 * --timeout. Empty environment variables count as unset. Returns an exit status
 * (AC_CLI_EXIT_USAGE for a bad --timeout or when out of memory). */
int ac_cli_resolve(ac_cli *cli);

/* Closes the client and frees the token; a zeroed cli is a no-op. */
void ac_cli_fini(ac_cli *cli);

/* The value of the command's option name ("--role"), or NULL when not given. When the
 * option was given more than once, the last value (later options override). */
const char *ac_cli_opt(const ac_cli *cli, const char *name);

/* For repeatable options ("--capability A --capability B"): the value of the next use
 * of option name at or after *pos (start with *pos = 0), advancing *pos past it; NULL
 * when no use is left. Values come in command-line order. */
const char *ac_cli_opt_next(const ac_cli *cli, const char *name, size_t *pos);

/* How many times option name was given. */
size_t ac_cli_opt_count(const ac_cli *cli, const char *name);

/* Whether the command's flag name ("--all") was given. */
bool ac_cli_flag(const ac_cli *cli, const char *name);

/* Prints the usage of every command whose name starts with the words of prefix ("" for
 * all: then with a general synopsis and the exit statuses), then the global options.
 * Returns how many commands matched (nothing is printed when none did). */
size_t ac_cli_usage(const ac_cli *cli, FILE *f, const char *prefix);

/* Prints "agentcom: <message>" and, when a command is known, its usage line, on
 * stderr; returns AC_CLI_EXIT_USAGE. */
int ac_cli_usage_error(const ac_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- run.c: requests --- */

/* Sends req[0..len) (opening the client on first use) and waits for the reply.
 * Returns AC_CLI_EXIT_OK with *reply set (a success or an error reply: the caller owns
 * it, free with ac_reply_free), or an exit status after saying why on stderr. Sets
 * cli->rtt_us. */
int ac_cli_request(ac_cli *cli, const uint8_t *req, size_t len, ac_reply **reply);

/* Reports reply r: with --json the reply as pretty JSON on stdout; an error reply as
 * "agentcom: <code>: <message> (field <field>)" on stderr (exit 1); a success through
 * show unless --json. Borrows r. Returns the exit status. */
int ac_cli_report(ac_cli *cli, const ac_reply *r, ac_cli_show_fn show);

/* ac_cli_request, then ac_cli_report, then frees the reply. */
int ac_cli_run(ac_cli *cli, const uint8_t *req, size_t len, ac_cli_show_fn show);

/* Sends {"op": op, key: value, ...} with pairs[0..2 * pair_count) alternating keys
 * and string values (a pair whose value is NULL is left out), then reports the reply
 * as ac_cli_run. Returns the exit status. */
int ac_cli_run_op(ac_cli *cli, const char *op, const char *const *pairs, size_t pair_count,
    ac_cli_show_fn show);

/* Prints "agentcom: <what>: out of memory" and returns AC_CLI_EXIT_USAGE; for
 * requests that could not even be built. */
int ac_cli_fail(const char *what);

/* --- input.c: JSON given by the user --- */

/* Reads all of the file at path ("-": stdin) into *out (NUL-terminated; caller frees
 * with free()) and *len. what names the command in messages. Returns AC_CLI_EXIT_OK or
 * AC_CLI_EXIT_USAGE after saying why on stderr, without the usage (cannot open, cannot
 * read, larger than 16 MiB, out of memory). */
int ac_cli_read_input(ac_cli *cli, const char *what, const char *path, char **out,
    size_t *len);

/* Converts the JSON text[0..len) into msgpack: *mp (caller frees with free()) and
 * *mp_len. what ("call", "--metadata") prefixes the "invalid JSON" message. Returns
 * AC_CLI_EXIT_OK or AC_CLI_EXIT_USAGE after saying why on stderr. */
int ac_cli_parse_json(ac_cli *cli, const char *what, const char *text, size_t len,
    uint8_t **mp, size_t *mp_len);

/* Parses a decimal uint64 option value (digits only, no sign); for what ("--limit")
 * prints a usage error and returns AC_CLI_EXIT_USAGE when it is not one. */
int ac_cli_parse_u64(ac_cli *cli, const char *what, const char *s, uint64_t *out);

/* --- print.c: output helpers --- */

/* Writes p[0..len) with control characters replaced by '?' (server text is untrusted). */
void ac_cli_print_text(FILE *f, const char *p, size_t len);

/* Formats a value for one table cell or "key: value" line: strings as text, numbers,
 * true/false, "-" for nil (and an empty string), "<N bytes>" for bin, "{N}"/"[N]"
 * for a map/array of N items. Always NUL-terminates buf (cap > 0). */
void ac_cli_format_value(const msgpack_object *o, char *buf, size_t cap);

/* Prints map o as indented "key: value" lines, nested maps and arrays below their key
 * (arrays as "- item"), in the order received, skipping the top-level key skip (may be
 * NULL). */
void ac_cli_print_map(FILE *f, const msgpack_object *o, const char *skip);

/* Formats ms since 1970 as ISO 8601 UTC, "2025-01-02T03:04:05Z". */
void ac_cli_format_time_ms(int64_t ms, char *buf, size_t cap);

/* Writes value o as compact JSON to f (a placeholder when it cannot be converted). */
void ac_cli_print_json_value(FILE *f, const msgpack_object *o);

/* The value of key in map o (NULL when o is NULL, not a map or has no such key);
 * borrowed from o. A dotted key ("complexity.effective_tier") descends into maps. */
const msgpack_object *ac_cli_map_get(const msgpack_object *o, const char *key);

/* An aligned text table: add header cells then row cells, left to right; print. */
typedef struct ac_cli_table {
	size_t col_count;
	size_t count, cap; /* cells so far */
	char **cells;      /* owned copies */
	bool is_failed;    /* an allocation failed; print reports it */
} ac_cli_table;

void ac_cli_table_init(ac_cli_table *t, size_t col_count);
void ac_cli_table_add(ac_cli_table *t, const char *cell);
/* Prints the table with columns padded to their widest cell; the first row is the
 * header. Returns false when a cell could not be stored (out of memory). */
bool ac_cli_table_print(const ac_cli_table *t, FILE *f);
/* Shortens the cells of the last column (header included) to "..."-ended prefixes so
 * that no row is wider than width columns, counting UTF-8 characters; the column keeps
 * at least min_width characters however narrow the space left. */
void ac_cli_table_fit(ac_cli_table *t, size_t width, size_t min_width);
void ac_cli_table_fini(ac_cli_table *t);

/* --- commands (cmd_*.c), each documented in main.c's table --- */
int ac_cli_cmd_ping(ac_cli *cli);
int ac_cli_cmd_stats(ac_cli *cli);
int ac_cli_cmd_watch(ac_cli *cli);
int ac_cli_cmd_token_create(ac_cli *cli);
int ac_cli_cmd_token_list(ac_cli *cli);
int ac_cli_cmd_token_revoke(ac_cli *cli);
int ac_cli_cmd_call(ac_cli *cli);
int ac_cli_cmd_submit(ac_cli *cli);
int ac_cli_cmd_get(ac_cli *cli);
int ac_cli_cmd_list(ac_cli *cli);
int ac_cli_cmd_cancel(ac_cli *cli);
int ac_cli_cmd_retry(ac_cli *cli);
int ac_cli_cmd_agents(ac_cli *cli);
int ac_cli_cmd_endpoints_add(ac_cli *cli);
int ac_cli_cmd_endpoints_rm(ac_cli *cli);
int ac_cli_cmd_endpoints_ls(ac_cli *cli);
int ac_cli_cmd_explain(ac_cli *cli);

/* --- cmd_task_print.c: human views of tasks --- */

/* Prints the task map task as the multi-line view of "agentcom get". */
void ac_cli_print_task(FILE *f, const msgpack_object *task);

/* Adds the table header ID STATUS PRIO TIER GEN AGENT AGE DESCRIPTION (first) or the
 * row of the task map task, its age counted up to now_ms. */
void ac_cli_task_header(ac_cli_table *t);
void ac_cli_task_row(ac_cli_table *t, const msgpack_object *task, int64_t now_ms);
#define AC_CLI_TASK_COLUMNS 8

#endif
