/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc.c - what /proc says about queues, log groups and netlink sockets of
 * this namespace: which numbers are taken, the kernel's drop counters, and
 * which process holds a socket.  The one /proc reader of the library and of
 * the tools. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

int ipri_proc_queues(bool log,
		    int (*cb)(const struct ipr_proc_queue *q, void *data),
		    void *data)
{
	FILE *f = fopen(log ? "/proc/net/netfilter/nfnetlink_log"
			    : "/proc/net/netfilter/nfnetlink_queue", "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno; /* module not loaded */
	char line[256];
	int ret = 0;
	while (!ret && fgets(line, sizeof(line), f)) {
		struct ipr_proc_queue q = { 0 };
		unsigned long long qd = 0, ud = 0, ids = 0;
		/* nfnetlink_log's sixth and seventh columns are its flush
		 * timeout and refcount, not counters */
		if (sscanf(line, "%u %u %u %u %u %llu %llu %llu", &q.num,
			   &q.portid, &q.waiting, &q.copy_mode, &q.copy_range,
			   &qd, &ud, &ids) < 5)
			continue;
		if (!log) {
			q.queue_dropped = qd;
			q.user_dropped = ud;
			q.id_sequence = ids;
		}
		ret = cb(&q, data);
	}
	fclose(f);
	return ret;
}

struct find {
	unsigned num;
	struct ipr_proc_queue *out;
};

static int find_cb(const struct ipr_proc_queue *q, void *data)
{
	struct find *fd = data;
	if (q->num != fd->num)
		return 0;
	if (fd->out)
		*fd->out = *q;
	return 1;
}

bool ipri_proc_queue_free(uint16_t n, bool log)
{
	struct find fd = { n, NULL };
	/* unreadable: the bind itself will tell */
	return ipri_proc_queues(log, find_cb, &fd) != 1;
}

int ipri_proc_queue_counters(uint16_t qnum, struct ipr_proc_queue *c)
{
	struct find fd = { qnum, c };
	int r = ipri_proc_queues(false, find_cb, &fd);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

/* /proc/net/netlink: "sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode" */
int ipri_proc_nl_socket(int proto, uint32_t portid, struct ipr_nlsock *s)
{
	FILE *f = fopen("/proc/net/netlink", "re");
	if (!f)
		return -errno;
	char line[256];
	int ret = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long sk, groups, rmem, wmem, drops, ino;
		unsigned eth, pid, dump, locks;
		if (sscanf(line, "%llx %u %u %llx %llu %llu %u %u %llu %llu", &sk,
			   &eth, &pid, &groups, &rmem, &wmem, &dump, &locks,
			   &drops, &ino) != 10)
			continue;
		if ((int)eth != proto || pid != portid)
			continue;
		s->rmem = rmem;
		s->drops = drops;
		s->inode = ino;
		ret = 0;
		break;
	}
	fclose(f);
	if (ret)
		return ret;
	s->pid = ipri_proc_socket_pid(s->inode, s->comm, sizeof(s->comm));
	return 0;
}

/* Does process @pid have the file @want ("socket:[N]") open? */
static bool has_fd(int pid, const char *want)
{
	char path[64], link[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%.16s", pid,
			 e->d_name);
		ssize_t l = readlink(path, link, sizeof(link) - 1);
		if (l <= 0)
			continue;
		link[l] = 0;
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

int ipri_proc_socket_pid(unsigned long long inode, char *comm, size_t n)
{
	char want[48];
	snprintf(want, sizeof(want), "socket:[%llu]", inode);
	if (n)
		comm[0] = 0;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		int pid = atoi(e->d_name);
		if (pid > 0 && has_fd(pid, want))
			found = pid;
	}
	closedir(d);
	if (found && n)
		ipri_proc_pid_comm(found, comm, n);
	return found;
}

bool ipri_proc_pid_comm(int pid, char *comm, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (n)
			comm[0] = 0;
		return false;
	}
	if (!fgets(comm, (int)n, f))
		comm[0] = 0;
	comm[strcspn(comm, "\n")] = 0;
	fclose(f);
	return true;
}
