/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_eval.c - ipr_filter_eval: run a compiled filter on one packet in
 * user space, with exactly the semantics of its kernel program. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "filter_ast.h"

/*
 * Each node yields two answers: does it hold (R_POS), and does its negation
 * hold (R_NEG).  They are not always opposite: a test whose header is there
 * but cannot be read (a later fragment, a transport header cut short, a
 * packet that is not IP, a uid where there is no socket) holds neither
 * way.  That is what the kernel does with negations pushed down to the
 * tests, where a failed load fails whichever comparison follows it, so
 * both sides agree by construction.  Evaluating both answers at once also
 * keeps a ternary linear: its condition is needed both ways.
 */
#define R_POS 1u
#define R_NEG 2u
#define R_UNKNOWN 0u

/* What a load found. */
enum { LD_OK, LD_ABSENT, LD_UNKNOWN };

struct ectx {
	const ipr_filter *f;
	const uint8_t *pkt;
	size_t len;
	const struct ipr_addr *a;
	const struct ipr_filter_env *env;
	bool outbound;
	enum ipr_hook hook;
	int parsed;   /* 0 not yet, 1 IP, -1 not IP */
	struct ipr_headers h;
	int named;    /* 0 not yet, 1 if_name valid, -1 unknown */
	char if_name[IF_NAMESIZE];
	bool hashed;
	uint64_t hash;
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

static bool guard_holds(const struct ectx *c, uint8_t nfproto, uint8_t l4)
{
	if (nfproto == 2 && !c->h.ip)
		return false;
	if (nfproto == 10 && !c->h.ipv6)
		return false;
	return !l4 || c->h.protocol == l4;
}

static void ev_put_be(uint8_t *dst, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		dst[width - 1 - i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
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

/* @n bytes at @off of the packet, which ends where the IP length says (as
 * the kernel's skb does). */
static int load_at(const struct ectx *c, uint64_t off, unsigned n,
		   uint8_t *out)
{
	if (off > c->h.total_len || c->h.total_len - off < n)
		return LD_UNKNOWN;
	memcpy(out, c->pkt + off, n);
	return LD_OK;
}

/* The transport header is there to read: not a later fragment. */
static bool l4_readable(const struct ectx *c)
{
	return !(c->h.fragment && c->h.frag_off != 0);
}

/* @n bytes at @off of the transport header, readable when the window the
 * kernel reads them with is (ipr_l4_window). */
static int load_l4(const struct ectx *c, unsigned off, unsigned n,
		   uint8_t *out)
{
	unsigned start, wlen;

	if (!l4_readable(c))
		return LD_UNKNOWN;
	ipr_l4_window(off, n, &start, &wlen);
	if ((uint64_t)c->h.l4_off + start + wlen > c->h.total_len)
		return LD_UNKNOWN;
	memcpy(out, c->pkt + c->h.l4_off + off, n);
	return LD_OK;
}

/* Interface names change rarely and if_indextoname() costs a socket and an
 * ioctl, so each thread keeps the last few for a second. */
#define NAME_CACHE 4
static __thread struct {
	uint32_t idx;
	uint64_t t;
	char name[IF_NAMESIZE];
} name_cache[NAME_CACHE];

static uint64_t coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool if_name_of(struct ectx *c)
{
	uint64_t now;
	unsigned k, old = 0;

	if (c->named)
		return c->named > 0;
	c->named = -1;
	if (c->env && c->env->if_name) {
		if (strlen(c->env->if_name) >= IF_NAMESIZE)
			return false;
		memset(c->if_name, 0, sizeof(c->if_name));
		strcpy(c->if_name, c->env->if_name);
		c->named = 1;
		return true;
	}
	if (!c->a->if_idx)
		return false;
	now = coarse_ms();
	for (k = 0; k < NAME_CACHE; k++) {
		if (name_cache[k].idx == c->a->if_idx &&
		    now - name_cache[k].t < 1000) {
			memcpy(c->if_name, name_cache[k].name, IF_NAMESIZE);
			c->named = 1;
			return true;
		}
		if (name_cache[k].t < name_cache[old].t)
			old = k;
	}
	memset(c->if_name, 0, sizeof(c->if_name));
	{
		int saved = errno;
		char *r = if_indextoname(c->a->if_idx, c->if_name);

		errno = saved;
		if (!r)
			return false;
	}
	name_cache[old].idx = c->a->if_idx;
	name_cache[old].t = now;
	memcpy(name_cache[old].name, c->if_name, IF_NAMESIZE);
	c->named = 1;
	return true;
}

/*
 * random8/16/32: as in WinDivert, bits of a hash of the packet
 * (ipr_packet_hash), not a random draw, so the same packet always gets the
 * same answer.  WinDivert seeds the hash with the packet's timestamp; here
 * the seed is 0, because a packet seen by several handles (or checked
 * again in user space) has no one timestamp that all of them see: only the
 * kernel's own, and that is not there for every packet.
 */
static uint64_t packet_hash(struct ectx *c)
{
	uint64_t h;

	if (c->hashed)
		return c->hash;
	h = ipr_packet_hash(c->pkt, c->len, 0);
	c->hash = h;
	c->hashed = true;
	return h;
}

/* TCP or UDP payload bounds; false if the header is not all there. */
static bool payload_span(const struct ectx *c, uint8_t l4, uint32_t *start)
{
	if (l4 == 6 && c->h.tcp) {
		*start = c->h.l4_off + (uint32_t)(c->h.tcp->data_off >> 4) * 4;
		return true;
	}
	if (l4 == 17 && c->h.udp) {
		*start = c->h.l4_off + 8;
		return true;
	}
	return false;
}

/* Offset of an index into [start, end): negative counts from the end. */
static bool index_at(int32_t index, unsigned width, uint32_t start,
		     uint32_t end, uint64_t *off)
{
	int64_t o = index >= 0 ? (int64_t)start + index : (int64_t)end + index;

	if (o < (int64_t)start || o + width > (int64_t)end)
		return false;
	*off = (uint64_t)o;
	return true;
}

/* The field's value for this packet, width bytes big-endian in @v.
 * Over 100 lines on purpose: one short case per field kind of filter_ast.h,
 * in the enum's order, mirrored by filter_kprog.c's field_branches; read
 * side by side, the user-space and the kernel meaning of each kind must
 * agree, which one switch shows better than a dozen helpers. */
static int load(const struct ipr_fnode *nd, const struct ipr_field *fd,
		struct ectx *c, uint8_t *v)
{
	uint32_t start, x;
	uint64_t off;
	bool local;

	switch (fd->kind) {
	case IPR_FK_CONSTVAL:
		ipri_filter_constval(c->f, fd, v);
		return LD_OK;
	case IPR_FK_IFIDX:
		ev_put_be(v, 4, c->a->if_idx);
		return LD_OK;
	case IPR_FK_IFNAME:
		if (!if_name_of(c))
			return LD_UNKNOWN;
		memcpy(v, c->if_name, IF_NAMESIZE);
		return LD_OK;
	case IPR_FK_LOOPBACK:
		/* taken on the way out only, as in the kernel */
		v[0] = c->hook == IPR_HOOK_OUT &&
		       (c->a->flags & IPR_ADDR_LOOPBACK);
		return LD_OK;
	case IPR_FK_META:
		switch (fd->arg) {
		case IPR_M_LENGTH:
			/* skb->len: all of it, also when only part was
			 * copied to us */
			x = (uint32_t)c->len;
			if ((c->a->flags & IPR_ADDR_TRUNCATED) &&
			    c->a->orig_len > x)
				x = c->a->orig_len;
			ev_put_be(v, 4, x);
			return LD_OK;
		case IPR_M_MARK:
			ev_put_be(v, 4, c->a->mark);
			return LD_OK;
		default:
			if (!have_ip(c))
				return LD_UNKNOWN;
			v[0] = c->h.protocol;
			return LD_OK;
		}
	case IPR_FK_SOCK:
		if (c->hook != IPR_HOOK_OUT ||
		    !(c->a->flags & (fd->arg ? IPR_ADDR_GID : IPR_ADDR_UID)))
			return LD_UNKNOWN;
		ev_put_be(v, 4, fd->arg ? c->a->gid : c->a->uid);
		return LD_OK;
	case IPR_FK_CT:
		if (!c->env || !c->env->ct_state)
			return LD_UNKNOWN;
		x = (uint32_t)nd->value[0] << 24 | (uint32_t)nd->value[1] << 16 |
		    (uint32_t)nd->value[2] << 8 | nd->value[3];
		ev_put_be(v, 4, c->env->ct_state & x);
		return LD_OK;
	case IPR_FK_USER:
		if (fd->arg == IPR_U_TIMESTAMP) {
			ev_put_be(v, 8, c->a->timestamp);
			return LD_OK;
		}
		break;
	default:
		break;
	}

	if (!have_ip(c))
		return LD_UNKNOWN;
	switch (fd->kind) {
	case IPR_FK_FRAGMENT:
		v[0] = c->h.fragment;
		return LD_OK;
	case IPR_FK_ADDR:
		local = fd->arg == 0;
		/* local is the destination of what comes in */
		x = (local == (c->hook == IPR_HOOK_IN)) ? 1 : 0; /* 1: dst */
		if (c->h.ip) {
			memset(v, 0, 10);
			v[10] = v[11] = 0xff;
			return load_at(c, x ? 16 : 12, 4, v + 12);
		}
		return load_at(c, x ? 24 : 8, 16, v);
	case IPR_FK_PORT:
		local = fd->arg == 0;
		memset(v, 0, 2);
		if (c->h.protocol == 6 || c->h.protocol == 17) {
			/* the local port is the destination of what comes in */
			x = local == (c->hook == IPR_HOOK_IN) ? 2 : 0;
			return load_l4(c, x, 2, v);
		}
		/* ICMP: the type is the local "port" of what goes out and
		 * the remote one of what comes in; 0 otherwise */
		if ((guard_holds(c, 2, 1) || guard_holds(c, 10, 58)) &&
		    local == (c->hook != IPR_HOOK_IN))
			return load_l4(c, 0, 1, v + 1);
		return LD_OK;
	default:
		break;
	}

	if (!guard_holds(c, fd->nfproto, fd->l4proto))
		return LD_ABSENT;
	switch (fd->kind) {
	case IPR_FK_NET:
		return load_at(c, fd->offset, fd->width, v);
	case IPR_FK_TRANSPORT:
		return load_l4(c, fd->offset, fd->width, v);
	case IPR_FK_PACKET:
		if (!index_at(nd->index, fd->width, 0, c->h.total_len, &off))
			return LD_UNKNOWN;
		return load_at(c, off, fd->width, v);
	case IPR_FK_PAYLOAD:
		if (!payload_span(c, fd->l4proto, &start) ||
		    !index_at(nd->index, fd->width, start, c->h.total_len, &off))
			return LD_UNKNOWN;
		return load_at(c, off, fd->width, v);
	case IPR_FK_USER:
		switch (fd->arg) {
		case IPR_U_PAYLOADLEN:
			if (!payload_span(c, fd->l4proto, &start))
				return LD_UNKNOWN;
			ev_put_be(v, 4, c->h.total_len - start);
			return LD_OK;
		/* WinDivert's bits: 48-55, 32-47, 0-31 */
		case IPR_U_RANDOM8:
			v[0] = (uint8_t)(packet_hash(c) >> 48);
			return LD_OK;
		case IPR_U_RANDOM16:
			ev_put_be(v, 2, (packet_hash(c) >> 32) & 0xffff);
			return LD_OK;
		default:
			ev_put_be(v, 4, packet_hash(c) & 0xffffffffu);
			return LD_OK;
		}
	default:
		return LD_UNKNOWN;
	}
}

static unsigned eval_test(const struct ipr_fnode *nd, struct ectx *c)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	uint8_t v[16];
	unsigned n = fd->width;

	switch (fd->kind) {
	case IPR_FK_CONST:
		return fd->arg ? R_POS : R_NEG;
	case IPR_FK_DIR:
		return (fd->arg != 0) == c->outbound ? R_POS : R_NEG;
	case IPR_FK_PROTO:
		if (!have_ip(c))
			return R_UNKNOWN;
		if (!guard_holds(c, fd->nfproto, fd->l4proto))
			return R_NEG;
		if (fd->l4proto) {
			/* as in WinDivert: no header in a later fragment */
			if (c->h.fragment && c->h.frag_off)
				return R_NEG;
			/* what the kernel reads to know it is there */
			if (c->h.l4_off + 3 > c->h.total_len)
				return R_UNKNOWN;
		}
		return R_POS;
	default:
		break;
	}
	memset(v, 0, sizeof(v));
	switch (load(nd, fd, c, v)) {
	case LD_ABSENT:
		return R_NEG;
	case LD_UNKNOWN:
		return R_UNKNOWN;
	}
	if (fd->vtype == IPR_VT_BOOL)
		return v[0] || (fd->width && v[fd->width - 1]) ? R_POS : R_NEG;
	if (fd->mask)
		for (unsigned i = 0; i < n; i++)
			v[i] &= (uint8_t)(fd->mask >> (8 * (n - 1 - i)));
	if (fd->kind == IPR_FK_IFNAME)
		n = nd->vlen;
	return cmp_result(nd->op, v, nd->value, n);
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

IPR_API int ipr_filter_eval_ex(const ipr_filter *f, const void *pkt,
			       size_t len, const struct ipr_addr *addr,
			       const struct ipr_filter_env *env)
{
	struct ectx c;
	struct ipr_filter_env e;

	if (!f || !pkt || !addr)
		return ipr_err(EINVAL);
	if (ipri_opts_copy(&e, sizeof(e), env) < 0)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.f = f;
	c.pkt = pkt;
	c.len = len;
	c.a = addr;
	c.env = env ? &e : NULL;
	c.outbound = addr->layer == IPR_LAYER_NETWORK_FORWARD ||
		     (addr->flags & IPR_ADDR_OUTBOUND);
	c.hook = addr->layer == IPR_LAYER_NETWORK_FORWARD ? IPR_HOOK_FWD
		 : c.outbound ? IPR_HOOK_OUT : IPR_HOOK_IN;
	return (eval_node(f, f->root, &c) & R_POS) ? 1 : 0;
}

IPR_API int ipr_filter_eval(const ipr_filter *f, const void *pkt, size_t len,
			    const struct ipr_addr *addr)
{
	return ipr_filter_eval_ex(f, pkt, len, addr, NULL);
}
