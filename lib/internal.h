/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* internal.h - what the library's files share: the handle, its queues and
 * the functions that build rules, talk to nfnetlink_queue and inject. */
#ifndef IPR_INTERNAL_H
#define IPR_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include "ipredir.h"
#include "filter.h"
#include "tool_api.h"

#ifndef IPR_API
#define IPR_API __attribute__((visibility("default")))
#endif

/* Set errno and return the negative errno: the one error convention. */
static inline int ipr_err(int e)
{
	errno = e;
	return -e;
}

/* Copy a caller's options struct (size_t sz first) into @out, the
 * library's own @known-byte struct, as libxdp's OPTS_VALID judges it: sz
 * must cover sz itself; a smaller struct leaves the rest of @out zero; a
 * larger one is taken only if every byte past @known is zero, so that an
 * option this library does not know is refused (EINVAL), never dropped in
 * silence.  NULL @opts gives all zero.  Returns 0 or -EINVAL. */
static inline int ipri_opts_copy(void *out, size_t known, const void *opts)
{
	size_t sz;

	memset(out, 0, known);
	if (!opts)
		return 0;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < sizeof(size_t))
		return ipr_err(EINVAL);
	for (size_t i = known; i < sz; i++)
		if (((const unsigned char *)opts)[i])
			return ipr_err(EINVAL);
	memcpy(out, opts, sz < known ? sz : known);
	memcpy(out, &known, sizeof(known));
	return 0;
}

/* Injected packets carry this mark: high 16 bits a magic, low 16 bits the
 * injector's priority + IPR_PRIO_OFFSET (0 for the lowest priority), so
 * that every handle of the same or higher priority lets them by and lower
 * ones still see them. */
#define IPR_MARK_MAGIC   0x49500000u
#define IPR_MARK_MASK    0xffff0000u
#define IPR_PRIO_OFFSET  (-IPR_PRIORITY_MIN)
_Static_assert(IPR_PRIORITY_MAX + IPR_PRIO_OFFSET <= (int)~IPR_MARK_MASK,
	       "every priority fits the mark's low 16 bits");
/* Entries of ipr_queue.iov, below IOV_MAX (1024): nfq.c's TX_MAX_IOV
 * must not exceed it (asserted there). */
#define IPR_QUEUE_IOVS 1024
/* Bytes of ipr_queue.txhdr per verdict message header: nfq.c's struct
 * vmsg must fit (asserted there). */
#define IPR_VMSG_ROOM 48

/* Our hook index of a netfilter hook number (enum nf_inet_hooks; a queued
 * packet comes from one of the three hooks our chains are on). */
static inline enum ipr_hook ipr_hook_of(uint8_t nf_hook)
{
	return nf_hook == NF_INET_LOCAL_IN ? IPR_HOOK_IN
	       : nf_hook == NF_INET_FORWARD ? IPR_HOOK_FWD
					    : IPR_HOOK_OUT;
}

static inline uint32_t ipr_prio_enc(int prio)
{
	return (uint32_t)(prio + IPR_PRIO_OFFSET);
}

/* Held packets of one queue: a pool of slots on a list in arrival order,
 * so the oldest is found in O(1) for the queue time, and a slot number in
 * ipr_addr finds a packet in O(1) for its verdict. */
struct ipr_held {
	uint32_t cap;
	uint32_t count;
	uint32_t head, tail;    /* oldest, newest; UINT32_MAX when empty */
	uint32_t free_head;
	uint32_t *next, *prev;
	uint32_t *id;
	uint32_t *gen;          /* bumped when a slot is freed */
	uint64_t *deadline;     /* CLOCK_MONOTONIC ns */
	uint8_t *fl;            /* IPR_HELD_* bits */
	uint32_t *sig;          /* ipri_hdr_sig of the packet as it came */
};
#define IPR_NONE UINT32_MAX
#define IPR_HELD_PARTIAL 0x1 /* arrived with CSUM_PARTIAL */
#define IPR_HELD_SEG     0x2 /* came from the segmenting queue */
#define IPR_HELD_TRUNC   0x4 /* the program got only part of it */
#define IPR_HELD_PENDING 0x8 /* its verdict is on the way (nfq.c) */

/* Counters of one queue: written only by the thread that serves the queue,
 * read by ipr_stats_get from any thread, hence atomics (relaxed: a plain
 * load and store on the writer's side, no locked instruction). */
struct ipr_qstats {
	_Atomic uint64_t recv_packets, recv_bytes, sent_packets, dropped_verdict;
	_Atomic uint64_t dropped_timeout, segmented, errors;
	_Atomic uint64_t id_gaps; /* ids that never reached the socket */
};
static inline void ipr_qst_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}
static inline uint64_t ipr_qst_get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct ipr_queue {
	struct ipr_handle *h;
	unsigned index;
	int fd;                 /* NETLINK_NETFILTER socket of this queue */
	uint32_t portid;
	uint16_t qnum;          /* queue (or log group) number in the kernel */
	uint16_t seg_qnum;      /* companion queue without GSO: the kernel cuts
				   packets re-queued there into segments */
	struct ipr_held held;
	struct ipr_qstats st;
	uint32_t last_id;       /* of the last packet of the main queue */
	uint8_t *rxbuf;         /* whole datagrams: drain, sniff copies */
	uint8_t *onebuf;        /* for ipr_recv (single): one whole message */
	uint8_t *scratch;       /* a copy to complete checksums in */
	uint8_t *txhdr;         /* verdict headers of one sendmsg */
	uint32_t *txslot;       /* ... the held slot of each */
	uint8_t *txkind;        /* ... and what to count once it is sent */
	struct iovec *iov;      /* IPR_QUEUE_IOVS: a sendmsg's vector */
	struct mmsghdr *mmsg;   /* for recvmmsg */
	struct iovec *rxiov;
	void *rx_base;          /* what mmsg/rxiov are set up for ... */
	unsigned rx_slots;      /* ... and for how many slots */
	int rcvtimeo_ms;        /* SO_RCVTIMEO now set; 0 = none */
	uint64_t hb_due;        /* CLOCK_MONOTONIC ns of the next heartbeat
				   refresh; 0 = this queue has none */
	uint32_t hb_hang;       /* the hang time of the last refresh */
	uint32_t rx_off, rx_len; /* sniff: copies still unread in rxbuf */
	uint64_t gap_ns;        /* how long receives lately waited for their
				   first packet (a running mean): spinning
				   pays only while it is short */
	uint32_t keep_epoch;    /* the keeper's releases seen (keeper.c) */
	uint64_t rel_upto, rel_seg_upto; /* ... up to these ids */
	uint64_t seen_upto, seen_seg_upto; /* what the page said last */
};

struct ipr_handle {
	enum ipr_layer layer;
	int16_t priority;
	uint64_t flags;
	ipr_filter *filter;
	bool user_check;        /* re-check packets with ipr_filter_eval */
	bool frag_check;        /* ... later fragments at least (no ct) */
	bool user_check_hook[IPR_HOOK_COUNT]; /* ... on this hook */
	int nft_fd;             /* owns the table; closing it removes it */
	char table[IPR_TABLE_NAME_MAX];
	pthread_mutex_t nft_lock; /* one batch at a time on nft_fd: shutdown,
				     close and the queues' heartbeats */
	bool rules_off;         /* table emptied by shutdown or close (under
				   nft_lock) */
	bool heartbeat;         /* the rules check the queues' heartbeats */
	bool unowned;           /* no owner flag: deleted at close, and by
				   the keeper */
	int keep_fd;            /* write end of the keeper's pipe, or -1 */
	struct ipr_keep *keep;  /* shared with the keeper, or NULL */
	unsigned nqueues;
	struct ipr_queue *q;
	atomic_int shut_recv, shut_send;
	uint32_t queue_length, queue_time, queue_size;
	uint32_t snaplen;       /* copy range; 0 = whole packets */
	_Atomic uint32_t busy_poll; /* us to poll before sleeping */
	_Atomic uint32_t hang_time; /* ms; see IPR_PARAM_HANG_TIME */
	int raw4, raw6;         /* injection sockets (negative errno if none) */
	_Atomic uint64_t injected;
};

/* rules_nft.c */
struct ipr_rules_spec {
	const char *table;
	int16_t priority;
	enum ipr_layer layer;
	enum { IPR_ACT_QUEUE, IPR_ACT_LOG, IPR_ACT_DROP } action;
	uint16_t nums[IPR_QUEUES_MAX]; /* queue numbers, or nums[0] = log group */
	uint16_t total;         /* queues: flows spread over nums[0..total) */
	bool bypass;            /* no listener: accept (fail-open) */
	bool native_queue;
	uint32_t hang_ms;       /* queue only while the queue's heartbeat,
				   refreshed by its receive path, lives (an
				   element with this timeout); 0: always */
	bool unowned;           /* set by install: no owner flag (pre-5.12) */
};
/* Open a netlink socket and install the handle's table in one batch.
 * Returns the socket (which owns the table) or a negative errno. */
int ipri_rules_install(const ipr_filter *f, struct ipr_rules_spec *s);
/* The batch ipri_rules_install would send (BATCH_BEGIN to BATCH_END), in a
 * buffer the caller frees: for tests and the fuzzer. */
int ipri_rules_encode(const ipr_filter *f, const struct ipr_rules_spec *s,
		     void **buf, size_t *len);
/* Empty the table (no new packets queued; queued ones kept). */
int ipri_rules_disable(int fd, const char *table);
/* Packets the rules of a queueing handle took for its queues so far. */
int ipri_rules_queued(const char *table, uint64_t *packets);
/* Keep queue @key's heartbeat alive for @ms more (through @fd, the table's
 * owner; callers serialise). */
int ipri_rules_heartbeat(int fd, const char *table, uint32_t key, uint32_t ms);
/* Packets passed or dropped by the kernel for want of a heartbeat. */
int ipri_rules_hung(const char *table, uint64_t *packets);

/* nlreq.c: one netlink request and all its answers.  Answers are those
 * from the kernel with a sequence number in [seq_first, seq_end); @acks of
 * them are acks or errors (one per message sent with NLM_F_ACK), the others
 * go to @cb.  Returns 0 or the first error; the kernel's text for it, if
 * any, is kept for ipr_last_error(). */
struct ipr_nlreq {
	uint32_t seq_first, seq_end;
	uint32_t acks;
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
};
int ipri_nl_request(int fd, const void *msg, size_t len,
		   const struct ipr_nlreq *r);
/* A bound NETLINK_NETFILTER socket with those options and a 5 s receive
 * timeout, or a negative errno. */
int ipri_nl_socket(void);
/* Bind netlink socket @fd to a port id that is never a process id and
 * that this process never takes twice; 0 or a negative errno. */
int ipri_nl_bind(int fd, uint32_t *portid);
/* The header of an nfnetlink message at @at (room for it assumed). */
struct nlmsghdr *ipri_nfnl_put(void *at, uint16_t type, uint16_t flags,
			      uint8_t family, uint16_t res_id, uint32_t seq);
/* The thread's last-error detail (ipr_last_error): set, clear. */
void ipri_detail_set(int pos, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ipri_detail_clear(void);

/* probe.c */
/* 1 if tables can carry the owner flag (Linux 5.12+), 0 if not, or a
 * negative errno; asked once per process. */
int ipri_probe_owner_tables(void);
/* 0 if the kernel has xtables target @name at @rev (loading its module on
 * the way), -ENOENT if not. */
int ipri_probe_xt_target(const char *name, uint32_t rev);
/* 1 if the running kernel has feature @bit (IPR_KF_*) and IPREDIR_DISABLE
 * does not name it, 0 if not, a negative errno if it could not be asked
 * (EPERM); asked once per process and feature. */
int ipri_feature_probe(uint32_t bit);
/* The IPR_KF_* bits that IPREDIR_DISABLE turns off. */
uint32_t ipri_features_disabled(void);

/* tables.c (the rest in tool_api.h): a batch that deletes table @name of
 * @family, into @buf (IPR_TABLE_DEL_BATCH bytes); returns its length.  The
 * delete message carries sequence @seq, the batch messages seq -+ 1. */
#define IPR_TABLE_DEL_BATCH 512
size_t ipri_table_del_batch(char *buf, uint8_t family, const char *name,
			   uint32_t seq);

/* keeper.c: the process that answers for a hung or dead program (the
 * packets queued before its queue's switch tripped) and deletes a table
 * without the owner flag once the program is gone.  The library and the
 * keeper share one struct ipr_keep per handle. */
struct ipr_keep_q {
	_Atomic uint64_t beat_ns;  /* library: when the kernel had the last
				      heartbeat refresh (CLOCK_MONOTONIC) */
	_Atomic uint32_t hang_ms;  /* library: that refresh's hang time */
	_Atomic uint32_t epoch;    /* keeper: bumped after each release */
	_Atomic uint64_t upto, seg_upto; /* keeper: IPR_KEEP_SET | the last
				      id it answered in the main and the
				      segmenting kernel queue; 0 none */
};
#define IPR_KEEP_SET (1ull << 32)
/* The sequence number of the keeper's verdicts: the kernel's refusal of
 * one (the program answered everything first) arrives on the socket the
 * library reads, and is no error of the program's. */
#define IPR_KEEP_SEQ 0x6b656570u
struct ipr_keep {
	struct ipr_keep_q q[IPR_QUEUES_MAX];
};
/* Start the handle's keeper if it needs one (queues that hold packets
 * under a dead-man switch, or a table without the owner flag): after its
 * queues and rules.  0 or a negative errno (the handle works without). */
int ipri_keeper_start(struct ipr_handle *h);
/* The handle is closed: its keeper answers what is left and goes. */
void ipri_keeper_stop(struct ipr_handle *h);
/* Take in what the keeper released since the last look (nfq.c), and was
 * packet @id of the queue's main (or segmenting, @seg) kernel queue among
 * it? */
void ipri_keeper_news(struct ipr_queue *q);
bool ipri_keeper_released(struct ipr_queue *q, bool seg, uint32_t id);
/* Delete the ipredir tables without the owner flag whose pid is gone. */
int ipri_tables_sweep(void);

/* nfq.c */
int ipri_nfq_open(struct ipr_queue *q, bool sniff, uint16_t *num,
		 uint16_t range_start);
int ipri_nfq_set_maxlen(struct ipr_queue *q, uint32_t len);
int ipri_nfq_recv(struct ipr_queue *q, void *buf, size_t cap,
		 struct ipr_packet *pkts, unsigned max, int timeout_ms);
int ipri_nfq_timeout(const struct ipr_queue *q);
int ipri_nfq_send(struct ipr_queue *q, struct ipr_packet *pkts, unsigned n,
		 bool constdata);
int ipri_nfq_drain(struct ipr_queue *q, bool accept);
void ipri_nfq_close(struct ipr_queue *q);
void ipri_nfq_wake(struct ipr_queue *q);
/* handle.c: refresh queue @q's heartbeat now (@now: CLOCK_MONOTONIC ns)
 * and set when the next one is due. */
int ipri_heartbeat(struct ipr_queue *q, uint64_t now);
uint64_t ipri_now_mono(void);

/* A whole netlink message at @nlh, within the @len bytes left of a
 * datagram.  libmnl's mnl_nlmsg_ok compares the length as a signed int, so
 * a length of 2^31 or more passes it (found by fuzz/fuzz_nlmsg.c). */
static inline bool ipr_nlmsg_ok(const struct nlmsghdr *nlh, int len)
{
	return len >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (uint32_t)len;
}

/* nlparse.c: what a packet message of nfnetlink_queue or nfnetlink_log
 * says.  @data points into the message; the caller has checked that the
 * message fits the datagram (ipr_nlmsg_ok). */
struct ipr_rxmeta {
	uint32_t id, mark, indev, outdev, caplen, skbinfo, uid, gid;
	uint8_t hook;
	bool has_caplen, has_uid, has_gid, has_ts;
	uint64_t ts;
	const uint8_t *data;
	uint32_t len;
};
void ipri_parse_queue_msg(const struct nlmsghdr *nlh, struct ipr_rxmeta *m);
void ipri_parse_log_msg(const struct nlmsghdr *nlh, struct ipr_rxmeta *m);

/* packet.c: what a replacement may not change.  Kernels with the 2026
 * nfnetlink_queue write checks drop, without a word, a written packet whose
 * IP length field does not match its length, or whose IP version, header
 * length, IPv4 options, fragment fields (DF aside) or IPv6 extension
 * headers differ from the packet's as it came.  The library refuses such a
 * replacement itself, on every kernel, so that it fails loudly and the
 * packet stays held. */
uint32_t ipri_hdr_sig(const uint8_t *p, uint32_t len);
bool ipri_replace_ok(const uint8_t *p, uint32_t len, uint32_t orig_sig);

/* held.c */
int ipri_held_init(struct ipr_held *hd, uint32_t cap);
void ipri_held_free(struct ipr_held *hd);
uint32_t ipri_held_add(struct ipr_held *hd, uint32_t id, uint64_t deadline,
		      uint8_t fl);
void ipri_held_del(struct ipr_held *hd, uint32_t slot);
/* Slot of a held packet named by an address, or IPR_NONE. */
uint32_t ipri_held_find(const struct ipr_held *hd, const struct ipr_addr *a);

/* inject.c */
int ipri_inject_open(struct ipr_handle *h);
int ipri_inject(struct ipr_handle *h, const void *pkt, size_t len,
	       const struct ipr_addr *addr);
void ipri_inject_close(struct ipr_handle *h);

/* proc.c: kernel counters of a queue from /proc/net/netfilter (struct
 * ipr_proc_queue: tool_api.h). */
int ipri_proc_queue_counters(uint16_t qnum, struct ipr_proc_queue *c);
/* Is queue number @n (or log group, @log) free in this namespace? */
bool ipri_proc_queue_free(uint16_t n, bool log);

#endif
