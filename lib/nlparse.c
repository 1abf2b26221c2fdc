/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nlparse.c - the attributes of nfnetlink_queue and nfnetlink_log packet
 * messages, read into struct ipr_rxmeta.  Apart from the socket code so
 * that fuzz/fuzz_nlmsg.c can feed it any bytes. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stddef.h>
#include <string.h>
#include "internal.h"

/*
 * The attributes of a packet message, walked here rather than through
 * libmnl's iterator: its calls (not inlined across the shared library)
 * were half of the user-space instructions per packet (callgrind).  The
 * checks are libmnl's: an attribute must fit in what is left, and its
 * length must cover its header.
 */
static inline const struct nlattr *attr_first(const struct nlmsghdr *nlh)
{
	return (const struct nlattr *)((const uint8_t *)nlh + MNL_NLMSG_HDRLEN +
				       MNL_ALIGN(sizeof(struct nfgenmsg)));
}

static inline bool attr_ok(const struct nlattr *a, const struct nlmsghdr *nlh)
{
	ptrdiff_t left = (const uint8_t *)nlh + nlh->nlmsg_len -
			 (const uint8_t *)a;
	return left >= (ptrdiff_t)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       (ptrdiff_t)a->nla_len <= left;
}

static inline const struct nlattr *attr_next(const struct nlattr *a)
{
	return (const struct nlattr *)((const uint8_t *)a +
				       MNL_ALIGN(a->nla_len));
}

static inline uint32_t attr_be32(const struct nlattr *a)
{
	uint32_t v = 0;
	if (a->nla_len >= MNL_ATTR_HDRLEN + 4)
		memcpy(&v, (const uint8_t *)a + MNL_ATTR_HDRLEN, 4);
	return ntohl(v);
}

/* What an attribute means, for either family: the two number theirs
 * differently but carry the same things (the packet header differs). */
enum role {
	R_NONE, R_QHDR, R_LHDR, R_MARK, R_INDEV, R_OUTDEV, R_CAPLEN,
	R_SKBINFO, R_UID, R_GID, R_TIMESTAMP, R_PAYLOAD,
};
#define ROLES 32 /* above both families' attribute numbers */

static const uint8_t queue_role[ROLES] = {
	[NFQA_PACKET_HDR] = R_QHDR, [NFQA_MARK] = R_MARK,
	[NFQA_IFINDEX_INDEV] = R_INDEV, [NFQA_IFINDEX_OUTDEV] = R_OUTDEV,
	[NFQA_CAP_LEN] = R_CAPLEN, [NFQA_SKB_INFO] = R_SKBINFO,
	[NFQA_UID] = R_UID, [NFQA_GID] = R_GID,
	[NFQA_TIMESTAMP] = R_TIMESTAMP, [NFQA_PAYLOAD] = R_PAYLOAD,
};
static const uint8_t log_role[ROLES] = {
	[NFULA_PACKET_HDR] = R_LHDR, [NFULA_MARK] = R_MARK,
	[NFULA_IFINDEX_INDEV] = R_INDEV, [NFULA_IFINDEX_OUTDEV] = R_OUTDEV,
	[NFULA_UID] = R_UID, [NFULA_GID] = R_GID,
	[NFULA_TIMESTAMP] = R_TIMESTAMP, [NFULA_PAYLOAD] = R_PAYLOAD,
};
_Static_assert(NFQA_MAX < ROLES && NFULA_MAX < ROLES, "role tables too small");

static void parse(const struct nlmsghdr *nlh, struct ipr_rxmeta *m,
		  const uint8_t *roles)
{
	for (const struct nlattr *a = attr_first(nlh); attr_ok(a, nlh);
	     a = attr_next(a)) {
		const void *v = (const uint8_t *)a + MNL_ATTR_HDRLEN;
		uint16_t l = (uint16_t)(a->nla_len - MNL_ATTR_HDRLEN);
		uint16_t type = a->nla_type & NLA_TYPE_MASK;
		switch (type < ROLES ? roles[type] : R_NONE) {
		case R_QHDR:
			if (l >= sizeof(struct nfqnl_msg_packet_hdr)) {
				struct nfqnl_msg_packet_hdr ph;
				memcpy(&ph, v, sizeof(ph));
				m->id = ntohl(ph.packet_id);
				m->hook = ph.hook;
			}
			break;
		case R_LHDR:
			if (l >= sizeof(struct nfulnl_msg_packet_hdr))
				m->hook = ((const struct nfulnl_msg_packet_hdr *)v)->hook;
			break;
		case R_MARK:
			m->mark = attr_be32(a);
			break;
		case R_INDEV:
			m->indev = attr_be32(a);
			break;
		case R_OUTDEV:
			m->outdev = attr_be32(a);
			break;
		case R_CAPLEN:
			m->caplen = attr_be32(a);
			m->has_caplen = true;
			break;
		case R_SKBINFO:
			m->skbinfo = attr_be32(a);
			break;
		case R_UID:
			m->uid = attr_be32(a);
			m->has_uid = true;
			break;
		case R_GID:
			m->gid = attr_be32(a);
			m->has_gid = true;
			break;
		case R_TIMESTAMP:
			/* the same layout in both families: be64 sec, usec */
			if (l >= sizeof(struct nfqnl_msg_packet_timestamp)) {
				/* attributes are only 4-byte aligned */
				struct nfqnl_msg_packet_timestamp ts;
				memcpy(&ts, v, sizeof(ts));
				m->ts = be64toh(ts.sec) * 1000000000ull +
					be64toh(ts.usec) * 1000ull;
				m->has_ts = true;
			}
			break;
		case R_PAYLOAD:
			m->data = v;
			m->len = l;
			break;
		}
	}
}

void ipri_parse_queue_msg(const struct nlmsghdr *nlh, struct ipr_rxmeta *m)
{
	parse(nlh, m, queue_role);
}

void ipri_parse_log_msg(const struct nlmsghdr *nlh, struct ipr_rxmeta *m)
{
	parse(nlh, m, log_role);
}
