/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pace.c - bench helper: a UDP sender at a fixed, precisely paced rate.
 *
 *   pace ADDR PORT SECONDS PPS SIZE [TICK_US]
 *
 * Wakes every TICK_US (default 500 us) on an absolute CLOCK_MONOTONIC
 * deadline (timer slack set to 1 ns) and sends, with one sendmmsg, the
 * datagrams that are due by then: the rate is exact over any interval
 * longer than a tick, and the sender sleeps between ticks, so it does not
 * burn a core spinning (this matters: the CPU use of the machine is what
 * the cpu-1g workload measures; each wake-up costs too, hence not more
 * than a few thousand a second).
 *
 * The interval between wake-ups is drawn at random between 0.5 and 1.5
 * TICK_US.  A fixed period would be phase-locked to the scheduler tick,
 * and the kernel's CPU accounting (/proc/stat, sampled at each tick on
 * most kernels) would then see the machine always busy or always idle at
 * the sampling instant depending on the phase of the run: measured here,
 * the same load read anywhere from 20 % to 65 % busy from one run to the
 * next.  Prints one JSON line: datagrams sent, achieved rate, the
 * worst lateness of a tick.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXBATCH 1024

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: pace ADDR PORT SECONDS PPS SIZE [TICK_US]\n");
		return 2;
	}
	struct sockaddr_in dst = { .sin_family = AF_INET };
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	double secs = atof(argv[3]), pps = atof(argv[4]);
	long size = atol(argv[5]);
	long tick_us = argc == 7 ? atol(argv[6]) : 500;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 || secs <= 0 ||
	    pps <= 0 || size < 1 || size > 65507 || tick_us < 10 ||
	    tick_us > 100000) {
		fprintf(stderr, "pace: bad arguments\n");
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	srand48((long)getpid() ^ (long)time(NULL));

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sb = 8 << 20;
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("pace: socket/connect");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sb, sizeof(sb)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
	static char buf[65507];
	memset(buf, 0x5a, (size_t)size);
	static struct iovec iov[MAXBATCH];
	static struct mmsghdr msgs[MAXBATCH];
	for (int i = 0; i < MAXBATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = (size_t)size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	int64_t t0 = now_ns(), end = t0 + (int64_t)(secs * 1e9);
	int64_t next = t0, late_max = 0;
	uint64_t sent = 0, failed = 0;
	while (!stop) {
		int64_t t = now_ns();
		if (t - next > late_max)
			late_max = t - next;
		if (t >= end)
			t = end;
		uint64_t due = (uint64_t)((double)(t - t0) * pps / 1e9);
		while (sent + failed < due && !stop) {
			uint64_t want = due - sent - failed;
			unsigned n = want > MAXBATCH ? MAXBATCH : (unsigned)want;
			int r = sendmmsg(fd, msgs, n, 0);
			if (r > 0) {
				sent += (unsigned)r;
			} else if (r < 0 && errno != EINTR) {
				failed++; /* ENOBUFS etc.: that one is lost */
			}
		}
		if (t >= end)
			break;
		/* uniform in [0.5, 1.5) ticks, mean one tick */
		next += (int64_t)tick_us * 500 +
			(int64_t)((double)tick_us * 1000.0 * drand48());
		struct timespec ts = { (time_t)(next / 1000000000LL),
				       (long)(next % 1000000000LL) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR && !stop)
			;
	}
	double el = (double)(now_ns() - t0) / 1e9;
	printf("{\"sent\": %llu, \"failed\": %llu, \"seconds\": %.6f, "
	       "\"pps\": %.1f, \"late_max_us\": %.1f}\n",
	       (unsigned long long)sent, (unsigned long long)failed, el,
	       (double)sent / el, (double)late_max / 1e3);
	close(fd);
	return 0;
}
