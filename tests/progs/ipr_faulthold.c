/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_faulthold.c - a program that never answers some packets: UDP
 * datagrams whose xfer.py sequence number is a multiple of --skip-every K
 * are read and left alone, everything else is passed on at once.  It
 * watches dropped_timeout and reports how long after their arrival the
 * unanswered ones were dropped, and every count at exit.  --recv-timeout
 * is how long one ipr_recv_batch may block (ipr_recv blocks for ever); above
 * 50 ms a second thread watches the counter every millisecond instead. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

#define MAX_HELD 100000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The sequence number xfer.py puts in the first 8 bytes of a datagram, or
 * -1 if this is not such a datagram. */
static long long udp_seq(const void *pkt, size_t len)
{
	struct ipr_headers hd;
	unsigned long long v = 0;
	if (ipr_packet_parse(pkt, len, &hd) || !hd.udp || hd.payload_len < 8)
		return -1;
	for (int i = 0; i < 8; i++)
		v = v << 8 | hd.payload[i];
	return (long long)v;
}

/* The unanswered packets in arrival order and when each came; they expire
 * oldest first, so dropped_timeout says how many of them are gone. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double *held_at;
static unsigned long held, expired;
static double lat_min = 1e18, lat_max;

static void account(ipr_handle *h)
{
	struct ipr_stats st;
	pthread_mutex_lock(&mu);
	if (expired < held && ipr_stats_get(h, &st) == 0) {
		double t = now_ms();
		while (expired < st.dropped_timeout && expired < held) {
			double l = t - held_at[expired++];
			lat_min = l < lat_min ? l : lat_min;
			lat_max = l > lat_max ? l : lat_max;
		}
	}
	pthread_mutex_unlock(&mu);
}

static volatile int watching = 1;

static void *watch(void *arg)
{
	while (watching) {
		account(arg);
		usleep(1000);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: ipr_faulthold [--skip-every K] [--queue-time MS] "
		"[--fail-closed] [--seconds S] [--recv-timeout MS] FILTER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "skip-every", required_argument, NULL, 'k' },
		{ "queue-time", required_argument, NULL, 't' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "recv-timeout", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipr_open_opts opts = { .sz = sizeof(opts) };
	long every = 5;
	uint64_t flags = 0;
	double seconds = 30;
	int c, wait_ms = 10;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k': every = atol(optarg); break;
		case 't': opts.queue_time = (uint32_t)atol(optarg); break;
		case 'c': flags |= IPR_FLAG_FAIL_CLOSED; break;
		case 's': seconds = atof(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || every < 1)
		usage();
	stop_on_signals();

	ipr_handle *h = ipr_open_ex(argv[optind], IPR_LAYER_NETWORK, 0, flags,
				    &opts);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_faulthold: ipr_open '%s': %s\n",
			argv[optind], ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	enum { MAX = 32 };
	struct ipr_packet pk[MAX];
	size_t cap = (size_t)MAX * IPR_BATCH_SLOT;
	void *buf = malloc(cap);
	held_at = calloc(MAX_HELD, sizeof(double));
	pthread_t watcher;
	bool threaded = wait_ms > 50 || wait_ms < 0;
	if (!buf || !held_at ||
	    (threaded && pthread_create(&watcher, NULL, watch, h))) {
		fprintf(stderr, "ipr_faulthold: out of memory or threads\n");
		free(buf);
		free(held_at);
		ipr_close(h);
		return 1;
	}
	unsigned long udp = 0, passed = 0, other = 0, errors = 0;
	double end = now_ms() + seconds * 1e3;
	struct ipr_stats st;

	while (!stop && now_ms() < end) {
		int n = ipr_recv_batch(h, 0, buf, cap, pk, MAX, wait_ms);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ipr_faulthold: recv: %s\n", ipr_strerror(n));
			errors++;
			break;
		}
		double t = now_ms();
		for (int i = 0; i < n; i++) {
			long long seq = udp_seq(pk[i].data, pk[i].len);
			if (seq >= 0)
				udp++;
			if (seq >= 0 && seq % every == 0 && held < MAX_HELD) {
				pthread_mutex_lock(&mu);
				held_at[held++] = t;
				pthread_mutex_unlock(&mu);
				printf("held seq=%lld v=%d\n", seq,
				       pk[i].addr.flags & IPR_ADDR_IPV6 ? 6 : 4);
				continue;
			}
			if (ipr_send(h, NULL, 0, &pk[i].addr) == 0) {
				if (seq >= 0)
					passed++;
				else
					other++;
			} else {
				errors++;
			}
		}
		if (!threaded)
			account(h);
		fflush(stdout);
	}
	if (threaded) {
		watching = 0;
		pthread_join(watcher, NULL);
	}

	memset(&st, 0, sizeof(st));
	int rc = ipr_stats_get(h, &st);
	printf("stats rc=%d recv_packets=%llu sent_packets=%llu "
	       "dropped_timeout=%llu dropped_verdict=%llu "
	       "kernel_queue_dropped=%llu kernel_user_dropped=%llu "
	       "errors=%llu hung_packets=%llu kernel_bypassed=%llu\n", rc,
	       (unsigned long long)st.recv_packets,
	       (unsigned long long)st.sent_packets,
	       (unsigned long long)st.dropped_timeout,
	       (unsigned long long)st.dropped_verdict,
	       (unsigned long long)st.kernel_queue_dropped,
	       (unsigned long long)st.kernel_user_dropped,
	       (unsigned long long)st.errors,
	       (unsigned long long)st.hung_packets,
	       (unsigned long long)st.kernel_bypassed);
	printf("prog udp=%lu held=%lu passed=%lu other=%lu errors=%lu\n", udp,
	       held, passed, other, errors);
	printf("expiry n=%lu min_ms=%.1f max_ms=%.1f\n", expired,
	       expired ? lat_min : 0.0, lat_max);
	fflush(stdout);
	ipr_close(h);
	free(buf);
	free(held_at);
	return rc == 0 && errors == 0 ? 0 : 1;
}
