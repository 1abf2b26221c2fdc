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
#include <string.h>
#include <sys/socket.h>
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

/* 0 unknown, 1 yes, -1 no. */
static atomic_int owner_state;

/* Can a table carry the owner flag?  A batch that makes an owner table of
 * a probe's own name (not ipredir*, which tools and tests count); the
 * kernel removes it with the socket.  Kernels before
 * 5.12 know only the dormant flag and refuse any other with EINVAL. */
int ipri_probe_owner_tables(void)
{
	int st = atomic_load(&owner_state);
	if (st)
		return st > 0;
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	char buf[1024];
	static atomic_uint n;
	uint32_t seq = (uint32_t)time(NULL) ^ 0x5a5a0000u;
	char name[40];
	snprintf(name, sizeof(name), "ipr_probe_%d_%u", (int)getpid(),
		 atomic_fetch_add(&n, 1));
	size_t len = 0;
	struct nlmsghdr *nlh = ipri_nfnl_put(buf, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
				       NFNL_SUBSYS_NFTABLES, seq);
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE,
		      NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, NFPROTO_INET, 0,
		      seq + 1);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, htonl(NFT_TABLE_F_OWNER));
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, NFNL_MSG_BATCH_END, 0, AF_UNSPEC,
		      NFNL_SUBSYS_NFTABLES, seq + 2);
	len += MNL_ALIGN(nlh->nlmsg_len);
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
