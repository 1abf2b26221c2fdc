/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_prio.c - handle priorities: two handles on the same filter, priority
 * 100 and 50, in one process; every datagram must reach the 100 handle
 * before the 50 one, and each handle must see it exactly once.
 * With --one PRIO a single handle prints "seen SEQ NS" (CLOCK_MONOTONIC) so
 * that two processes can be compared by the test script. */
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

#define MAXSEQ 100000

struct side {
	ipr_handle *h;
	int prio;
	atomic_uint seen; /* read by main while the thread counts */
	unsigned dup, other;
	uint32_t *rank; /* rank[seq]: when this side saw seq, 0 = never */
};

static atomic_uint order;

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

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *serve(void *arg)
{
	struct side *s = arg;
	static _Thread_local uint8_t buf[IPR_MTU_MAX + 1];
	for (;;) {
		struct ipr_addr addr;
		size_t len = 0;
		int rc = ipr_recv(s->h, buf, sizeof(buf), &len, &addr);
		if (rc == -EINTR)
			continue;
		if (rc < 0 && rc != -EMSGSIZE)
			break; /* -ESHUTDOWN: done */
		long long seq = udp_seq(buf, len);
		/* Record before passing it on: the lower handle can only get
		 * the packet after our verdict. */
		unsigned o = atomic_fetch_add(&order, 1) + 1;
		if (seq < 0 || seq >= MAXSEQ)
			s->other++;
		else if (s->rank[seq])
			s->dup++;
		else {
			s->rank[seq] = o;
			atomic_fetch_add(&s->seen, 1);
		}
		ipr_send(s->h, NULL, 0, &addr);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: ipr_prio [--count N] [--seconds S] FILTER\n"
		"       ipr_prio --one PRIO [--seconds S] FILTER\n");
	exit(2);
}

/* One handle, one process: print when each datagram came. */
static int run_one(const char *filter, int prio, double seconds)
{
	static uint8_t buf[IPR_MTU_MAX + 1];
	ipr_handle *h = ipr_open(filter, IPR_LAYER_NETWORK, (int16_t)prio, 0);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_prio: ipr_open: %s\n", ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm((unsigned)seconds);
	unsigned n = 0;
	while (!stop) {
		struct ipr_addr addr;
		size_t len = 0;
		int rc = ipr_recv(h, buf, sizeof(buf), &len, &addr);
		if (rc == -EINTR)
			continue;
		if (rc < 0 && rc != -EMSGSIZE)
			break;
		printf("seen %lld %llu\n", udp_seq(buf, len),
		       (unsigned long long)now_ns());
		n++;
		ipr_send(h, NULL, 0, &addr);
	}
	printf("total %u\n", n);
	ipr_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "one", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned count = 100;
	int one = 0, prio = 0, c;
	double seconds = 20;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': count = (unsigned)atoi(optarg); break;
		case 'o': one = 1; prio = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || count == 0 || count > MAXSEQ)
		usage();

	stop_on_signals();
	if (one)
		return run_one(argv[optind], prio, seconds);

	struct side sd[2] = { { .prio = 100 }, { .prio = 50 } };
	/* The lower priority is opened first: the order must come from the
	 * priorities, not from which handle came first. */
	for (int i = 1; i >= 0; i--) {
		sd[i].rank = calloc(MAXSEQ, sizeof(uint32_t));
		sd[i].h = ipr_open(argv[optind], IPR_LAYER_NETWORK,
				   (int16_t)sd[i].prio, 0);
		if (!sd[i].h || !sd[i].rank) {
			int e = errno;
			fprintf(stderr, "ipr_prio: ipr_open prio %d: %s\n",
				sd[i].prio, ipr_strerror(-e));
			return 1;
		}
	}
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, serve, &sd[i]);
	printf("ready\n");
	fflush(stdout);

	/* Until both saw every datagram, or time is up. */
	double left = seconds;
	while (!stop && left > 0 &&
	       (atomic_load(&sd[0].seen) < count ||
		atomic_load(&sd[1].seen) < count)) {
		usleep(10000);
		left -= 0.01;
	}
	usleep(200000); /* late duplicates would show up now */
	for (int i = 0; i < 2; i++)
		ipr_shutdown(sd[i].h, IPR_SHUTDOWN_RECV);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	unsigned both = 0, inorder = 0, wrong = 0, first_wrong = 0;
	for (unsigned q = 0; q < MAXSEQ; q++) {
		if (!sd[0].rank[q] || !sd[1].rank[q])
			continue;
		both++;
		if (sd[0].rank[q] < sd[1].rank[q])
			inorder++;
		else if (wrong++ == 0)
			first_wrong = q;
	}
	printf("seen100=%u seen50=%u both=%u inorder=%u outoforder=%u "
	       "dup100=%u dup50=%u other=%u/%u\n", atomic_load(&sd[0].seen),
	       atomic_load(&sd[1].seen),
	       both, inorder, wrong, sd[0].dup, sd[1].dup, sd[0].other,
	       sd[1].other);
	if (wrong)
		printf("first out of order: seq %u\n", first_wrong);
	for (int i = 0; i < 2; i++) {
		ipr_close(sd[i].h);
		free(sd[i].rank);
	}
	return both == count && inorder == count && !sd[0].dup && !sd[1].dup
		       ? 0 : 1;
}
