/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udpblast.c - bench helper: UDP datagram blaster and counting receiver.
 *
 *   udpblast send ADDR PORT SECONDS SIZE   send SIZE-byte datagrams as fast
 *                                          as possible for SECONDS
 *   udpblast recv ADDR PORT MAXSECONDS IDLE_MS
 *                                          count datagrams; stop IDLE_MS
 *                                          after the last one (or at
 *                                          MAXSECONDS)
 *
 * recv prints "ready" once bound, then one JSON line.  The receive rate is
 * taken between the first and the last datagram, so a late start of the
 * sender does not count against it.  IPv4 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define RBATCH 256
#define MAXSZ 65507

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int addr_of(const char *a, const char *p, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(p));
	return inet_pton(AF_INET, a, &sin->sin_addr) == 1 ? 0 : -1;
}

static int do_send(const struct sockaddr_in *dst, double secs, size_t size)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)dst,
			      sizeof(*dst)) < 0) {
		perror("udpblast: socket/connect");
		return 1;
	}
	static char buf[MAXSZ];
	memset(buf, 0xa5, size);
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long sent = 0, errs = 0;
	double t0 = now_s(), t = t0;
	while (!stop && (t = now_s()) - t0 < secs) {
		int n = sendmmsg(fd, msgs, BATCH, 0);
		if (n > 0)
			sent += (unsigned)n;
		else if (n < 0 && errno != EINTR)
			errs++; /* ENOBUFS, ECONNREFUSED: keep going */
	}
	printf("{\"sent\": %llu, \"errors\": %llu, \"seconds\": %.6f, "
	       "\"pps\": %.1f}\n", sent, errs, t - t0,
	       (double)sent / (t - t0));
	close(fd);
	return 0;
}

static int do_recv(const struct sockaddr_in *me, double maxsecs, int idle_ms)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sz = 32 << 20;
	if (fd < 0) {
		perror("udpblast: socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	struct timeval tv = { 0, 20000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (const struct sockaddr *)me, sizeof(*me)) < 0) {
		perror("udpblast: bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	static char bufs[RBATCH][2048];
	struct iovec iov[RBATCH];
	struct mmsghdr msgs[RBATCH];
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < RBATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long pkts = 0, bytes = 0;
	double t0 = now_s(), first = 0, last = 0;
	for (;;) {
		double t = now_s();
		if (stop || t - t0 >= maxsecs)
			break;
		if (pkts && (t - last) * 1000 >= idle_ms)
			break;
		int n = recvmmsg(fd, msgs, RBATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		t = now_s();
		if (!pkts)
			first = t;
		last = t;
		pkts += (unsigned)n;
		for (int i = 0; i < n; i++)
			bytes += msgs[i].msg_len;
	}
	double span = last - first;
	printf("{\"packets\": %llu, \"bytes\": %llu, \"seconds\": %.6f, "
	       "\"pps\": %.1f}\n", pkts, bytes, span,
	       span > 0 ? (double)pkts / span : 0.0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sockaddr_in sin;
	if (argc == 6 && !strcmp(argv[1], "send") &&
	    !addr_of(argv[2], argv[3], &sin)) {
		long size = atol(argv[5]);
		if (size < 1 || size > MAXSZ)
			goto usage;
		return do_send(&sin, atof(argv[4]), (size_t)size);
	}
	if (argc == 6 && !strcmp(argv[1], "recv") &&
	    !addr_of(argv[2], argv[3], &sin))
		return do_recv(&sin, atof(argv[4]), atoi(argv[5]));
usage:
	fprintf(stderr, "usage: udpblast send ADDR PORT SECONDS SIZE\n"
		"       udpblast recv ADDR PORT MAXSECONDS IDLE_MS\n");
	return 2;
}
