/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_fields.c - the table of every field of the filter language: its
 * name, how it gets its value, which packets have it, where it is tested.
 * The parser, the evaluator, the formatter and the kernel program all
 * read it (filter_ast.h). */
#include <stdint.h>

#include "filter_ast.h"

/*
 * Every field the language knows.  Guards (nfproto, l4proto) say which
 * packets have the field at all: a test on a packet without it is false
 * and its negation true; a field that the packet should have but whose
 * bytes cannot be read (a later fragment, a cut header, no socket) fails
 * both ways.  Names are WinDivert's, case and all; ifName, mark, uid, gid
 * and ct.state are Linux's own.
 */
#define FLD(n, k, vt, w, nf, l4, off, m, sh, a, fl)                         \
	{ .name = (n), .kind = (k), .vtype = (vt), .width = (w),            \
	  .layers = IPR_LAYERS_NETWORK, .nfproto = (nf), .l4proto = (l4),   \
	  .offset = (off), .mask = (m), .shift = (sh), .arg = (a),          \
	  .flags = (fl) }
#define BOOLF(n, k, nf, l4, a) FLD(n, k, IPR_VT_BOOL, 0, nf, l4, 0, 0, 0, a, 0)
#define NUMF(n, k, w, a, fl) FLD(n, k, IPR_VT_NUM, w, 0, 0, 0, 0, 0, a, fl)
#define NETF(n, vt, w, nf, off, m, sh)                                      \
	FLD(n, IPR_FK_NET, vt, w, nf, 0, off, m, sh, 0, 0)
#define L4F(n, w, nf, l4, off, m, sh)                                       \
	FLD(n, IPR_FK_TRANSPORT, IPR_VT_NUM, w, nf, l4, off, m, sh, 0, 0)
#define PAYF(n, w, l4)                                                      \
	FLD(n, IPR_FK_PAYLOAD, IPR_VT_NUM, w, 0, l4, 0, 0, 0, 0, IPR_FF_INDEX)
#define USERF(n, w, l4, a)                                                  \
	FLD(n, IPR_FK_USER, IPR_VT_NUM, w, 0, l4, 0, 0, 0, a, IPR_FF_USER)

const struct ipr_field ipri_filter_fields[] = {
	BOOLF("true", IPR_FK_CONST, 0, 0, 1),
	BOOLF("false", IPR_FK_CONST, 0, 0, 0),
	BOOLF("inbound", IPR_FK_DIR, 0, 0, 0),
	BOOLF("outbound", IPR_FK_DIR, 0, 0, 1),
	BOOLF("ip", IPR_FK_PROTO, 2, 0, 0),
	BOOLF("ipv6", IPR_FK_PROTO, 10, 0, 0),
	BOOLF("tcp", IPR_FK_PROTO, 0, 6, 0),
	BOOLF("udp", IPR_FK_PROTO, 0, 17, 0),
	BOOLF("icmp", IPR_FK_PROTO, 2, 1, 0),
	BOOLF("icmpv6", IPR_FK_PROTO, 10, 58, 0),
	BOOLF("loopback", IPR_FK_LOOPBACK, 0, 0, 0),
	BOOLF("fragment", IPR_FK_FRAGMENT, 0, 0, 0),
	BOOLF("impostor", IPR_FK_CONSTVAL, 0, 0, IPR_CV_ZERO),
	NUMF("zero", IPR_FK_CONSTVAL, 4, IPR_CV_ZERO, 0),
	NUMF("event", IPR_FK_CONSTVAL, 4, IPR_CV_ZERO, 0),
	NUMF("subIfIdx", IPR_FK_CONSTVAL, 4, IPR_CV_ZERO, 0),
	NUMF("layer", IPR_FK_CONSTVAL, 4, IPR_CV_LAYER, 0),
	NUMF("priority", IPR_FK_CONSTVAL, 2, IPR_CV_PRIORITY, IPR_FF_SIGNED),
	USERF("timestamp", 8, 0, IPR_U_TIMESTAMP),
	USERF("random8", 1, 0, IPR_U_RANDOM8),
	USERF("random16", 2, 0, IPR_U_RANDOM16),
	USERF("random32", 4, 0, IPR_U_RANDOM32),
	NUMF("ifIdx", IPR_FK_IFIDX, 4, 0, 0),
	FLD("ifName", IPR_FK_IFNAME, IPR_VT_STRING, 16, 0, 0, 0, 0, 0, 0,
	    IPR_FF_EQONLY),
	NUMF("length", IPR_FK_META, 4, IPR_M_LENGTH, 0),
	NUMF("protocol", IPR_FK_META, 1, IPR_M_PROTOCOL, 0),
	NUMF("mark", IPR_FK_META, 4, IPR_M_MARK, 0),
	{ .name = "uid", .kind = IPR_FK_SOCK, .vtype = IPR_VT_NUM, .width = 4,
	  .layers = IPR_LAYERS_NETWORK, .hooks = 1u << IPR_HOOK_OUT, .arg = 0 },
	{ .name = "gid", .kind = IPR_FK_SOCK, .vtype = IPR_VT_NUM, .width = 4,
	  .layers = IPR_LAYERS_NETWORK, .hooks = 1u << IPR_HOOK_OUT, .arg = 1 },
	FLD("ct.state", IPR_FK_CT, IPR_VT_CTSTATE, 4, 0, 0, 0, 0, 0, 0,
	    IPR_FF_EQONLY),
	FLD("localAddr", IPR_FK_ADDR, IPR_VT_ADDR, 16, 0, 0, 0, 0, 0, 0, 0),
	FLD("remoteAddr", IPR_FK_ADDR, IPR_VT_ADDR, 16, 0, 0, 0, 0, 0, 1, 0),
	NUMF("localPort", IPR_FK_PORT, 2, 0, 0),
	NUMF("remotePort", IPR_FK_PORT, 2, 1, 0),
	NUMF("packet", IPR_FK_PACKET, 1, 0, IPR_FF_INDEX),
	NUMF("packet16", IPR_FK_PACKET, 2, 0, IPR_FF_INDEX),
	NUMF("packet32", IPR_FK_PACKET, 4, 0, IPR_FF_INDEX),

	NETF("ip.HdrLength", IPR_VT_NUM, 1, 2, 0, 0x0f, 0),
	NETF("ip.TOS", IPR_VT_NUM, 1, 2, 1, 0, 0),
	NETF("ip.Length", IPR_VT_NUM, 2, 2, 2, 0, 0),
	NETF("ip.Id", IPR_VT_NUM, 2, 2, 4, 0, 0),
	NETF("ip.DF", IPR_VT_NUM, 1, 2, 6, 0x40, 6),
	NETF("ip.MF", IPR_VT_NUM, 1, 2, 6, 0x20, 5),
	NETF("ip.FragOff", IPR_VT_NUM, 2, 2, 6, 0x1fff, 0),
	NETF("ip.TTL", IPR_VT_NUM, 1, 2, 8, 0, 0),
	NETF("ip.Protocol", IPR_VT_NUM, 1, 2, 9, 0, 0),
	NETF("ip.Checksum", IPR_VT_NUM, 2, 2, 10, 0, 0),
	NETF("ip.SrcAddr", IPR_VT_IPV4, 4, 2, 12, 0, 0),
	NETF("ip.DstAddr", IPR_VT_IPV4, 4, 2, 16, 0, 0),

	NETF("ipv6.TrafficClass", IPR_VT_NUM, 2, 10, 0, 0x0ff0, 4),
	NETF("ipv6.FlowLabel", IPR_VT_NUM, 4, 10, 0, 0x000fffff, 0),
	NETF("ipv6.Length", IPR_VT_NUM, 2, 10, 4, 0, 0),
	NETF("ipv6.NextHdr", IPR_VT_NUM, 1, 10, 6, 0, 0),
	NETF("ipv6.HopLimit", IPR_VT_NUM, 1, 10, 7, 0, 0),
	NETF("ipv6.SrcAddr", IPR_VT_IPV6, 16, 10, 8, 0, 0),
	NETF("ipv6.DstAddr", IPR_VT_IPV6, 16, 10, 24, 0, 0),

	L4F("icmp.Type", 1, 2, 1, 0, 0, 0),
	L4F("icmp.Code", 1, 2, 1, 1, 0, 0),
	L4F("icmp.Checksum", 2, 2, 1, 2, 0, 0),
	L4F("icmp.Body", 4, 2, 1, 4, 0, 0),
	L4F("icmpv6.Type", 1, 10, 58, 0, 0, 0),
	L4F("icmpv6.Code", 1, 10, 58, 1, 0, 0),
	L4F("icmpv6.Checksum", 2, 10, 58, 2, 0, 0),
	L4F("icmpv6.Body", 4, 10, 58, 4, 0, 0),

	L4F("tcp.SrcPort", 2, 0, 6, 0, 0, 0),
	L4F("tcp.DstPort", 2, 0, 6, 2, 0, 0),
	L4F("tcp.SeqNum", 4, 0, 6, 4, 0, 0),
	L4F("tcp.AckNum", 4, 0, 6, 8, 0, 0),
	L4F("tcp.HdrLength", 1, 0, 6, 12, 0xf0, 4),
	L4F("tcp.Urg", 1, 0, 6, 13, 0x20, 5),
	L4F("tcp.Ack", 1, 0, 6, 13, 0x10, 4),
	L4F("tcp.Psh", 1, 0, 6, 13, 0x08, 3),
	L4F("tcp.Rst", 1, 0, 6, 13, 0x04, 2),
	L4F("tcp.Syn", 1, 0, 6, 13, 0x02, 1),
	L4F("tcp.Fin", 1, 0, 6, 13, 0x01, 0),
	L4F("tcp.Window", 2, 0, 6, 14, 0, 0),
	L4F("tcp.Checksum", 2, 0, 6, 16, 0, 0),
	L4F("tcp.UrgPtr", 2, 0, 6, 18, 0, 0),
	USERF("tcp.PayloadLength", 4, 6, IPR_U_PAYLOADLEN),
	PAYF("tcp.Payload", 1, 6),
	PAYF("tcp.Payload16", 2, 6),
	PAYF("tcp.Payload32", 4, 6),

	L4F("udp.SrcPort", 2, 0, 17, 0, 0, 0),
	L4F("udp.DstPort", 2, 0, 17, 2, 0, 0),
	L4F("udp.Length", 2, 0, 17, 4, 0, 0),
	L4F("udp.Checksum", 2, 0, 17, 6, 0, 0),
	USERF("udp.PayloadLength", 4, 17, IPR_U_PAYLOADLEN),
	PAYF("udp.Payload", 1, 17),
	PAYF("udp.Payload16", 2, 17),
	PAYF("udp.Payload32", 4, 17),

	/* WinDivert's FLOW / SOCKET layer fields: known, so that a filter
	 * written for those layers gets a precise error here. */
	{ .name = "processId", .kind = IPR_FK_CONSTVAL, .vtype = IPR_VT_NUM,
	  .width = 4 },
	{ .name = "endpointId", .kind = IPR_FK_CONSTVAL, .vtype = IPR_VT_NUM,
	  .width = 8 },
	{ .name = "parentEndpointId", .kind = IPR_FK_CONSTVAL,
	  .vtype = IPR_VT_NUM, .width = 8 },
};
const unsigned ipri_filter_nfields =
	sizeof(ipri_filter_fields) / sizeof(ipri_filter_fields[0]);
_Static_assert(sizeof(ipri_filter_fields) / sizeof(ipri_filter_fields[0]) <=
	       UINT16_MAX, "ipr_fnode.field is 16 bits");
