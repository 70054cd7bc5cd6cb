/* SPDX-License-Identifier: MIT
 * The agentcom command line: global options (one table), finding the command in the
 * command table, the command's own options and arguments, defaults from the
 * environment and the data dir, and the usage text. Reads only admin.token; never
 * talks to the server.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_DATA_DIR "./agentcom-data"
#define TOKEN_FILE "admin.token"
#define MAX_TOKEN_LEN 1024
#define USAGE_COLUMN 26

typedef struct global_opt {
	const char *name;
	const char *arg; /* NULL: a flag (a bool field of ac_cli), else a const char * field */
	size_t offset;   /* of that field in ac_cli */
	const char *help;
} global_opt;

static const global_opt globals[] = {
	{ "--url", "URL", offsetof(ac_cli, url),
	    "server address (default $AGENTCOM_URL, else " AC_DEFAULT_URL ")" },
	{ "--token", "TOKEN", offsetof(ac_cli, token_arg),
	    "API token (default $AGENTCOM_TOKEN, else <data-dir>/" TOKEN_FILE ")" },
	{ "--data-dir", "DIR", offsetof(ac_cli, data_dir),
	    "where " TOKEN_FILE " is (default $AGENTCOM_DATA_DIR, else " DEFAULT_DATA_DIR ")" },
	{ "--timeout", "MS", offsetof(ac_cli, timeout_arg),
	    "how long to wait for a reply, in ms (default 10000)" },
	{ "--json", NULL, offsetof(ac_cli, is_json),
	    "print the raw reply as pretty JSON on stdout" },
	{ "--help", NULL, offsetof(ac_cli, is_help),
	    "show usage (of the command, if one is given)" },
};

int
ac_cli_usage_error(const ac_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("agentcom: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cli->cmd != NULL) {
		fprintf(stderr, "usage: agentcom %s%s%s\n", cli->cmd->name,
		    cli->cmd->usage[0] ? " " : "", cli->cmd->usage);
	} else {
		fputs("see 'agentcom help'\n", stderr);
	}
	return AC_CLI_EXIT_USAGE;
}

/* "--name" (value in the next argument) or "--name=value" (*inline_val set). */
static bool
match_opt(const char *arg, const char *name, const char **inline_val)
{
	size_t n = strlen(name);

	*inline_val = NULL;
	if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '=')) {
		return false;
	}
	*inline_val = arg[n] == '=' ? arg + n + 1 : NULL;
	return true;
}

static int
take_value(const ac_cli *cli, int argc, char **argv, int *i, const char *inline_val,
    const char **out)
{
	if (inline_val != NULL) {
		*out = inline_val;
	} else if (*i + 1 < argc) {
		*out = argv[++*i];
	} else {
		return ac_cli_usage_error(cli, "option %s needs a value", argv[*i]);
	}
	return AC_CLI_EXIT_OK;
}

/* The value of the command's option k: the last one wins for ac_cli_opt, and every
 * use is kept, in order, for repeatable options. */
static int
take_command_value(ac_cli *cli, int argc, char **argv, int *i, const char *inline_val, int k)
{
	int rc;

	if (cli->opt_use_count == AC_CLI_MAX_OPT_USES) {
		return ac_cli_usage_error(cli, "more than %d options", AC_CLI_MAX_OPT_USES);
	}
	if ((rc = take_value(cli, argc, argv, i, inline_val, &cli->opt_values[k])) ==
	    AC_CLI_EXIT_OK) {
		cli->opt_uses[cli->opt_use_count++] = (ac_cli_opt_use){ k, cli->opt_values[k] };
	}
	return rc;
}

/* argv[*i] is an option: a global one or one of the command's. */
static int
parse_option(ac_cli *cli, int argc, char **argv, int *i)
{
	const char *val;

	for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++) {
		char *field = (char *)cli + globals[g].offset;
		if (!match_opt(argv[*i], globals[g].name, &val)) {
			continue;
		}
		if (globals[g].arg != NULL) {
			return take_value(cli, argc, argv, i, val, (const char **)(void *)field);
		}
		if (val != NULL) {
			return ac_cli_usage_error(cli, "option %s takes no value", globals[g].name);
		}
		*(bool *)(void *)field = true;
		return AC_CLI_EXIT_OK;
	}
	for (int k = 0; cli->cmd != NULL && k < AC_CLI_MAX_OPTS && cli->cmd->opts[k]; k++) {
		if (match_opt(argv[*i], cli->cmd->opts[k], &val)) {
			return take_command_value(cli, argc, argv, i, val, k);
		}
	}
	for (int k = 0; cli->cmd != NULL && k < AC_CLI_MAX_FLAGS && cli->cmd->flags[k]; k++) {
		if (!match_opt(argv[*i], cli->cmd->flags[k], &val)) {
			continue;
		}
		if (val != NULL) {
			return ac_cli_usage_error(cli, "option %s takes no value", cli->cmd->flags[k]);
		}
		cli->flag_values[k] = true;
		return AC_CLI_EXIT_OK;
	}
	return ac_cli_usage_error(cli, "unknown option %s", argv[*i]);
}

static bool
is_option(const char *arg)
{
	return arg[0] == '-' && arg[1] != '\0';
}

/* How many of words[0..avail) spell name, word by word; 0 when they do not. */
static int
match_words(const char *name, char **words, int avail)
{
	int n = 0;

	while (*name != '\0') {
		size_t len = strcspn(name, " ");
		if (n >= avail || strlen(words[n]) != len || strncmp(words[n], name, len) != 0) {
			return 0;
		}
		n++;
		name += len + (name[len] == ' ');
	}
	return n;
}

/* Whether name starts with the words of prefix ("" matches everything). */
static bool
has_prefix(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) == 0 && (n == 0 || name[n] == '\0' || name[n] == ' ');
}

/* The command spelled by the longest run of words at argv[*i]; advances *i past it. */
static int
find_command(ac_cli *cli, int argc, char **argv, int *i)
{
	int best_words = 0;

	for (size_t c = 0; c < cli->table_count; c++) {
		int n = match_words(cli->table[c].name, argv + *i, argc - *i);
		if (n > best_words) {
			best_words = n;
			cli->cmd = &cli->table[c];
		}
	}
	if (cli->cmd == NULL) {
		for (size_t c = 0; c < cli->table_count; c++) {
			if (!has_prefix(cli->table[c].name, argv[*i])) {
				continue;
			}
			if (*i + 1 < argc && strcmp(argv[*i + 1], "--help") == 0) {
				cli->group = argv[*i]; /* "agentcom token --help" */
				cli->is_help = true;
				return AC_CLI_EXIT_OK;
			}
			fprintf(stderr, "agentcom %s: missing or unknown subcommand\n", argv[*i]);
			ac_cli_usage(cli, stderr, argv[*i]);
			return AC_CLI_EXIT_USAGE;
		}
		return ac_cli_usage_error(cli, "unknown command '%s'", argv[*i]);
	}
	*i += best_words;
	return AC_CLI_EXIT_OK;
}

int
ac_cli_parse(ac_cli *cli, int argc, char **argv)
{
	bool is_opts_done = false;
	int i = 1, rc = AC_CLI_EXIT_OK;

	cli->timeout_ms = -1;
	for (; i < argc && is_option(argv[i]) && rc == AC_CLI_EXIT_OK; i++) {
		rc = parse_option(cli, argc, argv, &i);
	}
	if (rc != AC_CLI_EXIT_OK || i >= argc) {
		return rc;
	}
	if ((rc = find_command(cli, argc, argv, &i)) != AC_CLI_EXIT_OK || cli->cmd == NULL) {
		return rc;
	}
	for (; i < argc && rc == AC_CLI_EXIT_OK; i++) {
		if (!is_opts_done && strcmp(argv[i], "--") == 0) {
			is_opts_done = true;
		} else if (!is_opts_done && is_option(argv[i])) {
			rc = parse_option(cli, argc, argv, &i);
		} else if (cli->arg_count >= cli->cmd->max_args ||
		    cli->arg_count >= AC_CLI_MAX_ARGS) {
			rc = ac_cli_usage_error(cli, "%s: too many arguments", cli->cmd->name);
		} else {
			cli->args[cli->arg_count++] = argv[i];
		}
	}
	if (rc == AC_CLI_EXIT_OK && !cli->is_help && cli->arg_count < cli->cmd->min_args) {
		rc = ac_cli_usage_error(cli, "%s: missing argument", cli->cmd->name);
	}
	return rc;
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

/* The first line of <data-dir>/admin.token without surrounding blanks. A missing file
 * is no token; an unreadable one is worth a warning, not a failure (the server will
 * answer unauthenticated if it needed one). */
static int
read_token_file(ac_cli *cli)
{
	const char *dir = cli->data_dir;
	char path[4096], buf[MAX_TOKEN_LEN + 1], *tok;
	size_t n;
	FILE *f;

	if (dir == NULL) {
		dir = env_or("AGENTCOM_DATA_DIR", DEFAULT_DATA_DIR);
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/" TOKEN_FILE, dir) >= sizeof(path)) {
		return ac_cli_usage_error(cli, "data dir path too long");
	}
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT && errno != ENOTDIR) {
			fprintf(stderr, "agentcom: warning: cannot read %s (%s); no token\n",
			    path, strerror(errno));
		}
		return AC_CLI_EXIT_OK;
	}
	n = fread(buf, 1, MAX_TOKEN_LEN, f);
	fclose(f);
	buf[n] = '\0';
	tok = buf + strspn(buf, " \t");
	n = strcspn(tok, "\r\n");
	while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t')) {
		n--;
	}
	if (n > 0 && (cli->token = strndup(tok, n)) == NULL) {
		return ac_cli_fail("reading the token");
	}
	return AC_CLI_EXIT_OK;
}

static bool
parse_ms(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > INT32_MAX) {
		return false;
	}
	*out = (int)v;
	return true;
}

int
ac_cli_resolve(ac_cli *cli)
{
	const char *token = cli->token_arg ? cli->token_arg : env_or("AGENTCOM_TOKEN", NULL);

	if (cli->url == NULL) {
		cli->url = env_or("AGENTCOM_URL", AC_DEFAULT_URL);
	}
	if (cli->timeout_arg != NULL && !parse_ms(cli->timeout_arg, &cli->timeout_ms)) {
		return ac_cli_usage_error(cli, "--timeout wants milliseconds > 0, not '%s'",
		    cli->timeout_arg);
	}
	if (token == NULL) {
		return read_token_file(cli);
	}
	if (token[0] != '\0' && (cli->token = strdup(token)) == NULL) {
		return ac_cli_fail("copying the token");
	}
	return AC_CLI_EXIT_OK;
}

void
ac_cli_fini(ac_cli *cli)
{
	ac_client_close(cli->client);
	cli->client = NULL;
	free(cli->token);
	cli->token = NULL;
}

/* The index of the command's option name in cmd->opts, or -1. */
static int
find_opt(const ac_cli *cli, const char *name)
{
	for (int k = 0; cli->cmd != NULL && k < AC_CLI_MAX_OPTS && cli->cmd->opts[k]; k++) {
		if (strcmp(cli->cmd->opts[k], name) == 0) {
			return k;
		}
	}
	return -1;
}

const char *
ac_cli_opt(const ac_cli *cli, const char *name)
{
	int k = find_opt(cli, name);

	return k >= 0 ? cli->opt_values[k] : NULL;
}

const char *
ac_cli_opt_next(const ac_cli *cli, const char *name, size_t *pos)
{
	int k = find_opt(cli, name);

	while (k >= 0 && *pos < cli->opt_use_count) {
		const ac_cli_opt_use *use = &cli->opt_uses[(*pos)++];
		if (use->opt == k) {
			return use->value;
		}
	}
	return NULL;
}

size_t
ac_cli_opt_count(const ac_cli *cli, const char *name)
{
	size_t pos = 0, n = 0;

	while (ac_cli_opt_next(cli, name, &pos) != NULL) {
		n++;
	}
	return n;
}

bool
ac_cli_flag(const ac_cli *cli, const char *name)
{
	for (int k = 0; cli->cmd != NULL && k < AC_CLI_MAX_FLAGS && cli->cmd->flags[k]; k++) {
		if (strcmp(cli->cmd->flags[k], name) == 0) {
			return cli->flag_values[k];
		}
	}
	return false;
}

int
ac_cli_parse_u64(ac_cli *cli, const char *what, const char *s, uint64_t *out)
{
	unsigned long long v = 0;
	char *end = NULL;

	/* strtoull alone would accept " 1", "+1" and wrap "-1" around */
	if (s[0] >= '0' && s[0] <= '9') {
		errno = 0;
		v = strtoull(s, &end, 10);
	}
	if (end == NULL || errno != 0 || *end != '\0') {
		return ac_cli_usage_error(cli, "%s wants a number >= 0, not '%s'", what, s);
	}
	*out = (uint64_t)v;
	return AC_CLI_EXIT_OK;
}

static void
print_command(FILE *f, const ac_cli_cmd *cmd)
{
	int n = fprintf(f, "  %s%s%s", cmd->name, cmd->usage[0] ? " " : "", cmd->usage);

	if (n >= USAGE_COLUMN) {
		fprintf(f, "\n%*s", USAGE_COLUMN, "");
	} else {
		fprintf(f, "%*s", USAGE_COLUMN - n, "");
	}
	fprintf(f, "%s\n", cmd->summary);
}

/* A command's details, each line indented like its summary. */
static void
print_details(FILE *f, const char *details)
{
	while (details != NULL && *details != '\0') {
		size_t n = strcspn(details, "\n");
		fprintf(f, "%s%.*s\n", n > 0 ? "  " : "", (int)n, details);
		details += n + (details[n] == '\n');
	}
}

/* One command: its synopsis, summary and details; several: the command list. */
static void
print_commands(const ac_cli *cli, FILE *f, const char *prefix, size_t matched)
{
	bool is_listing = false;

	for (size_t c = 0; c < cli->table_count; c++) {
		const ac_cli_cmd *cmd = &cli->table[c];
		if (!has_prefix(cmd->name, prefix)) {
			continue;
		}
		if (matched == 1 && strcmp(cmd->name, prefix) == 0) {
			fprintf(f, "usage: agentcom [OPTIONS] %s%s%s\n\n  %s\n", cmd->name,
			    cmd->usage[0] ? " " : "", cmd->usage, cmd->summary);
			print_details(f, cmd->details);
			return;
		}
		if (!is_listing) {
			fputs("usage: agentcom [OPTIONS] COMMAND [ARGS]\n\ncommands:\n", f);
			is_listing = true;
		}
		print_command(f, cmd);
	}
}

size_t
ac_cli_usage(const ac_cli *cli, FILE *f, const char *prefix)
{
	size_t matched = 0;

	for (size_t c = 0; c < cli->table_count; c++) {
		matched += has_prefix(cli->table[c].name, prefix);
	}
	if (matched == 0) {
		return 0;
	}
	print_commands(cli, f, prefix, matched);
	fputs("\noptions (before or after the command):\n", f);
	for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++) {
		char opt[32];
		snprintf(opt, sizeof(opt), "%s%s%s", globals[g].name, globals[g].arg ? " " : "",
		    globals[g].arg ? globals[g].arg : "");
		fprintf(f, "  %-16s %s\n", opt, globals[g].help);
	}
	fputs("\nexit status: 0 success, 1 error reply, 2 usage error, "
	      "3 agentcomd unreachable (no reply)\n", f);
	return matched;
}
