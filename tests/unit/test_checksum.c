/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_checksum.c - Internet checksums: known vectors, odd lengths and
 * addresses, the RFC 1624 update against a full recompute, and
 * ipr_csum_calc over whole IPv4/IPv6 packets. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ipredir.h"

/* A field value as the number RFC texts write (first byte high). */
static uint16_t wire16(uint16_t field)
{
	uint8_t b[2];

	memcpy(b, &field, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The textbook RFC 1071 sum, one big-endian word at a time: the reference
 * the fast ipr_csum_add is compared with. */
static uint16_t ref_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t ipr_csum(const void *p, size_t n)
{
	return wire16(ipr_csum_fold(ipr_csum_add(0, p, n)));
}

/* ---- ipr_csum_add / ipr_csum_fold on fixed vectors ------------------- */

struct sum_case {
	const char *name;
	size_t len;
	uint16_t want;   /* the checksum, first byte high */
	const char *bytes;
};

static const struct sum_case sum_cases[] = {
	/* The classic example header, checksum field zeroed: b861. */
	{ "sum/ipv4_classic_header", 20, 0xb861,
	  "\x45\x00\x00\x73\x00\x00\x40\x00\x40\x11\x00\x00\xc0\xa8\x00\x01"
	  "\xc0\xa8\x00\xc7" },
	/* ... and with b861 in place it verifies: the sum is -0. */
	{ "sum/ipv4_classic_verifies", 20, 0x0000,
	  "\x45\x00\x00\x73\x00\x00\x40\x00\x40\x11\xb8\x61\xc0\xa8\x00\x01"
	  "\xc0\xa8\x00\xc7" },
	/* RFC 1071 section 3 example: sum ddf2, checksum 220d. */
	{ "sum/rfc1071_example", 8, 0x220d,
	  "\x00\x01\xf2\x03\xf4\xf5\xf6\xf7" },
	{ "sum/empty", 0, 0xffff, "" },
	{ "sum/one_byte", 1, 0xfeff, "\x01" },
	{ "sum/three_bytes", 3, 0xfbfd, "\x01\x02\x03" },
	{ "sum/all_ones_word", 2, 0x0000, "\xff\xff" },
	/* Carries out of every 16-bit position: 9 words of ffff and 00 01. */
	{ "sum/carry_chain", 20, 0xfffe,
	  "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	  "\xff\xff\x00\x01" },
	/* 7 bytes: the 4 + 2 + 1 tail path. */
	{ "sum/seven_bytes", 7, 0x1e96,
	  "\x12\x34\x56\x78\x9a\xbc\xde" },
};

static void test_sum_vectors(void)
{
	size_t i;

	for (i = 0; i < sizeof(sum_cases) / sizeof(sum_cases[0]); i++) {
		const struct sum_case *c = &sum_cases[i];
		uint16_t got = ipr_csum(c->bytes, c->len);

		CHECK(c->name, got == c->want, "got %04x want %04x", got,
		      c->want);
	}
}

/* Every start offset 0..7 and length 0..300 against the reference, so
 * every head, tail and unaligned path of the 8-byte loop is crossed. */
static void test_sum_offsets(void)
{
	static uint8_t buf[320] __attribute__((aligned(16)));
	unsigned seed = 12345;
	char name[64];
	size_t off, n, i;

	for (i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (off = 0; off < 8; off++) {
		size_t bad = (size_t)-1;

		for (n = 0; n <= 300 && bad == (size_t)-1; n++)
			if (ipr_csum(buf + off, n) != ref_csum(buf + off, n, 0))
				bad = n;
		snprintf(name, sizeof(name), "sum/offset_%zu_len_0_300", off);
		CHECK(name, bad == (size_t)-1, "length %zu differs", bad);
	}
}

/* The sum of a message in two even pieces is the sum of the whole. */
static void test_sum_pieces(void)
{
	static const uint8_t msg[37] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint16_t whole = ipr_csum_fold(ipr_csum_add(0, msg, sizeof(msg)));
	uint32_t s;
	size_t cut;
	bool ok = true;

	for (cut = 0; cut <= sizeof(msg); cut += 2) {
		s = ipr_csum_add(0, msg, cut);
		s = ipr_csum_add(s, msg + cut, sizeof(msg) - cut);
		if (ipr_csum_fold(s) != whole)
			ok = false;
	}
	CHECK("sum/even_pieces", ok, "a split changed the sum");
}

/* Large inputs: the 64-bit accumulator must fold its carries right. */
static void test_sum_large(void)
{
	static uint8_t big[65536];
	uint16_t got, want;
	size_t i;

	memset(big, 0xff, sizeof(big));
	got = ipr_csum(big + 1, 65535);
	want = ref_csum(big + 1, 65535, 0);
	CHECK("sum/65535_bytes_of_ff", got == want, "got %04x want %04x", got,
	      want);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	got = ipr_csum(big, 65535);
	want = ref_csum(big, 65535, 0);
	CHECK("sum/65535_bytes_pattern", got == want, "got %04x want %04x",
	      got, want);
	/* A running sum near 2^32 must not lose its carry either.  Its
	 * bytes read the same either way round, so it means the same to
	 * the host-order ipr_csum_add and the big-endian reference. */
	got = wire16(ipr_csum_fold(ipr_csum_add(0xfefefefe, big, 4096)));
	want = ref_csum(big, 4096, 0xfefe + 0xfefe);
	CHECK("sum/initial_sum_near_2^32", got == want, "got %04x want %04x",
	      got, want);
}

/* ---- whole packets ---------------------------------------------------- */

/*
 * Packets with their correct checksums in place, built from field values
 * and checked with an independent RFC 1071 script (python, big-endian
 * words, pseudo-headers per RFC 793 / 768 / 8200 / 4443).  The test spoils
 * the checksums and expects ipr_csum_calc to put back these values.
 */
struct pkt_case {
	const char *name;
	size_t len;
	uint16_t ip_csum;       /* 0: IPv6, no header checksum */
	size_t l4_csum_off;     /* offset of the transport checksum field */
	uint16_t l4_csum;
	const char *bytes;
};

static const struct pkt_case pkt_cases[] = {
	{ "calc/ipv4_tcp_syn", 60, 0x26e9, 36, 0xffe8,
	  "\x45\x00\x00\x3c\x1c\x46\x40\x00\x40\x06\x26\xe9\xc0\xa8\x01\x0a"
	  "\x5d\xb8\xd8\x22\xc8\x22\x00\x50\x9c\x8b\x1a\x01\x00\x00\x00\x00"
	  "\xa0\x02\xfa\xf0\xff\xe8\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a"
	  "\x00\x12\xd6\x87\x00\x00\x00\x00\x01\x03\x03\x07"
	},
	{ "calc/ipv4_udp_dns_odd", 57, 0xa1b3, 26, 0x9b19,
	  "\x45\x00\x00\x39\xbe\xef\x00\x00\x40\x11\xa1\xb3\x0a\x00\x00\x02"
	  "\x08\x08\x08\x08\xcf\x08\x00\x35\x00\x25\x9b\x19\xab\xcd\x01\x00"
	  "\x00\x01\x00\x00\x00\x00\x00\x00\x07\x65\x78\x61\x6d\x70\x6c\x65"
	  "\x03\x63\x6f\x6d\x00\x00\x01\x00\x01"
	},
	{ "calc/ipv4_opts_icmp_echo_odd", 43, 0xd3a9, 30, 0x40e7,
	  "\x47\x00\x00\x2b\x01\x01\x40\x00\x40\x01\xd3\xa9\xac\x10\x00\x01"
	  "\xac\x10\x00\xfe\x07\x07\x04\x00\x00\x00\x00\x01\x08\x00\x40\xe7"
	  "\x04\xd2\x00\x07\x69\x70\x72\x65\x64\x69\x72"
	},
	{ "calc/ipv6_tcp_psh_odd", 65, 0x0000, 56, 0x64d8,
	  "\x60\x00\x00\x00\x00\x19\x06\x40\x20\x01\x0d\xb8\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x01\x20\x01\x0d\xb8\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x02\x01\xbb\x9c\x40\x00\x00\x03\xe8"
	  "\x00\x00\x07\xd0\x50\x18\x01\xf5\x64\xd8\x00\x00\x68\x65\x6c\x6c"
	  "\x6f"
	},
	{ "calc/ipv6_udp_mdns", 82, 0x0000, 46, 0xca93,
	  "\x60\x00\x00\x00\x00\x2a\x11\xff\xfe\x80\x00\x00\x00\x00\x00\x00"
	  "\x01\xc2\x03\xff\xfe\x04\x05\x06\xff\x02\x00\x00\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\xfb\x14\xe9\x14\xe9\x00\x2a\xca\x93"
	  "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05\x5f\x69\x70"
	  "\x70\x73\x04\x5f\x74\x63\x70\x05\x6c\x6f\x63\x61\x6c\x00\x00\x0c"
	  "\x00\x01"
	},
	{ "calc/icmpv6_echo", 104, 0x0000, 42, 0x9714,
	  "\x60\x00\x00\x00\x00\x40\x3a\x40\x20\x01\x0d\xb8\x00\x01\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x10\x20\x01\x0d\xb8\x00\x02\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x20\x80\x00\x97\x14\x12\x34\x00\x01"
	  "\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f"
	  "\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f"
	  "\x40\x41\x42\x43\x44\x45\x46\x47\x48\x49\x4a\x4b\x4c\x4d\x4e\x4f"
	  "\x50\x51\x52\x53\x54\x55\x56\x57"
	},
	{ "calc/icmpv6_ns", 72, 0x0000, 42, 0x7a97,
	  "\x60\x00\x00\x00\x00\x20\x3a\xff\xfe\x80\x00\x00\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x01\xff\x02\x00\x00\x00\x00\x00\x00"
	  "\x00\x00\x00\x01\xff\x00\x00\x02\x87\x00\x7a\x97\x00\x00\x00\x00"
	  "\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
	  "\x01\x01\x02\x00\x00\x00\x00\x01"
	},
	{ "calc/ipv6_hbh_dst_udp", 77, 0x0000, 62, 0xcc45,
	  "\x60\x00\x00\x00\x00\x25\x00\x40\x20\x01\x0d\xb8\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x0a\x20\x01\x0d\xb8\x00\x00\x00\x00"
	  "\x00\x00\x00\x00\x00\x00\x00\x0b\x3c\x00\x05\x02\x00\x00\x01\x00"
	  "\x11\x00\x01\x04\x00\x00\x00\x00\x04\xd2\x16\x2e\x00\x15\xcc\x45"
	  "\x65\x78\x74\x20\x68\x64\x72\x20\x74\x65\x73\x74\x21"
	},
	{ "calc/ipv4_udp_zero_is_ffff", 34, 0x0780, 26, 0xffff,
	  "\x45\x00\x00\x22\x1c\x46\x40\x00\x40\x11\x07\x80\x0a\x01\x01\x01"
	  "\x0a\x02\x02\x02\x0f\xa0\x0f\xa1\x00\x0e\xff\xff\xdc\xb6\x7a\x65"
	  "\x72\x6f"
	},
};

#define NPKT (sizeof(pkt_cases) / sizeof(pkt_cases[0]))

static void test_calc_vectors(void)
{
	static uint8_t buf[2048] __attribute__((aligned(16)));
	char name[96];
	size_t i, shift;

	for (i = 0; i < NPKT; i++) {
		const struct pkt_case *c = &pkt_cases[i];

		/* At an aligned and at an odd address. */
		for (shift = 0; shift < 2; shift++) {
			uint8_t *p = buf + shift;
			int rc;

			memcpy(p, c->bytes, c->len);
			if (c->ip_csum)
				put16(p + 10, 0xdead);
			put16(p + c->l4_csum_off, 0xbeef);
			rc = ipr_csum_calc(p, c->len, 0);
			snprintf(name, sizeof(name), "%s%s", c->name,
				 shift ? "/odd_address" : "");
			CHECK(name,
			      rc == 0 && !memcmp(p, c->bytes, c->len) &&
			      (!c->ip_csum || get16(p + 10) == c->ip_csum) &&
			      get16(p + c->l4_csum_off) == c->l4_csum,
			      "rc %d ip %04x l4 %04x, want %04x %04x", rc,
			      get16(p + 10), get16(p + c->l4_csum_off),
			      c->ip_csum, c->l4_csum);
		}
	}
}

static const struct pkt_case *find_pkt(const char *name)
{
	size_t i;

	for (i = 0; i < NPKT; i++)
		if (!strcmp(pkt_cases[i].name, name))
			return &pkt_cases[i];
	abort();
}

/* The flags leave the named checksum alone and still do the others. */
static void test_calc_flags(void)
{
	static const struct {
		const char *name, *pkt;
		unsigned flags;
		bool ip_kept, l4_kept;
	} cases[] = {
		{ "flags/no_ip", "calc/ipv4_tcp_syn",
		  IPR_CSUM_NO_IP, true, false },
		{ "flags/no_tcp", "calc/ipv4_tcp_syn",
		  IPR_CSUM_NO_TCP, false, true },
		{ "flags/no_udp_on_tcp", "calc/ipv4_tcp_syn",
		  IPR_CSUM_NO_UDP, false, false },
		{ "flags/no_udp", "calc/ipv4_udp_dns_odd",
		  IPR_CSUM_NO_UDP, false, true },
		{ "flags/no_icmp", "calc/ipv4_opts_icmp_echo_odd",
		  IPR_CSUM_NO_ICMP, false, true },
		{ "flags/no_icmpv6", "calc/icmpv6_echo",
		  IPR_CSUM_NO_ICMPV6, false, true },
		{ "flags/no_icmp_on_icmpv6", "calc/icmpv6_echo",
		  IPR_CSUM_NO_ICMP, false, false },
		{ "flags/all_but_ip", "calc/ipv4_udp_dns_odd",
		  IPR_CSUM_NO_TCP | IPR_CSUM_NO_UDP | IPR_CSUM_NO_ICMP |
		  IPR_CSUM_NO_ICMPV6, false, true },
	};
	uint8_t p[2048];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pkt_case *c = find_pkt(cases[i].pkt);
		bool ip_ok, l4_ok;
		int rc;

		memcpy(p, c->bytes, c->len);
		if (c->ip_csum)
			put16(p + 10, 0xdead);
		put16(p + c->l4_csum_off, 0xbeef);
		rc = ipr_csum_calc(p, c->len, cases[i].flags);
		ip_ok = !c->ip_csum || get16(p + 10) ==
			(cases[i].ip_kept ? 0xdead : c->ip_csum);
		l4_ok = get16(p + c->l4_csum_off) ==
			(cases[i].l4_kept ? 0xbeef : c->l4_csum);
		CHECK(cases[i].name, rc == 0 && ip_ok && l4_ok,
		      "rc %d ip %04x l4 %04x", rc, get16(p + 10),
		      get16(p + c->l4_csum_off));
	}
}

/* Fragments: the IP checksum is done, the transport one (which covers the
 * whole datagram) is left as it was, first fragment or not. */
static void test_calc_fragments(void)
{
	static const struct {
		const char *name;
		uint16_t frag;
	} cases[] = {
		{ "fragment/v4_first", 0x2000 },
		{ "fragment/v4_middle", 0x2000 | 185 },
		{ "fragment/v4_last", 100 },
	};
	const struct pkt_case *c = find_pkt("calc/ipv4_udp_dns_odd");
	uint8_t p[128], q[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		memcpy(p, c->bytes, c->len);
		put16(p + 6, cases[i].frag);
		put16(p + 26, 0xbeef);
		memcpy(q, p, c->len);
		put16(q + 10, 0);
		rc = ipr_csum_calc(p, c->len, 0);
		CHECK(cases[i].name,
		      rc == 0 && get16(p + 10) == ref_csum(q, 20, 0) &&
		      get16(p + 26) == 0xbeef,
		      "rc %d ip %04x udp %04x", rc, get16(p + 10),
		      get16(p + 26));
	}
}

/* Packets it must refuse, leaving them as they were. */
static void test_calc_errors(void)
{
	static const struct {
		const char *name, *pkt;
		size_t len;      /* 0: full length */
		int byte;        /* -1: none, else set byte 0 to @val */
		uint8_t val;
	} cases[] = {
		{ "error/bad_version", "calc/ipv4_tcp_syn", 0, 0, 0x55 },
		{ "error/bad_ihl", "calc/ipv4_tcp_syn", 0, 0, 0x44 },
		{ "error/ipv4_truncated", "calc/ipv4_tcp_syn", 59, -1, 0 },
		{ "error/ipv6_truncated", "calc/icmpv6_echo", 103, -1, 0 },
		{ "error/ipv6_header_cut", "calc/icmpv6_echo", 39, -1, 0 },
		{ "error/empty", "calc/ipv4_tcp_syn", (size_t)-1, -1, 0 },
	};
	uint8_t p[2048];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pkt_case *c = find_pkt(cases[i].pkt);
		size_t n = cases[i].len == (size_t)-1 ? 0
			 : cases[i].len ? cases[i].len : c->len;
		int rc;

		memcpy(p, c->bytes, c->len);
		if (cases[i].byte >= 0)
			p[cases[i].byte] = cases[i].val;
		errno = 0;
		rc = ipr_csum_calc(p, n, 0);
		CHECK(cases[i].name,
		      rc == -EINVAL && errno == EINVAL &&
		      !memcmp(p + 1, c->bytes + 1, c->len - 1),
		      "rc %d errno %d", rc, errno);
	}
}

/* A trailing pad beyond the IP total length (Ethernet minimum frame) is
 * not summed. */
static void test_calc_padding(void)
{
	const struct pkt_case *c = find_pkt("calc/ipv4_udp_zero_is_ffff");
	uint8_t p[64];
	int rc;

	memset(p, 0x5a, sizeof(p));
	memcpy(p, c->bytes, c->len);
	put16(p + c->l4_csum_off, 0);
	rc = ipr_csum_calc(p, sizeof(p), 0);
	CHECK("calc/trailing_pad_ignored",
	      rc == 0 && !memcmp(p, c->bytes, c->len), "rc %d udp %04x", rc,
	      get16(p + c->l4_csum_off));
}

/* A 65535-byte IPv4 TCP super-packet (GSO) and a 65535-byte-payload IPv6
 * UDP one: after ipr_csum_calc, the reference sum over pseudo-header
 * and segment must verify (be -0). */
static void test_calc_gso(void)
{
	static uint8_t p[65535 + 40];
	uint8_t ph[40];
	uint16_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 13 + (i >> 9));
	/* IPv4 + TCP, total length 65535 */
	memcpy(p, "\x45\x00\xff\xff\x00\x01\x40\x00\x40\x06\x00\x00"
		  "\x0a\x00\x00\x01\x0a\x00\x00\x02", 20);
	p[32] = 0x50;
	rc = ipr_csum_calc(p, 65535, 0);
	memcpy(ph, p + 12, 8);
	memcpy(ph + 8, "\x00\x06", 2);
	put16(ph + 10, 65535 - 20);
	v = ref_csum(p + 20, 65535 - 20, (uint16_t)~ref_csum(ph, 12, 0));
	CHECK("gso/ipv4_tcp_65535", rc == 0 && v == 0 &&
	      ref_csum(p, 20, 0) == 0, "rc %d verify %04x", rc, v);

	/* IPv6 + UDP, payload length 65535 */
	memcpy(p, "\x60\x00\x00\x00\xff\xff\x11\x40", 8);
	rc = ipr_csum_calc(p, sizeof(p), 0);
	memcpy(ph, p + 8, 32);
	memcpy(ph + 32, "\x00\x00\xff\xff\x00\x00\x00\x11", 8);
	v = ref_csum(p + 40, 65535, (uint16_t)~ref_csum(ph, 40, 0));
	CHECK("gso/ipv6_udp_65535", rc == 0 && v == 0, "rc %d verify %04x",
	      rc, v);
}

/* ---- RFC 1624 incremental update -------------------------------------- */

/*
 * Change one field of a packet with a correct checksum, update the checksum
 * incrementally, and compare with what a full recompute gives.  The old and
 * new values are as in the packet (network order), read with memcpy.
 */
struct upd_case {
	const char *name, *pkt;
	size_t field;          /* offset of the changed field */
	int width;             /* 2 or 4 */
	size_t csum_off[2];    /* checksum fields it is covered by (0: none) */
	const char *new_val;   /* new bytes of the field */
};

static const struct upd_case upd_cases[] = {
	{ "update/tcp_dst_port_80_8080", "calc/ipv4_tcp_syn", 22, 2,
	  { 36, 0 }, "\x1f\x90" },
	{ "update/tcp_src_addr", "calc/ipv4_tcp_syn", 12, 4,
	  { 10, 36 }, "\x0a\x63\xfe\x07" },
	{ "update/tcp_dst_addr_to_ff", "calc/ipv4_tcp_syn", 16, 4,
	  { 10, 36 }, "\xff\xff\xff\xff" },
	{ "update/ttl_64_63", "calc/ipv4_tcp_syn", 8, 2, { 10, 0 },
	  "\x3f\x06" },
	{ "update/ttl_to_0", "calc/ipv4_udp_dns_odd", 8, 2, { 10, 0 },
	  "\x00\x11" },
	{ "update/udp_src_port", "calc/ipv4_udp_dns_odd", 20, 2, { 26, 0 },
	  "\xea\x60" },
	{ "update/udp_dst_addr", "calc/ipv4_udp_dns_odd", 16, 4, { 10, 26 },
	  "\x01\x01\x01\x01" },
	{ "update/icmp_echo_id", "calc/ipv4_opts_icmp_echo_odd", 32, 2,
	  { 30, 0 }, "\xfe\xdc" },
	{ "update/ipv6_tcp_port", "calc/ipv6_tcp_psh_odd", 40, 2, { 56, 0 },
	  "\x20\xfb" },
	{ "update/ipv6_src_word", "calc/icmpv6_echo", 20, 4, { 42, 0 },
	  "\xde\xad\xbe\xef" },
	{ "update/same_value", "calc/ipv4_tcp_syn", 22, 2, { 36, 0 },
	  "\x00\x50" },
};

static void test_update(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(upd_cases) / sizeof(upd_cases[0]); i++) {
		const struct upd_case *u = &upd_cases[i];
		const struct pkt_case *c = find_pkt(u->pkt);
		uint8_t inc[2048], full[2048];
		bool ok = true;

		memcpy(inc, c->bytes, c->len);
		for (k = 0; k < 2 && u->csum_off[k]; k++) {
			uint16_t cs;

			memcpy(&cs, inc + u->csum_off[k], 2);
			if (u->width == 2) {
				uint16_t o, n;

				memcpy(&o, inc + u->field, 2);
				memcpy(&n, u->new_val, 2);
				cs = ipr_csum_update16(cs, o, n);
			} else {
				uint32_t o, n;

				memcpy(&o, inc + u->field, 4);
				memcpy(&n, u->new_val, 4);
				cs = ipr_csum_update32(cs, o, n);
			}
			memcpy(inc + u->csum_off[k], &cs, 2);
		}
		memcpy(inc + u->field, u->new_val, (size_t)u->width);

		memcpy(full, inc, c->len);
		if (ipr_csum_calc(full, c->len, 0))
			ok = false;
		CHECK(u->name, ok && !memcmp(inc, full, c->len),
		      "incremental %04x/%04x, full %04x/%04x",
		      get16(inc + u->csum_off[0]), get16(inc + 10),
		      get16(full + u->csum_off[0]), get16(full + 10));
	}
}

/* RFC 1624 section 4's example: an IPv4 header checksum dd2f with a word
 * changing from 5555 to 3285 gives 0000, where eqn. 2 gives ffff. */
static void test_update_rfc1624(void)
{
	uint8_t hc[2] = { 0xdd, 0x2f }, m[2] = { 0x55, 0x55 },
		m2[2] = { 0x32, 0x85 };
	uint16_t a, b, c;

	memcpy(&a, hc, 2);
	memcpy(&b, m, 2);
	memcpy(&c, m2, 2);
	a = wire16(ipr_csum_update16(a, b, c));
	CHECK("update/rfc1624_example", a == 0x0000, "got %04x", a);
}

int main(void)
{
	test_sum_vectors();
	test_sum_offsets();
	test_sum_pieces();
	test_sum_large();
	test_calc_vectors();
	test_calc_flags();
	test_calc_fragments();
	test_calc_errors();
	test_calc_padding();
	test_calc_gso();
	test_update();
	test_update_rfc1624();
	return check_exit();
}
