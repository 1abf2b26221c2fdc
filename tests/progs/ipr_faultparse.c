/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_faultparse.c - a handle that takes whatever the wire brings (the
 * malformed packets of fault_malformed.py among it) and runs the helpers
 * on it: ipr_packet_parse (every pointer and length it returns must stay
 * inside the packet), ipr_filter_eval over a table of filters (0 or 1,
 * never an error), ipr_csum_calc on a copy; then passes the packet on,
 * unchanged or (--rewrite) as its own bytes written back, or only looks
 * (--sniff).  Prints a count line every 100 packets and the totals at exit. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

/* Filters that read every part of a packet: headers, options, payload at
 * fixed and negative indexes, lengths, fragments, extension headers. */
static const char *const eval_filters[] = {
	"true",
	"tcp.DstPort == 80 or udp.DstPort == 53",
	"udp.Length > 100 or udp.Length < 8",
	"ip.HdrLength > 5",
	"fragment",
	"ip.FragOff > 0 and ip.MF",
	"ipv6.NextHdr == 60 or ipv6.NextHdr == 44 or ipv6.NextHdr == 0",
	"tcp.PayloadLength > 0 or udp.PayloadLength > 0",
	"udp.Payload[0] == 1 or tcp.Payload[3] == 2",
	"tcp.Payload32[2] == 0x01020304",
	"packet[0] == 0x45",
	"packet32[-4] == 1 or packet16[60] == 0xffff",
	"icmp.Type == 8 or icmpv6.Type == 128",
	"tcp.Syn and tcp.Ack and tcp.HdrLength > 5",
	"localPort == 5 or remotePort == 7",
	"remoteAddr == 198.18.1.2 or localAddr == fd00:1::1",
	"ip.Protocol == 253 or protocol == 41",
	"length > 1000 or ip.TTL < 2",
	"ct.state == new",
	"not (tcp or udp or icmp or icmpv6)",
};
#define NF (sizeof(eval_filters) / sizeof(eval_filters[0]))

struct counts {
	unsigned long packets, v4, v6, odd, parse_err, parse_bad, eval_err;
	unsigned long csum_err, send_err, truncated;
};

static bool inside(const void *p, size_t n, const uint8_t *lo, size_t len)
{
	const uint8_t *b = p;
	return b >= lo && n <= len && b - lo <= (ptrdiff_t)(len - n);
}

/* Every pointer into the packet and every length must fit in it. */
static bool parse_sane(const struct ipr_headers *h, const uint8_t *p,
		       size_t len)
{
	if ((h->ip && !inside(h->ip, 20, p, len)) ||
	    (h->ipv6 && !inside(h->ipv6, 40, p, len)) ||
	    (h->tcp && !inside(h->tcp, 20, p, len)) ||
	    (h->udp && !inside(h->udp, 8, p, len)) ||
	    (h->icmp && !inside(h->icmp, 8, p, len)) ||
	    (h->icmpv6 && !inside(h->icmpv6, 8, p, len)))
		return false;
	if (h->payload && !inside(h->payload, h->payload_len, p, len))
		return false;
	if (!h->payload && h->payload_len)
		return false;
	if (h->total_len > len || h->l4_off > h->total_len ||
	    h->l3_len > h->total_len)
		return false;
	return (h->ip != NULL) != (h->ipv6 != NULL);
}

/* Not what a well-behaved stack sends: worth counting, to show that the
 * malformed packets really reached us. */
static bool odd(const struct ipr_headers *h)
{
	if (h->fragment)
		return true;
	if (h->ip && (h->ip->ver_ihl & 0x0f) > 5)
		return true;
	if (h->ipv6 && h->l3_len > 40)
		return true;
	switch (h->protocol) {
	case 6: return !h->tcp;
	case 17: return !h->udp;
	case 1: return !h->icmp;
	case 58: return !h->icmpv6;
	default: return true;
	}
}

static void look(ipr_filter *const *fs, const uint8_t *p, size_t len,
		 const struct ipr_addr *a, uint8_t *copy, struct counts *c)
{
	struct ipr_headers h;
	c->packets++;
	if (a->flags & IPR_ADDR_TRUNCATED)
		c->truncated++;
	if (ipr_packet_parse(p, len, &h) < 0) {
		c->parse_err++;
	} else {
		if (!parse_sane(&h, p, len))
			c->parse_bad++;
		if (h.ip)
			c->v4++;
		else
			c->v6++;
		if (odd(&h))
			c->odd++;
	}
	struct ipr_filter_env env = { .sz = sizeof(env), .ct_state = IPR_CT_NEW,
				      .if_name = "v0" };
	for (size_t i = 0; i < NF; i++) {
		int r = ipr_filter_eval(fs[i], p, len, a);
		int r2 = ipr_filter_eval_ex(fs[i], p, len, a, &env);
		if (r < 0 || r > 1 || r2 < 0 || r2 > 1)
			c->eval_err++;
	}
	memcpy(copy, p, len);
	int r = ipr_csum_calc(copy, len, 0);
	if (r != 0 && r != -EINVAL)
		c->csum_err++;
}

static void usage(void)
{
	fprintf(stderr, "usage: ipr_faultparse [--sniff] [--rewrite] "
		"[--priority P] [--seconds S] FILTER\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sniff", no_argument, NULL, 'n' },
		{ "rewrite", no_argument, NULL, 'r' },
		{ "priority", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool sniff = false, rewrite = false;
	int prio = 0, c;
	double seconds = 60;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': sniff = true; break;
		case 'r': rewrite = true; break;
		case 'p': prio = atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	ipr_filter *fs[NF];
	for (size_t i = 0; i < NF; i++) {
		struct ipr_filter_error fe;
		fs[i] = ipr_filter_compile(eval_filters[i], IPR_LAYER_NETWORK, &fe);
		if (!fs[i]) {
			fprintf(stderr, "ipr_faultparse: filter '%s': %s at %d\n",
				eval_filters[i], fe.msg ? fe.msg : "?", fe.pos);
			return 1;
		}
	}
	stop_on_signals();

	ipr_handle *h = ipr_open(argv[optind], IPR_LAYER_NETWORK, (int16_t)prio,
				 sniff ? IPR_FLAG_SNIFF : 0);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_faultparse: ipr_open '%s': %s\n",
			argv[optind], ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm((unsigned)seconds);

	enum { MAX = 32 };
	struct ipr_packet pk[MAX];
	size_t cap = (size_t)MAX * IPR_BATCH_SLOT;
	uint8_t *buf = malloc(cap), *copy = malloc(IPR_BATCH_SLOT);
	if (!buf || !copy)
		return 1;
	struct counts n = { 0 };
	unsigned long next_print = 100;
	int rc = 0;
	while (!stop) {
		int got = ipr_recv_batch(h, 0, buf, cap, pk, MAX, 200);
		if (got == -EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "ipr_faultparse: recv: %s\n", ipr_strerror(got));
			rc = 1;
			break;
		}
		for (int i = 0; i < got; i++) {
			look(fs, pk[i].data, pk[i].len, &pk[i].addr, copy, &n);
			if (rewrite && !(pk[i].addr.flags & IPR_ADDR_TRUNCATED))
				pk[i].verdict = IPR_VERDICT_REPLACE;
		}
		if (got && !sniff) {
			int s = ipr_send_batch(h, pk, (unsigned)got);
			if (s != got)
				n.send_err += (unsigned long)(got - (s > 0 ? s : 0));
		}
		if (n.packets >= next_print) {
			printf("count packets=%lu odd=%lu\n", n.packets, n.odd);
			fflush(stdout);
			next_print = n.packets + 100;
		}
	}
	printf("stats packets=%lu v4=%lu v6=%lu odd=%lu parse_err=%lu "
	       "parse_bad=%lu eval_err=%lu csum_err=%lu send_err=%lu "
	       "truncated=%lu\n", n.packets, n.v4, n.v6, n.odd, n.parse_err,
	       n.parse_bad, n.eval_err, n.csum_err, n.send_err, n.truncated);
	fflush(stdout);
	ipr_close(h);
	for (size_t i = 0; i < NF; i++)
		ipr_filter_free(fs[i]);
	free(buf);
	free(copy);
	return rc;
}
