/* fuzz_filter.c - libFuzzer harness for the filter language: compile any
 * text, then format, recompile, build every hook's kernel program and check
 * it against ipr_filter_eval on the unit test's packets.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 \
 *     -D_GNU_SOURCE -Iinclude -Ilib -Itests -o fuzz_filter fuzz/fuzz_filter.c
 */
#include "../lib/filter_parse.c"
#include "../lib/filter_eval.c"
#include "../lib/filter_format.c"
#include "../lib/filter_kprog.c"
#include "../lib/packet.c"
#include "../lib/addr.c"

/* The unit test brings the packets and the kernel program interpreter. */
#define main test_filter_main
#include "../tests/unit/test_filter.c"
#undef main

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_filter_error e;
	struct prep pr;
	char why[512];
	ipr_filter *f, *g;
	int n1, n2;

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
	if (n1 != n2 || strcmp(out1, out2)) {
		fprintf(stderr, "format not stable: \"%s\" then \"%s\"\n", out1,
			out2);
		abort();
	}
	for (int p = 0; p < NPKTS; p++) {
		struct ipr_addr a = mkaddr(IN, 3);

		if (ipr_filter_eval(f, pk[p].d, pk[p].len, &a) !=
		    ipr_filter_eval(g, pk[p].d, pk[p].len, &a)) {
			fprintf(stderr, "\"%s\" and \"%s\" differ on %s\n", text,
				out1, pk[p].name);
			abort();
		}
	}
	ipr_filter_free(g);

	/* Too big for the kernel is an answer, not a failure. */
	if (prepare(&pr, text, why, sizeof(why))) {
		g = ipr_filter_compile(text, IPR_LAYER_NETWORK_FORWARD, &e);
		if (!g)
			abort();
		for (int h = 0; h < IPR_HOOK_COUNT; h++) {
			struct ipr_kprog kp;
			int err = ipr_kprog_build(h == IPR_HOOK_FWD ? g : f,
						  (enum ipr_hook)h, &kp);

			ipr_kprog_free(&kp);
			if (err && err != -E2BIG) {
				fprintf(stderr, "\"%s\": %s\n", text, why);
				abort();
			}
		}
		ipr_filter_free(g);
		goto out;
	}
	for (int p = 0; p < NPKTS; p++) {
		for (uint32_t ifidx = 0; ifidx < 8; ifidx += 3) {
			const char *d = diff_run(&pr, &pk[p], ifidx, why,
						 sizeof(why));

			if (d) {
				fprintf(stderr, "\"%s\": %s\n", text, d);
				abort();
			}
		}
	}
	unprep(&pr);
out:
	ipr_filter_free(f);
	return 0;
}
