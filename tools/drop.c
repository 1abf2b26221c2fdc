/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* drop.c - `ipredir drop`: drop what the filter selects, in the kernel (no
 * packet comes to user space for it).  The count comes from a sniff handle
 * one priority above, which sees each packet just before it is dropped.  A
 * filter the kernel cannot decide alone is diverted and dropped here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tool.h"


static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir drop [OPTIONS] FILTER\n"
"Drop every packet FILTER selects, in the kernel, until stopped.\n\n"
"  -i, --interface NAME only packets of this interface\n"
"  -p, --priority P     handle priority (%d to %d, default 0)\n"
"  -f, --forward        packets routed through this host (forward layer)\n"
"  -n, --no-count       do not count (no copies reach this program at all)\n"
"  -v, --verbose        a line for every dropped packet (stdout)\n"
"  -q, --quiet          no running count on stderr\n"
"  -h, --help\n\n"
"The count is kept by a second, sniffing handle one priority higher that\n"
"sees every packet just before the drop.  SIGINT or SIGTERM remove the\n"
"rules and print 'drop: total packets=N bytes=N seconds=S'.\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_PRIORITY_MIN, IPR_PRIORITY_MAX - 1);
}

/* What the command line asks for. */
struct drop_opts {
	struct tool_sel sel;
	bool counting, verbose, quiet;
	char *filter;           /* with -i folded in; malloc'ed */
};

#define RUN (-1) /* parse_opts: go on and run */

/* The options into @o; RUN, or the exit code after --help or the one
 * error line. */
static int parse_opts(int argc, char **argv, struct drop_opts *o)
{
	static const struct option opts[] = {
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY, TOOL_OPT_FORWARD,
		{ "no-count", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct drop_opts){ .sel = TOOL_SEL_INIT, .counting = true };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:p:fnvqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': o->counting = false; break;
		case 'v': o->verbose = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: /* -p: the counter sits one above */
			if (!tool_sel_opt("drop", c, argv, IPR_PRIORITY_MAX - 1,
					  &o->sel))
				return EXIT_USAGE;
			break;
		}
	}
	o->filter = tool_sel_filter("drop", argc, argv, optind, true, &o->sel);
	return o->filter ? RUN : EXIT_USAGE;
}

/* Count what the counter sees until a signal; the exit code. */
static int count_loop(ipr_handle *counter, struct tool_batch *b,
		      const struct drop_opts *o, unsigned long long *pk,
		      unsigned long long *by)
{
	uint64_t last = tool_now_ns();
	unsigned long long shown = 0;
	char line[512];
	while (!tool_stop) {
		if (!o->counting) {
			/* Nothing to read: the kernel does the work. */
			struct timespec ts = { 0, 200000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		int n = tool_batch_recv(counter, b, 1000);
		if (n < 0) {
			fprintf(stderr, "ipredir drop: counter: %s\n",
				ipr_strerror(n));
			return EXIT_FAIL;
		}
		for (int i = 0; i < n; i++) {
			(*pk)++;
			*by += b->pkts[i].addr.orig_len;
			if (o->verbose) {
				tool_packet_line(line, sizeof(line),
						 b->pkts[i].data, b->pkts[i].len,
						 &b->pkts[i].addr);
				printf("%s\n", line);
			}
		}
		uint64_t now = tool_now_ns();
		if (!o->quiet && *pk != shown && now - last >= 1000000000ull) {
			fprintf(stderr, "drop: %llu packets dropped\n", *pk);
			shown = *pk;
			last = now;
		}
	}
	return EXIT_OK;
}

int cmd_drop(int argc, char **argv)
{
	struct drop_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc != RUN)
		return rc;
	rc = EXIT_OK;

	ipr_handle *counter = NULL, *h = NULL;
	struct tool_batch b = { 0 };
	/* The counter first, so no packet is dropped uncounted. */
	if (o.counting) {
		counter = tool_open("drop", o.filter, o.sel.layer,
				    (int16_t)(o.sel.prio + 1), IPR_FLAG_SNIFF,
				    NULL, &rc);
		if (!counter || tool_batch_init(&b) < 0) {
			if (counter)
				rc = EXIT_FAIL;
			goto out;
		}
	}
	h = ipr_open(o.filter, o.sel.layer, (int16_t)o.sel.prio, IPR_FLAG_DROP);
	if (!h && errno == EOPNOTSUPP) {
		/* A test of the filter is checked in user space (random8,
		 * or Payload on an older kernel): a kernel drop would drop
		 * more than it selects.  Divert instead: the library passes
		 * on at once what the filter does not select, and what comes
		 * here ends here (a receive-only handle drops it). */
		fprintf(stderr, "drop: %s; dropping in this program instead\n",
			ipr_last_error(NULL));
		if (counter)
			ipr_close(counter);
		counter = NULL;
		if ((!b.buf && tool_batch_init(&b) < 0) ||
		    !(counter = tool_open("drop", o.filter, o.sel.layer,
					  (int16_t)o.sel.prio,
					  IPR_FLAG_RECV_ONLY, NULL, &rc))) {
			if (!counter && rc == EXIT_OK)
				rc = EXIT_FAIL;
			goto out;
		}
		o.counting = true; /* it must read: that is the drop */
	} else if (!h) {
		int e = errno;
		tool_open_error("drop", o.filter, o.sel.layer, -e);
		rc = e == EINVAL ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	tool_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	fprintf(stderr, "drop: dropping, filter '%.200s%s'\n", o.filter,
		strlen(o.filter) > 200 ? "..." : "");

	uint64_t t0 = tool_now_ns();
	unsigned long long pk = 0, by = 0;
	rc = count_loop(counter, &b, &o, &pk, &by);
	double el = (double)(tool_now_ns() - t0) / 1e9;
	if (o.counting)
		fprintf(stderr, "drop: total packets=%llu bytes=%llu "
			"seconds=%.1f\n", pk, by, el);
	else
		fprintf(stderr, "drop: total seconds=%.1f (not counted)\n", el);
out:
	/* The drop rules go first: the counter must not miss any. */
	if (h)
		ipr_close(h);
	if (counter)
		ipr_close(counter);
	tool_batch_free(&b);
	free(o.filter);
	return rc;
}
