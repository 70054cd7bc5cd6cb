/* SPDX-License-Identifier: MIT
 * Tests of the server configuration (src/config.c): the DESIGN §9 defaults, precedence of
 * flags over AGENTCOM_<KEY> over the config file, both flag forms, listen lists, errors
 * that name the key, and a --help that lists every key.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "rt/log.h"

extern char **environ;

static char conf_path[64];

/* Every AGENTCOM_* variable of the environment the tests run in is removed. */
static void clear_env(void)
{
	char name[256];

	for (size_t i = 0; environ[i] != NULL;) {
		if (strncmp(environ[i], "AGENTCOM_", 9) == 0) {
			int len = (int)strcspn(environ[i], "=");
			snprintf(name, sizeof(name), "%.*s", len, environ[i]);
			unsetenv(name);
			i = 0;
		} else {
			i++;
		}
	}
}

static void setup(void)
{
	int fd;

	clear_env();
	strcpy(conf_path, "/tmp/ac_config_test_XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void teardown(void)
{
	unlink(conf_path);
	clear_env();
}

TestSuite(config, .init = setup, .fini = teardown);

static void write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

typedef struct run_result {
	ac_err err;
	ac_config_action action;
	char out[8192];
	char err_text[1024];
} run_result;

/* Runs ac_config_load on "agentcomd" plus the NULL-terminated arguments. */
static void run(ac_config *cfg, run_result *r, ...)
{
	char *argv[32] = { "agentcomd" }, *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	int argc = 1;
	FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
	va_list ap;

	va_start(ap, r);
	for (char *a; (a = va_arg(ap, char *)) != NULL;) {
		argv[argc++] = a;
	}
	va_end(ap);
	r->err = ac_config_load(cfg, argc, argv, out, err, &r->action);
	fclose(out);
	fclose(err);
	snprintf(r->out, sizeof(r->out), "%s", obuf);
	snprintf(r->err_text, sizeof(r->err_text), "%s", ebuf);
	free(obuf);
	free(ebuf);
}

static void check_defaults(const ac_config *c)
{
	cr_assert_str_eq(c->data_dir, "./agentcom-data");
	cr_assert_eq(c->listen_count, 1);
	cr_assert_str_eq(c->listen[0], "tcp://127.0.0.1:7450");
	cr_assert_str_eq(c->pub_url, "tcp://127.0.0.1:7451");
	cr_assert_str_eq(c->tls_cert, "");
	cr_assert_str_eq(c->tls_key, "");
	cr_assert_not(c->insecure);
	cr_assert_eq(c->log_level, AC_LOG_INFO);
	cr_assert_eq(c->fallback_wait_ms, 5000);
	cr_assert_eq(c->task_ttl_ms, 600000);
	cr_assert_eq(c->tier_down_alert_ms, 60000);
	cr_assert_eq(c->health_interval_ms, 10000);
	cr_assert_eq(c->accept_timeout_ms, 60000);
	cr_assert_eq(c->lease_ms, 300000);
	cr_assert_eq(c->heartbeat_ms, 10000);
	cr_assert_eq(c->agent_timeout_ms, 30000);
	cr_assert_eq(c->max_reclaims, 5);
	cr_assert_eq(c->retry_backoff_ms, 1000);
	cr_assert_eq(c->endpoint_slots, 4);
	cr_assert_str_eq(c->default_model, "qwen2.5-coder:7b");
	cr_assert_eq(c->durability, AC_DURABILITY_FULL);
	cr_assert_eq(c->retention_ms, 7 * 24 * 3600 * 1000LL);
}

Test(config, defaults_equal_design)
{
	static ac_config cfg;
	run_result r;

	ac_config_defaults(&cfg);
	check_defaults(&cfg);
	memset(&cfg, 0x55, sizeof(cfg));
	run(&cfg, &r, NULL);
	cr_assert_eq(r.err, AC_OK);
	cr_assert_eq(r.action, AC_CONFIG_RUN);
	check_defaults(&cfg);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err_text, "");
}

Test(config, flag_beats_env_beats_file)
{
	static ac_config cfg;
	run_result r;

	write_conf("# agentcomd test\n\nlease_ms = 1\nheartbeat_ms=2\n"
		   "  agent_timeout_ms =  3   # inline\n"
		   "data_dir = /from/file\npub = tcp://file:1\ndurability = off\n");
	setenv("AGENTCOM_LEASE_MS", "10", 1);
	setenv("AGENTCOM_HEARTBEAT_MS", "20", 1);
	setenv("AGENTCOM_DATA_DIR", "/from/env", 1);
	setenv("AGENTCOM_DURABILITY", "normal", 1);
	run(&cfg, &r, "--config", conf_path, "--set", "lease_ms=100", "--data-dir", "/from/flag",
	    NULL);
	cr_assert_eq(r.err, AC_OK, "%s", r.err_text);
	cr_assert_eq(cfg.lease_ms, 100);
	cr_assert_eq(cfg.heartbeat_ms, 20);
	cr_assert_eq(cfg.agent_timeout_ms, 3);
	cr_assert_str_eq(cfg.data_dir, "/from/flag");
	cr_assert_str_eq(cfg.pub_url, "tcp://file:1");
	cr_assert_eq(cfg.durability, AC_DURABILITY_NORMAL);
	cr_assert_eq(cfg.task_ttl_ms, 600000);
}

Test(config, config_file_from_env_and_missing_file_is_an_error)
{
	static ac_config cfg;
	run_result r;

	write_conf("max_reclaims = 9\n");
	setenv("AGENTCOM_CONFIG", conf_path, 1);
	run(&cfg, &r, NULL);
	cr_assert_eq(r.err, AC_OK, "%s", r.err_text);
	cr_assert_eq(cfg.max_reclaims, 9);
	run(&cfg, &r, "--config", "/nonexistent/agentcomd.conf", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, "/nonexistent/agentcomd.conf"), "%s", r.err_text);
}

Test(config, listen_repeats_and_each_layer_replaces_the_one_below)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--listen", "tcp://127.0.0.1:1", "--listen", "ipc:///tmp/x", NULL);
	cr_assert_eq(r.err, AC_OK, "%s", r.err_text);
	cr_assert_eq(cfg.listen_count, 2);
	cr_assert_str_eq(cfg.listen[0], "tcp://127.0.0.1:1");
	cr_assert_str_eq(cfg.listen[1], "ipc:///tmp/x");

	write_conf("listen = tcp://a:1\nlisten = tcp://b:2\n");
	run(&cfg, &r, "--config", conf_path, NULL);
	cr_assert_eq(cfg.listen_count, 2);
	cr_assert_str_eq(cfg.listen[1], "tcp://b:2");
	setenv("AGENTCOM_LISTEN", "tcp://c:3,tcp://d:4,tcp://e:5", 1);
	run(&cfg, &r, "--config", conf_path, NULL);
	cr_assert_eq(cfg.listen_count, 3);
	cr_assert_str_eq(cfg.listen[0], "tcp://c:3");
	cr_assert_str_eq(cfg.listen[2], "tcp://e:5");
	run(&cfg, &r, "--config", conf_path, "--listen=tcp://f:6", NULL);
	cr_assert_eq(cfg.listen_count, 1);
	cr_assert_str_eq(cfg.listen[0], "tcp://f:6");
}

Test(config, too_many_or_empty_listen_urls_are_rejected)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--listen", "a,b,c,d,e,f,g,h,i", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, "--listen"), "%s", r.err_text);
	run(&cfg, &r, "--listen", "tcp://a:1,,tcp://b:2", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	run(&cfg, &r, "--listen", "a,b,c,d,e,f,g,h", NULL);
	cr_assert_eq(r.err, AC_OK);
	cr_assert_eq(cfg.listen_count, AC_MAX_LISTEN);
}

Test(config, set_unknown_key_is_an_error_naming_it)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--set", "lease_mss=5", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_str_eq(r.err_text, "agentcomd: --set lease_mss: unknown key (see --help)\n");
	run(&cfg, &r, "--set", "lease_ms", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, "KEY=VALUE"), "%s", r.err_text);
	write_conf("bogus = 1\n");
	run(&cfg, &r, "--config", conf_path, NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, ":1: bogus: unknown key"), "%s", r.err_text);
}

Test(config, bad_numbers_are_errors_naming_the_key)
{
	static const char *const bad[] = { "abc", "-1", "+5", " 5", "5x", "", "1.5",
		"99999999999999999999", "0x10" };
	static ac_config cfg;
	char arg[64];
	run_result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "lease_ms=%s", bad[i]);
		run(&cfg, &r, "--set", arg, NULL);
		cr_assert_eq(r.err, AC_EINVAL, "'%s' accepted", bad[i]);
		cr_assert_eq(strncmp(r.err_text, "agentcomd: --set lease_ms: ", 27), 0, "%s",
		    r.err_text);
		cr_assert_eq(strchr(r.err_text, '\n'), r.err_text + strlen(r.err_text) - 1);
	}
	run(&cfg, &r, "--set", "lease_ms=abc", NULL);
	cr_assert_str_eq(r.err_text,
	    "agentcomd: --set lease_ms: not a non-negative integer: 'abc'\n");
	run(&cfg, &r, "--set", "endpoint_slots=0", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, "endpoint_slots: out of range"), "%s", r.err_text);
	setenv("AGENTCOM_MAX_RECLAIMS", "many", 1);
	run(&cfg, &r, NULL);
	cr_assert_str_eq(r.err_text,
	    "agentcomd: AGENTCOM_MAX_RECLAIMS: not a non-negative integer: 'many'\n");
}

Test(config, numbers_at_the_limits_are_accepted)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--set", "lease_ms=0", "--set", "retention_ms=315360000000", "--set",
	    "max_reclaims=0", NULL);
	cr_assert_eq(r.err, AC_OK, "%s", r.err_text);
	cr_assert_eq(cfg.lease_ms, 0);
	cr_assert_eq(cfg.retention_ms, 315360000000LL);
	run(&cfg, &r, "--set", "retention_ms=315360000001", NULL);
	cr_assert_eq(r.err, AC_EINVAL);
}

Test(config, help_lists_every_flag_and_key_with_its_default)
{
	static const char *const items[] = { "--data-dir", "--listen", "--pub", "--config", "--set",
		"--insecure", "--tls-cert", "--tls-key", "--log-level", "--help", "--version",
		"data_dir", "./agentcom-data", "listen", "tcp://127.0.0.1:7450", "pub",
		"tcp://127.0.0.1:7451", "insecure", "tls_cert", "tls_key", "log_level",
		"fallback_wait_ms", "task_ttl_ms", "600000", "tier_down_alert_ms",
		"health_interval_ms", "accept_timeout_ms", "lease_ms", "300000", "heartbeat_ms",
		"agent_timeout_ms", "30000",
		"max_reclaims", "retry_backoff_ms", "endpoint_slots", "default_model",
		"qwen2.5-coder:7b", "durability", "full", "retention_ms", "604800000" };
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--set", "lease_ms=1", "--help", NULL);
	cr_assert_eq(r.err, AC_OK);
	cr_assert_eq(r.action, AC_CONFIG_HELP);
	cr_assert_not_null(strstr(r.out, "Usage: agentcomd"));
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		cr_assert_not_null(strstr(r.out, items[i]), "--help lacks %s", items[i]);
	}
	cr_assert_str_eq(r.err_text, "");
}

Test(config, version_prints_one_line)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--version", NULL);
	cr_assert_eq(r.err, AC_OK);
	cr_assert_eq(r.action, AC_CONFIG_VERSION);
	cr_assert_str_eq(r.out, "agentcomd 0.1.0 (protocol 1)\n");
}

Test(config, flag_equals_value_form)
{
	static ac_config cfg;
	run_result r;

	run(&cfg, &r, "--data-dir=/d", "--pub=tcp://p:1", "--set=heartbeat_ms=7",
	    "--log-level=debug", "--tls-cert=/c.pem", "--tls-key", "/k.pem", "--insecure", NULL);
	cr_assert_eq(r.err, AC_OK, "%s", r.err_text);
	cr_assert_str_eq(cfg.data_dir, "/d");
	cr_assert_str_eq(cfg.pub_url, "tcp://p:1");
	cr_assert_eq(cfg.heartbeat_ms, 7);
	cr_assert_eq(cfg.log_level, AC_LOG_DEBUG);
	cr_assert_str_eq(cfg.tls_cert, "/c.pem");
	cr_assert_str_eq(cfg.tls_key, "/k.pem");
	cr_assert(cfg.insecure);
}

Test(config, bad_flags_are_one_line_errors)
{
	static const char *const cases[][2] = {
		{ "--bogus", "unknown flag '--bogus'" },
		{ "stray", "unknown argument 'stray'" },
		{ "--insecure=yes", "--insecure takes no value" },
		{ "--data-dir", "--data-dir needs a value" },
		{ "--log-level=loud", "--log-level: not a log level" },
		{ "--data-dir=", "--data-dir: must not be empty" },
	};
	static ac_config cfg;
	run_result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&cfg, &r, cases[i][0], NULL);
		cr_assert_eq(r.err, AC_EINVAL, "%s accepted", cases[i][0]);
		cr_assert_not_null(strstr(r.err_text, cases[i][1]), "%s", r.err_text);
		cr_assert_eq(strchr(r.err_text, '\n'), r.err_text + strlen(r.err_text) - 1);
	}
}

Test(config, durability_parses_three_modes)
{
	static const char *const names[] = { "full", "normal", "off" };
	static const ac_durability modes[] = { AC_DURABILITY_FULL, AC_DURABILITY_NORMAL,
		AC_DURABILITY_OFF };
	static ac_config cfg;
	char kv[64], why[128];

	ac_config_defaults(&cfg);
	for (size_t i = 0; i < 3; i++) {
		snprintf(kv, sizeof(kv), "durability=%s", names[i]);
		cr_assert_eq(ac_config_set(&cfg, kv, why, sizeof(why)), AC_OK);
		cr_assert_eq(cfg.durability, modes[i]);
	}
	cr_assert_eq(ac_config_set(&cfg, "durability=FULL", why, sizeof(why)), AC_EINVAL);
	cr_assert_str_eq(why, "durability: not a durability (full|normal|off): 'FULL'");
	cr_assert_eq(cfg.durability, AC_DURABILITY_OFF);
}

Test(config, set_api_and_bool_and_string_limits)
{
	static ac_config cfg;
	char why[128], kv[300];

	ac_config_defaults(&cfg);
	cr_assert_eq(ac_config_set(&cfg, "insecure=on", why, sizeof(why)), AC_OK);
	cr_assert(cfg.insecure);
	cr_assert_eq(ac_config_set(&cfg, "insecure=maybe", why, sizeof(why)), AC_EINVAL);
	cr_assert_eq(ac_config_set(&cfg, "nope=1", why, sizeof(why)), AC_EINVAL);
	cr_assert_str_eq(why, "nope: unknown key (see --help)");
	cr_assert_eq(ac_config_set(&cfg, "listen=tcp://x:1,tcp://y:2", why, sizeof(why)), AC_OK);
	cr_assert_eq(cfg.listen_count, 2);
	snprintf(kv, sizeof(kv), "default_model=%0200d", 0);
	cr_assert_eq(ac_config_set(&cfg, kv, why, sizeof(why)), AC_EINVAL);
	cr_assert_not_null(strstr(why, "default_model: too long"), "%s", why);
	cr_assert_str_eq(cfg.default_model, "qwen2.5-coder:7b");
	cr_assert_eq(ac_config_set(&cfg, "default_model=llama3:8b", why, sizeof(why)), AC_OK);
	cr_assert_str_eq(cfg.default_model, "llama3:8b");
}

Test(config, config_file_syntax_errors_name_file_and_line)
{
	static ac_config cfg;
	run_result r;

	write_conf("# ok\nlease_ms = 5\nthis line has no equals\n");
	run(&cfg, &r, "--config", conf_path, NULL);
	cr_assert_eq(r.err, AC_EINVAL);
	cr_assert_not_null(strstr(r.err_text, ":3: expected 'key = value'"), "%s", r.err_text);
	write_conf("lease_ms = soon\n");
	run(&cfg, &r, "--config", conf_path, NULL);
	cr_assert_not_null(strstr(r.err_text, ":1: lease_ms: not a non-negative integer: 'soon'"),
	    "%s", r.err_text);
}
