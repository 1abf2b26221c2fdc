/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_ast.h - internal: the field table and the syntax tree that
 * filter_parse.c builds and filter_eval/format/kprog/explain.c walk. */
#ifndef IPR_FILTER_AST_H
#define IPR_FILTER_AST_H

#include <stdbool.h>
#include <stdint.h>
#include "ipredir.h"
#include "filter.h"

#define IPR_FILTER_MAX_LEN   (1 << 20) /* bytes of filter text: room for
					     block lists of 10,000s */
#define IPR_FILTER_MAX_DEPTH 128   /* nested parentheses / not / ternary */

/* How a field gets its value; one evaluator per kind in user space and one
 * translation per kind for the kernel, so a new field is usually one line
 * in the table. */
enum ipr_fkind {
	IPR_FK_CONST,     /* true / false: folded by the parser */
	IPR_FK_CONSTVAL,  /* fixed per handle (arg: enum ipr_cv): folded per
			     hook in the kernel program */
	IPR_FK_DIR,       /* inbound / outbound: folded per hook */
	IPR_FK_PROTO,     /* ip, tcp, ...: the guards alone */
	IPR_FK_IFIDX,     /* interface index of the packet's direction */
	IPR_FK_IFNAME,    /* its name (meta iifname / oifname) */
	IPR_FK_LOOPBACK,  /* outbound over the loopback device */
	IPR_FK_FRAGMENT,  /* IPv4 MF or offset, or an IPv6 fragment header */
	IPR_FK_META,      /* arg: enum ipr_meta */
	IPR_FK_SOCK,      /* uid (arg 0) / gid (arg 1) of the local socket */
	IPR_FK_CT,        /* ct.state */
	IPR_FK_ADDR,      /* localAddr (arg 0) / remoteAddr (arg 1) */
	IPR_FK_PORT,      /* localPort (arg 0) / remotePort (arg 1) */
	IPR_FK_NET,       /* bytes at the network header */
	IPR_FK_TRANSPORT, /* bytes at the transport header */
	IPR_FK_PACKET,    /* packet[i]: bytes from the start of the packet */
	IPR_FK_PAYLOAD,   /* tcp/udp.Payload[i]: bytes of the payload */
	IPR_FK_USER,      /* user space only (arg: enum ipr_ufield) */
};

enum ipr_cv { IPR_CV_ZERO, IPR_CV_LAYER, IPR_CV_PRIORITY };
enum ipr_meta { IPR_M_LENGTH, IPR_M_PROTOCOL, IPR_M_MARK };
enum ipr_ufield {
	IPR_U_TIMESTAMP, IPR_U_RANDOM8, IPR_U_RANDOM16, IPR_U_RANDOM32,
	IPR_U_PAYLOADLEN,
};

/* What text a value may be written as. */
enum ipr_vtype {
	IPR_VT_BOOL,    /* 0 / 1: comparisons fold away at parse time */
	IPR_VT_NUM,
	IPR_VT_IPV4,
	IPR_VT_IPV6,
	IPR_VT_ADDR,    /* 16 bytes; IPv4 text means ::ffff:a.b.c.d */
	IPR_VT_STRING,  /* "eth0", "veth*": 16 bytes, zero-padded */
	IPR_VT_CTSTATE, /* new, established, related, invalid, untracked */
};

#define IPR_LAYERS_NETWORK (1u << IPR_LAYER_NETWORK | \
			    1u << IPR_LAYER_NETWORK_FORWARD)

/* ipr_field.flags */
#define IPR_FF_USER   0x01 /* the kernel cannot test it: re-checked in user
			      space (the kernel lets it through) */
#define IPR_FF_INDEX  0x02 /* takes an index: packet[i], tcp.Payload[i] */
#define IPR_FF_SIGNED 0x04 /* value may be negative (priority) */
#define IPR_FF_EQONLY 0x08 /* only == and != */

struct ipr_field {
	const char *name;
	uint8_t kind;      /* enum ipr_fkind */
	uint8_t vtype;     /* enum ipr_vtype */
	uint8_t width;     /* bytes loaded and compared, big-endian; 0 for
			      booleans */
	uint8_t layers;    /* 1 << enum ipr_layer where it is valid */
	uint8_t hooks;     /* 1 << enum ipr_hook where it can work; 0 = all */
	uint8_t nfproto;   /* guard: 2 or 10, 0 = any */
	uint8_t l4proto;   /* guard: transport protocol, 0 = any */
	uint8_t shift;     /* the masked load holds value << shift */
	uint16_t offset;   /* NET / TRANSPORT: where the value lies */
	uint8_t arg;       /* kind-specific (see enum ipr_fkind) */
	uint8_t flags;     /* IPR_FF_* */
	uint32_t mask;     /* non-zero: ANDed to the loaded width (<= 4)
			      bytes before the comparison */
};

extern const struct ipr_field ipri_filter_fields[];
extern const unsigned ipri_filter_nfields;

enum ipr_fnode_type {
	IPR_FN_TRUE,
	IPR_FN_FALSE,
	IPR_FN_AND,  /* n-ary, children in order */
	IPR_FN_OR,   /* n-ary */
	IPR_FN_NOT,
	IPR_FN_TERN, /* children: condition, then, else */
	IPR_FN_TEST, /* field op value; a boolean field alone is "is true" */
};

#define IPR_FN_NONE (-1)

/* Nodes live in one array and point at each other by index: one
 * allocation, trivially freed, and n-ary AND/OR keep "a or b or c ..."
 * flat so that recursion depth follows nesting, not filter length. */
struct ipr_fnode {
	uint8_t type;      /* enum ipr_fnode_type */
	uint8_t op;        /* TEST: enum ipr_kop */
	uint8_t vlen;      /* TEST of ifName: bytes compared (16: the whole
			      name, fewer: a "prefix*") */
	bool user;         /* this subtree needs the user-space check */
	uint16_t field;    /* TEST: index into ipri_filter_fields */
	int32_t child;     /* first child or IPR_FN_NONE */
	int32_t next;      /* next sibling or IPR_FN_NONE */
	int32_t index;     /* TEST of packet[] / Payload[]: byte offset,
			      negative: from the end */
	uint32_t pos;      /* TEST: where the field name starts in the text */
	uint8_t value[16]; /* TEST: width bytes, big-endian, already shifted
			      as the masked load holds it */
};

struct ipr_filter {
	enum ipr_layer layer;
	int16_t priority;  /* for the `priority` field */
	bool needs_user;
	bool user_hook[IPR_HOOK_COUNT];
	int32_t root;
	uint32_t nnodes;
	struct ipr_fnode *nodes;
};

/* The hooks a layer's handle uses. */
static inline unsigned ipr_layer_hooks(enum ipr_layer layer)
{
	return layer == IPR_LAYER_NETWORK_FORWARD ? 1u << IPR_HOOK_FWD
		: 1u << IPR_HOOK_IN | 1u << IPR_HOOK_OUT;
}

/*
 * The bytes a transport-header field is read with.  nft loads 1, 2 or 4
 * aligned bytes at the transport header on a fast path that does not check
 * for a later fragment: it reads the fragment's data, or for IPv6 (where
 * the transport offset of a later fragment stays 0) the IP header itself.
 * Loads of any other length take the path that fails there.  So a field of
 * @len bytes at @off is read as a window of 3 bytes (5 for 4-byte fields)
 * that holds it, the rest masked off, and user space wants the same window
 * to be readable.
 */
static inline void ipr_l4_window(unsigned off, unsigned len, unsigned *start,
				 unsigned *wlen)
{
	unsigned w = len == 4 ? 5 : len < 3 ? 3 : len;

	*wlen = w;
	*start = off + len > w ? off + len - w : 0;
}

/* Normalised text of one TEST node ("tcp.DstPort == 80"), snprintf-style
 * (filter_format.c; explain uses it for the user-space tests). */
int ipri_filter_format_test(const ipr_filter *f, int32_t node, char *buf,
			   size_t size);

/* Does "a OP b" hold, for the order operators of enum ipr_kop (what the
 * parser and the analysis fold comparisons of constants with)? */
static inline bool ipr_kop_holds(uint8_t op, unsigned a, unsigned b)
{
	switch (op) {
	case IPR_KOP_EQ: return a == b;
	case IPR_KOP_NEQ: return a != b;
	case IPR_KOP_LT: return a < b;
	case IPR_KOP_LTE: return a <= b;
	case IPR_KOP_GT: return a > b;
	default: return a >= b;
	}
}

/* filter_analyse.c: the per-hook analysis of a parsed filter (root, nodes
 * and layer set): fills needs_user and user_hook[]; 0, or -EINVAL with the
 * error's position and message, or -ENOMEM. */
int ipri_filter_analyse(ipr_filter *f, size_t *pos, const char **msg);

/* The value that a CONSTVAL field has, big-endian in @out (width bytes);
 * priority in offset binary so that memcmp orders it as a signed number. */
void ipri_filter_constval(const ipr_filter *f, const struct ipr_field *fd,
			 uint8_t out[16]);

#endif
