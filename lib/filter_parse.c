/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_parse.c - the WinDivert filter language: tokenizer and
 * recursive-descent parser into the tree of filter_ast.h (fields from
 * filter_fields.c, checked per hook by filter_analyse.c); compile and free. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter_ast.h"

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
	uint32_t user_kinds; /* 1 << enum ipr_fkind: checked in user space on
				this kernel (ipri_filter_compile_kinds) */
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

static int32_t test_node(struct parser *p, unsigned fi, const struct tok *id)
{
	int32_t n = node_new(p, IPR_FN_TEST);

	if (n == IPR_FN_NONE)
		return n;
	p->nodes[n].field = (uint16_t)fi;
	p->nodes[n].pos = (uint32_t)id->pos;
	p->nodes[n].user = (ipri_filter_fields[fi].flags & IPR_FF_USER) ||
			   (p->user_kinds >> ipri_filter_fields[fi].kind & 1);
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
		return bool_test(p, fi, id, ipr_kop_holds(op, 0, be[0]),
				 ipr_kop_holds(op, 1, be[0]));
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

IPR_API ipr_filter *ipr_filter_compile(const char *text, enum ipr_layer layer,
				       struct ipr_filter_error *err)
{
	return ipri_filter_compile_kinds(text, layer, err, 0);
}

ipr_filter *ipri_filter_compile_kinds(const char *text, enum ipr_layer layer,
				     struct ipr_filter_error *err,
				     uint32_t user_kinds)
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
	p.user_kinds = user_kinds;
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
		size_t pos;
		const char *msg;
		int e = ipri_filter_analyse(f, &pos, &msg);
		if (e) {
			fail(&p, pos, msg);
			p.err_code = e;
		}
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

IPR_API void ipr_filter_set_priority(ipr_filter *f, int16_t priority)
{
	if (f)
		f->priority = priority;
}

enum ipr_layer ipri_filter_layer(const ipr_filter *f)
{
	return f ? f->layer : IPR_LAYER_NETWORK;
}
