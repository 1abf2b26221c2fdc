/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_hang.c - a passthru with one thread per queue that can be made to
 * hang in the ways a real program does, for the dead-man switch tests:
 * --deadlock Q  the thread of queue Q blocks for ever on a lock held by
 *               the main thread after its first packet (the others live);
 * --sleep MS    every thread sleeps MS ms after each batch it answers
 *               (a program busy in its own code between two reads).
 * Prints "ready" once open, then every 100 ms "stat t=SECONDS q0=N q1=N
 * ... hung=N" (packets each queue's thread received, packets the kernel
 * let by or dropped for want of a heartbeat), and "final ..." on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

#define BATCH 64

static pthread_mutex_t never = PTHREAD_MUTEX_INITIALIZER;

struct worker {
	pthread_t tid;
	ipr_handle *h;
	unsigned queue;
	bool deadlock;
	long sleep_ms;
	_Atomic uint64_t packets;
	_Atomic int err;       /* read by the main thread */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	size_t cap = (size_t)BATCH * IPR_BATCH_SLOT;
	void *buf = malloc(cap);
	struct ipr_packet *pkts = calloc(BATCH, sizeof(*pkts));
	if (!buf || !pkts) {
		w->err = ENOMEM;
		goto out;
	}
	while (!stop) {
		int n = ipr_recv_batch(w->h, w->queue, buf, cap, pkts, BATCH, 200);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			if (n != -ESHUTDOWN)
				w->err = -n;
			break;
		}
		if (!n)
			continue;
		int r = ipr_send_batch(w->h, pkts, (unsigned)n);
		if (r != n) {
			w->err = r < 0 ? -r : EIO;
			break;
		}
		atomic_fetch_add(&w->packets, (uint64_t)n);
		if (w->deadlock) {
			/* Held by the main thread until the process ends. */
			pthread_mutex_lock(&never);
			pthread_mutex_unlock(&never);
		}
		if (w->sleep_ms) {
			struct timespec ts = { w->sleep_ms / 1000,
					       (w->sleep_ms % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
				;
		}
	}
out:
	free(buf);
	free(pkts);
	return NULL;
}

static void line(const char *what, struct worker *w, unsigned n,
		 ipr_handle *h, double t0)
{
	struct ipr_stats st;
	if (ipr_stats_get(h, &st) < 0)
		memset(&st, 0, sizeof(st));
	printf("%s t=%.3f", what, now_s() - t0);
	for (unsigned i = 0; i < n; i++)
		printf(" q%u=%llu", i, (unsigned long long)atomic_load(&w[i].packets));
	printf(" hung=%llu\n", (unsigned long long)st.hung_packets);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queues", required_argument, NULL, 'n' },
		{ "deadlock", required_argument, NULL, 'd' },
		{ "sleep", required_argument, NULL, 's' },
		{ "hang-time", required_argument, NULL, 'H' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ 0 },
	};
	unsigned nq = 2;
	long deadlock = -1, sleep_ms = 0, hang = 0;
	uint64_t flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "n:d:s:H:c", opts, NULL)) != -1) {
		switch (c) {
		case 'n': nq = (unsigned)atoi(optarg); break;
		case 'd': deadlock = atol(optarg); break;
		case 's': sleep_ms = atol(optarg); break;
		case 'H': hang = atol(optarg); break;
		case 'c': flags |= IPR_FLAG_FAIL_CLOSED; break;
		default:
			fprintf(stderr, "usage: ipr_hang [--queues N] [--deadlock Q] "
				"[--sleep MS] [--hang-time MS] [--fail-closed] [FILTER]\n");
			return 2;
		}
	}
	const char *filter = optind < argc ? argv[optind] : "true";
	struct ipr_open_opts o = { .sz = sizeof(o), .queues = nq,
				   .hang_time = (uint32_t)hang };
	ipr_handle *h = ipr_open_ex(filter, IPR_LAYER_NETWORK, 0, flags, &o);
	if (!h) {
		fprintf(stderr, "ipr_open_ex: %s\n", ipr_strerror(-errno));
		return 1;
	}
	stop_on_signals();
	pthread_mutex_lock(&never);

	struct worker *w = calloc(nq, sizeof(*w));
	if (!w)
		return 1;
	for (unsigned i = 0; i < nq; i++) {
		w[i].h = h;
		w[i].queue = i;
		w[i].deadlock = (long)i == deadlock;
		w[i].sleep_ms = sleep_ms;
		if (pthread_create(&w[i].tid, NULL, work, &w[i]))
			return 1;
	}
	double t0 = now_s();
	printf("ready queues=%u\n", nq);
	fflush(stdout);
	int rc = 0;
	while (!stop) {
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
		line("stat", w, nq, h, t0);
		for (unsigned i = 0; i < nq; i++)
			if (w[i].err) {
				fprintf(stderr, "queue %u: %s\n", i,
					ipr_strerror(-w[i].err));
				stop = 1;
				rc = 1;
			}
	}
	line("final", w, nq, h, t0);
	if (deadlock >= 0)
		_exit(rc); /* a thread is stuck for good: the kernel cleans up */
	ipr_shutdown(h, IPR_SHUTDOWN_RECV);
	for (unsigned i = 0; i < nq; i++)
		pthread_join(w[i].tid, NULL);
	ipr_close(h);
	free(w);
	return rc;
}
