/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tables.c - the library's nftables tables by name: how they are named,
 * listing them (a table dump), deleting one.  The handle, the keeper, the
 * sweep and the tools (stats, cleanup) all go through here. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

_Static_assert(sizeof(((struct ipr_table_info *)0)->name) >=
	       NFT_TABLE_MAXNAMELEN, "a table name the kernel sends fits");

void ipri_table_name(char buf[IPR_TABLE_NAME_MAX], unsigned seq)
{
	snprintf(buf, IPR_TABLE_NAME_MAX, IPR_TABLE_PREFIX "_%d_%u",
		 (int)getpid(), seq);
}

int ipri_table_name_pid(const char *name)
{
	int pid = 0, n = 0;
	unsigned seq;
	if (sscanf(name, IPR_TABLE_PREFIX "_%d_%u%n", &pid, &seq, &n) != 2 ||
	    name[n] || pid <= 0)
		return 0;
	return pid;
}

const char *ipri_family_name(uint8_t family)
{
	switch (family) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	case NFPROTO_ARP: return "arp";
	case NFPROTO_BRIDGE: return "bridge";
	case NFPROTO_NETDEV: return "netdev";
	default: return "unknown";
	}
}

size_t ipri_table_del_batch(char *buf, uint8_t family, const char *name,
			   uint32_t seq)
{
	size_t len = 0;
	struct nlmsghdr *nlh = ipri_nfnl_put(buf, NFNL_MSG_BATCH_BEGIN, 0,
					    AF_UNSPEC, NFNL_SUBSYS_NFTABLES,
					    seq - 1);
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len,
			   (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE,
			   NLM_F_ACK, family, 0, seq);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, name);
	len += MNL_ALIGN(nlh->nlmsg_len);
	nlh = ipri_nfnl_put(buf + len, NFNL_MSG_BATCH_END, 0, AF_UNSPEC,
			   NFNL_SUBSYS_NFTABLES, seq + 1);
	len += MNL_ALIGN(nlh->nlmsg_len);
	return len;
}

int ipri_table_delete(uint8_t family, const char *name)
{
	char buf[IPR_TABLE_DEL_BATCH];
	uint32_t seq = (uint32_t)time(NULL) | 1;
	if (strlen(name) >= NFT_TABLE_MAXNAMELEN)
		return -ENAMETOOLONG;
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	size_t len = ipri_table_del_batch(buf, family, name, seq);
	struct ipr_nlreq r = { .seq_first = seq - 1, .seq_end = seq + 2,
			       .acks = 1 };
	int err = ipri_nl_request(fd, buf, len, &r);
	close(fd);
	return err;
}

struct list {
	int (*cb)(const struct ipr_table_info *t, void *data);
	void *data;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct list *l = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	struct ipr_table_info t = { .family = nfg->nfgen_family };
	const struct nlattr *a;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nfg)))
		return -EPROTO;
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		uint16_t type = mnl_attr_get_type(a);
		if (type == NFTA_TABLE_NAME) {
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(t.name, sizeof(t.name), "%s",
					 mnl_attr_get_str(a));
			continue;
		}
		if (mnl_attr_get_payload_len(a) != 4)
			continue;
		uint32_t v = ntohl(mnl_attr_get_u32(a));
		if (type == NFTA_TABLE_FLAGS) {
			t.flags = v;
		} else if (type == NFTA_TABLE_USE) {
			t.use = v;
		} else if (type == NFTA_TABLE_OWNER) {
			t.owner = v;
			t.has_owner = true;
		}
	}
	if (strncmp(t.name, IPR_TABLE_PREFIX, strlen(IPR_TABLE_PREFIX)))
		return 0;
	return l->cb(&t, l->data);
}

int ipri_tables_list(uint8_t family,
		    int (*cb)(const struct ipr_table_info *t, void *data),
		    void *data)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg))];
	uint32_t seq = (uint32_t)time(NULL);
	struct list l = { cb, data };
	int fd = ipri_nl_socket();
	if (fd < 0)
		return fd;
	struct nlmsghdr *nlh = ipri_nfnl_put(buf, (NFNL_SUBSYS_NFTABLES << 8) |
					    NFT_MSG_GETTABLE, NLM_F_DUMP,
					    family, 0, seq);
	/* A dump ends with NLMSG_DONE, which counts as its one ack. */
	struct ipr_nlreq r = { .seq_first = seq, .seq_end = seq + 1,
			       .acks = 1, .cb = table_cb, .data = &l };
	int err = ipri_nl_request(fd, nlh, nlh->nlmsg_len, &r);
	close(fd);
	return err;
}
