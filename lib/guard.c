/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guard.c - tables without the owner flag (kernels before 5.12), which the
 * kernel keeps after the program is gone: the library deletes them at
 * close; a guard process deletes them when the program dies in any other
 * way (kill -9 included); and a sweep at the next open (and `ipredir
 * cleanup`) removes those of dead programs that even the guard missed. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* The guard: a grandchild of the opening thread, in a session of its own
 * (a terminal's ^C or a kill of the program's process group must not take it
 * first), holding nothing of the program's but the read end of a pipe whose
 * write end only the program holds.  When the program is gone, by any means,
 * the read returns and the guard deletes the table.  Between fork and exit it
 * makes only async-signal-safe system calls: the program may have threads. */
static void guard_main(int rd, int nl, const char *batch, size_t len)
{
	char c;
	setsid();
	prctl(PR_SET_NAME, "ipredir-guard", 0, 0, 0);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Keep the pipe as 0 and the netlink socket as 1, close the rest:
	 * the guard must not keep the program's sockets or files open. */
	if (nl == 0)
		nl = dup(nl); /* out of the pipe's way */
	if (rd != 0 && dup2(rd, 0) < 0)
		_exit(1);
	if (nl != 1 && dup2(nl, 1) < 0)
		_exit(1);
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 2u, ~0u, 0u) < 0)
#endif
		for (int fd = 2; fd < 65536; fd++)
			if (close(fd) < 0 && fd > 4096)
				break;
	while (read(0, &c, 1) < 0 && errno == EINTR)
		;
	/* The program closed the handle or died: delete, and wait for the
	 * ack so that the deletion is done before we go. */
	if (send(1, batch, len, 0) >= 0) {
		char rbuf[1024];
		(void)recv(1, rbuf, sizeof(rbuf), 0);
	}
	_exit(0);
}

int ipri_guard_start(const char *table, int *wr_out)
{
	/* built before the fork: no malloc after */
	static char batch[IPR_TABLE_DEL_BATCH];
	char local[IPR_TABLE_DEL_BATCH];
	uint32_t seq = (uint32_t)time(NULL) | 1;
	size_t len = ipri_table_del_batch(local, NFPROTO_INET, table, seq);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	int nl = ipri_nl_socket();
	if (nl < 0) {
		close(p[0]);
		close(p[1]);
		return nl;
	}
	pid_t pid = fork();
	if (pid == 0) {
		memcpy(batch, local, len);
		if (fork() == 0)
			guard_main(p[0], nl, batch, len);
		_exit(0);
	}
	int e = pid < 0 ? -errno : 0;
	close(p[0]);
	close(nl);
	if (pid > 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (e) {
		close(p[1]);
		return e;
	}
	*wr_out = p[1];
	return 0;
}

struct sweep {
	char names[64][NFT_TABLE_MAXNAMELEN];
	unsigned n;
};

static int sweep_cb(const struct ipr_table_info *t, void *data)
{
	struct sweep *s = data;
	if ((t->flags & NFT_TABLE_F_OWNER) || s->n >= 64)
		return 0;
	int pid = ipri_table_name_pid(t->name);
	/* Only a pid that no longer exists: a live one (or one reused by
	 * another program since) keeps its table. */
	if (pid && kill(pid, 0) < 0 && errno == ESRCH)
		snprintf(s->names[s->n++], NFT_TABLE_MAXNAMELEN, "%s", t->name);
	return 0;
}

int ipri_tables_sweep(void)
{
	struct sweep *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int err = ipri_tables_list(NFPROTO_INET, sweep_cb, s);
	for (unsigned i = 0; !err && i < s->n; i++) {
		int e = ipri_table_delete(NFPROTO_INET, s->names[i]);
		if (e && e != -ENOENT && !err)
			err = e;
	}
	free(s);
	return err;
}
