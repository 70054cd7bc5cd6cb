/* SPDX-License-Identifier: MIT
 * Server configuration (DESIGN §9). One const table of keys (type, field, limits, default,
 * help) drives the defaults, --set, AGENTCOM_<KEY> variables, the config file and --help;
 * a second table maps flags to keys. Layers are applied lowest first: defaults, file,
 * environment, flags. Never starts anything and never reads a file other than --config.
 * (Over the 500-line soft limit by the key table and --help text, which stay together.)
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rt/assert.h"
#include "rt/log.h"

#define VERSION_TEXT "agentcomd 0.1.0 (protocol 1)"
#define KEY_MAX_LEN 64
#define DAY_MS INT64_C(86400000)

typedef enum key_type {
	KT_INT,        /* int64_t in [min, max] */
	KT_STR,        /* char[size], length >= min */
	KT_BOOL,
	KT_LIST,       /* the listen URLs: comma-separated, up to AC_MAX_LISTEN */
	KT_LEVEL,      /* int holding an ac_log_level */
	KT_DURABILITY, /* ac_durability */
	KT_COUNT
} key_type;

typedef struct key_desc {
	const char *name; /* --set and file key; the variable is AGENTCOM_<NAME in upper case> */
	key_type type;
	size_t offset;    /* of the field in ac_config */
	size_t size;      /* of the field */
	int64_t min, max; /* KT_INT: value range; KT_STR: min is the least length */
	const char *def;  /* the default as text, parsed like any other value */
	const char *help;
} key_desc;

#define KEY(n, t, f, lo, hi, d, h) \
	{ n, t, offsetof(ac_config, f), sizeof(((ac_config *)0)->f), lo, hi, d, h }
#define MS(f, d, h) KEY(#f, KT_INT, f, 0, 3650 * DAY_MS, d, h) /* key name = field name */

static const key_desc keys[] = {
	KEY("data_dir", KT_STR, data_dir, 1, 0, "./agentcom-data",
	    "directory of the task store, the tokens and admin.token"),
	KEY("listen", KT_LIST, listen, 0, 0, "tcp://127.0.0.1:7450",
	    "API URL, repeatable or comma-separated (tcp, tls+tcp, ws, wss, ipc; port 0: any)"),
	KEY("pub", KT_STR, pub_url, 1, 0, "tcp://127.0.0.1:7451", "telemetry PUB URL"),
	KEY("insecure", KT_BOOL, insecure, 0, 0, "false",
	    "turn authentication off: anyone who can connect is admin"),
	KEY("tls_cert", KT_STR, tls_cert, 0, 0, "", "PEM certificate for tls+tcp:// and wss://"),
	KEY("tls_key", KT_STR, tls_key, 0, 0, "", "PEM private key for tls+tcp:// and wss://"),
	KEY("log_level", KT_LEVEL, log_level, 0, 0, "info", "err, warn, info or debug"),
	MS(fallback_wait_ms, "5000", "wait for the task's own tier before routing one tier up"),
	MS(task_ttl_ms, "600000", "queued non-trivial tasks older than this dead-letter"),
	MS(tier_down_alert_ms, "60000", "no healthy endpoint for this long raises alert.tier_down"),
	MS(health_interval_ms, "10000", "how often each Ollama endpoint is probed"),
	MS(accept_timeout_ms, "60000", "an assigned task not accepted within this is reclaimed"),
	MS(lease_ms, "300000", "a working task silent for this long is reclaimed"),
	MS(heartbeat_ms, "10000", "heartbeat interval told to agents"),
	MS(agent_timeout_ms, "30000", "an agent silent for this long goes offline"),
	KEY("max_reclaims", KT_INT, max_reclaims, 0, 1000000, "5",
	    "the reclaim that reaches this count dead-letters the task"),
	MS(retry_backoff_ms, "1000", "first retry delay (doubling, jittered, capped at 300000)"),
	KEY("endpoint_slots", KT_INT, endpoint_slots, 1, 1024, "4",
	    "concurrent tasks per Ollama endpoint"),
	KEY("default_model", KT_STR, default_model, 1, 0, "qwen2.5-coder:7b",
	    "model used when the endpoint has it"),
	KEY("durability", KT_DURABILITY, durability, 0, 0, "full",
	    "full (fsync every commit), normal (crash-safe, not power-cut-safe) or off"),
	MS(retention_ms, "604800000", "terminal tasks are kept this long (7 days)"),
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

typedef enum flag_kind { FK_KEY, FK_SET, FK_CONFIG, FK_HELP, FK_VERSION } flag_kind;

typedef struct flag_desc {
	const char *name;
	const char *meta; /* NULL: takes no value */
	flag_kind kind;
	const char *key;  /* FK_KEY: the key it sets (its help is the key's) */
	const char *help; /* others */
} flag_desc;

static const flag_desc flags[] = {
	{ "--data-dir", "DIR", FK_KEY, "data_dir", NULL },
	{ "--listen", "URL", FK_KEY, "listen", NULL },
	{ "--pub", "URL", FK_KEY, "pub", NULL },
	{ "--config", "FILE", FK_CONFIG, NULL, "read 'key = value' lines from FILE" },
	{ "--set", "KEY=VALUE", FK_SET, NULL, "set any key below (repeatable)" },
	{ "--insecure", NULL, FK_KEY, "insecure", NULL },
	{ "--tls-cert", "FILE", FK_KEY, "tls_cert", NULL },
	{ "--tls-key", "FILE", FK_KEY, "tls_key", NULL },
	{ "--log-level", "LEVEL", FK_KEY, "log_level", NULL },
	{ "--durability", "MODE", FK_KEY, "durability", NULL },
	{ "--help", NULL, FK_HELP, NULL, "print this help and exit" },
	{ "--version", NULL, FK_VERSION, NULL, "print the version and exit" },
};

#define FLAG_COUNT (sizeof(flags) / sizeof(flags[0]))

/* One source of values (file, environment, flags). The first listen of a layer replaces
 * the list of the layers below; later ones in the same layer append. */
typedef struct layer {
	bool has_listen;
} layer;

typedef bool (*parse_fn)(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap);

static void *field(const key_desc *k, ac_config *cfg)
{
	return (char *)cfg + k->offset;
}

static bool parse_int(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap)
{
	char *end = NULL;
	long long n;

	(void)l;
	errno = 0;
	n = isdigit((unsigned char)v[0]) ? strtoll(v, &end, 10) : -1;
	if (n < 0 || *end != '\0') {
		snprintf(why, cap, "not a non-negative integer: '%s'", v);
		return false;
	}
	if (errno == ERANGE || n < k->min || n > k->max) {
		snprintf(why, cap, "out of range [%lld, %lld]: '%s'", (long long)k->min,
		    (long long)k->max, v);
		return false;
	}
	*(int64_t *)field(k, cfg) = n;
	return true;
}

/* Checks that v fits a string field of size bytes with at least min bytes. */
static bool check_str(const char *v, int64_t min, size_t size, char *why, size_t cap)
{
	size_t len = strlen(v);

	if ((int64_t)len < min) {
		snprintf(why, cap, "must not be empty");
		return false;
	}
	if (len >= size) {
		snprintf(why, cap, "too long (at most %zu bytes): '%.40s...'", size - 1, v);
		return false;
	}
	return true;
}

static bool parse_str(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap)
{
	(void)l;
	if (!check_str(v, k->min, k->size, why, cap)) {
		return false;
	}
	memcpy(field(k, cfg), v, strlen(v) + 1);
	return true;
}

/* Index of v in names[0..n), -1 when absent. */
static int find_name(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static bool parse_bool(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap)
{
	static const char *const names[] = { "false", "true", "0", "1", "no", "yes", "off", "on" };
	int i = find_name(names, sizeof(names) / sizeof(names[0]), v);

	(void)l;
	if (i < 0) {
		snprintf(why, cap, "not a boolean (true|false|1|0|yes|no|on|off): '%s'", v);
		return false;
	}
	*(bool *)field(k, cfg) = i % 2 == 1;
	return true;
}

/* The whole list is checked before cfg changes. */
static bool parse_list(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap)
{
	char urls[AC_MAX_LISTEN][sizeof(cfg->listen[0])], item[sizeof(cfg->listen[0]) + 1];
	int n = l->has_listen ? cfg->listen_count : 0;

	(void)k;
	memcpy(urls, cfg->listen, sizeof(urls));
	for (const char *p = v, *comma; p != NULL; p = comma != NULL ? comma + 1 : NULL) {
		size_t len = (comma = strchr(p, ',')) != NULL ? (size_t)(comma - p) : strlen(p);
		int shown = (int)(len < sizeof(item) ? len : sizeof(item) - 1); /* longer: error */
		snprintf(item, sizeof(item), "%.*s", shown, p);
		if (!check_str(item, 1, sizeof(urls[0]), why, cap)) {
			return false;
		}
		if (n == AC_MAX_LISTEN) {
			snprintf(why, cap, "more than %d URLs", AC_MAX_LISTEN);
			return false;
		}
		memcpy(urls[n++], item, strlen(item) + 1);
	}
	memcpy(cfg->listen, urls, sizeof(urls));
	cfg->listen_count = n;
	l->has_listen = true;
	return true;
}

static bool parse_level(const key_desc *k, ac_config *cfg, layer *l, const char *v, char *why,
    size_t cap)
{
	ac_log_level level;

	(void)l;
	if (ac_log_level_parse(v, &level) != 0) {
		snprintf(why, cap, "not a log level (err|warn|info|debug): '%s'", v);
		return false;
	}
	*(int *)field(k, cfg) = (int)level;
	return true;
}

static bool parse_durability(const key_desc *k, ac_config *cfg, layer *l, const char *v,
    char *why, size_t cap)
{
	static const char *const names[] = {
		[AC_DURABILITY_FULL] = "full",
		[AC_DURABILITY_NORMAL] = "normal",
		[AC_DURABILITY_OFF] = "off",
	};
	int i = find_name(names, sizeof(names) / sizeof(names[0]), v);

	(void)l;
	if (i < 0) {
		snprintf(why, cap, "not a durability (full|normal|off): '%s'", v);
		return false;
	}
	*(ac_durability *)field(k, cfg) = (ac_durability)i;
	return true;
}

static const parse_fn parsers[KT_COUNT] = {
	[KT_INT] = parse_int,
	[KT_STR] = parse_str,
	[KT_BOOL] = parse_bool,
	[KT_LIST] = parse_list,
	[KT_LEVEL] = parse_level,
	[KT_DURABILITY] = parse_durability,
};

static const key_desc *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0) {
			return &keys[i];
		}
	}
	return NULL;
}

/* Applies v to the table's key name (flags name keys that exist); the reason in why. */
static bool apply_key(ac_config *cfg, layer *l, const char *name, const char *v, char *why,
    size_t cap)
{
	const key_desc *k = find_key(name, strlen(name));

	AC_ASSERT(k != NULL);
	return parsers[k->type](k, cfg, l, v, why, cap);
}

/* Applies key[0..key_len) = v as a user typed it; the reason in why starts with the key. */
static bool apply_pair(ac_config *cfg, layer *l, const char *key, size_t key_len, const char *v,
    char *why, size_t cap)
{
	const key_desc *k = find_key(key, key_len);
	int n;

	if (k == NULL) {
		snprintf(why, cap, "%.*s: unknown key (see --help)", (int)key_len, key);
		return false;
	}
	n = snprintf(why, cap, "%s: ", k->name);
	if (n < 0 || (size_t)n >= cap) {
		return false;
	}
	return parsers[k->type](k, cfg, l, v, why + n, cap - (size_t)n);
}

static bool apply_kv(ac_config *cfg, layer *l, const char *kv, char *why, size_t cap)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL) {
		snprintf(why, cap, "'%s': expected KEY=VALUE", kv);
		return false;
	}
	return apply_pair(cfg, l, kv, (size_t)(eq - kv), eq + 1, why, cap);
}

void ac_config_defaults(ac_config *cfg)
{
	layer l = { false };
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const key_desc *k = &keys[i];
		bool is_ok = parsers[k->type](k, cfg, &l, k->def, why, sizeof(why));
		AC_ASSERT(is_ok); /* a default that does not parse is a bug in the table */
	}
}

ac_err ac_config_set(ac_config *cfg, const char *kv, char *why, size_t cap)
{
	layer l = { false };

	return apply_kv(cfg, &l, kv, why, cap) ? AC_OK : AC_EINVAL;
}

static void print_help(FILE *out)
{
	char left[64];

	fprintf(out, "Usage: agentcomd [FLAG...]\n"
	    "Runs the agentcom scheduler server. Each setting comes from a flag, else an\n"
	    "AGENTCOM_<KEY> environment variable, else the --config file, else its default.\n"
	    "Flags take their value as '--flag VALUE' or '--flag=VALUE'.\n\nFlags:\n");
	for (size_t i = 0; i < FLAG_COUNT; i++) {
		const flag_desc *f = &flags[i];
		snprintf(left, sizeof(left), "%s%s%s", f->name, f->meta != NULL ? " " : "",
		    f->meta != NULL ? f->meta : "");
		fprintf(out, "  %-22s %s\n", left,
		    f->help != NULL ? f->help : find_key(f->key, strlen(f->key))->help);
	}
	fprintf(out, "\nKeys (--set KEY=VALUE, AGENTCOM_<KEY>, 'key = value' in the config file):\n"
	    "  %-20s %-22s %s\n", "KEY", "DEFAULT", "MEANING");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		fprintf(out, "  %-20s %-22s %s\n", keys[i].name,
		    keys[i].def[0] != '\0' ? keys[i].def : "(none)", keys[i].help);
	}
}

static ac_err load_env(ac_config *cfg, FILE *err)
{
	layer l = { false };
	char name[KEY_MAX_LEN + 16], why[512];
	const char *v;

	for (size_t i = 0; i < KEY_COUNT; i++) {
		int n = snprintf(name, sizeof(name), "AGENTCOM_%s", keys[i].name);
		for (int j = 0; j < n; j++) {
			name[j] = (char)toupper((unsigned char)name[j]);
		}
		v = getenv(name);
		if (v != NULL && !parsers[keys[i].type](&keys[i], cfg, &l, v, why, sizeof(why))) {
			fprintf(err, "agentcomd: %s: %s\n", name, why);
			return AC_EINVAL;
		}
	}
	return AC_OK;
}

/* Cuts leading and trailing white space (in place) and returns the start. */
static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1])) {
		*--end = '\0';
	}
	return s;
}

/* Applies one config file line: blank, "# comment", or "key = value" with an optional
 * trailing " # comment". False with the reason in why. */
static bool apply_line(ac_config *cfg, layer *l, char *line, char *why, size_t cap)
{
	char *s = trim(line), *eq, *key, *value;

	if (*s == '\0' || *s == '#') {
		return true;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		snprintf(why, cap, "expected 'key = value'");
		return false;
	}
	*eq = '\0';
	key = trim(s);
	value = eq + 1;
	for (char *p = value; (p = strchr(p, '#')) != NULL; p++) {
		if (p == value || isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	value = trim(value);
	return apply_pair(cfg, l, key, strlen(key), value, why, cap);
}

static ac_err load_file(ac_config *cfg, const char *path, FILE *err)
{
	FILE *f = fopen(path, "re");
	layer l = { false };
	char *line = NULL, why[512];
	size_t cap = 0;
	int lineno = 0;
	ac_err rv = AC_OK;

	if (f == NULL) {
		fprintf(err, "agentcomd: --config %s: %s\n", path, strerror(errno));
		return AC_EINVAL;
	}
	while (rv == AC_OK && getline(&line, &cap, f) >= 0) {
		lineno++;
		if (!apply_line(cfg, &l, line, why, sizeof(why))) {
			fprintf(err, "agentcomd: %s:%d: %s\n", path, lineno, why);
			rv = AC_EINVAL;
		}
	}
	if (rv == AC_OK && ferror(f)) {
		fprintf(err, "agentcomd: --config %s: read error\n", path);
		rv = AC_EINVAL;
	}
	free(line);
	fclose(f);
	return rv;
}

static const flag_desc *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < FLAG_COUNT; i++) {
		if (strlen(flags[i].name) == len && memcmp(flags[i].name, name, len) == 0) {
			return &flags[i];
		}
	}
	return NULL;
}

/* Reads the flag at argv[*i] and its value ("--flag=value", or the next argument when the
 * flag takes one; NULL when it takes none) and moves *i past them. */
static ac_err scan_flag(int argc, char **argv, int *i, const flag_desc **flag, const char **value,
    FILE *err)
{
	const char *arg = argv[(*i)++], *eq = strchr(arg, '=');
	int len = eq != NULL ? (int)(eq - arg) : (int)strlen(arg);

	*value = eq != NULL ? eq + 1 : NULL;
	if (arg[0] != '-' || (*flag = find_flag(arg, (size_t)len)) == NULL) {
		fprintf(err, "agentcomd: unknown %s '%.*s' (see --help)\n",
		    arg[0] == '-' ? "flag" : "argument", len, arg);
		return AC_EINVAL;
	}
	if ((*flag)->meta == NULL && eq != NULL) {
		fprintf(err, "agentcomd: %s takes no value\n", (*flag)->name);
		return AC_EINVAL;
	}
	if ((*flag)->meta != NULL && eq == NULL) {
		if (*i >= argc) {
			fprintf(err, "agentcomd: %s needs a value (%s)\n", (*flag)->name,
			    (*flag)->meta);
			return AC_EINVAL;
		}
		*value = argv[(*i)++];
	}
	return AC_OK;
}

/* Walks the flags. Without cfg (first pass) it only checks that every flag is known and
 * has its value, and finds --config, --help and --version; with cfg it applies the flags
 * that set keys, in order, as the top layer. */
static ac_err walk_flags(ac_config *cfg, int argc, char **argv, FILE *err, const char **config,
    ac_config_action *action)
{
	layer l = { false };
	char why[512];
	const flag_desc *f;
	const char *v;

	for (int i = 1; i < argc;) {
		if (scan_flag(argc, argv, &i, &f, &v, err) != AC_OK) {
			return AC_EINVAL;
		}
		if (cfg == NULL && f->kind == FK_CONFIG) {
			*config = v;
		} else if (cfg == NULL && f->kind == FK_HELP) {
			*action = AC_CONFIG_HELP; /* --help wins over --version */
		} else if (cfg == NULL && f->kind == FK_VERSION && *action == AC_CONFIG_RUN) {
			*action = AC_CONFIG_VERSION;
		} else if (cfg != NULL && f->kind == FK_KEY &&
		    !apply_key(cfg, &l, f->key, v != NULL ? v : "true", why, sizeof(why))) {
			fprintf(err, "agentcomd: %s: %s\n", f->name, why);
			return AC_EINVAL;
		} else if (cfg != NULL && f->kind == FK_SET &&
		    !apply_kv(cfg, &l, v, why, sizeof(why))) {
			fprintf(err, "agentcomd: --set %s\n", why);
			return AC_EINVAL;
		}
	}
	return AC_OK;
}

ac_err ac_config_load(ac_config *cfg, int argc, char **argv, FILE *out, FILE *err,
    ac_config_action *action)
{
	const char *config = getenv("AGENTCOM_CONFIG");

	*action = AC_CONFIG_RUN;
	ac_config_defaults(cfg);
	if (walk_flags(NULL, argc, argv, err, &config, action) != AC_OK) {
		return AC_EINVAL;
	}
	if (*action != AC_CONFIG_RUN) {
		if (*action == AC_CONFIG_HELP) {
			print_help(out);
		} else {
			fprintf(out, "%s\n", VERSION_TEXT);
		}
		return AC_OK;
	}
	if ((config != NULL && config[0] != '\0' && load_file(cfg, config, err) != AC_OK) ||
	    load_env(cfg, err) != AC_OK ||
	    walk_flags(cfg, argc, argv, err, &config, action) != AC_OK) {
		return AC_EINVAL;
	}
	return AC_OK;
}
