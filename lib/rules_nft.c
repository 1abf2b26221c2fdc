/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rules_nft.c - the kernel side of a handle: one nftables table of its own
 * (owner flag: it dies with the socket that made it), a base chain per hook,
 * and the filter's kernel program as rules, sent in one atomic batch. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* 0 unknown, 1 native nft queue works, -1 only xt NFQUEUE (nft_compat). */
static atomic_int native_state;

struct nb {                     /* a growing netlink batch */
	char *buf;
	size_t len, cap;
	uint32_t seq, first_seq, nmsg;
	int err;
};

static struct nlmsghdr *nb_msg(struct nb *b, uint16_t type, uint16_t flags,
			       uint8_t family, uint16_t res_id)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len < 65536) {
		size_t ncap = b->cap * 2;
		char *n = realloc(b->buf, ncap);
		if (!n) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->buf = n;
		b->cap = ncap;
	}
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b->buf + b->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = b->seq++;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

static void nb_end(struct nb *b, struct nlmsghdr *nlh, bool counted)
{
	if (!nlh)
		return;
	/* A message never grows past the 64 KiB reserved for it. */
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	if (counted)
		b->nmsg++;
}

static struct nlmsghdr *nft_msg(struct nb *b, uint16_t type, uint16_t flags)
{
	return nb_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | type, flags | NLM_F_ACK,
		      NFPROTO_INET, 0);
}

/* --- expressions ------------------------------------------------------ */

struct ex {
	struct nlattr *elem, *data;
};

static struct ex ex_begin(struct nlmsghdr *nlh, const char *name)
{
	struct ex e;
	e.elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	e.data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	return e;
}

static void ex_end(struct nlmsghdr *nlh, struct ex e)
{
	mnl_attr_nest_end(nlh, e.data);
	mnl_attr_nest_end(nlh, e.elem);
}

static void put_data(struct nlmsghdr *nlh, uint16_t type, const void *v,
		     size_t len)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, v);
	mnl_attr_nest_end(nlh, n);
}

static void ex_meta(struct nlmsghdr *nlh, uint32_t key)
{
	struct ex e = ex_begin(nlh, "meta");
	mnl_attr_put_u32(nlh, NFTA_META_KEY, htonl(key));
	mnl_attr_put_u32(nlh, NFTA_META_DREG, htonl(NFT_REG_1));
	ex_end(nlh, e);
}

static void ex_payload(struct nlmsghdr *nlh, uint32_t base, uint32_t off,
		       uint32_t len)
{
	struct ex e = ex_begin(nlh, "payload");
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_BASE, htonl(base));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_OFFSET, htonl(off));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_LEN, htonl(len));
	ex_end(nlh, e);
}

static void ex_cmp(struct nlmsghdr *nlh, uint32_t op, const void *v,
		   size_t len)
{
	struct ex e = ex_begin(nlh, "cmp");
	mnl_attr_put_u32(nlh, NFTA_CMP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_CMP_OP, htonl(op));
	put_data(nlh, NFTA_CMP_DATA, v, len);
	ex_end(nlh, e);
}

static void ex_and(struct nlmsghdr *nlh, uint32_t mask_host)
{
	uint32_t zero = 0;
	struct ex e = ex_begin(nlh, "bitwise");
	mnl_attr_put_u32(nlh, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_LEN, htonl(4));
	put_data(nlh, NFTA_BITWISE_MASK, &mask_host, 4);
	put_data(nlh, NFTA_BITWISE_XOR, &zero, 4);
	ex_end(nlh, e);
}

/* Host-order u32 in the register to network order, so that cmp (a memcmp)
 * orders it as a number. */
static void ex_hton32(struct nlmsghdr *nlh)
{
	struct ex e = ex_begin(nlh, "byteorder");
	mnl_attr_put_u32(nlh, NFTA_BYTEORDER_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BYTEORDER_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BYTEORDER_OP, htonl(NFT_BYTEORDER_HTON));
	mnl_attr_put_u32(nlh, NFTA_BYTEORDER_LEN, htonl(4));
	mnl_attr_put_u32(nlh, NFTA_BYTEORDER_SIZE, htonl(4));
	ex_end(nlh, e);
}

/* A verdict (and the chain of a jump) as the data attribute @type. */
static void put_verdict(struct nlmsghdr *nlh, uint16_t type, int code,
			const char *chain)
{
	struct nlattr *d = mnl_attr_nest_start(nlh, type);
	struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain)
		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(nlh, v);
	mnl_attr_nest_end(nlh, d);
}

static void ex_verdict(struct nlmsghdr *nlh, int code, const char *chain)
{
	struct ex e = ex_begin(nlh, "immediate");
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	put_verdict(nlh, NFTA_IMMEDIATE_DATA, code, chain);
	ex_end(nlh, e);
}

static void ex_queue(struct nlmsghdr *nlh, uint16_t num, bool bypass,
		     bool native)
{
	if (native) {
		struct ex e = ex_begin(nlh, "queue");
		mnl_attr_put_u16(nlh, NFTA_QUEUE_NUM, htons(num));
		mnl_attr_put_u16(nlh, NFTA_QUEUE_TOTAL, htons(1));
		mnl_attr_put_u16(nlh, NFTA_QUEUE_FLAGS,
				 htons(bypass ? NFT_QUEUE_FLAG_BYPASS : 0));
		ex_end(nlh, e);
		return;
	}
	/* xt_NFQ_info_v3, host order, padded to 8 as XT_ALIGN wants. */
	uint16_t info[4] = { num, 1, bypass ? 0x01 : 0, 0 };
	struct ex e = ex_begin(nlh, "target");
	mnl_attr_put_strz(nlh, NFTA_TARGET_NAME, "NFQUEUE");
	mnl_attr_put_u32(nlh, NFTA_TARGET_REV, htonl(3));
	mnl_attr_put(nlh, NFTA_TARGET_INFO, sizeof(info), info);
	ex_end(nlh, e);
}

static void ex_log(struct nlmsghdr *nlh, uint16_t group)
{
	struct ex e = ex_begin(nlh, "log");
	mnl_attr_put_u16(nlh, NFTA_LOG_GROUP, htons(group));
	ex_end(nlh, e);
}

#define FAN_MAP "fan"
#define FAN_MAP_ID 1
#define KEY_TYPE_INTEGER 4 /* nftables' integer type: for listings only */
/* The named counter every packet taken for the queues goes through: against
 * the packets the queues got, it tells how many the kernel let by without
 * the program (ipr_stats_get).  An object, not a rule's counter, so that it
 * outlives ipr_rules_disable. */
#define QUEUED_CTR "queued"

static void ex_symhash(struct nlmsghdr *nlh, uint32_t mod)
{
	struct ex e = ex_begin(nlh, "hash");
	mnl_attr_put_u32(nlh, NFTA_HASH_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_HASH_MODULUS, htonl(mod));
	mnl_attr_put_u32(nlh, NFTA_HASH_TYPE, htonl(NFT_HASH_SYM));
	ex_end(nlh, e);
}

static void ex_count_queued(struct nlmsghdr *nlh)
{
	struct ex e = ex_begin(nlh, "objref");
	mnl_attr_put_u32(nlh, NFTA_OBJREF_IMM_TYPE, htonl(NFT_OBJECT_COUNTER));
	mnl_attr_put_strz(nlh, NFTA_OBJREF_IMM_NAME, QUEUED_CTR);
	ex_end(nlh, e);
}

/* verdict = map[reg1]: the fan-out map, named and referenced by its id
 * (it is created in the same batch). */
static void ex_lookup_vmap(struct nlmsghdr *nlh)
{
	struct ex e = ex_begin(nlh, "lookup");
	mnl_attr_put_strz(nlh, NFTA_LOOKUP_SET, FAN_MAP);
	mnl_attr_put_u32(nlh, NFTA_LOOKUP_SET_ID, htonl(FAN_MAP_ID));
	mnl_attr_put_u32(nlh, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_LOOKUP_DREG, htonl(NFT_REG_VERDICT));
	ex_end(nlh, e);
}

/* reg1 &= mask over @len bytes (mask in the register's byte order). */
static void ex_bitwise(struct nlmsghdr *nlh, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct ex e = ex_begin(nlh, "bitwise");
	mnl_attr_put_u32(nlh, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_BITWISE_LEN, htonl(len));
	put_data(nlh, NFTA_BITWISE_MASK, mask, len);
	put_data(nlh, NFTA_BITWISE_XOR, zero, len);
	ex_end(nlh, e);
}

static void ex_ct(struct nlmsghdr *nlh, uint32_t key)
{
	struct ex e = ex_begin(nlh, "ct");
	mnl_attr_put_u32(nlh, NFTA_CT_KEY, htonl(key));
	mnl_attr_put_u32(nlh, NFTA_CT_DREG, htonl(NFT_REG_1));
	ex_end(nlh, e);
}

/* reg1 = 1 if the IPv6 packet has extension header @type, else 0. */
static void ex_exthdr_present(struct nlmsghdr *nlh, uint8_t type)
{
	struct ex e = ex_begin(nlh, "exthdr");
	mnl_attr_put_u32(nlh, NFTA_EXTHDR_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u8(nlh, NFTA_EXTHDR_TYPE, type);
	mnl_attr_put_u32(nlh, NFTA_EXTHDR_OFFSET, htonl(0));
	mnl_attr_put_u32(nlh, NFTA_EXTHDR_LEN, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_EXTHDR_FLAGS, htonl(NFT_EXTHDR_F_PRESENT));
	mnl_attr_put_u32(nlh, NFTA_EXTHDR_OP, htonl(NFT_EXTHDR_OP_IPV6));
	ex_end(nlh, e);
}

/* A 32-bit value the kernel keeps in host order (meta mark, skuid, ct
 * state, ...), already in reg1: mask, then compare.  Equality compares in
 * host order; an ordering turns the register to network order first, so
 * that cmp (a memcmp) orders it as a number. */
static void ex_cmp_host32(struct nlmsghdr *nlh, const struct ipr_ktest *t)
{
	uint32_t v, m;
	memcpy(&v, t->value, 4);
	if (t->flags & IPR_KTF_MASK) {
		memcpy(&m, t->mask, 4);
		ex_and(nlh, ntohl(m));
	}
	if (t->op == IPR_KOP_EQ || t->op == IPR_KOP_NEQ) {
		v = ntohl(v);
		ex_cmp(nlh, t->op, &v, 4);
	} else {
		ex_hton32(nlh);
		ex_cmp(nlh, t->op, t->value, 4);
	}
}

static void ex_cmp_bytes(struct nlmsghdr *nlh, const struct ipr_ktest *t)
{
	if (t->flags & IPR_KTF_MASK)
		ex_bitwise(nlh, t->mask, t->len);
	ex_cmp(nlh, t->op, t->value, t->len);
}

static void ex_test(struct nlmsghdr *nlh, const struct ipr_ktest *t)
{
	uint16_t v16;
	switch (t->kind) {
	case IPR_KT_NFPROTO:
		ex_meta(nlh, NFT_META_NFPROTO);
		ex_cmp(nlh, t->op, t->value, 1);
		return;
	case IPR_KT_L4PROTO:
		ex_meta(nlh, NFT_META_L4PROTO);
		ex_cmp(nlh, t->op, t->value, 1);
		return;
	case IPR_KT_IIF:
	case IPR_KT_OIF:
		ex_meta(nlh, t->kind == IPR_KT_IIF ? NFT_META_IIF : NFT_META_OIF);
		ex_cmp_host32(nlh, t);
		return;
	case IPR_KT_MARK:
		ex_meta(nlh, NFT_META_MARK);
		ex_cmp_host32(nlh, t);
		return;
	case IPR_KT_LEN:
		ex_meta(nlh, NFT_META_LEN);
		ex_cmp_host32(nlh, t);
		return;
	case IPR_KT_SKUID:
	case IPR_KT_SKGID:
		ex_meta(nlh, t->kind == IPR_KT_SKUID ? NFT_META_SKUID
						     : NFT_META_SKGID);
		ex_cmp_host32(nlh, t);
		return;
	case IPR_KT_CTSTATE:
		ex_ct(nlh, NFT_CT_STATE);
		ex_cmp_host32(nlh, t);
		return;
	case IPR_KT_IIFNAME:
	case IPR_KT_OIFNAME:
		/* the register holds the whole zero-padded name; fewer bytes
		 * compare a prefix */
		ex_meta(nlh, t->kind == IPR_KT_IIFNAME ? NFT_META_IIFNAME
						       : NFT_META_OIFNAME);
		ex_cmp(nlh, t->op, t->value, t->len);
		return;
	case IPR_KT_OIFTYPE:
		ex_meta(nlh, NFT_META_OIFTYPE);
		v16 = (uint16_t)(t->value[0] << 8 | t->value[1]); /* host */
		ex_cmp(nlh, t->op, &v16, 2);
		return;
	case IPR_KT_FRAG6:
		ex_exthdr_present(nlh, 44 /* NEXTHDR_FRAGMENT */);
		ex_cmp(nlh, t->op, t->value, 1);
		return;
	case IPR_KT_NET:
		ex_payload(nlh, NFT_PAYLOAD_NETWORK_HEADER, t->offset, t->len);
		ex_cmp_bytes(nlh, t);
		return;
	case IPR_KT_TRANSPORT:
		ex_payload(nlh, NFT_PAYLOAD_TRANSPORT_HEADER, t->offset,
			   t->len);
		ex_cmp_bytes(nlh, t);
		return;
	case IPR_KT_INNER:
		ex_payload(nlh, NFT_PAYLOAD_INNER_HEADER, t->offset, t->len);
		ex_cmp_bytes(nlh, t);
		return;
	}
}

/* --- table, chains, rules --------------------------------------------- */

static const char *hook_name[IPR_HOOK_COUNT] = { "in", "out", "fwd" };
static const uint32_t hook_num[IPR_HOOK_COUNT] = {
	NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_FORWARD,
};

static struct nlmsghdr *rule_begin(struct nb *b, const char *table,
				   const char *chain, struct nlattr **list)
{
	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_NEWRULE,
				       NLM_F_CREATE | NLM_F_APPEND);
	if (!nlh)
		return NULL;
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	*list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	return nlh;
}

static void rule_end(struct nb *b, struct nlmsghdr *nlh, struct nlattr *list)
{
	if (!nlh)
		return;
	mnl_attr_nest_end(nlh, list);
	nb_end(b, nlh, true);
}

static void chain_add(struct nb *b, const char *table, const char *name,
		      int hook, int32_t prio)
{
	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
	if (hook >= 0) {
		struct nlattr *n = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);
		mnl_attr_put_u32(nlh, NFTA_HOOK_HOOKNUM, htonl(hook_num[hook]));
		mnl_attr_put_u32(nlh, NFTA_HOOK_PRIORITY, htonl((uint32_t)prio));
		mnl_attr_nest_end(nlh, n);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TYPE, "filter");
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
	}
	nb_end(b, nlh, true);
}

/* The handle's terminal action, emitted at the end of a rule. */
static void emit_action(struct nlmsghdr *nlh, const struct ipr_rules_spec *s)
{
	switch (s->action) {
	case IPR_ACT_DROP:
		ex_verdict(nlh, NF_DROP, NULL);
		break;
	case IPR_ACT_LOG:
		/* log is not terminal: accept here so that an OR of several
		 * rules cannot log one packet twice. */
		ex_log(nlh, s->nums[0]);
		ex_verdict(nlh, NF_ACCEPT, NULL);
		break;
	case IPR_ACT_QUEUE:
		ex_count_queued(nlh);
		if (s->total > 1) {
			/* Flows spread over the queues by a symmetric hash,
			 * so both directions of a connection stay on one
			 * queue and in order; the verdict map (build_fanout)
			 * jumps to the queue's chain, one hash per packet. */
			ex_symhash(nlh, s->total);
			ex_lookup_vmap(nlh);
		} else {
			ex_queue(nlh, s->nums[0], s->bypass, s->native_queue);
		}
		break;
	}
}

static void build_hook(struct nb *b, const struct ipr_rules_spec *s,
		       int hook, const struct ipr_kprog *p)
{
	char name[40], target[40];
	const char *base = hook_name[hook];

	chain_add(b, s->table, base, hook, -(int32_t)s->priority);
	for (uint32_t c = 1; c < p->nchains; c++) {
		snprintf(name, sizeof(name), "%s_%u", base, c);
		chain_add(b, s->table, name, -1, 0);
	}

	struct nlattr *list = NULL;
	struct nlmsghdr *nlh;

	/* Packets we injected ourselves, or a handle of the same or higher
	 * priority did, go by: that is what keeps injection loop-free. */
	nlh = rule_begin(b, s->table, base, &list);
	if (nlh) {
		uint32_t magic = IPR_MARK_MAGIC;
		uint32_t enc = htonl(ipr_prio_enc(s->priority));
		ex_meta(nlh, NFT_META_MARK);
		ex_and(nlh, IPR_MARK_MASK);
		ex_cmp(nlh, NFT_CMP_EQ, &magic, 4);
		ex_meta(nlh, NFT_META_MARK);
		ex_and(nlh, ~IPR_MARK_MASK);
		ex_hton32(nlh);
		ex_cmp(nlh, NFT_CMP_GTE, &enc, 4);
		ex_verdict(nlh, NFT_RETURN, NULL);
	}
	rule_end(b, nlh, list);

	/* Loopback traffic is taken once, on the way out (as WinDivert). */
	if (hook == IPR_HOOK_IN) {
		uint16_t lo = 772; /* ARPHRD_LOOPBACK */
		nlh = rule_begin(b, s->table, base, &list);
		if (nlh) {
			ex_meta(nlh, NFT_META_IIFTYPE);
			ex_cmp(nlh, NFT_CMP_EQ, &lo, 2);
			ex_verdict(nlh, NFT_RETURN, NULL);
		}
		rule_end(b, nlh, list);
	}

	for (uint32_t c = 0; c < p->nchains; c++) {
		if (c == 0)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), "%s_%u", base, c);
		const struct ipr_kchain *ch = &p->chains[c];
		for (uint32_t r = 0; r < ch->nrules; r++) {
			const struct ipr_krule *ru = &p->rules[ch->first_rule + r];
			nlh = rule_begin(b, s->table, name, &list);
			if (!nlh)
				return;
			for (uint32_t t = 0; t < ru->ntests; t++)
				ex_test(nlh, &p->tests[ru->first_test + t]);
			if (ru->jump == IPR_KRULE_ACTION) {
				emit_action(nlh, s);
			} else {
				snprintf(target, sizeof(target), "%s_%d", base,
					 ru->jump);
				ex_verdict(nlh, NFT_JUMP, target);
			}
			rule_end(b, nlh, list);
		}
	}
}

/* The queue chains q0.. (one queue rule each) and the map from the flow
 * hash to them, shared by the hooks. */
static void build_fanout(struct nb *b, const struct ipr_rules_spec *s)
{
	char name[16];
	struct nlattr *list = NULL;
	for (uint32_t k = 0; k < s->total; k++) {
		snprintf(name, sizeof(name), "q%u", k);
		chain_add(b, s->table, name, -1, 0);
		struct nlmsghdr *nlh = rule_begin(b, s->table, name, &list);
		if (!nlh)
			return;
		ex_queue(nlh, s->nums[k], s->bypass, s->native_queue);
		rule_end(b, nlh, list);
	}

	struct nlmsghdr *nlh = nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, s->table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, FAN_MAP);
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(FAN_MAP_ID));
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_MAP |
						     NFT_SET_CONSTANT));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(KEY_TYPE_INTEGER));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl(4));
	mnl_attr_put_u32(nlh, NFTA_SET_DATA_TYPE, htonl(NFT_DATA_VERDICT));
	nb_end(b, nlh, true);

	nlh = nft_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	if (!nlh)
		return;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, s->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, FAN_MAP);
	mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(FAN_MAP_ID));
	struct nlattr *elems = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
	for (uint32_t k = 0; k < s->total; k++) {
		snprintf(name, sizeof(name), "q%u", k);
		struct nlattr *el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		/* the hash leaves a host-order u32 in the register */
		put_data(nlh, NFTA_SET_ELEM_KEY, &k, 4);
		put_verdict(nlh, NFTA_SET_ELEM_DATA, NFT_JUMP, name);
		mnl_attr_nest_end(nlh, el);
	}
	mnl_attr_nest_end(nlh, elems);
	nb_end(b, nlh, true);
}

/* Send the batch and wait for every ack; returns 0 or the first error. */
static int nb_commit(int fd, struct nb *b)
{
	if (send(fd, b->buf, b->len, 0) < 0)
		return -errno;
	char rbuf[MNL_SOCKET_BUFFER_SIZE * 2];
	uint32_t acked = 0;
	while (acked < b->nmsg) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int len = (int)n;
		while (ipr_nlmsg_ok(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				/* Answers to an earlier batch are not ours. */
				if (e->msg.nlmsg_seq < b->first_seq ||
				    e->msg.nlmsg_seq >= b->seq)
					goto next;
				if (e->error)
					return e->error;
				acked++;
			}
next:
			nlh = mnl_nlmsg_next(nlh, &len);
		}
	}
	return 0;
}

static int install_once(int fd, const ipr_filter *f,
			const struct ipr_rules_spec *s)
{
	static atomic_uint seq_base;
	uint32_t seq = atomic_fetch_add(&seq_base, 1u << 20) + (uint32_t)time(NULL);
	struct nb b = { .cap = 1 << 18, .seq = seq, .first_seq = seq };
	b.buf = malloc(b.cap);
	if (!b.buf)
		return -ENOMEM;
	struct ipr_kprog progs[IPR_HOOK_COUNT];
	memset(progs, 0, sizeof(progs));
	int err = 0;

	struct nlmsghdr *nlh = nb_msg(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
				      NFNL_SUBSYS_NFTABLES);
	nb_end(&b, nlh, false);
	nlh = nft_msg(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	if (nlh) {
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, s->table);
		mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS,
				 htonl(s->unowned ? 0 : NFT_TABLE_F_OWNER));
	}
	nb_end(&b, nlh, true);

	if (s->action == IPR_ACT_QUEUE) {
		nlh = nft_msg(&b, NFT_MSG_NEWOBJ, NLM_F_CREATE | NLM_F_EXCL);
		if (nlh) {
			mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, s->table);
			mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, QUEUED_CTR);
			mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE,
					 htonl(NFT_OBJECT_COUNTER));
			struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
			mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, htobe64(0));
			mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, htobe64(0));
			mnl_attr_nest_end(nlh, d);
		}
		nb_end(&b, nlh, true);
	}
	if (s->action == IPR_ACT_QUEUE && s->total > 1)
		build_fanout(&b, s);
	for (int hk = 0; hk < IPR_HOOK_COUNT; hk++) {
		bool fwd = s->layer == IPR_LAYER_NETWORK_FORWARD;
		if ((hk == IPR_HOOK_FWD) != fwd)
			continue;
		err = ipr_kprog_build(f, (enum ipr_hook)hk, &progs[hk]);
		if (err)
			goto out;
		if (progs[hk].nchains)
			build_hook(&b, s, hk, &progs[hk]);
	}
	nlh = nb_msg(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nb_end(&b, nlh, false);
	if (b.err) {
		err = b.err;
		goto out;
	}
	err = nb_commit(fd, &b);
out:
	for (int hk = 0; hk < IPR_HOOK_COUNT; hk++)
		ipr_kprog_free(&progs[hk]);
	free(b.buf);
	return err;
}

static int nft_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	int big = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A missing kernel part, named: the batch failed with ENOENT, which is what
 * nf_tables answers for an expression it has no module for. */
static int missing_feature(const struct ipr_rules_spec *s)
{
	switch (s->action) {
	case IPR_ACT_QUEUE:
		ipr_detail_set("the NFQUEUE verdict: neither nft_queue "
			       "(CONFIG_NFT_QUEUE) nor xt_NFQUEUE through "
			       "nft_compat (CONFIG_NFT_COMPAT, "
			       "CONFIG_NETFILTER_XT_TARGET_NFQUEUE)");
		break;
	case IPR_ACT_LOG:
		ipr_detail_set("the log expression (CONFIG_NFT_LOG) or "
			       "nfnetlink_log (CONFIG_NETFILTER_NETLINK_LOG)");
		break;
	case IPR_ACT_DROP:
		ipr_detail_set("an nf_tables expression module (nft_hash, "
			       "nft_ct, nft_objref, ...)");
		break;
	}
	return -EOPNOTSUPP;
}

int ipr_rules_install(const ipr_filter *f, struct ipr_rules_spec *s)
{
	/* Before 5.12 tables cannot have the owner flag: the table is made
	 * without it, and the caller deletes it (guard.c).  Leftovers of dead
	 * programs (a guard killed with its program, or tables of an older
	 * ipredir) are swept first, on every kernel. */
	int own = ipr_probe_owner_tables();
	if (own < 0)
		return own;
	s->unowned = !own;
	(void)ipr_tables_sweep();
	int fd = nft_socket();
	if (fd < 0)
		return fd;
	struct ipr_rules_spec spec = *s;
	int st = atomic_load(&native_state);
	int err;
	static atomic_int xt_probed;

	if (spec.action == IPR_ACT_QUEUE && st >= 0) {
		spec.native_queue = true;
		err = install_once(fd, f, &spec);
		if (err != -ENOENT && err != -EOPNOTSUPP) {
			if (!err)
				atomic_store(&native_state, 1);
			goto done;
		}
		/* The whole batch was rolled back: the kernel has no native
		 * queue expression.  Try xt NFQUEUE through nft_compat, on a
		 * fresh socket so no answer of the failed batch is left. */
		atomic_store(&native_state, -1);
		close(fd);
		fd = nft_socket();
		if (fd < 0)
			return fd;
	}
	spec.native_queue = false;
	if (spec.action == IPR_ACT_QUEUE && !atomic_exchange(&xt_probed, 1))
		(void)ipr_probe_xt_target("NFQUEUE", 3); /* loads xt_NFQUEUE */
	err = install_once(fd, f, &spec);
done:
	if (err == -ENOENT)
		err = missing_feature(&spec);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Take every rule out of the handle's table but keep the table and its
 * base chains.  Removing a base chain unregisters its hook, and the kernel
 * then drops every packet queued through it; emptying the chains instead
 * stops new packets from being queued while the queued ones stay, so they
 * can still be read and answered. */
int ipr_rules_disable(int fd, const char *table)
{
	static atomic_uint seq_base;
	uint32_t seq = atomic_fetch_add(&seq_base, 1u << 20) + 0x40000000u +
		       (uint32_t)time(NULL);
	struct nb b = { .cap = 1 << 17, .seq = seq, .first_seq = seq };
	b.buf = malloc(b.cap);
	if (!b.buf)
		return -ENOMEM;
	struct nlmsghdr *nlh = nb_msg(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
				      NFNL_SUBSYS_NFTABLES);
	nb_end(&b, nlh, false);
	/* No chain named: every rule of the table. */
	nlh = nft_msg(&b, NFT_MSG_DELRULE, 0);
	if (nlh)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
	nb_end(&b, nlh, true);
	nlh = nb_msg(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
	nb_end(&b, nlh, false);
	int err = b.err ? b.err : nb_commit(fd, &b);
	free(b.buf);
	return err;
}

/* The packets the handle's rules have taken for its queues so far (the
 * QUEUED_CTR object), read on a socket of its own: the handle's socket may
 * be in use by another thread (ipr_shutdown). */
int ipr_rules_queued(const char *table, uint64_t *packets)
{
	int fd = nft_socket();
	if (fd < 0)
		return fd;
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_INET;
	nfg->version = NFNETLINK_V0;
	mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, QUEUED_CTR);
	mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	int err = -EPROTO;
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	ssize_t got = recv(fd, buf, sizeof(buf), 0);
	if (got < 0) {
		err = -errno;
		goto out;
	}
	int n = (int)got;
	for (nlh = (struct nlmsghdr *)buf; ipr_nlmsg_ok(nlh, n);
	     nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)))
				err = e->error ? e->error : -EPROTO;
			break;
		}
		if (nlh->nlmsg_type !=
		    ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ))
			continue;
		const struct nlattr *a, *d;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) != NFTA_OBJ_DATA)
				continue;
			mnl_attr_for_each_nested(d, a) {
				if (mnl_attr_get_type(d) == NFTA_COUNTER_PACKETS &&
				    mnl_attr_get_payload_len(d) == 8) {
					*packets = be64toh(mnl_attr_get_u64(d));
					err = 0;
				}
			}
		}
		break;
	}
out:
	close(fd);
	return err;
}
