/* SPDX-License-Identifier: MIT
 * agentcom-livefuzz's transport: a REQ socket per thread for ordinary requests, a raw
 * SP-over-TCP connection for requests past the server's 2 MiB limit (which nng drops
 * together with the connection), and a liveness ping through libagentcom on a
 * connection of its own. The only file that talks to the network.
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "agentcom/client.h"
#include "livefuzz.h"
#include "rt/clock.h"

int lf_wire_open(lf_worker *w)
{
	int rv;

	if ((rv = nng_req0_open(&w->sock)) != 0) {
		return rv;
	}
	/* A resend would repeat a fetch or a submit behind the fuzzer's back. */
	if ((rv = nng_socket_set_ms(w->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(w->sock, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
	    (rv = nng_socket_set_ms(w->sock, NNG_OPT_SENDTIMEO,
	         (nng_duration)w->run->opts->deadline_ms)) != 0 ||
	    (rv = nng_dial(w->sock, w->run->opts->url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(w->sock);
	}
	return rv;
}

int lf_wire_call(nng_socket s, const lf_buf *req, int64_t timeout_ms, nng_msg **reply)
{
	nng_msg *m = NULL;
	int rv;

	if ((rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration)timeout_ms)) != 0 ||
	    (rv = nng_msg_alloc(&m, 0)) != 0) {
		return rv;
	}
	if ((rv = nng_msg_append(m, req->p, req->len)) != 0 || (rv = nng_sendmsg(s, m, 0)) != 0) {
		nng_msg_free(m); /* not sent: still ours */
		return rv;
	}
	/* On a timeout the next send on this socket cancels the old request. */
	return nng_recvmsg(s, reply, 0);
}

/* A TCP connection to the host and port of a tcp:// URL; -1 on failure. */
static int dial_tcp(const char *url)
{
	char host[256], port[16];
	const char *authority = url + strlen("tcp://"), *colon = strrchr(authority, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	size_t host_len;
	int fd = -1;

	if (strncmp(url, "tcp://", 6) != 0 || colon == NULL ||
	    (host_len = (size_t)(colon - authority)) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port)) {
		return -1;
	}
	memcpy(host, authority, host_len);
	host[host_len] = '\0';
	if (host_len >= 2 && host[0] == '[') { /* [v6]:port */
		memmove(host, host + 1, host_len - 2);
		host[host_len - 2] = '\0';
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static bool send_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return false;
		}
		b += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads until the peer closes or deadline_ms passes; the bytes read, -1 if still open. */
static long read_until_closed(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int64_t end = ac_clock_mono_ms() + deadline_ms;
	uint8_t scratch[256];
	long got = 0;

	while (ac_clock_mono_ms() < end) {
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0) {
			continue;
		}
		if ((n = recv(fd, scratch, sizeof(scratch), 0)) <= 0) {
			return got;
		}
		got += (long)n;
	}
	return -1;
}

/* Why not nng: closing a REQ socket whose oversize request it keeps resending hangs in
 * libnng 1.5.2's nng_close. So: the SP handshake (protocol REQ v0 = 0x30), then one
 * frame: 8-byte big-endian length, 4-byte request id with the high bit set, body. */
lf_oversize_result lf_wire_oversize(const char *url, const lf_buf *req, int64_t deadline_ms)
{
	static const uint8_t hello[8] = { 0, 'S', 'P', 0, 0, 0x30, 0, 0 };
	uint8_t frame[12];
	uint64_t n = req->len + 4;
	struct timeval tv = { .tv_sec = (time_t)(deadline_ms / 1000),
		.tv_usec = (suseconds_t)(deadline_ms % 1000 * 1000) };
	int fd = dial_tcp(url);
	long got;

	if (fd < 0) {
		return LF_OVERSIZE_UNSENT;
	}
	/* a server that neither reads nor closes must not hold the thread forever */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 8; i++) {
		frame[i] = (uint8_t)(n >> (56 - 8 * i));
	}
	frame[8] = 0x80;
	frame[9] = frame[10] = 0;
	frame[11] = 1;
	/* A send may fail half way: the server is allowed to close as soon as it has read
	 * the length. What counts is what comes back. */
	if (send_all(fd, hello, sizeof(hello)) && send_all(fd, frame, sizeof(frame))) {
		(void)send_all(fd, req->p, req->len);
	}
	got = read_until_closed(fd, deadline_ms);
	close(fd);
	if (got < 0) {
		return LF_OVERSIZE_KEPT;
	}
	/* the server's 8 handshake bytes come back; anything more is a reply */
	return got <= (long)sizeof(hello) ? LF_OVERSIZE_DROPPED : LF_OVERSIZE_ANSWERED;
}

bool lf_wire_alive(const char *url, const char *token, int timeout_ms)
{
	ac_client *c = NULL;
	ac_reply *r = NULL;
	bool is_alive;

	if (ac_client_open(&c, url, token) != AC_OK) {
		return false;
	}
	ac_client_set_timeout(c, timeout_ms);
	is_alive = ac_ping(c, &r) == AC_OK; /* any reply, even unauthenticated, is life */
	ac_reply_free(r);
	ac_client_close(c);
	return is_alive;
}
