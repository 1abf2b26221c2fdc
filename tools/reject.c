/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reject.c - `ipredir reject`: a firewall's reject.  Each packet the filter
 * selects is dropped and answered, by injection, with what the other end
 * would have sent had nobody listened: a TCP reset, or an ICMP / ICMPv6
 * destination unreachable that quotes it.  The sender learns at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tool.h"

#define TTL 64
/* How much of the offending packet an ICMP error quotes: RFC 1812's 576
 * bytes in all for IPv4, RFC 4443's minimum MTU for IPv6. */
#define QUOTE4 (576 - 28)
#define QUOTE6 (1280 - 48)

struct counts {
	unsigned long long packets, resets, icmp, silent;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipredir reject [OPTIONS] FILTER\n"
"Drop every packet FILTER selects and answer it like a closed port: TCP\n"
"gets a reset, UDP an ICMP (ICMPv6) port unreachable, other protocols an\n"
"ICMP (ICMPv6) administratively prohibited.  ICMP errors, fragments after\n"
"the first, resets and multicast or broadcast packets are dropped\n"
"without an answer.\n\n"
"  -i, --interface NAME only packets of this interface\n"
"  -p, --priority P     handle priority (%d to %d, default 0)\n"
"  -f, --forward        packets routed through this host (forward layer)\n"
"  -v, --verbose        a line for every packet rejected (stdout)\n"
"  -h, --help\n\n"
"SIGINT or SIGTERM remove the rules and print 'reject: total packets=N\n"
"resets=N icmp=N silent=N'.\n"
"Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n",
		IPR_PRIORITY_MIN, IPR_PRIORITY_MAX);
}

/* Multicast or broadcast destinations never get an answer (RFC 1122). */
static bool to_group(const struct ipr_headers *hd)
{
	if (hd->ip) {
		uint32_t d = ntohl(hd->ip->dst);
		return d >= 0xe0000000u; /* class D, E and broadcast */
	}
	return hd->ipv6->dst[0] == 0xff;
}

/* No error about an error (RFC 1122 3.2.2, RFC 4443 2.4). */
static bool icmp_error(const struct ipr_headers *hd)
{
	if (hd->icmp) {
		uint8_t t = hd->icmp->type;
		return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
	}
	if (hd->icmpv6)
		return hd->icmpv6->type < 128 || (hd->icmpv6->type >= 133 &&
						  hd->icmpv6->type <= 137);
	return false;
}

/* The IP header of an answer: from the packet's destination to its
 * source.  Returns the header length. */
static size_t reply_ip(uint8_t *out, const struct ipr_headers *hd,
		       uint8_t proto, size_t l4len)
{
	if (hd->ip) {
		struct ipr_iphdr ip = {
			.ver_ihl = 0x45, .length = htons((uint16_t)(20 + l4len)),
			.frag_off = htons(0x4000), .ttl = TTL, .protocol = proto,
			.src = hd->ip->dst, .dst = hd->ip->src,
		};
		memcpy(out, &ip, sizeof(ip));
		return sizeof(ip);
	}
	struct ipr_ipv6hdr ip6 = {
		.ver_tc_flow = htonl(6u << 28), .length = htons((uint16_t)l4len),
		.next_hdr = proto, .hop_limit = TTL,
	};
	memcpy(ip6.src, hd->ipv6->dst, 16);
	memcpy(ip6.dst, hd->ipv6->src, 16);
	memcpy(out, &ip6, sizeof(ip6));
	return sizeof(ip6);
}

/* RFC 793 "Reset Generation": if the segment had an ACK, the reset takes
 * its sequence number from that ACK; else it acknowledges the segment. */
static size_t build_reset(uint8_t *out, const struct ipr_headers *hd)
{
	const struct ipr_tcphdr *in = hd->tcp;
	struct ipr_tcphdr t = {
		.src_port = in->dst_port, .dst_port = in->src_port,
		.data_off = 5 << 4,
	};
	if (in->flags & 0x10) {
		t.seq = in->ack;
		t.flags = 0x04;
	} else {
		uint32_t seglen = hd->payload_len + !!(in->flags & 0x02) +
				  !!(in->flags & 0x01);
		t.ack = htonl(ntohl(in->seq) + seglen);
		t.flags = 0x04 | 0x10;
	}
	size_t hl = reply_ip(out, hd, 6, sizeof(t));
	memcpy(out + hl, &t, sizeof(t));
	return hl + sizeof(t);
}

static size_t build_unreach(uint8_t *out, const struct ipr_headers *hd,
			    const uint8_t *pkt, size_t len)
{
	struct ipr_icmphdr ic = { 0 };
	size_t quote;
	uint8_t proto;
	if (hd->ip) {
		ic.type = 3;
		ic.code = hd->udp ? 3 : 13; /* port unreachable, prohibited */
		quote = len < QUOTE4 ? len : QUOTE4;
		proto = 1;
	} else {
		ic.type = 1;
		ic.code = hd->udp ? 4 : 1;
		quote = len < QUOTE6 ? len : QUOTE6;
		proto = 58;
	}
	size_t hl = reply_ip(out, hd, proto, sizeof(ic) + quote);
	memcpy(out + hl, &ic, sizeof(ic));
	memcpy(out + hl + sizeof(ic), pkt, quote);
	return hl + sizeof(ic) + quote;
}

/* Answer one packet (if it deserves an answer), then drop it. */
static int reject_one(ipr_handle *h, const struct ipr_packet *p,
		      struct counts *n, bool verbose)
{
	uint8_t out[20 + 8 + QUOTE6 + 48];
	struct ipr_headers hd = { 0 };
	size_t len = 0;
	n->packets++;
	if (ipr_packet_parse(p->data, p->len, &hd) == 0 &&
	    !(hd.fragment && hd.frag_off) && !to_group(&hd)) {
		if (hd.tcp && !(hd.tcp->flags & 0x04))
			len = build_reset(out, &hd);
		else if (!hd.tcp && !icmp_error(&hd))
			len = build_unreach(out, &hd, p->data, p->len);
	}
	if (len) {
		struct ipr_addr a = { 0 };
		/* The answer goes back the way the packet came: into this
		 * host's stack for one it sent, out for one it received or
		 * forwards. */
		if (p->addr.layer == IPR_LAYER_NETWORK_FORWARD ||
		    !(p->addr.flags & IPR_ADDR_OUTBOUND))
			a.flags = IPR_ADDR_OUTBOUND;
		if (hd.ipv6)
			a.flags |= IPR_ADDR_IPV6;
		ipr_csum_calc(out, len, 0);
		if (ipr_send(h, out, len, &a) < 0) {
			fprintf(stderr, "ipredir reject: cannot send the answer: "
				"%s\n", ipr_strerror(-errno));
			len = 0;
		}
	}
	if (len && hd.tcp)
		n->resets++;
	else if (len)
		n->icmp++;
	else
		n->silent++;
	if (verbose) {
		char line[512];
		tool_packet_line(line, sizeof(line), p->data, p->len, &p->addr);
		printf("%s -> %s\n", line, !len ? "dropped" :
		       hd.tcp ? "reset" : "unreachable");
	}
	int r = ipr_drop(h, &p->addr);
	return r == -EINVAL ? 0 : r; /* already expired: nothing to do */
}

int cmd_reject(int argc, char **argv)
{
	static const struct option opts[] = {
		TOOL_OPT_INTERFACE, TOOL_OPT_PRIORITY, TOOL_OPT_FORWARD,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tool_sel sel = TOOL_SEL_INIT;
	bool verbose = false;
	int c, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:p:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default:
			if (!tool_sel_opt("reject", c, argv, IPR_PRIORITY_MAX,
					  &sel))
				return EXIT_USAGE;
			break;
		}
	}
	char *filter = tool_sel_filter("reject", argc, argv, optind, true,
				       &sel);
	if (!filter)
		return EXIT_USAGE;

	struct tool_batch b = { 0 };
	struct counts n = { 0 };
	ipr_handle *h = tool_start("reject", filter, &sel, 0, NULL, &b, &rc);
	if (!h)
		goto out;
	fprintf(stderr, "reject: rejecting, filter '%.200s%s'\n", filter,
		strlen(filter) > 200 ? "..." : "");
	while (!tool_stop) {
		int k = tool_batch_recv(h, &b, 1000);
		if (k < 0) {
			fprintf(stderr, "ipredir reject: receive: %s\n",
				ipr_strerror(k));
			rc = EXIT_FAIL;
			break;
		}
		for (int i = 0; i < k; i++) {
			int r = reject_one(h, &b.pkts[i], &n, verbose);
			if (r < 0) {
				fprintf(stderr, "ipredir reject: drop: %s\n",
					ipr_strerror(r));
				rc = EXIT_FAIL;
				tool_stop = 1;
			}
		}
	}
	fprintf(stderr, "reject: total packets=%llu resets=%llu icmp=%llu "
		"silent=%llu\n", n.packets, n.resets, n.icmp, n.silent);
out:
	if (h)
		ipr_close(h);
	tool_batch_free(&b);
	free(filter);
	return rc;
}
