/* SPDX-License-Identifier: MIT
 * agentcom-bench beanstalk: the e2e plain workload against beanstalkd over its text
 * protocol (put / reserve-with-timeout / delete), plain blocking sockets, one
 * connection per thread, loopback only. Jobs are --payload bytes (default 100) and
 * carry their submit time, so delivery latency is measured as for agentcom.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define RESERVE_TIMEOUT_S 1
#define IO_TIMEOUT_S 10

typedef struct bs_conn {
	int fd;
	size_t off, len;
	char buf[65536 + 256];
} bs_conn;

typedef struct bs_run {
	const bench_opts *o;
	struct sockaddr_in sa;
	_Atomic long long next, put_ok, completed;
	_Atomic uint64_t first_put_ns, last_delete_ns;
	_Atomic uint64_t io_errors, bad_replies;
} bs_run;

typedef struct bs_thread {
	bs_run *run;
	bench_hist lat;
} bs_thread;

static int
bs_connect(bs_conn *c, const bs_run *run)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int one = 1;

	c->off = c->len = 0;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)&run->sa, sizeof(run->sa)) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static int
bs_send(bs_conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w <= 0) {
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes at least need bytes available from c->off; -1 on EOF or error. */
static int
bs_fill(bs_conn *c, size_t need)
{
	if (need > sizeof(c->buf)) {
		return -1;
	}
	if (c->off + need > sizeof(c->buf)) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	while (c->len - c->off < need) {
		ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0) {
			return -1;
		}
		c->len += (size_t)r;
	}
	return 0;
}

/* The next "\r\n"-terminated line, NUL-terminated in place (without the CRLF). */
static char *
bs_line(bs_conn *c)
{
	for (size_t scanned = 0;;) {
		char *line = c->buf + c->off;
		char *end = memchr(line + scanned, '\n', c->len - c->off - scanned);
		if (end != NULL) {
			size_t n = (size_t)(end - line) + 1;
			end[end > line && end[-1] == '\r' ? -1 : 0] = '\0';
			c->off += n;
			return line;
		}
		scanned = c->len - c->off;
		if (bs_fill(c, scanned + 1) != 0) {
			return NULL;
		}
	}
}

/* The job text: "t0=<ns> bench task <n> " padded with 'x' to body bytes. */
static int
put_job(char *msg, size_t body, long long n, uint64_t t0)
{
	char text[96];
	int hdr = snprintf(msg, 128, "put 1024 0 60 %zu\r\n", body);
	int len = snprintf(text, sizeof(text), "t0=%llu bench task %lld ",
	    (unsigned long long)t0, n);

	memset(msg + hdr, 'x', body);
	memcpy(msg + hdr, text, (size_t)len < body ? (size_t)len : body);
	memcpy(msg + (size_t)hdr + body, "\r\n", 2);
	return hdr + (int)body + 2;
}

static void
put_loop(bs_thread *t, bs_conn *c, char *msg)
{
	bs_run *run = t->run;
	const bench_opts *o = run->o;

	while (!bench_expired()) {
		long long n = atomic_fetch_add(&run->next, 1);
		uint64_t t0 = bench_now_ns();
		char *line;
		int len;
		if (n >= o->tasks) {
			break;
		}
		len = put_job(msg, (size_t)o->payload, n, t0);
		bench_atomic_min(&run->first_put_ns, t0);
		if (bs_send(c, msg, (size_t)len) != 0 || (line = bs_line(c)) == NULL) {
			atomic_fetch_add(&run->io_errors, 1);
			break;
		}
		if (strncmp(line, "INSERTED ", 9) != 0) {
			atomic_fetch_add(&run->bad_replies, 1);
			continue;
		}
		atomic_fetch_add(&run->put_ok, 1);
		bench_hist_add(&t->lat, bench_now_ns() - t0);
	}
}

static void *
put_thread(void *arg)
{
	bs_thread *t = arg;
	char *msg = malloc((size_t)t->run->o->payload + 128);
	bs_conn *c = malloc(sizeof(*c));

	if (msg != NULL && c != NULL && bs_connect(c, t->run) == 0) {
		put_loop(t, c, msg);
		close(c->fd);
	} else {
		atomic_fetch_add(&t->run->io_errors, 1);
	}
	free(msg);
	free(c);
	return NULL;
}

static bool
bs_done(bs_run *run)
{
	return atomic_load(&run->completed) >= run->o->tasks || bench_expired();
}

/* Reads the RESERVED job's body, records its latency; its id into *id. */
static int
take_job(bs_conn *c, bs_thread *t, const char *line, unsigned long long *id)
{
	unsigned long long t0;
	size_t bytes;
	uint64_t now = bench_now_ns();

	if (sscanf(line, "RESERVED %llu %zu", id, &bytes) != 2 || bs_fill(c, bytes + 2) != 0) {
		return -1;
	}
	c->buf[c->off + bytes] = '\0';
	if (sscanf(c->buf + c->off, "t0=%llu", &t0) == 1 && now >= t0) {
		bench_hist_add(&t->lat, now - t0);
	}
	c->off += bytes + 2;
	return 0;
}

/* One reserve (and delete when a job came); -1 when the connection failed. */
static int
work_once(bs_conn *c, bs_thread *t)
{
	static const char reserve[] = "reserve-with-timeout 1\r\n";
	unsigned long long id;
	char cmd[64], *line;
	int n;

	if (bs_send(c, reserve, sizeof(reserve) - 1) != 0 || (line = bs_line(c)) == NULL) {
		return -1;
	}
	if (strncmp(line, "RESERVED ", 9) != 0) {
		if (strcmp(line, "TIMED_OUT") != 0 && strcmp(line, "DEADLINE_SOON") != 0) {
			atomic_fetch_add(&t->run->bad_replies, 1);
		}
		return 0;
	}
	if (take_job(c, t, line, &id) != 0) {
		return -1;
	}
	n = snprintf(cmd, sizeof(cmd), "delete %llu\r\n", id);
	if (bs_send(c, cmd, (size_t)n) != 0 || (line = bs_line(c)) == NULL) {
		return -1;
	}
	if (strcmp(line, "DELETED") != 0) {
		atomic_fetch_add(&t->run->bad_replies, 1);
		return 0;
	}
	atomic_fetch_add(&t->run->completed, 1);
	bench_atomic_max(&t->run->last_delete_ns, bench_now_ns());
	return 0;
}

static void *
work_thread(void *arg)
{
	bs_thread *t = arg;
	bs_conn *c = malloc(sizeof(*c));

	if (c == NULL || bs_connect(c, t->run) != 0) {
		atomic_fetch_add(&t->run->io_errors, 1);
		free(c);
		return NULL;
	}
	while (!bs_done(t->run)) {
		if (work_once(c, t) != 0) {
			atomic_fetch_add(&t->run->io_errors, 1);
			break;
		}
	}
	close(c->fd);
	free(c);
	return NULL;
}

/* 127.x.x.x:PORT only: this tool never talks to another host. */
static int
parse_addr(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;
	long port;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host)) {
		return -1;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = strtol(colon + 1, NULL, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
		return -1;
	}
	return 0;
}

static void
print_result(const bench_opts *o, bs_run *run, const bench_hist *dl, const bench_hist *pl)
{
	uint64_t t0 = atomic_load(&run->first_put_ns), t1 = atomic_load(&run->last_delete_ns);
	long long done = atomic_load(&run->completed);
	double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
	char label[128], d[128], p[128];

	bench_label(o, label, sizeof(label), "beanstalkd %lld+%lld", o->submitters, o->workers);
	bench_hist_fmt_ms(dl, d, sizeof(d));
	bench_hist_fmt_ms(pl, p, sizeof(p));
	printf("%s: %.0f tasks/s (%lld tasks in %.2f s), delivery %s\n", label,
	    secs > 0 ? (double)done / secs : 0.0, done, secs, d);
	printf("  put %s; %lld-byte jobs\n", p, o->payload);
	if (done < o->tasks) {
		printf("  INCOMPLETE: %lld of %lld jobs deleted (put %lld)\n", done, o->tasks,
		    atomic_load(&run->put_ok));
	}
	printf("  errors: io=%llu unexpected-replies=%llu\n",
	    (unsigned long long)atomic_load(&run->io_errors),
	    (unsigned long long)atomic_load(&run->bad_replies));
}

int
bench_beanstalk(const bench_opts *o)
{
	bs_run *run = calloc(1, sizeof(*run));
	bs_thread *ws = calloc((size_t)o->workers, sizeof(*ws));
	bs_thread *ps = calloc((size_t)o->submitters, sizeof(*ps));
	bench_hist *dl = calloc(1, sizeof(*dl)), *pl = calloc(1, sizeof(*pl));
	bench_threads gw, gp;
	int rc = 1;

	if (run == NULL || ws == NULL || ps == NULL || dl == NULL || pl == NULL) {
		goto out;
	}
	run->o = o;
	run->first_put_ns = UINT64_MAX;
	if (parse_addr(o->addr, &run->sa) != 0) {
		fprintf(stderr, "agentcom-bench: --addr must be 127.x.x.x:PORT\n");
		goto out;
	}
	for (long long i = 0; i < o->workers; i++) {
		ws[i].run = run;
	}
	for (long long i = 0; i < o->submitters; i++) {
		ps[i].run = run;
	}
	bench_threads_start(&gw, o->workers, work_thread, ws, sizeof(*ws));
	bench_sleep_until(bench_now_ns() + 100000000u); /* workers' first reserve lands */
	bench_threads_start(&gp, o->submitters, put_thread, ps, sizeof(*ps));
	bench_threads_join(&gp);
	bench_threads_join(&gw);
	for (long long i = 0; i < o->workers; i++) {
		bench_hist_merge(dl, &ws[i].lat);
	}
	for (long long i = 0; i < o->submitters; i++) {
		bench_hist_merge(pl, &ps[i].lat);
	}
	print_result(o, run, dl, pl);
	rc = atomic_load(&run->completed) == o->tasks ? 0 : 1;
out:
	free(run);
	free(ws);
	free(ps);
	free(dl);
	free(pl);
	return rc;
}
