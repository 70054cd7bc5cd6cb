/* SPDX-License-Identifier: MIT
 * The log sink: formats one record per call and appends it to stderr under a mutex,
 * so records from different threads never interleave. Writes only; no rotation.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rt/log.h"

/* Set once by main before threads start; read without a lock afterwards. */
static ac_log_level log_level = AC_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER; /* guards stderr writes */

static const struct {
	const char *name;
	ac_log_level level;
} level_names[] = {
	{ "err", AC_LOG_ERR },
	{ "warn", AC_LOG_WARN },
	{ "info", AC_LOG_INFO },
	{ "debug", AC_LOG_DEBUG },
};

void ac_log_set_level(ac_log_level level)
{
	log_level = level;
}

int ac_log_level_parse(const char *name, ac_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i].name) == 0) {
			*out = level_names[i].level;
			return 0;
		}
	}
	return -1;
}

int ac_log_enabled(ac_log_level level)
{
	return level <= log_level;
}

static const char *level_label(ac_log_level level)
{
	switch (level) {
	case AC_LOG_ERR: return "ERR";
	case AC_LOG_WARN: return "WARN";
	case AC_LOG_INFO: return "INFO";
	default: return "DEBUG";
	}
}

void ac_log(ac_log_level level, const char *who, const char *event, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (!ac_log_enabled(level)) {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, level_label(level), who, event);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		n = 0;
	}
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}
