/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nlreq.c - the one way the library asks the kernel something over
 * netlink: send a request (one message or an nfnetlink batch), then read
 * every answer that belongs to it, checked by sequence number and sender,
 * with the kernel's own error text (extended ack) kept for the caller.
 * Also the thread's last-error detail that ipr_last_error() returns. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include "internal.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

/* Capped acks and extended-ack text on a netlink socket. */
static void ipri_nl_sockopts(int fd);
#ifndef NLMSGERR_ATTR_MSG
#define NLMSGERR_ATTR_MSG 1
#endif

/* ------------------------------------------------- last-error detail --- */

static _Thread_local char last_text[256];
static _Thread_local int last_pos = -1;

void ipri_detail_clear(void)
{
	last_text[0] = '\0';
	last_pos = -1;
}

void ipri_detail_set(int pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_text, sizeof(last_text), fmt, ap);
	va_end(ap);
	last_pos = pos;
}

IPR_API const char *ipr_last_error(int *pos)
{
	if (pos)
		*pos = last_pos;
	return last_text;
}

/* ----------------------------------------------------------- requests --- */

/*
 * Bind @fd to a netlink port id of its own, never the process id.  The
 * kernel lets a port id go (netlink_remove) before it tells nf_tables and
 * nfnetlink_queue that its socket is gone (NETLINK_URELEASE), and they
 * then delete every table owned by that id and unbind every queue bound
 * to it.  An id taken again in between loses its new table or queue: the
 * process id, which the kernel's own choice (autobind) gives the first
 * socket of a process that has none, is taken again at once.  A socket's
 * last reference may go in another process at any moment (a fork: the
 * keeper, a child that has not yet exec'd), so a handle lost its table
 * (fault_churn and fault_concurrent, 6.1 and 6.12 guests: "no such object"
 * from the heartbeat).  These ids mix the pid with a per-process count:
 * not one a process id can be (2^30 and up), not one the kernel's own
 * choice uses (negative), and not taken again by this process.
 */
int ipri_nl_bind(int fd, uint32_t *portid)
{
	static _Atomic uint32_t count;
	uint64_t pid = (uint64_t)getpid();
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	for (int tries = 0; tries < 64; tries++) {
		uint64_t x = pid << 32 | atomic_fetch_add(&count, 1);
		/* splitmix64's finaliser: a bijection, spread over 30 bits */
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
		x ^= x >> 31;
		sa.nl_pid = 0x40000000u | (uint32_t)(x & 0x3fffffffu);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			if (portid)
				*portid = sa.nl_pid;
			return 0;
		}
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

int ipri_nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	int e = ipri_nl_bind(fd, NULL);
	if (e) {
		close(fd);
		return e;
	}
	/* an answer that never comes is an error, not a hang */
	struct timeval tv = { .tv_sec = 5 };
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ipri_nl_sockopts(fd);
	return fd;
}

struct nlmsghdr *ipri_nfnl_put(void *at, uint16_t type, uint16_t flags,
			      uint8_t family, uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

static void ipri_nl_sockopts(int fd)
{
	int one = 1;

	/* An error ack then holds only the header of the failed message,
	 * not the whole rule (which may be far larger than any buffer), and
	 * the kernel's text when it has one.  Both are hints: kernels
	 * without them (before 4.3 / 4.12) still answer. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
}

/* The kernel's text in an error ack, if it sent one. */
static void ext_ack_text(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	off = MNL_ALIGN(off);
	if (MNL_NLMSG_HDRLEN + off >= nlh->nlmsg_len)
		return;
	const char *p = (const char *)e + off;
	int rest = (int)(nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off);
	const struct nlattr *a = (const struct nlattr *)p;

	for (; mnl_attr_ok(a, rest); a = mnl_attr_next(a)) {
		rest = (int)(nlh->nlmsg_len -
			     ((const char *)a - (const char *)nlh));
		if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG)
			continue;
		size_t n = mnl_attr_get_payload_len(a);
		const char *s = mnl_attr_get_payload(a);
		if (n && memchr(s, '\0', n))
			ipri_detail_set(-1, "kernel: %s", s);
		return;
	}
}

int ipri_nl_request(int fd, const void *msg, size_t len,
		   const struct ipr_nlreq *r)
{
	/* Acks are small with NETLINK_CAP_ACK; data answers of ours (one
	 * object) too.  A datagram that does not fit is reported, never
	 * read in part and taken as whole. */
	char buf[32768] __attribute__((aligned(8)));
	uint32_t acked = 0;
	int first_err = 0;

	if (send(fd, msg, len, 0) < 0)
		return -errno;
	while (acked < r->acks) {
		struct iovec iov = { buf, sizeof(buf) };
		struct sockaddr_nl sa;
		struct msghdr mh = {
			.msg_name = &sa, .msg_namelen = sizeof(sa),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		/* The kernel answers a whole batch before send() returns:
		 * once it has failed, what is not queued now never comes. */
		ssize_t n = recvmsg(fd, &mh, first_err ? MSG_DONTWAIT : 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (first_err)
				return first_err;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			if (errno == ENOBUFS)
				ipri_detail_set(-1, "netlink answers were lost "
					       "(socket buffer full)");
			return -errno;
		}
		if (sa.nl_pid != 0)
			continue; /* not from the kernel */
		if (mh.msg_flags & MSG_TRUNC) {
			ipri_detail_set(-1, "a netlink answer of %zd bytes did "
				       "not fit the %zu-byte buffer", n,
				       sizeof(buf));
			return -EMSGSIZE;
		}
		int left = (int)n;
		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		     ipr_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq < r->seq_first ||
			    nlh->nlmsg_seq >= r->seq_end)
				continue; /* an earlier request's, or a packet */
			if (nlh->nlmsg_type == NLMSG_DONE) {
				/* The end of a dump: its one ack, with the
				 * dump's error if it failed half-way. */
				acked++;
				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
					int e = *(const int *)mnl_nlmsg_get_payload(nlh);
					if (e < 0 && !first_err)
						first_err = e;
				}
				continue;
			}
			if (nlh->nlmsg_type != NLMSG_ERROR) {
				if (r->cb && !first_err) {
					int e = r->cb(nlh, r->data);
					if (e < 0)
						first_err = e;
				}
				continue;
			}
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr)))
				return -EPROTO;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			acked++;
			if (e->error && !first_err) {
				first_err = e->error;
				ext_ack_text(nlh);
			}
			/* After an error in a batch the kernel rolls back
			 * and still acks (or errors) every message: keep
			 * reading so none is left for the next request. */
		}
	}
	return first_err;
}
