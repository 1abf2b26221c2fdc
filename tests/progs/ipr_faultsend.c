/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_faultsend.c - verdicts whose sendmsg fails on purpose.  This program
 * defines sendmsg itself, so the library linked into it (statically) sends
 * its verdicts through this one, which fails the next --fail N calls with
 * ENOBUFS.  It reads 12 packets, holds them all, then answers them four at
 * a time:
 *   batch   in order (one batch verdict message), 10 failures: the call
 *           fails, and all 4 packets are still held: a second call
 *           answers them;
 *   single  out of order (a verdict message each, one datagram), 10
 *           failures: the same;
 *   retry   in order, 2 failures: the library tries again by itself and
 *           the first call answers all 4.
 * Prints "ok CASE ..." or "bad CASE ..." per check, then "done". */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ipredir.h"

#define N 12

static atomic_int fail_left;
static atomic_int calls;

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	atomic_fetch_add(&calls, 1);
	if (atomic_load(&fail_left) > 0) {
		atomic_fetch_sub(&fail_left, 1);
		errno = ENOBUFS;
		return -1;
	}
	return syscall(SYS_sendmsg, fd, mh, flags);
}

static int bad;

static void expect(const char *name, int got, int want, int ncalls)
{
	printf("%s %s got=%d want=%d sendmsg_calls=%d\n", got == want ? "ok" : "bad",
	       name, got, want, ncalls);
	if (got != want)
		bad = 1;
	fflush(stdout);
}

/* Answer pkts[0..4) with @fails failures armed: the first call, then one
 * without failures for what the first left. */
static void one_case(ipr_handle *h, const char *name, struct ipr_packet *p,
		     int fails, int want_first)
{
	char n1[64], n2[64];
	snprintf(n1, sizeof(n1), "%s.first", name);
	snprintf(n2, sizeof(n2), "%s.again", name);
	atomic_store(&fail_left, fails);
	atomic_store(&calls, 0);
	int r = ipr_send_batch(h, p, 4);
	expect(n1, r, want_first, atomic_load(&calls));
	atomic_store(&fail_left, 0);
	int done = r > 0 ? r : 0;
	atomic_store(&calls, 0);
	r = done < 4 ? ipr_send_batch(h, p + done, 4u - (unsigned)done) : 0;
	expect(n2, done + (r > 0 ? r : 0), 4, atomic_load(&calls));
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : "udp";
	struct ipr_open_opts o = { .sz = sizeof(o), .queues = 1,
				   .hang_time = IPR_HANG_TIME_MAX };
	ipr_handle *h = ipr_open_ex(filter, IPR_LAYER_NETWORK, 0, 0, &o);
	if (!h) {
		fprintf(stderr, "ipr_open_ex: %s\n", ipr_strerror(-errno));
		return 1;
	}
	static struct ipr_packet pkts[N];
	void *buf = malloc((size_t)N * IPR_BATCH_SLOT);
	if (!buf)
		return 1;
	printf("ready\n");
	fflush(stdout);
	unsigned got = 0;
	for (int tries = 0; got < N && tries < 300; tries++) {
		int n = ipr_recv_batch(h, 0, (char *)buf + (size_t)got * IPR_BATCH_SLOT,
				       (size_t)(N - got) * IPR_BATCH_SLOT, pkts + got,
				       N - got, 100);
		if (n > 0)
			got += (unsigned)n;
	}
	if (got < N) {
		printf("bad read got=%u want=%d\n", got, N);
		return 1;
	}
	one_case(h, "batch", pkts, 10, -ENOBUFS);
	/* Out of order: 3 2 1 0 of the next four. */
	struct ipr_packet rev[4] = { pkts[7], pkts[6], pkts[5], pkts[4] };
	one_case(h, "single", rev, 10, -ENOBUFS);
	one_case(h, "retry", pkts + 8, 2, 4);
	struct ipr_stats st;
	ipr_stats_get(h, &st);
	expect("stats.sent", (int)st.sent_packets, N, 0);
	printf("done\n");
	fflush(stdout);
	ipr_close(h);
	free(buf);
	return bad;
}
