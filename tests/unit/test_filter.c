/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_filter.c - the filter language: (filter, packet, direction, ifIdx,
 * expected) cases, format round trips, bad filters with their positions,
 * and a kernel-program interpreter that must agree with ipr_filter_eval. */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipredir.h"
#include "filter.h"
#include "check.h"
#include "kprog_run.h"

#define IPR_MAX_LEN_TEST (1 << 20) /* IPR_FILTER_MAX_LEN, internal */

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
	/* as in WinDivert: no transport header in a later fragment */
	{ "udp", F4B, IN, 1, 0 },
	{ "not udp", F4B, IN, 1, 1 },
	{ "tcp", F6B, IN, 1, 0 },
	{ "not tcp", F6B, IN, 1, 1 },
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
	/* WinDivert's values are 128-bit: an IPv4 field holds
	 * ::ffff:a.b.c.d, so a bare 32-bit number is never one */
	{ "ip.SrcAddr == 0x0a000001", T4, IN, 1, 0 },
	{ "ip.SrcAddr == 167772161", T4, IN, 1, 0 },
	{ "ip.SrcAddr != 167772161", T4, IN, 1, 1 },
	{ "ip.SrcAddr == 0xFFFF0A000001", T4, IN, 1, 1 },
	{ "ip.SrcAddr == ::ffff:10.0.0.1", T4, IN, 1, 1 },
	{ "ip.DstAddr == ::ffff:10.0.0.1", T4, IN, 1, 0 },
	{ "ip.SrcAddr > ::1", T4, IN, 1, 1 },
	{ "ip.SrcAddr < ::1:0:0:0", T4, IN, 1, 1 },
	{ "ip.SrcAddr < ::1:0:0:0", T6, IN, 1, 0 },
	{ "not ip.SrcAddr < ::1:0:0:0", T6, IN, 1, 1 },
	{ "ip.SrcAddr == 0x100000000", T4, IN, 1, 0 },
	{ "ip.SrcAddr == ::1", T4, IN, 1, 0 },
	{ "ipv6.SrcAddr == 1.2.3.4", T6, IN, 1, 0 },
	{ "ipv6.SrcAddr != 1.2.3.4", T6, IN, 1, 1 },
	{ "tcp.DstPort == ::50", T4, IN, 1, 1 },
	{ "tcp.DstPort == 0.0.0.80", T4, IN, 1, 0 },
	{ "tcp.DstPort < 65536", T4, IN, 1, 1 },
	{ "tcp.DstPort < 65536", U4, IN, 1, 0 },
	{ "not tcp.DstPort < 65536", U4, IN, 1, 1 },
	{ "tcp.DstPort > -1", T4, IN, 1, 1 },
	{ "tcp.DstPort == -80", T4, IN, 1, 0 },
	{ "tcp.DstPort != -80", T4, IN, 1, 1 },
	{ "ifIdx < 4294967296", T4, IN, 1, 1 },
	{ "ip.DF == 2", T4, IN, 1, 0 },
	{ "ip.DF < 2", T4, IN, 1, 1 },
	{ "tcp.Syn == 0x2", T4, IN, 1, 0 },
	{ "random8 > 256", T4, IN, 1, 0 },
	{ "random8 < 256", T4, IN, 1, 1 },
	{ "mark != 0x100000000", T4, IN, 1, 1 },
	{ "localPort == 1.2.3.4", T4, IN, 1, 0 },
	{ "localPort > -0x8000000000000000", T4, IN, 1, 1 },
	{ "ip.SrcAddr == 255.255.255.255", U4MAX, IN, 1, 1 },
	{ "ip.DstAddr == 0.0.0.0", U4MAX, IN, 1, 1 },
	{ "ip.DstAddr", U4MAX, IN, 1, 1 }, /* ::ffff:0.0.0.0 is not 0 */
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

/* ---------------------------------------------------------------------- */
/* The full field set: (filter, packet, direction, expected) with what    */
/* the address and environment add                                        */
/* ---------------------------------------------------------------------- */

struct fcase {
	const char *filter;
	enum pkt_id pkt;
	enum dir dir;
	int expect;
	uint32_t ifidx;
	struct meta m;
};

#define C(f, p, d, e) { .filter = (f), .pkt = (p), .dir = (d), .expect = (e), \
			.ifidx = 3 }
#define CM(f, p, d, e, ...) { .filter = (f), .pkt = (p), .dir = (d),     \
			      .expect = (e), .ifidx = 3, .m = { __VA_ARGS__ } }
#define CI(f, p, d, e, i) { .filter = (f), .pkt = (p), .dir = (d),       \
			    .expect = (e), .ifidx = (i) }
#define LO .flags = IPR_ADDR_LOOPBACK
#define UID(u) .flags = IPR_ADDR_UID, .uid = (u)

static const struct fcase fcases[] = {
	/* fields fixed per handle */
	C("zero", T4, IN, 0),
	C("zero == 0", T4, IN, 1),
	C("not zero", T4, IN, 1),
	C("zero < 1", T4, OUT, 1),
	C("zero > 0", SHORT, OUT, 0),
	C("event == PACKET", T4, IN, 1),
	C("event == ESTABLISHED", T4, IN, 0),
	C("subIfIdx == 0", T4, OUT, 1),
	C("subIfIdx", T4, OUT, 0),
	C("impostor", T4, IN, 0),
	C("not impostor", T4, IN, 1),
	C("!impostor and !loopback", T4, OUT, 1),
	C("impostor == 0", T4, FWD, 1),
	C("layer == NETWORK", T4, IN, 1),
	C("layer == NETWORK", T4, FWD, 0),
	C("layer == NETWORK_FORWARD", T4, FWD, 1),
	C("layer == 1", T4, OUT, 0),
	C("layer", T4, FWD, 1),
	C("priority == 0", T4, IN, 1),
	C("priority > -1", T4, IN, 1),
	C("priority < 0", T4, IN, 0),
	C("priority != 0", T4, IN, 0),
	C("priority >= -30000 and priority <= 30000", T4, OUT, 1),
	/* timestamp and random: user space */
	CM("timestamp == 1000", T4, IN, 1, .ts = 1000),
	CM("timestamp > 999", T4, IN, 1, .ts = 1000),
	CM("timestamp < 1000", T4, IN, 0, .ts = 1000),
	CM("timestamp >= 0x1000000000000000", T4, OUT, 1,
	   .ts = 0x1000000000000000ull),
	C("timestamp", T4, IN, 0),
	CM("timestamp", SHORT, IN, 1, .ts = 5),
	C("random8 <= 255", T4, IN, 1),
	C("random16 <= 65535", U6, OUT, 1),
	C("random32 >= 0", TP4, FWD, 1),
	C("random8 >= 0 and random16 >= 0 and tcp", T4, IN, 1),
	C("random8 <= 255", SHORT, IN, 0),
	C("random8 < 128 or true", T4, IN, 1),
	C("random8 < 128 and false", T4, IN, 0),
	/* interfaces */
	CM("ifName == \"eth0\"", T4, IN, 1, .ifname = "eth0"),
	CM("ifName == \"eth0\"", T4, OUT, 1, .ifname = "eth0"),
	CM("ifName == \"eth1\"", T4, IN, 0, .ifname = "eth0"),
	CM("ifName != \"eth1\"", T4, IN, 1, .ifname = "eth0"),
	CM("ifName == \"eth*\"", T4, FWD, 1, .ifname = "eth0"),
	CM("ifName == \"et*\"", U6, IN, 1, .ifname = "eth0"),
	CM("ifName == \"wlan*\"", U6, IN, 0, .ifname = "eth0"),
	CM("ifName != \"veth*\"", U6, OUT, 1, .ifname = "eth0"),
	CM("ifName == \"eth\"", T4, IN, 0, .ifname = "eth0"),
	CM("ifName == \"eth0\"", SHORT, IN, 1, .ifname = "eth0"),
	CM("ifName", T4, IN, 1, .ifname = "x"),
	CM("not ifName == \"lo\"", T4, IN, 1, .ifname = "eth0"),
	CM("ifName == \"veth-a.1*\"", T4, IN, 1, .ifname = "veth-a.1x"),
	CM("tcp and ifName == \"eth0\" and tcp.DstPort == 80", T4, IN, 1,
	   .ifname = "eth0"),
	CI("ifName == \"lo\"", T4, IN, 1, 1),
	CI("ifName == \"lo\"", T4, OUT, 1, 1),
	CI("ifName == \"lo\"", T4, IN, 0, 0),
	CI("not ifName == \"lo\"", T4, IN, 0, 0),
	CI("ifIdx == 7", T4, IN, 1, 7),
	CI("ifIdx == 7 or ifIdx == 8", T4, FWD, 1, 8),
	CI("ifIdx >= 0x10000", T4, OUT, 1, 0x10000),
	/* loopback */
	CM("loopback", T4, OUT, 1, LO),
	CM("loopback", T4, IN, 0, LO),
	C("loopback", T4, OUT, 0),
	CM("not loopback", T4, OUT, 0, LO),
	C("not loopback", T4, IN, 1),
	CM("loopback", T4, FWD, 0, LO),
	CM("loopback == 0", T4, FWD, 1, LO),
	CM("outbound and loopback and tcp.DstPort == 80", T4, OUT, 1, LO),
	CM("loopback", SHORT, OUT, 1, LO),
	/* fragments */
	C("fragment", F4A, IN, 1),
	C("fragment", F4B, IN, 1),
	C("fragment", F6A, IN, 1),
	C("fragment", F6B, OUT, 1),
	C("fragment", UF6, FWD, 1),
	C("fragment", T4, IN, 0),
	C("fragment", U4, IN, 0),
	C("fragment", T6, IN, 0),
	C("fragment", T6EXT, IN, 0),
	C("fragment", RT6, IN, 0),
	C("not fragment", T4, IN, 1),
	C("not fragment", F4B, IN, 0),
	C("fragment and udp", F4B, IN, 0),
	/* a readable transport header rules out a later fragment, not
	 * another fragment offset (found by the random filters) */
	C("udp and ip.FragOff != 2", U4, IN, 1),
	C("(udp ? ip.FragOff != 2 : remoteAddr)", U4, IN, 1),
	C("fragment and ip.Protocol == 17", F4B, IN, 1),
	C("fragment", SHORT, IN, 0),
	C("not fragment", SHORT, IN, 0),
	C("fragment == 0", TP4, OUT, 1),
	/* length, protocol, mark */
	C("length == 40", T4, IN, 1),
	C("length > 40", T4, IN, 0),
	C("length == 68", TP4, IN, 1),
	C("length >= 60", TP4, OUT, 1),
	C("length < 100", U6, FWD, 1),
	C("length == 24", CAP4, IN, 1),
	CM("length == 40", CAP4, IN, 1, .flags = IPR_ADDR_TRUNCATED,
	   .orig_len = 40),
	C("length == 10", SHORT, IN, 1),
	C("length", SHORT, OUT, 1),
	C("protocol == TCP", T4, IN, 1),
	C("protocol == 6", T6EXT, IN, 1),
	C("protocol == UDP", U4, IN, 1),
	C("protocol == 17", RT6, IN, 1),
	C("protocol == ICMP", I4, OUT, 1),
	C("protocol == ICMPV6", I6, IN, 1),
	C("protocol == 59", NONE6, IN, 1),
	C("protocol == 1", ICMP6V4, IN, 1),
	C("protocol == 17", F4B, IN, 1),
	C("protocol == 6", F6B, IN, 1),
	C("protocol == 17", UF6, IN, 1),
	C("protocol < 17 and protocol > 1", T4, FWD, 1),
	C("protocol", NONE6, IN, 1),
	C("protocol != 6", T4, IN, 0),
	C("protocol == 6", SHORT, IN, 0),
	C("not protocol == 6", SHORT, IN, 0),
	CM("mark == 5", T4, IN, 1, .flags = IPR_ADDR_MARK, .mark = 5),
	C("mark == 0", T4, IN, 1),
	C("mark", T4, OUT, 0),
	CM("mark > 0x10", T4, OUT, 1, .flags = IPR_ADDR_MARK, .mark = 0x11),
	CM("mark >= 0x80000000", U6, FWD, 1, .flags = IPR_ADDR_MARK,
	   .mark = 0xffffffff),
	CM("mark < 256", T4, IN, 0, .flags = IPR_ADDR_MARK, .mark = 0x100),
	CM("mark != 7", T4, OUT, 0, .flags = IPR_ADDR_MARK, .mark = 7),
	CM("mark == 7", SHORT, OUT, 1, .flags = IPR_ADDR_MARK, .mark = 7),
	/* uid and gid: outbound packets of local sockets */
	CM("uid == 1000", T4, OUT, 1, UID(1000)),
	CM("uid == 0", T4, OUT, 0, UID(1000)),
	CM("uid != 0", T4, OUT, 1, UID(1000)),
	CM("uid < 1000", T4, OUT, 0, UID(1000)),
	CM("uid >= 1000", T6, OUT, 1, UID(1000)),
	C("uid == 0", T4, OUT, 0),
	C("not uid == 0", T4, OUT, 0),
	CM("uid == 1000", T4, IN, 0, UID(1000)),
	CM("not uid == 5", T4, IN, 0, UID(1000)),
	CM("gid == 100", U4, OUT, 1, .flags = IPR_ADDR_GID, .gid = 100),
	CM("gid < 100", U4, OUT, 0, .flags = IPR_ADDR_GID, .gid = 100),
	CM("gid == 100", U4, OUT, 0, UID(100)),
	CM("outbound and uid >= 1000 and gid == 100", TP4, OUT, 1,
	   .flags = IPR_ADDR_UID | IPR_ADDR_GID, .uid = 1001, .gid = 100),
	C("inbound or uid == 0", T4, IN, 1),
	CM("inbound or uid == 0", T4, OUT, 1, UID(0)),
	C("(outbound ? uid == 0 : true)", T4, IN, 1),
	CM("(outbound ? uid == 0 : true)", T4, OUT, 1, UID(0)),
	/* ct.state */
	CM("ct.state == new", T4, IN, 1, .ct = IPR_CT_NEW),
	CM("ct.state == established", T4, IN, 0, .ct = IPR_CT_NEW),
	CM("ct.state != established", T4, IN, 1, .ct = IPR_CT_NEW),
	CM("ct.state == established and tcp.DstPort == 80", T4, IN, 1,
	   .ct = IPR_CT_ESTABLISHED),
	CM("ct.state == related or ct.state == invalid", I4, IN, 1,
	   .ct = IPR_CT_RELATED),
	CM("ct.state == invalid", U4, OUT, 1, .ct = IPR_CT_INVALID),
	CM("ct.state == untracked", U4, FWD, 1, .ct = IPR_CT_UNTRACKED),
	CM("not ct.state == new", U6, IN, 0, .ct = IPR_CT_NEW),
	CM("ct.state = new", SHORT, IN, 1, .ct = IPR_CT_NEW),
	C("ct.state == new", T4, IN, 0),
	C("not ct.state == new", T4, IN, 0),
	/* local and remote addresses */
	C("localAddr == 10.0.0.2", T4, IN, 1),
	C("localAddr == 10.0.0.1", T4, OUT, 1),
	C("remoteAddr == 10.0.0.1", T4, IN, 1),
	C("remoteAddr == 10.0.0.2", T4, OUT, 1),
	C("localAddr == 10.0.0.1", T4, FWD, 1),
	C("remoteAddr == 10.0.0.2", T4, FWD, 1),
	C("localAddr == ::ffff:10.0.0.2", T4, IN, 1),
	C("localAddr == 2001:db8::2", T6, IN, 1),
	C("remoteAddr == 2001:db8::1", T6, IN, 1),
	C("localAddr == 2001:db8::1", T6, OUT, 1),
	C("localAddr == 10.0.0.2", T6, IN, 0),
	C("localAddr != 10.0.0.2", T6, IN, 1),
	C("localAddr < 10.0.0.3", T4, IN, 1),
	C("localAddr > 10.0.0.2", T4, IN, 0),
	C("localAddr > 10.0.0.2", T6, IN, 1),
	C("localAddr < ::1", T4, IN, 0),
	C("localAddr > ::1", T4, IN, 1),
	C("localAddr >= ::ffff:0.0.0.0 and localAddr <= ::ffff:255.255.255.255",
	  T4, IN, 1),
	C("localAddr >= ::ffff:0.0.0.0 and localAddr <= ::ffff:255.255.255.255",
	  T6, IN, 0),
	C("remoteAddr == ::ffff:10.0.0.1", T6MAP, IN, 1),
	C("remoteAddr == 10.0.0.1", T6MAP, IN, 1),
	C("localAddr", T4, IN, 1),
	C("localAddr == 0", U4MAX, OUT, 0),
	C("not localAddr", U4MAX, IN, 0),
	C("localAddr == 0.0.0.0", U4MAX, IN, 1),
	C("localAddr == 10.0.0.2", SHORT, IN, 0),
	C("not localAddr == 10.0.0.2", SHORT, IN, 0),
	C("localAddr == 10.0.0.2", CAP4, IN, 1),
	C("remoteAddr == 192.168.1.5", UQ4, IN, 1),
	C("remoteAddr == 0xc0a80105", UQ4, OUT, 0),
	C("localAddr == fd00::2 and remoteAddr == fd00::1", TF6, IN, 1),
	/* local and remote ports */
	C("localPort == 80", T4, IN, 1),
	C("localPort == 80", T4, OUT, 0),
	C("localPort == 1234", T4, OUT, 1),
	C("remotePort == 1234", T4, IN, 1),
	C("remotePort == 80", T4, OUT, 1),
	C("localPort == 53", U4, IN, 1),
	C("localPort == 5353", U4, OUT, 1),
	C("localPort == 80", T4, FWD, 0),
	C("localPort == 1234", T4, FWD, 1),
	C("localPort == 0", I4, IN, 1),
	C("remotePort == 8", I4, IN, 1),
	C("localPort == 8", I4, OUT, 1),
	C("remotePort == 0", I4, OUT, 1),
	C("remotePort == 128", I6, IN, 1),
	C("localPort == 128", I6, OUT, 1),
	C("localPort == 129", IE6, FWD, 1),
	C("remotePort == 3", IU4, IN, 1),
	C("localPort > 255", I4, OUT, 0),
	C("localPort < 300", I4, OUT, 1),
	C("localPort == 300", I4, OUT, 0),
	C("localPort != 300", I4, OUT, 1),
	C("localPort == 0", NONE6, IN, 1),
	C("remotePort == 0", NONE6, OUT, 1),
	C("localPort", NONE6, IN, 0),
	C("not localPort", NONE6, IN, 1),
	C("localPort == 0", ICMP6V4, OUT, 1),
	C("localPort == 80", F6B, IN, 0),
	C("not localPort == 80", F6B, IN, 0),
	C("localPort == 33000", F4A, IN, 1),
	C("localPort != 33000", F4B, IN, 0),
	C("remotePort == 1234", TT4, IN, 1),
	C("localPort == 80", TT4, IN, 0),
	C("localPort == 443", TP4, IN, 1),
	C("remotePort < 1024 or localPort < 1024", TP4, IN, 1),
	C("localPort == 8080", T6EXT, IN, 1),
	C("localPort == 9", RT6, IN, 1),
	C("localPort == 9", SHORT, IN, 0),
	/* packet[i] */
	C("packet[0] == 0x45", T4, IN, 1),
	C("packet[0] == 0x60", T6, IN, 1),
	C("packet[0] == 0x47", T4OPT, IN, 1),
	C("packet[9] == 6", T4, OUT, 1),
	C("packet16[1] == 40", T4, IN, 1),
	C("packet16[2b] == 40", T4, IN, 1),
	C("packet32[3] == 0x0a000001", T4, IN, 1),
	C("packet32[12b] == 0x0a000001", T4, IN, 1),
	C("packet32[13b] == 0x0000010a", T4, IN, 1),
	C("packet[39] == 0", T4, IN, 1),
	C("packet[40]", T4, IN, 0),
	C("not packet[40] == 1", T4, IN, 0),
	C("packet[0x10] == 10", T4, IN, 1),
	C("packet[-1] == 0", T4, IN, 1),
	C("packet[-1] == 0x0a", TP4, IN, 1),
	C("packet16[-1] == 0x0d0a", TP4, OUT, 1),
	C("packet32[-1] == 0x2e310d0a", TP4, FWD, 1),
	C("packet[-3b] == 0x31", TP4, IN, 1),
	C("packet16[-3b] == 0x310d", TP4, IN, 1),
	C("packet[-68] == 0x45", TP4, IN, 1),
	C("packet[-69]", TP4, IN, 0),
	C("not packet[-69] == 1", TP4, IN, 0),
	C("packet[0] == 0x45", SHORT, IN, 0),
	C("packet[23] == 0x50", CAP4, IN, 1),
	C("packet[30]", CAP4, IN, 0),
	C("packet[20] == 0", F4B, IN, 1),
	C("packet16[10] == 53", F4B, IN, 1),
	C("packet32[2] == 0x20010db8", T6, IN, 1),
	C("packet[54] == 0x50", T6EXT, IN, 0),
	C("packet[6] == 0 and packet[40] == 60", T6EXT, IN, 1),
	/* tcp.Payload[i] */
	C("tcp.Payload[0] == 0x47", TP4, IN, 1),
	C("tcp.Payload32[0] == 0x47455420", TP4, IN, 1),
	C("tcp.Payload[1b] == 0x45", TP4, OUT, 1),
	C("tcp.Payload16[1] == 0x5420", TP4, IN, 1),
	C("tcp.Payload[15] == 0x0a", TP4, IN, 1),
	C("tcp.Payload[16]", TP4, IN, 0),
	C("tcp.Payload[-1] == 0x0a", TP4, IN, 1),
	C("tcp.Payload32[-1] == 0x2e310d0a", TP4, IN, 1),
	C("tcp.Payload[-16] == 0x47", TP4, IN, 1),
	C("tcp.Payload[-17]", TP4, IN, 0),
	C("tcp.Payload[0]", T4, IN, 0),
	C("not tcp.Payload[0] == 1", T4, IN, 0),
	C("tcp.Payload[0] == 0x61", TF6, IN, 1),
	C("tcp.Payload[2] == 0x63", TF6, FWD, 1),
	C("tcp.Payload[0] == 0x41", DOFF4, IN, 0),
	C("not tcp.Payload[0] == 0x41", DOFF4, IN, 0),
	C("tcp.Payload[0] == 0x41", DCUT4, IN, 0),
	C("tcp.Payload[0] == 0x47", U4, IN, 0),
	C("not tcp.Payload[0] == 0x47", U4, IN, 1),
	C("tcp.Payload[0]", F6A, IN, 0),
	C("tcp.Payload[0]", F6B, IN, 0),
	C("not tcp.Payload[0] == 0", F6B, IN, 0),
	/* udp.Payload[i] */
	C("udp.Payload[0] >= 0xC0 and udp.Payload32[1b] == 0x01", UQ4, OUT, 1),
	C("udp.Payload[0] == 0xc0", UQ4, IN, 1),
	C("udp.Payload16[0] == 0xc000", UQ4, IN, 1),
	C("udp.Payload32[1] == 0x01081122", UQ4, IN, 1),
	C("udp.Payload[-1] == 0x66", UQ4, IN, 1),
	C("udp.Payload[12]", UQ4, IN, 0),
	C("udp.Payload32[2] == 0x33445566", UQ4, IN, 1),
	C("udp.Payload32[0] == 0xdeadbeef", UP6, IN, 1),
	C("udp.Payload[7] == 0x33", UP6, IN, 1),
	C("udp.Payload[0] == 1", UF6, IN, 1),
	C("udp.Payload[0]", U4, IN, 0),
	C("udp.Payload[0]", F4B, IN, 0),
	C("udp.Payload[0] == 0xde", RT6, IN, 0),
	/* payload lengths: user space */
	C("tcp.PayloadLength == 16", TP4, IN, 1),
	C("tcp.PayloadLength == 0", T4, IN, 1),
	C("tcp.PayloadLength > 0", T4, IN, 0),
	C("tcp.PayloadLength == 3", TF6, IN, 1),
	C("udp.PayloadLength == 12", UQ4, IN, 1),
	C("udp.PayloadLength == 8", UP6, IN, 1),
	C("udp.PayloadLength == 0", U4, IN, 1),
	C("tcp.PayloadLength", U4, IN, 0),
	C("not tcp.PayloadLength", U4, IN, 1),
	C("tcp.PayloadLength == 0", DOFF4, IN, 0),
	C("udp.PayloadLength == 4", UF6, IN, 1),
	C("udp.PayloadLength == 8", F4A, IN, 1),
	C("tcp.PayloadLength == 0", CAP4, IN, 0),
	/* ip.* */
	C("ip.HdrLength == 5", T4, IN, 1),
	C("ip.HdrLength == 7", T4OPT, IN, 1),
	C("ip.HdrLength > 5", T4OPT, IN, 1),
	C("ip.HdrLength", T6, IN, 0),
	C("not ip.HdrLength == 5", T6, IN, 1),
	C("ip.TOS == 0x10", TP4, IN, 1),
	C("ip.TOS == 0", T4, IN, 1),
	C("ip.Length == 68", TP4, IN, 1),
	C("ip.Length == 40", T4, IN, 1),
	C("ip.Length < 40", T4, IN, 0),
	C("ip.Id == 0x1234", TP4, IN, 1),
	C("ip.Id == 0xffff", UQ4, IN, 1),
	C("ip.DF", T4, IN, 1),
	C("ip.DF == 1", TP4, IN, 1),
	C("ip.DF", U4, IN, 0),
	C("ip.DF == 0", U4, IN, 1),
	C("ip.MF", F4A, IN, 1),
	C("ip.MF", F4B, IN, 0),
	C("ip.MF == 0", F4B, IN, 1),
	C("ip.FragOff == 1", F4B, IN, 1),
	C("ip.FragOff == 0", F4A, IN, 1),
	C("ip.FragOff > 0", F4B, IN, 1),
	C("ip.DF and ip.MF", T4, IN, 0),
	C("ip.TTL == 64", T4, IN, 1),
	C("ip.TTL == 1", UQ4, IN, 1),
	C("ip.TTL < 2", UQ4, OUT, 1),
	C("ip.TTL <= 1 and udp", UQ4, FWD, 1),
	C("ip.Protocol == 17", F4B, IN, 1),
	C("ip.Protocol == 6", T4, IN, 1),
	C("ip.Checksum == 0xabcd", TP4, IN, 1),
	C("ip.Checksum == 0", T4, IN, 1),
	C("ip.SrcAddr == 10.0.0.2", IE4, IN, 1),
	C("ip.HdrLength == 5", SHORT, IN, 0),
	/* ipv6.* */
	C("ipv6.TrafficClass == 0xb8", UP6, IN, 1),
	C("ipv6.TrafficClass == 0", T6, IN, 1),
	C("ipv6.TrafficClass > 0x80", UP6, IN, 1),
	C("ipv6.FlowLabel == 0x12345", UP6, IN, 1),
	C("ipv6.FlowLabel == 0", T6, IN, 1),
	C("ipv6.FlowLabel > 0x12344", UP6, IN, 1),
	C("ipv6.FlowLabel < 0x12345", UP6, IN, 0),
	C("ipv6.Length == 16", UP6, IN, 1),
	C("ipv6.Length == 20", T6, IN, 1),
	C("ipv6.NextHdr == 0", T6EXT, IN, 1),
	C("ipv6.NextHdr == 43", RT6, IN, 1),
	C("ipv6.NextHdr == 44", F6A, IN, 1),
	C("ipv6.NextHdr == 17", UP6, IN, 1),
	C("ipv6.HopLimit == 255", UP6, IN, 1),
	C("ipv6.HopLimit == 64", T6, IN, 1),
	C("ipv6.HopLimit", T4, IN, 0),
	C("not ipv6.HopLimit == 1", T4, IN, 1),
	/* icmp.* and icmpv6.* */
	C("icmp.Type == 8", IE4, IN, 1),
	C("icmp.Code == 0", IE4, IN, 1),
	C("icmp.Type == 3 and icmp.Code == 3", IU4, IN, 1),
	C("icmp.Checksum == 0xf7fc", IE4, IN, 1),
	C("icmp.Body == 0x00010002", IE4, IN, 1),
	C("icmp.Body == 0", IU4, IN, 1),
	C("icmp.Type == 8", IE6, IN, 0),
	C("not icmp.Type == 8", IE6, IN, 1),
	C("icmp.Type", I4, IN, 1),
	C("icmpv6.Type == 129", IE6, IN, 1),
	C("icmpv6.Code == 0", IE6, IN, 1),
	C("icmpv6.Body == 0x12345678", IE6, IN, 1),
	C("icmpv6.Type == 128", I6, IN, 1),
	C("icmpv6.Checksum == 0", I6, IN, 1),
	C("icmpv6.Type == 1", ICMP6V4, IN, 0),
	C("icmp.Type == 8", ICMP6V4, IN, 0),
	/* tcp.* */
	C("tcp.SeqNum == 0x01020304", TP4, IN, 1),
	C("tcp.AckNum == 0x0a0b0c0d", TP4, IN, 1),
	C("tcp.SeqNum > 0", T4, IN, 0),
	C("tcp.HdrLength == 8", TP4, IN, 1),
	C("tcp.HdrLength == 5", T4, IN, 1),
	C("tcp.HdrLength == 4", DOFF4, IN, 1),
	C("tcp.HdrLength == 15", DCUT4, IN, 1),
	C("tcp.Syn", T4, IN, 1),
	C("tcp.Syn == 1 and tcp.Ack == 0", T4, IN, 1),
	C("tcp.Ack and tcp.Psh", TP4, IN, 1),
	C("tcp.Syn", TP4, IN, 0),
	C("tcp.Fin and tcp.Ack and tcp.Urg", TF6, IN, 1),
	C("tcp.Rst", T4, IN, 0),
	C("tcp.Rst == 0", T4, IN, 1),
	C("not tcp.Rst", T4, IN, 1),
	C("tcp.Urg == 1", TF6, IN, 1),
	C("tcp.Psh", TF6, IN, 0),
	C("tcp.Window == 65535", TP4, IN, 1),
	C("tcp.Window == 512", TF6, IN, 1),
	C("tcp.Checksum == 0xbeef", TP4, IN, 1),
	C("tcp.UrgPtr == 7", TF6, IN, 1),
	C("tcp.UrgPtr == 0", T4, IN, 1),
	C("tcp.Syn", U4, IN, 0),
	C("not tcp.Syn", U4, IN, 1),
	C("tcp.Syn", F6B, IN, 0),
	C("not tcp.Syn", F6B, IN, 0),
	C("tcp.Syn", TT4, IN, 0),
	C("tcp.Syn", DOFF4, IN, 1),
	/* udp.* */
	C("udp.Length == 20", UQ4, IN, 1),
	C("udp.Length == 8", U4, IN, 1),
	C("udp.Checksum == 0x1111", UQ4, IN, 1),
	C("udp.Checksum == 0", U4, IN, 1),
	C("udp.SrcPort == 7", RT6, IN, 1),
	C("udp.DstPort == 5353", UF6, IN, 1),
	/* equality lists: one set lookup in the kernel (cross_check runs
	 * each against every packet, kernel program against eval) */
	C("tcp.DstPort == 22 or tcp.DstPort == 80 or tcp.DstPort == 443",
	  T4, IN, 1),
	C("tcp.DstPort == 22 or tcp.DstPort == 81 or tcp.DstPort == 443",
	  T4, IN, 0),
	C("tcp.DstPort == 22 or tcp.DstPort == 81 or tcp.DstPort == 443",
	  TF6, IN, 0),
	C("tcp.DstPort != 22 and tcp.DstPort != 81 and tcp.DstPort != 443",
	  T4, IN, 1),
	C("tcp.DstPort != 22 and tcp.DstPort != 80 and tcp.DstPort != 443",
	  T4, IN, 0),
	C("tcp.DstPort != 22 and tcp.DstPort != 81 and tcp.DstPort != 443",
	  U4, IN, 0),
	C("not (tcp.DstPort == 22 or tcp.DstPort == 81 or tcp.DstPort == 8)",
	  U4, IN, 1),
	C("not (tcp.DstPort == 22 or tcp.DstPort == 80 or tcp.DstPort == 8)",
	  T4, IN, 0),
	C("ip.DstAddr == 10.0.0.9 or ip.DstAddr == 10.0.0.2 or "
	  "ip.DstAddr == 8.8.8.8 or ip.DstAddr == 10.0.0.2", T4, IN, 1),
	C("ip.DstAddr == 10.0.0.9 or ip.DstAddr == 10.0.0.3 or "
	  "ip.DstAddr == 8.8.8.8", U4, IN, 1),
	C("ip.DstAddr == 10.0.0.9 or ip.DstAddr == 10.0.0.3 or "
	  "ip.DstAddr == 8.8.4.4", U4, IN, 0),
	C("ipv6.SrcAddr == 2001:db8::1 or ipv6.SrcAddr == fe80::1 or "
	  "ipv6.SrcAddr == ::1", U6, IN, 1),
	C("remoteAddr == 10.0.0.1 or remoteAddr == 2001:db8::1 or "
	  "remoteAddr == 9.9.9.9 or remoteAddr == fe80::9", T6, IN, 1),
	C("remotePort == 1234 or remotePort == 443 or remotePort == 53",
	  U4, OUT, 1),
	C("ifIdx == 1 or ifIdx == 3 or ifIdx == 7", T4, IN, 1),
	C("ifIdx == 1 or ifIdx == 2 or ifIdx == 7", T4, FWD, 0),
	C("ifIdx != 1 and ifIdx != 2 and ifIdx != 7", T4, OUT, 1),
	C("tcp or udp or icmp", I4, IN, 1),
	C("tcp or udp or icmp", I6, IN, 0),
	C("ip.TTL == 1 or ip.TTL == 64 or ip.TTL == 128", UQ4, IN, 1),
	C("(tcp.DstPort == 1 or tcp.DstPort == 2 or tcp.DstPort == 80) and "
	  "(tcp.SrcPort == 1234 or tcp.SrcPort == 5 or tcp.SrcPort == 6)",
	  T4, IN, 1),
	C("outbound and (tcp.DstPort == 1 or tcp.DstPort == 2 or "
	  "tcp.DstPort == 80) or udp.DstPort == 53", T4, OUT, 1),
	/* combinations */
	C("tcp.DstPort == 443 and tcp.Payload32[0] == 0x47455420 and "
	  "ip.TTL >= 64", TP4, IN, 1),
	C("(udp ? udp.Payload[0] == 0xc0 : tcp.Payload[0] == 0x47)", UQ4, IN, 1),
	C("(udp ? udp.Payload[0] == 0xc0 : tcp.Payload[0] == 0x47)", TP4, IN, 1),
	C("(udp ? udp.Payload[0] == 0xc0 : tcp.Payload[0] == 0x47)", T4, IN, 0),
	C("not (tcp.Syn and not tcp.Ack)", T4, IN, 0),
	C("ip.DF and not fragment", T4, IN, 1),
	C("outbound and localPort == 1234 and remoteAddr == 10.0.0.2", T4, OUT, 1),
	C("inbound and remotePort == 1234 and localAddr == 10.0.0.2", T4, IN, 1),
	C("tcp.PayloadLength > 10 and tcp.DstPort == 443", TP4, IN, 1),
	C("tcp.PayloadLength > 10 and tcp.DstPort == 80", TP4, IN, 0),
	C("length > 60 and packet[-1] == 10", TP4, IN, 1),
	C("(fragment ? ip.MF : true)", F4B, IN, 0),
	C("(fragment ? ip.MF : true)", F4A, IN, 1),
	C("(fragment ? ip.MF : true)", T4, IN, 1),
	C("(tcp.Syn ? random8 <= 255 : false)", T4, IN, 1),
	C("(tcp.Syn ? random8 <= 255 : false)", TP4, IN, 0),
	C("udp and (udp.DstPort == 443 or udp.DstPort == 80) and "
	  "udp.Payload[0] & 0", UQ4, IN, -1),
	C("icmp or icmpv6 and icmpv6.Type == 129", IE6, IN, 1),
	C("(ip.TTL < 2 or ipv6.HopLimit < 2) and not tcp", UQ4, IN, 1),
	C("localPort == 443 and remoteAddr >= 192.168.0.0 and "
	  "remoteAddr <= 192.168.255.255", UQ4, IN, 1),
	C("ipv6 and ipv6.FlowLabel != 0 and udp.Payload16[-1] == 0x2233",
	  UP6, IN, 1),
	C("not (ip.Id == 0x1234 or ipv6.FlowLabel == 0x12345)", TP4, IN, 0),
	C("not (ip.Id == 0x1234 or ipv6.FlowLabel == 0x12345)", T6, IN, 1),
};

/* Compile for the case's layer, check eval, format and recompile, and
 * run the kernel program of the case's hook with the same metadata. */
static void run_fcase(unsigned i, const struct fcase *c)
{
	char name[512], why[512], txt[4096], txt2[4096];
	struct ipr_filter_error e;
	const struct pkt *k = &pk[c->pkt];
	struct ipr_addr a = mkaddr(c->dir, c->ifidx);
	struct ipr_filter_env env;
	ipr_filter *f = NULL, *g = NULL;
	int r, r2;

	snprintf(name, sizeof(name), "field case %u: \"%s\" on %s %s", i,
		 printable(c->filter), k->name, dir_name[c->dir]);
	apply_meta(&a, &env, &c->m);
	f = ipr_filter_compile(c->filter, layer_of(c->dir), &e);
	if (c->expect < 0) {
		CHECK(name, f == NULL, "compiled");
		ipr_filter_free(f);
		return;
	}
	if (!f) {
		check_fail(name, "compile: %s at %d", e.msg, e.pos);
		return;
	}
	r = ipr_filter_eval_ex(f, k->d, k->len, &a, &env);
	if (r != c->expect) {
		check_fail(name, "eval %d, expected %d", r, c->expect);
		goto out;
	}
	if (ipr_filter_format(f, txt, sizeof(txt)) < 0 ||
	    !(g = ipr_filter_compile(txt, layer_of(c->dir), &e))) {
		check_fail(name, "formatted \"%s\" does not compile: %s at %d",
			   txt, e.msg, e.pos);
		goto out;
	}
	r2 = ipr_filter_eval_ex(g, k->d, k->len, &a, &env);
	ipr_filter_format(g, txt2, sizeof(txt2));
	if (r2 != r || strcmp(txt, txt2)) {
		check_fail(name, "formatted \"%s\" gives %d, then \"%s\"", txt,
			   r2, txt2);
		goto out;
	}
	/* the kernel always knows the conntrack state; a case that gives
	 * none cannot say what the kernel would do */
	for (int pass = 0; pass < 2 && (env.ct_state ||
					!strstr(c->filter, "ct.state")); pass++) {
		ipr_filter *h = pass ? g : f;
		struct ipr_kprog p;
		const char *bad = NULL;
		int kv, err = ipri_kprog_build(h, hook_of[c->dir], &p);

		if (err) {
			check_fail(name, "kprog_build: %d", err);
			goto out;
		}
		kv = krun(&p, hook_of[c->dir], k->d, k->len, &a, &env, &bad);
		ipri_kprog_free(&p);
		if (kv < 0 ||
		    (ipri_filter_needs_user_check_hook(h, hook_of[c->dir])
		     ? kv < r : kv != r)) {
			snprintf(why, sizeof(why), "kernel program %s: %d, "
				 "eval %d", bad ? bad : "", kv, r);
			check_fail(name, "%s%s", pass ? "formatted: " : "", why);
			goto out;
		}
	}
	check_pass(name, NULL);
out:
	ipr_filter_free(f);
	ipr_filter_free(g);
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

/* The fields of the full language, with values the test packets have. */
static void gen_leaf_more(struct buf *b, const char *op)
{
	static const struct {
		const char *name;
		unsigned v[5];
	} nums[] = {
		{ "ip.TTL", { 1, 64, 255, 63, 2 } },
		{ "ip.DF", { 0, 1, 1, 0, 1 } },
		{ "ip.MF", { 0, 1, 0, 1, 0 } },
		{ "ip.FragOff", { 0, 1, 2, 0, 1 } },
		{ "ip.HdrLength", { 5, 7, 6, 15, 0 } },
		{ "ip.Id", { 0, 0x1234, 0xffff, 1, 0x1233 } },
		{ "ip.TOS", { 0, 16, 15, 17, 255 } },
		{ "ip.Length", { 40, 68, 28, 24, 32 } },
		{ "ip.Protocol", { 1, 6, 17, 58, 0 } },
		{ "ip.Checksum", { 0, 0xabcd, 1, 0xffff, 0xabce } },
		{ "ipv6.FlowLabel", { 0, 0x12345, 0x12344, 0xfffff, 1 } },
		{ "ipv6.TrafficClass", { 0, 0xb8, 0xb7, 255, 1 } },
		{ "ipv6.NextHdr", { 0, 6, 17, 43, 44 } },
		{ "ipv6.HopLimit", { 64, 255, 1, 0, 128 } },
		{ "ipv6.Length", { 16, 20, 23, 0, 8 } },
		{ "tcp.Syn", { 0, 1, 1, 0, 1 } },
		{ "tcp.Ack", { 0, 1, 1, 0, 1 } },
		{ "tcp.Fin", { 0, 1, 1, 0, 0 } },
		{ "tcp.Urg", { 0, 1, 1, 0, 0 } },
		{ "tcp.HdrLength", { 4, 5, 8, 15, 6 } },
		{ "tcp.Window", { 0, 512, 65535, 511, 1 } },
		{ "tcp.SeqNum", { 0, 0x01020304, 1, 0x01020305, 5 } },
		{ "tcp.UrgPtr", { 0, 7, 6, 8, 1 } },
		{ "icmp.Type", { 3, 8, 0, 7, 9 } },
		{ "icmp.Body", { 0, 0x00010002, 1, 2, 3 } },
		{ "icmpv6.Type", { 128, 129, 1, 130, 0 } },
		{ "icmpv6.Code", { 0, 1, 0, 3, 0 } },
		{ "udp.Length", { 8, 20, 16, 12, 9 } },
		{ "udp.Checksum", { 0, 0x1111, 1, 0x1110, 0x1112 } },
		{ "protocol", { 1, 6, 17, 58, 59 } },
		{ "length", { 24, 40, 68, 10, 48 } },
		{ "mark", { 0, 1, 0, 5, 0 } },
		{ "localPort", { 0, 8, 53, 80, 443 } },
		{ "remotePort", { 0, 1234, 128, 5353, 8080 } },
		{ "tcp.PayloadLength", { 0, 3, 16, 1, 15 } },
		{ "udp.PayloadLength", { 0, 8, 12, 4, 7 } },
		{ "random8", { 0, 127, 128, 255, 64 } },
		{ "random16", { 0, 32767, 32768, 65535, 1000 } },
		{ "random32", { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff } },
		{ "timestamp", { 0, 1, 0, 2, 0 } },
		{ "zero", { 0, 1, 0, 0, 2 } },
		{ "layer", { 0, 1, 0, 1, 2 } },
		{ "subIfIdx", { 0, 1, 0, 0, 0 } },
	};
	static const char *const idx_fields[] = {
		"packet", "packet16", "packet32", "tcp.Payload", "tcp.Payload16",
		"tcp.Payload32", "udp.Payload", "udp.Payload16", "udp.Payload32",
	};
	static const char *const addrs[] = {
		"10.0.0.1", "10.0.0.2", "::ffff:10.0.0.1", "2001:db8::1",
		"2001:db8::2", "::1", "0.0.0.0", "192.168.1.5", "fd00::2",
		"::ffff:0.0.0.0", "ffff::",
	};
	static const char *const bools[] = {
		"fragment", "loopback", "impostor",
	};
	static const char *const names[] = {
		"\"lo\"", "\"eth*\"", "\"x\"", "\"l*\"", "\"\"",
	};
	static const unsigned bytes[] = { 0, 1, 0x45, 0x47, 0x0a, 0xc0, 0x60,
					  0x50, 0x31, 0xde };
	int k;

	switch (rnd(8)) {
	case 0:
	case 1:
	case 2:
		k = (int)rnd(sizeof(nums) / sizeof(nums[0]));
		if (rnd(6))
			bput(b, "%s %s %u", nums[k].name, op, nums[k].v[rnd(5)]);
		else
			bput(b, "%s", nums[k].name);
		break;
	case 3:
		k = (int)rnd(9);
		bput(b, "%s[%d%s] %s %u", idx_fields[k], (int)rnd(90) - 45,
		     rnd(3) ? "" : "b", op, bytes[rnd(10)]);
		break;
	case 4:
		bput(b, "%sAddr %s %s", rnd(2) ? "local" : "remote", op,
		     addrs[rnd(sizeof(addrs) / sizeof(addrs[0]))]);
		break;
	case 5:
		if (rnd(2))
			bput(b, "%s", bools[rnd(3)]);
		else
			bput(b, "%s == %u", bools[rnd(3)], rnd(2));
		break;
	case 6:
		bput(b, "ifName %s %s", rnd(2) ? "==" : "!=", names[rnd(5)]);
		break;
	default:
		bput(b, "priority %s %d", op, (int)rnd(3) - 1);
		break;
	}
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

	switch (rnd(9)) {
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
	case 5:
		bput(b, "ifIdx %s %u", op, rnd(5));
		break;
	default:
		gen_leaf_more(b, op);
		break;
	}
}

/* A list on one field: "(F == a or F == b or ...)", "(F != a and ...)"
 * or "not (F == a or ...)", which the kernel program makes a set lookup. */
static void gen_list(struct buf *b)
{
	static const struct {
		const char *name;
		const char *v[6];
	} lists[] = {
		{ "tcp.DstPort", { "80", "22", "51000", "1234", "443", "0" } },
		{ "udp.SrcPort", { "5353", "546", "53", "1", "547", "2" } },
		{ "ip.DstAddr", { "10.0.0.2", "8.8.8.8", "10.0.0.1",
				  "172.16.0.2", "1.1.1.1", "10.0.0.3" } },
		{ "ipv6.SrcAddr", { "2001:db8::1", "fe80::1", "::1",
				    "2001:db8::2", "ff02::1:2", "::" } },
		{ "remoteAddr", { "10.0.0.1", "2001:db8::2", "8.8.8.8",
				  "fe80::1", "::ffff:10.0.0.2", "::1" } },
		{ "localPort", { "1234", "80", "53", "5353", "443", "22" } },
		{ "ifIdx", { "0", "2", "4", "3", "1", "256" } },
		{ "ip.TTL", { "64", "1", "255", "128", "63", "2" } },
		{ "icmpv6.Type", { "128", "129", "1", "135", "0", "2" } },
		{ "tcp.Payload[0]", { "71", "0", "1", "80", "10", "255" } },
		{ "protocol", { "6", "17", "1", "58", "0", "2" } },
		{ "mark", { "0", "1", "5", "7", "9", "2" } },
	};
	unsigned f = rnd(sizeof(lists) / sizeof(lists[0]));
	unsigned n = 3 + rnd(4), form = rnd(4);

	if (form == 3 && strcmp(lists[f].name, "ipv6.SrcAddr") &&
	    strcmp(lists[f].name, "ip.DstAddr") &&
	    strcmp(lists[f].name, "remoteAddr")) {
		/* ranges and values: an interval set */
		static const char *const ops[] = { "==", ">=", "<=", ">", "<" };

		bput(b, "(");
		for (unsigned i = 0; i < n; i++) {
			const char *v = lists[f].v[rnd(6)], *w = lists[f].v[rnd(6)];

			if (i)
				bput(b, " or ");
			if (rnd(3))
				bput(b, "%s %s %s", lists[f].name, ops[rnd(5)], v);
			else
				bput(b, "(%s >= %s and %s <= %s)", lists[f].name,
				     v, lists[f].name, w);
		}
		bput(b, ")");
		return;
	}
	if (form == 3)
		form = 0;
	bput(b, form == 2 ? "not (" : "(");
	for (unsigned i = 0; i < n; i++)
		bput(b, "%s%s %s %s", i ? (form == 1 ? " and " : " or ") : "",
		     lists[f].name, form == 1 ? "!=" : "==",
		     lists[f].v[rnd(6)]);
	bput(b, ")");
}

static void gen(struct buf *b, int depth)
{
	unsigned k = depth > 4 ? 0 : rnd(8);

	if (k == 7) {
		gen_list(b);
		return;
	}

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

/* IPR_TEST_RANDOM=N filters (default 8000), IPR_TEST_SEED=S: a longer
 * or different run by hand. */
static void random_check(void)
{
	static const uint32_t ifs[] = { 0, 2, 4 };
	unsigned nf = 0, nmatch = 0, runs = 0, ndeep = 0;
	char why[512], txt[16384];
	const char *env_n = getenv("IPR_TEST_RANDOM");
	const char *env_s = getenv("IPR_TEST_SEED");
	int total = env_n ? atoi(env_n) : 8000;

	if (env_s)
		rng = strtoull(env_s, NULL, 0) | 1;
	for (int i = 0; i < total; i++) {
		struct buf b = { .len = 0 };
		struct prep pr, pr2;
		const char *d;

		gen(&b, 0);
		d = prepare(&pr, b.s, why, sizeof(why));
		if (d == too_deep) {
			ndeep++;
			continue;
		}
		if (d) {
			check_fail("random filters", "\"%s\": %s", b.s, d);
			return;
		}
		ipr_filter_format(pr.f[IN], txt, sizeof(txt));
		d = prepare(&pr2, txt, why, sizeof(why));
		if (d == too_deep)
			d = "the formatted text nests deeper";
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
	/* refusing is right for those, but must stay rare */
	if (ndeep * 50 <= (unsigned)total)
		check_pass("random filters", "%u filters, %u runs x 3 hooks, "
			   "%u matched, %u refused as nested too deep for "
			   "the kernel", nf, runs, nmatch, ndeep);
	else
		check_fail("random filters", "%u of %d refused as nested too "
			   "deep for the kernel", ndeep, total);
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
	{ "ifIdx == 99999999999999999999999", 9, "value out of range" },
	{ "ip.SrcAddr == 1.2.3", 14, "bad IPv4 address" },
	{ "ip.SrcAddr == 1.2.3.256", 14, "bad IPv4 address" },
	{ "ipv6.SrcAddr == 1::2::3", 16, "bad IPv6 address" },
	{ "tcp.DstPort == 80abc", 15, "expected value" },
	{ "tcp.DstPort == http", 15, "expected value" },
	{ "tcp.DstPort == 8O", 15, "expected value" },
	{ "tcp.DstPort == -", 15, "expected value" },
	{ "tcp.DstPort == -::1", 15, "expected number" },
	{ "ifName == 1", 10, "expected \"interface name\"" },
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
	{ "tcp.DstPort == 80:false", 15, "expected value" },
	{ "(tcp ? ipv6.SrcAddr == 1::2::3 : ip)", 23, "bad IPv6 address" },
	/* the full field set */
	{ "priority == -32769", 12, "value out of range" },
	{ "priority == 32768", 12, "value out of range" },
	{ "priority == -", 12, "expected value" },
	{ "priority == -1.2.3.4", 12, "expected number" },
	{ "localAddr == 1.2.3", 13, "bad IPv4 address" },
	{ "packet[", 7, "expected index" },
	{ "packet", 6, "expected '['" },
	{ "packet == 1", 7, "expected '['" },
	{ "packet[1", 8, "expected ']'" },
	{ "packet[1 2]", 9, "expected ']'" },
	{ "packet[1c]", 8, "expected ']'" },
	{ "packet[70000]", 7, "index out of range" },
	{ "packet32[16384]", 9, "index out of range" },
	{ "packet[-65536b]", 7, "index out of range" },
	{ "tcp.Payload[x]", 12, "expected index" },
	{ "tcp.DstPort[1]", 11, "unexpected token" },
	{ "ifName == eth0", 10, "expected \"interface name\"" },
	{ "ifName == \"eth0", 10, "unterminated string" },
	{ "ifName == \"averyveryverylongname\"", 10,
	  "interface name too long" },
	{ "ifName < \"eth0\"", 7, "only == and != for this field" },
	{ "ifName == \"*\"", 10, "empty interface name prefix" },
	{ "ifName == \"e*th\"", 12, "bad character in interface name" },
	{ "ifName == \"a b\"", 12, "bad character in interface name" },
	{ "ct.state == foo", 12,
	  "expected new, established, related, invalid or untracked" },
	{ "ct.state == NEW", 12,
	  "expected new, established, related, invalid or untracked" },
	{ "ct.state", 8, "expected == or !=" },
	{ "ct.state > new", 9, "only == and != for this field" },
	{ "ct.state == new and random8 < 5", 0,
	  "ct.state cannot be combined with fields checked in user space" },
	{ "tcp.PayloadLength > 1 or ct.state == new", 25,
	  "ct.state cannot be combined with fields checked in user space" },
	{ "(packet[-1] == 1 ? ct.state != invalid : tcp)", 19,
	  "ct.state cannot be combined with fields checked in user space" },
	{ "inbound and uid == 0", 12, "field not valid for this direction" },
	{ "(inbound ? gid == 0 : true)", 11,
	  "field not valid for this direction" },
	{ "not outbound and (tcp or uid == 5)", 25,
	  "field not valid for this direction" },
	{ "processId == 4", 0, "field not valid for this layer" },
	{ "tcp and endpointId", 8, "field not valid for this layer" },
	{ "Random8 < 5", 0, "unknown field" },
	{ "tcp.payload[0] == 1", 0, "unknown field" },
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
	size_t n = IPR_MAX_LEN_TEST + 70000;
	char *s = malloc(n + 1);
	ipr_filter *f;
	int i;

	if (!s)
		exit(2);

	memset(s, ' ', IPR_MAX_LEN_TEST);
	s[IPR_MAX_LEN_TEST] = '\0';
	memcpy(s, "tcp", 3);
	f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
	CHECK("1 MiB filter accepted", f != NULL, "%s", e.msg);
	ipr_filter_free(f);
	memset(s, ' ', IPR_MAX_LEN_TEST + 1);
	s[IPR_MAX_LEN_TEST + 1] = '\0';
	memcpy(s, "tcp", 3);
	f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
	CHECK("1 MiB + 1 refused", !f && e.pos == IPR_MAX_LEN_TEST &&
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
			err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
			/* one lookup in a set of the 1300 values */
			CHECK("1300 alternatives kprog: one set", err == 0 &&
			      p.nchains == 1 && p.nrules == 1 &&
			      p.ntests == 1 && p.tests[0].op == IPR_KOP_IN &&
			      p.nsets == 1 && p.sets[0].n == 1300,
			      "err %d chains %u rules %u tests %u sets %u",
			      err, p.nchains, p.nrules, p.ntests, p.nsets);
			ipri_kprog_free(&p);
			ipr_filter_free(f);
		}
		/* ranges: an interval set, merged ("ifIdx < i" for every i is
		 * one range) */
		for (i = 0, k = 0; i < 1300; i++)
			k += (size_t)sprintf(s + k, "%sifIdx<%d", i ? "||" : "", i);
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		if (f) {
			err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
			CHECK("1300 ranges: one interval set of one range",
			      err == 0 && p.nrules <= 2 && p.nsets == 1 &&
			      p.sets[0].interval && p.sets[0].n == 1,
			      "err %d rules %u sets %u", err, p.nrules, p.nsets);
			ipri_kprog_free(&p);
			ipr_filter_free(f);
		} else {
			check_fail("1300 orderings", "%s at %d", e.msg, e.pos);
		}
		/* a conjunction of 900 orderings is split into rules that
		 * fit the kernel's limits, and nests deeper than it allows:
		 * refused with the place where */
		for (i = 0, k = 0; i < 900; i++)
			k += (size_t)sprintf(s + k, "%stcp.SrcPort>%d",
					     i ? "&&" : "", i);
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		if (f) {
			int pos = -2;
			const char *why;

			err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
			why = ipr_last_error(&pos);
			CHECK("900 orderings in a conjunction: too deep",
			      err == -E2BIG && p.nchains == 0 && pos > 0 &&
			      pos < (int)k && !strncmp(s + pos, "tcp.SrcPort>", 12)
			      && strstr(why, "nested"), "err %d pos %d %s",
			      err, pos, why);
			ipri_kprog_free(&p);
			ipr_filter_free(f);
		} else {
			check_fail("900 orderings", "%s at %d", e.msg, e.pos);
		}
		/* 200 of them: split, every rule within the limits */
		for (i = 0, k = 0; i < 200; i++)
			k += (size_t)sprintf(s + k, "%stcp.SrcPort>%d",
					     i ? "&&" : "", i);
		f = ipr_filter_compile(s, IPR_LAYER_NETWORK, &e);
		if (f) {
			bool fits = true;

			err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
			for (uint32_t ri = 0; ri < p.nrules; ri++) {
				unsigned ex = 0, by = 0, tb;

				for (uint32_t t = 0; t < p.rules[ri].ntests; t++) {
					ex += ipri_ktest_cost(&p.tests[p.rules[ri].first_test + t], &tb);
					by += tb;
				}
				fits = fits && ex <= IPR_RULE_MAX_EXPRS &&
				       by <= IPR_RULE_MAX_BYTES;
			}
			CHECK("200 orderings in a conjunction: split", err == 0 &&
			      p.nchains > 5 && p.depth == p.nchains - 1 && fits &&
			      p.ntests == 201, "err %d chains %u depth %u tests %u",
			      err, p.nchains, p.depth, p.ntests);
			ipri_kprog_free(&p);
			ipr_filter_free(f);
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
		err = f ? ipri_kprog_build(f, IPR_HOOK_OUT, &p) : -1;
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
			err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
			CHECK("60 nested ternaries: kprog refused", err == -E2BIG,
			      "err %d", err);
			ipri_kprog_free(&p);
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
	/* protocols: the guards, and the transport header readable (a
	 * later fragment has none); negated, a later fragment too */
	{ "icmp", IPR_HOOK_IN, 1, 1, 3 },
	{ "not icmp", IPR_HOOK_IN, 1, 3, 4 },
	{ "tcp and udp", IPR_HOOK_IN, 0, 0, 0 },
	{ "tcp and tcp", IPR_HOOK_IN, 1, 1, 2 },
	{ "tcp and not tcp", IPR_HOOK_IN, 0, 0, 0 },
	{ "outbound and tcp", IPR_HOOK_IN, 0, 0, 0 },
	{ "outbound and tcp", IPR_HOOK_OUT, 1, 1, 2 },
	{ "inbound or tcp", IPR_HOOK_IN, 1, 1, 0 },
	{ "inbound or tcp", IPR_HOOK_OUT, 1, 1, 2 },
	{ "udp.DstPort == 53 or tcp.DstPort == 53", IPR_HOOK_OUT, 1, 2, 4 },
	{ "(tcp or udp) and (ip.SrcAddr == 1.2.3.4 or ipv6)", IPR_HOOK_IN,
	  2, 4, 7 },
	{ "tcp.DstPort == 80 and (ip.SrcAddr == 1.2.3.4 or "
	  "ip.SrcAddr == 5.6.7.8)", IPR_HOOK_IN, 1, 2, 8 },
	{ "(tcp ? tcp.DstPort == 80 : udp)", IPR_HOOK_IN, 1, 2, 5 },
	{ "(inbound ? tcp : udp)", IPR_HOOK_OUT, 1, 1, 2 },
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
		err = ipri_kprog_build(f, s->hook, &p);
		CHECK(name, !err && (int)p.nchains == s->nchains &&
		      (int)p.nrules == s->nrules && (int)p.ntests == s->ntests,
		      "err %d: %u chains %u rules %u tests, expected %d %d %d",
		      err, p.nchains, p.nrules, p.ntests, s->nchains,
		      s->nrules, s->ntests);
		ipri_kprog_free(&p);
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
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog tcp.DstPort == 80", !err && p.nrules == 1 &&
	      p.rules[0].jump == IPR_KRULE_ACTION && p.rules[0].ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x06") &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_EQ, 3, 1,
		      "\x00\x00\x50") &&
	      !memcmp(p.tests[1].mask, "\x00\xff\xff", 3), "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("not tcp.DstPort == 80", IPR_LAYER_NETWORK,
			       NULL);
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog not tcp.DstPort == 80", !err && p.nrules == 2 &&
	      p.rules[0].ntests == 1 && p.rules[1].ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_NEQ, 1, 0, "\x06") &&
	      test_is(&p.tests[1], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x06") &&
	      test_is(&p.tests[2], IPR_KT_TRANSPORT, IPR_KOP_NEQ, 3, 1,
		      "\x00\x00\x50"), "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("ip.SrcAddr == 1.2.3.4", IPR_LAYER_NETWORK,
			       NULL);
	err = ipri_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog ip.SrcAddr", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x02") &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_EQ, 4, 12,
		      "\x01\x02\x03\x04"), "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("ipv6.DstAddr > 2001:db8::1", IPR_LAYER_NETWORK,
			       NULL);
	err = ipri_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog ipv6.DstAddr", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x0a") &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_GT, 16, 24,
		      "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"),
	      "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("udp.SrcPort <= 1023", IPR_LAYER_NETWORK, NULL);
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog udp.SrcPort", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x11") &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_LTE, 3, 0,
		      "\x03\xff\x00") &&
	      !memcmp(p.tests[1].mask, "\xff\xff\x00", 3), "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	for (int h = IPR_HOOK_IN; h <= IPR_HOOK_FWD; h++) {
		char name[64];

		f = ipr_filter_compile("ifIdx == 0x01020304", h == IPR_HOOK_FWD ?
				       IPR_LAYER_NETWORK_FORWARD :
				       IPR_LAYER_NETWORK, NULL);
		err = ipri_kprog_build(f, (enum ipr_hook)h, &p);
		snprintf(name, sizeof(name), "kprog ifIdx hook %d", h);
		CHECK(name, !err && p.nrules == 1 &&
		      test_is(&p.tests[0], h == IPR_HOOK_IN ? IPR_KT_IIF
							    : IPR_KT_OIF,
			      IPR_KOP_EQ, 4, 0, "\x01\x02\x03\x04"),
		      "err %d", err);
		ipri_kprog_free(&p);
		ipr_filter_free(f);
	}

	f = ipr_filter_compile("icmpv6", IPR_LAYER_NETWORK, NULL);
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog icmpv6", !err && p.nrules == 1 && p.ntests == 3 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x0a") &&
	      test_is(&p.tests[1], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x3a") &&
	      test_is(&p.tests[2], IPR_KT_TRANSPORT, IPR_KOP_GTE, 3, 0,
		      "\0\0\0"),
	      "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("true", IPR_LAYER_NETWORK, NULL);
	err = ipri_kprog_build(f, IPR_HOOK_OUT, &p);
	CHECK("kprog true", !err && p.nchains == 1 && p.nrules == 1 &&
	      p.rules[0].ntests == 0 && p.rules[0].jump == IPR_KRULE_ACTION &&
	      p.chains[0].first_rule == 0 && p.chains[0].nrules == 1,
	      "err %d", err);
	ipri_kprog_free(&p);
	ipr_filter_free(f);

	f = ipr_filter_compile("(tcp or udp) and (ip or icmpv6)",
			       IPR_LAYER_NETWORK, NULL);
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	CHECK("kprog chain layout", !err && p.nchains == 2 &&
	      p.chains[0].first_rule == 0 && p.chains[0].nrules == 2 &&
	      p.chains[1].first_rule == 2 && p.chains[1].nrules == 2 &&
	      p.rules[0].jump == 1 && p.rules[1].jump == 1 &&
	      p.rules[2].jump == IPR_KRULE_ACTION, "err %d chains %u",
	      err, p.nchains);
	ipri_kprog_free(&p);
	ipr_filter_free(f);
}

/* The exact tests of the new kinds, and where user space checks. */
static void kprog_field_tests(void)
{
	struct ipr_kprog p;
	ipr_filter *f;
	int err;

#define KPROG(text, layer, hook)                                            \
	f = ipr_filter_compile((text), (layer), NULL);                      \
	err = f ? ipri_kprog_build(f, (hook), &p) : -1;                      \
	if (err)                                                            \
		memset(&p, 0, sizeof(p))
#define KDONE() do { ipri_kprog_free(&p); ipr_filter_free(f); } while (0)

	KPROG("tcp.Syn == 1", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog tcp.Syn: masked flags byte", !err && p.nrules == 1 &&
	      p.ntests == 2 &&
	      test_is(&p.tests[0], IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0, "\x06") &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_EQ, 3, 11,
		      "\0\0\x02") && (p.tests[1].flags & IPR_KTF_MASK) &&
	      !memcmp(p.tests[1].mask, "\0\0\x02", 3),
	      "err %d rules %u tests %u", err, p.nrules, p.ntests);
	KDONE();

	KPROG("ipv6.FlowLabel == 0x12345", IPR_LAYER_NETWORK, IPR_HOOK_OUT);
	CHECK("kprog ipv6.FlowLabel: 20-bit mask", !err && p.ntests == 2 &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_EQ, 4, 0,
		      "\x00\x01\x23\x45") &&
	      !memcmp(p.tests[1].mask, "\x00\x0f\xff\xff", 4), "err %d", err);
	KDONE();

	KPROG("ipv6.TrafficClass > 3", IPR_LAYER_NETWORK, IPR_HOOK_OUT);
	CHECK("kprog ipv6.TrafficClass: shifted value", !err && p.ntests == 2 &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_GT, 2, 0, "\x00\x30") &&
	      !memcmp(p.tests[1].mask, "\x0f\xf0", 2), "err %d", err);
	KDONE();

	KPROG("ifName == \"eth*\"", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog ifName prefix in", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_IIFNAME, IPR_KOP_EQ, 3, 0, "eth"),
	      "err %d", err);
	KDONE();
	KPROG("ifName != \"lo\"", IPR_LAYER_NETWORK_FORWARD, IPR_HOOK_FWD);
	CHECK("kprog ifName exact fwd", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_OIFNAME, IPR_KOP_NEQ, 16, 0,
		      "lo\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), "err %d", err);
	KDONE();

	KPROG("loopback", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog loopback in: no chain", !err && p.nchains == 0, "err %d",
	      err);
	KDONE();
	KPROG("loopback", IPR_LAYER_NETWORK, IPR_HOOK_OUT);
	CHECK("kprog loopback out: oiftype", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_OIFTYPE, IPR_KOP_EQ, 2, 0, "\x03\x04"),
	      "err %d", err);
	KDONE();
	KPROG("not loopback", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog not loopback in: every packet", !err && p.nrules == 1 &&
	      p.ntests == 0, "err %d", err);
	KDONE();

	KPROG("uid == 5", IPR_LAYER_NETWORK, IPR_HOOK_OUT);
	CHECK("kprog uid out: skuid", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_SKUID, IPR_KOP_EQ, 4, 0,
		      "\0\0\0\x05"), "err %d", err);
	KDONE();
	KPROG("not uid == 5", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog not uid in: nothing (no socket known)", !err &&
	      p.nchains == 0, "err %d", err);
	KDONE();

	KPROG("ct.state == new", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog ct.state", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_CTSTATE, IPR_KOP_EQ, 4, 0,
		      "\0\0\0\x08") && !memcmp(p.tests[0].mask, "\0\0\0\x08", 4),
	      "err %d", err);
	KDONE();

	KPROG("fragment", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog fragment: frag-off and exthdr", !err && p.nrules == 2 &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_NEQ, 2, 6, "\0\0") &&
	      test_is(&p.tests[3], IPR_KT_FRAG6, IPR_KOP_NEQ, 1, 0, "\0"),
	      "err %d", err);
	KDONE();

	KPROG("mark > 7", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog mark", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_MARK, IPR_KOP_GT, 4, 0, "\0\0\0\x07"),
	      "err %d", err);
	KDONE();
	KPROG("length >= 1000", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog length", !err && p.ntests == 1 &&
	      test_is(&p.tests[0], IPR_KT_LEN, IPR_KOP_GTE, 4, 0,
		      "\0\0\x03\xe8"), "err %d", err);
	KDONE();

	KPROG("localAddr == 10.0.0.1", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog localAddr in: daddr per family", !err && p.nrules == 2 &&
	      test_is(&p.tests[1], IPR_KT_NET, IPR_KOP_EQ, 4, 16,
		      "\x0a\0\0\x01") && p.tests[3].offset == 24 &&
	      p.tests[3].len == 16, "err %d rules %u", err, p.nrules);
	KDONE();
	KPROG("localAddr == 10.0.0.1", IPR_LAYER_NETWORK, IPR_HOOK_OUT);
	CHECK("kprog localAddr out: saddr", !err && p.nrules == 2 &&
	      p.tests[1].offset == 12 && p.tests[3].offset == 8,
	      "err %d", err);
	KDONE();
	KPROG("localAddr < ::1", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog localAddr < ::1: IPv4 never", !err && p.nrules == 1 &&
	      test_is(&p.tests[0], IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, "\x0a"),
	      "err %d rules %u", err, p.nrules);
	KDONE();

	KPROG("localPort == 80", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog localPort == 80 in: tcp and udp dport", !err &&
	      p.nrules == 2 && p.tests[1].offset == 1 && p.tests[3].offset == 1,
	      "err %d rules %u", err, p.nrules);
	KDONE();

	KPROG("tcp.Payload[0] == 0x47", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog tcp.Payload: doff check and inner header", !err &&
	      p.ntests == 3 &&
	      test_is(&p.tests[1], IPR_KT_TRANSPORT, IPR_KOP_GTE, 3, 10,
		      "\0\0\x50") &&
	      test_is(&p.tests[2], IPR_KT_INNER, IPR_KOP_EQ, 1, 0, "\x47"),
	      "err %d tests %u", err, p.ntests);
	KDONE();
	KPROG("udp.Payload32[1b] == 1", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog udp.Payload32[1b]", !err && p.ntests == 2 &&
	      test_is(&p.tests[1], IPR_KT_INNER, IPR_KOP_EQ, 4, 1,
		      "\0\0\0\x01"), "err %d", err);
	KDONE();

	KPROG("tcp and random8 < 5", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog random8: kernel keeps the rest", !err && p.nrules == 1 &&
	      p.ntests == 2 && ipri_filter_needs_user_check(f) &&
	      ipri_filter_needs_user_check_hook(f, IPR_HOOK_IN) &&
	      ipri_filter_needs_user_check_hook(f, IPR_HOOK_OUT),
	      "err %d", err);
	KDONE();
	KPROG("not packet[-1] == 1", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog packet[-1]: every packet, user space decides", !err &&
	      p.nrules == 1 && p.ntests == 0, "err %d", err);
	KDONE();
	KPROG("outbound and timestamp > 5 or tcp", IPR_LAYER_NETWORK,
	      IPR_HOOK_IN);
	CHECK("user check only where it matters", !err &&
	      !ipri_filter_needs_user_check_hook(f, IPR_HOOK_IN) &&
	      ipri_filter_needs_user_check_hook(f, IPR_HOOK_OUT) &&
	      ipri_filter_needs_user_check(f), "err %d", err);
	KDONE();
	KPROG("tcp.DstPort == 80 or ifName == \"x\" or ct.state == new",
	      IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kernel-only filter needs no user check", !err &&
	      !ipri_filter_needs_user_check(f), "err %d", err);
	KDONE();

	KPROG("priority == 5", IPR_LAYER_NETWORK, IPR_HOOK_IN);
	CHECK("kprog priority unbound (0)", !err && p.nchains == 0, "err %d",
	      err);
	ipri_kprog_free(&p);
	ipr_filter_set_priority(f, 5);
	err = ipri_kprog_build(f, IPR_HOOK_IN, &p);
	{
		struct ipr_addr a = mkaddr(IN, 1);

		CHECK("kprog priority bound to 5", !err && p.nchains == 1 &&
		      ipr_filter_eval(f, pk[T4].d, pk[T4].len, &a) == 1,
		      "err %d", err);
	}
	KDONE();

	/* a field that works on no hook of the layer */
	{
		struct ipr_filter_error e;

		f = ipr_filter_compile("tcp and uid == 0",
				       IPR_LAYER_NETWORK_FORWARD, &e);
		CHECK("uid at the forward layer", !f && e.pos == 8 &&
		      !strcmp(e.msg, "field not valid for this layer"),
		      "pos %d %s", e.pos, e.msg);
		ipr_filter_free(f);
		f = ipr_filter_compile("loopback or tcp",
				       IPR_LAYER_NETWORK_FORWARD, &e);
		CHECK("loopback at the forward layer is just false", f != NULL,
		      "%s", e.msg);
		ipr_filter_free(f);
		f = ipr_filter_compile("false and uid == 0", IPR_LAYER_NETWORK,
				       &e);
		CHECK("a dead uid test is no error", f != NULL, "%s", e.msg);
		ipr_filter_free(f);
	}
#undef KPROG
#undef KDONE
}

/* random8/16/32: one value per packet, the same every time, and not the
 * same for every packet. */
static void random_fields(void)
{
	static const char *const fld[] = { "random8", "random16", "random32" };
	char name[64], txt[64];
	unsigned distinct = 0;
	uint32_t first = 0;

	for (int p = 0; p < NPKTS; p++) {
		struct ipr_addr a = mkaddr(IN, 1);
		uint32_t v = 0;
		int hits = 0;
		ipr_filter *f;

		if (p == SHORT || p == BADV)
			continue;
		/* bisect random16 with <=, then check == and the others */
		for (int bit = 15; bit >= 0; bit--) {
			snprintf(txt, sizeof(txt), "random16 <= %u",
				 v | ((1u << bit) - 1));
			f = ipr_filter_compile(txt, IPR_LAYER_NETWORK, NULL);
			if (ipr_filter_eval(f, pk[p].d, pk[p].len, &a) != 1)
				v |= 1u << bit;
			ipr_filter_free(f);
		}
		snprintf(txt, sizeof(txt), "random16 == %u", v);
		f = ipr_filter_compile(txt, IPR_LAYER_NETWORK, NULL);
		hits = ipr_filter_eval(f, pk[p].d, pk[p].len, &a) +
		       ipr_filter_eval(f, pk[p].d, pk[p].len, &a);
		ipr_filter_free(f);
		snprintf(name, sizeof(name), "%s on %s is one value", fld[1],
			 pk[p].name);
		CHECK(name, hits == 2, "random16 == %u: %d of 2", v, hits);
		if (p == T4)
			first = v;
		else if (v != first)
			distinct++;
	}
	CHECK("random16 differs between packets", distinct > 20,
	      "%u packets differ from tcp4", distinct);
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
	{ "ip.SrcAddr == 0xffff0a000001", "ip.SrcAddr == 10.0.0.1" },
	{ "ip.SrcAddr == ::ffff:10.0.0.1", "ip.SrcAddr == 10.0.0.1" },
	{ "tcp.DstPort == 65536", "tcp.DstPort < 0" },
	{ "tcp.DstPort > -1", "tcp.DstPort >= 0" },
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
	{ "packet16[2b] == 40", "packet16[1] == 40" },
	{ "packet16[3b] == 1", "packet16[3b] == 1" },
	{ "packet[-1]", "packet[-1] != 0" },
	{ "packet32[ -2 ] == 0x10", "packet32[-2] == 16" },
	{ "tcp.Payload32[1b] == 1", "tcp.Payload32[1b] == 1" },
	{ "udp.Payload16[-4b] == 5", "udp.Payload16[-2] == 5" },
	{ "ip.DF", "ip.DF != 0" },
	{ "tcp.Syn == 1 && !tcp.Ack", "tcp.Syn == 1 and not tcp.Ack != 0" },
	{ "ipv6.TrafficClass == 0xb8", "ipv6.TrafficClass == 184" },
	{ "ipv6.FlowLabel >= 0xfffff", "ipv6.FlowLabel >= 1048575" },
	{ "tcp.HdrLength > 5", "tcp.HdrLength > 5" },
	{ "localAddr == ::ffff:10.0.0.1", "localAddr == 10.0.0.1" },
	{ "localAddr == 1", "localAddr == ::1" },
	{ "remoteAddr != 2001:DB8::1", "remoteAddr != 2001:db8::1" },
	{ "ifName == \"eth*\"", "ifName == \"eth*\"" },
	{ "ifName", "ifName != \"\"" },
	{ "ifName=\"lo\"", "ifName == \"lo\"" },
	{ "ct.state != new", "ct.state != new" },
	{ "ct.state = untracked", "ct.state == untracked" },
	{ "priority == -5", "priority == -5" },
	{ "priority >= -30000", "priority >= -30000" },
	{ "priority", "priority != 0" },
	{ "impostor", "impostor" },
	{ "!loopback", "not loopback" },
	{ "fragment == FALSE", "not fragment" },
	{ "layer == NETWORK_FORWARD", "layer == 1" },
	{ "zero", "zero != 0" },
	{ "timestamp > 0x10", "timestamp > 16" },
	{ "mark == 0xffffffff", "mark == 4294967295" },
	{ "uid == 0 or gid == 0", "uid == 0 or gid == 0" },
	{ "random8 < 0x80", "random8 < 128" },
	{ "protocol == ICMPV6", "protocol == 58" },
	{ "event == ACCEPT", "event == 6" },
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
	CHECK("needs no user check", !ipri_filter_needs_user_check(f), "needs");
	CHECK("layer network", ipri_filter_layer(f) == IPR_LAYER_NETWORK, "%d",
	      ipri_filter_layer(f));
	ipr_filter_free(f);
	ipr_filter_free(NULL);

	f = ipr_filter_compile("tcp", IPR_LAYER_NETWORK_FORWARD, NULL);
	CHECK("layer forward", f && ipri_filter_layer(f) ==
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
		CHECK("kprog NULL filter", ipri_kprog_build(NULL, IPR_HOOK_IN, &p)
		      == -EINVAL && p.nchains == 0 && !p.tests, "accepted");
		ipri_kprog_free(&p);
		ipri_kprog_free(NULL);
	}
}

int main(void)
{
	build_packets();
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(i, &cases[i]);
	for (unsigned i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++)
		run_fcase(i, &fcases[i]);
	cross_check();
	random_check();
	bad_filters();
	limits();
	kprog_shapes();
	kprog_tests();
	kprog_field_tests();
	random_fields();
	format_checks();
	return check_exit();
}
