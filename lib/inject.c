/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inject.c - new packets from the program: raw IP sockets whose packets
 * carry the handle's mark, so that this handle and those above it let them
 * by (no loops) and the handles below still see them. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

static int raw_open(int family, uint32_t mark)
{
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int ipri_inject_open(struct ipr_handle *h)
{
	uint32_t mark = IPR_MARK_MAGIC | ipr_prio_enc(h->priority);
	h->raw4 = raw_open(AF_INET, mark);
	h->raw6 = raw_open(AF_INET6, mark);
	return h->raw4 < 0 ? h->raw4 : h->raw6 < 0 ? h->raw6 : 0;
}

void ipri_inject_close(struct ipr_handle *h)
{
	if (h->raw4 >= 0)
		close(h->raw4);
	if (h->raw6 >= 0)
		close(h->raw6);
	h->raw4 = h->raw6 = -1;
}

int ipri_inject(struct ipr_handle *h, const void *pkt, size_t len,
	       const struct ipr_addr *addr)
{
	struct ipr_headers hd;
	if (len > IPR_MTU_MAX)
		return -EMSGSIZE;
	if (ipr_packet_parse(pkt, len, &hd) < 0)
		return -EINVAL;
	/* The length the header claims must be the length given: the parser
	 * clamps it, so read the field itself. */
	if (hd.ip ? ntohs(hd.ip->length) != len
		  : 40u + ntohs(hd.ipv6->length) != len)
		return -EINVAL;
	bool out = addr->flags & IPR_ADDR_OUTBOUND;
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec iov = { (void *)pkt, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;
	int fd;

	/* An inbound packet goes to one of our own addresses: the route to it
	 * is the loopback path, which delivers it to the local stack. */
	if (hd.ip) {
		fd = h->raw4;
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = hd.ip->dst;
		mh.msg_name = &s4;
		mh.msg_namelen = sizeof(s4);
		if (out && addr->if_idx) {
			memset(cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf;
			mh.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
			struct in_pktinfo pi = { .ipi_ifindex = (int)addr->if_idx };
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		}
	} else {
		fd = h->raw6;
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, hd.ipv6->dst, 16);
		if (out)
			s6.sin6_scope_id = addr->if_idx;
		mh.msg_name = &s6;
		mh.msg_namelen = sizeof(s6);
	}
	if (fd < 0)
		return fd;
	if (sendmsg(fd, &mh, 0) < 0)
		return -errno;
	atomic_fetch_add_explicit(&h->injected, 1, memory_order_relaxed);
	return 0;
}
