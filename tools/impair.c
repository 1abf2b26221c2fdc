/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* impair.c - `ipredir impair`: a network emulator in the spirit of netem and
 * clumsy.  Packets the filter selects are held in a binary heap keyed by
 * their release time (CLOCK_MONOTONIC, ns) and answered when it comes:
 * delay, jitter, loss, duplication, reordering, corruption and a rate
 * limit, each drawn from a seeded PRNG so that a run can be repeated. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "tool.h"

#define MS 1000000ull
#define SEC 1000000000ull
/* Timing: a blocking receive ends at most this long before a release; the
 * rest is slept in steps of FINE_STEP (packets that come meanwhile wait at
 * most that long in the kernel, and keep their kernel timestamp). */
#define COARSE_MARGIN (12 * MS)
#define FINE_STEP (250 * 1000ull)

struct conf {
	uint64_t delay, jitter, reorder_gap;   /* ns */
	double loss, dup, reorder, corrupt;    /* probabilities 0..1 */
	double rate_bps;                       /* 0: no limit */
	unsigned long limit;                   /* packets held at most */
	uint64_t seed;
	uint64_t max_hold;                     /* ns, below the queue time */
};

enum kind { K_PASS, K_REPLACE, K_INJECT };

struct item {           /* a packet waiting for its time */
	uint64_t due, seq;
	struct ipr_addr addr;
	uint8_t *data;      /* own copy for K_REPLACE and K_INJECT */
	uint32_t len;
	uint8_t kind;
};

struct heap {
	struct item *v;
	size_t n, cap;
	uint64_t seq;
};

struct counts {
	unsigned long long packets, passed, lost, duplicated, inject_failed;
	unsigned long long corrupted, reordered, overlimit, expired;
	unsigned long long released, late_sum_ns, late_max_ns;
};

/* ---- the heap: smallest (due, seq) on top ----------------------------- */

static bool before(const struct item *a, const struct item *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(struct heap *hp, struct item *it)
{
	if (hp->n == hp->cap) {
		size_t nc = hp->cap ? hp->cap * 2 : 1024;
		struct item *nv = realloc(hp->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		hp->v = nv;
		hp->cap = nc;
	}
	it->seq = hp->seq++;
	size_t i = hp->n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!before(it, &hp->v[up]))
			break;
		hp->v[i] = hp->v[up];
		i = up;
	}
	hp->v[i] = *it;
	return 0;
}

static struct item heap_pop(struct heap *hp)
{
	struct item top = hp->v[0], last = hp->v[--hp->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = l;
		if (l >= hp->n)
			break;
		if (r < hp->n && before(&hp->v[r], &hp->v[l]))
			m = r;
		if (!before(&hp->v[m], &last))
			break;
		hp->v[i] = hp->v[m];
		i = m;
	}
	if (hp->n)
		hp->v[i] = last;
	return top;
}

/* ---- randomness: splitmix64, small and good enough for this ----------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_unit(void) /* [0, 1) */
{
	return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static bool chance(double p)
{
	return p > 0 && rng_unit() < p;
}

/* ---- what happens to one packet --------------------------------------- */

static uint8_t *copy_of(const struct ipr_packet *p)
{
	uint8_t *d = malloc(p->len);
	if (d)
		memcpy(d, p->data, p->len);
	return d;
}

/* A packet whose TCP/UDP checksum the kernel has not filled in yet holds
 * only the pseudo-header sum there: a copy that leaves by injection needs
 * the real one. */
static void complete_csum(uint8_t *d, const struct ipr_packet *p)
{
	if (p->addr.flags & IPR_ADDR_CSUM_PARTIAL)
		ipr_csum_calc(d, p->len, IPR_CSUM_NO_IP);
}

/* Flip one bit where the receiver checks it: in the payload if there is
 * one, else somewhere after the IP header.  False if there is no room. */
static bool flip_bit(uint8_t *d, uint32_t len)
{
	struct ipr_headers hd;
	if (ipr_packet_parse(d, len, &hd) < 0)
		return false;
	uint32_t off, span;
	if (hd.payload && hd.payload_len) {
		off = (uint32_t)(hd.payload - d);
		span = hd.payload_len;
	} else {
		off = hd.l3_len;
		span = len > off ? len - off : 0;
	}
	if (!span)
		return false;
	uint64_t r = rng_next();
	d[off + (uint32_t)(r % span)] ^= (uint8_t)(1u << ((r >> 32) & 7));
	return true;
}

/* The corrupted copy of @p into @it (a replacement or an injection), or
 * the packet dropped here: 1 to hold @it, 0 (dropped) or a negative errno
 * to hold nothing. */
static int corrupt_item(ipr_handle *h, struct counts *n,
			const struct ipr_packet *p, struct item *it)
{
	if ((p->addr.flags & IPR_ADDR_CSUM_PARTIAL) &&
	    (p->addr.flags & IPR_ADDR_GSO)) {
		/* A super-packet whose checksums the kernel fills in when it
		 * cuts it: a flipped bit would get a valid checksum and reach
		 * the application.  The receiver would have dropped the bad
		 * packet: drop it here. */
		n->corrupted++;
		int r = ipr_drop(h, &p->addr);
		return r < 0 ? r : 0;
	}
	it->data = copy_of(p);
	if (!it->data)
		return -ENOMEM;
	bool inject = (p->addr.flags & IPR_ADDR_CSUM_PARTIAL) &&
		      !(p->addr.flags & IPR_ADDR_GSO);
	if (inject)
		complete_csum(it->data, p);
	if (!flip_bit(it->data, p->len)) {
		free(it->data);
		it->data = NULL;
	} else if (inject) {
		/* The library would complete the checksum of a replacement
		 * over the flipped bit and hide it: the bad copy goes by
		 * injection instead. */
		int r = ipr_drop(h, &p->addr);
		if (r < 0) {
			free(it->data);
			return r;
		}
		it->kind = K_INJECT;
		it->addr.packet_id = 0;
		n->corrupted++;
	} else {
		it->kind = K_REPLACE;
		n->corrupted++;
	}
	return 1;
}

static int hold(ipr_handle *h, const struct conf *cf, struct heap *hp,
		struct counts *n, uint64_t *link_free,
		const struct ipr_packet *p, uint64_t arrival)
{
	n->packets++;
	if (chance(cf->loss)) {
		n->lost++;
		return ipr_drop(h, &p->addr);
	}
	bool corrupt = chance(cf->corrupt), dup = chance(cf->dup);
	bool reorder = chance(cf->reorder);
	if (p->addr.flags & IPR_ADDR_TRUNCATED)
		corrupt = dup = false; /* only part of it is here to copy */

	uint64_t due = arrival + cf->delay;
	if (cf->jitter) {
		/* uniform in [-jitter, +jitter], never before arrival */
		double j = (rng_unit() * 2 - 1) * (double)cf->jitter;
		due = j < 0 && (uint64_t)-j > due - arrival ? arrival
						     : (uint64_t)((double)due + j);
	}
	uint64_t link_end = 0;
	if (cf->rate_bps > 0) {
		/* A FIFO link: the packet starts when the link is free and
		 * leaves when its last bit is out. */
		uint64_t start = due > *link_free ? due : *link_free;
		link_end = start + (uint64_t)((double)p->addr.orig_len * 8 *
					      1e9 / cf->rate_bps);
		due = link_end;
	}
	if (hp->n >= cf->limit || due - arrival > cf->max_hold) {
		n->overlimit++;
		return ipr_drop(h, &p->addr);
	}
	if (link_end)
		*link_free = link_end; /* only a packet that is sent uses it */
	if (reorder) {
		/* held back so that those behind it overtake it */
		due += cf->reorder_gap;
		n->reordered++;
	}

	struct item it = { .due = due, .addr = p->addr, .len = p->len,
			   .kind = K_PASS };
	if (corrupt) {
		int r = corrupt_item(h, n, p, &it);
		if (r <= 0)
			return r;
	}
	if (heap_push(hp, &it) < 0) {
		free(it.data);
		return -ENOMEM;
	}
	if (dup) {
		struct item d = { .due = due, .addr = p->addr, .len = p->len,
				  .kind = K_INJECT };
		d.addr.packet_id = 0;
		d.data = copy_of(p);
		if (!d.data)
			return -ENOMEM;
		complete_csum(d.data, p);
		if (heap_push(hp, &d) < 0) {
			free(d.data);
			return -ENOMEM;
		}
		n->duplicated++;
	}
	return 0;
}

/* Answer every packet whose time has come, in batches. */
static void release(ipr_handle *h, struct heap *hp, struct counts *n,
		    uint64_t now)
{
	struct ipr_packet out[IPR_BATCH_MAX];
	struct item its[IPR_BATCH_MAX];
	while (hp->n && hp->v[0].due <= now) {
		unsigned m = 0;
		while (m < IPR_BATCH_MAX && hp->n && hp->v[0].due <= now) {
			struct item it = heap_pop(hp);
			uint64_t late = now - it.due;
			n->late_sum_ns += late;
			if (late > n->late_max_ns)
				n->late_max_ns = late;
			n->released++;
			out[m] = (struct ipr_packet){
				.data = it.data, .len = it.len,
				.verdict = it.kind == K_REPLACE ?
					IPR_VERDICT_REPLACE : IPR_VERDICT_PASS,
				.addr = it.addr,
			};
			its[m++] = it;
		}
		for (unsigned i = 0; i < m;) {
			int r = ipr_send_batch(h, out + i, m - i);
			unsigned done = r > 0 ? (unsigned)r : 0;
			for (unsigned k = i; k < i + done; k++)
				if (its[k].kind != K_INJECT)
					n->passed++;
			i += done;
			if (i < m) {
				/* answered late by the library (queue time),
				 * or an injection the kernel refused */
				if (its[i].kind == K_INJECT)
					n->inject_failed++;
				else
					n->expired++;
				i++;
			}
		}
		for (unsigned k = 0; k < m; k++)
			free(its[k].data);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir impair [OPTIONS] FILTER\n"
"Emulate a bad network for the packets FILTER selects (say 'outbound',\n"
"'inbound' or neither in it to choose the direction).\n\n"
"  -d, --delay MS        hold every packet MS milliseconds (decimals ok)\n"
"  -j, --jitter MS       add a uniform -MS..+MS to the delay (may reorder)\n"
"  -l, --loss PCT        drop PCT %% of the packets\n"
"  -D, --duplicate PCT   send PCT %% twice (the copy is injected)\n"
"  -r, --reorder PCT     hold PCT %% back --reorder-gap longer, so that the\n"
"                        next ones overtake them\n"
"      --reorder-gap MS  (default 10)\n"
"  -C, --corrupt PCT     flip one bit in PCT %% (in the payload; the\n"
"                        checksum is left wrong, so receivers drop them;\n"
"                        GSO super-packets are dropped here instead)\n"
"  -R, --rate KBIT       a link of KBIT kbit/s (IP bytes): packets queue\n"
"                        for it in order\n"
"  -L, --limit N         packets held at most (default 10000); more are\n"
"                        dropped, as are any that would wait past 15 s\n"
"  -s, --seed N          seed of the random choices (default: from the\n"
"                        clock, printed at the start)\n"
"  -i, --interface NAME  only packets of this interface\n"
"  -p, --priority P      handle priority (%d to %d, default 0)\n"
"  -f, --forward         packets routed through this host (forward layer)\n"
"      --no-realtime     do not ask for SCHED_FIFO (by default it runs at\n"
"                        the lowest real-time priority, for its timing)\n"
"  -h, --help\n\n"
"Order per packet: loss, then delay and jitter, then the rate limit, then\n"
"reordering.  SIGINT or SIGTERM pass what is held on at once and print\n"
"the totals and how late packets left against their times.\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_PRIORITY_MIN, IPR_PRIORITY_MAX);
}

static bool pct(const char *opt, const char *s, double *p)
{
	double v;
	if (!tool_parse_double("impair", opt, s, 0, 100, "a percentage", &v))
		return false;
	*p = v / 100;
	return true;
}

static bool msec(const char *opt, const char *s, uint64_t *ns)
{
	double v;
	if (!tool_parse_double("impair", opt, s, 0, 15000, "milliseconds", &v))
		return false;
	*ns = (uint64_t)(v * 1e6 + 0.5);
	return true;
}

/* The kernel's time of a packet as CLOCK_MONOTONIC, when it has a
 * believable one: packets that waited in the socket keep their delay. */
static uint64_t arrival_of(const struct ipr_addr *a, uint64_t mono,
			   uint64_t real)
{
	if (a->timestamp && a->timestamp <= real &&
	    real - a->timestamp < 100 * MS)
		return mono - (real - a->timestamp);
	return mono;
}

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static int run(ipr_handle *h, const struct conf *cf, struct counts *n)
{
	struct heap hp = { 0 };
	uint64_t link_free = 0;
	struct tool_batch b = { 0 };
	int err = tool_batch_init(&b);
	if (err)
		goto out;
	while (!tool_stop) {
		uint64_t now = tool_now_ns();
		release(h, &hp, n, now);
		/* The library's receive timeout is whole milliseconds, and
		 * may end a kernel tick or two late: wait in it until
		 * COARSE_MARGIN before the next release (a packet arriving
		 * ends that wait at once), then in short exact sleeps. */
		int timeout = 500;
		uint64_t left = 0;
		if (hp.n) {
			left = hp.v[0].due > now ? hp.v[0].due - now : 0;
			timeout = left > COARSE_MARGIN + MS ?
				  (int)((left - COARSE_MARGIN) / MS) : 0;
		}
		int k = tool_batch_recv(h, &b, timeout);
		if (k < 0) {
			err = k;
			break;
		}
		if (k == 0 && timeout == 0 && left) {
			uint64_t step = left < FINE_STEP ? left : FINE_STEP;
			struct timespec ts = { 0, (long)step };
			nanosleep(&ts, NULL);
			continue;
		}
		uint64_t mono = tool_now_ns(), real = real_ns();
		for (int i = 0; i < k; i++) {
			int r = hold(h, cf, &hp, n, &link_free, &b.pkts[i],
				     arrival_of(&b.pkts[i].addr, mono, real));
			if (r == -ENOMEM) {
				err = r;
				goto out;
			}
			if (r < 0)
				n->expired++;
		}
	}
out:
	/* What is still held goes on unchanged when the handle closes;
	 * copies not yet injected are lost. */
	for (size_t i = 0; i < hp.n; i++)
		free(hp.v[i].data);
	free(hp.v);
	tool_batch_free(&b);
	return err;
}

/* What the command line asks for, beyond struct conf. */
struct impair_opts {
	struct tool_sel sel;
	bool realtime;
	char *filter;           /* with -i folded in; malloc'ed */
};

#define RUN (-1) /* parse_*: go on and run */
enum { OPT_GAP = 256, OPT_NORT };  /* long options without a letter */

/* One option (@arg its value, @argv for the error line); RUN, or the exit
 * code after --help or the error line. */
static int parse_one(int c, const char *arg, char **argv, struct conf *cf,
		     struct impair_opts *o)
{
	double rate;
	long lv;
	char *end;
	bool ok = true;
	switch (c) {
	case 'd': ok = msec("--delay", arg, &cf->delay); break;
	case 'j': ok = msec("--jitter", arg, &cf->jitter); break;
	case OPT_GAP: ok = msec("--reorder-gap", arg, &cf->reorder_gap); break;
	case 'l': ok = pct("--loss", arg, &cf->loss); break;
	case 'D': ok = pct("--duplicate", arg, &cf->dup); break;
	case 'r': ok = pct("--reorder", arg, &cf->reorder); break;
	case 'C': ok = pct("--corrupt", arg, &cf->corrupt); break;
	case 'R':
		ok = tool_parse_double("impair", "--rate", arg, 1, 100e6,
				       "kbit/s", &rate);
		cf->rate_bps = rate * 1000;
		break;
	case 'L':
		ok = tool_parse_long("impair", "--limit", arg, 1,
				     IPR_QUEUE_LENGTH_MAX, &lv);
		cf->limit = (unsigned long)lv;
		break;
	case 's':
		errno = 0;
		cf->seed = strtoull(arg, &end, 0);
		if (!*arg || *end || errno || *arg == '-') {
			fprintf(stderr, "ipredir impair: --seed wants a "
				"number, not '%s'\n", arg);
			ok = false;
		}
		break;
	case OPT_NORT: o->realtime = false; break;
	case 'h': usage(stdout); return EXIT_OK;
	default:
		ok = tool_sel_opt("impair", c, argv, IPR_PRIORITY_MAX, &o->sel);
		break;
	}
	return ok ? RUN : EXIT_USAGE;
}

/* The options into @cf and @o; RUN, or the exit code after --help or the
 * one error line. */
static int parse_opts(int argc, char **argv, struct conf *cf,
		      struct impair_opts *o)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "loss", required_argument, NULL, 'l' },
		{ "duplicate", required_argument, NULL, 'D' },
		{ "reorder", required_argument, NULL, 'r' },
		{ "reorder-gap", required_argument, NULL, OPT_GAP },
		{ "corrupt", required_argument, NULL, 'C' },
		{ "rate", required_argument, NULL, 'R' },
		{ "limit", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 's' },
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY, TOOL_OPT_FORWARD,
		{ "no-realtime", no_argument, NULL, OPT_NORT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *text;
	int c;

	*cf = (struct conf){ .reorder_gap = 10 * MS, .limit = 10000,
			     .seed = real_ns() ^ ((uint64_t)getpid() << 32) };
	*o = (struct impair_opts){ .sel = TOOL_SEL_INIT, .realtime = true };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:j:l:D:r:C:R:L:s:i:p:fh", opts,
				NULL)) != -1) {
		int r = parse_one(c, optarg, argv, cf, o);
		if (r != RUN)
			return r;
	}
	if (!tool_one_filter("impair", argc, argv, optind, true, &text))
		return EXIT_USAGE;
	if (!cf->delay && !cf->jitter && !cf->loss && !cf->dup &&
	    !cf->reorder && !cf->corrupt && !cf->rate_bps) {
		fprintf(stderr, "ipredir impair: nothing to do for '%s': give at "
			"least one of --delay, --jitter, --loss, --duplicate, "
			"--reorder, --corrupt, --rate\n", text);
		return EXIT_USAGE;
	}
	if (cf->delay + cf->jitter + cf->reorder_gap > 15000 * MS) {
		fprintf(stderr, "ipredir impair: --delay, --jitter and "
			"--reorder-gap add up to more than 15000 ms\n");
		return EXIT_USAGE;
	}
	o->filter = tool_filter("impair", text, o->sel.ifname, o->sel.layer);
	return o->filter ? RUN : EXIT_USAGE;
}

/* Wake-ups within a microsecond or two of the time asked for, and not
 * behind every busy process of the host: a real-time priority (the
 * lowest), which packet timing deserves.  What it got, for the start
 * line. */
static const char *set_timing(bool realtime)
{
	struct sched_param sp = { .sched_priority = 1 };
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (realtime && sched_setscheduler(0, SCHED_FIFO, &sp) == 0)
		return "real-time scheduling";
	return "normal scheduling";
}

static void report(const struct counts *n)
{
	fprintf(stderr, "impair: total packets=%llu passed=%llu lost=%llu "
		"duplicated=%llu corrupted=%llu reordered=%llu overlimit=%llu "
		"expired=%llu inject_failed=%llu late_avg_us=%.1f "
		"late_max_us=%.1f\n", n->packets, n->passed, n->lost,
		n->duplicated, n->corrupted, n->reordered, n->overlimit,
		n->expired, n->inject_failed,
		n->released ? (double)n->late_sum_ns / (double)n->released / 1e3
			    : 0.0, (double)n->late_max_ns / 1e3);
}

int cmd_impair(int argc, char **argv)
{
	struct conf cf;
	struct impair_opts o;
	int rc = parse_opts(argc, argv, &cf, &o);
	if (rc != RUN)
		return rc;
	rc = EXIT_OK;

	/* Held packets must outlive the longest wait: the library drops
	 * what is not answered within the queue time. */
	struct ipr_open_opts oo = { .sz = sizeof(oo),
				    .queue_time = IPR_QUEUE_TIME_MAX };
	cf.max_hold = (IPR_QUEUE_TIME_MAX - 1000) * MS;
	ipr_handle *h = tool_open("impair", o.filter, o.sel.layer,
				  (int16_t)o.sel.prio, 0, &oo, &rc);
	if (!h) {
		free(o.filter);
		return rc;
	}
	const char *sched = set_timing(o.realtime);
	rng_state = cf.seed;
	tool_signals();
	fprintf(stderr, "impair: running, filter '%.200s%s', seed %llu, %s\n",
		o.filter, strlen(o.filter) > 200 ? "..." : "",
		(unsigned long long)cf.seed, sched);
	struct counts n = { 0 };
	int err = run(h, &cf, &n);
	if (err) {
		fprintf(stderr, "ipredir impair: %s\n", ipr_strerror(err));
		rc = EXIT_FAIL;
	}
	report(&n);
	ipr_close(h);
	free(o.filter);
	return rc;
}
