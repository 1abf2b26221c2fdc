/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nlcheck.h - check an nftables batch that lib/rules_nft.c built against
 * the kernel's limits, without a kernel: for test_encode and fuzz_filter.
 * Needs <libmnl/libmnl.h>, <linux/netfilter/nf_tables.h> and
 * <linux/netfilter/nfnetlink.h>. */
#ifndef IPR_TESTS_NLCHECK_H
#define IPR_TESTS_NLCHECK_H

#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

/* Bytes the kernel (x86-64, 5.10-6.18) gives each expression of ours:
 * NFT_EXPR_SIZE of its private data, the largest variant (cmp16_fast,
 * the compat target holding xt_NFQ_info_v3). */
static unsigned nlc_expr_size(const char *name)
{
	static const struct {
		const char *name;
		unsigned size;
	} t[] = {
		{ "payload", 16 }, { "meta", 16 }, { "ct", 16 },
		{ "exthdr", 24 }, { "byteorder", 16 }, { "objref", 16 },
		{ "hash", 24 }, { "queue", 16 }, { "immediate", 32 },
		{ "cmp", 48 }, { "bitwise", 64 }, { "lookup", 56 },
		{ "log", 48 }, { "target", 48 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(name, t[i].name))
			return t[i].size;
	return 0;
}

struct nlc_stats {
	unsigned msgs, rules, sets, elem_msgs, max_exprs, max_bytes;
};

/* NULL if the batch is well-formed and every rule within the kernel's
 * limits (fewer than 128 expressions, under 4096 bytes of them), else
 * what is wrong, in @why. */
static const char *nlc_check(const void *buf, size_t len,
			     struct nlc_stats *st, char *why, size_t wlen)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;
	uint32_t seq = 0;
	bool begun = false, ended = false;

	memset(st, 0, sizeof(*st));
	if (len > (size_t)INT32_MAX)
		return "batch too long";
	for (; left > 0; nlh = mnl_nlmsg_next(nlh, &left)) {
		if (!mnl_nlmsg_ok(nlh, left) || nlh->nlmsg_len > (uint32_t)left) {
			snprintf(why, wlen, "message %u: bad length", st->msgs);
			return why;
		}
		if (nlh->nlmsg_len > 65000 + MNL_NLMSG_HDRLEN) {
			snprintf(why, wlen, "message %u: %u bytes", st->msgs,
				 nlh->nlmsg_len);
			return why;
		}
		if (st->msgs && nlh->nlmsg_seq != seq + 1) {
			snprintf(why, wlen, "message %u: sequence %u after %u",
				 st->msgs, nlh->nlmsg_seq, seq);
			return why;
		}
		seq = nlh->nlmsg_seq;
		if (ended)
			return "a message after BATCH_END";
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
			if (st->msgs)
				return "BATCH_BEGIN not first";
			begun = true;
			st->msgs++;
			continue;
		}
		if (!begun)
			return "no BATCH_BEGIN";
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
			ended = true;
			st->msgs++;
			continue;
		}
		st->msgs++;
		if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
			return "a message of another subsystem";
		/* the top-level attributes fit the message */
		const struct nlattr *a;
		size_t off = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
		if (off > nlh->nlmsg_len)
			return "message shorter than its headers";
		for (const char *p = (const char *)nlh + off,
		     *end = (const char *)nlh + nlh->nlmsg_len; p < end;) {
			a = (const struct nlattr *)(const void *)p;
			if (end - p < (long)sizeof(*a) || a->nla_len < sizeof(*a) ||
			    a->nla_len > end - p) {
				snprintf(why, wlen, "message %u: attributes "
					 "overrun", st->msgs - 1);
				return why;
			}
			p += MNL_ALIGN(a->nla_len);
		}
		switch (nlh->nlmsg_type & 0xff) {
		case NFT_MSG_NEWSET:
			st->sets++;
			continue;
		case NFT_MSG_NEWSETELEM:
			st->elem_msgs++;
			continue;
		case NFT_MSG_NEWRULE:
			break;
		default:
			continue;
		}
		st->rules++;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			const struct nlattr *e, *x;
			unsigned n = 0, bytes = 0;

			if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS)
				continue;
			mnl_attr_for_each_nested(e, a) {
				const char *name = NULL;

				if (mnl_attr_get_type(e) != NFTA_LIST_ELEM)
					return "a rule's list holds a non-element";
				mnl_attr_for_each_nested(x, e)
					if (mnl_attr_get_type(x) == NFTA_EXPR_NAME &&
					    mnl_attr_validate(x, MNL_TYPE_NUL_STRING) == 0)
						name = mnl_attr_get_str(x);
				if (!name || !nlc_expr_size(name)) {
					snprintf(why, wlen, "rule %u: expression "
						 "'%s' unknown", st->rules,
						 name ? name : "(none)");
					return why;
				}
				n++;
				bytes += nlc_expr_size(name);
			}
			if (n > st->max_exprs)
				st->max_exprs = n;
			if (bytes > st->max_bytes)
				st->max_bytes = bytes;
			if (n >= 128 || bytes >= 4096) {
				snprintf(why, wlen, "rule %u: %u expressions, "
					 "%u bytes", st->rules, n, bytes);
				return why;
			}
		}
	}
	if (!ended)
		return "no BATCH_END";
	return NULL;
}

#endif
