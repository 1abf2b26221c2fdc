/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* failsend.c - an LD_PRELOAD shim for the namespace tests: sendmsg fails
 * with ENOBUFS for IPR_SHIM_FAIL_BURST calls in a row, once every
 * IPR_SHIM_FAIL_EVERY calls, in a program named "ipredir" only (so that
 * ip and nft, started with it in their environment, are left alone).  At
 * exit it prints "failsend: failed F of C sendmsg calls" to stderr. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "shim.h"

static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static long every, burst;
static atomic_long calls, failed;
static int active = -1;

static void setup(void)
{
	const char *e = getenv("IPR_SHIM_FAIL_EVERY");
	const char *b = getenv("IPR_SHIM_FAIL_BURST");
	every = e ? atol(e) : 0;
	burst = b ? atol(b) : 1;
	active = shim_comm_is("ipredir") && every > 0;
}

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	if (!real_sendmsg)
		real_sendmsg = (ssize_t (*)(int, const struct msghdr *, int))
			dlsym(RTLD_NEXT, "sendmsg");
	if (active < 0)
		setup();
	long n = atomic_fetch_add(&calls, 1);
	if (active && n % every >= every - burst) {
		atomic_fetch_add(&failed, 1);
		errno = ENOBUFS;
		return -1;
	}
	return real_sendmsg(fd, mh, flags);
}

__attribute__((destructor)) static void report(void)
{
	if (active > 0)
		fprintf(stderr, "failsend: failed %ld of %ld sendmsg calls\n",
			atomic_load(&failed), atomic_load(&calls));
}
