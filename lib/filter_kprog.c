/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_kprog.c - a compiled filter to the kernel program of one hook
 * (lib/filter.h): fold the hook's constants, push negations down to guarded
 * tests, drop what the enclosing conjunctions already decide, and lay the
 * and/or tree out as chains of rules. */
#include <errno.h>
#include <linux/if_arp.h>
#include <stdlib.h>
#include <string.h>

#include "filter_ast.h"
#include "internal.h"

/*
 * The intermediate tree: n-ary AND / OR over single kernel tests, with
 * negations already pushed to the leaves (negation normal form) and
 * constants folded away.  Every node has one parent, so a sub-expression
 * used twice (a ternary's condition) is built twice; a budget keeps such
 * doubling from running away.
 */
enum { KX_TEST, KX_AND, KX_OR };
#define K_ERR   (-1)
#define K_TRUE  (-2)
#define K_FALSE (-3)

/* Far beyond what fits in IPR_KPROG_MAX_TESTS anyway. */
#define KX_MAX_NODES (4 * IPR_KPROG_MAX_TESTS)
#define KX_MAX_STEPS (1u << 22)
/* Copy a rule's common tests into each alternative of an "or" rather than
 * jump to a chain of its own while the copies stay this small. */
#define DISTRIBUTE_MAX 16

struct kx {
	uint8_t type;
	int32_t child, next;
	struct ipr_ktest t;
};

struct rrec {
	uint32_t chain, first, ntests;
	int32_t jump;
};

struct kb {
	const ipr_filter *f;
	enum ipr_hook hook;
	int err;
	unsigned steps;
	struct kx *x;
	uint32_t n, cap;
	/* compile: the tests every rule emitted now starts with */
	int32_t *stack;
	uint32_t top, scap;
	struct ipr_ktest *tests;
	uint32_t ntests, tcap;
	struct rrec *rules;
	uint32_t nrules, rcap;
	uint32_t nchains;
	/* simplify: the tests known to hold where we are */
	int32_t *ctx;
	uint32_t ctop, ccap;
	uint32_t pos;           /* text position of the term being built */
	/* setify: the sets made so far */
	struct ipr_kset *sets;
	uint32_t nsets, setcap;
	uint8_t *setvals;
	uint32_t nsetvals, valcap;
};

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t c = *cap ? *cap : 16;
	void *np;

	if (need <= *cap)
		return true;
	while (c < need)
		c *= 2;
	np = realloc(*p, (size_t)c * elem);
	if (!np)
		return false;
	*p = np;
	*cap = c;
	return true;
}

static int32_t kb_fail(struct kb *b, int err)
{
	if (!b->err)
		b->err = err;
	return K_ERR;
}

static int32_t kx_new(struct kb *b, uint8_t type)
{
	if (b->n >= KX_MAX_NODES)
		return kb_fail(b, -E2BIG);
	if (!grow((void **)&b->x, &b->cap, b->n + 1, sizeof(*b->x)))
		return kb_fail(b, -ENOMEM);
	memset(&b->x[b->n], 0, sizeof(b->x[0]));
	b->x[b->n].type = type;
	b->x[b->n].child = K_ERR;
	b->x[b->n].next = K_ERR;
	return (int32_t)b->n++;
}

static int32_t kx_put(struct kb *b, const struct ipr_ktest *t)
{
	int32_t i = kx_new(b, KX_TEST);

	if (i < 0)
		return i;
	b->x[i].t = *t;
	b->x[i].t.pos = b->pos;
	return i;
}

static int32_t kx_test(struct kb *b, uint8_t kind, uint8_t op, uint8_t len,
		       uint16_t offset, const uint8_t *value)
{
	struct ipr_ktest t;

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.op = op;
	t.len = len;
	t.offset = offset;
	memcpy(t.value, value, len);
	return kx_put(b, &t);
}

/* An AND or OR being built: absorbing constants end it, neutral ones
 * vanish, and a child of the same type is spliced in. */
struct junct {
	uint8_t type;
	int32_t head, tail;
	int32_t done; /* 0 while open, else K_TRUE / K_FALSE / K_ERR */
};

static void j_init(struct junct *j, uint8_t type)
{
	j->type = type;
	j->head = j->tail = K_ERR;
	j->done = 0;
}

static void j_add(struct kb *b, struct junct *j, int32_t c)
{
	int32_t absorb = j->type == KX_AND ? K_FALSE : K_TRUE;
	int32_t head = c, last = c;

	if (j->done)
		return;
	if (c == K_ERR || c == absorb) {
		j->done = c;
		return;
	}
	if (c < 0)
		return; /* the neutral constant */
	if (!b->x) {
		j->done = kb_fail(b, -EINVAL); /* a node where none was made */
		return;
	}
	if (b->x[c].type == j->type) {
		head = b->x[c].child;
		for (last = head; b->x[last].next != K_ERR;)
			last = b->x[last].next;
	} else {
		/* simplify() hands back nodes that were in another list */
		b->x[c].next = K_ERR;
	}
	if (j->tail == K_ERR)
		j->head = head;
	else
		b->x[j->tail].next = head;
	j->tail = last;
}

static int32_t j_end(struct kb *b, struct junct *j)
{
	int32_t n;

	if (j->done)
		return j->done;
	if (j->head == K_ERR)
		return j->type == KX_AND ? K_TRUE : K_FALSE;
	if (j->head == j->tail)
		return j->head;
	n = kx_new(b, j->type);
	if (n >= 0)
		b->x[n].child = j->head;
	return n;
}

static int32_t konst(bool v)
{
	return v ? K_TRUE : K_FALSE;
}

static uint8_t kop_not(uint8_t op)
{
	switch (op) {
	case IPR_KOP_EQ: return IPR_KOP_NEQ;
	case IPR_KOP_NEQ: return IPR_KOP_EQ;
	case IPR_KOP_LT: return IPR_KOP_GTE;
	case IPR_KOP_GTE: return IPR_KOP_LT;
	case IPR_KOP_GT: return IPR_KOP_LTE;
	case IPR_KOP_IN: return IPR_KOP_NOTIN;
	case IPR_KOP_NOTIN: return IPR_KOP_IN;
	default: return IPR_KOP_GT;
	}
}

/*
 * One test of the filter, negated or not.  A field is read in one or more
 * branches, each for the packets its guards (ip version, transport
 * protocol) select: ip.TTL has one, localPort one per transport protocol.
 * A branch either loads and compares, or its answer is fixed (localPort of
 * a protocol without ports is 0).  The packets no branch selects either
 * lack the field (the test is false, its negation true) or have a fixed
 * value.  So
 *   field op v      ->  OR of (guards and pre and load(op v))
 *   not field op v  ->  OR of (guards and pre and load(!op v))
 *                       or (no branch's guards hold)
 * and a load that fails (a later fragment, no socket) fails both forms,
 * which is what filter_eval.c does too.  "pre" is a check that is not
 * negated: a TCP header length the kernel can find the payload behind.
 */
#define KB_MAX 4
struct kbranch {
	struct ipr_ktest g[2]; /* guards, all EQ */
	uint8_t ng;
	bool has_pre;
	struct ipr_ktest pre;
	int8_t fixed;          /* -1: compare t; else the test's answer */
	struct ipr_ktest t;    /* t.op: the test's op, not negated */
};

/* The packets no branch selects: they lack the field, or it has a fixed
 * value there that makes the test false or true; REST_NONE: there are
 * none, the branches cover every packet. */
enum { REST_ABSENT, REST_FALSE, REST_TRUE, REST_NONE };

struct kfield {
	struct kbranch br[KB_MAX];
	unsigned n;
	int rest;
};

static struct kbranch *br_add(struct kfield *kf)
{
	struct kbranch *br = &kf->br[kf->n++];

	memset(br, 0, sizeof(*br));
	br->fixed = -1;
	return br;
}

static void br_guard(struct kbranch *br, uint8_t kind, uint8_t v)
{
	struct ipr_ktest *g = &br->g[br->ng++];

	g->kind = kind;
	g->op = IPR_KOP_EQ;
	g->len = 1;
	g->value[0] = v;
}

static void br_guards(struct kbranch *br, uint8_t nfproto, uint8_t l4proto)
{
	if (nfproto)
		br_guard(br, IPR_KT_NFPROTO, nfproto);
	if (l4proto)
		br_guard(br, IPR_KT_L4PROTO, l4proto);
}

static void set_test(struct ipr_ktest *t, uint8_t kind, uint8_t op,
		     uint8_t len, uint16_t offset, const uint8_t *value)
{
	t->kind = kind;
	t->op = op;
	t->len = len;
	t->offset = offset;
	memcpy(t->value, value, len);
}

static void set_mask32(struct ipr_ktest *t, uint32_t mask)
{
	t->flags |= IPR_KTF_MASK;
	for (unsigned i = 0; i < t->len; i++)
		t->mask[i] = (uint8_t)(mask >> (8 * (t->len - 1 - i)));
}

static bool kop_cmp(uint8_t op, int r)
{
	switch (op) {
	case IPR_KOP_EQ: return r == 0;
	case IPR_KOP_NEQ: return r != 0;
	case IPR_KOP_LT: return r < 0;
	case IPR_KOP_LTE: return r <= 0;
	case IPR_KOP_GT: return r > 0;
	default: return r >= 0;
	}
}

/* The branches of a test node on this hook.  Over 100 lines on purpose:
 * one short case per field kind of filter_ast.h, the kernel's side of
 * filter_eval.c's load(); read side by side, the two must agree, which one
 * switch each shows better than a dozen helpers. */
static void field_branches(struct kb *b, const struct ipr_fnode *nd,
			   struct kfield *kf)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	static const uint8_t zero[16], mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t loopback[2] = { ARPHRD_LOOPBACK >> 8,
					     ARPHRD_LOOPBACK & 0xff };
	static const uint8_t min_doff = 0x50;
	struct kbranch *br;
	bool in = b->hook == IPR_HOOK_IN, local = fd->arg == 0, dst;
	uint8_t kind;
	int r;

	kf->n = 0;
	kf->rest = REST_NONE;
	switch (fd->kind) {
	case IPR_FK_IFIDX:
		br = br_add(kf);
		set_test(&br->t, in ? IPR_KT_IIF : IPR_KT_OIF, nd->op, 4, 0,
			 nd->value);
		return;
	case IPR_FK_IFNAME:
		br = br_add(kf);
		set_test(&br->t, in ? IPR_KT_IIFNAME : IPR_KT_OIFNAME, nd->op,
			 nd->vlen, 0, nd->value);
		return;
	case IPR_FK_LOOPBACK:
		/* "loopback" is "loopback != 0": oiftype == loopback */
		br = br_add(kf);
		set_test(&br->t, IPR_KT_OIFTYPE, IPR_KOP_EQ, 2, 0, loopback);
		return;
	case IPR_FK_FRAGMENT:
		/* "fragment != 0" too */
		br = br_add(kf);
		br_guard(br, IPR_KT_NFPROTO, 2);
		set_test(&br->t, IPR_KT_NET, IPR_KOP_NEQ, 2, 6, zero);
		set_mask32(&br->t, 0x3fff);
		br = br_add(kf);
		br_guard(br, IPR_KT_NFPROTO, 10);
		set_test(&br->t, IPR_KT_FRAG6, IPR_KOP_NEQ, 1, 0, zero);
		return;
	case IPR_FK_META:
		br = br_add(kf);
		kind = fd->arg == IPR_M_LENGTH ? IPR_KT_LEN
		       : fd->arg == IPR_M_MARK ? IPR_KT_MARK : IPR_KT_L4PROTO;
		set_test(&br->t, kind, nd->op, fd->width, 0, nd->value);
		return;
	case IPR_FK_SOCK:
		br = br_add(kf);
		set_test(&br->t, fd->arg ? IPR_KT_SKGID : IPR_KT_SKUID, nd->op,
			 4, 0, nd->value);
		return;
	case IPR_FK_CT:
		br = br_add(kf);
		set_test(&br->t, IPR_KT_CTSTATE, nd->op, 4, 0, nd->value);
		br->t.flags |= IPR_KTF_MASK;
		memcpy(br->t.mask, nd->value, 4);
		return;
	case IPR_FK_ADDR:
		/* local is the destination of what comes in; an IPv4 address
		 * is ::ffff:a.b.c.d, so its first 12 bytes are fixed */
		dst = local == in;
		br = br_add(kf);
		br_guard(br, IPR_KT_NFPROTO, 2);
		r = memcmp(mapped, nd->value, 12);
		if (r)
			br->fixed = kop_cmp(nd->op, r);
		else
			set_test(&br->t, IPR_KT_NET, nd->op, 4, dst ? 16 : 12,
				 nd->value + 12);
		br = br_add(kf);
		br_guard(br, IPR_KT_NFPROTO, 10);
		set_test(&br->t, IPR_KT_NET, nd->op, 16, dst ? 24 : 8,
			 nd->value);
		return;
	case IPR_FK_PORT:
		/* TCP and UDP ports; the ICMP type as the local port of what
		 * goes out and the remote one of what comes in; else 0 */
		for (unsigned k = 0; k < 2; k++) {
			br = br_add(kf);
			br_guard(br, IPR_KT_L4PROTO, k ? 17 : 6);
			set_test(&br->t, IPR_KT_TRANSPORT, nd->op, 2,
				 local == in ? 2 : 0, nd->value);
		}
		if (local != in) {
			for (unsigned k = 0; k < 2; k++) {
				br = br_add(kf);
				br_guards(br, k ? 10 : 2, k ? 58 : 1);
				if (nd->value[0]) /* > 255: beyond any type */
					br->fixed = kop_cmp(nd->op, -1);
				else
					set_test(&br->t, IPR_KT_TRANSPORT, nd->op,
						 1, 0, nd->value + 1);
			}
		}
		kf->rest = kop_cmp(nd->op, memcmp(zero, nd->value, 2))
			   ? REST_TRUE : REST_FALSE;
		return;
	case IPR_FK_NET:
	case IPR_FK_TRANSPORT:
	case IPR_FK_PACKET:
		br = br_add(kf);
		br_guards(br, fd->nfproto, fd->l4proto);
		if (fd->nfproto || fd->l4proto)
			kf->rest = REST_ABSENT;
		kind = fd->kind == IPR_FK_TRANSPORT ? IPR_KT_TRANSPORT
						    : IPR_KT_NET;
		set_test(&br->t, kind, nd->op, fd->width,
			 fd->kind == IPR_FK_PACKET ? (uint16_t)nd->index
						   : fd->offset, nd->value);
		if (fd->mask)
			set_mask32(&br->t, fd->mask);
		return;
	case IPR_FK_PAYLOAD:
		br = br_add(kf);
		br_guards(br, 0, fd->l4proto);
		kf->rest = REST_ABSENT;
		if (fd->l4proto == 6) {
			/* the kernel takes any data offset; user space wants
			 * a real TCP header (>= 20 bytes) */
			br->has_pre = true;
			set_test(&br->pre, IPR_KT_TRANSPORT, IPR_KOP_GTE, 1, 12,
				 &min_doff);
			set_mask32(&br->pre, 0xf0);
		}
		set_test(&br->t, IPR_KT_INNER, nd->op, fd->width,
			 (uint16_t)nd->index, nd->value);
		return;
	default:
		kb_fail(b, -EINVAL);
		return;
	}
}

/* A transport-header test as the window ipr_l4_window() says: the same
 * comparison on more bytes, the others masked to zero. */
static void widen_l4(struct ipr_ktest *t)
{
	struct ipr_ktest w = *t;
	unsigned start, wlen, at;

	if (t->kind != IPR_KT_TRANSPORT)
		return;
	ipr_l4_window(t->offset, t->len, &start, &wlen);
	if (wlen == t->len)
		return;
	at = t->offset - start;
	memset(w.value, 0, sizeof(w.value));
	memset(w.mask, 0, sizeof(w.mask));
	memcpy(w.value + at, t->value, t->len);
	if (t->flags & IPR_KTF_MASK)
		memcpy(w.mask + at, t->mask, t->len);
	else
		memset(w.mask + at, 0xff, t->len);
	w.flags |= IPR_KTF_MASK;
	w.offset = (uint16_t)start;
	w.len = (uint8_t)wlen;
	*t = w;
}

/* The guards of @br, each negated, as an OR: "not this branch". */
static int32_t not_guards(struct kb *b, const struct kbranch *br)
{
	struct junct j;

	j_init(&j, KX_OR);
	for (unsigned g = 0; g < br->ng; g++) {
		struct ipr_ktest t = br->g[g];

		t.op = IPR_KOP_NEQ;
		j_add(b, &j, kx_put(b, &t));
	}
	return j_end(b, &j);
}

/* Holds where the transport header can be read (3 bytes of it: the load
 * takes nft's path that refuses a later fragment); ">= 0" is always true
 * once loaded, so no mask is needed. */
static int32_t kx_l4_readable(struct kb *b)
{
	static const uint8_t zero[3];

	return kx_test(b, IPR_KT_TRANSPORT, IPR_KOP_GTE, 3, 0, zero);
}

/* Holds for a later fragment of IPv4 (@nfproto 2), IPv6 (10) or either
 * (0): its offset field is not 0. */
static int32_t kx_later_fragment(struct kb *b, uint8_t nfproto)
{
	static const uint8_t zero[2], v4 = 2, v6 = 10;
	struct junct j, a;
	struct ipr_ktest t;

	j_init(&j, KX_OR);
	if (nfproto != 10) {
		j_init(&a, KX_AND);
		j_add(b, &a, kx_test(b, IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, &v4));
		memset(&t, 0, sizeof(t));
		set_test(&t, IPR_KT_NET, IPR_KOP_NEQ, 2, 6, zero);
		set_mask32(&t, 0x1fff);
		j_add(b, &a, kx_put(b, &t));
		j_add(b, &j, j_end(b, &a));
	}
	if (nfproto != 2) {
		j_init(&a, KX_AND);
		j_add(b, &a, kx_test(b, IPR_KT_NFPROTO, IPR_KOP_EQ, 1, 0, &v6));
		memset(&t, 0, sizeof(t));
		set_test(&t, IPR_KT_FRAGOFF6, IPR_KOP_NEQ, 2, 0, zero);
		set_mask32(&t, 0xfff8);
		j_add(b, &a, kx_put(b, &t));
		j_add(b, &j, j_end(b, &a));
	}
	return j_end(b, &j);
}

static int32_t leaf(struct kb *b, const struct ipr_fnode *nd, bool neg)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	uint8_t v[16];
	struct kfield kf;
	struct junct j, a;
	bool rest;

	b->pos = nd->pos;
	if (nd->user) {
		/* The kernel lets it by, user space decides.  A payload test
		 * (in user space where the kernel has no inner payload
		 * expression) still holds only for its protocol: the kernel
		 * keeps that much, so other traffic is not queued for it. */
		if (!neg && fd->kind == IPR_FK_PAYLOAD && fd->l4proto)
			return kx_test(b, IPR_KT_L4PROTO, IPR_KOP_EQ, 1, 0,
				       &fd->l4proto);
		return K_TRUE;
	}
	switch (fd->kind) {
	case IPR_FK_CONST:
		return konst((fd->arg != 0) != neg);
	case IPR_FK_DIR:
		return konst(((fd->arg != 0) == (b->hook != IPR_HOOK_IN)) != neg);
	case IPR_FK_CONSTVAL:
		if (fd->vtype == IPR_VT_BOOL)
			return konst(neg); /* impostor: never */
		ipri_filter_constval(b->f, fd, v);
		return konst(kop_cmp(nd->op, memcmp(v, nd->value, fd->width))
			     != neg);
	case IPR_FK_PROTO:
		j_init(&j, neg ? KX_OR : KX_AND);
		if (fd->nfproto)
			j_add(b, &j, kx_test(b, IPR_KT_NFPROTO,
					     neg ? IPR_KOP_NEQ : IPR_KOP_EQ, 1,
					     0, &fd->nfproto));
		if (fd->l4proto)
			j_add(b, &j, kx_test(b, IPR_KT_L4PROTO,
					     neg ? IPR_KOP_NEQ : IPR_KOP_EQ, 1,
					     0, &fd->l4proto));
		/* As in WinDivert, tcp, udp, icmp and icmpv6 are false
		 * where the header is not there: a later fragment */
		if (fd->l4proto)
			j_add(b, &j, neg ? kx_later_fragment(b, fd->nfproto)
					 : kx_l4_readable(b));
		return j_end(b, &j);
	case IPR_FK_LOOPBACK:
		if (b->hook != IPR_HOOK_OUT)
			return konst(neg); /* taken on the way out only */
		break;
	case IPR_FK_SOCK:
		if (b->hook != IPR_HOOK_OUT)
			return K_FALSE; /* unknown there: fails both ways */
		break;
	default:
		break;
	}
	field_branches(b, nd, &kf);
	if (b->err)
		return K_ERR;
	for (unsigned i = 0; i < kf.n; i++) {
		widen_l4(&kf.br[i].t);
		if (kf.br[i].has_pre)
			widen_l4(&kf.br[i].pre);
	}
	switch (kf.rest) {
	case REST_ABSENT: rest = neg; break;
	case REST_FALSE: rest = neg; break;
	case REST_TRUE: rest = !neg; break;
	default: rest = false; break;
	}
	/* the packets without the field first: the cheaper rules */
	j_init(&j, KX_OR);
	if (rest) {
		j_init(&a, KX_AND);
		for (unsigned i = 0; i < kf.n; i++)
			j_add(b, &a, not_guards(b, &kf.br[i]));
		j_add(b, &j, j_end(b, &a));
	}
	for (unsigned i = 0; i < kf.n && !j.done; i++) {
		const struct kbranch *br = &kf.br[i];

		j_init(&a, KX_AND);
		for (unsigned g = 0; g < br->ng; g++)
			j_add(b, &a, kx_put(b, &br->g[g]));
		if (br->has_pre)
			j_add(b, &a, kx_put(b, &br->pre));
		if (br->fixed >= 0) {
			j_add(b, &a, konst((br->fixed != 0) != neg));
		} else {
			struct ipr_ktest t = br->t;

			if (neg)
				t.op = kop_not(t.op);
			j_add(b, &a, kx_put(b, &t));
		}
		j_add(b, &j, j_end(b, &a));
	}
	return j_end(b, &j);
}

/* Node @i of the filter (negated if @neg) in negation normal form, with
 * the hook's constants folded. */
static int32_t nnf(struct kb *b, int32_t i, bool neg)
{
	const struct ipr_fnode *nd = &b->f->nodes[i];
	struct junct j, a;
	int32_t c, x, y;

	if (b->err)
		return K_ERR;
	if (++b->steps > KX_MAX_STEPS)
		return kb_fail(b, -E2BIG);
	switch (nd->type) {
	case IPR_FN_TRUE:
		return konst(!neg);
	case IPR_FN_FALSE:
		return konst(neg);
	case IPR_FN_NOT:
		return nnf(b, nd->child, !neg);
	case IPR_FN_AND:
	case IPR_FN_OR:
		j_init(&j, (nd->type == IPR_FN_AND) != neg ? KX_AND : KX_OR);
		for (c = nd->child; c != IPR_FN_NONE && !j.done;
		     c = b->f->nodes[c].next)
			j_add(b, &j, nnf(b, c, neg));
		return j_end(b, &j);
	case IPR_FN_TERN:
		/* (c ? x : y) is (c and x) or (not c and y); negated,
		 * (not c or not x) and (c or not y). */
		c = nd->child;
		x = b->f->nodes[c].next;
		y = b->f->nodes[x].next;
		j_init(&j, neg ? KX_AND : KX_OR);
		j_init(&a, neg ? KX_OR : KX_AND);
		j_add(b, &a, nnf(b, c, neg));
		if (!a.done)
			j_add(b, &a, nnf(b, x, neg));
		j_add(b, &j, j_end(b, &a));
		j_init(&a, neg ? KX_OR : KX_AND);
		j_add(b, &a, nnf(b, c, !neg));
		if (!a.done)
			j_add(b, &a, nnf(b, y, neg));
		j_add(b, &j, j_end(b, &a));
		return j_end(b, &j);
	case IPR_FN_TEST:
		return leaf(b, nd, neg);
	}
	return kb_fail(b, -EINVAL);
}

static bool same_load(const struct ipr_ktest *a, const struct ipr_ktest *c)
{
	return a->kind == c->kind && a->len == c->len &&
	       a->offset == c->offset && a->flags == c->flags &&
	       (!(a->flags & IPR_KTF_MASK) || !memcmp(a->mask, c->mask, a->len));
}

static bool is_set_op(uint8_t op)
{
	return op == IPR_KOP_IN || op == IPR_KOP_NOTIN;
}

/* Same value, or for set tests the same set. */
static bool same_value(const struct ipr_ktest *a, const struct ipr_ktest *c)
{
	bool sa = is_set_op(a->op), sc = is_set_op(c->op);

	if (sa || sc)
		return sa && sc && a->set == c->set;
	return !memcmp(a->value, c->value, a->len);
}

/*
 * What the tests known to hold say about test @t: 1 it holds too, 0 it
 * cannot, -1 nothing.  A known test on the same load means the load works
 * for this packet, so "x == 5" decides every other comparison of x.
 */
/* A readable transport header and a later fragment exclude each other. */
static bool is_readable_test(const struct ipr_ktest *t)
{
	return t->kind == IPR_KT_TRANSPORT && t->op == IPR_KOP_GTE &&
	       t->offset == 0 && t->len == 3 && !(t->flags & IPR_KTF_MASK);
}

static bool is_later_test(const struct ipr_ktest *t)
{
	return t->op == IPR_KOP_NEQ && (t->flags & IPR_KTF_MASK) &&
	       t->len == 2 && !t->value[0] && !t->value[1] &&
	       ((t->kind == IPR_KT_NET && t->offset == 6 &&
		 t->mask[0] == 0x1f && t->mask[1] == 0xff) ||
		(t->kind == IPR_KT_FRAGOFF6 && t->mask[0] == 0xff &&
		 t->mask[1] == 0xf8));
}

static int known_verdict(const struct kb *b, const struct ipr_ktest *t)
{
	for (uint32_t k = 0; k < b->ctop; k++) {
		const struct ipr_ktest *u = &b->x[b->ctx[k]].t;

		if ((is_readable_test(t) && is_later_test(u)) ||
		    (is_later_test(t) && is_readable_test(u)))
			return 0;
	}
	for (uint32_t k = 0; k < b->ctop; k++) {
		const struct ipr_ktest *u = &b->x[b->ctx[k]].t;
		bool eqv;

		if (!same_load(t, u))
			continue;
		if (is_set_op(t->op) || is_set_op(u->op)) {
			/* only the same set decides */
			if (!same_value(t, u))
				continue;
			return t->op == u->op;
		}
		eqv = !memcmp(t->value, u->value, t->len);
		if (u->op == IPR_KOP_EQ)
			return kop_cmp(t->op, memcmp(u->value, t->value, t->len));
		if (eqv && u->op == t->op)
			return 1;
		if (eqv && t->op == kop_not(u->op))
			return 0;
		if (eqv && u->op == IPR_KOP_NEQ && t->op == IPR_KOP_EQ)
			return 0;
	}
	return -1;
}

/*
 * Simplify @e with what holds around it: the tests of an AND hold for its
 * other children, so in "ip and not ip.MF" the negation's "not ip" branch
 * goes and "ip" need not be tested twice.  Without this, every such term
 * would become a chain of its own in the kernel.
 */
static int32_t simplify(struct kb *b, int32_t e)
{
	struct junct j;
	int32_t *kids, c, r;
	uint32_t n = 0, k, saved = b->ctop;

	if (e < 0 || b->err)
		return e;
	if (++b->steps > KX_MAX_STEPS)
		return kb_fail(b, -E2BIG);
	if (b->x[e].type == KX_TEST) {
		r = known_verdict(b, &b->x[e].t);
		return r < 0 ? e : konst(r);
	}
	for (c = b->x[e].child; c != K_ERR; c = b->x[c].next)
		n++;
	/* j_add relinks the children: take them out first */
	kids = malloc((n ? n : 1) * sizeof(*kids));
	if (!kids)
		return kb_fail(b, -ENOMEM);
	for (k = 0, c = b->x[e].child; c != K_ERR; c = b->x[c].next)
		kids[k++] = c;
	j_init(&j, b->x[e].type);
	if (b->x[e].type == KX_AND) {
		for (k = 0; k < n && !j.done; k++) {
			if (b->x[kids[k]].type != KX_TEST)
				continue;
			r = simplify(b, kids[k]);
			if (r >= 0) {
				if (!grow((void **)&b->ctx, &b->ccap, b->ctop + 1,
					  sizeof(*b->ctx))) {
					j_add(b, &j, kb_fail(b, -ENOMEM));
					break;
				}
				b->ctx[b->ctop++] = r;
			}
			j_add(b, &j, r);
		}
		for (k = 0; k < n && !j.done; k++)
			if (b->x[kids[k]].type != KX_TEST)
				j_add(b, &j, simplify(b, kids[k]));
		b->ctop = saved;
	} else {
		for (k = 0; k < n && !j.done; k++)
			j_add(b, &j, simplify(b, kids[k]));
	}
	free(kids);
	return j_end(b, &j);
}

/* --- sets ------------------------------------------------------------- */

static bool same_test(const struct ipr_ktest *a, const struct ipr_ktest *c)
{
	return same_load(a, c) && a->op == c->op && same_value(a, c);
}

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *q = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ q[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t h_load(uint64_t h, const struct ipr_ktest *t)
{
	h = h_bytes(h, &t->kind, 1);
	h = h_bytes(h, &t->len, 1);
	h = h_bytes(h, &t->offset, sizeof(t->offset));
	h = h_bytes(h, &t->flags, 1);
	if (t->flags & IPR_KTF_MASK)
		h = h_bytes(h, t->mask, t->len);
	return h;
}

/* v += 1 (@up) or v -= 1 over @len big-endian bytes; false when it
 * wraps (there is no such value). */
static bool be_step(uint8_t *v, unsigned len, bool up)
{
	for (unsigned i = len; i-- > 0;) {
		if (up ? v[i]++ != 0xff : v[i]-- != 0)
			return true;
	}
	return false;
}

/* What one member of a set admits: one value (lo == hi) or a range. */
struct vpair {
	uint8_t lo[16], hi[16];
};

static int cmp_pair(const void *x, const void *y, void *len)
{
	const struct vpair *a = x, *c = y;
	int r = memcmp(a->lo, c->lo, *(const uint8_t *)len);

	return r ? r : memcmp(a->hi, c->hi, *(const uint8_t *)len);
}

/* A set of what @vp[0..n) admit, sorted: values each once, or (@interval)
 * ranges with the overlapping and adjacent ones merged.  Returns its
 * index, or -1 after kb_fail. */
static int32_t set_make(struct kb *b, uint8_t len, bool interval,
			struct vpair *vp, uint32_t n)
{
	uint32_t first = b->nsetvals, kept = 0, per = interval ? 2u * len : len;
	uint8_t *out;

	if (b->nsetvals + (uint64_t)n * per > UINT32_MAX / 2)
		return kb_fail(b, -E2BIG);
	if (!grow((void **)&b->setvals, &b->valcap, b->nsetvals + n * per, 1) ||
	    !grow((void **)&b->sets, &b->setcap, b->nsets + 1, sizeof(*b->sets)))
		return kb_fail(b, -ENOMEM);
	qsort_r(vp, n, sizeof(*vp), cmp_pair, &len);
	out = b->setvals + first;
	for (uint32_t k = 0; k < n; k++) {
		uint8_t *last = out + (kept ? (kept - 1) * per : 0);

		if (!interval) {
			if (kept && !memcmp(vp[k].lo, last, len))
				continue;
			memcpy(out + kept * per, vp[k].lo, len);
			kept++;
			continue;
		}
		if (kept) {
			/* merge when lo <= last hi + 1 */
			uint8_t next[16];
			bool end = true;

			memcpy(next, last + len, len);
			end = !be_step(next, len, true); /* hi is the top */
			if (end || memcmp(vp[k].lo, next, len) <= 0) {
				if (memcmp(vp[k].hi, last + len, len) > 0)
					memcpy(last + len, vp[k].hi, len);
				continue;
			}
		}
		memcpy(out + kept * per, vp[k].lo, len);
		memcpy(out + kept * per + len, vp[k].hi, len);
		kept++;
	}
	b->nsetvals = first + kept * per;
	b->sets[b->nsets] = (struct ipr_kset){ first, kept, len, interval };
	return (int32_t)b->nsets++;
}

/* The set test on the load of test node @proto for @vp[0..n). */
static int32_t set_test_of(struct kb *b, int32_t proto, uint8_t op,
			   bool interval, struct vpair *vp, uint32_t n)
{
	struct ipr_ktest t = b->x[proto].t;
	int32_t set = set_make(b, t.len, interval, vp, n), i;

	if (set < 0)
		return K_ERR;
	memset(t.value, 0, sizeof(t.value));
	t.op = op;
	t.set = (uint32_t)set;
	i = kx_new(b, KX_TEST);
	if (i >= 0)
		b->x[i].t = t;
	return i;
}

/*
 * The shapes of a kid that a set can absorb, with the test that holds the
 * value (the candidate) and the kid's other tests in order (its "rest"):
 *   under an OR:  load == v            or  AND(rest..., load == v)
 *   under an AND: load != v            or  OR(rest..., AND(rest..., load != v))
 * The second AND shape is what "not field == v" becomes: the packets
 * without the field, or those with it and another value.  Kids of one
 * shape whose rests agree are, by distributivity, the same kid with the
 * candidates joined: "or" of equalities, "and" of inequalities.
 */
#define KID_MAX_TESTS 16
struct kidshape {
	int32_t cand;                  /* the candidate test node */
	int32_t inner;                 /* AND-shape 2: the inner AND node */
	uint8_t tag;                   /* 1 bare, 2 AND, 3 OR(.., AND) */
	uint8_t nouter;                /* OR shape: tests before the AND */
	uint32_t n;
	int32_t t[KID_MAX_TESTS];      /* every test of the kid, in order */
	/* under an OR, the candidate's load may be bounded instead
	 * ("x >= a and x <= b"): every test on it makes the range */
	bool range;
	uint32_t nrest;
	int32_t rest[KID_MAX_TESTS];   /* the tests other than the range's */
	uint8_t lo[16], hi[16];        /* the values it admits, inclusive */
};

static bool all_tests(const struct kb *b, int32_t e, struct kidshape *ks,
		      int32_t skip_last_nontest)
{
	for (int32_t c = b->x[e].child; c != K_ERR; c = b->x[c].next) {
		if (b->x[c].type != KX_TEST) {
			if (c != skip_last_nontest)
				return false;
			continue;
		}
		if (ks->n >= KID_MAX_TESTS)
			return false;
		ks->t[ks->n++] = c;
	}
	return true;
}

/* The kid (under an OR) bounds its last test's load: every test on that
 * load is an ordering (or ==), and together they admit [lo, hi]. */
static bool kid_range(const struct kb *b, struct kidshape *ks)
{
	const struct ipr_ktest *c = &b->x[ks->cand].t;
	uint8_t v[16];

	memset(ks->lo, 0, sizeof(ks->lo));
	memset(ks->hi, 0xff, c->len);
	ks->nrest = 0;
	for (uint32_t i = 0; i < ks->n; i++) {
		const struct ipr_ktest *t = &b->x[ks->t[i]].t;

		if (!same_load(t, c)) {
			ks->rest[ks->nrest++] = ks->t[i];
			continue;
		}
		memcpy(v, t->value, t->len);
		switch (t->op) {
		case IPR_KOP_GT:
			if (!be_step(v, t->len, true))
				return false;
			/* fall through */
		case IPR_KOP_GTE:
			if (memcmp(v, ks->lo, t->len) > 0)
				memcpy(ks->lo, v, t->len);
			break;
		case IPR_KOP_LT:
			if (!be_step(v, t->len, false))
				return false;
			/* fall through */
		case IPR_KOP_LTE:
			if (memcmp(v, ks->hi, t->len) < 0)
				memcpy(ks->hi, v, t->len);
			break;
		case IPR_KOP_EQ:
			if (memcmp(v, ks->lo, t->len) > 0)
				memcpy(ks->lo, v, t->len);
			if (memcmp(v, ks->hi, t->len) < 0)
				memcpy(ks->hi, v, t->len);
			break;
		default:
			return false;
		}
	}
	if (memcmp(ks->lo, ks->hi, c->len) > 0)
		return false; /* admits nothing: simplify's business */
	ks->range = true;
	return true;
}

static bool kid_shape(const struct kb *b, int32_t k, uint8_t parent,
		      struct kidshape *ks)
{
	uint8_t want = parent == KX_OR ? IPR_KOP_EQ : IPR_KOP_NEQ;
	int32_t last = K_ERR;

	memset(ks, 0, sizeof(*ks));
	ks->cand = ks->inner = K_ERR;
	if (k < 0)
		return false;
	if (b->x[k].type == KX_TEST) {
		ks->tag = 1;
		ks->t[ks->n++] = k;
	} else if (parent == KX_OR && b->x[k].type == KX_AND) {
		ks->tag = 2;
		if (!all_tests(b, k, ks, K_ERR))
			return false;
	} else if (parent == KX_AND && b->x[k].type == KX_OR) {
		for (int32_t c = b->x[k].child; c != K_ERR; c = b->x[c].next)
			last = c;
		if (last == K_ERR || b->x[last].type != KX_AND)
			return false;
		ks->tag = 3;
		ks->inner = last;
		if (!all_tests(b, k, ks, last))
			return false;
		ks->nouter = (uint8_t)ks->n;
		if (!all_tests(b, last, ks, K_ERR))
			return false;
	} else {
		return false;
	}
	if (!ks->n)
		return false;
	ks->cand = ks->t[ks->n - 1];
	if (b->x[ks->cand].t.op == want) {
		const struct ipr_ktest *t = &b->x[ks->cand].t;

		for (uint32_t i = 0; i + 1 < ks->n; i++)
			ks->rest[ks->nrest++] = ks->t[i];
		memcpy(ks->lo, t->value, t->len);
		memcpy(ks->hi, t->value, t->len);
		return true;
	}
	return parent == KX_OR && kid_range(b, ks);
}

static uint64_t kid_hash(const struct kb *b, const struct kidshape *ks)
{
	uint64_t h = 0xcbf29ce484222325ull;

	h = h_bytes(h, &ks->tag, 1);
	h = h_bytes(h, &ks->nouter, 1);
	for (uint32_t i = 0; i < ks->nrest; i++) {
		const struct ipr_ktest *u = &b->x[ks->rest[i]].t;

		h = h_load(h, u);
		h = h_bytes(h, &u->op, 1);
		h = h_bytes(h, u->value, u->len);
	}
	return h_load(h, &b->x[ks->cand].t);
}

static bool kid_same(const struct kb *b, const struct kidshape *x,
		     const struct kidshape *y)
{
	if (x->tag != y->tag || x->nouter != y->nouter ||
	    x->nrest != y->nrest ||
	    !same_load(&b->x[x->cand].t, &b->x[y->cand].t))
		return false;
	for (uint32_t i = 0; i < x->nrest; i++)
		if (!same_test(&b->x[x->rest[i]].t, &b->x[y->rest[i]].t))
			return false;
	return true;
}

/* @e (an AND) with its child @old replaced by @nw. */
static int32_t and_with(struct kb *b, int32_t e, int32_t old, int32_t nw)
{
	struct junct a;
	int32_t x = b->x[e].child;

	j_init(&a, b->x[e].type);
	while (x != K_ERR) {
		int32_t nx = b->x[x].next;

		j_add(b, &a, x == old ? nw : x);
		x = nx;
	}
	return j_end(b, &a);
}

struct cand {
	uint64_t h;
	uint32_t k;      /* index into kids; bit 31: in the group being made */
	bool taken;
};

static int cmp_cand(const void *x, const void *y)
{
	const struct cand *a = x, *c = y;

	if (a->h != c->h)
		return a->h < c->h ? -1 : 1;
	return a->k < c->k ? -1 : a->k > c->k;
}

/* The group that kid cd[@l] leads among the kids of one hash,
 * cd[@l..@end): a set when there are enough of them. */
static void setify_group(struct kb *b, uint8_t type, int32_t *kids,
			 const struct kidshape *ks, struct cand *cd, uint32_t l,
			 uint32_t end, struct vpair *grp)
{
	uint32_t ng = 0, lk = cd[l].k;
	const struct kidshape *lead = &ks[lk];
	uint8_t len = b->x[lead->cand].t.len;
	bool ranges = false;
	int32_t st, nw;

	if (cd[l].taken)
		return;
	for (uint32_t m = l; m < end; m++) {
		const struct kidshape *o = &ks[cd[m].k];

		if (cd[m].taken || !kid_same(b, lead, o))
			continue;
		memcpy(grp[ng].lo, o->lo, len);
		memcpy(grp[ng].hi, o->hi, len);
		ranges = ranges || o->range;
		ng++;
		cd[m].taken = true;
		cd[m].k |= 0x80000000u;
	}
	if (ng >= IPR_KSET_MIN)
		st = set_test_of(b, lead->cand, type == KX_AND ?
				 IPR_KOP_NOTIN : IPR_KOP_IN,
				 ranges, grp, ng);
	else
		st = K_ERR;
	for (uint32_t m = l; m < end; m++) {
		if (!(cd[m].k & 0x80000000u))
			continue;
		cd[m].k &= 0x7fffffffu;
		if (st >= 0 && cd[m].k != lk)
			kids[cd[m].k] = K_TRUE; /* merged */
	}
	if (st < 0)
		return; /* too few (or no memory): as they were */
	if (lead->tag == 1) {
		nw = st;
	} else if (lead->tag == 2) {
		/* the same guards, then the set */
		struct junct a;

		j_init(&a, KX_AND);
		for (uint32_t r = 0; r < lead->nrest; r++)
			j_add(b, &a, lead->rest[r]);
		j_add(b, &a, st);
		nw = j_end(b, &a);
	} else {
		nw = and_with(b, kids[lk], lead->inner,
			      and_with(b, lead->inner, lead->cand, st));
	}
	kids[lk] = nw;
}

/*
 * Equality tests of one load under an "or" ("ip.DstAddr == a or
 * ip.DstAddr == b or ...", each behind the same guards) become one lookup
 * in a set of the values, and inequality tests of one load under an "and"
 * ("tcp.SrcPort != 1 and tcp.SrcPort != 2 ...", or "not (tcp.SrcPort == 1
 * or ...)") one negated lookup: the same answer, also where the load
 * fails (a lookup needs the load too), at the cost of one test whatever
 * the number of values.  Kids are grouped by a hash of what must agree,
 * so 10,000 of them take about as long as sorting them.
 */
static int32_t setify(struct kb *b, int32_t e)
{
	struct junct j;
	struct cand *cd = NULL;
	struct kidshape *ks = NULL;
	struct vpair *grp = NULL;
	int32_t *kids = NULL, c;
	uint32_t n = 0, nc = 0, k;
	uint8_t type;

	if (e < 0 || b->err || b->x[e].type == KX_TEST)
		return e;
	type = b->x[e].type;
	for (c = b->x[e].child; c != K_ERR; c = b->x[c].next)
		n++;
	kids = malloc((n ? n : 1) * sizeof(*kids));
	cd = malloc((n ? n : 1) * sizeof(*cd));
	grp = malloc((n ? n : 1) * sizeof(*grp));
	ks = malloc((n ? n : 1) * sizeof(*ks));
	if (!kids || !cd || !grp || !ks) {
		kb_fail(b, -ENOMEM);
		goto out;
	}
	for (k = 0, c = b->x[e].child; c != K_ERR; c = b->x[c].next)
		kids[k++] = c;
	for (k = 0; k < n && !b->err; k++)
		kids[k] = setify(b, kids[k]);
	for (k = 0; k < n && !b->err; k++)
		if (kid_shape(b, kids[k], type, &ks[k]))
			cd[nc++] = (struct cand){ kid_hash(b, &ks[k]), k, false };
	qsort(cd, nc, sizeof(*cd), cmp_cand);
	for (uint32_t s = 0; s < nc && !b->err;) {
		uint32_t end = s;

		while (end < nc && cd[end].h == cd[s].h)
			end++;
		/* within a run of one hash: the first left leads a group */
		for (uint32_t l = s; l < end && !b->err; l++)
			setify_group(b, type, kids, ks, cd, l, end, grp);
		s = end;
	}
	/* merged kids: neutral in an AND; an OR must skip them */
	j_init(&j, type);
	for (k = 0; k < n && !j.done; k++) {
		if (kids[k] == K_TRUE && type == KX_OR)
			continue;
		j_add(b, &j, kids[k]);
	}
	e = b->err ? K_ERR : j_end(b, &j);
out:
	free(kids);
	free(cd);
	free(grp);
	free(ks);
	return e;
}

/* Append a rule made of the tests on the stack from @base, dropping
 * repeats; a rule that can never hold ("tcp and udp") is not emitted. */
static void emit(struct kb *b, uint32_t chain, uint32_t base, int32_t jump)
{
	uint32_t first = b->ntests;

	for (uint32_t s = base; s < b->top; s++) {
		const struct ipr_ktest *t = &b->x[b->stack[s]].t;
		bool dup = false;

		for (uint32_t k = first; k < b->ntests; k++) {
			const struct ipr_ktest *u = &b->tests[k];
			bool eqv;

			if (!same_load(t, u))
				continue;
			eqv = same_value(t, u);
			if (t->op == u->op && eqv) {
				dup = true;
				break;
			}
			if ((t->op == IPR_KOP_EQ && u->op == IPR_KOP_EQ && !eqv) ||
			    (eqv && t->op == kop_not(u->op) &&
			     (t->op == IPR_KOP_EQ || t->op == IPR_KOP_NEQ))) {
				b->ntests = first;
				return;
			}
		}
		if (dup)
			continue;
		if (b->ntests >= IPR_KPROG_MAX_TESTS) {
			kb_fail(b, -E2BIG);
			return;
		}
		if (!grow((void **)&b->tests, &b->tcap, b->ntests + 1,
			  sizeof(*b->tests))) {
			kb_fail(b, -ENOMEM);
			return;
		}
		b->tests[b->ntests++] = *t;
	}
	/* "x != a" says nothing more next to "x == b" */
	uint32_t kept = first;
	for (uint32_t k = first; k < b->ntests; k++) {
		bool implied = false;

		for (uint32_t q = first; q < b->ntests; q++)
			if (b->tests[k].op == IPR_KOP_NEQ &&
			    b->tests[q].op == IPR_KOP_EQ &&
			    same_load(&b->tests[k], &b->tests[q]))
				implied = true;
		if (!implied)
			b->tests[kept++] = b->tests[k];
	}
	b->ntests = kept;
	if (b->nrules >= IPR_KPROG_MAX_TESTS + IPR_KPROG_MAX_CHAINS) {
		kb_fail(b, -E2BIG);
		return;
	}
	if (!grow((void **)&b->rules, &b->rcap, b->nrules + 1,
		  sizeof(*b->rules))) {
		kb_fail(b, -ENOMEM);
		return;
	}
	b->rules[b->nrules++] = (struct rrec){ chain, first,
					       b->ntests - first, jump };
}

static bool push(struct kb *b, int32_t t)
{
	if (!grow((void **)&b->stack, &b->scap, b->top + 1, sizeof(*b->stack))) {
		kb_fail(b, -ENOMEM);
		return false;
	}
	b->stack[b->top++] = t;
	return true;
}

static int32_t new_chain(struct kb *b)
{
	if (b->nchains >= IPR_KPROG_MAX_CHAINS)
		return kb_fail(b, -E2BIG);
	return (int32_t)b->nchains++;
}

/*
 * Append to @chain the rules that take @jump when @e holds, each rule
 * starting with the tests on the stack from @base.  A conjunction of tests
 * is one rule; "a or b" is the rules of a, then those of b; "a and b"
 * where a is itself an "or" takes a's rules to a new chain that holds b.
 */
static void compile(struct kb *b, int32_t e, uint32_t chain, int32_t jump,
		    uint32_t base)
{
	uint32_t saved = b->top, plen = b->top - base, n = 0;
	int32_t c, last = K_ERR, cur;

	if (b->err || e == K_FALSE)
		return;
	if (e == K_TRUE) {
		emit(b, chain, base, jump);
		return;
	}
	switch (b->x[e].type) {
	case KX_TEST:
		if (push(b, e))
			emit(b, chain, base, jump);
		break;
	case KX_AND:
		/* After folding, the children are tests and "or"s. */
		for (c = b->x[e].child; c != K_ERR; c = b->x[c].next) {
			if (b->x[c].type == KX_TEST) {
				if (!push(b, c))
					return;
			} else {
				last = c;
			}
		}
		if (last == K_ERR) {
			emit(b, chain, base, jump);
			break;
		}
		cur = (int32_t)chain;
		for (c = b->x[e].child; c != last && !b->err; c = b->x[c].next) {
			int32_t next;

			if (b->x[c].type == KX_TEST)
				continue;
			next = new_chain(b);
			if (next < 0)
				break;
			compile(b, c, (uint32_t)cur, next, base);
			/* the tests so far gate the first chain only */
			base = b->top;
			cur = next;
		}
		compile(b, last, (uint32_t)cur, jump, base);
		break;
	case KX_OR:
		for (c = b->x[e].child; c != K_ERR; c = b->x[c].next)
			n++;
		if (plen && (n - 1) * plen > DISTRIBUTE_MAX) {
			int32_t next = new_chain(b);

			if (next < 0)
				break;
			emit(b, chain, base, next);
			chain = (uint32_t)next;
			base = b->top;
		}
		for (c = b->x[e].child; c != K_ERR && !b->err; c = b->x[c].next)
			compile(b, c, chain, jump, base);
		break;
	}
	b->top = saved;
}

/*
 * Cut every rule whose tests would pass the kernel's per-rule limits
 * (IPR_RULE_MAX_*): its first tests jump to a new chain that holds the
 * next ones, and so on; the last piece takes the rule's own jump or
 * action.  A piece that fails falls off the end of its chain, which
 * returns to the rule after the original one: the same as the whole rule
 * failing.
 */
unsigned ipri_ktest_cost(const struct ipr_ktest *t, unsigned *bytes)
{
	/* what rules_nft.c's ex_test emits: a load, a mask, a byte-order
	 * turn for orderings of host-order meta values, then cmp or lookup;
	 * bytes: upper bounds of the kernel's expression sizes */
	bool host32 = false;
	unsigned n = 2, by;

	switch (t->kind) {
	case IPR_KT_IIF: case IPR_KT_OIF: case IPR_KT_MARK: case IPR_KT_LEN:
	case IPR_KT_SKUID: case IPR_KT_SKGID: case IPR_KT_CTSTATE:
		host32 = true;
		break;
	default:
		break;
	}
	by = 32;
	if (t->flags & IPR_KTF_MASK) {
		n++;
		by += 80;
	}
	/* (a set may be an interval set: counted as if it were) */
	if (host32 && t->op != IPR_KOP_EQ && t->op != IPR_KOP_NEQ) {
		n++;
		by += 24;
	}
	by += t->op == IPR_KOP_IN || t->op == IPR_KOP_NOTIN ? 80 : 48;
	if (bytes)
		*bytes = by;
	return n;
}

static void split_rules(struct kb *b)
{
	uint32_t n = b->nrules;

	for (uint32_t r = 0; r < n && !b->err; r++) {
		struct rrec orig = b->rules[r];
		uint32_t done = 0, chain = orig.chain;
		bool head = true;

		for (;;) {
			uint32_t k = 0, ex = 0, by = 0;
			int32_t to;

			while (done + k < orig.ntests) {
				unsigned tb, te = ipri_ktest_cost(
					&b->tests[orig.first + done + k], &tb);

				if (k && (ex + te > IPR_RULE_MAX_EXPRS ||
					  by + tb > IPR_RULE_MAX_BYTES))
					break;
				ex += te;
				by += tb;
				k++;
			}
			if (done + k == orig.ntests) {
				to = orig.jump;
			} else {
				to = new_chain(b);
				if (to < 0)
					return;
			}
			struct rrec piece = { chain, orig.first + done, k, to };
			if (head) {
				b->rules[r] = piece;
			} else {
				if (!grow((void **)&b->rules, &b->rcap,
					  b->nrules + 1, sizeof(*b->rules))) {
					kb_fail(b, -ENOMEM);
					return;
				}
				b->rules[b->nrules++] = piece;
			}
			head = false;
			done += k;
			if (done == orig.ntests)
				break;
			chain = (uint32_t)to;
		}
	}
}

/* Post-order walk of the jumps from chain @k: every chain gets its place
 * after all the chains it jumps to.  The compiler only makes acyclic jump
 * graphs; @state 1 (on the path) catches a mistake rather than loop. */
static int order_chains(const struct kb *b, uint32_t k, uint8_t *state,
			uint32_t *post, uint32_t *npost)
{
	state[k] = 1;
	for (uint32_t r = 0; r < b->nrules; r++) {
		const struct rrec *rr = &b->rules[r];

		if (rr->chain != k || rr->jump < 0)
			continue;
		if (state[rr->jump] == 1)
			return -ELOOP;
		if (!state[rr->jump] &&
		    order_chains(b, (uint32_t)rr->jump, state, post, npost))
			return -ELOOP;
	}
	state[k] = 2;
	post[(*npost)++] = k;
	return 0;
}

static int copy_sets(const struct kb *b, struct ipr_kprog *prog)
{
	if (!b->nsets)
		return 0;
	prog->sets = malloc(b->nsets * sizeof(*prog->sets));
	prog->setvals = malloc(b->nsetvals ? b->nsetvals : 1);
	if (!prog->sets || !prog->setvals)
		return -ENOMEM;
	memcpy(prog->sets, b->sets, b->nsets * sizeof(*prog->sets));
	memcpy(prog->setvals, b->setvals, b->nsetvals);
	prog->nsets = b->nsets;
	prog->nsetvals = b->nsetvals;
	return 0;
}

/* How deep the chains nest; the kernel refuses a table whose chains nest
 * 16 deep (EMLINK), counted from the base chain, and the encoder adds
 * levels of its own.  Jumps only go forwards, so one pass finds it. */
static int check_depth(struct ipr_kprog *prog)
{
	uint32_t *level = calloc(prog->nchains, sizeof(*level));

	if (!level)
		return -ENOMEM;
	prog->depth = 0;
	for (uint32_t c = 0; c < prog->nchains; c++) {
		const struct ipr_kchain *ch = &prog->chains[c];

		for (uint32_t r = 0; r < ch->nrules; r++) {
			const struct ipr_krule *ru = &prog->rules[ch->first_rule + r];

			if (ru->jump < 0)
				continue;
			if (level[ru->jump] < level[c] + 1)
				level[ru->jump] = level[c] + 1;
			if (level[ru->jump] > prog->depth)
				prog->depth = level[ru->jump];
			if (prog->depth > IPR_KPROG_MAX_DEPTH) {
				uint32_t pos = ru->ntests ?
					prog->tests[ru->first_test].pos : 0;

				ipri_detail_set((int)pos, "the filter needs "
					"kernel chains nested more than %d "
					"deep (from the term at position %u); "
					"fewer terms in one conjunction, or "
					"equality tests of one field joined "
					"by \"or\", fit", IPR_KPROG_MAX_DEPTH,
					pos);
				free(level);
				return -E2BIG;
			}
		}
	}
	free(level);
	return 0;
}

/*
 * A jump to a chain left empty (all its rules could never hold) is a no-op
 * and goes away, which may empty more chains; chains nothing reaches go
 * away too.  The rest are numbered so that jumps only go forwards, which
 * makes it plain that the kernel can never loop.
 */
static int layout(struct kb *b, struct ipr_kprog *prog)
{
	uint32_t nc = b->nchains, k, r, t, npost = 0;
	uint32_t *count = calloc(nc, sizeof(*count));
	int32_t *renum = calloc(nc, sizeof(*renum));
	uint32_t *post = calloc(nc, sizeof(*post));
	uint8_t *state = calloc(nc, sizeof(*state));
	bool changed = true;
	int err = -ENOMEM;

	if (!count || !renum || !post || !state)
		goto out;
	for (r = 0; r < b->nrules; r++)
		count[b->rules[r].chain]++;
	while (changed) {
		changed = false;
		for (r = 0; r < b->nrules; r++) {
			struct rrec *rr = &b->rules[r];

			if (rr->chain != UINT32_MAX && rr->jump >= 0 &&
			    !count[rr->jump]) {
				count[rr->chain]--;
				rr->chain = UINT32_MAX; /* dropped */
				changed = true;
			}
		}
	}
	memset(prog, 0, sizeof(*prog));
	err = 0;
	if (!count[0])
		goto out; /* nothing can match on this hook */
	err = order_chains(b, 0, state, post, &npost);
	if (err)
		goto out;
	for (k = 0; k < nc; k++)
		renum[k] = -1;
	for (k = 0; k < npost; k++)
		renum[post[npost - 1 - k]] = (int32_t)k;
	prog->nchains = npost;
	prog->chains = calloc(prog->nchains ? prog->nchains : 1,
			      sizeof(*prog->chains));
	prog->rules = calloc(b->nrules ? b->nrules : 1, sizeof(*prog->rules));
	prog->tests = calloc(b->ntests ? b->ntests : 1, sizeof(*prog->tests));
	if (!prog->chains || !prog->rules || !prog->tests) {
		ipri_kprog_free(prog);
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t o = 0; o < npost; o++) {
		struct ipr_kchain *ch = &prog->chains[o];

		k = post[npost - 1 - o];
		ch->first_rule = prog->nrules;
		for (r = 0; r < b->nrules; r++) {
			const struct rrec *rr = &b->rules[r];
			struct ipr_krule *out;

			if (rr->chain != k)
				continue;
			out = &prog->rules[prog->nrules++];
			out->first_test = prog->ntests;
			out->ntests = rr->ntests;
			out->jump = rr->jump >= 0 ? renum[rr->jump]
						  : IPR_KRULE_ACTION;
			for (t = 0; t < rr->ntests; t++)
				prog->tests[prog->ntests++] =
					b->tests[rr->first + t];
			ch->nrules++;
		}
	}
	err = copy_sets(b, prog);
	if (!err)
		err = check_depth(prog);
	if (err)
		ipri_kprog_free(prog);
out:
	free(count);
	free(renum);
	free(post);
	free(state);
	return err;
}

int ipri_kprog_build(const ipr_filter *f, enum ipr_hook hook,
		    struct ipr_kprog *prog)
{
	struct kb b;
	int32_t root;
	int err;

	if (!prog)
		return -EINVAL;
	memset(prog, 0, sizeof(*prog));
	if (!f || (unsigned)hook >= IPR_HOOK_COUNT)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	b.f = f;
	b.hook = hook;
	root = nnf(&b, f->root, false);
	/* sets first: a long list is one test before simplify() compares
	 * every test of a conjunction with the others; and again after, for
	 * the lists that simplifying made alike */
	root = setify(&b, root);
	root = simplify(&b, root);
	root = setify(&b, root);
	if (!b.err && root != K_FALSE) {
		b.nchains = 1;
		compile(&b, root, 0, IPR_KRULE_ACTION, 0);
		split_rules(&b);
	}
	err = b.err;
	if (!err && b.nchains)
		err = layout(&b, prog);
	free(b.x);
	free(b.ctx);
	free(b.stack);
	free(b.tests);
	free(b.rules);
	free(b.sets);
	free(b.setvals);
	if (err)
		errno = -err;
	return err;
}

void ipri_kprog_free(struct ipr_kprog *prog)
{
	if (!prog)
		return;
	free(prog->tests);
	free(prog->rules);
	free(prog->chains);
	free(prog->sets);
	free(prog->setvals);
	memset(prog, 0, sizeof(*prog));
}
