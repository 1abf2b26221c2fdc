/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_diff.c - kernel and user space agree on what a filter selects: from
 * the peer namespace, send a fixed mixed set of crafted packets (raw frames
 * on the peer's veth end), and for each of many filters, handwritten and
 * generated, open a handle "inbound and (FILTER)" here and check that it
 * delivers exactly the packets ipr_filter_eval matches, as received.
 *
 * What was received comes from a second handle with filter "inbound" and a
 * lower priority, which sees every packet after the filter's handle passed
 * it on (or the kernel let it by).  Packets are told apart by a marker:
 * the IPv4 Id or the IPv6 flow label.
 *
 *   ipr_diff --peer-ns NS --peer-if IF --if IF --a4 A --b4 B --a6 A --b6 B
 *            [--generated N] [--seed S] [--only TEXT] [--prefix NAME]
 * --only runs only the filters whose text contains TEXT (with
 * IPREDIR_DISABLE=inner-payload: the Payload filters, checked in user
 * space as on a kernel without the inner payload expression); --prefix
 * names the checks.
 * With --forward, it runs in a router namespace instead: the handles are
 * at the forward layer, the peer sends through this namespace (to --b4 /
 * --b6 behind --out-if), and nothing is reassembled on the way, so later
 * IPv4 fragments come by too.  In filters, %B4% %B6% %A4% %A6% %A4X%
 * %A6X% %IFNAME% %IFIDX% stand for the addresses and the interface the
 * packets leave (forward) or arrive on (inbound).
 * Runs in the receiving namespace; prints PASS/FAIL/SKIP lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ipredir.h"
#include "check.h"

#define MAX_ITEMS  128
#define MAX_FRAMES 2
#define MARK4      0xa000u  /* IPv4 Id: 0xa000 + item */
#define MARK6      0xa0000u /* IPv6 flow label: 0xa0000 + item */
#define PRIO_F     10
#define PRIO_T     0
#define BATCH      64

struct item {
	char desc[64];
	unsigned nframes;
	uint8_t frame[MAX_FRAMES][1600];
	size_t flen[MAX_FRAMES];
};

static struct item items[MAX_ITEMS];
static unsigned nitems;
static uint8_t mac_a[6], mac_b[6];
static uint32_t a4, b4, a4x; /* network order; a4x: another source */
static uint8_t a6[16], b6[16], a6x[16];
static int psock = -1, pifidx;
static unsigned ifidx_b;
static bool forward;
static char ifname_b[IF_NAMESIZE];
static const char *prefix = "filter_diff";

/* ------------------------------------------------------------ packets -- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A frame for the item being built: Ethernet header, then the IP packet
 * the caller writes at the returned pointer. */
static uint8_t *frame_begin(struct item *it, uint16_t ethertype)
{
	uint8_t *f = it->frame[it->nframes];

	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	put16(f + 12, ethertype);
	return f + 14;
}

static void frame_end(struct item *it, size_t iplen)
{
	it->flen[it->nframes++] = 14 + iplen;
}

static size_t tcp(uint8_t *p, unsigned sport, unsigned dport, uint8_t flags,
		  unsigned doff_words, const char *payload, size_t plen)
{
	size_t hl = doff_words * 4 < 20 ? 20 : doff_words * 4;

	memset(p, 0, hl);
	put16(p, sport);
	put16(p + 2, dport);
	put32(p + 4, 0x10000000u + sport);
	put32(p + 8, flags & 0x10 ? 0x20000000u + dport : 0);
	p[12] = (uint8_t)(doff_words << 4);
	p[13] = flags;
	put16(p + 14, 64240);
	for (size_t i = 20; i < hl; i++)
		p[i] = 1; /* NOP options */
	if (flags & 0x20)
		put16(p + 18, plen ? (unsigned)plen : 1);
	if (plen)
		memcpy(p + hl, payload, plen);
	return hl + plen;
}

static size_t udp(uint8_t *p, unsigned sport, unsigned dport,
		  const uint8_t *payload, size_t plen)
{
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, (unsigned)(8 + plen));
	put16(p + 6, 0);
	if (plen)
		memcpy(p + 8, payload, plen);
	return 8 + plen;
}

static size_t icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t body,
		   const char *payload, size_t plen)
{
	p[0] = type;
	p[1] = code;
	put16(p + 2, 0);
	put32(p + 4, body);
	if (plen)
		memcpy(p + 8, payload, plen);
	return 8 + plen;
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

struct v4 {
	uint32_t src;
	uint8_t tos, ttl;
	uint16_t frag;    /* flags and offset as on the wire */
	unsigned optwords;
};

/* An IPv4 packet of item @it: @l4 of @l4len bytes behind the header. */
static void ip4(struct item *it, const struct v4 *v, uint8_t proto,
		const uint8_t *l4, size_t l4len)
{
	uint8_t *p = frame_begin(it, ETHERTYPE_IP);
	size_t hl = 20 + 4 * v->optwords;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	p[1] = v->tos;
	put16(p + 2, (unsigned)(hl + l4len));
	put16(p + 4, MARK4 + (unsigned)(it - items));
	put16(p + 6, v->frag);
	p[8] = v->ttl ? v->ttl : 64;
	p[9] = proto;
	memcpy(p + 12, v->src ? &v->src : &a4, 4);
	memcpy(p + 16, &b4, 4);
	for (size_t i = 20; i < hl; i++)
		p[i] = 1; /* NOP */
	put16(p + 10, ip_csum(p, hl));
	memcpy(p + hl, l4, l4len);
	frame_end(it, hl + l4len);
}

struct v6 {
	const uint8_t *src;
	uint8_t tclass, hop;
	unsigned flow_extra; /* a second frame of the item: its own marker */
};

static void ip6(struct item *it, const struct v6 *v, uint8_t nh,
		const uint8_t *rest, size_t restlen)
{
	uint8_t *p = frame_begin(it, ETHERTYPE_IPV6);
	uint32_t flow = MARK6 + (unsigned)(it - items) + 0x800u * it->nframes;

	put32(p, 6u << 28 | (uint32_t)v->tclass << 20 | (flow & 0xfffff));
	put16(p + 4, (unsigned)restlen);
	p[6] = nh;
	p[7] = v->hop ? v->hop : 64;
	memcpy(p + 8, v->src ? v->src : a6, 16);
	memcpy(p + 24, b6, 16);
	if (restlen)
		memcpy(p + 40, rest, restlen);
	frame_end(it, 40 + restlen);
}

static struct item *item_new(const char *desc)
{
	struct item *it = &items[nitems++];

	memset(it, 0, sizeof(*it));
	snprintf(it->desc, sizeof(it->desc), "%s", desc);
	return it;
}

static void build_items(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t quic[] = { 0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6,
					7, 8, 0, 0x40, 0x20 };
	static const uint8_t quic_short[] = { 0x40, 0x11, 0x22, 0x33, 0x44 };
	static const uint8_t dns[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0,
				       0 };
	uint8_t l4[1500], big[1400], ext[1500];
	struct v4 v = { 0 };
	struct v6 w = { 0 };
	struct item *it;
	size_t n;

	memset(big, 'x', sizeof(big));
	/* --- IPv4 --- */
	v.frag = 0x4000;
	n = tcp(l4, 40001, 80, 0x02, 6, NULL, 0);
	l4[20] = 2; l4[21] = 4; put16(l4 + 22, 1460); /* MSS */
	ip4(item_new("tcp4 syn 40001->80 mss"), &v, 6, l4, n);
	n = tcp(l4, 40002, 443, 0x02, 5, NULL, 0);
	ip4(item_new("tcp4 syn 40002->443"), &v, 6, l4, n);
	n = tcp(l4, 40003, 80, 0x18, 5, http, sizeof(http) - 1);
	ip4(item_new("tcp4 psh|ack http get"), &v, 6, l4, n);
	n = tcp(l4, 40004, 22, 0x11, 5, NULL, 0);
	ip4(item_new("tcp4 fin|ack 40004->22"), &v, 6, l4, n);
	n = tcp(l4, 40005, 8080, 0x04, 5, NULL, 0);
	ip4(item_new("tcp4 rst 40005->8080"), &v, 6, l4, n);
	n = tcp(l4, 1025, 5001, 0x30, 5, "abc", 3);
	ip4(item_new("tcp4 urg|ack 1025->5001 abc"), &v, 6, l4, n);
	n = tcp(l4, 40007, 5000, 0xc2, 5, NULL, 0);
	put16(l4 + 14, 1024);
	ip4(item_new("tcp4 syn|ece|cwr window 1024"), &v, 6, l4, n);
	n = tcp(l4, 40008, 80, 0x18, 15, "Z", 1);
	ip4(item_new("tcp4 doff 15, 40 bytes of options"), &v, 6, l4, n);
	n = tcp(l4, 40009, 80, 0x18, 5, "payload!", 8);
	l4[12] = 4 << 4; /* a data offset below the header itself */
	ip4(item_new("tcp4 doff 4 (bad)"), &v, 6, l4, n);
	n = tcp(l4, 0, 0, 0x10, 5, NULL, 0);
	ip4(item_new("tcp4 ports 0->0 ack"), &v, 6, l4, n);
	n = tcp(l4, 40011, 80, 0x18, 5, (const char *)big, 1000);
	ip4(item_new("tcp4 1000 bytes of payload"), &v, 6, l4, n);
	v.frag = 0;
	n = udp(l4, 5353, 53, dns, sizeof(dns));
	ip4(item_new("udp4 5353->53 dns"), &v, 17, l4, n);
	n = udp(l4, 40013, 443, quic, sizeof(quic));
	ip4(item_new("udp4 quic long header"), &v, 17, l4, n);
	n = udp(l4, 40014, 443, quic_short, sizeof(quic_short));
	ip4(item_new("udp4 quic short header"), &v, 17, l4, n);
	n = udp(l4, 1234, 5353, NULL, 0);
	ip4(item_new("udp4 no payload"), &v, 17, l4, n);
	n = udp(l4, 7, 9, big, 1400);
	ip4(item_new("udp4 1400 bytes"), &v, 17, l4, n);
	n = icmp(l4, 8, 0, 0x00010001, "ping", 4);
	ip4(item_new("icmp4 echo request"), &v, 1, l4, n);
	n = icmp(l4, 13, 0, 0x00020001, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	ip4(item_new("icmp4 timestamp request"), &v, 1, l4, n);
	n = icmp(l4, 3, 3, 0, "\x45\0\0\x1c\0\0\0\0\x40\x11\0\0\xc6\x12\1\2"
		 "\xc6\x12\1\1\0\x35\x9c\x41\0\x08\0\0", 28);
	ip4(item_new("icmp4 port unreachable"), &v, 1, l4, n);
	v.optwords = 1;
	v.frag = 0x4000;
	n = tcp(l4, 40021, 80, 0x02, 5, NULL, 0);
	ip4(item_new("tcp4 with 4 bytes of ip options"), &v, 6, l4, n);
	v.optwords = 2;
	n = udp(l4, 40022, 53, dns, sizeof(dns));
	ip4(item_new("udp4 with 8 bytes of ip options"), &v, 17, l4, n);
	v.optwords = 0;
	v.tos = 0xb8;
	v.ttl = 1;
	n = tcp(l4, 40023, 80, 0x02, 5, NULL, 0);
	ip4(item_new("tcp4 tos 0xb8 ttl 1"), &v, 6, l4, n);
	v.tos = 0x03;
	v.ttl = 255;
	v.frag = 0;
	n = udp(l4, 40024, 4500, quic, 8);
	ip4(item_new("udp4 ecn ce ttl 255 no df"), &v, 17, l4, n);
	v.tos = 0;
	v.ttl = 0;
	/* a UDP datagram in two fragments: reassembled before the input
	 * hook, which sees one packet */
	it = item_new("udp4 in two fragments (reassembled)");
	n = udp(l4, 40025, 53, big, 40);
	v.frag = 0x2000;
	ip4(it, &v, 17, l4, 24);
	v.frag = 3; /* offset 24 */
	ip4(it, &v, 17, l4 + 24, n - 24);
	it = item_new("tcp4 in two fragments (reassembled)");
	n = tcp(l4, 40026, 80, 0x18, 5, http, sizeof(http) - 1);
	v.frag = 0x2000;
	ip4(it, &v, 6, l4, 32);
	v.frag = 4;
	ip4(it, &v, 6, l4 + 32, n - 32);
	v.frag = 0;
	memset(l4, 0, 16);
	put16(l4 + 2, 0x0800);
	ip4(item_new("ipv4 gre"), &v, 47, l4, 8);
	put16(l4, 5000);
	put16(l4 + 2, 80);
	ip4(item_new("ipv4 sctp-like"), &v, 132, l4, 16);
	v.src = a4x;
	n = udp(l4, 53, 33333, dns, sizeof(dns));
	ip4(item_new("udp4 53->33333 other source"), &v, 17, l4, n);
	n = tcp(l4, 443, 40052, 0x10, 5, NULL, 0);
	ip4(item_new("tcp4 443->40052 ack other source"), &v, 6, l4, n);
	v.src = 0;

	/* --- IPv6 --- */
	n = tcp(l4, 50001, 80, 0x02, 5, NULL, 0);
	ip6(item_new("tcp6 syn 50001->80"), &w, 6, l4, n);
	n = tcp(l4, 50002, 443, 0x18, 5, "hello", 5);
	ip6(item_new("tcp6 psh|ack hello"), &w, 6, l4, n);
	n = tcp(l4, 50003, 22, 0x01, 5, NULL, 0);
	ip6(item_new("tcp6 fin 50003->22"), &w, 6, l4, n);
	n = udp(l4, 50004, 53, dns, 8);
	ip6(item_new("udp6 50004->53"), &w, 17, l4, n);
	n = udp(l4, 50005, 443, quic, sizeof(quic));
	ip6(item_new("udp6 quic long header"), &w, 17, l4, n);
	n = icmp(l4, 128, 0, 0x00070001, "ping6", 5);
	ip6(item_new("icmp6 echo request"), &w, 58, l4, n);
	n = icmp(l4, 1, 4, 0, "\x60\0\0\0\0\x08\x11\x40", 8);
	ip6(item_new("icmp6 port unreachable"), &w, 58, l4, n);
	/* hop-by-hop (PadN) -> TCP */
	memset(ext, 0, 8);
	ext[0] = 6;
	ext[2] = 1;
	ext[3] = 4;
	n = 8 + tcp(ext + 8, 50008, 80, 0x02, 5, NULL, 0);
	ip6(item_new("tcp6 after hop-by-hop"), &w, 0, ext, n);
	/* hop-by-hop -> destination options -> UDP */
	memset(ext, 0, 16);
	ext[0] = 60;
	ext[2] = 1;
	ext[3] = 4;
	ext[8] = 17;
	ext[10] = 1;
	ext[11] = 4;
	n = 16 + udp(ext + 16, 50009, 53, dns, 8);
	ip6(item_new("udp6 after hop-by-hop, dst opts"), &w, 0, ext, n);
	/* routing header, no segments left -> UDP */
	memset(ext, 0, 8);
	ext[0] = 17;
	ext[2] = 0;
	n = 8 + udp(ext + 8, 50010, 9, dns, 4);
	ip6(item_new("udp6 after routing header"), &w, 43, ext, n);
	/* a UDP datagram in two fragments: each reaches the input hook */
	it = item_new("udp6 in two fragments");
	n = udp(l4, 50011, 53, big, 40);
	memset(ext, 0, 8);
	ext[0] = 17;
	put16(ext + 2, 0x0001);
	put32(ext + 4, 0x11110000u + nitems);
	memcpy(ext + 8, l4, 24);
	ip6(it, &w, 44, ext, 32);
	put16(ext + 2, 24);
	memcpy(ext + 8, l4 + 24, n - 24);
	ip6(it, &w, 44, ext, 8 + n - 24);
	/* an atomic fragment (offset 0, no more) of TCP */
	memset(ext, 0, 8);
	ext[0] = 6;
	put32(ext + 4, 0x22220000u + nitems);
	n = 8 + tcp(ext + 8, 50013, 80, 0x02, 5, NULL, 0);
	ip6(item_new("tcp6 atomic fragment"), &w, 44, ext, n);
	w.tclass = 0xb8;
	w.hop = 1;
	n = udp(l4, 50014, 4500, dns, 8);
	ip6(item_new("udp6 tclass 0xb8 hop limit 1"), &w, 17, l4, n);
	w.tclass = 0;
	w.hop = 255;
	n = tcp(l4, 50015, 8080, 0x10, 5, NULL, 0);
	ip6(item_new("tcp6 ack hop limit 255"), &w, 6, l4, n);
	w.hop = 0;
	ip6(item_new("ipv6 no next header"), &w, 59, NULL, 0);
	n = udp(l4, 50017, 9, big, 1200);
	ip6(item_new("udp6 1200 bytes"), &w, 17, l4, n);
	n = tcp(l4, 50018, 80, 0x18, 8, "GET /x", 6);
	ip6(item_new("tcp6 doff 8 get"), &w, 6, l4, n);
	w.src = a6x;
	n = tcp(l4, 80, 40000, 0x12, 5, NULL, 0);
	ip6(item_new("tcp6 syn|ack 80->40000 other source"), &w, 6, l4, n);
	n = icmp(l4, 8, 0, 0, "v4", 2);
	ip6(item_new("ipv6 carrying icmpv4 (bogus)"), &w, 1, l4, n);
	w.src = NULL;
}

/* The marker of a received packet, or -1 if it is not one of ours (the
 * destination tells replies with a look-alike Id or flow label apart). */
static int marker_of(const uint8_t *p, size_t len)
{
	if (len >= 20 && (p[0] >> 4) == 4) {
		unsigned id = (unsigned)(p[4] << 8 | p[5]);
		bool later = (p[6] & 0x1f) || p[7];

		if ((id & 0xf000) == MARK4 && id - MARK4 < MAX_ITEMS &&
		    !memcmp(p + 16, &b4, 4))
			return (int)(id - MARK4) + (later ? 0x800 : 0);
		return -1;
	}
	if (len >= 40 && (p[0] >> 4) == 6) {
		unsigned fl = (unsigned)((p[1] & 0x0f) << 16 | p[2] << 8 | p[3]);

		if ((fl & 0xf0000) == MARK6 && (fl & 0x7ff) < MAX_ITEMS &&
		    !memcmp(p + 24, b6, 16))
			return (int)(fl & 0x7ff) + (int)(fl & 0x800 ? 0x800 : 0);
	}
	return -1;
}

/* Slot of a marker: an item, or (IPv6 second fragments) item + 0x800. */
#define SLOTS (2 * 0x800)
static int slot_item(int m)
{
	return m & 0x7ff;
}

/* ------------------------------------------------------------ the peer -- */

static int open_peer(const char *ns, const char *ifname)
{
	char path[256];
	struct ifreq ifr;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), peer, s;
	struct sockaddr_ll sll;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	peer = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || peer < 0 || setns(peer, CLONE_NEWNET) < 0) {
		fprintf(stderr, "ipr_diff: cannot enter %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "ipr_diff: packet socket on %s in %s: %s\n",
			ifname, ns, strerror(errno));
		return -1;
	}
	memcpy(mac_a, ifr.ifr_hwaddr.sa_data, 6);
	pifidx = (int)if_nametoindex(ifname);
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "ipr_diff: cannot come back: %s\n",
			strerror(errno));
		return -1;
	}
	close(self);
	close(peer);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = pifidx;
	sll.sll_protocol = 0; /* send only */
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "ipr_diff: bind: %s\n", strerror(errno));
		return -1;
	}
	psock = s;
	return 0;
}

static int local_mac(const char *ifname, const char *out_if)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		fprintf(stderr, "ipr_diff: %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	close(s);
	memcpy(mac_b, ifr.ifr_hwaddr.sa_data, 6);
	snprintf(ifname_b, sizeof(ifname_b), "%s", out_if ? out_if : ifname);
	ifidx_b = if_nametoindex(ifname_b);
	return ifidx_b ? 0 : -1;
}

static void send_all(void)
{
	struct sockaddr_ll sll;

	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = pifidx;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, mac_b, 6);
	for (unsigned i = 0; i < nitems; i++)
		for (unsigned k = 0; k < items[i].nframes; k++)
			if (sendto(psock, items[i].frame[k], items[i].flen[k], 0,
				   (struct sockaddr *)&sll, sizeof(sll)) < 0)
				fprintf(stderr, "ipr_diff: send %s: %s\n",
					items[i].desc, strerror(errno));
}

/* ---------------------------------------------------------- receiving -- */

struct seen {
	bool got;
	uint8_t *data;
	uint32_t len;
	struct ipr_addr addr;
};

static uint8_t *rxbuf;
static struct ipr_packet pkts[BATCH];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read what @h has within @timeout_ms, record our packets in @seen (with
 * their bytes if @keep) and pass them all on.  Returns packets read or a
 * negative errno. */
static int take(ipr_handle *h, struct seen *seen, bool keep, int timeout_ms)
{
	int n = ipr_recv_batch(h, 0, rxbuf, (size_t)BATCH * IPR_BATCH_SLOT, pkts,
			       BATCH, timeout_ms);

	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++) {
		int m = marker_of(pkts[i].data, pkts[i].len);

		if (m < 0 || slot_item(m) >= (int)nitems)
			continue;
		if (seen[m].got)
			fprintf(stderr, "# marker %#x twice\n", m);
		seen[m].got = true;
		if (keep) {
			free(seen[m].data);
			seen[m].data = malloc(pkts[i].len);
			if (seen[m].data)
				memcpy(seen[m].data, pkts[i].data, pkts[i].len);
			seen[m].len = pkts[i].len;
			seen[m].addr = pkts[i].addr;
		}
	}
	if (ipr_send_batch(h, pkts, (unsigned)n) < 0)
		fprintf(stderr, "# send_batch: %s\n", strerror(errno));
	return n;
}

static struct seen ref[SLOTS];
static unsigned nref;

static void seen_clear(struct seen *s)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		free(s[i].data);
		memset(&s[i], 0, sizeof(s[i]));
	}
}

static bool all_seen(const struct seen *s)
{
	for (unsigned i = 0; i < SLOTS; i++)
		if (ref[i].got && !s[i].got)
			return false;
	return true;
}

/* ------------------------------------------------------------ filters -- */

static const char *const handwritten[] = {
	"true",
	"false",
	"tcp",
	"udp",
	"icmp or icmpv6",
	"ip",
	"ipv6",
	"tcp.DstPort == 80",
	"tcp.DstPort == 80 or tcp.DstPort == 443",
	"not tcp.DstPort == 80",
	"tcp.DstPort != 80",
	"udp.DstPort == 53 or udp.SrcPort == 53",
	"tcp.Syn and not tcp.Ack",
	"tcp.Fin or tcp.Rst",
	"tcp.Urg and tcp.UrgPtr == 3",
	"tcp.Psh == 1 and tcp.Payload32[0] == 0x47455420",
	"tcp.Payload[0] == 0x5a or tcp.Payload[0] == 0x70",
	"tcp.HdrLength > 5",
	"tcp.PayloadLength > 0",
	"tcp.PayloadLength >= 1000 or udp.PayloadLength >= 1000",
	"udp.Payload[0] >= 0xC0 and udp.Payload32[1b] == 0x01",
	"udp.Payload[0] & 0x40 == 0" /* an error: no & in the language */,
	"udp.Payload[-1] == 0x78",
	"packet[0] == 0x45",
	"packet[0] >= 0x46",
	"packet16[2b] > 1000",
	"packet32[-1] == 0x78787878",
	"packet[-1] == 0",
	"ip.HdrLength > 5",
	"ip.TOS == 0xb8 or ipv6.TrafficClass == 0xb8",
	"ip.TTL < 2 or ipv6.HopLimit < 2",
	"ip.TTL == 255 or ipv6.HopLimit == 255",
	"ip.DF",
	"not ip.DF",
	"ip.Protocol == 47 or ip.Protocol == 132",
	"protocol == 132 or protocol == 59",
	"fragment",
	"not fragment and udp",
	"ipv6.NextHdr == 0 or ipv6.NextHdr == 43 or ipv6.NextHdr == 44",
	"icmp.Type == 8 or icmpv6.Type == 128",
	"icmp.Type == 3 and icmp.Code == 3",
	"icmpv6.Type == 1 and icmpv6.Code == 4",
	"length > 500",
	"length < 60",
	"localPort == 80",
	"remotePort == 53 or localPort == 53",
	"localPort < 1024 and remotePort >= 1024",
	"localPort == 0",
	"remotePort == 8",
	"localAddr == %B4%",
	"localAddr == %A4% or localAddr == %A6%",
	"remoteAddr == %A4X% or remoteAddr == %A6X%",
	"remoteAddr > %A6%",
	"localAddr < ::ffff:0.0.0.0",
	"ip.SrcAddr == %A4X% or ipv6.DstAddr == %B6%",
	"ifName == \"%IFNAME%\"",
	"ifName == \"v*\" and tcp",
	"not ifName == \"lo\"",
	"ifIdx == %IFIDX%",
	"ip.MF or ip.FragOff > 0",
	"udp.SrcPort == 40025 or tcp.SrcPort == 40026",
	"mark == 0 and udp",
	"random8 < 128",
	"random16 >= 30000 and tcp",
	"timestamp > 0 and icmp",
	"zero == 0 and subIfIdx == 0 and not impostor and not loopback",
	"layer == NETWORK and udp",
	"(tcp ? tcp.DstPort == 80 : udp.DstPort == 53)",
	"(ipv6 ? ipv6.HopLimit == 64 : ip.TTL == 64) and not tcp",
	"(tcp.Payload[0] == 0x47 ? true : udp)",
	"not (tcp or udp or icmp)",
	"outbound",
	/* lists: set lookups in the kernel */
	"tcp.DstPort == 80 or tcp.DstPort == 443 or tcp.DstPort == 22 or "
	"tcp.DstPort == 8080",
	"tcp.DstPort != 80 and tcp.DstPort != 443 and tcp.DstPort != 22",
	"not (udp.DstPort == 53 or udp.DstPort == 123 or udp.DstPort == 5353)",
	"ip.TTL == 1 or ip.TTL == 64 or ip.TTL == 128 or ipv6.HopLimit == 64",
	"remoteAddr == %A4% or remoteAddr == %A6% or remoteAddr == 198.18.99.1 "
	"or remoteAddr == fd00::99",
	"localPort == 80 or localPort == 53 or localPort == 443 or "
	"localPort == 40000",
	"protocol == 6 or protocol == 17 or protocol == 58 or protocol == 132",
	"tcp.Payload[0] == 0x47 or tcp.Payload[0] == 0x5a or "
	"tcp.Payload[0] == 0x70",
	"ip.Id != 0xa000 and ip.Id != 0xa008 and ip.Id != 0xa010",
	"icmp.Type == 8 or icmp.Type == 0 or icmp.Type == 13 or "
	"icmpv6.Type == 128",
	"ifIdx == %IFIDX% or ifIdx == 999 or ifIdx == 1000",
	"length == 40 or length == 60 or length == 100 or length == 1428",
	/* ranges: interval sets (mark, length and ifIdx in host order) */
	"(tcp.DstPort >= 1 and tcp.DstPort <= 100) or tcp.DstPort == 443 or "
	"tcp.DstPort > 50000",
	"mark < 5 or mark == 9 or mark > 100",
	"mark == 9 or mark == 7 or mark > 100 or (length >= 100 and "
	"length <= 200)",
	"ip.TTL < 2 or ip.TTL == 64 or ip.TTL > 200 or ipv6.HopLimit < 2",
	"length < 60 or length > 1000 or length == 100",
	"ifIdx < 2 or ifIdx == %IFIDX% or ifIdx > 999",
	"(udp.SrcPort >= 40000 and udp.SrcPort <= 40010) or udp.SrcPort < 10 "
	"or udp.SrcPort == 5353",
	/* no transport header in a later fragment, as in WinDivert */
	"udp and fragment",
	"not udp and fragment",
	"not tcp and ipv6",
	"(icmp or icmpv6 or udp) and ip.Protocol != 6",
};

/* The filter with its placeholders filled in. */
static void expand(const char *in, char *out, size_t n)
{
	char a[8][IPR_ADDRSTRLEN];
	const char *key[8] = { "%B4%", "%B6%", "%A4X%", "%A6X%", "%A4%",
			       "%A6%", "%IFNAME%", "%IFIDX%" };
	size_t o = 0;

	inet_ntop(AF_INET, &b4, a[0], sizeof(a[0]));
	inet_ntop(AF_INET6, b6, a[1], sizeof(a[1]));
	inet_ntop(AF_INET, &a4x, a[2], sizeof(a[2]));
	inet_ntop(AF_INET6, a6x, a[3], sizeof(a[3]));
	inet_ntop(AF_INET, &a4, a[4], sizeof(a[4]));
	inet_ntop(AF_INET6, a6, a[5], sizeof(a[5]));
	snprintf(a[6], sizeof(a[6]), "%s", ifname_b);
	snprintf(a[7], sizeof(a[7]), "%u", ifidx_b);
	while (*in && o + 1 < n) {
		int k;

		for (k = 0; k < 8; k++)
			if (!strncmp(in, key[k], strlen(key[k])))
				break;
		if (k < 8) {
			o += (size_t)snprintf(out + o, n - o, "%s", a[k]);
			in += strlen(key[k]);
		} else {
			out[o++] = *in++;
		}
	}
	out[o < n ? o : n - 1] = '\0';
}

static uint64_t rs = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs % n);
}

static const char *const gen_ops[] = { "==", "!=", "<", "<=", ">", ">=" };

static void gen_leaf(char *b, size_t n)
{
	static const char *const bools[] = {
		"tcp", "udp", "icmp", "icmpv6", "ip", "ipv6", "fragment",
		"tcp.Syn", "tcp.Ack", "tcp.Fin", "tcp.Psh", "tcp.Rst", "tcp.Urg",
		"ip.DF", "ip.MF", "loopback", "impostor",
	};
	static const struct {
		const char *name;
		const char *v[6];
	} nums[] = {
		{ "tcp.DstPort", { "80", "443", "22", "8080", "5000", "5001" } },
		{ "tcp.SrcPort", { "40001", "50002", "80", "1025", "443", "0" } },
		{ "udp.DstPort", { "53", "443", "9", "4500", "5353", "33333" } },
		{ "udp.SrcPort", { "53", "5353", "7", "50005", "40013", "1234" } },
		{ "localPort", { "80", "53", "443", "0", "9", "40000" } },
		{ "remotePort", { "40001", "53", "8", "128", "0", "443" } },
		{ "tcp.HdrLength", { "4", "5", "6", "8", "15", "7" } },
		{ "tcp.Window", { "64240", "1024", "0", "65535", "1000", "64241" } },
		{ "ip.TTL", { "1", "64", "255", "63", "2", "128" } },
		{ "ip.TOS", { "0", "0xb8", "3", "1", "0xb9", "255" } },
		{ "ip.HdrLength", { "5", "6", "7", "4", "15", "8" } },
		{ "ip.Id", { "0xa000", "0xa008", "0xa010", "0xa01f", "0", "0xffff" } },
		{ "ipv6.HopLimit", { "1", "64", "255", "63", "2", "0" } },
		{ "ipv6.TrafficClass", { "0", "0xb8", "1", "0xb7", "255", "64" } },
		{ "ipv6.NextHdr", { "0", "6", "17", "43", "44", "59" } },
		{ "ipv6.FlowLabel", { "0xa0020", "0xa0028", "0xa0830", "0", "0xa002a", "0xfffff" } },
		{ "length", { "40", "60", "100", "500", "1000", "1428" } },
		{ "protocol", { "6", "17", "1", "58", "47", "132" } },
		{ "icmp.Type", { "8", "13", "3", "0", "9", "255" } },
		{ "icmpv6.Type", { "128", "1", "129", "0", "2", "255" } },
		{ "tcp.PayloadLength", { "0", "3", "5", "1000", "27", "1" } },
		{ "udp.PayloadLength", { "0", "12", "17", "1400", "40", "8" } },
		{ "random8", { "0", "64", "128", "200", "255", "100" } },
		{ "tcp.Payload[0]", { "0x47", "0x5a", "0x70", "0x61", "0x68", "0" } },
		{ "udp.Payload[0]", { "0xc0", "0x40", "0x12", "0x78", "0", "0xff" } },
		{ "udp.Payload32[1b]", { "1", "0", "0x01080102", "2", "0x34010000", "0xffffffff" } },
		{ "tcp.Payload16[-1]", { "0x0d0a", "0x7878", "0x6f", "0", "0x2f78", "1" } },
		{ "packet[9]", { "6", "17", "1", "47", "132", "58" } },
		{ "packet16[2b]", { "40", "44", "60", "1028", "1440", "28" } },
		{ "packet[-1]", { "0", "0x78", "0x0a", "0x67", "0x34", "1" } },
		{ "localAddr", { "%B4%", "%B6%", "::ffff:%B4%", "::", "%A4%", "%A6%" } },
		{ "remoteAddr", { "%A4%", "%A4X%", "%A6%", "%A6X%", "%B6%", "::ffff:0.0.0.0" } },
		{ "ip.FragOff", { "0", "3", "4", "1", "2", "5" } },
	};
	unsigned k;
	size_t w;

	switch (rnd(5)) {
	case 0:
		snprintf(b, n, "%s%s", rnd(3) ? "" : "not ",
			 bools[rnd(sizeof(bools) / sizeof(bools[0]))]);
		break;
	case 1:
		/* a list on one field: a set lookup in the kernel */
		k = rnd(sizeof(nums) / sizeof(nums[0]));
		bool neq = rnd(2);
		w = (size_t)snprintf(b, n, "(");
		for (unsigned i = 0, m = 3 + rnd(3); i < m && w < n; i++)
			w += (size_t)snprintf(b + w, n - w, "%s%s %s %s",
					      i ? (neq ? " and " : " or ") : "",
					      nums[k].name, neq ? "!=" : "==",
					      nums[k].v[rnd(6)]);
		if (w < n)
			snprintf(b + w, n - w, ")");
		break;
	default:
		k = rnd(sizeof(nums) / sizeof(nums[0]));
		snprintf(b, n, "%s %s %s", nums[k].name, gen_ops[rnd(6)],
			 nums[k].v[rnd(6)]);
		break;
	}
}

static void gen(char *b, size_t n, int depth)
{
	char l[512], r[512];

	if (depth >= 3 || !rnd(3)) {
		gen_leaf(b, n);
		return;
	}
	gen(l, sizeof(l), depth + 1);
	gen(r, sizeof(r), depth + 1);
	switch (rnd(5)) {
	case 0:
		snprintf(b, n, "not (%s)", l);
		break;
	case 1:
	case 2:
		snprintf(b, n, "(%s) and (%s)", l, r);
		break;
	default:
		snprintf(b, n, "(%s) or (%s)", l, r);
		break;
	}
}

/* --------------------------------------------------------------- main -- */

static struct seen delivered[SLOTS], received[SLOTS];

/* Open "inbound and (F)", send every item, read both handles until the
 * reference set has come by, compare.  Returns 0 pass, 1 fail, 2 skip. */
static int run_filter(const char *name, const char *raw, ipr_handle *ht,
		      bool expect_error)
{
	enum ipr_layer layer = forward ? IPR_LAYER_NETWORK_FORWARD
				       : IPR_LAYER_NETWORK;
	char wrapped[2100], text[2048];
	struct ipr_filter_error e;
	ipr_filter *f;
	ipr_handle *hf;
	uint64_t deadline;
	unsigned ndel = 0, nmis = 0, nrec = 0;
	char why[1024];
	size_t wl = 0;

	expand(raw, text, sizeof(text));
	f = ipr_filter_compile(text, layer, &e);
	if (!f) {
		if (expect_error) {
			check_pass(name, "'%s' refused: %s at %d", text, e.msg,
				   e.pos);
			return 0;
		}
		check_fail(name, "'%s' does not compile: %s at %d", text, e.msg,
			   e.pos);
		return 1;
	}
	snprintf(wrapped, sizeof(wrapped), "%s and (%s)",
		 forward ? "outbound" : "inbound", text);
	hf = ipr_open(wrapped, layer, PRIO_F, 0);
	if (!hf) {
		check_fail(name, "'%s': ipr_open: %s", text, strerror(errno));
		ipr_filter_free(f);
		return 1;
	}
	seen_clear(delivered);
	seen_clear(received);
	send_all();
	deadline = now_ms() + 3000;
	while (now_ms() < deadline) {
		/* the filter's handle first: what it passes on goes on to the
		 * reference handle */
		while (take(hf, delivered, false, 0) > 0)
			;
		take(ht, received, true, 5);
		if (all_seen(received))
			break;
	}
	/* anything late on the filter's handle */
	while (take(hf, delivered, false, 20) > 0)
		;
	ipr_close(hf);

	why[0] = '\0';
	for (unsigned m = 0; m < SLOTS; m++) {
		int ev;

		if (delivered[m].got)
			ndel++;
		if (!received[m].got) {
			if (ref[m].got || delivered[m].got) {
				nmis++;
				wl += (size_t)snprintf(why + wl, wl < sizeof(why) ?
					sizeof(why) - wl : 0, "; '%s' (%#x) %s",
					items[slot_item((int)m)].desc, m,
					delivered[m].got ? "delivered but not "
					"seen after" : "not received");
			}
			continue;
		}
		nrec++;
		ev = ipr_filter_eval(f, received[m].data, received[m].len,
				     &received[m].addr);
		if (ev != (int)delivered[m].got) {
			nmis++;
			if (wl < sizeof(why))
				wl += (size_t)snprintf(why + wl, sizeof(why) - wl,
					"; '%s' (%#x): eval %d, delivered %d",
					items[slot_item((int)m)].desc, m, ev,
					delivered[m].got);
		}
	}
	ipr_filter_free(f);
	if (expect_error) {
		check_fail(name, "'%s' compiled, but should not", text);
		return 1;
	}
	if (nmis) {
		check_fail(name, "'%s': %u mismatches%s", text, nmis, why);
		return 1;
	}
	check_pass(name, "'%s': %u of %u delivered", text, ndel, nrec);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer-ns", required_argument, NULL, 'n' },
		{ "peer-if", required_argument, NULL, 'p' },
		{ "if", required_argument, NULL, 'i' },
		{ "a4", required_argument, NULL, '4' },
		{ "b4", required_argument, NULL, 'B' },
		{ "a6", required_argument, NULL, '6' },
		{ "b6", required_argument, NULL, 'C' },
		{ "generated", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "forward", no_argument, NULL, 'f' },
		{ "out-if", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'O' },
		{ "prefix", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *peer_ns = NULL, *peer_if = "v0", *lif = "v0", *out_if = NULL;
	const char *only = NULL, *prefix_opt = NULL;
	const char *s4a = "198.18.1.1", *s4b = "198.18.1.2";
	const char *s6a = "fd00:1::1", *s6b = "fd00:1::2";
	unsigned ngen = 60, fails = 0, runs = 0;
	ipr_handle *ht;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': peer_ns = optarg; break;
		case 'p': peer_if = optarg; break;
		case 'i': lif = optarg; break;
		case '4': s4a = optarg; break;
		case 'B': s4b = optarg; break;
		case '6': s6a = optarg; break;
		case 'C': s6b = optarg; break;
		case 'g': ngen = (unsigned)atoi(optarg); break;
		case 's': rs = strtoull(optarg, NULL, 0) | 1; break;
		case 'f': forward = true; prefix = "filter_diff_fwd"; break;
		case 'o': out_if = optarg; break;
		case 'O': only = optarg; break;
		case 'P': prefix_opt = optarg; break;
		default:
			fprintf(stderr, "usage: ipr_diff --peer-ns NS [options]\n");
			return 2;
		}
	}
	if (prefix_opt)
		prefix = prefix_opt;
	if (!peer_ns || inet_pton(AF_INET, s4a, &a4) != 1 ||
	    inet_pton(AF_INET, s4b, &b4) != 1 ||
	    inet_pton(AF_INET6, s6a, a6) != 1 ||
	    inet_pton(AF_INET6, s6b, b6) != 1) {
		fprintf(stderr, "usage: ipr_diff --peer-ns NS [options]\n");
		return 2;
	}
	/* the other source: the address after A's */
	a4x = htonl(ntohl(a4) + 2);
	memcpy(a6x, a6, 16);
	a6x[15] += 2;
	if (local_mac(lif, forward ? out_if : NULL) < 0 ||
	    open_peer(peer_ns, peer_if) < 0)
		return 1;
	rxbuf = malloc((size_t)BATCH * IPR_BATCH_SLOT);
	if (!rxbuf)
		return 1;
	build_items();

	ht = forward ? ipr_open("true", IPR_LAYER_NETWORK_FORWARD, PRIO_T, 0)
		     : ipr_open("inbound", IPR_LAYER_NETWORK, PRIO_T, 0);
	if (!ht) {
		int e = errno;
		char nm[64];

		snprintf(nm, sizeof(nm), "%s.%s", prefix,
			 e == EOPNOTSUPP ? "all" : "open");
		if (e == EOPNOTSUPP)
			check_skip(nm, "ipr_open: not supported by this kernel");
		else
			check_fail(nm, "ipr_open: %s", strerror(e));
		return e == EOPNOTSUPP ? 0 : 1;
	}
	/* The reference: what arrives at the input hook at all. */
	{
		uint64_t deadline = now_ms() + 1500, quiet = 0;
		unsigned before = 0;

		send_all();
		while (now_ms() < deadline) {
			take(ht, ref, true, 20);
			nref = 0;
			for (unsigned m = 0; m < SLOTS; m++)
				nref += ref[m].got;
			if (nref != before) {
				before = nref;
				quiet = now_ms();
			} else if (quiet && now_ms() - quiet > 300) {
				break;
			}
		}
		unsigned lost = 0, gone = 0;
		char nm[64];

		/* forwarding drops what has no hop left */
		for (unsigned i = 0; i < nitems; i++) {
			if (ref[i].got)
				continue;
			if (forward && strstr(items[i].desc, "ttl 1")) {
				gone++;
				continue;
			}
			if (forward && strstr(items[i].desc, "hop limit 1")) {
				gone++;
				continue;
			}
			lost++;
			fprintf(stderr, "#   missing: %s\n", items[i].desc);
		}
		snprintf(nm, sizeof(nm), "%s.reference", prefix);
		if (lost) {
			check_fail(nm, "%u of %u items did not arrive", lost,
				   nitems);
			fails++;
		} else {
			check_pass(nm, "%u packets of %u items arrive at the %s "
				   "hook (%u not forwarded: no hop left)", nref,
				   nitems, forward ? "forward" : "input", gone);
		}
	}

	for (size_t i = 0; i < sizeof(handwritten) / sizeof(handwritten[0]); i++) {
		char name[64];
		const char *t = handwritten[i];

		if (only && !strstr(t, only))
			continue;
		snprintf(name, sizeof(name), "%s.hand%02zu", prefix, i);
		fails += (unsigned)run_filter(name, t, ht,
					      strstr(t, "&") != NULL);
		runs++;
	}
	for (unsigned i = 0; i < ngen; i++) {
		char name[64], text[2048];

		gen(text, sizeof(text), 0);
		if (only && !strstr(text, only))
			continue;
		snprintf(name, sizeof(name), "%s.gen%02u", prefix, i);
		fails += (unsigned)run_filter(name, text, ht, false);
		runs++;
	}
	ipr_close(ht);
	printf("# %u filters, %u failed\n", runs, fails);
	return fails ? 1 : 0;
}
