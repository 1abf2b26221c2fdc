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

static const char *const ct_names[] = {
	"invalid", "established", "related", "new", "", "", "untracked",
};

static void put_value(struct wr *w, const struct ipr_fnode *nd,
		      const struct ipr_field *fd)
{
	char t[IPR_ADDRSTRLEN + 8];
	const uint8_t *v = nd->value;
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	uint32_t a;
	uint64_t n = 0;
	unsigned i;

	switch (fd->vtype) {
	case IPR_VT_IPV4:
		memcpy(&a, v, 4);
		if (ipr_ipv4_format(a, t, sizeof(t)) < 0)
			t[0] = '\0';
		break;
	case IPR_VT_ADDR:
		if (!memcmp(v, mapped, sizeof(mapped))) {
			memcpy(&a, v + 12, 4);
			if (ipr_ipv4_format(a, t, sizeof(t)) < 0)
				t[0] = '\0';
			break;
		}
		/* fall through */
	case IPR_VT_IPV6:
		if (ipr_ipv6_format(v, t, sizeof(t)) < 0)
			t[0] = '\0';
		break;
	case IPR_VT_STRING:
		i = nd->vlen < 16 ? nd->vlen : (unsigned)strnlen((const char *)v, 15);
		t[0] = '"';
		memcpy(t + 1, v, i);
		if (nd->vlen < 16)
			t[++i] = '*';
		t[i + 1] = '"';
		t[i + 2] = '\0';
		break;
	case IPR_VT_CTSTATE:
		for (i = 0; i < 7; i++)
			if (v[3] == 1u << i)
				break;
		snprintf(t, sizeof(t), "%s", i < 7 ? ct_names[i] : "?");
		break;
	default:
		for (i = 0; i < fd->width && i < 8; i++)
			n = n << 8 | v[i];
		if (fd->flags & IPR_FF_SIGNED) {
			snprintf(t, sizeof(t), "%d", (int)n - 0x8000);
			break;
		}
		snprintf(t, sizeof(t), "%" PRIu64, n >> fd->shift);
		break;
	}
	put(w, t);
}

static void put_test(struct wr *w, const struct ipr_fnode *nd)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	char t[32];

	put(w, fd->name);
	if (fd->flags & IPR_FF_INDEX) {
		/* in units of the width where it divides, else in bytes */
		if (nd->index % (int32_t)fd->width == 0)
			snprintf(t, sizeof(t), "[%d]", nd->index / (int)fd->width);
		else
			snprintf(t, sizeof(t), "[%db]", nd->index);
		put(w, t);
	}
	if (fd->vtype == IPR_VT_BOOL)
		return; /* the parser folded every comparison */
	put(w, " ");
	put(w, op_text[nd->op]);
	put(w, " ");
	put_value(w, nd, fd);
}

static void fmt_node(const ipr_filter *f, int32_t i, struct wr *w,
		     enum ctx ctx)
{
	const struct ipr_fnode *nd = &f->nodes[i];
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
		put_test(w, nd);
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

int ipri_filter_format_test(const ipr_filter *f, int32_t node, char *buf,
			   size_t size)
{
	struct wr w = { buf, size, 0 };

	if (!f || node < 0 || (uint32_t)node >= f->nnodes ||
	    f->nodes[node].type != IPR_FN_TEST || (!buf && size))
		return -EINVAL;
	put_test(&w, &f->nodes[node]);
	if (size)
		buf[w.len < size ? w.len : size - 1] = '\0';
	return (int)w.len;
}
