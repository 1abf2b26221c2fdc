/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter.h - internal: the kernel program a filter compiles into, per hook.
 * filter_*.c produce it; rules_nft.c turns it into nftables expressions. */
#ifndef IPR_FILTER_H
#define IPR_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include "ipredir.h"

/* The netfilter hooks a handle can use. */
enum ipr_hook {
	IPR_HOOK_IN = 0,  /* NF_INET_LOCAL_IN: inbound */
	IPR_HOOK_OUT = 1, /* NF_INET_LOCAL_OUT: outbound (loopback included) */
	IPR_HOOK_FWD = 2, /* NF_INET_FORWARD: forwarded (counts as outbound) */
	IPR_HOOK_COUNT
};

/* What one kernel test loads into a register before comparing it. */
enum ipr_ktest_kind {
	IPR_KT_NFPROTO,   /* meta nfproto, 1 byte: 2 = IPv4, 10 = IPv6 */
	IPR_KT_L4PROTO,   /* meta l4proto, 1 byte: 6 tcp, 17 udp, 1, 58 */
	IPR_KT_IIF,       /* meta iif, 4 bytes, value in network order here */
	IPR_KT_OIF,       /* meta oif, 4 bytes, value in network order here */
	IPR_KT_NET,       /* payload at the network header: offset, len */
	IPR_KT_TRANSPORT, /* payload at the transport header: offset, len */
	/* Added with the full language; meta values are host order in the
	 * kernel's register, network order here as every other value. */
	IPR_KT_INNER,     /* payload after the TCP/UDP header (nft @ih): the
			     load fails unless TCP or UDP, not a later
			     fragment, the TCP header readable */
	IPR_KT_MARK,      /* meta mark, 4 bytes */
	IPR_KT_LEN,       /* meta len (skb->len), 4 bytes */
	IPR_KT_SKUID,     /* meta skuid, 4 bytes: fails without a full local
			     socket that has a file (what nfqueue's UID needs) */
	IPR_KT_SKGID,     /* meta skgid, 4 bytes, same */
	IPR_KT_IIFNAME,   /* meta iifname: len bytes of the 16-byte,
			     zero-padded name (len < 16: a prefix) */
	IPR_KT_OIFNAME,   /* meta oifname, same */
	IPR_KT_OIFTYPE,   /* meta oiftype, 2 bytes (ARPHRD_LOOPBACK); EQ/NEQ */
	IPR_KT_CTSTATE,   /* ct state bits, 4 bytes (NF_CT_STATE_*_BIT) */
	IPR_KT_FRAG6,     /* exthdr ipv6 fragment present: 1 byte, 0 or 1;
			     only after an nfproto == 10 guard */
	IPR_KT_FRAGOFF6,  /* the IPv6 fragment header's offset field, 2
			     bytes (offset << 3 | flags); the load fails
			     without the header; only after nfproto == 10 */
};

enum ipr_kop {
	IPR_KOP_EQ, IPR_KOP_NEQ, IPR_KOP_LT, IPR_KOP_LTE, IPR_KOP_GT,
	IPR_KOP_GTE,
	IPR_KOP_IN,    /* the loaded value is one of set's values */
	IPR_KOP_NOTIN, /* ... is none of them (the load must still work) */
};

/* One comparison: load (kind, offset, len) and compare it with value.
 * value holds len bytes, big-endian (network order), whatever the kind:
 * rules_nft.c converts meta values to the kernel's host order itself. */
struct ipr_ktest {
	uint8_t kind;     /* enum ipr_ktest_kind */
	uint8_t op;       /* enum ipr_kop */
	uint8_t len;      /* 1..16 bytes */
	uint16_t offset;  /* payload kinds only */
	uint8_t value[16];
	uint8_t flags;    /* IPR_KTF_* */
	uint8_t mask[16]; /* IPR_KTF_MASK: ANDed to the loaded value (same
			     byte order as value) before the comparison */
	uint32_t set;     /* IN / NOTIN: index into ipr_kprog.sets (value
			     unused) */
	uint32_t pos;     /* where the filter text's term starts */
};
#define IPR_KTF_MASK 0x01

/* A rule is a conjunction of tests followed by an action: jump to another
 * chain of the program (>= 1), or, with jump == IPR_KRULE_ACTION, the
 * handle's terminal action (queue, sniff copy or drop).  When the tests do
 * not all hold, evaluation falls through to the next rule; at the end of a
 * chain it returns to the rule after the jump.  Actions are terminal, so a
 * disjunction is simply several rules, and re-evaluating a jump target
 * after a fall-through is harmless. */
#define IPR_KRULE_ACTION (-1)
struct ipr_krule {
	uint32_t first_test; /* index into ipr_kprog.tests */
	uint32_t ntests;
	int32_t jump;        /* chain index, or IPR_KRULE_ACTION */
};

struct ipr_kchain {
	uint32_t first_rule; /* index into ipr_kprog.rules */
	uint32_t nrules;
};

/* The values of a set test: n values of len bytes each (the test's len),
 * sorted as memcmp orders them, no two the same, at ipr_kprog.setvals +
 * first; or, for an interval set, n ranges (lo, hi inclusive: 2 * len
 * bytes each), sorted, none overlapping or touching.  A lookup in the
 * kernel costs the same for 3 values and 10,000. */
struct ipr_kset {
	uint32_t first; /* byte offset into setvals */
	uint32_t n;
	uint8_t len;
	bool interval;
};

/* The program for one hook.  Chain 0 is the entry (the base chain).
 * nchains == 0 means the filter can never match on this hook, so no chain
 * is installed there at all. */
struct ipr_kprog {
	struct ipr_ktest *tests;
	struct ipr_krule *rules;
	struct ipr_kchain *chains;
	uint32_t ntests, nrules, nchains;
	struct ipr_kset *sets;
	uint8_t *setvals;
	uint32_t nsets, nsetvals;
	uint32_t depth;      /* longest path of jumps from chain 0 */
};

#define IPR_KPROG_MAX_TESTS  65536
#define IPR_KPROG_MAX_CHAINS 256
/* Tests on one field that become a set: from this many values on. */
#define IPR_KSET_MIN 3

/*
 * The kernel's limits on what one rule and one table may hold, and the
 * program's shares of them.  nf_tables refuses a rule of 128 or more
 * expressions (EINVAL) or of 4096 or more bytes of expression data
 * (EFBIG), and a chain reached through 16 or more jumps (EMLINK).  A rule
 * whose tests would not fit is split: its first tests jump to a chain that
 * holds the next ones, and so on.  Room is left for what the encoder adds
 * (the action: counter, flow hash, verdict map; the fan-out's queue chain
 * and a heartbeat check, two levels).  ipri_ktest_cost() is the encoder's
 * count (rules_nft.c's ex_test) and an upper bound of the kernel's bytes
 * on 64-bit machines.
 */
#define IPR_RULE_MAX_EXPRS   112
#define IPR_RULE_MAX_BYTES   3400
#define IPR_KPROG_MAX_DEPTH  13
unsigned ipri_ktest_cost(const struct ipr_ktest *t, unsigned *bytes);

/* Build the kernel program of @f for @hook.  On success the caller frees
 * it with ipri_kprog_free.  Returns 0, or -E2BIG (too many tests or chains,
 * or chains nested deeper than the kernel allows: ipr_last_error() then
 * says which and where), -ENOMEM.  Fields are folded per hook first (inbound is true on IN and
 * false on OUT/FWD, and so on), so a filter such as "inbound" yields no
 * chain on OUT. */
int ipri_kprog_build(const ipr_filter *f, enum ipr_hook hook,
		    struct ipr_kprog *prog);
void ipri_kprog_free(struct ipr_kprog *prog);

/* True when part of the filter cannot run in the kernel (random8,
 * timestamp, packet[-1], tcp.PayloadLength, ...) and the library must
 * check each received packet again with ipr_filter_eval: the kernel side
 * then selects a superset (such a test holds both ways there).  The _hook
 * form says it for the packets of one hook: a filter such as
 * "outbound and random8 < 10" needs no check on inbound packets. */
bool ipri_filter_needs_user_check(const ipr_filter *f);
bool ipri_filter_needs_user_check_hook(const ipr_filter *f, enum ipr_hook hook);

/* True when the filter tests ct.state, which ipr_filter_eval cannot know
 * (so it cannot check such a filter again on its own). */
bool ipri_filter_uses_ct(const ipr_filter *f);
/* True when a test of the filter reads a field of kind @kind (enum
 * ipr_fkind). */
bool ipri_filter_uses_kind(const ipr_filter *f, unsigned kind);

/* ipr_filter_compile, with the fields of the kinds in @user_kinds (bits
 * 1 << enum ipr_fkind) checked in user space: what the running kernel
 * cannot match (tcp.Payload[i] without the inner payload expression of
 * Linux 5.16) keeps its meaning that way. */
ipr_filter *ipri_filter_compile_kinds(const char *text, enum ipr_layer layer,
				     struct ipr_filter_error *err,
				     uint32_t user_kinds);

/* ipr_filter_set_priority (public): bind the handle's priority before
 * building the kernel programs. */

/* What `ipredir filter explain` prints: per hook of the filter's layer the
 * chains and rules in an nft-like text, and what user space checks.
 * snprintf-style: returns the length it needs, or a negative errno. */
int ipr_filter_explain(const ipr_filter *f, char *buf, size_t size);

/* Layer the filter was compiled for. */
enum ipr_layer ipri_filter_layer(const ipr_filter *f);

#endif
