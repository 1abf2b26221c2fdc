/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* slowsend.c - an LD_PRELOAD shim for the namespace tests: send() on a
 * netlink socket waits IPR_SHIM_SEND_DELAY_MS first, as a busy or emulated
 * kernel makes a netlink transaction last, in a program whose name starts
 * with IPR_SHIM_COMM (default "ipr_"), so that ip and nft, started with it
 * in their environment, are left alone.  The library's requests (opening,
 * the dead-man switch's refresh) go through send(); verdicts go through
 * sendmsg() and are not slowed.  A recvmmsg() on a netlink socket that may
 * block (no MSG_DONTWAIT) waits IPR_SHIM_RECV_DELAY_MS before it is made,
 * as a thread preempted just before it goes to sleep does.  At exit it
 * prints "slowsend: slowed N of C send calls, R receives" to stderr. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "shim.h"

static ssize_t (*real_send)(int, const void *, size_t, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);
static long delay_ms, recv_delay_ms;
static atomic_long calls, slowed, rslowed;
static int active = -1;

static void report(void)
{
	fprintf(stderr, "slowsend: slowed %ld of %ld send calls, %ld receives\n",
		atomic_load(&slowed), atomic_load(&calls),
		atomic_load(&rslowed));
}

static void setup(void)
{
	const char *want = getenv("IPR_SHIM_COMM");
	const char *d = getenv("IPR_SHIM_SEND_DELAY_MS");
	const char *r = getenv("IPR_SHIM_RECV_DELAY_MS");
	if (!want)
		want = "ipr_";
	delay_ms = d ? atol(d) : 0;
	recv_delay_ms = r ? atol(r) : 0;
	active = shim_comm_is(want) && (delay_ms > 0 || recv_delay_ms > 0);
	if (active)
		atexit(report);
}

static int is_netlink(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	return getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	       ss.ss_family == AF_NETLINK;
}

/* The whole delay, signals or not, as the kernel's (or the scheduler's)
 * time. */
static void pause_ms(long ms)
{
	int e = errno;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	errno = e;
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
	     struct timespec *t)
{
	if (!real_recvmmsg)
		real_recvmmsg = (int (*)(int, struct mmsghdr *, unsigned int,
					 int, struct timespec *))
			dlsym(RTLD_NEXT, "recvmmsg");
	if (active < 0)
		setup();
	if (active && recv_delay_ms > 0 && !(flags & MSG_DONTWAIT) &&
	    is_netlink(fd)) {
		pause_ms(recv_delay_ms);
		atomic_fetch_add(&rslowed, 1);
	}
	return real_recvmmsg(fd, v, n, flags, t);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (!real_send)
		real_send = (ssize_t (*)(int, const void *, size_t, int))
			dlsym(RTLD_NEXT, "send");
	if (active < 0)
		setup();
	atomic_fetch_add(&calls, 1);
	if (active && delay_ms > 0 && is_netlink(fd)) {
		pause_ms(delay_ms);
		atomic_fetch_add(&slowed, 1);
	}
	return real_send(fd, buf, len, flags);
}
