/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe.c - what the running kernel offers, asked once per process: owner
 * tables (NFT_TABLE_F_OWNER, Linux 5.12+), and the xtables NFQUEUE target
 * (loaded on the way where the kernel is modular); and the text that names
 * a missing feature when an open fails for want of one. */
#include <arpa/inet.h>
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
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* Send @len bytes and wait for the answers to the messages @lo..@seq
 * (one of them, @seq, asks for an ack): the library's one request
 * helper, which also takes a batch refused as a whole (EPERM without
 * CAP_NET_ADMIN, answered on its begin message) at once. */
static int nl_ask(int fd, const void *buf, size_t len, uint32_t lo,
		  uint32_t seq)
{
	struct ipr_nlreq r = { .seq_first = lo, .seq_end = seq + 1, .acks = 1 };

	return ipri_nl_request(fd, buf, len, &r);
}

/* A table name of a probe's own (not ipredir*, which tools and tests
 * count), unique in the process. */
static void probe_table_name(char *name, size_t n)
{
	static atomic_uint seq;
	snprintf(name, n, "ipr_probe_%d_%u", (int)getpid(),
		 atomic_fetch_add(&seq, 1));
}

/* A batch's begin or end message (@type NFNL_MSG_BATCH_*) at @buf; its
 * aligned length. */
static size_t batch_mark(char *buf, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = ipri_nfnl_put(buf, type, 0, AF_UNSPEC,
					     NFNL_SUBSYS_NFTABLES, seq);
	return MNL_ALIGN(nlh->nlmsg_len);
}

/* 0 unknown, 1 yes, -1 no. */
static atomic_int owner_state;

/* Can a table carry the owner flag?  A batch that makes an owner table of
 * a probe's own name (not ipredir*, which tools and tests count); the
 * kernel removes it with the socket.  Kernels before
 * 5.12 know only the dormant flag and refuse any other with EINVAL. */
int ipri_probe_owner_tables(void)
{
	if (ipri_features_disabled() & IPR_KF_OWNER_TABLES)
		return 0;
	int st = atomic_load(&owner_state);
	if (st)
		return st > 0;
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	char buf[1024];
	uint32_t seq = (uint32_t)time(NULL) ^ 0x5a5a0000u;
	char name[40];
	probe_table_name(name, sizeof(name));
	size_t len = batch_mark(buf, NFNL_MSG_BATCH_BEGIN, seq);
	struct nlmsghdr *nlh = ipri_nfnl_put(buf + len, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE,
		      NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, NFPROTO_INET, 0,
		      seq + 1);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, htonl(NFT_TABLE_F_OWNER));
	len += MNL_ALIGN(nlh->nlmsg_len);
	len += batch_mark(buf + len, NFNL_MSG_BATCH_END, seq + 2);
	int err = nl_ask(fd, buf, len, seq, seq + 1);
	close(fd); /* an owner table goes with its socket */
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		atomic_store(&owner_state, -1);
		return 0;
	}
	if (err)
		return err;
	atomic_store(&owner_state, 1);
	return 1;
}

/* Does the kernel have the xtables target @name at revision @rev?  Asked
 * through nft_compat's own query for the IPv4 family.  nft_compat looks a
 * target of an inet table up under the family-independent list and, when it
 * is not there, requests the module "<prefix>t_<name>" with no prefix for
 * the inet family: no module has that name, so on a modular kernel xt_NFQUEUE
 * is never loaded by an inet rule.  This query requests "ipt_NFQUEUE", an
 * alias of xt_NFQUEUE, and so loads it where it exists.  0 if the kernel has
 * it, -ENOENT if not, another negative errno if the question failed. */
int ipri_probe_xt_target(const char *name, uint32_t rev)
{
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	char buf[512];
	uint32_t seq = (uint32_t)time(NULL) ^ 0xa5a50000u;
	struct nlmsghdr *nlh = ipri_nfnl_put(buf, (NFNL_SUBSYS_NFT_COMPAT << 8) |
					    NFNL_MSG_COMPAT_GET, NLM_F_ACK,
				       NFPROTO_IPV4, 0, seq);
	mnl_attr_put_strz(nlh, NFTA_COMPAT_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_COMPAT_REV, htonl(rev));
	mnl_attr_put_u32(nlh, NFTA_COMPAT_TYPE, htonl(1)); /* a target */
	int err = nl_ask(fd, buf, nlh->nlmsg_len, seq, seq);
	close(fd);
	/* No nft_compat at all: the nfnetlink subsystem is unknown. */
	if (err == -EOPNOTSUPP || err == -EINVAL)
		err = -ENOENT;
	return err;
}

/* Does the kernel take a rule made of the one expression that @put writes
 * into the list nest?  One batch makes a table of a probe's own name, a
 * regular chain in it, the rule, and deletes the table again: nf_tables
 * checks an expression when the rule is added (loading its module on the
 * way, then replaying the batch), so an expression it lacks fails the whole
 * batch and nothing is ever committed; one it has commits a transaction
 * that leaves nothing behind, on any kernel, with or without owner tables.
 * 0: it has it; -ENOENT / -EOPNOTSUPP: it does not (no module for the
 * expression, or an unknown argument such as a payload base); another
 * negative errno: the question failed (EPERM without CAP_NET_ADMIN). */
static int probe_expr(void (*put)(struct nlmsghdr *nlh))
{
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	char buf[2048];
	uint32_t seq = (uint32_t)time(NULL) ^ 0x3c3c0000u;
	char name[40];
	probe_table_name(name, sizeof(name));
	const uint16_t nft = NFNL_SUBSYS_NFTABLES << 8;
	size_t len = batch_mark(buf, NFNL_MSG_BATCH_BEGIN, seq);
	struct nlmsghdr *nlh = ipri_nfnl_put(buf + len, nft | NFT_MSG_NEWTABLE,
			   NLM_F_CREATE | NLM_F_EXCL, NFPROTO_INET, 0, seq + 1);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, nft | NFT_MSG_NEWCHAIN,
			   NLM_F_CREATE | NLM_F_EXCL, NFPROTO_INET, 0, seq + 2);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, name);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, "p");
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, nft | NFT_MSG_NEWRULE,
			   NLM_F_CREATE | NLM_F_APPEND, NFPROTO_INET, 0,
			   seq + 3);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, name);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "p");
	struct nlattr *list = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	put(nlh);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, nft | NFT_MSG_DELTABLE, NLM_F_ACK,
			   NFPROTO_INET, 0, seq + 4);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	len += MNL_ALIGN(nlh->nlmsg_len);
	len += batch_mark(buf + len, NFNL_MSG_BATCH_END, seq + 5);
	int err = nl_ask(fd, buf, len, seq, seq + 4);
	close(fd);
	return err;
}

/* payload @ih,0,8 into register 1: the inner payload base (Linux 5.16);
 * older kernels refuse a base past the transport header with EOPNOTSUPP. */
static void put_inner_payload(struct nlmsghdr *nlh)
{
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "payload");
	struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_BASE, htonl(NFT_PAYLOAD_INNER_HEADER));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_OFFSET, htonl(0));
	mnl_attr_put_u32(nlh, NFTA_PAYLOAD_LEN, htonl(1));
	mnl_attr_nest_end(nlh, d);
}

/* queue num 0 bypass: nft_queue. */
static void put_queue(struct nlmsghdr *nlh)
{
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "queue");
	struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u16(nlh, NFTA_QUEUE_NUM, htons(0));
	mnl_attr_put_u16(nlh, NFTA_QUEUE_TOTAL, htons(1));
	mnl_attr_put_u16(nlh, NFTA_QUEUE_FLAGS, htons(NFT_QUEUE_FLAG_BYPASS));
	mnl_attr_nest_end(nlh, d);
}

/* log group 0: nft_log with nfnetlink_log behind it. */
static void put_log(struct nlmsghdr *nlh)
{
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, "log");
	struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	mnl_attr_put_u16(nlh, NFTA_LOG_GROUP, htons(0));
	mnl_attr_nest_end(nlh, d);
}

/* "X.Y..." of uname's release as X * 1000 + Y, or 0. */
static unsigned kernel_version(void)
{
	struct utsname u;
	unsigned x = 0, y = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &x, &y) != 2)
		return 0;
	return x * 1000 + y;
}

/* The features IPREDIR_DISABLE names ("inner-payload,owner-tables,
 * native-queue"; unknown words are ignored): to run the fallbacks on a
 * kernel that would not need them (tests), or to step around a kernel bug. */
static const struct {
	const char *name;
	uint32_t bit;
} feature_names[] = {
	{ "owner-tables", IPR_KF_OWNER_TABLES },
	{ "native-queue", IPR_KF_NATIVE_QUEUE },
	{ "xt-queue", IPR_KF_XT_QUEUE },
	{ "inner-payload", IPR_KF_INNER_PAYLOAD },
	{ "log", IPR_KF_LOG },
};

uint32_t ipri_features_disabled(void)
{
	static atomic_uint cached; /* bit 31: computed */
	unsigned v = atomic_load(&cached);
	if (v)
		return v & ~IPR_KF_GUESSED;
	const char *s = getenv("IPREDIR_DISABLE");
	v = IPR_KF_GUESSED;
	for (size_t i = 0; s && i < sizeof(feature_names) / sizeof(*feature_names); i++) {
		size_t n = strlen(feature_names[i].name);
		for (const char *p = strstr(s, feature_names[i].name); p;
		     p = strstr(p + 1, feature_names[i].name))
			if ((p == s || p[-1] == ',' || p[-1] == ' ') &&
			    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
				v |= feature_names[i].bit;
	}
	atomic_store(&cached, v);
	return v & ~IPR_KF_GUESSED;
}

/* What has been asked (known) and the answers (have), once per process
 * and feature; a question that failed (EPERM without CAP_NET_ADMIN) is
 * not kept, so a later privileged caller asks again. */
static atomic_uint known, have;

static int ask(uint32_t bit)
{
	switch (bit) {
	case IPR_KF_OWNER_TABLES: {
		int own = ipri_probe_owner_tables();
		return own < 0 ? own : own ? 0 : -EOPNOTSUPP;
	}
	case IPR_KF_INNER_PAYLOAD:
		return probe_expr(put_inner_payload);
	case IPR_KF_NATIVE_QUEUE:
		return probe_expr(put_queue);
	case IPR_KF_XT_QUEUE:
		return ipri_probe_xt_target("NFQUEUE", 3);
	case IPR_KF_LOG:
		return probe_expr(put_log);
	}
	return -EINVAL;
}

/* Without the right to ask: what the kernel's version says (Linux 5.12
 * brought owner tables, 5.16 the inner payload base); the queue and log
 * expressions are in every kernel that has nf_tables' owner tables. */
static bool guess(uint32_t bit)
{
	unsigned ver = kernel_version();

	switch (bit) {
	case IPR_KF_OWNER_TABLES:
		return ver >= 5012;
	case IPR_KF_INNER_PAYLOAD:
		return ver >= 5016;
	case IPR_KF_NATIVE_QUEUE:
	case IPR_KF_LOG:
		return true;
	}
	return false;
}

int ipri_feature_probe(uint32_t bit)
{
	if (ipri_features_disabled() & bit)
		return 0;
	if (atomic_load(&known) & bit)
		return (atomic_load(&have) & bit) != 0;
	int err = ask(bit);
	if (err && err != -ENOENT && err != -EOPNOTSUPP)
		return err;
	if (!err)
		atomic_fetch_or(&have, bit);
	atomic_fetch_or(&known, bit);
	return !err;
}

IPR_API int ipr_kernel_features(uint32_t *out)
{
	static const uint32_t bits[] = {
		IPR_KF_OWNER_TABLES, IPR_KF_NATIVE_QUEUE, IPR_KF_XT_QUEUE,
		IPR_KF_INNER_PAYLOAD, IPR_KF_LOG,
	};
	uint32_t v = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(*bits); i++) {
		/* the xt way is asked only where the native one is missing */
		if (bits[i] == IPR_KF_XT_QUEUE && (v & IPR_KF_NATIVE_QUEUE))
			continue;
		int r = ipri_feature_probe(bits[i]);
		if (r < 0) {
			if (r != -EPERM)
				return r;
			v |= IPR_KF_GUESSED;
			r = guess(bits[i]) && !(ipri_features_disabled() & bits[i]);
		}
		if (r)
			v |= bits[i];
	}
	if (out)
		*out = v;
	return 0;
}

/* What each feature's answer means for ipredir, one "what: way" item per
 * feature, separated by @sep: explain and `ipredir stats` print it. */
IPR_API int ipr_kernel_features_format(uint32_t v, const char *sep, char *buf,
				      size_t size)
{
	struct utsname u;
	const char *q = (v & IPR_KF_NATIVE_QUEUE) ? "nft_queue"
			: (v & IPR_KF_XT_QUEUE) ? "xt NFQUEUE through nft_compat "
						  "(no nft_queue)"
			: "none (neither nft_queue nor xt NFQUEUE)";
	int n = snprintf(buf, size,
		"Linux %s%s%s"
		"rules removed: %s%s"
		"queue verdict: %s%s"
		"tcp/udp.Payload[i]: %s%s"
		"sniff log: %s",
		uname(&u) ? "?" : u.release,
		(v & IPR_KF_GUESSED) ? " (guessed from the version: no "
				       "CAP_NET_ADMIN to ask)" : "", sep,
		(v & IPR_KF_OWNER_TABLES) ? "by the kernel (owner tables)"
		: "by the keeper process, leftovers swept (no owner tables, "
		  "Linux < 5.12)", sep,
		q, sep,
		(v & IPR_KF_INNER_PAYLOAD) ? "in the kernel (inner payload)"
		: "in user space (no inner payload base, Linux < 5.16)",
		sep, (v & IPR_KF_LOG) ? "nft log" : "none (no nft_log)");
	return n < 0 ? -EINVAL : n;
}
