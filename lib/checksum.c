/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* checksum.c - Internet checksums (RFC 1071, RFC 1624): the running sum, the
 * incremental update, and recomputing every checksum of a whole packet. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <string.h>

#include "ipredir.h"

/*
 * The sum is kept over 16-bit words exactly as they lie in memory (loaded
 * in host order), as RFC 1071 allows: the ones' complement sum commutes
 * with byte swapping, so the folded result can be stored into the packet
 * as is on either endianness, with no byte swap per word.
 *
 * Only the last piece handed to ipr_csum_add may have an odd length: an
 * odd piece in the middle would shift every later word by one byte.
 */

static inline uint64_t add_carry64(uint64_t acc, uint64_t v)
{
	acc += v;
	return acc + (acc < v); /* end-around carry */
}

IPR_API uint32_t ipr_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum, acc2 = 0;
	uint64_t w0, w1, w2, w3;

	/* Words are loaded with memcpy, so an odd or unaligned start needs no
	 * special path: the words are taken relative to @data, not to memory
	 * alignment, and x86/arm64 do the unaligned loads in one go.  A
	 * 64-bit word adds four 16-bit words at once; 2^16 - 1 divides
	 * 2^64 - 1, so the ones' complement sum folds down unchanged.  Two
	 * accumulators break the carry dependency chain. */
	while (len >= 32) {
		memcpy(&w0, p, 8);
		memcpy(&w1, p + 8, 8);
		memcpy(&w2, p + 16, 8);
		memcpy(&w3, p + 24, 8);
		acc = add_carry64(acc, w0);
		acc2 = add_carry64(acc2, w1);
		acc = add_carry64(acc, w2);
		acc2 = add_carry64(acc2, w3);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w0, p, 8);
		acc = add_carry64(acc, w0);
		p += 8;
		len -= 8;
	}
	acc = add_carry64(acc, acc2);
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc = add_carry64(acc, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc = add_carry64(acc, w);
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the first byte of a word padded with zero;
		 * building that word in memory keeps it right on any
		 * endianness. */
		uint8_t pad[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, pad, 2);
		acc = add_carry64(acc, w);
	}

	/* 64 -> 32 bits, keeping the value modulo 2^16 - 1. */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

IPR_API uint16_t ipr_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): unlike eqn. 2 it never turns a
 * correct checksum into the -0 (0xffff) that a full recompute would not
 * give. */
IPR_API uint16_t ipr_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~csum;

	sum += (uint16_t)~old;
	sum += new_;
	return ipr_csum_fold(sum);
}

IPR_API uint16_t ipr_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint32_t sum = (uint16_t)~csum;

	/* The two halves of a 32-bit value are the two 16-bit words it
	 * covers in memory, whichever half is which. */
	sum += (uint16_t)~(old & 0xffff);
	sum += (uint16_t)~(old >> 16);
	sum += new_ & 0xffff;
	sum += new_ >> 16;
	return ipr_csum_fold(sum);
}

/* Sum of the pseudo-header, built as bytes so it needs no byte swapping. */
static uint32_t pseudo_sum(const struct ipr_headers *h, uint8_t proto,
			   uint32_t l4_len)
{
	const uint8_t *ip = h->ip ? (const uint8_t *)h->ip
				  : (const uint8_t *)h->ipv6;
	uint32_t sum;

	if (h->ip) {
		uint8_t tail[4] = { 0, proto, (uint8_t)(l4_len >> 8),
				    (uint8_t)l4_len };

		sum = ipr_csum_add(0, ip + 12, 8); /* src, dst */
		return ipr_csum_add(sum, tail, sizeof(tail));
	} else {
		uint8_t tail[8] = { (uint8_t)(l4_len >> 24),
				    (uint8_t)(l4_len >> 16),
				    (uint8_t)(l4_len >> 8), (uint8_t)l4_len,
				    0, 0, 0, proto };

		sum = ipr_csum_add(0, ip + 8, 32); /* src, dst */
		return ipr_csum_add(sum, tail, sizeof(tail));
	}
}

static void store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* Checksum over [l4_off, total_len) with the field at @field (an offset
 * into the transport header) zeroed first. */
static void l4_csum(uint8_t *pkt, const struct ipr_headers *h, size_t field,
		    bool pseudo, bool udp)
{
	uint32_t l4_len = h->total_len - h->l4_off;
	uint8_t *l4 = pkt + h->l4_off;
	uint32_t sum = 0;
	uint16_t csum;

	store16(l4 + field, 0);
	if (pseudo)
		sum = pseudo_sum(h, h->protocol, l4_len);
	sum = ipr_csum_add(sum, l4, l4_len);
	csum = ipr_csum_fold(sum);
	/* 0 means "no checksum" in UDP (RFC 768); its ones' complement
	 * twin 0xffff says the same sum. */
	if (udp && csum == 0)
		csum = 0xffff;
	store16(l4 + field, csum);
}

IPR_API int ipr_csum_calc(void *pkt, size_t len, unsigned flags)
{
	struct ipr_headers h;
	uint8_t *p = pkt;
	size_t ip_total;
	int err;

	err = ipr_packet_parse(pkt, len, &h);
	if (err)
		return err;

	/* The transport checksum covers the length the IP header declares;
	 * if the buffer holds less, it cannot be computed, and a packet sent
	 * like that would be wrong anyway. */
	if (h.ip)
		ip_total = (size_t)p[2] << 8 | p[3];
	else
		ip_total = 40 + ((size_t)p[4] << 8 | p[5]);
	if (ip_total > len) {
		errno = EINVAL;
		return -EINVAL;
	}

	if (h.ip && !(flags & IPR_CSUM_NO_IP)) {
		store16(p + 10, 0);
		store16(p + 10, ipr_csum_fold(ipr_csum_add(0, p, h.l3_len)));
	}

	/* The transport checksum covers the whole datagram, which a single
	 * fragment (first or not) does not hold: leave it as it is. */
	if (h.fragment)
		return 0;

	if (h.tcp && !(flags & IPR_CSUM_NO_TCP))
		l4_csum(p, &h, 16, true, false);
	else if (h.udp && !(flags & IPR_CSUM_NO_UDP))
		l4_csum(p, &h, 6, true, true);
	else if (h.icmp && !(flags & IPR_CSUM_NO_ICMP))
		l4_csum(p, &h, 2, false, false);
	else if (h.icmpv6 && !(flags & IPR_CSUM_NO_ICMPV6))
		l4_csum(p, &h, 2, true, false);
	return 0;
}
