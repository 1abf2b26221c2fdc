/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_hold.c - a handle that holds packets, for the fail-open/fail-closed
 * and queue-time tests: it never reads (--no-read), or reads and leaves the
 * first N packets unanswered (--hold N; --no-answer holds all of them).
 * With --batch the rest of each batch is answered with one ipr_send_batch,
 * which must not pass the held ones with it.  --sleep MS waits that long
 * before the first read, counted from the moment the first packet waits in
 * a queue of this namespace (so that on a slow machine the sender's start-up
 * does not eat the sleep), and --queue-size BYTES sets the socket buffer: the
 * packets that do not fit in it meanwhile are passed by the kernel
 * (fail-open) and must show in kernel_bypassed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

/* Packets waiting in the namespace's queues (the test namespace has only
 * ours): the third column of /proc/net/netfilter/nfnetlink_queue. */
static unsigned long queued_now(void)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "re");
	unsigned long sum = 0, num, portid, total;
	if (!f)
		return 0;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lu %lu %lu", &num, &portid, &total) == 3)
			sum += total;
	fclose(f);
	return sum;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The sequence number xfer.py puts in the first 8 bytes of a datagram. */
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

static void usage(void)
{
	fprintf(stderr, "usage: ipr_hold [--no-read | --no-answer | --hold N] "
		"[--batch] [--fail-closed] [--queue-len N] [--queue-time MS] "
		"[--hang-time MS] "
		"[--queue-size BYTES] [--sleep MS] [--seconds S] FILTER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-read", no_argument, NULL, 'r' },
		{ "no-answer", no_argument, NULL, 'a' },
		{ "hold", required_argument, NULL, 'h' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ "batch", no_argument, NULL, 'b' },
		{ "queue-len", required_argument, NULL, 'l' },
		{ "queue-time", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "queue-size", required_argument, NULL, 'z' },
		{ "sleep", required_argument, NULL, 'w' },
		{ "hang-time", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct ipr_open_opts opts = { .sz = sizeof(opts) };
	int no_read = 0, batch = 0, c;
	long sleep_ms = 0;
	long hold = -1; /* -1: hold every packet */
	uint64_t flags = 0;
	double seconds = 30;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': no_read = 1; break;
		case 'a': hold = -1; break;
		case 'h': hold = atol(optarg); break;
		case 'c': flags |= IPR_FLAG_FAIL_CLOSED; break;
		case 'b': batch = 1; break;
		case 'l': opts.queue_length = (uint32_t)atol(optarg); break;
		case 't': opts.queue_time = (uint32_t)atol(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'z': opts.queue_size = (uint32_t)atol(optarg); break;
		case 'w': sleep_ms = atol(optarg); break;
		case 'H': opts.hang_time = (uint32_t)atol(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();

	stop_on_signals();

	ipr_handle *h = ipr_open_ex(argv[optind], IPR_LAYER_NETWORK, 0, flags,
				    &opts);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_hold: ipr_open '%s': %s\n", argv[optind],
			ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	double end = now_s() + seconds;
	unsigned long held = 0, passed = 0, errors = 0;
	if (no_read) {
		while (!stop && now_s() < end)
			usleep(20000);
	} else {
		enum { MAX = 16 };
		struct ipr_packet pk[MAX];
		size_t cap = (size_t)MAX * IPR_BATCH_SLOT;
		void *buf = malloc(cap);
		if (!buf)
			return 1;
		if (sleep_ms) {
			while (!stop && now_s() < end && !queued_now())
				usleep(5000);
			usleep((useconds_t)sleep_ms * 1000);
		}
		/* Short timeouts: we stop on time, and the library gets to run
		 * its queue-time expiry even when nothing comes. */
		while (!stop && now_s() < end) {
			int n = ipr_recv_batch(h, 0, buf, cap, pk, MAX, 100);
			if (n == -EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "ipr_hold: recv: %s\n",
					ipr_strerror(n));
				errors++;
				break;
			}
			unsigned nout = 0;
			for (int i = 0; i < n; i++) {
				long long seq = udp_seq(pk[i].data, pk[i].len);
				if (hold < 0 || (long)held < hold) {
					held++;
					printf("held seq=%lld\n", seq);
				} else if (batch) {
					pk[nout++] = pk[i]; /* verdict PASS */
				} else if (ipr_send(h, NULL, 0, &pk[i].addr) == 0) {
					passed++;
				} else {
					errors++;
				}
			}
			if (nout) {
				int r = ipr_send_batch(h, pk, nout);
				if (r == (int)nout)
					passed += nout;
				else
					errors++;
			}
			fflush(stdout);
		}
		free(buf);
	}

	struct ipr_stats st;
	memset(&st, 0, sizeof(st));
	int rc = ipr_stats_get(h, &st);
	printf("stats rc=%d recv_packets=%llu sent_packets=%llu "
	       "dropped_timeout=%llu kernel_queue_dropped=%llu "
	       "kernel_user_dropped=%llu kernel_bypassed=%llu held=%lu "
	       "passed=%lu errors=%lu\n",
	       rc, (unsigned long long)st.recv_packets,
	       (unsigned long long)st.sent_packets,
	       (unsigned long long)st.dropped_timeout,
	       (unsigned long long)st.kernel_queue_dropped,
	       (unsigned long long)st.kernel_user_dropped,
	       (unsigned long long)st.kernel_bypassed, held, passed, errors);
	fflush(stdout);
	ipr_close(h);
	return rc == 0 && errors == 0 ? 0 : 1;
}
