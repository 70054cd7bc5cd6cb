/* SPDX-License-Identifier: MIT
 * Server configuration (DESIGN §9): flags, then AGENTCOM_<KEY> environment variables,
 * then the config file, then defaults. Immutable once the actors start.
 */
#ifndef AC_CONFIG_H
#define AC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agentcom/errors.h"

#define AC_MAX_LISTEN 8

typedef enum ac_durability {
	AC_DURABILITY_FULL,   /* fsync on every commit (synchronous=FULL) */
	AC_DURABILITY_NORMAL, /* WAL synchronous=NORMAL: survives a crash, not a power cut */
	AC_DURABILITY_OFF,    /* synchronous=OFF */
} ac_durability;

typedef struct ac_config {
	char data_dir[512];
	char listen[AC_MAX_LISTEN][256];
	int listen_count;
	char pub_url[256];
	char tls_cert[512];
	char tls_key[512];
	bool insecure;
	int log_level;             /* ac_log_level */
	/* --set keys (DESIGN §9) */
	int64_t fallback_wait_ms;
	int64_t task_ttl_ms;
	int64_t tier_down_alert_ms;
	int64_t health_interval_ms;
	int64_t accept_timeout_ms;
	int64_t lease_ms;
	int64_t heartbeat_ms;
	int64_t agent_timeout_ms;
	int64_t max_reclaims;
	int64_t retry_backoff_ms;
	int64_t endpoint_slots;
	char default_model[128];
	ac_durability durability;
	int64_t retention_ms;
} ac_config;

/* Result of ac_config_load besides errors. */
typedef enum ac_config_action {
	AC_CONFIG_RUN,     /* start the server */
	AC_CONFIG_HELP,    /* --help was printed to out */
	AC_CONFIG_VERSION, /* --version was printed to out */
} ac_config_action;

/* Fills cfg with the defaults of DESIGN §9. */
void ac_config_defaults(ac_config *cfg);

/* Builds cfg from argv, the environment (AGENTCOM_<KEY>, upper case, e.g.
 * AGENTCOM_LEASE_MS, AGENTCOM_DATA_DIR) and the file named by --config (or
 * AGENTCOM_CONFIG), with the precedence of DESIGN §9. --help and --version print to out.
 * On a bad flag, key or value: AC_EINVAL with one line naming it written to err. */
ac_err ac_config_load(ac_config *cfg, int argc, char **argv, FILE *out, FILE *err,
    ac_config_action *action);

/* Applies one KEY=VALUE (a --set key as in DESIGN §9). AC_EINVAL with a reason in
 * why (NUL-terminated, cap bytes) for an unknown key or a bad value. */
ac_err ac_config_set(ac_config *cfg, const char *kv, char *why, size_t cap);

#endif
