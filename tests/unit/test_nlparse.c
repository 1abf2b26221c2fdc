/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_nlparse.c - the netlink packet-message parser (lib/nlparse.c) and
 * the message bound check: well-formed nfnetlink_queue and nfnetlink_log
 * messages give every field; a length that does not fit, an attribute that
 * runs past its message or is shorter than its header stop the walk; short
 * and unknown attributes are ignored. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>
#include "check.h"
#include "internal.h"

static _Alignas(8) uint8_t buf[4096];

static struct nlmsghdr *msg_start(bool log)
{
	memset(buf, 0, sizeof(buf));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = log ? (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET
			      : (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->version = NFNETLINK_V0;
	return nlh;
}

static const uint8_t payload[] = { 0x45, 0, 0, 20, 1, 2, 3, 4, 5, 6,
				   7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void put_common(struct nlmsghdr *nlh, bool log)
{
	struct nfqnl_msg_packet_timestamp ts = {
		.sec = htobe64(1700000000), .usec = htobe64(250000),
	};
	mnl_attr_put_u32(nlh, log ? NFULA_MARK : NFQA_MARK, htonl(0x49500007));
	mnl_attr_put_u32(nlh, log ? NFULA_IFINDEX_INDEV : NFQA_IFINDEX_INDEV,
			 htonl(3));
	mnl_attr_put_u32(nlh, log ? NFULA_IFINDEX_OUTDEV : NFQA_IFINDEX_OUTDEV,
			 htonl(4));
	mnl_attr_put_u32(nlh, log ? NFULA_UID : NFQA_UID, htonl(1000));
	mnl_attr_put_u32(nlh, log ? NFULA_GID : NFQA_GID, htonl(100));
	mnl_attr_put(nlh, log ? NFULA_TIMESTAMP : NFQA_TIMESTAMP, sizeof(ts), &ts);
	mnl_attr_put(nlh, log ? NFULA_PAYLOAD : NFQA_PAYLOAD, sizeof(payload),
		     payload);
}

static void check_common(const char *fam, const struct ipr_rxmeta *m)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.fields", fam);
	CHECK(name, m->mark == 0x49500007 && m->indev == 3 && m->outdev == 4 &&
	      m->has_uid && m->uid == 1000 && m->has_gid && m->gid == 100 &&
	      m->has_ts && m->ts == 1700000000ull * 1000000000ull + 250000000ull,
	      "mark %x in %u out %u uid %d/%u gid %d/%u ts %d/%llu", m->mark,
	      m->indev, m->outdev, m->has_uid, m->uid, m->has_gid, m->gid,
	      m->has_ts, (unsigned long long)m->ts);
	snprintf(name, sizeof(name), "%s.payload", fam);
	CHECK(name, m->data && m->len == sizeof(payload) &&
	      !memcmp(m->data, payload, sizeof(payload)),
	      "payload %p len %u", (const void *)m->data, m->len);
}

static void test_queue_msg(void)
{
	struct nlmsghdr *nlh = msg_start(false);
	struct nfqnl_msg_packet_hdr ph = {
		.packet_id = htonl(0x01020304), .hook = 3,
	};
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(70000));
	mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(NFQA_SKB_GSO));
	mnl_attr_put_u32(nlh, 31, htonl(1)); /* unknown: ignored */
	put_common(nlh, false);
	struct ipr_rxmeta m;
	memset(&m, 0, sizeof(m));
	CHECK("queue.bounds_ok", ipr_nlmsg_ok(nlh, (int)nlh->nlmsg_len),
	      "a whole message refused");
	ipri_parse_queue_msg(nlh, &m);
	CHECK("queue.header", m.id == 0x01020304 && m.hook == 3,
	      "id %x hook %u", m.id, m.hook);
	CHECK("queue.caplen_skbinfo", m.has_caplen && m.caplen == 70000 &&
	      m.skbinfo == NFQA_SKB_GSO, "caplen %d/%u skbinfo %x",
	      m.has_caplen, m.caplen, m.skbinfo);
	check_common("queue", &m);
}

static void test_log_msg(void)
{
	struct nlmsghdr *nlh = msg_start(true);
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(0x0800),
					    .hook = 1 };
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	put_common(nlh, true);
	struct ipr_rxmeta m;
	memset(&m, 0, sizeof(m));
	ipri_parse_log_msg(nlh, &m);
	CHECK("log.header", m.hook == 1 && m.id == 0 && !m.has_caplen,
	      "hook %u id %u caplen %d", m.hook, m.id, m.has_caplen);
	check_common("log", &m);
}

static void test_bounds(void)
{
	struct nlmsghdr *nlh = msg_start(false);
	put_common(nlh, false);
	uint32_t whole = nlh->nlmsg_len;
	CHECK("bounds.shorter_datagram", !ipr_nlmsg_ok(nlh, (int)whole - 1),
	      "a message longer than its datagram accepted");
	CHECK("bounds.tiny_datagram", !ipr_nlmsg_ok(nlh, 8),
	      "8 bytes taken for a message header");
	nlh->nlmsg_len = 0xffffff4a; /* negative as an int: libmnl takes it */
	CHECK("bounds.length_2pow31", !ipr_nlmsg_ok(nlh, 16),
	      "length 0xffffff4a accepted in 16 bytes");
	nlh->nlmsg_len = 8;
	CHECK("bounds.length_below_header", !ipr_nlmsg_ok(nlh, 64),
	      "length 8 accepted");

	/* The message ends inside the payload attribute: the walk stops
	 * before it, and nothing past the message is reported. */
	nlh->nlmsg_len = whole - 4;
	struct ipr_rxmeta m;
	memset(&m, 0, sizeof(m));
	ipri_parse_queue_msg(nlh, &m);
	CHECK("bounds.attr_past_end", !m.data && m.mark == 0x49500007,
	      "data %p mark %x", (const void *)m.data, m.mark);

	/* An attribute shorter than its own header ends the walk. */
	nlh = msg_start(false);
	mnl_attr_put_u32(nlh, NFQA_MARK, htonl(5));
	struct nlattr *bad = (struct nlattr *)((uint8_t *)nlh + nlh->nlmsg_len);
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(6));
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(7));
	bad->nla_len = 2;
	memset(&m, 0, sizeof(m));
	ipri_parse_queue_msg(nlh, &m);
	CHECK("bounds.attr_len_below_header", m.mark == 5 && m.indev == 0 &&
	      m.outdev == 0, "mark %u indev %u outdev %u", m.mark, m.indev,
	      m.outdev);

	/* A 2-byte MARK is not read as 4; an empty PACKET_HDR is skipped. */
	nlh = msg_start(false);
	uint16_t two = 0xffff;
	mnl_attr_put(nlh, NFQA_MARK, sizeof(two), &two);
	mnl_attr_put(nlh, NFQA_PACKET_HDR, 0, &two);
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(9));
	memset(&m, 0, sizeof(m));
	ipri_parse_queue_msg(nlh, &m);
	CHECK("bounds.short_attrs", m.mark == 0 && m.id == 0 && m.indev == 9,
	      "mark %x id %u indev %u", m.mark, m.id, m.indev);
}

int main(void)
{
	test_queue_msg();
	test_log_msg();
	test_bounds();
	return check_exit();
}
