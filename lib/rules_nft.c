/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rules_nft.c - the kernel side of a handle: one nftables table of its own
 * (owner flag: it dies with the socket that made it), a base chain per hook,
 * and the filter's kernel program as rules, sent in one atomic batch. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <netinet/in.h>
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

/* No message of ours is larger: a rule's expressions, a chain or a slice
 * of a set's elements.  The attribute nests that hold them carry a 16-bit
 * length, so a larger message could not be said anyway.  Every put checks
 * against it (the filter compiler keeps rules well below; set elements are
 * cut into several messages), and one that does not fit fails the batch
 * with E2BIG instead of writing past the buffer. */
#define NB_MSG_MAX 65000

struct nb {                     /* a growing netlink batch */
	char *buf;
	size_t len, cap;        /* len: end of the finished messages */
	struct nlmsghdr *nlh;   /* the message being built, or NULL */
	uint32_t seq, first_seq, nmsg;
	int err;
	/* the hook whose rules are being built: its sets' names and ids */
	const char *hook;
	const struct ipr_kprog *prog;
	uint32_t set_id_base, next_set_id;
};

static void nb_fail(struct nb *b, int err)
{
	if (!b->err)
		b->err = err;
	b->nlh = NULL;
}

static bool nb_msg(struct nb *b, uint16_t type, uint16_t flags,
		   uint8_t family, uint16_t res_id)
{
	b->nlh = NULL;
	if (b->err)
		return false;
	while (b->cap - b->len < NB_MSG_MAX + MNL_NLMSG_HDRLEN) {
		size_t ncap = b->cap * 2;
		char *n = realloc(b->buf, ncap);
		if (!n) {
			nb_fail(b, -ENOMEM);
			return false;
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
	b->nlh = nlh;
	return true;
}

static void nb_end(struct nb *b, bool counted)
{
	if (!b->nlh)
		return;
	b->len += MNL_ALIGN(b->nlh->nlmsg_len);
	b->nlh = NULL;
	if (counted)
		b->nmsg++;
}

static void nb_over(struct nb *b)
{
	if (!b->err)
		ipri_detail_set(-1, "a netlink message would exceed %d bytes",
			       NB_MSG_MAX);
	nb_fail(b, -E2BIG);
}

static void nb_put(struct nb *b, uint16_t type, size_t len, const void *v)
{
	if (b->nlh && !mnl_attr_put_check(b->nlh, NB_MSG_MAX, type, len, v))
		nb_over(b);
}

static void nb_put_u8(struct nb *b, uint16_t type, uint8_t v)
{
	nb_put(b, type, sizeof(v), &v);
}

static void nb_put_u16(struct nb *b, uint16_t type, uint16_t v)
{
	nb_put(b, type, sizeof(v), &v);
}

static void nb_put_u32(struct nb *b, uint16_t type, uint32_t v)
{
	nb_put(b, type, sizeof(v), &v);
}

static void nb_put_u64(struct nb *b, uint16_t type, uint64_t v)
{
	nb_put(b, type, sizeof(v), &v);
}

static void nb_put_strz(struct nb *b, uint16_t type, const char *s)
{
	nb_put(b, type, strlen(s) + 1, s);
}

static struct nlattr *nb_nest(struct nb *b, uint16_t type)
{
	struct nlattr *n;

	if (!b->nlh)
		return NULL;
	n = mnl_attr_nest_start_check(b->nlh, NB_MSG_MAX, type);
	if (!n)
		nb_over(b);
	return n;
}

static void nb_nest_end(struct nb *b, struct nlattr *n)
{
	if (b->nlh && n)
		mnl_attr_nest_end(b->nlh, n);
}

static bool nft_msg(struct nb *b, uint16_t type, uint16_t flags)
{
	return nb_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | type, flags | NLM_F_ACK,
		      NFPROTO_INET, 0);
}

/* --- expressions ------------------------------------------------------ */

struct ex {
	struct nlattr *elem, *data;
};

static struct ex ex_begin(struct nb *b, const char *name)
{
	struct ex e;
	e.elem = nb_nest(b, NFTA_LIST_ELEM);
	nb_put_strz(b, NFTA_EXPR_NAME, name);
	e.data = nb_nest(b, NFTA_EXPR_DATA);
	return e;
}

static void ex_end(struct nb *b, struct ex e)
{
	nb_nest_end(b, e.data);
	nb_nest_end(b, e.elem);
}

static void put_data(struct nb *b, uint16_t type, const void *v,
		     size_t len)
{
	struct nlattr *n = nb_nest(b, type);
	nb_put(b, NFTA_DATA_VALUE, len, v);
	nb_nest_end(b, n);
}

static void ex_meta(struct nb *b, uint32_t key)
{
	struct ex e = ex_begin(b, "meta");
	nb_put_u32(b, NFTA_META_KEY, htonl(key));
	nb_put_u32(b, NFTA_META_DREG, htonl(NFT_REG_1));
	ex_end(b, e);
}

static void ex_payload(struct nb *b, uint32_t base, uint32_t off,
		       uint32_t len)
{
	struct ex e = ex_begin(b, "payload");
	nb_put_u32(b, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_PAYLOAD_BASE, htonl(base));
	nb_put_u32(b, NFTA_PAYLOAD_OFFSET, htonl(off));
	nb_put_u32(b, NFTA_PAYLOAD_LEN, htonl(len));
	ex_end(b, e);
}

static void ex_cmp(struct nb *b, uint32_t op, const void *v,
		   size_t len)
{
	struct ex e = ex_begin(b, "cmp");
	nb_put_u32(b, NFTA_CMP_SREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_CMP_OP, htonl(op));
	put_data(b, NFTA_CMP_DATA, v, len);
	ex_end(b, e);
}

static void ex_and(struct nb *b, uint32_t mask_host)
{
	uint32_t zero = 0;
	struct ex e = ex_begin(b, "bitwise");
	nb_put_u32(b, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BITWISE_LEN, htonl(4));
	put_data(b, NFTA_BITWISE_MASK, &mask_host, 4);
	put_data(b, NFTA_BITWISE_XOR, &zero, 4);
	ex_end(b, e);
}

/* Host-order u32 in the register to network order, so that cmp (a memcmp)
 * orders it as a number. */
static void ex_hton32(struct nb *b)
{
	struct ex e = ex_begin(b, "byteorder");
	nb_put_u32(b, NFTA_BYTEORDER_SREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BYTEORDER_DREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BYTEORDER_OP, htonl(NFT_BYTEORDER_HTON));
	nb_put_u32(b, NFTA_BYTEORDER_LEN, htonl(4));
	nb_put_u32(b, NFTA_BYTEORDER_SIZE, htonl(4));
	ex_end(b, e);
}

/* A verdict (and the chain of a jump) as the data attribute @type. */
static void put_verdict(struct nb *b, uint16_t type, int code,
			const char *chain)
{
	struct nlattr *d = nb_nest(b, type);
	struct nlattr *v = nb_nest(b, NFTA_DATA_VERDICT);
	nb_put_u32(b, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain)
		nb_put_strz(b, NFTA_VERDICT_CHAIN, chain);
	nb_nest_end(b, v);
	nb_nest_end(b, d);
}

static void ex_verdict(struct nb *b, int code, const char *chain)
{
	struct ex e = ex_begin(b, "immediate");
	nb_put_u32(b, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	put_verdict(b, NFTA_IMMEDIATE_DATA, code, chain);
	ex_end(b, e);
}

static void ex_queue(struct nb *b, uint16_t num, bool bypass,
		     bool native)
{
	if (native) {
		struct ex e = ex_begin(b, "queue");
		nb_put_u16(b, NFTA_QUEUE_NUM, htons(num));
		nb_put_u16(b, NFTA_QUEUE_TOTAL, htons(1));
		nb_put_u16(b, NFTA_QUEUE_FLAGS,
				 htons(bypass ? NFT_QUEUE_FLAG_BYPASS : 0));
		ex_end(b, e);
		return;
	}
	/* xt_NFQ_info_v3, host order, padded to 8 as XT_ALIGN wants. */
	_Static_assert(sizeof(struct xt_NFQ_info_v3) == 3 * sizeof(uint16_t),
		       "queuenum, queues_total, flags");
	uint16_t info[4] = { num, 1, bypass ? NFQ_FLAG_BYPASS : 0, 0 };
	struct ex e = ex_begin(b, "target");
	nb_put_strz(b, NFTA_TARGET_NAME, "NFQUEUE");
	nb_put_u32(b, NFTA_TARGET_REV, htonl(3));
	nb_put(b, NFTA_TARGET_INFO, sizeof(info), info);
	ex_end(b, e);
}

static void ex_log(struct nb *b, uint16_t group)
{
	struct ex e = ex_begin(b, "log");
	nb_put_u16(b, NFTA_LOG_GROUP, htons(group));
	ex_end(b, e);
}

#define FAN_MAP "fan"
#define FAN_MAP_ID 1
#define KEY_TYPE_INTEGER 4 /* nftables' integer type: for listings only */
/* The named counter every packet taken for the queues goes through: against
 * the packets the queues got, it tells how many the kernel let by without
 * the program (ipr_stats_get).  An object, not a rule's counter, so that it
 * outlives ipri_rules_disable. */
#define QUEUED_CTR "queued"

/* The dead-man switch: a set of heartbeats, one element per queue (key:
 * the queue's index) with a timeout of the hang time, which the program's
 * receive path keeps refreshing (ipri_rules_heartbeat).  The queue chain
 * queues only while its element lives; once it has expired the kernel
 * itself passes (fail-open) or drops (fail-closed) the packet, counted in
 * HUNG_CTR, without waiting for a program that no longer reads. */
#define HB_SET "hb"
#define HB_SET_ID 2
#define HUNG_CTR "hung"
/* The filter's own sets are numbered from here on in a batch. */
#define FIRST_SET_ID 16

static void ex_symhash(struct nb *b, uint32_t mod)
{
	struct ex e = ex_begin(b, "hash");
	nb_put_u32(b, NFTA_HASH_DREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_HASH_MODULUS, htonl(mod));
	nb_put_u32(b, NFTA_HASH_TYPE, htonl(NFT_HASH_SYM));
	ex_end(b, e);
}

/* Count the packet in the named counter object @name. */
static void ex_count(struct nb *b, const char *name)
{
	struct ex e = ex_begin(b, "objref");
	nb_put_u32(b, NFTA_OBJREF_IMM_TYPE, htonl(NFT_OBJECT_COUNTER));
	nb_put_strz(b, NFTA_OBJREF_IMM_NAME, name);
	ex_end(b, e);
}

/* reg1 in the named set @set (created earlier in the same batch, found by
 * its id @id): @how 0 go on if found, LOOKUP_INV if not, LOOKUP_VMAP take
 * the verdict the map gives for reg1. */
enum { LOOKUP_IN, LOOKUP_INV, LOOKUP_VMAP };
static void ex_lookup(struct nb *b, const char *set, uint32_t id, int how)
{
	struct ex e = ex_begin(b, "lookup");
	nb_put_strz(b, NFTA_LOOKUP_SET, set);
	nb_put_u32(b, NFTA_LOOKUP_SET_ID, htonl(id));
	nb_put_u32(b, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	if (how == LOOKUP_VMAP)
		nb_put_u32(b, NFTA_LOOKUP_DREG, htonl(NFT_REG_VERDICT));
	if (how == LOOKUP_INV)
		nb_put_u32(b, NFTA_LOOKUP_FLAGS, htonl(NFT_LOOKUP_F_INV));
	ex_end(b, e);
}

/* reg1 &= mask over @len bytes (mask in the register's byte order). */
static void ex_bitwise(struct nb *b, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct ex e = ex_begin(b, "bitwise");
	nb_put_u32(b, NFTA_BITWISE_SREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BITWISE_DREG, htonl(NFT_REG_1));
	nb_put_u32(b, NFTA_BITWISE_LEN, htonl(len));
	put_data(b, NFTA_BITWISE_MASK, mask, len);
	put_data(b, NFTA_BITWISE_XOR, zero, len);
	ex_end(b, e);
}

static void ex_ct(struct nb *b, uint32_t key)
{
	struct ex e = ex_begin(b, "ct");
	nb_put_u32(b, NFTA_CT_KEY, htonl(key));
	nb_put_u32(b, NFTA_CT_DREG, htonl(NFT_REG_1));
	ex_end(b, e);
}

/* reg1 = the fragment header's offset field (2 bytes); the rule breaks
 * when the packet has no fragment header. */
static void ex_exthdr_fragoff(struct nb *b)
{
	struct ex e = ex_begin(b, "exthdr");
	nb_put_u32(b, NFTA_EXTHDR_DREG, htonl(NFT_REG_1));
	nb_put_u8(b, NFTA_EXTHDR_TYPE, IPPROTO_FRAGMENT);
	nb_put_u32(b, NFTA_EXTHDR_OFFSET, htonl(2));
	nb_put_u32(b, NFTA_EXTHDR_LEN, htonl(2));
	nb_put_u32(b, NFTA_EXTHDR_OP, htonl(NFT_EXTHDR_OP_IPV6));
	ex_end(b, e);
}

/* reg1 = 1 if the IPv6 packet has extension header @type, else 0. */
static void ex_exthdr_present(struct nb *b, uint8_t type)
{
	struct ex e = ex_begin(b, "exthdr");
	nb_put_u32(b, NFTA_EXTHDR_DREG, htonl(NFT_REG_1));
	nb_put_u8(b, NFTA_EXTHDR_TYPE, type);
	nb_put_u32(b, NFTA_EXTHDR_OFFSET, htonl(0));
	nb_put_u32(b, NFTA_EXTHDR_LEN, htonl(1));
	nb_put_u32(b, NFTA_EXTHDR_FLAGS, htonl(NFT_EXTHDR_F_PRESENT));
	nb_put_u32(b, NFTA_EXTHDR_OP, htonl(NFT_EXTHDR_OP_IPV6));
	ex_end(b, e);
}

/* How a kind's values sit in the kernel's register. */
enum vrep { REP_BYTES, REP_HOST32, REP_HOST16 };

static enum vrep rep_of(const struct ipr_ktest *t)
{
	switch (t->kind) {
	case IPR_KT_IIF: case IPR_KT_OIF: case IPR_KT_MARK: case IPR_KT_LEN:
	case IPR_KT_SKUID: case IPR_KT_SKGID: case IPR_KT_CTSTATE:
		return REP_HOST32;
	case IPR_KT_OIFTYPE:
		return REP_HOST16;
	default:
		return REP_BYTES;
	}
}

static bool is_set(const struct ipr_ktest *t)
{
	return t->op == IPR_KOP_IN || t->op == IPR_KOP_NOTIN;
}

static void set_name(char *buf, size_t size, const char *hook, uint32_t k)
{
	snprintf(buf, size, "%s_s%u", hook, k);
}

/* Interval sets are ordered by memcmp: a host-order register goes to
 * network order first, as for an ordering cmp. */
static bool set_is_interval(const struct nb *b, const struct ipr_ktest *t)
{
	return b->prog && t->set < b->prog->nsets &&
	       b->prog->sets[t->set].interval;
}

/* reg1 in the test's set (or not, NOTIN): the set is made earlier in the
 * same batch (emit_sets), named and found by its id. */
static void ex_set_lookup(struct nb *b, const struct ipr_ktest *t)
{
	char name[32];

	set_name(name, sizeof(name), b->hook, t->set);
	ex_lookup(b, name, b->set_id_base + t->set,
		  t->op == IPR_KOP_NOTIN ? LOOKUP_INV : LOOKUP_IN);
}

/* The comparison of a test whose value is @v (@len bytes, as the register
 * holds it): cmp, or the set lookup. */
static void ex_cmp_t(struct nb *b, const struct ipr_ktest *t, const void *v,
		     size_t len)
{
	if (is_set(t))
		ex_set_lookup(b, t);
	else
		ex_cmp(b, t->op, v, len);
}

/* A 32-bit value the kernel keeps in host order (meta mark, skuid, ct
 * state, ...), already in reg1: mask, then compare.  Equality compares in
 * host order; an ordering turns the register to network order first, so
 * that cmp (a memcmp) orders it as a number. */
static void ex_cmp_host32(struct nb *b, const struct ipr_ktest *t)
{
	uint32_t v, m;
	memcpy(&v, t->value, 4);
	if (t->flags & IPR_KTF_MASK) {
		memcpy(&m, t->mask, 4);
		ex_and(b, ntohl(m));
	}
	if (t->op == IPR_KOP_EQ || t->op == IPR_KOP_NEQ ||
	    (is_set(t) && !set_is_interval(b, t))) {
		v = ntohl(v);
		ex_cmp_t(b, t, &v, 4);
	} else {
		ex_hton32(b);
		ex_cmp_t(b, t, t->value, 4);
	}
}

static void ex_cmp_bytes(struct nb *b, const struct ipr_ktest *t)
{
	if (t->flags & IPR_KTF_MASK)
		ex_bitwise(b, t->mask, t->len);
	ex_cmp_t(b, t, t->value, t->len);
}

static void ex_test(struct nb *b, const struct ipr_ktest *t)
{
	uint16_t v16;
	switch (t->kind) {
	case IPR_KT_NFPROTO:
		ex_meta(b, NFT_META_NFPROTO);
		ex_cmp_t(b, t, t->value, 1);
		return;
	case IPR_KT_L4PROTO:
		ex_meta(b, NFT_META_L4PROTO);
		ex_cmp_t(b, t, t->value, 1);
		return;
	case IPR_KT_IIF:
	case IPR_KT_OIF:
		ex_meta(b, t->kind == IPR_KT_IIF ? NFT_META_IIF : NFT_META_OIF);
		ex_cmp_host32(b, t);
		return;
	case IPR_KT_MARK:
		ex_meta(b, NFT_META_MARK);
		ex_cmp_host32(b, t);
		return;
	case IPR_KT_LEN:
		ex_meta(b, NFT_META_LEN);
		ex_cmp_host32(b, t);
		return;
	case IPR_KT_SKUID:
	case IPR_KT_SKGID:
		ex_meta(b, t->kind == IPR_KT_SKUID ? NFT_META_SKUID
						     : NFT_META_SKGID);
		ex_cmp_host32(b, t);
		return;
	case IPR_KT_CTSTATE:
		ex_ct(b, NFT_CT_STATE);
		ex_cmp_host32(b, t);
		return;
	case IPR_KT_IIFNAME:
	case IPR_KT_OIFNAME:
		/* the register holds the whole zero-padded name; fewer bytes
		 * compare a prefix */
		ex_meta(b, t->kind == IPR_KT_IIFNAME ? NFT_META_IIFNAME
						       : NFT_META_OIFNAME);
		ex_cmp_t(b, t, t->value, t->len);
		return;
	case IPR_KT_OIFTYPE:
		ex_meta(b, NFT_META_OIFTYPE);
		v16 = (uint16_t)(t->value[0] << 8 | t->value[1]); /* host */
		ex_cmp_t(b, t, &v16, 2);
		return;
	case IPR_KT_FRAG6:
		ex_exthdr_present(b, IPPROTO_FRAGMENT);
		ex_cmp_t(b, t, t->value, 1);
		return;
	case IPR_KT_FRAGOFF6:
		ex_exthdr_fragoff(b);
		ex_cmp_bytes(b, t);
		return;
	case IPR_KT_NET:
		ex_payload(b, NFT_PAYLOAD_NETWORK_HEADER, t->offset, t->len);
		ex_cmp_bytes(b, t);
		return;
	case IPR_KT_TRANSPORT:
		ex_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, t->offset,
			   t->len);
		ex_cmp_bytes(b, t);
		return;
	case IPR_KT_INNER:
		ex_payload(b, NFT_PAYLOAD_INNER_HEADER, t->offset, t->len);
		ex_cmp_bytes(b, t);
		return;
	}
}

/* --- table, chains, rules --------------------------------------------- */

static const char *hook_name[IPR_HOOK_COUNT] = { "in", "out", "fwd" };
static const uint32_t hook_num[IPR_HOOK_COUNT] = {
	NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_FORWARD,
};

/* Start a rule in @chain; its expressions go into the list it returns
 * (NULL once the batch has failed). */
static struct nlattr *rule_begin(struct nb *b, const char *table,
				 const char *chain)
{
	if (!nft_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND))
		return NULL;
	nb_put_strz(b, NFTA_RULE_TABLE, table);
	nb_put_strz(b, NFTA_RULE_CHAIN, chain);
	return nb_nest(b, NFTA_RULE_EXPRESSIONS);
}

static void rule_end(struct nb *b, struct nlattr *list)
{
	nb_nest_end(b, list);
	nb_end(b, true);
}

static void chain_add(struct nb *b, const char *table, const char *name,
		      int hook, int32_t prio)
{
	if (!nft_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE))
		return;
	nb_put_strz(b, NFTA_CHAIN_TABLE, table);
	nb_put_strz(b, NFTA_CHAIN_NAME, name);
	if (hook >= 0) {
		struct nlattr *n = nb_nest(b, NFTA_CHAIN_HOOK);
		nb_put_u32(b, NFTA_HOOK_HOOKNUM, htonl(hook_num[hook]));
		nb_put_u32(b, NFTA_HOOK_PRIORITY, htonl((uint32_t)prio));
		nb_nest_end(b, n);
		nb_put_strz(b, NFTA_CHAIN_TYPE, "filter");
		nb_put_u32(b, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
	}
	nb_end(b, true);
}

/* The handle's terminal action, emitted at the end of a rule. */
static void emit_action(struct nb *b, const struct ipr_rules_spec *s)
{
	switch (s->action) {
	case IPR_ACT_DROP:
		ex_verdict(b, NF_DROP, NULL);
		break;
	case IPR_ACT_LOG:
		/* log is not terminal: accept here so that an OR of several
		 * rules cannot log one packet twice. */
		ex_log(b, s->nums[0]);
		ex_verdict(b, NF_ACCEPT, NULL);
		break;
	case IPR_ACT_QUEUE:
		ex_count(b, QUEUED_CTR);
		if (s->total > 1) {
			/* Flows spread over the queues by a symmetric hash,
			 * so both directions of a connection stay on one
			 * queue and in order; the verdict map (build_fanout)
			 * jumps to the queue's chain, one hash per packet. */
			ex_symhash(b, s->total);
			ex_lookup(b, FAN_MAP, FAN_MAP_ID, LOOKUP_VMAP);
		} else if (s->hang_ms) {
			/* the heartbeat check lives in the queue chain */
			ex_verdict(b, NFT_JUMP, "q0");
		} else {
			ex_queue(b, s->nums[0], s->bypass, s->native_queue);
		}
		break;
	}
}

/* Elements per NEWSETELEM message: at most 16-byte keys, well inside
 * NB_MSG_MAX (a nest's 16-bit length). */
#define SET_ELEMS_PER_MSG 1024

/* Start a NEWSETELEM message for set @name (id @id); its elements go
 * into the nest it returns (NULL once the batch has failed). */
static struct nlattr *elems_begin(struct nb *b, const char *table,
				  const char *name, uint32_t id)
{
	if (!nft_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE))
		return NULL;
	nb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nb_put_strz(b, NFTA_SET_ELEM_LIST_SET, name);
	nb_put_u32(b, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
	return nb_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
}

static void elems_end(struct nb *b, struct nlattr *elems)
{
	nb_nest_end(b, elems);
	nb_end(b, true);
}

static void elem_key(struct nb *b, const void *key, size_t len, bool end)
{
	struct nlattr *el = nb_nest(b, NFTA_LIST_ELEM);

	put_data(b, NFTA_SET_ELEM_KEY, key, len);
	if (end)
		nb_put_u32(b, NFTA_SET_ELEM_FLAGS,
			   htonl(NFT_SET_ELEM_INTERVAL_END));
	nb_nest_end(b, el);
}

/* The values of a set, in the register's byte order (test @t's kind). */
static void emit_set_values(struct nb *b, const char *table, const char *name,
			    uint32_t id, const struct ipr_kprog *p,
			    const struct ipr_kset *st, const struct ipr_ktest *t)
{
	for (uint32_t done = 0; done < st->n && !b->err;) {
		struct nlattr *elems = elems_begin(b, table, name, id);

		for (uint32_t n = 0; n < SET_ELEMS_PER_MSG && done < st->n;
		     n++, done++) {
			const uint8_t *v = p->setvals + st->first + done * st->len;
			uint32_t v32;
			uint16_t v16;

			switch (rep_of(t)) {
			case REP_HOST32:
				memcpy(&v32, v, 4);
				v32 = ntohl(v32);
				elem_key(b, &v32, 4, false);
				break;
			case REP_HOST16:
				v16 = (uint16_t)(v[0] << 8 | v[1]);
				elem_key(b, &v16, 2, false);
				break;
			default:
				elem_key(b, v, st->len, false);
				break;
			}
		}
		elems_end(b, elems);
	}
}

/* The ranges of an interval set: each its first value, and the value
 * after its last marked as an end (none after the top value); keys
 * big-endian (host-order loads are turned before the lookup). */
static void emit_set_ranges(struct nb *b, const char *table, const char *name,
			    uint32_t id, const struct ipr_kprog *p,
			    const struct ipr_kset *st)
{
	for (uint32_t done = 0; done < st->n && !b->err;) {
		struct nlattr *elems = elems_begin(b, table, name, id);

		for (uint32_t n = 0; n < SET_ELEMS_PER_MSG / 2 && done < st->n;
		     n++, done++) {
			const uint8_t *lo = p->setvals + st->first +
					    2u * done * st->len;
			uint8_t end[16];
			bool top = true;

			memcpy(end, lo + st->len, st->len);
			for (unsigned i = st->len; i-- > 0 && top;)
				top = end[i]++ == 0xff;
			elem_key(b, lo, st->len, false);
			if (!top)
				elem_key(b, end, st->len, true);
		}
		elems_end(b, elems);
	}
}

/* The program's sets, each a named constant set, before the rules that
 * look them up. */
static void emit_sets(struct nb *b, const char *table,
		      const struct ipr_kprog *p)
{
	char name[32];

	b->set_id_base = b->next_set_id;
	b->next_set_id += p->nsets;
	b->prog = p;
	for (uint32_t k = 0; k < p->nsets && !b->err; k++) {
		const struct ipr_kset *st = &p->sets[k];
		const struct ipr_ktest *t = NULL;

		for (uint32_t i = 0; i < p->ntests && !t; i++)
			if (is_set(&p->tests[i]) && p->tests[i].set == k)
				t = &p->tests[i];
		if (!t)
			continue; /* no rule kept it */
		set_name(name, sizeof(name), b->hook, k);
		if (!nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL))
			return;
		nb_put_strz(b, NFTA_SET_TABLE, table);
		nb_put_strz(b, NFTA_SET_NAME, name);
		nb_put_u32(b, NFTA_SET_ID, htonl(b->set_id_base + k));
		nb_put_u32(b, NFTA_SET_FLAGS, htonl(NFT_SET_CONSTANT |
			(st->interval ? NFT_SET_INTERVAL : 0)));
		nb_put_u32(b, NFTA_SET_KEY_TYPE, htonl(KEY_TYPE_INTEGER));
		nb_put_u32(b, NFTA_SET_KEY_LEN, htonl(st->len));
		nb_end(b, true);
		if (st->interval)
			emit_set_ranges(b, table, name, b->set_id_base + k, p, st);
		else
			emit_set_values(b, table, name, b->set_id_base + k, p, st,
					t);
	}
}

static void build_hook(struct nb *b, const struct ipr_rules_spec *s,
		       int hook, const struct ipr_kprog *p)
{
	char name[40], target[40];
	const char *base = hook_name[hook];
	struct nlattr *list;

	chain_add(b, s->table, base, hook, -(int32_t)s->priority);
	for (uint32_t c = 1; c < p->nchains; c++) {
		snprintf(name, sizeof(name), "%s_%u", base, c);
		chain_add(b, s->table, name, -1, 0);
	}
	b->hook = base;
	emit_sets(b, s->table, p);

	/* Packets we injected ourselves, or a handle of the same or higher
	 * priority did, go by: that is what keeps injection loop-free. */
	list = rule_begin(b, s->table, base);
	if (list) {
		uint32_t magic = IPR_MARK_MAGIC;
		uint32_t enc = htonl(ipr_prio_enc(s->priority));
		ex_meta(b, NFT_META_MARK);
		ex_and(b, IPR_MARK_MASK);
		ex_cmp(b, NFT_CMP_EQ, &magic, 4);
		ex_meta(b, NFT_META_MARK);
		ex_and(b, ~IPR_MARK_MASK);
		ex_hton32(b);
		ex_cmp(b, NFT_CMP_GTE, &enc, 4);
		ex_verdict(b, NFT_RETURN, NULL);
	}
	rule_end(b, list);

	/* Loopback traffic is taken once, on the way out (as WinDivert). */
	if (hook == IPR_HOOK_IN) {
		uint16_t lo = ARPHRD_LOOPBACK;
		list = rule_begin(b, s->table, base);
		if (list) {
			ex_meta(b, NFT_META_IIFTYPE);
			ex_cmp(b, NFT_CMP_EQ, &lo, 2);
			ex_verdict(b, NFT_RETURN, NULL);
		}
		rule_end(b, list);
	}

	for (uint32_t c = 0; c < p->nchains; c++) {
		if (c == 0)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), "%s_%u", base, c);
		const struct ipr_kchain *ch = &p->chains[c];
		for (uint32_t r = 0; r < ch->nrules; r++) {
			const struct ipr_krule *ru = &p->rules[ch->first_rule + r];
			list = rule_begin(b, s->table, name);
			if (!list)
				return;
			for (uint32_t t = 0; t < ru->ntests; t++)
				ex_test(b, &p->tests[ru->first_test + t]);
			if (ru->jump == IPR_KRULE_ACTION) {
				emit_action(b, s);
			} else {
				snprintf(target, sizeof(target), "%s_%d", base,
					 ru->jump);
				ex_verdict(b, NFT_JUMP, target);
			}
			rule_end(b, list);
		}
	}
}

/* --- the dead-man switch (heartbeats) ---------------------------------- */

/* reg1 = @v: the key of a queue's heartbeat. */
static void ex_imm_reg1(struct nb *b, uint32_t v)
{
	struct ex e = ex_begin(b, "immediate");
	nb_put_u32(b, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_1));
	put_data(b, NFTA_IMMEDIATE_DATA, &v, 4);
	ex_end(b, e);
}

/* Chain q<k>: queue to queue k while its heartbeat lives, else pass or
 * drop at once, counted. */
static void build_queue_chain(struct nb *b, const struct ipr_rules_spec *s,
			      uint32_t k)
{
	char name[16];
	struct nlattr *list;
	snprintf(name, sizeof(name), "q%u", k);
	chain_add(b, s->table, name, -1, 0);
	list = rule_begin(b, s->table, name);
	if (!list)
		return;
	ex_imm_reg1(b, k);
	/* go on only while the heartbeat lives (not expired) */
	ex_lookup(b, HB_SET, HB_SET_ID, LOOKUP_IN);
	ex_queue(b, s->nums[k], s->bypass, s->native_queue);
	rule_end(b, list);
	list = rule_begin(b, s->table, name);
	if (!list)
		return;
	ex_count(b, HUNG_CTR);
	ex_verdict(b, s->bypass ? NF_ACCEPT : NF_DROP, NULL);
	rule_end(b, list);
}

/* NEWSETELEM (or DELSETELEM) of queue @k's heartbeat, expiring after @ms
 * (0: no timeout given). */
static void hb_elem_msg(struct nb *b, const char *table, uint16_t type,
			uint32_t k, uint32_t ms, bool with_id)
{
	if (!nft_msg(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0))
		return;
	nb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nb_put_strz(b, NFTA_SET_ELEM_LIST_SET, HB_SET);
	if (with_id)
		nb_put_u32(b, NFTA_SET_ELEM_LIST_SET_ID, htonl(HB_SET_ID));
	struct nlattr *elems = nb_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	struct nlattr *el = nb_nest(b, NFTA_LIST_ELEM);
	put_data(b, NFTA_SET_ELEM_KEY, &k, 4);
	if (ms)
		nb_put_u64(b, NFTA_SET_ELEM_TIMEOUT, htobe64(ms));
	nb_nest_end(b, el);
	nb_nest_end(b, elems);
	nb_end(b, true);
}

/* A named counter object. */
static void counter_add(struct nb *b, const char *table, const char *name)
{
	if (!nft_msg(b, NFT_MSG_NEWOBJ, NLM_F_CREATE | NLM_F_EXCL))
		return;
	nb_put_strz(b, NFTA_OBJ_TABLE, table);
	nb_put_strz(b, NFTA_OBJ_NAME, name);
	nb_put_u32(b, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
	struct nlattr *d = nb_nest(b, NFTA_OBJ_DATA);
	nb_put_u64(b, NFTA_COUNTER_PACKETS, htobe64(0));
	nb_put_u64(b, NFTA_COUNTER_BYTES, htobe64(0));
	nb_nest_end(b, d);
	nb_end(b, true);
}

/* The heartbeat set with a live element per queue, the counter of packets
 * passed or dropped for want of one, and, with a single queue, its chain
 * (several queues get theirs from build_fanout).  Before any rule that
 * uses them. */
static void build_heartbeat(struct nb *b, const struct ipr_rules_spec *s)
{
	if (!nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE))
		return;
	nb_put_strz(b, NFTA_SET_TABLE, s->table);
	nb_put_strz(b, NFTA_SET_NAME, HB_SET);
	nb_put_u32(b, NFTA_SET_ID, htonl(HB_SET_ID));
	nb_put_u32(b, NFTA_SET_FLAGS, htonl(NFT_SET_TIMEOUT));
	nb_put_u32(b, NFTA_SET_KEY_TYPE, htonl(KEY_TYPE_INTEGER));
	nb_put_u32(b, NFTA_SET_KEY_LEN, htonl(4));
	nb_end(b, true);

	for (uint32_t k = 0; k < s->total; k++)
		hb_elem_msg(b, s->table, NFT_MSG_NEWSETELEM, k, s->hang_ms, true);
	counter_add(b, s->table, HUNG_CTR);
	if (s->total == 1)
		build_queue_chain(b, s, 0);
}

/* The queue chains q0.. (one queue rule each) and the map from the flow
 * hash to them, shared by the hooks. */
static void build_fanout(struct nb *b, const struct ipr_rules_spec *s)
{
	char name[16];
	struct nlattr *list;
	for (uint32_t k = 0; k < s->total; k++) {
		if (s->hang_ms) {
			build_queue_chain(b, s, k);
			continue;
		}
		snprintf(name, sizeof(name), "q%u", k);
		chain_add(b, s->table, name, -1, 0);
		list = rule_begin(b, s->table, name);
		if (!list)
			return;
		ex_queue(b, s->nums[k], s->bypass, s->native_queue);
		rule_end(b, list);
	}

	if (!nft_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE))
		return;
	nb_put_strz(b, NFTA_SET_TABLE, s->table);
	nb_put_strz(b, NFTA_SET_NAME, FAN_MAP);
	nb_put_u32(b, NFTA_SET_ID, htonl(FAN_MAP_ID));
	nb_put_u32(b, NFTA_SET_FLAGS, htonl(NFT_SET_MAP | NFT_SET_CONSTANT));
	nb_put_u32(b, NFTA_SET_KEY_TYPE, htonl(KEY_TYPE_INTEGER));
	nb_put_u32(b, NFTA_SET_KEY_LEN, htonl(4));
	nb_put_u32(b, NFTA_SET_DATA_TYPE, htonl(NFT_DATA_VERDICT));
	nb_end(b, true);

	if (!nft_msg(b, NFT_MSG_NEWSETELEM, NLM_F_CREATE))
		return;
	nb_put_strz(b, NFTA_SET_ELEM_LIST_TABLE, s->table);
	nb_put_strz(b, NFTA_SET_ELEM_LIST_SET, FAN_MAP);
	nb_put_u32(b, NFTA_SET_ELEM_LIST_SET_ID, htonl(FAN_MAP_ID));
	struct nlattr *elems = nb_nest(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (uint32_t k = 0; k < s->total; k++) {
		snprintf(name, sizeof(name), "q%u", k);
		struct nlattr *el = nb_nest(b, NFTA_LIST_ELEM);
		/* the hash leaves a host-order u32 in the register */
		put_data(b, NFTA_SET_ELEM_KEY, &k, 4);
		put_verdict(b, NFTA_SET_ELEM_DATA, NFT_JUMP, name);
		nb_nest_end(b, el);
	}
	nb_nest_end(b, elems);
	nb_end(b, true);
}

/* Messages with sequence numbers of their own: answers to an earlier
 * request on the same socket are told apart by them. */
static int nb_init(struct nb *b, size_t cap)
{
	static atomic_uint seq_base;
	uint32_t seq = atomic_fetch_add(&seq_base, 1u << 20) +
		       (uint32_t)time(NULL) * 2654435761u;

	memset(b, 0, sizeof(*b));
	b->seq = b->first_seq = seq;
	b->next_set_id = FIRST_SET_ID;
	b->cap = cap;
	b->buf = malloc(b->cap);
	return b->buf ? 0 : -ENOMEM;
}

/* A batch: begin, the caller's messages, end (nb_commit). */
static int nb_open(struct nb *b, size_t cap)
{
	int err = nb_init(b, cap);

	if (!err && nb_msg(b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES))
		nb_end(b, false);
	return err ? err : b->err;
}

/* Send what @b holds and read every answer; returns 0 or the first
 * error (for a batch, the kernel then has applied none of it). */
static int nb_send(int fd, struct nb *b)
{
	if (b->err)
		return b->err;
	struct ipr_nlreq r = {
		.seq_first = b->first_seq, .seq_end = b->seq, .acks = b->nmsg,
	};
	return ipri_nl_request(fd, b->buf, b->len, &r);
}

/* End the batch and send it. */
static int nb_commit(int fd, struct nb *b)
{
	if (nb_msg(b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES))
		nb_end(b, false);
	return nb_send(fd, b);
}

/* The whole batch of a handle's table, begin to end, into @b. */
static int build_batch(const ipr_filter *f, const struct ipr_rules_spec *s,
		       struct nb *b_)
{
	struct nb b;
	struct ipr_kprog progs[IPR_HOOK_COUNT];
	memset(progs, 0, sizeof(progs));
	int err = nb_open(&b, 1 << 18);
	if (err)
		goto out;

	/* before 5.12 no owner flag: the library deletes it (keeper.c) */
	if (nft_msg(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL)) {
		nb_put_strz(&b, NFTA_TABLE_NAME, s->table);
		nb_put_u32(&b, NFTA_TABLE_FLAGS,
			   htonl(s->unowned ? 0 : NFT_TABLE_F_OWNER));
		nb_end(&b, true);
	}

	if (s->action == IPR_ACT_QUEUE)
		counter_add(&b, s->table, QUEUED_CTR);
	if (s->action == IPR_ACT_QUEUE && s->hang_ms)
		build_heartbeat(&b, s);
	if (s->action == IPR_ACT_QUEUE && s->total > 1)
		build_fanout(&b, s);
	for (int hk = 0; hk < IPR_HOOK_COUNT; hk++) {
		bool fwd = s->layer == IPR_LAYER_NETWORK_FORWARD;
		if ((hk == IPR_HOOK_FWD) != fwd)
			continue;
		err = ipri_kprog_build(f, (enum ipr_hook)hk, &progs[hk]);
		if (err)
			goto out;
		if (progs[hk].nchains)
			build_hook(&b, s, hk, &progs[hk]);
	}
	if (nb_msg(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC, NFNL_SUBSYS_NFTABLES))
		nb_end(&b, false);
	err = b.err;
out:
	for (int hk = 0; hk < IPR_HOOK_COUNT; hk++)
		ipri_kprog_free(&progs[hk]);
	if (err) {
		free(b.buf);
		b.buf = NULL;
	}
	*b_ = b;
	return err;
}

int ipri_rules_encode(const ipr_filter *f, const struct ipr_rules_spec *s,
		     void **buf, size_t *len)
{
	struct nb b;
	int err = build_batch(f, s, &b);

	*buf = err ? NULL : b.buf;
	*len = err ? 0 : b.len;
	return err;
}

static int install_once(int fd, const ipr_filter *f,
			const struct ipr_rules_spec *s)
{
	struct nb b;
	int err = build_batch(f, s, &b);

	if (!err)
		err = nb_send(fd, &b);
	free(b.buf);
	return err;
}

static int nft_socket(void)
{
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	/* A batch of a large filter is megabytes, and each of its messages
	 * is acked: room for both, so that no ack is lost. */
	int big = 8 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

/* A missing kernel part, named: the batch failed with ENOENT, which is what
 * nf_tables answers for an expression it has no module for. */
static int missing_feature(const struct ipr_rules_spec *s)
{
	switch (s->action) {
	case IPR_ACT_QUEUE:
		ipri_detail_set(-1, "this kernel lacks the NFQUEUE verdict: neither nft_queue "
			       "(CONFIG_NFT_QUEUE) nor xt_NFQUEUE through "
			       "nft_compat (CONFIG_NFT_COMPAT, "
			       "CONFIG_NETFILTER_XT_TARGET_NFQUEUE)");
		break;
	case IPR_ACT_LOG:
		ipri_detail_set(-1, "this kernel lacks the log expression (CONFIG_NFT_LOG) or "
			       "nfnetlink_log (CONFIG_NETFILTER_NETLINK_LOG)");
		break;
	case IPR_ACT_DROP:
		ipri_detail_set(-1, "this kernel lacks an nf_tables expression module (nft_hash, "
			       "nft_ct, nft_objref, ...)");
		break;
	}
	return -EOPNOTSUPP;
}

int ipri_rules_install(const ipr_filter *f, struct ipr_rules_spec *s)
{
	/* Before 5.12 tables cannot have the owner flag: the table is made
	 * without it, and the caller deletes it (keeper.c).  Leftovers of dead
	 * programs (a keeper killed with its program, or tables of an older
	 * ipredir) are swept first, on every kernel. */
	int own = ipri_probe_owner_tables();
	if (own < 0)
		return own;
	s->unowned = !own;
	(void)ipri_tables_sweep();
	int fd = nft_socket();
	if (fd < 0)
		return fd;
	struct ipr_rules_spec spec = *s;
	int st = atomic_load(&native_state);
	int err;
	static atomic_int xt_probed;

	if (spec.action == IPR_ACT_QUEUE && st >= 0 &&
	    !(ipri_features_disabled() & IPR_KF_NATIVE_QUEUE)) {
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
		ipri_detail_clear();
	}
	spec.native_queue = false;
	if (spec.action == IPR_ACT_QUEUE && !atomic_exchange(&xt_probed, 1))
		(void)ipri_probe_xt_target("NFQUEUE", 3); /* loads xt_NFQUEUE */
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
int ipri_rules_disable(int fd, const char *table)
{
	struct nb b;
	int err = nb_open(&b, 1 << 17);

	/* No chain named: every rule of the table. */
	if (!err && nft_msg(&b, NFT_MSG_DELRULE, 0)) {
		nb_put_strz(&b, NFTA_RULE_TABLE, table);
		nb_end(&b, true);
	}
	if (!err)
		err = nb_commit(fd, &b);
	free(b.buf);
	return err;
}

static int counter_cb(const struct nlmsghdr *nlh, void *data)
{
	uint64_t *packets = data;
	const struct nlattr *a, *d;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_OBJ_DATA)
			continue;
		mnl_attr_for_each_nested(d, a) {
			if (mnl_attr_get_type(d) == NFTA_COUNTER_PACKETS &&
			    mnl_attr_get_payload_len(d) == 8)
				*packets = be64toh(mnl_attr_get_u64(d));
		}
	}
	return 0;
}

static int ipr_rules_counter(const char *table, const char *name,
			     uint64_t *packets);

/*
 * Refresh queue @key's heartbeat to live @ms more.  Re-adding a live
 * element refreshes its timeout only on recent kernels (elsewhere it is a
 * no-op), and deleting one that has expired fails with ENOENT; add, delete,
 * add in one transaction works on every kernel with set timeouts, whether
 * the element lives, has expired or is gone, and the lookup never sees it
 * missing.  Only @fd, the socket that owns the table, may change it: the
 * caller serialises its use.
 */
int ipri_rules_heartbeat(int fd, const char *table, uint32_t key, uint32_t ms)
{
	struct nb b;
	int err = nb_open(&b, 1 << 17);

	if (!err) {
		hb_elem_msg(&b, table, NFT_MSG_NEWSETELEM, key, ms, false);
		hb_elem_msg(&b, table, NFT_MSG_DELSETELEM, key, 0, false);
		hb_elem_msg(&b, table, NFT_MSG_NEWSETELEM, key, ms, false);
		err = nb_commit(fd, &b);
	}
	free(b.buf);
	return err;
}

/* The packets the handle's rules have taken for its queues so far (the
 * QUEUED_CTR object), read on a socket of its own: the handle's socket may
 * be in use by another thread (ipr_shutdown). */
int ipri_rules_queued(const char *table, uint64_t *packets)
{
	return ipr_rules_counter(table, QUEUED_CTR, packets);
}

/* Packets the kernel passed or dropped because a queue's heartbeat had
 * expired (the HUNG_CTR object). */
int ipri_rules_hung(const char *table, uint64_t *packets)
{
	return ipr_rules_counter(table, HUNG_CTR, packets);
}

/* The packet count of the named counter object @name of @table. */
static int ipr_rules_counter(const char *table, const char *name,
			     uint64_t *packets)
{
	int fd = nft_socket();
	if (fd < 0)
		return fd;
	struct nb b;
	int err = nb_init(&b, 1 << 17);
	uint64_t got = UINT64_MAX;

	/* A plain request, not a batch: the object, then an ack. */
	if (!err && nft_msg(&b, NFT_MSG_GETOBJ, 0)) {
		nb_put_strz(&b, NFTA_OBJ_TABLE, table);
		nb_put_strz(&b, NFTA_OBJ_NAME, name);
		nb_put_u32(&b, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
		nb_end(&b, true);
	}
	if (!err && !b.err) {
		struct ipr_nlreq r = {
			.seq_first = b.first_seq, .seq_end = b.seq,
			.acks = b.nmsg, .cb = counter_cb, .data = &got,
		};
		err = ipri_nl_request(fd, b.buf, b.len, &r);
	} else if (!err) {
		err = b.err;
	}
	if (!err && got == UINT64_MAX)
		err = -EPROTO;
	if (!err)
		*packets = got;
	free(b.buf);
	close(fd);
	return err;
}
