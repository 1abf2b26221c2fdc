/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* passthru.c - `ipredir passthru`: read every packet the filter selects and
 * write it back, one thread per queue, batched both ways; the original
 * product's passthru sample, and the reference for the API's fast path. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
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
	_Atomic uint64_t beat;  /* tool_now_ns() of its last receive return */
};

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
		atomic_store_explicit(&w->beat, tool_now_ns(),
				      memory_order_relaxed);
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
"  -i, --interface NAME  only packets of this interface\n"
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

/* What the command line asks for. */
struct passthru_opts {
	struct tool_sel sel;
	long threads, batch, snaplen, busy, qlen, hang;
	int cpus[IPR_QUEUES_MAX], ncpus;
	bool rewrite, quiet;
	uint64_t flags;
	char *filter;           /* with -i folded in; malloc'ed */
};

#define RUN (-1) /* parse_opts: go on and run */

/* The options into @o; RUN, or the exit code (after --help or the one
 * error line). */
static int parse_opts(int argc, char **argv, struct passthru_opts *o)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "busy-poll", required_argument, NULL, 'B' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "queue-len", required_argument, NULL, 'l' },
		{ "hang-time", required_argument, NULL, 'H' },
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY, TOOL_OPT_FORWARD,
		{ "rewrite", no_argument, NULL, 'r' },
		{ "fail-closed", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	/* Range-checked numbers: option letter, name, bounds, where to. */
	const struct {
		int c;
		const char *name;
		long lo, hi;
		long *v;
	} nums[] = {
		{ 't', "--threads", 1, IPR_QUEUES_MAX, &o->threads },
		{ 'b', "--batch", 1, IPR_BATCH_MAX, &o->batch },
		{ 'B', "--busy-poll", 0, IPR_BUSY_POLL_MAX, &o->busy },
		{ 's', "--snaplen", IPR_SNAPLEN_MIN, IPR_MTU_MAX, &o->snaplen },
		{ 'l', "--queue-len", IPR_QUEUE_LENGTH_MIN,
		  IPR_QUEUE_LENGTH_MAX, &o->qlen },
		{ 'H', "--hang-time", IPR_HANG_TIME_MIN, IPR_HANG_TIME_MAX,
		  &o->hang },
	};
	int c;

	/* busy -1: the library's default (adaptive, bench/README.md) */
	*o = (struct passthru_opts){
		.threads = default_threads(), .batch = 64, .busy = -1,
		.qlen = IPR_QUEUE_LENGTH_DEFAULT,
		.hang = IPR_HANG_TIME_DEFAULT, .sel = TOOL_SEL_INIT,
	};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:b:B:C:s:l:H:i:p:rcfqu:h", opts,
				NULL)) != -1) {
		size_t k;
		for (k = 0; k < sizeof(nums) / sizeof(nums[0]); k++)
			if (nums[k].c == c)
				break;
		if (k < sizeof(nums) / sizeof(nums[0])) {
			if (!tool_parse_long("passthru", nums[k].name, optarg,
					     nums[k].lo, nums[k].hi, nums[k].v))
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'C': {
			long n = sysconf(_SC_NPROCESSORS_CONF);
			o->ncpus = tool_parse_cpus("passthru", "--cpus", optarg,
						   n > 0 ? n : 1, o->cpus,
						   IPR_QUEUES_MAX);
			if (o->ncpus < 0)
				return EXIT_USAGE;
			break;
		}
		case 'r': o->rewrite = true; break;
		case 'c': o->flags |= IPR_FLAG_FAIL_CLOSED; break;
		case 'q': o->quiet = true; break;
		/* -u NAME: the short form of the dispatcher's --user */
		case 'u': tool_user = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (!tool_sel_opt("passthru", c, argv, IPR_PRIORITY_MAX,
					  &o->sel))
				return EXIT_USAGE;
			break;
		}
	}
	o->filter = tool_sel_filter("passthru", argc, argv, optind, false,
				    &o->sel);
	return o->filter ? RUN : EXIT_USAGE;
}

/* Start one worker per queue; the number started. */
static int start_workers(ipr_handle *h, const struct passthru_opts *o,
			 struct worker *w)
{
	int started = 0;
	for (long i = 0; i < o->threads; i++) {
		w[i].h = h;
		w[i].queue = (unsigned)i;
		w[i].batch = (unsigned)o->batch;
		w[i].rewrite = o->rewrite;
		w[i].cpu = o->ncpus ? o->cpus[i % o->ncpus] : -1;
		w[i].beat = tool_now_ns();
		if (pthread_create(&w[i].tid, NULL, work, &w[i]))
			break;
		started++;
	}
	return started;
}

static void report_start(const struct passthru_opts *o)
{
	char snap[32] = "", bp[32] = "";
	if (o->snaplen)
		snprintf(snap, sizeof(snap), ", snaplen %ld", o->snaplen);
	if (o->busy)
		snprintf(bp, sizeof(bp), ", busy-poll %ld us", o->busy);
	fprintf(stderr, "passthru: running, filter '%s', %ld thread(s), "
		"batch %ld%s%s%s%s\n", o->filter, o->threads, o->batch, snap,
		bp, o->ncpus ? ", pinned" : "", o->rewrite ? ", rewrite" : "");
}

/* The kernel's drops: queue full and socket full. */
static unsigned long long kernel_drops(const struct ipr_stats *st)
{
	return (unsigned long long)st->kernel_queue_dropped +
	       (unsigned long long)st->kernel_user_dropped;
}

/* One line a second until a signal or a worker's error. */
static void report_running(ipr_handle *h, const struct passthru_opts *o,
			   struct worker *w, int started)
{
	double tl = now_s();
	uint64_t lp = 0, lb = 0;
	struct ipr_stats st;
	while (!tool_stop) {
		struct timespec one = { 1, 0 };
		nanosleep(&one, NULL);
		bool stuck = false;
		for (int i = 0; i < started; i++) {
			if (atomic_load(&w[i].err))
				return;
			/* Workers return from a receive every 200 ms at most. */
			uint64_t beat = atomic_load_explicit(&w[i].beat,
							     memory_order_relaxed);
			stuck |= tool_now_ns() - beat > 2000000000ull;
		}
		if (!stuck)
			tool_watchdog_kick(); /* else systemd restarts us */
		if (o->quiet || tool_stop)
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
			(double)(by - lb) * 8 / dt / 1e9, kernel_drops(&st),
			(unsigned long long)st.dropped_timeout,
			(unsigned long long)st.segmented,
			(unsigned long long)st.kernel_bypassed,
			(unsigned long long)st.hung_packets);
		lp = pk;
		lb = by;
		tl = t;
	}
}

/* The workers' errors and the summary line; the exit code. */
static int report_end(ipr_handle *h, const struct passthru_opts *o,
		      struct worker *w, int started, double t0)
{
	int rc = EXIT_OK;
	for (int i = 0; i < started; i++) {
		int e = atomic_load(&w[i].err);
		if (e) {
			fprintf(stderr, "ipredir passthru: queue %d: %s\n", i,
				ipr_strerror(-e));
			rc = EXIT_FAIL;
		}
	}
	if (started != o->threads) {
		fprintf(stderr, "ipredir passthru: cannot start thread %d\n",
			started);
		rc = EXIT_FAIL;
	}
	uint64_t pk, by;
	struct ipr_stats st;
	totals(w, (unsigned)started, &pk, &by);
	ipr_stats_get(h, &st);
	double el = now_s() - t0;
	fprintf(stderr, "passthru: total packets=%llu bytes=%llu seconds=%.1f "
		"avg_kpps=%.1f kernel_drops=%llu timeout_drops=%llu "
		"segmented=%llu bypassed=%llu hung=%llu errors=%llu\n",
		(unsigned long long)pk,
		(unsigned long long)by, el, el > 0 ? (double)pk / el / 1e3 : 0.0,
		kernel_drops(&st), (unsigned long long)st.dropped_timeout,
		(unsigned long long)st.segmented,
		(unsigned long long)st.kernel_bypassed,
		(unsigned long long)st.hung_packets,
		(unsigned long long)st.errors);
	return rc;
}

int cmd_passthru(int argc, char **argv)
{
	struct passthru_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc != RUN)
		return rc;

	struct ipr_open_opts oo = {
		.sz = sizeof(oo), .queues = (uint32_t)o.threads,
		.queue_length = (uint32_t)o.qlen, .snaplen = (uint32_t)o.snaplen,
		.busy_poll = o.busy > 0 ? (uint32_t)o.busy : 0,
		.hang_time = (uint32_t)o.hang,
	};
	ipr_handle *h = tool_open("passthru", o.filter, o.sel.layer,
				  (int16_t)o.sel.prio, o.flags, &oo, &rc);
	if (!h)
		goto out;
	uint64_t bv = 0;
	if (o.busy == 0) /* --busy-poll 0: never */
		(void)ipr_param_set(h, IPR_PARAM_BUSY_POLL, 0);
	(void)ipr_param_get(h, IPR_PARAM_BUSY_POLL, &bv);
	o.busy = (long)bv;
	tool_signals(); /* and --user */

	struct worker *w = calloc((size_t)o.threads, sizeof(*w));
	if (!w) {
		ipr_close(h);
		rc = EXIT_FAIL;
		goto out;
	}
	int started = start_workers(h, &o, w);
	if (!o.quiet)
		report_start(&o);
	double t0 = now_s();
	if (started == o.threads)
		report_running(h, &o, w, started);
	/* No new packets; the workers answer what is queued, then stop. */
	ipr_shutdown(h, IPR_SHUTDOWN_RECV);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	rc = report_end(h, &o, w, started, t0);
	ipr_close(h);
	free(w);
out:
	free(o.filter);
	return rc;
}
