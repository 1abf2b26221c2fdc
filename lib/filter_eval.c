/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_eval.c - ipr_filter_eval: run a compiled filter on one packet in
 * user space, with exactly the semantics of its kernel program. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <string.h>

#include "filter_ast.h"

/*
 * Each node yields two answers: does it hold (R_POS), and does its negation
 * hold (R_NEG).  They are not always opposite: a test whose header is there
 * but cannot be read (a later fragment, a transport header cut short, a
 * packet that is not IP) holds neither way.  That is what the kernel does
 * with negations pushed down to the tests, where a failed load fails
 * whichever comparison follows it, so both sides agree by construction.
 * Evaluating both answers at once also keeps a ternary linear: its
 * condition is needed both ways.
 */
#define R_POS 1u
#define R_NEG 2u
#define R_UNKNOWN 0u

struct ectx {
	const uint8_t *pkt;
	size_t len;
	bool outbound;
	uint32_t if_idx;
	int parsed; /* 0 not yet, 1 IP, -1 not IP */
	struct ipr_headers h;
};

static bool have_ip(struct ectx *c)
{
	if (!c->parsed) {
		int saved = errno;

		c->parsed = ipr_packet_parse(c->pkt, c->len, &c->h) == 0 ? 1 : -1;
		errno = saved;
	}
	return c->parsed > 0;
}

static bool guard_holds(const struct ectx *c, const struct ipr_field *fd)
{
	if (fd->nfproto == 2 && !c->h.ip)
		return false;
	if (fd->nfproto == 10 && !c->h.ipv6)
		return false;
	return !fd->l4proto || c->h.protocol == fd->l4proto;
}

static unsigned cmp_result(uint8_t op, const uint8_t *a, const uint8_t *b,
			   unsigned n)
{
	int r = memcmp(a, b, n);
	bool ok;

	switch (op) {
	case IPR_KOP_EQ: ok = r == 0; break;
	case IPR_KOP_NEQ: ok = r != 0; break;
	case IPR_KOP_LT: ok = r < 0; break;
	case IPR_KOP_LTE: ok = r <= 0; break;
	case IPR_KOP_GT: ok = r > 0; break;
	default: ok = r >= 0; break;
	}
	return ok ? R_POS : R_NEG;
}

static unsigned eval_test(const struct ipr_fnode *nd, struct ectx *c)
{
	const struct ipr_field *fd = &ipr_filter_fields[nd->field];
	uint8_t buf[4];
	const uint8_t *at;
	uint32_t off, end;

	switch (fd->kind) {
	case IPR_FK_CONST:
		return fd->arg ? R_POS : R_NEG;
	case IPR_FK_DIR:
		return (fd->arg != 0) == c->outbound ? R_POS : R_NEG;
	case IPR_FK_IFIDX:
		buf[0] = (uint8_t)(c->if_idx >> 24);
		buf[1] = (uint8_t)(c->if_idx >> 16);
		buf[2] = (uint8_t)(c->if_idx >> 8);
		buf[3] = (uint8_t)c->if_idx;
		return cmp_result(nd->op, buf, nd->value, 4);
	default:
		break;
	}
	if (!have_ip(c))
		return R_UNKNOWN;
	if (!guard_holds(c, fd))
		return R_NEG;
	if (fd->kind == IPR_FK_PROTO)
		return R_POS;
	/* Load bounds as the kernel's payload expression has them: the
	 * packet ends where the IP length says, and a later fragment has no
	 * transport header to read. */
	end = c->h.total_len;
	off = fd->offset;
	if (fd->kind == IPR_FK_TRANSPORT) {
		if (c->h.fragment && c->h.frag_off != 0)
			return R_UNKNOWN;
		off += c->h.l4_off;
	}
	if (off > end || end - off < fd->width)
		return R_UNKNOWN;
	at = c->pkt + off;
	return cmp_result(nd->op, at, nd->value, fd->width);
}

static unsigned eval_node(const ipr_filter *f, int32_t i, struct ectx *c)
{
	const struct ipr_fnode *nd = &f->nodes[i];
	unsigned r, acc;
	int32_t k;

	switch (nd->type) {
	case IPR_FN_TRUE:
		return R_POS;
	case IPR_FN_FALSE:
		return R_NEG;
	case IPR_FN_NOT:
		r = eval_node(f, nd->child, c);
		return (r & R_POS ? R_NEG : 0) | (r & R_NEG ? R_POS : 0);
	case IPR_FN_AND:
		/* holds if all hold; negation holds if any negation does */
		acc = R_POS;
		for (k = nd->child; k != IPR_FN_NONE; k = f->nodes[k].next) {
			r = eval_node(f, k, c);
			if (r == R_NEG)
				return R_NEG;
			acc = (acc & r & R_POS) | ((acc | r) & R_NEG);
		}
		return acc;
	case IPR_FN_OR:
		acc = R_NEG;
		for (k = nd->child; k != IPR_FN_NONE; k = f->nodes[k].next) {
			r = eval_node(f, k, c);
			if (r == R_POS)
				return R_POS;
			acc = ((acc | r) & R_POS) | (acc & r & R_NEG);
		}
		return acc;
	case IPR_FN_TERN: {
		int32_t x = f->nodes[nd->child].next;
		int32_t y = f->nodes[x].next;

		r = eval_node(f, nd->child, c);
		if (r == R_POS)
			return eval_node(f, x, c);
		if (r == R_NEG)
			return eval_node(f, y, c);
		/* (c and x) or (not c and y) with c undecided: neither
		 * branch holds, and the negation (not c or not x) and
		 * (c or not y) needs both negated branches. */
		return eval_node(f, x, c) & eval_node(f, y, c) & R_NEG;
	}
	case IPR_FN_TEST:
		return eval_test(nd, c);
	}
	return R_UNKNOWN;
}

IPR_API int ipr_filter_eval(const ipr_filter *f, const void *pkt, size_t len,
			    const struct ipr_addr *addr)
{
	struct ectx c;

	if (!f || !pkt || !addr) {
		errno = EINVAL;
		return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	c.pkt = pkt;
	c.len = len;
	c.outbound = addr->layer == IPR_LAYER_NETWORK_FORWARD ||
		     (addr->flags & IPR_ADDR_OUTBOUND);
	c.if_idx = addr->if_idx;
	return (eval_node(f, f->root, &c) & R_POS) ? 1 : 0;
}
