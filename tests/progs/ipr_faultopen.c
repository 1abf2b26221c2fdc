/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_faultopen.c - open one handle and say how it went: "open ok" (then
 * "ready", and hold it until SIGTERM or --seconds), or "open failed
 * errno=N NAME".  For the least-privilege tests: run without
 * CAP_NET_ADMIN, the open must fail with EPERM.  A send-only handle that
 * opened also tries one injection (127.0.0.1, UDP port 9) and prints
 * "inject rc=N": such a handle needs only what injection needs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

static const char *errname(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EBUSY: return "EBUSY";
	default: return "other";
	}
}

int main(int argc, char **argv)
{
	uint64_t flags = 0;
	int seconds = 0, i;
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--sniff"))
			flags |= IPR_FLAG_SNIFF;
		else if (!strcmp(argv[i], "--drop"))
			flags |= IPR_FLAG_DROP;
		else if (!strcmp(argv[i], "--send-only"))
			flags |= IPR_FLAG_SEND_ONLY;
		else if (!strcmp(argv[i], "--recv-only"))
			flags |= IPR_FLAG_RECV_ONLY;
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc - 1)
			seconds = atoi(argv[++i]);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: ipr_faultopen [--sniff|--drop|--send-only|"
			"--recv-only] [--seconds S] FILTER\n");
		return 2;
	}
	errno = 0;
	ipr_handle *h = ipr_open(argv[i], IPR_LAYER_NETWORK, 0, flags);
	if (!h) {
		int e = errno;
		printf("open failed errno=%d %s (%s)\n", e, errname(e),
		       ipr_strerror(-e));
		return 1;
	}
	printf("open ok\n");
	if (flags & IPR_FLAG_SEND_ONLY) {
		static const uint8_t pkt[28] = {
			0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0, 0,
			127, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40, 0, 9, 0, 8, 0, 0,
		};
		uint8_t p[sizeof(pkt)];
		memcpy(p, pkt, sizeof(p));
		ipr_csum_calc(p, sizeof(p), 0);
		struct ipr_addr a = { .flags = IPR_ADDR_OUTBOUND };
		int rc = ipr_send(h, p, sizeof(p), &a);
		printf("inject rc=%d (%s)\n", rc, ipr_strerror(rc));
	}
	printf("ready\n");
	fflush(stdout);
	if (seconds > 0) {
		stop_on_signals();
		alarm((unsigned)seconds);
		while (!stop)
			pause();
	}
	return ipr_close(h) ? 1 : 0;
}
