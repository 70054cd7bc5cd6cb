/* SPDX-License-Identifier: MIT
 * Fake Ollama responders for agentcom-bench probe: many listeners on 127.0.0.1, one
 * thread, non-blocking sockets and poll(). Each connection gets one canned response
 * (the prober sends Connection: close) and is closed once it is written. The tests'
 * fake (tests/support) runs a thread per instance and injects faults; this one scales.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define FAKE_CONNS 512
#define FAKE_REQ_MAX 4096
#define FAKE_POLL_MS 50

enum { RESP_TAGS, RESP_PS, RESP_404, RESP_COUNT };

static const char *const bodies[RESP_COUNT] = {
	"{\"models\":[{\"name\":\"qwen2.5-coder:7b\",\"model\":\"qwen2.5-coder:7b\","
	"\"size\":4683087332},{\"name\":\"llama3.1:8b\",\"model\":\"llama3.1:8b\","
	"\"size\":4920753328}]}",
	"{\"models\":[{\"name\":\"qwen2.5-coder:7b\",\"model\":\"qwen2.5-coder:7b\","
	"\"size\":4683087332,\"size_vram\":4683087332}]}",
	"404 page not found",
};

typedef struct fake_conn {
	int fd;   /* -1: free slot */
	int resp; /* -1 until the request head is complete */
	size_t in_len, out_pos;
	char in[FAKE_REQ_MAX];
} fake_conn;

struct bench_fake {
	pthread_t thread;
	bool has_thread;
	_Atomic bool quit;
	size_t n;          /* listeners */
	int *lfds;
	uint16_t *ports;
	char *resp[RESP_COUNT];
	size_t resp_len[RESP_COUNT];
	_Atomic uint64_t hits[RESP_COUNT];
	fake_conn conns[FAKE_CONNS];
	size_t used;       /* connections open */
	struct pollfd *pfds; /* the n listeners, then the open connections */
	size_t *pidx;      /* conns index of pfds[n + k] */
};

static void
conn_close(bench_fake *f, fake_conn *c)
{
	close(c->fd);
	c->fd = -1;
	f->used--;
}

/* Writes what the socket takes; closes the connection once the response is out. */
static void
conn_write(bench_fake *f, fake_conn *c)
{
	while (c->out_pos < f->resp_len[c->resp]) {
		ssize_t k = send(c->fd, f->resp[c->resp] + c->out_pos,
		    f->resp_len[c->resp] - c->out_pos, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return; /* poll for POLLOUT */
		}
		if (k <= 0) {
			break;
		}
		c->out_pos += (size_t)k;
	}
	conn_close(f, c);
}

static int
classify(const char *req)
{
	if (strncmp(req, "GET /api/tags ", 14) == 0) {
		return RESP_TAGS;
	}
	return strncmp(req, "GET /api/ps ", 12) == 0 ? RESP_PS : RESP_404;
}

/* Reads until the request head ends, then answers; EOF, errors and oversize requests
 * close the connection. */
static void
conn_read(bench_fake *f, fake_conn *c)
{
	for (;;) {
		ssize_t k = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
		if (k < 0 && errno == EINTR) {
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		if (k <= 0 || c->in_len + (size_t)k >= sizeof(c->in) - 1) {
			conn_close(f, c);
			return;
		}
		c->in_len += (size_t)k;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL) {
			c->resp = classify(c->in);
			atomic_fetch_add(&f->hits[c->resp], 1);
			conn_write(f, c);
			return;
		}
	}
}

static void
accept_all(bench_fake *f, int lfd)
{
	size_t slot = 0;

	while (f->used < FAKE_CONNS) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			return; /* EAGAIN, or a transient error: poll again */
		}
		while (f->conns[slot].fd >= 0) {
			slot++;
		}
		f->conns[slot] = (fake_conn){ .fd = fd, .resp = -1 };
		f->used++;
		conn_read(f, &f->conns[slot]); /* the request is often there already */
	}
}

static size_t
fill_pollfds(bench_fake *f)
{
	size_t np = f->n;

	for (size_t i = 0; i < f->n; i++) {
		f->pfds[i] = (struct pollfd){ .fd = f->lfds[i],
			.events = f->used < FAKE_CONNS ? POLLIN : 0 };
	}
	for (size_t k = 0; k < FAKE_CONNS; k++) {
		if (f->conns[k].fd < 0) {
			continue;
		}
		f->pfds[np] = (struct pollfd){ .fd = f->conns[k].fd,
			.events = f->conns[k].resp < 0 ? POLLIN : POLLOUT };
		f->pidx[np - f->n] = k;
		np++;
	}
	return np;
}

static void *
fake_thread(void *arg)
{
	bench_fake *f = arg;

	while (!atomic_load(&f->quit)) {
		size_t np = fill_pollfds(f);
		if (poll(f->pfds, (nfds_t)np, FAKE_POLL_MS) <= 0) {
			continue;
		}
		for (size_t i = 0; i < f->n; i++) {
			if ((f->pfds[i].revents & POLLIN) != 0) {
				accept_all(f, f->lfds[i]);
			}
		}
		for (size_t k = f->n; k < np; k++) {
			fake_conn *c = &f->conns[f->pidx[k - f->n]];
			if (f->pfds[k].revents == 0 || c->fd != f->pfds[k].fd) {
				continue;
			}
			if (c->resp < 0) {
				conn_read(f, c);
			} else {
				conn_write(f, c);
			}
		}
	}
	return NULL;
}

/* A non-blocking listener on 127.0.0.1:0; its port into *port. -1 on failure. */
static int
listen_loopback(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0) {
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 256) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static bool
make_responses(bench_fake *f)
{
	for (int i = 0; i < RESP_COUNT; i++) {
		int k = asprintf(&f->resp[i], "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    i == RESP_404 ? "404 Not Found" : "200 OK",
		    i == RESP_404 ? "text/plain" : "application/json; charset=utf-8",
		    strlen(bodies[i]), bodies[i]);
		if (k < 0) {
			f->resp[i] = NULL;
			return false;
		}
		f->resp_len[i] = (size_t)k;
	}
	return true;
}

static bool
open_listeners(bench_fake *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if ((f->lfds[i] = listen_loopback(&f->ports[i])) < 0) {
			fprintf(stderr, "agentcom-bench: fake ollama %zu: %s\n", i, strerror(errno));
			return false;
		}
	}
	return true;
}

bench_fake *
bench_fake_start(size_t n)
{
	bench_fake *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return NULL;
	}
	f->n = n;
	f->lfds = malloc(n * sizeof(*f->lfds));
	f->ports = calloc(n, sizeof(*f->ports));
	f->pfds = calloc(n + FAKE_CONNS, sizeof(*f->pfds));
	f->pidx = calloc(FAKE_CONNS, sizeof(*f->pidx));
	for (size_t i = 0; f->lfds != NULL && i < n; i++) {
		f->lfds[i] = -1;
	}
	for (size_t k = 0; k < FAKE_CONNS; k++) {
		f->conns[k].fd = -1;
	}
	if (f->lfds == NULL || f->ports == NULL || f->pfds == NULL || f->pidx == NULL ||
	    !make_responses(f) || !open_listeners(f) ||
	    pthread_create(&f->thread, NULL, fake_thread, f) != 0) {
		fputs("agentcom-bench: cannot start the fake ollama responders\n", stderr);
		bench_fake_free(f);
		return NULL;
	}
	f->has_thread = true;
	return f;
}

uint16_t
bench_fake_port(const bench_fake *f, size_t i)
{
	return f->ports[i];
}

void
bench_fake_hits(bench_fake *f, uint64_t *tags, uint64_t *ps, uint64_t *other)
{
	*tags = atomic_load(&f->hits[RESP_TAGS]);
	*ps = atomic_load(&f->hits[RESP_PS]);
	*other = atomic_load(&f->hits[RESP_404]);
}

void
bench_fake_free(bench_fake *f)
{
	if (f == NULL) {
		return;
	}
	atomic_store(&f->quit, true);
	if (f->has_thread) {
		pthread_join(f->thread, NULL);
	}
	for (size_t i = 0; f->lfds != NULL && i < f->n; i++) {
		if (f->lfds[i] >= 0) {
			close(f->lfds[i]);
		}
	}
	for (size_t k = 0; k < FAKE_CONNS; k++) {
		if (f->conns[k].fd >= 0) {
			close(f->conns[k].fd);
		}
	}
	for (int i = 0; i < RESP_COUNT; i++) {
		free(f->resp[i]);
	}
	free(f->lfds);
	free(f->ports);
	free(f->pfds);
	free(f->pidx);
	free(f);
}
