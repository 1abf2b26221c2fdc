/* test_filter.c - the filter language: (filter, packet, direction, ifIdx,
 * expected) cases, format round trips, bad filters with their positions,
 * and a kernel-program interpreter that must agree with ipr_filter_eval. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipredir.h"
#include "filter.h"
#include "check.h"

#define IPR_MAX_LEN_TEST 16384 /* IPR_FILTER_MAX_LEN, internal */

/* ---------------------------------------------------------------------- */
/* Packets                                                                */
/* ---------------------------------------------------------------------- */

enum pkt_id {
	T4, U4, I4, T6, U6, I6, T4OPT, T6EXT, F4A, F4B, F6A, F6B, TT4, SHORT,
	BADV, NONE6, ICMP6V4, U4MAX, T6MAP, CAP4, NPKTS
};

struct pkt {
	const char *name;
	uint8_t d[160];
	size_t len;
};
static struct pkt pk[NPKTS];

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

static void build_packets(void)
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
}

/* ---------------------------------------------------------------------- */
/* The kernel program, run the way nftables would                         */
/* ---------------------------------------------------------------------- */

enum dir { IN, OUT, FWD };

static struct ipr_addr mkaddr(enum dir d, uint32_t ifidx)
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
	const struct ipr_addr *a;
	bool ip;
	struct ipr_headers h;
	const char *bad; /* the program is malformed */
};

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
		if (!c->ip || (c->h.fragment && c->h.frag_off != 0))
			return false;
		off += c->h.l4_off;
		if (off + t->len > c->h.total_len)
			return false;
		memcpy(v, c->pkt + off, t->len);
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
static int krun(const struct ipr_kprog *p, enum ipr_hook hook,
		const uint8_t *pkt, size_t len, const struct ipr_addr *a,
		const char **why)
{
	struct kctx c = { .p = p, .hook = hook, .pkt = pkt, .a = a };
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

static const enum ipr_hook hook_of[] = { IPR_HOOK_IN, IPR_HOOK_OUT,
					 IPR_HOOK_FWD };
static const char *const dir_name[] = { "in", "out", "fwd" };

static enum ipr_layer layer_of(enum dir d)
{
	return d == FWD ? IPR_LAYER_NETWORK_FORWARD : IPR_LAYER_NETWORK;
}

/* A filter compiled for each direction's layer, with its kernel program
 * for the matching hook. */
struct prep {
	ipr_filter *f[3];
	struct ipr_kprog p[3];
};

static void unprep(struct prep *pr)
{
	for (int d = IN; d <= FWD; d++) {
		ipr_kprog_free(&pr->p[d]);
		ipr_filter_free(pr->f[d]);
		pr->f[d] = NULL;
	}
}

static const char *prepare(struct prep *pr, const char *text, char *why,
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
		err = ipr_kprog_build(pr->f[d], hook_of[d], &pr->p[d]);
		if (err) {
			snprintf(why, wlen, "kprog_build (%s): %d",
				 dir_name[d], err);
			unprep(pr);
			return why;
		}
	}
	return NULL;
}

/* The kernel program against ipr_filter_eval on one packet in every
 * direction.  Returns NULL or what differed (in @why). */
static const char *diff_run(const struct prep *pr, const struct pkt *k,
			    uint32_t ifidx, char *why, size_t wlen)
{
	for (int d = IN; d <= FWD; d++) {
		struct ipr_addr a = mkaddr(d, ifidx);
		const char *bad = NULL;
		int ev, kv;

		ev = ipr_filter_eval(pr->f[d], k->d, k->len, &a);
		kv = krun(&pr->p[d], hook_of[d], k->d, k->len, &a, &bad);
		if (kv < 0) {
			snprintf(why, wlen, "kprog (%s) malformed: %s",
				 dir_name[d], bad);
			return why;
		}
		if (ev != kv) {
			snprintf(why, wlen, "%s on %s: eval %d, kernel %d",
				 dir_name[d], k->name, ev, kv);
			return why;
		}
	}
	return NULL;
}

static const char *diff_check(const char *text, const struct pkt *k,
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

/* ---------------------------------------------------------------------- */
/* The cases                                                              */
/* ---------------------------------------------------------------------- */

struct tcase {
	const char *filter;
	enum pkt_id pkt;
	enum dir dir;
	uint32_t ifidx;
	int expect;
};

static const struct tcase cases[] = {
	/* constants and direction */
	{ "true", T4, IN, 1, 1 },
	{ "false", T4, IN, 1, 0 },
	{ "true", SHORT, IN, 1, 1 },
	{ "false", SHORT, OUT, 1, 0 },
	{ "inbound", T4, IN, 1, 1 },
	{ "inbound", T4, OUT, 1, 0 },
	{ "outbound", T4, OUT, 1, 1 },
	{ "outbound", T4, IN, 1, 0 },
	{ "outbound", T4, FWD, 1, 1 },
	{ "inbound", T4, FWD, 1, 0 },
	{ "outbound", SHORT, OUT, 1, 1 },
	{ "not inbound", SHORT, IN, 1, 0 },
	{ "not inbound", BADV, OUT, 1, 1 },
	/* protocols */
	{ "ip", T4, IN, 1, 1 },
	{ "ip", T6, IN, 1, 0 },
	{ "ipv6", T6, OUT, 1, 1 },
	{ "ipv6", U4, OUT, 1, 0 },
	{ "tcp", T4, IN, 1, 1 },
	{ "tcp", U4, IN, 1, 0 },
	{ "tcp", T6, IN, 1, 1 },
	{ "udp", U4, IN, 1, 1 },
	{ "udp", U6, OUT, 1, 1 },
	{ "icmp", I4, IN, 1, 1 },
	{ "icmp", I6, IN, 1, 0 },
	{ "icmpv6", I6, IN, 1, 1 },
	{ "icmpv6", I4, IN, 1, 0 },
	{ "icmp", ICMP6V4, IN, 1, 0 },
	{ "icmpv6", ICMP6V4, IN, 1, 0 },
	{ "not icmp", ICMP6V4, IN, 1, 1 },
	{ "tcp", SHORT, IN, 1, 0 },
	{ "not tcp", SHORT, IN, 1, 0 },
	{ "not tcp", U4, IN, 1, 1 },
	{ "!tcp", T4, IN, 1, 0 },
	{ "udp", F4B, IN, 1, 1 },
	{ "tcp", F6B, IN, 1, 1 },
	{ "ip", BADV, IN, 1, 0 },
	{ "not ip", BADV, IN, 1, 0 },
	{ "not ipv6", BADV, IN, 1, 0 },
	{ "ipv6 and not tcp and not udp", NONE6, IN, 1, 1 },
	{ "tcp", T6EXT, IN, 1, 1 },
	/* ports */
	{ "tcp.DstPort == 80", T4, IN, 1, 1 },
	{ "tcp.DstPort == 80", U4, IN, 1, 0 },
	{ "tcp.DstPort != 80", U4, IN, 1, 0 },
	{ "not tcp.DstPort == 80", U4, IN, 1, 1 },
	{ "not tcp.DstPort == 80", T4, IN, 1, 0 },
	{ "tcp.DstPort = 80", T4, IN, 1, 1 },
	{ "tcp.DstPort == 0x50", T4, IN, 1, 1 },
	{ "tcp.DstPort == 0x0050", T4, IN, 1, 1 },
	{ "tcp.SrcPort == 1234", T4, IN, 1, 1 },
	{ "tcp.SrcPort < 1234", T4, IN, 1, 0 },
	{ "tcp.SrcPort <= 1234", T4, IN, 1, 1 },
	{ "tcp.SrcPort > 1233", T4, IN, 1, 1 },
	{ "tcp.SrcPort >= 1235", T4, IN, 1, 0 },
	{ "tcp.DstPort < 1024", T6, IN, 1, 0 },
	{ "tcp.DstPort > 1024", T6, IN, 1, 1 },
	{ "tcp.SrcPort == 443", T6, OUT, 1, 1 },
	{ "tcp.DstPort", T4, IN, 1, 1 },
	{ "tcp.DstPort", U4, IN, 1, 0 },
	{ "not tcp.DstPort", U4, IN, 1, 1 },
	{ "udp.DstPort == 53", U4, OUT, 1, 1 },
	{ "udp.SrcPort == 5353", U4, OUT, 1, 1 },
	{ "udp.DstPort == 53", T4, OUT, 1, 0 },
	{ "udp.DstPort == 547", U6, OUT, 1, 1 },
	{ "udp.SrcPort >= 546 and udp.SrcPort <= 546", U6, IN, 1, 1 },
	{ "udp.DstPort == 65535", U4MAX, IN, 1, 1 },
	{ "udp.SrcPort == 0", U4MAX, IN, 1, 1 },
	{ "udp.SrcPort", U4MAX, IN, 1, 0 },
	{ "not udp.SrcPort", U4MAX, IN, 1, 1 },
	{ "udp.SrcPort != 0", U4MAX, IN, 1, 0 },
	{ "tcp.DstPort == 22", T4OPT, IN, 1, 1 },
	{ "tcp.SrcPort == 40000", T4OPT, IN, 1, 1 },
	{ "tcp.DstPort == 8080", T6EXT, IN, 1, 1 },
	{ "tcp.SrcPort == 1000 and ipv6", T6EXT, OUT, 1, 1 },
	{ "tcp.DstPort == 80", F6A, IN, 1, 1 },
	{ "udp.SrcPort == 53", F4A, IN, 1, 1 },
	{ "udp.SrcPort == 53", F4B, IN, 1, 0 },
	{ "udp.SrcPort != 53", F4B, IN, 1, 0 },
	{ "not udp.SrcPort == 53", F4B, IN, 1, 0 },
	{ "udp and not udp.SrcPort == 53", F4B, IN, 1, 0 },
	{ "udp and not udp.SrcPort == 53", F4A, IN, 1, 0 },
	{ "tcp.DstPort == 80", F6B, IN, 1, 0 },
	{ "not tcp.DstPort == 80", F6B, IN, 1, 0 },
	{ "tcp.DstPort != 80", F6B, IN, 1, 0 },
	{ "tcp.SrcPort == 1234", TT4, IN, 1, 1 },
	{ "tcp.DstPort == 80", TT4, IN, 1, 0 },
	{ "not tcp.DstPort == 80", TT4, IN, 1, 0 },
	{ "tcp", TT4, IN, 1, 1 },
	{ "tcp.DstPort == 80", CAP4, IN, 1, 1 },
	{ "tcp.SrcPort == 1234 and tcp.DstPort == 80", CAP4, IN, 1, 1 },
	{ "tcp.DstPort == 80", SHORT, IN, 1, 0 },
	{ "not tcp.DstPort == 80", SHORT, IN, 1, 0 },
	{ "tcp.DstPort == 2", T6MAP, IN, 1, 1 },
	{ "tcp.DstPort == 80", BADV, IN, 1, 0 },
	/* addresses */
	{ "ip.SrcAddr == 10.0.0.1", T4, IN, 1, 1 },
	{ "ip.DstAddr == 10.0.0.2", T4, IN, 1, 1 },
	{ "ip.DstAddr == 10.0.0.1", T4, IN, 1, 0 },
	{ "ip.SrcAddr != 10.0.0.1", T4, IN, 1, 0 },
	{ "ip.SrcAddr == 10.0.0.1", T6, IN, 1, 0 },
	{ "ip.SrcAddr != 10.0.0.1", T6, IN, 1, 0 },
	{ "not ip.SrcAddr == 10.0.0.1", T6, IN, 1, 1 },
	{ "ip.SrcAddr >= 10.0.0.0 and ip.SrcAddr <= 10.255.255.255", T4, IN, 1, 1 },
	{ "ip.SrcAddr >= 10.0.0.0 and ip.SrcAddr <= 10.255.255.255", U4, IN, 1, 0 },
	{ "ip.DstAddr > 8.8.8.7", U4, IN, 1, 1 },
	{ "ip.DstAddr < 8.8.8.8", U4, IN, 1, 0 },
	{ "ip.SrcAddr == 0x0a000001", T4, IN, 1, 1 },
	{ "ip.SrcAddr == 167772161", T4, IN, 1, 1 },
	{ "ip.SrcAddr == 255.255.255.255", U4MAX, IN, 1, 1 },
	{ "ip.DstAddr == 0.0.0.0", U4MAX, IN, 1, 1 },
	{ "ip.DstAddr", U4MAX, IN, 1, 0 },
	{ "ip.DstAddr", T4, IN, 1, 1 },
	{ "ip.SrcAddr == 172.16.0.1", T4OPT, IN, 1, 1 },
	{ "ip.SrcAddr == 10.1.1.1", F4B, IN, 1, 1 },
	{ "ip.SrcAddr == 10.0.0.1", SHORT, IN, 1, 0 },
	{ "ip.SrcAddr == 10.0.0.1", CAP4, IN, 1, 1 },
	{ "ipv6.SrcAddr == 2001:db8::1", T6, IN, 1, 1 },
	{ "ipv6.DstAddr == 2001:db8::2", T6, IN, 1, 1 },
	{ "ipv6.DstAddr == 2001:DB8:0:0:0:0:0:2", T6, IN, 1, 1 },
	{ "ipv6.SrcAddr == 2001:db8::2", T6, IN, 1, 0 },
	{ "ipv6.SrcAddr == 2001:db8::1", T4, IN, 1, 0 },
	{ "not ipv6.SrcAddr == 2001:db8::1", T4, IN, 1, 1 },
	{ "ipv6.DstAddr >= ff00::", U6, IN, 1, 1 },
	{ "ipv6.DstAddr < ff00::", U6, IN, 1, 0 },
	{ "ipv6.SrcAddr == fe80::1", U6, IN, 1, 1 },
	{ "ipv6.SrcAddr == ::ffff:10.0.0.1", T6MAP, IN, 1, 1 },
	{ "ipv6.DstAddr == ::1", T6MAP, IN, 1, 1 },
	{ "ipv6.DstAddr == 1", T6MAP, IN, 1, 1 },
	{ "ipv6.SrcAddr == 2001:db8::a", F6B, IN, 1, 1 },
	{ "ipv6.SrcAddr == 2001:db8::10", T6EXT, IN, 1, 1 },
	{ "ipv6.DstAddr", T6, IN, 1, 1 },
	{ "ipv6.DstAddr == 2001:db8::2", NONE6, IN, 1, 1 },
	/* interfaces */
	{ "ifIdx == 3", T4, IN, 3, 1 },
	{ "ifIdx == 3", T4, OUT, 3, 1 },
	{ "ifIdx == 3", T4, FWD, 3, 1 },
	{ "ifIdx == 3", T4, IN, 4, 0 },
	{ "ifIdx != 3", T4, IN, 4, 1 },
	{ "ifIdx > 2 and ifIdx < 4", T4, IN, 3, 1 },
	{ "ifIdx == 3", SHORT, IN, 3, 1 },
	{ "ifIdx", T4, IN, 0, 0 },
	{ "ifIdx == 0xffffffff", T4, OUT, 0xffffffff, 1 },
	{ "ifIdx >= 256", T4, IN, 256, 1 },
	{ "ifIdx < 256", T4, IN, 255, 1 },
	{ "ifIdx < 256", T4, FWD, 65536, 0 },
	{ "inbound and ifIdx == 2", T4, IN, 2, 1 },
	{ "outbound and ifIdx == 2", T4, IN, 2, 0 },
	{ "ifIdx == ICMPV6", T6, OUT, 58, 1 },
	/* and, or, not, precedence */
	{ "tcp and tcp.DstPort == 80", T4, IN, 1, 1 },
	{ "tcp && udp", T4, IN, 1, 0 },
	{ "tcp or udp", U4, IN, 1, 1 },
	{ "tcp || udp", I4, IN, 1, 0 },
	{ "not tcp or udp", T4, IN, 1, 0 },
	{ "not (tcp or udp)", I4, IN, 1, 1 },
	{ "not tcp and not udp", I4, IN, 1, 1 },
	{ "tcp or udp and ip", T6, IN, 1, 1 },
	{ "(tcp or udp) and ip", T6, IN, 1, 0 },
	{ "tcp or udp and ipv6", U4, IN, 1, 0 },
	{ "!(tcp.DstPort == 80 || udp.DstPort == 53)", U4, IN, 1, 0 },
	{ "!(tcp.DstPort == 80 || udp.DstPort == 53)", I4, IN, 1, 1 },
	{ "not not tcp", T4, IN, 1, 1 },
	{ "not not not tcp", T4, IN, 1, 0 },
	{ "((((tcp))))", T4, IN, 1, 1 },
	{ "ip and (tcp.DstPort == 80 or tcp.DstPort == 443)", T4, IN, 1, 1 },
	{ "ip and (tcp.DstPort == 80 or tcp.DstPort == 443)", T6, IN, 1, 0 },
	{ "(tcp.DstPort == 80 or udp.DstPort == 53) and "
	  "(ip.SrcAddr == 10.0.0.1 or ip.SrcAddr == 192.168.1.5)", U4, IN, 1, 1 },
	{ "(tcp.DstPort == 80 or udp.DstPort == 53) and "
	  "(ip.SrcAddr == 10.0.0.1 or ip.SrcAddr == 192.168.1.5)", T6, IN, 1, 0 },
	{ "outbound and tcp.DstPort == 80 or inbound and tcp.SrcPort == 80",
	  T4, OUT, 1, 1 },
	{ "outbound and tcp.DstPort == 80 or inbound and tcp.SrcPort == 80",
	  T4, IN, 1, 0 },
	{ "not (tcp.DstPort == 80 and ip.SrcAddr == 10.0.0.1)", T4, IN, 1, 0 },
	{ "not (tcp.DstPort == 81 and ip.SrcAddr == 10.0.0.1)", T4, IN, 1, 1 },
	{ "not (udp and udp.DstPort == 53) and not icmp", T6, IN, 1, 1 },
	/* ternary */
	{ "(tcp ? tcp.DstPort == 80 : udp.DstPort == 53)", T4, IN, 1, 1 },
	{ "(tcp ? tcp.DstPort == 80 : udp.DstPort == 53)", U4, IN, 1, 1 },
	{ "(tcp ? tcp.DstPort == 80 : udp.DstPort == 53)", I4, IN, 1, 0 },
	{ "(tcp ? tcp.DstPort == 443 : true)", T4, IN, 1, 0 },
	{ "(tcp ? tcp.DstPort == 443 : true)", I4, IN, 1, 1 },
	{ "not (tcp ? tcp.DstPort == 443 : true)", T4, IN, 1, 1 },
	{ "not (tcp ? tcp.DstPort == 443 : true)", I4, IN, 1, 0 },
	{ "(outbound ? ifIdx == 5 : ifIdx == 6)", T4, OUT, 5, 1 },
	{ "(outbound ? ifIdx == 5 : ifIdx == 6)", T4, IN, 5, 0 },
	{ "(outbound ? ifIdx == 5 : ifIdx == 6)", T4, IN, 6, 1 },
	{ "(ip ? ip.DstAddr == 8.8.8.8 : ipv6.DstAddr == ff02::1:2)", U4, IN, 1, 1 },
	{ "(ip ? ip.DstAddr == 8.8.8.8 : ipv6.DstAddr == ff02::1:2)", U6, IN, 1, 1 },
	{ "(ip ? ip.DstAddr == 8.8.8.8 : ipv6.DstAddr == ff02::1:2)", T6, IN, 1, 0 },
	{ "(tcp.DstPort == 80 ? true : false)", SHORT, IN, 1, 0 },
	{ "not (tcp.DstPort == 80 ? true : false)", SHORT, IN, 1, 0 },
	{ "(tcp.DstPort == 80 ? false : true)", F6B, IN, 1, 0 },
	{ "not (tcp.DstPort == 80 ? false : true)", F6B, IN, 1, 0 },
	/* an undecidable condition picks neither branch */
	{ "(tcp.DstPort == 80 ? true : true)", F6B, IN, 1, 0 },
	{ "(tcp.DstPort == 80 ? ipv6 : ipv6)", F6A, IN, 1, 1 },
	{ "(ipv6 ? (tcp ? tcp.DstPort == 80 : false) : udp)", F6A, IN, 1, 1 },
	{ "(ipv6 ? (tcp ? tcp.DstPort == 80 : false) : udp)", U4, IN, 1, 1 },
	{ "(ipv6 ? (tcp ? tcp.DstPort == 80 : false) : udp)", T4, IN, 1, 0 },
	{ "(tcp or udp ? ip : ipv6) and not icmpv6", I6, IN, 1, 0 },
	{ "(tcp or udp ? ip : ipv6) and not icmp", I6, IN, 1, 1 },
	/* boolean fields compared */
	{ "tcp == 1", T4, IN, 1, 1 },
	{ "tcp == 0", T4, IN, 1, 0 },
	{ "tcp == 0", U4, IN, 1, 1 },
	{ "tcp == TRUE", T4, IN, 1, 1 },
	{ "tcp != FALSE", T4, IN, 1, 1 },
	{ "tcp >= 0", SHORT, IN, 1, 1 },
	{ "tcp > 0", U4, IN, 1, 0 },
	{ "tcp < 1", U4, IN, 1, 1 },
	{ "inbound == 0", T4, OUT, 1, 1 },
	{ "outbound = 1", T4, FWD, 1, 1 },
	{ "true == 0", T4, IN, 1, 0 },
	{ "false == FALSE", T4, IN, 1, 1 },
	{ "tcp.SrcPort > ICMP", T4, IN, 1, 1 },
	/* spelling and spacing */
	{ "  tcp.DstPort==80\t", T4, IN, 1, 1 },
	{ "\ntcp\n", T4, IN, 1, 1 },
	{ "tcp.DstPort==80&&ip.SrcAddr==10.0.0.1", T4, IN, 1, 1 },
	{ "(tcp?tcp.DstPort==80:false)", T4, IN, 1, 1 },
	{ "(ipv6 ? ipv6.DstAddr == ::1 : false)", T6MAP, IN, 1, 1 },
	{ "(ipv6?ipv6.DstAddr==::1: false)", T6MAP, IN, 1, 1 },
	{ "(ipv6?ipv6.DstAddr==::1:false)", T6MAP, IN, 1, 1 },
	{ "(ipv6?ipv6.DstAddr==2001:db8::2:false)", T6, IN, 1, 1 },
	{ "(tcp?tcp.DstPort==0x50:ipv6.SrcAddr==fe80::1)", U6, IN, 1, 1 },
	{ "!tcp||!udp", T4, IN, 1, 1 },
	{ "tcp.DstPort == 00080", T4, IN, 1, 1 },
};

/* The filter text fit for one result line: control and non-ASCII bytes as
 * \xNN.  Returns a static buffer. */
static const char *printable(const char *s)
{
	static char out[1024];
	size_t o = 0;

	for (; *s && o + 5 < sizeof(out); s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* Compile, check, format, recompile, check again; the formatted text must
 * be a fixed point. */
static void run_case(unsigned i, const struct tcase *c)
{
	char name[512], why[512], txt[4096], txt2[4096];
	struct ipr_filter_error e;
	const struct pkt *k = &pk[c->pkt];
	struct ipr_addr a = mkaddr(c->dir, c->ifidx);
	ipr_filter *f, *g;
	const char *d;
	int r, r2;

	snprintf(name, sizeof(name), "case %u: \"%s\" on %s %s if %u", i,
		 printable(c->filter), k->name, dir_name[c->dir], c->ifidx);
	f = ipr_filter_compile(c->filter, layer_of(c->dir), &e);
	if (!f) {
		check_fail(name, "compile: %s at %d", e.msg, e.pos);
		return;
	}
	r = ipr_filter_eval(f, k->d, k->len, &a);
	if (r != c->expect) {
		check_fail(name, "eval %d, expected %d", r, c->expect);
		goto out;
	}
	if (ipr_filter_format(f, txt, sizeof(txt)) < 0) {
		check_fail(name, "format failed");
		goto out;
	}
	g = ipr_filter_compile(txt, layer_of(c->dir), &e);
	if (!g) {
		check_fail(name, "formatted \"%s\" does not compile: %s at %d",
			   txt, e.msg, e.pos);
		goto out;
	}
	r2 = ipr_filter_eval(g, k->d, k->len, &a);
	ipr_filter_format(g, txt2, sizeof(txt2));
	ipr_filter_free(g);
	if (r2 != r) {
		check_fail(name, "formatted \"%s\" gives %d", txt, r2);
		goto out;
	}
	if (strcmp(txt, txt2)) {
		check_fail(name, "format not stable: \"%s\" then \"%s\"", txt,
			   txt2);
		goto out;
	}
	d = diff_check(c->filter, k, c->ifidx, why, sizeof(why));
	if (!d)
		d = diff_check(txt, k, c->ifidx, why, sizeof(why));
	if (d) {
		check_fail(name, "kernel program disagrees: %s", d);
		goto out;
	}
	check_pass(name, NULL);
out:
	ipr_filter_free(f);
}

/* Every case's filter against every packet, both ways round. */
static void cross_check(void)
{
	static const uint32_t ifs[] = { 0, 3, 256 };
	char why[512];
	unsigned n = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct prep pr;
		const char *d = prepare(&pr, cases[i].filter, why, sizeof(why));

		for (int p = 0; p < NPKTS && !d; p++)
			for (size_t j = 0; j < 3 && !d; j++, n++)
				d = diff_run(&pr, &pk[p], ifs[j], why,
					     sizeof(why));
		unprep(&pr);
		if (d) {
			check_fail("cross check", "\"%s\": %s", cases[i].filter,
				   d);
			return;
		}
	}
	check_pass("cross check", "%u filter x packet x ifIdx, 3 hooks each", n);
}

/* ---------------------------------------------------------------------- */
/* Random filters: eval and the kernel program must agree                 */
/* ---------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

struct buf {
	char s[8192];
	size_t len;
};

__attribute__((format(printf, 2, 3)))
static void bput(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= sizeof(b->s))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static void gen_leaf(struct buf *b)
{
	static const char *const bools[] = {
		"true", "false", "inbound", "outbound", "ip", "ipv6", "tcp",
		"udp", "icmp", "icmpv6",
	};
	static const char *const ports[] = {
		"tcp.SrcPort", "tcp.DstPort", "udp.SrcPort", "udp.DstPort",
	};
	static const unsigned pvals[] = { 0, 1, 2, 22, 53, 80, 443, 547,
					  1000, 1234, 5353, 8080, 33000,
					  51000, 65535 };
	static const char *const v4[] = { "10.0.0.1", "10.0.0.2", "8.8.8.8",
					  "0.0.0.0", "255.255.255.255",
					  "10.1.1.1", "172.16.0.2" };
	static const char *const v6[] = { "2001:db8::1", "2001:db8::2",
					  "::1", "ff02::1:2", "fe80::1",
					  "2001:db8::a", "ff00::" };
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=",
					   "=" };
	const char *op = ops[rnd(7)];

	switch (rnd(6)) {
	case 0:
		if (rnd(3))
			bput(b, "%s", bools[rnd(10)]);
		else
			bput(b, "%s %s %u", bools[rnd(10)], op, rnd(2));
		break;
	case 1:
	case 2:
		if (rnd(8))
			bput(b, "%s %s %u", ports[rnd(4)], op,
			     pvals[rnd(sizeof(pvals) / sizeof(pvals[0]))]);
		else
			bput(b, "%s", ports[rnd(4)]);
		break;
	case 3:
		bput(b, "ip.%sAddr %s %s", rnd(2) ? "Src" : "Dst", op,
		     v4[rnd(sizeof(v4) / sizeof(v4[0]))]);
		break;
	case 4:
		bput(b, "ipv6.%sAddr %s %s", rnd(2) ? "Src" : "Dst", op,
		     v6[rnd(sizeof(v6) / sizeof(v6[0]))]);
		break;
	default:
		bput(b, "ifIdx %s %u", op, rnd(5));
		break;
	}
}

static void gen(struct buf *b, int depth)
{
	unsigned k = depth > 4 ? 0 : rnd(7);

	switch (k) {
	case 0:
	case 1:
		gen_leaf(b);
		break;
	case 2:
		bput(b, rnd(2) ? "not " : "!");
		gen(b, depth + 1);
		break;
	case 3:
	case 4:
		bput(b, "(");
		gen(b, depth + 1);
		bput(b, k == 3 ? (rnd(2) ? " and " : " && ")
			       : (rnd(2) ? " or " : " || "));
		gen(b, depth + 1);
		bput(b, ")");
		break;
	case 5:
		bput(b, "(");
		gen(b, depth + 1);
		bput(b, " ? ");
		gen(b, depth + 1);
		bput(b, " : ");
		gen(b, depth + 1);
		bput(b, ")");
		break;
	default:
		gen(b, depth + 1);
		bput(b, rnd(2) ? " and " : " or ");
		gen(b, depth + 1);
		break;
	}
}

static void random_check(void)
{
	static const uint32_t ifs[] = { 0, 2, 4 };
	unsigned nf = 0, nmatch = 0, runs = 0;
	char why[512], txt[16384];

	for (int i = 0; i < 3000; i++) {
		struct buf b = { .len = 0 };
		struct prep pr, pr2;
		const char *d;

		gen(&b, 0);
		d = prepare(&pr, b.s, why, sizeof(why));
		if (d) {
			check_fail("random filters", "\"%s\": %s", b.s, d);
			return;
		}
		ipr_filter_format(pr.f[IN], txt, sizeof(txt));
		d = prepare(&pr2, txt, why, sizeof(why));
		for (int p = 0; p < NPKTS && !d; p++) {
			for (int j = 0; j < 3 && !d; j++) {
				struct ipr_addr a = mkaddr(IN, ifs[j]);
				int r = ipr_filter_eval(pr.f[IN], pk[p].d,
							pk[p].len, &a);

				d = diff_run(&pr, &pk[p], ifs[j], why,
					     sizeof(why));
				if (!d)
					d = diff_run(&pr2, &pk[p], ifs[j], why,
						     sizeof(why));
				if (!d && ipr_filter_eval(pr2.f[IN], pk[p].d,
							  pk[p].len, &a) != r)
					d = "formatted text evaluates differently";
				if (d)
					check_fail("random filters",
						   "\"%s\" (\"%s\") on %s: %s",
						   b.s, txt, pk[p].name, d);
				nmatch += (unsigned)r;
				runs++;
			}
		}
		unprep(&pr);
		unprep(&pr2);
		if (d)
			return;
		nf++;
	}
	check_pass("random filters", "%u filters, %u runs x 3 hooks, %u matched",
		   nf, runs, nmatch);
}

/* ---------------------------------------------------------------------- */
/* Bad filters                                                            */
/* ---------------------------------------------------------------------- */

struct bad {
	const char *filter;
	int pos;
	const char *msg;
};

static const struct bad bads[] = {
	{ "", 0, "expected field" },
	{ "   ", 3, "expected field" },
	{ "tcp and", 7, "expected field" },
	{ "not", 3, "expected field" },
	{ "()", 1, "expected field" },
	{ "foo", 0, "unknown field" },
	{ "tcp.dstport == 80", 0, "unknown field" },
	{ "TCP", 0, "unknown field" },
	{ "ip.", 0, "unknown field" },
	{ "tcp and tcp.Foo", 8, "unknown field" },
	{ "tcp.DstPort ==", 14, "expected value" },
	{ "tcp.DstPort == 65536", 15, "value out of range" },
	{ "tcp.DstPort == 0x10000", 15, "value out of range" },
	{ "ifIdx == 4294967296", 9, "value out of range" },
	{ "ifIdx == 99999999999999999999999", 9, "value out of range" },
	{ "tcp == 2", 7, "value out of range" },
	{ "udp.SrcPort != ICMPV6 and tcp == TCP", 33, "value out of range" },
	{ "ip.SrcAddr == 0x100000000", 14, "value out of range" },
	{ "ip.SrcAddr == ::1", 14, "IPv6 value for an IPv4 field" },
	{ "ipv6.SrcAddr == 1.2.3.4", 16, "IPv4 value for an IPv6 field" },
	{ "ip.SrcAddr == 1.2.3", 14, "bad IPv4 address" },
	{ "ip.SrcAddr == 1.2.3.256", 14, "bad IPv4 address" },
	{ "ipv6.SrcAddr == 1::2::3", 16, "bad IPv6 address" },
	{ "tcp.DstPort == 1.2.3.4", 15, "expected number" },
	{ "tcp.DstPort == ::1", 15, "expected number" },
	{ "tcp.DstPort == 80abc", 15, "expected value" },
	{ "tcp.DstPort == http", 15, "expected value" },
	{ "tcp.DstPort == -1", 15, "expected value" },
	{ "tcp.DstPort == 8O", 15, "expected value" },
	{ "ifIdx == 0x", 9, "expected value" },
	{ "tcp.DstPort === 80", 14, "expected value" },
	{ "tcp.DstPort => 80", 13, "expected value" },
	{ "tcp.DstPort == \x01", 15, "expected value" },
	{ "(tcp", 0, "unbalanced parenthesis" },
	{ "tcp)", 3, "unbalanced parenthesis" },
	{ "((tcp)", 0, "unbalanced parenthesis" },
	{ "(tcp and (udp)", 0, "unbalanced parenthesis" },
	{ "tcp udp", 4, "unexpected token" },
	{ "tcp 80", 4, "unexpected token" },
	{ "tcp ? udp : ip", 4, "unexpected token" },
	{ "(tcp ? udp)", 10, "expected ':'" },
	{ "(tcp ? udp : ip", 0, "unbalanced parenthesis" },
	{ "(tcp ? udp : ip : icmp)", 16, "unexpected token" },
	{ "tcp & udp", 4, "unexpected token" },
	{ "tcp | udp", 4, "unexpected token" },
	{ "== 80", 0, "unexpected token" },
	{ "\xff", 0, "unexpected token" },
	{ "and", 0, "unexpected token" },
	{ "tcp and or udp", 8, "unexpected token" },
	{ "tcp.DstPort == 80 and", 21, "expected field" },
	{ "tcp == 1 == 1", 9, "unexpected token" },
	{ "(tcp ? tcp.DstPort == 1.2.3.4:false)", 22, "expected number" },
	{ "tcp.DstPort == 80:false", 15, "expected value" },
	{ "(tcp ? ipv6.SrcAddr == 1::2::3 : ip)", 23, "bad IPv6 address" },
};

static void bad_filters(void)
{
	char name[256];

	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct ipr_filter_error e = { 0, -1, NULL };
		ipr_filter *f;

		snprintf(name, sizeof(name), "bad filter \"%s\"",
			 printable(bads[i].filter));
		errno = 0;
		f = ipr_filter_compile(bads[i].filter, IPR_LAYER_NETWORK, &e);
		if (f) {
			ipr_filter_free(f);
			check_fail(name, "compiled");
			continue;
		}
		CHECK(name, errno == EINVAL && e.code == -EINVAL &&
		      e.pos == bads[i].pos && e.msg &&
		      !strcmp(e.msg, bads[i].msg),
		      "errno %d code %d pos %d \"%s\", expected pos %d \"%s\"",
		      errno, e.code, e.pos, e.msg ? e.msg : "(null)",
		      bads[i].pos, bads[i].msg);
	}
}

/* Limits: length, depth, and long flat lists that must not recurse. */
static void limits(void)
{
	struct ipr_filter_error e;
	size_t n = 70000;
	char *s = malloc(n + 1);
	ipr_filter *f;
	int i;

	if (!s)
		exit(2);

	memset(s, ' ', IPR_MAX_LEN_TEST);
	s[IPR_MAX_LEN_TEST] = '\0';
	memcpy(s, "tcp", 3);
	f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
	CHECK("16 KiB filter accepted", f != NULL, "%s", e.msg);
	ipr_filter_free(f);
	memset(s, ' ', IPR_MAX_LEN_TEST + 1);
	s[IPR_MAX_LEN_TEST + 1] = '\0';
	memcpy(s, "tcp", 3);
	f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
	CHECK("16 KiB + 1 refused", !f && e.pos == IPR_MAX_LEN_TEST &&
	      !strcmp(e.msg, "filter too long"), "pos %d %s", e.pos, e.msg);
	ipr_filter_free(f);

	for (int depth = 128; depth <= 129; depth++) {
		size_t k = 0;

		for (i = 0; i < depth; i++)
			s[k++] = '(';
		memcpy(s + k, "tcp", 3);
		k += 3;
		for (i = 0; i < depth; i++)
			s[k++] = ')';
		s[k] = '\0';
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		if (depth == 128)
			CHECK("128 parentheses deep", f != NULL, "%s at %d",
			      e.msg, e.pos);
		else
			CHECK("129 parentheses deep refused", !f &&
			      e.pos == 128 && !strcmp(e.msg, "nested too deeply"),
			      "pos %d %s", e.pos, e.msg);
		ipr_filter_free(f);
	}
	s[0] = '\0';
	for (i = 0; i < 129; i++)
		strcat(s, "not ");
	strcat(s, "tcp");
	f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
	CHECK("129 nots refused", !f && e.pos == 512 &&
	      !strcmp(e.msg, "nested too deeply"), "pos %d %s", e.pos, e.msg);
	ipr_filter_free(f);

	/* 1300 alternatives: flat, fine for eval and format, and within
	 * the kernel program's limits */
	{
		size_t k = 0;
		struct ipr_kprog p;
		struct ipr_addr a = mkaddr(IN, 1299);
		int r, err;

		for (i = 0; i < 1300; i++)
			k += (size_t)sprintf(s + k, "%sifIdx=%d", i ? "||" : "", i);
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		CHECK("1300 alternatives compile", f != NULL, "%s", e.msg);
		if (f) {
			r = ipr_filter_eval(f, pk[T4].d, pk[T4].len, &a);
			CHECK("1300 alternatives eval", r == 1, "%d", r);
			err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
			CHECK("1300 alternatives kprog", err == 0 &&
			      p.nchains == 1 && p.nrules == 1300 &&
			      p.ntests == 1300, "err %d chains %u rules %u tests %u",
			      err, p.nchains, p.nrules, p.ntests);
			ipr_kprog_free(&p);
			ipr_filter_free(f);
		}
		/* the same list four times over is more than the kernel
		 * program takes */
		memmove(s + 2, s, k + 1);
		memcpy(s, "((", 2);
		strcat(s, " ? ipv6 : ip) ? tcp : udp)");
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		if (f) {
			err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
			CHECK("too many tests", err == -E2BIG && p.nchains == 0,
			      "err %d", err);
			ipr_kprog_free(&p);
			ipr_filter_free(f);
		} else {
			check_fail("too many tests", "%s at %d", e.msg, e.pos);
		}
	}

	/* 300 "or"s in a row: one chain each, more than the kernel side
	 * takes */
	{
		size_t k = 0;
		struct ipr_kprog p;
		int err;

		for (i = 1; i <= 300; i++)
			k += (size_t)sprintf(s + k,
					     "%s(tcp.DstPort == %d or udp.DstPort == %d)",
					     i > 1 ? " and " : "", i, i);
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		err = f ? ipr_kprog_build(f, IPR_HOOK_OUT, &p) : -1;
		CHECK("300 chained ors: too many chains", err == -E2BIG,
		      "err %d", err);
		ipr_filter_free(f);
	}

	/* Ternaries nested in the condition double at each level in the
	 * kernel program: refused quickly, while eval stays linear. */
	{
		struct ipr_kprog p;
		struct ipr_addr a = mkaddr(IN, 1);
		int err, r;

		s[0] = '\0';
		for (i = 0; i < 60; i++)
			strcat(s, "(");
		strcat(s, "tcp.DstPort == 80");
		for (i = 0; i < 60; i++)
			strcat(s, " ? udp : ip.SrcAddr == 10.0.0.1)");
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		CHECK("60 nested ternaries compile", f != NULL, "%s at %d",
		      e.msg, e.pos);
		if (f) {
			r = ipr_filter_eval(f, pk[T4].d, pk[T4].len, &a);
			CHECK("60 nested ternaries eval", r == 0 || r == 1,
			      "%d", r);
			err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
			CHECK("60 nested ternaries: kprog refused", err == -E2BIG,
			      "err %d", err);
			ipr_kprog_free(&p);
			ipr_filter_free(f);
		}
	}
	free(s);
}

/* ---------------------------------------------------------------------- */
/* Shapes of kernel programs                                              */
/* ---------------------------------------------------------------------- */

struct shape {
	const char *filter;
	enum ipr_hook hook;
	int nchains, nrules, ntests; /* -1: do not care */
};

static const struct shape shapes[] = {
	{ "inbound", IPR_HOOK_OUT, 0, 0, 0 },
	{ "inbound", IPR_HOOK_FWD, 0, 0, 0 },
	{ "inbound", IPR_HOOK_IN, 1, 1, 0 },
	{ "outbound", IPR_HOOK_IN, 0, 0, 0 },
	{ "outbound", IPR_HOOK_FWD, 1, 1, 0 },
	{ "true", IPR_HOOK_IN, 1, 1, 0 },
	{ "false", IPR_HOOK_OUT, 0, 0, 0 },
	{ "not true or false", IPR_HOOK_OUT, 0, 0, 0 },
	{ "tcp.DstPort == 80", IPR_HOOK_IN, 1, 1, 2 },
	{ "not tcp.DstPort == 80", IPR_HOOK_IN, 1, 2, 3 },
	{ "ip.SrcAddr == 1.2.3.4", IPR_HOOK_OUT, 1, 1, 2 },
	{ "icmp", IPR_HOOK_IN, 1, 1, 2 },
	{ "not icmp", IPR_HOOK_IN, 1, 2, 2 },
	{ "tcp and udp", IPR_HOOK_IN, 0, 0, 0 },
	{ "tcp and tcp", IPR_HOOK_IN, 1, 1, 1 },
	{ "tcp and not tcp", IPR_HOOK_IN, 0, 0, 0 },
	{ "outbound and tcp", IPR_HOOK_IN, 0, 0, 0 },
	{ "outbound and tcp", IPR_HOOK_OUT, 1, 1, 1 },
	{ "inbound or tcp", IPR_HOOK_IN, 1, 1, 0 },
	{ "inbound or tcp", IPR_HOOK_OUT, 1, 1, 1 },
	{ "udp.DstPort == 53 or tcp.DstPort == 53", IPR_HOOK_OUT, 1, 2, 4 },
	{ "(tcp or udp) and (ip.SrcAddr == 1.2.3.4 or ipv6)", IPR_HOOK_IN,
	  2, 4, 5 },
	{ "tcp.DstPort == 80 and (ip.SrcAddr == 1.2.3.4 or "
	  "ip.SrcAddr == 5.6.7.8)", IPR_HOOK_IN, 1, 2, 8 },
	{ "(tcp ? tcp.DstPort == 80 : udp)", IPR_HOOK_IN, 1, 2, 3 },
	{ "(inbound ? tcp : udp)", IPR_HOOK_OUT, 1, 1, 1 },
	{ "ifIdx == 7", IPR_HOOK_IN, 1, 1, 1 },
};

static void kprog_shapes(void)
{
	char name[256];

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		ipr_filter *f = ipr_filter_compile(s->filter,
				s->hook == IPR_HOOK_FWD ?
				IPR_LAYER_NETWORK_FORWARD : IPR_LAYER_NETWORK,
				NULL);
		struct ipr_kprog p;
		int err;

		snprintf(name, sizeof(name), "kprog shape \"%s\" hook %d",
			 s->filter, s->hook);
		if (!f) {
			check_fail(name, "does not compile");
			continue;
		}
		err = ipr_kprog_build(f, s->hook, &p);
		CHECK(name, !err && (int)p.nchains == s->nchains &&
		      (int)p.nrules == s->nrules && (int)p.ntests == s->ntests,
		      "err %d: %u chains %u rules %u tests, expected %d %d %d",
		      err, p.nchains, p.nrules, p.ntests, s->nchains,
		      s->nrules, s->ntests);
		ipr_kprog_free(&p);
		ipr_filter_free(f);
	}
}

static bool test_is(const struct ipr_ktest *t, uint8_t kind, uint8_t op,
		    uint8_t len, uint16_t off, const char *value)
{
	return t->kind == kind && t->op == op && t->len == len &&
	       (kind < IPR_KT_NET || t->offset == off) &&
	       !memcmp(t->value, value, len);
}

/* The exact tests of a few programs, as rules_nft.c will see them. */
static void kprog_tests(void)
{
	struct ipr_kprog p;
	ipr_filter *f;
	int err;

	f = ipr_filter_compile("tcp.DstPort == 80", IPR_LAYER_NETWORK, NULL);
	err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog tcp.DstPort == 80", !err && p.nrules == 1 &&
	      p.rules[0].jump == IPR_KRULE_ACTION && p.rules[0].ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x06") &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_EQ, 2, 2,
		      "\x00\x50"), "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("not tcp.DstPort == 80", IPR_LAYER_NETWORK,
			       NULL);
	err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog not tcp.DstPort == 80", !err && p.nrules == 2 &&
	      p.rules[0].ntests == 1 && p.rules[1].ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_NEQ, 1, 0, "\x06") &&
	      test_is(&p.tests[1], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x06") &&
	      test_is(&p.tests[2], IPR_KT_TRANSPORT, IPR_KOP_NEQ, 2, 2,
		      "\x00\x50"), "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("ip.SrcAddr == 1.2.3.4", IPR_LAYER_NETWORK,
			       NULL);
	err = ipr_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog ip.SrcAddr", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x02") &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_EQ, 4, 12,
		      "\x01\x02\x03\x04"), "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("ipv6.DstAddr > 2001:db8::1", IPR_LAYER_NETWORK,
			       NULL);
	err = ipr_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog ipv6.DstAddr", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x0a") &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_GT, 16, 24,
		      "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"),
	      "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("udp.SrcPort <= 1023", IPR_LAYER_NETWORK, NULL);
	err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog udp.SrcPort", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x11") &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_LTE, 2, 0,
		      "\x03\xff"), "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	for (int h = IPR_HOOK_IN; h <= IPR_HOOK_FWD; h++) {
		char name[64];

		f = ipr_filter_compile("ifIdx == 0x01020304", h == IPR_HOOK_FWD ?
				       IPR_LAYER_NETWORK_FORWARD :
				       IPR_LAYER_NETWORK, NULL);
		err = ipr_kprog_build(f, (enum ipr_hook)h, &p);
		snprintf(name, sizeof(name), "kprog ifIdx hook %d", h);
		CHECK(name, !err && p.nrules == 1 &&
		      test_is(&p.tests[0], h == IPR_HOOK_IN ? IPR_KT_IIF
							    : IPR_KT_OIF,
			      IPR_KOP_EQ, 4, 0, "\x01\x02\x03\x04"),
		      "err %d", err);
		ipr_kprog_free(&p);
		ipr_filter_free(f);
	}

	f = ipr_filter_compile("icmpv6", IPR_LAYER_NETWORK, NULL);
	err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog icmpv6", !err && p.nrules == 1 && p.ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x0a") &&
	      test_is(&p.tests[1], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x3a"),
	      "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("true", IPR_LAYER_NETWORK, NULL);
	err = ipr_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog true", !err && p.nchains == 1 && p.nrules == 1 &&
	      p.rules[0].ntests == 0 && p.rules[0].jump == IPR_KRULE_ACTION &&
	      p.chains[0].first_rule == 0 && p.chains[0].nrules == 1,
	      "err %d", err);
	ipr_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("(tcp or udp) and (ip or icmpv6)",
			       IPR_LAYER_NETWORK, NULL);
	err = ipr_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog chain layout", !err && p.nchains == 2 &&
	      p.chains[0].first_rule == 0 && p.chains[0].nrules == 2 &&
	      p.chains[1].first_rule == 2 && p.chains[1].nrules == 2 &&
	      p.rules[0].jump == 1 && p.rules[1].jump == 1 &&
	      p.rules[2].jump == IPR_KRULE_ACTION, "err %d chains %u",
	      err, p.nchains);
	ipr_kprog_free(&p);
	ipr_filter_free(f);
}

/* ---------------------------------------------------------------------- */
/* Format                                                                 */
/* ---------------------------------------------------------------------- */

static const struct {
	const char *in, *out;
} formats[] = {
	{ "tcp.DstPort = 0x50", "tcp.DstPort == 80" },
	{ "tcp && !udp || ip", "(tcp and not udp) or ip" },
	{ "not (tcp or udp)", "not (tcp or udp)" },
	{ "not (tcp and udp)", "not (tcp and udp)" },
	{ "ip.SrcAddr == 0x0a000001", "ip.SrcAddr == 10.0.0.1" },
	{ "ipv6.SrcAddr == 2001:DB8:0:0:0:0:0:1", "ipv6.SrcAddr == 2001:db8::1" },
	{ "ipv6.DstAddr == 1", "ipv6.DstAddr == ::1" },
	{ "tcp.DstPort", "tcp.DstPort != 0" },
	{ "tcp == 0", "not tcp" },
	{ "tcp >= 0", "true" },
	{ "inbound != TRUE", "not inbound" },
	{ "(tcp?udp:ip)", "(tcp ? udp : ip)" },
	{ "tcp and (udp and ip)", "tcp and udp and ip" },
	{ "(tcp or udp) or (ip or ipv6)", "tcp or udp or ip or ipv6" },
	{ "(tcp or udp) and ip", "(tcp or udp) and ip" },
	{ "ifIdx == ICMPV6", "ifIdx == 58" },
	{ "not not tcp", "not not tcp" },
	{ "!tcp.DstPort == 80", "not tcp.DstPort == 80" },
	{ "(tcp ? udp or ip : icmp and ipv6)", "(tcp ? udp or ip : icmp and ipv6)" },
	{ "not (tcp ? udp : ip)", "not (tcp ? udp : ip)" },
	{ "udp.SrcPort >= 1 && udp.SrcPort <= 1023",
	  "udp.SrcPort >= 1 and udp.SrcPort <= 1023" },
	{ "ifIdx > 0xffffffff - 1", NULL },
	{ "ip.DstAddr < 1.2.3.4 or ip.DstAddr > 5.6.7.8",
	  "ip.DstAddr < 1.2.3.4 or ip.DstAddr > 5.6.7.8" },
};

static void format_checks(void)
{
	char buf[256], name[256];
	struct ipr_addr a = mkaddr(IN, 1);
	ipr_filter *f;
	int n;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		snprintf(name, sizeof(name), "format \"%s\"", formats[i].in);
		f = ipr_filter_compile(formats[i].in, IPR_LAYER_NETWORK, NULL);
		if (!formats[i].out) {
			CHECK(name, f == NULL, "compiled");
			ipr_filter_free(f);
			continue;
		}
		if (!f) {
			check_fail(name, "does not compile");
			continue;
		}
		n = ipr_filter_format(f, buf, sizeof(buf));
		CHECK(name, n == (int)strlen(formats[i].out) &&
		      !strcmp(buf, formats[i].out), "%d \"%s\"", n, buf);
		ipr_filter_free(f);
	}

	f = ipr_filter_compile("tcp.DstPort == 80", IPR_LAYER_NETWORK, NULL);
	memset(buf, 'x', sizeof(buf));
	n = ipr_filter_format(f, buf, 5);
	CHECK("format truncates like snprintf", n == 17 && !strcmp(buf, "tcp.") &&
	      buf[5] == 'x', "%d \"%s\"", n, buf);
	n = ipr_filter_format(f, NULL, 0);
	CHECK("format measures with no buffer", n == 17, "%d", n);
	n = ipr_filter_format(f, buf, 17);
	CHECK("format one byte short", n == 17 && strlen(buf) == 16, "%d", n);
	n = ipr_filter_format(f, buf, 18);
	CHECK("format exact size", n == 17 && !strcmp(buf, "tcp.DstPort == 80"),
	      "%d", n);
	CHECK("format NULL buffer with size", ipr_filter_format(f, NULL, 4) ==
	      -EINVAL, "accepted");
	CHECK("format NULL filter", ipr_filter_format(NULL, buf, 4) == -EINVAL,
	      "accepted");
	CHECK("eval NULL filter", ipr_filter_eval(NULL, pk[T4].d, pk[T4].len,
						  &a) == -EINVAL, "accepted");
	CHECK("eval NULL packet", ipr_filter_eval(f, NULL, 0, &a) == -EINVAL,
	      "accepted");
	CHECK("eval NULL addr", ipr_filter_eval(f, pk[T4].d, pk[T4].len, NULL)
	      == -EINVAL, "accepted");
	CHECK("eval empty packet", ipr_filter_eval(f, pk[T4].d, 0, &a) == 0,
	      "matched");
	CHECK("needs no user check", !ipr_filter_needs_user_check(f), "needs");
	CHECK("layer network", ipr_filter_layer(f) == IPR_LAYER_NETWORK, "%d",
	      ipr_filter_layer(f));
	ipr_filter_free(f);
	ipr_filter_free(NULL);

	f = ipr_filter_compile("tcp", IPR_LAYER_NETWORK_FORWARD, NULL);
	CHECK("layer forward", f && ipr_filter_layer(f) ==
	      IPR_LAYER_NETWORK_FORWARD, "wrong");
	ipr_filter_free(f);

	{
		struct ipr_filter_error e = { 1, 1, NULL };

		errno = 0;
		f = ipr_filter_compile(NULL, IPR_LAYER_NETWORK, &e);
		CHECK("compile NULL text", !f && errno == EINVAL &&
		      e.code == -EINVAL && e.pos == 0 && e.msg, "accepted");
		f = ipr_filter_compile("tcp", (enum ipr_layer)7, &e);
		CHECK("compile bad layer", !f && errno == EINVAL &&
		      e.code == -EINVAL && e.msg, "accepted");
		f = ipr_filter_compile("tcp", IPR_LAYER_NETWORK, &e);
		CHECK("compile clears the error", f && e.code == 0 &&
		      e.pos == 0, "code %d", e.code);
		ipr_filter_free(f);
	}
	{
		struct ipr_kprog p;

		memset(&p, 0xff, sizeof(p));
		CHECK("kprog NULL filter", ipr_kprog_build(NULL, IPR_HOOK_IN, &p)
		      == -EINVAL && p.nchains == 0 && !p.tests, "accepted");
		ipr_kprog_free(&p);
		ipr_kprog_free(NULL);
	}
}

int main(void)
{
	build_packets();
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(i, &cases[i]);
	cross_check();
	random_check();
	bad_filters();
	limits();
	kprog_shapes();
	kprog_tests();
	format_checks();
	return check_exit();
}
