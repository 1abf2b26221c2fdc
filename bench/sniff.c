/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sniff.c - bench helper for the `sniff` scenario: open a handle with
 * IPR_FLAG_SNIFF (the kernel sends a copy, the packet itself goes on at
 * once), receive the copies with ipr_recv_batch and count them.
 *
 *   sniff [--forward] [FILTER]     (default filter: true)
 *
 * Prints "ready" on stdout once the rules are in; on SIGINT/SIGTERM one
 * JSON line with the packets and bytes received.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ipredir.h"

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	enum ipr_layer layer = IPR_LAYER_NETWORK;
	int a = 1;
	if (a < argc && !strcmp(argv[a], "--forward")) {
		layer = IPR_LAYER_NETWORK_FORWARD;
		a++;
	}
	const char *filter = a < argc ? argv[a] : "true";
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ipr_handle *h = ipr_open(filter, layer, 0, IPR_FLAG_SNIFF);
	if (!h) {
		fprintf(stderr, "sniff: ipr_open: %s\n", ipr_strerror(-errno));
		return 1;
	}
	size_t cap = (size_t)BATCH * IPR_BATCH_SLOT;
	void *buf = malloc(cap);
	struct ipr_packet *pkts = calloc(BATCH, sizeof(*pkts));
	if (!buf || !pkts) {
		ipr_close(h);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	unsigned long long n = 0, bytes = 0, orig = 0;
	int rc = 0;
	while (!stop) {
		int r = ipr_recv_batch(h, 0, buf, cap, pkts, BATCH, 200);
		if (r < 0) {
			if (r == -EINTR)
				continue;
			if (r != -ESHUTDOWN) {
				fprintf(stderr, "sniff: ipr_recv_batch: %s\n",
					ipr_strerror(r));
				rc = 1;
			}
			break;
		}
		for (int i = 0; i < r; i++) {
			bytes += pkts[i].len;
			orig += pkts[i].addr.orig_len;
		}
		n += (unsigned)r;
	}
	struct ipr_stats st;
	ipr_stats_get(h, &st);
	printf("{\"packets\": %llu, \"bytes\": %llu, \"orig_bytes\": %llu, "
	       "\"errors\": %llu}\n", n, bytes, orig,
	       (unsigned long long)st.errors);
	ipr_close(h);
	free(buf);
	free(pkts);
	return rc;
}
