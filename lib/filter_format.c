/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_format.c - ipr_filter_format: a compiled filter back to normalised
 * text (canonical names and values, and/or/not) that compiles to the same. */
#include "internal.h" /* IPR_API */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "filter_ast.h"

/* Output that counts what it would need, snprintf style. */
struct wr {
	char *buf;
	size_t size, len;
};

static void put(struct wr *w, const char *s)
{
	size_t n = strlen(s);

	if (w->len < w->size) {
		size_t room = w->size - 1 - w->len;

		memcpy(w->buf + w->len, s, n < room ? n : room);
	}
	w->len += n;
}

/* Where a node stands decides its parentheses. */
enum ctx { C_TOP, C_OR, C_AND, C_NOT };

static const char *const op_text[] = {
	[IPR_KOP_EQ] = "==", [IPR_KOP_NEQ] = "!=", [IPR_KOP_LT] = "<",
	[IPR_KOP_LTE] = "<=", [IPR_KOP_GT] = ">", [IPR_KOP_GTE] = ">=",
};

static void put_value(struct wr *w, const struct ipr_field *fd,
		      const uint8_t *v)
{
	char t[IPR_ADDRSTRLEN];
	uint32_t a;
	uint64_t n = 0;

	switch (fd->vtype) {
	case IPR_VT_IPV4:
		memcpy(&a, v, 4);
		if (ipr_ipv4_format(a, t, sizeof(t)) < 0)
			t[0] = '\0';
		break;
	case IPR_VT_IPV6:
		if (ipr_ipv6_format(v, t, sizeof(t)) < 0)
			t[0] = '\0';
		break;
	default:
		for (unsigned i = 0; i < fd->width && i < 8; i++)
			n = n << 8 | v[i];
		snprintf(t, sizeof(t), "%" PRIu64, n);
		break;
	}
	put(w, t);
}

static void fmt_node(const ipr_filter *f, int32_t i, struct wr *w,
		     enum ctx ctx)
{
	const struct ipr_fnode *nd = &f->nodes[i];
	const struct ipr_field *fd;
	bool paren;
	int32_t k;

	switch (nd->type) {
	case IPR_FN_TRUE:
		put(w, "true");
		return;
	case IPR_FN_FALSE:
		put(w, "false");
		return;
	case IPR_FN_NOT:
		put(w, "not ");
		fmt_node(f, nd->child, w, C_NOT);
		return;
	case IPR_FN_AND:
	case IPR_FN_OR:
		/* An "and" inside an "or" needs none, but readers like them.
		 * The same operator never nests: the parser flattens it. */
		paren = ctx == C_NOT ||
			(ctx == C_AND && nd->type == IPR_FN_OR) ||
			(ctx == C_OR && nd->type == IPR_FN_AND);
		if (paren)
			put(w, "(");
		for (k = nd->child; k != IPR_FN_NONE; k = f->nodes[k].next) {
			if (k != nd->child)
				put(w, nd->type == IPR_FN_AND ? " and " : " or ");
			fmt_node(f, k, w, nd->type == IPR_FN_AND ? C_AND : C_OR);
		}
		if (paren)
			put(w, ")");
		return;
	case IPR_FN_TERN:
		k = nd->child;
		put(w, "(");
		fmt_node(f, k, w, C_TOP);
		put(w, " ? ");
		k = f->nodes[k].next;
		fmt_node(f, k, w, C_TOP);
		put(w, " : ");
		fmt_node(f, f->nodes[k].next, w, C_TOP);
		put(w, ")");
		return;
	case IPR_FN_TEST:
		fd = &ipr_filter_fields[nd->field];
		put(w, fd->name);
		if (fd->vtype == IPR_VT_BOOL)
			return; /* the parser folded every comparison */
		put(w, " ");
		put(w, op_text[nd->op]);
		put(w, " ");
		put_value(w, fd, nd->value);
		return;
	}
}

IPR_API int ipr_filter_format(const ipr_filter *f, char *buf, size_t size)
{
	struct wr w = { buf, size, 0 };

	if (!f || (!buf && size)) {
		errno = EINVAL;
		return -EINVAL;
	}
	fmt_node(f, f->root, &w, C_TOP);
	if (size)
		buf[w.len < size ? w.len : size - 1] = '\0';
	if (w.len > INT_MAX) {
		errno = EOVERFLOW;
		return -EOVERFLOW;
	}
	return (int)w.len;
}
