/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* held.c - the packets a queue has handed to the program and not yet had
 * back: O(1) add, O(1) find by the slot kept in ipr_addr, O(1) oldest. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int ipri_held_init(struct ipr_held *hd, uint32_t cap)
{
	memset(hd, 0, sizeof(*hd));
	hd->cap = cap;
	hd->next = calloc(cap, sizeof(*hd->next));
	hd->prev = calloc(cap, sizeof(*hd->prev));
	hd->id = calloc(cap, sizeof(*hd->id));
	hd->gen = calloc(cap, sizeof(*hd->gen));
	hd->deadline = calloc(cap, sizeof(*hd->deadline));
	hd->fl = calloc(cap, sizeof(*hd->fl));
	hd->sig = calloc(cap, sizeof(*hd->sig));
	if (!hd->next || !hd->prev || !hd->id || !hd->gen || !hd->deadline ||
	    !hd->fl || !hd->sig) {
		ipri_held_free(hd);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap; i++) {
		hd->next[i] = i + 1 < cap ? i + 1 : IPR_NONE;
		/* Odd generations mark a slot in use; start free (even). */
		hd->gen[i] = 0;
	}
	hd->free_head = 0;
	hd->head = hd->tail = IPR_NONE;
	return 0;
}

void ipri_held_free(struct ipr_held *hd)
{
	free(hd->next);
	free(hd->prev);
	free(hd->id);
	free(hd->gen);
	free(hd->deadline);
	free(hd->fl);
	free(hd->sig);
	memset(hd, 0, sizeof(*hd));
	hd->head = hd->tail = hd->free_head = IPR_NONE;
}

uint32_t ipri_held_add(struct ipr_held *hd, uint32_t id, uint64_t deadline,
		      uint8_t fl)
{
	uint32_t s = hd->free_head;
	if (s == IPR_NONE)
		return IPR_NONE;
	hd->free_head = hd->next[s];
	hd->id[s] = id;
	hd->deadline[s] = deadline;
	hd->fl[s] = fl;
	hd->gen[s]++;
	hd->next[s] = IPR_NONE;
	hd->prev[s] = hd->tail;
	if (hd->tail != IPR_NONE)
		hd->next[hd->tail] = s;
	else
		hd->head = s;
	hd->tail = s;
	hd->count++;
	return s;
}

void ipri_held_del(struct ipr_held *hd, uint32_t s)
{
	uint32_t p = hd->prev[s], n = hd->next[s];
	if (p != IPR_NONE)
		hd->next[p] = n;
	else
		hd->head = n;
	if (n != IPR_NONE)
		hd->prev[n] = p;
	else
		hd->tail = p;
	hd->gen[s]++;
	hd->next[s] = hd->free_head;
	hd->free_head = s;
	hd->count--;
}

uint32_t ipri_held_find(const struct ipr_held *hd, const struct ipr_addr *a)
{
	uint32_t s = a->_slot;
	if (s >= hd->cap || hd->gen[s] != a->_gen || !(a->_gen & 1) ||
	    hd->id[s] != a->packet_id)
		return IPR_NONE;
	return s;
}
