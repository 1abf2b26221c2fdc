/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tool_api.h - the library's internal API that the ipredir tools use too
 * (they link the static archive): what only the library knows, the names
 * of its tables, its netlink sockets and its queues as the kernel of this
 * namespace shows them.  Not part of the ABI: nothing here is exported
 * from the shared library. */
#ifndef IPR_TOOL_API_H
#define IPR_TOOL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ tables --- */

/* Every table of ours is named IPR_TABLE_PREFIX "_<pid>_<n>" (n counts the
 * process's handles); the pid lets a sweep tell a dead program's table. */
#define IPR_TABLE_PREFIX "ipredir"
#define IPR_TABLE_NAME_MAX 32
/* Write the name of the process's table number @seq into @buf. */
void ipri_table_name(char buf[IPR_TABLE_NAME_MAX], unsigned seq);
/* The pid in a table name of that form, or 0. */
int ipri_table_name_pid(const char *name);

/* A table named IPR_TABLE_PREFIX* as the kernel's dump shows it. */
struct ipr_table_info {
	char name[256];         /* NFT_TABLE_MAXNAMELEN */
	uint8_t family;         /* NFPROTO_* */
	uint32_t flags;         /* NFT_TABLE_F_* */
	uint32_t use;           /* chains (the kernel's use count) */
	uint32_t owner;         /* netlink port id of the owning socket */
	bool has_owner;
};
/* Call @cb for every table of ours in this namespace, any family (@family
 * NFPROTO_UNSPEC) or one.  0, the first negative value @cb returned, or a
 * negative errno. */
int ipri_tables_list(uint8_t family,
		    int (*cb)(const struct ipr_table_info *t, void *data),
		    void *data);
/* Delete table @name of @family: 0 or a negative errno. */
int ipri_table_delete(uint8_t family, const char *name);
/* "inet", "ip", ... for a NFPROTO_* value. */
const char *ipri_family_name(uint8_t family);

/* -------------------------------------------------------------- /proc --- */

/* One line of /proc/net/netfilter/nfnetlink_queue or nfnetlink_log: num
 * portid waiting copy_mode copy_range, and for queues queue_dropped
 * user_dropped id_sequence (0 for log groups). */
struct ipr_proc_queue {
	unsigned num, portid, waiting, copy_mode, copy_range;
	uint64_t queue_dropped; /* queue full, dropped (fail-closed) */
	uint64_t user_dropped;  /* socket full, dropped (fail-closed) */
	uint64_t id_sequence;   /* packets given an id: queued, or handed to
				   a socket that was full */
};
/* Call @cb for every queue (or log group, @log) of this namespace; stops
 * at the first non-zero value @cb returns and returns it.  0 if the
 * module is not loaded (no file); a negative errno. */
int ipri_proc_queues(bool log,
		    int (*cb)(const struct ipr_proc_queue *q, void *data),
		    void *data);

/* A netlink socket of this namespace (/proc/net/netlink) and the process
 * that holds it. */
struct ipr_nlsock {
	unsigned long long inode, rmem, drops;
	int pid;            /* 0 if not found */
	char comm[32];
};
/* Socket of protocol @proto bound to @portid: 0 or -ENOENT (-errno). */
int ipri_proc_nl_socket(int proto, uint32_t portid, struct ipr_nlsock *s);
/* The process that has socket @inode open (0 if none), and its name. */
int ipri_proc_socket_pid(unsigned long long inode, char *comm, size_t n);
/* The name of process @pid; false if there is no such process. */
bool ipri_proc_pid_comm(int pid, char *comm, size_t n);

/* ------------------------------------------------------------- text --- */

/* The value of hex digit @c, or -1. */
int ipri_hexval(int c);

#endif
