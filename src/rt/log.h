/* SPDX-License-Identifier: MIT
 * One-line-per-record logger on standard error, shared by every thread.
 * Record: `<iso8601 ts> <LEVEL> <actor> <event> key=value...`. Appends only.
 */
#ifndef AC_RT_LOG_H
#define AC_RT_LOG_H

/* RFC 5424 severities, as nng uses them. */
typedef enum ac_log_level {
	AC_LOG_ERR = 3,
	AC_LOG_WARN = 4,
	AC_LOG_INFO = 6,
	AC_LOG_DEBUG = 7,
} ac_log_level;

/* Sets the most verbose level that is written; default AC_LOG_INFO. Call before
 * threads start (the level is read without a lock). */
void ac_log_set_level(ac_log_level level);

/* Parses "err", "warn", "info", "debug"; returns 0 on success, -1 on an unknown name
 * (then *out is untouched). */
int ac_log_level_parse(const char *name, ac_log_level *out);

/* True when records at level are written (use to skip expensive formatting). */
int ac_log_enabled(ac_log_level level);

/* Writes one record: who is the actor or module ("queue", "main"), event a short
 * snake_case word, fmt the key=value tail. Thread-safe; never fails visibly. */
void ac_log(ac_log_level level, const char *who, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
