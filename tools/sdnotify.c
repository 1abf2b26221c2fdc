/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sdnotify.c - systemd's notify protocol, for ipredir@.service: READY=1
 * once the handle is open, WATCHDOG=1 keep-alives from the receive loops.
 * A datagram to $NOTIFY_SOCKET is the whole protocol, so it lives here in
 * the tool rather than linking libsystemd into anything. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tool.h"

int tool_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!path || !*path)
		return 0; /* not under systemd: nothing to tell */
	size_t n = strlen(path);
	/* A path, or "@name" for the abstract namespace. */
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ssize_t r = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
			   (const struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	int e = r < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* Half the watchdog time, as sd_watchdog_enabled(3) advises; 0: off. */
static uint64_t wd_interval_ns;
static _Atomic uint64_t wd_last_ns;

void tool_notify_ready(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;

	/* WATCHDOG_PID names the process the watchdog is for: not a child
	 * that inherited the environment. */
	if (usec && (!pid || strtol(pid, NULL, 10) == (long)getpid())) {
		errno = 0;
		unsigned long long us = strtoull(usec, &end, 10);
		if (!errno && end != usec && !*end && us)
			wd_interval_ns = us * 1000ull / 2;
	}
	atomic_store(&wd_last_ns, tool_now_ns());
	tool_notify("READY=1");
}

void tool_watchdog_kick(void)
{
	if (!wd_interval_ns)
		return;
	uint64_t now = tool_now_ns();
	uint64_t last = atomic_load(&wd_last_ns);
	/* One keep-alive per interval, whichever thread gets here first. */
	if (now - last >= wd_interval_ns &&
	    atomic_compare_exchange_strong(&wd_last_ns, &last, now))
		tool_notify("WATCHDOG=1");
}
