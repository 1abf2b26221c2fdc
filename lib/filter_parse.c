/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_parse.c - the WinDivert filter language: field table, tokenizer and
 * recursive-descent parser into the tree of filter_ast.h; compile and free. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Values that may be written by name.  WinDivert's, with its numbers:
 * layers, events (a network-layer packet is event PACKET), protocols. */
static const struct {
	const char *name;
	uint64_t value;
} macros[] = {
	{ "TRUE", 1 }, { "FALSE", 0 }, { "TCP", 6 }, { "UDP", 17 },
	{ "ICMP", 1 }, { "ICMPV6", 58 },
	{ "NETWORK", 0 }, { "NETWORK_FORWARD", 1 }, { "FLOW", 2 },
	{ "SOCKET", 3 }, { "REFLECT", 4 },
	{ "PACKET", 0 }, { "ESTABLISHED", 1 }, { "DELETED", 2 }, { "BIND", 3 },
	{ "CONNECT", 4 }, { "LISTEN", 5 }, { "ACCEPT", 6 }, { "CLOSE", 7 },
	{ "OPEN", 8 },
};

/* ct.state values, and the kernel's bits for them. */
static const struct {
	const char *name;
	uint32_t bit;
} ct_states[] = {
	{ "invalid", IPR_CT_INVALID }, { "established", IPR_CT_ESTABLISHED },
	{ "related", IPR_CT_RELATED }, { "new", IPR_CT_NEW },
	{ "untracked", IPR_CT_UNTRACKED },
};

enum tok_type {
	T_END, T_LPAREN, T_RPAREN, T_QUEST, T_COLON, T_AND, T_OR, T_NOT,
	T_OP, T_IDENT, T_BAD,
};

struct tok {
	enum tok_type type;
	uint8_t op;      /* T_OP: enum ipr_kop */
	size_t pos, len;
};

struct parser {
	const char *s;
	size_t len, pos;
	enum ipr_layer layer;
	int depth;
	int in_then;     /* inside the first branch of a ternary */
	struct ipr_fnode *nodes;
	uint32_t n, cap;
	/* first error wins: later ones are consequences */
	const char *err_msg;
	size_t err_pos;
	int err_code;
};

static int32_t fail(struct parser *p, size_t pos, const char *msg)
{
	if (!p->err_msg) {
		p->err_msg = msg;
		p->err_pos = pos;
		p->err_code = -EINVAL;
	}
	return IPR_FN_NONE;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static void skip_space(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r' ||
				   p->s[p->pos] == '\f' || p->s[p->pos] == '\v'))
		p->pos++;
}

/* The token at the current position, without consuming it. */
static struct tok peek(struct parser *p)
{
	struct tok t = { T_BAD, 0, 0, 1 };
	const char *s = p->s;
	size_t i;

	skip_space(p);
	i = p->pos;
	t.pos = i;
	if (i >= p->len) {
		t.type = T_END;
		t.len = 0;
		return t;
	}
	char c = s[i], d = i + 1 < p->len ? s[i + 1] : '\0';
	switch (c) {
	case '(': t.type = T_LPAREN; return t;
	case ')': t.type = T_RPAREN; return t;
	case '?': t.type = T_QUEST; return t;
	case ':': t.type = T_COLON; return t;
	case '&':
		if (d == '&') {
			t.type = T_AND;
			t.len = 2;
		}
		return t;
	case '|':
		if (d == '|') {
			t.type = T_OR;
			t.len = 2;
		}
		return t;
	case '!':
		if (d == '=') {
			t.type = T_OP;
			t.op = IPR_KOP_NEQ;
			t.len = 2;
		} else {
			t.type = T_NOT;
		}
		return t;
	case '=':
		t.type = T_OP;
		t.op = IPR_KOP_EQ;
		t.len = d == '=' ? 2 : 1;
		return t;
	case '<':
	case '>':
		t.type = T_OP;
		t.op = c == '<' ? (d == '=' ? IPR_KOP_LTE : IPR_KOP_LT)
				: (d == '=' ? IPR_KOP_GTE : IPR_KOP_GT);
		t.len = d == '=' ? 2 : 1;
		return t;
	default:
		break;
	}
	if (!is_ident_start(c))
		return t;
	/* Field names carry dots ("tcp.DstPort"). */
	while (i < p->len && (is_ident_char(s[i]) || s[i] == '.'))
		i++;
	t.len = i - t.pos;
	t.type = T_IDENT;
	if (t.len == 3 && !memcmp(s + t.pos, "and", 3))
		t.type = T_AND;
	else if (t.len == 2 && !memcmp(s + t.pos, "or", 2))
		t.type = T_OR;
	else if (t.len == 3 && !memcmp(s + t.pos, "not", 3))
		t.type = T_NOT;
	return t;
}

static void consume(struct parser *p, const struct tok *t)
{
	p->pos = t->pos + t->len;
}

static int32_t node_new(struct parser *p, enum ipr_fnode_type type)
{
	if (p->n == p->cap) {
		uint32_t cap = p->cap ? p->cap * 2 : 32;
		struct ipr_fnode *nn = realloc(p->nodes, cap * sizeof(*nn));

		if (!nn) {
			if (!p->err_msg) {
				p->err_msg = "out of memory";
				p->err_pos = p->pos;
				p->err_code = -ENOMEM;
			}
			return IPR_FN_NONE;
		}
		p->nodes = nn;
		p->cap = cap;
	}
	struct ipr_fnode *nd = &p->nodes[p->n];
	memset(nd, 0, sizeof(*nd));
	nd->type = (uint8_t)type;
	nd->child = IPR_FN_NONE;
	nd->next = IPR_FN_NONE;
	return (int32_t)p->n++;
}

static int32_t node_unary(struct parser *p, enum ipr_fnode_type type,
			  int32_t child)
{
	int32_t n = node_new(p, type);

	if (n == IPR_FN_NONE)
		return n;
	p->nodes[n].child = child;
	p->nodes[n].user = p->nodes[child].user;
	return n;
}

/* A parsed value before it meets its field. */
enum vkind { V_NUM, V_IPV4, V_IPV6, V_STR, V_CT };
struct value {
	enum vkind kind;
	bool neg;        /* V_NUM: written with a minus sign */
	uint64_t num;    /* V_NUM magnitude; V_CT the state bit */
	uint8_t be[16];  /* V_IPV4 / V_IPV6 in network order; V_STR text */
	uint8_t slen;    /* V_STR: bytes to compare (16: the whole name) */
};

static bool parse_number(const char *s, size_t n, uint64_t *out, bool *range)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned base = 10;

	*range = false;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			*range = true;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* Read [start, end) as a number, a dotted quad or IPv6 text; on failure
 * *msg says why. */
static bool scan_value(const char *s, size_t start, size_t end,
		       struct value *v, const char **msg)
{
	char buf[IPR_ADDRSTRLEN + 8];
	size_t n = end - start;
	bool range;
	uint32_t a;

	memset(v, 0, sizeof(*v));
	if (memchr(s + start, ':', n)) {
		*msg = "bad IPv6 address";
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, s + start, n);
		buf[n] = '\0';
		v->kind = V_IPV6;
		return ipr_ipv6_parse(buf, v->be) == 0;
	}
	if (memchr(s + start, '.', n)) {
		*msg = "bad IPv4 address";
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, s + start, n);
		buf[n] = '\0';
		if (ipr_ipv4_parse(buf, &a) != 0)
			return false;
		memcpy(v->be, &a, 4); /* already in network order */
		v->kind = V_IPV4;
		return true;
	}
	*msg = "expected value";
	if (!parse_number(s + start, n, &v->num, &range))
		return false;
	*msg = "value out of range";
	v->kind = V_NUM;
	return !range;
}

/* "eth0" or "veth*": an interface name, or the prefix of one. */
static bool parse_string(struct parser *p, struct value *v)
{
	const char *s = p->s;
	size_t start = p->pos, i = start + 1, n;

	if (start >= p->len || s[start] != '"') {
		fail(p, start, "expected \"interface name\"");
		return false;
	}
	while (i < p->len && s[i] != '"') {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '/' ||
		    (c == '*' && (i + 1 >= p->len || s[i + 1] != '"'))) {
			fail(p, i, "bad character in interface name");
			return false;
		}
		i++;
	}
	if (i >= p->len) {
		fail(p, start, "unterminated string");
		return false;
	}
	n = i - start - 1;
	v->kind = V_STR;
	v->slen = 16;
	if (n && s[i - 1] == '*') {
		n--;
		v->slen = (uint8_t)n;
		if (!n) {
			fail(p, start, "empty interface name prefix");
			return false;
		}
	}
	if (n > 15) {
		fail(p, start, "interface name too long");
		return false;
	}
	memcpy(v->be, s + start + 1, n);
	p->pos = i + 1;
	return true;
}

static bool parse_ct_state(struct parser *p, struct value *v)
{
	const char *s = p->s;
	size_t start = p->pos, end = start;

	while (end < p->len && is_ident_char(s[end]))
		end++;
	for (size_t k = 0; k < sizeof(ct_states) / sizeof(ct_states[0]); k++) {
		if (strlen(ct_states[k].name) == end - start &&
		    !memcmp(ct_states[k].name, s + start, end - start)) {
			v->kind = V_CT;
			v->num = ct_states[k].bit;
			p->pos = end;
			return true;
		}
	}
	fail(p, start, "expected new, established, related, invalid or "
		       "untracked");
	return false;
}

/* A value: a macro, a number, a dotted quad or IPv6 text; for @fd's
 * string and ct.state values, those.  Returns false after recording the
 * error. */
static bool parse_value(struct parser *p, const struct ipr_field *fd,
			struct value *v)
{
	const char *s = p->s;
	size_t start, end, e;
	const char *msg, *m2;
	bool neg = false;

	skip_space(p);
	memset(v, 0, sizeof(*v));
	if (fd->vtype == IPR_VT_STRING)
		return parse_string(p, v);
	if (fd->vtype == IPR_VT_CTSTATE)
		return parse_ct_state(p, v);
	start = p->pos;
	if (start < p->len && s[start] == '-') {
		neg = true;
		start++;
	}
	if (!neg && start < p->len && is_ident_start(s[start])) {
		end = start;
		while (end < p->len && is_ident_char(s[end]))
			end++;
		for (size_t m = 0; m < sizeof(macros) / sizeof(macros[0]); m++) {
			if (strlen(macros[m].name) == end - start &&
			    !memcmp(macros[m].name, s + start, end - start)) {
				v->kind = V_NUM;
				v->num = macros[m].value;
				p->pos = end;
				return true;
			}
		}
		/* else perhaps IPv6 text that starts with a letter */
	}
	end = start;
	while (end < p->len && (is_hex(s[end]) || s[end] == 'x' ||
				s[end] == 'X' || s[end] == '.' || s[end] == ':'))
		end++;
	if (end == start) {
		fail(p, p->pos, "expected value");
		return false;
	}
	if (end < p->len && is_ident_char(s[end]))
		msg = "expected value";
	else if (scan_value(s, start, end, v, &msg))
		goto done;
	/* In "(c ? f == 80:false)" or "(c ? f == ::1:x)" the ternary's colon
	 * sticks to the value: give back the last colon and what follows,
	 * in the first branch of a ternary (only there can a colon follow). */
	for (e = end; p->in_then > 0 && e > start && s[e - 1] != ':';)
		e--;
	if (p->in_then > 0 && e > start + 1 &&
	    scan_value(s, start, e - 1, v, &m2)) {
		end = e - 1;
		goto done;
	}
	fail(p, p->pos, msg);
	return false;
done:
	if (neg && v->kind != V_NUM) {
		fail(p, p->pos, "expected number");
		return false;
	}
	v->neg = neg && v->num != 0;
	p->pos = end;
	return true;
}

static void put_be(uint8_t *dst, unsigned width, uint64_t num)
{
	memset(dst, 0, width);
	for (unsigned i = 0; i < width && i < 8; i++)
		dst[width - 1 - i] = (uint8_t)(num >> (8 * i));
}

/*
 * WinDivert's meaning of a value: a signed 128-bit number, whatever it is
 * written as (a number, a dotted quad, IPv6 text), compared with the
 * field's value as a 128-bit number, an IPv4 address as ::ffff:a.b.c.d.
 * A value the field can never reach makes the test's answer the same for
 * every packet that has the field: it becomes "field >= 0" (always) or
 * "field < 0" (never), which keep what the field's absence means.
 */
static void value128(const struct value *v, uint8_t c[16])
{
	memset(c, 0, 16);
	if (v->kind == V_NUM) {
		put_be(c, 16, v->num);
	} else if (v->kind == V_IPV4) {
		c[10] = c[11] = 0xff;
		memcpy(c + 12, v->be, 4);
	} else {
		memcpy(c, v->be, 16);
	}
}

/* @op against a value below (@below) or above every value of the field. */
static bool out_of_range(uint8_t *op, bool below, uint8_t out[16])
{
	bool r;

	switch (*op) {
	case IPR_KOP_EQ: r = false; break;
	case IPR_KOP_NEQ: r = true; break;
	case IPR_KOP_LT: case IPR_KOP_LTE: r = !below; break;
	default: r = below; break;
	}
	memset(out, 0, 16);
	*op = r ? IPR_KOP_GTE : IPR_KOP_LT;
	return true;
}

/* Where the 128-bit value @c lies against the field's values [lo, hi]:
 * -1 below, 1 above, 0 within. */
static int place128(bool neg, const uint8_t c[16], const uint8_t lo[16],
		    const uint8_t hi[16])
{
	static const uint8_t zero[16];

	if (neg && memcmp(c, zero, 16))
		return -1;
	if (memcmp(c, lo, 16) < 0)
		return -1;
	return memcmp(c, hi, 16) > 0 ? 1 : 0;
}

/* A number, IPv4 or IPv6 value for a field of numbers or addresses, as
 * WinDivert means it (value128). */
static bool value_128(struct parser *p, size_t pos, const struct ipr_field *fd,
		      const struct value *v, uint8_t *op, uint8_t out[16])
{
	uint8_t c[16], lo[16], hi[16];
	uint64_t max;
	int where;

	if (v->kind != V_NUM && v->kind != V_IPV4 && v->kind != V_IPV6) {
		fail(p, pos, "expected number");
		return false;
	}
	value128(v, c);
	memset(lo, 0, 16);
	memset(hi, 0xff, 16);
	if (fd->vtype == IPR_VT_IPV4) {
		lo[10] = lo[11] = 0xff;
		memset(hi, 0, 10);
	} else if (fd->vtype == IPR_VT_BOOL || fd->vtype == IPR_VT_NUM) {
		if (fd->vtype == IPR_VT_BOOL)
			max = 1;
		else if (fd->mask)
			max = fd->mask >> fd->shift;
		else if (fd->width < 8)
			max = (1ull << (8 * fd->width)) - 1;
		else
			max = UINT64_MAX;
		put_be(hi, 16, max);
	}
	where = place128(v->neg, c, lo, hi);
	if (where)
		return out_of_range(op, where < 0, out);
	switch (fd->vtype) {
	case IPR_VT_IPV4:
		memcpy(out, c + 12, 4);
		return true;
	case IPR_VT_IPV6:
	case IPR_VT_ADDR:
		memcpy(out, c, 16);
		return true;
	default:
		break;
	}
	/* within [0, max]: the low 8 bytes hold it */
	max = 0;
	for (int i = 8; i < 16; i++)
		max = max << 8 | c[i];
	if (fd->vtype == IPR_VT_BOOL)
		out[0] = (uint8_t)max;
	else
		put_be(out, fd->width, max << fd->shift);
	return true;
}

/* Check the value against the field and store it big-endian, shifted as
 * the field's masked load holds it; @op may change (see value128). */
static bool value_for_field(struct parser *p, size_t pos,
			    const struct ipr_field *fd, const struct value *v,
			    uint8_t *op, uint8_t out[16], uint8_t *vlen)
{
	switch (fd->vtype) {
	case IPR_VT_STRING:
		memcpy(out, v->be, 16);
		*vlen = v->slen;
		return true;
	case IPR_VT_CTSTATE:
		put_be(out, 4, v->num);
		return true;
	default:
		break;
	}
	if (!(fd->flags & IPR_FF_SIGNED))
		return value_128(p, pos, fd, v, op, out);
	/* priority: a 16-bit signed number, in offset binary so that memcmp
	 * orders it as signed */
	if (v->kind != V_NUM) {
		fail(p, pos, "expected number");
		return false;
	}
	if (v->num > (v->neg ? 0x8000u : 0x7fffu)) {
		fail(p, pos, "value out of range");
		return false;
	}
	put_be(out, fd->width, (v->neg ? 0x8000u - v->num
			       : 0x8000u + v->num) & 0xffffu);
	return true;
}

static bool kop_holds(uint8_t op, unsigned a, unsigned b)
{
	switch (op) {
	case IPR_KOP_EQ: return a == b;
	case IPR_KOP_NEQ: return a != b;
	case IPR_KOP_LT: return a < b;
	case IPR_KOP_LTE: return a <= b;
	case IPR_KOP_GT: return a > b;
	default: return a >= b;
	}
}

static int32_t test_node(struct parser *p, unsigned fi, const struct tok *id)
{
	int32_t n = node_new(p, IPR_FN_TEST);

	if (n == IPR_FN_NONE)
		return n;
	p->nodes[n].field = (uint16_t)fi;
	p->nodes[n].pos = (uint32_t)id->pos;
	p->nodes[n].user = (ipri_filter_fields[fi].flags & IPR_FF_USER) != 0;
	return n;
}

/* A boolean field is true or false, so "tcp == 0" is "not tcp" and
 * "tcp >= 0" is "true": folding here leaves a single form for the other
 * files.  @when0 / @when1: does the comparison hold for 0 / for 1. */
static int32_t bool_test(struct parser *p, unsigned fi, const struct tok *id,
			 bool when0, bool when1)
{
	const struct ipr_field *fd = &ipri_filter_fields[fi];
	int32_t n;

	if (when0 == when1)
		return node_new(p, when0 ? IPR_FN_TRUE : IPR_FN_FALSE);
	if (fd->kind == IPR_FK_CONST)
		return node_new(p, (fd->arg != 0) == when1 ? IPR_FN_TRUE
							   : IPR_FN_FALSE);
	n = test_node(p, fi, id);
	if (n == IPR_FN_NONE)
		return n;
	p->nodes[n].op = IPR_KOP_NEQ;
	return when1 ? n : node_unary(p, IPR_FN_NOT, n);
}

/* "[10]", "[-1]", "[3b]": a byte offset into @fd's data, negative from
 * its end. */
static bool parse_index(struct parser *p, const struct ipr_field *fd,
			int32_t *out)
{
	const char *s = p->s;
	size_t start, i;
	bool neg = false, bytes = false, range;
	uint64_t v;

	skip_space(p);
	if (p->pos >= p->len || s[p->pos] != '[') {
		fail(p, p->pos, "expected '['");
		return false;
	}
	p->pos++;
	skip_space(p);
	start = p->pos;
	if (p->pos < p->len && s[p->pos] == '-') {
		neg = true;
		p->pos++;
	}
	i = p->pos;
	if (i + 1 < p->len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		for (i += 2; i < p->len && is_hex(s[i]);)
			i++;
	else
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	if (!parse_number(s + p->pos, i - p->pos, &v, &range)) {
		fail(p, start, "expected index");
		return false;
	}
	if (i < p->len && s[i] == 'b' && !(s[p->pos + 1] == 'x' ||
					   s[p->pos + 1] == 'X')) {
		bytes = true;
		i++;
	}
	if (!bytes) {
		if (v > 0xffff)
			range = true;
		else
			v *= fd->width;
	}
	if (range || v > 0xffff) {
		fail(p, start, "index out of range");
		return false;
	}
	p->pos = i;
	skip_space(p);
	if (p->pos >= p->len || s[p->pos] != ']') {
		fail(p, p->pos, "expected ']'");
		return false;
	}
	p->pos++;
	*out = neg ? -(int32_t)v : (int32_t)v;
	return true;
}

static int32_t parse_test(struct parser *p, const struct tok *id)
{
	unsigned fi;
	const struct ipr_field *fd = NULL;
	struct tok t;
	struct value v;
	uint8_t be[16] = { 0 };
	uint8_t op = IPR_KOP_NEQ, vlen = 16;
	int32_t index = 0;
	size_t vpos;
	int32_t n;

	for (fi = 0; fi < ipri_filter_nfields; fi++) {
		const char *nm = ipri_filter_fields[fi].name;

		if (strlen(nm) == id->len && !memcmp(nm, p->s + id->pos, id->len)) {
			fd = &ipri_filter_fields[fi];
			break;
		}
	}
	if (!fd)
		return fail(p, id->pos, "unknown field");
	if (!(fd->layers & (1u << p->layer)) ||
	    (fd->hooks && !(fd->hooks & ipr_layer_hooks(p->layer))))
		return fail(p, id->pos, "field not valid for this layer");
	consume(p, id);
	if ((fd->flags & IPR_FF_INDEX) && !parse_index(p, fd, &index))
		return IPR_FN_NONE;
	t = peek(p);
	if (t.type == T_OP) {
		if ((fd->flags & IPR_FF_EQONLY) && t.op != IPR_KOP_EQ &&
		    t.op != IPR_KOP_NEQ)
			return fail(p, t.pos, "only == and != for this field");
		consume(p, &t);
		skip_space(p);
		vpos = p->pos;
		op = t.op;
		if (!parse_value(p, fd, &v) ||
		    !value_for_field(p, vpos, fd, &v, &op, be, &vlen))
			return IPR_FN_NONE;
	} else if (fd->vtype == IPR_VT_CTSTATE) {
		return fail(p, t.pos, "expected == or !=");
	} else if (fd->flags & IPR_FF_SIGNED) {
		put_be(be, fd->width, 0x8000); /* "!= 0", offset binary */
	} else if (fd->vtype == IPR_VT_IPV4) {
		op = IPR_KOP_GTE; /* ::ffff:a.b.c.d is never 0 */
	}
	/* else a bare field: "field != 0", be is already zero */
	if (fd->vtype == IPR_VT_BOOL)
		return bool_test(p, fi, id, kop_holds(op, 0, be[0]),
				 kop_holds(op, 1, be[0]));
	n = test_node(p, fi, id);
	if (n == IPR_FN_NONE)
		return n;
	p->nodes[n].op = op;
	p->nodes[n].vlen = vlen;
	p->nodes[n].index = index;
	if (index < 0)
		p->nodes[n].user = true; /* counted from the end */
	memcpy(p->nodes[n].value, be, sizeof(be));
	return n;
}

static int32_t parse_or(struct parser *p);

static bool enter(struct parser *p, size_t pos)
{
	if (++p->depth > IPR_FILTER_MAX_DEPTH) {
		fail(p, pos, "nested too deeply");
		return false;
	}
	return true;
}

static int32_t parse_primary(struct parser *p)
{
	struct tok t = peek(p), u;
	int32_t e, x, y, n;

	switch (t.type) {
	case T_LPAREN:
		if (!enter(p, t.pos))
			return IPR_FN_NONE;
		consume(p, &t);
		e = parse_or(p);
		if (e == IPR_FN_NONE)
			return e;
		u = peek(p);
		if (u.type == T_QUEST) {
			consume(p, &u);
			p->in_then++;
			x = parse_or(p);
			p->in_then--;
			if (x == IPR_FN_NONE)
				return x;
			u = peek(p);
			if (u.type != T_COLON)
				return fail(p, u.pos, "expected ':'");
			consume(p, &u);
			y = parse_or(p);
			if (y == IPR_FN_NONE)
				return y;
			n = node_new(p, IPR_FN_TERN);
			if (n == IPR_FN_NONE)
				return n;
			p->nodes[n].child = e;
			p->nodes[e].next = x;
			p->nodes[x].next = y;
			p->nodes[n].user = p->nodes[e].user || p->nodes[x].user ||
					   p->nodes[y].user;
			e = n;
			u = peek(p);
		}
		if (u.type == T_END)
			return fail(p, t.pos, "unbalanced parenthesis");
		if (u.type != T_RPAREN)
			return fail(p, u.pos, "unexpected token");
		consume(p, &u);
		p->depth--;
		return e;
	case T_IDENT:
		return parse_test(p, &t);
	case T_RPAREN:
	case T_END:
		return fail(p, t.pos, "expected field");
	default:
		return fail(p, t.pos, "unexpected token");
	}
}

static int32_t parse_unary(struct parser *p)
{
	struct tok t = peek(p);
	int32_t c;

	if (t.type != T_NOT)
		return parse_primary(p);
	if (!enter(p, t.pos))
		return IPR_FN_NONE;
	consume(p, &t);
	c = parse_unary(p);
	if (c == IPR_FN_NONE)
		return c;
	p->depth--;
	return node_unary(p, IPR_FN_NOT, c);
}

/* "a op b op c ..." as one n-ary node; an operand that is itself the same
 * operator (from parentheses) is spliced in. */
static int32_t parse_junction(struct parser *p, enum tok_type tt,
			      enum ipr_fnode_type type,
			      int32_t (*operand)(struct parser *))
{
	int32_t first = operand(p), n, tail = IPR_FN_NONE;
	struct tok t;

	if (first == IPR_FN_NONE)
		return first;
	t = peek(p);
	if (t.type != tt)
		return first;
	n = node_new(p, type);
	if (n == IPR_FN_NONE)
		return n;
	for (int32_t c = first;;) {
		struct ipr_fnode *nd = &p->nodes[n];
		int32_t head = c, last = c;

		if (p->nodes[c].type == type) {
			head = p->nodes[c].child;
			for (last = head; p->nodes[last].next != IPR_FN_NONE;)
				last = p->nodes[last].next;
		}
		if (tail == IPR_FN_NONE)
			nd->child = head;
		else
			p->nodes[tail].next = head;
		tail = last;
		nd->user = nd->user || p->nodes[c].user;

		t = peek(p);
		if (t.type != tt)
			break;
		consume(p, &t);
		c = operand(p);
		if (c == IPR_FN_NONE)
			return c;
	}
	return n;
}

static int32_t parse_and(struct parser *p)
{
	return parse_junction(p, T_AND, IPR_FN_AND, parse_unary);
}

static int32_t parse_or(struct parser *p)
{
	return parse_junction(p, T_OR, IPR_FN_OR, parse_and);
}

static void set_err(struct ipr_filter_error *err, int code, size_t pos,
		    const char *msg)
{
	if (err) {
		err->code = code;
		err->pos = (int)pos;
		err->msg = msg;
	}
}

void ipri_filter_constval(const ipr_filter *f, const struct ipr_field *fd,
			 uint8_t out[16])
{
	memset(out, 0, 16);
	switch (fd->arg) {
	case IPR_CV_LAYER:
		put_be(out, fd->width, (uint64_t)f->layer);
		break;
	case IPR_CV_PRIORITY:
		put_be(out, fd->width,
		       (uint64_t)(uint16_t)(f->priority + 0x8000));
		break;
	default:
		break;
	}
}

/*
 * After parsing, per hook of the layer: which tests still matter once the
 * hook's constants are folded (direction, loopback on the way in, ...)?
 * That decides three things: a field that can work on none of the hooks
 * where it matters is an error at its position ("inbound and uid == 0");
 * which hooks need the user-space check; and whether ct.state, which user
 * space cannot see, meets a test that only user space can do.
 */
#define FOLD_F 0
#define FOLD_T 1
#define FOLD_X 2  /* depends on the packet */
#define FOLD_NONE 3

struct ana {
	const struct parser *p;
	ipr_filter *f;
	uint8_t *fold;   /* per node and hook */
	uint8_t *live;   /* per node: 1 << hook where it matters */
};

static uint8_t fold_test(const struct ana *a, const struct ipr_fnode *nd,
			 unsigned hook)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	uint8_t v[16];
	int r;

	switch (fd->kind) {
	case IPR_FK_DIR:
		return (fd->arg != 0) == (hook != IPR_HOOK_IN) ? FOLD_T
							       : FOLD_F;
	case IPR_FK_LOOPBACK:
		return hook == IPR_HOOK_OUT ? FOLD_X : FOLD_F;
	case IPR_FK_CONSTVAL:
		if (fd->arg == IPR_CV_PRIORITY)
			return FOLD_X; /* bound after compiling */
		ipri_filter_constval(a->f, fd, v);
		if (fd->vtype == IPR_VT_BOOL)
			return v[fd->width ? fd->width - 1 : 0] ? FOLD_T : FOLD_F;
		r = memcmp(v, nd->value, fd->width);
		return kop_holds(nd->op, r > 0 ? 2 : r == 0 ? 1 : 0, 1) ? FOLD_T
									: FOLD_F;
	default:
		return FOLD_X;
	}
}

static uint8_t fold(struct ana *a, int32_t i, unsigned hook)
{
	const struct ipr_fnode *nd = &a->p->nodes[i];
	uint8_t *memo = &a->fold[(size_t)i * IPR_HOOK_COUNT + hook];
	uint8_t r = FOLD_X, c, x, y;
	bool any_x = false;
	int32_t k;

	if (*memo != FOLD_NONE)
		return *memo;
	switch (nd->type) {
	case IPR_FN_TRUE:
		r = FOLD_T;
		break;
	case IPR_FN_FALSE:
		r = FOLD_F;
		break;
	case IPR_FN_NOT:
		c = fold(a, nd->child, hook);
		r = c == FOLD_X ? FOLD_X : c == FOLD_T ? FOLD_F : FOLD_T;
		break;
	case IPR_FN_AND:
	case IPR_FN_OR:
		/* the absorbing constant wins, else any undecided child */
		c = nd->type == IPR_FN_AND ? FOLD_F : FOLD_T;
		r = c == FOLD_F ? FOLD_T : FOLD_F;
		for (k = nd->child; k != IPR_FN_NONE; k = a->p->nodes[k].next) {
			x = fold(a, k, hook);
			if (x == c) {
				r = c;
				any_x = false;
				break;
			}
			if (x == FOLD_X)
				any_x = true;
		}
		if (any_x)
			r = FOLD_X;
		break;
	case IPR_FN_TERN:
		k = nd->child;
		c = fold(a, k, hook);
		x = fold(a, a->p->nodes[k].next, hook);
		y = fold(a, a->p->nodes[a->p->nodes[k].next].next, hook);
		/* an undecided condition stays: when the packet cannot
		 * answer it, neither branch holds */
		r = c == FOLD_T ? x : c == FOLD_F ? y : FOLD_X;
		break;
	case IPR_FN_TEST:
		r = fold_test(a, nd, hook);
		break;
	}
	*memo = r;
	return r;
}

/* Mark what matters below node @i, which matters on @hook. */
static void mark_live(struct ana *a, int32_t i, unsigned hook)
{
	const struct ipr_fnode *nd = &a->p->nodes[i];
	int32_t k, x, y;

	a->live[i] |= (uint8_t)(1u << hook);
	switch (nd->type) {
	case IPR_FN_NOT:
		mark_live(a, nd->child, hook);
		break;
	case IPR_FN_AND:
	case IPR_FN_OR:
		for (k = nd->child; k != IPR_FN_NONE; k = a->p->nodes[k].next)
			if (fold(a, k, hook) == FOLD_X)
				mark_live(a, k, hook);
		break;
	case IPR_FN_TERN:
		k = nd->child;
		x = a->p->nodes[k].next;
		y = a->p->nodes[x].next;
		switch (fold(a, k, hook)) {
		case FOLD_T:
			if (fold(a, x, hook) == FOLD_X)
				mark_live(a, x, hook);
			break;
		case FOLD_F:
			if (fold(a, y, hook) == FOLD_X)
				mark_live(a, y, hook);
			break;
		default:
			mark_live(a, k, hook);
			if (fold(a, x, hook) == FOLD_X)
				mark_live(a, x, hook);
			if (fold(a, y, hook) == FOLD_X)
				mark_live(a, y, hook);
			break;
		}
		break;
	default:
		break;
	}
}

static void analyse(struct parser *p, ipr_filter *f)
{
	struct ana a = { .p = p, .f = f };
	unsigned hooks = ipr_layer_hooks(p->layer);
	size_t err_pos = SIZE_MAX, ct_pos = SIZE_MAX;
	const char *err_msg = NULL;
	bool user_live = false;

	if (!p->n)
		return; /* cannot be: a filter has a root */
	a.fold = malloc((size_t)p->n * IPR_HOOK_COUNT);
	a.live = calloc(p->n, 1);
	if (!a.fold || !a.live) {
		fail(p, 0, "out of memory");
		p->err_code = -ENOMEM;
		goto out;
	}
	memset(a.fold, FOLD_NONE, (size_t)p->n * IPR_HOOK_COUNT);
	for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
		if ((hooks & (1u << h)) && fold(&a, f->root, h) == FOLD_X)
			mark_live(&a, f->root, h);
	for (uint32_t i = 0; i < p->n; i++) {
		const struct ipr_fnode *nd = &p->nodes[i];
		const struct ipr_field *fd;

		if (nd->type != IPR_FN_TEST || !a.live[i])
			continue;
		fd = &ipri_filter_fields[nd->field];
		if (fd->hooks && !(fd->hooks & a.live[i]) && nd->pos < err_pos) {
			err_pos = nd->pos;
			err_msg = "field not valid for this direction";
		}
		if (nd->user) {
			user_live = true;
			for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
				if (a.live[i] & (1u << h))
					f->user_hook[h] = true;
		}
		if (fd->kind == IPR_FK_CT && nd->pos < ct_pos)
			ct_pos = nd->pos;
	}
	/* ipr_filter_eval cannot know conntrack state, so the user-space
	 * check could not answer for it. */
	if (user_live && ct_pos < err_pos) {
		err_pos = ct_pos;
		err_msg = "ct.state cannot be combined with fields checked in "
			  "user space";
	}
	if (err_msg)
		fail(p, err_pos, err_msg);
	for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
		f->needs_user = f->needs_user || f->user_hook[h];
out:
	free(a.fold);
	free(a.live);
}

IPR_API ipr_filter *ipr_filter_compile(const char *text, enum ipr_layer layer,
				       struct ipr_filter_error *err)
{
	struct parser p;
	ipr_filter *f;
	int32_t root;

	if (!text) {
		set_err(err, -EINVAL, 0, "no filter");
		errno = EINVAL;
		return NULL;
	}
	if (layer != IPR_LAYER_NETWORK && layer != IPR_LAYER_NETWORK_FORWARD) {
		set_err(err, -EINVAL, 0, "bad layer");
		errno = EINVAL;
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = strnlen(text, IPR_FILTER_MAX_LEN + 1);
	p.layer = layer;
	if (p.len > IPR_FILTER_MAX_LEN) {
		set_err(err, -EINVAL, IPR_FILTER_MAX_LEN, "filter too long");
		errno = EINVAL;
		return NULL;
	}
	root = parse_or(&p);
	if (root != IPR_FN_NONE) {
		struct tok t = peek(&p);

		if (t.type == T_RPAREN)
			fail(&p, t.pos, "unbalanced parenthesis");
		else if (t.type != T_END)
			fail(&p, t.pos, "unexpected token");
	}
	f = p.err_msg ? NULL : calloc(1, sizeof(*f));
	if (f) {
		f->layer = layer;
		f->root = root;
		f->nodes = p.nodes;
		f->nnodes = p.n;
		analyse(&p, f);
		if (p.err_msg) {
			free(f);
			f = NULL;
		}
	}
	if (!f) {
		if (!p.err_msg) {
			p.err_msg = "out of memory";
			p.err_code = -ENOMEM;
		}
		free(p.nodes);
		set_err(err, p.err_code, p.err_pos, p.err_msg);
		errno = -p.err_code;
		return NULL;
	}
	set_err(err, 0, 0, "no error");
	return f;
}

IPR_API void ipr_filter_free(ipr_filter *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f);
}

bool ipri_filter_needs_user_check(const ipr_filter *f)
{
	return f && f->needs_user;
}

bool ipri_filter_uses_ct(const ipr_filter *f)
{
	for (uint32_t i = 0; f && i < f->nnodes; i++)
		if (f->nodes[i].type == IPR_FN_TEST &&
		    ipri_filter_fields[f->nodes[i].field].kind == IPR_FK_CT)
			return true;
	return false;
}

bool ipri_filter_needs_user_check_hook(const ipr_filter *f, enum ipr_hook hook)
{
	return f && (unsigned)hook < IPR_HOOK_COUNT && f->user_hook[hook];
}

IPR_API void ipr_filter_set_priority(ipr_filter *f, int16_t priority)
{
	if (f)
		f->priority = priority;
}

enum ipr_layer ipri_filter_layer(const ipr_filter *f)
{
	return f ? f->layer : IPR_LAYER_NETWORK;
}
