/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_keeper.c - how the library takes in the keeper's releases (the
 * page it shares with the keeper, lib/keeper.c and lib/nfq.c): held
 * packets up to the released id are forgotten, later ones stay; a
 * message of a released packet is skipped until a later id comes, and
 * then the mark goes (ids wrap); a release of the other kernel queue does
 * not bring back a mark that went (the page keeps the old value). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "internal.h"

static struct ipr_handle h;
static struct ipr_queue qs[1], *q = qs;

/* What the keeper does after a release: the fields, then the epoch. */
static void keeper_says(uint64_t upto, uint64_t seg_upto)
{
	struct ipr_keep_q *kq = &h.keep->q[0];
	atomic_store_explicit(&kq->upto, upto, memory_order_relaxed);
	atomic_store_explicit(&kq->seg_upto, seg_upto, memory_order_relaxed);
	atomic_fetch_add_explicit(&kq->epoch, 1, memory_order_release);
}

static bool held(uint32_t id)
{
	const struct ipr_held *hd = &q->held;
	for (uint32_t s = hd->head; s != IPR_NONE; s = hd->next[s])
		if (hd->id[s] == id)
			return true;
	return false;
}

int main(void)
{
	h.keep = calloc(1, sizeof(*h.keep));
	h.q = qs;
	q->h = &h;
	q->index = 0;
	if (!h.keep || ipri_held_init(&q->held, 16) < 0) {
		check_fail("setup", "out of memory");
		return check_exit();
	}
	for (uint32_t id = 10; id <= 14; id++)
		ipri_held_add(&q->held, id, 0, 0);
	ipri_held_add(&q->held, 7, 0, IPR_HELD_SEG);

	/* Nothing released yet: nothing is marked. */
	ipri_keeper_news(q);
	CHECK("none", !ipri_keeper_released(q, false, 10) &&
			      q->held.count == 6,
	      "count %u", q->held.count);

	/* The keeper answered the main queue up to 12. */
	keeper_says(IPR_KEEP_SET | 12, 0);
	ipri_keeper_news(q);
	CHECK("forgotten", !held(10) && !held(11) && !held(12),
	      "ids 10-12 still held");
	CHECK("kept", held(13) && held(14) && held(7),
	      "13, 14 (main) and 7 (segmenting) must stay");
	CHECK("skip-answered", ipri_keeper_released(q, false, 12),
	      "a message of id 12 still in the socket must be skipped");
	CHECK("other-queue", !ipri_keeper_released(q, true, 12),
	      "the segmenting queue's id 12 was not released");
	/* A later id: the kernel hands packets over in id order, so none
	 * of the answered ones comes any more, and the mark goes. */
	CHECK("later", !ipri_keeper_released(q, false, 13), "id 13 taken");
	CHECK("mark-gone", !ipri_keeper_released(q, false, 12) &&
				   q->rel_upto == 0,
	      "rel_upto %llx", (unsigned long long)q->rel_upto);

	/* 2^31 ids on, a release of the segmenting queue alone: the page
	 * still says 12 for the main queue, which must not mark again (the
	 * main queue's new ids, 12 and below after the wrap, would be
	 * skipped without a verdict and wait until the queue filled). */
	keeper_says(IPR_KEEP_SET | 12, IPR_KEEP_SET | 7);
	ipri_keeper_news(q);
	CHECK("seg-forgotten", !held(7), "segmenting id 7 still held");
	CHECK("no-stale-mark", !ipri_keeper_released(q, false, 5) &&
				       !ipri_keeper_released(q, false, 12),
	      "an old release of the main queue marked new ids again");
	CHECK("seg-skip", ipri_keeper_released(q, true, 7),
	      "a message of segmenting id 7 must be skipped");

	/* A new release of the main queue marks again, across the wrap. */
	keeper_says(IPR_KEEP_SET | 3, IPR_KEEP_SET | 7);
	ipri_keeper_news(q);
	CHECK("wrapped", ipri_keeper_released(q, false, 0xfffffff0u) &&
				 ipri_keeper_released(q, false, 3) &&
				 !ipri_keeper_released(q, false, 4),
	      "ids just before the wrap and up to 3 are answered, 4 is not");

	ipri_held_free(&q->held);
	free(h.keep);
	return check_exit();
}
