/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc.c - what /proc/net/netfilter says about queues and log groups of
 * this namespace: which numbers are taken, and the kernel's drop counters. */
#include <stdio.h>
#include "internal.h"

static FILE *open_list(bool log)
{
	return fopen(log ? "/proc/net/netfilter/nfnetlink_log"
			 : "/proc/net/netfilter/nfnetlink_queue", "re");
}

bool ipri_proc_queue_free(uint16_t n, bool log)
{
	FILE *f = open_list(log);
	if (!f)
		return true; /* the bind itself will tell */
	char line[256];
	bool free_ = true;
	while (fgets(line, sizeof(line), f)) {
		unsigned num;
		if (sscanf(line, "%u", &num) == 1 && num == n) {
			free_ = false;
			break;
		}
	}
	fclose(f);
	return free_;
}

int ipri_proc_queue_counters(uint16_t qnum, struct ipr_proc_queue *c)
{
	FILE *f = open_list(false);
	if (!f)
		return -errno;
	char line[256];
	int ret = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned num, portid, total, mode, range;
		unsigned long long qd, ud, ids;
		if (sscanf(line, "%u %u %u %u %u %llu %llu %llu", &num, &portid,
			   &total, &mode, &range, &qd, &ud, &ids) == 8 &&
		    num == qnum) {
			c->queue_dropped = qd;
			c->user_dropped = ud;
			c->id_sequence = ids;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}
