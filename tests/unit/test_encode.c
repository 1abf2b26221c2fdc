/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_encode.c - the nftables batch of a handle, built without a kernel
 * (ipri_rules_encode) and checked against the kernel's limits: every
 * message within its room, every rule under 128 expressions and 4096
 * bytes, for long conjunctions, long lists, every action and fan-out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "internal.h"
#include "nlcheck.h"

/* "FIELD OP v1 JOIN FIELD OP v2 ..." */
static char *terms(const char *fmt, const char *join, unsigned n)
{
	size_t cap = (size_t)n * 160 + 1, k = 0;
	char *s = malloc(cap);

	if (!s)
		exit(2);
	s[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		k += (size_t)snprintf(s + k, cap - k, "%s", i ? join : "");
		/* formats take %1$u (1, 2, ...), %2$u and %3$u (the number's
		 * two low bytes) */
		k += (size_t)snprintf(s + k, cap - k, fmt, i + 1, (i >> 8) & 255,
				      i & 255);
	}
	return s;
}

struct spec_case {
	const char *name;
	int action;
	uint16_t total;
	enum ipr_layer layer;
	bool native;
	uint32_t hang_ms;       /* the dead-man switch's heartbeat set */
};

static const struct spec_case specs[] = {
	{ "queue", IPR_ACT_QUEUE, 1, IPR_LAYER_NETWORK, true, 0 },
	{ "queue4", IPR_ACT_QUEUE, 4, IPR_LAYER_NETWORK, true, 0 },
	{ "xt-queue4", IPR_ACT_QUEUE, 4, IPR_LAYER_NETWORK, false, 0 },
	{ "drop", IPR_ACT_DROP, 1, IPR_LAYER_NETWORK, true, 0 },
	{ "log", IPR_ACT_LOG, 1, IPR_LAYER_NETWORK, true, 0 },
	{ "fwd-queue", IPR_ACT_QUEUE, 2, IPR_LAYER_NETWORK_FORWARD, true, 0 },
	{ "queue-hang", IPR_ACT_QUEUE, 1, IPR_LAYER_NETWORK, true, 1000 },
	{ "queue4-hang", IPR_ACT_QUEUE, 4, IPR_LAYER_NETWORK, false, 1000 },
};

/* Encode @text for every spec and check each batch. */
static void check_filter(const char *label, const char *text, int want_err,
			 unsigned min_rules)
{
	char name[160], why[256];

	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		const struct spec_case *sc = &specs[k];
		struct ipr_filter_error e;
		ipr_filter *f = ipr_filter_compile(text, sc->layer, &e);
		struct ipr_rules_spec s = {
			.table = "ipredir_1_1", .layer = sc->layer,
			.action = sc->action, .total = sc->total,
			.bypass = true, .native_queue = sc->native,
			.hang_ms = sc->hang_ms,
		};
		struct nlc_stats st;
		void *buf = NULL;
		size_t len = 0;
		const char *bad;
		int err;

		snprintf(name, sizeof(name), "encode.%s.%s", label, sc->name);
		if (!f) {
			check_fail(name, "compile: %s at %d", e.msg, e.pos);
			continue;
		}
		for (uint16_t q = 0; q < sc->total; q++)
			s.nums[q] = (uint16_t)(100 + q);
		err = ipri_rules_encode(f, &s, &buf, &len);
		ipr_filter_free(f);
		if (want_err) {
			CHECK(name, err == want_err && !buf, "err %d, want %d",
			      err, want_err);
			free(buf);
			continue;
		}
		if (err) {
			check_fail(name, "encode: %s (%s)", ipr_strerror(err),
				   ipr_last_error(NULL));
			continue;
		}
		bad = nlc_check(buf, len, &st, why, sizeof(why));
		if (bad)
			check_fail(name, "%s", bad);
		else if (st.rules < min_rules)
			check_fail(name, "%u rules, want at least %u", st.rules,
				   min_rules);
		else
			check_pass(name, "%zu bytes, %u messages, %u rules (at "
				   "most %u expressions, %u bytes), %u sets in "
				   "%u element messages", len, st.msgs, st.rules,
				   st.max_exprs, st.max_bytes, st.sets,
				   st.elem_msgs);
		free(buf);
	}
}

int main(void)
{
	char *s;

	check_filter("small", "tcp.DstPort == 80 and ip.TTL > 3", 0, 2);
	/* the filter that wrote past the batch buffer */
	s = terms("tcp.SrcPort != %1$u", " && ", 900);
	check_filter("900_neq", s, 0, 2);
	free(s);
	/* orderings: one rule each piece, split to fit */
	s = terms("tcp.SrcPort > %1$u", " && ", 200);
	check_filter("200_gt", s, 0, 8);
	free(s);
	s = terms("ip.TTL != %1$u and tcp.DstPort > %1$u and ip.Id != %1$u", " and ",
		  60);
	check_filter("180_mixed", s, 0, 3);
	free(s);
	s = terms("tcp.SrcPort > %1$u", " && ", 900);
	check_filter("900_gt", s, -E2BIG, 0);
	free(s);
	/* lists: sets, their elements cut into messages */
	s = terms("ip.DstAddr == 198.19.%2$u.%3$u", " or ", 10000);
	check_filter("10000_addrs", s, 0, 2);
	free(s);
	s = terms("ipv6.DstAddr == fd00::%1$x:%2$u:%3$u", " or ", 3000);
	check_filter("3000_addrs6", s, 0, 2);
	free(s);
	s = terms("remoteAddr == 198.18.%2$u.%3$u or remoteAddr == fd00::%1$u", " or ",
		  2000);
	check_filter("remote_mixed", s, 0, 2);
	free(s);
	s = terms("mark == %1$u or ifIdx == %1$u or udp.DstPort == %1$u", " or ", 500);
	check_filter("3_lists", s, 0, 2);
	free(s);
	/* ranges: interval sets, an end element after each */
	s = terms("(tcp.DstPort >= %1$u0 and tcp.DstPort <= %1$u5) or "
		  "mark > %1$u000 or length == %1$u", " or ", 2000);
	check_filter("ranges", s, 0, 2);
	free(s);
	s = terms("not (tcp.DstPort == %1$u or udp.DstPort == %1$u or "
		  "ip.TTL == %3$u)", " and ", 300);
	check_filter("negated_lists", s, 0, 2);
	free(s);
	return check_exit();
}
