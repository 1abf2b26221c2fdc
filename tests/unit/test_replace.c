/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_replace.c - what a replacement may change (lib/packet.c
 * ipri_replace_ok): the checks the kernel's nfnetlink_queue applies to a
 * written packet since 2026, mirrored so that the library refuses with
 * EINVAL what those kernels would drop in silence.  Addresses, TTL, TOS,
 * DF, the IPv6 traffic class and the payload may change, and so may the
 * length when the length field says so; the IP version, the IPv4 header
 * length, options and fragment fields and the IPv6 next-header chain and
 * extension headers may not. */
#include <string.h>
#include "check.h"
#include "internal.h"

static uint8_t orig[256], mod[256];

/* IPv4 + UDP, @opt option bytes (a multiple of 4), @paylen payload bytes. */
static uint32_t v4(uint8_t *p, uint32_t opt, uint32_t paylen)
{
	uint32_t ihl = 20 + opt, len = ihl + 8 + paylen;
	memset(p, 0, 256);
	p[0] = (uint8_t)(0x40 | ihl / 4);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40; /* DF */
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	for (uint32_t i = 0; i < opt; i++)
		p[20 + i] = 1; /* NOP */
	p[ihl + 4] = (uint8_t)((8 + paylen) >> 8);
	p[ihl + 5] = (uint8_t)(8 + paylen);
	for (uint32_t i = 0; i < paylen; i++)
		p[ihl + 8 + i] = (uint8_t)i;
	return len;
}

/* IPv6, with a hop-by-hop header (8 bytes) and a destination options
 * header (16 bytes) when @ext, then UDP with @paylen payload bytes. */
static uint32_t v6(uint8_t *p, int ext, uint32_t paylen)
{
	uint32_t off = 40, len;
	memset(p, 0, 256);
	p[0] = 0x60;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 1;
	p[24] = 0xfd;
	p[39] = 2;
	if (ext) {
		p[6] = 0;        /* hop-by-hop */
		p[off] = 60;     /* then destination options */
		p[off + 1] = 0;  /* 8 bytes */
		p[off + 2] = 1;  /* PadN */
		p[off + 3] = 4;
		off += 8;
		p[off] = 17;
		p[off + 1] = 1;  /* 16 bytes */
		p[off + 2] = 1;
		p[off + 3] = 12;
		off += 16;
	} else {
		p[6] = 17;
	}
	len = off + 8 + paylen;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[off + 4] = (uint8_t)((8 + paylen) >> 8);
	p[off + 5] = (uint8_t)(8 + paylen);
	return len;
}

static void set_len(uint8_t *p, uint32_t len)
{
	if (p[0] >> 4 == 4) {
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
	} else {
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
	}
}

/* Each case starts from a copy of orig, changes mod, then asks. */
static void reset(void)
{
	memcpy(mod, orig, sizeof(mod));
}

#define OK(name, len, want)                                                 \
	CHECK(name, ipri_replace_ok(mod, len, sig) == (want),                \
	      "ipri_replace_ok gave %d, want %d", !(want), (want))

int main(void)
{
	uint32_t n, sig;

	/* --- IPv4 without options */
	n = v4(orig, 0, 32);
	sig = ipri_hdr_sig(orig, n);
	reset();
	OK("v4.same", n, true);
	reset();
	mod[8] = 1;        /* TTL */
	mod[1] = 0xb8;     /* TOS */
	mod[15] = 9;       /* source address */
	mod[6] &= ~0x40;   /* DF off */
	mod[30] ^= 0xff;   /* payload */
	OK("v4.free-fields", n, true);
	reset();
	set_len(mod, n - 4); /* shorter, and the header says so */
	OK("v4.shorter", n - 4, true);
	reset();
	set_len(mod, n + 4);
	OK("v4.longer", n + 4, true);
	reset();
	OK("v4.len-field-short", n - 1, false);
	reset();
	set_len(mod, n + 1);
	OK("v4.len-field-long", n, false);
	reset();
	mod[6] |= 0x20;    /* MF */
	OK("v4.more-fragments", n, false);
	reset();
	mod[7] = 1;        /* fragment offset */
	OK("v4.frag-offset", n, false);
	reset();
	mod[6] |= 0x80;    /* the reserved bit */
	OK("v4.reserved-bit", n, false);
	reset();
	mod[0] = 0x65;     /* version 6 */
	OK("v4.version", n, false);
	reset();
	mod[0] = 0x44;     /* IHL 4: shorter than a header */
	OK("v4.ihl-short", n, false);
	reset();
	OK("v4.too-short", 19, false);

	/* --- IPv4 with 4 bytes of options */
	n = v4(orig, 4, 16);
	sig = ipri_hdr_sig(orig, n);
	reset();
	OK("v4opt.same", n, true);
	reset();
	mod[21] = 0;       /* an option byte */
	OK("v4opt.option-changed", n, false);
	reset();
	n = v4(mod, 0, 20); /* same length, options gone */
	OK("v4opt.options-removed", n, false);
	n = v4(orig, 4, 16);
	reset();
	mod[0] = 0x47;     /* IHL 7: the header swallows 4 payload bytes */
	OK("v4opt.ihl-grown", n, false);

	/* --- IPv6 without extension headers */
	n = v6(orig, 0, 24);
	sig = ipri_hdr_sig(orig, n);
	reset();
	OK("v6.same", n, true);
	reset();
	mod[0] = 0x6f;     /* traffic class, upper bits */
	mod[1] = 0xf5;     /* traffic class and flow label */
	mod[7] = 3;        /* hop limit */
	mod[39] = 7;       /* destination */
	OK("v6.free-fields", n, true);
	reset();
	set_len(mod, n + 8);
	OK("v6.longer", n + 8, true);
	reset();
	set_len(mod, n + 1);
	OK("v6.len-field", n, false);
	reset();
	mod[6] = 6;        /* next header UDP -> TCP */
	OK("v6.next-header", n, false);
	reset();
	mod[0] = 0x40;
	OK("v6.version", n, false);
	reset();
	OK("v6.too-short", 39, false);

	/* --- IPv6 with hop-by-hop and destination options */
	n = v6(orig, 1, 8);
	sig = ipri_hdr_sig(orig, n);
	reset();
	OK("v6ext.same", n, true);
	reset();
	mod[64 + 9] ^= 0xff; /* UDP payload */
	OK("v6ext.payload", n, true);
	reset();
	mod[45] = 1;       /* a pad byte of the hop-by-hop header */
	OK("v6ext.hop-changed", n, false);
	reset();
	mod[48] = 6;       /* next header after the destination options */
	OK("v6ext.inner-next-header", n, false);
	reset();
	mod[6] = 60;       /* the chain starts elsewhere */
	OK("v6ext.first-next-header", n, false);
	reset();
	mod[49] = 2;       /* destination options now 24 bytes long */
	OK("v6ext.ext-length", n, false);

	/* --- the signature is of the headers, not of what follows */
	n = v4(orig, 0, 32);
	reset();
	mod[40] ^= 1;
	CHECK("sig.payload-free", ipri_hdr_sig(mod, n) == ipri_hdr_sig(orig, n),
	      "a payload byte changed the signature");
	uint32_t n6 = v6(orig, 0, 8);
	n = v4(mod, 0, 8);
	CHECK("sig.v4-v6-differ", ipri_hdr_sig(mod, n) != ipri_hdr_sig(orig, n6),
	      "IPv4 and IPv6 gave one signature");
	return check_failed_;
}
