/* SPDX-License-Identifier: MIT
 * agentcom-agent's host sampler (resources.h): parses /proc/stat, /proc/meminfo and
 * nvidia-smi's CSV with pure functions, and reads them once per sample. nvidia-smi runs
 * under a deadline and is killed when late, so a wedged GPU driver costs one heartbeat
 * at most that long, never the agent's loop; what fails is left out of the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "resources.h"
#include "rt/clock.h"

#define TEXT_CAP 4096       /* /proc/stat's cpu line and meminfo's first lines fit */
#define GPU_OUT_CAP 4096    /* nvidia-smi's answer: ~16 bytes per GPU */
#define STAT_COUNTERS 8     /* user nice system idle iowait irq softirq steal */
#define STAT_IDLE 3         /* idle, then iowait: not busy */
#define KILL_REAP_MS 100    /* after SIGKILL: how long to wait for the exit */
#define REAP_TICK_MS 5
#define MIB_SHIFT 20

/* ---- parsers (pure) ---- */

/* Skips spaces and tabs, then reads a decimal number at *p and moves *p past it;
 * false when there is none or it does not fit 64 bits. */
static bool
read_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if (*s < '0' || *s > '9') {
		return false;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			return false;
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = n;
	return true;
}

static const char *
skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r') {
		p++;
	}
	return p;
}

/* Whether p, after blanks, is at the end of its line. */
static bool
is_line_end(const char *p)
{
	p = skip_blanks(p);
	return *p == '\n' || *p == '\0';
}

/* The first line of text that starts with prefix, just past the prefix; NULL: none. */
static const char *
find_line(const char *text, const char *prefix)
{
	size_t len = strlen(prefix);

	for (const char *line = text; line != NULL; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, prefix, len) == 0) {
			return line + len;
		}
	}
	return NULL;
}

ac_err
ac_agent_parse_stat(const char *text, ac_agent_cpu_ticks *out)
{
	const char *p = find_line(text, "cpu "); /* "cpu0 " and on are single CPUs */
	uint64_t v[STAT_COUNTERS] = { 0 }, extra, total = 0;
	size_t n = 0;

	if (p == NULL) {
		return AC_EPROTO;
	}
	while (n < STAT_COUNTERS && read_u64(&p, &v[n])) {
		n++;
	}
	while (n == STAT_COUNTERS && read_u64(&p, &extra)) {
		/* guest, guest_nice and any later column: already counted, or unknown */
	}
	if (n <= STAT_IDLE || !is_line_end(p)) {
		return AC_EPROTO;
	}
	for (size_t i = 0; i < n; i++) {
		if (total + v[i] < total) {
			return AC_EPROTO;
		}
		total += v[i];
	}
	out->total = total;
	out->busy = total - v[STAT_IDLE] - v[STAT_IDLE + 1]; /* v[4] is 0 when absent */
	return AC_OK;
}

void
ac_agent_cpu_percent(const ac_agent_cpu_ticks *prev, const ac_agent_cpu_ticks *cur,
    ac_host_resources *res)
{
	uint64_t ticks, busy;

	if (cur->total <= prev->total || cur->busy < prev->busy) {
		return;
	}
	ticks = cur->total - prev->total;
	busy = cur->busy - prev->busy;
	res->cpu_percent = busy >= ticks ? 100.0 : 100.0 * (double)busy / (double)ticks;
	res->has_cpu_percent = true;
}

/* The kB value of the meminfo line key ("MemTotal:") in bytes: AC_OK, AC_ENOTFOUND
 * when there is no such line, AC_EPROTO when it is not "<number> kB". */
static ac_err
meminfo_bytes(const char *text, const char *key, uint64_t *bytes)
{
	const char *p = find_line(text, key);
	uint64_t kib;

	if (p == NULL) {
		return AC_ENOTFOUND;
	}
	if (!read_u64(&p, &kib) || kib > UINT64_MAX / 1024) {
		return AC_EPROTO;
	}
	p = skip_blanks(p);
	if (strncmp(p, "kB", 2) != 0 || !is_line_end(p + 2)) {
		return AC_EPROTO;
	}
	*bytes = kib * 1024;
	return AC_OK;
}

ac_err
ac_agent_parse_meminfo(const char *text, ac_host_resources *res)
{
	uint64_t total = 0, avail = 0;
	ac_err err_total = meminfo_bytes(text, "MemTotal:", &total);
	ac_err err_avail = meminfo_bytes(text, "MemAvailable:", &avail);

	if (err_total != AC_OK || err_avail == AC_EPROTO) {
		return AC_EPROTO;
	}
	res->has_ram_total = true;
	res->ram_total_bytes = total;
	if (err_avail == AC_OK) {
		res->has_ram_used = true;
		res->ram_used_bytes = avail < total ? total - avail : 0;
	}
	return AC_OK;
}

ac_err
ac_agent_parse_nvidia_smi(const char *text, ac_host_resources *res)
{
	uint64_t sum[2] = { 0, 0 }, mib; /* total, used */
	unsigned gpus = 0;

	for (const char *p = skip_blanks(text); *p != '\0'; p = skip_blanks(p)) {
		if (*p == '\n') { /* an empty line (the last one, usually) */
			p++;
			continue;
		}
		for (int col = 0; col < 2; col++) {
			if (!read_u64(&p, &mib) || mib > (UINT64_MAX >> MIB_SHIFT) ||
			    sum[col] + (mib << MIB_SHIFT) < sum[col]) {
				return AC_EPROTO;
			}
			sum[col] += mib << MIB_SHIFT;
			p = skip_blanks(p);
			if (col == 0 && *p++ != ',') {
				return AC_EPROTO;
			}
		}
		if (!is_line_end(p)) {
			return AC_EPROTO;
		}
		gpus++;
	}
	if (gpus == 0) {
		return AC_EPROTO;
	}
	res->has_vram_total = res->has_vram_used = true;
	res->vram_total_bytes = sum[0];
	res->vram_used_bytes = sum[1];
	return AC_OK;
}

/* ---- reading the host ---- */

/* Up to cap - 1 bytes of the file at path into buf, NUL-terminated; false when it
 * cannot be read. What the parsers need comes first, so a cut is harmless. */
static bool
read_text(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 0;

	if (fd < 0) {
		return false;
	}
	while (len < cap - 1 && ((n = read(fd, buf + len, cap - 1 - len)) > 0 ||
	    (n < 0 && errno == EINTR))) {
		len += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	buf[len] = '\0';
	return n >= 0;
}

static bool
is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first executable name in $PATH's directories into *out (caller frees; NULL:
 * none). AC_ENOMEM. */
static ac_err
find_on_path(const char *name, char **out)
{
	const char *path = getenv("PATH"), *dir, *end;
	char full[4096];
	int n;

	*out = NULL;
	for (dir = path != NULL ? path : "/usr/bin:/bin"; *out == NULL; dir = end + 1) {
		end = strchr(dir, ':');
		end = end != NULL ? end : dir + strlen(dir);
		/* an empty entry is the current directory */
		n = snprintf(full, sizeof(full), "%.*s/%s", end > dir ? (int)(end - dir) : 1,
		    end > dir ? dir : ".", name);
		if (n > 0 && (size_t)n < sizeof(full) && is_executable(full) &&
		    (*out = strdup(full)) == NULL) {
			return AC_ENOMEM;
		}
		if (*end == '\0') {
			break;
		}
	}
	return AC_OK;
}

/* Starts cmd with the query on stdout; the read end of that pipe, or -1. */
static int
start_gpu(const char *cmd, pid_t *pid)
{
	char *argv[] = { (char *)cmd, "--query-gpu=memory.total,memory.used",
		"--format=csv,noheader,nounits", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int p[2], rv;

	if (pipe2(p, O_CLOEXEC) != 0) {
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ac_agent_spawnattr_init(&at);
	rv = posix_spawn(pid, cmd, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rv != 0) {
		close(p[0]);
		return -1;
	}
	return p[0];
}

/* Reads fd to its end into out (cap bytes, NUL-terminated) by deadline_ms: AC_OK,
 * AC_ETIMEDOUT, or AC_EIO (a read error, or more than cap - 1 bytes). */
static ac_err
read_all(int fd, char *out, size_t cap, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t left_ms;
	size_t len = 0;
	ssize_t n;

	out[0] = '\0';
	while ((left_ms = deadline_ms - ac_clock_mono_ms()) > 0) {
		if (poll(&p, 1, (int)left_ms) <= 0) {
			continue; /* late (checked above) or interrupted */
		}
		if ((n = read(fd, out + len, cap - 1 - len)) == 0) {
			return AC_OK;
		}
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			return AC_EIO;
		}
		len += n > 0 ? (size_t)n : 0;
		out[len] = '\0';
		if (len == cap - 1) {
			return AC_EIO; /* far more than any GPU list: not the answer we asked for */
		}
	}
	return AC_ETIMEDOUT;
}

/* Waits until pid is reaped (true; *status set) or deadline_ms passes (false). A pid
 * someone else reaped counts as reaped with a failing status. */
static bool
reap_by(pid_t pid, int64_t deadline_ms, int *status)
{
	pid_t r;

	while ((r = waitpid(pid, status, WNOHANG)) == 0 || (r < 0 && errno == EINTR)) {
		if (ac_clock_mono_ms() >= deadline_ms) {
			return false;
		}
		poll(NULL, 0, REAP_TICK_MS); /* no SIGCHLD handler to wait on instead */
	}
	if (r < 0) {
		*status = -1; /* not WIFEXITED */
	}
	return true;
}

/* Runs s->gpu_cmd into out (cap bytes): AC_OK when it exited 0 in time with all of
 * its output read; AC_ETIMEDOUT when it was killed for being late; AC_EIO otherwise. */
static ac_err
run_gpu(ac_agent_sampler *s, char *out, size_t cap)
{
	int64_t deadline_ms = ac_clock_mono_ms() + s->gpu_timeout_ms;
	int status = 0, fd;
	pid_t pid;
	ac_err err;

	if ((fd = start_gpu(s->gpu_cmd, &pid)) < 0) {
		return AC_EIO;
	}
	err = read_all(fd, out, cap, deadline_ms);
	close(fd);
	if (err == AC_OK && reap_by(pid, deadline_ms, &status)) {
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? AC_OK : AC_EIO;
	}
	kill(pid, SIGKILL);
	if (!reap_by(pid, ac_clock_mono_ms() + KILL_REAP_MS, &status)) {
		s->gpu_stuck_pid = pid; /* in uninterruptible sleep (the driver): reap it later */
	}
	return err == AC_OK ? AC_ETIMEDOUT : err;
}

static void
sample_gpu(ac_agent_sampler *s, ac_host_resources *res)
{
	char out[GPU_OUT_CAP];
	ac_err err;

	if (s->gpu_stuck_pid > 0 && waitpid(s->gpu_stuck_pid, NULL, WNOHANG) != 0) {
		s->gpu_stuck_pid = 0;
	}
	if (s->gpu_cmd == NULL || s->gpu_stuck_pid > 0) {
		return;
	}
	err = run_gpu(s, out, sizeof(out));
	s->gpu_timeouts = err == AC_ETIMEDOUT ? s->gpu_timeouts + 1 : 0;
	if (s->gpu_timeouts >= AC_AGENT_GPU_MAX_TIMEOUTS) {
		free(s->gpu_cmd);
		s->gpu_cmd = NULL;
	}
	if (err == AC_OK) {
		(void)ac_agent_parse_nvidia_smi(out, res); /* malformed: VRAM left out */
	}
}

ac_err
ac_agent_sampler_init(ac_agent_sampler *s, const char *gpu_cmd)
{
	char buf[TEXT_CAP];

	memset(s, 0, sizeof(*s));
	s->gpu_timeout_ms = AC_AGENT_GPU_TIMEOUT_MS;
	if (gpu_cmd == NULL && find_on_path("nvidia-smi", &s->gpu_cmd) != AC_OK) {
		return AC_ENOMEM;
	}
	if (gpu_cmd != NULL && is_executable(gpu_cmd) && (s->gpu_cmd = strdup(gpu_cmd)) == NULL) {
		return AC_ENOMEM;
	}
	s->has_cpu = read_text("/proc/stat", buf, sizeof(buf)) &&
	    ac_agent_parse_stat(buf, &s->cpu) == AC_OK;
	return AC_OK;
}

void
ac_agent_sampler_fini(ac_agent_sampler *s)
{
	if (s->gpu_stuck_pid > 0) {
		waitpid(s->gpu_stuck_pid, NULL, WNOHANG);
	}
	free(s->gpu_cmd);
	memset(s, 0, sizeof(*s));
}

void
ac_agent_sample(ac_agent_sampler *s, ac_host_resources *res)
{
	char buf[TEXT_CAP];
	ac_agent_cpu_ticks now;

	memset(res, 0, sizeof(*res));
	if (read_text("/proc/stat", buf, sizeof(buf)) && ac_agent_parse_stat(buf, &now) == AC_OK) {
		if (s->has_cpu) {
			ac_agent_cpu_percent(&s->cpu, &now, res);
		}
		s->cpu = now;
		s->has_cpu = true;
	}
	if (read_text("/proc/meminfo", buf, sizeof(buf))) {
		(void)ac_agent_parse_meminfo(buf, res); /* malformed: RAM left out */
	}
	sample_gpu(s, res);
}
