/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* packet.c - ipr_packet_parse: find the IPv4/IPv6 header, the IPv6 extension
 * headers and the transport header of a packet that may be cut short. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <string.h>

#include "ipredir.h"

/* A packet made of nothing but extension headers must not keep us busy;
 * real ones carry a handful at most. */
#define IPV6_EXT_MAX 16

enum {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_AH = 51,
	PROTO_ICMPV6 = 58,
	PROTO_NONE = 59,
	PROTO_DSTOPTS = 60,
};

/* Packets need not be aligned: multi-byte fields are read byte by byte. */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int bad_ip(struct ipr_headers *h)
{
	memset(h, 0, sizeof(*h));
	errno = EINVAL;
	return -EINVAL;
}

/* Walks the extension headers from @off to the transport header; @end is
 * where the IPv6 packet ends.  Returns the transport header offset.  A chain
 * that runs past @end (a truncated capture) stops at the header that does
 * not fit: h->protocol then names that header, and no transport is parsed. */
static uint32_t ipv6_ext_walk(const uint8_t *p, uint32_t off, uint32_t end,
			      struct ipr_headers *h, bool *l4_ok)
{
	uint8_t nh = h->protocol;
	int i;

	*l4_ok = false;
	for (i = 0;; i++) {
		uint32_t room = end - off, hlen;

		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_AH:
		case PROTO_FRAGMENT:
			break;
		case PROTO_NONE:
			return off;
		default:
			*l4_ok = true;
			return off;
		}
		if (i == IPV6_EXT_MAX)
			return off;
		if (nh == PROTO_FRAGMENT)
			hlen = 8;
		else if (room < 2)
			return off;
		else if (nh == PROTO_AH)
			hlen = ((uint32_t)p[off + 1] + 2) * 4;
		else
			hlen = ((uint32_t)p[off + 1] + 1) * 8;
		if (room < hlen)
			return off;
		if (nh == PROTO_FRAGMENT) {
			h->fragment = true;
			h->frag_off = rd16(p + off + 2) & 0xfff8;
		}
		nh = p[off];
		off += hlen;
		h->protocol = nh;
		/* What follows the fragment header of a later fragment is
		 * the middle of the datagram, not headers. */
		if (h->fragment && h->frag_off != 0)
			return off;
	}
}

/* Sets the transport pointer if its header fits in [off, end); returns
 * where the payload starts. */
static uint32_t l4_parse(const uint8_t *p, uint32_t off, uint32_t end,
			 struct ipr_headers *h, bool v6)
{
	uint32_t room = end - off;

	switch (h->protocol) {
	case PROTO_TCP: {
		uint32_t doff;

		if (room < sizeof(struct ipr_tcphdr))
			return off;
		doff = (uint32_t)(p[off + 12] >> 4) * 4;
		if (doff < sizeof(struct ipr_tcphdr) || doff > room)
			return off;
		h->tcp = (const void *)(p + off);
		return off + doff;
	}
	case PROTO_UDP:
		if (room < sizeof(struct ipr_udphdr))
			return off;
		h->udp = (const void *)(p + off);
		return off + sizeof(struct ipr_udphdr);
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (v6 != (h->protocol == PROTO_ICMPV6) ||
		    room < sizeof(struct ipr_icmphdr))
			return off;
		if (v6)
			h->icmpv6 = (const void *)(p + off);
		else
			h->icmp = (const void *)(p + off);
		return off + sizeof(struct ipr_icmphdr);
	default:
		return off;
	}
}

/*
 * The payload is what follows the last header recognised: after the
 * transport header when there is one, else after the IP headers (a later
 * fragment, an unknown protocol, a transport header that does not fit), as
 * WinDivert does, so that a caller always gets the bytes nobody parsed.
 */
IPR_API int ipr_packet_parse(const void *pkt, size_t len,
			     struct ipr_headers *hdrs)
{
	const uint8_t *p = pkt;
	uint32_t end, off, data;
	bool l4_ok;

	if (!hdrs) {
		errno = EINVAL;
		return -EINVAL;
	}
	memset(hdrs, 0, sizeof(*hdrs));
	if (!p || len == 0)
		return bad_ip(hdrs);

	switch (p[0] >> 4) {
	case 4: {
		uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
		uint32_t total;
		uint16_t frag;

		if (len < sizeof(struct ipr_iphdr) ||
		    ihl < sizeof(struct ipr_iphdr) || ihl > len)
			return bad_ip(hdrs);
		total = rd16(p + 2);
		if (total < ihl)
			return bad_ip(hdrs);
		end = total < len ? total : (uint32_t)len;
		frag = rd16(p + 6);
		hdrs->ip = pkt;
		hdrs->protocol = p[9];
		hdrs->frag_off = (uint16_t)((frag & 0x1fff) * 8);
		hdrs->fragment = (frag & 0x2000) || hdrs->frag_off;
		off = ihl;
		l4_ok = hdrs->frag_off == 0;
		break;
	}
	case 6: {
		uint32_t total;

		if (len < sizeof(struct ipr_ipv6hdr))
			return bad_ip(hdrs);
		total = sizeof(struct ipr_ipv6hdr) + rd16(p + 4);
		end = total < len ? total : (uint32_t)len;
		hdrs->ipv6 = pkt;
		hdrs->protocol = p[6];
		off = ipv6_ext_walk(p, sizeof(struct ipr_ipv6hdr), end, hdrs,
				    &l4_ok);
		if (hdrs->fragment && hdrs->frag_off != 0)
			l4_ok = false;
		break;
	}
	default:
		return bad_ip(hdrs);
	}

	hdrs->total_len = end;
	hdrs->l3_len = off;
	hdrs->l4_off = off;
	data = l4_ok ? l4_parse(p, off, end, hdrs, hdrs->ipv6 != NULL) : off;
	if (data < end) {
		hdrs->payload = p + data;
		hdrs->payload_len = end - data;
	}
	return 0;
}

/* --- what a replacement may not change (internal.h) --------------------- */

/* FNV-1a: the signature need only tell a changed header from the same one. */
static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The fixed parts of the headers: for IPv4 the version, the header length,
 * the fragment fields but DF and the options; for IPv6 the first next-header
 * value and every extension header, byte for byte, as the kernel compares
 * them.  A chain cut short by the end of the data ends the walk; the length
 * checks of ipri_replace_ok refuse such a packet anyway. */
uint32_t ipri_hdr_sig(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u;

	if (len < 1)
		return h;
	if (p[0] >> 4 == 4) {
		uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
		uint8_t fixed[3];

		if (len < sizeof(struct ipr_iphdr) || ihl > len)
			return fnv(h, p, 1);
		fixed[0] = p[0];
		fixed[1] = p[6] & (uint8_t)~0x40; /* DF may change */
		fixed[2] = p[7];
		return fnv(fnv(h, fixed, 3), p + 20, ihl > 20 ? ihl - 20 : 0);
	}
	if (p[0] >> 4 != 6 || len < sizeof(struct ipr_ipv6hdr))
		return fnv(h, p, 1);
	uint8_t fixed[2] = { 6, p[6] }, nh = p[6];
	uint32_t off = sizeof(struct ipr_ipv6hdr);
	h = fnv(h, fixed, 2); /* the traffic class beside the version may change */
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		uint32_t hlen;

		if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING &&
		    nh != PROTO_DSTOPTS && nh != PROTO_AH &&
		    nh != PROTO_FRAGMENT)
			break;
		if (len - off < 2)
			break;
		if (nh == PROTO_FRAGMENT)
			hlen = 8;
		else if (nh == PROTO_AH)
			hlen = ((uint32_t)p[off + 1] + 2) * 4;
		else
			hlen = ((uint32_t)p[off + 1] + 1) * 8;
		if (len - off < hlen)
			break;
		h = fnv(h, p + off, hlen);
		nh = p[off];
		off += hlen;
	}
	return h;
}

bool ipri_replace_ok(const uint8_t *p, uint32_t len, uint32_t orig_sig)
{
	if (len >= sizeof(struct ipr_iphdr) && p[0] >> 4 == 4) {
		uint32_t ihl = (uint32_t)(p[0] & 0x0f) * 4;
		if (ihl < sizeof(struct ipr_iphdr) || ihl > len ||
		    rd16(p + 2) != len)
			return false;
	} else if (len >= sizeof(struct ipr_ipv6hdr) && p[0] >> 4 == 6) {
		if (rd16(p + 4) != len - sizeof(struct ipr_ipv6hdr))
			return false;
	} else {
		return false;
	}
	return ipri_hdr_sig(p, len) == orig_sig;
}

/*
 * A 64-bit hash of the packet's first 64 bytes and its IP length, with the
 * fields that change on the way (TTL or hop limit, the IPv4 checksum)
 * left out, so that a packet hashes the same before and after a router;
 * mixed 8 bytes at a time and finished with a 64-bit avalanche.
 */
IPR_API uint64_t ipr_packet_hash(const void *pkt, size_t len, uint64_t seed)
{
	struct ipr_headers hd;
	uint8_t b[64];
	size_t total = len, n;
	uint64_t h;

	if (!pkt)
		total = 0;
	else if (ipr_packet_parse(pkt, len, &hd) == 0)
		total = hd.total_len;
	n = total < sizeof(b) ? total : sizeof(b);
	memset(b, 0, sizeof(b));
	if (n)
		memcpy(b, pkt, n);
	if (n >= 12 && (b[0] >> 4) == 4) {
		b[8] = 0;
		b[10] = b[11] = 0;
	} else if (n >= 8 && (b[0] >> 4) == 6) {
		b[7] = 0;
	}
	h = 0x6970726564697231ull ^ total;
	h ^= seed * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	for (size_t i = 0; i < sizeof(b); i += 8) {
		uint64_t w = 0;

		for (size_t k = 0; k < 8; k++)
			w = w << 8 | b[i + k];
		h ^= w;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 31;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}
