/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_sniff.c - a sniff handle that takes one copy and then stops reading:
 * the traffic must not wait for it.  Also checks that the copy cannot be
 * passed on as if it were held. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

static uint8_t buf[IPR_MTU_MAX + 1];

int main(int argc, char **argv)
{
	int seconds = 30;
	if (argc == 4 && strcmp(argv[1], "--seconds") == 0)
		seconds = atoi(argv[2]);
	else if (argc != 2) {
		fprintf(stderr, "usage: ipr_sniff [--seconds S] FILTER\n");
		return 2;
	}
	const char *filter = argv[argc - 1];

	stop_on_signals();

	ipr_handle *h = ipr_open(filter, IPR_LAYER_NETWORK, 0, IPR_FLAG_SNIFF);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_sniff: ipr_open '%s': %s\n", filter,
			ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm((unsigned)seconds);

	struct ipr_addr addr;
	size_t len = 0;
	int rc;
	do
		rc = ipr_recv(h, buf, sizeof(buf), &len, &addr);
	while (rc == -EINTR && !stop);
	if (rc < 0 && rc != -EMSGSIZE) {
		printf("recv failed: %s\n", ipr_strerror(rc));
		ipr_close(h);
		return 1;
	}
	struct ipr_headers hd;
	int prc = ipr_packet_parse(buf, len < sizeof(buf) ? len : sizeof(buf), &hd);
	/* A copy: passing it on must be refused. */
	int src = ipr_send(h, NULL, 0, &addr);
	printf("got len=%zu proto=%d sniffed=%d outbound=%d send_rc=%d\n", len,
	       prc ? -1 : hd.protocol, !!(addr.flags & IPR_ADDR_SNIFFED),
	       !!(addr.flags & IPR_ADDR_OUTBOUND), src);
	fflush(stdout);

	/* Now stop reading; copies pile up (or are lost), packets must not. */
	while (!stop)
		pause();
	struct ipr_stats st;
	memset(&st, 0, sizeof(st));
	ipr_stats_get(h, &st);
	printf("stats recv_packets=%llu kernel_queue_dropped=%llu\n",
	       (unsigned long long)st.recv_packets,
	       (unsigned long long)st.kernel_queue_dropped);
	ipr_close(h);
	return 0;
}
