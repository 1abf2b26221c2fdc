/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* monitor.c - `ipredir monitor`: the original product's monitor-only mode.
 * A sniff handle gets copies (the packets are never held), one line per
 * packet, and optionally a pcap file of raw IP packets. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"


static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir monitor [OPTIONS] [FILTER]\n"
"Print a line for every packet FILTER selects (default: true), from a copy:\n"
"the traffic itself is never held or delayed.\n\n"
"  -w, --write FILE     also write the packets to FILE as pcap (raw IP link\n"
"                       type: tcpdump -r and Wireshark read it); '-' is\n"
"                       stdout, the lines then go to stderr\n"
"  -c, --count N        stop after N packets\n"
"  -s, --snaplen N      copy only the first N bytes of each packet (%d-%d;\n"
"                       default: all); the lines and the pcap file keep\n"
"                       the real length\n"
"  -x, --hex            dump each packet in hex under its line\n"
"  -q, --quiet          no per-packet lines (with -w: just capture)\n"
"  -i, --interface NAME only packets of this interface\n"
"  -p, --priority P     handle priority (%d to %d, default 0)\n"
"  -f, --forward        packets routed through this host (forward layer)\n"
"  -h, --help\n\n"
"Line: time, direction (in, out, fwd), interface index, protocol,\n"
"source -> destination, IP length, TCP flags or ICMP type, and the\n"
"packet's flags (loopback, gso, frag, truncated).\n"
"SIGINT or SIGTERM (or the count) end it with a summary on stderr.\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_SNAPLEN_MIN, IPR_MTU_MAX, IPR_PRIORITY_MIN,
		IPR_PRIORITY_MAX);
}

struct capture {
	pcap_t *dead;
	pcap_dumper_t *dump;
};

static int capture_open(struct capture *c, const char *file, int snaplen)
{
	/* DLT_RAW: the packet starts with its IPv4 or IPv6 header. */
	c->dead = pcap_open_dead(DLT_RAW, snaplen);
	if (!c->dead)
		return -1;
	c->dump = pcap_dump_open(c->dead, file);
	if (!c->dump) {
		fprintf(stderr, "ipredir monitor: cannot write '%s': %s\n",
			file, pcap_geterr(c->dead));
		pcap_close(c->dead);
		c->dead = NULL;
		return -1;
	}
	return 0;
}

static void capture_add(struct capture *c, const struct ipr_packet *p)
{
	struct pcap_pkthdr ph;
	ph.ts.tv_sec = (time_t)(p->addr.timestamp / 1000000000ull);
	ph.ts.tv_usec = (suseconds_t)(p->addr.timestamp % 1000000000ull / 1000);
	ph.caplen = p->len;
	ph.len = p->addr.orig_len > p->len ? p->addr.orig_len : p->len;
	pcap_dump((u_char *)c->dump, &ph, p->data);
}

static void capture_close(struct capture *c)
{
	if (c->dump) {
		pcap_dump_flush(c->dump);
		pcap_dump_close(c->dump);
	}
	if (c->dead)
		pcap_close(c->dead);
}

/* What the command line asks for. */
struct monitor_opts {
	struct tool_sel sel;
	const char *file;
	long count, snaplen;
	bool hex, quiet;
	char *filter;           /* with -i folded in; malloc'ed */
};

#define RUN (-1) /* parse_opts: go on and run */

/* The options into @o; RUN, or the exit code after --help or the one
 * error line. */
static int parse_opts(int argc, char **argv, struct monitor_opts *o)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "hex", no_argument, NULL, 'x' },
		{ "quiet", no_argument, NULL, 'q' },
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY, TOOL_OPT_FORWARD,
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct monitor_opts){ .sel = TOOL_SEL_INIT };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:c:s:xqi:p:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o->file = optarg; break;
		case 'c':
			if (!tool_parse_long("monitor", "--count", optarg, 1,
					     LONG_MAX, &o->count))
				return EXIT_USAGE;
			break;
		case 's':
			if (!tool_parse_long("monitor", "--snaplen", optarg,
					     IPR_SNAPLEN_MIN, IPR_MTU_MAX,
					     &o->snaplen))
				return EXIT_USAGE;
			break;
		case 'x': o->hex = true; break;
		case 'q': o->quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (!tool_sel_opt("monitor", c, argv, IPR_PRIORITY_MAX,
					  &o->sel))
				return EXIT_USAGE;
			break;
		}
	}
	o->filter = tool_sel_filter("monitor", argc, argv, optind, false,
				    &o->sel);
	return o->filter ? RUN : EXIT_USAGE;
}

struct monitor_count {
	unsigned long long seen, bytes, truncated;
};

/* Lines (and the capture) until a signal, the count or an error; the
 * exit code. */
static int monitor_loop(ipr_handle *h, struct tool_batch *b,
			const struct monitor_opts *o, struct capture *cap,
			FILE *out, struct monitor_count *k)
{
	unsigned long long count = (unsigned long long)o->count;
	char line[512];
	while (!tool_stop && (!count || k->seen < count)) {
		int n = tool_batch_recv(h, b, 500);
		if (n < 0) {
			if (n == -ESHUTDOWN)
				break;
			fprintf(stderr, "ipredir monitor: receive: %s\n",
				ipr_strerror(n));
			return EXIT_FAIL;
		}
		for (int i = 0; i < n; i++) {
			const struct ipr_packet *p = &b->pkts[i];
			if (count && k->seen >= count)
				break;
			k->seen++;
			k->bytes += p->addr.orig_len;
			k->truncated += !!(p->addr.flags & IPR_ADDR_TRUNCATED);
			if (!o->quiet) {
				tool_packet_line(line, sizeof(line), p->data,
						 p->len, &p->addr);
				fprintf(out, "%s\n", line);
				if (o->hex)
					tool_hexdump(out, p->data, p->len);
			}
			if (cap->dump)
				capture_add(cap, p);
		}
		/* A capture that can be read while we run, and survives a
		 * kill -9 up to the last batch. */
		if (n && cap->dump)
			pcap_dump_flush(cap->dump);
	}
	return EXIT_OK;
}

static void report(const struct monitor_opts *o, const struct monitor_count *k)
{
	fprintf(stderr, "monitor: %llu packets, %llu bytes%s%s%s", k->seen,
		k->bytes, o->file ? " written to " : "", o->file ? o->file : "",
		k->truncated ? "" : "\n");
	if (k->truncated)
		fprintf(stderr, " (%llu truncated)\n", k->truncated);
}

int cmd_monitor(int argc, char **argv)
{
	struct monitor_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc != RUN)
		return rc;
	rc = EXIT_OK;

	struct capture cap = { 0 };
	FILE *out = stdout;
	if (o.file) {
		if (capture_open(&cap, o.file,
				 o.snaplen ? (int)o.snaplen : IPR_MTU_MAX) < 0) {
			free(o.filter);
			return EXIT_FAIL;
		}
		if (!strcmp(o.file, "-"))
			out = stderr;
	}
	struct ipr_open_opts oo = { .sz = sizeof(oo),
				    .snaplen = (uint32_t)o.snaplen };
	ipr_handle *h = tool_open("monitor", o.filter, o.sel.layer,
				  (int16_t)o.sel.prio, IPR_FLAG_SNIFF, &oo, &rc);
	struct tool_batch b = { 0 };
	bool ready = h && tool_batch_init(&b) == 0;
	if (!ready)
		goto out;
	tool_signals();
	setvbuf(out, NULL, _IOLBF, 0);
	fprintf(stderr, "monitor: listening, filter '%.200s%s'%s%s\n", o.filter,
		strlen(o.filter) > 200 ? "..." : "", o.file ? ", writing " : "",
		o.file ? o.file : "");
	struct monitor_count k = { 0 };
	rc = monitor_loop(h, &b, &o, &cap, out, &k);
	report(&o, &k);
out:
	capture_close(&cap);
	if (h)
		ipr_close(h);
	tool_batch_free(&b);
	free(o.filter);
	if (!ready)
		return rc == EXIT_OK ? EXIT_FAIL : rc;
	return rc;
}
