/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_ast.h - internal: the field table and the syntax tree that
 * filter_parse.c builds and filter_eval/format/kprog.c walk. */
#ifndef IPR_FILTER_AST_H
#define IPR_FILTER_AST_H

#include <stdbool.h>
#include <stdint.h>
#include "ipredir.h"
#include "filter.h"

#define IPR_FILTER_MAX_LEN   16384 /* bytes of filter text */
#define IPR_FILTER_MAX_DEPTH 128   /* nested parentheses / not / ternary */

/* How a field gets its value; one evaluator per kind in user space and one
 * translation per kind for the kernel, so a new field is usually one line
 * in the table. */
enum ipr_fkind {
	IPR_FK_CONST,     /* true / false */
	IPR_FK_DIR,       /* inbound / outbound: folded per hook */
	IPR_FK_PROTO,     /* ip, tcp, ...: the guards alone */
	IPR_FK_IFIDX,     /* interface index of the packet's direction */
	IPR_FK_NET,       /* bytes at the network header */
	IPR_FK_TRANSPORT, /* bytes at the transport header */
};

/* What text a value may be written as. */
enum ipr_vtype {
	IPR_VT_BOOL, /* 0 / 1: comparisons fold away at parse time */
	IPR_VT_NUM,
	IPR_VT_IPV4,
	IPR_VT_IPV6,
};

#define IPR_LAYERS_NETWORK (1u << IPR_LAYER_NETWORK | \
			    1u << IPR_LAYER_NETWORK_FORWARD)

struct ipr_field {
	const char *name;
	uint8_t kind;      /* enum ipr_fkind */
	uint8_t vtype;     /* enum ipr_vtype */
	uint8_t width;     /* value bytes (big-endian); 0 for booleans */
	uint8_t layers;    /* 1 << enum ipr_layer where it is valid */
	uint8_t nfproto;   /* guard: 2 or 10, 0 = any */
	uint8_t l4proto;   /* guard: transport protocol, 0 = any */
	uint16_t offset;   /* NET / TRANSPORT: where the value lies */
	uint8_t arg;       /* CONST: the value; DIR: 1 for outbound */
	bool user_only;    /* the kernel cannot test it: re-check in user
			      space (the kernel then lets it through) */
};

extern const struct ipr_field ipr_filter_fields[];
extern const unsigned ipr_filter_nfields;

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
	uint8_t field;     /* TEST: index into ipr_filter_fields */
	uint8_t op;        /* TEST: enum ipr_kop */
	bool user;         /* this subtree needs the user-space check */
	int32_t child;     /* first child or IPR_FN_NONE */
	int32_t next;      /* next sibling or IPR_FN_NONE */
	uint8_t value[16]; /* TEST: width bytes, big-endian */
};

struct ipr_filter {
	enum ipr_layer layer;
	bool needs_user;
	int32_t root;
	uint32_t nnodes;
	struct ipr_fnode *nodes;
};

#endif
