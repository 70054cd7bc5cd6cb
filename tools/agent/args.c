/* SPDX-License-Identifier: MIT
 * agentcom-agent's command line: one option table (parsing and usage both walk it),
 * defaults from AGENTCOM_URL / AGENTCOM_TOKEN, and the checks the server would
 * otherwise reject the hello for (agent id syntax, target names).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define DEFAULT_WAIT_MS 25000
#define MAX_WAIT_MS 30000 /* the server's limit on agent.fetch wait_ms */
#define MAX_ID_LEN 128

typedef enum { KIND_STR, KIND_LIST, KIND_INT, KIND_FLAG, KIND_COUNT } opt_kind;

typedef struct opt_def {
	const char *name;
	opt_kind kind;
	size_t offset;       /* of the field in ac_agent_cfg */
	size_t count_offset; /* KIND_LIST: of its count */
	size_t max;          /* KIND_LIST: capacity; KIND_INT: largest value */
	const char *arg;     /* placeholder in the usage text (NULL for a flag) */
	const char *help;
} opt_def;

#define CFG(f) offsetof(ac_agent_cfg, f)

static const opt_def opts[] = {
	{ "--url", KIND_STR, CFG(url), 0, 0, "URL",
	    "server address (default $AGENTCOM_URL, else " AC_DEFAULT_URL ")" },
	{ "--token", KIND_STR, CFG(token), 0, 0, "TOKEN", "agent token (default $AGENTCOM_TOKEN)" },
	{ "--id", KIND_STR, CFG(id), 0, 0, "NAME", "agent id, 1..128 of [A-Za-z0-9._:-] (required)" },
	{ "--name", KIND_STR, CFG(name), 0, 0, "TEXT", "display name" },
	{ "--capability", KIND_LIST, CFG(caps), CFG(cap_count), AC_AGENT_MAX_CAPS, "CAP",
	    "a capability (repeatable)" },
	{ "--target", KIND_LIST, CFG(targets), CFG(target_count), AC_AGENT_MAX_TARGETS,
	    "T", "a tier it executes: sidecar, ollama or claude (repeatable; default all)" },
	{ "--ollama-url", KIND_STR, CFG(ollama_url), 0, 0, "URL",
	    "its local Ollama; heartbeats then report this host's CPU, RAM, VRAM" },
	{ "--wait-ms", KIND_INT, CFG(wait_ms), 0, MAX_WAIT_MS, "N",
	    "long-poll wait per fetch (default 25000, at most 30000)" },
	{ "--exec", KIND_STR, CFG(exec), 0, 0, "CMD",
	    "command run per task by /bin/sh -c, task JSON on stdin (required)" },
	{ "--once", KIND_FLAG, CFG(is_once), 0, 0, NULL, "exit after one task" },
	{ "--json-log", KIND_FLAG, CFG(is_json_log), 0, 0, NULL, "log JSON lines on stderr" },
	{ "--help", KIND_FLAG, CFG(is_help), 0, 0, NULL, "show this help" },
};
#define OPT_COUNT (sizeof(opts) / sizeof(opts[0]))

static const char *const target_names[] = { "sidecar", "ollama", "claude" };

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("agentcom-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nsee 'agentcom-agent --help'\n", stderr);
	return AC_AGENT_EXIT_USAGE;
}

static void
print_usage(FILE *f)
{
	fputs("usage: agentcom-agent --id NAME --exec CMD [options]\n"
	      "Registers with agentcom, long-polls for tasks and runs CMD for each: the task\n"
	      "JSON on stdin; stdout (a JSON object, else {\"output\": text}) is the result;\n"
	      "a nonzero exit fails the task with the stderr tail. Env for CMD:\n"
	      "AGENTCOM_TASK_ID, AGENTCOM_TASK_GENERATION, AGENTCOM_TASK_DESCRIPTION,\n"
	      "AGENTCOM_TARGET, AGENTCOM_MODEL. stderr lines \"progress: TEXT\" are reported.\n"
	      "options:\n", f);
	for (size_t i = 0; i < OPT_COUNT; i++) {
		char left[40];
		snprintf(left, sizeof(left), "%s%s%s", opts[i].name, opts[i].arg ? " " : "",
		    opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-22s %s\n", left, opts[i].help);
	}
}

static int
set_str(ac_agent_cfg *cfg, const opt_def *o, const char *v)
{
	*(const char **)(void *)((char *)cfg + o->offset) = v;
	return AC_AGENT_EXIT_OK;
}

static int
set_list(ac_agent_cfg *cfg, const opt_def *o, const char *v)
{
	const char **list = (const char **)(void *)((char *)cfg + o->offset);
	size_t *count = (size_t *)(void *)((char *)cfg + o->count_offset);

	if (*count == o->max) {
		return usage_error("too many %s options", o->name);
	}
	list[(*count)++] = v;
	return AC_AGENT_EXIT_OK;
}

static int
set_int(ac_agent_cfg *cfg, const opt_def *o, const char *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n > o->max) {
		return usage_error("bad value for %s", o->name);
	}
	*(int *)(void *)((char *)cfg + o->offset) = (int)n;
	return AC_AGENT_EXIT_OK;
}

static int
set_flag(ac_agent_cfg *cfg, const opt_def *o, const char *v)
{
	(void)v;
	*(bool *)(void *)((char *)cfg + o->offset) = true;
	return AC_AGENT_EXIT_OK;
}

static int (*const setters[KIND_COUNT])(ac_agent_cfg *, const opt_def *, const char *) = {
	[KIND_STR] = set_str, [KIND_LIST] = set_list, [KIND_INT] = set_int, [KIND_FLAG] = set_flag,
};

/* The option argv[*i] names ("--x" or "--x=value"), with its value; advances *i. */
static int
parse_one(ac_agent_cfg *cfg, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *val;

	for (size_t k = 0; k < OPT_COUNT; k++) {
		size_t n = strlen(opts[k].name);
		if (strncmp(arg, opts[k].name, n) != 0 || (arg[n] != '\0' && arg[n] != '=')) {
			continue;
		}
		val = arg[n] == '=' ? arg + n + 1 : NULL;
		if (opts[k].kind == KIND_FLAG && val != NULL) {
			return usage_error("option %s takes no value", opts[k].name);
		}
		if (opts[k].kind != KIND_FLAG && val == NULL) {
			if (*i + 1 >= argc) {
				return usage_error("option %s needs a value", opts[k].name);
			}
			val = argv[++*i];
		}
		return setters[opts[k].kind](cfg, &opts[k], val);
	}
	return usage_error("unknown option %s", arg);
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : dflt;
}

static bool
is_valid_id(const char *id)
{
	size_t n = strlen(id);

	return n >= 1 && n <= MAX_ID_LEN &&
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

static bool
is_valid_target(const char *t)
{
	for (size_t i = 0; i < sizeof(target_names) / sizeof(target_names[0]); i++) {
		if (strcmp(t, target_names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int
check(ac_agent_cfg *cfg)
{
	if (cfg->id == NULL || cfg->exec == NULL) {
		return usage_error("%s is required", cfg->id == NULL ? "--id" : "--exec");
	}
	if (!is_valid_id(cfg->id)) {
		return usage_error("bad agent id '%s': 1..128 of [A-Za-z0-9._:-]", cfg->id);
	}
	for (size_t i = 0; i < cfg->target_count; i++) {
		if (!is_valid_target(cfg->targets[i])) {
			return usage_error("unknown target '%s' (sidecar, ollama, claude)",
			    cfg->targets[i]);
		}
	}
	cfg->url = cfg->url != NULL ? cfg->url : env_or("AGENTCOM_URL", AC_DEFAULT_URL);
	cfg->token = cfg->token != NULL ? cfg->token : env_or("AGENTCOM_TOKEN", NULL);
	return AC_AGENT_EXIT_OK;
}

int
ac_agent_parse_args(ac_agent_cfg *cfg, int argc, char **argv)
{
	int rc;

	cfg->wait_ms = DEFAULT_WAIT_MS;
	for (int i = 1; i < argc; i++) {
		if ((rc = parse_one(cfg, argc, argv, &i)) != AC_AGENT_EXIT_OK) {
			return rc;
		}
	}
	if (cfg->is_help) {
		print_usage(stdout);
		return AC_AGENT_EXIT_OK;
	}
	return check(cfg);
}
