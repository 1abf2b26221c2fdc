/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shim.h - what the LD_PRELOAD shims share: they act only in a program
 * whose name (/proc/self/comm) starts with a given prefix, so that ip and
 * nft, started with the shim in their environment, are left alone. */
#ifndef IPR_TEST_SHIM_H
#define IPR_TEST_SHIM_H
#include <stdio.h>
#include <string.h>

static int shim_comm_is(const char *prefix)
{
	char comm[32] = "";
	FILE *f = fopen("/proc/self/comm", "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
	}
	return strncmp(comm, prefix, strlen(prefix)) == 0;
}
#endif
