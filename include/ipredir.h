/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ipredir.h - the one public header of libipredir: put a user-mode program
 * into the Linux host's IP path (netfilter queue underneath, no module).
 *
 * Error convention, everywhere: functions returning int return 0 (or a
 * count) on success and a negative errno on failure, and also set errno.
 * Constructors return NULL and set errno.  Error strings are static.
 *
 * Thread rules: one handle may be used from several threads as long as each
 * queue (see ipr_open_opts.queues) is served by one thread at a time:
 * ipr_recv*, ipr_send* and ipr_drop for packets of queue q must not run
 * concurrently with each other.  Injection (ipr_send of a packet with no id)
 * may run from any thread.  ipr_shutdown may be called from any thread and
 * wakes blocked receivers.  ipr_close must be the last call.
 */
#ifndef IPREDIR_H
#define IPREDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one place the version is written: the Makefile, the pkg-config file,
 * the shared library's file name and the Debian packages take it from
 * here.  The soname (libipredir.so.0) changes only when the ABI breaks. */
#define IPR_VERSION_MAJOR 0
#define IPR_VERSION_MINOR 2
#define IPR_VERSION_PATCH 0
#define IPR_STR_(x) #x
#define IPR_STR(x) IPR_STR_(x)
#define IPR_VERSION_STRING IPR_STR(IPR_VERSION_MAJOR) "." \
	IPR_STR(IPR_VERSION_MINOR) "." IPR_STR(IPR_VERSION_PATCH)

/* The version of the library loaded at run time ("0.2.0"), which may be
 * newer than the header a program was built with (IPR_VERSION_STRING). */
const char *ipr_version(void);

/* Old names kept for programs written against 0.1; the compiler warns. */
#if defined(__GNUC__) || defined(__clang__)
#define IPR_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define IPR_DEPRECATED(msg)
#endif

/* ---------------------------------------------------------------------- */
/* Options structs                                                        */
/* ---------------------------------------------------------------------- */

/*
 * Structs that can grow (struct ipr_open_opts, struct ipr_filter_env) start
 * with `size_t sz`, the size the caller was built with.  Declare them with
 * IPR_OPTS so that sz is filled in and every other field starts zero:
 *
 *     IPR_OPTS(ipr_open_opts, o, .queues = 2);
 *     h = ipr_open_ex("tcp", IPR_LAYER_NETWORK, 0, 0, &o);
 *
 * The library takes a struct smaller than its own (an older caller: the
 * missing fields are zero, their defaults) and a larger one (a newer
 * caller) as long as every byte it does not know is zero; otherwise the
 * call fails with EINVAL rather than ignore an option silently (the rule
 * of libbpf's and libxdp's OPTS_VALID).
 */
#define IPR_OPTS(TYPE, NAME, ...)                                          \
	struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }

/* ---------------------------------------------------------------------- */
/* Layers, flags, priorities, parameters                                  */
/* ---------------------------------------------------------------------- */

enum ipr_layer {
	IPR_LAYER_NETWORK = 0,         /* sent by or addressed to this host */
	IPR_LAYER_NETWORK_FORWARD = 1, /* routed through this host */
};

#define IPR_FLAG_SNIFF       0x0001ULL /* a copy, the packet is not held */
#define IPR_FLAG_DROP        0x0002ULL /* drop in the kernel, nothing read */
#define IPR_FLAG_RECV_ONLY   0x0004ULL /* no ipr_send; without SNIFF the
					  packets are diverted: the program
					  gets them and they go no further
					  (as WinDivert) */
#define IPR_FLAG_SEND_ONLY   0x0008ULL /* inject only, no rules installed */
#define IPR_FLAG_FAIL_CLOSED 0x0010ULL /* full queue / no reader: drop, do
					  not let the packet through */

#define IPR_PRIORITY_MIN     (-30000)
#define IPR_PRIORITY_MAX     30000
#define IPR_PRIORITY_DEFAULT 0

enum ipr_param {
	IPR_PARAM_QUEUE_LENGTH = 0, /* packets waiting in the kernel, per queue */
	IPR_PARAM_QUEUE_TIME = 1,   /* ms a received packet may stay unanswered */
	IPR_PARAM_QUEUE_SIZE = 2,   /* bytes of packets waiting to be read */
	IPR_PARAM_VERSION_MAJOR = 3,
	IPR_PARAM_VERSION_MINOR = 4,
	IPR_PARAM_BUSY_POLL = 5,    /* at most this many us a receive keeps
				       polling before it sleeps (0: it sleeps
				       at once).  Adaptive: it polls only
				       while packets have lately come within
				       that time, for about twice the recent
				       wait, yielding to any other runnable
				       thread; traffic that stops costs one
				       such poll, an idle handle none.  Saves
				       a wake-up per packet on small, dense
				       traffic (bench/README.md).  Only
				       receives with a timeout poll: ipr_recv
				       and a timeout of -1 block at once, so
				       that a signal interrupts them. */
	IPR_PARAM_HANG_TIME = 6,    /* ms a queue may go without a receive
				       call before the kernel stops queueing
				       to it (see ipr_open_opts.hang_time) */
};
#define IPR_BUSY_POLL_DEFAULT 50
#define IPR_BUSY_POLL_MAX 100000

#define IPR_QUEUE_LENGTH_MIN     32
#define IPR_QUEUE_LENGTH_DEFAULT 4096
#define IPR_QUEUE_LENGTH_MAX     65536
#define IPR_QUEUE_TIME_MIN       20
#define IPR_QUEUE_TIME_DEFAULT   2000
#define IPR_QUEUE_TIME_MAX       16000
#define IPR_QUEUE_SIZE_MIN       65536
#define IPR_QUEUE_SIZE_DEFAULT   (8u << 20)
#define IPR_QUEUE_SIZE_MAX       (64u << 20)
#define IPR_HANG_TIME_MIN        100
#define IPR_HANG_TIME_DEFAULT    1000
#define IPR_HANG_TIME_MAX        60000

#define IPR_QUEUES_DEFAULT 1 /* a program reads every queue it opens */
#define IPR_QUEUES_MAX  64  /* queues (worker threads) of one handle */
#define IPR_BATCH_MAX   256 /* packets in one ipr_recv_batch */
#define IPR_MTU_MAX     65535 /* largest packet that can be passed on */
/* Room that ipr_recv_batch needs per packet in the caller's buffer. */
#define IPR_BATCH_SLOT  (IPR_MTU_MAX + 1 + 512)

/* ---------------------------------------------------------------------- */
/* Packet metadata                                                        */
/* ---------------------------------------------------------------------- */

#define IPR_ADDR_OUTBOUND      0x0001u /* sent by this host (or forwarded) */
#define IPR_ADDR_LOOPBACK      0x0002u /* over the loopback interface */
#define IPR_ADDR_IPV6          0x0004u
#define IPR_ADDR_GSO           0x0008u /* a super-packet (GSO/GRO) */
#define IPR_ADDR_CSUM_PARTIAL  0x0010u /* TCP/UDP checksum not final yet */
#define IPR_ADDR_CSUM_UNVERIFIED 0x0020u /* nobody has checked it yet */
#define IPR_ADDR_SNIFFED       0x0040u /* a copy: cannot be passed on */
#define IPR_ADDR_TRUNCATED     0x0080u /* only part of the packet was copied */
#define IPR_ADDR_UID           0x0100u /* uid valid */
#define IPR_ADDR_GID           0x0200u /* gid valid */
#define IPR_ADDR_MARK          0x0400u /* mark valid (non-zero) */

struct ipr_addr {
	uint64_t timestamp;   /* ns since the epoch (CLOCK_REALTIME) */
	uint32_t flags;       /* IPR_ADDR_* */
	uint8_t layer;        /* enum ipr_layer */
	uint8_t hook;         /* netfilter hook the packet was taken at */
	uint16_t queue;       /* index of the handle's queue it came from */
	uint32_t if_idx;      /* in-interface if inbound, out-interface if
				 outbound; for injection: see ipr_send */
	uint32_t in_if_idx;   /* 0 where there is none */
	uint32_t out_if_idx;
	uint32_t mark;        /* skb mark */
	uint32_t uid, gid;    /* socket owner, where the kernel knows it */
	uint32_t orig_len;    /* length in the kernel (>= captured length) */
	uint32_t packet_id;   /* kernel id of a held packet; 0 = none */
	uint32_t _slot;       /* library private: do not change */
	uint32_t _gen;        /* library private: do not change */
	uint64_t _reserved[2];
};

/* ---------------------------------------------------------------------- */
/* Handles                                                                */
/* ---------------------------------------------------------------------- */

typedef struct ipr_handle ipr_handle;

/* Options of ipr_open_ex; declare with IPR_OPTS(ipr_open_opts, ...)
 * (see Options structs); fields left zero take their defaults. */
struct ipr_open_opts {
	size_t sz;
	uint32_t queues;        /* worker queues; flows stay on one queue */
	uint32_t queue_length;  /* IPR_PARAM_QUEUE_LENGTH */
	uint32_t queue_time;    /* IPR_PARAM_QUEUE_TIME */
	uint32_t queue_size;    /* IPR_PARAM_QUEUE_SIZE */
	uint32_t busy_poll;     /* IPR_PARAM_BUSY_POLL (0: the default,
				   IPR_BUSY_POLL_DEFAULT; to never poll, set
				   the parameter to 0 after the open) */
	uint32_t snaplen;       /* bytes of each packet copied to the program:
				   0 (default) = all of it, else
				   IPR_SNAPLEN_MIN..IPR_MTU_MAX.  A longer
				   packet arrives with IPR_ADDR_TRUNCATED and
				   orig_len set; it can be passed on or
				   dropped, not replaced (EMSGSIZE).  Programs
				   that read only headers save the copy of the
				   payload, the largest per-byte cost.  No
				   effect when the filter has parts only user
				   space can check (they need the whole
				   packet). */
	uint32_t hang_time;     /* IPR_PARAM_HANG_TIME: the dead-man switch.
				   Each queue keeps a heartbeat in the
				   kernel that every ipr_recv* call on it
				   refreshes (several times per hang time,
				   also while it waits); a queue whose
				   program has not been in ipr_recv* for
				   hang_time ms (stopped, deadlocked, in a
				   debugger, busy elsewhere) is skipped by
				   the kernel itself: new packets pass on
				   (fail-open) or are dropped
				   (IPR_FLAG_FAIL_CLOSED) without being
				   queued, until the next receive call.
				   Packets queued before it tripped are
				   passed on or dropped the same way by
				   the handle's keeper process. */
};
#define IPR_SNAPLEN_MIN 128 /* room for the largest IP and TCP headers */

/*
 * Open a handle: compile @filter (WinDivert filter language), install the
 * kernel rules in a table owned by this handle, bind the queues.  The rules
 * vanish when the handle is closed or the process dies, however it dies.
 * Errors: EINVAL (bad filter, layer, priority, flags: see
 * ipr_filter_compile for the position), EPERM (needs CAP_NET_ADMIN),
 * EOPNOTSUPP (the kernel lacks nf_tables owner tables or NFQUEUE).
 */
ipr_handle *ipr_open(const char *filter, enum ipr_layer layer,
		     int16_t priority, uint64_t flags);
ipr_handle *ipr_open_ex(const char *filter, enum ipr_layer layer,
			int16_t priority, uint64_t flags,
			const struct ipr_open_opts *opts);

/*
 * Receive one packet of queue 0 into @pkt.  Blocks until one comes, the
 * handle is shut down (-ESHUTDOWN) or a signal arrives (-EINTR).  If @cap is
 * too small, the first @cap bytes are copied, *len says the full length,
 * @addr is valid (the packet can still be passed on unchanged) and -EMSGSIZE
 * is returned.
 */
int ipr_recv(ipr_handle *h, void *pkt, size_t cap, size_t *len,
	     struct ipr_addr *addr);

/* One packet of a batch: what ipr_recv_batch fills in and ipr_send_batch
 * takes back. */
enum ipr_verdict {
	IPR_VERDICT_PASS = 0,    /* pass the held packet on as it came */
	IPR_VERDICT_REPLACE = 1, /* pass on data[0..len) instead */
	IPR_VERDICT_DROP = 2,    /* drop it */
};

struct ipr_packet {
	void *data;           /* packet bytes (IPv4 or IPv6 header first) */
	uint32_t len;
	uint32_t verdict;     /* enum ipr_verdict; PASS after ipr_recv_batch */
	struct ipr_addr addr;
};

/*
 * Receive up to @max packets of queue @queue with as few system calls as
 * possible.  Packets are read straight into @buf (no further copy):
 * pkts[i].data points into it.  @cap should be at least
 * @max * IPR_BATCH_SLOT; fewer packets are read if it is smaller.
 * @timeout_ms: -1 waits forever, 0 does not wait.  Returns the number of
 * packets (0 on timeout), -ESHUTDOWN after ipr_shutdown once the queue is
 * empty, or another negative errno.
 */
int ipr_recv_batch(ipr_handle *h, unsigned queue, void *buf, size_t cap,
		   struct ipr_packet *pkts, unsigned max, int timeout_ms);

/*
 * Send one packet.  If addr->packet_id is set (a packet from ipr_recv*),
 * the held packet is passed on: unchanged if @pkt is NULL (fastest: no
 * copy, the kernel keeps its own), else replaced by @pkt[0..len).  If the
 * held packet came with IPR_ADDR_CSUM_PARTIAL, the TCP/UDP checksum of a
 * replacement is completed by the library.
 * A replacement must be a whole IP packet whose length field (IPv4 total
 * length, IPv6 payload length) matches @len, with the IP version, the IPv4
 * header length, options and fragment fields (DF aside) and the IPv6
 * next-header chain and extension headers of the packet as it came: the
 * kernel's nfnetlink_queue refuses others since 2026 and drops the packet in
 * silence, so the library refuses them on every kernel (EINVAL; the packet
 * stays held).  Addresses, ports, TTL, TOS/traffic class, DF, the payload
 * and its length may change.  To change the rest, drop the packet and
 * inject the new one.  Such kernels also refuse replacements from a handle
 * opened outside the initial user namespace (a rootless container): the
 * packet is dropped, and only PASS and DROP are of use there.
 * If addr->packet_id is 0 the packet is injected: outbound if
 * IPR_ADDR_OUTBOUND is set (routed as if sent by this host), else inbound
 * (delivered to this host's stack; its destination must be local).
 * Injected packets are seen only by handles of lower priority.
 * Errors: EINVAL (bad packet or addr, packet already answered), EMSGSIZE
 * (longer than IPR_MTU_MAX), ESHUTDOWN, EPERM (RECV_ONLY handle).
 */
int ipr_send(ipr_handle *h, const void *pkt, size_t len,
	     const struct ipr_addr *addr);

/* Answer @n packets with as few system calls as possible, each as its
 * verdict says; packets with no packet_id are injected.  Returns the number
 * answered; on an error in the middle, the ones before it are answered.
 * Fastest case: a batch of one queue, in the order it was received, all
 * PASS (or all DROP), while no older packet of that queue is held: the
 * kernel then gets a single verdict message for all of them. */
int ipr_send_batch(ipr_handle *h, struct ipr_packet *pkts, unsigned n);

/* Drop a held packet now (not sending it also drops it, after the queue
 * time). */
int ipr_drop(ipr_handle *h, const struct ipr_addr *addr);

enum ipr_shutdown_how {
	IPR_SHUTDOWN_RECV = 1, /* no new packets; queued ones can still be read */
	IPR_SHUTDOWN_SEND = 2,
	IPR_SHUTDOWN_BOTH = 3,
};
int ipr_shutdown(ipr_handle *h, enum ipr_shutdown_how how);

/* Remove the rules, answer what is still held (passed on, or dropped with
 * IPR_FLAG_FAIL_CLOSED) and free the handle. */
int ipr_close(ipr_handle *h);

int ipr_param_set(ipr_handle *h, enum ipr_param param, uint64_t value);
int ipr_param_get(ipr_handle *h, enum ipr_param param, uint64_t *value);
/* The 0.1 names (each line carries IPR_DEPRECATED, which
 * scripts/rename-abi.sh leaves alone). */
IPR_DEPRECATED("use ipr_param_set") int ipr_set_param(ipr_handle *h,
		enum ipr_param param, uint64_t value);
IPR_DEPRECATED("use ipr_param_get") int ipr_get_param(ipr_handle *h,
		enum ipr_param param, uint64_t *value);

/* Number of queues (worker threads) of the handle. */
unsigned ipr_queue_count(const ipr_handle *h);

/* The socket of queue @queue, for poll/epoll or an event loop: readable
 * when packets of that queue wait.  Only to wait on, with the timeout
 * ipr_queue_timeout gives: read with ipr_recv_batch (timeout 0 after a
 * wake-up or that timeout, since packets of a sniff handle may already sit
 * in the library's buffer), never close it.
 * Returns the descriptor or a negative errno (EINVAL: no such queue,
 * EOPNOTSUPP: a handle without queues, SEND_ONLY or DROP). */
int ipr_queue_fd(const ipr_handle *h, unsigned queue);

/* How long an event loop may wait on ipr_queue_fd(@queue) before it must
 * call ipr_recv_batch on that queue again (timeout 0 will do), in ms, into
 * *@ms: the next refresh of the dead-man switch (see hang_time), or the
 * queue-time deadline of the oldest held packet; -1 if nothing is due.
 * Pass it as the poll/epoll timeout and ask again after every wait.  A
 * loop that waits longer than the hang time is taken for hung: the kernel
 * then passes (fail-open) or drops (IPR_FLAG_FAIL_CLOSED) the queue's
 * packets without queueing them, so the descriptor never becomes readable
 * to wake it.  Returns 0 or a negative errno (EINVAL, EOPNOTSUPP as
 * ipr_queue_fd). */
int ipr_queue_timeout(const ipr_handle *h, unsigned queue, int *ms);

struct ipr_stats {
	uint64_t recv_packets, recv_bytes;  /* delivered to the program */
	uint64_t sent_packets;              /* held packets answered */
	uint64_t injected_packets;
	uint64_t dropped_verdict;           /* dropped by the program */
	uint64_t dropped_timeout;           /* unanswered past the queue time */
	uint64_t kernel_queue_dropped;      /* queue full and dropped (fail-closed;
					       fail-open lets them through
					       uncounted) */
	uint64_t kernel_user_dropped;       /* socket buffer full */
	uint64_t segmented;                 /* too large: re-queued to be cut
					       into segments by the kernel */
	uint64_t errors;                    /* verdicts the kernel refused */
	uint64_t kernel_bypassed;           /* fail-open: passed on by the
					       kernel without reaching the
					       program (its queue or socket
					       buffer was full); 0 with
					       IPR_FLAG_FAIL_CLOSED */
	uint64_t hung_packets;              /* passed on (fail-open) or dropped
					       (fail-closed) by the kernel, not
					       queued, because their queue had
					       not been read for the hang
					       time; not in kernel_bypassed */
};
/* Totals over all queues; the kernel counters come from
 * /proc/net/netfilter/nfnetlink_queue of the handle's namespace, and
 * kernel_bypassed from a counter in the handle's table besides (it counts
 * from the open, and packets being queued at the instant of the call may
 * be missing from it). */
int ipr_stats_get(ipr_handle *h, struct ipr_stats *st);

/* ---------------------------------------------------------------------- */
/* Filters                                                                */
/* ---------------------------------------------------------------------- */

typedef struct ipr_filter ipr_filter;

struct ipr_filter_error {
	int code;          /* negative errno (-EINVAL), 0 if none */
	int pos;           /* byte offset into the filter text */
	const char *msg;   /* static text */
};

/* Compile @text for @layer.  On error returns NULL, sets errno and fills
 * @err (if not NULL) with the position and a message. */
ipr_filter *ipr_filter_compile(const char *text, enum ipr_layer layer,
			       struct ipr_filter_error *err);
/* 1 if the packet matches, 0 if not, negative errno on bad arguments.
 * @addr says the direction, layer, interface, mark, uid/gid and time, as
 * ipr_recv fills it in.  Conntrack state is not in it: a ct.state test
 * fails here, negated or not (see ipr_filter_eval_ex). */
int ipr_filter_eval(const ipr_filter *f, const void *pkt, size_t len,
		    const struct ipr_addr *addr);

/* Conntrack states of the ct.state field (the kernel's state bits). */
#define IPR_CT_INVALID     0x01u
#define IPR_CT_ESTABLISHED 0x02u
#define IPR_CT_RELATED     0x04u
#define IPR_CT_NEW         0x08u
#define IPR_CT_UNTRACKED   0x40u

/* What ipr_filter_eval cannot read from the packet or the address.
 * Declare with IPR_OPTS(ipr_filter_env, ...); fields left zero are
 * unknown. */
struct ipr_filter_env {
	size_t sz;
	uint32_t ct_state;   /* one IPR_CT_* bit; 0: unknown, ct.state fails */
	const char *if_name; /* name of addr->if_idx; NULL: looked up with
				if_indextoname() in the caller's namespace */
};
/* ipr_filter_eval with @env (may be NULL). */
int ipr_filter_eval_ex(const ipr_filter *f, const void *pkt, size_t len,
		       const struct ipr_addr *addr,
		       const struct ipr_filter_env *env);
/* Normalised text that compiles to the same filter.  Returns the length it
 * needs (like snprintf), or a negative errno. */
int ipr_filter_format(const ipr_filter *f, char *buf, size_t size);
/* What runs where: the kernel rules the filter becomes on each hook and
 * what user space checks again (the text of `ipredir filter explain`).
 * Returns the length it needs (like snprintf), or a negative errno. */
int ipr_filter_explain(const ipr_filter *f, char *buf, size_t size);
void ipr_filter_free(ipr_filter *f);
/* The priority the `priority` filter field compares with, as ipr_open
 * binds it (0 until bound); for ipr_filter_eval and ipr_filter_explain of a
 * filter compiled on its own. */
void ipr_filter_set_priority(ipr_filter *f, int16_t priority);

/* ---------------------------------------------------------------------- */
/* Packet helpers                                                         */
/* ---------------------------------------------------------------------- */

/* Headers as on the wire: every multi-byte field in network byte order. */
struct ipr_iphdr {
	uint8_t ver_ihl;     /* version << 4 | header length in 32-bit words */
	uint8_t tos;
	uint16_t length;
	uint16_t id;
	uint16_t frag_off;   /* flags (DF 0x4000, MF 0x2000) | offset / 8 */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t checksum;
	uint32_t src;
	uint32_t dst;
};

struct ipr_ipv6hdr {
	uint32_t ver_tc_flow; /* version 4 bits, traffic class 8, flow 20 */
	uint16_t length;      /* payload length */
	uint8_t next_hdr;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
};

struct ipr_tcphdr {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t data_off;    /* header length in 32-bit words << 4 */
	uint8_t flags;       /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10
				URG 0x20 */
	uint16_t window;
	uint16_t checksum;
	uint16_t urg_ptr;
};

struct ipr_udphdr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t length;
	uint16_t checksum;
};

struct ipr_icmphdr {       /* ICMP and ICMPv6 */
	uint8_t type;
	uint8_t code;
	uint16_t checksum;
	uint32_t body;
};

/* What ipr_packet_parse finds.  Pointers point into the packet; a header
 * that is absent (or does not fit) is NULL. */
struct ipr_headers {
	const struct ipr_iphdr *ip;
	const struct ipr_ipv6hdr *ipv6;
	const struct ipr_tcphdr *tcp;
	const struct ipr_udphdr *udp;
	const struct ipr_icmphdr *icmp;
	const struct ipr_icmphdr *icmpv6;
	uint8_t protocol;       /* transport protocol (after IPv6 ext. headers) */
	bool fragment;          /* any fragment (IPv4 MF/offset, IPv6 frag hdr) */
	uint16_t frag_off;      /* fragment offset in bytes */
	uint32_t l3_len;        /* IP header length incl. options / ext. hdrs */
	uint32_t l4_off;        /* offset of the transport header */
	const uint8_t *payload; /* transport payload, NULL if none */
	uint32_t payload_len;
	uint32_t total_len;     /* IP total length as the header says (clamped to
				   the buffer) */
};

/* Parse the IPv4 or IPv6 packet @pkt[0..len).  Returns 0, or -EINVAL if it
 * is not a well-formed IP header (a short or odd transport header is not an
 * error: that pointer is just NULL). */
int ipr_packet_parse(const void *pkt, size_t len, struct ipr_headers *hdrs);

/* A 64-bit hash of the packet (as WinDivertHelperHashPacket): its first 64
 * bytes and IP length, less the fields that change hop by hop (TTL or hop
 * limit, IPv4 header checksum), mixed with @seed.  The filter fields
 * random8, random16 and random32 are bits 48-55, 32-47 and 0-31 of
 * ipr_packet_hash(packet, len, 0) (WinDivert seeds with the timestamp;
 * here every handle that sees a packet must agree). */
uint64_t ipr_packet_hash(const void *pkt, size_t len, uint64_t seed);

#define IPR_CSUM_NO_IP     0x01u
#define IPR_CSUM_NO_TCP    0x02u
#define IPR_CSUM_NO_UDP    0x04u
#define IPR_CSUM_NO_ICMP   0x08u
#define IPR_CSUM_NO_ICMPV6 0x10u

/* Recompute the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum
 * of a whole packet (not for non-first fragments).  Returns 0 or -EINVAL. */
int ipr_csum_calc(void *pkt, size_t len, unsigned flags);
IPR_DEPRECATED("use ipr_csum_calc") int ipr_checksums_calc(void *pkt,
		size_t len, unsigned flags);

/* Ones' complement sum of @data added to @sum, not folded, not inverted. */
uint32_t ipr_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold a 32-bit sum to 16 bits and invert it: the checksum field value
 * (in host byte order of the sum's words, i.e. store as is). */
uint16_t ipr_csum_fold(uint32_t sum);
/* RFC 1624 incremental update of a checksum field when a 16-bit or 32-bit
 * word covered by it changes from @old to @new (all in network order). */
uint16_t ipr_csum_update16(uint16_t csum, uint16_t old, uint16_t new_);
uint16_t ipr_csum_update32(uint16_t csum, uint32_t old, uint32_t new_);

/* Addresses in network byte order.  Parse returns 0 or -EINVAL; format
 * returns the length written or -ENOSPC. */
int ipr_ipv4_parse(const char *s, uint32_t *addr);
int ipr_ipv6_parse(const char *s, uint8_t addr[16]);
int ipr_ipv4_format(uint32_t addr, char *buf, size_t size);
int ipr_ipv6_format(const uint8_t addr[16], char *buf, size_t size);
#define IPR_ADDRSTRLEN 46

/* What the running kernel offers, where ipredir picks its way by it.
 * Each is asked once per process (a rule that is added and removed in the
 * same netlink batch, so nothing is ever left behind); without
 * CAP_NET_ADMIN the answer is guessed from the kernel's version and
 * IPR_KF_GUESSED is set.  The environment variable IPREDIR_DISABLE (words
 * "owner-tables", "native-queue", "xt-queue", "inner-payload", "log",
 * separated by commas) turns features off, to run the fallbacks. */
enum {
	IPR_KF_OWNER_TABLES  = 1u << 0, /* tables that go with their socket
					   (5.12+); else a guard process
					   deletes them and the next open
					   sweeps what a dead program left */
	IPR_KF_NATIVE_QUEUE  = 1u << 1, /* nft_queue; else ... */
	IPR_KF_XT_QUEUE      = 1u << 2, /* ... xt NFQUEUE through nft_compat
					   (asked only without nft_queue) */
	IPR_KF_INNER_PAYLOAD = 1u << 3, /* tcp/udp.Payload[i] in the kernel
					   (5.16+); else checked in user
					   space */
	IPR_KF_LOG           = 1u << 4, /* the log expression (IPR_FLAG_SNIFF) */
	IPR_KF_GUESSED       = 1u << 31,
};
/* Fills *@features with IPR_KF_* bits; 0 or a negative errno. */
int ipr_kernel_features(uint32_t *features);
/* What @features mean for ipredir, for people: the kernel's release, then
 * one "what: way" item per feature, separated by @sep ("\n", "; ").
 * snprintf-style: the length it needs, or a negative errno. */
int ipr_kernel_features_format(uint32_t features, const char *sep,
			       char *buf, size_t size);

/* Static text for a negative errno returned by this library. */
const char *ipr_strerror(int err);

/* More about this thread's last failed call, where the library or the
 * kernel knows more than the errno: the kernel's own text (netlink
 * extended ack), or for a filter too large for the kernel's limits which
 * limit and where.  @pos (may be NULL) gets the byte offset into the filter
 * text that the detail is about, or -1.  Returns "" when there is nothing
 * to add.  The text is the thread's own and stays until its next failure
 * that has a detail. */
const char *ipr_last_error(int *pos);

#ifdef __cplusplus
}
#endif
#endif /* IPREDIR_H */
