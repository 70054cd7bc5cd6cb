/* SPDX-License-Identifier: MIT
 * agentcom-bench inproc: what one message between two actors costs on this machine.
 * Two threads pass a message back and forth over nng inproc PUSH/PULL sockets,
 * receiving the way the actor runtime does (poll() on NNG_OPT_RECVFD, then a
 * non-blocking nng_recvmsg); prints the wall time, CPU time and context switches of one
 * one-way hop. A plain end-to-end task takes four client round trips and about seven
 * such hops (queue, scheduler, registry and telemetry inboxes), so with `echo` this
 * bounds what the actor design can reach here before it does any work of its own.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "bench.h"

typedef struct hop_pair {
	nng_socket in_a, in_b, to_a, to_b;
	long long rounds;
	int failed;
} hop_pair;

/* The next message on s, or NULL when nng fails. */
static nng_msg *
hop_recv(nng_socket s)
{
	nng_msg *m;
	int fd;

	if (nng_socket_get_int(s, NNG_OPT_RECVFD, &fd) != 0) {
		return NULL;
	}
	for (;;) {
		int rv = nng_recvmsg(s, &m, NNG_FLAG_NONBLOCK);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (rv == 0) {
			return m;
		}
		if (rv != NNG_EAGAIN || poll(&p, 1, 10000) <= 0) {
			return NULL;
		}
	}
}

static void *
hop_echo(void *arg)
{
	hop_pair *hp = arg;

	for (long long i = 0; i < hp->rounds; i++) {
		nng_msg *m = hop_recv(hp->in_b);
		if (m == NULL || nng_sendmsg(hp->to_a, m, 0) != 0) {
			if (m != NULL) {
				nng_msg_free(m);
			}
			hp->failed = 1;
			return NULL;
		}
	}
	return NULL;
}

static int
hop_open(hop_pair *hp)
{
	if (nng_pull0_open(&hp->in_a) != 0 || nng_pull0_open(&hp->in_b) != 0 ||
	    nng_push0_open(&hp->to_a) != 0 || nng_push0_open(&hp->to_b) != 0) {
		return -1;
	}
	if (nng_listen(hp->in_a, "inproc://agentcom-bench-a", NULL, 0) != 0 ||
	    nng_listen(hp->in_b, "inproc://agentcom-bench-b", NULL, 0) != 0 ||
	    nng_dial(hp->to_a, "inproc://agentcom-bench-a", NULL, 0) != 0 ||
	    nng_dial(hp->to_b, "inproc://agentcom-bench-b", NULL, 0) != 0) {
		return -1;
	}
	return 0;
}

static double
cpu_s(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) +
	    (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e6;
}

int
bench_inproc(const bench_opts *o)
{
	hop_pair hp = { .rounds = o->iterations };
	struct rusage r0, r1;
	pthread_t echo;
	uint64_t t0, t1;
	long long done = 0;
	char label[64];
	double hops;

	if (hop_open(&hp) != 0 || pthread_create(&echo, NULL, hop_echo, &hp) != 0) {
		fprintf(stderr, "agentcom-bench: inproc: could not open the sockets\n");
		return 1;
	}
	getrusage(RUSAGE_SELF, &r0);
	t0 = bench_now_ns();
	for (; done < hp.rounds && !bench_expired(); done++) {
		nng_msg *m;
		if (nng_msg_alloc(&m, 64) != 0 || nng_sendmsg(hp.to_b, m, 0) != 0 ||
		    (m = hop_recv(hp.in_a)) == NULL) {
			break;
		}
		nng_msg_free(m);
	}
	t1 = bench_now_ns();
	getrusage(RUSAGE_SELF, &r1);
	hp.failed |= done < hp.rounds;
	nng_close(hp.to_b); /* ends the echo thread's wait if the run was cut short */
	pthread_join(echo, NULL);
	hops = 2.0 * (double)(done > 0 ? done : 1);
	printf("%s: %.1f us per hop, %.1f us cpu per hop, %.1f context switches per hop (%lld round trips)\n",
	    bench_label(o, label, sizeof(label), "inproc hop"), (double)(t1 - t0) / 1e3 / hops,
	    (cpu_s(&r1) - cpu_s(&r0)) * 1e6 / hops,
	    (double)(r1.ru_nvcsw + r1.ru_nivcsw - r0.ru_nvcsw - r0.ru_nivcsw) / hops, done);
	nng_close(hp.in_a);
	nng_close(hp.in_b);
	nng_close(hp.to_a);
	return hp.failed ? 1 : 0;
}
