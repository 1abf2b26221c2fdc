/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_explain.c - what a compiled filter becomes: per hook the kernel
 * chains and rules in an nft-like text, and the part user space checks
 * (`ipredir filter explain`). */
#include <errno.h>
#include <linux/if_arp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_ast.h"
#include "internal.h"

struct xw {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void wf(struct xw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->len < w->size ? w->buf + w->len : NULL,
		      w->len < w->size ? w->size - w->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		w->len += (size_t)n;
}

static const char *const kop_text[] = {
	[IPR_KOP_EQ] = "", [IPR_KOP_NEQ] = "!= ", [IPR_KOP_LT] = "< ",
	[IPR_KOP_LTE] = "<= ", [IPR_KOP_GT] = "> ", [IPR_KOP_GTE] = ">= ",
};

/* Names of the payload fields nft itself has a name for. */
static const struct pname {
	uint8_t kind, nfproto, l4proto;
	uint16_t offset;
	uint8_t len;
	bool addr;
	const char *name;
} pnames[] = {
	{ IPR_KT_NET, 2, 0, 0, 1, false, "ip hdrlength" },
	{ IPR_KT_NET, 2, 0, 1, 1, false, "ip tos" },
	{ IPR_KT_NET, 2, 0, 2, 2, false, "ip length" },
	{ IPR_KT_NET, 2, 0, 4, 2, false, "ip id" },
	{ IPR_KT_NET, 2, 0, 6, 2, false, "ip frag-off" },
	{ IPR_KT_NET, 2, 0, 6, 1, false, "ip flags" },
	{ IPR_KT_NET, 2, 0, 8, 1, false, "ip ttl" },
	{ IPR_KT_NET, 2, 0, 9, 1, false, "ip protocol" },
	{ IPR_KT_NET, 2, 0, 10, 2, false, "ip checksum" },
	{ IPR_KT_NET, 2, 0, 12, 4, true, "ip saddr" },
	{ IPR_KT_NET, 2, 0, 16, 4, true, "ip daddr" },
	{ IPR_KT_NET, 10, 0, 0, 2, false, "ip6 tclass" },
	{ IPR_KT_NET, 10, 0, 0, 4, false, "ip6 flowlabel" },
	{ IPR_KT_NET, 10, 0, 4, 2, false, "ip6 length" },
	{ IPR_KT_NET, 10, 0, 6, 1, false, "ip6 nexthdr" },
	{ IPR_KT_NET, 10, 0, 7, 1, false, "ip6 hoplimit" },
	{ IPR_KT_NET, 10, 0, 8, 16, true, "ip6 saddr" },
	{ IPR_KT_NET, 10, 0, 24, 16, true, "ip6 daddr" },
	{ IPR_KT_TRANSPORT, 0, 6, 0, 2, false, "tcp sport" },
	{ IPR_KT_TRANSPORT, 0, 6, 2, 2, false, "tcp dport" },
	{ IPR_KT_TRANSPORT, 0, 6, 4, 4, false, "tcp sequence" },
	{ IPR_KT_TRANSPORT, 0, 6, 8, 4, false, "tcp ackseq" },
	{ IPR_KT_TRANSPORT, 0, 6, 12, 1, false, "tcp doff" },
	{ IPR_KT_TRANSPORT, 0, 6, 13, 1, false, "tcp flags" },
	{ IPR_KT_TRANSPORT, 0, 6, 14, 2, false, "tcp window" },
	{ IPR_KT_TRANSPORT, 0, 6, 16, 2, false, "tcp checksum" },
	{ IPR_KT_TRANSPORT, 0, 6, 18, 2, false, "tcp urgptr" },
	{ IPR_KT_TRANSPORT, 0, 17, 0, 2, false, "udp sport" },
	{ IPR_KT_TRANSPORT, 0, 17, 2, 2, false, "udp dport" },
	{ IPR_KT_TRANSPORT, 0, 17, 4, 2, false, "udp length" },
	{ IPR_KT_TRANSPORT, 0, 17, 6, 2, false, "udp checksum" },
	{ IPR_KT_TRANSPORT, 0, 1, 0, 1, false, "icmp type" },
	{ IPR_KT_TRANSPORT, 0, 1, 1, 1, false, "icmp code" },
	{ IPR_KT_TRANSPORT, 0, 1, 2, 2, false, "icmp checksum" },
	{ IPR_KT_TRANSPORT, 0, 1, 4, 4, false, "icmp body" },
	{ IPR_KT_TRANSPORT, 0, 58, 0, 1, false, "icmpv6 type" },
	{ IPR_KT_TRANSPORT, 0, 58, 1, 1, false, "icmpv6 code" },
	{ IPR_KT_TRANSPORT, 0, 58, 2, 2, false, "icmpv6 checksum" },
	{ IPR_KT_TRANSPORT, 0, 58, 4, 4, false, "icmpv6 body" },
};

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	default: return NULL;
	}
}

static uint64_t be_num(const uint8_t *v, unsigned n)
{
	uint64_t x = 0;

	for (unsigned i = 0; i < n && i < 8; i++)
		x = x << 8 | v[i];
	return x;
}

static void put_hex(struct xw *w, const uint8_t *v, unsigned n)
{
	wf(w, "0x");
	for (unsigned i = 0; i < n; i++)
		wf(w, "%02x", v[i]);
}

/* The bytes a masked test really looks at: a transport field is loaded
 * as a wider window (ipr_l4_window), shown here as the field itself. */
static struct ipr_ktest narrowed(const struct ipr_ktest *t)
{
	struct ipr_ktest n = *t;
	unsigned first = 0, last;
	bool full = true;

	if (!(t->flags & IPR_KTF_MASK))
		return n;
	while (first < t->len && !t->mask[first])
		first++;
	if (first == t->len)
		return n;
	for (last = t->len - 1; !t->mask[last]; last--)
		;
	n.offset = (uint16_t)(t->offset + first);
	n.len = (uint8_t)(last - first + 1);
	memmove(n.value, t->value + first, n.len);
	memmove(n.mask, t->mask + first, n.len);
	for (unsigned i = 0; i < n.len; i++)
		full = full && n.mask[i] == 0xff;
	if (full)
		n.flags &= (uint8_t)~IPR_KTF_MASK;
	return n;
}

static void put_payload(struct xw *w, const struct ipr_ktest *tt,
			uint8_t nfproto, uint8_t l4proto)
{
	const struct pname *pn = NULL;
	struct ipr_ktest nt = narrowed(tt);
	const struct ipr_ktest *t = &nt;
	char a[IPR_ADDRSTRLEN];
	uint32_t a4;

	for (size_t i = 0; i < sizeof(pnames) / sizeof(pnames[0]); i++) {
		const struct pname *q = &pnames[i];

		if (q->kind == t->kind && q->offset == t->offset &&
		    q->len == t->len &&
		    ((q->nfproto && q->nfproto == nfproto) ||
		     (q->l4proto && q->l4proto == l4proto))) {
			pn = q;
			break;
		}
	}
	if (pn)
		wf(w, "%s ", pn->name);
	else
		wf(w, "@%s,%u,%u ", t->kind == IPR_KT_NET ? "nh"
			: t->kind == IPR_KT_TRANSPORT ? "th" : "ih",
		   8u * t->offset, 8u * t->len);
	if (t->flags & IPR_KTF_MASK) {
		wf(w, "& ");
		put_hex(w, t->mask, t->len);
		wf(w, " ");
	}
	/* "x & m v" would read as two values */
	wf(w, "%s", t->op == IPR_KOP_EQ && (t->flags & IPR_KTF_MASK) ? "== "
		: kop_text[t->op]);
	if (pn && pn->addr && t->len == 4) {
		memcpy(&a4, t->value, 4);
		if (ipr_ipv4_format(a4, a, sizeof(a)) > 0)
			wf(w, "%s", a);
	} else if (pn && pn->addr) {
		if (ipr_ipv6_format(t->value, a, sizeof(a)) > 0)
			wf(w, "%s", a);
	} else if (t->flags & IPR_KTF_MASK || t->len > 8) {
		put_hex(w, t->value, t->len);
	} else {
		wf(w, "%" PRIu64, be_num(t->value, t->len));
	}
}

static void put_set_test(struct xw *w, const struct ipr_ktest *t,
			 uint8_t nfproto, uint8_t l4proto,
			 const struct ipr_kprog *p);

static void put_ktest(struct xw *w, const struct ipr_ktest *t,
		      uint8_t nfproto, uint8_t l4proto,
		      const struct ipr_kprog *p)
{
	const char *s, *op = t->op < 6 ? kop_text[t->op] : "? ";

	if (t->op == IPR_KOP_IN || t->op == IPR_KOP_NOTIN) {
		put_set_test(w, t, nfproto, l4proto, p);
		return;
	}
	uint64_t v = be_num(t->value, t->len);

	switch (t->kind) {
	case IPR_KT_NFPROTO:
		wf(w, "meta nfproto %s%s", op,
		   v == 2 ? "ipv4" : v == 10 ? "ipv6" : "?");
		return;
	case IPR_KT_L4PROTO:
		s = proto_name((uint8_t)v);
		if (s)
			wf(w, "meta l4proto %s%s", op, s);
		else
			wf(w, "meta l4proto %s%" PRIu64, op, v);
		return;
	case IPR_KT_IIF:
	case IPR_KT_OIF:
		wf(w, "meta %s %s%" PRIu64, t->kind == IPR_KT_IIF ? "iif" : "oif",
		   op, v);
		return;
	case IPR_KT_IIFNAME:
	case IPR_KT_OIFNAME:
		wf(w, "meta %s %s\"%.*s%s\"",
		   t->kind == IPR_KT_IIFNAME ? "iifname" : "oifname", op,
		   (int)strnlen((const char *)t->value, t->len),
		   (const char *)t->value, t->len < 16 ? "*" : "");
		return;
	case IPR_KT_OIFTYPE:
		wf(w, "meta oiftype %s%s", op,
		   v == ARPHRD_LOOPBACK ? "loopback" : "?");
		if (v != ARPHRD_LOOPBACK)
			wf(w, "%" PRIu64, v);
		return;
	case IPR_KT_MARK:
	case IPR_KT_LEN:
	case IPR_KT_SKUID:
	case IPR_KT_SKGID:
		s = t->kind == IPR_KT_MARK ? "mark" : t->kind == IPR_KT_LEN
		    ? "length" : t->kind == IPR_KT_SKUID ? "skuid" : "skgid";
		wf(w, "meta %s ", s);
		if (t->flags & IPR_KTF_MASK) {
			wf(w, "& ");
			put_hex(w, t->mask, 4);
			wf(w, " ");
			if (t->op == IPR_KOP_EQ)
				op = "== ";
		}
		wf(w, "%s%" PRIu64, op, v);
		return;
	case IPR_KT_CTSTATE:
		s = v == 1 ? "invalid" : v == 2 ? "established" : v == 4 ?
		    "related" : v == 8 ? "new" : v == 64 ? "untracked" : "?";
		wf(w, "ct state %s%s", t->op == IPR_KOP_NEQ ? "!= " : "", s);
		return;
	case IPR_KT_FRAG6:
		wf(w, "exthdr frag %s",
		   (t->op == IPR_KOP_EQ) == (v != 0) ? "exists" : "missing");
		return;
	case IPR_KT_FRAGOFF6:
		wf(w, "frag frag-off %s%" PRIu64, op, v >> 3);
		return;
	case IPR_KT_NET:
	case IPR_KT_TRANSPORT:
	case IPR_KT_INNER:
		put_payload(w, t, nfproto, l4proto);
		return;
	}
	wf(w, "?");
}

/* The readable nft-like text of one kernel test ("tcp dport 80"), with
 * @nfproto / @l4proto the guards known to hold before it (0 = unknown),
 * which name the payload fields.  snprintf-style. */
static int ipri_ktest_format(const struct ipr_ktest *t, uint8_t nfproto,
			     uint8_t l4proto, char *buf, size_t size)
{
	struct xw w = { buf, size, 0 };

	if (!t || (!buf && size))
		return -EINVAL;
	if (size)
		buf[0] = '\0';
	put_ktest(&w, t, nfproto, l4proto, NULL);
	return w.len > INT_MAX ? -EOVERFLOW : (int)w.len;
}

/* Values of a set shown, the rest counted. */
#define SET_SHOWN 6

/* "tcp dport { 22, 80, 443 }", "ip daddr != { ... }": each value as its
 * own test would print it, after the part every value's text shares. */
static void put_set_test(struct xw *w, const struct ipr_ktest *t,
			 uint8_t nfproto, uint8_t l4proto,
			 const struct ipr_kprog *p)
{
	const struct ipr_kset *st = p && t->set < p->nsets ? &p->sets[t->set]
							  : NULL;
	struct ipr_ktest e = *t;
	char a[192], c[192];
	size_t pre = 0, lhs;
	unsigned per = st && st->interval ? 2u * t->len : t->len;

	if (!st || !st->n || st->len != t->len) {
		wf(w, "%s set %u", t->op == IPR_KOP_IN ? "in" : "not in",
		   t->set);
		return;
	}
	e.op = IPR_KOP_EQ;
	memcpy(e.value, p->setvals + st->first, st->len);
	ipri_ktest_format(&e, nfproto, l4proto, a, sizeof(a));
	if (st->n > 1 || st->interval) {
		memcpy(e.value, p->setvals + st->first +
		       (st->n > 1 ? per : st->len), st->len);
		ipri_ktest_format(&e, nfproto, l4proto, c, sizeof(c));
		while (a[pre] && a[pre] == c[pre])
			pre++;
	} else {
		pre = strlen(a);
	}
	while (pre && a[pre - 1] != ' ')
		pre--;
	lhs = pre;
	if (lhs >= 3 && !strncmp(a + lhs - 3, "== ", 3))
		lhs -= 3;
	wf(w, "%.*s%s{ ", (int)lhs, a, t->op == IPR_KOP_NOTIN ? "!= " : "");
	for (uint32_t i = 0; i < st->n && i < SET_SHOWN; i++) {
		const uint8_t *v = p->setvals + st->first + i * per;

		memcpy(e.value, v, st->len);
		ipri_ktest_format(&e, nfproto, l4proto, c, sizeof(c));
		wf(w, "%s%s", i ? ", " : "", strlen(c) > pre ? c + pre : c);
		if (st->interval && memcmp(v, v + st->len, st->len)) {
			memcpy(e.value, v + st->len, st->len);
			ipri_ktest_format(&e, nfproto, l4proto, c, sizeof(c));
			wf(w, "-%s", strlen(c) > pre ? c + pre : c);
		}
	}
	if (st->n > SET_SHOWN)
		wf(w, ", ... %u %s in all", st->n,
		   st->interval ? "ranges" : "values");
	wf(w, " }");
}

static const char *const hook_names[IPR_HOOK_COUNT] = { "in", "out", "fwd" };
static const char *const hook_desc[IPR_HOOK_COUNT] = {
	"inbound, nft hook input", "outbound, nft hook output",
	"forwarded, nft hook forward",
};

static void chain_name(struct xw *w, unsigned hook, uint32_t c)
{
	if (c)
		wf(w, "%s_%u", hook_names[hook], c);
	else
		wf(w, "%s", hook_names[hook]);
}

/* The ip version and transport protocol a rule's tests have fixed, from
 * what its chain was entered with. */
static void rule_guards(const struct ipr_kprog *p, const struct ipr_krule *ru,
			uint8_t *nf, uint8_t *l4)
{
	for (uint32_t k = 0; k < ru->ntests; k++) {
		const struct ipr_ktest *t = &p->tests[ru->first_test + k];

		if (t->op == IPR_KOP_EQ && t->kind == IPR_KT_NFPROTO)
			*nf = t->value[0];
		if (t->op == IPR_KOP_EQ && t->kind == IPR_KT_L4PROTO)
			*l4 = t->value[0];
	}
}

static void put_prog(struct xw *w, unsigned hook, const struct ipr_kprog *p)
{
	/* what every jump into a chain agrees on (jumps only go forward) */
	uint8_t *cnf = calloc(p->nchains, 1), *cl4 = calloc(p->nchains, 1);
	bool *seen = calloc(p->nchains, sizeof(bool));

	if (!cnf || !cl4 || !seen) {
		free(cnf);
		free(cl4);
		free(seen);
		return;
	}
	for (uint32_t c = 0; c < p->nchains; c++) {
		const struct ipr_kchain *ch = &p->chains[c];

		for (uint32_t r = 0; r < ch->nrules; r++) {
			const struct ipr_krule *ru = &p->rules[ch->first_rule + r];
			uint8_t nf = cnf[c], l4 = cl4[c];

			if (ru->jump < 0 || (uint32_t)ru->jump >= p->nchains)
				continue;
			rule_guards(p, ru, &nf, &l4);
			if (!seen[ru->jump]) {
				cnf[ru->jump] = nf;
				cl4[ru->jump] = l4;
				seen[ru->jump] = true;
			} else {
				if (cnf[ru->jump] != nf)
					cnf[ru->jump] = 0;
				if (cl4[ru->jump] != l4)
					cl4[ru->jump] = 0;
			}
		}
	}
	for (uint32_t c = 0; c < p->nchains; c++) {
		const struct ipr_kchain *ch = &p->chains[c];

		wf(w, "  chain ");
		chain_name(w, hook, c);
		wf(w, c ? ":\n" : " (base chain):\n");
		if (!c) {
			wf(w, "    # first: packets injected by a handle of this "
			      "or a higher priority go by\n");
			if (hook == IPR_HOOK_IN)
				wf(w, "    # first: loopback packets go by (they "
				      "are taken on the way out)\n");
		}
		for (uint32_t r = 0; r < ch->nrules; r++) {
			const struct ipr_krule *ru = &p->rules[ch->first_rule + r];
			uint8_t nf = cnf[c], l4 = cl4[c];

			wf(w, "    ");
			if (!ru->ntests)
				wf(w, "(every packet) ");
			for (uint32_t k = 0; k < ru->ntests; k++) {
				const struct ipr_ktest *t =
					&p->tests[ru->first_test + k];

				put_ktest(w, t, nf, l4, p);
				wf(w, " ");
				if (t->op == IPR_KOP_EQ && t->kind == IPR_KT_NFPROTO)
					nf = t->value[0];
				if (t->op == IPR_KOP_EQ && t->kind == IPR_KT_L4PROTO)
					l4 = t->value[0];
			}
			if (ru->jump == IPR_KRULE_ACTION) {
				wf(w, "-> queue\n");
			} else {
				wf(w, "-> jump ");
				chain_name(w, hook, (uint32_t)ru->jump);
				wf(w, "\n");
			}
		}
	}
	free(cnf);
	free(cl4);
	free(seen);
}

/* One hook's summary line and program. */
static void explain_hook(struct xw *w, const ipr_filter *f, unsigned h)
{
	struct ipr_kprog p;
	int err;

	wf(w, "hook %s (%s):", hook_names[h], hook_desc[h]);
	err = ipri_kprog_build(f, (enum ipr_hook)h, &p);
	if (err) {
		const char *why = ipr_last_error(NULL);

		wf(w, " cannot be built: %s\n", err != -E2BIG ?
		   strerror(-err) : *why ? why :
		   "too many tests or chains for the kernel program");
		return;
	}
	if (!p.nchains) {
		wf(w, " nothing can match, no chain\n");
		return;
	}
	wf(w, " %u chain%s, %u rule%s, %u test%s", p.nchains,
	   p.nchains == 1 ? "" : "s", p.nrules,
	   p.nrules == 1 ? "" : "s", p.ntests,
	   p.ntests == 1 ? "" : "s");
	if (p.nsets) {
		uint32_t nv = 0, nr = 0;

		for (uint32_t k = 0; k < p.nsets; k++) {
			if (p.sets[k].interval)
				nr += p.sets[k].n;
			else
				nv += p.sets[k].n;
		}
		wf(w, ", %u set%s of ", p.nsets, p.nsets == 1 ? "" : "s");
		if (nv)
			wf(w, "%u value%s%s", nv, nv == 1 ? "" : "s",
			   nr ? " and " : "");
		if (nr)
			wf(w, "%u range%s", nr, nr == 1 ? "" : "s");
	}
	if (p.depth)
		wf(w, ", jumps nest %u deep (the kernel's limit "
		   "leaves %u here)", p.depth, IPR_KPROG_MAX_DEPTH);
	wf(w, "%s\n", f->user_hook[h] ? "; user space checks again" : "");
	put_prog(w, h, &p);
	ipri_kprog_free(&p);
}

static int explain(const ipr_filter *f, char *buf, size_t size)
{
	struct xw w = { buf, size, 0 };
	ipr_filter *own = NULL;
	uint32_t feats = 0;
	unsigned hooks;
	char *text;
	int n;

	if (!f || (!buf && size))
		return -EINVAL;
	if (size)
		buf[0] = '\0';
	n = ipr_filter_format(f, NULL, 0);
	if (n < 0)
		return n;
	text = malloc((size_t)n + 1);
	if (!text)
		return -ENOMEM;
	ipr_filter_format(f, text, (size_t)n + 1);
	wf(&w, "filter: %s\n", text);
	hooks = ipr_layer_hooks(f->layer);
	wf(&w, "layer: %s\n", f->layer == IPR_LAYER_NETWORK_FORWARD
	   ? "network-forward" : "network");
	if (!ipr_kernel_features(&feats)) {
		char d[512];

		ipr_kernel_features_format(feats, "; ", d, sizeof(d));
		wf(&w, "kernel: %s\n", d);
		/* the filter as ipr_open runs it on this kernel */
		if (!(feats & IPR_KF_INNER_PAYLOAD) &&
		    ipri_filter_uses_kind(f, IPR_FK_PAYLOAD)) {
			own = ipri_filter_compile_kinds(text, f->layer, NULL,
						       1u << IPR_FK_PAYLOAD);
			if (!own)
				wf(&w, "kernel: this filter cannot run here: "
				       "ct.state with tcp/udp.Payload[i] needs "
				       "the inner payload expression\n");
			else {
				ipr_filter_set_priority(own, f->priority);
				f = own;
			}
		}
	}
	free(text);
	for (unsigned h = 0; h < IPR_HOOK_COUNT; h++) {
		if (hooks & (1u << h))
			explain_hook(&w, f, h);
	}
	wf(&w, "note: transport header fields are read as 3 or 5 bytes "
	       "around them (the rest masked), which makes the kernel refuse "
	       "later fragments for them as user space does\n");
	if (!f->needs_user) {
		wf(&w, "user space: nothing to check, the kernel decides the "
		       "whole filter\n");
		goto out;
	}
	wf(&w, "user space: ipr_filter_eval checks again every packet the "
	       "kernel passes on hook");
	for (unsigned h = 0, k = 0; h < IPR_HOOK_COUNT; h++)
		if (f->user_hook[h])
			wf(&w, "%s %s", k++ ? "," : "", hook_names[h]);
	wf(&w, " and passes on at once what fails; these tests hold both "
	       "ways in the kernel:\n");
	for (uint32_t i = 0; i < f->nnodes; i++) {
		const struct ipr_fnode *nd = &f->nodes[i];
		char t[128];

		if (nd->type != IPR_FN_TEST || !nd->user)
			continue;
		if (ipri_filter_format_test(f, (int32_t)i, t, sizeof(t)) < 0)
			continue;
		wf(&w, "  %s\n", t);
	}
out:
	ipr_filter_free(own);
	return w.len > INT_MAX ? -EOVERFLOW : (int)w.len;
}

/* Public since the Python binding calls it: the library's error
 * convention (negative errno returned and set). */
__attribute__((visibility("default")))
int ipr_filter_explain(const ipr_filter *f, char *buf, size_t size)
{
	int rc = explain(f, buf, size);

	if (rc < 0)
		errno = -rc;
	return rc;
}
