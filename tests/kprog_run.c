/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kprog_run.c - the kernel program of a filter, run the way nftables would
 * run it, against ipr_filter_eval on a set of built packets: the rule
 * interpreter that tests/unit/test_filter.c and fuzz/fuzz_filter.c share
 * (kprog_run.h). */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipredir.h"
#include "filter.h"
#include "kprog_run.h"
/* ---------------------------------------------------------------------- */
/* Packets                                                                */
/* ---------------------------------------------------------------------- */

struct pkt pk[NPKTS];

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

static size_t tcp_hdr(uint8_t *p, unsigned sport, unsigned dport)
{
	memset(p, 0, 20);
	put16(p, sport);
	put16(p + 2, dport);
	p[12] = 5 << 4;
	p[13] = 0x02;
	return 20;
}

static size_t udp_hdr(uint8_t *p, unsigned sport, unsigned dport)
{
	memset(p, 0, 8);
	put16(p, sport);
	put16(p + 2, dport);
	put16(p + 4, 8);
	return 8;
}

static size_t icmp_hdr(uint8_t *p, unsigned type)
{
	memset(p, 0, 8);
	p[0] = (uint8_t)type;
	return 8;
}

/* IPv4 header with @optwords words of NOP options; the l4 bytes follow. */
static void ip4(enum pkt_id id, const char *name, uint8_t proto,
		uint32_t src, uint32_t dst, unsigned optwords, unsigned frag,
		const uint8_t *l4, size_t l4len)
{
	struct pkt *k = &pk[id];
	size_t hl = 20 + 4 * optwords;

	k->name = name;
	memset(k->d, 0, sizeof(k->d));
	k->d[0] = (uint8_t)(0x40 | (hl / 4));
	put16(k->d + 2, (unsigned)(hl + l4len));
	put16(k->d + 6, frag);
	k->d[8] = 64;
	k->d[9] = proto;
	put32(k->d + 12, src);
	put32(k->d + 16, dst);
	memset(k->d + 20, 1, hl - 20);
	memcpy(k->d + hl, l4, l4len);
	k->len = hl + l4len;
}

/* IPv6 header; @rest is the extension headers and transport, @nh the first
 * next-header value. */
static void ip6(enum pkt_id id, const char *name, uint8_t nh,
		const char *src, const char *dst, const uint8_t *rest,
		size_t restlen)
{
	struct pkt *k = &pk[id];

	k->name = name;
	memset(k->d, 0, sizeof(k->d));
	k->d[0] = 0x60;
	put16(k->d + 4, (unsigned)restlen);
	k->d[6] = nh;
	k->d[7] = 64;
	if (ipr_ipv6_parse(src, k->d + 8) || ipr_ipv6_parse(dst, k->d + 24)) {
		fprintf(stderr, "bad test address\n");
		exit(2);
	}
	memcpy(k->d + 40, rest, restlen);
	k->len = 40 + restlen;
}

/* Packets with every header field set to something a test can tell:
 * addresses, TOS/TTL/Id/flags, traffic class and flow label, TCP flags,
 * options and payloads, ICMP bodies, IPv6 routing and fragment headers,
 * TCP data offsets the kernel and user space could read differently. */
static void build_more_packets(void)
{
	uint8_t l4[96];
	size_t n;
	struct pkt *k;

	/* TCP 10.0.0.1:40000 -> 10.0.0.2:443, PSH|ACK, 12 bytes of options
	 * and "GET / HTTP/1.1\r\n"; TOS 0x10, Id 0x1234, DF, TTL 64 */
	memset(l4, 0, sizeof(l4));
	tcp_hdr(l4, 40000, 443);
	put32(l4 + 4, 0x01020304);
	put32(l4 + 8, 0x0a0b0c0d);
	l4[12] = 8 << 4;
	l4[13] = 0x18;
	put16(l4 + 14, 0xffff);
	put16(l4 + 16, 0xbeef);
	memcpy(l4 + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
	memcpy(l4 + 32, "GET / HTTP/1.1\r\n", 16);
	ip4(TP4, "tcp4-payload", 6, 0x0a000001, 0x0a000002, 0, 0x4000, l4, 48);
	k = &pk[TP4];
	k->d[1] = 0x10;
	put16(k->d + 4, 0x1234);
	put16(k->d + 10, 0xabcd);

	/* UDP 192.168.1.5:5353 -> 8.8.8.8:443, a QUIC long header:
	 * first byte 0xc0, version 1 at bytes 1..4 */
	n = udp_hdr(l4, 5353, 443);
	memcpy(l4 + 8, "\xc0\x00\x00\x00\x01\x08\x11\x22\x33\x44\x55\x66", 12);
	put16(l4 + 4, (unsigned)(n + 12));
	put16(l4 + 6, 0x1111);
	ip4(UQ4, "udp4-quic", 17, 0xc0a80105, 0x08080808, 0, 0, l4, n + 12);
	pk[UQ4].d[8] = 1;   /* TTL 1 */
	put16(pk[UQ4].d + 4, 0xffff);

	/* UDP over IPv6, traffic class 0xb8, flow label 0x12345, hop limit
	 * 255, 8 bytes of payload */
	n = udp_hdr(l4, 1234, 4321);
	memcpy(l4 + 8, "\xde\xad\xbe\xef\x00\x11\x22\x33", 8);
	put16(l4 + 4, 16);
	ip6(UP6, "udp6-payload", 17, "2001:db8::1", "2001:db8::2", l4, 16);
	k = &pk[UP6];
	k->d[0] = 0x6b;
	k->d[1] = 0x81;
	k->d[2] = 0x23;
	k->d[3] = 0x45;
	k->d[7] = 255;

	/* TCP over IPv6: FIN|ACK|URG, urgent pointer 7, 3 bytes of data */
	memset(l4, 0, sizeof(l4));
	tcp_hdr(l4, 8080, 1025);
	l4[13] = 0x31;
	put16(l4 + 18, 7);
	put16(l4 + 14, 512);
	memcpy(l4 + 20, "abc", 3);
	ip6(TF6, "tcp6-fin", 6, "fd00::1", "fd00::2", l4, 23);

	/* ICMP echo request, id 1 seq 2, 4 bytes of data */
	n = icmp_hdr(l4, 8);
	put16(l4 + 2, 0xf7fc);
	put32(l4 + 4, 0x00010002);
	memcpy(l4 + 8, "ping", 4);
	ip4(IE4, "icmp4-echo", 1, 0x0a000002, 0x0a000001, 0, 0, l4, n + 4);
	/* ICMP port unreachable, type 3 code 3 */
	n = icmp_hdr(l4, 3);
	l4[1] = 3;
	ip4(IU4, "icmp4-unreach", 1, 0x0a000002, 0x0a000001, 0, 0, l4, n);
	/* ICMPv6 echo reply 129, body 0x12345678 */
	n = icmp_hdr(l4, 129);
	put32(l4 + 4, 0x12345678);
	ip6(IE6, "icmp6-reply", 58, "2001:db8::2", "2001:db8::1", l4, n);

	/* IPv6 routing header (type 0, no segments left) then UDP */
	memset(l4, 0, sizeof(l4));
	l4[0] = 17;
	l4[1] = 0;
	n = 8 + udp_hdr(l4 + 8, 7, 9);
	ip6(RT6, "udp6-routing", 43, "2001:db8::1", "2001:db8::2", l4, n);

	/* TCP with a data offset of 4 words, 4 bytes of "payload" after 20 */
	memset(l4, 0, sizeof(l4));
	tcp_hdr(l4, 1, 80);
	l4[12] = 4 << 4;
	memcpy(l4 + 20, "\x41\x42\x43\x44", 4);
	ip4(DOFF4, "tcp4-doff4", 6, 0x0a000001, 0x0a000002, 0, 0, l4, 24);
	/* TCP whose data offset (15 words) runs past the packet */
	tcp_hdr(l4, 2, 80);
	l4[12] = 15 << 4;
	memcpy(l4 + 20, "\x41\x42\x43\x44", 4);
	ip4(DCUT4, "tcp4-doff-past-end", 6, 0x0a000001, 0x0a000002, 0, 0,
	    l4, 24);

	/* IPv6 first fragment of a UDP datagram: frag header, UDP, data */
	memset(l4, 0, sizeof(l4));
	l4[0] = 17;
	put16(l4 + 2, 0x0001);
	put32(l4 + 4, 0xcafe);
	n = 8 + udp_hdr(l4 + 8, 53, 5353);
	memcpy(l4 + n, "\x01\x02\x03\x04", 4);
	ip6(UF6, "udp6-frag-first", 44, "2001:db8::3", "2001:db8::4", l4,
	    n + 4);
}

void build_packets(void)
{
	uint8_t l4[64];
	size_t n;

	n = tcp_hdr(l4, 1234, 80);
	ip4(T4, "tcp4", 6, 0x0a000001, 0x0a000002, 0, 0x4000, l4, n);
	n = udp_hdr(l4, 5353, 53);
	ip4(U4, "udp4", 17, 0xc0a80105, 0x08080808, 0, 0, l4, n);
	n = icmp_hdr(l4, 8);
	ip4(I4, "icmp4", 1, 0x0a000001, 0x0a000002, 0, 0, l4, n);
	n = tcp_hdr(l4, 443, 51000);
	ip6(T6, "tcp6", 6, "2001:db8::1", "2001:db8::2", l4, n);
	n = udp_hdr(l4, 546, 547);
	ip6(U6, "udp6", 17, "fe80::1", "ff02::1:2", l4, n);
	n = icmp_hdr(l4, 128);
	ip6(I6, "icmp6", 58, "2001:db8::1", "2001:db8::2", l4, n);
	n = tcp_hdr(l4, 40000, 22);
	ip4(T4OPT, "tcp4-options", 6, 0xac100001, 0xac100002, 2, 0, l4, n);

	/* hop-by-hop (8 bytes) -> destination options (16) -> TCP */
	memset(l4, 0, sizeof(l4));
	l4[0] = 60;
	l4[1] = 0;
	l4[8] = 6;
	l4[9] = 1;
	n = 24 + tcp_hdr(l4 + 24, 1000, 8080);
	ip6(T6EXT, "tcp6-ext", 0, "2001:db8::10", "2001:db8::20", l4, n);

	n = udp_hdr(l4, 53, 33000);
	ip4(F4A, "udp4-frag-first", 17, 0x0a010101, 0x0a010102, 0, 0x2000,
	    l4, n + 8);
	/* a later fragment whose data looks like ports 53 -> 33000 */
	memcpy(l4, "\x00\x35\x80\xe8\x00\x08\x00\x00", 8);
	ip4(F4B, "udp4-frag-later", 17, 0x0a010101, 0x0a010102, 0, 0x0001,
	    l4, 8);

	memset(l4, 0, sizeof(l4));
	l4[0] = 6;
	put16(l4 + 2, 0x0001); /* offset 0, more fragments */
	n = 8 + tcp_hdr(l4 + 8, 5555, 80);
	ip6(F6A, "tcp6-frag-first", 44, "2001:db8::a", "2001:db8::b", l4, n);
	memset(l4, 0, sizeof(l4));
	l4[0] = 6;
	put16(l4 + 2, 1480);
	memcpy(l4 + 8, "\x00\x50\x00\x50\x00\x00\x00\x00", 8);
	ip6(F6B, "tcp6-frag-later", 44, "2001:db8::a", "2001:db8::b", l4, 16);

	/* TCP cut after 3 bytes: the source port is there, not the rest */
	memcpy(l4, "\x04\xd2\x00", 3);
	ip4(TT4, "tcp4-short", 6, 0x0a000001, 0x0a000002, 0, 0, l4, 3);

	pk[SHORT].name = "short";
	memcpy(pk[SHORT].d, "\x45\x00\x00\x0a\x00\x00\x00\x00\x40\x06", 10);
	pk[SHORT].len = 10;
	n = tcp_hdr(l4, 1234, 80);
	ip4(BADV, "version5", 6, 0x0a000001, 0x0a000002, 0, 0, l4, n);
	pk[BADV].d[0] = 0x55;
	ip6(NONE6, "ipv6-nonext", 59, "2001:db8::1", "2001:db8::2", l4, 0);
	n = icmp_hdr(l4, 8);
	ip6(ICMP6V4, "ipv6-icmpv4", 1, "2001:db8::1", "2001:db8::2", l4, n);
	n = udp_hdr(l4, 0, 65535);
	ip4(U4MAX, "udp4-extremes", 17, 0xffffffff, 0, 0, 0, l4, n);
	n = tcp_hdr(l4, 1, 2);
	ip6(T6MAP, "tcp6-mapped", 6, "::ffff:10.0.0.1", "::1", l4, n);
	/* a 40-byte TCP packet of which only 24 bytes were copied */
	n = tcp_hdr(l4, 1234, 80);
	ip4(CAP4, "tcp4-captured", 6, 0x0a000001, 0x0a000002, 0, 0, l4, n);
	pk[CAP4].len = 24;
	build_more_packets();
}

/* ---------------------------------------------------------------------- */
/* The kernel program, run the way nftables would                         */
/* ---------------------------------------------------------------------- */

struct ipr_addr mkaddr(enum dir d, uint32_t ifidx)
{
	struct ipr_addr a;

	memset(&a, 0, sizeof(a));
	a.if_idx = ifidx;
	switch (d) {
	case IN:
		a.layer = IPR_LAYER_NETWORK;
		a.in_if_idx = ifidx;
		break;
	case OUT:
		a.layer = IPR_LAYER_NETWORK;
		a.flags = IPR_ADDR_OUTBOUND;
		a.out_if_idx = ifidx;
		break;
	case FWD:
		/* no OUTBOUND flag: the layer alone must make it outbound */
		a.layer = IPR_LAYER_NETWORK_FORWARD;
		a.in_if_idx = ifidx + 1000;
		a.out_if_idx = ifidx;
		break;
	}
	return a;
}

struct kctx {
	const struct ipr_kprog *p;
	enum ipr_hook hook;
	const uint8_t *pkt;
	size_t len;
	const struct ipr_addr *a;
	const struct ipr_filter_env *env;
	bool ip;
	struct ipr_headers h;
	const char *bad; /* the program is malformed */
};

/* A payload load at base + off of len bytes, within what the kernel has
 * (the packet as long as its IP header says). */
static bool kpayload(struct kctx *c, uint32_t base, const struct ipr_ktest *t,
		     uint8_t *v)
{
	uint32_t off = base + t->offset;

	if (off + t->len > c->h.total_len)
		return false;
	memcpy(v, c->pkt + off, t->len);
	return true;
}

/* nft's inner header: behind the TCP header (whatever its data offset
 * says, once the 20 fixed bytes are readable) or the UDP one. */
static bool kinner(struct kctx *c, uint32_t *off)
{
	uint32_t th = c->h.l4_off;

	if (!c->ip || (c->h.fragment && c->h.frag_off != 0))
		return false;
	if (c->h.protocol == 6) {
		if (th + 20 > c->h.total_len)
			return false;
		*off = th + (uint32_t)(c->pkt[th + 12] >> 4) * 4;
		return true;
	}
	if (c->h.protocol == 17) {
		*off = th + 8;
		return true;
	}
	return false;
}

/* The interface name the kernel sees: what the case says, else the
 * name of that index here (which is what ipr_filter_eval looks up). */
static bool kname(struct kctx *c, uint32_t idx, uint8_t *v)
{
	char n[IF_NAMESIZE];

	memset(v, 0, 16);
	if (c->env && c->env->if_name) {
		strncpy((char *)v, c->env->if_name, 15);
		return true;
	}
	if (!idx || !if_indextoname(idx, n))
		return false;
	memcpy(v, n, strnlen(n, 15));
	return true;
}

/* Load what a test compares; false where the kernel's load would break
 * the rule (no such header, a later fragment, past the end). */
static bool kload(struct kctx *c, const struct ipr_ktest *t, uint8_t *v)
{
	uint32_t off = t->offset;

	switch (t->kind) {
	case IPR_KT_NFPROTO:
		if (!c->ip || t->len != 1)
			return false;
		v[0] = c->h.ip ? 2 : 10;
		return true;
	case IPR_KT_L4PROTO:
		if (!c->ip || t->len != 1)
			return false;
		v[0] = c->h.protocol;
		return true;
	case IPR_KT_IIF:
	case IPR_KT_OIF:
		if (t->len != 4)
			return false;
		if (t->kind == IPR_KT_IIF ? c->hook == IPR_HOOK_OUT
					  : c->hook == IPR_HOOK_IN)
			return false; /* no such device at that hook */
		put32(v, t->kind == IPR_KT_IIF ? c->a->in_if_idx
					       : c->a->out_if_idx);
		return true;
	case IPR_KT_NET:
		if (!c->ip || off + t->len > c->h.total_len)
			return false;
		memcpy(v, c->pkt + off, t->len);
		return true;
	case IPR_KT_TRANSPORT:
		/* nft's fast path (1, 2 or 4 aligned bytes) reads later
		 * fragments as if they had a header: never emit one */
		if ((t->len == 1 || t->len == 2 || t->len == 4) &&
		    t->offset % t->len == 0) {
			c->bad = "transport load on nft's fast path";
			return false;
		}
		if (!c->ip || (c->h.fragment && c->h.frag_off != 0))
			return false;
		off += c->h.l4_off;
		if (off + t->len > c->h.total_len)
			return false;
		memcpy(v, c->pkt + off, t->len);
		return true;
	case IPR_KT_INNER:
		return kinner(c, &off) && kpayload(c, off, t, v);
	case IPR_KT_MARK:
		put32(v, c->a->mark);
		return t->len == 4;
	case IPR_KT_LEN:
		/* skb->len: what ipr_filter_eval takes as the length */
		put32(v, (c->a->flags & IPR_ADDR_TRUNCATED) &&
		      c->a->orig_len > c->len ? c->a->orig_len
					      : (uint32_t)c->len);
		return t->len == 4;
	case IPR_KT_SKUID:
	case IPR_KT_SKGID:
		/* a socket only for what this host sends */
		if (c->hook != IPR_HOOK_OUT || t->len != 4 ||
		    !(c->a->flags & (t->kind == IPR_KT_SKUID ? IPR_ADDR_UID
							     : IPR_ADDR_GID)))
			return false;
		put32(v, t->kind == IPR_KT_SKUID ? c->a->uid : c->a->gid);
		return true;
	case IPR_KT_IIFNAME:
	case IPR_KT_OIFNAME:
		if (t->len < 1 || t->len > 16 ||
		    (t->kind == IPR_KT_IIFNAME ? c->hook == IPR_HOOK_OUT
					       : c->hook == IPR_HOOK_IN))
			return false;
		return kname(c, t->kind == IPR_KT_IIFNAME ? c->a->in_if_idx
							  : c->a->out_if_idx, v);
	case IPR_KT_OIFTYPE:
		if (c->hook == IPR_HOOK_IN || t->len != 2 ||
		    (t->op != IPR_KOP_EQ && t->op != IPR_KOP_NEQ))
			return false;
		put16(v, c->hook == IPR_HOOK_OUT &&
		      (c->a->flags & IPR_ADDR_LOOPBACK) ? 772 : 1);
		return true;
	case IPR_KT_CTSTATE:
		/* the kernel always knows; a case without a state cannot
		 * say what it would be */
		if (!c->env || !c->env->ct_state || t->len != 4) {
			c->bad = "ct state test without a state";
			return false;
		}
		put32(v, c->env->ct_state);
		return true;
	case IPR_KT_FRAG6:
		if (!c->ip || !c->h.ipv6 || t->len != 1) {
			c->bad = "frag6 test without an IPv6 guard";
			return false;
		}
		v[0] = c->h.fragment;
		return true;
	case IPR_KT_FRAGOFF6:
		if (!c->ip || !c->h.ipv6 || t->len != 2) {
			c->bad = "fragoff6 test without an IPv6 guard";
			return false;
		}
		if (!c->h.fragment)
			return false; /* no fragment header: the load breaks */
		put16(v, c->h.frag_off);
		return true;
	}
	c->bad = "unknown test kind";
	return false;
}

static bool ktest(struct kctx *c, const struct ipr_ktest *t)
{
	uint8_t v[16];
	int r;

	if (t->len < 1 || t->len > 16) {
		c->bad = "test length";
		return false;
	}
	if (!kload(c, t, v))
		return false;
	if (t->flags & IPR_KTF_MASK)
		for (unsigned i = 0; i < t->len; i++)
			v[i] &= t->mask[i];
	if (t->op == IPR_KOP_IN || t->op == IPR_KOP_NOTIN) {
		const struct ipr_kset *st;
		bool in = false;

		if (t->set >= c->p->nsets || c->p->sets[t->set].len != t->len ||
		    c->p->sets[t->set].first + (uint64_t)c->p->sets[t->set].n *
		    t->len * (c->p->sets[t->set].interval ? 2 : 1) >
		    c->p->nsetvals) {
			c->bad = "bad set";
			return false;
		}
		st = &c->p->sets[t->set];
		for (uint32_t k = 0; k < st->n && st->interval; k++) {
			const uint8_t *lo = c->p->setvals + st->first +
					    2u * k * t->len, *hi = lo + t->len;

			/* kernel rbtree: ranges sorted, apart, lo <= hi */
			if (memcmp(lo, hi, t->len) > 0 ||
			    (k && memcmp(lo - t->len, lo, t->len) >= 0)) {
				c->bad = "interval set not sorted or overlapping";
				return false;
			}
			in = in || (memcmp(v, lo, t->len) >= 0 &&
				    memcmp(v, hi, t->len) <= 0);
		}
		for (uint32_t k = 0; k < st->n && !st->interval && !in; k++) {
			const uint8_t *sv = c->p->setvals + st->first + k * t->len;

			if (k && memcmp(sv - t->len, sv, t->len) >= 0) {
				c->bad = "set values not sorted or repeated";
				return false;
			}
			in = !memcmp(v, sv, t->len);
		}
		return in == (t->op == IPR_KOP_IN);
	}
	r = memcmp(v, t->value, t->len);
	switch (t->op) {
	case IPR_KOP_EQ: return r == 0;
	case IPR_KOP_NEQ: return r != 0;
	case IPR_KOP_LT: return r < 0;
	case IPR_KOP_LTE: return r <= 0;
	case IPR_KOP_GT: return r > 0;
	case IPR_KOP_GTE: return r >= 0;
	}
	c->bad = "unknown op";
	return false;
}

/* True when the chain ends in the action.  A rule whose tests hold either
 * takes the action or jumps; back from a jump, the next rule follows. */
static bool kchain(struct kctx *c, uint32_t ci)
{
	const struct ipr_kchain *ch = &c->p->chains[ci];

	if (ch->first_rule + ch->nrules > c->p->nrules) {
		c->bad = "chain rules out of range";
		return false;
	}
	for (uint32_t r = 0; r < ch->nrules; r++) {
		const struct ipr_krule *ru = &c->p->rules[ch->first_rule + r];
		bool all = true;

		if (ru->first_test + ru->ntests > c->p->ntests) {
			c->bad = "rule tests out of range";
			return false;
		}
		for (uint32_t t = 0; t < ru->ntests && all; t++)
			all = ktest(c, &c->p->tests[ru->first_test + t]);
		if (!all)
			continue;
		if (ru->jump == IPR_KRULE_ACTION)
			return true;
		/* a jump backwards or to itself would loop in the kernel */
		if (ru->jump <= (int32_t)ci || (uint32_t)ru->jump >= c->p->nchains) {
			c->bad = "bad jump";
			return false;
		}
		if (kchain(c, (uint32_t)ru->jump))
			return true;
	}
	return false;
}

/* 1 if the program takes the action, 0 if not, -1 if it is malformed. */
int krun(const struct ipr_kprog *p, enum ipr_hook hook,
		const uint8_t *pkt, size_t len, const struct ipr_addr *a,
		const struct ipr_filter_env *env, const char **why)
{
	struct kctx c = { .p = p, .hook = hook, .pkt = pkt, .len = len,
			  .a = a, .env = env };
	bool r;

	if (!p->nchains)
		return 0;
	c.ip = ipr_packet_parse(pkt, len, &c.h) == 0;
	r = kchain(&c, 0);
	if (c.bad) {
		*why = c.bad;
		return -1;
	}
	return r;
}

const enum ipr_hook hook_of[] = { IPR_HOOK_IN, IPR_HOOK_OUT,
					 IPR_HOOK_FWD };
const char *const dir_name[] = { "in", "out", "fwd" };

enum ipr_layer layer_of(enum dir d)
{
	return d == FWD ? IPR_LAYER_NETWORK_FORWARD : IPR_LAYER_NETWORK;
}

void unprep(struct prep *pr)
{
	for (int d = IN; d <= FWD; d++) {
		ipri_kprog_free(&pr->p[d]);
		ipr_filter_free(pr->f[d]);
		pr->f[d] = NULL;
	}
}

/* prepare()'s answer for a filter whose chains would nest deeper than
 * the kernel allows: refused, as the library refuses it at open. */
const char too_deep[] = "too deep for the kernel";

const char *prepare(struct prep *pr, const char *text, char *why,
			   size_t wlen)
{
	memset(pr, 0, sizeof(*pr));
	for (int d = IN; d <= FWD; d++) {
		struct ipr_filter_error e;
		int err;

		pr->f[d] = ipr_filter_compile(text, layer_of(d), &e);
		if (!pr->f[d]) {
			snprintf(why, wlen, "compile (%s) failed: %s at %d",
				 dir_name[d], e.msg, e.pos);
			unprep(pr);
			return why;
		}
		err = ipri_kprog_build(pr->f[d], hook_of[d], &pr->p[d]);
		if (err == -E2BIG && pr->p[d].nchains == 0 &&
		    strstr(ipr_last_error(NULL), "nested")) {
			unprep(pr);
			return too_deep;
		}
		if (err) {
			snprintf(why, wlen, "kprog_build (%s): %d",
				 dir_name[d], err);
			unprep(pr);
			return why;
		}
	}
	return NULL;
}

void apply_meta(struct ipr_addr *a, struct ipr_filter_env *env,
		       const struct meta *m)
{
	memset(env, 0, sizeof(*env));
	env->sz = sizeof(*env);
	if (!m)
		return;
	a->flags |= m->flags;
	a->mark = m->mark;
	a->uid = m->uid;
	a->gid = m->gid;
	a->orig_len = m->orig_len;
	a->timestamp = m->ts;
	env->ct_state = m->ct;
	env->if_name = m->ifname;
}

/* The kernel program against ipr_filter_eval on one packet in every
 * direction.  Returns NULL or what differed (in @why). */
const char *diff_run_meta(const struct prep *pr, const struct pkt *k,
				 uint32_t ifidx, const struct meta *m,
				 char *why, size_t wlen)
{
	for (int d = IN; d <= FWD; d++) {
		struct ipr_addr a = mkaddr(d, ifidx);
		struct ipr_filter_env env;
		const char *bad = NULL;
		int ev, kv;

		apply_meta(&a, &env, m);
		ev = ipr_filter_eval_ex(pr->f[d], k->d, k->len, &a, &env);
		kv = krun(&pr->p[d], hook_of[d], k->d, k->len, &a, &env, &bad);
		if (kv < 0) {
			snprintf(why, wlen, "kprog (%s) malformed: %s",
				 dir_name[d], bad);
			return why;
		}
		/* Where user space checks again, the kernel may select more
		 * (a superset), never less. */
		if (ipri_filter_needs_user_check_hook(pr->f[d], hook_of[d])
		    ? ev > kv : ev != kv) {
			snprintf(why, wlen, "%s on %s: eval %d, kernel %d",
				 dir_name[d], k->name, ev, kv);
			return why;
		}
	}
	return NULL;
}

const char *diff_run(const struct prep *pr, const struct pkt *k,
			    uint32_t ifidx, char *why, size_t wlen)
{
	return diff_run_meta(pr, k, ifidx, NULL, why, wlen);
}

const char *diff_check(const char *text, const struct pkt *k,
			      uint32_t ifidx, char *why, size_t wlen)
{
	struct prep pr;
	const char *d = prepare(&pr, text, why, wlen);

	if (d)
		return d;
	d = diff_run(&pr, k, ifidx, why, wlen);
	unprep(&pr);
	return d;
}
