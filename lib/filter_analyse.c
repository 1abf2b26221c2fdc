/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* filter_analyse.c - what a parsed filter means on each hook of its layer:
 * the hook's constants folded, which tests still matter there, which hooks
 * need the user-space check, and the errors only that can show. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "filter_ast.h"

/*
 * After parsing, per hook of the layer: which tests still matter once the
 * hook's constants are folded (direction, loopback on the way in, ...)?
 * That decides three things: a field that can work on none of the hooks
 * where it matters is an error at its position ("inbound and uid == 0");
 * which hooks need the user-space check; and whether ct.state, which user
 * space cannot see, meets a test that only user space can do.
 */
#define FOLD_F 0
#define FOLD_T 1
#define FOLD_X 2  /* depends on the packet */
#define FOLD_NONE 3

struct ana {
	ipr_filter *f;
	uint8_t *fold;   /* per node and hook */
	uint8_t *live;   /* per node: 1 << hook where it matters */
};

static uint8_t fold_test(const struct ana *a, const struct ipr_fnode *nd,
			 unsigned hook)
{
	const struct ipr_field *fd = &ipri_filter_fields[nd->field];
	uint8_t v[16];
	int r;

	switch (fd->kind) {
	case IPR_FK_DIR:
		return (fd->arg != 0) == (hook != IPR_HOOK_IN) ? FOLD_T
							       : FOLD_F;
	case IPR_FK_LOOPBACK:
		return hook == IPR_HOOK_OUT ? FOLD_X : FOLD_F;
	case IPR_FK_CONSTVAL:
		if (fd->arg == IPR_CV_PRIORITY)
			return FOLD_X; /* bound after compiling */
		ipri_filter_constval(a->f, fd, v);
		if (fd->vtype == IPR_VT_BOOL)
			return v[fd->width ? fd->width - 1 : 0] ? FOLD_T : FOLD_F;
		r = memcmp(v, nd->value, fd->width);
		return ipr_kop_holds(nd->op, r > 0 ? 2 : r == 0 ? 1 : 0, 1) ? FOLD_T
									: FOLD_F;
	default:
		return FOLD_X;
	}
}

static uint8_t fold(struct ana *a, int32_t i, unsigned hook)
{
	const struct ipr_fnode *nd = &a->f->nodes[i];
	uint8_t *memo = &a->fold[(size_t)i * IPR_HOOK_COUNT + hook];
	uint8_t r = FOLD_X, c, x, y;
	bool any_x = false;
	int32_t k;

	if (*memo != FOLD_NONE)
		return *memo;
	switch (nd->type) {
	case IPR_FN_TRUE:
		r = FOLD_T;
		break;
	case IPR_FN_FALSE:
		r = FOLD_F;
		break;
	case IPR_FN_NOT:
		c = fold(a, nd->child, hook);
		r = c == FOLD_X ? FOLD_X : c == FOLD_T ? FOLD_F : FOLD_T;
		break;
	case IPR_FN_AND:
	case IPR_FN_OR:
		/* the absorbing constant wins, else any undecided child */
		c = nd->type == IPR_FN_AND ? FOLD_F : FOLD_T;
		r = c == FOLD_F ? FOLD_T : FOLD_F;
		for (k = nd->child; k != IPR_FN_NONE; k = a->f->nodes[k].next) {
			x = fold(a, k, hook);
			if (x == c) {
				r = c;
				any_x = false;
				break;
			}
			if (x == FOLD_X)
				any_x = true;
		}
		if (any_x)
			r = FOLD_X;
		break;
	case IPR_FN_TERN:
		k = nd->child;
		c = fold(a, k, hook);
		x = fold(a, a->f->nodes[k].next, hook);
		y = fold(a, a->f->nodes[a->f->nodes[k].next].next, hook);
		/* an undecided condition stays: when the packet cannot
		 * answer it, neither branch holds */
		r = c == FOLD_T ? x : c == FOLD_F ? y : FOLD_X;
		break;
	case IPR_FN_TEST:
		r = fold_test(a, nd, hook);
		break;
	}
	*memo = r;
	return r;
}

/* Mark what matters below node @i, which matters on @hook. */
static void mark_live(struct ana *a, int32_t i, unsigned hook)
{
	const struct ipr_fnode *nd = &a->f->nodes[i];
	int32_t k, x, y;

	a->live[i] |= (uint8_t)(1u << hook);
	switch (nd->type) {
	case IPR_FN_NOT:
		mark_live(a, nd->child, hook);
		break;
	case IPR_FN_AND:
	case IPR_FN_OR:
		for (k = nd->child; k != IPR_FN_NONE; k = a->f->nodes[k].next)
			if (fold(a, k, hook) == FOLD_X)
				mark_live(a, k, hook);
		break;
	case IPR_FN_TERN:
		k = nd->child;
		x = a->f->nodes[k].next;
		y = a->f->nodes[x].next;
		switch (fold(a, k, hook)) {
		case FOLD_T:
			if (fold(a, x, hook) == FOLD_X)
				mark_live(a, x, hook);
			break;
		case FOLD_F:
			if (fold(a, y, hook) == FOLD_X)
				mark_live(a, y, hook);
			break;
		default:
			mark_live(a, k, hook);
			if (fold(a, x, hook) == FOLD_X)
				mark_live(a, x, hook);
			if (fold(a, y, hook) == FOLD_X)
				mark_live(a, y, hook);
			break;
		}
		break;
	default:
		break;
	}
}

int ipri_filter_analyse(ipr_filter *f, size_t *pos, const char **msg)
{
	struct ana a = { .f = f };
	unsigned hooks = ipr_layer_hooks(f->layer);
	size_t err_pos = SIZE_MAX, ct_pos = SIZE_MAX;
	const char *err_msg = NULL;
	bool user_live = false;

	int ret = 0;

	if (!f->nnodes)
		return 0; /* cannot be: a filter has a root */
	a.fold = malloc((size_t)f->nnodes * IPR_HOOK_COUNT);
	a.live = calloc(f->nnodes, 1);
	if (!a.fold || !a.live) {
		*pos = 0;
		*msg = "out of memory";
		ret = -ENOMEM;
		goto out;
	}
	memset(a.fold, FOLD_NONE, (size_t)f->nnodes * IPR_HOOK_COUNT);
	for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
		if ((hooks & (1u << h)) && fold(&a, f->root, h) == FOLD_X)
			mark_live(&a, f->root, h);
	for (uint32_t i = 0; i < f->nnodes; i++) {
		const struct ipr_fnode *nd = &f->nodes[i];
		const struct ipr_field *fd;

		if (nd->type != IPR_FN_TEST || !a.live[i])
			continue;
		fd = &ipri_filter_fields[nd->field];
		if (fd->hooks && !(fd->hooks & a.live[i]) && nd->pos < err_pos) {
			err_pos = nd->pos;
			err_msg = "field not valid for this direction";
		}
		if (nd->user) {
			user_live = true;
			for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
				if (a.live[i] & (1u << h))
					f->user_hook[h] = true;
		}
		if (fd->kind == IPR_FK_CT && nd->pos < ct_pos)
			ct_pos = nd->pos;
	}
	/* ipr_filter_eval cannot know conntrack state, so the user-space
	 * check could not answer for it. */
	if (user_live && ct_pos < err_pos) {
		err_pos = ct_pos;
		err_msg = "ct.state cannot be combined with fields checked in "
			  "user space";
	}
	if (err_msg) {
		*pos = err_pos;
		*msg = err_msg;
		ret = -EINVAL;
	}
	for (unsigned h = 0; h < IPR_HOOK_COUNT; h++)
		f->needs_user = f->needs_user || f->user_hook[h];
out:
	free(a.fold);
	free(a.live);
	return ret;
}

bool ipri_filter_needs_user_check(const ipr_filter *f)
{
	return f && f->needs_user;
}

bool ipri_filter_uses_kind(const ipr_filter *f, unsigned kind)
{
	for (uint32_t i = 0; f && i < f->nnodes; i++)
		if (f->nodes[i].type == IPR_FN_TEST &&
		    ipri_filter_fields[f->nodes[i].field].kind == kind)
			return true;
	return false;
}

bool ipri_filter_uses_ct(const ipr_filter *f)
{
	return ipri_filter_uses_kind(f, IPR_FK_CT);
}

bool ipri_filter_needs_user_check_hook(const ipr_filter *f, enum ipr_hook hook)
{
	return f && (unsigned)hook < IPR_HOOK_COUNT && f->user_hook[hook];
}
