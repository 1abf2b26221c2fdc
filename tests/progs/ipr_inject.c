/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_inject.c - inject UDP datagrams, outbound (routed as if this host sent
 * them) or inbound (delivered to a local socket), through a handle whose own
 * filter matches them: the handle must not get its own packets back. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"

#define MAGIC "IPREDIR-INJECT-MAGIC"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: ipr_inject --src ADDR --dst ADDR --sport N "
		"--dport N [--inbound] [--ifname IF] [--count N] "
		"[--seconds S] FILTER\n");
	exit(2);
}

/* An IPv4 or IPv6 UDP datagram src:sport -> dst:dport carrying text, with
 * correct checksums.  Returns its length, 0 on a bad address. */
static size_t build(uint8_t *pkt, const char *src, const char *dst,
		    unsigned sport, unsigned dport, const char *text, int *v6)
{
	size_t plen = strlen(text), l3;
	struct ipr_udphdr udp = {
		.src_port = htons((uint16_t)sport),
		.dst_port = htons((uint16_t)dport),
		.length = htons((uint16_t)(sizeof(udp) + plen)),
	};
	*v6 = strchr(dst, ':') != NULL;
	if (*v6) {
		struct ipr_ipv6hdr ip6 = {
			.ver_tc_flow = htonl(6u << 28),
			.length = htons((uint16_t)(sizeof(udp) + plen)),
			.next_hdr = 17,
			.hop_limit = 64,
		};
		if (ipr_ipv6_parse(src, ip6.src) || ipr_ipv6_parse(dst, ip6.dst))
			return 0;
		memcpy(pkt, &ip6, sizeof(ip6));
		l3 = sizeof(ip6);
	} else {
		struct ipr_iphdr ip = {
			.ver_ihl = 0x45,
			.length = htons((uint16_t)(sizeof(ip) + sizeof(udp) + plen)),
			.id = htons(0x1234),
			.frag_off = htons(0x4000),
			.ttl = 64,
			.protocol = 17,
		};
		if (ipr_ipv4_parse(src, &ip.src) || ipr_ipv4_parse(dst, &ip.dst))
			return 0;
		memcpy(pkt, &ip, sizeof(ip));
		l3 = sizeof(ip);
	}
	memcpy(pkt + l3, &udp, sizeof(udp));
	memcpy(pkt + l3 + sizeof(udp), text, plen);
	size_t len = l3 + sizeof(udp) + plen;
	return ipr_csum_calc(pkt, len, 0) == 0 ? len : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "sport", required_argument, NULL, 'S' },
		{ "dport", required_argument, NULL, 'D' },
		{ "inbound", no_argument, NULL, 'i' },
		{ "ifname", required_argument, NULL, 'I' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *src = NULL, *dst = NULL, *ifname = NULL;
	unsigned sport = 0, dport = 0, count = 1;
	int inbound = 0, c, v6;
	double seconds = 2;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': src = optarg; break;
		case 'd': dst = optarg; break;
		case 'S': sport = (unsigned)atoi(optarg); break;
		case 'D': dport = (unsigned)atoi(optarg); break;
		case 'i': inbound = 1; break;
		case 'I': ifname = optarg; break;
		case 'n': count = (unsigned)atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || !src || !dst || !sport || !dport)
		usage();

	ipr_handle *h = ipr_open(argv[optind], IPR_LAYER_NETWORK, 0, 0);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_inject: ipr_open '%s': %s\n",
			argv[optind], ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	unsigned injected = 0;
	for (unsigned i = 0; i < count; i++) {
		uint8_t pkt[256];
		char text[64];
		snprintf(text, sizeof(text), MAGIC " %u", i);
		size_t len = build(pkt, src, dst, sport, dport, text, &v6);
		if (!len) {
			fprintf(stderr, "ipr_inject: bad address %s or %s\n",
				src, dst);
			return 2;
		}
		struct ipr_addr addr;
		memset(&addr, 0, sizeof(addr));
		addr.layer = IPR_LAYER_NETWORK;
		addr.flags = (inbound ? 0 : IPR_ADDR_OUTBOUND) |
			     (v6 ? IPR_ADDR_IPV6 : 0);
		if (ifname)
			addr.if_idx = if_nametoindex(ifname);
		int rc = ipr_send(h, pkt, len, &addr);
		printf("inject %u %s len=%zu rc=%d%s%s\n", i,
		       inbound ? "inbound" : "outbound", len, rc,
		       rc ? " " : "", rc ? ipr_strerror(rc) : "");
		if (rc == 0)
			injected++;
	}
	fflush(stdout);

	/* Our own filter matches what we injected: none of it may come back,
	 * while other matching traffic (the test sends some) must. */
	enum { MAX = 16 };
	struct ipr_packet pk[MAX];
	size_t cap = (size_t)MAX * IPR_BATCH_SLOT;
	char *buf = malloc(cap);
	unsigned seen_injected = 0, seen_other = 0;
	double end = now_s() + seconds;
	while (buf && now_s() < end) {
		int n = ipr_recv_batch(h, 0, buf, cap, pk, MAX, 100);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "ipr_inject: recv: %s\n", ipr_strerror(n));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (memmem(pk[i].data, pk[i].len, MAGIC, strlen(MAGIC)))
				seen_injected++;
			else
				seen_other++;
			ipr_send(h, NULL, 0, &pk[i].addr);
		}
	}
	free(buf);
	printf("injected=%u seen_injected=%u seen_other=%u\n", injected,
	       seen_injected, seen_other);
	fflush(stdout);
	ipr_close(h);
	return injected == count && seen_injected == 0 ? 0 : 1;
}
