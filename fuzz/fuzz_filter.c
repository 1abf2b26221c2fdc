/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz_filter.c - libFuzzer harness for the filter language: compile any
 * text, then format, recompile, explain, build every hook's kernel program
 * and check it against ipr_filter_eval on the unit test's packets, with
 * and without the metadata (uid, mark, loopback, ct state, names).
 *
 * Built by make fuzz with clang -fsanitize=fuzzer,address,undefined and
 * linked with every library source and tests/kprog_run.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "filter_ast.h"
/* The packets and the kernel program interpreter (tests/kprog_run.c,
 * linked) */
#include "kprog_run.h"
#include "nlcheck.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	build_packets();
	return 0;
}

static char text[IPR_FILTER_MAX_LEN + 2];
static char out1[8 * IPR_FILTER_MAX_LEN], out2[8 * IPR_FILTER_MAX_LEN];
static char expl[1 << 20];

/* What the packets come with: nothing, and everything at once. */
static const struct meta metas[] = {
	{ .ct = IPR_CT_NEW },
	{ .flags = IPR_ADDR_UID | IPR_ADDR_GID | IPR_ADDR_MARK |
		   IPR_ADDR_LOOPBACK, .uid = 1000, .gid = 100, .mark = 5,
	  .ts = 1000, .ct = IPR_CT_ESTABLISHED, .ifname = "eth0" },
};

static void explain_ok(const ipr_filter *f)
{
	int n = ipr_filter_explain(f, expl, sizeof(expl));

	if (n < 0 || ((size_t)n < sizeof(expl) && strlen(expl) != (size_t)n) ||
	    ipr_filter_explain(f, NULL, 0) != n)
		abort();
}

/* The batch the kernel would get: built, and within its limits, or the
 * filter refused as too large (E2BIG), never anything in between. */
static void encode_ok(const ipr_filter *f)
{
	struct ipr_rules_spec s = {
		.table = "ipredir_1_1", .layer = IPR_LAYER_NETWORK,
		.action = IPR_ACT_QUEUE, .nums = { 7, 8 }, .total = 2,
		.bypass = true, .native_queue = true,
	};
	struct nlc_stats st;
	char why[256];
	void *buf;
	size_t len;
	int err = ipri_rules_encode(f, &s, &buf, &len);

	if (err == -E2BIG || err == -ENOMEM)
		return;
	if (err || nlc_check(buf, len, &st, why, sizeof(why))) {
		fprintf(stderr, "encode: %d %s\n", err, err ? "" : why);
		abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_filter_error e;
	struct prep pr;
	char why[512];
	ipr_filter *f, *g;
	int n1, n2;
	bool built = true;

	if (size > IPR_FILTER_MAX_LEN + 1)
		size = IPR_FILTER_MAX_LEN + 1;
	memcpy(text, data, size);
	text[size] = '\0';

	f = ipr_filter_compile(text, IPR_LAYER_NETWORK, &e);
	if (!f) {
		if (e.code != -EINVAL || e.pos < 0 ||
		    (size_t)e.pos > strlen(text) || !e.msg)
			abort();
		return 0;
	}
	n1 = ipr_filter_format(f, out1, sizeof(out1));
	if (n1 < 0 || (size_t)n1 >= sizeof(out1))
		abort();
	g = ipr_filter_compile(out1, IPR_LAYER_NETWORK, &e);
	if (!g) {
		/* a long filter may format longer than the limit */
		if (n1 > IPR_FILTER_MAX_LEN)
			goto out;
		fprintf(stderr, "\"%s\" formats to \"%s\": %s at %d\n", text,
			out1, e.msg, e.pos);
		abort();
	}
	n2 = ipr_filter_format(g, out2, sizeof(out2));
	if (n1 != n2 || strcmp(out1, out2) ||
	    ipri_filter_needs_user_check(f) != ipri_filter_needs_user_check(g)) {
		fprintf(stderr, "format not stable: \"%s\" then \"%s\"\n", out1,
			out2);
		abort();
	}
	for (int p = 0; p < NPKTS; p++) {
		for (unsigned m = 0; m < 2; m++) {
			struct ipr_addr a = mkaddr(m ? OUT : IN, 3);
			struct ipr_filter_env env;

			apply_meta(&a, &env, &metas[m]);
			if (ipr_filter_eval_ex(f, pk[p].d, pk[p].len, &a, &env) !=
			    ipr_filter_eval_ex(g, pk[p].d, pk[p].len, &a, &env)) {
				fprintf(stderr, "\"%s\" and \"%s\" differ on %s\n",
					text, out1, pk[p].name);
				abort();
			}
		}
	}
	ipr_filter_free(g);
	explain_ok(f);
	encode_ok(f);

	/* Every hook's program builds or is too big; uid and gid make a
	 * filter that the forward layer refuses. */
	g = ipr_filter_compile(text, IPR_LAYER_NETWORK_FORWARD, &e);
	if (!g && (e.code != -EINVAL || !e.msg))
		abort();
	if (g)
		explain_ok(g);
	memset(&pr, 0, sizeof(pr));
	for (int d = IN; d <= FWD; d++) {
		ipr_filter *h = d == FWD ? g : f;
		int err;

		if (!h) {
			built = false;
			continue;
		}
		err = ipri_kprog_build(h, hook_of[d], &pr.p[d]);
		if (err && err != -E2BIG) {
			fprintf(stderr, "\"%s\": kprog %d\n", text, err);
			abort();
		}
		if (err)
			built = false;
	}
	if (built) {
		pr.f[IN] = pr.f[OUT] = f;
		pr.f[FWD] = g;
		for (int p = 0; p < NPKTS; p++) {
			for (uint32_t ifidx = 0; ifidx < 8; ifidx += 3) {
				for (unsigned m = 0; m < 2; m++) {
					const char *d = diff_run_meta(&pr, &pk[p],
								      ifidx,
								      &metas[m], why,
								      sizeof(why));

					if (d) {
						fprintf(stderr, "\"%s\": %s\n",
							text, d);
						abort();
					}
				}
			}
		}
	}
	for (int d = IN; d <= FWD; d++)
		ipri_kprog_free(&pr.p[d]);
	ipr_filter_free(g);
out:
	ipr_filter_free(f);
	return 0;
}
