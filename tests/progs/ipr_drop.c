/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ipr_drop.c - a drop handle: the kernel drops what FILTER matches while it
 * is open, and nothing reaches this program. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipredir.h"
#include "stop.h"

int main(int argc, char **argv)
{
	int seconds = 30;
	if (argc == 4 && strcmp(argv[1], "--seconds") == 0)
		seconds = atoi(argv[2]);
	else if (argc != 2) {
		fprintf(stderr, "usage: ipr_drop [--seconds S] FILTER\n");
		return 2;
	}
	const char *filter = argv[argc - 1];

	stop_on_signals();

	ipr_handle *h = ipr_open(filter, IPR_LAYER_NETWORK, 0, IPR_FLAG_DROP);
	if (!h) {
		int e = errno;
		fprintf(stderr, "ipr_drop: ipr_open '%s': %s\n", filter,
			ipr_strerror(-e));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	alarm((unsigned)seconds);
	while (!stop)
		pause();
	int rc = ipr_close(h);
	printf("closed rc=%d\n", rc);
	return rc ? 1 : 0;
}
