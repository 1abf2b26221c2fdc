/* passthru.c - `ipredir passthru`: read every packet the filter selects and
 * write it back, one thread per queue, batched both ways; the original
 * product's passthru sample, and the reference for the API's fast path. */
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
#include "tool.h"

struct worker {
	pthread_t tid;
	int cpu;                /* pinned there, or -1 */
	ipr_handle *h;
	unsigned queue;
	unsigned batch;
	bool rewrite;
	_Atomic uint64_t packets, bytes;
	_Atomic int err;       /* read by the main thread */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Answer every packet of the batch.  ipr_send_batch answers a prefix and
 * stops at the first packet it cannot answer: go on after it, or the rest
 * would wait out the queue time and be dropped.  A replacement refused is
 * passed on as it came; a passing error of the socket is tried again; a
 * packet the library does not hold (EINVAL) is skipped.  Returns 0, or the
 * errno that stops the worker. */
static int answer_all(ipr_handle *h, struct ipr_packet *pkts, unsigned n)
{
	unsigned i = 0, tries = 0;
	while (i < n) {
		int r = ipr_send_batch(h, pkts + i, n - i);
		if (r > 0) {
			i += (unsigned)r;
			tries = 0;
			continue;
		}
		int e = r < 0 ? -r : EIO;
		if (e == ESHUTDOWN)
			return 0; /* closing: the library answers the rest */
		if (pkts[i].verdict == IPR_VERDICT_REPLACE && e != ENOBUFS &&
		    e != EAGAIN && e != EINTR && e != ENOMEM) {
			pkts[i].verdict = IPR_VERDICT_PASS;
			continue;
		}
		if ((e == ENOBUFS || e == EAGAIN || e == EINTR || e == ENOMEM) &&
		    ++tries <= 100) {
			if (e != EINTR) {
				struct timespec ms = { 0, 1000000 };
				nanosleep(&ms, NULL);
			}
			continue;
		}
		if (e != EINVAL)
			return e;
		i++; /* not held (any more): nothing to answer */
		tries = 0;
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	if (w->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		w->err = pthread_setaffinity_np(pthread_self(), sizeof(set),
						&set);
		if (w->err)
			return NULL;
	}
	size_t cap = (size_t)w->batch * IPR_BATCH_SLOT;
	void *buf = malloc(cap);
	struct ipr_packet *pkts = calloc(w->batch, sizeof(*pkts));
	if (!buf || !pkts) {
		w->err = ENOMEM;
		goto out;
	}
	for (;;) {
		int n = ipr_recv_batch(w->h, w->queue, buf, cap, pkts, w->batch,
				       200);
		if (n < 0) {
			if (n == -EINTR)
				continue;
			if (n != -ESHUTDOWN)
				w->err = -n;
			break;
		}
		uint64_t bytes = 0;
		for (int i = 0; i < n; i++) {
			bytes += pkts[i].len;
			/* A truncated packet (bigger than a netlink message can
			 * carry and not a GSO packet the kernel could cut) can
			 * only be passed on as it is. */
			if (w->rewrite &&
			    !(pkts[i].addr.flags & IPR_ADDR_TRUNCATED))
				pkts[i].verdict = IPR_VERDICT_REPLACE;
		}
		int e = answer_all(w->h, pkts, (unsigned)n);
		if (e) {
			w->err = e;
			break;
		}
		atomic_store_explicit(&w->packets, w->packets + (uint64_t)n,
				      memory_order_relaxed);
		atomic_store_explicit(&w->bytes, w->bytes + bytes,
				      memory_order_relaxed);
	}
out:
	free(buf);
	free(pkts);
	return NULL;
}

/* One queue per CPU by default: the kernel's work for each packet (the
 * copy, and the rest of its path once the verdict is in) runs on the
 * thread that answers it, so one thread makes one CPU the bottleneck.
 * Measured on 2 CPUs, tcp-3x3: passthru 0.61-0.63 of no redirection with
 * one thread, 0.69-0.70 with two; --rewrite 0.32-0.33 and 0.42-0.48.
 * Again with adaptive polling (issue 16, bench/README.md): tcp-3x3 0.60,
 * 0.74, 0.74 with one thread against 0.87 with two, though one thread
 * costs less CPU per datagram on udp-singles. */
#define THREADS_DEFAULT_MAX 8

static long default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > THREADS_DEFAULT_MAX ? THREADS_DEFAULT_MAX : n;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir passthru [OPTIONS] [FILTER]\n"
"Read every packet FILTER selects (default: true) and write it back.\n\n"
"  -t, --threads N    queues, one thread each (1-%d, default: one per\n"
"                     CPU, at most %d; here %ld)\n"
"  -b, --batch N      packets per receive/send call (1-%d, default 64)\n"
"  -C, --cpus LIST    pin thread i to the i-th CPU of LIST (\"0,2-3\";\n"
"                     round robin); keep them off the CPUs that carry the\n"
"                     traffic's senders or the NIC's interrupts\n"
"  -B, --busy-poll US poll up to US microseconds before sleeping while\n"
"                     packets come that fast (0-%d, default %d; 0:\n"
"                     never)\n"
"  -s, --snaplen N    copy only the first N bytes of each packet to this\n"
"                     program (%d-%d; default: all); longer packets are\n"
"                     passed on unchanged even with --rewrite\n"
"  -l, --queue-len N  kernel queue length per queue (%d-%d, default %d)\n"
"  -H, --hang-time MS when a queue's thread has not read for MS ms\n"
"                     (stopped, stuck, in a debugger), the kernel passes\n"
"                     its packets on (or drops them with --fail-closed)\n"
"                     without queueing them, until it reads again\n"
"                     (%d-%d, default %d)\n"
"  -p, --priority P   handle priority (%d to %d, default 0)\n"
"  -r, --rewrite      write every packet back in full (exercise the write\n"
"                     path) instead of passing it on unchanged\n"
"  -c, --fail-closed  drop instead of letting traffic through when the\n"
"                     queue is full or this program hangs\n"
"  -f, --forward      the forward layer (packets routed by this host)\n"
"  -q, --quiet        no per-second counters\n"
"  -u, --user NAME    once the handle is open, run as NAME with no\n"
"                     capability but CAP_NET_ADMIN (verdicts need it)\n"
"  -h, --help\n\n"
"Counters go to stderr once a second; SIGINT or SIGTERM print a summary\n"
"and exit 0.  Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_QUEUES_MAX, THREADS_DEFAULT_MAX, default_threads(),
		IPR_BATCH_MAX, IPR_BUSY_POLL_MAX, IPR_BUSY_POLL_DEFAULT,
		IPR_SNAPLEN_MIN, IPR_MTU_MAX,
		IPR_QUEUE_LENGTH_MIN, IPR_QUEUE_LENGTH_MAX,
		IPR_QUEUE_LENGTH_DEFAULT, IPR_HANG_TIME_MIN, IPR_HANG_TIME_MAX,
		IPR_HANG_TIME_DEFAULT, IPR_PRIORITY_MIN, IPR_PRIORITY_MAX);
}

static void totals(struct worker *w, unsigned n, uint64_t *pk, uint64_t *by)
{
	*pk = *by = 0;
	for (unsigned i = 0; i < n; i++) {
		*pk += atomic_load_explicit(&w[i].packets, memory_order_relaxed);
		*by += atomic_load_explicit(&w[i].bytes, memory_order_relaxed);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_passthru(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "busy-poll", required_argument, NULL, 'B' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "queue-len", required_argument, NULL, 'l' },
		{ "hang-time", required_argument, NULL, 'H' },
		{ "priority", required_argument, NULL, 'p' },
		{ "rewrite", no_argument, NULL, 'r' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ "forward", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* busy -1: the library's default (adaptive, bench/README.md) */
	long threads = default_threads(), batch = 64, snaplen = 0, busy = -1;
	int cpus[IPR_QUEUES_MAX], ncpus = 0;
	long qlen = IPR_QUEUE_LENGTH_DEFAULT, prio = 0;
	long hang = IPR_HANG_TIME_DEFAULT;
	bool rewrite = false, quiet = false;
	const char *user = NULL;
	uint64_t flags = 0;
	enum ipr_layer layer = IPR_LAYER_NETWORK;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:b:B:C:s:l:H:p:rcfqu:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!tool_parse_long("passthru", "--threads", optarg, 1,
					     IPR_QUEUES_MAX, &threads))
				return EXIT_USAGE;
			break;
		case 'b':
			if (!tool_parse_long("passthru", "--batch", optarg, 1,
					     IPR_BATCH_MAX, &batch))
				return EXIT_USAGE;
			break;
		case 'C': {
			long n = sysconf(_SC_NPROCESSORS_CONF);
			ncpus = tool_parse_cpus("passthru", "--cpus", optarg,
						n > 0 ? n : 1, cpus,
						IPR_QUEUES_MAX);
			if (ncpus < 0)
				return EXIT_USAGE;
			break;
		}
		case 'B':
			if (!tool_parse_long("passthru", "--busy-poll", optarg,
					     0, IPR_BUSY_POLL_MAX, &busy))
				return EXIT_USAGE;
			break;
		case 's':
			if (!tool_parse_long("passthru", "--snaplen", optarg,
					     IPR_SNAPLEN_MIN, IPR_MTU_MAX,
					     &snaplen))
				return EXIT_USAGE;
			break;
		case 'l':
			if (!tool_parse_long("passthru", "--queue-len", optarg,
					     IPR_QUEUE_LENGTH_MIN,
					     IPR_QUEUE_LENGTH_MAX, &qlen))
				return EXIT_USAGE;
			break;
		case 'H':
			if (!tool_parse_long("passthru", "--hang-time", optarg,
					     IPR_HANG_TIME_MIN,
					     IPR_HANG_TIME_MAX, &hang))
				return EXIT_USAGE;
			break;
		case 'p':
			if (!tool_parse_long("passthru", "--priority", optarg,
					     IPR_PRIORITY_MIN, IPR_PRIORITY_MAX,
					     &prio))
				return EXIT_USAGE;
			break;
		case 'r': rewrite = true; break;
		case 'c': flags |= IPR_FLAG_FAIL_CLOSED; break;
		case 'f': layer = IPR_LAYER_NETWORK_FORWARD; break;
		case 'q': quiet = true; break;
		case 'u': user = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "ipredir passthru: one FILTER expected, got '%s' "
			"after it (quote the filter)\n", argv[optind + 1]);
		return EXIT_USAGE;
	}
	const char *filter = optind < argc ? argv[optind] : "true";

	struct ipr_open_opts o = {
		.sz = sizeof(o), .queues = (uint32_t)threads,
		.queue_length = (uint32_t)qlen, .snaplen = (uint32_t)snaplen,
		.busy_poll = busy > 0 ? (uint32_t)busy : 0,
		.hang_time = (uint32_t)hang,
	};
	ipr_handle *h = ipr_open_ex(filter, layer, (int16_t)prio, flags, &o);
	if (!h) {
		int e = errno;
		tool_open_error("passthru", filter, layer, -e);
		return e == EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	uint64_t bv = 0;
	if (busy == 0)
		(void)ipr_set_param(h, IPR_PARAM_BUSY_POLL, 0);
	(void)ipr_get_param(h, IPR_PARAM_BUSY_POLL, &bv);
	busy = (long)bv;

	if (user && tool_drop_privileges("passthru", user, false) < 0) {
		ipr_close(h);
		return EXIT_USAGE;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (!w) {
		ipr_close(h);
		return EXIT_FAIL;
	}
	int started = 0;
	for (long i = 0; i < threads; i++) {
		w[i].h = h;
		w[i].queue = (unsigned)i;
		w[i].batch = (unsigned)batch;
		w[i].rewrite = rewrite;
		w[i].cpu = ncpus ? cpus[i % ncpus] : -1;
		if (pthread_create(&w[i].tid, NULL, work, &w[i]))
			break;
		started++;
	}
	if (!quiet) {
		char snap[32] = "";
		if (snaplen)
			snprintf(snap, sizeof(snap), ", snaplen %ld", snaplen);
		char bp[32] = "";
		if (busy)
			snprintf(bp, sizeof(bp), ", busy-poll %ld us", busy);
		char cp[24] = "";
		if (ncpus)
			snprintf(cp, sizeof(cp), ", pinned");
		fprintf(stderr, "passthru: running, filter '%s', %ld thread(s), "
			"batch %ld%s%s%s%s\n", filter, threads, batch, snap, bp,
			cp, rewrite ? ", rewrite" : "");
	}

	double t0 = now_s(), tl = t0;
	uint64_t lp = 0, lb = 0;
	struct ipr_stats st;
	int rc = EXIT_OK;
	while (!stop && started == threads) {
		struct timespec one = { 1, 0 };
		nanosleep(&one, NULL);
		bool dead = false;
		for (int i = 0; i < started; i++)
			dead |= w[i].err != 0;
		if (dead)
			break;
		if (quiet || stop)
			continue;
		uint64_t pk, by;
		totals(w, (unsigned)started, &pk, &by);
		double t = now_s(), dt = t - tl;
		ipr_stats_get(h, &st);
		fprintf(stderr, "passthru: %llu pkts %.1f MB | %.1f kpps %.3f "
			"Gbit/s | drops kernel=%llu timeout=%llu | seg=%llu | "
			"bypassed=%llu hung=%llu\n",
			(unsigned long long)pk, (double)by / 1e6,
			(double)(pk - lp) / dt / 1e3,
			(double)(by - lb) * 8 / dt / 1e9,
			(unsigned long long)st.kernel_queue_dropped +
				(unsigned long long)st.kernel_user_dropped,
			(unsigned long long)st.dropped_timeout,
			(unsigned long long)st.segmented,
			(unsigned long long)st.kernel_bypassed,
			(unsigned long long)st.hung_packets);
		lp = pk;
		lb = by;
		tl = t;
	}
	/* No new packets; the workers answer what is queued, then stop. */
	ipr_shutdown(h, IPR_SHUTDOWN_RECV);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	for (int i = 0; i < started; i++)
		if (w[i].err) {
			fprintf(stderr, "ipredir passthru: queue %d: %s\n", i,
				ipr_strerror(-w[i].err));
			rc = EXIT_FAIL;
		}
	if (started != threads) {
		fprintf(stderr, "ipredir passthru: cannot start thread %d\n",
			started);
		rc = EXIT_FAIL;
	}
	uint64_t pk, by;
	totals(w, (unsigned)started, &pk, &by);
	ipr_stats_get(h, &st);
	double el = now_s() - t0;
	fprintf(stderr, "passthru: total packets=%llu bytes=%llu seconds=%.1f "
		"avg_kpps=%.1f kernel_drops=%llu timeout_drops=%llu "
		"segmented=%llu bypassed=%llu hung=%llu\n",
		(unsigned long long)pk,
		(unsigned long long)by, el, el > 0 ? (double)pk / el / 1e3 : 0.0,
		(unsigned long long)st.kernel_queue_dropped +
			(unsigned long long)st.kernel_user_dropped,
		(unsigned long long)st.dropped_timeout,
		(unsigned long long)st.segmented,
		(unsigned long long)st.kernel_bypassed,
		(unsigned long long)st.hung_packets);
	ipr_close(h);
	free(w);
	return rc;
}
