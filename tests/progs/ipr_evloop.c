/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_evloop.c - a program built around an event loop: it waits on the
 * queue's descriptor (ipr_queue_fd) with epoll and reads with
 * ipr_recv_batch(timeout 0) only when woken, passing every packet on.
 * With --use-timeout it takes epoll's timeout from ipr_queue_timeout, as
 * the API asks; without, it waits on the descriptor alone, as an event
 * loop written without knowing the dead-man switch would.  Prints "ready",
 * then at the end "passed=N wakeups=N timeouts=N hung=N errors=N". */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

#define BATCH 64

static uint8_t buf[BATCH * IPR_BATCH_SLOT];

static void usage(void)
{
	fprintf(stderr, "usage: ipr_evloop [--use-timeout] [--fail-closed] "
		"[--hang-time MS] [--seconds S] FILTER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "use-timeout", no_argument, NULL, 'u' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ "hang-time", required_argument, NULL, 'H' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int use_timeout = 0, c;
	uint64_t flags = 0;
	unsigned seconds = 60;
	struct ipr_open_opts o = { .sz = sizeof(o), .queues = 1 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'u': use_timeout = 1; break;
		case 'c': flags |= IPR_FLAG_FAIL_CLOSED; break;
		case 'H': o.hang_time = (uint32_t)atoi(optarg); break;
		case 's': seconds = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();

	stop_on_signals();

	ipr_handle *h = ipr_open_ex(argv[optind], IPR_LAYER_NETWORK, 0, flags, &o);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_evloop: ipr_open '%s': %s\n", argv[optind],
			ipr_strerror(-e));
		return 1;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ipr_queue_fd(h, 0), &ev) < 0) {
		perror("ipr_evloop: epoll");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm(seconds);

	unsigned long passed = 0, wakeups = 0, timeouts = 0, errors = 0;
	struct ipr_packet pkts[BATCH];
	while (!stop) {
		int t = -1;
		if (use_timeout && ipr_queue_timeout(h, 0, &t) < 0)
			errors++;
		struct epoll_event got;
		int n = epoll_wait(ep, &got, 1, t);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			errors++;
			break;
		}
		if (n == 0)
			timeouts++;
		else
			wakeups++;
		int k = ipr_recv_batch(h, 0, buf, sizeof(buf), pkts, BATCH, 0);
		if (k == -EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "ipr_evloop: recv: %s\n", ipr_strerror(k));
			errors++;
			break;
		}
		if (k > 0 && ipr_send_batch(h, pkts, (unsigned)k) != k)
			errors++;
		passed += (unsigned long)k;
	}
	struct ipr_stats st;
	memset(&st, 0, sizeof(st));
	unsigned long long hung = 0;
	if (ipr_stats_get(h, &st) == 0)
		hung = (unsigned long long)st.hung_packets;
	printf("passed=%lu wakeups=%lu timeouts=%lu hung=%llu errors=%lu\n",
	       passed, wakeups, timeouts, hung, errors);
	fflush(stdout);
	ipr_close(h);
	return errors ? 1 : 0;
}
