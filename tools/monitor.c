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

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "write", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "hex", no_argument, NULL, 'x' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "interface", required_argument, NULL, 'i' },
		{ "priority", required_argument, NULL, 'p' },
		{ "forward", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *file = NULL, *ifname = NULL, *text;
	long count = 0, prio = 0, snaplen = 0;
	bool hex = false, quiet = false;
	enum ipr_layer layer = IPR_LAYER_NETWORK;
	int c, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":w:c:s:xqi:p:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'w': file = optarg; break;
		case 'c':
			if (!tool_parse_long("monitor", "--count", optarg, 1,
					     LONG_MAX, &count))
				return EXIT_USAGE;
			break;
		case 's':
			if (!tool_parse_long("monitor", "--snaplen", optarg,
					     IPR_SNAPLEN_MIN, IPR_MTU_MAX,
					     &snaplen))
				return EXIT_USAGE;
			break;
		case 'x': hex = true; break;
		case 'q': quiet = true; break;
		case 'i': ifname = optarg; break;
		case 'p':
			if (!tool_parse_long("monitor", "--priority", optarg,
					     IPR_PRIORITY_MIN, IPR_PRIORITY_MAX,
					     &prio))
				return EXIT_USAGE;
			break;
		case 'f': layer = IPR_LAYER_NETWORK_FORWARD; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			tool_bad_option("monitor", c, argv, optind);
			return EXIT_USAGE;
		}
	}
	if (!tool_one_filter("monitor", argc, argv, optind, false, &text))
		return EXIT_USAGE;
	char *filter = tool_filter("monitor", text, ifname, layer);
	if (!filter)
		return EXIT_USAGE;

	struct capture cap = { 0 };
	FILE *out = stdout;
	if (file) {
		if (capture_open(&cap, file,
				 snaplen ? (int)snaplen : IPR_MTU_MAX) < 0) {
			free(filter);
			return EXIT_FAIL;
		}
		if (!strcmp(file, "-"))
			out = stderr;
	}
	struct ipr_open_opts o = { .sz = sizeof(o),
				   .snaplen = (uint32_t)snaplen };
	ipr_handle *h = tool_open("monitor", filter, layer, (int16_t)prio,
				  IPR_FLAG_SNIFF, &o, &rc);
	struct tool_batch b = { 0 };
	bool ready = h && tool_batch_init(&b) == 0;
	if (!ready)
		goto out;
	tool_signals();
	setvbuf(out, NULL, _IOLBF, 0);
	fprintf(stderr, "monitor: listening, filter '%.200s%s'%s%s\n", filter,
		strlen(filter) > 200 ? "..." : "", file ? ", writing " : "",
		file ? file : "");

	unsigned long long seen = 0, bytes = 0, truncated = 0;
	char line[512];
	while (!tool_stop && (!count || seen < (unsigned long long)count)) {
		int n = tool_batch_recv(h, &b, 500);
		if (n < 0) {
			if (n != -ESHUTDOWN) {
				fprintf(stderr, "ipredir monitor: receive: %s\n",
					ipr_strerror(n));
				rc = EXIT_FAIL;
			}
			break;
		}
		for (int i = 0; i < n; i++) {
			const struct ipr_packet *p = &b.pkts[i];
			if (count && seen >= (unsigned long long)count)
				break;
			seen++;
			bytes += p->addr.orig_len;
			truncated += !!(p->addr.flags & IPR_ADDR_TRUNCATED);
			if (!quiet) {
				tool_packet_line(line, sizeof(line), p->data,
						 p->len, &p->addr);
				fprintf(out, "%s\n", line);
				if (hex)
					tool_hexdump(out, p->data, p->len);
			}
			if (cap.dump)
				capture_add(&cap, p);
		}
		/* A capture that can be read while we run, and survives a
		 * kill -9 up to the last batch. */
		if (n && cap.dump)
			pcap_dump_flush(cap.dump);
	}
	fprintf(stderr, "monitor: %llu packets, %llu bytes%s%s%s", seen, bytes,
		file ? " written to " : "", file ? file : "",
		truncated ? "" : "\n");
	if (truncated)
		fprintf(stderr, " (%llu truncated)\n", truncated);
out:
	capture_close(&cap);
	if (h)
		ipr_close(h);
	tool_batch_free(&b);
	free(filter);
	if (!ready)
		return rc == EXIT_OK ? EXIT_FAIL : rc;
	return rc;
}
