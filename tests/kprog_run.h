/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kprog_run.h - the packets, the kernel-program interpreter and the
 * eval-against-kernel comparison that test_filter.c and fuzz_filter.c
 * share (kprog_run.c). */
#ifndef IPR_KPROG_RUN_H
#define IPR_KPROG_RUN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ipredir.h"
#include "filter.h"

/* The packets every case may name. */
enum pkt_id {
	T4, U4, I4, T6, U6, I6, T4OPT, T6EXT, F4A, F4B, F6A, F6B, TT4, SHORT,
	BADV, NONE6, ICMP6V4, U4MAX, T6MAP, CAP4,
	/* for the full field set */
	TP4, UQ4, UP6, TF6, IE4, IU4, IE6, RT6, DOFF4, DCUT4, UF6, NPKTS
};

struct pkt {
	const char *name;
	uint8_t d[160];
	size_t len;
};
extern struct pkt pk[NPKTS];
/* Fill pk[]: once, before any case. */
void build_packets(void);

/* Directions of a case, their hooks, names and layers. */
enum dir { IN, OUT, FWD };
extern const enum ipr_hook hook_of[];
extern const char *const dir_name[];
enum ipr_layer layer_of(enum dir d);
/* The address of a packet received in direction @d on interface @ifidx. */
struct ipr_addr mkaddr(enum dir d, uint32_t ifidx);

/* 1 if the program takes the action, 0 if not, -1 if it is malformed
 * (*why says how). */
int krun(const struct ipr_kprog *p, enum ipr_hook hook, const uint8_t *pkt,
	 size_t len, const struct ipr_addr *a, const struct ipr_filter_env *env,
	 const char **why);

/* A filter compiled for each direction's layer, with its kernel program
 * for the matching hook. */
struct prep {
	ipr_filter *f[3];
	struct ipr_kprog p[3];
};
void unprep(struct prep *pr);
/* prepare()'s answer for a filter whose chains would nest deeper than
 * the kernel allows: refused, as the library refuses it at open. */
extern const char too_deep[];
/* Compile @text for every direction and build its kernel program: NULL,
 * too_deep, or why not (in @why). */
const char *prepare(struct prep *pr, const char *text, char *why,
		    size_t wlen);

/* What a case adds to the address: flags, mark, uid/gid, time, and the
 * environment (ct state, interface name). */
struct meta {
	uint32_t flags; /* IPR_ADDR_* added */
	uint32_t mark, uid, gid, orig_len;
	uint64_t ts;
	uint32_t ct;
	const char *ifname;
};
void apply_meta(struct ipr_addr *a, struct ipr_filter_env *env,
		const struct meta *m);
/* The kernel program against ipr_filter_eval on packet @k in every
 * direction (with @m, or without: diff_run); NULL or what differed (in
 * @why).  diff_check prepares @text first. */
const char *diff_run_meta(const struct prep *pr, const struct pkt *k,
			  uint32_t ifidx, const struct meta *m, char *why,
			  size_t wlen);
const char *diff_run(const struct prep *pr, const struct pkt *k,
		     uint32_t ifidx, char *why, size_t wlen);
const char *diff_check(const char *text, const struct pkt *k,
		       uint32_t ifidx, char *why, size_t wlen);
#endif
