/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nfq.c - one queue of a handle: its nfnetlink_queue (or, for sniffing,
 * nfnetlink_log) socket, batched receive straight into the caller's buffer,
 * batched verdicts, the queue time, and the near-64 KiB GSO trap. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

#define COPY_RANGE 0xffff       /* the kernel clamps it to 65531 itself */
#define TX_MAX_IOV 1020         /* below IOV_MAX */
_Static_assert(TX_MAX_IOV <= IPR_QUEUE_IOVS, "the vector fits ipr_queue.iov");
#define TX_MAX_BYTES (1u << 20) /* one verdict datagram */

/* Bytes of each packet the kernel copies to us: the snaplen, or all. */
static uint32_t copy_range(const struct ipr_handle *h)
{
	return h->snaplen ? h->snaplen : COPY_RANGE;
}

uint64_t ipri_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * A later fragment has no transport header, so every test on one is false
 * (and tcp, udp, icmp, icmpv6 themselves).  The kernel's payload loads
 * refuse later fragments only since Linux 5.11-ish: 5.10 reads fragment
 * data as a header, and its rules can take a later fragment the filter
 * does not select, never the other way round.  So later fragments are
 * checked again here, on every kernel; a fragment is rare, the test of the
 * IP header cheap.
 */
static bool later_fragment(const uint8_t *p, uint32_t len)
{
	uint32_t off = 40;
	uint8_t nh;

	if (len >= 20 && (p[0] >> 4) == 4)
		return ((p[6] & 0x1f) << 8 | p[7]) != 0;
	if (len < 40 || (p[0] >> 4) != 6)
		return false;
	nh = p[6];
	for (int hops = 0; hops < 8 && off + 8 <= len; hops++) {
		switch (nh) {
		case 44: /* fragment: offset in 8-byte units, flags below */
			return ((p[off + 2] << 8 | p[off + 3]) & 0xfff8) != 0;
		case 0: case 43: case 60: /* hop-by-hop, routing, dest. */
			nh = p[off];
			off += ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case 51: /* AH */
			nh = p[off];
			off += ((uint32_t)p[off + 1] + 2) * 4;
			break;
		default:
			return false;
		}
	}
	return false;
}

/* --- configuration ---------------------------------------------------- */

static struct nlmsghdr *cfg_hdr(char *buf, bool log, uint16_t num)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = log ? (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG
			      : (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(num);
	return nlh;
}

/* Send one config message and wait for its ack.  Used only before the
 * rules exist; a packet message (sequence 0) would be passed over. */
static int cfg_send(int fd, struct nlmsghdr *nlh)
{
	struct ipr_nlreq r = {
		.seq_first = nlh->nlmsg_seq, .seq_end = nlh->nlmsg_seq + 1,
		.acks = 1,
	};
	return ipri_nl_request(fd, nlh, nlh->nlmsg_len, &r);
}

static int bind_queue(int fd, uint16_t num, bool gso, bool fail_open,
		      uint32_t maxlen, uint32_t range)
{
	char buf[512];
	struct nlmsghdr *nlh = cfg_hdr(buf, false, num);
	struct nfqnl_msg_config_cmd cmd = { .command = NFQNL_CFG_CMD_BIND };
	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(cmd), &cmd);
	int err = cfg_send(fd, nlh);
	if (err)
		return err;

	nlh = cfg_hdr(buf, false, num);
	struct nfqnl_msg_config_params p = {
		.copy_range = htonl(range), .copy_mode = NFQNL_COPY_PACKET,
	};
	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(p), &p);
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(maxlen));
	/* One flags attribute with its mask: the kernel keeps only one. */
	uint32_t flags = NFQA_CFG_F_UID_GID;
	if (gso)
		flags |= NFQA_CFG_F_GSO;
	if (fail_open)
		flags |= NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_UID_GID |
		NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	err = cfg_send(fd, nlh);
	if (err == -EOPNOTSUPP) {
		/* Old kernel without UID_GID: go on without owner info. */
		nlh = cfg_hdr(buf, false, num);
		mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(p), &p);
		mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(maxlen));
		flags &= ~(uint32_t)NFQA_CFG_F_UID_GID;
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK,
				 htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
		err = cfg_send(fd, nlh);
	}
	return err;
}

static int bind_log(int fd, uint16_t group, uint32_t range)
{
	char buf[512];
	struct nlmsghdr *nlh = cfg_hdr(buf, true, group);
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	int err = cfg_send(fd, nlh);
	if (err)
		return err;
	nlh = cfg_hdr(buf, true, group);
	struct nfulnl_msg_config_mode m = {
		.copy_range = htonl(range), .copy_mode = NFULNL_COPY_PACKET,
	};
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
	/* Up to 64 copies per datagram, flushed after 10 ms at the latest:
	 * far fewer wake-ups under load, at most 10 ms late when idle.  The
	 * buffer size keeps every datagram within the queue's own buffer. */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(64));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(65536));
	return cfg_send(fd, nlh);
}

int ipri_nfq_set_maxlen(struct ipr_queue *q, uint32_t len)
{
	/* No ack: packets may be arriving; an error would come back as a
	 * message that the receive path counts. */
	char buf[256];
	struct nlmsghdr *nlh = cfg_hdr(buf, false, q->qnum);
	nlh->nlmsg_flags = NLM_F_REQUEST;
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(len));
	if (send(q->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	return 0;
}

/* Bind the lowest free number at or above @start. */
static int bind_free(int fd, bool log, uint16_t start, uint16_t avoid,
		     bool gso, bool fail_open, uint32_t maxlen, uint32_t range,
		     uint16_t *num)
{
	int tries = 0;
	for (uint32_t n = start; n <= 65535 && tries < 4096; n++) {
		if (n == avoid || !ipri_proc_queue_free((uint16_t)n, log))
			continue;
		tries++;
		int err = log ? bind_log(fd, (uint16_t)n, range)
			      : bind_queue(fd, (uint16_t)n, gso, fail_open,
					   maxlen, range);
		if (!err) {
			*num = (uint16_t)n;
			return 0;
		}
		/* Taken by someone else between our look and our bind: the
		 * kernel says EPERM for a queue of another socket, and the
		 * number then shows in /proc; a lacking capability does not. */
		if (err == -EBUSY ||
		    (err == -EPERM && !ipri_proc_queue_free((uint16_t)n, log)))
			continue;
		return err;
	}
	return -EBUSY;
}

int ipri_nfq_open(struct ipr_queue *q, bool sniff, uint16_t *num,
		 uint16_t range_start)
{
	struct ipr_handle *h = q->h;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return -errno;
	q->fd = fd;
	int e = ipri_nl_bind(fd, &q->portid);
	if (e)
		return e;
	int one = 1;
	/* Lost packets are counted by the kernel; the socket must not die. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	int rcv = (int)h->queue_size;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	int snd = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));

	bool fail_open = !(h->flags & IPR_FLAG_FAIL_CLOSED);
	int err;
	if (sniff) {
		err = bind_free(fd, true, range_start, 0, false, false, 0,
				copy_range(h), num);
		q->qnum = q->seg_qnum = *num;
		return err;
	}
	err = bind_free(fd, false, range_start, 0, true, fail_open,
			h->queue_length, copy_range(h), num);
	if (err)
		return err;
	q->qnum = *num;
	/* The companion queue: same socket, no GSO flag, so the kernel cuts
	 * what is re-queued there into segments that fit a message. */
	err = bind_free(fd, false, (uint16_t)(*num + 1), *num, false,
			fail_open, h->queue_length, copy_range(h), &q->seg_qnum);
	if (err)
		return err;
	/* Sized for the largest queue length, so the parameter can grow
	 * while packets are held. */
	return ipri_held_init(&q->held, IPR_QUEUE_LENGTH_MAX);
}

/* --- verdicts ---------------------------------------------------------- */

struct vmsg {                   /* one verdict message up to the payload */
	struct nlmsghdr nlh;
	struct nfgenmsg nfg;
	struct nlattr va;
	struct nfqnl_msg_verdict_hdr vh;
	struct nlattr pa;
};
_Static_assert(sizeof(struct vmsg) <= IPR_VMSG_ROOM,
	       "a verdict header fits its room in ipr_queue.txhdr");

struct tx {
	struct ipr_queue *q;
	struct vmsg *hdrs;
	struct iovec *iov;
	unsigned nhdr, niov;
	size_t bytes;
	int err;
	/* A held packet stays held until its verdict is in the kernel: the
	 * slot of each pending message (IPR_NONE: no held packet) and the
	 * counter to bump, applied only once sendmsg has taken them.  If it
	 * fails they stay held, for the caller to answer again or for the
	 * queue time. */
	uint32_t *slot;
	uint8_t *kind;
	unsigned answered;      /* held packets whose verdict went out */
	bool prefix;            /* after a failed send, send nothing more (so
				   that what is answered is a prefix) */
};
enum { TXK_NONE, TXK_SENT, TXK_DROPPED, TXK_TIMEOUT };

static const uint8_t zero_pad[4];

static void tx_settle(struct tx *t, bool sent)
{
	struct ipr_queue *q = t->q;
	for (unsigned i = 0; i < t->nhdr; i++) {
		uint32_t s = t->slot[i];
		if (s == IPR_NONE)
			continue;
		q->held.fl[s] &= (uint8_t)~IPR_HELD_PENDING;
		if (!sent)
			continue;
		ipri_held_del(&q->held, s);
		t->answered++;
		switch (t->kind[i]) {
		case TXK_SENT: ipr_qst_add(&q->st.sent_packets, 1); break;
		case TXK_DROPPED: ipr_qst_add(&q->st.dropped_verdict, 1); break;
		case TXK_TIMEOUT: ipr_qst_add(&q->st.dropped_timeout, 1); break;
		}
	}
}

static int tx_flush(struct tx *t)
{
	if (!t->niov)
		return 0;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = t->iov, .msg_iovlen = t->niov,
	};
	ssize_t n;
	int tries = 0;
	/* A netlink datagram to the kernel is taken whole or not at all;
	 * a lack of memory may pass, so try it again a few times. */
	do
		n = sendmsg(t->q->fd, &mh, 0);
	while (n < 0 && (errno == EINTR ||
			 ((errno == ENOBUFS || errno == ENOMEM ||
			   errno == EAGAIN) && ++tries < 4)));
	int e = n < 0 ? -errno : 0;
	tx_settle(t, n >= 0);
	t->niov = t->nhdr = 0;
	t->bytes = 0;
	if (e)
		t->err = e;
	return e;
}

static void tx_init(struct tx *t, struct ipr_queue *q)
{
	t->q = q;
	t->hdrs = (struct vmsg *)q->txhdr;
	t->iov = q->iov;
	t->slot = q->txslot;
	t->kind = q->txkind;
	t->nhdr = t->niov = 0;
	t->bytes = 0;
	t->err = 0;
	t->answered = 0;
	t->prefix = false;
}

/* Queue one verdict; @data (may be NULL) replaces the packet.  False if
 * it was not queued (a prefix send that failed already). */
static bool tx_add(struct tx *t, uint16_t qnum, uint32_t verdict, uint32_t id,
		   const void *data, uint32_t len)
{
	size_t need = sizeof(struct vmsg) + len + 4;
	if (t->niov + 3 > TX_MAX_IOV || t->nhdr >= IPR_BATCH_MAX * 2 ||
	    (t->bytes && t->bytes + need > TX_MAX_BYTES))
		tx_flush(t);
	if (t->prefix && t->err)
		return false;
	t->slot[t->nhdr] = IPR_NONE;
	t->kind[t->nhdr] = TXK_NONE;
	struct vmsg *m = &t->hdrs[t->nhdr++];
	size_t hl = data ? sizeof(*m) : sizeof(*m) - sizeof(struct nlattr);
	m->nlh.nlmsg_len = (uint32_t)(hl + (data ? len : 0));
	m->nlh.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT;
	m->nlh.nlmsg_flags = NLM_F_REQUEST;
	m->nlh.nlmsg_seq = 0;
	m->nlh.nlmsg_pid = 0;
	m->nfg.nfgen_family = AF_UNSPEC;
	m->nfg.version = NFNETLINK_V0;
	m->nfg.res_id = htons(qnum);
	m->va.nla_len = sizeof(struct nlattr) + sizeof(m->vh);
	m->va.nla_type = NFQA_VERDICT_HDR;
	m->vh.verdict = htonl(verdict);
	m->vh.id = htonl(id);
	t->iov[t->niov++] = (struct iovec){ m, hl };
	if (data) {
		/* nla_len without padding: a padded one makes the kernel
		 * take the padding as packet bytes. */
		m->pa.nla_len = (uint16_t)(sizeof(struct nlattr) + len);
		m->pa.nla_type = NFQA_PAYLOAD;
		t->iov[t->niov++] = (struct iovec){ (void *)data, len };
		uint32_t pad = MNL_ALIGN(len) - len;
		if (pad)
			t->iov[t->niov++] = (struct iovec){ (void *)zero_pad, pad };
	}
	t->bytes += need;
	return true;
}

/* The verdict of a held packet; the packet is let go once it is sent
 * (tx_settle), and counted as @kind says. */
static void held_answer(struct ipr_queue *q, struct tx *t, uint32_t slot,
			uint32_t verdict, const void *data, uint32_t len,
			uint8_t kind)
{
	struct ipr_held *hd = &q->held;
	uint16_t qn = (hd->fl[slot] & IPR_HELD_SEG) ? q->seg_qnum : q->qnum;
	if (!tx_add(t, qn, verdict, hd->id[slot], data, len))
		return;
	hd->fl[slot] |= IPR_HELD_PENDING;
	t->slot[t->nhdr - 1] = slot;
	t->kind[t->nhdr - 1] = kind;
}

/* The same, but the packet is let go at once, sent or not: for close, and
 * for the oldest packet when the pool is full. */
static void held_answer_now(struct ipr_queue *q, struct tx *t, uint32_t slot,
			    uint32_t verdict)
{
	struct ipr_held *hd = &q->held;
	uint16_t qn = (hd->fl[slot] & IPR_HELD_SEG) ? q->seg_qnum : q->qnum;
	tx_add(t, qn, verdict, hd->id[slot], NULL, 0);
	ipri_held_del(hd, slot);
}

static void expire(struct ipr_queue *q, struct tx *t, uint64_t now)
{
	struct ipr_held *hd = &q->held;
	uint32_t s = hd->head;
	while (s != IPR_NONE && hd->deadline[s] <= now) {
		uint32_t next = hd->next[s]; /* s stays listed until sent */
		held_answer(q, t, s, NF_DROP, NULL, 0, TXK_TIMEOUT);
		s = next;
	}
}

/* The release mark (0: none) of the queue's main or segmenting kernel
 * queue, and does it cover packet @id? */
static uint64_t *rel_mark(struct ipr_queue *q, bool seg)
{
	return seg ? &q->rel_seg_upto : &q->rel_upto;
}

static bool upto_covers(uint64_t upto, uint32_t id)
{
	return upto && (int32_t)(id - (uint32_t)upto) <= 0;
}

/* Did the keeper answer packet @id already (the program was hung)?  A
 * kernel queue hands its packets over in the order of their ids, so once
 * one comes after what the keeper answered, none will again: the mark
 * goes (ids wrap, and a stale mark would take new packets for answered
 * ones 2^31 packets later). */
bool ipri_keeper_released(struct ipr_queue *q, bool seg, uint32_t id)
{
	uint64_t *u = rel_mark(q, seg);
	if (upto_covers(*u, id))
		return true;
	*u = 0;
	return false;
}

/* The keeper answered what waited in this queue while the program was
 * hung (keeper.c): forget those packets, which are gone (an answer the
 * program gives one now is refused here, EINVAL, not by the kernel), and
 * skip their messages still in the socket.  A load per receive and send
 * call until it does. */
void ipri_keeper_news(struct ipr_queue *q)
{
	struct ipr_keep_q *kq = &q->h->keep->q[q->index];
	uint32_t e = atomic_load_explicit(&kq->epoch, memory_order_acquire);
	if (e == q->keep_epoch)
		return;
	q->keep_epoch = e;
	/* A release writes only the kernel queue it answered: the other
	 * field keeps an old value, which must not mark anything again
	 * (after a wrap it would take new packets for answered ones). */
	uint64_t u = atomic_load_explicit(&kq->upto, memory_order_relaxed);
	uint64_t su = atomic_load_explicit(&kq->seg_upto, memory_order_relaxed);
	if (u != q->seen_upto)
		q->rel_upto = q->seen_upto = u;
	if (su != q->seen_seg_upto)
		q->rel_seg_upto = q->seen_seg_upto = su;
	struct ipr_held *hd = &q->held;
	for (uint32_t s = hd->cap ? hd->head : IPR_NONE; s != IPR_NONE;) {
		uint32_t next = hd->next[s];
		/* (only messages clear a mark: a held packet may be newer) */
		if (upto_covers(*rel_mark(q, hd->fl[s] & IPR_HELD_SEG),
				hd->id[s]))
			ipri_held_del(hd, s);
		s = next;
	}
}

/*
 * Can a run be answered with one NFQNL_MSG_VERDICT_BATCH?  The kernel then
 * gives the verdict to every entry of the main queue up to the last id.
 * That is right only if the run names, in order, exactly the oldest
 * packets this queue holds from its main kernel queue, all with the same
 * verdict, PASS or DROP: entries of the main queue that are older were
 * answered already, and none is held back.  (An entry whose message the
 * socket lost is older too; it gets the verdict instead of waiting until
 * close.)  Entries of the segmenting queue are in another kernel queue.
 * The common case, a program answering its whole batch in order, costs
 * the kernel one message instead of one per packet.
 */
static bool batchable(const struct ipr_queue *q, const struct ipr_packet *pkts,
		      unsigned n)
{
	const struct ipr_held *hd = &q->held;
	if (n < 2 || (pkts[0].verdict != IPR_VERDICT_PASS &&
		      pkts[0].verdict != IPR_VERDICT_DROP))
		return false;
	uint32_t s = hd->head;
	for (unsigned i = 0; i < n; i++) {
		while (s != IPR_NONE && (hd->fl[s] & IPR_HELD_SEG))
			s = hd->next[s];
		if (s == IPR_NONE || pkts[i].verdict != pkts[0].verdict ||
		    ipri_held_find(hd, &pkts[i].addr) != s)
			return false;
		s = hd->next[s];
	}
	return true;
}

int ipri_nfq_send(struct ipr_queue *q, struct ipr_packet *pkts, unsigned n,
		 bool constdata)
{
	if (q->h->keep)
		ipri_keeper_news(q);
	struct tx t;
	tx_init(&t, q);
	if (batchable(q, pkts, n)) {
		bool pass = pkts[0].verdict == IPR_VERDICT_PASS;
		tx_add(&t, q->qnum, pass ? NF_ACCEPT : NF_DROP,
		       pkts[n - 1].addr.packet_id, NULL, 0);
		t.hdrs[t.nhdr - 1].nlh.nlmsg_type =
			(NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH;
		int err = tx_flush(&t);
		if (err)
			return ipr_err(-err); /* all of them still held */
		/* batchable() checked every slot */
		for (unsigned i = 0; i < n; i++)
			ipri_held_del(&q->held, pkts[i].addr._slot);
		if (pass)
			ipr_qst_add(&q->st.sent_packets, n);
		else
			ipr_qst_add(&q->st.dropped_verdict, n);
		return (int)n;
	}
	int err = 0;
	t.prefix = true;
	/* Only one scratch copy exists, so a const packet that needs its
	 * checksum completed is sent on its own. */
	for (unsigned i = 0; i < n && !t.err; i++) {
		struct ipr_packet *p = &pkts[i];
		uint32_t s = ipri_held_find(&q->held, &p->addr);
		if (s == IPR_NONE || (q->held.fl[s] & IPR_HELD_PENDING)) {
			err = -EINVAL; /* not held, or twice in this batch */
			break;
		}
		switch (p->verdict) {
		case IPR_VERDICT_PASS:
			held_answer(q, &t, s, NF_ACCEPT, NULL, 0, TXK_SENT);
			break;
		case IPR_VERDICT_DROP:
			held_answer(q, &t, s, NF_DROP, NULL, 0, TXK_DROPPED);
			break;
		case IPR_VERDICT_REPLACE: {
			if (!p->data || p->len < 20 || p->len > IPR_MTU_MAX) {
				err = p->len > IPR_MTU_MAX ? -EMSGSIZE : -EINVAL;
				goto out;
			}
			if (q->held.fl[s] & IPR_HELD_TRUNC) {
				/* Only a prefix reached us, and writing that back
				 * would cut the packet short. */
				err = -EMSGSIZE;
				goto out;
			}
			if (!ipri_replace_ok(p->data, p->len, q->held.sig[s])) {
				err = -EINVAL;
				goto out;
			}
			void *d = p->data;
			if (q->held.fl[s] & IPR_HELD_PARTIAL) {
				/* The checksum field holds only the pseudo-
				 * header sum and the kernel will treat the new
				 * bytes as final: complete it. */
				if (constdata) {
					tx_flush(&t);
					memcpy(q->scratch, d, p->len);
					d = q->scratch;
				}
				ipr_csum_calc(d, p->len, IPR_CSUM_NO_IP |
						   IPR_CSUM_NO_ICMP |
						   IPR_CSUM_NO_ICMPV6);
			}
			held_answer(q, &t, s, NF_ACCEPT, d, p->len, TXK_SENT);
			if (d == q->scratch)
				tx_flush(&t);
			break;
		}
		default:
			err = -EINVAL;
			goto out;
		}
	}
out:
	tx_flush(&t);
	/* A failed send comes before any later refusal: the packets from
	 * there on are all still held. */
	if (t.err)
		err = t.err;
	if (err && !t.answered)
		return ipr_err(-err);
	return (int)t.answered;
}

/* --- receive ------------------------------------------------------------ */

/* The IP total length says how long the packet really was (nfnetlink_log
 * has no CAP_LEN). */
static uint32_t ip_len(const uint8_t *d, uint32_t len)
{
	if (len >= 20 && (d[0] >> 4) == 4)
		return (uint32_t)d[2] << 8 | d[3];
	if (len >= 40 && (d[0] >> 4) == 6)
		return 40u + ((uint32_t)d[4] << 8 | d[5]);
	return len;
}

static void fill_addr(struct ipr_queue *q, const struct ipr_rxmeta *m,
		      struct ipr_addr *a, uint64_t realnow, bool sniff)
{
	struct ipr_handle *h = q->h;
	memset(a, 0, sizeof(*a));
	a->timestamp = m->has_ts ? m->ts : realnow;
	a->layer = (uint8_t)h->layer;
	a->hook = m->hook;
	a->queue = (uint16_t)q->index;
	bool out = m->hook == NF_INET_LOCAL_OUT || m->hook == NF_INET_FORWARD ||
		   m->hook == NF_INET_POST_ROUTING;
	uint32_t fl = out ? IPR_ADDR_OUTBOUND : 0;
	a->in_if_idx = m->indev;
	a->out_if_idx = m->outdev;
	a->if_idx = out ? m->outdev : m->indev;
	/* The loopback device is ifindex 1 in every namespace. */
	if (m->indev == 1 || m->outdev == 1)
		fl |= IPR_ADDR_LOOPBACK;
	if (m->len && (m->data[0] >> 4) == 6)
		fl |= IPR_ADDR_IPV6;
	if (m->skbinfo & NFQA_SKB_GSO)
		fl |= IPR_ADDR_GSO;
	if (m->skbinfo & NFQA_SKB_CSUMNOTREADY)
		fl |= IPR_ADDR_CSUM_PARTIAL;
	if (m->skbinfo & NFQA_SKB_CSUM_NOTVERIFIED)
		fl |= IPR_ADDR_CSUM_UNVERIFIED;
	if (m->mark) {
		fl |= IPR_ADDR_MARK;
		a->mark = m->mark;
	}
	if (m->has_uid) {
		fl |= IPR_ADDR_UID;
		a->uid = m->uid;
	}
	if (m->has_gid) {
		fl |= IPR_ADDR_GID;
		a->gid = m->gid;
	}
	a->orig_len = m->has_caplen ? m->caplen : m->len;
	if (sniff) {
		fl |= IPR_ADDR_SNIFFED;
		a->orig_len = ip_len(m->data, m->len);
		if (a->orig_len > m->len)
			fl |= IPR_ADDR_TRUNCATED;
	} else if (m->has_caplen && m->caplen > m->len) {
		fl |= IPR_ADDR_TRUNCATED;
	}
	a->flags = fl;
}

/*
 * Turn one received datagram into at most one packet for the program.
 * Returns 1 if *p was filled, 0 if the message was handled here.
 */
/* Keep the packet p (kernel id id) as held until the program answers it
 * or its queue time (from mono) runs out. */
static void hold(struct ipr_queue *q, struct tx *t, struct ipr_packet *p,
		 uint32_t id, bool seg, uint64_t mono)
{
	uint8_t fl = seg ? IPR_HELD_SEG : 0;
	if (p->addr.flags & IPR_ADDR_CSUM_PARTIAL)
		fl |= IPR_HELD_PARTIAL;
	if (p->addr.flags & IPR_ADDR_TRUNCATED)
		fl |= IPR_HELD_TRUNC;
	uint64_t dl = mono + (uint64_t)q->h->queue_time * 1000000ull;
	uint32_t s = ipri_held_add(&q->held, id, dl, fl);
	if (s == IPR_NONE) {
		/* More held than the pool: the oldest has waited longest;
		 * it goes. */
		held_answer_now(q, t, q->held.head, NF_DROP);
		ipr_qst_add(&q->st.dropped_timeout, 1);
		s = ipri_held_add(&q->held, id, dl, fl);
	}
	q->held.sig[s] = ipri_hdr_sig(p->data, p->len);
	p->addr.packet_id = id;
	p->addr._slot = s;
	p->addr._gen = q->held.gen[s];
}

static int take_msg(struct ipr_queue *q, struct tx *t, const uint8_t *buf,
		    size_t n, struct ipr_packet *p, uint64_t mono, uint64_t real)
{
	struct ipr_handle *h = q->h;
	bool sniff = h->flags & IPR_FLAG_SNIFF;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int len = (int)n;
	int got = 0;
	for (; ipr_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error && nlh->nlmsg_seq != IPR_KEEP_SEQ)
				ipr_qst_add(&q->st.errors, 1);
			continue;
		}
		uint16_t want = sniff ? (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET
				      : (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
		if (nlh->nlmsg_type != want || got)
			continue;
		const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
		uint16_t qn = ntohs(nfg->res_id);
		struct ipr_rxmeta m;
		memset(&m, 0, sizeof(m));
		if (sniff)
			ipri_parse_log_msg(nlh, &m);
		else
			ipri_parse_queue_msg(nlh, &m);
		if (!m.data)
			m.data = (const uint8_t *)nlh; /* never read: len 0 */
		bool seg = !sniff && qn == q->seg_qnum;
		if (!sniff && !seg) {
			/* Ids run 1, 2, ... in the order the kernel hands the
			 * packets over: a gap is packets it gave an id but
			 * could not put in our socket buffer (passed on
			 * fail-open, dropped fail-closed). */
			ipr_qst_add(&q->st.id_gaps, (uint32_t)(m.id - q->last_id - 1u));
			q->last_id = m.id;
		}
		if (!sniff && ipri_keeper_released(q, seg, m.id))
			continue; /* the keeper answered it: gone */

		if (!sniff && m.has_caplen && m.caplen > m.len && !seg &&
		    !h->snaplen) {
			/* Too large for one message (the 65531-byte cap):
			 * the program could neither see all of it nor write it
			 * back.  Re-queue it to the companion queue, where the
			 * kernel segments it first; the segments come back to
			 * this socket whole. */
			uint32_t v = NF_QUEUE | ((uint32_t)q->seg_qnum << 16);
			if (!(h->flags & IPR_FLAG_FAIL_CLOSED))
				v |= NF_VERDICT_FLAG_QUEUE_BYPASS;
			tx_add(t, qn, v, m.id, NULL, 0);
			ipr_qst_add(&q->st.segmented, 1);
			continue;
		}
		p->data = (void *)m.data;
		p->len = m.len;
		p->verdict = IPR_VERDICT_PASS;
		fill_addr(q, &m, &p->addr, real, sniff);
		if (((h->user_check && h->user_check_hook[ipr_hook_of(m.hook)]) ||
		     (h->frag_check && later_fragment(p->data, p->len))) &&
		    ipr_filter_eval(h->filter, p->data, p->len, &p->addr) != 1) {
			/* The kernel could not check all of the filter and the
			 * rest says no: pass it on at once. */
			if (!sniff)
				tx_add(t, qn, NF_ACCEPT, m.id, NULL, 0);
			continue;
		}
		if (!sniff) {
			if (h->flags & IPR_FLAG_RECV_ONLY) {
				/* Diverted to a program that cannot send: the
				 * packet ends here, as with WinDivert. */
				tx_add(t, qn, NF_DROP, m.id, NULL, 0);
				p->addr.packet_id = 0;
			} else {
				hold(q, t, p, m.id, seg, mono);
			}
		}
		ipr_qst_add(&q->st.recv_packets, 1);
		ipr_qst_add(&q->st.recv_bytes, p->len);
		got = 1;
	}
	return got;
}

/* One recvmmsg into the caller's buffer, a datagram per slot (sniff: one
 * datagram of many copies into the queue's own buffer).  The message
 * headers depend only on the buffer, and the kernel writes none of the
 * fields set here (only lengths and flags beside them), so they are set
 * up again only when the buffer changes or more slots are wanted: callers
 * pass the same buffer every time. */
static int rx_batch(struct ipr_queue *q, void *buf, unsigned slots,
		    bool sniff, int flags)
{
	void *base = sniff ? q->rxbuf : buf;
	if (base != q->rx_base || slots > q->rx_slots) {
		for (unsigned i = 0; i < slots; i++) {
			q->rxiov[i].iov_base = (uint8_t *)base +
				(sniff ? 0 : (size_t)i * IPR_BATCH_SLOT);
			q->rxiov[i].iov_len = IPR_BATCH_SLOT;
			q->mmsg[i].msg_hdr = (struct msghdr){
				.msg_iov = &q->rxiov[i], .msg_iovlen = 1,
			};
		}
		q->rx_base = base;
		q->rx_slots = slots;
	}
	return recvmmsg(q->fd, q->mmsg, slots, flags, NULL);
}

/* Block in recvmmsg itself (one system call when packets come steadily)
 * with the socket's receive timeout as the bound; the value is cached so
 * that it costs a setsockopt only when it changes. */
static int set_timeout(struct ipr_queue *q, int ms)
{
	if (ms < 0)
		ms = 0; /* no timeout */
	if (ms == q->rcvtimeo_ms)
		return 0;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (suseconds_t)(ms % 1000) * 1000 };
	if (setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	q->rcvtimeo_ms = ms;
	return 0;
}

/*
 * Copies from nfnetlink_log come several to a datagram (fewer wake-ups and
 * system calls); the datagram is read into the queue's own buffer and the
 * packets are copied out of it, packed, into the caller's buffer, as many
 * as fit; the rest wait there for the next call.
 */
static unsigned sniff_take(struct ipr_queue *q, void *buf, size_t cap,
			   struct ipr_packet *pkts, unsigned max)
{
	uint64_t real = now_real();
	unsigned got = 0;
	size_t used = 0;
	const uint16_t want = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	while (q->rx_off < q->rx_len && got < max) {
		const struct nlmsghdr *nlh =
			(const struct nlmsghdr *)(q->rxbuf + q->rx_off);
		int left = (int)(q->rx_len - q->rx_off);
		if (!ipr_nlmsg_ok(nlh, left)) {
			q->rx_off = q->rx_len;
			break;
		}
		struct ipr_rxmeta m;
		memset(&m, 0, sizeof(m));
		if (nlh->nlmsg_type == want)
			ipri_parse_log_msg(nlh, &m);
		if (m.data && used + m.len > cap)
			break; /* the caller's buffer is full: next call */
		q->rx_off += MNL_ALIGN(nlh->nlmsg_len);
		if (!m.data)
			continue;
		struct ipr_packet *p = &pkts[got];
		p->data = (uint8_t *)buf + used;
		memcpy(p->data, m.data, m.len);
		p->len = m.len;
		p->verdict = IPR_VERDICT_PASS;
		fill_addr(q, &m, &p->addr, real, true);
		used += (m.len + 7u) & ~7u;
		if (((q->h->user_check &&
		      q->h->user_check_hook[ipr_hook_of(m.hook)]) ||
		     (q->h->frag_check && later_fragment(p->data, p->len))) &&
		    ipr_filter_eval(q->h->filter, p->data, p->len, &p->addr) != 1)
			continue;
		ipr_qst_add(&q->st.recv_packets, 1);
		ipr_qst_add(&q->st.recv_bytes, p->len);
		got++;
	}
	return got;
}

/* Whole ms from @mono to the deadline @dl, rounded up so that a wait of
 * that long never ends before it; 0 once it has passed. */
static int ms_until(uint64_t dl, uint64_t mono)
{
	return dl > mono ? (int)((dl - mono) / 1000000ull) + 1 : 0;
}

/* How long this turn of ipri_nfq_recv may wait, in ms (-1: no bound): the
 * caller's timeout less what has passed (*last: nothing is left of it),
 * cut at the next queue-time deadline so that unanswered packets never
 * wait longer, and at the next heartbeat refresh. */
static int recv_wait(const struct ipr_queue *q, int timeout_ms,
		     uint64_t start, uint64_t mono, bool *last)
{
	int wait = timeout_ms;
	*last = false;
	if (timeout_ms >= 0) {
		uint64_t el = (mono - start) / 1000000ull;
		wait = el >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)el;
		*last = wait == 0;
	}
	if (q->held.cap && q->held.head != IPR_NONE) {
		int ms = ms_until(q->held.deadline[q->held.head], mono);
		if (wait < 0 || ms < wait)
			wait = ms;
	}
	if (q->hb_due) {
		/* Wake up in time for the next refresh, so that an idle
		 * program stays alive.  A constant cap, so the cached socket
		 * timeout does not change every call. */
		int ms = (int)(q->hb_hang / 4);
		if (wait < 0 || ms < wait)
			wait = ms;
	}
	if (q->h->shut_recv)
		wait = 0;
	return wait;
}

/* The shortest spin worth a system call or two, and how many times the
 * recent wait for a packet a spin lasts (the wait is a mean: the next
 * packet comes a little later about as often as a little earlier). */
#define SPIN_MIN_NS 5000u
#define SPIN_GAPS 2u

/*
 * Poll without sleeping for a while before blocking: a packet that comes
 * meanwhile costs no wake-up (a sleeping thread costs the sender the
 * wake-up, and in a virtual machine a halted CPU costs much more to wake:
 * bench/README.md).  Adaptive: only while the receives lately found their
 * first packet within the budget (q->gap_ns, a running mean kept by the
 * caller), and for about twice that wait, so that bursts spaced far apart
 * cost no spin and traffic that stops costs one short spin, after which
 * the thread sleeps at once until packets come fast again: an idle
 * program burns no CPU.  It yields between polls, so it spins only on a
 * CPU nobody else wants.  Only for a caller whose own wait is bounded
 * (bounded; the wake-ups for deadlines and heartbeats do not count): one
 * that waits without bound (ipr_recv) sleeps with signals let in only by
 * ppoll (block_masked), and a signal handled while spinning in user space
 * would interrupt nothing.  Returns what recvmmsg returned (-1 with errno
 * EAGAIN: nothing came, or no spin), and takes the time spent from *wait.
 */
static int spin(struct ipr_queue *q, void *buf, unsigned slots, bool sniff,
		uint64_t mono, bool bounded, int *wait)
{
	struct ipr_handle *h = q->h;
	uint64_t budget = (uint64_t)h->busy_poll * 1000u;
	errno = EAGAIN;
	if (!budget || !bounded || *wait <= 0 || q->gap_ns > budget)
		return -1;
	uint64_t len = q->gap_ns * SPIN_GAPS;
	if (len < SPIN_MIN_NS)
		len = SPIN_MIN_NS;
	if (len > budget)
		len = budget;
	uint64_t until = mono + len;
	if (*wait > 0 && mono + (uint64_t)*wait * 1000000u < until)
		until = mono + (uint64_t)*wait * 1000000u;
	int n;
	for (;;) {
		n = rx_batch(q, buf, slots, sniff,
			     MSG_WAITFORONE | MSG_DONTWAIT);
		if (n >= 0 || errno != EAGAIN || h->shut_recv ||
		    ipri_now_mono() >= until)
			break;
		/* a runnable thread here (the sender, the receiver, the
		 * kernel's softirq thread) goes first */
		sched_yield();
	}
	if (n >= 0 || errno != EAGAIN)
		return n;
	/* Nothing came: sleep from now on until packets come fast again,
	 * for what is left of the wait (the next turn sees a timeout). */
	q->gap_ns = 2 * budget;
	uint64_t spent = (ipri_now_mono() - mono) / 1000000u;
	if (h->shut_recv)
		*wait = 0;
	else if (*wait > 0)
		*wait = spent >= (uint64_t)*wait ? 0 : *wait - (int)spent;
	errno = EAGAIN;
	return -1;
}

/* Block for at most wait ms (-1: no bound, 0: not at all) in recvmmsg
 * itself, one system call when packets come steadily. */
static int block(struct ipr_queue *q, void *buf, unsigned slots, bool sniff,
		 int wait)
{
	int flags = MSG_WAITFORONE;
	if (wait == 0) {
		flags |= MSG_DONTWAIT;
	} else if (wait > 0 && wait < 50) {
		/* The socket timeout counts in scheduler ticks; a short
		 * wait (a timer-driven program such as impair) wants poll's
		 * precision. */
		struct pollfd pf = { .fd = q->fd, .events = POLLIN };
		if (poll(&pf, 1, wait) < 0 && errno == EINTR)
			return -1;
		flags |= MSG_DONTWAIT;
	} else {
		int e = set_timeout(q, wait);
		if (e) {
			errno = -e;
			return -1;
		}
	}
	return rx_batch(q, buf, slots, sniff, flags);
}

/* Was a signal that the program handles (not one it blocks, ignores or
 * leaves to its default action) held back while *old was the mask? */
static bool handled_pending(const sigset_t *old)
{
	sigset_t pend;
	if (sigpending(&pend) < 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sigismember(&pend, sig) != 1 || sigismember(old, sig) == 1 ||
		    sigaction(sig, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
			return true;
	}
	return false;
}

/* Hold every signal back in this thread; *old gets the mask to restore.
 * False if it could not. */
static bool hold_signals(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	return pthread_sigmask(SIG_BLOCK, &all, old) == 0;
}

/*
 * Refresh the dead-man switch with signals held back.  The refresh is a
 * netlink transaction, which a busy or slow kernel can make last long
 * (hundreds of ms in an emulated guest).  A signal handled meanwhile would
 * interrupt no wait of ours, and a program blocked in ipr_recv without a
 * timeout would miss it (its stop flag) until the next packet: modify.sh's
 * ipr_modify ignored SIGTERM so under QEMU.  So the signal waits until the
 * refresh is done, is handled then, and ends the receive with EINTR as it
 * would have during the wait.  Three system calls a few times per hang
 * time, none per packet.
 */
static int heartbeat(struct ipr_queue *q, uint64_t mono)
{
	sigset_t old;
	if (!hold_signals(&old))
		return ipri_heartbeat(q, mono);
	int e = ipri_heartbeat(q, mono);
	bool intr = handled_pending(&old);
	pthread_sigmask(SIG_SETMASK, &old, NULL); /* the handler runs here */
	return e ? e : intr ? -EINTR : 0;
}

/* Expire what waited too long and keep the dead-man switch fed: this
 * call is the sign of life (a compare per call, a refresh a few times
 * per hang time). */
static int housekeep(struct ipr_queue *q, uint64_t mono)
{
	if (q->h->keep)
		ipri_keeper_news(q);
	struct tx t;
	tx_init(&t, q);
	if (q->held.cap)
		expire(q, &t, mono);
	tx_flush(&t);
	if (q->hb_due &&
	    (mono >= q->hb_due ||
	     q->hb_hang != atomic_load_explicit(&q->h->hang_time,
						memory_order_relaxed)))
		return heartbeat(q, mono);
	return 0;
}

/*
 * The wait of a receive without a timeout (ipr_recv), which a signal must
 * end with EINTR: a signal handled anywhere in user space between two
 * system calls of ours (more than a microsecond only when the thread is
 * preempted there, which happened in an emulated guest: recv_signal on
 * 5.10) would interrupt nothing, and the next wait would sleep through
 * it.  So from the first wait on, signals are held back in this thread and
 * ppoll lets them in only while it sleeps, atomically; *old is the mask to
 * wait with.  Costs three system calls only where the thread goes to sleep
 * anyway.
 */
static int block_masked(struct ipr_queue *q, void *buf, unsigned slots,
			bool sniff, int wait, const sigset_t *old)
{
	struct pollfd pf = { .fd = q->fd, .events = POLLIN };
	struct timespec ts = { wait / 1000, (long)(wait % 1000) * 1000000L };
	int r = ppoll(&pf, 1, wait < 0 ? NULL : &ts, old);
	if (r < 0)
		return -1; /* EINTR: the handler has run */
	if (r == 0) {
		errno = EAGAIN;
		return -1;
	}
	return rx_batch(q, buf, slots, sniff, MSG_WAITFORONE | MSG_DONTWAIT);
}

static int recv_turns(struct ipr_queue *q, void *buf, size_t cap,
		      struct ipr_packet *pkts, unsigned max, int timeout_ms,
		      sigset_t *old, bool *masked);

int ipri_nfq_recv(struct ipr_queue *q, void *buf, size_t cap,
		 struct ipr_packet *pkts, unsigned max, int timeout_ms)
{
	sigset_t old;
	bool masked = false;
	int r = recv_turns(q, buf, cap, pkts, max, timeout_ms, &old, &masked);
	if (masked) {
		int e = errno;
		/* a signal that came while the packets were taken runs now */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
	return r;
}

/* ipri_nfq_recv's turns: housekeeping, a spin, a wait, the packets. */
static int recv_turns(struct ipr_queue *q, void *buf, size_t cap,
		      struct ipr_packet *pkts, unsigned max, int timeout_ms,
		      sigset_t *old, bool *masked)
{
	struct ipr_handle *h = q->h;
	unsigned slots = (unsigned)(cap / IPR_BATCH_SLOT);
	if (slots > max)
		slots = max;
	if (slots > IPR_BATCH_MAX)
		slots = IPR_BATCH_MAX;
	if (!slots)
		return ipr_err(EINVAL);
	if (max > IPR_BATCH_MAX)
		max = IPR_BATCH_MAX;
	bool sniff = h->flags & IPR_FLAG_SNIFF;
	if (sniff) {
		/* cap holds at least one slot, so the next copy always fits */
		unsigned got = sniff_take(q, buf, cap, pkts, max);
		if (got)
			return (int)got;
		slots = 1;
	}
	uint64_t start = ipri_now_mono();
	for (;;) {
		uint64_t mono = ipri_now_mono();
		int e = housekeep(q, mono);
		if (e)
			return ipr_err(-e);
		bool last;
		int wait = recv_wait(q, timeout_ms, start, mono, &last);
		int n = spin(q, buf, slots, sniff, mono, timeout_ms >= 0,
			     &wait);
		if (n < 0 && errno == EAGAIN) {
			if (timeout_ms < 0 && wait != 0 && !*masked)
				*masked = hold_signals(old);
			n = *masked ? block_masked(q, buf, slots, sniff, wait, old)
				    : block(q, buf, slots, sniff, wait);
		}
		if (n < 0) {
			if (errno == EINTR)
				return ipr_err(EINTR);
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != ENOBUFS)
				return ipr_err(errno);
			if (h->shut_recv)
				return ipr_err(ESHUTDOWN);
			if (last)
				return 0;
			continue; /* a deadline or the timeout: look again */
		}
		/* Deadlines count from now, when the packets are ours, not
		 * from before the wait. */
		uint64_t now = ipri_now_mono();
		q->gap_ns = (q->gap_ns + (now - mono)) / 2;
		unsigned got = 0;
		if (sniff) {
			q->rx_off = 0;
			q->rx_len = q->mmsg[0].msg_len;
			got = sniff_take(q, buf, cap, pkts, max);
			if (got)
				return (int)got;
			continue;
		}
		uint64_t real = now_real();
		struct tx t;
		tx_init(&t, q);
		for (int i = 0; i < n; i++)
			got += (unsigned)take_msg(q, &t, q->rxiov[i].iov_base,
						  q->mmsg[i].msg_len, &pkts[got],
						  now, real);
		tx_flush(&t);
		if (got)
			return (int)got;
	}
}

/* How long an event loop may wait on this queue's socket before its next
 * receive call is due, in ms (-1: no bound): the next refresh of the
 * dead-man switch (a loop that misses it is taken for hung, and the kernel
 * then passes the queue's packets by without queueing them, so the socket
 * never becomes readable to wake it), or the queue-time deadline of the
 * oldest held packet; 0 when a copy already waits in the library's buffer
 * or the refresh is late. */
int ipri_nfq_timeout(const struct ipr_queue *q)
{
	const struct ipr_handle *h = q->h;
	if (atomic_load(&h->shut_recv) || q->rx_off < q->rx_len)
		return 0;
	uint64_t mono = ipri_now_mono();
	int wait = -1;
	if (q->held.cap && q->held.head != IPR_NONE)
		wait = ms_until(q->held.deadline[q->held.head], mono);
	if (q->hb_due) {
		int ms = q->hb_hang == atomic_load_explicit(&h->hang_time,
							    memory_order_relaxed)
			 ? ms_until(q->hb_due, mono) : 0;
		if (wait < 0 || ms < wait)
			wait = ms;
	}
	return wait;
}

/* Wake a receiver blocked on this queue: a no-op message to its own
 * socket, which the receive path reads and ignores. */
void ipri_nfq_wake(struct ipr_queue *q)
{
	struct nlmsghdr nlh = {
		.nlmsg_len = sizeof(nlh), .nlmsg_type = NLMSG_NOOP,
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_pid = q->portid };
	(void)sendto(q->fd, &nlh, sizeof(nlh), MSG_DONTWAIT,
		     (struct sockaddr *)&sa, sizeof(sa));
}

/* Read what is still queued and answer it, then answer what the program
 * holds: used at close, after the rules are gone, so nothing is lost when
 * the socket (and with it the kernel queue) goes. */
int ipri_nfq_drain(struct ipr_queue *q, bool accept)
{
	uint32_t v = accept ? NF_ACCEPT : NF_DROP;
	struct tx t;
	tx_init(&t, q);
	for (;;) {
		ssize_t n = recv(q->fd, q->rxbuf, IPR_BATCH_SLOT, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			break;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rxbuf;
		int len = (int)n;
		for (; ipr_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) |
						NFQNL_MSG_PACKET))
				continue;
			const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
			struct ipr_rxmeta m;
			memset(&m, 0, sizeof(m));
			ipri_parse_queue_msg(nlh, &m);
			tx_add(&t, ntohs(nfg->res_id), v, m.id, NULL, 0);
		}
		tx_flush(&t);
	}
	while (q->held.cap && q->held.head != IPR_NONE)
		held_answer_now(q, &t, q->held.head, v);
	return tx_flush(&t);
}

void ipri_nfq_close(struct ipr_queue *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	ipri_held_free(&q->held);
}
