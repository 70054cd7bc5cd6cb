/* SPDX-License-Identifier: MIT
 * agentcomd: parse the configuration, take the data directory's lock, start the
 * server, print the ready line, wait for SIGTERM/SIGINT, stop cleanly, exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rt/log.h"
#include "server.h"

/* mkdir -p for the data directory (mode 0700: it holds tokens and tasks). */
static int make_dirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
				return -1;
			}
			*p = '/';
		}
	}
	return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* One server per data directory: a second one would corrupt nothing (SQLite locks)
 * but would fight over tokens and ports, so refuse it up front. */
static int lock_data_dir(const char *dir)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/agentcomd.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	return fd;
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	return sig;
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits the mask */
	signal(SIGPIPE, SIG_IGN);
	/* a file-size limit is a store error the queue reports as `unavailable`, not a crash */
	signal(SIGXFSZ, SIG_IGN);
}

int main(int argc, char **argv)
{
	static ac_config cfg; /* immutable once the actors start */
	ac_config_action action;
	ac_server *server;
	int lock_fd, sig;

	if (ac_config_load(&cfg, argc, argv, stdout, stderr, &action) != AC_OK) {
		return 2;
	}
	if (action != AC_CONFIG_RUN) {
		return 0;
	}
	ac_log_set_level((ac_log_level)cfg.log_level);
	if (make_dirs(cfg.data_dir) != 0) {
		fprintf(stderr, "agentcomd: cannot create data directory %s: %s\n", cfg.data_dir,
		    strerror(errno));
		return 1;
	}
	if ((lock_fd = lock_data_dir(cfg.data_dir)) < 0) {
		fprintf(stderr, "agentcomd: %s is in use by another agentcomd\n", cfg.data_dir);
		return 1;
	}
	if (cfg.insecure) {
		ac_log(AC_LOG_WARN, "main", "insecure",
		    "msg=\"AUTHENTICATION IS OFF (--insecure): anyone who can connect is admin\"");
	}
	block_signals();
	if (ac_server_start(&cfg, &server) != AC_OK) {
		return 1;
	}
	printf("ready api=%s pub=%s pid=%ld\n", ac_server_api_urls(server),
	    ac_server_pub_url(server), (long)getpid());
	fflush(stdout);
	ac_log(AC_LOG_INFO, "main", "ready", "api=%s pub=%s data_dir=%s", ac_server_api_urls(server),
	    ac_server_pub_url(server), cfg.data_dir);
	sig = wait_for_signal();
	ac_log(AC_LOG_INFO, "main", "stopping", "signal=%d", sig);
	ac_server_stop(server);
	ac_log(AC_LOG_INFO, "main", "stopped", "exit=0");
	close(lock_fd);
	return 0;
}
