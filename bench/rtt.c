/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtt.c - bench helper: UDP request/response latency, 1-byte payload.
 *
 *   rtt server ADDR PORT          echo every datagram back (until SIGTERM)
 *   rtt client ADDR PORT N [WARMUP]
 *                                 N timed round trips after WARMUP untimed
 *                                 ones (default 500); one JSON line with
 *                                 median, p90, p99, mean, min, max in us
 *
 * The byte carries a rolling sequence number so that a late answer to a
 * request that timed out (200 ms, counted as lost and not timed) is not
 * taken for the answer to the next one.  Blocking I/O on both sides: the
 * figure includes the wake-ups a real request/response program pays.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct(const int64_t *v, long n, double p)
{
	/* nearest rank */
	long k = (long)(p / 100.0 * (double)n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return (double)v[k] / 1e3;
}

static int server(const struct sockaddr_in *me)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (const struct sockaddr *)me, sizeof(*me)) < 0) {
		perror("rtt: server socket/bind");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char b[64];
	while (!stop) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, b, sizeof(b), 0,
				     (struct sockaddr *)&from, &fl);
		if (n > 0)
			(void)sendto(fd, b, (size_t)n, 0,
				     (struct sockaddr *)&from, fl);
	}
	close(fd);
	return 0;
}

static int client(const struct sockaddr_in *dst, long n, long warm)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)dst,
			      sizeof(*dst)) < 0) {
		perror("rtt: client socket/connect");
		return 1;
	}
	struct timeval tv = { 0, 200000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int64_t *s = calloc((size_t)n, sizeof(*s));
	if (!s)
		return 1;
	long done = 0, lost = 0, i = 0;
	unsigned char seq = 0;
	int64_t tstart = now_ns();
	while (done < n && !stop) {
		/* bounded: give up after 20 s of trying */
		if (now_ns() - tstart > 20000000000LL)
			break;
		unsigned char q = ++seq, r;
		int64_t t = now_ns();
		if (send(fd, &q, 1, 0) != 1) {
			lost++;
			usleep(1000);
			continue;
		}
		for (;;) {
			ssize_t got = recv(fd, &r, 1, 0);
			if (got == 1 && r == q) {
				int64_t d = now_ns() - t;
				if (i++ >= warm)
					s[done++] = d;
				break;
			}
			if (got < 0 && errno != EINTR) {
				lost++; /* timeout or ECONNREFUSED */
				break;
			}
			if (stop)
				break;
		}
	}
	if (!done) {
		printf("{\"n\": 0, \"lost\": %ld}\n", lost);
		return 1;
	}
	qsort(s, (size_t)done, sizeof(*s), cmp_i64);
	double sum = 0;
	for (long k = 0; k < done; k++)
		sum += (double)s[k];
	printf("{\"n\": %ld, \"lost\": %ld, \"median_us\": %.2f, "
	       "\"p90_us\": %.2f, \"p99_us\": %.2f, \"mean_us\": %.2f, "
	       "\"min_us\": %.2f, \"max_us\": %.2f}\n", done, lost,
	       pct(s, done, 50), pct(s, done, 90), pct(s, done, 99),
	       sum / (double)done / 1e3, (double)s[0] / 1e3,
	       (double)s[done - 1] / 1e3);
	free(s);
	return done == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	if (argc >= 4) {
		sin.sin_port = htons((uint16_t)atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1)
			argc = 0;
	}
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(&sin);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client")) {
		long n = atol(argv[4]), w = argc == 6 ? atol(argv[5]) : 500;
		if (n > 0 && w >= 0)
			return client(&sin, n, w);
	}
	fprintf(stderr, "usage: rtt server ADDR PORT\n"
		"       rtt client ADDR PORT N [WARMUP]\n");
	return 2;
}
