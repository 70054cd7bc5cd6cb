/* SPDX-License-Identifier: MIT
 * The fake Ollama of fake_ollama.h. One thread owns the listener and the connections
 * and multiplexes them with poll(); setters change the mode and bodies under the
 * mutex and wake it through a pipe; fake_ollama_resp.c writes the bytes. No
 * Criterion here (compiled into every test). nng's HTTP server could report a port-0
 * bind (nng_http_server_get_addr), but not emit chunked framing, a lying
 * Content-Length or an abrupt close without hijacking connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_ollama.h"
#include "fake_ollama_resp.h"

#define MAX_CONNS 64
#define REQ_MAX 8192
#define MAX_PATHS 16

typedef struct fconn {
	int fd;            /* -1: free slot */
	char in[REQ_MAX];
	size_t in_len;
	bool is_answered;  /* request seen; later input is discarded */
	char *out;         /* response bytes, written as the socket accepts them */
	size_t out_len, out_pos;
	bool close_after;  /* close once out is written; otherwise hold the connection */
} fconn;

typedef struct hit {
	char path[64];
	unsigned count;
} hit;

struct fake_ollama {
	pthread_t thread;
	int wake[2]; /* a byte written to wake[1] interrupts the thread's poll */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* guarded by mu */
	fake_mode mode;
	char *tags, *ps;  /* bodies of /api/tags and /api/ps */
	hit hits[MAX_PATHS];
	bool want_listen, is_listening, quit;
	unsigned want_gen, done_gen; /* control requests made / applied by the thread */
	/* set by start, then read-only */
	uint16_t port;
	/* owned by the thread (by start/free before and after it runs) */
	int lfd;
	fconn conns[MAX_CONNS];
};

/* ---- the server thread ---- */

static void conn_close(fconn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void count_hit(fake_ollama *fo, const char *path)
{
	for (size_t i = 0; i < MAX_PATHS; i++) {
		hit *h = &fo->hits[i];
		if (h->path[0] == '\0') {
			snprintf(h->path, sizeof(h->path), "%s", path);
		}
		if (strcmp(h->path, path) == 0) {
			h->count++;
			return;
		}
	}
}

/* A complete request head is in c->in: count it and queue the answer. */
static void on_request(fake_ollama *fo, fconn *c)
{
	char path[64] = "";
	bool close_after;
	sscanf(c->in, "%*s %63[^? ]", path);
	pthread_mutex_lock(&fo->mu);
	count_hit(fo, path);
	fake_mode mode = fo->mode;
	const char *body = strcmp(path, "/api/tags") == 0 ? fo->tags :
	    strcmp(path, "/api/ps") == 0 ? fo->ps : NULL;
	char *out = fake_resp_build(mode, path, body, &close_after);
	pthread_mutex_unlock(&fo->mu);
	if (out == NULL) {
		conn_close(c);
		return;
	}
	c->is_answered = true;
	c->out = out;
	c->out_len = strlen(out);
	c->close_after = close_after;
}

static void on_readable(fake_ollama *fo, fconn *c)
{
	char scratch[4096];
	bool is_answered = c->is_answered;
	char *dst = is_answered ? scratch : c->in + c->in_len;
	size_t cap = is_answered ? sizeof(scratch) : REQ_MAX - 1 - c->in_len;
	if (cap == 0) {
		conn_close(c); /* a request head larger than REQ_MAX */
		return;
	}
	ssize_t n = read(c->fd, dst, cap);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		conn_close(c); /* the peer closed */
		return;
	}
	if (!is_answered) {
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		if (strstr(c->in, "\r\n\r\n") != NULL) {
			on_request(fo, c);
		}
	}
}

static void on_writable(fconn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		conn_close(c); /* the client went away */
		return;
	}
	c->out_pos += (size_t)n;
	if (c->out_pos == c->out_len && c->close_after) {
		conn_close(c);
	}
}

static void on_accept(fake_ollama *fo)
{
	int fd = accept4(fo->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		return;
	}
	pthread_mutex_lock(&fo->mu);
	bool is_close = fo->mode == FAKE_CLOSE;
	pthread_mutex_unlock(&fo->mu);
	for (size_t i = 0; i < MAX_CONNS && !is_close; i++) {
		if (fo->conns[i].fd < 0) {
			fo->conns[i].fd = fd;
			return;
		}
	}
	close(fd); /* FAKE_CLOSE, or no free slot */
}

static int open_listener(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t sl = sizeof(sa);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		fprintf(stderr, "fake_ollama: listen on port %u: %s\n", port, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* Applies stop/restart requests; false when the thread must quit. */
static bool apply_control(fake_ollama *fo)
{
	pthread_mutex_lock(&fo->mu);
	bool quit = fo->quit;
	if (!quit && fo->want_listen && fo->lfd < 0) {
		uint16_t bound;
		fo->lfd = open_listener(fo->port, &bound);
	} else if (!fo->want_listen && fo->lfd >= 0) {
		close(fo->lfd);
		fo->lfd = -1;
		for (size_t i = 0; i < MAX_CONNS; i++) {
			conn_close(&fo->conns[i]);
		}
	}
	fo->is_listening = fo->lfd >= 0;
	fo->done_gen = fo->want_gen;
	pthread_cond_broadcast(&fo->cv);
	pthread_mutex_unlock(&fo->mu);
	return !quit;
}

static void poll_once(fake_ollama *fo)
{
	struct pollfd pfd[2 + MAX_CONNS];
	fconn *owner[2 + MAX_CONNS];
	nfds_t n = 0;
	pfd[n++] = (struct pollfd){ .fd = fo->wake[0], .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = fo->lfd, .events = POLLIN }; /* -1 is ignored */
	for (size_t i = 0; i < MAX_CONNS; i++) {
		fconn *c = &fo->conns[i];
		if (c->fd >= 0) {
			bool is_pending = c->out != NULL && c->out_pos < c->out_len;
			owner[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = (short)(POLLIN | (is_pending ? POLLOUT : 0)) };
		}
	}
	if (poll(pfd, n, -1) <= 0) {
		return;
	}
	char drain[64];
	while (pfd[0].revents && read(fo->wake[0], drain, sizeof(drain)) > 0) {
	}
	for (nfds_t i = 2; i < n; i++) {
		if (pfd[i].revents & POLLOUT) {
			on_writable(owner[i]);
		}
		if (owner[i]->fd >= 0 && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
			on_readable(fo, owner[i]);
		}
	}
	if (pfd[1].revents & POLLIN) {
		on_accept(fo);
	}
}

static void *run(void *arg)
{
	fake_ollama *fo = arg;
	while (apply_control(fo)) {
		poll_once(fo);
	}
	return NULL;
}

/* ---- the API ---- */

/* Asks the thread to apply a control change and waits until it has. */
static void control(fake_ollama *fo, bool want_listen)
{
	pthread_mutex_lock(&fo->mu);
	fo->want_listen = want_listen;
	unsigned gen = ++fo->want_gen;
	pthread_mutex_unlock(&fo->mu);
	(void)!write(fo->wake[1], "w", 1);
	pthread_mutex_lock(&fo->mu);
	while (fo->done_gen < gen) {
		pthread_cond_wait(&fo->cv, &fo->mu);
	}
	pthread_mutex_unlock(&fo->mu);
}

fake_ollama *fake_ollama_start(void)
{
	fake_ollama *fo = calloc(1, sizeof(*fo));
	if (fo == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < MAX_CONNS; i++) {
		fo->conns[i].fd = -1;
	}
	pthread_mutex_init(&fo->mu, NULL);
	pthread_cond_init(&fo->cv, NULL);
	fo->tags = fake_resp_list(NULL, NULL, 0, false);
	fo->ps = fake_resp_list(NULL, NULL, 0, true);
	fo->want_listen = true;
	fo->lfd = open_listener(0, &fo->port);
	if (fo->tags == NULL || fo->ps == NULL || fo->lfd < 0 ||
	    pipe2(fo->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		goto fail;
	}
	if (pthread_create(&fo->thread, NULL, run, fo) != 0) {
		close(fo->wake[0]);
		close(fo->wake[1]);
		goto fail;
	}
	return fo;
fail:
	if (fo->lfd >= 0) {
		close(fo->lfd);
	}
	free(fo->tags);
	free(fo->ps);
	pthread_cond_destroy(&fo->cv);
	pthread_mutex_destroy(&fo->mu);
	free(fo);
	return NULL;
}

uint16_t fake_ollama_port(const fake_ollama *fo)
{
	return fo->port;
}

void fake_ollama_set_models(fake_ollama *fo, const char *const *models, size_t n)
{
	char *body = fake_resp_list(models, NULL, n, false);
	pthread_mutex_lock(&fo->mu);
	free(fo->tags);
	fo->tags = body;
	pthread_mutex_unlock(&fo->mu);
}

void fake_ollama_set_loaded(fake_ollama *fo, const char *const *models,
    const uint64_t *size_vram, size_t n)
{
	char *body = fake_resp_list(models, size_vram, n, true);
	pthread_mutex_lock(&fo->mu);
	free(fo->ps);
	fo->ps = body;
	pthread_mutex_unlock(&fo->mu);
}

void fake_ollama_set_mode(fake_ollama *fo, fake_mode mode)
{
	pthread_mutex_lock(&fo->mu);
	fo->mode = mode;
	pthread_mutex_unlock(&fo->mu);
}

void fake_ollama_stop(fake_ollama *fo)
{
	control(fo, false);
}

bool fake_ollama_restart(fake_ollama *fo)
{
	control(fo, true);
	pthread_mutex_lock(&fo->mu);
	bool is_listening = fo->is_listening;
	pthread_mutex_unlock(&fo->mu);
	return is_listening;
}

unsigned fake_ollama_hits(fake_ollama *fo, const char *path)
{
	unsigned count = 0;
	pthread_mutex_lock(&fo->mu);
	for (size_t i = 0; i < MAX_PATHS; i++) {
		if (strcmp(fo->hits[i].path, path) == 0) {
			count = fo->hits[i].count;
		}
	}
	pthread_mutex_unlock(&fo->mu);
	return count;
}

void fake_ollama_free(fake_ollama *fo)
{
	if (fo == NULL) {
		return;
	}
	pthread_mutex_lock(&fo->mu);
	fo->quit = true;
	pthread_mutex_unlock(&fo->mu);
	(void)!write(fo->wake[1], "q", 1);
	pthread_join(fo->thread, NULL);
	for (size_t i = 0; i < MAX_CONNS; i++) {
		conn_close(&fo->conns[i]);
	}
	if (fo->lfd >= 0) {
		close(fo->lfd);
	}
	close(fo->wake[0]);
	close(fo->wake[1]);
	free(fo->tags);
	free(fo->ps);
	pthread_cond_destroy(&fo->cv);
	pthread_mutex_destroy(&fo->mu);
	free(fo);
}
